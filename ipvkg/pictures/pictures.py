"""The pictures: the intervention network and the evidence-and-gap map, as files for papers (PNG, SVG), for
other tools (GraphML, GEXF, node-link JSON, CSV) and for people (one self-contained HTML page each).

``ipvkg build`` calls :func:`write_pictures`; ``ipvkg network`` and ``ipvkg gapmap`` call
:func:`picture_files` on any store.

All data comes from the graph through a few aggregate SPARQL queries (:func:`ipvkg.pictures.network.load_evidence`);
the work grows with the number of findings, never with one query per node. The intervention layer of the
network is drawn only up to :data:`ipvkg.pictures.network.DRAW_LIMIT` interventions (the picture says so when it is
left out); the component -> outcome network and the gap map are always drawn.
"""

from __future__ import annotations

import functools
import math
import textwrap
import time
from pathlib import Path
from typing import Callable, Iterable

import matplotlib

matplotlib.use("Agg")  # no display: files only

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import PatchCollection  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import PathPatch  # noqa: E402
from matplotlib.path import Path as MPath  # noqa: E402

from .network import (
    COLOUR_MEANING,
    COMPARATOR_COLOUR,
    DRAW_LIMIT,
    EXPORT_LIMIT,  # noqa: E402
    Evidence,
    Layout,
    PicturesError,
    layered_layout,
    load_evidence,
    network,
    share_colour,
    write_gexf,
    write_graphml,
    write_node_link,
)
from ..base.output import OutputFolder, Staging  # noqa: E402
from ..questions.queries import run_question  # noqa: E402
from ..questions.kept import open_store  # noqa: E402
from ..store.store import GraphStore, ResultTable, SparqlEndpointStore  # noqa: E402
from .gapmap import draw_gapmap, gap_matrix, write_csv  # noqa: E402
from .html import gapmap_page, network_page  # noqa: E402
from .style import _n, empty_picture, save_figure, share_colourbar, shorten, styled, text_width  # noqa: E402

NETWORK_FORMATS = ("graphml", "gexf", "json", "png", "svg", "html")
GAPMAP_FORMATS = ("png", "svg", "html", "csv")


def intervention_caption(study: str, label: str) -> str:
    return f"{study}: {label}" if study else label


def omitted_note(n_interventions: int, limit: int = DRAW_LIMIT) -> str:
    return (
        f"Intervention layer omitted: {n_interventions:,} interventions, more than the {limit:,} that can be "
        "drawn legibly; components and outcomes are shown (`ipvkg query network_edges` lists every intervention)."
    )


