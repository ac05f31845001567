"""The directive pre-pass and checks: lines, code fences, front matter, every error case
with its exact message and line, and all errors of a page reported together."""

# ruff: noqa: E501 (the expected messages are kept whole, as users read them)

from __future__ import annotations

import markdown
import pytest
from babel.numbers import format_currency
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
        "/// kpi-table\nkpis: [revenue, nps]\nby: channel\n///",
        "page.md:3: unknown dimension 'channel' for revenue, nps (these KPIs share no dimension)",
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
    ("/// kpi-tile | nps\n", "page.md:1: block kpi-tile is never closed (add a line `///`)"),
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
    (
        "[[kpi completeness]]",
        "page.md:1: KPI completeness takes one parameter, field (a column of contacts): "
        "write completeness(field)",
    ),
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
        "page.md:3: unknown value 'XX' for respondent_country (expected one of: (non renseigné), BE, CA, CH, DE, ES, FR, LU)",
    ),
    # Text options are text: YAML's brackets and braces make a list or a mapping.
    (
        "/// kpi-chart | revenue\nby: channel\ntitle: [a, b]\n///",
        "page.md:3: title: expected text, got a list ['a', 'b'] (put it in quotes: title: \"[a, b]\")",
    ),
    (
        "/// kpi-table | revenue\nby: channel\ntitle:\n  - a\n  - b\n///",
        "page.md:3: title: expected text, got a list ['a', 'b'] (put it in quotes: title: \"[a, b]\")",
    ),
    (
        "/// kpi-tile | revenue\nlabel: {a: 1}\n///",
        "page.md:2: label: expected text, got a mapping {'a': 1} (put it in quotes: label: \"{a: 1}\")",
    ),
    (
        "/// kpi-grid\nrows:\n  - [{kpi: revenue, label: [x]}]\n///",
        "page.md:3: label: expected text, got a list ['x'] (put it in quotes: label: \"[x]\")",
    ),
    (
        "/// kpi-chart | revenue\nby: [channel]\n///",
        "page.md:2: by: expected one dimension, got ['channel'] (draw one chart or table per dimension)",
    ),
    # A filter selects at least one value: an empty one would still be said in the label.
    (
        "/// kpi-tile | orders_count\nfilters: {channel: []}\n///",
        "page.md:2: filter channel: empty list of values (give at least one value, or remove the filter)",
    ),
    (
        "/// kpi-table | revenue\nby: country_code\nfilters:\n  channel: {not: []}\n///",
        "page.md:4: filter channel: empty list of values (give at least one value, or remove the filter)",
    ),
    (
        "/// kpi-tile | orders_count\nfilters:\n  channel:\n///",
        "page.md:3: filter channel: empty value (write '(non renseigné)' to select blank values, or remove the filter)",
    ),
    (
        "/// kpi-tile | orders_count\nfilters: {city: [Lyon, null]}\n///",
        "page.md:2: filter city: empty value (write '(non renseigné)' to select blank values, or remove it from the list)",
    ),
    (
        "/// kpi-tile | orders_count\nfilters: {channel: {web: 1}}\n///",
        "page.md:2: filter channel: expected a value, a list of values or {not: [values]}, got {'web': 1}",
    ),
    (
        "/// kpi-tile | orders_count\nfilters: {channel: [[web]]}\n///",
        "page.md:2: filter channel: expected a value, a list of values or {not: [values]}, got [['web']]",
    ),
    # A KPI listed twice would be the same column or series twice.
    (
        "/// kpi-table\nkpis: [revenue, orders_count, revenue]\nby: channel\n///",
        "page.md:2: kpi-table: KPI 'revenue' is listed twice (keep one of them)",
    ),
    (
        "/// kpi-chart\nkpis:\n  - revenue\n  - average_basket\n  - revenue\n///",
        "page.md:5: kpi-chart: KPI 'revenue' is listed twice (keep one of them)",
    ),
    # A pie shows one KPI by a dimension: each error says which half is missing.
    (
        "/// kpi-chart\nkpis: [revenue, average_basket]\ntype: pie\nby: channel\n///",
        "page.md:3: a pie chart shows one KPI, not 2: revenue, average_basket (keep one, or use 'type: bars')",
    ),
    (
        "/// kpi-chart\nkpis: [revenue, average_basket]\ntype: pie\nby: kpi\n///",
        "page.md:3: a pie chart shows one KPI by a dimension, not by KPI (use 'type: bars' to compare KPIs, or 'by: <dimension>')",
    ),
    (
        "/// kpi-chart | revenue\ntype: pie\nover: month\n///",
        "page.md:2: a pie chart shows one KPI by a dimension, not over time (replace 'over: month' with 'by: <dimension>')",
    ),
    (
        "/// kpi-chart | revenue\ntype: pie\n///",
        "page.md:2: a pie chart shows one KPI by a dimension (add 'by: <dimension>')",
    ),
]


