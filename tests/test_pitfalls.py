"""Pitfalls of /work/shared/PITFALLS.md that no other test pinned down.

Each test names its pitfall. Expected numbers come from the rows of kpi_fixture.py, worked
out by hand in the comment above the assertion. October 2026 in Paris =
[2026-09-30 22:00 UTC, 2026-10-31 23:00 UTC).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from decimal import Decimal

import markdown
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from conftest import ROOT
from kpi_fixture import make_project
from kpisite_sites import copy_project

from kpi.engine import Workbook
from kpi.project import Project
from site_builder.markdown import KpiExtension
from site_builder.render import RenderContext

# --- Markdown: pymdownx.superfences / pymdownx.blocks must not swallow directive errors --


@pytest.fixture(scope="module")
def sample_book() -> Workbook:
    return Workbook(Project.load(ROOT), cache=False)


def convert(book: Workbook, text: str, extensions: list) -> tuple[str, list[str]]:
    ext = KpiExtension(context=RenderContext(book, book.period("2026-10")))
    ext.start_page("page.md")
    html = markdown.markdown(text, extensions=[ext, *extensions])
    return html, [str(problem) for problem in ext.problems]


PYMDOWNX = [
    [],
    ["pymdownx.superfences"],
    ["pymdownx.blocks.admonition", "pymdownx.blocks.details", "pymdownx.superfences"],
]


@pytest.mark.parametrize("extensions", PYMDOWNX, ids=["plain", "superfences", "blocks"])
def test_block_errors_are_reported_whatever_pymdownx_extensions_run_beside(sample_book, extensions):
    # Pitfall: superfences swallows exceptions, pymdownx.blocks renders a block whose
    # options fail validation as a literal paragraph. kpisite's own pre-pass (priority 29)
    # must still report both bad blocks, with their source lines (3 and 7), and a
    # pymdownx block beside them must keep working.
    page = (
        "# Titre\n"  # 1
        "\n"  # 2
        "/// kpi-tile | revenu\n"  # 3: unknown KPI
        "///\n"  # 4
        "\n"  # 5
        "/// kpi-tile | revenue\n"  # 6
        "compar: previous\n"  # 7: unknown option
        "///\n"
    )
    if "pymdownx.blocks.admonition" in extensions:
        page += "\n/// note\nBonjour\n///\n"

    html, problems = convert(sample_book, page, extensions)

    assert problems == [
        "page.md:3: unknown KPI 'revenu' (did you mean 'revenue'?)",
        "page.md:7: kpi-tile: unknown option 'compar' (did you mean 'compare'?)",
    ]
    assert html.count('class="admonition failure kpisite-error"') == 2
    assert "/// kpi-tile" not in html  # no block left as a literal paragraph
    if "pymdownx.blocks.admonition" in extensions:
        assert '<div class="admonition note">' in html


def test_a_block_opening_line_without_its_pipe_is_an_error_not_a_paragraph(sample_book):
    # The same silent failure as pymdownx.blocks: a `/// kpi-...` line the pre-pass does
    # not understand must be reported at its line, never shown as text.
    html, problems = convert(sample_book, "# T\n\n/// kpi-tile revenue\n///\n", [])

    assert [p.split(":")[:2] for p in problems] == [["page.md", "3"]]
    assert "/// kpi-tile revenue" not in html


def test_directives_inside_superfences_code_are_shown_as_code(sample_book):
    # Pitfall: macros run inside code blocks. Fenced code (backticks, tildes, a longer
    # fence holding a shorter one) and code spans keep their directives as text, even with
    # superfences handling the fences.
    page = (
        "````md\n```\n/// kpi-tile | nope\n///\n```\n````\n\n"
        "~~~python\nx = '[[kpi nope]]'\n~~~\n\n"
        "Texte `[[kpi nope]]` et [[kpi orders_count]].\n"
    )

    html, problems = convert(sample_book, page, ["pymdownx.superfences"])

    assert problems == []
    assert "/// kpi-tile | nope" in html
    assert "<code>[[kpi nope]]</code>" in html
    assert html.count("[[kpi nope]]") == 2  # the code span and the Python string
    assert html.count('data-kpi="orders_count"') == 1  # the directive in prose is rendered


# --- mkdocs configuration: strict: true (mike has no --strict), theme.font: false -------


class EnvLoader(yaml.SafeLoader):
    """mkdocs.yml with its `!ENV` tags read as plain values."""


EnvLoader.add_multi_constructor("!", lambda loader, suffix, node: None)

CONFIGS = ["mkdocs.yml", "examples/online-retail/mkdocs.yml", "examples/olist-funnel/mkdocs.yml"]


@pytest.mark.parametrize("config", CONFIGS)
def test_every_project_is_strict_in_its_config_and_loads_no_google_fonts(config):
    # mike runs `mkdocs build` without --strict, so strictness must live in mkdocs.yml;
    # mkdocs-material loads Google Fonts unless theme.font is false.
    with open(ROOT / config, encoding="utf-8") as file:
        settings = yaml.load(file, Loader=EnvLoader)  # noqa: S506 (a SafeLoader subclass)

    assert settings["strict"] is True
    assert settings["theme"]["font"] is False


# --- Strict mode, loggers, exit codes and the end-of-life notice ------------------------


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without NO_MKDOCS_2_WARNING (kpisite_sites sets it in-process)."""
    env = {k: v for k, v in os.environ.items() if k != "NO_MKDOCS_2_WARNING"}
    return {**env, **extra}


