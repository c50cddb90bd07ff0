"""The evidence-and-gap map: intervention components (rows) by outcome domains (columns).

Each cell counts the studies that tested an intervention with that component (or a narrower one: a broader
component's row includes its narrower components, e.g. psychotherapy includes CBT) on an outcome in that
domain, each study once, and is coloured by the share of those studies whose findings there favour the
intervention, each study given one direction by the synthesis's rule (:func:`ipvkg.questions.synthesis.study_direction`,
70 %); studies favouring the comparator are marked apart. A cell without studies is a gap.
Rows are every component of the ontology and columns every outcome domain (the direct subclasses of
ipv:Outcome), so components and domains nobody has studied show as whole rows or columns of gaps.

>>> from ipvkg.pictures.network import Evidence
>>> gap_matrix(Evidence.empty()).cells
{}
"""

from __future__ import annotations

import csv
import io
import textwrap
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .network import (
    COLOUR_MEANING,
    COMPARATOR_COLOUR,
    COMPARATOR_MARK,
    MARK_MEANING,
    Evidence,
    Fact,
    Tally,
    share_colour,
    text_colour,
)
from .style import _n, empty_picture, save_figure, share_colourbar, shorten, styled


@dataclass(frozen=True)
class Row:
    iri: str
    label: str
    depth: int  # 0 = a top-level component, 1 = a kind of a top-level one, ...
    narrower: bool  # has narrower components (its row includes theirs)


@dataclass
class GapMap:
    rows: list[Row]
    columns: list[tuple[str, str]]  # (domain IRI, label)
    cells: dict[tuple[int, int], Tally] = field(default_factory=dict)
    row_totals: dict[int, Tally] = field(default_factory=dict)
    column_totals: dict[int, Tally] = field(default_factory=dict)
    total: Tally = field(default_factory=Tally)
    rows_of: dict[str, list[int]] = field(default_factory=dict)  # intervention -> the row indices it counts in
    columns_of: dict[str, list[int]] = field(default_factory=dict)  # outcome -> the column indices it counts in

    def cell(self, r: int, c: int) -> Tally | None:
        return self.cells.get((r, c))

    def tally(
        self, facts: Iterable[Fact]
    ) -> tuple[dict[tuple[int, int], Tally], dict[int, Tally], dict[int, Tally], Tally]:
        """The cells, row totals, column totals and grand total of this map's rows and columns over ``facts``."""
        cells: dict[tuple[int, int], Tally] = defaultdict(Tally)
        row_totals: dict[int, Tally] = defaultdict(Tally)
        column_totals: dict[int, Tally] = defaultdict(Tally)
        total = Tally()
        for f in facts:
            cols = self.columns_of.get(f.outcome, ())
            if not cols:
                continue
            rws = self.rows_of.get(f.intervention, ())
            total.add(f)
            for i in rws:
                row_totals[i].add(f)
            for j in cols:
                column_totals[j].add(f)
            for cell in self.fact_cells(f):
                cells[cell].add(f)
        return dict(cells), dict(row_totals), dict(column_totals), total

    def fact_cells(self, fact: Fact) -> list[tuple[int, int]]:
        """The (row, column) cells one fact counts in: each row of its components, each column of its outcome."""
        rws = self.rows_of.get(fact.intervention, ())
        return [(i, j) for j in self.columns_of.get(fact.outcome, ()) for i in rws]

    @property
    def gaps(self) -> int:
        return len(self.rows) * len(self.columns) - len(self.cells)


def gap_matrix(ev: Evidence) -> GapMap:
    """Count studies and findings per component row and outcome-domain column (a broader row includes its
    narrower components; a finding counts once per row even when an intervention has two of its components)."""
    children: dict[str | None, list[str]] = defaultdict(list)
    for iri, c in ev.components.items():
        parents = [b for b in c.broader if b in ev.components]
        children[parents[0] if parents else None].append(iri)
    rows_of: dict[str, set[str]] = {}  # intervention -> the row IRIs its components fall in
    for inv in ev.interventions.values():
        rows_of[inv.iri] = {a for c in inv.components for a in ev.ancestors(c)}

    # studies per row (any outcome), to order rows by how much evidence they hold
    row_studies: dict[str, set[str]] = defaultdict(set)
    for f in ev.facts:
        for r in rows_of.get(f.intervention, ()):
            row_studies[r].add(f.study)

    def order(iris: list[str]) -> list[str]:
        return sorted(iris, key=lambda i: (-len(row_studies.get(i, ())), ev.components[i].label.lower(), i))

    rows: list[Row] = []
    seen: set[str] = set()

    def walk(iri: str, depth: int) -> None:
        if iri in seen:
            return
        seen.add(iri)
        rows.append(Row(iri, ev.components[iri].label, depth, bool(children.get(iri))))
        for child in order(children.get(iri, [])):
            walk(child, depth + 1)

    for top in order(children.get(None, [])):
        walk(top, 0)
    for iri in order([i for i in ev.components if i not in seen]):  # cycles: still shown
        walk(iri, 0)

    domain_studies: dict[str, set[str]] = defaultdict(set)
    for f in ev.facts:
        o = ev.outcomes.get(f.outcome)
        for d in o.domains if o else ():
            domain_studies[d].add(f.study)
    columns = sorted(ev.domains.items(), key=lambda d: (-len(domain_studies.get(d[0], ())), d[1].lower(), d[0]))

    gm = GapMap(rows, columns)
    rindex = {r.iri: i for i, r in enumerate(rows)}
    cindex = {iri: j for j, (iri, _) in enumerate(columns)}
    # indices worked out once per intervention and outcome, not once per fact (400,000 facts at scale)
    rows_idx = {i: [rindex[r] for r in rs if r in rindex] for i, rs in rows_of.items()}
    cols_idx = {o: [cindex[d] for d in out.domains if d in cindex] for o, out in ev.outcomes.items()}
    gm.rows_of, gm.columns_of = rows_idx, cols_idx
    gm.cells, gm.row_totals, gm.column_totals, gm.total = gm.tally(ev.facts)
    return gm


