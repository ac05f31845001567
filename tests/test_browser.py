"""The built sample site in headless Chromium, served under a sub-path on loopback: pages
load cleanly, charts render on first load and after instant navigation (which really
happens), follow the dark palette, lay out without clipping or overlaps, tables sort and
download their numbers, search finds French words, nothing leaves the origin."""

from __future__ import annotations

import codecs
import csv
import io
import re
from pathlib import Path

import pytest
from conftest import BROWSER_MARKS
from kpisite_sites import served_sample_site

PAGES = ["", "clients/", "ventes/", "campagnes/", "satisfaction/", "qualite/", "tableau-de-bord/"]

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def base():
    server, url = served_sample_site("rapports/crm")
    yield url
    server.shutdown()
    server.server_close()


class Watched:
    """A page whose console errors and foreign requests are recorded."""

    def __init__(self, browser, base: str):
        self.page = browser.new_page(
            viewport={"width": 1280, "height": 1000}, accept_downloads=True
        )
        self.errors: list[str] = []
        self.foreign: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.check(r.url, base))

    def check(self, url: str, base: str) -> None:
        origin = base.split("/rapports")[0]
        if not url.startswith((origin + "/", "blob:", "data:")):
            self.foreign.append(url)

    def charts_drawn(self) -> int:
        self.page.wait_for_function(
            "[...document.querySelectorAll('.kpisite-chart')]"
            ".every(chart => chart.querySelector('.main-svg'))"
        )
        return self.page.locator(".kpisite-chart[data-rendered]").count()


@pytest.fixture
def watched(browser, base):
    tab = Watched(browser, base)
    yield tab
    tab.page.close()


def test_every_page_loads_without_console_errors_or_foreign_requests(watched, base):
    for path in PAGES:
        watched.page.goto(base + path)
        watched.page.wait_for_load_state("networkidle")
        watched.charts_drawn()

    assert watched.errors == []
    assert watched.foreign == []


def test_charts_render_on_first_load_and_after_instant_navigation(watched, base):
    watched.page.goto(base)
    assert watched.charts_drawn() == watched.page.locator(".kpisite-chart").count() >= 1
    # A full page load would lose this: it proves the click below is instant navigation.
    watched.page.evaluate("window.__kpisiteMarker = 1")

    watched.page.locator("a.md-tabs__link", has_text="Ventes").click()
    watched.page.wait_for_url(base + "ventes/")
    watched.page.wait_for_selector(".kpisite-chart .main-svg")

    assert watched.page.evaluate("window.__kpisiteMarker") == 1
    assert watched.charts_drawn() == 3
    assert watched.errors == []


# What plotly's own stylesheet decides: its layers lie over each other (absolute), and
# the plot keeps the height of its box instead of growing with every redraw.
PLOTLY_LAYOUT = """() => ({
  style: document.getElementById('plotly.js-style-global') !== null,
  layers: [...document.querySelectorAll('.kpisite-chart .main-svg')]
    .map(m => getComputedStyle(m).position),
  heights: [...document.querySelectorAll('.kpisite-chart')]
    .map(c => Math.round(c.getBoundingClientRect().height)),
})"""


def test_charts_after_instant_navigation_look_as_on_a_direct_load(watched, base):
    watched.page.goto(base + "ventes/")
    watched.charts_drawn()
    watched.page.wait_for_timeout(300)
    direct = watched.page.evaluate(PLOTLY_LAYOUT)

    watched.page.goto(base)
    watched.charts_drawn()
    watched.page.evaluate("window.__kpisiteMarker = 1")
    watched.page.locator("a.md-tabs__link", has_text="Ventes").click()
    watched.page.wait_for_url(base + "ventes/")
    # The address changes before the new content is in: wait for the three charts of Ventes.
    watched.page.wait_for_function(
        "[...document.querySelectorAll('.kpisite-chart')]"
        ".filter(chart => chart.querySelector('.main-svg')).length === 3"
    )
    watched.charts_drawn()
    watched.page.wait_for_timeout(300)  # a plot without plotly's styles keeps growing
    after = watched.page.evaluate(PLOTLY_LAYOUT)

    assert watched.page.evaluate("window.__kpisiteMarker") == 1
    assert direct["style"] and len(direct["layers"]) >= 6
    assert set(direct["layers"]) == {"absolute"}
    assert after == direct


