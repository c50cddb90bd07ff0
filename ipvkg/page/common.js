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
// the chosen group and outcome's slice, flat [unit, study, direction, ...], read back from Python's form
// (html.study_slices: the whole slice, each entry's set of choices, the directions a choice changes); once each
const sliceCache = new Map();
let wholeSlice = null;
function sliceEntries() {
  const key = F.group + "|" + F.outcome;
  if (sliceCache.has(key)) return sliceCache.get(key);
  const S = D.slices, k = S.keys.indexOf(key), out = [];
  if (wholeSlice === null) {  // [unit, study, direction] per entry, from the runs of units and the study steps
    wholeSlice = new Int32Array(3 * S.sets.length);
    let p = 0;
    for (let r = 0; r < S.units.length; r += 2) {
      let s = 0;  // a unit's first study is its own number, the others add to the one before
      for (let n = 0; n < S.units[r + 1]; n++, p++) {
        s += S.studies[p];
        wholeSlice[3 * p] = S.units[r]; wholeSlice[3 * p + 1] = s; wholeSlice[3 * p + 2] = S.directions.charCodeAt(p) - 48;
      }
    }
  }
  if (k >= 0) {
    const kept = S.setKeys.map((m) => m.indexOf(k) >= 0);
    const changed = new Map(), c = S.changed[String(k)] || [];
    for (let i = 0, p = -1; i < c.length; i += 2) { p += c[i]; changed.set(p, c[i + 1]); }
    for (let p = 0; p < S.sets.length; p++) {
      if (!kept[S.sets[p]]) continue;
      out.push(wholeSlice[3 * p], wholeSlice[3 * p + 1], changed.has(p) ? changed.get(p) : wholeSlice[3 * p + 2]);
    }
  }
  sliceCache.set(key, out);
  return out;
}
// each unit's studies by direction under the filters: counts[u * NDIR + d], and the studies that pass at all
function countUnits(nUnits) {
  const entries = sliceEntries();
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
  const entries = sliceEntries(), out = new Map();
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
