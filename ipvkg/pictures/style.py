"""The settings every picture is drawn with, and the pieces of text and layout the pictures share.

Fixed settings, so that the same graph always gives byte-identical pictures; every picture drawn under one lock.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import matplotlib

matplotlib.use("Agg")  # no display: files only

import matplotlib.pyplot as plt  # noqa: E402

from .network import SHARE_COLOURS, SHARE_SCALE, colour_table  # noqa: E402

if TYPE_CHECKING:  # matplotlib's names of its settings and types, for the annotations only
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.transforms import Bbox
    from matplotlib.typing import RcKeyType

#: Fixed settings so that the same graph always gives byte-identical pictures.
RC: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",  # text stays text in the SVG: searchable, editable in a vector editor
    "svg.hashsalt": "ipvkg",  # stable element ids
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "path.simplify": False,
}
PNG_META = {"Software": None}
SVG_META = {"Date": None, "Creator": None}
DPI = 200
#: zlib level of the PNG files: faster to write than Pillow's default (6) for slightly larger files (bench/README,
#: Decisions)
PNG_COMPRESSION = 3

# matplotlib's rcParams and pyplot's figure list are process-wide: two lanes drawing at once (a threaded build)
# would mix each other's settings, so every picture is drawn under one lock.
_DRAWING = threading.Lock()


@contextmanager
def styled():
    """Draw one picture with :data:`RC`, alone in the process (see ``_DRAWING``)."""
    with _DRAWING, matplotlib.rc_context(RC):
        yield


def share_colourbar(cax, orientation: Literal["vertical", "horizontal"]):
    """A colour bar of :data:`ipvkg.pictures.network.SHARE_SCALE`'s bins (0 % alone, then quarters), in percent."""
    import matplotlib.colorbar as mcb
    from matplotlib.colors import BoundaryNorm, ListedColormap

    bounds = [-0.1] + [bound for bound, _ in SHARE_SCALE]  # 0 % is a bin of its own
    cb = mcb.ColorbarBase(
        cax,
        cmap=ListedColormap(SHARE_COLOURS),
        norm=BoundaryNorm(bounds, len(SHARE_COLOURS)),
        orientation=orientation,
        spacing="uniform",
    )
    cb.set_ticks([(a + b) / 2 for a, b in zip(bounds, bounds[1:])])
    cb.set_ticklabels([entry["label"] for entry in colour_table()])
    cb.ax.tick_params(labelsize=7, length=0)
    cb.outline.set_linewidth(0.5)
    return cb


def _n(n: int, word: str) -> str:
    """``n`` and the word, plural when needed.

    >>> _n(1, "study"), _n(3, "study"), _n(1200, "finding")
    ('1 study', '3 studies', '1,200 findings')
    """
    if n == 1:
        return f"{n:,} {word}"
    return f"{n:,} {word[:-1]}ies" if word.endswith("y") else f"{n:,} {word}s"


_T2P = None


def text_width(text: str, size: float, bold: bool = False) -> float:
    """The width in inches of ``text`` set in DejaVu Sans at ``size`` points (for laying out labels)."""
    global _T2P
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    _T2P = _T2P or TextToPath()
    prop = FontProperties(family="DejaVu Sans", size=size, weight="bold" if bold else "normal")
    return _T2P.get_text_width_height_descent(text, prop, ismath=False)[0] / 72


def shorten(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters with an ellipsis.

    >>> shorten("Empowerment training specially designed for women", 24)
    'Empowerment training sp…'
    """
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "\u2026"


def save_figure(fig: Figure, outputs: dict[str, Path], tight: bool = False) -> None:
    """Write ``fig`` to each file of ``outputs`` (format -> path: ``png``, ``svg``) with the fixed settings, and close
    it.

    :param tight: crop the page to what is drawn (``bbox_inches="tight"``), the box worked out once for all
        formats (matplotlib would lay the figure out again for each file).
    """
    bbox: Bbox | None = None
    if tight:
        renderer = cast("FigureCanvasAgg", fig.canvas).get_renderer()  # Agg: matplotlib.use above
        bbox = fig.get_tightbbox(renderer).padded(matplotlib.rcParams["savefig.pad_inches"])
    for fmt, path in outputs.items():
        extra: dict[str, Any] = {"pil_kwargs": {"compress_level": PNG_COMPRESSION}} if fmt == "png" else {}
        fig.savefig(
            path, format=fmt, dpi=DPI, metadata=PNG_META if fmt == "png" else SVG_META, bbox_inches=bbox, **extra
        )
    plt.close(fig)


def empty_picture(title: str, outputs: dict[str, Path]) -> None:
    """A picture that says there is nothing to draw (a graph without findings, or without the ontology)."""
    with styled():
        fig = plt.figure(figsize=(8, 2.5))
        fig.text(0.04, 0.75, title, fontsize=14, fontweight="bold", ha="left")
        fig.text(
            0.04,
            0.4,
            "No findings to draw: the graph holds no ipv:Finding with an outcome under ipv:Outcome\n"
            "(is the ontology graph loaded?).",
            fontsize=10,
            ha="left",
            color="#8a1c1c",
        )
        save_figure(fig, outputs)
