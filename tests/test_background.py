"""Work done in forked processes during a build: results and errors come back, nothing half-written stays."""

from __future__ import annotations

import os
import signal

import pytest

from conftest import SMALL, tree_digest
from ipvkg.background import at_once, in_child
from ipvkg.build import build
from ipvkg.errors import IpvkgError

COUNTER = {"n": 0}


def _bump() -> int:
    COUNTER["n"] += 1
    return COUNTER["n"]


def test_the_child_returns_its_result_and_leaves_the_parent_alone():
    pending = in_child(_bump)
    assert pending.result() == 1
    assert COUNTER["n"] == 0  # the child changed its own copy


def _fail() -> None:
    raise ValueError("the drawing broke at node 7")


def test_an_error_in_the_child_is_raised_in_the_parent():
    for start in (in_child, at_once):
        pending = start(_fail)
        with pytest.raises(ValueError, match="the drawing broke at node 7"):
            pending.result()


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_child_that_dies_is_an_error_naming_the_signal():
    pending = in_child(_die)
    with pytest.raises(IpvkgError, match=r"worker process died \(signal 9\)"):
        pending.result()


def _write_forever(path: str) -> None:
    import time

    while True:
        with open(path, "a") as fh:
            fh.write("x")
        time.sleep(0.01)


def test_a_cancelled_child_writes_nothing_more(tmp_path):
    import time

    target = tmp_path / "out.txt"
    pending = in_child(lambda: _write_forever(str(target)))
    while not target.exists():
        time.sleep(0.01)
    pending.cancel()
    size = target.stat().st_size
    time.sleep(0.1)
    assert target.stat().st_size == size
    with pytest.raises(IpvkgError, match="signal 9"):
        pending.result()


def test_background_writers_give_the_files_one_process_gives(tmp_path):
    """Pictures and RDF files written by forked processes (default) or in this process (jobs=1)."""
    forked = build(SMALL, tmp_path / "forked", reasoner="rules", echo=lambda *a: None)
    serial = build(SMALL, tmp_path / "serial", reasoner="rules", echo=lambda *a: None, jobs=1)
    assert {p.name for p in forked.outputs} >= {"network.png", "gapmap.svg", "ipvkg.nt", "dataset.nq", "void.ttl"}
    assert tree_digest(tmp_path / "forked") == tree_digest(tmp_path / "serial")
    assert [p.name for p in forked.outputs] == [p.name for p in serial.outputs]


@pytest.mark.parametrize("module, name", [("ipvkg.pictures", "write_pictures"), ("ipvkg.build", "run_question")])
def test_a_failure_in_a_forked_stage_fails_the_build_and_leaves_no_output(tmp_path, monkeypatch, module, name):
    import importlib

    def broken(store, where, *args, **kwargs):
        if hasattr(where, "path"):  # a picture half-written before the failure
            where.path("network.png").write_bytes(b"half")
        raise OSError(f"disk full in {name}")

    monkeypatch.setattr(importlib.import_module(module), name, broken)
    out = tmp_path / "out"
    with pytest.raises(OSError, match=f"disk full in {name}"):
        build(SMALL, out, reasoner="rules", echo=lambda *a: None)
    assert [p for p in out.rglob("*") if p.is_file()] == []
