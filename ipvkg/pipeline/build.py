"""The main job: records -> RDF -> SHACL -> OWL classification -> store -> answers and files.

Usage: ``result = build("data", "build")`` returns a :class:`BuildResult` (store, summary, outputs, timings);
the tests run it on the shipped data and on a small fixture.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import multiprocessing
import pickle
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Mapping, Sequence

from ..base import namespaces as ns
from ..base.background import Parallelism, at_once, fewer_malloc_arenas
from ..classify import Classification, classify
from ..base.errors import InputError, Problem
from ..base.output import BuildFolder, build_lock
from ..questions.answers import ANSWERS_DIR, write_graph_stamp
from ..questions.queries import format_table, keeping_answers, list_questions, run_question
from .progress import stage
from ..rdf.rdf import Origin, StoredOrigins, records_to_ntriples
from ..rdf.rdffiles import SortedRuns, scratch_folder, write_elsewhere, write_rdf_files, write_run
from ..records.records import (
    RecordKey,
    StudyRecord,
    _cross_record_problems,
    find_record_files,
    load_studies,
    read_record_files,
)
from ..records.reviews import ReviewRecord, load_reviews
from ..store.store import OxigraphStore, ResultTable
from ..questions.synthesis import QUESTIONS as SYNTHESIS_QUESTIONS, ask_synthesis, format_synthesis
from ..validate.validate import ontology_ntriples, point_at_fields, validate_lines, without_repeats
from ..base.vocab import Vocabulary, load_vocabulary
from ..linking.linking import dataset_description, jsonld, mapping_lines, write_schema_view, write_void
from ..pictures.network import QUESTIONS as NETWORK_QUESTIONS
from ..pictures import pictures as drawing  # looked up when called, so that a test can replace a stage
from ..pictures.synthesis_plots import write_synthesis_pictures

if TYPE_CHECKING:  # rdflib is imported only where a graph is parsed, to keep the CLI's start fast
    import rdflib

EXIT_REJECTED = 3  # --keep-going built the graph without some records
PARALLEL_MIN_BYTES = 4 * 2**20  # less record data than this loads faster in one process than in workers
# record data per worker batch, at most: small batches keep every core busy to the end (figures: bench/README.md)
BATCH_BYTES = 4 * 2**20


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a build stage.

    Loading 100,000 studies allocates tens of millions of small objects and no garbage cycles; the
    collector's repeated full passes over them made loading and RDF conversion 2x slower.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class Dataset:
    """The graphs of a build, as sorted N-Triples lines per named graph (a list, or run files)."""

    graphs: dict[str, list[str] | SortedRuns] = field(default_factory=dict)

    def store(self) -> OxigraphStore:
        store = OxigraphStore()
        for graph, lines in self.graphs.items():
            if lines:
                store.add_ntriples(lines, graph)
        return store


class PickledStudies(Sequence[StudyRecord]):
    """The study records worker processes read, left pickled in files and unpickled when first used.

    A build needs only their RDF: not unpickling them saved 3.2 s and 0.8 GB of the parent's peak at
    100,000 studies (``load_and_validate``, side by side), and leaving them in files 0.3 GB more.
    ``keep``: an object the files' lifetime is tied to (their temporary folder).
    """

    def __init__(self, paths: list[Path], count: int, keep: object = None):
        self._paths, self._count, self._keep = paths, count, keep
        self._records: list[StudyRecord] | None = None

    def _all(self) -> list[StudyRecord]:
        if self._records is None:
            self._records = [rec for path in self._paths for rec in pickle.loads(path.read_bytes())]
        return self._records

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index):
        return self._all()[index]

    def __iter__(self) -> Iterator[StudyRecord]:
        return iter(self._all())


@dataclass
class LoadResult:
    studies: Sequence[StudyRecord]  # a list, or the workers' records unpickled when first used
    reviews: list[ReviewRecord]
    lines: list[str] | SortedRuns  # the data graph's sorted N-Triples (run files when workers read the records)
    origins: Mapping[str, Origin]  # a dict, or the workers' files (StoredOrigins)
    problems: list[Problem]
    rejected: list[Problem]
    store: OxigraphStore | None = None  # the data and ontology graphs as validated (reused by the build)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step: records, store, validate

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity != "error"]


def load_and_validate(
    data: Path | str = "data",
    keep_going: bool = False,
    vocab: Vocabulary | None = None,
    base: Path | None = None,
    *,
    parallel: Parallelism = Parallelism(),
    engine: str = "sparql",
    ontology: list[str] | Callable[[], list[str]] | None = None,
    shapes: rdflib.Graph | None = None,
) -> LoadResult:
    """Load ``data/studies`` and ``data/reviews`` (or the given files), build RDF and validate it.

    Without ``keep_going`` any error raises :class:`InputError`; with it, records with errors are
    left out and their problems returned as ``rejected``. ``parallel``: how many worker processes read and
    convert the records and how many threads validate them (:class:`ipvkg.base.background.Parallelism`);
    ``engine`` is the SHACL engine (see :func:`ipvkg.validate.validate.validate_lines`). The result's ``store``
    holds the validated data graph beside the ontology graph (``ontology`` lines, or a function that makes
    them, called while the workers read; default: the vocabulary's graph). ``shapes``: the SHACL shapes
    (default: ``shapes/``; see :func:`ipvkg.validate.validate.user_shapes`).
    """
    vocab = vocab or load_vocabulary()
    data = Path(data)
    if data.is_dir() and (data / "studies").is_dir():
        study_paths, reviews_dir = [data / "studies"], data / "reviews"
    else:
        study_paths, reviews_dir = [data], data.parent / "reviews" if data.is_dir() else Path("/nonexistent")
    timings: dict[str, float] = {}
    with gc_paused():
        t = time.perf_counter()
        reviews, review_problems = load_reviews(reviews_dir, base)
        store = OxigraphStore()
        studies, problems, lines, origins, loaded = _load_records(
            study_paths, reviews, base, vocab, parallel, ontology if callable(ontology) else None, store
        )
        ontology = ontology() if callable(ontology) else ontology
        problems = review_problems + problems
        timings["records"] = time.perf_counter() - t
        t = time.perf_counter()
        store = _validation_store(lines, vocab, ontology, store if loaded else None)
        timings["store"] = time.perf_counter() - t
        t = time.perf_counter()
        shacl = validate_lines(
            lines, origins, vocab, shapes, engine=engine, threads=parallel.thread_count(), store=store.store
        )
        timings["validate"] = time.perf_counter() - t
    problems += point_at_fields(without_repeats(shacl, problems), base)
    errors = [p for p in problems if p.severity == "error"]
    rejected: list[Problem] = []
    if errors and not keep_going:
        raise InputError(
            problems if len(problems) < 200 else errors,
            summary=f"{len(errors)} error(s) in the records; nothing was written",
        )
    if errors:
        bad = {p.record for p in errors if p.record}
        rejected = errors
        studies = [s for s in studies if s.id not in bad]
        with gc_paused():
            lines, origins = records_to_ntriples(studies, reviews, vocab)
            store = _validation_store(lines, vocab, ontology)
        if any(p.record is None for p in errors) and not studies:
            raise InputError(errors, summary="no valid records to build from")
    return LoadResult(studies, reviews, lines, origins, problems, rejected, store, timings)


def _validation_store(
    lines: list[str] | SortedRuns, vocab: Vocabulary, ontology: list[str] | None, loaded: OxigraphStore | None = None
) -> OxigraphStore:
    """A store with the data lines and the ontology, each in its named graph (what SHACL validates).

    ``loaded``: a store that already holds the data lines (loaded while the records were read).
    """
    with stage("loading the graph store", tick=True):
        store = loaded if loaded is not None else OxigraphStore()
        if lines and loaded is None:
            store.add_ntriples(lines, ns.DATA_GRAPH, trusted=True)
        store.add_ntriples(ontology if ontology is not None else ontology_ntriples(vocab), ns.ONTOLOGY_GRAPH)
    return store


def _load_records(
    paths: list[Path],
    reviews: list[ReviewRecord],
    base: Path | None,
    vocab: Vocabulary,
    parallel: Parallelism,
    while_waiting: Callable[[], object] | None = None,
    store: OxigraphStore | None = None,
) -> tuple[Sequence[StudyRecord], list[Problem], list[str] | SortedRuns, Mapping[str, Origin], bool]:
    """Study records, their problems, and the RDF of studies + reviews: in worker processes when it pays.

    Workers read and convert contiguous batches of files; the cross-record checks (duplicate keys,
    shared PMIDs) then run once over all records, so the result is the one a single process gives.
    Each batch's triples go into ``store``'s data graph as they arrive (Oxigraph loads without the
    GIL, beside the workers); the last value says whether ``store`` now holds exactly the lines.
    """
    files, problems = find_record_files(paths, base)
    size = sum(f.stat().st_size for f in files if f.exists())
    workers = parallel.process_count(large=size >= PARALLEL_MIN_BYTES)
    studies: Sequence[StudyRecord]
    if workers <= 1 or len(files) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        with stage("reading records", tick=True):
            studies, problems = load_studies(paths, base, vocab, partial=True)
            lines, origins = records_to_ntriples(studies, reviews, vocab)
        return studies, problems, lines, origins, False
    batches = _batches(files, max(workers * 4, round(size / BATCH_BYTES)))
    global _WORKER_VOCAB
    _WORKER_VOCAB = vocab  # inherited by the forked workers (a custom vocabulary stays in effect)
    keys: list[RecordKey] = []
    # each batch's sorted N-Triples stay in a run file: the parent never holds the lines (2.4 GB as Python
    # strings at 100,000 studies); the store loads each file, the RDF files are merged from them later.
    # The batch's records and origins are left beside it, read only if asked for.
    scratch = scratch_folder()
    runs = [Path(scratch.name) / f"batch-{i:06d}.nt" for i in range(len(batches))]
    # fork: the workers start at once with the ontology and modules already loaded
    loads = []
    with (
        stage("reading records", len(files), unit=" files") as bar,
        ThreadPoolExecutor(1) as loader,
        ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool,
    ):
        results = pool.map(_load_batch, batches, [base] * len(batches), runs)  # forks the workers, submits all
        if while_waiting is not None:
            while_waiting()  # the parent's own work, while the workers read
        for (batch_keys, probs), batch, run in zip(results, batches, runs):
            keys += batch_keys
            problems += probs
            if store is not None:
                loads.append(loader.submit(store.load_file, run, ns.DATA_GRAPH, True))
            bar.update(len(batch))
        review_lines, origins = records_to_ntriples([], reviews, vocab)
        runs.append(write_run(Path(scratch.name) / "reviews.nt", review_lines))
        if store is not None and review_lines:
            loads.append(loader.submit(store.add_ntriples, review_lines, ns.DATA_GRAPH, True))
        for done in loads:
            done.result()
    # records with problems of their own stay (the shapes check them too); load_and_validate leaves them out
    crossed = _cross_record_problems(keys)
    problems += crossed
    bad = {p.record for p in crossed if p.record and p.severity == "error"}
    batch_runs = runs[: len(batches)]
    studies = PickledStudies([_beside(run, "records") for run in batch_runs], len(keys), keep=scratch)
    if any(k.id in bad for k in keys):  # a record dropped by a cross-record check: convert again without it
        studies = [r for r in studies if r.id not in bad]
        lines, origins = records_to_ntriples(studies, reviews, vocab)
        return studies, problems, lines, origins, False
    stored = StoredOrigins([_beside(run, "origins") for run in batch_runs], origins, keep=scratch)
    return studies, problems, SortedRuns(runs, keep=scratch), stored, store is not None


def _beside(run: Path, what: str) -> Path:
    """Where a worker leaves its batch's ``what`` (records, origins), pickled, beside the run file ``run``."""
    return run.with_name(f"{run.stem}.{what}.pickle")


_WORKER_VOCAB: Vocabulary | None = None


def _batches(files: list[Path], n: int) -> list[list[Path]]:
    """Contiguous batches of files of about equal total size (contiguous keeps the serial order)."""
    sizes = [max(1, f.stat().st_size) for f in files]
    target = sum(sizes) / max(1, min(n, len(files)))
    batches: list[list[Path]] = [[]]
    acc = 0.0
    for f, size in zip(files, sizes):
        if batches[-1] and acc + size / 2 > target * len(batches):
            batches.append([])
        batches[-1].append(f)
        acc += size
    return batches


def _load_batch(files: list[Path], base: Path | None, run: Path) -> tuple[list[RecordKey], list[Problem]]:
    """Worker: read and convert one batch of record files; their sorted N-Triples go to the file ``run``,
    the records and their subjects' origins (as tuples) beside it, pickled.

    Returns the records' keys and their problems.
    """
    vocab = _WORKER_VOCAB or load_vocabulary()
    with gc_paused():
        records, problems = read_record_files(files, base, vocab, partial=True)
        lines, origins = records_to_ntriples(records, (), vocab)
        write_run(run, lines)
        rows = [(k, o.file, o.record, o.where, o.line) for k, o in origins.items()]
        _beside(run, "origins").write_bytes(pickle.dumps(rows, pickle.HIGHEST_PROTOCOL))
        _beside(run, "records").write_bytes(pickle.dumps(records, pickle.HIGHEST_PROTOCOL))
        return [RecordKey.of(rec) for rec in records], problems


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
    out: Path  # the output directory
    component_domain: ResultTable = field(default_factory=lambda: ResultTable([], []))  # for the summary
    notes: list[str] = field(default_factory=list)  # what the build noticed and the user should know

    @property
    def exit_code(self) -> int:
        return EXIT_REJECTED if self.load.rejected else 0


def summarise(
    store: OxigraphStore,
    load: LoadResult,
    classification: Classification,
    ask: Callable[..., ResultTable] = run_question,
) -> dict:
    counts = store.select(
        """
        PREFIX ipv: <https://w3id.org/ipvkg/ontology#>
        SELECT (COUNT(DISTINCT ?s) AS ?studies) (COUNT(DISTINCT ?p) AS ?reports) (COUNT(DISTINCT ?i) AS ?interventions)
               (COUNT(DISTINCT ?f) AS ?findings) WHERE {
          GRAPH <%s> { ?s a ipv:Study . OPTIONAL { ?s ipv:reportedIn ?p } OPTIONAL { ?s ipv:evaluates ?i }
                       OPTIONAL { ?s ipv:hasFinding ?f } } }"""
        % ns.DATA_GRAPH
    ).rows[0]
    groups = ask(store, "group_counts")
    return {
        "studies": counts["studies"],
        "reports": counts["reports"],
        "interventions": counts["interventions"],
        "findings": counts["findings"],
        "inferred_triples": len(classification.inferred_lines()),
        "reasoner": classification.reasoner,
        "warnings": len(load.warnings),
        "rejected": len(load.rejected),
        "groups": groups.rows,
    }


def build(
    data: Path | str = "data",
    out: Path | str = "build",
    *,
    keep_going: bool = False,
    reasoner: str = "auto",
    pictures: bool = True,
    echo: Callable[[str], None] | None = None,
    parallel: Parallelism = Parallelism(),
    wait: bool = True,
    on_wait: Callable[[str], None] | None = None,
    shapes: rdflib.Graph | None = None,
    engine: str = "sparql",
) -> BuildResult:
    """Build the graph from ``data`` into ``out``: validate, classify, answer, draw, then show it as a whole.

    ``parallel``: worker processes for reading records, threads for validation, and where the last stages run
    (:class:`ipvkg.base.background.Parallelism`; the default: all cores when the data is large enough to gain
    from them). One build at a time writes ``out`` (``ipvkg.base.output``).
    ``shapes``/``engine``: as in :func:`load_and_validate`. The build prints nothing: the summary is
    :func:`format_summary` of the result (what ``ipvkg build`` prints).

    :param echo: if given, told each line of the summary and the notes once the build is done.
    :param wait: if another build holds ``out``, wait for it (``on_wait`` is told once) rather than stop.
    :raises ipvkg.base.output.BuildBusy: another build holds ``out`` and ``wait`` is false.
    """
    with build_lock(out, wait, on_wait), gc_paused():
        return _build(Path(data), Path(out), keep_going, reasoner, pictures, echo, parallel, shapes, engine)


def _build(
    data: Path,
    out: Path,
    keep_going: bool,
    reasoner: str,
    pictures: bool,
    echo: Callable[[str], None] | None,
    parallel: Parallelism,
    shapes: rdflib.Graph | None = None,
    engine: str = "sparql",
) -> BuildResult:
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    # before any thread allocates (arenas made earlier stay in use): the last stages' threads then keep their
    # freed answers in few heaps (0.25-0.3 GB of the peak at 100,000 studies)
    fewer_malloc_arenas()
    vocab = load_vocabulary()
    # the canonical ontology (1-2 s of rdflib) is computed while worker processes read the records
    ontology = functools.cache(lambda: ontology_lines(vocab))
    load = load_and_validate(
        data, keep_going, vocab, parallel=parallel, ontology=ontology, shapes=shapes, engine=engine
    )
    timings["load+validate"] = time.perf_counter() - t0
    timings.update({f"load+validate: {k}": v for k, v in load.timings.items()})

    with BuildFolder(out) as staging:
        t = time.perf_counter()
        dataset = Dataset({ns.ONTOLOGY_GRAPH: ontology(), ns.DATA_GRAPH: load.lines})

        dataset.graphs[ns.MAPPINGS_GRAPH] = mapping_lines()
        if load.store is not None:  # the validated store already holds the data and ontology graphs
            store = load.store
            if dataset.graphs[ns.MAPPINGS_GRAPH]:
                store.add_ntriples(dataset.graphs[ns.MAPPINGS_GRAPH], ns.MAPPINGS_GRAPH)
        else:
            store = dataset.store()
        with stage(f"classifying ({reasoner})", tick=True):
            classification = classify(store, reasoner, vocab)
        inferred = classification.inferred_lines()
        dataset.graphs[ns.INFERRED_GRAPH] = inferred
        if inferred:
            store.add_ntriples(inferred, ns.INFERRED_GRAPH)
        timings["classify"] = time.perf_counter() - t
        # the workers' run files are merged into the RDF files by a fresh process, beside this one's work
        rdf_files = (
            write_elsewhere(staging.dir, dataset.graphs, load.lines.folder)
            if isinstance(load.lines, SortedRuns)
            else None
        )
        # forked processes draw and answer, reading the store (Rust memory, shared as it is) while this one
        # counts the VoID statistics; for a large store, threads (forks would copy its pages as they query it)
        background = parallel.start
        drawn = background(functools.partial(_draw, store, staging)) if pictures else None
        # the synthesis (its files and pictures included) shares the answers' lane, which is short: one fork fewer
        # copies fewer pages (bench/README, Decisions)
        answered = background(functools.partial(_answer, store, staging, load, classification, pictures))
        try:
            t = time.perf_counter()
            with stage("writing files", tick=True):
                if rdf_files is None:
                    rdf_files = at_once(functools.partial(write_rdf_files, staging.dir, dataset.graphs))
                # the VoID statistics need the store, not the files: counted here, while the answers and the
                # pictures may still run, rather than alone at the end
                w = time.perf_counter()
                description = dataset_description(store)
                timings["files: VoID statistics"] = time.perf_counter() - w
                w = time.perf_counter()
                _keep_other_answers(store, staging, pictures)
                timings["answers: the other questions"] = time.perf_counter() - w
                w = time.perf_counter()
                summary, component_outcome, component_domain, answer_timings = answered.result()
                timings["files: waited for the answers and the synthesis"] = time.perf_counter() - w
                timings.update(answer_timings)
                w = time.perf_counter()
                written = rdf_files.result()
                timings["files: waited for the RDF files"] = time.perf_counter() - w
                timings["files: RDF"] = written["seconds"]
                summary["triples"] = written["triples"]
                if isinstance(load.lines, SortedRuns):
                    load.lines.count = written["triples"]
                notes = _write_other_files(staging, dataset, store, description)  # void.ttl lists the files
                staging.path("summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
                staging.path("component_outcome.csv").write_text(format_table(component_outcome, "csv") + "\n")
                staging.path("component_domain.csv").write_text(format_table(component_domain, "csv") + "\n")
                if load.rejected or keep_going:
                    staging.path("rejected.json").write_text(
                        json.dumps([p.as_dict() for p in load.rejected], indent=2) + "\n"
                    )
            timings["files"] = time.perf_counter() - t
            if drawn is not None:
                t = time.perf_counter()
                steps = drawn.result()
                timings["pictures (waited for)"] = time.perf_counter() - t
                timings["pictures"] = sum(steps.values())
                timings.update({f"pictures: {k}": v for k, v in steps.items()})
            write_graph_stamp(staging.dir, written["sha256"])  # ties the kept answers to this graph
        finally:  # a failure above: stop the children before the staging folder is removed under them
            for pending in (drawn, answered, rdf_files):
                if pending is not None:
                    pending.stop()
        outputs = sorted(out / p.relative_to(staging.dir) for p in staging.dir.rglob("*") if p.is_file())
        t = time.perf_counter()
    timings["commit"] = time.perf_counter() - t  # fsync, then show the build as a whole
    timings["total"] = time.perf_counter() - t0
    result = BuildResult(load, dataset, store, classification, summary, outputs, timings, out, component_domain, notes)
    if echo is not None:
        for line in format_summary(result).split("\n"):
            echo(line)
    return result


#: asked by _answer and _synthesise
HEADLINE_QUESTIONS = ("group_counts", "component_outcome", "component_domain", *SYNTHESIS_QUESTIONS)


def _keep_other_answers(store: OxigraphStore, staging: BuildFolder, pictures: bool) -> None:
    """Answer and keep every question that needs no parameter which the other lanes do not ask.

    ``ipvkg query NAME`` on the built graph then reads the answer (``ipvkg.questions.answers``) instead of asking the
    graph: at 100,000 studies ten of these questions took 1.6-4.3 s each to ask.
    """
    asked = set(HEADLINE_QUESTIONS) | (set(NETWORK_QUESTIONS) if pictures else set())
    ask = keeping_answers(staging.dir / ANSWERS_DIR)
    for question in list_questions():
        if question.name not in asked and not any(p.required for p in question.params):
            ask(store, question.name)


def _draw(store: OxigraphStore, staging: BuildFolder) -> dict[str, float]:
    # each figure is drawn under pictures.style.styled's lock: lanes that are threads take turns per figure
    return drawing.write_pictures(store, staging, ask=keeping_answers(staging.dir / ANSWERS_DIR))


def _answer(
    store: OxigraphStore, staging: BuildFolder, load: LoadResult, classification: Classification, pictures: bool
) -> tuple[dict, ResultTable, ResultTable, dict[str, float]]:
    """The build's summary and headline answers, schema.jsonld (which needs the store only) and the synthesis
    (:func:`_synthesise`)."""
    t = time.perf_counter()
    ask = keeping_answers(staging.dir / ANSWERS_DIR)
    summary = summarise(store, load, classification, ask)
    component_outcome = ask(store, "component_outcome")
    component_domain = ask(store, "component_domain")
    timings = {"queries": time.perf_counter() - t}
    t = time.perf_counter()
    write_schema_view(store, staging)
    timings["files: schema.org view"] = time.perf_counter() - t
    timings.update(_synthesise(store, staging, pictures))
    return summary, component_outcome, component_domain, timings


def _synthesise(store: OxigraphStore, staging: BuildFolder, pictures: bool) -> dict[str, float]:
    """synthesis.csv and synthesis.json and, with ``pictures``, the synthesis pictures; returns their timings."""
    t = time.perf_counter()
    synthesis = ask_synthesis(store, ask=keeping_answers(staging.dir / ANSWERS_DIR))
    timings = {"synthesis": time.perf_counter() - t}
    t = time.perf_counter()
    staging.path("synthesis.csv").write_text(format_synthesis(synthesis, "csv") + "\n")
    staging.path("synthesis.json").write_text(format_synthesis(synthesis, "json") + "\n")
    timings["synthesis: files"] = time.perf_counter() - t
    if pictures:
        t = time.perf_counter()
        write_synthesis_pictures(synthesis, staging.path)
        timings["pictures: synthesis"] = time.perf_counter() - t
    return timings


JSONLD_MAX_TRIPLES = 20_000  # rdflib's JSON-LD writer takes ~0.1 ms a triple: 2 s here, 2 min at 1M triples


def _write_other_files(
    staging: BuildFolder, dataset: Dataset, store: OxigraphStore, description: list[str]
) -> list[str]:
    """ipvkg.jsonld (small graphs only) and void.ttl (after the files it describes); returns notes for the user.

    ``description``: the store's VoID statistics, counted before (``linking.dataset_description``).
    """
    notes: list[str] = []
    data = dataset.graphs[ns.DATA_GRAPH]

    if len(data) <= JSONLD_MAX_TRIPLES:
        staging.path("ipvkg.jsonld").write_text(jsonld(data))
    else:
        notes.append(
            f"ipvkg.jsonld not written: the data graph has {len(data):,} triples, more than the "
            f"{JSONLD_MAX_TRIPLES:,} the JSON-LD writer (rdflib) handles in seconds; the same graph is in "
            "ipvkg.nt, ipvkg.ttl and dataset.nq (convert one with any RDF tool if you need JSON-LD)"
        )
    # the VoID/DCAT description lists the files written before it
    write_void(store, staging, description)
    return notes


SUMMARY_ROWS = 25  # rows of the component x domain table printed by a build (the CSV has them all)


def format_summary(result: BuildResult) -> str:
    """What ``ipvkg build`` prints: counts, warnings, problems, review groups, the component x domain table, notes."""
    lines: list[str] = []
    echo = lines.append
    component_domain = result.component_domain
    s = result.summary
    echo(
        f"ipvkg build: {s['studies']} studies, {s['reports']} reports, {s['interventions']} interventions, "
        f"{s['findings']} findings, {s['triples']} triples (+{s['inferred_triples']} inferred)"
    )
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
    echo(
        "\nStudies per review group (published = Ogbe et al. 2020; curated = curator's judgement; "
        f"inferred = {result.classification.reasoner}):"
    )
    echo(format_table(ResultTable(["group", "label", "published", "curated", "inferred"], s["groups"]), max_width=90))
    shown = ResultTable(component_domain.variables, component_domain.rows[:SUMMARY_ROWS])
    cut = len(shown) < len(component_domain)
    echo(
        "\nComponent -> outcome domain (studies, findings, findings by direction"
        + (f"; the {len(shown)} rows with most studies" if cut else "")
        + "; every row in component_domain.csv, by outcome in component_outcome.csv):"
    )
    table = format_table(shown)
    echo(table.rsplit("\n", 1)[0] + f"\n({len(shown)} of {len(component_domain)} rows)" if cut else table)
    echo(f"\nwrote {len(result.outputs)} files to {result.out}")
    lines.extend(result.notes)
    return "\n".join(lines)
