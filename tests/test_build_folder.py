"""build/ holds exactly one build, switched as a whole; one build at a time writes it; readers see one build."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
import yaml

from conftest import ROOT, SMALL, base_record, run_cli, tree_digest
from ipvkg.pipeline.build import build
from ipvkg.base.output import BUILDS, CURRENT, BuildFolder, build_lock
from ipvkg.questions.queries import run_question
from ipvkg.questions.kept import open_store


def _quiet(*_):
    pass


@pytest.fixture(scope="module")
def data_sets(tmp_path_factory):
    """FULL: the small fixture plus a record with an error (built with --keep-going and pictures);
    LEAN: the small fixture without one study (built without pictures)."""
    root = tmp_path_factory.mktemp("data-sets")
    full, lean = root / "full", root / "lean"
    shutil.copytree(SMALL, full)
    shutil.copytree(SMALL, lean)
    bad = base_record()
    bad.update(id="fixbad", sample_size="about 50")
    (full / "studies" / "fixbad.yaml").write_text(yaml.safe_dump(bad, sort_keys=False))
    (lean / "studies" / "fixc.yaml").unlink()
    return full, lean


def _build_full(data_sets, out: Path):
    return build(data_sets[0], out, keep_going=True, reasoner="rules", echo=_quiet)


def _build_lean(data_sets, out: Path):
    return build(data_sets[1], out, reasoner="rules", pictures=False, echo=_quiet)


@pytest.fixture(scope="module")
def refs(data_sets, tmp_path_factory):
    """Each data set built once into a folder of its own: what build/ must hold after that build."""
    root = tmp_path_factory.mktemp("refs")
    _build_full(data_sets, root / "full")
    _build_lean(data_sets, root / "lean")
    return root / "full", root / "lean"


def _shown_names(out: Path) -> set[str]:
    """The names a reader listing out/ finds and can open (a dangling link is no file)."""
    return {p.name for p in out.iterdir() if not p.name.startswith(".") and p.exists()}


def _top_names(digest: dict[str, str]) -> set[str]:
    return {name.split("/", 1)[0] for name in digest}


def _only_current_kept(out: Path) -> bool:
    return sorted(p.name for p in (out / BUILDS).iterdir()) == sorted([CURRENT, os.readlink(out / BUILDS / CURRENT)])


def test_refs_differ_as_the_issue_describes(refs):
    full, lean = (tree_digest(r) for r in refs)
    assert {"rejected.json", "gapmap.png", "gapmap.csv", "network.graphml"} <= set(full)
    assert not {"rejected.json", "gapmap.png", "network.graphml"} & set(lean)
    assert full["summary.json"] != lean["summary.json"]


def test_a_build_that_writes_fewer_files_leaves_nothing_of_the_earlier_one(data_sets, refs, tmp_path):
    out = tmp_path / "build"
    _build_full(data_sets, out)
    assert tree_digest(out) == tree_digest(refs[0])
    _build_lean(data_sets, out)
    assert tree_digest(out) == tree_digest(refs[1])  # no old gapmap.*, network.*, rejected.json
    assert _shown_names(out) == {p.name for p in refs[1].iterdir() if not p.name.startswith(".")}
    assert {p.name for p in out.iterdir() if not p.name.startswith(".")} == _shown_names(out)  # no dead links
    assert _only_current_kept(out)
    result = _build_full(data_sets, out)  # and back: every file of the larger build is there again
    assert tree_digest(out) == tree_digest(refs[0])
    assert {p.name for p in result.outputs} >= {"rejected.json", "gapmap.png"}


class Injected(Exception):
    """The failure a test injects into one step of the commit."""


def _stop_at(monkeypatch, n: int) -> list[str]:
    """Make the commit fail at its n-th step (from 0); returns the names of the steps done before."""
    original = BuildFolder.commit_steps
    done: list[str] = []

    def steps(self):
        for i, (what, step) in enumerate(original(self)):
            if i == n:
                raise Injected(what)
            yield what, lambda what=what, step=step: (step(), done.append(what))

    monkeypatch.setattr(BuildFolder, "commit_steps", steps)
    return done


def _answers_agree(out: Path, ref: Path) -> None:
    """A reader of out/ gets the ref build's answers, kept and asked of the graph alike."""
    store = open_store(f"memory:{out}")
    kept = run_question(store, "group_counts")
    assert kept.source is not None  # the kept answers belong to the graph read
    truth = run_question(open_store(f"memory:{ref}"), "group_counts", fresh=True)
    assert kept.rows == truth.rows == run_question(store, "group_counts", fresh=True).rows
    store.close()


