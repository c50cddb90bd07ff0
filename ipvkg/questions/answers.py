"""Answers a build materialised, read back while they are provably current.

A build answers every competency question that needs no parameter (the headline tables and the network's five
queries for its own outputs, the others so that they need not be asked again). It keeps each answer in
``answers/NAME.json`` with what was asked: the SHA-256 of the question's text and the RDF terms its parameters
were bound to. ``answers/graph.json`` records the graph they were asked of, the build's ``dataset.nq`` (its size
and SHA-256), and the SHA-256 of each answer file it vouches for.

A question is answered from such a file only when all of these hold, and otherwise asked of the graph:

1. the question's text is byte for byte the one answered, and its parameters bind to the same terms;
   the answer file is one ``graph.json`` vouches for, byte for byte (not left from an earlier build, nor
   moved into place by a build killed before its ``graph.json``);
2. the graph asked is that build's ``dataset.nq``, byte for byte: the file has the SHA-256 recorded (hashed
   once a store is opened; a store that loads it hashes it while loading, on another core);
3. for a store loaded in this process (``memory:BUILD``): nothing was added to it since through ipvkg
   (every write forgets where it came from; writes straight into ``store.store`` are the writer's business),
   and the build directory still holds the answers of the graph that was loaded.

Stores on disk and remote endpoints are always asked: what they hold cannot be tied to the build's file.
Hashing the file and reading a kept answer is much faster than loading the graph and asking it (figures:
bench/README.md, Decisions).

>>> import tempfile, pathlib
>>> build = pathlib.Path(tempfile.mkdtemp())
>>> _ = (build / "dataset.nq").write_text("<http://a> <http://b> <http://c> <http://g> .\\n")
>>> table = ResultTable(["n"], [{"n": 1}])
>>> write_answer(build / ANSWERS_DIR, "count", "SELECT ...", {}, table)
>>> write_graph_stamp(build)
>>> graph = current_graph(build)
>>> read_answer(build, graph, "count", "SELECT ...", {}).rows
[{'n': 1}]
>>> read_answer(build, graph, "count", "SELECT ... (edited)", {}) is None
True
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Mapping

import pyoxigraph as ox

from ..base.output import GRAPH_FILE, file_digest
from ..store.store import ResultTable

ANSWERS_DIR = "answers"
STAMP_FILE = "graph.json"
FORMAT = 1  # the layout of an answer file; a file of another layout is not read


def text_digest(text: str) -> str:
    """The SHA-256 (hex) of a query's text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def bound_terms(bindings: Mapping[str, ox.NamedNode | ox.Literal]) -> dict[str, str]:
    """The bindings as N-Triples terms, by parameter name: what an answer is keyed by."""
    return {name: str(term) for name, term in sorted(bindings.items())}


def write_answer(
    directory: Path, name: str, text: str, bindings: Mapping[str, ox.NamedNode | ox.Literal], table: ResultTable
) -> None:
    """Keep one answer as ``directory/NAME.json`` (written by the build into its staging folder)."""
    directory.mkdir(parents=True, exist_ok=True)
    doc = {
        "format": FORMAT,
        "question": name,
        "query_sha256": text_digest(text),
        "bindings": bound_terms(bindings),
        "variables": table.variables,
        "rows": [[row.get(v) for v in table.variables] for row in table.rows],
    }
    # json's C encoder (no indent): 350,000 rows in about a second
    (directory / f"{name}.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def write_graph_stamp(build: Path, digest: str | None = None) -> None:
    """Record the graph the answers were asked of (``build/dataset.nq``'s size and SHA-256) and the answers.

    Written last, after every answer file: it vouches for the files there now, by their SHA-256.
    ``digest``: dataset.nq's SHA-256 if already computed (a build hashes it while other work runs). No time
    is recorded: two builds of the same data write the same files, byte for byte.
    """
    graph = build / GRAPH_FILE
    (build / ANSWERS_DIR).mkdir(parents=True, exist_ok=True)
    answers = {p.stem: file_digest(p) for p in sorted((build / ANSWERS_DIR).glob("*.json")) if p.name != STAMP_FILE}
    stamp = {
        "format": FORMAT,
        "file": GRAPH_FILE,
        "bytes": graph.stat().st_size,
        "sha256": digest or file_digest(graph),
        "answers": answers,
    }
    (build / ANSWERS_DIR / STAMP_FILE).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")


def _read_json(path: Path) -> dict | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None  # no usable answer: the question is asked of the graph
    return doc if isinstance(doc, dict) and doc.get("format") == FORMAT else None


def current_graph(build: Path, digest: str | None = None) -> str | None:
    """The SHA-256 of ``build/dataset.nq`` if it is the graph the build's answers were asked of, else None.

    ``digest``: the file's SHA-256, if the caller hashed it already (while loading it).
    """
    stamp = _read_json(build / ANSWERS_DIR / STAMP_FILE)
    if stamp is None:
        return None
    try:
        if os.stat(build / GRAPH_FILE).st_size != stamp.get("bytes"):
            return None
        digest = digest or file_digest(build / GRAPH_FILE)
    except OSError:
        return None
    return digest if digest == stamp.get("sha256") else None


def read_answer(
    build: Path,
    graph_sha256: str,
    name: str,
    text: str,
    bindings: Mapping[str, ox.NamedNode | ox.Literal],
    shown: Path | None = None,
) -> ResultTable | None:
    """The answer kept for this question, these bindings and this graph, or None (then ask the graph).

    ``shown``: the build directory as the user named it, for the answer's ``source`` (default ``build``).
    """
    stamp = _read_json(build / ANSWERS_DIR / STAMP_FILE)
    if stamp is None or stamp.get("sha256") != graph_sha256:
        return None  # the build directory was rebuilt since the graph was read
    vouched = stamp.get("answers")
    if not isinstance(vouched, dict) or name not in vouched:
        return None
    try:
        data = (build / ANSWERS_DIR / f"{name}.json").read_bytes()
    except OSError:
        return None
    if hashlib.sha256(data).hexdigest() != vouched[name]:
        return None  # not the file the build wrote with this graph
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if (
        not isinstance(doc, dict)
        or doc.get("format") != FORMAT
        or doc.get("question") != name
        or doc.get("query_sha256") != text_digest(text)
        or doc.get("bindings") != bound_terms(bindings)
    ):
        return None
    variables = doc["variables"]
    return ResultTable(
        variables,
        [dict(zip(variables, row)) for row in doc["rows"]],
        source=str((shown or build) / ANSWERS_DIR / f"{name}.json"),
    )