def test_charts_have_no_mode_bar_of_english_buttons(watched, base):
    watched.page.goto(base + "ventes/")
    watched.charts_drawn()

    assert watched.page.locator(".kpisite-chart .modebar-btn").count() == 0


def test_plotly_loads_only_where_a_chart_shows(watched, base):
    loads = []
    watched.page.on("request", lambda r: loads.append(r.url) if "plotly" in r.url else None)

    watched.page.goto(base + "tableau-de-bord/")  # tiles only
    watched.page.wait_for_load_state("networkidle")
    assert loads == [] and watched.page.evaluate("typeof Plotly") == "undefined"

    watched.page.locator("a.md-tabs__link", has_text="Ventes").click()
    watched.page.wait_for_url(base + "ventes/")
    # The address changes before the new content is in: wait for a chart of the new page.
    watched.page.wait_for_selector(".kpisite-chart .main-svg")
    assert watched.charts_drawn() == 3
    assert loads == [base + "assets/kpisite/plotly.min.js"]
    assert watched.errors == []


def test_the_dark_palette_restyles_the_charts(watched, base):
    watched.page.goto(base + "ventes/")
    watched.charts_drawn()
    font = "document.querySelector('.kpisite-chart')._fullLayout.font.color"
    light = watched.page.evaluate(font)

    watched.page.locator("label.md-header__button[for='__palette_1']").click()
    watched.page.wait_for_function(
        "document.querySelector('.kpisite-chart').getAttribute('data-rendered') === 'dark'"
    )

    assert watched.page.evaluate("document.body.getAttribute('data-md-color-scheme')") == "slate"
    assert watched.page.evaluate(font) != light


def machine(text: str) -> str:
    """A French number as shown ("1 912,97 €", "9,3 %") written for a machine."""
    return re.sub(r"[^\d,\-]", "", text).replace(",", ".")


def test_the_csv_download_holds_the_numbers_shown_for_a_machine(watched, base):
    watched.page.goto(base + "ventes/")
    table = watched.page.locator(".kpisite-table table").first
    shown = table.evaluate(
        "t => [...t.rows].map(r => [...r.cells]"
        ".map(c => c.textContent.replace(/\\s+/g, ' ').trim()))"
    )

    with watched.page.expect_download() as download:
        watched.page.locator("button.kpisite-csv").first.click()
    data = Path(download.value.path()).read_bytes()
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))

    assert download.value.suggested_filename == "ventes-par-pays.csv"
    assert data.startswith(codecs.BOM_UTF8)  # Excel reads the accents
    assert rows[0] == ["Pays", "Chiffre d'affaires (EUR)", "Commandes", "Panier moyen (EUR)"]
    assert len(rows) == len(shown) >= 3 and rows[-1][0] == "Total"
    for written, seen in zip(rows[1:], shown[1:], strict=True):
        assert written == [seen[0], *(machine(text) for text in seen[1:])]
        assert all(re.fullmatch(r"\d+(\.\d\d)?", number) for number in written[1:])


def test_text_a_spreadsheet_would_run_as_a_formula_is_escaped_in_the_csv(watched, base):
    watched.page.goto(base + "ventes/")
    table = watched.page.locator(".kpisite-table table").first
    # CRM values as members (row headers), and a negative number, which stays a number.
    members = ['=HYPERLINK("http://x")', "+33 1 23", "-cmd", "@SUM(A1)", "\tTAB"]
    table.evaluate(
        "(t, members) => { [...t.tBodies[0].rows].forEach((row, i) => {"
        "  if (i < members.length) row.cells[0].textContent = members[i]; });"
        "  t.tBodies[0].rows[0].cells[2].setAttribute('data-csv', '-30'); }",
        members,
    )

    rows = list(
        csv.reader(io.StringIO(table.evaluate("t => window.kpisite.csvOf(t)")), delimiter=";")
    )

    assert [row[0] for row in rows[1:6]] == [
        '\'=HYPERLINK("http://x")',
        "'+33 1 23",
        "'-cmd",
        "'@SUM(A1)",
        "TAB",  # trimmed: the tab that led it is gone, and nothing to run is left
    ]
    assert rows[1][2] == "-30"