@pytest.mark.parametrize("direction", ["full-to-lean", "lean-to-full"])
def test_a_build_stopped_at_every_step_of_its_commit_leaves_the_old_or_the_new_build(data_sets, refs, tmp_path,
                                                                                      monkeypatch, direction):
    first, second = (_build_full, _build_lean) if direction == "full-to-lean" else (_build_lean, _build_full)
    old_ref, new_ref = refs if direction == "full-to-lean" else refs[::-1]
    old, new = tree_digest(old_ref), tree_digest(new_ref)
    pristine = tmp_path / "pristine"
    first(data_sets, pristine)
    n, finished = 0, False
    while not finished:
        work = tmp_path / f"at-{n}"
        shutil.copytree(pristine, work, symlinks=True)
        with monkeypatch.context() as m:
            done = _stop_at(m, n)
            try:
                second(data_sets, work)
                finished = True
            except Injected:
                pass
        switched = "switch" in done
        assert tree_digest(work) == (new if switched or finished else old), f"stopped at step {n}: {done}"
        assert _shown_names(work) == _top_names(new if switched or finished else old)
        _answers_agree(work, new_ref if switched or finished else old_ref)
        # what a stopped build left is hidden, and the next build removes it
        second(data_sets, work)
        assert tree_digest(work) == new and _only_current_kept(work)
        n += 1
    assert n >= 4  # the commit has steps before, at and after the switch


def _stage(out: Path, ref: Path) -> BuildFolder:
    """A BuildFolder for out holding the files of the build ref (as the build that made ref wrote them)."""
    folder = BuildFolder(out).__enter__()
    shutil.copytree(ref, folder.dir, dirs_exist_ok=True,
                    ignore=lambda d, names: [BUILDS] if Path(d) == ref else [])
    return folder


def _commit(out: Path, ref: Path) -> None:
    """Commit the files of the build ref into out, as a build does."""
    with build_lock(out):
        folder = _stage(out, ref)
        folder.__exit__(None, None, None)


@pytest.mark.parametrize("old_layout", ["builds", "plain files"])
@pytest.mark.parametrize("direction", ["full-to-lean", "lean-to-full"])
def test_a_commit_killed_after_any_step_leaves_the_old_or_the_new_build(refs, tmp_path, direction, old_layout):
    """No clean-up runs after a kill: the folder is as the last whole step left it."""
    old_ref, new_ref = refs if direction == "full-to-lean" else refs[::-1]
    old, new = tree_digest(old_ref), tree_digest(new_ref)
    n, finished = 0, False
    while not finished:
        work = tmp_path / f"at-{n}"
        if old_layout == "builds":
            shutil.copytree(old_ref, work, symlinks=True)
        else:  # what a build wrote before build folders: the files themselves
            shutil.copytree(old_ref, work, ignore=lambda d, names: [BUILDS] if Path(d) == old_ref else [])
        with build_lock(work):  # released as a killed process's lock is
            done = []
            finished = True
            for i, (what, step) in enumerate(_stage(work, new_ref).commit_steps()):
                if i == n:
                    finished = False
                    break
                step()
                done.append(what)
        expected = new if "switch" in done else old
        assert tree_digest(work) == expected, f"killed after step {n}: {done}"
        assert _shown_names(work) == _top_names(expected)
        _answers_agree(work, new_ref if "switch" in done else old_ref)
        _commit(work, new_ref)  # the next build
        assert tree_digest(work) == new and _only_current_kept(work)
        n += 1
    assert n >= 4  # the commit has steps before, at and after the switch


def _cli_build(data: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "ipvkg", "build", "--data", str(data), "--out", str(out), "--no-pictures",
            "--reasoner", "rules", *extra]


ENV = dict(os.environ, PYTHONPATH=str(ROOT))


def test_a_second_build_waits_for_the_first_with_one_line(tmp_path):
    out, ref = tmp_path / "build", tmp_path / "ref"
    assert subprocess.run(_cli_build(SMALL, ref), env=ENV, capture_output=True).returncode == 0
    with build_lock(out):  # a build holds the folder
        proc = subprocess.Popen(_cli_build(SMALL, out), env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True)
        line = proc.stderr.readline()
        assert line.strip() == f"ipvkg build: another build is writing {out}; waiting for it to finish"
        time.sleep(1.0)
        assert proc.poll() is None and tree_digest(out) == {}  # still waiting, nothing written
    assert proc.wait(timeout=120) == 0
    rest = proc.stderr.read()
    assert "Traceback" not in rest and "waiting" not in rest
    assert tree_digest(out) == tree_digest(ref)


