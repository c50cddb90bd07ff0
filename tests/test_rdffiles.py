"""The RDF files written from sorted runs (in a fresh interpreter) are the files written from lists here."""

from __future__ import annotations

import collections
import random
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT, SMALL, tree_digest
from ipvkg.base import namespaces as ns
from ipvkg.base.background import Parallelism, in_new_process
from ipvkg.base.errors import IpvkgError
from ipvkg.rdf.rdffiles import SortedRuns, write_elsewhere, write_rdf_files, write_run

sys.path.insert(0, str(ROOT / "bench"))
from generate import write_dataset  # noqa: E402

# literal text with the characters that sort around a newline (tab, space) and beyond ASCII
TEXT = st.text(alphabet=st.sampled_from(list("ab \t~é\u20ac\U0001F600")), max_size=6)


@settings(max_examples=60, deadline=None)
@given(texts=st.lists(TEXT, max_size=40), splits=st.integers(1, 5), seed=st.integers(0, 1000))
def test_runs_merge_into_the_sorted_distinct_lines(tmp_path_factory, texts, splits, seed):
    lines = [f'<https://e.org/s> <https://e.org/p> "{t}" .' for t in texts]
    lines += [f'<https://e.org/s{t}> <https://e.org/p> <https://e.org/o> .' for t in ("", "a")]
    folder = tmp_path_factory.mktemp("runs")
    rng = random.Random(seed)
    parts: list[list[str]] = [[] for _ in range(splits)]
    for line in lines:  # a line may land in two runs: the merge keeps it once
        for part in rng.sample(parts, rng.randint(1, splits)):
            part.append(line)
    runs = SortedRuns([write_run(folder / f"{i}.nt", sorted(set(p))) for i, p in enumerate(parts)])
    expected = sorted(set(lines))
    assert list(runs) == expected
    assert runs == expected and len(runs) == len(expected)
    assert runs != expected[:-1] and runs != expected + ["<x> <y> <z> ."]


def test_the_fresh_interpreter_writes_the_files_this_process_writes(tmp_path):
    from ipvkg.pipeline.build import load_and_validate, ontology_lines
    from ipvkg.base.vocab import load_vocabulary

    vocab = load_vocabulary()
    lines = load_and_validate(SMALL, vocab=vocab).lines
    assert isinstance(lines, list)  # small data: one process, lines in memory
    half = len(lines) // 2
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    runs = SortedRuns([write_run(scratch / "a.nt", lines[:half + 5]), write_run(scratch / "b.nt", lines[half:])])
    graphs = {ns.ONTOLOGY_GRAPH: ontology_lines(vocab), ns.INFERRED_GRAPH: lines[:3]}
    (tmp_path / "here").mkdir(), (tmp_path / "there").mkdir()
    here = write_rdf_files(tmp_path / "here", {**graphs, ns.DATA_GRAPH: lines})
    there = write_elsewhere(tmp_path / "there", {**graphs, ns.DATA_GRAPH: runs}, scratch).result()
    assert here["triples"] == there["triples"] == len(lines)
    assert here["sha256"] == there["sha256"]
    assert tree_digest(tmp_path / "here") == tree_digest(tmp_path / "there")
    assert sorted(p.name for p in (tmp_path / "there").iterdir()) == ["dataset.nq", "inferred.ttl", "ipvkg.nt",
                                                                      "ipvkg.ttl"]
    # and the files say what they were given: every graph's lines, the data graph in N-Triples and Turtle
    everything = {**graphs, ns.DATA_GRAPH: lines}
    assert (tmp_path / "there" / "dataset.nq").read_text() == "".join(
        line[:-1] + f"<{graph}> .\n" for graph in sorted(everything) for line in everything[graph])
    quads = collections.Counter(q.graph_name.value for q in ox.parse(path=str(tmp_path / "there" / "dataset.nq")))
    assert quads == {graph: len(lines) for graph, lines in everything.items()}
    triples = {str(t) for t in ox.parse(path=str(tmp_path / "there" / "ipvkg.nt"))}
    assert triples == {str(t) for t in ox.parse(path=str(tmp_path / "there" / "ipvkg.ttl"))}
    assert len(triples) == len(lines)


def test_a_missing_run_file_fails_the_writer_with_its_name(tmp_path):
    pending = in_new_process("ipvkg.rdf.rdffiles", {"folder": str(tmp_path),
                                                "graphs": {ns.DATA_GRAPH: [str(tmp_path / "gone.nt")]}})
    with pytest.raises(IpvkgError, match=r"exit status 1.*writing the RDF files into .*No such file.*gone\.nt"):
        pending.result()


def test_a_full_disk_while_the_workers_write_their_runs_is_one_clear_error(tmp_path, monkeypatch):
    import importlib

    from ipvkg.pipeline.build import load_and_validate

    with pytest.raises(IpvkgError, match=r"/dev/full: no space left .* set TMPDIR"):
        write_run(Path("/dev/full"), ["<https://e.org/s> <https://e.org/p> <https://e.org/o> ."])
    data = tmp_path / "data"
    write_dataset(data, 30, seed=4, max_bytes=10_000)
    build_module = importlib.import_module("ipvkg.pipeline.build")  # the workers are forked: they see the patch
    monkeypatch.setattr(build_module, "write_run", lambda path, lines: write_run(Path("/dev/full"), lines))
    with pytest.raises(IpvkgError, match="no space left to write the triples"):
        load_and_validate(data, parallel=Parallelism.of_jobs(2))


def test_a_failed_writer_fails_a_parallel_build_and_leaves_no_output(tmp_path, monkeypatch):
    """The records read by workers, their RDF files written elsewhere: a failure there loses nothing."""
    import importlib

    from ipvkg.pipeline.build import build

    data = tmp_path / "data"
    write_dataset(data, 40, seed=2, max_bytes=20_000)
    build_module = importlib.import_module("ipvkg.pipeline.build")
    real = build_module.write_elsewhere

    def losing_a_run(folder, graphs, scratch):
        graphs[ns.DATA_GRAPH].paths[0].unlink()  # e.g. a cleaner emptied the temporary folder
        return real(folder, graphs, scratch)

    monkeypatch.setattr(build_module, "write_elsewhere", losing_a_run)
    out = tmp_path / "out"
    with pytest.raises(IpvkgError, match="batch-000000.nt"):
        build(data, out, reasoner="rules", pictures=False, echo=lambda *a: None, parallel=Parallelism.of_jobs(2))
    assert not out.exists() or [p for p in out.rglob("*") if p.is_file()] == []
