"""Places that hold the graph, behind one interface, chosen by one selector string.

=====================  ==========================================================
selector               backend
=====================  ==========================================================
``memory:``            an empty in-memory Oxigraph store
``memory:PATH``        in memory, loaded from a build directory or an RDF file
``oxigraph:DIR``       an Oxigraph store on disk (created if missing)
``sparql:URL``         any SPARQL 1.1 endpoint (SPARQLWrapper); read-only here
=====================  ==========================================================

>>> store = open_store("memory:")
>>> store.add_ntriples(['<http://a> <http://b> "1"^^<http://www.w3.org/2001/XMLSchema#integer> .'], "http://g")
>>> store.select("SELECT ?o WHERE { ?s ?p ?o }").rows
[{'o': 1}]
"""

from __future__ import annotations

import io
import json
import re
import socket
import urllib.error
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Iterable, Mapping

import pyoxigraph as ox

from . import namespaces as ns
from .errors import IpvkgError

GRAPH_FILE = "dataset.nq"  # a build's whole dataset, every named graph

Value = Any  # an IRI (str), a number, a bool or a string

_NUMERIC = {ns.XSD + t for t in ("integer", "int", "long", "short", "nonNegativeInteger", "positiveInteger",
                                 "negativeInteger", "nonPositiveInteger", "unsignedInt", "unsignedLong")}
_FLOAT = {ns.XSD + t for t in ("decimal", "double", "float")}


class StoreError(IpvkgError):
    """A store or endpoint that cannot be reached or refuses a request."""


@dataclass
class ResultTable:
    """The answer to a SELECT query: variable names and one dict per row."""

    variables: list[str]
    rows: list[dict[str, Value]] = field(default_factory=list)
    source: str | None = None  # the file it was read from, for an answer a build kept (``ipvkg.answers``)

    def __len__(self) -> int:
        return len(self.rows)

    def to_dataframe(self):
        """The rows as a pandas DataFrame (needs pandas)."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise IpvkgError("to_dataframe needs pandas: pip install pandas") from exc
        return pd.DataFrame(self.rows, columns=self.variables)


def python_value(kind: str, value: str, datatype: str | None = None) -> Value:
    """One RDF term (as its kind, lexical value and datatype) as a plain Python value."""
    if kind in ("uri", "iri"):
        return value
    if kind == "bnode":
        return "_:" + value
    if datatype in _NUMERIC:
        try:
            return int(value)
        except ValueError:
            return value
    if datatype in _FLOAT:
        try:
            return float(value)
        except ValueError:
            return value
    if datatype == ns.XSD + "boolean":
        return value in ("true", "1")
    return value


_PLAIN_TEXT = {ns.XSD + "string", ns.RDF + "langString"}


def _ox_value(term: Any) -> Value:
    # the common cases first, without python_value's checks (same values: a million cells at 100,000 studies)
    if term is None:
        return None
    kind = type(term)
    if kind is ox.NamedNode:
        return term.value
    if kind is ox.BlankNode:
        return python_value("bnode", term.value)
    datatype = term.datatype.value if term.datatype else None
    if datatype in _PLAIN_TEXT:
        return term.value
    return python_value("literal", term.value, datatype)


class GraphStore(ABC):
    """A place that holds the graph and answers SPARQL SELECT queries."""

    selector: str

    @abstractmethod
    def select(self, query: str, bindings: Mapping[str, ox.NamedNode | ox.Literal] | None = None,
               timeout: float | None = None) -> ResultTable:
        """Run a SELECT query with variables bound to ``bindings``.

        Every backend binds through one mechanism, :func:`with_values` (a VALUES block of RDF terms
        serialised by pyoxigraph), so answers agree across stores and no value is pasted as text.
        """

    def kept_answer(self, name: str, text: str, bindings: Mapping[str, ox.NamedNode | ox.Literal]
                    ) -> ResultTable | None:
        """An answer a build kept for this question, if it provably holds for this store (``ipvkg.answers``)."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the store."""


