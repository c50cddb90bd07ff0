"""Places that hold the graph, behind one interface, chosen by one selector string.

=====================  ==========================================================
selector               backend
=====================  ==========================================================
``memory:``            an empty in-memory Oxigraph store
``memory:PATH``        in memory, loaded from a build directory or an RDF file
``oxigraph:DIR``       an Oxigraph store on disk (read-only; ``create=True`` makes one)
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
import urllib.parse
import urllib.request
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Iterable, Mapping, cast

import pyoxigraph as ox

from ..base import namespaces as ns
from ..base.background import in_thread
from ..base.errors import IpvkgError
from ..base.output import GRAPH_FILE, file_digest, pinned_build
from ..base.sparql import mask_sparql

if TYPE_CHECKING:
    from ..base.output import PinnedBuild

Value = Any  # an IRI (str), a number, a bool or a string

_NUMERIC = {
    ns.XSD + t
    for t in (
        "integer",
        "int",
        "long",
        "short",
        "nonNegativeInteger",
        "positiveInteger",
        "negativeInteger",
        "nonPositiveInteger",
        "unsignedInt",
        "unsignedLong",
    )
}
_FLOAT = {ns.XSD + t for t in ("decimal", "double", "float")}


class StoreError(IpvkgError):
    """A store or endpoint that cannot be reached or refuses a request."""


class DialectError(StoreError):
    """The server is known to answer this form of query wrongly: refused before it is sent."""


@dataclass
class ResultTable:
    """The answer to a SELECT query: variable names and one dict per row."""

    variables: list[str]
    rows: list[dict[str, Value]] = field(default_factory=list)
    source: str | None = None  # the file it was read from, for an answer a build kept (``ipvkg.questions.kept``)
    total: int | None = None  # for a page of a listing: the rows of the whole listing
    offset: int = 0  # for a page: the rows of the listing before it

    def __len__(self) -> int:
        return len(self.rows)

    def page(self, limit: int | None, offset: int = 0) -> "ResultTable":
        """The rows ``offset`` to ``offset + limit`` of this table, with the table's row count as the total.

        >>> ResultTable(["n"], [{"n": i} for i in range(5)]).page(2, 1).describe_page()
        'rows 2-3 of 5'
        """
        end = None if limit is None else offset + limit
        return ResultTable(self.variables, self.rows[offset:end], self.source, total=len(self.rows), offset=offset)

    def describe_page(self) -> str:
        """Which rows of the listing this page holds, e.g. ``rows 1-20 of 46,559`` (counted from 1)."""
        if not self.rows:
            return f"no rows after row {self.offset:,}: the listing has {self.total:,}"
        return f"rows {self.offset + 1:,}-{self.offset + len(self.rows):,} of {self.total:,}"

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
    # the common cases first, without python_value's checks (same values; this runs once per cell)
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
    def select(
        self, query: str, bindings: Mapping[str, ox.NamedNode | ox.Literal] | None = None, timeout: float | None = None
    ) -> ResultTable:
        """Run a SELECT query with variables bound to ``bindings``.

        Every backend binds through one mechanism, :func:`with_values` (a VALUES block of RDF terms
        serialised by pyoxigraph), so answers agree across stores and no value is pasted as text.
        """

    def select_page(
        self, query: str, bindings=None, limit: int | None = None, offset: int = 0, timeout: float | None = None
    ) -> ResultTable:
        """One page of a SELECT query's rows and, as ``total``, how many rows the whole query has.

        Two queries: the page (``LIMIT``/``OFFSET`` appended to the solution modifiers, from integers
        checked by :func:`page_bounds`) and the count (the query as a sub-query of ``COUNT(*)``).
        """
        limit, offset = page_bounds(limit, offset)
        bound = with_values(query, bindings or {})
        page = self.select(paged(bound, limit, offset), timeout=timeout)
        counted = self.select(counting(bound), timeout=timeout)
        page.total, page.offset = int(counted.rows[0]["total"]), offset
        return page

    def holds_ipvkg_graph(self) -> bool:
        """Whether the graph asked holds an ipvkg data graph (a study typed ``ipv:Study``): one index lookup."""
        return bool(self.select(f"SELECT ?s WHERE {{ ?s a <{ns.IPV}Study> }} LIMIT 1").rows)

    def named_graphs(self, limit: int = 10) -> list[str]:
        """Up to ``limit`` names of the named graphs the store holds."""
        table = self.select(f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ }} }} ORDER BY ?g LIMIT {int(limit)}")
        return [r["g"] for r in table.rows]

    def missing_graph(self) -> str | None:
        """Why this store answers nothing (it holds no ipvkg graph where it looks, and what to do), or None."""
        if self.holds_ipvkg_graph():
            return None
        return (
            f"{self.selector} holds no ipvkg graph (no ipv:Study); run `ipvkg build` and ask "
            "memory:BUILD_DIR, or give the path of a store that holds a built graph"
        )

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the store."""


