"""Published versions in headless Chromium: the root lands on the newest period, the
version selector lists the periods, and an older period shows the banner to the latest."""

from __future__ import annotations

import pytest
from conftest import BROWSER_MARKS
from kpisite_sites import serve_root
from test_publish import write_project

from kpi.project import Project
from site_builder.publish import build_with_mkdocs, publish_to_folder

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("published")
    write_project(root / "project")
    project = Project.load(root / "project")
    folder = root / "www" / "rapports"
    for period in ("2026-10", "2026-11"):
        publish_to_folder(project, folder, period, builder=build_with_mkdocs)

    server = serve_root(root / "www")
    yield f"http://127.0.0.1:{server.server_port}/rapports/"
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(browser):
    page = browser.new_page()
    yield page
    page.close()


def test_the_root_lands_on_the_newest_period(page, base):
    page.goto(base)

    page.wait_for_url(base + "2026-11/")
    assert page.locator("h1").first.inner_text() == "Ventes"


def test_the_version_selector_lists_the_periods(page, base):
    page.goto(base + "2026-11/")

    page.wait_for_selector(".md-version__current")
    assert page.locator(".md-version__current").inner_text() == "Novembre 2026"
    titles = page.locator(".md-version__link").all_inner_texts()
    assert [title.strip() for title in titles] == ["Novembre 2026", "Octobre 2026"]
    assert page.locator("[data-md-component=outdated]").is_hidden()


def test_an_older_period_shows_the_banner_to_the_latest(page, base):
    page.goto(base + "2026-10/clients/")

    banner = page.locator("[data-md-component=outdated]")
    banner.wait_for(state="visible")
    assert "période passée (Octobre 2026)" in banner.inner_text()

    banner.locator("a").click()
    page.wait_for_url(base + "2026-11/")


def test_no_script_error_on_a_site_without_site_url(browser, base):
    # mkdocs-material's inline banner script did `new URL(".")`, which throws on every page.
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    for path in ("2026-11/", "2026-10/clients/"):
        page.goto(base + path)
        page.wait_for_selector(".md-version__current")

    page.close()
    assert errors == []


def test_the_banner_shows_at_once_when_the_session_knows_the_page_is_outdated(browser, base):
    # The inline script reads the flag material's bundle stored for the version's folder.
    page = browser.new_page()
    page.route("**/assets/javascripts/bundle.*.js", lambda route: route.abort())
    page.goto(base + "2026-10/")
    page.evaluate(
        "sessionStorage.setItem(new URL('.', location.href).pathname + '.__outdated', 'true')"
    )

    page.goto(base + "2026-10/clients/")

    # The bundle is blocked: only the inline script can have shown the banner.
    assert page.locator("[data-md-component=outdated]").is_visible()
    page.close()
