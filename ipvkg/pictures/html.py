"""Interactive pages: the network and the evidence-and-gap map, each ONE self-contained HTML file.

No library, no CDN, no request of any kind: plain JavaScript draws inline SVG (network) or an HTML table (gap
map) from data embedded in the page. The pages work offline and from ``file://``. The style and the scripts are
files beside the package (``ipvkg/page/``: ``page.css``, ``common.js``, ``network.js``, ``gapmap.js``, read through
:mod:`ipvkg.base.assets`) and are inlined into each page. The colour and counting rules are not in them: Python works
out each study's direction and the colour table and hands them to the page as data (:func:`study_slices`).

Safety: every label comes from data, so

* the data is embedded as JSON in ``<script type="application/json">`` with ``<``, ``>`` and ``&`` written
  as ``\\u003c``, ``\\u003e``, ``\\u0026`` (a title cannot close the script element);
* the script renders with ``createElement`` / ``textContent`` / ``setAttribute`` only, never ``innerHTML``;
* links are made only by :func:`ipvkg.pictures.network.study_link` (PubMed, https://doi.org/10. or an http(s) page
  read) and the page sets only http(s) addresses as hrefs;
* a Content-Security-Policy allows only this page's own script and style (by hash) and no connection,
  image or frame, so even markup that slipped through could neither run nor load anything.

>>> safe_json({"t": "</script><img src=x onerror=alert(1)>&"})
'{"t":"\\\\u003c/script\\\\u003e\\\\u003cimg src=x onerror=alert(1)\\\\u003e\\\\u0026"}'
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any, Callable

import networkx as nx

from ..base.assets import asset_dir
from .network import (
    COLOUR_MEANING,
    COMPARATOR_COLOUR,
    COMPARATOR_MARK,
    DETAIL_LIMIT,
    DIRECTIONS,
    FACETS,
    MARK_MEANING,
    STUDY_DIRECTION_WORDS,
    STUDY_DIRECTIONS,
    Evidence,
    Fact,
    Layout,
    colour_table,
    direction_of_sides,
    fact_places,
)
from .style import text_width

STUDY_LIST_LIMIT = 400  # studies listed at once in the side panel


def _page_file(name: str) -> str:
    return (asset_dir("page") / name).read_text(encoding="utf-8")


CSS = _page_file("page.css")
COMMON_JS = _page_file("common.js")
NETWORK_JS = _page_file("network.js")
GAPMAP_JS = _page_file("gapmap.js")
# Above DETAIL_LIMIT studies the pages leave out the citation lines, the secondary reports, the findings' details
# and (unless drawn) the intervention names, to keep each file near 150 bytes per study; labels, titles, years,
# designs and the main-report links stay.


def safe_json(data: Any) -> str:
    """JSON that can sit inside a <script> element: no '<', '>' or '&' characters, no line separators."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def evidence_payload(ev: Evidence, intervention_labels: bool | None = None) -> dict[str, Any]:
    """The evidence as compact arrays (indices instead of IRIs): what both pages filter and count.

    Studies are ``[label, title, year, design index, citation, link address, link text, secondary reports,
    sample size, facets]`` (the link of :func:`ipvkg.pictures.network.study_link`; each secondary report
    ``[role, address, text]``; facets: for each of :data:`ipvkg.pictures.network.FACETS` the indices of its values
    in ``facets``);
    designs ``[label, indices of itself and its broader designs]``; interventions ``[name, study, group index,
    component indices]``; facts ``[study, intervention, outcome, direction, findings, side favoured]``; details
    (one per finding
    that records an estimate, CI, p-value, instrument or time point) ``[study, intervention, outcome, direction,
    text]``.
    """
    facts_studies = {f.study for f in ev.facts}
    detailed = len(facts_studies) <= DETAIL_LIMIT
    intervention_labels = detailed if intervention_labels is None else intervention_labels
    key = ("payload", intervention_labels)
    if key not in ev.cache:  # both pages embed the same data: work it out once
        ev.cache[key] = _payload(ev, facts_studies, detailed, intervention_labels)
    data = dict(ev.cache[key])
    data["_index"] = dict(data["_index"])
    return data


def _design_label(ev: Evidence, design: str) -> str:
    d = ev.designs.get(design)
    if d:
        return d.label
    return next((s.design_label for s in ev.studies.values() if s.design == design and s.design_label), design)


