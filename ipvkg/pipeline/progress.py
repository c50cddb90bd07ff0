"""Progress bars for long build stages, drawn by tqdm on stderr, and only when stderr is a terminal.

A bar appears only after ``delay`` seconds, so fast stages (the shipped data) print nothing, and it is never
drawn into logs, pipes or CI output. ``IPVKG_PROGRESS=0`` turns it off; ``=1`` forces it on.

>>> into = io.StringIO()  # not a terminal: no bar
>>> with stage("validating", total=3, stream=into) as bar:
...     _ = bar.update(1); _ = bar.update(2)
>>> into.getvalue()
''
"""

from __future__ import annotations

import io  # noqa: F401  (used by the doctest)
import os
import sys
import threading
from contextlib import contextmanager
from typing import IO, Iterator

from tqdm import tqdm


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


@contextmanager
def stage(
    label: str,
    total: int | None = None,
    *,
    unit: str = "",
    delay: float = 1.0,
    stream: IO[str] | None = None,
    tick: bool = False,
) -> Iterator[tqdm]:
    """A bar for one build stage: ``with stage("reading records", n, unit=" files") as bar: bar.update(k)``.

    :param total: the amount of work, or None for a counter.
    :param unit: what is counted (e.g. ``" files"``).
    :param delay: seconds before the bar is first drawn.
    :param stream: where to draw (default stderr).
    :param tick: redraw the elapsed time twice a second, for a stage that is one long call (loading a store).
    """
    stream = stream if stream is not None else sys.stderr
    bar = tqdm(
        total=total,
        desc=label,
        unit=unit.strip() or "it",
        delay=delay,
        file=stream,
        leave=False,
        disable=not enabled(stream),
        dynamic_ncols=True,
        bar_format="{desc}: {elapsed}" if total is None and tick else None,
    )
    stop = threading.Event()

    def redraw() -> None:
        if not stop.wait(delay):
            while not stop.wait(0.5):
                bar.refresh()

    ticker = threading.Thread(target=redraw, daemon=True) if tick and not bar.disable else None
    if ticker:
        ticker.start()
    try:
        yield bar
    finally:
        stop.set()
        if ticker:
            ticker.join()
        bar.close()