def test_no_wait_stops_at_once_with_one_line_and_leaves_the_build(tmp_path):
    out = tmp_path / "build"
    assert run_cli("build", "--data", str(SMALL), "--out", str(out), "--no-pictures").returncode == 0
    before = tree_digest(out)
    with build_lock(out):
        t = time.monotonic()
        r = run_cli("build", "--data", str(ROOT / "data"), "--out", str(out), "--no-pictures", "--no-wait")
        assert time.monotonic() - t < 60
    assert r.returncode == 2
    assert r.stderr.strip() == (f"ipvkg build: error: another ipvkg build is writing {out}; wait for it to finish, "
                                "or run again without --no-wait to wait for it")
    assert tree_digest(out) == before


def test_two_builds_at_once_both_succeed_and_leave_one_whole_build(tmp_path):
    refs = {}
    for name, data in (("small", SMALL), ("shipped", ROOT / "data")):
        assert subprocess.run(_cli_build(data, tmp_path / name), env=ENV, capture_output=True).returncode == 0
        refs[name] = tree_digest(tmp_path / name)
    out = tmp_path / "build"
    procs = [subprocess.Popen(_cli_build(data, out), env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True) for data in (ROOT / "data", SMALL)]
    errors = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    assert not any("Traceback" in e for e in errors)
    assert tree_digest(out) in (refs["small"], refs["shipped"])
    assert _only_current_kept(out) and not list(out.glob(".staging-*"))


def test_a_reader_keeps_reading_the_build_it_opened_while_another_is_committed(data_sets, refs, tmp_path):
    out = tmp_path / "build"
    _build_full(data_sets, out)
    store = open_store(f"memory:{out}")
    kept = run_question(store, "group_counts")  # from the kept answers, the graph not loaded yet
    _build_lean(data_sets, out)  # committed while the reader holds the full build
    assert tree_digest(out) == tree_digest(refs[1])
    truth = run_question(open_store(f"memory:{refs[0]}"), "group_counts", fresh=True).rows
    lean = run_question(open_store(f"memory:{refs[1]}"), "group_counts", fresh=True).rows
    assert truth != lean
    assert kept.rows == truth
    assert run_question(store, "group_counts", fresh=True).rows == truth  # the graph loaded now is the full one
    assert run_question(store, "network_edges").source is not None  # and its kept answers still hold
    held = len(list((out / BUILDS).iterdir()))
    assert held == 3  # current, the new build and the one the reader holds
    store.close()
    _build_lean(data_sets, out)  # the build no one reads any more is removed
    assert _only_current_kept(out)


def test_serve_loads_the_build_it_hashed_while_another_is_committed(data_sets, refs, tmp_path, monkeypatch):
    import ipvkg.publish as publish

    out, location = tmp_path / "build", tmp_path / "store"
    _build_full(data_sets, out)
    original = publish._sha256

    def hash_then_commit(path):
        digest = original(path)
        _build_lean(data_sets, out)  # another build switches build/ between the hash and the load
        return digest

    monkeypatch.setattr(publish, "_sha256", hash_then_commit)
    assert publish.prepare_store(out, location)
    full_nq = refs[0] / "dataset.nq"
    assert (tmp_path / "store.sha256").read_text().strip() == original(full_nq)
    served = ox.Store.read_only(str(location))
    assert len(served) == len(full_nq.read_text().splitlines())
    assert tree_digest(out) == tree_digest(refs[1])


def test_readers_see_one_build_while_builds_are_committed_over_and_over(refs, tmp_path):
    """Builds of two data sets are committed again and again beside readers; each reader sees one whole build."""
    out = tmp_path / "build"
    shutil.copytree(refs[0], out, symlinks=True)
    truths = [run_question(open_store(f"memory:{ref}"), "group_counts", fresh=True).rows for ref in refs]
    stop = threading.Event()
    commits = []

    def commit_again_and_again():
        i = 0
        while not stop.is_set():
            i += 1
            _commit(out, refs[i % 2])
            commits.append(i)

    writer = threading.Thread(target=commit_again_and_again)
    writer.start()
    try:
        seen = set()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (len(seen) < 2 or len(commits) < 10):
            store = open_store(f"memory:{out}")
            kept = run_question(store, "group_counts")
            asked = run_question(store, "group_counts", fresh=True)
            assert kept.source is not None and kept.rows == asked.rows
            assert asked.rows in truths
            seen.add(truths.index(asked.rows))
            store.close()
    finally:
        stop.set()
        writer.join()
    assert seen == {0, 1} and len(commits) >= 10
