"""The catalog's words and the engine's n/a reasons follow the project's language: an
en_US project shows the standard KPIs' English labels (kpi/catalog.en.yml) and English
reasons, its own catalog's words still win; a French project keeps French ones. The
English words cover the standard catalog and the table of reasons exactly."""

from __future__ import annotations

import json
import re
import shutil
import string
from datetime import datetime
from html import unescape

import pytest
import yaml
from conftest import ROOT
from kpi_fixture import make_project
from kpisite_sites import STAMP

from kpi.catalog import STANDARD, TRANSLATIONS, Catalog
from kpi.periods import Coverage, parse_period
from kpi.project import Project
from kpi.reasons import REASONS, language
from site_builder.cli import main

PAGE = """# Report

/// kpi-tile | revenue
///

/// kpi-tile | ces
///

Open rate: [[kpi open_rate]].

Zero ratio: [[kpi zero_ratio]].

Per impossible order: [[kpi per_impossible_order]].
"""

# A project's own KPIs: a zero denominator (an expression, then a KPI), and an override
# of a standard label, which must win over the English words of the standard catalog.
CATALOG = """kpis:
  zero_ratio:
    formula: revenue / (orders_count - orders_count)
    unit: percent
  impossible_orders:
    label: Impossible orders
    table: orders
    time: ordered_at
    filter: status == "never"
    value: count()
    unit: count
  per_impossible_order:
    formula: revenue / impossible_orders
    unit: currency
  ces:
    label: Customer effort
"""


def build(folder, locale: str | None):
    """A project over the bundled extract without its campaign events, built for
    October 2026."""
    from site_builder.build import build_site, environment

    data = folder / "data"
    shutil.copytree(ROOT / "data", data, ignore=shutil.ignore_patterns("campaign_events*"))
    reports = folder / "reports"
    reports.mkdir()
    (reports / "index.md").write_text(PAGE, encoding="utf-8")
    (folder / "kpis.yml").write_text(CATALOG, encoding="utf-8")
    language = locale.split("_")[0] if locale else "fr"
    config = (
        "site_name: Report\ndocs_dir: reports\nstrict: true\n"
        f"theme:\n  name: material\n  language: {language}\n  font: false\n"
        "plugins:\n  - search\n  - kpisite:\n"
        f"      data: {data}\n      cache: {folder / 'cache'}\n"
        "      catalogs: [kpis.yml]\n" + (f"      locale: {locale}\n" if locale else "")
    )
    (folder / "mkdocs.yml").write_text(config, encoding="utf-8")
    with environment(**STAMP):
        build_site(Project.load(folder), period="2026-10", site_dir=folder / "site")
    return (folder / "site" / "index.html").read_text(encoding="utf-8")


def reasons(html: str) -> list[str]:
    """The n/a reasons of a page, as their tooltips give them."""
    found = re.findall(r'kpisite-na" title="([^"]*)"', html)
    return [unescape(title) for title in found]


def tiles(html: str) -> list[tuple[str, str]]:
    """The (label, description) of each tile of a page."""
    found = re.findall(r'kpisite-tile__label" title="([^"]*)">([^<]*)<', html)
    return [(unescape(label), unescape(description)) for description, label in found]


@pytest.fixture(scope="module")
def english(tmp_path_factory):
    return build(tmp_path_factory.mktemp("english"), "en_US")


@pytest.fixture(scope="module")
def french(tmp_path_factory):
    return build(tmp_path_factory.mktemp("french"), None)


def test_an_english_project_has_english_labels_and_reasons(english):
    assert tiles(english) == [
        ("Revenue", "Sum of the total amounts of the period's completed orders."),
        ("Customer effort", "Mean score of the responses to CES questions (customer effort)."),
    ]
    assert reasons(english) == [
        "n/a: no campaign_events table in the extract",
        "n/a: zero denominator",
        "n/a: zero impossible orders",
    ]
    page = unescape(english)
    for french in ("Chiffre d'affaires", "dénominateur", "pas de table", "aucune", "n/a :"):
        assert french not in page, french
    assert not re.search(r"\bnul\b", page)


def test_a_french_project_keeps_french_labels_and_reasons(french):
    assert tiles(french) == [
        (
            "Chiffre d'affaires",
            "Somme des montants totaux des commandes terminées de la période.",
        ),
        ("Customer effort", "Note moyenne des réponses aux questions CES (effort client)."),
    ]
    assert reasons(french) == [
        "n/a : pas de table campaign_events dans l'extrait",
        "n/a : dénominateur nul",
        "n/a : impossible orders nul",
    ]


