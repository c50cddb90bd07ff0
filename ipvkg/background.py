"""Work done beside the main process: in a forked child, in a thread, or at once.

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

import os
import pickle
import signal
import threading
from typing import Callable, Generic, TypeVar

from .errors import IpvkgError

T = TypeVar("T")


class Pending(Generic[T]):
    """Work started somewhere: ``result()`` waits for it (re-raising its error), ``cancel()`` stops it."""

    def __init__(self, pid: int | None = None, read_end: int | None = None, value: T | None = None,
                 error: BaseException | None = None):
        self._pid, self._read_end, self._value, self._error = pid, read_end, value, error
        self._thread: threading.Thread | None = None  # set by in_thread

    def result(self) -> T:
        if self._pid is not None:
            self._collect()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]

    def cancel(self) -> None:
        """Stop the child if it still runs (so that it writes nothing more), and reap it.

        A thread cannot be stopped: this waits until it has finished, so it too writes nothing more.
        """
        if self._thread is not None:
            self._thread.join()
            self._thread = None
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


def room_to_fork(children: int = 2) -> bool:
    """Is there memory for ``children`` forked copies of this process? (Linux /proc; elsewhere assume so.)

    A forked Python process soon copies many of the pages it shares (reference counts, reused heap
    pages): at 10,000 studies two children took about their parent's size again. Where that does not
    fit, the work is better done in this process.
    """
    try:
        with open("/proc/self/statm", "rb") as fh:
            resident = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        with open("/proc/meminfo", "rb") as fh:
            available = next(int(line.split()[1]) * 1024 for line in fh if line.startswith(b"MemAvailable:"))
    except (OSError, ValueError, IndexError, StopIteration):
        return True
    return resident * children < available


def _die_with_parent(sig: int) -> None:
    """Linux: have the kernel send ``sig`` to this process when its parent dies (prctl PR_SET_PDEATHSIG)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, sig, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
