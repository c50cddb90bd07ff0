"""The question library: ``queries/*.rq`` files, each headed by its question and parameters.

Header format (comment lines before the query)::

    # title: Component -> outcome links
    # question: Which intervention components are linked to which outcomes ...?
    # param: ?outcome (outcome, optional): only this outcome and the outcomes under it
    # listing: yes

``listing: yes`` marks a listing (one row per finding or study, in a fixed ORDER BY): it can be asked a
page at a time (``limit``/``offset``), with the listing's total row count. A parameter's kind is a
vocabulary field of the ontology (``outcome``, ``components``, ``design``,
...: the value may be a label or synonym), or ``iri``, ``string``, ``integer`` or ``decimal``.
Values are bound as RDF terms (Oxigraph substitutions, or a VALUES block on remote endpoints);
they are never pasted into the query text.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import pyoxigraph as ox

from ..base import namespaces as ns
from ..base.assets import asset_dir
from ..base.errors import IpvkgError
from ..store.store import (
    DialectError,
    GraphStore,
    ResultTable,
    SparqlEndpointStore,
    StoreError,
    mask_sparql,
    page_bounds,
)
from ..base.vocab import UnknownLabel, Vocabulary, load_vocabulary
from . import answers  # its functions are looked up when called, so that a test can replace one
from .kept import KeptAnswers

QUERIES_DIR = asset_dir("queries")
SCALAR_KINDS = {"iri", "string", "integer", "decimal"}
_PARAM = re.compile(r"^\?(\w+)\s*\(([\w_]+)(?:\s*,\s*(optional|default=[^)]*))?\)\s*:?\s*(.*)$")


class QueryError(IpvkgError):
    """A question that cannot be asked as given: unknown name or parameter, bad value, bad query."""


@dataclass(frozen=True)
class Param:
    name: str
    kind: str
    required: bool = True
    default: str | None = None
    description: str = ""


@dataclass
class Question:
    """One competency question: its name, header and SPARQL text."""

    name: str
    path: Path
    text: str
    title: str = ""
    question: str = ""
    params: list[Param] = field(default_factory=list)
    listing: bool = False  # one row per finding or study: can be paged

    def service_params(self) -> list[str]:
        """The parameters the query calls as a remote endpoint (``SERVICE ?name``)."""
        return re.findall(r"\bSERVICE\s+(?:SILENT\s+)?\?(\w+)", mask_sparql(self.text), re.I)

    def bindings(
        self, values: Mapping[str, str], vocab: Vocabulary | None = None
    ) -> dict[str, ox.NamedNode | ox.Literal]:
        """Check ``values`` against the declared parameters and turn them into RDF terms."""
        vocab = vocab or load_vocabulary()
        declared = {p.name: p for p in self.params}
        for name in values:
            if name not in declared:
                known = ", ".join(declared) or "none"
                raise QueryError(f"query {self.name!r} has no parameter {name!r} (parameters: {known})")
        out: dict[str, ox.NamedNode | ox.Literal] = {}
        for p in self.params:
            raw = values.get(p.name, p.default)
            if raw is None:
                if p.required:
                    raise QueryError(f"query {self.name!r} needs --param {p.name}=... ({p.description or p.kind})")
                continue
            out[p.name] = term_for(p, str(raw), vocab, self.name)
        return out


def term_for(p: Param, raw: str, vocab: Vocabulary, query: str) -> ox.NamedNode | ox.Literal:
    """An RDF term for a parameter value of the parameter's kind."""
    if p.kind in vocab.by_field:
        if raw in vocab.terms(p.kind) or (raw.startswith(ns.IPV) and raw in vocab.labels):
            return ox.NamedNode(raw)
        try:
            return ox.NamedNode(vocab.resolve(p.kind, raw))
        except UnknownLabel as exc:
            raise QueryError(f"query {query!r}, parameter {p.name}: {exc}") from None
    if p.kind == "iri":
        try:
            return ox.NamedNode(raw)
        except ValueError:
            raise QueryError(f"query {query!r}, parameter {p.name}: {raw!r} is not an IRI") from None
    if p.kind == "integer":
        if not re.fullmatch(r"[+-]?\d+", raw.strip()):
            raise QueryError(f"query {query!r}, parameter {p.name}: {raw!r} is not a whole number")
        return ox.Literal(str(int(raw)), datatype=ox.NamedNode(ns.XSD + "integer"))
    if p.kind == "decimal":
        if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)", raw.strip()):
            raise QueryError(f"query {query!r}, parameter {p.name}: {raw!r} is not a number")
        return ox.Literal(raw.strip(), datatype=ox.NamedNode(ns.XSD + "decimal"))
    return ox.Literal(raw)