class OxigraphStore(GraphStore):
    """An Oxigraph store in memory (``path=None``) or on disk; the default graph is the union of all graphs."""

    def __init__(self, path: str | Path | None = None, read_only: bool = False):
        self.path = Path(path) if path else None
        self.selector = f"oxigraph:{path}" if path else "memory:"
        # the build directory and graph digest whose kept answers hold here, until anything is added
        self.answers_from: tuple[Path, str] | None = None
        self._build: Path | None = None  # a build directory whose graph is loaded when first needed
        self._pinned = None  # the one build of that directory every file is read from (ipvkg.output)
        self._shown: Path | None = None  # the directory as the user named it (for messages)
        self._build_digest: str | None = None  # its dataset.nq's SHA-256, once hashed
        try:
            if path is None:
                self._store = ox.Store()
            elif read_only:
                self._store = ox.Store.read_only(str(path))
            else:
                self._store = ox.Store(str(path))
        except OSError as exc:
            raise StoreError(f"cannot open the Oxigraph store at {path}: {exc}") from exc

    @property
    def store(self) -> ox.Store:
        """The pyoxigraph store; a build opened with :meth:`open_build` is loaded into it here, when first needed."""
        if self._build is not None:
            self._load_build()
        return self._store

    @property
    def pending_build(self) -> Path | None:
        """The build directory (as named) whose graph this store will load when first asked, if not loaded yet."""
        return self._shown if self._build is not None else None

    def open_build(self, build: Path) -> None:
        """Hold the graph of ``build`` (its dataset.nq), loaded when a question needs the graph.

        A question the build answered itself is read from ``build/answers/`` while the answer holds
        (``ipvkg.answers``), without loading: at 100,000 studies loading takes 35-55 s.
        """
        from .output import pinned_build

        pinned = pinned_build(build)  # resolved once: a build switching the directory meanwhile is not seen
        if not (pinned.path / GRAPH_FILE).exists():
            pinned.close()
            raise StoreError(f"{build} holds no built graph ({build / GRAPH_FILE} is missing); run `ipvkg build` first")
        if self._pinned is not None:
            self._pinned.close()
        self._pinned, self._build, self._shown = pinned, pinned.path, build

    def _load_build(self) -> None:
        from .answers import file_digest
        from .background import in_thread

        build, self._build = self._build, None
        assert build is not None
        dataset = build / GRAPH_FILE
        # unless a kept answer hashed it already, hashed on another core while Oxigraph parses
        hashing = None if self._build_digest else in_thread(lambda: file_digest(dataset))
        self.load_file(dataset, trusted=True)  # the build wrote it
        try:
            self._trust_answers(build, self._build_digest or hashing.result())
        except OSError:
            self.answers_from = None

    def _trust_answers(self, build: Path, digest: str) -> None:
        """Answer from ``build``'s kept answers if they were asked of the graph with this digest."""
        from .answers import current_graph

        graph = current_graph(build, digest)
        self.answers_from = (build, graph) if graph is not None else None

    def add_ntriples(self, lines: Iterable[str] | bytes, graph: str, trusted: bool = False) -> None:
        """Add N-Triples (lines or bytes) to the named graph ``graph``.

        Lines are streamed to the parser in chunks (no second copy of a large graph in memory). An
        in-memory store loads with ``load`` (measured 25% faster than ``bulk_load`` there), a store
        on disk with ``bulk_load``. ``trusted`` lines (written by ipvkg's own RDF stage, whose terms
        are built and checked by pyoxigraph) skip the parser's IRI checks: 30% faster.
        """
        store = self.store  # a pending build is loaded first: what is added comes on top of it
        self.answers_from = None
        data = lines if isinstance(lines, bytes) else _LineReader(lines)
        load = store.load if self.path is None else store.bulk_load
        load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(graph), lenient=trusted)

    def load_file(self, path: Path, graph: str | None = None, trusted: bool = False) -> None:
        """Load an RDF file (format from its suffix); quads keep their graphs.

        A ``trusted`` file (one ipvkg wrote: every term was checked when it was made) skips the parser's
        IRI checks, and an in-memory store loads it with ``load``: 40 % faster together (4.0 s -> 2.4 s
        for a 10,000-study dataset.nq). Syntax errors are still errors.
        """
        store = self.store
        self.answers_from = None
        fmt = ox.RdfFormat.from_extension(path.suffix.lstrip(".")) if path.suffix != ".nq" else ox.RdfFormat.N_QUADS
        if fmt is None:
            raise StoreError(f"{path}: unknown RDF format; use .ttl, .nt, .nq, .trig, .rdf or .jsonld")
        kwargs = {"to_graph": ox.NamedNode(graph)} if graph and not fmt.supports_datasets else {}
        load = store.load if trusted and self.path is None else store.bulk_load
        try:
            load(path=str(path), format=fmt, lenient=trusted, **kwargs)
        except (SyntaxError, ValueError, OSError) as exc:
            raise StoreError(f"{path}: cannot load: {exc}") from exc

    def replace_graph(self, graph: str, data: bytes, fmt: ox.RdfFormat = ox.RdfFormat.N_TRIPLES) -> None:
        """Replace one named graph: load into a staging graph, then MOVE it over in one update transaction."""
        self.store  # noqa: B018 - a pending build is loaded first
        self.answers_from = None
        g = ox.NamedNode(graph)
        staging = ox.NamedNode(graph + "-staging")
        if staging in set(self.store.named_graphs()):
            self.store.remove_graph(staging)
        try:
            self.store.bulk_load(data, format=fmt, to_graph=staging)
        except (SyntaxError, ValueError) as exc:
            self.store.remove_graph(staging)
            raise StoreError(f"cannot load the graph: {exc}") from exc
        # IRIs are serialised by pyoxigraph (validated), not pasted from user text
        self.store.update(f"MOVE SILENT GRAPH {staging} TO GRAPH {g}")

    def select(self, query: str, bindings=None, timeout=None) -> ResultTable:
        try:
            result = self.store.query(with_values(query, bindings or {}), use_default_graph_as_union=True)
        except SyntaxError as exc:
            raise StoreError(f"the query does not parse: {exc}") from exc
        if not isinstance(result, ox.QuerySolutions):
            raise StoreError("only SELECT queries return rows")
        variables = [v.value for v in result.variables]
        try:  # results stream: a SERVICE call that fails surfaces here
            # a solution iterates its values in the order of the variables: 3x faster than by name
            rows = [dict(zip(variables, map(_ox_value, sol))) for sol in result]
        except (OSError, RuntimeError) as exc:
            raise StoreError(f"the query failed while running: {str(exc).splitlines()[0]}") from None
        return ResultTable(variables, rows)

    def kept_answer(self, name, text, bindings):
        from .answers import file_digest, read_answer

        if self._build is not None and self.answers_from is None and self._build_digest is None:
            # not loaded yet: hashing dataset.nq (about 1 GB/s) tells whether the kept answers hold
            try:
                self._build_digest = file_digest(self._build / GRAPH_FILE)
            except OSError:
                return None
            self._trust_answers(self._build, self._build_digest)
        if self.answers_from is None:
            return None
        return read_answer(*self.answers_from, name, text, bindings, shown=self._shown)

    def __len__(self) -> int:
        return len(self.store)

    def dump_nquads(self) -> bytes:
        return self.store.dump(format=ox.RdfFormat.N_QUADS)

    def close(self) -> None:
        self.store.flush() if self.path else None
        if self._pinned is not None:
            self._pinned.close()  # a later build may now remove the build read


