"""The answers a build keeps (ipvkg.questions.answers): equal to asking the graph, and never used once they may not
hold."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from conftest import ROOT, SMALL, run_cli
from ipvkg.questions.queries import list_questions

# a build keeps the answer of every question that needs no parameter
KEPT = {q.name for q in list_questions() if not any(p.required for p in q.params)}


@pytest.fixture
def build_copy(shipped_build, tmp_path) -> Path:
    """A copy of the shipped build (times kept, as ``cp -p`` does) to edit."""
    out = tmp_path / "build"
    shutil.copytree(shipped_build.out, out)
    return out


def tamper(build: Path, name: str) -> None:
    """Empty a kept answer's rows (a file graph.json does not vouch for: never read)."""
    path = build / "answers" / f"{name}.json"
    doc = json.loads(path.read_text())
    doc["rows"] = []
    path.write_text(json.dumps(doc))


def test_build_keeps_answers_that_equal_asking_the_graph(shipped_build):
    from ipvkg.questions.queries import get_question, run_question
    from ipvkg.questions.kept import open_store

    out = shipped_build.out
    assert {p.stem for p in (out / "answers").glob("*.json")} == KEPT | {"graph"}
    store = open_store(f"memory:{out}")
    kept = {}
    for name in sorted(KEPT):
        q = get_question(name)
        kept[name] = store.kept_answer(q.name, q.text, q.bindings({}))
        assert kept[name] is not None and kept[name].source == str(out / "answers" / f"{name}.json"), name
    assert store.pending_build == out  # read without loading the graph
    for name in sorted(KEPT):
        fresh = run_question(store, name, fresh=True)  # loads the graph
        assert fresh.source is None
        assert kept[name].variables == fresh.variables, name
        assert kept[name].rows == fresh.rows, name
        assert len(fresh) > 0, name
        assert run_question(store, name).source is not None  # still kept, now that the graph is loaded
    assert store.pending_build is None


def test_every_question_without_a_required_parameter_is_kept_with_or_without_pictures(tmp_path):
    from ipvkg.pipeline.build import build

    assert {"component_outcome", "network_edges", "evidence_gaps", "effect_estimates"} <= KEPT
    assert not KEPT & {"findings_for_outcome", "federated_shared_studies"}  # they need a parameter
    build(SMALL, tmp_path / "out", reasoner="rules", pictures=False, echo=lambda *a: None)
    stamp = json.loads((tmp_path / "out" / "answers" / "graph.json").read_text())
    assert set(stamp["answers"]) == KEPT  # the network's questions too, though nothing was drawn


def test_the_network_is_drawn_from_kept_answers_without_loading_the_graph(shipped_build):
    from ipvkg.pictures.network import load_evidence
    from ipvkg.questions.kept import open_store
    from ipvkg.store.store import OxigraphStore

    lazy = open_store(f"memory:{shipped_build.out}")
    loaded = OxigraphStore()
    loaded.load_file(shipped_build.out / "dataset.nq")
    assert load_evidence(lazy) == load_evidence(loaded)
    assert lazy.pending_build is not None


def test_kept_answer_is_read_only_while_it_holds(build_copy):
    from ipvkg.questions.queries import run_question
    from ipvkg.questions.kept import open_store

    store = open_store(f"memory:{build_copy}")
    kept = run_question(store, "group_counts")
    assert kept.source is not None
    truth = run_question(store, "group_counts", fresh=True)
    assert truth.source is None and truth.rows == kept.rows

    # other parameter values than the ones answered: asked of the graph
    within = run_question(store, "component_outcome", {"within": "depression"})
    assert within.rows == run_question(store, "component_outcome", {"within": "depression"}, fresh=True).rows
    assert 0 < len(within) < len(run_question(store, "component_outcome", fresh=True))

    # a question whose text differs from the one answered (same name): asked of the graph
    edited = build_copy / "group_counts.rq"
    edited.write_text((ROOT / "queries" / "group_counts.rq").read_text() + "# edited\n")
    answer = run_question(store, str(edited))
    assert answer.source is None and answer.rows == truth.rows
    assert run_question(store, "group_counts").source is not None

    # an answer file other than the one graph.json vouches for (left by an earlier build, or a half-moved one)
    tamper(build_copy, "group_counts")
    answer = run_question(store, "group_counts")
    assert answer.source is None and answer.rows == truth.rows

    # anything added to the store through ipvkg: its kept answers no longer hold
    assert run_question(store, "component_domain").source is not None
    store.add_ntriples(['<http://example.org/s> <http://example.org/p> "o" .'], "http://example.org/g")
    assert store.answers_from is None
    assert run_question(store, "component_domain").source is None


