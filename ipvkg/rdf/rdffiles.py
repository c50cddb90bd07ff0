"""A build's RDF files, written from sorted N-Triples: ipvkg.nt, ipvkg.ttl, inferred.ttl and dataset.nq.

Each graph comes as sorted lines: a list in memory, or :class:`SortedRuns` (files each sorted, as the
record workers leave them), merged on the way and never held whole. The data graph is read once for
its three files. A large build writes them in a fresh interpreter (``python -m ipvkg.rdf.rdffiles``, see
:func:`write_elsewhere`), so that the parent neither holds the lines nor spends its GIL writing them beside
the threads that answer and draw; a forked child would copy the store's pages once either side queries it
(figures: bench/README.md, Decisions).

>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> a = folder / "a.nt"; _ = a.write_text("<s> <p> <o1> .\\n<s> <p> <o3> .\\n")
>>> b = folder / "b.nt"; _ = b.write_text("<s> <p> <o2> .\\n<s> <p> <o3> .\\n")
>>> list(SortedRuns([a, b]))  # merged, each line once
['<s> <p> <o1> .', '<s> <p> <o2> .', '<s> <p> <o3> .']
>>> written = write_rdf_files(folder, {ns.DATA_GRAPH: SortedRuns([a, b])})
>>> written["triples"], (folder / "ipvkg.nt").read_text().count("\\n")
(3, 3)
"""

from __future__ import annotations

import errno
import heapq
import json
import sys
import tempfile
import time
from itertools import islice, zip_longest
from pathlib import Path
from typing import Iterable, Iterator, Mapping

from ..base import namespaces as ns
from ..base.background import die_with_parent, in_new_process
from ..base.errors import IpvkgError
from ..base.output import GRAPH_FILE, file_digest
from .turtle import write_turtle, write_turtle_file

WRITE_CHUNK = 200_000  # lines per write: big files are streamed, never built whole in memory


class SortedRuns:
    """N-Triples lines kept in files, each sorted (one line per row); read back merged, each line once.

    Compares equal to any iterable of the same lines (a list of sorted lines, say) without reading
    either into memory. ``keep``: an object the files' lifetime is tied to (a temporary folder).
    """

    def __init__(self, paths: Iterable[Path], keep: object = None, count: int | None = None):
        self.paths = [Path(p) for p in paths]
        self.folder = self.paths[0].parent  # where the files are (and more runs may go)
        self._keep = keep
        self.count = count  # the number of distinct lines, once known

    def newline_lines(self) -> Iterator[str]:
        """The merged lines, each with its final newline (as read: the fast path for writing)."""
        files = [open(p, encoding="utf-8") for p in self.paths]
        try:
            previous = None
            # a newline sorts below every character of an N-Triples line, and no line is a prefix of
            # another (each ends with " ."), so lines with their newlines merge in the order of lines without
            for line in heapq.merge(*files):
                if line != previous:
                    previous = line
                    yield line
        finally:
            for fh in files:
                fh.close()

    def __iter__(self) -> Iterator[str]:
        return (line[:-1] for line in self.newline_lines())

    def __len__(self) -> int:
        if self.count is None:
            self.count = sum(1 for _ in self.newline_lines())
        return self.count

    def __bool__(self) -> bool:
        return any(p.stat().st_size for p in self.paths)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, (SortedRuns, list, tuple)):
            return NotImplemented
        return all(a == b for a, b in zip_longest(self, other, fillvalue=object()))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"SortedRuns({len(self.paths)} files)"


def write_run(path: Path, sorted_lines: Iterable[str]) -> Path:
    """Write sorted lines as one run file (every line ends with a newline); returns ``path``.

    A full disk is an :class:`~ipvkg.base.errors.IpvkgError` that says where, and what to do.
    """
    try:
        with open(path, "w", encoding="utf-8") as fh:
            for chunk in _chunks(iter(sorted_lines)):
                fh.write("\n".join(chunk) + "\n")
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        raise IpvkgError(
            f"{path}: no space left to write the triples ({exc.strerror}); a build keeps its "
            "triples in run files in the temporary folder until it ends (about the size of "
            "ipvkg.nt): free space there, or set TMPDIR to a folder on a disk with room"
        ) from None
    return path


