/* kpisite: draws the plotly figures of a page, follows the palette, sorts tables and
 * downloads them as CSV. Figures live in data-figure attributes (inline scripts lose their
 * attributes under instant navigation), so one subscription to the theme's document$
 * renders every page, first load or not. Rendering is idempotent. */
(function () {
  "use strict";

  var LANGUAGE = document.documentElement.lang || "fr";

  var PALETTES = {
    light: {
      font: "#1f2933", grid: "#e3e7ec", paper: "rgba(0,0,0,0)", hover: "#ffffff",
      colorway: ["#3f51b5", "#f08c00", "#2b8a3e", "#c2255c", "#1098ad", "#7048e8", "#868e96"]
    },
    dark: {
      font: "#e6e8ee", grid: "#3a3f4b", paper: "rgba(0,0,0,0)", hover: "#2b2f3a",
      colorway: ["#8c9eff", "#ffc078", "#8ce99a", "#faa2c1", "#66d9e8", "#b197fc", "#ced4da"]
    }
  };

  function scheme() {
    return document.body.getAttribute("data-md-color-scheme") === "slate" ? "dark" : "light";
  }

  /* Text broken into lines of at most `max` characters at spaces (plotly breaks at <br>). */
  function wrap(text, max) {
    var lines = [], line = "";
    String(text).split(" ").forEach(function (word) {
      if (line && (line + " " + word).length > max) { lines.push(line); line = word; }
      else line = line ? line + " " + word : word;
    });
    lines.push(line);
    return lines.join("<br>");
  }

  var CHAR = 7.5; // the mean width of a character at the charts' font size, in pixels

  /* What fits the chart's width: long labels of bars go on several lines (on a phone,
   * "Complétude (téléphone)" would leave the bars no room, "transactional" would be
   * tilted), and a value axis along the width keeps fewer ticks while its labels would
   * overlap (plotly would tilt them, then cut them at the bottom). Periods under a line
   * are left to plotly, which tilts them when they are many. `labels` are the bars'. */
  function fitted(layout, width, kind, narrow, labels) {
    var fit = {}, hbars = kind === "hbars";
    var values = hbars ? "xaxis" : "yaxis", categories = hbars ? "yaxis" : "xaxis";
    if (layout[values] && layout[values].tickvals) {
      fit[values] = thinned(layout[values], width, hbars, narrow);
    }
    if (layout[categories] && (hbars || (kind === "bars" && labels.length <= 6))) {
      var room = hbars ? width * 0.35 : (width - 60) / labels.length;
      var max = Math.max(8, Math.floor(room / CHAR));
      fit[categories] = Object.assign({}, layout[categories], {
        tickmode: "array", tickvals: labels,
        ticktext: labels.map(function (label) { return wrap(label, max); })
      });
    }
    return fit;
  }

  function thinned(axis, width, horizontal, narrow) {
    var room = horizontal ? width * 0.6 : Infinity;
    var fits = function (texts) {
      var longest = Math.max.apply(null, texts.map(function (t) { return t.length; }));
      return texts.length * (longest * CHAR + 12) <= room;
    };
    if (fits(axis.ticktext)) return Object.assign({}, axis, { tickangle: 0 });
    // The fewer ticks rendered for this case, then one in two of them if need be.
    axis = Object.assign({}, axis, narrow || {}, { tickangle: 0 });
    if (fits(axis.ticktext)) return axis;
    var keep = function (_, i) { return i % 2 === 0; };
    return Object.assign(axis, {
      tickvals: axis.tickvals.filter(keep), ticktext: axis.ticktext.filter(keep)
    });
  }

  /* The figure's layout with the palette's colours. Margins are small and grow to fit
   * what surrounds the plot (automargin): the legend above the plot, where rotated
   * category labels cannot run into it (below a pie), and the tick labels. The right
   * margin leaves room for the last label of an axis. The title is the page's, above. */
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
      // The palette's text on its own box: plotly's default writes a series' name in the
      // series' colour on a light box, unreadable with the dark palette's pastel colours.
      hoverlabel: {
        namelength: -1, bgcolor: p.hover, bordercolor: p.grid, font: { color: p.font }
      }
    });
    ["xaxis", "yaxis"].forEach(function (name) {
      if (!pie) styled[name] = Object.assign({ automargin: true }, layout[name] || {}, axis);
    });
    return styled;
  }

  /* A colour that reads on `hex`: the palette's dark text on a light bar, white on a
   * dark one. */
  function readableOn(hex) {
    var n = parseInt(hex.slice(1), 16);
    var light = 0.299 * (n >> 16 & 255) + 0.587 * (n >> 8 & 255) + 0.114 * (n & 255) > 150;
    return light ? PALETTES.light.font : "#ffffff";
  }

  /* The numbers written on bars (a mean and its n): inside a bar in a colour that reads
   * on it, the palette's text colour on a faded bar (few values: the page shows through)
   * and past a bar's end. */
  function barTexts(data, p) {
    return data.map(function (trace, i) {
      if (!trace.text || trace.type !== "bar") return trace;
      var faded = (trace.marker && trace.marker.opacity) || [];
      var inside = readableOn(p.colorway[i % p.colorway.length]);
      return Object.assign({}, trace, {
        insidetextfont: { color: trace.text.map(function (_, j) {
          return faded[j] < 1 ? p.font : inside;
        }) },
        outsidetextfont: { color: p.font }
      });
    });
  }

  /* Drawn again when the palette or the width changes (text is fitted to the width). */
  function draw(el) {
    var width = Math.round(el.clientWidth / 20) * 20 || 600;
    if (el.getAttribute("data-rendered") === scheme()
        && el.getAttribute("data-width") === String(width)) return;
    var figure = JSON.parse(el.getAttribute("data-figure"));
    var first = figure.data[0] || {};
    var kind = first.orientation === "h" ? "hbars" : first.type === "bar" ? "bars" : first.type;
    var labels = (kind === "hbars" ? first.y : first.x) || [];
    var fit = fitted(figure.layout, width, kind, figure.narrow, labels);
    var styled = themed(Object.assign({}, figure.layout, fit));
    // Numbers above vertical bars need the room the top margin would not give.
    if (kind === "bars" && first.text) styled.margin = Object.assign({}, styled.margin, { t: 24 });
    // No mode bar: its buttons (zoom, pan, autoscale) speak English whatever the site's
    // language, and it covers the top of the tallest bar; a report's chart is read, and
    // hovered, not explored. Its data table is below it.
    window.Plotly.react(el, barTexts(figure.data, PALETTES[scheme()]), styled, {
      displayModeBar: false, responsive: true
    });
    el.setAttribute("data-rendered", scheme());
    el.setAttribute("data-width", String(width));
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
      try { draw(el); } catch (error) { unavailable(el, String(error)); }
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
        unavailable(el, "plotly.min.js");
      });
    };
    document.head.appendChild(loading);
  }

  /* The chart's words come with it, in the site's language. */
  function unavailable(el, why) {
    el.textContent = (el.getAttribute("data-unavailable") || "Graphique indisponible") + " (" + why + ")";
  }

  /* Tables: sort by a header click, download exactly the cells shown. */

  /* Numbers (data-value) by value, text cells (a dimension's members) by their text in
   * French order; a cell with no number (n/a) in a column of numbers goes last whichever
   * the direction. Periods carry their order as data-value: they sort in time. */
  function compareCells(x, y, ascending) {
    var vx = parseFloat(x.getAttribute("data-value")), vy = parseFloat(y.getAttribute("data-value"));
    if (isNaN(vx) && isNaN(vy)) {
      var text = x.textContent.trim().localeCompare(y.textContent.trim(), LANGUAGE, { numeric: true });
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

  /* A CSV a spreadsheet or a script reads: each number as its cell's data-csv gives it
   * (the digits shown, a dot for the decimals, no thousands separator; percentages as
   * shown, in percent), each header with its unit, text as shown. Text that a spreadsheet
   * would run as a formula (= + - @, a tab or a return first: a CRM value
   * `=HYPERLINK(...)`) gets a leading apostrophe (OWASP's CSV injection advice). */
  var NUMBER = /^-?\d+(\.\d+)?$/;

  function csvCell(cell) {
    var text = cell.hasAttribute("data-csv") ? cell.getAttribute("data-csv") : cell.textContent;
    text = text.replace(/\s+/g, " ").trim();
    if (/^[=+\-@\t\r]/.test(text) && !NUMBER.test(text)) text = "'" + text;
    return /[";\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  function csvOf(table) {
    return Array.prototype.map.call(table.rows, function (row) {
      return Array.prototype.map.call(row.cells, csvCell).join(";");
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

  /* The first page on its own: opened from disk (file://), mkdocs-material's document$
   * never emits. Pages reached by instant navigation come through document$; binding
   * twice is guarded, and a second draw before plotly has loaded waits for it. */
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", onPage);
  } else {
    onPage();
  }
  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(onPage);
  }

  // The palette toggle sets data-md-color-scheme on <body>: restyle the charts.
  new MutationObserver(drawAll).observe(document.body, {
    attributes: true, attributeFilter: ["data-md-color-scheme"]
  });

  // A new width (a phone turned, a window resized) fits the charts' text again.
  var resizing = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(drawAll, 250);
  });
})();
