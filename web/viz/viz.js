// The /viz page: fetch a board view from /viz/data and draw it with Cytoscape.js (dagre, layered).
// State for tests and tools: document.body.dataset.state is "ready" once drawn, "error" on failure;
// window.bepviz holds {cy, data}.
(function () {
  "use strict";
  if (window.cytoscapeDagre) { cytoscape.use(window.cytoscapeDagre); }
  if (window.cytoscapeSvg) { cytoscape.use(window.cytoscapeSvg); }

  var COLORS = {
    trust: "#0b3d91", adviser: "#1f6feb", "sub-adviser": "#54aeff", distributor: "#8250df",
    series: "#2da44e", agreement: "#bf8700", broker: "#d1242f", trustee: "#6e7781",
    organization: "#57606a", matter: "#fb8f44", meeting: "#a475f9", category: "#1a7f37",
    "benefit-kind": "#9a6700", recipient: "#8250df", other: "#afb8c1"
  };
  var form = document.getElementById("controls");
  var statusLine = document.getElementById("status");
  window.bepviz = { cy: null, data: null };

  function text(tag, content, cls) {
    var el = document.createElement(tag);
    el.textContent = content;
    if (cls) { el.className = cls; }
    return el;
  }

  function style() {
    var s = [
      { selector: "node", style: {
        "label": "data(label)", "font-size": 10, "text-wrap": "wrap", "text-max-width": 120,
        "text-valign": "bottom", "text-margin-y": 3, "width": 22, "height": 22,
        "background-color": COLORS.other, "border-width": 0 } },
      { selector: "edge", style: {
        "width": 1.2, "line-color": "#b6c2cf", "target-arrow-color": "#b6c2cf",
        "target-arrow-shape": "triangle", "curve-style": "bezier", "arrow-scale": 0.8,
        "label": "data(relation)", "font-size": 8, "color": "#57606a", "text-rotation": "autorotate" } },
      { selector: "edge[amountText]", style: { "label": "data(amountText)", "width": "mapData(amount, 0, 100000, 1, 10)" } },
      { selector: "edge.affiliated", style: { "line-style": "dashed", "line-color": "#cf222e", "target-arrow-color": "#cf222e" } },
      { selector: "edge.against, edge.abstain, edge.absent", style: { "line-color": "#fb8f44", "target-arrow-color": "#fb8f44" } },
      { selector: "node.warning", style: { "border-width": 4, "border-color": "#bf8700" } },
      { selector: "node.violation", style: { "border-width": 4, "border-color": "#cf222e" } },
      { selector: "node[?interested]", style: { "shape": "diamond" } },
      { selector: ".faded", style: { "opacity": 0.15 } },
      { selector: "node.match", style: { "border-width": 4, "border-color": "#0969da" } },
      { selector: "node:selected", style: { "overlay-opacity": 0.2, "overlay-color": "#0969da" } }
    ];
    Object.keys(COLORS).forEach(function (kind) {
      s.push({ selector: "node." + kind, style: { "background-color": COLORS[kind] } });
    });
    return s;
  }

  function params() {
    var p = new URLSearchParams();
    ["view", "asOf", "from", "to"].forEach(function (name) {
      var v = document.getElementById(name).value;
      if (v) { p.set(name, v); }
    });
    return p;
  }

  function showDetails(node) {
    var box = document.getElementById("details");
    box.replaceChildren(text("h2", node.data("label")));
    var table = document.createElement("table");
    var skip = { findings: 1, label: 1, members: 1 };
    Object.keys(node.data()).sort().forEach(function (key) {
      if (skip[key]) { return; }
      var row = table.insertRow();
      row.insertCell().textContent = key;
      var v = node.data(key);
      row.insertCell().textContent = Array.isArray(v) ? v.join("; ") : String(v);
    });
    box.appendChild(table);
    var findings = node.data("findings") || [];
    box.appendChild(text("h2", findings.length ? "Findings (" + findings.length + ")" : "No findings"));
    findings.forEach(function (f) {
      var div = text("div", "", "finding " + f.severity);
      div.appendChild(text("strong", f.rule + " (" + f.severity + ") "));
      div.appendChild(text("span", f.message + " — " + f.citation.join("; ")));
      box.appendChild(div);
    });
  }

  function showUnplaced(data) {
    var box = document.getElementById("unplaced");
    box.replaceChildren();
    if (!data.unplaced.length) { return; }
    box.appendChild(text("h2", "Findings not on a drawn node (" + data.unplaced.length + ")"));
    data.unplaced.forEach(function (f) {
      var div = text("div", "", "finding " + f.severity);
      div.appendChild(text("strong", f.rule + " "));
      div.appendChild(text("span", f.message));
      box.appendChild(div);
    });
  }

  function money(v) { return v.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 }); }

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
    box.appendChild(t);
    box.appendChild(text("h2", "Affiliation paths"));
    analysis.affiliationPaths.forEach(function (p) {
      box.appendChild(text("div", p.path.join(" → ") + " (" + p.relations.join(", ") + ")" +
        (p.restsOn.length ? " [" + p.restsOn.join(", ") + "]" : "")));
    });
    box.appendChild(text("h2", "Series most exposed to affiliated brokerage"));
    var e = document.createElement("table");
    analysis.exposure.slice(0, 10).forEach(function (x) {
      var r = e.insertRow();
      r.insertCell().textContent = x.label;
      var s = r.insertCell(); s.textContent = (100 * x.share).toFixed(1) + "%"; s.className = "num";
    });
    box.appendChild(e);
  }

  function draw(data) {
    if (window.bepviz.cy) { window.bepviz.cy.destroy(); }
    var cy = cytoscape({
      container: document.getElementById("graph"),
      elements: data.elements,
      style: style(),
      // top to bottom: the wide screen takes a rank of 38 series side by side, where a
      // left-to-right layout stacks them into one column too tall to read
      layout: { name: "dagre", rankDir: "TB", nodeSep: 8, rankSep: 120, animate: false },
      wheelSensitivity: 0.3
    });
    cy.on("tap", "node", function (evt) { showDetails(evt.target); });
    window.bepviz.cy = cy;
    window.bepviz.data = data;
    showUnplaced(data);
    showAnalysis(data.analysis);
    var f = data.findings;
    statusLine.textContent = data.title + " — as of " + data.asOf + ", " + data.from + " to " + data.to + ": " +
      data.counts.nodes + " nodes, " + data.counts.edges + " edges" +
      (f ? "; " + f.total + " findings (" + f.counts.violation + " violations, " + f.counts.warning + " warnings)" : "");
    document.body.dataset.state = "ready";
  }

  function load() {
    document.body.dataset.state = "loading";
    statusLine.textContent = "Loading…";
    history.replaceState(null, "", "/viz?" + params().toString());
    return fetch("/viz/data?" + params().toString())
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) { throw new Error(body.detail || response.statusText); }
          return body;
        });
      })
      .then(draw)
      .catch(function (err) {
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

  function fileName(ext) {
    var d = window.bepviz.data;
    return "bep-" + d.view + "-" + d.asOf + "." + ext;
  }

  document.getElementById("png").addEventListener("click", function () {
    download(fileName("png"), window.bepviz.cy.png({ full: true, scale: 2, output: "blob", bg: "#ffffff" }));
  });
  document.getElementById("svg").addEventListener("click", function () {
    download(fileName("svg"), new Blob([window.bepviz.cy.svg({ full: true, bg: "#ffffff" })], { type: "image/svg+xml" }));
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
    if (hits.length) { cy.fit(hits, 60); }
  });
  form.addEventListener("submit", function (evt) { evt.preventDefault(); load(); });

  var query = new URLSearchParams(location.search);
  ["view", "asOf", "from", "to"].forEach(function (name) {
    if (query.get(name)) { document.getElementById(name).value = query.get(name); }
  });
  load();
}());