# --------------------------------------------------------------------------------------------- network picture
def draw_network(g, layout: Layout, outputs: dict[str, Path], note: str = "") -> None:
    """Draw the layered network to each of ``outputs`` ({"png": path, "svg": path}).

    Node colour = share of studies whose findings favour the intervention (70 % rule), a dark ring where some study
    favours the comparator; node area = number of studies; component -> outcome edge width = number of studies,
    colour = the same share; intervention -> component edges in grey.
    """
    if not layout.kinds:
        empty_picture("Interventions, their components and outcomes", outputs)
        return
    ncol = len(layout.kinds)
    three = ncol == 3
    dense = layout.rows > 120  # hundreds of interventions: smaller rows, still legible
    row_h = 0.165 if dense else 0.235
    small = 6.5 if dense else 7.5
    note_lines = textwrap.wrap(note, 150) if note else []
    top, bottom = 1.3, 1.75 + 0.2 * len(note_lines)
    body = max(layout.rows, 4) * row_h
    height = top + body + bottom
    max_n = max([d["n_studies"] for _, d in g.nodes(data=True)] + [1])
    max_e = max([d["weight"] for *_, d in g.edges(data=True) if d["kind"] == "tested_on"] + [1])

    def area(n: int) -> float:  # points^2; area proportional to studies
        return 14 + 230 * n / max_n

    def radius_in(n: int) -> float:
        return math.sqrt(area(n) / math.pi) / 72

    def lw(n: int) -> float:
        return 0.6 + 4.4 * (n - 1) / (max_e - 1) if max_e > 1 else 2.0

    def alpha(n: int) -> float:  # one-study lines recede, well-studied links stand out
        return 0.5 + 0.4 * (n - 1) / (max_e - 1) if max_e > 1 else 0.75

    # column places from the widths of the labels they carry, so nothing overlaps and little is wasted
    label_chars = {"intervention": 70, "component": 36, "outcome": 44}
    texts: dict[str, list[float]] = {"intervention": [], "component": [], "outcome": []}
    for _, d in g.nodes(data=True):
        t = intervention_caption(d.get("study", ""), d["label"]) if d["kind"] == "intervention" else d["label"]
        texts[d["kind"]].append(
            text_width(shorten(t, label_chars[d["kind"]]), small if d["kind"] == "intervention" else 8.5)
        )
    heads: dict[str, list[float]] = {"intervention": [], "outcome": []}
    for col, heading, *_ in layout.headers:
        kind = layout.kinds[col]
        size = small if kind == "intervention" else 7.5
        heads[kind].append(text_width(_heading_text(kind, heading), size, bold=True))
    rmax = radius_in(max_n)
    margin = 0.3
    widest = {k: max(texts[k] + heads.get(k, []) + [0.5]) for k in texts}
    widest["outcome"] = max(widest["outcome"], text_width(COLUMN_TITLES["outcome"], 10, bold=True) + 0.1)
    xs: list[float] = []
    x = margin
    for kind in layout.kinds:
        if kind == "intervention":
            x += widest["intervention"] + 0.1 + rmax
        elif kind == "component":
            x = x + max(2.3, widest["component"] + 1.1) if xs else x + widest["component"] + 0.1 + rmax
        else:
            x += 2.9
        xs.append(x)
    width = xs[-1] + (0.1 + rmax + widest["outcome"] if layout.kinds[-1] == "outcome" else rmax) + margin
    if width < 10.5:  # room for the title and legend: centre the drawing
        xs = [v + (10.5 - width) / 2 for v in xs]
        width = 10.5
    xs_in = xs
    with styled():
        fig = plt.figure(figsize=(width, height))
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, width)
        ax.set_ylim(height, 0)  # inches, from the top
        ax.set_axis_off()

        def y_of(row: float) -> float:
            return top + (row + 0.5) * row_h + (body - layout.rows * row_h) / 2

        xy = {n: (xs_in[c], y_of(r)) for n, (c, r) in layout.pos.items()}

        # edges: light ones first so heavy ones lie on top; each kind one collection (one patch per edge
        # took 0.45 s of the drawing at 10,000 studies)
        grey: list[PathPatch] = []
        tested: list[PathPatch] = []
        tested_colours: list[tuple[float, float, float, float]] = []
        tested_widths: list[float] = []
        for a, b, d in sorted(g.edges(data=True), key=lambda e: (e[2]["kind"] == "tested_on", e[2]["weight"])):
            (x0, y0), (x1, y1) = xy[a], xy[b]
            x0 += radius_in(g.nodes[a]["n_studies"])
            x1 -= radius_in(g.nodes[b]["n_studies"])
            mid = (x0 + x1) / 2
            path = MPath(
                [(x0, y0), (mid, y0), (mid, y1), (x1, y1)], [MPath.MOVETO, MPath.CURVE4, MPath.CURVE4, MPath.CURVE4]
            )
            if d["kind"] == "has_component":
                grey.append(PathPatch(path))
            else:
                tested.append(PathPatch(path))
                tested_colours.append(to_rgba(share_colour(d.get("share_favouring")), alpha(d["weight"])))
                tested_widths.append(lw(d["weight"]))
        ax.add_collection(
            PatchCollection(grey, facecolors="none", edgecolors=[to_rgba("#bdbdbd", 0.9)], linewidths=0.7, zorder=1),
            autolim=False,
        )
        ax.add_collection(
            PatchCollection(
                tested,
                facecolors="none",
                edgecolors=tested_colours,
                linewidths=tested_widths,
                zorder=2,
                capstyle="butt",
            ),
            autolim=False,
        )

        nodes = list(g.nodes(data=True))
        ax.scatter(
            [xy[n][0] for n, _ in nodes],
            [xy[n][1] for n, _ in nodes],
            s=[area(d["n_studies"]) for _, d in nodes],
            c=[share_colour(d.get("share_favouring")) for _, d in nodes],
            # a study favouring the comparator: a thick dark ring of its own, not a shade of the scale
            edgecolors=[COMPARATOR_COLOUR if d.get("n_studies_against") else "#222222" for _, d in nodes],
            linewidths=[1.8 if d.get("n_studies_against") else 0.6 for _, d in nodes],
            zorder=4,
        )

        for n, d in nodes:
            x, y = xy[n]
            pad = radius_in(d["n_studies"]) + 0.06
            col = layout.pos[n][0]
            kind = d["kind"]
            if kind == "intervention":
                ax.text(
                    x - pad,
                    y,
                    shorten(intervention_caption(d.get("study", ""), d["label"]), 70),
                    ha="right",
                    va="center",
                    fontsize=small,
                    zorder=5,
                )
            elif kind == "component":
                if col == 0:
                    ax.text(x - pad, y, shorten(d["label"], 36), ha="right", va="center", fontsize=8.5, zorder=5)
                else:
                    ax.text(
                        x - pad,
                        y,
                        shorten(d["label"], 36),
                        ha="right",
                        va="center",
                        fontsize=8.5,
                        zorder=5,
                        bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.85),
                    )
            else:
                ax.text(x + pad, y, shorten(d["label"], 44), ha="left", va="center", fontsize=8.5, zorder=5)

        for col, heading, first, _last in layout.headers:
            x = xs_in[col]
            y = y_of(first - 1) + 0.02
            kind = layout.kinds[col]
            ax.text(
                x - 0.08 if kind == "outcome" else x + 0.08,
                y,
                _heading_text(kind, heading),
                ha="left" if kind == "outcome" else "right",
                va="center",
                fontsize=small if kind == "intervention" else 7.5,
                fontweight="bold",
                color="#333333",
            )

        names = COLUMN_TITLES
        for col, kind in enumerate(layout.kinds):
            ha = (
                "right"
                if (kind == "intervention" or (kind == "component" and col == 0))
                else ("center" if kind == "component" else "left")
            )
            ax.text(
                xs_in[col] + (0.1 if ha == "left" else 0),
                top - 0.12,
                names[kind],
                ha=ha,
                va="bottom",
                fontsize=10,
                fontweight="bold",
            )

        gs = g.graph
        title = (
            "Interventions, their components and the outcomes they were tested on"
            if three
            else "Intervention components and the outcomes they were tested on"
        )
        fig.text(0.2 / width, 1 - 0.3 / height, title, fontsize=14, fontweight="bold", ha="left", va="center")
        fig.text(
            0.2 / width,
            1 - 0.62 / height,
            f"{_n(gs.get('n_studies', 0), 'study')}, {_n(gs.get('n_interventions', 0), 'intervention')}, "
            f"{_n(gs.get('n_findings', 0), 'finding')}. Colour: {COLOUR_MEANING}; dark ring: some "
            "study favours the comparator; size and line width: number of studies.",
            fontsize=9,
            ha="left",
            va="center",
            color="#333333",
        )

        _network_legend(fig, width, height, max_n, max_e, area, lw, three, lift=0.2 * len(note_lines))
        if note_lines:
            fig.text(
                0.3 / width,
                0.2 / height,
                "\n".join(note_lines),
                fontsize=8.5,
                ha="left",
                va="bottom",
                color="#8a1c1c",
                style="italic",
            )
        save_figure(fig, outputs)


