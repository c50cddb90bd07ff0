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
