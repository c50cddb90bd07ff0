"""Work done beside the main process (a forked child, a fresh interpreter, a thread, or at once), and the one
setting that says how much of a build runs at the same time: :class:`Parallelism`.

A build's last stages (drawing, answering, writing files) are largely Python, so threads share one core
for that part; a forked child sees the parent's memory (the store included) without copying it first.
Where two more copies of the process do not fit in memory, a thread still gains: Oxigraph evaluates a
query without holding the GIL, so the questions run while this thread writes files. Each way of starting
work returns a :class:`Work`, a :class:`concurrent.futures.Future` that can also be stopped.

>>> in_child(lambda: sum(range(10))).result()
45
>>> in_thread(lambda: sum(range(5))).result()
10
>>> at_once(lambda: "done here").result()
'done here'
>>> Parallelism.of_jobs(1)
Parallelism(processes=1, threads=1, lanes='serial')
"""

from __future__ import annotations

import ctypes
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
from concurrent.futures import Future
from concurrent.futures import wait as wait_for
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Callable, Literal, TypeVar

from .errors import IpvkgError

T = TypeVar("T")

#: where a build's last stages run beside the main process (see :class:`Parallelism`)
Lanes = Literal["auto", "fork", "thread", "serial"]


@dataclass(frozen=True)
class Parallelism:
    """How much of a build runs at the same time, and where: the one setting (``ipvkg build --jobs/--lanes``).

    :param processes: worker processes that read and convert the records; None: one per core when the
        records are large enough to gain from it (``ipvkg.pipeline.build.PARALLEL_MIN_BYTES``), else this process.
    :param threads: threads that run the SHACL checks (Oxigraph evaluates without the GIL); None: one per core.
    :param lanes: where the last stages (pictures, answers, synthesis) run beside this process: ``"fork"``
        forked children, ``"thread"`` threads, ``"serial"`` here one after another, ``"auto"`` forks when their
        copies fit in memory (:func:`room_to_fork`), else threads.
    :raises ValueError: a count below 1, or lanes not one of :data:`Lanes`.

    >>> Parallelism(processes=2).process_count(large=False)
    2
    >>> Parallelism(lanes="thread").start is in_thread
    True
    """

    processes: int | None = None
    threads: int | None = None
    lanes: Lanes = "auto"

    def __post_init__(self) -> None:
        for name in ("processes", "threads"):
            n = getattr(self, name)
            if n is not None and n < 1:
                raise ValueError(f"{name} must be at least 1, got {n}")
        if self.lanes not in ("auto", "fork", "thread", "serial"):
            raise ValueError(f"lanes must be auto, fork, thread or serial, got {self.lanes!r}")

    @classmethod
    def of_jobs(cls, jobs: int | None, lanes: Lanes | None = None) -> Parallelism:
        """What ``--jobs N`` means: N processes and N threads; 1: every step in this process, one after another.

        :param lanes: overrides where the last stages run (``--lanes``).
        """
        if jobs is None:
            return cls(lanes=lanes or "auto")
        return cls(jobs, jobs, lanes or ("serial" if jobs == 1 else "auto"))

    def process_count(self, large: bool) -> int:
        """Worker processes for reading records; ``large``: the records are large enough to gain from them."""
        return self.processes if self.processes is not None else _cores() if large else 1

    def thread_count(self) -> int:
        """Threads for the SHACL checks."""
        return self.threads if self.threads is not None else _cores()

    @property
    def start(self) -> Callable[[Callable[[], T]], Work[T]]:
        """How to start a last stage: :func:`at_once`, :func:`in_child` or :func:`in_thread`.

        ``"auto"`` decides when asked, by the memory free then: two copies (the pictures; the answers and the
        synthesis).
        """
        if self.lanes == "serial":
            return at_once
        if self.lanes == "fork" or (self.lanes == "auto" and room_to_fork(2)):
            return in_child
        return in_thread


def _cores() -> int:
    return os.cpu_count() or 1


class Work(Future[T]):
    """Work started beside this process: a Future whose :meth:`stop` also ends work that already runs."""

    def __init__(self, kill: Callable[[], None] | None = None):
        super().__init__()
        self._kill = kill

    def stop(self) -> None:
        """Stop the work if it still runs (so that it writes nothing more) and wait until it has ended.

        A thread cannot be stopped: this waits until it has finished, so it too writes nothing more.
        """
        if not self.done() and self._kill is not None:
            self._kill()
        wait_for([self])