def cell_paint(t: Tally) -> tuple[str, str, int]:
    """A cell's fill (:func:`ipvkg.pictures.network.share_colour` of its share of studies favouring the
    intervention), the colour of its count, and how many of its studies favour the comparator (drawn as a mark)."""
    fill = share_colour(t.share_favouring)
    return fill, text_colour(fill), t.direction_counts.against


def csv_text(gm: GapMap) -> str:
    """The matrix as CSV: one row per component, one column per outcome domain, cells = number of studies
    (0 = a gap), then the studies of the row over all domains."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["component", "broader_component_row"] + [label for _, label in gm.columns] + ["any_domain"])
    for i, r in enumerate(gm.rows):
        cells = [(gm.cells[(i, j)].n_studies if (i, j) in gm.cells else 0) for j in range(len(gm.columns))]
        total = gm.row_totals.get(i)
        w.writerow([r.label, "yes" if r.narrower else "no"] + cells + [total.n_studies if total else 0])
    w.writerow(
        ["any component", ""]
        + [(gm.column_totals[j].n_studies if j in gm.column_totals else 0) for j in range(len(gm.columns))]
        + [gm.total.n_studies]
    )
    return buf.getvalue()


def write_csv(gm: GapMap, path: Path) -> None:
    path.write_text(csv_text(gm), encoding="utf-8")


def draw_gapmap(gm: GapMap, outputs: dict[str, Path]) -> None:
    """Draw the map to each of ``outputs`` ({"png": path, "svg": path}) with matplotlib."""
    import matplotlib.pyplot as plt
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Patch, Rectangle

    nr, nc = len(gm.rows), len(gm.columns)
    if not nr or not nc:
        empty_picture("Evidence-and-gap map", outputs)
        return
    cell = 0.44  # inches
    label_w = 3.0  # row labels
    head_h = 2.0  # rotated column labels
    top = 0.95  # title and subtitle
    right = 2.4  # totals column, colour bar
    bottom = 0.95
    width = max(label_w + (nc + 1) * cell + right, 8.5)
    height = top + head_h + (nr + 1.3) * cell + bottom
    with styled():
        fig = plt.figure(figsize=(width, height))
        ax = fig.add_axes((label_w / width, bottom / height, (nc + 1) * cell / width, (nr + 1.3) * cell / height))
        ax.set_xlim(0, nc + 1)
        ax.set_ylim(nr + 1.3, 0)
        ax.set_axis_off()
        inset = 0.05
        # the cells as two collections: one artist each (adding 1,000 patches one by one took 0.6 s)
        cells: list[Rectangle] = []
        colours: list[str] = []
        gaps: list[Rectangle] = []
        for i, row in enumerate(gm.rows):
            if row.depth == 0 and i:
                ax.plot([-label_w / cell + 0.1, nc], [i, i], color="#d9d9d9", lw=0.6, zorder=0, clip_on=False)
            for j in range(nc):
                t = gm.cell(i, j)
                x, y = j + inset, i + inset
                size = 1 - 2 * inset
                if t is None:
                    gaps.append(Rectangle((x, y), size, size))
                    continue
                colour, ink, against = cell_paint(t)
                cells.append(Rectangle((x, y), size, size))
                colours.append(colour)
                ax.text(
                    j + 0.5,
                    i + (0.42 if against else 0.52),
                    str(t.n_studies),
                    ha="center",
                    va="center",
                    fontsize=8.5,
                    fontweight="bold",
                    color=ink,
                    zorder=2,
                    gid=f"studies-{i}-{j}",
                )
                if against:  # studies favouring the comparator: a mark of their own, not a shade
                    ax.text(
                        j + 0.5,
                        i + 0.8,
                        f"{COMPARATOR_MARK}{against}",
                        ha="center",
                        va="center",
                        fontsize=6,
                        fontweight="bold",
                        color=ink if ink == "#ffffff" else COMPARATOR_COLOUR,
                        zorder=2,
                        gid=f"against-{i}-{j}",
                    )
            total = gm.row_totals.get(i)
            ax.text(
                nc + 0.5,
                i + 0.52,
                str(total.n_studies) if total else "0",
                ha="center",
                va="center",
                fontsize=8,
                color="#444444",
            )
            indent = 0.22 * row.depth / cell
            ax.text(
                -label_w / cell + 0.15 + indent,
                i + 0.52,
                shorten(row.label, 40 - 3 * row.depth),
                ha="left",
                va="center",
                fontsize=8.5,
                fontweight="bold" if row.narrower else "normal",
                color="#111111" if row.depth == 0 else "#444444",
                clip_on=False,
            )
        ax.add_collection(PatchCollection(cells, facecolors=colours, edgecolors="none", zorder=1, gid="cells"))
        ax.add_collection(PatchCollection(gaps, facecolor="#f5f5f5", edgecolor="#c8c8c8", hatch="////", lw=0, zorder=1))
        # totals row
        ty = nr + 0.3
        ax.plot([-label_w / cell + 0.1, nc + 1], [nr + 0.15, nr + 0.15], color="#888888", lw=0.8, clip_on=False)
        ax.text(
            -label_w / cell + 0.15,
            ty + 0.5,
            "Any component (studies)",
            ha="left",
            va="center",
            fontsize=8.5,
            style="italic",
            clip_on=False,
        )
        for j in range(nc):
            t = gm.column_totals.get(j)
            ax.text(
                j + 0.5, ty + 0.5, str(t.n_studies) if t else "0", ha="center", va="center", fontsize=8, color="#444444"
            )
        ax.text(
            nc + 0.5,
            ty + 0.5,
            str(gm.total.n_studies),
            ha="center",
            va="center",
            fontsize=8,
            fontweight="bold",
            color="#222222",
        )
        for j, (_, label) in enumerate(gm.columns):
            ax.text(
                j + 0.5,
                -0.15,
                shorten(label, 34),
                rotation=55,
                ha="left",
                va="bottom",
                rotation_mode="anchor",
                fontsize=8.5,
                clip_on=False,
            )
        ax.text(
            nc + 0.5,
            -0.15,
            "Any domain (studies)",
            rotation=55,
            ha="left",
            va="bottom",
            rotation_mode="anchor",
            fontsize=8.5,
            style="italic",
            clip_on=False,
        )

        fig.text(
            0.25 / width,
            1 - 0.3 / height,
            "Evidence-and-gap map: intervention components \u00d7 outcome domains",
            fontsize=14,
            fontweight="bold",
            ha="left",
            va="center",
        )
        fig.text(
            0.25 / width,
            1 - 0.7 / height,
            f"{_n(gm.total.n_studies, 'study')}, {_n(gm.total.n_findings, 'finding')}. Number: studies, "
            "each once; hatched: no study (a gap). Bold rows include their indented narrower components.\n"
            f"Colour: {COLOUR_MEANING}; {MARK_MEANING}.",
            fontsize=8.5,
            ha="left",
            va="center",
            color="#333333",
            linespacing=1.4,
        )

        cx = (label_w + (nc + 1) * cell + 0.45) / width
        grid_top = bottom + (nr + 1.3) * cell
        bar_h = min(3.2, (nr + 1.3) * cell * 0.6)
        cax = fig.add_axes((cx, (grid_top - bar_h) / height, 0.16 / width, bar_h / height))
        cb = share_colourbar(cax, "vertical")
        cb.set_label("Share of studies favouring\nthe intervention (70 % rule)", fontsize=8.5)
        lax = fig.add_axes((cx - 0.1 / width, (grid_top - bar_h - 0.9) / height, 1.9 / width, 0.5 / height))
        lax.set_axis_off()
        lax.legend(
            [Patch(facecolor="#f5f5f5", edgecolor="#c8c8c8", hatch="////", lw=0)],
            ["no study (gap)"],
            loc="center left",
            frameon=False,
            fontsize=8,
            handlelength=1.6,
            handleheight=1.6,
        )
        fig.text(
            cx - 0.05 / width,
            (grid_top - bar_h - 1.3) / height,
            MARK_MEANING.replace(" favour", "\nfavour"),
            fontsize=8,
            color=COMPARATOR_COLOUR,
            ha="left",
            va="center",
        )
        fig.text(
            0.25 / width,
            0.35 / height,
            textwrap.fill(
                "A study counts once in a cell when it tested an intervention with the component on an outcome of "
                "the domain; it favours a side when at least 70 % of its findings there favour that side "
                "(Thomson & Thomas 2013), else it is conflicting or unclear (pale, never a colour of harm).",
                int(width * 15),
            ),
            fontsize=7.5,
            ha="left",
            va="center",
            color="#555555",
        )
        save_figure(fig, outputs)