COLUMN_TITLES = {
    "intervention": "Interventions (by inferred review group)",
    "component": "Components",
    "outcome": "Outcomes (by domain)",
}


def _heading_text(kind: str, heading: str) -> str:
    if kind == "outcome":
        return shorten(heading, 40).upper()
    return shorten(heading.replace(" intervention", ""), 78)


def _nice_counts(max_n: int) -> list[int]:
    """Up to three round numbers of studies for a size legend.

    >>> _nice_counts(1), _nice_counts(7), _nice_counts(240)
    ([1], [1, 3, 7], [1, 100, 240])
    """
    if max_n <= 1:
        return [1]
    mid = max_n // 2
    if mid >= 10:
        mag = 10 ** int(math.log10(mid))
        mid = max(1, round(mid / mag) * mag)
    return sorted({1, mid, max_n})


def _network_legend(fig, width, height, max_n, max_e, area, lw, three: bool, lift: float = 0.0) -> None:
    y0 = (0.72 + lift) / height
    # colour bar: share improved
    cax = fig.add_axes((0.3 / width, y0 + 0.32 / height, 2.6 / width, 0.14 / height))
    share_colourbar(cax, "horizontal")
    fig.text(
        0.3 / width,
        y0 + 0.56 / height,
        f"Colour: {COLOUR_MEANING}".replace(" favour ", "\nfavour "),
        fontsize=8.5,
        fontweight="bold",
        ha="left",
        va="bottom",
    )
    fig.text(
        0.3 / width,
        y0 - 0.18 / height,
        "Each study once, one direction by the 70 % rule; no clear difference,"
        " conflicting and unclear are pale.\nDark ring: some study favours the comparator.",
        fontsize=7,
        ha="left",
        va="top",
        color="#444444",
    )

    lax = fig.add_axes((3.4 / width, y0 - 0.2 / height, (width - 3.6) / width, 0.95 / height))
    lax.set_axis_off()
    handles = [
        lax.scatter([], [], s=area(n), c="#bdbdbd", edgecolors="#222222", linewidths=0.6) for n in _nice_counts(max_n)
    ]
    labels = [_n(n, "study") for n in _nice_counts(max_n)]
    first = lax.legend(
        handles,
        labels,
        title="Node size: studies",
        loc="upper left",
        ncol=len(handles),
        frameon=False,
        fontsize=7.5,
        title_fontproperties={"weight": "bold", "size": 8.5},
        borderaxespad=0,
        columnspacing=1.2,
        handletextpad=0.4,
        scatterpoints=1,
    )
    lax.add_artist(first)
    ecounts = _nice_counts(max_e)
    ehandles = [Line2D([], [], color="#555555", lw=lw(n)) for n in ecounts]
    elabels = [_n(n, "study") for n in ecounts]
    if three:
        ehandles.append(Line2D([], [], color="#bdbdbd", lw=0.7))
        elabels.append("intervention has component")
    lax.legend(
        ehandles,
        elabels,
        title="Component \u2192 outcome line: studies",
        loc="upper left",
        bbox_to_anchor=(0.42 if three else 0.5, 1.0),
        ncol=len(ehandles),
        frameon=False,
        fontsize=7.5,
        title_fontproperties={"weight": "bold", "size": 8.5},
        borderaxespad=0,
        handlelength=2.2,
        columnspacing=1.2,
    )


