"""The site's own words follow the project's language: an en_US project reads in English
from its footer to its tables, a French one in French; a French site's search splits at
apostrophes whether or not mkdocs.yml sets the search separator."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from conftest import ROOT
from kpisite_sites import STAMP, copy_project

from kpi.project import Project

PAGE = """# Report

Revenue: [[kpi revenue compare=previous]].

/// kpi-tile | churn_rate
///

/// kpi-table | orders_count
by: city
top: 3
///

/// kpi-table | orders_count
by: lead_source
///

/// kpi-chart | ces
by: platform
mode: mean
///
"""


def build(folder, config: str, pages: dict[str, str]):
    from site_builder.build import build_site, environment

    reports = folder / "reports"
    reports.mkdir(parents=True)
    for name, text in pages.items():
        (reports / name).write_text(text, encoding="utf-8")
    (folder / "mkdocs.yml").write_text(config, encoding="utf-8")
    with environment(**STAMP):
        build_site(Project.load(folder), period="2026-10", site_dir=folder / "site")
    return folder / "site"


def text_of(html: str) -> str:
    """The page's text, tags removed, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture(scope="module")
def english(tmp_path_factory):
    folder = tmp_path_factory.mktemp("english")
    config = (
        "site_name: Report\ndocs_dir: reports\nstrict: true\n"
        "theme:\n  name: material\n  language: en\n  font: false\n"
        "plugins:\n  - search\n  - kpisite:\n"
        f"      data: {ROOT / 'data'}\n      cache: {folder / 'cache'}\n"
        "      locale: en_US\n"
    )
    site = build(folder, config, {"index.md": PAGE})
    return site


def test_an_english_project_reads_in_english(english):
    html = (english / "index.html").read_text(encoding="utf-8")
    text = text_of(html)

    # The page's head and footer (the templates' words), the deltas, the tables' rows.
    assert "Period: October 2026 · data extracted on December 1, 2026 at" in text
    assert "built on December 1, 2026 at" in text
    assert "vs September 2026" in text
    assert not re.search(r"vs [a-z]+ 20\d\d", text)  # "vs october 2026" lower-cased
    rows = re.findall(r'<th scope="row">([^<]*)</th>', html)
    assert {"Other", "(not given)", "(no contact)", "Total"} <= set(rows)
    assert "Download as CSV" in text and "Chart data" in text
    assert '<th scope="col" title="number of values averaged">n</th>' in html
    for french in ("Période", "données extraites", "Autres", "(non renseigné)", "(sans contact)"):
        assert french not in text, french
    # English puts no space before a colon (the sparklines' titles, the hover texts).
    assert " : " not in text and " : " not in unescape(html)


def test_an_english_dashboard_reads_in_english(english):
    text = text_of((english / "tableau-de-bord" / "index.html").read_text(encoding="utf-8"))

    assert "Dashboard" in text and "Sales" in text and "Customers" in text
    assert "Tableau de bord" not in text and "Ventes" not in text


def test_a_french_project_keeps_french_words(tmp_path):
    from site_builder.build import build_site, environment

    project = copy_project({"index.md": PAGE}, tmp_path)
    with environment(**STAMP):
        build_site(project, period="2026-10", site_dir=tmp_path / "site")
    html = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    text = text_of(html)

    assert "Période : Octobre 2026 · données extraites le 1er décembre 2026 à" in text
    assert "vs septembre 2026" in text
    rows = re.findall(r'<th scope="row">([^<]*)</th>', html)
    assert {"Autres", "(non renseigné)", "(sans contact)", "Total"} <= set(rows)

    # A French site's search splits at apostrophes, though mkdocs.yml names no separator.
    index = json.loads((tmp_path / "site" / "search" / "search_index.json").read_text())
    assert "'" in index["config"]["separator"] and "’" in index["config"]["separator"]


def test_a_separator_set_in_mkdocs_yml_is_kept(tmp_path):
    config = (
        "site_name: T\ndocs_dir: reports\nstrict: true\n"
        "theme:\n  name: material\n  language: fr\n  font: false\n"
        "plugins:\n  - search:\n      separator: '[\\s]+'\n  - kpisite:\n"
        f"      data: {ROOT / 'data'}\n      cache: {tmp_path / 'cache'}\n"
    )
    site = build(tmp_path, config, {"index.md": "# T\n"})

    index = json.loads((site / "search" / "search_index.json").read_text())
    assert index["config"]["separator"] == "[\\s]+"