def parse_question(path: Path) -> Question:
    """Read one ``.rq`` file and its header."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise QueryError(f"{path}: cannot read the query: {exc}") from None
    q = Question(name=path.stem, path=path, text=text)
    for line in text.splitlines():
        if not line.startswith("#"):
            if line.strip():
                break
            continue
        key, _, value = line.lstrip("# ").partition(":")
        key, value = key.strip().lower(), value.strip()
        if key == "title":
            q.title = value
        elif key == "listing":
            if value not in ("yes", "no"):
                raise QueryError(f"{path}: cannot read the line {line!r}; write '# listing: yes' or '# listing: no'")
            q.listing = value == "yes"
        elif key == "question":
            q.question = (q.question + " " + value).strip()
        elif key == "param":
            m = _PARAM.match(value)
            if not m:
                raise QueryError(
                    f"{path}: cannot read the parameter line {line!r}; write "
                    "'# param: ?name (kind[, optional|default=value]): description'"
                )
            name, kind, opt, desc = m.groups()
            default = opt.split("=", 1)[1].strip() if opt and opt.startswith("default=") else None
            q.params.append(Param(name, kind, required=not opt, default=default, description=desc))
    return q


def list_questions(directory: Path = QUERIES_DIR) -> list[Question]:
    """Every question of the library, by name."""
    return [parse_question(p) for p in sorted(directory.glob("*.rq"))]


def get_question(name_or_path: str, directory: Path = QUERIES_DIR) -> Question:
    """A question by library name, or any ``.rq`` file path."""
    path = Path(name_or_path)
    if path.suffix == ".rq" and path.exists():
        return parse_question(path)
    candidate = directory / f"{name_or_path}.rq"
    if candidate.exists():
        return parse_question(candidate)
    names = [q.stem for q in sorted(directory.glob("*.rq"))]

    close = difflib.get_close_matches(name_or_path, names, n=3, cutoff=0.4)
    raise QueryError(
        f"no question named {name_or_path!r}"
        + (f"; did you mean {', '.join(close)}?" if close else "; `ipvkg query --list` shows them")
    )


def _bound(
    name_or_path: str, params: Mapping[str, str] | None, vocab: Vocabulary | None = None
) -> tuple[Question, dict[str, ox.NamedNode | ox.Literal]]:
    """The question and its parameters bound to RDF terms."""
    q = get_question(name_or_path)
    return q, q.bindings(params or {}, vocab)


def run_question(
    store: GraphStore,
    name_or_path: str,
    params: Mapping[str, str] | None = None,
    vocab: Vocabulary | None = None,
    timeout: float | None = None,
    fresh: bool = False,
    limit: int | None = None,
    offset: int | None = None,
    require_graph: bool = True,
) -> ResultTable:
    """Answer one question on a store, with its parameters bound.

    A store loaded from a build (``memory:BUILD``) answers the questions that build answered from the
    answers it kept, while they provably hold (``ipvkg.questions.kept``); ``fresh`` always asks the graph.

    :param limit: for a listing question, at most this many rows (a page); the table's ``total`` is then
        the row count of the whole listing.
    :param offset: for a listing question, the rows to skip before the page.
    :param require_graph: when the answer has no rows, check that the store holds an ipvkg graph where
        it looked, so that an empty answer is never one from the wrong place.
    :raises QueryError: unknown question or parameter, a bad value, paging a question that is no listing.
    :raises StoreError: the store cannot answer, or holds no ipvkg graph where it looked.
    """
    q, bindings = _bound(name_or_path, params, vocab)
    paging = limit is not None or offset is not None
    if paging:
        if not q.listing:
            raise QueryError(
                f"query {q.name!r} is not a listing; only listings (`ipvkg query --list` marks them) "
                "take --limit and --offset"
            )
        limit, offset = page_bounds(limit, offset)
    kept = store.kept_answer(q.name, q.text, bindings) if isinstance(store, KeptAnswers) and not fresh else None
    if kept is not None:
        table = kept.page(limit, offset or 0) if paging else kept
    else:
        try:
            table = (
                store.select_page(q.text, bindings, limit, offset or 0, timeout=timeout)
                if paging
                else store.select(q.text, bindings, timeout=timeout)
            )
        except StoreError as exc:
            raise _remote_failure(q, bindings, exc, timeout) from None
    if require_graph and not table.rows and not table.total and (missing := store.missing_graph()):
        raise StoreError(missing)
    return table


def _remote_failure(
    q: Question, bindings: Mapping[str, ox.NamedNode | ox.Literal], exc: StoreError, timeout: float | None
) -> StoreError:
    """The error to report when a question failed: if it calls a remote endpoint that cannot be asked, that."""
    if isinstance(exc, DialectError):
        return exc
    for name in q.service_params():
        term = bindings.get(name)
        if not isinstance(term, ox.NamedNode):
            continue
        try:
            SparqlEndpointStore(term.value, timeout=min(timeout or 10.0, 10.0)).select("SELECT * WHERE { } LIMIT 1")
        except StoreError as probe:
            return StoreError(f"the remote endpoint {term.value} (--param {name}=) cannot be asked: {probe}")
        return StoreError(f"{exc} (the query asks the remote endpoint {term.value}, which answers on its own)")
    return exc


def keeping_answers(directory: Path) -> Callable[..., ResultTable]:
    """:func:`run_question` that asks the graph and keeps each answer in ``directory``
    (see ``ipvkg.questions.answers``).

    A build answers with it, so that later questions on the built graph can be answered from its files.
    """

    def ask(store: GraphStore, name: str, params: Mapping[str, str] | None = None) -> ResultTable:
        q, bindings = _bound(name, params)
        table = store.select(q.text, bindings)
        answers.write_answer(directory, q.name, q.text, bindings, table)
        return table

    return ask


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def format_table(table: ResultTable, fmt: str = "table", max_width: int = 60) -> str:
    """Render a result table as an aligned text table, CSV, TSV or JSON."""
    if fmt == "json":
        if table.total is not None:  # a page: where it is in the listing, with its rows
            return json.dumps(
                {"total": table.total, "offset": table.offset, "rows": table.rows}, indent=2, ensure_ascii=False
            )
        return json.dumps(table.rows, indent=2, ensure_ascii=False)
    if fmt in ("csv", "tsv"):
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
        writer.writerow(table.variables)
        for row in table.rows:
            writer.writerow([_cell(row.get(v)) for v in table.variables])
        return buf.getvalue().rstrip("\n")
    if fmt != "table":
        raise QueryError(f"unknown format {fmt!r}; use table, csv, tsv or json")
    cells = [[_short(_cell(r.get(v)), max_width) for v in table.variables] for r in table.rows]
    widths = [max([len(v)] + [len(c[i]) for c in cells]) for i, v in enumerate(table.variables)]

    def line(values: list[str]) -> str:
        return "  ".join(x.ljust(w) for x, w in zip(values, widths)).rstrip()

    out = [line(table.variables), line(["-" * w for w in widths])] + [line(c) for c in cells]
    out.append(
        f"({table.describe_page()})"
        if table.total is not None
        else f"({len(table.rows)} row{'s' if len(table.rows) != 1 else ''})"
    )
    return "\n".join(out)


def _short(text: str, width: int) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "\u2026"