def _payload(ev: Evidence, facts_studies: set[str], detailed: bool, intervention_labels: bool) -> dict[str, Any]:
    study_ids = sorted(facts_studies, key=lambda s: (ev.study_label(s).lower(), s))
    sidx = {s: i for i, s in enumerate(study_ids)}
    # every design a study has and every broader one, so that the RCT filter keeps the cluster RCTs (as
    # the questions' within_design does)
    used = {st.design for st in (ev.studies[s] for s in study_ids if s in ev.studies) if st.design}
    design_ids = sorted(
        {a for d in used for a in ev.design_ancestors(d)}, key=lambda d: (_design_label(ev, d).lower(), d)
    )
    didx = {d: i for i, d in enumerate(design_ids)}
    designs = [[_design_label(ev, d), [didx[a] for a in ev.design_ancestors(d)]] for d in design_ids]
    facet_values = {
        k: sorted(
            {v for s in study_ids for v in ev.facets.get(s, {}).get(k, ())}
            | (set(ev.risk_of_bias_levels) if k == "risk_of_bias" else set()),
            key=str.lower,
        )
        for k in FACETS
    }
    fidx = {k: {v: i for i, v in enumerate(vs)} for k, vs in facet_values.items()}
    studies: list[list[object]] = []  # one JSON array per study
    for s in study_ids:
        st = ev.studies.get(s)
        facets: list[list[int]] = [[fidx[k][v] for v in ev.facets.get(s, {}).get(k, ())] for k in FACETS]
        if st is None:
            studies.append([ev.study_label(s), "", None, -1, "", None, None, [], None, facets])
            continue
        studies.append(
            [
                st.label,
                st.title,
                st.year,
                didx.get(st.design, -1) if st.design else -1,
                st.citation if detailed else "",
                st.link.href if st.link else None,
                st.link.text if st.link else None,
                [[x.role, x.link.href if x.link else None, x.link.text if x.link else ""] for x in st.secondary]
                if detailed
                else [],
                st.sample_size,
                facets,
            ]
        )
    domains = list(ev.domains.items())
    domidx = {iri: i for i, (iri, _) in enumerate(domains)}
    outcome_ids = sorted(ev.outcomes, key=lambda o: (ev.outcome_label(o).lower(), o))
    oidx = {o: i for i, o in enumerate(outcome_ids)}
    comp_ids = sorted(ev.components, key=lambda c: (ev.component_label(c).lower(), c))
    cidx = {c: i for i, c in enumerate(comp_ids)}
    groups = list(ev.groups.items())
    gidx = {n: i for i, (n, _) in enumerate(groups)}
    inv_ids = sorted(
        {f.intervention for f in ev.facts},
        key=lambda i: (ev.study_label(ev.interventions[i].study).lower(), ev.interventions[i].label, i),
    )
    iidx = {i: k for k, i in enumerate(inv_ids)}
    interventions = []
    for i in inv_ids:
        inv = ev.interventions[i]
        interventions.append(
            [
                inv.label if intervention_labels else "",
                sidx.get(inv.study, -1),
                gidx.get(inv.group, -1) if inv.group is not None else -1,
                [cidx[c] for c in inv.components if c in cidx],
            ]
        )
    facts = [
        [sidx[f.study], iidx[f.intervention], oidx[f.outcome], f.direction, f.findings, f.favours] for f in ev.facts
    ]
    details = [
        [sidx[x.study], iidx[x.intervention], oidx[x.outcome], x.direction, x.text]
        for x in ev.details
        if detailed and x.study in sidx and x.intervention in iidx and x.outcome in oidx
    ]
    return {
        "directions": [label for _, label in DIRECTIONS] + ["other"],
        # the colour rule, worked out here once: the page only adds studies up and looks colours up
        "studyDirections": list(STUDY_DIRECTION_WORDS),
        "scale": colour_table(),
        "meaning": COLOUR_MEANING,
        "mark": COMPARATOR_MARK,
        "markMeaning": MARK_MEANING,
        "markColour": COMPARATOR_COLOUR,
        "facetNames": list(FACETS),
        "facets": [facet_values[k] for k in FACETS],
        "designs": designs,
        "groups": [[n, label] for n, label in groups],
        "domains": [label for _, label in domains],
        "outcomes": [
            [ev.outcome_label(o), [domidx[d] for d in ev.outcomes[o].domains if d in domidx]] for o in outcome_ids
        ],
        "components": [[ev.component_label(c), [cidx[a] for a in ev.ancestors(c) if a in cidx]] for c in comp_ids],
        "studies": studies,
        "interventions": interventions,
        "facts": facts,
        "details": details,
        "listLimit": STUDY_LIST_LIMIT,
        # the page says what it leaves out, so that a missing citation is not read as none
        "leftOut": ""
        if detailed
        else (
            f"With more than {DETAIL_LIMIT:,} studies the panels leave out citations, secondary reports and each "
            "finding's estimate, instrument and time point; `ipvkg query effect_estimates` and `ipvkg explain KEY` "
            "give them."
        ),
        "_index": {
            "outcome": oidx,
            "component": cidx,
            "intervention": iidx,
            "domain": domidx,
            "study": sidx,
            "group": gidx,
        },
    }