# --------------------------------------------------------------------------------------------- writing
def network_files(
    ev: Evidence,
    formats: Iterable[str],
    path: Callable[[str], Path],
    draw_limit: int = DRAW_LIMIT,
    export_limit: int = EXPORT_LIMIT,
) -> list[str]:
    """Write the network in ``formats``; ``path(name)`` gives where each file goes. Returns notes to show."""

    formats = list(formats)
    n_int = len({f.intervention for f in ev.facts})
    notes: list[str] = []
    exporting = any(f in formats for f in ("graphml", "gexf", "json"))
    drawing = any(f in formats for f in ("png", "svg", "html"))
    export_g = draw_g = None
    if exporting:
        export_g = network(ev, interventions=n_int <= export_limit)
        if n_int > export_limit:
            export_g.graph["intervention_layer"] = f"omitted: {n_int} interventions (more than {export_limit})"
            notes.append(f"network exports: intervention layer left out ({n_int:,} interventions > {export_limit:,})")
        else:
            export_g.graph["intervention_layer"] = "included"
    if drawing:
        reuse = export_g is not None and (n_int <= draw_limit or n_int > export_limit)
        draw_g = export_g if reuse else network(ev, interventions=n_int <= draw_limit, lists=False)
    note = "" if n_int <= draw_limit else omitted_note(n_int, draw_limit)
    if note and drawing:
        notes.append(note)
    layout = layered_layout(draw_g) if draw_g is not None else None
    if "graphml" in formats:
        write_graphml(export_g, path("network.graphml"))
    if "gexf" in formats:
        export_layout = layout if export_g is draw_g and layout else layered_layout(export_g)
        write_gexf(
            export_g, path("network.gexf"), {n: (c * 400.0, -r * 20.0) for n, (c, r) in export_layout.pos.items()}
        )
    if "json" in formats:
        write_node_link(export_g, path("network.json"))
    drawn: dict[str, Path] = {fmt: path(f"network.{fmt}") for fmt in ("png", "svg") if fmt in formats}
    if layout is not None:  # png, svg or html asked for
        if drawn:
            draw_network(draw_g, layout, drawn, note)
        if "html" in formats:
            path("network.html").write_text(network_page(ev, draw_g, layout, note), encoding="utf-8")
    return notes