class OxigraphStore(GraphStore):
    """An Oxigraph store in memory (``path=None``) or on disk; the default graph is the union of all graphs."""

    def __init__(self, path: str | Path | None = None, read_only: bool = False):
        self.path = Path(path) if path else None
        self.selector = f"oxigraph:{path}" if path else "memory:"
        # the build directory whose dataset.nq this store holds unchanged, and the file's SHA-256
        self.loaded_build: tuple[Path, str] | None = None
        self._build: Path | None = None  # a build directory whose graph is loaded when first needed
        self._pinned: PinnedBuild | None = None  # the one build of that directory all files are read from
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

        A question the build answered itself can then be read from ``build/answers/`` without loading, which takes
        long on a large build (``ipvkg.questions.kept``; bench/README.md, Decisions).
        """
        pinned = pinned_build(build)  # resolved once: a build switching the directory meanwhile is not seen
        if not (pinned.path / GRAPH_FILE).exists():
            pinned.close()
            raise StoreError(f"{build} holds no built graph ({build / GRAPH_FILE} is missing); run `ipvkg build` first")
        if self._pinned is not None:
            self._pinned.close()
        self._pinned, self._build, self._shown = pinned, pinned.path, build

    def _load_build(self) -> None:

        build, self._build = self._build, None
        assert build is not None
        dataset = build / GRAPH_FILE
        # unless build_graph hashed it already, hashed on another core while Oxigraph parses
        hashing = None if self._build_digest else in_thread(lambda: file_digest(dataset))
        self.load_file(dataset, trusted=True)  # the build wrote it
        try:
            self.loaded_build = (build, hashing.result() if hashing is not None else self._build_digest or "")
        except OSError:
            self.loaded_build = None

    def build_graph(self) -> tuple[Path, str] | None:
        """The build directory whose dataset.nq this store holds, or loads when first asked, with nothing added
        since, and the file's SHA-256 (before loading, hashed once: much faster than loading); else None."""
        if self._build is None:
            return self.loaded_build
        if self._build_digest is None:
            try:
                self._build_digest = file_digest(self._build / GRAPH_FILE)
            except OSError:
                return None
        return self._build, self._build_digest

    @property
    def shown_build(self) -> Path | None:
        """The build directory as the user named it (for messages), if the store was opened on one."""
        return self._shown

    def add_ntriples(self, lines: Iterable[str] | bytes, graph: str, trusted: bool = False) -> None:
        """Add N-Triples (lines or bytes) to the named graph ``graph``.

        Lines are streamed to the parser in chunks (no second copy of a large graph in memory). An
        in-memory store loads with ``load`` (faster than ``bulk_load`` there), a store on disk with
        ``bulk_load``. ``trusted`` lines (written by ipvkg's own RDF stage, whose terms are built and
        checked by pyoxigraph) skip the parser's IRI checks (figures: bench/README.md, Decisions).
        """
        store = self.store  # a pending build is loaded first: what is added comes on top of it
        self.loaded_build = None
        data = lines if isinstance(lines, bytes) else cast(IO[bytes], _LineReader(lines))  # a binary file object
        load = store.load if self.path is None else store.bulk_load
        load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(graph), lenient=trusted)

    def load_file(self, path: Path, graph: str | None = None, trusted: bool = False) -> None:
        """Load an RDF file (format from its suffix); quads keep their graphs.

        A ``trusted`` file (one ipvkg wrote: every term was checked when it was made) skips the parser's
        IRI checks, and an in-memory store loads it with ``load`` (figures: bench/README.md, Decisions).
        Syntax errors are still errors.
        """
        store = self.store
        self.loaded_build = None
        fmt = ox.RdfFormat.from_extension(path.suffix.lstrip(".")) if path.suffix != ".nq" else ox.RdfFormat.N_QUADS
        if fmt is None:
            raise StoreError(f"{path}: unknown RDF format; use .ttl, .nt, .nq, .trig, .rdf or .jsonld")
        to_graph = ox.NamedNode(graph) if graph and not fmt.supports_datasets else None
        load = store.load if trusted and self.path is None else store.bulk_load
        try:
            load(path=str(path), format=fmt, lenient=trusted, to_graph=to_graph)
        except (SyntaxError, ValueError, OSError) as exc:
            raise StoreError(f"{path}: cannot load: {exc}") from exc

    def replace_graph(self, graph: str, data: bytes, fmt: ox.RdfFormat = ox.RdfFormat.N_TRIPLES) -> None:
        """Replace one named graph: load into a staging graph, then MOVE it over in one update transaction."""
        self.store  # noqa: B018 - a pending build is loaded first
        self.loaded_build = None
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

    def _solutions(self, query: str, bindings) -> ox.QuerySolutions:
        try:
            result = self.store.query(with_values(query, bindings or {}), use_default_graph_as_union=True)
        except SyntaxError as exc:
            raise StoreError(f"the query does not parse: {exc}") from exc
        if not isinstance(result, ox.QuerySolutions):
            raise StoreError("only SELECT queries return rows")
        return result

    def select(self, query: str, bindings=None, timeout=None) -> ResultTable:
        result = self._solutions(query, bindings)
        variables = [v.value for v in result.variables]
        try:  # results stream: a SERVICE call that fails surfaces here
            # a solution iterates its values in the order of the variables, faster than by name
            rows = [dict(zip(variables, map(_ox_value, sol))) for sol in result]
        except (OSError, RuntimeError) as exc:
            raise StoreError(f"the query failed while running: {str(exc).splitlines()[0]}") from None
        return ResultTable(variables, rows)

    def select_page(self, query, bindings=None, limit=None, offset=0, timeout=None) -> ResultTable:
        # one evaluation: the rows of the page become Python values, the others are only counted
        limit, offset = page_bounds(limit, offset)
        end = None if limit is None else offset + limit
        result = self._solutions(query, bindings)
        variables = [v.value for v in result.variables]
        rows, total = [], 0
        try:
            for total, sol in enumerate(result, 1):
                if total > offset and (end is None or total <= end):
                    rows.append(dict(zip(variables, map(_ox_value, sol))))
        except (OSError, RuntimeError) as exc:
            raise StoreError(f"the query failed while running: {str(exc).splitlines()[0]}") from None
        return ResultTable(variables, rows, total=total, offset=offset)

    def missing_graph(self) -> str | None:
        if self.path is None or self.holds_ipvkg_graph():
            return super().missing_graph()
        return (
            f"{self.selector} holds no ipvkg graph (no ipv:Study); give the path of a store that does, or "
            f"load the built graph into it: `ipvkg serve --build build --location {self.path}`"
        )

    def __len__(self) -> int:
        return len(self.store)

    def dump_nquads(self) -> bytes:
        return self.store.dump(format=ox.RdfFormat.N_QUADS) or b""

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
        target[:n] = memoryview(self._buffer)[self._pos : self._pos + n]
        self._pos += n
        return n


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


