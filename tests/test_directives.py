"""The directive pre-pass and checks: lines, code fences, front matter, every error case
with its exact message and line, and all errors of a page reported together."""

# ruff: noqa: E501 (the expected messages are kept whole, as users read them)

from __future__ import annotations

import markdown
import pytest
from conftest import ROOT

from kpi.engine import Workbook
from kpi.project import Project
from site_builder import directives
from site_builder.markdown import KpiExtension
from site_builder.render import RenderContext


@pytest.fixture(scope="module")
def book():
    return Workbook(Project.load(ROOT), cache=False)


def convert(book, text: str, offset: int = 0, period: str = "2026-10") -> tuple[str, list[str]]:
    ext = KpiExtension(context=RenderContext(book, book.period(period)))
    ext.start_page("page.md", offset)
    html = markdown.markdown(text, extensions=[ext, "admonition"])
    return html, sorted((str(p) for p in ext.problems), key=lambda s: int(s.split(":")[1]))


def test_scan_finds_blocks_and_inline_directives_with_their_lines():
    lines = [
        "---",
        "title: x",
        "---",
        "Texte [[kpi revenue]] et",
        "/// kpi-tile | churn_rate",
        "sparkline: 6",
        "///",
        "Fin [[kpi nps",
        "compare=previous]].",
    ]
    found = directives.scan(lines)

    assert [(b.kind, b.argument, b.line, b.body) for b in found.blocks] == [
        ("kpi-tile", "churn_rate", 5, ["sparkline: 6"])
    ]
    assert found.inline_lines == {"[[kpi revenue]]": [4], "[[kpi nps compare=previous]]": [8]}


def test_scan_skips_code_fences_and_code_spans():
    lines = [
        "```md",
        "/// kpi-tile | nope",
        "///",
        "[[kpi nope]]",
        "```",
        "`[[kpi nope]]`",
        "~~~",
        "~~~",
    ]

    found = directives.scan(lines)

    assert found.blocks == [] and found.inline_lines == {}


def test_scan_offset_counts_front_matter_removed_by_mkdocs():
    found = directives.scan(["", "[[kpi revenue]]"], offset=4)

    assert found.inline_lines == {"[[kpi revenue]]": [6]}


def test_scan_reports_a_malformed_block_opening_at_its_line_with_its_body():
    lines = [
        "# T",  # 0
        "",
        "/// kpi-tile revenue",  # 2: no bar
        "compare: none",
        "///",  # 4
        "/// kpitile nps",  # 5: no bar, unknown kind; the next block opens before a close
        "/// kpi-tile | nps",  # 6
        "///",
    ]

    found = directives.scan(lines, offset=2)

    assert found.problems == [
        (5, "malformed directive 'kpi-tile revenue': expected '/// kpi-tile | KPI'", None),
        (
            8,
            "malformed directive 'kpitile nps': unknown kind 'kpitile'",
            "did you mean 'kpi-tile'?",
        ),
    ]
    assert found.spans == {5: (2, 4), 8: (5, 5)}
    assert [(b.kind, b.argument, b.line) for b in found.blocks] == [("kpi-tile", "nps", 9)]


def test_a_malformed_opening_is_replaced_in_place_with_its_body(book):
    html, problems = convert(book, "Avant\n\n/// kpi-tile revenue\ncompare: none\n///\n\nApres\n")

    assert problems == [
        "page.md:3: malformed directive 'kpi-tile revenue': expected '/// kpi-tile | KPI'"
    ]
    assert html.index("Avant") < html.index("kpisite-error") < html.index("Apres")
    assert "compare: none" not in html and "<p>///</p>" not in html


def test_code_is_rendered_as_code_not_as_a_directive(book):
    html, problems = convert(book, "`[[kpi revenue]]`\n\n```\n/// kpi-tile | nope\n///\n```\n")

    assert problems == []
    assert "<code>[[kpi revenue]]</code>" in html
    assert "/// kpi-tile | nope" in html