def test_an_n_a_cell_underlines_its_text_not_the_whole_cell(watched, base):
    watched.page.goto(base + "satisfaction/")
    cell = watched.page.locator("td.kpisite-na").first

    style = cell.evaluate(
        "c => { const s = getComputedStyle(c);"
        " return [s.borderBottomStyle, s.textDecorationLine, s.textDecorationStyle]; }"
    )

    assert cell.inner_text() == "n/a"
    assert style == ["none", "underline", "dotted"]


def test_sorting_a_table_orders_its_rows_by_value(watched, base):
    watched.page.goto(base + "ventes/")
    table = watched.page.locator(".kpisite-table table").first

    table.locator("thead th").nth(1).click()
    table.locator("thead th").nth(1).click()  # descending
    values = table.locator("tbody td:nth-child(2)").evaluate_all(
        "cells => cells.map(c => parseFloat(c.dataset.value))"
    )

    assert values == sorted(values, reverse=True)


def test_sorting_puts_n_a_cells_last_in_both_directions(watched, base):
    watched.page.goto(base + "ventes/")
    table = watched.page.locator(".kpisite-table table").first
    # The first two cells of the column become n/a cells, as render.cell_html writes them.
    table.evaluate(
        "t => [...t.tBodies[0].rows].slice(0, 2).forEach(row => {"
        "  const cell = row.cells[1]; cell.removeAttribute('data-value');"
        "  cell.className = 'kpisite-na'; cell.textContent = 'n/a'; })"
    )
    header = table.locator("thead th").nth(1)
    column = table.locator("tbody td:nth-child(2)")
    read = "cells => cells.map(c => 'value' in c.dataset ? parseFloat(c.dataset.value) : 'n/a')"

    header.click()
    ascending = column.evaluate_all(read)
    header.click()
    descending = column.evaluate_all(read)

    numbers = [value for value in ascending if value != "n/a"]
    assert len(numbers) >= 2
    assert ascending == sorted(numbers) + ["n/a", "n/a"]
    assert descending == sorted(numbers, reverse=True) + ["n/a", "n/a"]


@pytest.mark.parametrize(
    ("query", "found"), [("attrition", "Taux d'attrition"), ("affaires", "Chiffre d'affaires")]
)
def test_search_finds_a_kpi_by_a_word_of_its_label(watched, base, query, found):
    # "affaires" is found only when words split at the apostrophe of "d'affaires".
    watched.page.goto(base)
    watched.page.wait_for_load_state("networkidle")
    watched.page.locator("input.md-search__input").click()
    watched.page.keyboard.type(query, delay=50)

    result = watched.page.locator(".md-search-result__item").first
    result.wait_for()

    assert found in watched.page.locator(".md-search-result").inner_text()


# --- Layout: nothing clipped, nothing overlapping, at desktop and phone widths ---------------

BOXES = """chart => {
  const box = el => {
    const b = el.getBoundingClientRect();
    return [b.left, b.top, b.right, b.bottom];
  };
  const boxes = sel => [...chart.querySelectorAll(sel)].map(box).filter(b => b[2] > b[0]);
  const layout = chart._fullLayout;
  const values = layout.xaxis && layout.xaxis.type === 'linear' ? layout.xaxis : layout.yaxis;
  return { chart: box(chart), title: boxes('.gtitle'), legend: boxes('.legend'),
           plot: boxes('.nsewdrag'), ticks: boxes('.xtick text, .ytick text'),
           xticks: boxes('.xtick text'), texts: boxes('.bartext, .annotation-text'),
           heading: box(chart.previousElementSibling), page: box(chart.parentElement),
           valueTicks: values ? values.tickvals.length : 0,
           valueLabels: values ? boxes('.' + values._id + 'tick text').length : 0 };
}"""


def inside(inner, outer) -> bool:
    """Inside horizontally and vertically: a tick label cut at an edge is not."""
    return (
        inner[0] >= outer[0] - 1
        and inner[2] <= outer[2] + 1
        and inner[1] >= outer[1] - 1
        and inner[3] <= outer[3] + 1
    )