_SERVICE = re.compile(r"\bSERVICE\b(?:\s+SILENT\b)?", re.I)
_WRAPPED = re.compile(r"\{\s*SELECT\s+\*\s+WHERE\s*\{\s*$", re.I)


def _group_end(masked: str, at: int) -> int:
    """The index just after the '}' that closes the group whose '{' is at ``at``."""
    depth, i = 0, at
    while i < len(masked):
        depth += {"{": 1, "}": -1}.get(masked[i], 0)
        i += 1
        if depth == 0:
            return i
    raise StoreError("a group of the query is not closed")


def virtuoso_service_form(
    query: str, bindings: Mapping[str, ox.NamedNode | ox.Literal], url: str = "Virtuoso"
) -> tuple[str, dict[str, ox.NamedNode | ox.Literal]]:
    r"""A SERVICE query in the form Virtuoso 7 answers as its SPARQL 1.1 text means (docs/large-servers.md), with
    the bindings left to bind.

    Virtuoso 7 takes no ``SERVICE ?variable`` and no ``LATERAL``, and loses rows when a SERVICE is joined with
    local patterns; a SERVICE that is a sub-select of its own is joined rightly. So: a ``SERVICE ?p`` whose ``p``
    is bound to an IRI calls that IRI (serialised by pyoxigraph, validated, as :func:`with_values` binds it), a
    ``LATERAL`` that opens the WHERE group around one SERVICE (the bound endpoint was its only input) is dropped,
    and each SERVICE becomes ``{ SELECT * WHERE { SERVICE ... } }``.

    >>> q, rest = virtuoso_service_form("SELECT ?x WHERE { LATERAL { SERVICE ?e { ?x ?p ?o } } ?x ?q ?y }",
    ...                                 {"e": ox.NamedNode("http://r/q")})
    >>> q, rest
    ('SELECT ?x WHERE {           { SELECT * WHERE { SERVICE <http://r/q> { ?x ?p ?o } } }   ?x ?q ?y }', {})

    :raises DialectError: an endpoint variable that is not bound to an IRI or is used elsewhere, another
        binding (a VALUES block beside a SERVICE stopped Virtuoso 7.2.5 answering), a SERVICE inside a SERVICE,
        or a ``LATERAL`` other than that one.
    """
    refuse = f"{url} is Virtuoso 7, which cannot answer this SERVICE query as SPARQL 1.1 means it"
    masked = mask_sparql(query)
    if re.search(r"\bLATERAL\b", masked, re.I):
        opening = re.compile(r"\{\s*(LATERAL)\s*(\{)\s*SERVICE\b", re.I).match(masked, _first_group_brace(query))
        lone = opening is not None and len(re.findall(r"\bLATERAL\b", masked, re.I)) == 1
        close = -1
        if opening is not None and lone:
            close = _group_end(masked, opening.start(2)) - 1
            service = _SERVICE.search(masked, opening.end(2))
            after = _group_end(masked, masked.find("{", service.end())) if service else close
            lone = service is not None and masked[after:close].strip() == ""
        if opening is None or not lone:
            raise DialectError(
                f"{refuse}: it has no LATERAL; only a LATERAL that opens the WHERE group around "
                "one SERVICE can be left out"
            )
        # blanked, not removed: every other position stays where it was
        query = "".join(
            " " if i in (opening.start(2), close) or opening.start(1) <= i < opening.end(1) else c
            for i, c in enumerate(query)
        )
        masked = mask_sparql(query)
    calls = []  # (start, end of the endpoint, '{' of the body, end of the body)
    for m in _SERVICE.finditer(masked):
        body = masked.find("{", m.end())
        if body < 0:
            raise StoreError("a SERVICE of the query has no group")
        calls.append((m.start(), m.end(), body, _group_end(masked, body)))
    if any(a[2] < b[0] < a[3] for a in calls for b in calls):
        raise DialectError(f"{refuse} (a SERVICE inside a SERVICE)")
    rest = dict(bindings)
    endpoints: dict[str, str] = {}
    for _, name_at, body, _ in calls:
        name = query[name_at:body].strip()
        if name[:1] in "?$":
            term = bindings.get(name[1:])
            if not isinstance(term, ox.NamedNode):
                raise DialectError(
                    f"{refuse}: SERVICE {name} needs its endpoint bound to an IRI (--param "
                    f"{name[1:]}=URL); Virtuoso 7 takes no variable endpoint"
                )
            endpoints[name[1:]] = str(term)
            rest.pop(name[1:], None)
    for name in endpoints:
        uses = sum(query[a:b].strip()[1:] == name for _, a, b, _ in calls)
        if len(re.findall(r"[?$]" + re.escape(name) + r"\b", masked)) != uses:
            raise DialectError(f"{refuse}: ?{name} is used beyond naming the SERVICE endpoint")
    if rest:
        raise DialectError(
            f"{refuse}: it takes no VALUES beside a SERVICE (7.2.5 stopped answering), and "
            f"--param {', '.join(sorted(rest))} would be bound by one"
        )
    out, last = [], 0
    for start, name_at, body, end in calls:
        name = query[name_at:body].strip()
        call = query[start:name_at] + " " + endpoints.get(name[1:], name) + " " + query[body:end]
        wrapped = _WRAPPED.search(masked[:start])  # already its own sub-select: a page of a query in this form
        out += [query[last:start], call] if wrapped else [query[last:start], "{ SELECT * WHERE { ", call, " } }"]
        last = end
    out.append(query[last:])
    return "".join(out), rest


