// The /viz page: fetch a board view from /viz/data and draw it for a reader at 1400×900.
// structure and control: Cytoscape.js (dagre, left to right), labels inside their boxes so no two overlap;
// money: a Sankey (d3-sankey); governance: a matrix (trustees × board meetings).
// State lives in the URL (view, asOf, from, to, expand, select): a link reproduces the view.
// For tests and tools: document.body.dataset.state is "ready" once drawn, "error" on failure;
// window.bepviz holds {cy, data, state}.
(function () {
  "use strict";
  if (window.cytoscapeDagre) { cytoscape.use(window.cytoscapeDagre); }
  if (window.cytoscapeSvg) { cytoscape.use(window.cytoscapeSvg); }

  var FONT_PX = 13;          // label size in graph units; the initial zoom never draws it below MIN_PX
  var MIN_PX = 11;
  var FONT = "DejaVu Sans, sans-serif";
  var FILL = {
    trust: "#c6d4f0", adviser: "#c8ddfb", "sub-adviser": "#dcecfd", distributor: "#e2d4f7",
    series: "#d3f0da", agreement: "#f7e6b5", broker: "#f8d0d2", trustee: "#e3e6e9",
    organization: "#eaeef2", matter: "#fde0c8", meeting: "#eadcfd", category: "#cdebd4",
    "benefit-kind": "#f3e3b3", recipient: "#e2d4f7", other: "#f0f0f0"
  };
  var KIND_NAMES = {
    trust: "the Trust", adviser: "investment adviser", "sub-adviser": "sub-adviser", distributor: "Distributor",
    series: "series (grouped by sub-adviser: click to expand)", agreement: "agreement in force", broker: "broker-dealer",
    trustee: "trustee", organization: "other organization", category: "plan ¶2 category",
    "benefit-kind": "payments / credits", recipient: "recipient", other: "other"
  };
  var PARAMS = ["view", "asOf", "from", "to", "expand", "select"];
  var form = document.getElementById("controls");
  var statusLine = document.getElementById("status");
  var errorLine = document.getElementById("error");
  var graphBox = document.getElementById("graph");
  var measure = document.createElement("canvas").getContext("2d");
  measure.font = FONT_PX + "px " + FONT;
  window.bepviz = { cy: null, data: null, state: {} };

  function text(tag, content, cls) {
    var el = document.createElement(tag);
    el.textContent = content;
    if (cls) { el.className = cls; }
    return el;
  }

  function money(v) { return v.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 }); }
  function whole(v) { return v.toLocaleString("en-US", { maximumFractionDigits: 0 }); }

  // ---- state in the URL ----
  function stateFromUrl() {
    var q = new URLSearchParams(location.search), s = {};
    PARAMS.forEach(function (name) { if (q.get(name)) { s[name] = q.get(name); } });
    return s;
  }
  function query(state, names) {
    var p = new URLSearchParams();
    names.forEach(function (name) { if (state[name]) { p.set(name, state[name]); } });
    return p.toString();
  }
  function writeUrl(push) {
    var url = "/viz?" + query(window.bepviz.state, PARAMS);
    if (push) { history.pushState(null, "", url); } else { history.replaceState(null, "", url); }
  }
  function expanded() { return (window.bepviz.state.expand || "").split(",").filter(Boolean); }
  function setExpanded(list) {
    window.bepviz.state.expand = list.join(",");
    delete window.bepviz.state.select;
    writeUrl(true);
    load();
  }
  function select(id) {
    if (id) { window.bepviz.state.select = id; } else { delete window.bepviz.state.select; }
    writeUrl(true);
  }

  // ---- labels that fit their boxes ----
  function wrap(label, width) {
    var words = String(label).split(/\s+/), lines = [], line = "";
    words.forEach(function (w) {
      var next = line ? line + " " + w : w;
      if (line && measure.measureText(next).width > width) { lines.push(line); line = w; } else { line = next; }
    });
    if (line) { lines.push(line); }
    return lines;
  }
  function sizeNodes(elements) {
    elements.nodes.forEach(function (n) {
      var lines = wrap(n.data.display || n.data.label, n.data.wrapAt || 150);
      n.data.text = lines.join("\n");
      var w = Math.max.apply(null, lines.map(function (l) { return measure.measureText(l).width; }));
      n.data.w = Math.ceil(w) + 14;
      n.data.h = Math.ceil(lines.length * FONT_PX * 1.25) + 10;
    });
    elements.edges.forEach(function (e) {
      var d = e.data;
      d.edgeText = d.amountText ? d.amountText : d.relation + (d.count && d.count !== 1 ? " ×" + d.count : "");
    });
  }

  function cyStyle() {
    var s = [
      { selector: "node", style: {
        "label": "data(text)", "font-size": FONT_PX, "font-family": FONT, "text-wrap": "wrap", "text-max-width": 1000,
        "text-valign": "center", "text-halign": "center", "width": "data(w)", "height": "data(h)",
        "shape": "round-rectangle", "background-color": FILL.other, "border-width": 1, "border-color": "#8c959f",
        "color": "#1d2733", "line-height": 1.25 } },
      { selector: "edge", style: {
        "width": 1.2, "line-color": "#b6c2cf", "target-arrow-color": "#b6c2cf", "target-arrow-shape": "triangle",
        "curve-style": "bezier", "arrow-scale": 0.8, "label": "", "font-size": 12, "font-family": FONT,
        "color": "#1d2733", "text-background-color": "#ffffff", "text-background-opacity": 0.9,
        "text-background-padding": 2 } },
      { selector: "edge.quiet", style: { "opacity": 0.18 } },
      { selector: "edge.hover", style: { "label": "data(edgeText)", "width": 3, "opacity": 1, "line-color": "#0969da",
                                         "target-arrow-color": "#0969da", "z-index": 10 } },
      { selector: "edge.affiliated", style: { "line-style": "dashed", "line-color": "#cf222e", "target-arrow-color": "#cf222e" } },
      { selector: "node.warning", style: { "border-width": 4, "border-color": "#bf8700" } },
      { selector: "node.violation", style: { "border-width": 4, "border-color": "#cf222e" } },
      { selector: "node[?interested]", style: { "shape": "cut-rectangle" } },
      { selector: "node[?collapsed]", style: { "border-style": "double", "border-width": 4 } },
      { selector: "node[?isolated]", style: { "border-style": "dashed", "border-width": 2 } },
      { selector: ".faded", style: { "opacity": 0.15 } },
      { selector: "node.match", style: { "border-width": 5, "border-color": "#0969da" } },
      { selector: "node:selected", style: { "overlay-opacity": 0.15, "overlay-color": "#0969da" } }
    ];
    Object.keys(FILL).forEach(function (kind) {
      s.push({ selector: "node." + kind, style: { "background-color": FILL[kind] } });
    });
    return s;
  }

  // ---- the legend of each view ----
  function legend(data, kinds) {
    var box = document.getElementById("legend");
    box.replaceChildren(text("h2", "Legend"));
    var ul = document.createElement("ul");
    function item(label, style, cls) {
      var li = document.createElement("li"), sw = text("span", "", "swatch " + (cls || ""));
      Object.keys(style || {}).forEach(function (k) { sw.style[k] = style[k]; });
      li.appendChild(sw); li.appendChild(text("span", label)); ul.appendChild(li);
    }
    if (data.view === "governance") {
      item("independent trustee", {}, "independent");
      item("interested person (reason given)", {}, "interested");
      item("voted for, in person", {}, "for");
      item("voted, not in person", {}, "remote");
      item("voted against, abstained or absent", {}, "dissent");
      item("not in office / no ballot", {}, "none");
      item("red / amber bar: the trustee has a violation / warning", { borderLeft: "4px solid #cf222e" });
    } else if (data.view === "money") {
      kinds.forEach(function (k) { item(KIND_NAMES[k] || k, { background: FILL[k] }); });
      item("band width: amount in the period; hover a band for its amount", { background: "#b6c2cf" });
      item("red / amber outline: violation / warning", { border: "3px solid #cf222e" });
    } else {
      kinds.forEach(function (k) { item(KIND_NAMES[k] || k, { background: FILL[k] }); });
      item("red / amber ring: a violation / warning", { border: "3px solid #cf222e" });
      if (data.view === "control") {
        item("cut corners: interested trustee", {});
        item("dashed red: affiliated person (derived)", { borderTopStyle: "dashed", borderTopColor: "#cf222e" }, "line");
      }
      item("double border: a group of series; click it to expand", { border: "4px double #8c959f" });
      item("dashed border: parties with no edge here; click to list them", { border: "2px dashed #8c959f" });
      item("hover an edge for its relation or amount", { borderTopColor: "#b6c2cf" }, "line");
    }
    box.appendChild(ul);
  }

  // ---- details, findings, analysis ----
  function showDetails(data) {
    var box = document.getElementById("details");
    box.replaceChildren(text("h2", data.label));
    var table = document.createElement("table");
    var skip = { findings: 1, label: 1, members: 1, memberLabels: 1, text: 1, w: 1, h: 1 };
    Object.keys(data).sort().forEach(function (key) {
      if (skip[key] || data[key] === null || data[key] === undefined) { return; }
      var row = table.insertRow();
      row.insertCell().textContent = key;
      var v = data[key];
      row.insertCell().textContent = Array.isArray(v) ? v.join("; ") : String(v);
    });
    box.appendChild(table);
    if (data.memberLabels) {
      box.appendChild(text("h2", "Members (" + data.memberLabels.length + ")"));
      var ul = document.createElement("ul");
      data.memberLabels.forEach(function (m) { ul.appendChild(text("li", m)); });
      box.appendChild(ul);
    }
    if (data.cluster && !data.collapsed) {
      var b = text("button", "Group the series of this sub-adviser again");
      b.addEventListener("click", function () {
        setExpanded(expanded().filter(function (c) { return c !== data.cluster && c !== "all"; }));
      });
      box.appendChild(b);
    }
    var findings = data.findings || [];
    box.appendChild(text("h2", findings.length ? "Findings (" + findings.length + ")" : "No findings"));
    findings.forEach(function (f) { box.appendChild(findingBox(f, true)); });
  }
  function findingBox(f, long) {
    var div = text("div", "", "finding " + f.severity);
    div.appendChild(text("strong", f.rule + " (" + f.severity + ") "));
    div.appendChild(text("span", f.message + (long && f.citation ? " — " + f.citation.join("; ") : "")));
    div.addEventListener("click", function () { highlight(f); });
    return div;
  }
  // clicking a finding picks out, on the graph, every node that carries it
  function highlight(f) {
    var cy = window.bepviz.cy;
    if (!cy) { return; }
    var focus = typeof f.focus === "string" ? f.focus : f.focus.table + "/" + f.focus.id;
    var evidence = {};
    (f.evidence || []).concat([focus]).forEach(function (e) { evidence[e] = 1; });
    var hits = cy.nodes().filter(function (n) {
      return (n.data("findings") || []).some(function (g) { return g.rule === f.rule && g.focus === focus; }) ||
        evidence[n.data("table") + "/" + n.data("entityId")] === 1;
    });
    cy.elements().removeClass("faded match");
    if (hits.length) { cy.elements().not(hits.closedNeighborhood()).addClass("faded"); hits.addClass("match"); }
  }
  function showUnplaced(data) {
    var box = document.getElementById("unplaced");
    box.replaceChildren();
    if (!data.unplaced.length) { return; }
    box.appendChild(text("h2", "Findings not on a drawn node (" + data.unplaced.length + ")"));
    data.unplaced.forEach(function (f) { box.appendChild(findingBox(f, false)); });
  }
  function showClusters(data) {
    var box = document.getElementById("clusters");
    box.replaceChildren();
    if (!data.clusters || !data.clusters.length) { return; }
    box.appendChild(text("h2", "Series by sub-adviser"));
    var all = text("button", "Expand all");
    all.addEventListener("click", function () { setExpanded(["all"]); });
    var none = text("button", "Group all");
    none.addEventListener("click", function () { setExpanded([]); });
    box.appendChild(all); box.appendChild(none);
  }
  function showStatus(status) {
    var box = document.getElementById("heat");
    box.replaceChildren();
    if (!status || !status.columns.length) { return; }
    box.appendChild(text("h2", "Status of each series by rule family"));
    var t = document.createElement("table");
    t.className = "heat";
    var head = t.createTHead().insertRow();
    head.appendChild(text("th", "series"));
    status.columns.forEach(function (c) { head.appendChild(text("th", c.replace("BEP-", "¶"))); });
    var body = t.createTBody();
    status.rows.forEach(function (r) {
      var row = body.insertRow();
      row.insertCell().textContent = r.label;
      r.cells.forEach(function (c) {
        var td = row.insertCell(), v = c.violation || 0, w = c.warning || 0;
        td.textContent = v + w ? String(v + w) : "";
        td.className = v > 1 ? "v2" : v ? "v1" : w ? "w" : "";
        td.title = v + " violations, " + w + " warnings";
      });
    });
    box.appendChild(t);
    box.appendChild(text("p", status.without + " series have no finding. Columns: the plan paragraph of the rules; " +
      "the count of findings, red for violations, amber for warnings only.", "hint"));
  }

  // the date slider over the plan's quarter ends: fetched once, after the view is drawn
  function showTimeline() {
    var box = document.getElementById("timeline");
    var data = window.bepviz.data;
    function render(q) {
      box.replaceChildren();
      var note = q.note ? text("p", q.note, "hint") : null;  // the quarter ends no findings file covers
      if (!q.quarters.length) { box.hidden = !note; if (note) { box.appendChild(note); } return; }
      box.hidden = false;
      var most = Math.max.apply(null, q.quarters.map(function (x) { return x.violations + x.warnings; })) || 1;
      var bars = text("div", "", "bars"), current = -1;
      q.quarters.forEach(function (x, i) {
        var bar = text("div", "", "bar");
        var v = text("span", "", "v"), w = text("span", "", "w");
        v.style.height = (24 * x.violations / most) + "px";
        w.style.height = (24 * x.warnings / most) + "px";
        bar.appendChild(v); bar.appendChild(w);
        bar.title = x.quarter + " (" + x.end + "): " + x.violations + " violations, " + x.warnings + " warnings";
        if (x.end === window.bepviz.state.asOf) { bar.classList.add("current"); current = i; }
        bar.addEventListener("click", function () { goTo(x.end); });
        bars.appendChild(bar);
      });
      var slider = document.createElement("input");
      slider.type = "range"; slider.min = 0; slider.max = q.quarters.length - 1; slider.step = 1;
      slider.value = current >= 0 ? current : q.quarters.length - 1;
      slider.id = "quarter";
      slider.setAttribute("aria-label", "quarter end");
      var label = text("span", "");
      function say() {
        var x = q.quarters[slider.value];
        label.textContent = x.quarter + ": " + x.violations + " violations, " + x.warnings + " warnings" +
          (current < 0 ? " (shown: " + window.bepviz.state.asOf + ")" : "");
      }
      slider.addEventListener("input", say);
      slider.addEventListener("change", function () { goTo(q.quarters[slider.value].end); });
      say();
      box.appendChild(text("span", "Findings by quarter:"));
      box.appendChild(bars); box.appendChild(slider); box.appendChild(label);
      if (note) { box.appendChild(note); }
    }
    function goTo(day) {
      var s = window.bepviz.state;
      s.asOf = day; delete s.from; delete s.to; delete s.select;
      writeUrl(true);
      load();
    }
    if (window.bepviz.quarters) { render(window.bepviz.quarters); return; }
    fetch("/viz/quarters?until=" + encodeURIComponent(data.latestFact || data.asOf))
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (q) { if (q) { window.bepviz.quarters = q; render(q); } });
  }

  function showAnalysis(analysis) {
    var box = document.getElementById("analysis");
    box.replaceChildren();
    if (!analysis) { return; }
    var c = analysis.concentration;
    box.appendChild(text("h2", "Directed commissions by broker (HHI " + c.hhi + ")"));
    var t = document.createElement("table");
    c.brokers.forEach(function (b) {
      var r = t.insertRow();
      r.insertCell().textContent = b.label;
      var a = r.insertCell(); a.textContent = money(b.commission); a.className = "num";
      var s = r.insertCell(); s.textContent = (100 * b.share).toFixed(1) + "%"; s.className = "num";
    });
    if (!c.brokers.length) { box.appendChild(text("p", "No directed commissions in the period.", "hint")); }
    box.appendChild(t);
    box.appendChild(text("h2", "Affiliation paths"));
    analysis.affiliationPaths.forEach(function (p) {
      box.appendChild(text("div", p.path.join(" → ") + " (" + p.relations.join(", ") + ")" +
        (p.restsOn.length ? " [" + p.restsOn.join(", ") + "]" : "")));
    });
    var exposed = analysis.exposure.filter(function (x) { return x.affiliated > 0; });
    box.appendChild(text("h2", "Series with directed brokerage to affiliated brokers"));
    if (!exposed.length) { box.appendChild(text("p", "None in the period.", "hint")); }
    var e = document.createElement("table");
    exposed.slice(0, 10).forEach(function (x) {
      var r = e.insertRow();
      r.insertCell().textContent = x.label;
      var s = r.insertCell(); s.textContent = (100 * x.share).toFixed(1) + "%"; s.className = "num";
    });
    box.appendChild(e);
  }

  // ---- structure: one row per sub-adviser ----
  // The structure is a table more than a network: each sub-adviser, the series it manages and its
  // sub-advisory agreement on one row; the Trust, the adviser, the Distributor and the other agreements
  // (each with its brokers just under it) in a column at the left. The series of a row are laid out in
  // a grid whose number of columns is chosen so the whole view fits the screen at the largest zoom.
  var GAP = 10, COL_GAP = 28, INDENT = 16;
  function edgesBy(elements, relation) {
    return elements.edges.filter(function (e) { return e.data.relation === relation; });
  }
  function shortSeriesNames(elements) {
    var byId = {};
    elements.nodes.forEach(function (n) { byId[n.data.id] = n.data; });
    edgesBy(elements, "subAdvises").forEach(function (e) {
      var sub = byId[e.data.source], series = byId[e.data.target];
      if (!sub || !series || series.collapsed) { return; }
      var prefix = sub.label + "/";
      if (String(series.label).indexOf(prefix) === 0) { series.display = series.label.slice(prefix.length); }
      series.wrapAt = 120;
    });
  }
  function rowsLayout(elements, perRow) {
    var byId = {}, placed = {}, pos = {};
    elements.nodes.forEach(function (n) { byId[n.data.id] = n.data; });
    // Cytoscape places a node by its centre: *left*, *top* and the width of the slot it sits in
    function place(d, left, top, slot) { pos[d.id] = { x: left + (slot || d.w) / 2, y: top + d.h / 2 }; }
    var subs = elements.nodes.filter(function (n) { return n.data.kind === "sub-adviser"; })
      .map(function (n) { return n.data; })
      .sort(function (a, b) { return String(a.label).localeCompare(String(b.label)); });
    var seriesOf = {}, agreementsOf = {}, rowOf = {};
    edgesBy(elements, "subAdvises").forEach(function (e) {
      (seriesOf[e.data.source] = seriesOf[e.data.source] || []).push(byId[e.data.target]);
    });
    edgesBy(elements, "partyTo").forEach(function (e) {
      var a = byId[e.data.target];
      if (byId[e.data.source] && byId[e.data.source].kind === "sub-adviser" && a && !rowOf[a.id]) {
        rowOf[a.id] = e.data.source;
        (agreementsOf[e.data.source] = agreementsOf[e.data.source] || []).push(a);
      }
    });
    function width(list) { return Math.max.apply(null, [0].concat(list.map(function (d) { return d.w; }))); }
    // the left: the Trust and its parties, then the other agreements, each with its brokers under it
    var left = [], brokersOf = {};
    ["trust", "adviser", "distributor"].forEach(function (k) {
      elements.nodes.forEach(function (n) { if (n.data.kind === k) { left.push(n.data); } });
    });
    edgesBy(elements, "party").forEach(function (e) {
      (brokersOf[e.data.source] = brokersOf[e.data.source] || []).push(byId[e.data.target]);
    });
    subs.forEach(function (sub) {
      placed[sub.id] = 1;
      (seriesOf[sub.id] || []).forEach(function (d) { placed[d.id] = 1; });
      (agreementsOf[sub.id] || []).forEach(function (d) { placed[d.id] = 1; });
    });
    left.forEach(function (d) { placed[d.id] = 1; });
    var others = elements.nodes.map(function (n) { return n.data; }).filter(function (d) { return !placed[d.id]; });
    var column = left.map(function (d) { return [d, 0]; });
    others.filter(function (d) { return d.kind !== "broker"; }).forEach(function (d) {
      column.push([d, 0]); placed[d.id] = 1;
      (brokersOf[d.id] || []).forEach(function (b) {  // a broker just under its agreement, set in
        if (!placed[b.id]) { column.push([b, INDENT]); placed[b.id] = 1; }
      });
    });
    others.filter(function (d) { return !placed[d.id]; }).forEach(function (d) { column.push([d, 0]); });
    var y = 0, leftW = 0;
    column.forEach(function (p) {
      place(p[0], p[1], y); y += p[0].h + GAP; leftW = Math.max(leftW, p[1] + p[0].w);
    });
    var bottom = y, xSubs = leftW + COL_GAP;
    // the rows
    var subW = width(subs), allSeries = [], allAgreements = [];
    subs.forEach(function (sub) {
      allSeries = allSeries.concat(seriesOf[sub.id] || []);
      allAgreements = allAgreements.concat(agreementsOf[sub.id] || []);
    });
    var cellW = width(allSeries);
    var xSeries = xSubs + subW + COL_GAP;
    var xAgreements = xSeries + perRow * (cellW + GAP) - GAP + COL_GAP;
    var yr = 0;
    subs.forEach(function (sub) {
      var series = seriesOf[sub.id] || [], agreements = agreementsOf[sub.id] || [];
      place(sub, xSubs, yr);
      var ys = yr;  // each line of the grid as tall as its tallest series
      for (var i = 0; i < series.length; i += perRow) {
        var line = series.slice(i, i + perRow), tall = width(line.map(function (d) { return { w: d.h }; }));
        line.forEach(function (d, j) { place(d, xSeries + j * (cellW + GAP), ys + (tall - d.h) / 2, cellW); });
        ys += tall + GAP;
      }
      var ya = yr;
      agreements.forEach(function (d) { place(d, xAgreements, ya); ya += d.h + GAP; });
      yr = Math.max(yr + sub.h + GAP, ys, ya);
    });
    bottom = Math.max(bottom, yr);
    return { positions: pos, w: xAgreements + width(allAgreements), h: bottom, xSubs: xSubs };
  }
  function structureLayout(elements, box) {  // positions for Cytoscape's preset layout
    shortSeriesNames(elements);
    sizeNodes(elements);
    var best = null;
    for (var k = 1; k <= 6; k++) {
      var l = rowsLayout(elements, k);
      var zoom = Math.min((box.width - 32) / l.w, (box.height - 32) / l.h);
      if (!best || zoom > best.zoom) { best = l; best.zoom = zoom; }
    }
    elements.nodes.forEach(function (n) { n.position = best.positions[n.data.id]; });
    // a series' link to an agreement of the left column crosses the page: drawn faint until hovered
    var left = {};
    elements.nodes.forEach(function (n) {
      if (n.data.kind === "agreement" && n.position && n.position.x < best.xSubs) { left[n.data.id] = 1; }
    });
    elements.edges.forEach(function (e) {
      if (e.data.relation === "coveredBy" && left[e.data.target]) { e.classes = (e.classes || "") + " quiet"; }
    });
  }

  // ---- structure (rows) and control (dagre): Cytoscape ----
  function drawGraph(data) {
    var structure = data.view === "structure";
    if (structure) { structureLayout(data.elements, graphBox.getBoundingClientRect()); } else { sizeNodes(data.elements); }
    var holder = document.createElement("div");
    holder.id = "cy";
    holder.style.position = "absolute";
    holder.style.inset = "0";
    graphBox.appendChild(holder);
    var cy = cytoscape({
      container: holder, elements: data.elements, style: cyStyle(),
      layout: structure ? { name: "preset" }
        : { name: "dagre", rankDir: "LR", nodeSep: 8, rankSep: 48, edgeSep: 4, animate: false },
      wheelSensitivity: 0.3
    });
    // the whole view if it fits with labels at MIN_PX or more, else its top left at MIN_PX
    cy.fit(undefined, 16);
    if (cy.zoom() > 1.2) { cy.zoom(1.2); cy.center(); }
    if (cy.zoom() * FONT_PX < MIN_PX) {
      var z = MIN_PX / FONT_PX, bb = cy.elements().boundingBox();
      cy.zoom(z);
      cy.pan({ x: 16 - bb.x1 * z, y: 16 - bb.y1 * z });
    }
    cy.on("tap", "node", function (evt) {
      var n = evt.target;
      if (n.data("collapsed") && n.data("cluster")) {
        setExpanded(expanded().concat([n.data("cluster")]));
        return;
      }
      select(n.id());
      showDetails(n.data());
    });
    cy.on("mouseover", "edge", function (evt) { evt.target.addClass("hover"); });
    cy.on("mouseout", "edge", function (evt) { evt.target.removeClass("hover"); });
    window.bepviz.cy = cy;
    var chosen = window.bepviz.state.select && cy.getElementById(window.bepviz.state.select);
    if (chosen && chosen.length) { chosen.select(); showDetails(chosen.data()); }
    var kinds = {};
    cy.nodes().forEach(function (n) { kinds[n.data("kind")] = 1; });
    legend(data, Object.keys(kinds).sort());
  }

  // ---- money: Sankey ----
  var SVGNS = "http://www.w3.org/2000/svg";
  function svgEl(tag, attrs, parent) {
    var el = document.createElementNS(SVGNS, tag);
    Object.keys(attrs).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    if (parent) { parent.appendChild(el); }
    return el;
  }
  function fitText(el, full, width) {
    el.textContent = full;
    if (el.getComputedTextLength() <= width) { return; }
    var s = full;
    while (s.length > 1 && el.getComputedTextLength() > width) { s = s.slice(0, -1); el.textContent = s.trim() + "…"; }
  }
  // a name on at most two lines that fit *width*, the second cut with an ellipsis if need be
  function wrapSvg(label, width, svg) {
    var probe = svgEl("text", { x: 0, y: -100, "class": "label" }, svg), words = String(label).split(/\s+/);
    var first = "", i = 0;
    for (; i < words.length; i++) {
      probe.textContent = first ? first + " " + words[i] : words[i];
      if (first && probe.getComputedTextLength() > width) { break; }
      first = probe.textContent;
    }
    var lines = [first];
    if (i < words.length) { fitText(probe, words.slice(i).join(" "), width); lines.push(probe.textContent); }
    probe.remove();
    return lines;
  }
  function drawSankey(data) {
    var k = data.sankey, box = graphBox.getBoundingClientRect();
    var width = Math.max(900, box.width - 4), top = 40, lineH = 15, pad = 3 * lineH + 4;
    var counts = [0, 0, 0, 0, 0];
    k.nodes.forEach(function (n) { counts[n.column] += 1; });
    var height = Math.max(box.height - 4, top + 3 * lineH + Math.max.apply(null, counts) * (pad + 2));
    var svg = svgEl("svg", { id: "sankey", width: width, height: height, xmlns: SVGNS });
    graphBox.appendChild(svg);
    var kinds = {};
    k.nodes.forEach(function (n) { kinds[n.kind] = 1; });
    legend(data, Object.keys(kinds).sort());
    if (!k.links.length) {
      svgEl("text", { x: 20, y: 60 }, svg).textContent = "No directed brokerage, payments or spending from " + k.from + " to " + k.to + ".";
      return;
    }
    var labelRoom = Math.floor((width - 20) / 5) - 14, nodeW = 12;
    var layout = d3.sankey().nodeId(function (d) { return d.id; })
      .nodeAlign(function (d) { return d.column; }).nodeWidth(nodeW).nodePadding(pad)
      .nodeSort(function (a, b) { return b.value - a.value; })
      .extent([[8, top + lineH], [width - labelRoom - 14, height - 2 * lineH]]);
    var graph = layout({ nodes: k.nodes.map(function (n) { return Object.assign({}, n); }),
                         links: k.links.map(function (l) { return Object.assign({}, l); }) });
    var columnX = {};
    graph.nodes.forEach(function (n) { columnX[n.column] = n.x0; });
    k.columns.forEach(function (name, i) {
      if (columnX[i] === undefined) { return; }
      var t = svgEl("text", { x: columnX[i], y: 20, "class": "column" }, svg);
      fitText(t, name, labelRoom);
    });
    var bands = svgEl("g", {}, svg), path = d3.sankeyLinkHorizontal();
    graph.links.forEach(function (l) {
      var p = svgEl("path", { d: path(l), "class": "band", stroke: FILL[l.source.kind] === undefined ? "#b6c2cf" : shade(l.source.kind),
                              "stroke-width": Math.max(1, l.width) }, bands);
      svgEl("title", {}, p).textContent = l.source.label + " → " + l.target.label + ": " + money(l.value) +
        (l.count ? " (" + l.count + " " + (l.relation === "commission" ? "trades" : "items") + ")" : "");
      p.addEventListener("mouseover", function () { p.classList.add("hover"); });
      p.addEventListener("mouseout", function () { p.classList.remove("hover"); });
    });
    graph.nodes.forEach(function (n) {
      var r = svgEl("rect", { x: n.x0, y: n.y0, width: n.x1 - n.x0, height: Math.max(1, n.y1 - n.y0),
                              fill: shade(n.kind), "class": "node " + (n.severity || ""), "data-id": n.id }, svg);
      svgEl("title", {}, r).textContent = n.label + ": " + money(n.value);
      var lines = wrapSvg(n.label, labelRoom, svg), mid = (n.y0 + n.y1) / 2;
      var y = mid - (lines.length + 1) * lineH / 2 + lineH - 3;
      lines.forEach(function (line, i) {
        svgEl("text", { x: n.x1 + 5, y: y + i * lineH, "class": "label" }, svg).textContent = line;
      });
      var a = svgEl("text", { x: n.x1 + 5, y: y + lines.length * lineH, "class": "label amount" }, svg);
      a.textContent = whole(n.value);
      r.addEventListener("click", function () {
        if (n.cluster && n.members && n.members.length) { setExpanded(expanded().concat([n.cluster])); return; }
        select(n.id);
        var node = data.elements.nodes.find(function (e) { return e.data.id === n.id; });
        showDetails(node ? node.data : { label: n.label });
      });
    });
    var chosen = window.bepviz.state.select && data.elements.nodes.find(function (e) { return e.data.id === window.bepviz.state.select; });
    if (chosen) { showDetails(chosen.data); }
  }
  function shade(kind) {
    return { series: "#2da44e", broker: "#d1242f", "benefit-kind": "#bf8700", recipient: "#8250df",
             category: "#1a7f37" }[kind] || "#8c959f";
  }

  // ---- governance: matrix ----
  function drawMatrix(data) {
    var m = data.matrix;
    legend(data, []);
    var table = document.createElement("table");
    table.className = "matrix";
    table.id = "matrix";
    var head = table.createTHead().insertRow();
    head.appendChild(text("th", "Trustee"));
    head.appendChild(text("th", "Status as of " + m.asOf));
    m.meetings.forEach(function (meeting) {
      var th = document.createElement("th");
      th.appendChild(text("div", meeting.date));
      th.appendChild(text("div", meeting.matters + " plan matters" + (meeting.inPerson === false ? ", not in person" : "")));
      th.title = meeting.id;
      head.appendChild(th);
    });
    var body = table.createTBody();
    m.trustees.forEach(function (t, i) {
      var row = body.insertRow();
      var th = text("th", t.label, "trustee " + (t.severity || ""));
      th.dataset.node = t.node;
      if (window.bepviz.state.select === t.node) { th.classList.add("selected"); }
      th.addEventListener("click", function () {
        select(t.node);
        table.querySelectorAll("th.selected").forEach(function (x) { x.classList.remove("selected"); });
        th.classList.add("selected");
        var node = data.elements.nodes.find(function (e) { return e.data.id === t.node; });
        showDetails(node ? node.data : { label: t.label });
      });
      row.appendChild(th);
      var st = row.insertCell();
      st.textContent = t.status;
      st.className = "status " + (t.interested === true ? "interested" : t.interested === false ? "independent" : "none");
      m.cells[i].forEach(function (c) {
        var td = row.insertCell();
        td.textContent = c.text.replace("; ", "\n");  // the votes, then where they were cast
        td.className = c.mark;
      });
    });
    if (!m.meetings.length) {
      graphBox.appendChild(text("p", "No board meeting on the plan from " + data.from + " to " + data.to + ".", "hint"));
    }
    graphBox.appendChild(table);
    var chosen = window.bepviz.state.select && data.elements.nodes.find(function (e) { return e.data.id === window.bepviz.state.select; });
    if (chosen) { showDetails(chosen.data); }
  }

  function draw(data) {
    if (window.bepviz.cy) { window.bepviz.cy.destroy(); window.bepviz.cy = null; }
    graphBox.replaceChildren();
    document.getElementById("details").replaceChildren(text("h2", "Details"),
      text("p", "Click a node for its details and findings.", "hint"));
    window.bepviz.data = data;
    if (data.view === "governance") { drawMatrix(data); }
    else if (data.view === "money") { drawSankey(data); }
    else { drawGraph(data); }
    showClusters(data);
    showUnplaced(data);
    showStatus(data.status);
    showAnalysis(data.analysis);
    showTimeline();
    var f = data.findings;
    statusLine.textContent = data.title + " — as of " + data.asOf + ", " + data.from + " to " + data.to +
      (f ? "; " + f.total + " findings (" + f.counts.violation + " violations, " + f.counts.warning + " warnings)" : "") +
      (data.latestFact ? ". Latest dated fact loaded: " + data.latestFact + "." : "");
    document.getElementById("png").hidden = document.getElementById("svg").hidden = data.view === "governance";
    document.body.dataset.state = "ready";
  }

  function showForm(state) {
    ["asOf", "from", "to"].forEach(function (name) { document.getElementById(name).value = state[name] || ""; });
    var view = document.getElementById("view");
    if (Array.prototype.some.call(view.options, function (o) { return o.value === state.view; })) { view.value = state.view; }
  }

  function load() {
    var state = window.bepviz.state;
    document.body.dataset.state = "loading";
    statusLine.textContent = "Loading…";
    errorLine.hidden = true;
    showForm(state);
    // the URL's own values are sent as they are: a bad one is named by the server, never replaced
    return fetch("/viz/data?" + query(state, ["view", "asOf", "from", "to", "expand"]))
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) { throw new Error(body.detail || response.statusText); }
          return body;
        });
      })
      .then(function (data) {
        state.view = data.view; state.asOf = data.asOf; state.from = data.from; state.to = data.to;
        writeUrl(false);
        showForm(state);
        draw(data);
      })
      .catch(function (err) {
        graphBox.replaceChildren();
        errorLine.textContent = "Could not draw the view: " + err.message;
        errorLine.hidden = false;
        statusLine.textContent = "Could not draw the view: " + err.message;
        document.body.dataset.state = "error";
      });
  }

  function download(name, blob) {
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
  }
  function fileName(ext) { var d = window.bepviz.data; return "bep-" + d.view + "-" + d.asOf + "." + ext; }
  function sankeySvg() { return new XMLSerializer().serializeToString(document.getElementById("sankey")); }

  document.getElementById("png").addEventListener("click", function () {
    var cy = window.bepviz.cy;
    if (cy) { download(fileName("png"), cy.png({ full: true, scale: 2, output: "blob", bg: "#ffffff" })); return; }
    var svg = document.getElementById("sankey");
    if (!svg) { return; }
    var img = new Image(), canvas = document.createElement("canvas");
    canvas.width = svg.width.baseVal.value * 2; canvas.height = svg.height.baseVal.value * 2;
    img.onload = function () {
      var ctx = canvas.getContext("2d");
      ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
      canvas.toBlob(function (b) { download(fileName("png"), b); });
    };
    img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(sankeySvg());
  });
  document.getElementById("svg").addEventListener("click", function () {
    var cy = window.bepviz.cy;
    var body = cy ? cy.svg({ full: true, bg: "#ffffff" }) : sankeySvg();
    download(fileName("svg"), new Blob([body], { type: "image/svg+xml" }));
  });
  document.getElementById("search").addEventListener("input", function (evt) {
    var cy = window.bepviz.cy;
    if (!cy) { return; }
    var q = evt.target.value.trim().toLowerCase();
    cy.elements().removeClass("faded match");
    if (!q) { return; }
    var hits = cy.nodes().filter(function (n) {
      return String(n.data("label")).toLowerCase().indexOf(q) >= 0 || String(n.id()).toLowerCase().indexOf(q) >= 0;
    });
    cy.elements().not(hits.closedNeighborhood()).addClass("faded");
    hits.addClass("match");
  });
  form.addEventListener("submit", function (evt) {
    evt.preventDefault();
    var s = window.bepviz.state, view = document.getElementById("view").value;
    if (view !== s.view) { delete s.expand; delete s.select; }
    s.view = view;
    // a new as-of date with the period untouched: the period follows it (the year that ends on it)
    if (document.getElementById("asOf").value !== (s.asOf || "") &&
        document.getElementById("from").value === (s.from || "") && document.getElementById("to").value === (s.to || "")) {
      document.getElementById("from").value = ""; document.getElementById("to").value = "";
    }
    ["asOf", "from", "to"].forEach(function (name) {
      var v = document.getElementById(name).value;
      if (v) { s[name] = v; } else { delete s[name]; }
    });
    writeUrl(true);
    load();
  });
  document.getElementById("view").addEventListener("change", function () { form.requestSubmit(); });
  window.addEventListener("popstate", function () { window.bepviz.state = stateFromUrl(); load(); });

  window.bepviz.state = stateFromUrl();
  load();
}());