def test_the_english_catalog_words_cover_the_standard_catalog():
    standard = yaml.safe_load(STANDARD.read_text(encoding="utf-8"))["kpis"]
    english = yaml.safe_load(TRANSLATIONS["en"].read_text(encoding="utf-8"))["kpis"]

    assert sorted(english) == sorted(standard)
    for name, words in english.items():
        # Words only, and every word the standard KPI has: label, description, empty.
        assert set(words) <= {"label", "description", "empty"}, name
        wanted = {"label", "description"} | ({"empty"} & set(standard[name]))
        assert set(words) == wanted, name


def test_english_words_apply_only_to_english_and_under_a_project_catalog(tmp_path):
    (tmp_path / "kpis.yml").write_text(CATALOG, encoding="utf-8")
    english = Catalog.load([tmp_path / "kpis.yml"], language="en")
    french = Catalog.load([tmp_path / "kpis.yml"])
    german = Catalog.load(language="de")

    assert english.kpis["revenue"].label == "Revenue"
    assert english.kpis["orders_count"].empty == "no completed order in the period"
    assert english.kpis["ces"].label == "Customer effort"  # the project's own word wins
    assert english.kpis["ces"].description == (
        "Mean score of the responses to CES questions (customer effort)."
    )
    assert french.kpis["revenue"].label == "Chiffre d'affaires"
    assert german.kpis["revenue"].label == "Chiffre d'affaires"
    # The KPI is still where catalog.yml defines it; its label where it was written.
    assert english.kpis["revenue"].where.startswith(f"{STANDARD}:")
    assert english.kpis["revenue"].lines["label"].startswith(f"{TRANSLATIONS['en']}:")


def test_every_reason_has_its_words_in_each_language():
    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    assert REASONS["en"].keys() == REASONS["fr"].keys()
    for key, text in REASONS["fr"].items():
        assert fields(REASONS["en"][key]) == fields(text), key
    assert [language(x) for x in ("en_US", "en-GB", "fr_FR", "de_DE")] == ["en", "en", "fr", "fr"]


def test_a_period_outside_the_data_says_so_in_english():
    data = Coverage(
        datetime.fromisoformat("2025-01-01T12:00+00:00"),
        datetime.fromisoformat("2027-01-04T12:00+00:00"),
        locale="en_US",
    )
    period = parse_period("2024-12", locale="en_US")

    assert data.outside_reason(period) == (
        "period 2024-12 outside the data (from 1/1/25 to 1/4/27)"
    )
    assert data.outside_reason(parse_period("2027-01")) == (
        "period 2027-01 not finished in the data (from 1/1/25 to 1/4/27)"
    )


def test_query_on_an_english_project_is_in_english(tmp_path, capsys):
    make_project(tmp_path)
    config = "site_name: test\nplugins:\n  - kpisite:\n      locale: en_US\n"
    (tmp_path / "mkdocs.yml").write_text(config, encoding="utf-8")
    code = main(
        ["query", "average_basket", "--period", "2026-12", "--json", "--project", str(tmp_path)]
    )
    value = json.loads(capsys.readouterr().out)["values"]["average_basket"]

    assert code == 0
    assert (value["label"], value["reason"]) == (
        "Average basket",
        "n/a: no completed order in the period",
    )


def test_query_names_a_breakdowns_added_rows_in_english(tmp_path, capsys):
    # Contacts existing at the end of October (kpi_fixture): c1 c8 in Paris, c2 Lyon, c3
    # Liège, c5 Bruxelles, c9 with no city. Top 1 keeps Paris; the other four are "Other".
    make_project(tmp_path)
    config = "site_name: test\nplugins:\n  - kpisite:\n      locale: en_US\n"
    (tmp_path / "mkdocs.yml").write_text(config, encoding="utf-8")
    query = ["query", "contacts_existing", "--period", "2026-10", "--json", "--project"]
    code = main([*query, str(tmp_path), "--by", "city", "--top", "1"])
    rows = json.loads(capsys.readouterr().out)["values"]["contacts_existing"]["by"]

    assert code == 0
    assert [(row["kind"], row["label"], row["value"]) for row in rows] == [
        ("value", "Paris", 2),
        ("other", "Other", 4),
    ]

    code = main([*query, str(tmp_path), "--by", "city", "--top", "4"])
    rows = json.loads(capsys.readouterr().out)["values"]["contacts_existing"]["by"]

    assert code == 0
    assert ("blank", "(not given)", 1) in [(r["kind"], r["label"], r["value"]) for r in rows]

    code = main([*query, str(tmp_path), "--filter", "city=(not given)"])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["values"]["contacts_existing"]["value"] == 1