def page_bounds(limit: object, offset: object = 0) -> tuple[int | None, int]:
    """``limit`` (None: no limit, else at least 1) and ``offset`` (at least 0) as checked integers.

    >>> page_bounds("20", 0)
    (20, 0)
    >>> page_bounds(0, 0)
    Traceback (most recent call last):
    ...
    ipvkg.store.store.StoreError: --limit must be a whole number of at least 1, got 0
    """

    def whole(value: object, name: str, least: int) -> int:
        text = str(value).strip()
        if isinstance(value, bool) or not re.fullmatch(r"\d+", text) or int(text) < least:
            raise StoreError(f"--{name} must be a whole number of at least {least}, got {value!r}")
        return int(text)

    return (None if limit is None else whole(limit, "limit", 1)), whole(offset or 0, "offset", 0)


def _where_end(query: str) -> int:
    """The index just after the '}' that closes the query's WHERE group."""
    masked = mask_sparql(query)
    depth, i = 0, _first_group_brace(query)
    while i < len(masked):
        depth += {"{": 1, "}": -1}.get(masked[i], 0)
        i += 1
        if depth == 0:
            return i
    raise StoreError("the query's WHERE group is not closed")


def paged(query: str, limit: int | None, offset: int) -> str:
    r"""The query with ``LIMIT``/``OFFSET`` appended to its solution modifiers (integers only).

    >>> paged("SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s # last", 20, 40)
    'SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s # last\nLIMIT 20 OFFSET 40'
    """
    limit, offset = page_bounds(limit, offset)
    tail = mask_sparql(query)[_where_end(query) :]
    if re.search(r"\b(LIMIT|OFFSET|VALUES)\b", tail, re.I):
        raise StoreError("a query with its own LIMIT, OFFSET or trailing VALUES cannot be paged")
    return query + "\n" + (f"LIMIT {limit} " if limit is not None else "") + f"OFFSET {offset}"