@pytest.mark.parametrize(("source", "message"), ERRORS)
def test_each_bad_directive_is_reported_with_its_line_and_shown_in_place(book, source, message):
    html, problems = convert(book, source)

    assert problems == [message]
    assert "kpisite-error" in html


TEXT_AS_WRITTEN = [
    ("/// kpi-table | revenue\nby: channel\ntitle: 2026\n///", "<caption><span>2026</span>"),
    (
        "/// kpi-chart | revenue\nby: channel\ntitle: 1.50\n///",
        '"kpisite-chart-title" aria-hidden="true">1.50<',
    ),
    ("/// kpi-tile | revenue\nsparkline: 0\nlabel: yes\n///", ">yes</div>"),
]


@pytest.mark.parametrize(("source", "shown"), TEXT_AS_WRITTEN)
def test_a_text_option_shows_as_written_not_as_yaml_reads_it(book, source, shown):
    # YAML reads 1.50 as 1.5 and yes as True: a title or a label keeps what was typed.
    html, problems = convert(book, source)

    assert problems == [] and shown in html


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


def test_every_problem_of_one_inline_directive_is_reported(book):
    source = "Attrition : [[kpi churn_rate compare=prev chanel=web]].\n"

    html, problems = convert(book, source)

    assert problems == [
        "page.md:1: compare: unknown value 'prev' (did you mean 'previous'?)",
        "page.md:1: unknown option or dimension 'chanel' for churn_rate (expected one of: city, "
        "compare, country_code, delta, lead_source, lifecycle_stage)",
    ]
    assert "kpisite-error" in html


def test_an_unknown_kpi_in_an_inline_directive_hides_its_filters_not_its_options(book):
    _, problems = convert(book, "[[kpi revenu compare=prev channel=web compar=previous]]\n")

    # channel is some KPI's dimension: it may be right for the KPI meant; compar is no one's.
    assert problems == [
        "page.md:1: unknown KPI 'revenu' (did you mean 'revenue'?)",
        "page.md:1: compare: unknown value 'prev' (did you mean 'previous'?)",
        "page.md:1: unknown option or dimension 'compar' (did you mean 'compare'?)",
    ]