def apart(a, b) -> bool:
    return a[3] <= b[1] + 1 or b[3] <= a[1] + 1 or a[2] <= b[0] + 1 or b[2] <= a[0] + 1


@pytest.mark.parametrize("width", [1366, 390])
@pytest.mark.parametrize(
    "path", ["", "ventes/", "clients/", "campagnes/", "satisfaction/", "qualite/"]
)
def test_chart_labels_are_neither_cut_nor_overlapping(browser, base, width, path):
    # Phone width: the completeness bars (by: kpi) and the rates by campaign type, whose
    # default title is long, once had their labels tilted, cut or dropped ("100 %").
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(base + path)
    page.wait_for_function(
        "[...document.querySelectorAll('.kpisite-chart')].every(c => c.querySelector('.main-svg'))"
    )

    for chart in page.locator(".kpisite-chart").all():
        found = chart.evaluate(BOXES)
        # Numbers written on bars ("2,00 · n = 3", "n/a · n = 1") too.
        for tick in found["ticks"] + found["title"] + found["texts"]:
            assert inside(tick, found["chart"]), (path, found)
        assert found["valueLabels"] == found["valueTicks"], (path, found)
        assert inside(found["heading"], found["page"]), (path, found)
        for legend in found["legend"]:
            for other in found["title"] + found["xticks"] + found["plot"]:
                assert apart(legend, other), (path, found)
    page.close()


def test_tables_line_up_with_the_text_and_align_numbers_right(watched, base):
    watched.page.goto(base + "ventes/")
    table = watched.page.locator(".kpisite-table table").first

    assert (
        table.evaluate(
            "t => t.closest('.kpisite-table').querySelectorAll('.md-typeset__scrollwrap').length"
        )
        == 1
    )
    left = table.evaluate("t => t.getBoundingClientRect().left")
    text = watched.page.locator(".md-content .md-typeset > p").first.evaluate(
        "p => p.getBoundingClientRect().left"
    )
    assert abs(left - text) <= 1
    aligns = table.locator("tbody td").evaluate_all(
        "cells => cells.map(c => getComputedStyle(c).textAlign)"
    )
    assert set(aligns) == {"right"}


def test_sorting_the_member_column_orders_it_by_name(watched, base):
    watched.page.goto(base + "ventes/")
    table = watched.page.locator(".kpisite-table table").first

    table.locator("thead th").first.click()
    names = table.locator("tbody th").all_inner_texts()

    # By name (the rows come ranked by revenue: FR, BE, CH...), not by that rank.
    assert len(names) >= 3 and names == sorted(names, key=str.casefold)


@pytest.mark.parametrize("width", [1366, 390])
def test_tile_values_stay_on_one_line_and_fit_their_tile(browser, base, width):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(base + "tableau-de-bord/")

    values = page.locator(".kpisite-tile__value").evaluate_all(
        "els => els.map(v => [v.getClientRects().length,"
        " v.scrollWidth <= v.parentElement.clientWidth])"
    )

    assert values and all(lines == 1 and fits for lines, fits in values)
    page.close()


def test_the_values_of_tiles_side_by_side_stand_on_one_line(watched, base):
    # "Clients actifs en début de période" takes two lines where its neighbours take one.
    watched.page.set_viewport_size({"width": 1366, "height": 900})
    watched.page.goto(base + "tableau-de-bord/")

    lines = watched.page.locator(".kpisite-grid__row").evaluate_all(
        """rows => rows.flatMap(r => {
          const byTop = {};
          for (const tile of r.children) {
            if (tile.querySelector('.kpisite-tile__target')) continue;
            const top = Math.round(tile.getBoundingClientRect().top);
            const value = tile.querySelector('.kpisite-tile__value').getBoundingClientRect();
            const range = document.createRange();
            range.selectNodeContents(tile.querySelector('.kpisite-tile__label'));
            const label = new Set([...range.getClientRects()].map(l => Math.round(l.top))).size;
            (byTop[top] = byTop[top] || []).push([Math.round(value.top), label]);
          }
          return Object.values(byTop);
        })"""
    )

    assert any(len({labels for _, labels in line}) > 1 for line in lines), lines
    assert all(len({top for top, _ in line}) == 1 for line in lines), lines


