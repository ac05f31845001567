"""The sample report site, built with the real engine over the bundled extract: pages,
numbers checked against independent SQL, offline assets, metadata, and error reporting."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from babel.numbers import format_currency, format_decimal
from conftest import ROOT
from kpisite_sites import STAMP, copy_project, sample_site

from kpi.errors import DirectiveError
from kpi.periods import parse_period
from kpi.project import Project

pytestmark = pytest.mark.slow

PAGES = ["index", "clients", "ventes", "campagnes", "satisfaction", "qualite", "tableau-de-bord"]


def page(name: str) -> str:
    site, _ = sample_site()
    path = site / "index.html" if name == "index" else site / name / "index.html"
    return path.read_text(encoding="utf-8")


def tile_value(html: str, kpi: str) -> str:
    label = r'<div class="kpisite-tile__label"[^>]*>[^<]*</div>'
    match = re.search(
        rf'data-kpi="{kpi}">\s*{label}\s*<span class="kpisite-tile__value">([^<]*)<', html
    )
    assert match, f"no tile for {kpi}"
    return match.group(1)


def test_the_sample_site_builds_every_page_without_a_directive_error():
    site, result = sample_site()

    assert result.problems == []
    assert result.pages == len(PAGES)
    assert result.directives >= 40
    for name in PAGES:
        assert "kpisite-error" not in page(name), name


def test_tiles_show_the_numbers_of_an_independent_sql_query():
    _, result = sample_site()
    period = parse_period(result.period)
    count, revenue = duckdb.sql(
        f"""select count(*), sum(total_amount) from '{ROOT / "data" / "orders.parquet"}'
        where status = 'completed' and not is_test
        and ordered_at >= '{period.start_utc.isoformat()}'::timestamptz
        and ordered_at < '{period.end_utc.isoformat()}'::timestamptz"""
    ).fetchall()[0]
    html = page("index")

    assert tile_value(html, "orders_count") == format_decimal(count, "#,##0", locale="fr_FR")
    assert tile_value(html, "revenue") == format_currency(revenue, "EUR", locale="fr_FR")


def test_default_period_is_the_last_complete_month_and_every_page_shows_it():
    _, result = sample_site()
    period = parse_period(result.period)

    for name in PAGES:
        html = page(name)
        assert f'data-period="{result.period}"' in html
        assert f"<strong>{period.label}</strong>" in html
        assert "données extraites le <time" in html


def test_the_build_metadata_follows_the_contract_and_its_environment_overrides():
    from mkdocs.config import load_config

    from site_builder.build import environment

    with environment(**STAMP, KPISITE_PERIOD="2026-09"):
        config = load_config(str(ROOT / "mkdocs.yml"))
        config = config.plugins.on_config(config)
    meta = config.extra["kpisite"]

    assert meta["period"] == "2026-09" and meta["period_label"] == "Septembre 2026"
    assert meta["grain"] == "month"
    assert (
        meta["built_at"] == STAMP["KPISITE_BUILT_AT"] and meta["commit"] == STAMP["KPISITE_COMMIT"]
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", meta["extracted_at"])
    assert meta["fingerprint"]


def test_plotly_js_is_shipped_once_from_the_installed_package_and_not_committed():
    import plotly

    site, _ = sample_site()
    shipped = site / "assets" / "kpisite" / "plotly.min.js"
    installed = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"

    assert shipped.read_bytes() == installed.read_bytes()
    assert not list((ROOT / "site_builder").rglob("plotly*.js"))
    # Not a script of every page: kpisite.js loads it where a chart shows.
    assert not any("plotly.min.js" in page(name) for name in PAGES)
    assert all("assets/kpisite/kpisite.js" in page(name) for name in PAGES)


def test_no_page_loads_anything_from_another_origin():
    # A canonical link names the page's address; it loads nothing.
    loads = re.compile(
        r'<(?:script|link(?! rel="canonical")|img|iframe)\b[^>]*?\b(?:src|href)="(https?:)?//', re.I
    )

    for name in PAGES:
        html = page(name)
        assert not loads.search(html), name
        assert "fonts.googleapis" not in html and "fonts.gstatic" not in html


def test_chart_figures_live_in_data_attributes_with_a_table_alternative():
    html = page("ventes")

    assert html.count('class="kpisite-chart"') == 3
    assert html.count('<details class="kpisite-alt">') == 3
    assert '<script type="application/json"' not in html
    assert '"template"' not in html  # styling is applied once, in kpisite.js


def test_search_index_holds_kpi_labels_and_splits_words_at_apostrophes():
    site, _ = sample_site()
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))

    assert "Taux d'attrition" in json.dumps(index, ensure_ascii=False)
    assert re.split(index["config"]["separator"], "chiffre d'affaires") == [
        "chiffre",
        "d",
        "affaires",
    ]
    assert re.split(index["config"]["separator"], "9,3 %") != ["9,3 %"]


def test_the_sitemap_lists_every_page_for_instant_navigation():
    site, _ = sample_site()
    sitemap = (site / "sitemap.xml").read_text(encoding="utf-8")

    # No site_url in mkdocs.yml: the documented placeholder, where `python -m http.server`
    # in site/ serves it.
    locations = re.findall(r"<loc>([^<]+)</loc>", sitemap)
    assert sorted(locations) == sorted(
        "http://127.0.0.1:8000/" + ("" if name == "index" else f"{name}/") for name in PAGES
    )


@pytest.mark.parametrize(
    ("environment", "site_url"),
    [
        ({"KPISITE_SITE_URL": "https://acme.github.io/crm"}, "https://acme.github.io/crm/"),
        (
            {"KPISITE_SITE_URL": "https://acme.github.io/crm/", "KPISITE_VERSIONED": "1"},
            "https://acme.github.io/crm/2026-09/",
        ),
        ({}, "http://127.0.0.1:8000/"),
    ],
)
def test_site_url_comes_from_the_environment_and_a_version_adds_its_folder(environment, site_url):
    from mkdocs.config import load_config

    from site_builder.build import environment as env

    with env(**STAMP, **environment, KPISITE_PERIOD="2026-09"):
        config = load_config(str(ROOT / "mkdocs.yml"))
        config = config.plugins.on_config(config)

    assert config.site_url == site_url


def test_heading_links_are_titled_in_french():
    # Python-Markdown's toc titles its permalinks "Permanent link" unless told otherwise.
    for name in PAGES:
        html = page(name)
        assert "Permanent link" not in html, name
    assert 'title="Lien permanent vers cette section"' in page("tableau-de-bord")


def test_the_footer_has_no_english_generator_line():
    for name in PAGES:
        assert "Made with" not in page(name)


BAD_PAGES = {
    "a.md": (
        "---\ntitle: A\n---\n# A\n\nLe CA : [[kpi revenu]].\n\n"
        "/// kpi-chart | revenue\nby: chanel\n///\n"
    ),
    "b.md": "# B\n\n/// kpi-tile | nps\ncompar: previous\n///\n\n[[kpi nps compare=previus]]\n",
}
EXPECTED = [
    "a.md:6: unknown KPI 'revenu' (did you mean 'revenue'?)",
    "a.md:9: unknown dimension 'chanel' for revenue (did you mean 'channel'?)",
    "b.md:4: kpi-tile: unknown option 'compar' (did you mean 'compare'?)",
    "b.md:7: compare: unknown value 'previus' (did you mean 'previous'?)",
]


def test_a_build_fails_listing_every_directive_error_of_every_page(tmp_path, caplog):
    from site_builder.build import build_site

    project = copy_project(BAD_PAGES, tmp_path)
    caplog.set_level(logging.INFO)

    with pytest.raises(DirectiveError) as failure:
        build_site(project, period="2026-10", site_dir=tmp_path / "site")

    assert sorted(str(p) for p in failure.value.problems) == EXPECTED
    logged = [
        r.getMessage()
        for r in caplog.records
        if r.name == "mkdocs.plugins.kpisite" and r.levelno == logging.ERROR
    ]
    assert logged == EXPECTED  # in page and line order


def test_kpisite_build_prints_every_error_and_exits_1(tmp_path):
    copy_project(BAD_PAGES, tmp_path)

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "site_builder.cli",
            "build",
            "--period",
            "2026-10",
            "--project",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 1
    for message in EXPECTED:
        assert f"  {message}" in done.stderr


def test_mkdocs_build_strict_counts_directive_errors(tmp_path):
    copy_project(BAD_PAGES, tmp_path)

    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(tmp_path / "mkdocs.yml")],
        capture_output=True,
        text=True,
        check=False,
        env={"NO_MKDOCS_2_WARNING": "1", "KPISITE_PERIOD": "2026-10", "PATH": "/usr/bin:/bin"},
    )

    assert done.returncode == 1
    assert "a.md:6: unknown KPI 'revenu'" in done.stderr


def test_live_preview_shows_errors_in_place_instead_of_failing(tmp_path):
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    copy_project(BAD_PAGES, tmp_path)
    config = load_config(
        str(tmp_path / "mkdocs.yml"), site_dir=str(tmp_path / "site"), strict=False
    )
    config.plugins.on_startup(command="serve", dirty=False)

    build(config)

    html = (tmp_path / "site" / "b" / "index.html").read_text(encoding="utf-8")
    assert "b.md:4: kpi-tile: unknown option &#x27;compar&#x27;" in html
    assert 'class="admonition failure kpisite-error"' in html


@pytest.mark.parametrize(
    ("example", "pages"),
    [("online-retail", 4), ("olist-funnel", 3)],
    ids=["online-retail", "olist"],
)
def test_each_example_project_builds_its_whole_site_on_the_real_data(
    shared_data, tmp_path, example, pages
):
    from kpi.project import Project
    from site_builder.build import build_site

    result = build_site(Project.load(ROOT / "examples" / example), site_dir=tmp_path / "site")

    assert result.problems == [] and result.pages == pages
    html = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert 'class="kpisite-chart"' in html and "kpisite-error" not in html


def test_the_readme_s_directive_examples_render_without_an_error():
    import markdown

    from kpi.engine import Workbook
    from kpi.project import Project
    from site_builder.markdown import KpiExtension
    from site_builder.render import RenderContext

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    examples = [b for b in re.findall(r"```markdown\n(.*?)```", readme, re.S) if "kpi" in b]
    book = Workbook(Project.load(ROOT), cache=False)

    for example in examples:
        ext = KpiExtension(context=RenderContext(book, book.period("2026-10")))
        markdown.markdown(example, extensions=[ext])
        assert [str(p) for p in ext.problems] == [], example
    assert len(examples) == 2


# --- The footer, the search index, the generated dashboard of a partial extract -------------


def test_the_footer_line_is_inside_the_theme_s_footer():
    for name in PAGES:
        html = page(name)
        footer = html[html.index('<footer class="md-footer">') : html.index("</footer>")]
        # In the theme's meta bar (its colours), not after the footer on the page's own.
        assert re.search(
            r'<div class="md-footer-meta md-typeset">\s*<div class="md-footer-meta__inner '
            r'md-grid">\s*<div class="md-copyright">\s*<div class="kpisite-version-meta"',
            footer,
        ), name
        assert "kpisite-version-meta" not in html[html.index("</footer>") :]


def search_text(location: str) -> str:
    """The text the search index holds for a page (all its sections)."""
    site, _ = sample_site()
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    docs = [doc for doc in index["docs"] if doc["location"].split("#")[0] == location]
    assert docs, location
    return " ".join(doc["text"] for doc in docs)


def test_the_search_index_reads_tiles_and_tables_as_words():
    _, result = sample_site()
    period = parse_period(result.period)
    (revenue,) = duckdb.sql(
        f"""select sum(total_amount) from '{ROOT / "data" / "orders.parquet"}'
        where status = 'completed' and not is_test
        and ordered_at >= '{period.start_utc.isoformat()}'::timestamptz
        and ordered_at < '{period.end_utc.isoformat()}'::timestamptz"""
    ).fetchall()[0]

    home, sales = search_text(""), search_text("ventes/")

    # "Chiffre d'affaires 28 119,39 €", never "Chiffre d'affaires28 119,39 €▲".
    assert f"Chiffre d'affaires {format_currency(revenue, 'EUR', locale='fr_FR')} " in home
    assert " ".join(sales.split()).count("Ventes par pays Pays Chiffre d'affaires Commandes") == 1
    assert re.search(r"Panier moyen France \d", " ".join(sales.split()))


def test_the_search_index_leaves_out_sparklines_marks_and_buttons():
    for location in ["", "ventes/", "satisfaction/", "tableau-de-bord/"]:
        text = search_text(location)
        # A sparkline's title lists twelve numbers after the label and a colon.
        assert "Chiffre d'affaires : " not in text and "Commandes : " not in text, location
        assert not {"▲", "▼"} & set(text), location
        assert "Télécharger en CSV" not in text and "Données du graphique" not in text


def test_the_dashboard_of_an_extract_without_campaigns_or_surveys_leaves_them_out(tmp_path):
    import shutil

    from site_builder.build import build_site, environment

    data = tmp_path / "data"
    data.mkdir()
    for table in ("contacts", "orders", "order_lines"):
        shutil.copy(ROOT / "data" / f"{table}.parquet", data)
    project = copy_project({"index.md": "# Accueil\n"}, tmp_path)
    config = project.config_file.read_text(encoding="utf-8")
    project.config_file.write_text(config.replace(str(ROOT / "data"), str(data)))

    with environment(**STAMP):
        build_site(Project.load(tmp_path), period="2026-10", site_dir=tmp_path / "site")
    html = (tmp_path / "site" / "tableau-de-bord" / "index.html").read_text(encoding="utf-8")

    assert "<p>Pas de données de campagnes ni d'enquêtes dans cet extrait.</p>" in html
    assert 'data-kpi="revenue"' in html and 'data-kpi="churn_rate"' in html
    assert 'data-kpi="open_rate"' not in html and 'data-kpi="nps"' not in html
    assert "kpisite-na" not in html
