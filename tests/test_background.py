"""Work done in forked processes during a build: results and errors come back, nothing half-written stays."""

from __future__ import annotations

import os
import signal

import pytest

from conftest import SMALL, tree_digest
from ipvkg.build import build, start_in_child
from ipvkg.errors import IpvkgError

COUNTER = {"n": 0}


def _bump() -> int:
    COUNTER["n"] += 1
    return COUNTER["n"]


def test_the_child_returns_its_result_and_leaves_the_parent_alone():
    wait = start_in_child(_bump)
    assert wait() == 1
    assert COUNTER["n"] == 0  # the child changed its own copy


def _fail() -> None:
    raise ValueError("the drawing broke at node 7")


def test_an_error_in_the_child_is_raised_in_the_parent():
    wait = start_in_child(_fail)
    with pytest.raises(ValueError, match="the drawing broke at node 7"):
        wait()


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_child_that_dies_is_an_error_naming_the_signal():
    wait = start_in_child(_die)
    with pytest.raises(IpvkgError, match=r"worker process died \(signal 9\)"):
        wait()


def test_background_writers_give_the_files_one_process_gives(tmp_path):
    """Pictures and RDF files written by forked processes (default) or in this process (jobs=1)."""
    forked = build(SMALL, tmp_path / "forked", reasoner="rules", echo=lambda *a: None)
    serial = build(SMALL, tmp_path / "serial", reasoner="rules", echo=lambda *a: None, jobs=1)
    assert {p.name for p in forked.outputs} >= {"network.png", "gapmap.svg", "ipvkg.nt", "dataset.nq", "void.ttl"}
    assert tree_digest(tmp_path / "forked") == tree_digest(tmp_path / "serial")
    assert [p.name for p in forked.outputs] == [p.name for p in serial.outputs]


def test_a_failed_picture_leaves_no_output(tmp_path, monkeypatch):
    import ipvkg.pictures

    def broken(store, staging):
        (staging.path("network.png")).write_bytes(b"half")
        raise OSError("disk full while writing network.png")

    monkeypatch.setattr(ipvkg.pictures, "write_pictures", broken)
    out = tmp_path / "out"
    with pytest.raises(OSError, match="disk full"):
        build(SMALL, out, reasoner="rules", echo=lambda *a: None)
    assert [p for p in out.rglob("*") if p.is_file()] == []
