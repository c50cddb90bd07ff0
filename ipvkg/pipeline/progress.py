"""A tiny progress bar for long build stages: drawn on stderr only when stderr is a terminal.

No dependency (tqdm would do, but ipvkg needs one line of text and nothing else). A bar appears
only after ``delay`` seconds, so fast stages (the shipped data) print nothing, and it is never
drawn into logs, pipes or CI output. ``IPVKG_PROGRESS=0`` turns it off; ``=1`` forces it on.

>>> with Progress("validating", total=3, stream=io.StringIO()) as bar:
...     bar.update(); bar.update(2)
>>> bar.done
3
"""

from __future__ import annotations

import io  # noqa: F401  (used by the doctest)
import os
import sys
import threading
import time
from typing import IO


def enabled(stream: IO[str] | None = None) -> bool:
    """Whether bars are drawn: IPVKG_PROGRESS=1/0 decides, else only on a terminal."""
    forced = os.environ.get("IPVKG_PROGRESS")
    if forced in ("0", "1"):
        return forced == "1"
    stream = stream if stream is not None else sys.stderr
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    """``with Progress("loading records", total=n) as bar: ... bar.update(k)``; total None = a counter."""

    def __init__(self, label: str, total: int | None = None, *, unit: str = "", delay: float = 1.0,
                 stream: IO[str] | None = None, width: int = 28, tick: bool = False):
        self.label, self.total, self.unit, self.delay, self.width = label, total, unit, delay, width
        self.stream = stream if stream is not None else sys.stderr
        self.show = enabled(self.stream)
        self.done = 0
        self.start = time.monotonic()
        self._last_draw = 0.0
        self._drawn = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        # tick: redraw the elapsed time from a thread, for stages that are one long call (loading a store)
        self._ticker = threading.Thread(target=self._tick, daemon=True) if tick and self.show else None

    def __enter__(self) -> "Progress":
        if self._ticker:
            self._ticker.start()
        return self

    def _tick(self) -> None:
        while not self._stop.wait(0.25):
            if time.monotonic() - self.start >= self.delay:
                self._draw(time.monotonic())

    def update(self, n: int = 1) -> None:
        self.done += n
        if not self.show:
            return
        now = time.monotonic()
        if now - self.start >= self.delay and now - self._last_draw >= 0.1:
            self._draw(now)

    def set_label(self, label: str) -> None:
        self.label = label

    def _draw(self, now: float) -> None:
        with self._lock:
            self._draw_locked(now)

    def _draw_locked(self, now: float) -> None:
        elapsed = now - self.start
        if self.total:
            frac = min(1.0, self.done / self.total)
            filled = int(frac * self.width)
            bar = "#" * filled + "-" * (self.width - filled)
            text = f"\r{self.label} [{bar}] {self.done}/{self.total}{self.unit} {elapsed:5.1f}s"
        else:
            text = f"\r{self.label}: {self.done}{self.unit} {elapsed:5.1f}s"
        self.stream.write(text + "\x1b[K")
        self.stream.flush()
        self._last_draw = now
        self._drawn = True

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._ticker:
            self._ticker.join()
        if self._drawn:  # clear the line so the next output starts clean
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def stage(label: str, total: int | None = None, **kwargs) -> Progress:
    """A bar for one build stage (the name reads well at call sites: ``with stage("validating", n) as bar``)."""
    return Progress(label, total, **kwargs)
