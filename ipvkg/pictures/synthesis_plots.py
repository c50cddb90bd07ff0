"""Pictures of the synthesis: the effect direction plot (Thomson & Thomas 2013) and a forest plot per pooled estimate.

Drawn from a :class:`ipvkg.questions.synthesis.Synthesis` (no query of their own), PNG + SVG, byte-identical for
the same graph (the settings of :mod:`ipvkg.pictures.pictures`), and ``synthesis.html``: the table, the studies of
each cell and the pictures in one offline page without scripts. One colour rule, :data:`DIRECTION_STYLE`: favouring the
intervention blue, favouring the comparator red, conflicting purple, unclear grey, so that a study without a clear
difference is never drawn in harm's colour.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Callable

import matplotlib

matplotlib.use("Agg")  # no display: files only

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from .style import save_figure, shorten, styled  # noqa: E402
from ..questions.synthesis import (
    RULES,
    PooledOutcome,
    StudyInCell,
    Synthesis,
    SynthesisRow,  # noqa: E402
    synthesis_records,
)

#: study direction -> (marker, colour, words for the legend); the one colour rule of the synthesis pictures
DIRECTION_STYLE = {
    "intervention": ("^", "#2166ac", "favours the intervention"),
    "comparator": ("v", "#b2182b", "favours the comparator"),
    "conflicting": ("D", "#7b3294", "conflicting (no side reaches 70 %)"),
    "unclear": ("o", "#9e9e9e", "unclear (the abstract does not say a side)"),
}
#: sample size bands (Thomson & Thomas 2013 scale symbols by sample size): upper bound -> marker size in points
SIZE_BANDS = ((100, 5.0), (300, 7.5), (None, 10.0))
UNKNOWN_SIZE = 4.0
#: rows of the effect direction plot drawn at most (about 25 inches of rows; the title says how many are left out,
#: synthesis.csv has them all): more is no picture a reader reads, and each row costs drawing time in every build
MAX_PLOT_ROWS = 150
#: forest plots drawn at most (the pooled estimates with most studies first)
MAX_FOREST_PLOTS = 40
#: study entries listed in synthesis.html at most (the same bound as the other pages' panels); above it the
#: page says so and synthesis.json holds them
PAGE_STUDY_LIMIT = 5000


def marker_size(sample_size: int | None) -> float:
    """The marker size for a study's sample size (its band in :data:`SIZE_BANDS`).

    >>> marker_size(None), marker_size(40), marker_size(150), marker_size(2000)
    (4.0, 5.0, 7.5, 10.0)
    """
    if sample_size is None:
        return UNKNOWN_SIZE
    for upper, size in SIZE_BANDS:
        if upper is None or sample_size < upper:
            return size
    return SIZE_BANDS[-1][1]


def draw_effect_direction_plot(synthesis: Synthesis, outputs: dict[str, Path]) -> None:
    """Rows: studies grouped by component; columns: outcome domains; a marker per study and domain.

    Marker shape and colour say the study-level direction (:data:`DIRECTION_STYLE`), size the sample size, a
    filled marker an RCT (hollow: another design), and the row label gives the risk of bias when recorded.

    :param synthesis: the table to draw.
    :param outputs: format (png, svg) -> file.
    """
    domains = sorted({r.domain for r in synthesis.rows})
    rows: list[tuple[str, str]] = []  # (component, study label) in drawing order
    cells: dict[tuple[str, str], dict[str, StudyInCell]] = {}  # row -> outcome domain -> the study there
    risk_of_bias: dict[tuple[str, str], str | None] = {}
    for r in synthesis.rows:
        for s in r.studies:
            key = (r.component, s.label)
            if key not in cells:
                cells[key] = {}
                risk_of_bias[key] = s.risk_of_bias
                rows.append(key)
            cells[key][r.domain] = s
    rows.sort()
    shown = rows[:MAX_PLOT_ROWS]
    with styled():
        height = 1.6 + 0.17 * max(1, len(shown))
        fig, ax = plt.subplots(figsize=(3.2 + 0.45 * max(1, len(domains)), height))
        # one line object per style, not per marker: a few dozen artists however many studies
        points: dict[tuple[str, bool, float], tuple[list[int], list[int]]] = {}
        for y, key in enumerate(shown):
            for x, domain in enumerate(domains):
                study = cells[key].get(domain)
                if study is not None:
                    style = (study.direction, study.rct, marker_size(study.sample_size))
                    xs, ys = points.setdefault(style, ([], []))
                    xs.append(x)
                    ys.append(y)
        for (direction, rct, size), (xs, ys) in sorted(points.items()):
            marker, colour, _ = DIRECTION_STYLE[direction]
            ax.plot(
                xs,
                ys,
                marker=marker,
                markersize=size,
                markerfacecolor=colour if rct else "white",
                markeredgecolor=colour,
                markeredgewidth=1.2,
                linestyle="none",
            )
        labels, previous = [], None
        for component, label in shown:
            rob = risk_of_bias[(component, label)]
            text = f"{shorten(component, 28) if component != previous else ''}   {label}"
            labels.append(text + (f" (RoB: {rob})" if rob else ""))
            previous = component
        ax.set_yticks(range(len(shown)), labels, fontsize=6.5)
        ax.set_xticks(
            range(len(domains)),
            [shorten(d, 26) for d in domains],
            rotation=60,
            ha="left",
            fontsize=7,
            rotation_mode="anchor",
        )
        ax.set_xlim(-0.6, len(domains) - 0.4)
        ax.set_ylim(len(shown) - 0.5, -0.5)
        ax.grid(True, color="#eeeeee", linewidth=0.5)
        ax.set_axisbelow(True)
        ax.xaxis.tick_top()
        title = "Effect direction plot: one marker per study and outcome domain (Thomson & Thomas 2013)"
        if len(rows) > len(shown):
            title += f"\nfirst {len(shown)} of {len(rows)} study x component rows drawn; all in synthesis.csv"
        ax.set_title(title, fontsize=9, loc="left", pad=70)
        handles = [
            Line2D([], [], marker=m, color=c, markerfacecolor=c, linestyle="none", label=words)
            for m, c, words in DIRECTION_STYLE.values()
        ]
        handles += [
            Line2D(
                [],
                [],
                marker="o",
                color="#555555",
                markerfacecolor="#555555",
                linestyle="none",
                label="filled: RCT (incl. cluster RCT)",
            ),
            Line2D(
                [],
                [],
                marker="o",
                color="#555555",
                markerfacecolor="white",
                linestyle="none",
                label="hollow: other design",
            ),
        ]
        handles += [
            Line2D(
                [],
                [],
                marker="o",
                color="#555555",
                markerfacecolor="white",
                linestyle="none",
                markersize=size,
                label=f"n < {upper}" if upper else f"n >= {SIZE_BANDS[-2][0]}",
            )
            for upper, size in SIZE_BANDS
        ]
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                color="#555555",
                markerfacecolor="white",
                linestyle="none",
                markersize=UNKNOWN_SIZE,
                label="sample size not recorded",
            )
        )
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.02, 1.0),
            fontsize=7,
            frameon=False,
            title="study direction, 70 % rule",
            title_fontsize=7.5,
        )
        save_figure(fig, outputs, tight=True)


def forest_name(row: SynthesisRow, pooled: PooledOutcome) -> str:
    """The file stem of a forest plot: ``forest-<component>-<outcome>-<estimate type>``.

    >>> from ipvkg.questions.synthesis import PooledEstimate, DirectionCounts
    >>> p = PooledOutcome("IPV recurrence", "odds ratio", False, None, (), (), PooledEstimate(1, 1, 1, 0, 0, 2, "log"))
    >>> forest_name(SynthesisRow("safety planning", "IPV recurrence", (), DirectionCounts(0, 0, 0, 0), 0, None,
    ...                          None, None, (p,)), p)
    'forest-safety-planning-ipv-recurrence-odds-ratio'
    """
    parts = [row.component, pooled.outcome, pooled.estimate_type] + ([pooled.instrument] if pooled.instrument else [])
    return "forest-" + "-".join(re.sub(r"[^a-z0-9]+", "-", p.lower()).strip("-") for p in parts)


def draw_forest_plot(
    row: SynthesisRow, pooled: PooledOutcome, labels: dict[str, str], outputs: dict[str, Path]
) -> None:
    """Each study's estimate with its 95 % CI and the random-effects pooled estimate (a diamond), on a log axis
    for ratios.

    :param row: the cell the estimate pools.
    :param pooled: the pooled estimate and its inputs.
    :param labels: record key -> study label.
    :param outputs: format (png, svg) -> file.
    """
    p = pooled.pooled
    null = 1.0 if p.scale == "log" else 0.0
    n = len(pooled.studies)
    with styled():
        fig, ax = plt.subplots(figsize=(6.5, 1.5 + 0.3 * (n + 1)))
        for y, (key, (est, low, high)) in enumerate(zip(pooled.studies, pooled.inputs)):
            ax.plot([low, high], [y, y], color="#333333", linewidth=1)
            ax.plot([est], [y], marker="s", color="#333333", markersize=5)
        y_pooled = n + 0.5
        ax.fill(
            [p.ci_lower, p.estimate, p.ci_upper, p.estimate],
            [y_pooled, y_pooled - 0.25, y_pooled, y_pooled + 0.25],
            color="#2166ac",
        )
        ax.axvline(null, color="#888888", linewidth=0.8, linestyle="--")
        if p.scale == "log":
            ax.set_xscale("log")
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.set_yticks(list(range(n)) + [y_pooled], [labels.get(k, k) for k in pooled.studies] + ["random effects (DL)"])
        ax.set_ylim(y_pooled + 0.8, -0.8)
        better = "higher" if pooled.higher_is_better else "lower"
        ax.set_xlabel(f"{pooled.estimate_type} ({better} favours the intervention); 95 % CI")
        on = f" ({pooled.instrument})" if pooled.instrument else ""
        ax.set_title(
            f"{row.component}: {pooled.outcome}{on}\npooled {p.estimate:.2f} [{p.ci_lower:.2f}, "
            f"{p.ci_upper:.2f}], tau\u00b2 {p.tau2:.3f}, I\u00b2 {100 * p.i2:.0f} %, {n} studies",
            fontsize=9,
            loc="left",
        )
        save_figure(fig, outputs, tight=True)


def write_synthesis_pictures(synthesis: Synthesis, path: Callable[[str], Path]) -> list[str]:
    """Write effect_direction.png/.svg and a forest plot per pooled estimate; returns the file stems written.

    :param synthesis: the build's synthesis table.
    :param path: file name -> where to write it (the build's staging folder).
    """
    draw_effect_direction_plot(synthesis, {fmt: path(f"effect_direction.{fmt}") for fmt in ("png", "svg")})
    labels = {s.study: s.label for r in synthesis.rows for s in r.studies}
    pools = sorted(
        ((r, p) for r in synthesis.rows for p in r.pooled), key=lambda rp: (-len(rp[1].studies), forest_name(*rp))
    )
    stems = ["effect_direction"]
    for row, pooled in pools[:MAX_FOREST_PLOTS]:
        stem = forest_name(row, pooled)
        draw_forest_plot(row, pooled, labels, {fmt: path(f"{stem}.{fmt}") for fmt in ("png", "svg")})
        stems.append(stem)
    svgs = {stem: path(f"{stem}.svg").read_text(encoding="utf-8") for stem in stems}
    path("synthesis.html").write_text(synthesis_page(synthesis, svgs), encoding="utf-8")
    return stems


def _inline_svg(svg: str) -> str:
    """An SVG file's ``<svg>`` element, to sit inside an HTML page (matplotlib escapes the text it writes)."""
    start = svg.find("<svg")
    if start < 0:
        raise ValueError("not an SVG file: no <svg> element")
    return svg[start:]


def synthesis_page(synthesis: Synthesis, svgs: dict[str, str]) -> str:
    """``synthesis.html``: the synthesis table, each cell's studies with their direction, and the pictures.

    One file, no script, nothing loaded: every value from the data is escaped.

    :param synthesis: the table.
    :param svgs: file stem -> SVG text (``effect_direction`` first, then the forest plots).
    """
    e = html.escape
    listed = sum(len(r.studies) for r in synthesis.rows)
    lists = listed <= PAGE_STUDY_LIMIT
    head = (
        "component",
        "outcome domain",
        "studies",
        "favour",
        "against",
        "conflicting",
        "unclear",
        "RCTs",
        "% favouring [95% CI]",
        "sign test p",
        "pooled (random effects)",
    )
    rows = []
    for r, rec in zip(synthesis.rows, synthesis_records(synthesis)):
        share = (
            ""
            if rec["proportion_favouring"] is None
            else f"{100 * rec['proportion_favouring']:.0f} [{100 * rec['proportion_ci_lower']:.0f}, "
            f"{100 * rec['proportion_ci_upper']:.0f}]"
        )
        p = "" if rec["sign_test_p"] is None else f"{rec['sign_test_p']:.3f}"
        values = [
            rec["component"],
            rec["outcome_domain"],
            rec["studies"],
            rec["favouring"],
            rec["against"],
            rec["conflicting"],
            rec["unclear"],
            rec["rcts"],
            share,
            p,
            rec["pooled"],
        ]
        cells = "".join(f"<td>{e(str(v))}</td>" for v in values)
        rows.append(f'<tr class="cell">{cells}</tr>')
        if lists:
            studies = "".join(
                f'<li data-direction="{e(s.direction)}">{e(s.label)}: {e(DIRECTION_STYLE[s.direction][2])}'
                f" ({s.findings} finding{'' if s.findings == 1 else 's'}"
                f"{'; ' + e(s.design) if s.design else ''}{'; n = ' + str(s.sample_size) if s.sample_size else ''}"
                f"{'; risk of bias ' + e(s.risk_of_bias) if s.risk_of_bias else ''})</li>"
                for s in r.studies
            )
            rows.append(
                f'<tr class="studies"><td colspan="{len(head)}"><details><summary>{len(r.studies)} '
                f"stud{'y' if len(r.studies) == 1 else 'ies'}</summary><ul>{studies}</ul></details>"
                "</td></tr>"
            )
    left_out = (
        ""
        if lists
        else f'<p class="left-out">The studies of each cell ({listed:,} entries) are not listed above '
        f"{PAGE_STUDY_LIMIT:,}; synthesis.json holds them.</p>"
    )
    pictures = "".join(f'<figure id="{e(stem)}">{_inline_svg(svg)}</figure>' for stem, svg in svgs.items())
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        "<title>ipvkg synthesis</title><style>"
        "body{font-family:sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;font-size:13px}"
        "th,td{border-bottom:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}"
        "tr.studies td{border-bottom:1px solid #bbb;font-size:12px}figure{margin:1.5em 0}svg{max-width:100%;"
        "height:auto}</style></head><body>"
        f'<h1>Synthesis by direction of effect</h1><p id="describe">{e(synthesis.describe())}; '
        f"{len(synthesis.rows)} component x outcome domain rows.</p><p>How: {e(RULES)}. No GRADE; findings read "
        "from abstracts.</p>"
        f"<table><thead><tr>{''.join(f'<th>{e(h)}</th>' for h in head)}</tr></thead><tbody>{''.join(rows)}"
        f"</tbody></table>{left_out}{pictures}</body></html>\n"
    )