def counting(query: str) -> str:
    r"""A query that counts the rows of ``query``: the query (without its ORDER BY) as a sub-query of COUNT(*).

    >>> counting("PREFIX x: <http://x#>\nSELECT ?s WHERE { ?s x:p ?o } ORDER BY ?s")
    'PREFIX x: <http://x#>\nSELECT (COUNT(*) AS ?total) WHERE { { SELECT ?s WHERE { ?s x:p ?o }  } }'
    """
    masked = mask_sparql(query)
    select = re.search(r"\bSELECT\b", masked, re.I)
    if select is None:
        raise StoreError("only SELECT queries can be counted")
    end = _where_end(query)
    order = re.search(r"\bORDER\s+BY\b", masked[end:], re.I)
    body = query[select.start() :] if order is None else query[select.start() : end + order.start()]
    return query[: select.start()] + "SELECT (COUNT(*) AS ?total) WHERE { { " + body + " } }"


class SparqlEndpointStore(GraphStore):
    """Any SPARQL 1.1 endpoint, through SPARQLWrapper; ``graph`` becomes the query's default graph."""

    def __init__(self, url: str, graph: str | None = None, timeout: float = 30.0):
        self.url, self.graph, self.timeout = url, graph, timeout
        self.selector = f"sparql:{url}"
        self._software: str | None = None

    def software(self) -> str:
        """The server's ``Server`` header (e.g. ``Virtuoso/07.20.3229 ...``), asked once; "" if it gives none."""
        if self._software is None:
            ask = self.url + ("&" if "?" in self.url else "?") + urllib.parse.urlencode({"query": "ASK {}"})
            try:
                with urllib.request.urlopen(ask, timeout=self.timeout) as response:
                    self._software = response.headers.get("Server", "")
            except (OSError, ValueError):  # an unreachable server is reported by the query itself
                self._software = ""
        return self._software

    def _in_dialect(
        self, query: str, bindings: Mapping[str, ox.NamedNode | ox.Literal]
    ) -> tuple[str, Mapping[str, ox.NamedNode | ox.Literal]]:
        """The query and bindings in the form this server answers as the text means: a SERVICE query on
        Virtuoso 7 in :func:`virtuoso_service_form`; any other query as it is.

        :raises DialectError: a SERVICE query under ``--graph`` on Virtuoso 7, which sends the local dataset into
            the SERVICE call (``GRAPH <that graph> { ... }`` to the remote, which answers no rows), or a form
            :func:`virtuoso_service_form` refuses.
        """
        if not re.search(r"\bSERVICE\b", mask_sparql(query), re.I) or not self.software().startswith("Virtuoso/07."):
            return query, bindings
        if self.graph:
            raise DialectError(
                f"{self.url} is Virtuoso 7, which sends --graph into the SERVICE call (the remote "
                "is asked for that graph and answers no rows; docs/large-servers.md): load the "
                "build with the bulk loader and ask without --graph, or ask the embedded store"
            )
        return virtuoso_service_form(query, bindings, self.url)

    def select_page(self, query, bindings=None, limit=None, offset=0, timeout=None) -> ResultTable:
        query, bindings = self._in_dialect(query, bindings or {})  # before paging binds the values
        return super().select_page(query, bindings, limit, offset, timeout)

    def select(self, query: str, bindings=None, timeout=None) -> ResultTable:
        from SPARQLWrapper import JSON, POST, SELECT, SPARQLWrapper
        from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

        query, bindings = self._in_dialect(query, bindings or {})
        client = SPARQLWrapper(self.url)
        # without comments, and told it is a SELECT: SPARQLWrapper guesses the form from words in the text
        client.setQuery(mask_sparql(with_values(query, bindings or {}), comments_only=True))
        client.queryType = SELECT
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
                raise StoreError(
                    f"{self.url} did not answer within {timeout or self.timeout:g} s "
                    "(raise --timeout, or check the server)"
                ) from None
            raise StoreError(f"cannot reach {self.url}: {reason}") from None
        except (socket.timeout, TimeoutError):
            raise StoreError(
                f"{self.url} did not answer within {timeout or self.timeout:g} s (raise --timeout, or check the server)"
            ) from None
        except json.JSONDecodeError as exc:
            raise StoreError(
                f"{self.url} broke off its answer at character {exc.pos} (the query failed on the "
                "server while it sent the rows; its log says why)"
            ) from None
        except (ConnectionError, ValueError) as exc:
            raise StoreError(f"{self.url} gave no usable SPARQL results: {exc}") from None
        if not isinstance(data, dict) or "head" not in data:
            raise StoreError(f"{self.url} did not return SPARQL JSON results")
        variables = data["head"].get("vars", [])
        rows = []
        for b in data.get("results", {}).get("bindings", []):
            rows.append(
                {
                    v: (python_value(b[v]["type"], b[v]["value"], b[v].get("datatype")) if v in b else None)
                    for v in variables
                }
            )
        return ResultTable(variables, rows)

    def named_graphs(self, limit: int = 10) -> list[str]:
        # asked without --graph: a default-graph-uri leaves the request's dataset without named graphs
        return (
            SparqlEndpointStore(self.url, timeout=self.timeout).named_graphs_here(limit)
            if self.graph
            else self.named_graphs_here(limit)
        )

    def named_graphs_here(self, limit: int) -> list[str]:
        return GraphStore.named_graphs(self, limit)

    def missing_graph(self) -> str | None:
        if self.holds_ipvkg_graph():
            return None
        where = f"the graph {self.graph}" if self.graph else "its default graph"
        if self.graph and SparqlEndpointStore(self.url, timeout=self.timeout).holds_ipvkg_graph():
            return f"{self.selector} holds no ipvkg graph in {where}, but its default graph does: leave out --graph"
        graphs = self.named_graphs(11)
        if not graphs:
            return (
                f"{self.selector} holds no ipvkg graph in {where}, and no named graphs; load the built "
                f"graph into it (`ipvkg publish --endpoint ...`) or give the right URL"
            )
        more = ", ..." if len(graphs) > 10 else ""
        return (
            f"{self.selector} holds no ipvkg graph in {where}; its named graphs: {', '.join(graphs[:10])}{more}; "
            "ask the one that holds it with --graph IRI"
        )


