"""The main job: records -> RDF -> SHACL -> OWL classification -> store -> answers and files.

>>> result = build("data", "build", pictures=False, echo=lambda *a: None)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pyoxigraph as ox
import rdflib

from . import namespaces as ns
from .classify import Classification, classify
from .errors import InputError, Problem
from .output import Staging
from .queries import format_table, run_question
from .rdf import records_to_ntriples
from .records import StudyRecord, load_studies
from .reviews import ReviewRecord, load_reviews
from .store import OxigraphStore, ResultTable
from .validate import validate_lines
from .vocab import Vocabulary, load_vocabulary

EXIT_REJECTED = 3  # --keep-going built the graph without some records


@dataclass
class Dataset:
    """The graphs of a build, as sorted N-Triples lines per named graph."""

    graphs: dict[str, list[str]] = field(default_factory=dict)

    def nquads(self) -> bytes:
        out = []
        for graph in sorted(self.graphs):
            out.extend(line[:-1] + f"<{graph}> ." for line in self.graphs[graph])
        return ("\n".join(out) + "\n").encode() if out else b""

    def store(self) -> OxigraphStore:
        store = OxigraphStore()
        for graph, lines in self.graphs.items():
            if lines:
                store.add_ntriples(lines, graph)
        return store


@dataclass
class LoadResult:
    studies: list[StudyRecord]
    reviews: list[ReviewRecord]
    lines: list[str]
    origins: dict
    problems: list[Problem]
    rejected: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity != "error"]


def load_and_validate(data: Path | str = "data", keep_going: bool = False, vocab: Vocabulary | None = None,
                      base: Path | None = None) -> LoadResult:
    """Load ``data/studies`` and ``data/reviews`` (or the given files), build RDF and validate it.

    Without ``keep_going`` any error raises :class:`InputError`; with it, records with errors are
    left out and their problems returned as ``rejected``.
    """
    vocab = vocab or load_vocabulary()
    data = Path(data)
    if data.is_dir() and (data / "studies").is_dir():
        study_paths, reviews_dir = [data / "studies"], data / "reviews"
    else:
        study_paths, reviews_dir = [data], data.parent / "reviews" if data.is_dir() else Path("/nonexistent")
    reviews, review_problems = load_reviews(reviews_dir, base)
    studies, problems = load_studies(study_paths, base, vocab)
    problems = review_problems + problems
    lines, origins = records_to_ntriples(studies, reviews, vocab)
    shacl = validate_lines(lines, origins, vocab)
    problems += shacl
    errors = [p for p in problems if p.severity == "error"]
    rejected: list[Problem] = []
    if errors and not keep_going:
        raise InputError(problems if len(problems) < 200 else errors,
                         summary=f"{len(errors)} error(s) in the records; nothing was written")
    if errors:
        bad = {p.record for p in errors if p.record}
        rejected = errors
        studies = [s for s in studies if s.id not in bad]
        lines, origins = records_to_ntriples(studies, reviews, vocab)
        if any(p.record is None for p in errors) and not studies:
            raise InputError(errors, summary="no valid records to build from")
    return LoadResult(studies, reviews, lines, origins, problems, rejected)


def ontology_lines(vocab: Vocabulary) -> list[str]:
    """The ontology as sorted N-Triples with canonical blank node labels (so builds are byte-identical)."""
    from rdflib.compare import to_canonical_graph

    canonical = to_canonical_graph(vocab.graph)
    text = canonical.serialize(format="nt", encoding="utf-8").decode()
    return sorted(line for line in text.splitlines() if line.strip())


@dataclass
class BuildResult:
    load: LoadResult
    dataset: Dataset
    store: OxigraphStore
    classification: Classification
    summary: dict
    outputs: list[Path]
    timings: dict[str, float]

    @property
    def exit_code(self) -> int:
        return EXIT_REJECTED if self.load.rejected else 0


def summarise(store: OxigraphStore, load: LoadResult, classification: Classification) -> dict:
    counts = store.select("""
        PREFIX ipv: <https://w3id.org/ipvkg/ontology#>
        SELECT (COUNT(DISTINCT ?s) AS ?studies) (COUNT(DISTINCT ?p) AS ?reports) (COUNT(DISTINCT ?i) AS ?interventions)
               (COUNT(DISTINCT ?f) AS ?findings) WHERE {
          GRAPH <%s> { ?s a ipv:Study . OPTIONAL { ?s ipv:reportedIn ?p } OPTIONAL { ?s ipv:evaluates ?i }
                       OPTIONAL { ?s ipv:hasFinding ?f } } }""" % ns.DATA_GRAPH).rows[0]
    groups = run_question(store, "group_counts")
    return {
        "studies": counts["studies"], "reports": counts["reports"], "interventions": counts["interventions"],
        "findings": counts["findings"], "triples": len(load.lines),
        "inferred_triples": len(classification.inferred_lines()),
        "reasoner": classification.reasoner, "warnings": len(load.warnings), "rejected": len(load.rejected),
        "groups": groups.rows,
    }


def build(data: Path | str = "data", out: Path | str = "build", *, keep_going: bool = False,
          reasoner: str = "auto", pictures: bool = True, echo: Callable[[str], None] = print) -> BuildResult:
    """Build the graph from ``data`` into ``out``: validate, classify, answer, draw, write atomically."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    vocab = load_vocabulary()
    load = load_and_validate(data, keep_going, vocab)
    timings["load+validate"] = time.perf_counter() - t0

    t = time.perf_counter()
    dataset = Dataset({ns.ONTOLOGY_GRAPH: ontology_lines(vocab), ns.DATA_GRAPH: load.lines})
    from .linking import mapping_lines

    dataset.graphs[ns.MAPPINGS_GRAPH] = mapping_lines()
    store = dataset.store()
    classification = classify(store, reasoner, vocab)
    inferred = classification.inferred_lines()
    dataset.graphs[ns.INFERRED_GRAPH] = inferred
    if inferred:
        store.add_ntriples(inferred, ns.INFERRED_GRAPH)
    timings["classify"] = time.perf_counter() - t

    t = time.perf_counter()
    summary = summarise(store, load, classification)
    component_outcome = run_question(store, "component_outcome")
    component_domain = run_question(store, "component_domain")
    timings["queries"] = time.perf_counter() - t

    out = Path(out)
    with Staging(out) as staging:
        write_graph_files(staging, dataset, vocab)
        staging.path("summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
        staging.path("component_outcome.csv").write_text(format_table(component_outcome, "csv") + "\n")
        if load.rejected or keep_going:
            staging.path("rejected.json").write_text(json.dumps([p.as_dict() for p in load.rejected], indent=2) + "\n")
        if pictures:
            t = time.perf_counter()
            from .pictures import write_pictures

            write_pictures(store, staging)
            timings["pictures"] = time.perf_counter() - t
        outputs = sorted(out / p.relative_to(staging.dir) for p in staging.dir.rglob("*") if p.is_file())
    timings["total"] = time.perf_counter() - t0
    result = BuildResult(load, dataset, store, classification, summary, outputs, timings)
    print_summary(result, component_domain, echo)
    return result


def write_graph_files(staging: Staging, dataset: Dataset, vocab: Vocabulary) -> None:
    """ipvkg.nt/.ttl/.jsonld (asserted data), inferred.ttl, dataset.nq (all named graphs), schema.jsonld, void.ttl."""
    data = dataset.graphs[ns.DATA_GRAPH]
    staging.path("ipvkg.nt").write_text("\n".join(data) + "\n")
    staging.path("ipvkg.ttl").write_bytes(turtle(data))
    staging.path("inferred.ttl").write_bytes(turtle(dataset.graphs.get(ns.INFERRED_GRAPH, [])))
    staging.path("dataset.nq").write_bytes(dataset.nquads())
    from .linking import jsonld, write_exports

    staging.path("ipvkg.jsonld").write_text(jsonld(data))
    # schema.org view of each study and the VoID/DCAT description (they list the files written above)
    write_exports(dataset.store(), staging)


def turtle(lines: list[str]) -> bytes:
    """Turtle with the project's prefixes, in the (sorted) order of the lines."""
    triples = ox.parse("\n".join(lines).encode(), format=ox.RdfFormat.N_TRIPLES) if lines else []
    return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=ns.PREFIXES) or b""