class _LineReader(io.RawIOBase):
    """A binary file over text lines (joined by newlines), encoded a chunk at a time as the parser reads."""

    def __init__(self, lines: Iterable[str], chunk: int = 20_000):
        self._lines = iter(lines)
        self._chunk = chunk
        self._buffer = b""
        self._pos = 0
        self._first = True

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        if self._pos >= len(self._buffer):
            batch = list(islice(self._lines, self._chunk))
            if not batch:
                return 0
            text = "\n".join(batch)
            self._buffer, self._pos = (text if self._first else "\n" + text).encode(), 0
            self._first = False
        n = min(len(target), len(self._buffer) - self._pos)
        target[:n] = memoryview(self._buffer)[self._pos:self._pos + n]
        self._pos += n
        return n


def mask_sparql(query: str) -> str:
    """The query with strings, IRIs and comments blanked out (same length), so that braces can be found.

    >>> mask_sparql('SELECT * WHERE { ?s <http://x> "{" } # {')
    'SELECT * WHERE { ?s                }    '
    """
    out = list(query)
    i, n = 0, len(query)
    while i < n:
        c = query[i]
        j = None
        if c == "#":
            j = query.find("\n", i)
            j = n if j < 0 else j
        elif c in "\"'":
            quote = query[i:i + 3] if query[i:i + 3] in ('"""', "'''") else c
            j = query.find(quote, i + len(quote))
            while j > 0 and query[j - 1] == "\\":
                j = query.find(quote, j + 1)
            j = n if j < 0 else j + len(quote)
        elif c == "<" and (m := query.find(">", i)) > 0 and not re.search(r"\s", query[i:m]):
            j = m + 1
        if j is None:
            i += 1
        else:
            out[i:j] = " " * (j - i)
            i = j
    return "".join(out)


def _first_group_brace(query: str) -> int:
    """The index of the '{' that opens the query's WHERE group (outside strings, IRIs and comments)."""
    masked = mask_sparql(query)
    at = masked.find("{")
    if at >= 0 and "CONSTRUCT" in masked[:at].upper():  # skip a CONSTRUCT template
        depth, i = 1, at + 1
        while i < len(masked) and depth:
            depth += {"{": 1, "}": -1}.get(masked[i], 0)
            i += 1
        at = masked.find("{", i)
    if at < 0:
        raise StoreError("the query has no WHERE group to bind parameters in")
    return at