def test_a_column_s_header_is_aligned_as_its_numbers(watched, base):
    watched.page.goto(base + "ventes/")
    table = watched.page.locator(".kpisite-table table").first

    aligned = table.evaluate(
        "t => [...t.tHead.rows[0].cells].map(c => getComputedStyle(c).textAlign)"
    )
    numbers = table.evaluate("t => getComputedStyle(t.tBodies[0].rows[0].cells[1]).textAlign")

    assert numbers == "right" and aligned[0] == "left"
    assert set(aligned[1:]) == {"right"}, aligned


def test_dashboard_tiles_line_up_in_columns_of_one_width(watched, base):
    watched.page.set_viewport_size({"width": 1366, "height": 900})
    watched.page.goto(base + "tableau-de-bord/")

    rows = watched.page.locator(".kpisite-grid__row").evaluate_all(
        "rows => rows.map(r => [...r.children]"
        ".map(t => Math.round(t.getBoundingClientRect().width)))"
    )

    assert len(rows) == 4  # Ventes, Clients, Campagnes, Satisfaction
    assert all(len(set(widths)) == 1 for widths in rows), rows


def test_a_long_change_in_a_tile_wraps_instead_of_being_cut(watched, base):
    watched.page.set_viewport_size({"width": 1366, "height": 900})
    watched.page.goto(base + "tableau-de-bord/")
    delta = watched.page.locator(".kpisite-tile__delta").first
    # As long as "▲ +343 714,44 £ vs octobre 2010" in a tile of the online-retail dashboard.
    delta.evaluate(
        "d => { d.querySelector('.kpisite-versus').textContent = 'vs ' + 'octobre '.repeat(6); }"
    )

    shown = delta.evaluate(
        "d => { const style = getComputedStyle(d);"
        " return { fits: d.scrollWidth <= d.clientWidth + 1, overflow: style.textOverflow,"
        " lines: Math.round(d.getBoundingClientRect().height / parseFloat(style.lineHeight)) }; }"
    )

    assert shown["fits"] and shown["overflow"] != "ellipsis" and shown["lines"] >= 2


# The WCAG contrast ratio of two RGB colours, and how to read a CSS colour as [r, g, b, a].
RATIO = """
  const parse = c => {
    const v = c.match(/\\(([^)]*)\\)/)[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [v[0], v[1], v[2], v.length > 3 ? v[3] : 1];
  };
  const luminance = c => c.slice(0, 3).map(v => v / 255)
    .map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const ratio = (a, b) => {
    const [high, low] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (high + 0.05) / (low + 0.05);
  };
"""
# WCAG contrast of an element's text over what is behind it: the backgrounds of its
# ancestors composed from the page up, the text's alpha times its ancestors' opacity.
CONTRAST = (
    "el => {"
    + RATIO
    + """
  const over = (top, under) => [0, 1, 2].map(i => top[i] * top[3] + under[i] * (1 - top[3]));
  const chain = [];
  for (let e = el; e; e = e.parentElement) chain.push(e);
  let behind = [255, 255, 255];
  for (const e of chain.slice().reverse()) {
    behind = over(parse(getComputedStyle(e).backgroundColor), behind);
  }
  const text = parse(getComputedStyle(el).color);
  text[3] *= chain.reduce((alpha, e) => alpha * parseFloat(getComputedStyle(e).opacity), 1);
  return ratio(over(text, behind), behind);
}"""
)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_footer_and_the_csv_button_read_at_4_5_to_1_in_both_palettes(browser, base, scheme):
    page = browser.new_page(viewport={"width": 1366, "height": 900}, color_scheme=scheme)
    page.goto(base + "ventes/")
    expected = {"light": "default", "dark": "slate"}[scheme]
    assert page.evaluate("document.body.getAttribute('data-md-color-scheme')") == expected

    footer = page.locator("footer.md-footer .kpisite-version-meta")
    parts = footer.locator("code, time, .kpisite-reference")
    ratios = [footer.evaluate(CONTRAST)] + parts.evaluate_all(f"els => els.map({CONTRAST})")
    button = page.locator("button.kpisite-csv").first.evaluate(CONTRAST)

    assert len(ratios) >= 5 and min(ratios) >= 4.5, ratios
    assert button >= 4.5, button
    page.close()


