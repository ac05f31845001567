/* kpisite: draws the plotly figures of a page, follows the palette, sorts tables and
 * downloads them as CSV. Figures live in data-figure attributes (inline scripts lose their
 * attributes under instant navigation), so one subscription to the theme's document$
 * renders every page, first load or not. Rendering is idempotent. */
(function () {
  "use strict";

  var PALETTES = {
    light: {
      font: "#1f2933", grid: "#e3e7ec", paper: "rgba(0,0,0,0)",
      colorway: ["#3f51b5", "#f08c00", "#2b8a3e", "#c2255c", "#1098ad", "#7048e8", "#868e96"]
    },
    dark: {
      font: "#e6e8ee", grid: "#3a3f4b", paper: "rgba(0,0,0,0)",
      colorway: ["#8c9eff", "#ffc078", "#8ce99a", "#faa2c1", "#66d9e8", "#b197fc", "#ced4da"]
    }
  };

  function scheme() {
    return document.body.getAttribute("data-md-color-scheme") === "slate" ? "dark" : "light";
  }

  /* The figure's layout with the palette's colours. Margins are small and grow to fit
   * what surrounds the plot (automargin): the title at the top of the chart, the legend
   * above the plot, where rotated category labels cannot run into it (below a pie), and
   * the tick labels. The right margin leaves room for the last label of an axis. */
  function themed(layout) {
    var p = PALETTES[scheme()];
    var axis = { gridcolor: p.grid, zerolinecolor: p.grid, linecolor: p.grid, color: p.font };
    var pie = !layout.xaxis && !layout.yaxis;
    var styled = Object.assign({}, layout, {
      font: { family: "inherit", color: p.font, size: 13 },
      paper_bgcolor: p.paper, plot_bgcolor: p.paper, colorway: p.colorway,
      separators: layout.separators || ", ", margin: { t: 8, r: 24, b: 8, l: 8, pad: 4 },
      legend: pie
        ? { orientation: "h", x: 0, xanchor: "left", y: -0.02, yanchor: "top" }
        : { orientation: "h", x: 0, xanchor: "left", y: 1, yanchor: "bottom" },
      hoverlabel: { namelength: -1 }
    });
    ["xaxis", "yaxis"].forEach(function (name) {
      if (!pie) styled[name] = Object.assign({ automargin: true }, layout[name] || {}, axis);
    });
    if (layout.title) {
      styled.title = Object.assign({}, layout.title, {
        automargin: true, x: 0, xref: "container", xanchor: "left",
        y: 1, yref: "container", yanchor: "top", pad: { t: 8, b: 12 }, font: { size: 15 }
      });
    }
    return styled;
  }

  function draw(el) {
    if (el.getAttribute("data-rendered") === scheme()) return;
    var figure = JSON.parse(el.getAttribute("data-figure"));
    el.kpisiteLayout = figure.layout;
    window.Plotly.react(el, figure.data, themed(figure.layout), {
      displaylogo: false, responsive: true,
      modeBarButtonsToRemove: ["select2d", "lasso2d", "toImage"]
    });
    el.setAttribute("data-rendered", scheme());
  }

  /* plotly inserts its stylesheet (mode bar, legend, hover labels) once, when its bundle
   * loads, as CSSOM rules of style#plotly.js-style-global in <head>: the element's text is
   * empty. Instant navigation removes every head element the next page lacks, and the
   * rules with it: the mode bar becomes a grey bar and the plots grow without end. The
   * rules are kept as text while the element is there, and put back when it is gone. */
  var PLOTLY_STYLE = "plotly.js-style-global";
  var plotlyRules = "";

  function keepPlotlyStyle() {
    var style = document.getElementById(PLOTLY_STYLE);
    if (style && style.sheet && style.sheet.cssRules.length) {
      plotlyRules = Array.prototype.map.call(style.sheet.cssRules, function (rule) {
        return rule.cssText;
      }).join("\n");
    } else if (!style && plotlyRules) {
      style = document.createElement("style");
      style.id = PLOTLY_STYLE;
      style.textContent = plotlyRules;
      document.head.appendChild(style);
    }
  }

  function drawAll() {
    var charts = document.querySelectorAll(".kpisite-chart[data-figure]");
    if (!charts.length) return;
    if (!window.Plotly) { loadPlotly(); return; }
    keepPlotlyStyle();
    charts.forEach(function (el) {
      try { draw(el); } catch (error) { el.textContent = "Graphique indisponible : " + error; }
    });
  }

  /* plotly.min.js (4.8 MB) is loaded only when a page with a chart shows, from beside
   * this script (the site may live under any sub-path), once; pages reached later by
   * instant navigation find it loaded. */
  var PLOTLY = (document.currentScript && document.currentScript.src || "")
    .replace(/kpisite\.js(\?.*)?$/, "plotly.min.js");
  var loading = null;

  function loadPlotly() {
    if (loading) return;
    loading = document.createElement("script");
    loading.src = PLOTLY;
    loading.onload = drawAll;
    loading.onerror = function () {
      document.querySelectorAll(".kpisite-chart[data-figure]").forEach(function (el) {
        el.textContent = "Graphique indisponible : plotly.min.js n'a pas pu être chargé";
      });
    };
    document.head.appendChild(loading);
  }

  /* Tables: sort by a header click, download exactly the cells shown. */

  /* Numbers (data-value) by value, text cells (a dimension's members) by their text in
   * French order; a cell with no number (n/a) in a column of numbers goes last whichever
   * the direction. Periods carry their order as data-value: they sort in time. */
  function compareCells(x, y, ascending) {
    var vx = parseFloat(x.getAttribute("data-value")), vy = parseFloat(y.getAttribute("data-value"));
    if (isNaN(vx) && isNaN(vy)) {
      var text = x.textContent.trim().localeCompare(y.textContent.trim(), "fr", { numeric: true });
      return ascending ? text : -text;
    }
    if (isNaN(vx)) return 1;
    if (isNaN(vy)) return -1;
    return ascending ? vx - vy : vy - vx;
  }

  function sortBy(table, index, header) {
    var body = table.tBodies[0];
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) { return compareCells(a.cells[index], b.cells[index], ascending); });
    rows.forEach(function (row) { body.appendChild(row); });
    table.querySelectorAll("thead th").forEach(function (th) { th.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  function bindSorting(table) {
    if (table.getAttribute("data-bound")) return;
    table.setAttribute("data-bound", "1");
    table.querySelectorAll("thead th").forEach(function (th, index) {
      th.setAttribute("tabindex", "0");
      th.classList.add("kpisite-sortable");
      var sort = function () { sortBy(table, index, th); };
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter") sort(); });
    });
  }

  function csvOf(table) {
    var quote = function (text) {
      text = text.replace(/\s+/g, " ").trim();
      return /[";\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
    };
    return Array.prototype.map.call(table.rows, function (row) {
      return Array.prototype.map.call(row.cells, function (cell) { return quote(cell.textContent); }).join(";");
    }).join("\r\n") + "\r\n";
  }

  function bindDownload(button) {
    if (button.getAttribute("data-bound")) return;
    button.setAttribute("data-bound", "1");
    button.addEventListener("click", function () {
      var table = document.getElementById(button.getAttribute("data-table"));
      var blob = new Blob(["\ufeff" + csvOf(table)], { type: "text/csv;charset=utf-8" });
      var link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = button.getAttribute("data-filename") || "kpisite.csv";
      document.body.appendChild(link);
      link.click();
      setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 0);
    });
  }

  function onPage() {
    drawAll();
    document.querySelectorAll("table[data-kpisite-table][data-sortable]").forEach(bindSorting);
    document.querySelectorAll("button.kpisite-csv").forEach(bindDownload);
  }

  window.kpisite = { csvOf: csvOf, drawAll: drawAll };

  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(onPage);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", onPage);
  } else {
    onPage();
  }

  // The palette toggle sets data-md-color-scheme on <body>: restyle the charts.
  new MutationObserver(drawAll).observe(document.body, {
    attributes: true, attributeFilter: ["data-md-color-scheme"]
  });
})();