def with_values(query: str, bindings: Mapping[str, ox.NamedNode | ox.Literal]) -> str:
    """The query with a VALUES block for ``bindings`` opening its WHERE group.

    Values are serialised as RDF terms by pyoxigraph (IRIs validated, literals escaped), so a value can
    never change the query's structure.

    >>> with_values("SELECT ?s WHERE { ?s ?p ?o }", {"o": ox.Literal('x" } UNION { ?s ?p ?o } #')})
    'SELECT ?s WHERE { VALUES (?o) { ("x\\\\" } UNION { ?s ?p ?o } #") } ?s ?p ?o }'
    """
    if not bindings:
        return query
    at = _first_group_brace(query) + 1
    names = sorted(bindings)
    block = " VALUES (" + " ".join("?" + n for n in names) + ") { (" + " ".join(str(bindings[n]) for n in names) + ") }"
    return query[:at] + block + query[at:]


class SparqlEndpointStore(GraphStore):
    """Any SPARQL 1.1 endpoint, through SPARQLWrapper; ``graph`` becomes the query's default graph."""

    def __init__(self, url: str, graph: str | None = None, timeout: float = 30.0):
        self.url, self.graph, self.timeout = url, graph, timeout
        self.selector = f"sparql:{url}"

    def select(self, query: str, bindings=None, timeout=None) -> ResultTable:
        from SPARQLWrapper import JSON, POST, SPARQLWrapper
        from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

        client = SPARQLWrapper(self.url)
        client.setQuery(with_values(query, bindings or {}))
        client.setReturnFormat(JSON)
        client.setMethod(POST)
        client.setTimeout(int(timeout or self.timeout))
        if self.graph:
            client.addDefaultGraph(self.graph)
        try:
            data = client.queryAndConvert()
        except SPARQLWrapperException as exc:
            raise StoreError(f"{self.url} refused the query: {str(exc).splitlines()[0]}") from None
        except urllib.error.HTTPError as exc:
            raise StoreError(f"{self.url} answered HTTP {exc.code} {exc.reason}") from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, (socket.timeout, TimeoutError)):
                raise StoreError(f"{self.url} did not answer within {timeout or self.timeout:g} s "
                                 "(raise --timeout, or check the server)") from None
            raise StoreError(f"cannot reach {self.url}: {reason}") from None
        except (socket.timeout, TimeoutError):
            raise StoreError(f"{self.url} did not answer within {timeout or self.timeout:g} s "
                             "(raise --timeout, or check the server)") from None
        except (ConnectionError, json.JSONDecodeError, ValueError) as exc:
            raise StoreError(f"{self.url} gave no usable SPARQL results: {exc}") from None
        if not isinstance(data, dict) or "head" not in data:
            raise StoreError(f"{self.url} did not return SPARQL JSON results")
        variables = data["head"].get("vars", [])
        rows = []
        for b in data.get("results", {}).get("bindings", []):
            rows.append({v: (python_value(b[v]["type"], b[v]["value"], b[v].get("datatype")) if v in b else None)
                         for v in variables})
        return ResultTable(variables, rows)


DEFAULT_BUILD = Path("build")


def open_store(selector: str | None = None, graph: str | None = None, timeout: float = 30.0) -> GraphStore:
    """Open the store a selector names (see the module docstring); default: the built graph in memory."""
    selector = selector or f"memory:{DEFAULT_BUILD}"
    kind, _, rest = selector.partition(":")
    if kind == "memory":
        store = OxigraphStore()
        if rest and Path(rest).is_dir():
            store.open_build(Path(rest))  # loaded when first needed: kept answers need no graph
        elif rest:
            load_build_into(store, Path(rest))
        return store
    if kind == "oxigraph":
        if not rest:
            raise StoreError("oxigraph: needs a directory, e.g. oxigraph:build/store")
        return OxigraphStore(rest)
    if kind == "sparql":
        if not rest.startswith(("http://", "https://")):
            raise StoreError(f"sparql: needs an http(s) endpoint URL, got {rest!r}")
        return SparqlEndpointStore(rest, graph=graph, timeout=timeout)
    raise StoreError(f"unknown store selector {selector!r}; use memory:[PATH], oxigraph:DIR or sparql:URL")


def load_build_into(store: OxigraphStore, path: Path) -> None:
    """Load a build directory's dataset (build/dataset.nq) or a single RDF file into ``store``."""
    if path.is_dir():
        store.open_build(path)
        store.store  # noqa: B018 - loads it now
    elif path.exists():
        store.load_file(path, graph=ns.DATA_GRAPH)
    else:
        raise StoreError(f"{path}: no such build directory or RDF file; run `ipvkg build` first")