DEFAULT_BUILD = Path("build")


def open_store(
    selector: str | None = None, graph: str | None = None, timeout: float = 30.0, create: bool = False
) -> GraphStore:
    """Open the store a selector names (see the module docstring); default: the built graph in memory.

    :param create: for ``oxigraph:DIR``, create the store if it is missing and open it to write; otherwise
        it is opened read-only, and a missing or empty store is an error (reading never creates one).
    :raises StoreError: the selector names no store that can be read.
    """
    selector = selector or f"memory:{DEFAULT_BUILD}"
    kind, _, rest = selector.partition(":")
    if kind == "memory":
        store = OxigraphStore()
        if rest and Path(rest).is_dir():
            store.open_build(Path(rest))  # loaded when first needed: a kept answer needs no graph
        elif rest:
            load_build_into(store, Path(rest))
        return store
    if kind == "oxigraph":
        if not rest:
            raise StoreError("oxigraph: needs a directory, e.g. oxigraph:build/store")
        return OxigraphStore(rest) if create else _read_oxigraph(Path(rest))
    if kind == "sparql":
        if not rest.startswith(("http://", "https://")):
            raise StoreError(f"sparql: needs an http(s) endpoint URL, got {rest!r}")
        return SparqlEndpointStore(rest, graph=graph, timeout=timeout)
    raise StoreError(f"unknown store selector {selector!r}; use memory:[PATH], oxigraph:DIR or sparql:URL")


def _read_oxigraph(path: Path) -> OxigraphStore:
    """An existing, non-empty Oxigraph store on disk, opened read-only."""
    fill = f"load the built graph into it with `ipvkg serve --build build --location {path}`"
    if not (path / "CURRENT").is_file():  # the file every Oxigraph (RocksDB) store directory has
        what = "no such directory" if not path.exists() else "not an Oxigraph store"
        raise StoreError(f"oxigraph:{path}: {what}; give the path of an Oxigraph store, or {fill}")
    store = OxigraphStore(path, read_only=True)
    if not store.select("SELECT * WHERE { ?s ?p ?o } LIMIT 1").rows:
        raise StoreError(f"oxigraph:{path} is an empty store; {fill}")
    return store


def load_build_into(store: OxigraphStore, path: Path) -> None:
    """Load a build directory's dataset (build/dataset.nq) or a single RDF file into ``store``."""
    if path.is_dir():
        store.open_build(path)
        store.store  # noqa: B018 - loads it now
    elif path.exists():
        store.load_file(path, graph=ns.DATA_GRAPH)
    else:
        raise StoreError(f"{path}: no such build directory or RDF file; run `ipvkg build` first")
