"""SHACL validation with the shapes in ``shapes/``, reported in the record's own terms.

A SHACL result names a focus node and a path; ipvkg turns it into "file: record, finding 2
(depression, BDI-II), field ci_lower: CI lower bound is above the upper bound (value 3.1)" using the
origin of each subject (kept by the RDF stage) and the ``ipv:recordField`` of each property.

Two engines give the same results (tests/test_scale_agreement.py checks it): ``"sparql"`` (default)
compiles the shapes into SPARQL run by Oxigraph over the whole graph (:mod:`ipvkg.validate.shacl_sparql`, fast
enough for large reviews); ``"pyshacl"`` runs pyshacl on an rdflib graph, the reference (figures:
bench/README.md, Decisions).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import pyoxigraph as ox
import rdflib
from rdflib.namespace import SH

from ..base import namespaces as ns
from ..base.assets import asset_dir
from ..base.errors import IpvkgError, Problem
from ..rdf.rdf import Origin, origins_of
from ..records.records import record_lines
from ..base.vocab import Vocabulary, load_vocabulary
from .shacl_sparql import sparql_results

ENGINES = ("sparql", "pyshacl")

SHAPES_DIR = asset_dir("shapes")


def load_shapes(directory: Path = SHAPES_DIR) -> rdflib.Graph:
    graph = rdflib.Graph()
    for path in sorted(directory.glob("*.ttl")):
        graph.parse(str(path), format="turtle")
    return graph


def user_shapes(directory: Path | str, only: bool = False) -> rdflib.Graph:
    """A user's shapes (every ``*.ttl`` in ``directory``) added to ipvkg's, or alone with ``only``.

    :raises IpvkgError: the folder is missing or holds no ``.ttl`` file, or a file is not valid Turtle.
    """
    directory = Path(directory)
    files = sorted(directory.glob("*.ttl")) if directory.is_dir() else []
    if not files:
        raise IpvkgError(f"{directory}: no shapes found (a folder of .ttl files is expected); check --shapes")
    graph = rdflib.Graph() if only else load_shapes()
    for path in files:
        try:
            graph.parse(str(path), format="turtle")
        except Exception as exc:  # rdflib's parser errors carry the line
            raise IpvkgError(f"{path}: not valid Turtle ({str(exc).splitlines()[0]}); correct the file") from None
    return graph


def shacl_results(
    data: rdflib.Graph, shapes: rdflib.Graph | None = None, ontology: rdflib.Graph | None = None
) -> list[dict[str, str | None]]:
    """Run pyshacl over data + ontology; return each result as a plain dict of strings."""
    import pyshacl

    shapes = shapes if shapes is not None else load_shapes()
    ontology = ontology if ontology is not None else load_vocabulary().graph
    conforms, results, _ = pyshacl.validate(
        data, shacl_graph=shapes, ont_graph=ontology, inference="none", advanced=True, allow_warnings=True
    )
    # with allow_warnings, a graph with only warnings "conforms" but still has results. Only the report's
    # own results (sh:result): a failed sh:node also adds the nested shape's results, linked by sh:detail,
    # which explain that one result and are not results about the data graph.
    out = []
    for r in results.objects(None, SH.result):

        def get(p: rdflib.URIRef) -> rdflib.term.Node | None:
            return results.value(r, p)

        out.append(
            {
                "focus": _s(get(SH.focusNode)),
                "path": _s(get(SH.resultPath)),
                "value": _term(get(SH.value)),
                "message": _s(get(SH.resultMessage)),
                "severity": _s(get(SH.resultSeverity)),
                "shape": _s(get(SH.sourceShape)),
                "focus_term": _term(get(SH.focusNode)),
                "path_term": _term(get(SH.resultPath)),
                "shape_term": _term(get(SH.sourceShape)),
            }
        )
    return out


def _s(node) -> str | None:
    return None if node is None else str(node)


def _term(node) -> str | None:
    if node is None:
        return None
    return node.n3() if isinstance(node, rdflib.term.Node) else str(node)


def result_to_problem(result: dict[str, str | None], origins: Mapping[str, Origin], vocab: Vocabulary) -> Problem:
    """Translate one SHACL result into a :class:`Problem` naming file, record, place and field."""
    focus = result["focus"] or ""
    origin = origins.get(focus)
    field = vocab.record_fields.get(result["path"] or "", None)
    if field is None and result["path"]:
        field = vocab.label(result["path"])
    message = result["message"] or "violates a shape"
    value = result["value"]
    if value is not None and value.strip("<>") != focus:
        message += f" (value {_display_value(value, vocab)})"
    severity = "error" if (result["severity"] or "").endswith("Violation") else "warning"
    if origin is None:
        return Problem(
            focus,
            None,
            field,
            message,
            severity=severity,
            hint="this subject did not come from a record; check the RDF that produced it",
        )
    return Problem(
        origin.file,
        origin.record,
        field,
        message,
        where=origin.where,
        line=origin.line,
        severity=severity,
        hint=_comma_hint(value, field) or _hint(field),
    )


_INTEGER_FIELDS = {"year", "sample_size", "curator_group"}


def _comma_hint(value: str | None, field: str | None) -> str | None:
    """The hint for a number written with a comma: ``1,5`` -> write 1.5; a whole number's ``1,500`` -> 1500."""
    text = value[1:].split('"', 1)[0] if value and value.startswith('"') else None
    if not text or not re.fullmatch(r"[+-]?\d+(,\d+)+", text.strip()):
        return None
    text = text.strip()
    if field in _INTEGER_FIELDS and re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+", text):
        return f"write {text.replace(',', '')}, without the thousands separator"
    if text.count(",") == 1:
        return f"write {text.replace(',', '.')}: a number takes a decimal point, not a comma"
    return None