def print_summary(result: BuildResult, component_outcome: ResultTable, echo: Callable[[str], None]) -> None:
    s = result.summary
    echo(f"ipvkg build: {s['studies']} studies, {s['reports']} reports, {s['interventions']} interventions, "
         f"{s['findings']} findings, {s['triples']} triples (+{s['inferred_triples']} inferred)")
    if result.classification.message:
        echo(result.classification.message)
    if result.load.warnings:
        echo(f"{len(result.load.warnings)} warning(s):")
        for p in result.load.warnings[:10]:
            echo(f"  {p}")
    if result.load.rejected:
        echo(f"{len(result.load.rejected)} problem(s); records left out (see rejected.json):")
        for p in result.load.rejected:
            echo(f"  {p}")
    echo("\nStudies per review group (published = Ogbe et al. 2020; curated = curator's judgement; "
         f"inferred = {result.classification.reasoner}):")
    echo(format_table(ResultTable(["group", "label", "published", "curated", "inferred"], s["groups"]), max_width=90))
    echo("\nComponent -> outcome domain (studies, findings, findings by direction; by outcome: component_outcome.csv):")
    echo(format_table(component_outcome))
    echo(f"\nwrote {len(result.outputs)} files to {result.outputs[0].parent if result.outputs else '-'}")
