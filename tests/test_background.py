"""Work done in forked processes during a build: results and errors come back, nothing half-written stays."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from conftest import SMALL, tree_digest
from ipvkg.base.background import Parallelism, at_once, in_child, in_new_process, in_thread
from ipvkg.pipeline.build import build
from ipvkg.base.errors import IpvkgError

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


def test_a_thread_returns_its_result_in_this_process():
    COUNTER["n"] = 0
    pending = in_thread(_bump)
    assert pending.result() == 1
    assert COUNTER["n"] == 1  # the same memory: unlike a child, the change is seen here


def test_an_error_in_the_child_is_raised_in_the_parent():
    for start in (in_child, in_thread, at_once):
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


def test_a_cancelled_thread_is_waited_for(tmp_path):
    import threading

    release = threading.Event()
    target = tmp_path / "late.txt"
    pending = in_thread(lambda: (release.wait(5), target.write_text("written")))
    threading.Timer(0.2, release.set).start()
    pending.stop()  # returns only once the thread has finished: nothing is written after it
    assert target.read_text() == "written"


def _module(folder, monkeypatch, name: str, code: str) -> str:
    """A module ``name`` a fresh interpreter can import (on PYTHONPATH, after ipvkg's own folder)."""
    (folder / f"{name}.py").write_text(code)
    monkeypatch.setenv("PYTHONPATH", str(folder))
    return name


def test_a_fresh_interpreter_gets_its_request_and_returns_json(tmp_path, monkeypatch):
    name = _module(tmp_path, monkeypatch, "echo_request", "import json, os, sys\n"
                   "json.dump({'pid': os.getpid(), 'request': json.load(sys.stdin)}, sys.stdout)\n")
    value = in_new_process(name, {"runs": ["a.nt", "b.nt"], "n": 2}).result()
    assert value["request"] == {"runs": ["a.nt", "b.nt"], "n": 2}
    assert value["pid"] != os.getpid()


@pytest.mark.parametrize("where", ["fork", "fresh interpreter"])
def test_a_cancelled_child_writes_nothing_more(tmp_path, monkeypatch, where):
    import time

    target = tmp_path / "out.txt"
    if where == "fork":
        pending = in_child(lambda: _write_forever(str(target)))
    else:
        name = _module(tmp_path, monkeypatch, "write_forever", "import json, sys, time\n"
                       "path = json.load(sys.stdin)['path']\n"
                       "while True:\n    open(path, 'a').write('x'); time.sleep(0.01)\n")
        pending = in_new_process(name, {"path": str(target)})
    while not target.exists():
        time.sleep(0.01)
    pending.stop()
    size = target.stat().st_size
    time.sleep(0.1)
    assert target.stat().st_size == size
    with pytest.raises(IpvkgError, match="signal 9"):
        pending.result()


@pytest.mark.parametrize("where", ["fork", "thread"])
def test_background_writers_give_the_files_one_process_gives(tmp_path, where):
    """Pictures and answers in forked processes (default) or threads (when forks do not fit) or at once (serial)."""
    beside = build(SMALL, tmp_path / where, reasoner="rules", echo=lambda *a: None, parallel=Parallelism(lanes=where))
    serial = build(SMALL, tmp_path / "serial", reasoner="rules", echo=lambda *a: None,
                   parallel=Parallelism.of_jobs(1))
    assert {p.name for p in beside.outputs} >= {"network.png", "gapmap.svg", "ipvkg.nt", "dataset.nq", "void.ttl"}
    assert tree_digest(tmp_path / where) == tree_digest(tmp_path / "serial")
    assert [p.name for p in beside.outputs] == [p.name for p in serial.outputs]


@pytest.mark.parametrize("where", ["fork", "thread"])
@pytest.mark.parametrize("module, name", [("ipvkg.pictures.pictures", "write_pictures"),
                                          ("ipvkg.questions.answers", "write_answer")])
def test_a_failure_in_a_stage_beside_fails_the_build_and_leaves_no_output(tmp_path, monkeypatch, module, name,
                                                                           where):
    import importlib

    def broken(store, where, *args, **kwargs):
        if hasattr(where, "path"):  # a picture half-written before the failure
            where.path("network.png").write_bytes(b"half")
        raise OSError(f"disk full in {name}")

    monkeypatch.setattr(importlib.import_module(module), name, broken)
    out = tmp_path / "out"
    with pytest.raises(OSError, match=f"disk full in {name}"):
        build(SMALL, out, reasoner="rules", echo=lambda *a: None, parallel=Parallelism(lanes=where))
    assert [p for p in out.rglob("*") if p.is_file()] == []


_COUNT_HEAPS = r"""
import ctypes, os, sys, tempfile, threading
from ipvkg.base.background import fewer_malloc_arenas
took = fewer_malloc_arenas(2) if sys.argv[1] == "limit" else None
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.fopen.restype = ctypes.c_void_p
together = threading.Barrier(7)  # six threads and this one
def allocate():  # each thread allocates while all six are alive, so none can take over another's heap
    libc.malloc(100_000)
    together.wait()  # all have allocated
    together.wait()  # the heaps were counted
threads = [threading.Thread(target=allocate) for _ in range(6)]
for t in threads:
    t.start()
together.wait()
path = os.path.join(tempfile.mkdtemp(), "malloc.xml")
fh = libc.fopen(path.encode(), b"w")
libc.malloc_info(0, ctypes.c_void_p(fh))
libc.fclose(ctypes.c_void_p(fh))
together.wait()
for t in threads:
    t.join()
print(took, open(path).read().count("<heap nr="))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc arenas")
def test_fewer_malloc_arenas_caps_the_heaps_threads_allocate_in():
    def heaps(mode: str) -> tuple[str, int]:
        out = subprocess.run([sys.executable, "-c", _COUNT_HEAPS, mode], capture_output=True, text=True, check=True,
                             timeout=60)
        took, count = out.stdout.split()
        return took, int(count)

    assert heaps("limit") == ("True", 2)
    _, unlimited = heaps("default")
    assert unlimited > 2, "six threads allocating at once should have had heaps of their own"


def test_one_parallelism_setting_says_processes_threads_and_lanes(monkeypatch):
    import importlib

    serial = Parallelism.of_jobs(1)  # --jobs 1: every step in this process, one after another
    assert (serial.process_count(large=True), serial.thread_count(), serial.start) == (1, 1, at_once)
    two = Parallelism.of_jobs(2)
    assert (two.process_count(large=False), two.thread_count()) == (2, 2)  # asked for: used even for small data
    auto = Parallelism()
    assert auto.process_count(large=False) == 1
    assert auto.process_count(large=True) == auto.thread_count() == (os.cpu_count() or 1)
    assert Parallelism.of_jobs(1, "thread").start is in_thread
    background = importlib.import_module("ipvkg.base.background")
    for fits, start in ((True, in_child), (False, in_thread)):  # auto forks only when the copies fit in memory
        monkeypatch.setattr(background, "room_to_fork", lambda *a, fits=fits: fits)
        assert auto.start is start
        assert Parallelism(lanes="fork").start is in_child


@pytest.mark.parametrize("bad", [{"processes": 0}, {"threads": -1}, {"lanes": "forks"}])
def test_a_parallelism_that_cannot_be_is_refused(bad):
    with pytest.raises(ValueError, match=str(next(iter(bad.values())))):
        Parallelism(**bad)


@pytest.mark.parametrize("args, says", [(["--jobs", "0"], "must be at least 1, got 0"),
                                        (["--jobs", "two"], "a whole number is needed, got 'two'"),
                                        (["--lanes", "forks"], "invalid choice: 'forks'")])
def test_the_cli_refuses_a_parallelism_that_cannot_be_in_one_line(tmp_path, args, says):
    run = subprocess.run([sys.executable, "-m", "ipvkg.cli", "build", "--data", str(SMALL), "--out",
                          str(tmp_path / "out"), *args], capture_output=True, text=True)
    assert run.returncode == 2
    assert says in run.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "out").exists()


def _refuse() -> None:
    raise RuntimeError("this result cannot be read back")


class _Unreadable:
    def __reduce__(self):  # pickles in the child; reading it back in the parent raises
        return (_refuse, ())


def test_a_result_the_parent_cannot_read_back_is_an_error_not_a_wait():
    with pytest.raises(RuntimeError, match="cannot be read back"):
        in_child(_Unreadable).result(timeout=30)


def test_a_fresh_interpreter_that_writes_no_json_is_an_error_not_a_wait(tmp_path, monkeypatch):
    name = _module(tmp_path, monkeypatch, "no_json", "print('done, but not JSON')\n")
    with pytest.raises(IpvkgError, match="not JSON"):
        in_new_process(name, {}).result(timeout=30)