ERRORS = [
    ("[[kpi revenu]]", "page.md:1: unknown KPI 'revenu' (did you mean 'revenue'?)"),
    (
        "[[kpi revenue compare=previus]]",
        "page.md:1: compare: unknown value 'previus' (did you mean 'previous'?)",
    ),
    (
        "[[kpi revenue chanel=web]]",
        "page.md:1: unknown option or dimension 'chanel' for revenue (did you mean 'channel'?)",
    ),
    (
        "[[kpi revenue compare]]",
        "page.md:1: inline option 'compare' is not written key=value (e.g. compare=previous)",
    ),
    (
        "x\n\n/// kpi-tile | nps\nsparkline: 12\ncompar: previous\n///",
        "page.md:5: kpi-tile: unknown option 'compar' (did you mean 'compare'?)",
    ),
    (
        "/// kpi-tiles | nps\n///",
        "page.md:1: unknown directive 'kpi-tiles' (did you mean 'kpi-tile'?)",
    ),
    ("/// kpi-tile | npss\n///", "page.md:1: unknown KPI 'npss' (did you mean 'nps'?)"),
    (
        "/// kpi-tile\n///",
        "page.md:1: kpi-tile: name the KPI after a bar: '/// kpi-tile | churn_rate'",
    ),
    (
        "/// kpi-tile | nps\nsparkline: many\n///",
        "page.md:2: sparkline: expected a whole number from 0 to 60, got 'many'",
    ),
    (
        "/// kpi-chart | revenue\nby: chanel\n///",
        "page.md:2: unknown dimension 'chanel' for revenue (did you mean 'channel'?)",
    ),
    (
        "/// kpi-chart | revenue\nby: channel\ntype: pei\n///",
        "page.md:3: type: unknown value 'pei' (did you mean 'pie'?)",
    ),
    (
        "/// kpi-chart | revenue\nover: mnth\n///",
        "page.md:2: over: unknown value 'mnth' (did you mean 'month'?)",
    ),
    (
        "/// kpi-chart | revenue\nover: month\nmode: percent\n///",
        "page.md:3: mode 'percent' applies to a breakdown (add 'by: <dimension>')",
    ),
    (
        "/// kpi-table | revenue\nby: channel\nmode: cumulative_mean\n///",
        "page.md:3: mode 'cumulative_mean' runs over time (use 'over: month')",
    ),
    (
        "/// kpi-chart | revenue\nby: channel\nmode: percnt\n///",
        "page.md:3: mode: unknown value 'percnt' (did you mean 'percent'?)",
    ),
    (
        "/// kpi-chart\nkpis: [revenue, nps]\ntype: pie\nby: channel\n///",
        "page.md:4: unknown dimension 'channel' for revenue, nps (these KPIs share no dimension)",
    ),
    (
        "/// kpi-table\nkpis: [revenue]\nfilters: {contry_code: FR}\n///",
        "page.md:3: unknown filter dimension 'contry_code' for revenue (did you mean 'country_code'?)",
    ),
    (
        "/// kpi-table\nkpis: [revenue, orders_cont]\n///",
        "page.md:2: unknown KPI 'orders_cont' (did you mean 'orders_count'?)",
    ),
    (
        "/// kpi-table\nkpis: [revenue\n///",
        "page.md:2: kpi-table: options are not valid YAML: expected ',' or ']', but got '<stream end>'",
    ),
    (
        "/// kpi-grid\nrows:\n  - [revenue]\n  - [orders_count, churn_rte]\n///",
        "page.md:4: unknown KPI 'churn_rte' (did you mean 'churn_rate'?)",
    ),
    (
        "/// kpi-grid\n///",
        "page.md:1: kpi-grid: expected 'rows:', a list of rows of KPIs (e.g. rows: [[revenue], [orders_count, average_basket]])",
    ),
    (
        "/// kpi-tile | nps\n",
        "page.md:1: directive 'kpi-tile' is never closed (end it with a line '///')",
    ),
    # An opening line that does not read '/// KIND | KPI' is an error, not a paragraph.
    (
        "# T\n\n/// kpi-tile revenue\n///",
        "page.md:3: malformed directive 'kpi-tile revenue': expected '/// kpi-tile | KPI'",
    ),
    (
        "/// kpi-chart: revenue\nover: month\n///",
        "page.md:1: malformed directive 'kpi-chart: revenue': expected '/// kpi-chart | KPI'",
    ),
    (
        "/// kpi-grid rows\n///",
        "page.md:1: malformed directive 'kpi-grid rows': expected '/// kpi-grid'",
    ),
    (
        "/// kpi-tiles revenue\n///",
        "page.md:1: malformed directive 'kpi-tiles revenue': unknown kind 'kpi-tiles' (did you mean 'kpi-tile'?)",
    ),
    (
        "/// KPI-tile | revenue\n///",
        "page.md:1: malformed directive 'KPI-tile | revenue': unknown kind 'KPI-tile' (did you mean 'kpi-tile'?)",
    ),
    ("[[kpi completeness]]", "page.md:1: KPI 'completeness': expected completeness(field)"),
    (
        "[[kpi revenue channel=wbe]]",
        "page.md:1: unknown value 'wbe' for channel (did you mean 'web'?)",
    ),
    (
        "/// kpi-table | revenue\nover: month\nfilters:\n  country_code: FRR\n///",
        "page.md:4: unknown value 'FRR' for country_code (did you mean 'FR'?)",
    ),
    (
        "/// kpi-table | csat\nby: platform\nfilters: {respondent_country: {not: [XX]}}\n///",
        "page.md:3: unknown value 'XX' for respondent_country (expected one of: BE, CA, CH, DE, ES, FR, LU)",
    ),
]