def gapmap_files(ev: Evidence, formats: Iterable[str], path: Callable[[str], Path]) -> None:
    """Write the evidence-and-gap map in ``formats`` (png, svg, html, csv)."""
    formats = list(formats)
    gm = gap_matrix(ev)
    if "csv" in formats:
        write_csv(gm, path("gapmap.csv"))
    drawn: dict[str, Path] = {fmt: path(f"gapmap.{fmt}") for fmt in ("png", "svg") if fmt in formats}
    if drawn:
        draw_gapmap(gm, drawn)
    if "html" in formats:
        path("gapmap.html").write_text(gapmap_page(ev, gm), encoding="utf-8")


#: asks the pictures' questions; a graph without findings still gets its (empty) pictures
ask_for_pictures = functools.partial(run_question, require_graph=False)


def write_pictures(
    store: GraphStore, staging: OutputFolder, ask: Callable[..., ResultTable] = ask_for_pictures
) -> dict[str, float]:
    """Write every picture of the build into ``staging``; returns seconds per stage.

    ``ask`` answers the network's questions (a build's keeps the answers: ``queries.keeping_answers``).
    """
    timings: dict[str, float] = {}
    t = time.perf_counter()
    ev = load_evidence(store, ask)
    timings["queries"] = time.perf_counter() - t
    t = time.perf_counter()
    network_files(ev, NETWORK_FORMATS, staging.path)
    timings["network"] = time.perf_counter() - t
    t = time.perf_counter()
    gapmap_files(ev, GAPMAP_FORMATS, staging.path)
    timings["gapmap"] = time.perf_counter() - t
    return timings


# --------------------------------------------------------------------------------------------- commands
def evidence_from(store_selector: str | None, graph: str | None = None) -> Evidence:
    """The evidence behind the pictures, from any store (a selector as ``--store`` takes; None: ``memory:build``).

    :raises PicturesError: the store holds no findings (and, for an endpoint, where its graphs are).
    """
    store = open_store(store_selector, graph=graph)
    try:
        ev = load_evidence(store, ask_for_pictures)
        # an endpoint may hold the graph elsewhere: say where (its named graphs), not only that it is empty
        missing = store.missing_graph() if not ev.facts and isinstance(store, SparqlEndpointStore) else None
    finally:
        store.close()
    if missing:
        raise PicturesError(missing)
    if not ev.facts:
        where = store_selector or "memory:build"
        raise PicturesError(
            f"{where} holds no findings to draw; run `ipvkg build` first, or point --store at a "
            "built graph (memory:DIR, oxigraph:DIR or sparql:URL)"
        )
    return ev


#: what ``ipvkg network`` and ``ipvkg gapmap`` draw: kind -> (its formats, the writer)
PICTURE_KINDS = {"network": (NETWORK_FORMATS, "network_files"), "gapmap": (GAPMAP_FORMATS, "gapmap_files")}


def picture_files(
    kind: str, store: str | None, out: Path | str, formats: Iterable[str] | None = None, graph: str | None = None
) -> tuple[list[str], list[Path]]:
    """Draw the network or the gap map of a store into ``out`` as a whole (never half-written).

    :param kind: ``network`` (GraphML, GEXF, JSON, PNG, SVG, HTML) or ``gapmap`` (PNG, SVG, HTML, CSV).
    :param store: a store selector (None: ``memory:build``).
    :param formats: the formats to write (default: all of the kind's).
    :param graph: the named graph to read on an endpoint.
    :returns: the notes to tell the user, and the files written.
    :raises PicturesError: nothing to draw, or ``out`` cannot be written.
    """
    all_formats, writer_name = PICTURE_KINDS[kind]
    chosen = list(dict.fromkeys(formats or all_formats))
    ev = evidence_from(store, graph)
    out = Path(out)
    writer = globals()[writer_name]
    try:
        with Staging(out) as staging:
            notes = writer(ev, chosen, staging.path)
            written = sorted(out / p.relative_to(staging.dir) for p in staging.dir.rglob("*") if p.is_file())
    except OSError as exc:
        raise PicturesError(
            f"cannot write the pictures to {out}: {exc.strerror or exc}; give --out a writable directory"
        ) from None
    return list(notes or []), written