def test_kept_answers_follow_the_graph_file(build_copy):
    from ipvkg.questions.answers import current_graph
    from ipvkg.questions.queries import run_question
    from ipvkg.questions.kept import open_store

    digest = current_graph(build_copy)
    assert digest is not None
    # a copy with a new modification time but the same bytes: hashed, and still the same graph
    graph = build_copy / "dataset.nq"
    st = graph.stat()
    os.utime(graph, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    assert current_graph(build_copy) == digest
    assert run_question(open_store(f"memory:{build_copy}"), "group_counts").source is not None

    # a store loaded before the build directory changed: the directory's answers are of another graph now
    loaded = open_store(f"memory:{build_copy}")
    loaded.store  # noqa: B018 - loaded now
    assert loaded.answers_from is not None
    stamp = build_copy / "answers" / "graph.json"
    doc = json.loads(stamp.read_text())
    stamp.write_text(json.dumps(dict(doc, sha256="0" * 64)))
    assert run_question(loaded, "group_counts").source is None
    stamp.write_text(json.dumps(doc))
    assert run_question(loaded, "group_counts").source is not None

    # the graph edited (one more statement): not the graph that was answered
    with open(graph, "a", encoding="utf-8") as fh:
        fh.write('<http://example.org/s> <http://example.org/p> "o" <http://example.org/g> .\n')
    assert current_graph(build_copy) is None
    store = open_store(f"memory:{build_copy}")
    answer = run_question(store, "group_counts")
    assert answer.rows != [] and answer.source is None and store.answers_from is None


def test_query_command_answers_from_the_build_without_its_graph(build_copy):
    kept = run_cli("query", "network_edges", "--store", f"memory:{build_copy}", "--format", "csv")
    fresh = run_cli("query", "network_edges", "--store", f"memory:{build_copy}", "--format", "csv", "--fresh")
    assert kept.returncode == 0 and fresh.returncode == 0, kept.stderr + fresh.stderr
    assert "answered from" in kept.stderr and "answered from" not in fresh.stderr
    assert kept.stdout == fresh.stdout and kept.stdout.count("\n") > 10

    tamper(build_copy, "network_edges")  # no longer the file the build vouched for: the graph is asked
    again = run_cli("query", "network_edges", "--store", f"memory:{build_copy}", "--format", "csv")
    assert again.returncode == 0 and "answered from" not in again.stderr and again.stdout == fresh.stdout


def test_answers_left_by_an_earlier_build_are_not_used(tmp_path, monkeypatch):
    import importlib

    from ipvkg.pipeline.build import build
    from ipvkg.questions.queries import run_question
    from ipvkg.questions.kept import open_store

    out = tmp_path / "build"
    build(SMALL, out, reasoner="rules", echo=lambda *a: None)
    assert (out / "answers" / "network_edges.json").exists()
    # a build that answers no network question (as an earlier ipvkg's, that kept fewer answers)
    build_module = importlib.import_module("ipvkg.pipeline.build")
    monkeypatch.setattr(build_module, "list_questions",
                        lambda: [q for q in list_questions() if not q.name.startswith("network_")])
    build(SMALL, out, reasoner="rules", pictures=False, echo=lambda *a: None)
    assert not (out / "answers" / "network_edges.json").exists()  # build/ holds only the new build's files
    store = open_store(f"memory:{out}")
    assert run_question(store, "group_counts").source is not None
    assert run_question(store, "network_edges").source is None


def test_stores_on_disk_never_use_kept_answers(shipped_build, tmp_path):
    from ipvkg.questions.kept import KeptAnswers
    from ipvkg.questions.queries import get_question
    from ipvkg.store.store import OxigraphStore

    store = KeptAnswers(OxigraphStore(tmp_path / "store"))  # as open_store gives it
    store.load_file(shipped_build.out / "dataset.nq")
    q = get_question("group_counts")
    assert store.kept_answer(q.name, q.text, q.bindings({})) is None
    store.close()
