"""The sample site opened from disk (file://), with no web server: its charts draw on
each page, and built with `use_directory_urls: false` its links lead page to page."""

from __future__ import annotations

import shutil

import pytest
from conftest import BROWSER_MARKS, ROOT
from kpisite_sites import STAMP

from kpi.project import Project
from site_builder.build import build_site, environment

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The sample report built as a folder of files: (file:// URL of the folder)."""
    folder = tmp_path_factory.mktemp("files")
    shutil.copytree(ROOT / "reports", folder / "reports")
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert "use_directory_urls: true\n" in config
    config = config.replace("use_directory_urls: true\n", "use_directory_urls: false\n")
    config = config.replace("      data: data\n", f"      data: {ROOT / 'data'}\n")
    (folder / "mkdocs.yml").write_text(config, encoding="utf-8")
    with environment(**STAMP):
        build_site(Project.load(folder), site_dir=folder / "site")
    return (folder / "site").as_uri() + "/"


def charts_drawn(page) -> int:
    page.wait_for_function(
        "[...document.querySelectorAll('.kpisite-chart')]"
        ".every(chart => chart.querySelector('.main-svg'))",
        timeout=20_000,
    )
    return page.locator(".kpisite-chart[data-rendered]").count()


def test_pages_opened_from_disk_draw_their_charts_and_link_to_each_other(browser, site):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(site + "index.html")
        assert charts_drawn(page) == page.locator(".kpisite-chart").count() == 1

        page.locator("a.md-tabs__link", has_text="Ventes").click()
        page.wait_for_url("**/ventes.html")
        assert charts_drawn(page) == 3
        assert errors == []
    finally:
        page.close()