# The hover box of a chart: the contrast of each of its texts (the value, the series'
# name) over the box's fill, both written by plotly as inline styles of the SVG.
HOVER_CONTRAST = (
    "el => {"
    + RATIO
    + """
  const box = parse(el.querySelector('.hoverlayer .hovertext path').style.fill);
  const texts = el.querySelectorAll('.hoverlayer .hovertext text');
  return [...texts].map(t => ratio(parse(t.style.fill), box));
}"""
)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_chart_s_hover_box_reads_at_4_5_to_1_in_both_palettes(browser, base, scheme):
    page = browser.new_page(viewport={"width": 1366, "height": 900}, color_scheme=scheme)
    page.goto(base + "clients/")
    page.wait_for_selector(".kpisite-chart .main-svg")
    chart = page.locator(".kpisite-chart").first

    # Two series on one chart: the box names the one hovered, then its value.
    chart.evaluate("el => Plotly.Fx.hover(el, [{curveNumber: 1, pointNumber: 3}])")
    ratios = chart.evaluate(HOVER_CONTRAST)

    assert len(ratios) >= 1 and min(ratios) >= 4.5, ratios
    lines = ".hoverlayer .hovertext text tspan"
    texts = chart.evaluate(f"el => [...el.querySelectorAll('{lines}')].map(t => t.textContent)")
    assert texts[0] == "Taux d'attrition" and texts[1].startswith("mars 2026 : ")
    page.close()


def test_a_wide_table_on_a_phone_scrolls_to_its_last_column_and_says_so(browser, base):
    page = browser.new_page(viewport={"width": 390, "height": 800})
    page.goto(base + "campagnes/")
    wrap = page.locator(".kpisite-table .md-typeset__scrollwrap").first
    wrap.scroll_into_view_if_needed()
    last = "w => w.querySelector('tbody tr').lastElementChild.getBoundingClientRect()"

    # Wider than the phone: its last column starts off the screen.
    assert wrap.evaluate("w => w.scrollWidth > w.clientWidth")
    assert wrap.evaluate(last)["right"] > 390
    # A shadow at the right edge says there is more, a cover scrolling with the table hides
    # it at the end.
    background = wrap.evaluate(
        "w => [getComputedStyle(w).backgroundImage, getComputedStyle(w).backgroundAttachment]"
    )
    assert background[0].count("linear-gradient") == 2 and background[1] == "local, scroll"

    wrap.evaluate("w => { w.scrollLeft = w.scrollWidth; }")
    page.wait_for_timeout(100)
    end = wrap.evaluate(last)
    label = wrap.evaluate(
        "w => { const th = w.querySelector('tbody th'); const b = th.getBoundingClientRect();"
        " return [b.left, b.right, document.elementFromPoint(b.left + 5, b.top + 5) === th"
        " || th.contains(document.elementFromPoint(b.left + 5, b.top + 5))]; }"
    )

    # The last column in view, the row's label still beside it (its column stays put).
    assert end["left"] >= 0 and end["right"] <= 390
    assert label[0] >= 0 and label[1] < end["left"] and label[2]
    page.close()


def test_the_csv_of_a_series_names_its_periods_by_their_keys(watched, base):
    watched.page.goto(base + "satisfaction/")
    table = watched.page.locator(".kpisite-table table").last
    shown = table.locator("tbody th").all_inner_texts()

    rows = list(
        csv.reader(io.StringIO(table.evaluate("t => window.kpisite.csvOf(t)")), delimiter=";")
    )

    # The table shows "juin 2026", a spreadsheet reads "2026-06".
    assert shown[0] == "juin 2026" and [row[0] for row in rows[1:]] == [
        "2026-06",
        "2026-07",
        "2026-08",
        "2026-09",
        "2026-10",
        "2026-11",
    ]