def study_slices(ev: Evidence, index: dict[str, dict], units_of: Callable[[Fact], Iterable[int]]) -> dict[str, Any]:
    """Each study's direction in each unit of a page (cell, node or line), worked out in Python for every choice
    of the filters that change which of a study's findings a unit holds: review group and outcome.

    The rule is :func:`ipvkg.pictures.network.direction_of_sides`
    (:func:`ipvkg.questions.synthesis.study_direction`, as the pictures and ``ipvkg synthesis`` apply it) and is
    applied here only; the page filters whole studies (design, country,
    population, setting, risk of bias, their direction) and adds them up. A choice is a key ``"group|outcome"`` as
    the page's selects give it (``""`` for all; a group's index or ``-1``; ``o:`` an outcome's index, ``d:`` a
    domain's); its slice is flat ``[unit, study, direction, ...]``, sorted by unit and study, with directions
    indexed as in :data:`ipvkg.pictures.network.STUDY_DIRECTIONS`.

    Every choice's slice is a part of the whole one (key ``"|"``), and a study's direction in a unit changes only
    where the choice keeps some of its findings there and not others, so the slices are handed over as:

    * ``keys``: every choice, sorted;
    * the whole slice's entries: ``units`` (runs ``[unit, entries, ...]``), ``studies`` (each entry's study less the
      one before it in the same unit; the first one's own) and ``directions`` (a digit per entry);
    * ``sets``: for each entry, the index of its set of choices in ``setKeys``;
    * ``setKeys``: each set of choices (indices into ``keys``) an entry is in;
    * ``changed``: for a choice (its index, as a string), flat ``[entry, direction, ...]`` where its direction is
      not the whole slice's, each entry less the one before it (the first less -1).

    :func:`slice_entries` (and ``sliceEntries`` of the page) reads one choice's slice back.

    :param index: the payload's ``_index`` (study, group, outcome and domain indices).
    :param units_of: the units one fact counts in.
    """
    code = {d: i for i, d in enumerate(STUDY_DIRECTIONS)}
    keys_of: list[list[str]] = []  # a group and outcome's number -> the choices that keep its facts
    combo_of: dict[tuple[str, str], int] = {}  # a fact's group and outcome -> its number
    n_studies = max(index["study"].values(), default=0) + 1
    # ((unit * n_studies + study) * the number of combos + combo) -> findings by side, one flat table: most
    # entries have one group and outcome, and one dict lookup a fact and unit is what this loop can afford
    n_combos = (len(index["group"]) + 1) * max(len(index["outcome"]), 1)  # no group or one, times an outcome
    sides_of: dict[int, list[int]] = {}
    for f in ev.facts:
        inv = ev.interventions.get(f.intervention)
        group = str(index["group"][inv.group]) if inv and inv.group is not None else "-1"
        combo = combo_of.get((group, f.outcome))
        if combo is None:
            outcome = ev.outcomes.get(f.outcome)
            outs = ["", f"o:{index['outcome'][f.outcome]}"] + [
                f"d:{index['domain'][d]}" for d in (outcome.domains if outcome else ()) if d in index["domain"]
            ]
            combo = combo_of[(group, f.outcome)] = len(keys_of)
            keys_of.append([f"{g}|{o}" for g in ("", group) for o in outs])
        base = index["study"][f.study] * n_combos + combo
        side, n = f.favours, f.findings
        for u in units_of(f):
            k = u * n_studies * n_combos + base
            sides = sides_of.get(k)
            if sides is None:
                sides = sides_of[k] = [0, 0, 0]
            sides[side] += n
    keys = sorted({k for ks in keys_of for k in ks})
    kidx = {k: i for i, k in enumerate(keys)}
    whole_key = kidx.get("|", -1)  # every entry is in the whole slice (no entries: no key)
    combo_keys = [[kidx[k] for k in ks] for ks in keys_of]
    combo_member = [tuple(sorted(set(ks))) for ks in combo_keys]
    runs: list[int] = []  # unit, how many entries, ...
    studies: list[int] = []  # each entry's study, less the one before it in the same unit
    directions: list[str] = []
    members: list[tuple[int, ...]] = []
    changed: dict[int, list[int]] = defaultdict(list)
    last: dict[int, int] = defaultdict(lambda: -1)  # choice -> its last changed entry
    digit = {d: str(i) for d, i in code.items()}
    ordered = sorted(sides_of)
    prev = 0
    i, end = 0, len(ordered)
    while i < end:
        p = len(members)  # this entry's number
        pair, combo = divmod(ordered[i], n_combos)
        j = i + 1
        while j < end and ordered[j] // n_combos == pair:
            j += 1
        u, s = divmod(pair, n_studies)
        if j == i + 1:  # one group and outcome: every choice that keeps the entry keeps all its findings
            whole = direction_of_sides(*sides_of[ordered[i]])
            member = combo_member[combo]
        else:
            acc: dict[int, list[int]] = {}
            for key in ordered[i:j]:
                sides = sides_of[key]
                for k in combo_keys[key % n_combos]:
                    a = acc.get(k)
                    if a is None:
                        acc[k] = list(sides)
                    else:
                        a[0] += sides[0]
                        a[1] += sides[1]
                        a[2] += sides[2]
            whole = direction_of_sides(*acc[whole_key])
            for k, a in sorted(acc.items()):
                d = direction_of_sides(*a)
                if d != whole:
                    changed[k] += (p - last[k], code[d])
                    last[k] = p
            member = tuple(sorted(acc))
        if runs and runs[-2] == u:
            runs[-1] += 1
            studies.append(s - prev)
        else:
            runs += (u, 1)
            studies.append(s)
        prev = s
        directions.append(digit[whole])
        members.append(member)
        i = j
    # the commonest sets of choices get the shortest numbers
    ranked = {m: i for i, (m, _) in enumerate(Counter(members).most_common())}
    return {
        "keys": keys,
        "units": runs,
        "studies": studies,
        "directions": "".join(directions),
        "sets": [ranked[m] for m in members],
        "setKeys": [list(m) for m in ranked],
        "changed": {str(k): v for k, v in sorted(changed.items())},
    }


