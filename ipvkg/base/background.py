"""Work done beside the main process: in a forked child, a fresh interpreter, a thread, or at once.

A build's last stages (drawing, answering, writing files) are largely Python, so threads share one core
for that part; a forked child sees the parent's memory (the store included) without copying it first.
Where two more copies of the process do not fit in memory, a thread still gains: Oxigraph evaluates a
query without holding the GIL, so the questions run while this thread writes files.

>>> pending = in_child(lambda: sum(range(10)))
>>> pending.result()
45
>>> in_thread(lambda: sum(range(5))).result()
10
>>> at_once(lambda: "done here").result()
'done here'
"""

from __future__ import annotations

import ctypes
import json
import os
import pickle
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Generic, TypeVar, cast

from .errors import IpvkgError

T = TypeVar("T")


class Pending(Generic[T]):
    """Work started somewhere: ``result()`` waits for it (re-raising its error), ``cancel()`` stops it."""

    def __init__(self, pid: int | None = None, read_end: int | None = None, value: T | None = None,
                 error: BaseException | None = None):
        self._pid, self._read_end, self._value, self._error = pid, read_end, value, error
        self._thread: threading.Thread | None = None  # set by in_thread
        self._process: subprocess.Popen | None = None  # set by in_new_process

    def result(self) -> T:
        if self._pid is not None:
            self._collect()
        if self._process is not None:
            self._finish()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            raise self._error
        return cast(T, self._value)  # no error: the value was given, or set by the child or the thread

    def cancel(self) -> None:
        """Stop the child if it still runs (so that it writes nothing more), and reap it.

        A thread cannot be stopped: this waits until it has finished, so it too writes nothing more.
        """
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._process is not None:
            self._process.kill()
            self._finish()
        if self._pid is None:
            return
        try:
            os.kill(self._pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._collect()

    def _collect(self) -> None:
        assert self._pid is not None and self._read_end is not None
        with os.fdopen(self._read_end, "rb") as fh:
            data = fh.read()  # before waitpid: a large result must not block the child on a full pipe
        _, code = os.waitpid(self._pid, 0)
        self._pid = None
        if not data:
            how = f"signal {os.WTERMSIG(code)}" if os.WIFSIGNALED(code) else f"exit status {os.WEXITSTATUS(code)}"
            self._error = IpvkgError(f"a worker process died ({how}) before it finished; if it ran out of memory, "
                                     "try --jobs 1")
            return
        kind, value = pickle.loads(data)
        if kind == "error":
            self._error = value
        else:
            self._value = value

    def _finish(self) -> None:
        assert self._process is not None
        out, err = self._process.communicate()
        code, self._process = self._process.returncode, None
        if code == 0:
            self._value = json.loads(out)
            return
        how = f"signal {-code}" if code < 0 else f"exit status {code}"
        last = err.decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
        self._error = IpvkgError(f"a worker process died ({how}) before it finished: {last[0]}")


def at_once(work: Callable[[], T]) -> Pending[T]:
    """``work`` done now, in this process."""
    try:
        return Pending(value=work())
    except Exception as exc:  # noqa: BLE001 - raised again by result(), as a child's error is
        return Pending(error=exc)


def in_thread(work: Callable[[], T]) -> Pending[T]:
    """Start ``work`` in a thread of this process; its result or error comes back through ``result()``."""
    pending: Pending[T] = Pending()

    def run() -> None:
        try:
            pending._value = work()
        except BaseException as exc:  # noqa: BLE001 - raised again by result()
            pending._error = exc

    pending._thread = threading.Thread(target=run, name="ipvkg-beside", daemon=True)
    pending._thread.start()
    return pending


def in_child(work: Callable[[], T]) -> Pending[T]:
    """Start ``work`` in a forked copy of this process (at once where there is no fork).

    Its result or error comes back pickled; a child that dies (killed, out of memory) is an error. The
    child dies with the parent and never returns into the caller's code (no cleanup of the parent's files).
    """
    if not hasattr(os, "fork"):
        return at_once(work)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            os.close(read_end)
            _die_with_parent(signal.SIGKILL)
            message: tuple[str, Any]
            try:
                message = ("ok", work())
            except BaseException as exc:  # noqa: BLE001 - every error goes back to the parent
                message = ("error", exc)
            try:
                data = pickle.dumps(message)
            except Exception:  # an unpicklable error: its text is enough
                data = pickle.dumps(("error", IpvkgError(f"{type(message[1]).__name__}: {message[1]}")))
            with os.fdopen(write_end, "wb") as fh:
                fh.write(data)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    return Pending(pid=pid, read_end=read_end)


def in_new_process(module: str, request: object) -> Pending:
    """Start ``python -m module`` in a fresh interpreter, ``request`` as JSON on its standard input.

    Its standard output (JSON) is the result; a non-zero exit is an error carrying its last line of
    standard error. Unlike a fork it shares no memory with this process, so neither copies the other's
    pages; it imports ``module`` from the same ipvkg this process runs, installed or not.
    """
    package_root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])),
               IPVKG_PARENT_PID=str(os.getpid()))
    pending: Pending = Pending()
    pending._process = subprocess.Popen([sys.executable, "-m", module], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    stdin, pending._process.stdin = pending._process.stdin, None  # communicate() later reads the outputs only
    assert stdin is not None
    with stdin:  # read at once by the child: no deadlock on a full pipe
        stdin.write(json.dumps(request).encode())
    return pending


def die_with_parent() -> None:
    """In a process started by :func:`in_new_process`: be killed when the parent dies (Linux)."""
    _die_with_parent(signal.SIGKILL)
    if os.environ.get("IPVKG_PARENT_PID") not in (None, str(os.getppid())):
        os._exit(1)  # the parent died before the kernel was told


def room_to_fork(children: int = 2, share: float = 0.25) -> bool:
    """Should work fork ``children`` copies of this process: would they stay within ``share`` of the free memory?

    A forked Python process soon copies many of the pages it shares (reference counts, reused heap
    pages), and a child that queries the Oxigraph store copies the store's pages too, so forks pay only
    for small stores (figures: bench/README.md, Decisions). (Linux /proc; elsewhere assume so.)
    """
    try:
        with open("/proc/self/statm", "rb") as fh:
            resident = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        with open("/proc/meminfo", "rb") as fh:
            available = next(int(line.split()[1]) * 1024 for line in fh if line.startswith(b"MemAvailable:"))
    except (OSError, ValueError, IndexError, StopIteration):
        return True
    return resident * children < available * share


M_ARENA_MAX = -8  # glibc's mallopt parameter: the most malloc arenas (heaps) the process may have


def fewer_malloc_arenas(most: int = 2) -> bool:
    """Let this process's threads share at most ``most`` malloc arenas (glibc); whether it took effect.

    glibc gives a thread that allocates a heap of its own (up to eight per core), and memory freed in it
    is kept there for that heap's next allocations. When a build answers questions in threads, each
    lane's transient answers stay in its own heap; two arenas lower the peak at the same speed
    (figures: bench/README.md, Decisions). It applies to
    arenas created afterwards, and to the whole process (it is not undone: a limit on heaps, not on memory).
    """
    try:
        return bool(ctypes.CDLL(None).mallopt(M_ARENA_MAX, most))
    except (OSError, AttributeError):  # not glibc
        return False


def _die_with_parent(sig: int) -> None:
    """Linux: have the kernel send ``sig`` to this process when its parent dies (prctl PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, sig, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
