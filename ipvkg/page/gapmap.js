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
    const entries = sliceEntries();
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