def slice_entries(slices: dict[str, Any], key: str) -> list[int]:
    """One choice's slice, flat ``[unit, study, direction, ...]``, read back from :func:`study_slices`' form (as the
    page's ``sliceEntries`` reads it)."""
    whole: list[tuple[int, int, int]] = []
    runs = slices["units"]
    for r in range(0, len(runs), 2):
        s = 0  # the first study of a unit is its own number, the others add to the one before
        for _ in range(runs[r + 1]):
            s += slices["studies"][len(whole)]
            whole.append((runs[r], s, int(slices["directions"][len(whole)])))
    k = slices["keys"].index(key) if key in slices["keys"] else -1
    kept = {i for i, m in enumerate(slices["setKeys"]) if k in m}
    changed = slices["changed"].get(str(k), [])
    direction: dict[int, int] = {}
    p = -1
    for i in range(0, len(changed), 2):
        p += changed[i]
        direction[p] = changed[i + 1]
    out: list[int] = []
    for p, sid in enumerate(slices["sets"]):
        if sid in kept:
            u, s, d = whole[p]
            out += (u, s, direction.get(p, d))
    return out


# The network page's geometry (pixels).
ROW_PX = 24
TOP_PX = 64


def network_page(ev: Evidence, g: nx.DiGraph, layout: Layout, note: str = "") -> str:
    """The interactive network: the drawn graph's nodes at the layout's places, counts recomputed per filter."""
    data = evidence_payload(ev, intervention_labels=True if "intervention" in layout.kinds else None)
    index = data.pop("_index")
    cols, width = _columns_px(g, layout)
    kind_code = {"intervention": 0, "component": 1, "outcome": 2}
    nodes: list[list[float]] = []
    nidx: dict[str, int] = {}
    for n in g.nodes:
        kind = g.nodes[n]["kind"]
        col, row = layout.pos[n]
        ref = index[kind].get(n)
        if ref is None:
            continue
        nidx[n] = len(nodes)
        nodes.append([kind_code[kind], ref, cols[col], round(TOP_PX + (row + 0.5) * ROW_PX, 1)])
    edges = [[nidx[a], nidx[b]] for a, b in g.edges if a in nidx and b in nidx]
    headers = [
        [
            layout.kinds[c],
            text,
            round(TOP_PX + (first - 0.5) * ROW_PX, 1),
            cols[c],
            [nidx[n] for n in layout.columns[layout.kinds[c]] if n in nidx and first <= layout.pos[n][1] <= last],
        ]
        for c, text, first, last in layout.headers
    ]
    eidx = {(a, b): len(nodes) + k for k, (a, b) in enumerate((a, b) for a, b in g.edges if a in nidx and b in nidx)}

    drawn = "intervention" in layout.kinds

    def units(f: Fact) -> list[int]:
        places = fact_places(ev, f, drawn)
        return [u for u in (nidx.get(p) if isinstance(p, str) else eidx.get(p) for p in places) if u is not None]

    data["slices"] = study_slices(ev, index, units)
    data["net"] = {
        "nodes": nodes,
        "edges": edges,
        "headers": headers,
        "width": width,
        "height": round(TOP_PX + (layout.rows + 1) * ROW_PX),
        "kinds": layout.kinds,
        "cols": cols[: len(layout.kinds)],
        "note": note,
    }
    return _page("Intervention network", data, NETWORK_JS)


