"""Interactive pages: the network and the evidence-and-gap map, each ONE self-contained HTML file.

No library, no CDN, no request of any kind: plain JavaScript draws inline SVG (network) or an HTML table (gap
map) from data embedded in the page. The pages work offline and from ``file://``.

Safety: every label comes from data, so

* the data is embedded as JSON in ``<script type="application/json">`` with ``<``, ``>`` and ``&`` written
  as ``\\u003c``, ``\\u003e``, ``\\u0026`` (a title cannot close the script element);
* the script renders with ``createElement`` / ``textContent`` / ``setAttribute`` only, never ``innerHTML``;
* links are made only by :func:`ipvkg.network.study_link` (PubMed, https://doi.org/10. or an http(s) page
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
from collections import defaultdict
from typing import Any, Callable

import networkx as nx

from .network import (COLOUR_MEANING, COMPARATOR_COLOUR, COMPARATOR_MARK, DETAIL_LIMIT, DIRECTIONS, FACETS,
                      MARK_MEANING, STUDY_DIRECTION_WORDS, STUDY_DIRECTIONS, Evidence, Fact, Layout, Tally,
                      colour_table, network_tallies)

STUDY_LIST_LIMIT = 400  # studies listed at once in the side panel
# Above DETAIL_LIMIT studies the pages leave out the citation lines, the secondary reports, the findings' details
# and (unless drawn) the intervention names, to keep each file near 150 bytes per study; labels, titles, years,
# designs and the main-report links stay.


def safe_json(data: Any) -> str:
    """JSON that can sit inside a <script> element: no '<', '>' or '&' characters, no line separators."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                    ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def evidence_payload(ev: Evidence, intervention_labels: bool | None = None) -> dict[str, Any]:
    """The evidence as compact arrays (indices instead of IRIs): what both pages filter and count.

    Studies are ``[label, title, year, design index, citation, link address, link text, secondary reports,
    sample size, facets]`` (the link of :func:`ipvkg.network.study_link`; each secondary report ``[role, address,
    text]``; facets: for each of :data:`ipvkg.network.FACETS` the indices of its values in ``facets``);
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
    used = {ev.studies[s].design for s in study_ids if s in ev.studies and ev.studies[s].design}
    design_ids = sorted({a for d in used for a in ev.design_ancestors(d)},
                        key=lambda d: (_design_label(ev, d).lower(), d))
    didx = {d: i for i, d in enumerate(design_ids)}
    designs = [[_design_label(ev, d), [didx[a] for a in ev.design_ancestors(d)]] for d in design_ids]
    facet_values = {k: sorted({v for s in study_ids for v in ev.facets.get(s, {}).get(k, ())}
                              | (set(ev.risk_of_bias_levels) if k == "risk_of_bias" else set()), key=str.lower)
                    for k in FACETS}
    fidx = {k: {v: i for i, v in enumerate(vs)} for k, vs in facet_values.items()}
    studies = []
    for s in study_ids:
        st = ev.studies.get(s)
        facets = [[fidx[k][v] for v in ev.facets.get(s, {}).get(k, ())] for k in FACETS]
        if st is None:
            studies.append([ev.study_label(s), "", None, -1, "", None, None, [], None, facets])
            continue
        studies.append([st.label, st.title, st.year, didx.get(st.design, -1) if st.design else -1,
                        st.citation if detailed else "", st.link.href if st.link else None,
                        st.link.text if st.link else None,
                        [[x.role, x.link.href if x.link else None, x.link.text if x.link else ""]
                         for x in st.secondary] if detailed else [],
                        st.sample_size, facets])
    domains = list(ev.domains.items())
    domidx = {iri: i for i, (iri, _) in enumerate(domains)}
    outcome_ids = sorted(ev.outcomes, key=lambda o: (ev.outcome_label(o).lower(), o))
    oidx = {o: i for i, o in enumerate(outcome_ids)}
    comp_ids = sorted(ev.components, key=lambda c: (ev.component_label(c).lower(), c))
    cidx = {c: i for i, c in enumerate(comp_ids)}
    groups = list(ev.groups.items())
    gidx = {n: i for i, (n, _) in enumerate(groups)}
    inv_ids = sorted({f.intervention for f in ev.facts},
                     key=lambda i: (ev.study_label(ev.interventions[i].study).lower(), ev.interventions[i].label, i))
    iidx = {i: k for k, i in enumerate(inv_ids)}
    interventions = []
    for i in inv_ids:
        inv = ev.interventions[i]
        interventions.append([inv.label if intervention_labels else "", sidx.get(inv.study, -1),
                              gidx.get(inv.group, -1) if inv.group is not None else -1,
                              [cidx[c] for c in inv.components if c in cidx]])
    facts = [[sidx[f.study], iidx[f.intervention], oidx[f.outcome], f.direction, f.findings, f.favours]
             for f in ev.facts]
    details = [[sidx[x.study], iidx[x.intervention], oidx[x.outcome], x.direction, x.text] for x in ev.details
               if detailed and x.study in sidx and x.intervention in iidx and x.outcome in oidx]
    return {
        "directions": [label for _, label in DIRECTIONS] + ["other"],
        # the colour rule, worked out here once: the page only adds studies up and looks colours up
        "studyDirections": list(STUDY_DIRECTION_WORDS), "scale": colour_table(), "meaning": COLOUR_MEANING,
        "mark": COMPARATOR_MARK, "markMeaning": MARK_MEANING, "markColour": COMPARATOR_COLOUR,
        "facetNames": list(FACETS), "facets": [facet_values[k] for k in FACETS],
        "designs": designs,
        "groups": [[n, label] for n, label in groups],
        "domains": [label for _, label in domains],
        "outcomes": [[ev.outcome_label(o), [domidx[d] for d in ev.outcomes[o].domains if d in domidx]]
                     for o in outcome_ids],
        "components": [[ev.component_label(c), [cidx[a] for a in ev.ancestors(c) if a in cidx]] for c in comp_ids],
        "studies": studies, "interventions": interventions, "facts": facts, "details": details,
        "listLimit": STUDY_LIST_LIMIT,
        # the page says what it leaves out, so that a missing citation is not read as none
        "leftOut": "" if detailed else (
            f"With more than {DETAIL_LIMIT:,} studies the panels leave out citations, secondary reports and each "
            "finding's estimate, instrument and time point; `ipvkg query effect_estimates` and `ipvkg explain KEY` "
            "give them."),
        "_index": {"outcome": oidx, "component": cidx, "intervention": iidx, "domain": domidx, "study": sidx,
                   "group": gidx},
    }


def study_slices(ev: Evidence, index: dict[str, dict], tally: Callable[[list[Fact]], dict[int, Tally]]
                 ) -> dict[str, list[int]]:
    """Each study's direction in each unit of a page (cell, node or line), worked out in Python for every choice
    of the filters that change which of a study's findings a unit holds: review group and outcome.

    The rule (:func:`ipvkg.synthesis.study_direction` through :meth:`ipvkg.network.Tally.study_directions`) is
    applied here only; the page filters whole studies (design, country, population, setting, risk of bias, their
    direction) and adds them up. Keys are ``"group|outcome"`` as the page's selects give them (``""`` for all;
    a group's index or ``-1``; ``o:`` an outcome's index, ``d:`` a domain's); values are flat
    ``[unit, study, direction, ...]`` with directions indexed as in :data:`ipvkg.network.STUDY_DIRECTIONS`.

    :param index: the payload's ``_index`` (study, group, outcome and domain indices).
    :param tally: the unit tallies of a list of facts, by unit index.
    """
    code = {d: i for i, d in enumerate(STUDY_DIRECTIONS)}
    subsets: dict[str, list[Fact]] = defaultdict(list)
    for f in ev.facts:
        inv = ev.interventions.get(f.intervention)
        group = str(index["group"][inv.group]) if inv and inv.group is not None else "-1"
        outcome = ev.outcomes.get(f.outcome)
        outs = ["", f"o:{index['outcome'][f.outcome]}"] + [f"d:{index['domain'][d]}" for d in
                                                         (outcome.domains if outcome else ()) if d in index["domain"]]
        for g in ("", group):
            for o in outs:
                subsets[f"{g}|{o}"].append(f)
    slices = {}
    for key, facts in sorted(subsets.items()):
        flat: list[int] = []
        for unit, t in sorted(tally(facts).items()):
            for study, direction in sorted(t.study_directions().items()):
                flat += (unit, index["study"][study], code[direction])
        slices[key] = flat
    return slices


# The network page's geometry (pixels).
ROW_PX = 24
TOP_PX = 64


def network_page(ev: Evidence, g: nx.DiGraph, layout: Layout, note: str = "") -> str:
    """The interactive network: the drawn graph's nodes at the layout's places, counts recomputed per filter."""
    data = evidence_payload(ev, intervention_labels=True if "intervention" in layout.kinds else None)
    index = data.pop("_index")
    cols, width = _columns_px(g, layout)
    kind_code = {"intervention": 0, "component": 1, "outcome": 2}
    nodes, nidx = [], {}
    for n in g.nodes:
        kind = g.nodes[n]["kind"]
        col, row = layout.pos[n]
        ref = index[kind].get(n)
        if ref is None:
            continue
        nidx[n] = len(nodes)
        nodes.append([kind_code[kind], ref, cols[col], round(TOP_PX + (row + 0.5) * ROW_PX, 1)])
    edges = [[nidx[a], nidx[b]] for a, b in g.edges if a in nidx and b in nidx]
    headers = [[layout.kinds[c], text, round(TOP_PX + (first - 0.5) * ROW_PX, 1), cols[c],
                [nidx[n] for n in layout.columns[layout.kinds[c]] if n in nidx and first <= layout.pos[n][1] <= last]]
               for c, text, first, last in layout.headers]
    eidx = {(a, b): len(nodes) + k for k, (a, b) in enumerate((a, b) for a, b in g.edges if a in nidx and b in nidx)}

    def units(facts: list[Fact]) -> dict[int, Tally]:
        node_tallies, edge_tallies = network_tallies(ev, facts, "intervention" in layout.kinds)
        out = {nidx[n]: t for n, t in node_tallies.items() if n in nidx}
        out.update((eidx[e], t) for e, t in edge_tallies.items() if e in eidx)
        return out

    data["slices"] = study_slices(ev, index, units)
    data["net"] = {"nodes": nodes, "edges": edges, "headers": headers, "width": width,
                   "height": round(TOP_PX + (layout.rows + 1) * ROW_PX), "kinds": layout.kinds,
                   "cols": cols[: len(layout.kinds)], "note": note}
    return _page("Intervention network", data, NETWORK_JS)


def _columns_px(g: nx.DiGraph, layout: Layout) -> tuple[list[int], int]:
    """Column x positions (pixels) from the widths of the labels each column carries (12 px text)."""
    from .pictures import text_width

    def widest(kind: str, chars: int, headings: bool = True) -> float:
        texts = [d["label"] if kind != "intervention" else f"{d.get('study', '')}: {d['label']}"
                 for _, d in g.nodes(data=True) if d["kind"] == kind]
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
            x += (max(220, widest("component", 44) + 80) if cols else widest("component", 44) + 22)
        else:
            x += 260
        cols.append(round(x))
    width = x + (widest("outcome", 44) + 40 if layout.kinds[-1] == "outcome" else 40)
    return cols, round(max(width, 600))


def gapmap_page(ev: Evidence, gm) -> str:
    """The interactive evidence-and-gap map: a table whose cells are recounted per filter."""
    data = evidence_payload(ev)
    index = data.pop("_index")
    data["gap"] = {"rows": [[index["component"][r.iri], r.depth, r.narrower] for r in gm.rows],
                   "cols": [index["domain"][iri] for iri, _ in gm.columns]}
    nc = len(gm.columns)
    data["slices"] = study_slices(ev, index, lambda facts: {i * nc + j: t for (i, j), t in gm.tally(facts)[0].items()})
    return _page("Evidence-and-gap map", data, GAPMAP_JS)


def _page(title: str, data: dict, page_js: str) -> str:
    script = COMMON_JS + page_js
    csp = (f"default-src 'none'; script-src {_csp_hash(script)}; style-src {_csp_hash(CSS)}; "
           "img-src 'none'; connect-src 'none'; frame-src 'none'; form-action 'none'; base-uri 'none'")
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


CSS = """
:root{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#222;background:#fff}
body{margin:0}
header{padding:12px 20px 6px;border-bottom:1px solid #ddd}
h1{font-size:20px;margin:0 0 4px}
.sub{color:#444;margin:0 0 4px;font-size:13px}
.note{color:#8a1c1c;font-style:italic;font-size:13px;margin:4px 0}
.filters{display:flex;flex-wrap:wrap;gap:8px 18px;padding:8px 20px;background:#f6f6f6;border-bottom:1px solid #ddd;
 font-size:13px;align-items:center}
.filters label span{font-weight:600;margin-right:5px}
.filters select{font-size:13px;max-width:22em}
.filters button{font-size:13px}
#status{color:#333}
main{display:grid;grid-template-columns:minmax(0,1fr) 410px}
#view{overflow:auto;padding:8px 10px;max-height:calc(100vh - 150px)}
#panel{border-left:1px solid #ddd;padding:10px 16px;max-height:calc(100vh - 150px);overflow:auto;font-size:13px}
#panel h2{font-size:16px;margin:4px 0}
#panel .summary{color:#333}
ol.studies{padding-left:1.4em}
li.study{margin:0 0 10px}
.study-title{margin:2px 0}
.cite{color:#555;font-size:12px}
.links a{margin-right:10px;font-size:12px}
.finding-details{margin:2px 0 4px 0;padding-left:16px;color:#444}
.secondary-reports{font-size:12px;color:#555}
.secondary-report{margin-right:10px}
ul.facts{margin:3px 0 0;padding-left:1.1em;color:#333;font-size:12px}
.hint{color:#555}
footer{font-size:11px;color:#666;padding:6px 20px;border-top:1px solid #ddd}
.legend{display:flex;flex-wrap:wrap;gap:6px 22px;align-items:center;font-size:12px;margin:6px 0 2px}
.ramp{display:inline-block;width:150px;height:11px;border:1px solid #999;vertical-align:middle;margin:0 6px}
.swatch{display:inline-block;width:14px;height:14px;vertical-align:middle;margin-right:4px;border:1px solid #bbb}
svg text{font-size:12px}
svg#network{max-width:100%;height:auto}
g.node{cursor:pointer}
g.node text{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
g.node circle{stroke:#222;stroke-width:1px}
g.node.selected circle{stroke:#000;stroke-width:3px}
g.node:focus{outline:none}
g.node:focus circle{stroke:#0a58ca;stroke-width:3px}
.hidden{display:none}
path.edge{fill:none;cursor:pointer}
path.edge:hover{stroke-opacity:1}
text.heading{font-weight:700;font-size:11px;fill:#333;letter-spacing:.02em}
text.coltitle{font-weight:700;font-size:14px}
table.gapmap{border-collapse:separate;border-spacing:3px;font-size:12px}
table.gapmap th.col{height:170px;vertical-align:bottom;padding:0 0 4px;width:42px}
table.gapmap th.col span{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;font-weight:600}
table.gapmap th.row{text-align:left;font-weight:400;white-space:nowrap;padding-right:10px}
table.gapmap th.row.top{font-weight:700}
table.gapmap td{width:42px;height:32px;text-align:center;font-weight:700;cursor:pointer;border-radius:2px}
table.gapmap td.gap{background:repeating-linear-gradient(45deg,#f3f3f3 0 4px,#c4c4c4 4px 5px);cursor:default;
 color:#999;font-weight:400}
table.gapmap td.total{font-weight:400;color:#333;background:#fafafa}
table.gapmap tr.totals th,table.gapmap tr.totals td{border-top:2px solid #999}
table.gapmap td.selected{outline:3px solid #000}
table.gapmap td .count{display:block}
table.gapmap td .against{display:block;font-size:10px;line-height:1}
.legend .bin{margin-right:8px;white-space:nowrap}
.legend-title{font-weight:600;margin-right:6px}
"""

COMMON_JS = r"""
"use strict";
const D = JSON.parse(document.getElementById("ipvkg-data").textContent);
const $ = (id) => document.getElementById(id);
function el(tag, attrs, text) {
  const e = document.createElement(tag);
  if (attrs) for (const k of Object.keys(attrs)) e.setAttribute(k, String(attrs[k]));
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
const SVGNS = "http://www.w3.org/2000/svg";
function sv(tag, attrs, text) {
  const e = document.createElementNS(SVGNS, tag);
  if (attrs) for (const k of Object.keys(attrs)) e.setAttribute(k, String(attrs[k]));
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
const cmp = (a, b) => String(a).toLowerCase().localeCompare(String(b).toLowerCase());
function plural(n, word) { return n.toLocaleString("en") + " " + word + (n === 1 ? "" : "s"); }
function studies(n) { return n.toLocaleString("en") + (n === 1 ? " study" : " studies"); }
function shorten(t, n) { t = String(t).replace(/\s+/g, " ").trim(); return t.length <= n ? t : t.slice(0, n - 1).trimEnd() + "\u2026"; }
// ---- colours and counts: the rule ran in Python (D.slices); here studies are only added up
const NDIR = D.studyDirections.length;  // favours the intervention, favours the comparator, conflicting, unclear
function scaleOf(favouring, total) {  // the bin of D.scale (Python's colour table) for a share of studies
  const share = favouring / total;
  for (const b of D.scale) if (share <= b.upTo) return b;
  return D.scale[D.scale.length - 1];
}
function summary(c, findings) {  // c: studies by direction, each study once
  const total = c.reduce((a, b) => a + b, 0);
  const parts = [];
  D.studyDirections.forEach((d, i) => { if (c[i]) parts.push(c[i] + " " + d); });
  return studies(total) + (findings !== undefined ? ", " + plural(findings, "finding") : "") +
    (parts.length ? ": " + parts.join(", ") : "") + " (70 % rule)";
}
// ---- filters: review group (inferred), outcome or domain, design, country, population, setting, risk of bias,
// study direction. Group and outcome pick a slice Python worked out; the others keep or drop whole studies.
const F = { group: "", outcome: "", design: "", country: "", population: "", setting: "", risk_of_bias: "", direction: "" };
const FACET_AT = { country: 0, population: 1, setting: 2, risk_of_bias: 3 };
const FACET_TITLES = { country: "Country", population: "Population", setting: "Setting", risk_of_bias: "Risk of bias" };
function studyPasses(s) {
  const st = D.studies[s];
  if (F.design !== "") {  // a design includes its narrower ones: the RCT filter keeps cluster RCTs
    const d = st[3];
    if (+F.design < 0 ? d >= 0 : d < 0 || D.designs[d][1].indexOf(+F.design) < 0) return false;
  }
  for (const key of Object.keys(FACET_AT)) {
    if (F[key] === "") continue;
    const values = st[9][FACET_AT[key]];
    if (+F[key] < 0 ? values.length > 0 : values.indexOf(+F[key]) < 0) return false;
  }
  return true;
}
function passes(f) {  // a fact, for the panel's list: the study passes and the fact is in the slice
  if (!studyPasses(f[0])) return false;
  if (F.group !== "" && D.interventions[f[1]][2] !== +F.group) return false;
  if (F.outcome !== "") {
    const kind = F.outcome[0], v = +F.outcome.slice(2);
    if (kind === "o" ? f[2] !== v : D.outcomes[f[2]][1].indexOf(v) < 0) return false;
  }
  return true;
}
const anyFilter = () => Object.values(F).some((v) => v !== "");
// each unit's studies by direction under the filters: counts[u * NDIR + d], and the studies that pass at all
function countUnits(nUnits) {
  const entries = D.slices[F.group + "|" + F.outcome] || [];
  const ok = new Int8Array(D.studies.length).fill(-1);
  const counts = new Int32Array(nUnits * NDIR), shown = new Set();
  const dir = F.direction === "" ? -1 : +F.direction;
  for (let k = 0; k < entries.length; k += 3) {
    const u = entries[k], s = entries[k + 1], d = entries[k + 2];
    if (dir >= 0 && d !== dir) continue;
    if (ok[s] < 0) ok[s] = studyPasses(s) ? 1 : 0;
    if (!ok[s]) continue;
    counts[u * NDIR + d]++;
    shown.add(s);
  }
  return { counts, studies: shown };
}
function unitStudies(units) {  // study -> its direction, over the entries of the given units that pass
  const entries = D.slices[F.group + "|" + F.outcome] || [], out = new Map();
  const dir = F.direction === "" ? -1 : +F.direction;
  for (let k = 0; k < entries.length; k += 3) {
    const s = entries[k + 1], d = entries[k + 2];
    if (units.has(entries[k]) && (dir < 0 || d === dir) && studyPasses(s) && !out.has(s)) out.set(s, d);
  }
  return out;
}
function emptyReason() {  // one line when the filters leave nothing
  if (F.risk_of_bias !== "" && +F.risk_of_bias >= 0 && !D.studies.some((st) => st[9][3].length))
    return "No study matches the filters: no study has a risk-of-bias judgement.";
  return "No study matches the filters.";
}
function addSelect(bar, key, label, options) {
  const wrap = el("label");
  wrap.appendChild(el("span", null, label));
  const s = el("select", { id: "filter-" + key, "data-filter": key });
  s.appendChild(el("option", { value: "" }, "all"));
  for (const [v, t] of options) s.appendChild(el("option", { value: v }, t));
  s.addEventListener("change", () => { F[key] = s.value; refresh(); });
  wrap.appendChild(s);
  bar.appendChild(wrap);
}
function buildFilters(domainsOnly) {
  const bar = $("filters");
  const used = { g: new Set(), o: new Set(), d: new Set(), s: new Set(), st: new Set() };
  for (const f of D.facts) {
    used.g.add(D.interventions[f[1]][2]); used.o.add(f[2]); used.s.add(D.studies[f[0]][3]); used.st.add(f[0]);
    for (const d of D.outcomes[f[2]][1]) used.d.add(d);
  }
  const groups = [];
  D.groups.forEach(([n, label], i) => { if (used.g.has(i)) groups.push([String(i), "group " + n + ": " + label]); });
  if (used.g.has(-1)) groups.push(["-1", "no group inferred"]);
  addSelect(bar, "group", "Review group", groups);
  const outcomes = [];
  const doms = [...used.d].sort((a, b) => cmp(D.domains[a], D.domains[b]));
  for (const d of doms) {
    outcomes.push(["d:" + d, D.domains[d] + (domainsOnly ? "" : " (any)")]);
    if (domainsOnly) continue;
    const os = [...used.o].filter((o) => D.outcomes[o][1][0] === d).sort((a, b) => cmp(D.outcomes[a][0], D.outcomes[b][0]));
    for (const o of os) if (D.outcomes[o][0] !== D.domains[d]) outcomes.push(["o:" + o, "\u2003" + D.outcomes[o][0]]);
  }
  addSelect(bar, "outcome", domainsOnly ? "Outcome domain" : "Outcome", outcomes);
  const shown = new Set([...used.s].filter((s) => s >= 0).flatMap((s) => D.designs[s][1]));
  const designs = [...shown].sort((a, b) => cmp(D.designs[a][0], D.designs[b][0])).map((s) => [String(s), D.designs[s][0]]);
  if (used.s.has(-1)) designs.push(["-1", "not stated"]);
  addSelect(bar, "design", "Design", designs);
  for (const key of Object.keys(FACET_AT)) {
    const at = FACET_AT[key], seen = new Set();
    let missing = false;
    for (const s of used.st) { const vs = D.studies[s][9][at]; if (!vs.length) missing = true; vs.forEach((v) => seen.add(v)); }
    // risk of bias offers every judgement the ontology allows: choosing one no study has says so, not an empty map
    const values = key === "risk_of_bias" ? D.facets[at].map((_, i) => i) : [...seen];
    const options = values.sort((a, b) => cmp(D.facets[at][a], D.facets[at][b])).map((v) => [String(v), D.facets[at][v]]);
    if (missing) options.push(["-1", key === "risk_of_bias" ? "not judged" : "not stated"]);
    addSelect(bar, key, FACET_TITLES[key], options);
  }
  addSelect(bar, "direction", "Study direction", D.studyDirections.map((d, i) => [String(i), d]));
  const reset = el("button", { type: "button", id: "reset" }, "Clear filters");
  reset.addEventListener("click", () => {
    for (const k of Object.keys(F)) F[k] = "";
    for (const s of bar.querySelectorAll("select")) s.value = "";
    refresh();
  });
  bar.appendChild(reset);
  bar.appendChild(el("span", { id: "status" }));
}
function legend(extra) {
  const box = el("div", { class: "legend", id: "legend" });
  const ramp = el("span");
  ramp.appendChild(el("span", { class: "legend-title" }, "Colour: " + D.meaning + ":"));
  for (const b of D.scale) {
    const item = el("span", { class: "bin" });
    const sw = el("span", { class: "swatch" });
    sw.style.background = b.fill;
    item.appendChild(sw);
    item.appendChild(el("span", null, b.label));
    ramp.appendChild(item);
  }
  box.appendChild(ramp);
  const mark = el("span", { class: "mark-meaning" }, D.markMeaning);
  mark.style.color = D.markColour;
  box.appendChild(mark);
  box.appendChild(el("span", null, "no clear difference, conflicting and unclear studies are pale, never a colour of harm"));
  if (extra) extra(box);
  return box;
}
// ---- the side panel: studies behind a node, edge or cell, with citations and links
function link(href, text) {
  const a = el("a", { rel: "noopener noreferrer", target: "_blank" }, text);
  a.href = href;  // only ever an http(s) address (study_link made it): never javascript:
  return a;
}
let detailMap = null;
function detailsOf() {  // study|intervention|outcome|direction -> the detail lines of its findings, built once
  if (detailMap === null) {
    detailMap = new Map();
    for (const [s, i, o, d, text] of D.details || []) {
      const k = [s, i, o, d].join("|");
      if (!detailMap.has(k)) detailMap.set(k, []);
      detailMap.get(k).push(text);
    }
  }
  return detailMap;
}
const SIDES = ["intervention", "comparator", "unclear"];
function describeFact(f) {
  const inv = D.interventions[f[1]][0];
  const line = (inv ? inv + " \u2192 " : "") + D.outcomes[f[2]][0] + ": " + D.directions[f[3]] +
    (f[5] !== 2 ? ", estimate favours the " + SIDES[f[5]] : "");
  return f[4] > 1 ? line + " (" + f[4] + " findings)" : line;
}
function showStudies(title, facts, directions) {  // directions: study -> its direction here (from Python)
  const panel = $("panel");
  panel.replaceChildren();
  panel.appendChild(el("h2", { id: "panel-title" }, title));
  const c = new Array(NDIR).fill(0);
  for (const d of directions.values()) c[d]++;
  facts = facts.filter((f) => directions.has(f[0]));
  const findings = facts.reduce((a, f) => a + f[4], 0);
  panel.appendChild(el("p", { class: "summary", id: "panel-summary" }, summary(c, findings) + (anyFilter() ? " (filtered)" : "")));
  const by = new Map();
  for (const f of facts) { if (!by.has(f[0])) by.set(f[0], []); by.get(f[0]).push(f); }
  const ids = [...by.keys()].sort((a, b) => cmp(D.studies[a][0], D.studies[b][0]) || a - b);
  const ol = el("ol", { class: "studies", id: "study-list" });
  for (const s of ids.slice(0, D.listLimit)) {
    const [label, title, year, design, cite, href, hrefText, secondary, n] = D.studies[s];
    const li = el("li", { class: "study", "data-direction": directions.get(s) });
    li.appendChild(el("strong", { class: "study-label" }, label));
    li.appendChild(el("span", { class: "study-direction" }, " \u2014 " + D.studyDirections[directions.get(s)]));
    const meta = [year, design >= 0 ? D.designs[design][0] : null, typeof n === "number" ? "n = " + n : null].filter((x) => x !== null && x !== "");
    if (meta.length) li.appendChild(document.createTextNode(" (" + meta.join(", ") + ")"));
    if (title) li.appendChild(el("div", { class: "study-title" }, title));
    if (cite) li.appendChild(el("div", { class: "cite" }, cite));
    if (typeof href === "string" && /^https?:\/\//.test(href)) {
      const links = el("div", { class: "links" });
      links.appendChild(link(href, hrefText));
      li.appendChild(links);
    }
    if (secondary && secondary.length) {
      const others = el("div", { class: "secondary-reports" });
      for (const [role, h, text] of secondary) {
        const item = el("span", { class: "secondary-report" }, role + ": ");
        if (typeof h === "string" && /^https?:\/\//.test(h)) item.appendChild(link(h, text));
        else item.appendChild(document.createTextNode("no link recorded"));
        others.appendChild(item);
      }
      li.appendChild(others);
    }
    const ul = el("ul", { class: "facts" });
    const lines = new Map();  // one line per intervention, outcome and direction, with its findings' details under it
    for (const f of by.get(s)) {
      const line = describeFact(f);
      if (!lines.has(line)) lines.set(line, []);
      lines.get(line).push(...(detailsOf().get(f.slice(0, 4).join("|")) || []));
    }
    for (const line of [...lines.keys()].sort(cmp)) {
      const li2 = el("li", null, line);
      const texts = [...new Set(lines.get(line))];
      if (texts.length) {
        const sub = el("ul", { class: "finding-details" });
        for (const t of texts) sub.appendChild(el("li", { class: "finding-detail" }, t));
        li2.appendChild(sub);
      }
      ul.appendChild(li2);
    }
    li.appendChild(ul);
    ol.appendChild(li);
  }
  panel.appendChild(ol);
  if (ids.length > D.listLimit) panel.appendChild(el("p", { class: "hint" }, "\u2026 and " + studies(ids.length - D.listLimit) + " more; narrow the filters to list them."));
}
let refresh = () => {};
"""

NETWORK_JS = r"""
(function () {
  const N = D.net;
  const KIND = ["intervention", "component", "outcome"];
  // node and edge indices in typed arrays and integer keys: the page may hold 400,000 facts
  const NN = N.nodes.length;
  const nodeOf = [D.interventions, D.components, D.outcomes].map((xs) => new Int32Array(xs.length).fill(-1));
  N.nodes.forEach(([k, r], i) => { nodeOf[k][r] = i; });
  const edgeAt = new Map(N.edges.map((e, i) => [e[0] * NN + e[1], i]));
  const nodeLabel = (i) => {
    const [k, r] = N.nodes[i];
    if (k === 0) { const inv = D.interventions[r]; const st = inv[1] >= 0 ? D.studies[inv[1]][0] : ""; return st ? st + ": " + inv[0] : inv[0]; }
    return k === 1 ? D.components[r][0] : D.outcomes[r][0];
  };
  const onNode = (i, f) => { const [k, r] = N.nodes[i]; return k === 0 ? f[1] === r : k === 2 ? f[2] === r : D.interventions[f[1]][3].indexOf(r) >= 0; };
  const NU = NN + N.edges.length;  // units: the nodes, then the lines (NN + line index), as Python numbered them
  const studiesAt = (counts, u) => { let n = 0; for (let d = 0; d < NDIR; d++) n += counts[u * NDIR + d]; return n; };
  const full = countUnits(NU).counts;
  const maxN = Math.max(1, ...N.nodes.map((_, i) => studiesAt(full, i)));
  const maxE = Math.max(1, ...N.edges.map((e, i) => (N.nodes[e[0]][0] === 1 ? studiesAt(full, NN + i) : 0)));
  const radius = (n) => 4 + 10 * Math.sqrt(n / maxN);
  const width = (n) => maxE > 1 ? 0.8 + 5 * (n - 1) / (maxE - 1) : 2.5;
  const opacity = (n) => maxE > 1 ? 0.5 + 0.4 * (n - 1) / (maxE - 1) : 0.75;
  let selected = null;  // ["node", i] or ["edge", i]

  const totalStudies = new Set(D.facts.map((f) => f[0])).size;
  const totalFindings = D.facts.reduce((a, f) => a + f[4], 0);
  $("subtitle").textContent = studies(totalStudies) + ", " + plural(D.interventions.length, "intervention") + ", " +
    plural(totalFindings, "finding") + ". Node size: studies; colour: " + D.meaning + "; dark ring: some study favours the comparator. " +
    "Click a node or a line to list its studies; the filters recount everything.";
  if (N.note) { $("note").textContent = N.note; $("note").hidden = false; }
  $("hint").textContent = "Click a node (intervention, component or outcome) or a line to list the studies behind it, with citations and links to their main reports." + (D.leftOut ? " " + D.leftOut : "");
  buildFilters(false);

  const view = $("view");
  view.appendChild(legend((box) => {
    const sizes = el("span");
    sizes.appendChild(el("span", null, "node size: "));
    const s = sv("svg", { width: 190, height: 28, role: "img", "aria-label": "node sizes" });
    let x = 8;
    for (const n of [...new Set([1, Math.max(1, Math.round(maxN / 2)), maxN])]) {
      const r = radius(n);
      s.appendChild(sv("circle", { cx: x + r, cy: 14, r: r, fill: "#bbb", stroke: "#222" }));
      s.appendChild(sv("text", { x: x + 2 * r + 3, y: 18 }, n));
      x += 2 * r + 26;
    }
    sizes.appendChild(s);
    sizes.appendChild(el("span", null, "studies"));
    box.appendChild(sizes);
  }));
  const svg = sv("svg", { id: "network", width: N.width, height: N.height, viewBox: "0 0 " + N.width + " " + N.height, role: "group", "aria-label": "network" });
  view.appendChild(svg);
  const titles = { intervention: "Interventions (by inferred review group)", component: "Components", outcome: "Outcomes (by domain)" };
  N.kinds.forEach((k, c) => {
    const anchor = k === "outcome" ? "start" : (k === "intervention" || c === 0 ? "end" : "middle");
    svg.appendChild(sv("text", { class: "coltitle", x: N.cols[c] + (anchor === "start" ? -6 : anchor === "end" ? 6 : 0), y: 26, "text-anchor": anchor }, titles[k]));
  });
  const headerEls = N.headers.map(([kind, text, y, x]) => {
    const start = kind === "outcome";
    const t = sv("text", { class: "heading", x: start ? x - 8 : x + 8, y: y + 4, "text-anchor": start ? "start" : "end" }, shorten(text, 80));
    svg.appendChild(t);
    return t;
  });
  const edgeLayer = sv("g", { id: "edges" }), nodeLayer = sv("g", { id: "nodes" });
  svg.appendChild(edgeLayer); svg.appendChild(nodeLayer);
  const edgeEls = N.edges.map(([a, b], i) => {
    const [, , x0, y0] = N.nodes[a], [, , x1, y1] = N.nodes[b], mx = (x0 + x1) / 2;
    const p = sv("path", { class: "edge", d: "M" + x0 + " " + y0 + " C" + mx + " " + y0 + " " + mx + " " + y1 + " " + x1 + " " + y1, "data-index": i });
    const t = sv("title"); p.appendChild(t);
    p.addEventListener("click", () => select(["edge", i]));
    edgeLayer.appendChild(p);
    return p;
  });
  const nodeEls = N.nodes.map(([k, , x, y], i) => {
    const g = sv("g", { class: "node", "data-kind": KIND[k], "data-index": i, tabindex: 0, role: "button" });
    g.setAttribute("aria-label", nodeLabel(i));
    g.appendChild(sv("title"));
    g.appendChild(sv("circle", { cx: x, cy: y, r: 5 }));
    const right = KIND[k] === "outcome";
    g.appendChild(sv("text", { x: x, y: y + 4, "text-anchor": right ? "start" : "end" }, shorten(nodeLabel(i), k === 0 ? 70 : 44)));
    g.addEventListener("click", () => select(["node", i]));
    g.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); select(["node", i]); } });
    nodeLayer.appendChild(g);
    return g;
  });
  function select(what) { selected = what; refresh(); }
  refresh = function () {
    const { counts, studies: matching } = countUnits(NU);
    const at = (u) => [...Array(NDIR).keys()].map((d) => counts[u * NDIR + d]);
    let shown = 0;
    nodeEls.forEach((g, i) => {
      const c = at(i), n = studiesAt(counts, i), visible = n > 0;
      g.classList.toggle("hidden", !visible);
      g.classList.toggle("selected", !!selected && selected[0] === "node" && selected[1] === i);
      g.setAttribute("data-studies", n);
      g.setAttribute("data-favouring", c[0]);
      g.setAttribute("data-against", c[1]);
      if (!visible) return;
      shown++;
      const r = radius(n), circle = g.querySelector("circle"), txt = g.querySelector("text");
      circle.setAttribute("r", r.toFixed(1));
      circle.setAttribute("fill", scaleOf(c[0], n).fill);
      // a study favouring the comparator: a dark ring of its own, not a shade of the scale
      circle.style.stroke = c[1] ? D.markColour : "";
      circle.style.strokeWidth = c[1] ? "2.5px" : "";
      const [, , x] = N.nodes[i];
      txt.setAttribute("x", KIND[N.nodes[i][0]] === "outcome" ? x + r + 5 : x - r - 5);
      g.querySelector("title").textContent = nodeLabel(i) + "\n" + summary(c);
    });
    edgeEls.forEach((p, i) => {
      const u = NN + i, c = at(u), n = studiesAt(counts, u), [a, b] = N.edges[i];
      const visible = n > 0 && studiesAt(counts, a) > 0 && studiesAt(counts, b) > 0;
      p.classList.toggle("hidden", !visible);
      p.setAttribute("data-studies", n);
      if (!visible) return;
      const structural = N.nodes[a][0] === 0;
      p.setAttribute("stroke", structural ? "#bdbdbd" : scaleOf(c[0], n).fill);
      p.setAttribute("stroke-width", structural ? 1.2 : width(n).toFixed(1));
      p.setAttribute("stroke-dasharray", !structural && c[1] ? "6 3" : "");  // some study favours the comparator
      // a selected node keeps its own lines and fades the rest, so that its links can be followed
      const faded = !!selected && selected[0] === "node" && a !== selected[1] && b !== selected[1];
      p.setAttribute("stroke-opacity", faded ? 0.08 : structural ? 0.9 : opacity(n).toFixed(2));
      p.querySelector("title").textContent = nodeLabel(a) + " \u2192 " + nodeLabel(b) + "\n" + summary(c);
    });
    headerEls.forEach((h, k) => h.classList.toggle("hidden", !N.headers[k][4].some((i) => studiesAt(counts, i) > 0)));
    const st = matching.size;
    $("status").textContent = st === 0 ? emptyReason() :
      plural(shown, "node") + " shown, " + studies(st) + (anyFilter() ? " match the filters" : "");
    if (selected) {
      const [what, i] = selected;
      const facts = D.facts.filter(passes);
      if (what === "node") showStudies(nodeLabel(i), facts.filter((f) => onNode(i, f)), unitStudies(new Set([i])));
      else showStudies(nodeLabel(N.edges[i][0]) + " \u2192 " + nodeLabel(N.edges[i][1]),
        facts.filter((f) => onNode(N.edges[i][0], f) && onNode(N.edges[i][1], f)), unitStudies(new Set([NN + i])));
    }
  };
  refresh();
})();
"""

GAPMAP_JS = r"""
(function () {
  const G = D.gap, nr = G.rows.length, nc = G.cols.length;
  const rowOfComp = new Map(G.rows.map((r, i) => [r[0], i]));
  const colOfDomain = new Map(G.cols.map((d, j) => [d, j]));
  const rowsOf = D.interventions.map((inv) => {
    const rows = new Set();
    for (const c of inv[3]) for (const a of D.components[c][1]) if (rowOfComp.has(a)) rows.add(rowOfComp.get(a));
    return [...rows];
  });
  const colsOf = D.outcomes.map((o) => o[1].filter((d) => colOfDomain.has(d)).map((d) => colOfDomain.get(d)));
  const rowLabel = (i) => D.components[G.rows[i][0]][0];
  const colLabel = (j) => D.domains[G.cols[j]];
  let selected = null;  // [row or -1, col or -1]
  const onCell = (i, j, f) => (i < 0 || rowsOf[f[1]].indexOf(i) >= 0) && (j < 0 || colsOf[f[2]].indexOf(j) >= 0)
    && rowsOf[f[1]].length > 0 && colsOf[f[2]].length > 0;

  const all = D.facts.filter((f) => rowsOf[f[1]].length && colsOf[f[2]].length);
  const totalStudies = new Set(all.map((f) => f[0])).size;
  $("subtitle").textContent = studies(totalStudies) + ", " + plural(all.reduce((a, f) => a + f[4], 0), "finding") +
    ". Rows: intervention components (bold rows include their indented narrower components); columns: outcome domains. " +
    "Number: studies, each counted once; colour: " + D.meaning + "; " + D.markMeaning + "; hatched: no study (a gap). Click a cell to list its studies.";
  $("hint").textContent = "Click a cell to list the studies behind it, with citations and links to their main reports; hover for a summary." + (D.leftOut ? " " + D.leftOut : "");
  buildFilters(true);
  const view = $("view");
  view.appendChild(legend((box) => {
    const g = el("span");
    g.appendChild(el("span", { class: "swatch gapswatch" }));
    g.lastChild.style.background = "repeating-linear-gradient(45deg,#f3f3f3 0 3px,#c4c4c4 3px 4px)";
    g.appendChild(el("span", null, "no study (gap)"));
    box.appendChild(g);
  }));
  const table = el("table", { class: "gapmap", id: "gapmap" });
  const head = el("tr");
  head.appendChild(el("th", { class: "corner" }, "Component \\ outcome domain"));
  for (let j = 0; j < nc; j++) { const th = el("th", { class: "col", scope: "col" }); th.appendChild(el("span", null, colLabel(j))); head.appendChild(th); }
  const anyTh = el("th", { class: "col", scope: "col" }); anyTh.appendChild(el("span", null, "any domain")); head.appendChild(anyTh);
  const thead = el("thead"); thead.appendChild(head); table.appendChild(thead);
  const tbody = el("tbody");
  const cells = [], rowTotals = [], colTotals = [];
  function clickable(td, i, j) {
    td.tabIndex = 0;
    td.addEventListener("click", () => { if (!td.classList.contains("gap")) { selected = [i, j]; refresh(); } });
    td.addEventListener("keydown", (e) => { if (e.key === "Enter") td.click(); });
  }
  for (let i = 0; i < nr; i++) {
    const tr = el("tr");
    const th = el("th", { class: "row" + (G.rows[i][2] ? " top" : ""), scope: "row" }, rowLabel(i));
    th.style.paddingLeft = (0.3 + 1.3 * G.rows[i][1]) + "em";
    tr.appendChild(th);
    cells.push([]);
    for (let j = 0; j < nc; j++) {
      const td = el("td", { class: "cell", "data-row": i, "data-col": j });
      clickable(td, i, j);
      cells[i].push(td); tr.appendChild(td);
    }
    const tot = el("td", { class: "total", "data-row": i });
    clickable(tot, i, -1);
    rowTotals.push(tot); tr.appendChild(tot);
    tbody.appendChild(tr);
  }
  const tr = el("tr", { class: "totals" });
  tr.appendChild(el("th", { class: "row", scope: "row" }, "any component"));
  for (let j = 0; j < nc; j++) { const td = el("td", { class: "total", "data-col": j }); clickable(td, -1, j); colTotals.push(td); tr.appendChild(td); }
  const grand = el("td", { class: "total" }); clickable(grand, -1, -1); tr.appendChild(grand);
  tbody.appendChild(tr);
  table.appendChild(tbody);
  view.appendChild(table);

  function paintTotal(td, set) {
    td.textContent = String(set.size);
    td.title = studies(set.size);
    td.classList.toggle("selected", false);
  }
  const cellsOf = (i, j) => {  // the units of a cell, a row total (j < 0), a column total (i < 0) or all
    const out = new Set();
    for (let a = 0; a < nr; a++) for (let b = 0; b < nc; b++) if ((i < 0 || a === i) && (j < 0 || b === j)) out.add(a * nc + b);
    return out;
  };
  refresh = function () {
    const { counts, studies: matching } = countUnits(nr * nc);
    // totals: the distinct studies of a row or column (a study counts once however many cells it is in)
    const entries = D.slices[F.group + "|" + F.outcome] || [];
    const rt = [...Array(nr)].map(() => new Set()), ct = [...Array(nc)].map(() => new Set());
    const dir = F.direction === "" ? -1 : +F.direction;
    for (let k = 0; k < entries.length; k += 3) {
      const s = entries[k + 1];
      if (!matching.has(s) || (dir >= 0 && entries[k + 2] !== dir)) continue;
      rt[Math.floor(entries[k] / nc)].add(s); ct[entries[k] % nc].add(s);
    }
    let gaps = 0;
    for (let i = 0; i < nr; i++) for (let j = 0; j < nc; j++) {
      const td = cells[i][j], u = i * nc + j;
      const c = [...Array(NDIR).keys()].map((d) => counts[u * NDIR + d]), n = c.reduce((a, b) => a + b, 0);
      td.classList.toggle("selected", !!selected && selected[0] === i && selected[1] === j);
      td.setAttribute("data-studies", n);
      td.setAttribute("data-favouring", c[0]);
      td.setAttribute("data-against", c[1]);
      if (!n) {
        gaps++;
        td.classList.add("gap"); td.replaceChildren(); td.style.backgroundColor = ""; td.style.color = "";
        td.title = rowLabel(i) + " \u00d7 " + colLabel(j) + ": no study (gap)";
        continue;
      }
      const bin = scaleOf(c[0], n);
      td.classList.remove("gap");
      td.replaceChildren(el("span", { class: "count" }, n));
      if (c[1]) {  // studies favouring the comparator: a mark of their own, not a shade
        const m = el("span", { class: "against" }, D.mark + c[1]);
        m.style.color = bin.text === "#ffffff" ? bin.text : D.markColour;
        td.appendChild(m);
      }
      td.style.backgroundColor = bin.fill; td.style.color = bin.text;
      td.title = rowLabel(i) + " \u00d7 " + colLabel(j) + "\n" + summary(c);
    }
    rt.forEach((x, i) => paintTotal(rowTotals[i], x));
    ct.forEach((x, j) => paintTotal(colTotals[j], x));
    paintTotal(grand, matching);
    $("status").textContent = matching.size === 0 ? emptyReason() :
      nr * nc - gaps + " cells with studies, " + gaps + " gaps; " + studies(matching.size) + (anyFilter() ? " match the filters" : "");
    if (selected) {
      const [i, j] = selected;
      const title = (i >= 0 ? rowLabel(i) : "any component") + " \u00d7 " + (j >= 0 ? colLabel(j) : "any domain");
      showStudies(title, D.facts.filter((f) => passes(f) && onCell(i, j, f)), unitStudies(cellsOf(i, j)));
    }
  };
  refresh();
})();
"""
