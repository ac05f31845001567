"""The built sample site in headless Chromium, served under a sub-path on loopback: pages
load cleanly, charts render on first load and after instant navigation, follow the dark
palette, tables download their numbers, search finds a KPI, nothing leaves the origin."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from conftest import BROWSER_MARKS
from kpisite_sites import sample_site, serve_folder

PAGES = ["", "clients/", "ventes/", "campagnes/", "satisfaction/", "qualite/", "tableau-de-bord/"]

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def base():
    site, _ = sample_site()
    server, url = serve_folder(site, "rapports/crm")
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

    watched.page.locator("a.md-tabs__link", has_text="Ventes").click()
    watched.page.wait_for_url(base + "ventes/")
    watched.page.wait_for_selector(".kpisite-chart .main-svg")

    assert watched.charts_drawn() == 3
    assert watched.page.evaluate("typeof document$") == "object"  # instant navigation is on
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


def test_the_csv_download_holds_the_numbers_of_the_table(watched, base):
    watched.page.goto(base + "ventes/")
    table = watched.page.locator(".kpisite-table table").first
    shown = table.evaluate(
        "t => [...t.rows].map(r => [...r.cells]"
        ".map(c => c.textContent.replace(/\\s+/g, ' ').trim()))"
    )

    with watched.page.expect_download() as download:
        watched.page.locator("button.kpisite-csv").first.click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")

    assert download.value.suggested_filename == "ventes-par-pays.csv"
    assert list(csv.reader(io.StringIO(text), delimiter=";")) == shown
    assert len(shown) >= 3 and shown[-1][0] == "Total"


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


def test_search_finds_a_kpi_by_its_label(watched, base):
    watched.page.goto(base)
    watched.page.wait_for_load_state("networkidle")
    watched.page.locator("input.md-search__input").click()
    watched.page.keyboard.type("attrition", delay=50)

    result = watched.page.locator(".md-search-result__item").first
    result.wait_for()

    assert "Taux d'attrition" in watched.page.locator(".md-search-result").inner_text()