def _columns_px(g: nx.DiGraph, layout: Layout) -> tuple[list[int], int]:
    """Column x positions (pixels) from the widths of the labels each column carries (12 px text)."""

    def widest(kind: str, chars: int, headings: bool = True) -> float:
        texts = [
            d["label"] if kind != "intervention" else f"{d.get('study', '')}: {d['label']}"
            for _, d in g.nodes(data=True)
            if d["kind"] == kind
        ]
        if headings:
            texts += [t for c, t, *_ in layout.headers if layout.kinds[c] == kind]
        return max([text_width(t[:chars], 9) * 96 for t in texts] + [60])

    if not layout.kinds:
        return [], 600
    cols: list[int] = []
    x = 16.0
    for kind in layout.kinds:
        if kind == "intervention":
            x += min(widest("intervention", 80), 560) + 22
        elif kind == "component":
            x += max(220, widest("component", 44) + 80) if cols else widest("component", 44) + 22
        else:
            x += 260
        cols.append(round(x))
    width = x + (widest("outcome", 44) + 40 if layout.kinds[-1] == "outcome" else 40)
    return cols, round(max(width, 600))


def gapmap_page(ev: Evidence, gm) -> str:
    """The interactive evidence-and-gap map: a table whose cells are recounted per filter."""
    data = evidence_payload(ev)
    index = data.pop("_index")
    data["gap"] = {
        "rows": [[index["component"][r.iri], r.depth, r.narrower] for r in gm.rows],
        "cols": [index["domain"][iri] for iri, _ in gm.columns],
    }
    nc = len(gm.columns)
    data["slices"] = study_slices(ev, index, lambda f: [i * nc + j for i, j in gm.fact_cells(f)])
    return _page("Evidence-and-gap map", data, GAPMAP_JS)


def _page(title: str, data: dict, page_js: str) -> str:
    script = COMMON_JS + page_js
    csp = (
        f"default-src 'none'; script-src {_csp_hash(script)}; style-src {_csp_hash(CSS)}; "
        "img-src 'none'; connect-src 'none'; frame-src 'none'; form-action 'none'; base-uri 'none'"
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ipvkg: {title}</title>
<style>{CSS}</style>
</head>
<body>
<header>
<h1>{title}</h1>
<p class="sub" id="subtitle"></p>
<p class="note" id="note" hidden></p>
</header>
<div class="filters" id="filters" role="search" aria-label="Filters"></div>
<main>
<div id="view" aria-live="polite"></div>
<aside id="panel" aria-live="polite"><p class="hint" id="hint"></p></aside>
</main>
<footer>Made by ipvkg from the knowledge graph (SPARQL). Colours: share of studies whose findings favour the
intervention, each study counted once with one direction where at least 70 % of its findings there favour one side
(Thomson &amp; Thomas 2013), else conflicting or unclear; pale is no clear difference, never harm; {COMPARATOR_MARK}n:
n studies favour the comparator. build/synthesis.csv gives the synthesis table.</footer>
<noscript><p class="note">This page draws with JavaScript; the same picture is in the PNG and SVG files beside
it.</p></noscript>
<script type="application/json" id="ipvkg-data">{safe_json(data)}</script>
<script>{script}</script>
</body>
</html>
"""