def _display_value(value: str, vocab: Vocabulary) -> str:
    if value.startswith("<") and value.endswith(">"):
        iri = value[1:-1]
        return repr(vocab.labels.get(iri, iri))
    if value.startswith('"'):
        try:
            return repr(str(rdflib.util.from_n3(value)))
        except Exception:  # an odd literal: show it as written
            return value
    return value


_HINTS = {
    "year": "write the year of the main report, e.g. 2005",
    "sample_size": "write the number of participants as stated, e.g. 120",
    "ci_lower": "check the order of the bounds as reported",
    "ci_upper": "give both bounds of the interval",
    "estimate": "copy the estimate exactly as reported; check it against its interval",
    "pmid": "copy the PMID from the PubMed page, digits only",
    "doi": "copy the DOI, e.g. 10.1371/journal.pone.0235177",
    "source_url": "give the address of the page you read",
    "reports": "add a report with a PMID or DOI and the page you read",
    "countries": "use ISO 3166-1 alpha-2 codes, e.g. US, HK, AU",
    "p_value": (
        "copy the p-value as reported (0 to 1; '<' in p_relation for 'p < .05'); if it is above 0.05, "
        "check direction against the quote"
    ),
    "direction": (
        "the authors' conclusion as the quote gives it (improved, no difference, worsened, mixed); "
        "check it against the estimate, its interval and the p-value"
    ),
    "favours": (
        "the side the point estimate or reported difference lies on (intervention, comparator), unclear "
        "when the source does not say; check it against direction and the estimate"
    ),
    "estimate_type": "say what kind of estimate it is, e.g. odds ratio",
}


def _hint(field: str | None) -> str:
    return _HINTS.get(field or "", "correct the value in the record; data/TEMPLATE.yaml shows each field's form")


def ontology_ntriples(vocab: Vocabulary) -> bytes:
    """The ontology graph as N-Triples bytes (what the validators see beside the data)."""
    return vocab.graph.serialize(format="nt", encoding="utf-8")


def validation_store(lines: Iterable[str] | bytes, vocab: Vocabulary) -> ox.Store:
    """An in-memory Oxigraph store with the data lines and the ontology in their named graphs."""
    store = ox.Store()
    data = lines if isinstance(lines, bytes) else "\n".join(lines).encode()
    if data:
        store.bulk_load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(ns.DATA_GRAPH))
    store.bulk_load(ontology_ntriples(vocab), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(ns.ONTOLOGY_GRAPH))
    return store


def fast_results(
    store: ox.Store,
    shapes: rdflib.Graph | None = None,
    threads: int = 1,
    progress=None,
    graphs: list[str] | None = None,
) -> list[dict[str, str | None]]:
    """The SPARQL engine's results for a store holding the data and ontology graphs (see ``validation_store``).

    The union of all the store's graphs is validated (as pyshacl sees data + ontology), or only the
    named ``graphs`` (e.g. ``[ns.DATA_GRAPH, ns.ONTOLOGY_GRAPH]`` in a store that holds more; slower, see
    bench/README.md, Decisions).
    """
    shapes = shapes if shapes is not None else load_shapes()
    return sparql_results(store, shapes, threads=threads, default_graph=graphs, progress=progress)