def mkdocs_strict_build(folder) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(folder / "mkdocs.yml")],
        capture_output=True,
        text=True,
        check=False,
        env=clean_env(NO_MKDOCS_2_WARNING="1", KPISITE_PERIOD="2026-10"),
    )


@pytest.mark.slow
@pytest.mark.parametrize("command", ["mkdocs", "kpisite"])
def test_on_error_warn_builds_the_site_even_in_strict_mode(tmp_path, command):
    # `on_error: warn` means "do not fail": its warnings go to a logger outside `mkdocs.`,
    # which strict mode (mkdocs.yml sets strict: true) does not count.
    copy_project({"index.md": "# A\n\nValeur : [[kpi revenu]].\n"}, tmp_path)
    config = tmp_path / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8") + "      on_error: warn\n")

    if command == "mkdocs":
        done = mkdocs_strict_build(tmp_path)
    else:
        done = subprocess.run(
            [sys.executable, "-m", "site_builder.cli", "build", "--period", "2026-10"]
            + ["--project", str(tmp_path)],
            capture_output=True,
            text=True,
            check=False,
            env=clean_env(),
        )

    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "index.md:3: unknown KPI 'revenu' (did you mean 'revenue'?)" in output
    assert "kpisite-error" in (tmp_path / "site" / "index.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_on_error_fail_fails_mkdocs_strict_mode_too(tmp_path):
    copy_project({"index.md": "# A\n\nValeur : [[kpi revenu]].\n"}, tmp_path)

    done = mkdocs_strict_build(tmp_path)

    assert done.returncode == 1
    assert "index.md:3: unknown KPI 'revenu'" in done.stdout + done.stderr


@pytest.mark.slow
def test_kpisite_quiet_build_fails_on_a_warning_and_prints_no_end_of_life_notice(tmp_path):
    # `mkdocs build --strict -q` exits 0 despite warnings (mkdocs issue 4126); `kpisite -q
    # build` must not. Run without NO_MKDOCS_2_WARNING: kpisite sets it itself, so
    # mkdocs-material's end-of-life notice never shows.
    copy_project({"index.md": "# A\n\n[lien](absent.md)\n"}, tmp_path)

    done = subprocess.run(
        [sys.executable, "-m", "site_builder.cli", "-q", "build", "--period", "2026-10"]
        + ["--project", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        env=clean_env(),
    )

    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "absent.md" in output and "strict mode" in output
    assert "end of life" not in output and "NO_MKDOCS_2_WARNING" not in output


@pytest.mark.slow
def test_a_failing_kpi_query_fails_a_plain_mkdocs_strict_build(tmp_path):
    # total_amount written as text: the revenue query fails (test_engine pins the n/a).
    copy_project({"index.md": "# A\n\nCA : [[kpi revenue]].\n"}, tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    for path in (ROOT / "data").glob("*.parquet"):
        (data / path.name).write_bytes(path.read_bytes())
    orders = pq.read_table(data / "orders.parquet")
    index = orders.schema.get_field_index("total_amount")
    text = pa.array(["x"] * orders.num_rows)
    pq.write_table(orders.set_column(index, "total_amount", text), data / "orders.parquet")
    config = tmp_path / "mkdocs.yml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(str(ROOT / "data"), str(data)),
        encoding="utf-8",
    )

    done = mkdocs_strict_build(tmp_path)

    # The plugin checks the contract before any page, so plain mkdocs (and mike) stop.
    assert done.returncode == 1, done.stdout + done.stderr
    assert "table orders, column total_amount: expected a decimal" in done.stdout + done.stderr


# --- Numbers: no inf / NaN from a zero denominator, empty sums are not NULL -------------


@pytest.fixture
def book(tmp_path) -> Workbook:
    return Workbook(make_project(tmp_path))


def test_zero_denominators_per_member_are_na_never_inf_or_nan(book):
    # Pitfall: DuckDB gives 1/0 = inf and 0.0/0 = NaN.
    # Active at the start of October (orders in [2026-07-02 22:00, 2026-09-30 22:00) UTC):
    # c2 (o3), c4 (o9), c8 (o10), all FR; BE has none.
    # BE: churned 0 / active at start 0 -> the 0/0 case.
    be = book.value("churn_rate", "2026-10", filters={"country_code": "BE"})
    assert (be.value, be.reason) == (None, "n/a : aucun client actif au début de la période")
    # FR: existing at the end c1 c2 c8 = 3, active at start 3 -> 3 - 3 = 0 inactive;
    # activated = active at the end {c1 c2 c8} minus {c2 c4 c8} = {c1} -> the 1/0 case.
    assert book.value("activated", "2026-10", filters={"country_code": "FR"}).raw == 1
    fr = book.value("activation_rate", "2026-10", filters={"country_code": "FR"})
    assert (fr.value, fr.reason) == (None, "n/a : aucun contact inactif à activer")
    # The same members inside one breakdown query: FR churn 1 (c4) / 3; BE n/a.
    table = book.breakdown(["churn_rate"], "2026-10", by="country_code", other=False)
    rows = {str(label): values["churn_rate"] for label, values in table.rows}
    assert rows["FR"].raw == Decimal(1) / Decimal(3)
    assert rows["BE"].value is None


def test_a_member_without_orders_has_zero_revenue_and_na_basket(book):
    # Pitfall: an empty sum is NULL, an empty count 0. The only October order of a
    # "referral" contact (c2's o5) is cancelled: revenue 0 (not NULL), orders 0, and
    # average_basket = 0 / 0 -> n/a. web: c1 100 + 50.50, c3 30 -> 180.50 / 3 orders.
    names = ["revenue", "orders_count", "average_basket"]
    table = book.breakdown(names, "2026-10", by="lead_source", other=False)
    rows = {str(label): values for label, values in table.rows}
    assert rows["referral"]["revenue"].raw == 0
    assert rows["referral"]["orders_count"].raw == 0
    assert rows["referral"]["average_basket"].value is None
    assert rows["referral"]["average_basket"].reason == (
        "n/a : aucune commande terminée sur la période"
    )
    assert rows["web"]["average_basket"].raw == Decimal("180.50") / 3


# --- Charts and publishing: print styles, the public Pages warning -----------------------


def test_print_hides_the_plotly_mode_bar():
    css = (ROOT / "site_builder" / "assets" / "kpisite.css").read_text(encoding="utf-8")
    block = re.search(r"@media print\s*\{(.*?)\n\}", css, re.S)

    assert block, "no @media print rule"
    assert re.search(r"\.modebar-container[^{]*\{\s*display:\s*none", block.group(1))


def test_the_publishing_guide_warns_that_pages_sites_are_public():
    guide = (ROOT / "doc" / "publishing.md").read_text(encoding="utf-8")

    assert "**Warning: a GitHub Pages site is public**" in guide
    assert "private Pages" in guide


# --- Rigor: a state KPI whose count differs between periods ------------------------------


def test_contacts_existing_follows_the_period_end(book):
    # test_engine checks 6 at the end of September and 6 at the end of October: a state
    # ignoring its period would pass both. End of April 2026 = 2026-04-30 22:00 UTC (summer
    # time): c1 (Jan), c2 (Mar), c7 (2025, deleted in June), c8 (Feb), c9 (1 Apr) = 5;
    # c3 is created on 1 May, c4 c5 c6 in the autumn.
    assert book.value("contacts_existing", "2026-04").raw == 5
    # End of June = 2026-06-30 22:00 UTC: c7 is gone (deleted 1 June), c3 is there -> 5;
    # by week 22 (25-31 May 2026, ending 2026-05-31 22:00 UTC) c7 still exists -> 6.
    assert book.value("contacts_existing", "2026-06").raw == 5
    assert book.value("contacts_existing", "2026-W22").raw == 6


def test_a_change_that_rounds_to_zero_shows_no_sign_and_no_arrow():
    # 0.3004 -> 0.3002 is -0.02 point: "-0,0 pt" with a red ▼ would read as a fall.
    from types import SimpleNamespace

    from kpi.formatting import format_delta
    from site_builder.render import mark

    text = format_delta(Decimal("-0.0002"), "percent")
    assert text == "0,0\u00a0pt"
    comparison = SimpleNamespace(delta=Decimal("-0.0002"), delta_formatted=text, improved=False)
    assert mark(comparison) == ("=", "neutral")
    # A change that shows keeps its sign and its mark: -0,1 pt, a fall judged bad.
    text = format_delta(Decimal("-0.001"), "percent")
    assert text == "-0,1\u00a0pt"
    comparison = SimpleNamespace(delta=Decimal("-0.001"), delta_formatted=text, improved=False)
    assert mark(comparison) == ("▼", "bad")


def test_a_directive_nested_in_a_pymdownx_block_renders_inside_it(sample_book):
    # pymdownx.blocks parses its own blocks' content: the directive, rendered by the
    # pre-pass, must end up inside the details element, not as literal text.
    page = "/// details | Détails\n\n/// kpi-tile | revenue\nsparkline: 0\n///\n\n///\n"

    html, problems = convert(sample_book, page, ["pymdownx.blocks.details"])

    assert problems == []
    details = html[html.index("<details") : html.index("</details>")]
    assert 'data-kpi="revenue"' in details and "///" not in html