def at_once(work: Callable[[], T]) -> Work[T]:
    """``work`` done now, in this process."""
    done: Work[T] = Work()
    try:
        done.set_result(work())
    except Exception as exc:  # noqa: BLE001 - raised again by result(), as a child's error is
        done.set_exception(exc)
    return done


def in_thread(work: Callable[[], T]) -> Work[T]:
    """Start ``work`` in a thread of this process; its result or error comes back through ``result()``."""
    return _settled_in_thread(Work(), work, "ipvkg-beside")


def _settled_in_thread(running: Work[T], produce: Callable[[], T], name: str) -> Work[T]:
    """Run ``produce`` in a thread and settle ``running`` with its value or its error, whatever it raises
    (so that no caller is left waiting for a future nothing will set)."""

    def run() -> None:
        try:
            running.set_result(produce())
        except BaseException as exc:  # noqa: BLE001 - raised again by result()
            running.set_exception(exc)

    threading.Thread(target=run, name=name, daemon=True).start()
    return running


def in_child(work: Callable[[], T]) -> Work[T]:
    """Start ``work`` in a forked copy of this process (at once where there is no fork).

    Forked, not spawned: ``work`` (which may hold the store, which cannot be pickled) is inherited, not sent.
    Its result or error comes back pickled; a child that dies (killed, out of memory) is an error. The child
    dies with the parent and never returns into the caller's code (no cleanup of the parent's files).
    """
    if "fork" not in multiprocessing.get_all_start_methods():
        return at_once(work)
    context = multiprocessing.get_context("fork")
    reader, writer = context.Pipe(duplex=False)
    child = context.Process(target=_run_child, args=(work, writer), name="ipvkg-beside", daemon=True)
    child.start()
    writer.close()

    def collect() -> T:
        try:
            kind, value = reader.recv()  # before join: a large result must not block the child on a full pipe
        except EOFError:
            kind, value = None, None
        finally:
            reader.close()
        child.join()
        if kind == "ok":
            return value
        if kind == "error":
            raise value
        code = child.exitcode or 0
        how = f"signal {-code}" if code < 0 else f"exit status {code}"
        raise IpvkgError(f"a worker process died ({how}) before it finished; if it ran out of memory, try --jobs 1")

    return _settled_in_thread(Work(kill=child.kill), collect, "ipvkg-collect")


def _run_child(work: Callable[[], Any], writer: Connection) -> None:
    _die_with_parent(signal.SIGKILL)
    message: tuple[str, Any]
    try:
        message = ("ok", work())
    except BaseException as exc:  # noqa: BLE001 - every error goes back to the parent
        message = ("error", exc)
    try:
        writer.send(message)
    except Exception:  # an unpicklable result or error: its text is enough
        writer.send(("error", IpvkgError(f"{type(message[1]).__name__}: {message[1]}")))
    writer.close()


def in_new_process(module: str, request: object) -> Work[Any]:
    """Start ``python -m module`` in a fresh interpreter, ``request`` as JSON on its standard input.

    Its standard output (JSON) is the result; a non-zero exit is an error carrying its last line of
    standard error. Unlike a fork it shares no memory with this process, so neither copies the other's
    pages; it imports ``module`` from the same ipvkg this process runs, installed or not.
    """
    package_root = str(Path(__file__).resolve().parents[2])
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])),
        IPVKG_PARENT_PID=str(os.getpid()),
    )
    process = subprocess.Popen(
        [sys.executable, "-m", module], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    stdin, process.stdin = process.stdin, None  # communicate() later reads the outputs only
    assert stdin is not None
    with stdin:  # read at once by the child: no deadlock on a full pipe
        stdin.write(json.dumps(request).encode())

    def collect() -> Any:
        out, err = process.communicate()
        code = process.returncode
        if code == 0:
            try:
                return json.loads(out)
            except ValueError as exc:
                raise IpvkgError(f"a worker process wrote something that is not JSON: {exc}") from None
        how = f"signal {-code}" if code < 0 else f"exit status {code}"
        last = err.decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
        raise IpvkgError(f"a worker process died ({how}) before it finished: {last[0]}")

    return _settled_in_thread(Work(kill=process.kill), collect, "ipvkg-collect")


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