def validate_lines(
    lines: Iterable[str],
    origins: Mapping[str, Origin],
    vocab: Vocabulary | None = None,
    shapes: rdflib.Graph | None = None,
    engine: str = "sparql",
    threads: int = 1,
    store: ox.Store | None = None,
    progress=None,
) -> list[Problem]:
    """Validate N-Triples lines with the shapes; return the problems in the record's own terms.

    ``engine="sparql"`` (default) runs the compiled shapes on Oxigraph (on ``threads`` threads); pass ``store``
    when the lines are already loaded (a store holding only the data graph and the ontology graph, see
    :func:`validation_store`) to skip loading them again. ``engine="pyshacl"`` runs pyshacl on an
    rdflib graph of the lines.
    """
    vocab = vocab or load_vocabulary()
    if engine == "sparql":
        results = fast_results(
            store if store is not None else validation_store(lines, vocab), shapes, threads, progress
        )
    elif engine == "pyshacl":
        data = rdflib.Graph()
        data.parse(data="\n".join(lines), format="nt")
        results = shacl_results(data, shapes, vocab.graph)
    else:
        raise IpvkgError(f"unknown validation engine {engine!r}; use {' or '.join(ENGINES)}")
    origins = origins_of(origins, {r["focus"] or "" for r in results})
    return sorted({result_to_problem(r, origins, vocab) for r in results}, key=lambda p: (p.file, p.line or 0, str(p)))


def point_at_fields(problems: Sequence[Problem], base: Path | None = None) -> list[Problem]:
    """The problems, each pointing at its field's own line where the record file shows one.

    A shape's result knows its subject's line (a study, a finding); the field's line is read from the
    record file again (``base``: the folder the problems' file names are relative to, default the
    current one).
    """
    wanted: dict[str, set[str]] = {}
    for p in problems:
        if p.record is not None and p.field is not None:
            wanted.setdefault(p.file, set()).add(p.record)
    found: dict[str, dict[str, tuple[dict, dict]]] = {}
    for file, records in wanted.items():  # each file read once, however many of its records have problems
        path = Path(file)
        found[file] = record_lines(path if path.is_absolute() else (base or Path.cwd()) / path, file, records)
    out = []
    for p in problems:
        if p.record is None or p.field is None:
            out.append(p)
            continue
        line = _field_line(found[p.file].get(p.record), p.where, p.field)
        out.append(dataclasses.replace(p, line=line) if line else p)
    return out


def _field_line(record: tuple[dict, dict] | None, where: str | None, field: str) -> int | None:
    """The line of ``field`` of the part of ``record`` named by ``where`` (a problem's place), if shown."""
    if record is None:
        return None
    raw, lines = record
    prefix = _part_path(raw, where)
    if prefix is None:
        return None
    name = field.rsplit(".", 1)[-1]
    if prefix + (name,) in lines:
        return lines[prefix + (name,)]
    # a field in a nested mapping of the part: intensity.sessions, curation.date
    nested = [
        k
        for k in lines
        if len(k) == len(prefix) + 2 and k[: len(prefix)] == prefix and k[-1] == name and not isinstance(k[-2], int)
    ]
    return lines[nested[0]] if len(nested) == 1 else None


def _part_path(raw: dict, where: str | None) -> tuple | None:
    """The path in a record of the part a problem's ``where`` names: the study, finding 2, intervention x."""
    if where is None:
        return ()
    if where == "population":
        return ("population",)
    m = re.match(r"^(finding|report) (\d+)\b", where)
    if m:
        return (m.group(1) + "s", int(m.group(2)) - 1)
    m = re.match(r"^(intervention|comparator) (.+)$", where)
    if m:
        for i, part in enumerate(raw.get(m.group(1) + "s") or []):
            if isinstance(part, dict) and str(part.get("key")) == m.group(2):
                return (m.group(1) + "s", i)
    return None


def without_repeats(shape_problems: Sequence[Problem], record_problems: Sequence[Problem]) -> list[Problem]:
    """The shapes' problems less those about a field the record checks already found a problem in.

    A record with problems is still checked by the shapes (so that every problem shows in one run);
    a value the reader refused (an unknown label, a missing field) would otherwise be reported twice.
    """

    def about(p: Problem) -> tuple:
        part = re.match(r"^(finding|report) \d+", p.where or "")  # "finding 2 (depression)": its outcome may be gone
        return p.file, p.record, part.group(0) if part else p.where, (p.field or "").rsplit(".", 1)[-1]

    seen = {about(p) for p in record_problems if p.record is not None}
    return [p for p in shape_problems if about(p) not in seen]