def test_an_na_kpi_shows_na_with_its_reason_not_an_error(book):
    # The bundled extract starts in December 2023: nothing can be said of 2000.
    html, problems = convert(book, "Le NPS : [[kpi nps]].", period="2000-01")

    assert problems == []
    assert (
        'class="kpisite-value kpisite-na" title="n/a : période 2000-01 hors des données '
        '(du 01/12/2023 au 30/11/2026)"' in html
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


# --- Modes a KPI supports, checked when the directive is read ----------------------------

AMOUNTS = "ces, ces_responses, csat_responses, nps_responses, orders_count, revenue"
MODE_ERRORS = [
    (
        "/// kpi-chart\nkpis: [nps]\ntype: hbars\nby: platform\nmode: mean\n///",
        f"page.md:5: mode 'mean' needs a KPI measured over an amount ({AMOUNTS}); 'nps' is a formula (modes for nps: count)",
    ),
    (
        "/// kpi-chart\nkpis: [nps]\nover: month\nmode: cumulative_mean\n///",
        f"page.md:4: mode 'cumulative_mean' needs a KPI measured over an amount ({AMOUNTS}); 'nps' is a formula (modes for nps: count)",
    ),
    (
        "/// kpi-table\nkpis: [active_rate]\nby: country_code\nmode: mean\n///",
        f"page.md:4: mode 'mean' needs a KPI measured over an amount ({AMOUNTS}); 'active_rate' is a formula (modes for active_rate: count)",
    ),
    (
        "/// kpi-table\nkpis: [average_basket]\nby: channel\nmode: percent\n///",
        "page.md:4: mode 'percent' shows shares of a total that adds up; 'average_basket' is a formula (modes for average_basket: count)",
    ),
    (
        "/// kpi-table\nkpis: [ces]\nby: platform\nmode: percent\n///",
        "page.md:4: mode 'percent' shows shares of a total that adds up; 'ces' is a measure of mean(score) (modes for ces: count, mean, std)",
    ),
    (
        "/// kpi-table\nkpis: [revenue, orders_count]\nby: channel\nmode: mean\n///",
        "page.md:4: mode 'mean': revenue and orders_count are over the same amount (total_amount of the same orders): their figures would be the same (keep one of them)",
    ),
]


@pytest.mark.parametrize(("source", "message"), MODE_ERRORS)
def test_a_mode_the_kpi_cannot_have_is_an_error_at_the_mode_line(book, source, message):
    html, problems = convert(book, source)

    assert problems == [message]
    assert "kpisite-error" in html and "kpisite-chart" not in html


def test_the_readme_chart_by_platform_with_a_mean_renders(book):
    # The README's example: the mean CES score by platform, answers from France only.
    source = (
        "/// kpi-chart\nkpis: [ces]\ntype: hbars\nby: platform\nmode: mean\n"
        "filters: {respondent_country: FR}\n///"
    )

    html, problems = convert(book, source)

    assert problems == [] and 'class="kpisite-chart"' in html


def test_an_unexpected_failure_is_the_directive_s_error_and_the_page_goes_on(book, monkeypatch):
    from site_builder import render

    def broken(spec, ctx):
        raise KeyError("mean_of")

    monkeypatch.setitem(render.__dict__, "render_chart", broken)
    html, problems = convert(book, "/// kpi-chart | revenue\n///\n\nCA : [[kpi revenue]].\n")

    assert problems == [
        "page.md:1: internal error while rendering this directive (KeyError: 'mean_of'); "
        "this is a bug in kpisite, please report it"
    ]
    assert 'data-kpi="revenue" class="kpisite-value"' in html  # the rest of the page


# --- Blocks inside admonitions and list items; text nothing rendered ------------------------


def test_a_block_indented_in_an_admonition_or_a_list_item_renders_there(book):
    source = (
        "!!! note\n    Texte\n\n    /// kpi-tile | revenue\n    sparkline: 0\n    ///\n\n"
        "- point\n\n    /// kpi-tile | orders_count\n    sparkline: 0\n    ///\n"
    )

    html, problems = convert(book, source)

    assert problems == []
    note = html[html.index('<div class="admonition note">') : html.index("<ul>")]
    assert 'data-kpi="revenue"' in note
    assert 'data-kpi="orders_count"' in html[html.index("<li>") : html.index("</li>")]
    assert "///" not in html


def test_an_error_in_an_indented_block_names_its_line(book):
    html, problems = convert(book, "!!! note\n\n    /// kpi-tile | revenu\n    ///\n")

    assert problems == ["page.md:3: unknown KPI 'revenu' (did you mean 'revenue'?)"]
    assert html.index('class="admonition note"') < html.index("kpisite-error")


def test_an_indented_code_block_is_code_not_a_directive(book):
    html, problems = convert(book, "Exemple :\n\n    /// kpi-tile | nope\n    ///\n")

    assert problems == []
    assert "<pre><code>/// kpi-tile | nope" in html


def test_a_block_in_a_blockquote_renders_there_with_its_nested_options(book):
    source = (
        "> Citation\n>\n> /// kpi-tile | revenue\n> sparkline: 0\n> filters:\n"
        ">   channel: web\n> ///\n>\n> Fin de citation.\n"
    )

    html, problems = convert(book, source)

    assert problems == []
    quote = html[html.index("<blockquote>") : html.index("</blockquote>")]
    assert 'data-kpi="revenue"' in quote and "<p>Fin de citation.</p>" in quote
    assert "///" not in html and "<p><div" not in html


def test_an_error_in_a_blockquote_names_its_line(book):
    html, problems = convert(book, "# T\n\n> /// kpi-tile | revenu\n> ///\n")

    assert problems == ["page.md:3: unknown KPI 'revenu' (did you mean 'revenue'?)"]
    assert html.index("<blockquote>") < html.index("kpisite-error") < html.index("</blockquote>")


def test_leftover_text_is_located_at_its_line_not_in_code_above(book):
    # The same text first in a fenced example and in an indented one: neither is the
    # leftover, which is on line 12.
    source = (
        "# T\n\n```markdown\nVoir /// kpi-tile | revenu\n```\n\nExemple :\n\n"
        "    Voir /// kpi-tile | revenu\n\nTexte.\nVoir /// kpi-tile | revenu\n"
    )

    _, problems = convert(book, source)

    assert [problem.split(": directive")[0] for problem in problems] == ["page.md:12"]


def test_leftover_text_is_located_at_its_own_line_not_at_a_valid_directive_above(book):
    # Line 3 holds a valid inline directive that starts like the broken text of line 5;
    # the same broken text twice (lines 5 and 7) is two places.
    source = (
        "# T\n\nPanier : [[kpi average_basket compare=previous]].\n\n[[kpi average_basket\n"
        "\nEncore [[kpi average_basket\n"
    )

    _, problems = convert(book, source)

    assert [problem.split(": directive")[0] for problem in problems] == [
        "page.md:5",
        "page.md:7",
    ]


LEFTOVERS = [
    ("# T\n\nVoir /// kpi-tile | revenue\n", "page.md:3", "/// kpi-tile | revenue"),
    ("Le CA : [[kpi]].\n", "page.md:1", "[[kpi]]"),
    ("| a |\n| - |\n| [[kpi revenue |\n", "page.md:3", "[[kpi revenue |"),
]


@pytest.mark.parametrize(("source", "where", "text"), LEFTOVERS)
def test_directive_text_left_in_the_page_is_an_error_never_silent(book, source, where, text):
    html, problems = convert(book, source)

    assert problems == [
        f"{where}: directive text left as is: '{text}' (a directive goes on lines of its own, "
        "in a paragraph, a blockquote, an admonition or a list item; '[[kpi NAME]]' inline)"
    ]
    assert "kpisite-error" in html


def test_inline_directives_accept_spaces_and_any_case(book):
    html, problems = convert(book, "[[ kpi orders_count ]] et [[KPI orders_count]]")

    assert problems == []
    assert html.count('data-kpi="orders_count" class="kpisite-value">382<') == 2


# --- Unclosed blocks, repeated options, every error of a block -------------------------------


def test_an_unclosed_block_swallows_nothing_after_its_options(book):
    source = (
        "# T\n\n/// kpi-tile | revenue\ncompare: none\n\nUn paragraphe.\n\n"
        "/// kpi-tile | orders_count\nsparkline: 0\n///\n"
    )

    html, problems = convert(book, source)

    assert problems == ["page.md:3: block kpi-tile is never closed (add a line `///`)"]
    assert "<p>Un paragraphe.</p>" in html and 'data-kpi="orders_count"' in html
    assert "compare: none" not in html


REPEATED = [
    (
        "[[kpi revenue compare=previous compare=last_year]]",
        "page.md:1: option 'compare' is given twice (previous, last_year)",
    ),
    (
        "[[kpi revenue compare=previous delta=last_year]]",
        "page.md:1: give 'compare' (the value and its change) or 'delta', not both",
    ),
    (
        "/// kpi-chart\nkpis: [revenue]\nby: channel\ntitle: a\nby: country_code\n///",
        "page.md:5: kpi-chart: option 'by' is given twice (first on line 3)",
    ),
    (
        "/// kpi-chart | revenue\nkpis: [nps]\n///",
        "page.md:2: kpi-chart: KPIs given twice: '| revenue' and 'kpis:' (keep one of them)",
    ),
]


@pytest.mark.parametrize(("source", "message"), REPEATED)
def test_an_option_given_twice_is_an_error(book, source, message):
    _, problems = convert(book, source)

    assert problems == [message]


def test_an_option_given_twice_is_reported_with_the_other_problems_of_its_block(book):
    source = "/// kpi-chart | revenue\nby: channel\ntitel: Ventes\nby: country_code\nmode: avg\n///"

    _, problems = convert(book, source)

    assert problems == [
        "page.md:3: kpi-chart: unknown option 'titel' (did you mean 'title'?)",
        "page.md:4: kpi-chart: option 'by' is given twice (first on line 2)",
        "page.md:5: mode: unknown value 'avg' (expected one of: count, mean, percent, std)",
    ]


def test_a_grain_given_as_by_points_to_over(book):
    _, problems = convert(book, "/// kpi-chart | revenue\nby: week\n///")

    assert problems == [
        "page.md:2: unknown dimension 'week' for revenue ('week' is a grain: use 'over: week' for a time series)"
    ]


def test_a_filter_dimension_given_twice_matches_either_value(book):
    import duckdb

    period = book.period("2026-10")
    ((expected,),) = duckdb.sql(
        f"""select sum(total_amount) from '{ROOT / "data" / "orders.parquet"}'
        where status = 'completed' and not is_test and channel in ('web', 'store')
        and ordered_at >= '{period.start_utc.isoformat()}'::timestamptz
        and ordered_at < '{period.end_utc.isoformat()}'::timestamptz"""
    ).fetchall()

    html, problems = convert(book, "[[kpi revenue channel=web channel=store]]")

    assert problems == []
    shown = format_currency(expected, "EUR", locale="fr_FR")
    assert f'class="kpisite-value">{shown}</span>' in html


def test_every_problem_of_a_block_is_reported_at_its_own_line(book):
    source = "/// kpi-chart | revenue\nover: fortnight\nperiods: -3\ntop: 0\n///"

    _, problems = convert(book, source)

    assert problems == [
        "page.md:2: over: unknown value 'fortnight' (expected one of: day, month, quarter, week, year)",
        "page.md:3: periods: expected a whole number from 1 to 120, got -3",
        "page.md:4: top: keeps the largest members of a breakdown; 'over' shows every period (remove it, or use 'by: <dimension>')",
    ]


LINES = [
    # The filter's own line, though its dimension is named earlier by `by`.
    (
        "/// kpi-table | revenue\nby: channel\ntitle: country_code\nfilters:\n  country_code: FRR\n///",
        "page.md:5: unknown value 'FRR' for country_code (did you mean 'FR'?)",
    ),
    # An unclosed bracket: the line where it opens, not where the parser gave up.
    (
        "/// kpi-table\nkpis: [revenue\nby: channel\ntitle: x\n///",
        "page.md:2: kpi-table: options are not valid YAML: expected ',' or ']', but got ':'",
    ),
    # `over` takes a grain; the undocumented "period" is gone.
    (
        "/// kpi-chart | revenue\nover: period\n///",
        "page.md:2: over: unknown value 'period' (expected one of: day, month, quarter, week, year)",
    ),
    (
        "/// kpi-chart\nkpis: [revenue, orders_count]\nby: country_code\n///",
        "page.md:2: kpi-chart: one axis cannot show KPIs of different units: revenue (currency), orders_count (count) (draw one chart per unit, or use a kpi-table)",
    ),
    (
        "/// kpi-table | revenue\nby: channel\nperiods: 6\n///",
        "page.md:3: periods: counts periods over time; 'by' shows the report period (remove it, or use 'over: month')",
    ),
]


@pytest.mark.parametrize(("source", "message"), LINES)
def test_each_problem_names_the_line_it_is_on(book, source, message):
    _, problems = convert(book, source)

    assert problems == [message]


# --- Inline values written with spaces: shell-like quotes ----------------------------------

# Contacts of cities with spaces, a blank one and guest orders, all of October 2026:
# orders by the buyer's city, counted by hand from these rows.
CITY_CONTACTS = [
    ("c1", "a@x.fr", "FR", "Le Mans", "web", "2026-01-10T09:00", None),
    ("c2", "b@x.fr", "FR", "🦄 Licorne-ville", "web", "2026-01-10T09:00", None),
    ("c3", "c@x.fr", "FR", None, "web", "2026-01-10T09:00", None),
]
CITY_ORDERS = [
    ("o1", "c1", "2026-10-05T10:00", "completed", False, "10.00", "web", "FR"),
    ("o2", "c1", "2026-10-06T10:00", "completed", False, "20.00", "web", "FR"),
    ("o3", "c2", "2026-10-07T10:00", "completed", False, "30.00", "web", "FR"),
    ("o4", "c3", "2026-10-08T10:00", "completed", False, "40.00", "web", "FR"),
    ("o5", None, "2026-10-09T10:00", "completed", False, "50.00", "web", "FR"),
    ("o6", None, "2026-10-10T10:00", "completed", False, "60.00", "web", "FR"),
    ("o7", None, "2026-10-11T10:00", "completed", False, "70.00", "web", "FR"),
    # After October: the extract covers the month whole.
    ("o8", "c1", "2026-11-05T10:00", "completed", False, "1.00", "web", "FR"),
]


@pytest.fixture(scope="module")
def cities(tmp_path_factory):
    from kpi_fixture import write_campaigns, write_contacts, write_orders, write_surveys

    root = tmp_path_factory.mktemp("cities")
    write_contacts(root / "data", CITY_CONTACTS)
    write_orders(root / "data", CITY_ORDERS)
    write_campaigns(root / "data")
    write_surveys(root / "data")
    (root / "mkdocs.yml").write_text("site_name: t\nplugins:\n  - kpisite\n")
    return Workbook(Project.from_options(root, {}), cache=False)


@pytest.mark.parametrize(
    ("written", "count"),
    [
        ('city="Le Mans"', "2"),
        ("city='🦄 Licorne-ville'", "1"),
        ('city="(non renseigné)"', "1"),
        ('city="(sans contact)"', "3"),
        # Either of two quoted values, the first one with a quote of the other kind.
        ("city=\"Le Mans\" city='(sans contact)'", "5"),
    ],
)
def test_an_inline_value_with_spaces_is_written_in_quotes(cities, written, count):
    html, problems = convert(cities, f"Commandes : [[kpi orders_count {written}]].")

    assert problems == []
    assert f'class="kpisite-value">{count}</span>' in html


INLINE_QUOTING_ERRORS = [
    (
        "[[kpi orders_count city=(sans contact)]]",
        "page.md:1: inline option 'contact)' is not written key=value (put a value with "
        'spaces in quotes: city="(sans contact)", or use a block\'s filters:)',
    ),
    (
        "[[kpi orders_count city=Le Mans compare=previous]]",
        "page.md:1: inline option 'Mans' is not written key=value (put a value with spaces "
        'in quotes: city="Le Mans", or use a block\'s filters:)',
    ),
    (
        '[[kpi orders_count city="Le Mans]]',
        "page.md:1: inline directive 'orders_count city=\"Le Mans' opens a quote it never "
        'closes (close it, e.g. city="Le Mans")',
    ),
]


@pytest.mark.parametrize(("source", "message"), INLINE_QUOTING_ERRORS)
def test_a_value_with_spaces_left_unquoted_points_to_quotes(cities, source, message):
    html, problems = convert(cities, source)

    assert problems == [message]
    assert "kpisite-error" in html


def test_a_grid_s_filter_error_is_reported_once(book):
    source = "/// kpi-grid\nfilters: {channel: webb}\nrows:\n  - [revenue, orders_count]\n///"

    html, problems = convert(book, source)

    # The grid's filters apply to each of its tiles: still one problem, said once.
    assert problems == ["page.md:2: unknown value 'webb' for channel (did you mean 'web'?)"]
    assert html.count("unknown value") == 1