def _chunks(lines: Iterator[str], size: int = WRITE_CHUNK) -> Iterator[list[str]]:
    while chunk := list(islice(lines, size)):
        yield chunk


def write_rdf_files(folder: Path, graphs: Mapping[str, Iterable[str]]) -> dict:
    """Write ipvkg.nt and ipvkg.ttl (the data graph), inferred.ttl and dataset.nq (every graph) into ``folder``.

    Every graph's lines are sorted (a list, or :class:`SortedRuns`). Returns the data graph's number
    of triples, the SHA-256 of dataset.nq (which ties a build's kept answers to its graph) and the seconds
    it took.
    """
    start = time.perf_counter()
    folder = Path(folder)
    triples = 0
    with open(folder / GRAPH_FILE, "w", encoding="utf-8") as nq:
        for graph in sorted(graphs):
            suffix = f"<{graph}> .\n"  # a line's final "." (and newline) become the graph and " ."
            if graph != ns.DATA_GRAPH:
                for chunk in _chunks(iter(graphs[graph])):
                    nq.write("".join([line[:-1] + suffix for line in chunk]))
                continue
            with open(folder / "ipvkg.nt", "w", encoding="utf-8") as nt:

                def data_lines() -> Iterator[str]:  # the data graph, read once for its three files
                    nonlocal triples
                    for chunk in _chunks(_newline_lines(graphs[graph])):
                        triples += len(chunk)
                        nt.write("".join(chunk))
                        nq.write("".join([line[:-2] + suffix for line in chunk]))
                        yield from [line[:-1] for line in chunk]

                with open(folder / "ipvkg.ttl", "w", encoding="utf-8") as ttl:
                    write_turtle(ttl, data_lines())
                if not triples:
                    nt.write("\n")
    write_turtle_file(folder / "inferred.ttl", graphs.get(ns.INFERRED_GRAPH, []))
    digest = file_digest(folder / GRAPH_FILE)
    return {"triples": triples, "sha256": digest, "seconds": time.perf_counter() - start}


def _newline_lines(lines: Iterable[str]) -> Iterator[str]:
    if isinstance(lines, SortedRuns):
        return lines.newline_lines()
    return (line + "\n" for line in lines)


def write_elsewhere(folder: Path, graphs: Mapping[str, Iterable[str]], scratch: Path):
    """:func:`write_rdf_files` in a fresh interpreter; returns its :class:`~ipvkg.base.background.Work`.

    Graphs held as lists are first written as run files into ``scratch``; the new process reads only files.
    """
    request: dict[str, list[str]] = {}
    for i, (graph, lines) in enumerate(sorted(graphs.items())):
        if not isinstance(lines, SortedRuns):
            lines = SortedRuns([write_run(scratch / f"graph-{i}.nt", lines)])
        request[graph] = [str(p) for p in lines.paths]
    return in_new_process("ipvkg.rdf.rdffiles", {"folder": str(folder), "graphs": request})


def _main() -> None:
    """``python -m ipvkg.rdf.rdffiles``: a JSON request on stdin ({"folder", "graphs": {iri: [run files]}})."""
    die_with_parent()
    request = json.load(sys.stdin)
    graphs = {graph: SortedRuns(paths) for graph, paths in request["graphs"].items()}
    try:
        written = write_rdf_files(Path(request["folder"]), graphs)
    except OSError as exc:  # one line for the parent's error: what failed, where
        sys.exit(
            f"writing the RDF files into {request['folder']}: {exc.strerror or exc}"
            + (f" ({exc.filename})" if exc.filename else "")
        )
    json.dump(written, sys.stdout)


def scratch_folder() -> tempfile.TemporaryDirectory:
    """A temporary folder for run files, removed with the object (or at exit)."""
    return tempfile.TemporaryDirectory(prefix="ipvkg-runs-")


if __name__ == "__main__":
    _main()