@pytest.mark.parametrize(("source", "message"), ERRORS)
def test_each_bad_directive_is_reported_with_its_line_and_shown_in_place(book, source, message):
    html, problems = convert(book, source)

    assert problems == [message]
    assert "kpisite-error" in html


def test_all_errors_of_a_page_are_reported_together(book):
    source = (
        "# T\n\n[[kpi revenu]] et [[kpi npss]]\n\n/// kpi-tile | churn\n///\n\n[[kpi revenu]]\n"
    )

    _, problems = convert(book, source)

    assert problems == [
        "page.md:3: unknown KPI 'revenu' (did you mean 'revenue'?)",
        "page.md:3: unknown KPI 'npss' (did you mean 'nps'?)",
        "page.md:5: unknown KPI 'churn' (did you mean 'churned'?)",
        "page.md:8: unknown KPI 'revenu' (did you mean 'revenue'?)",
    ]


def test_an_na_kpi_shows_na_with_its_reason_not_an_error(book):
    # The bundled extract has no survey answer in 2000.
    html, problems = convert(book, "Le NPS : [[kpi nps]].", period="2000-01")

    assert problems == []
    assert (
        'class="kpisite-value kpisite-na" title="n/a : aucune réponse NPS sur la période"' in html
    )
    assert ">n/a</span>" in html


def test_a_tile_shows_its_target_status_by_the_kpi_direction(book, monkeypatch):
    import dataclasses

    churn = book.catalog.kpis["churn_rate"]
    monkeypatch.setitem(book.catalog.kpis, "churn_rate", dataclasses.replace(churn, target=0.25))
    monkeypatch.setitem(
        book.catalog.kpis,
        "active_rate",
        dataclasses.replace(book.catalog.kpis["active_rate"], target=0.25),
    )

    html, problems = convert(
        book, "/// kpi-grid\nsparkline: 0\nrows:\n  - [churn_rate, active_rate]\n///"
    )

    # October 2026: churn 20,9 % (lower is better, target 25 %), active rate 19,0 %.
    assert problems == []
    assert (
        '<div class="kpisite-tile__target kpisite-good">Objectif 25,0\xa0% : atteint</div>' in html
    )
    assert (
        '<div class="kpisite-tile__target kpisite-bad">Objectif 25,0\xa0% : non atteint</div>'
        in html
    )
