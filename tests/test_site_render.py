"""What the rendered directives show, checked against independent SQL over the bundled
extract: time series cut at the report's end, shares, means, titles and labels, the
figures' axis and slice labels, the generated dashboard."""

# ruff: noqa: E501 (the expected texts are kept whole, as readers see them)

from __future__ import annotations

import json
import re
from decimal import ROUND_HALF_UP, Decimal
from html import unescape

import duckdb
import markdown
import pytest
from babel.numbers import format_currency, format_decimal
from conftest import ROOT

from kpi.engine import Workbook
from kpi.formatting import format_value
from kpi.project import Project
from site_builder.dashboard import dashboard_markdown
from site_builder.formats import value_label
from site_builder.markdown import KpiExtension
from site_builder.render import RenderContext

ORDERS = ROOT / "data" / "orders.parquet"
RESPONSES = ROOT / "data" / "survey_responses.parquet"
QUESTIONS = ROOT / "data" / "survey_questions.parquet"


@pytest.fixture(scope="module")
def book():
    return Workbook(Project.load(ROOT), cache=False)


def convert(book, text: str, period: str = "2026-10") -> str:
    ext = KpiExtension(context=RenderContext(book, book.period(period)))
    ext.start_page("page.md")
    html = markdown.markdown(text, extensions=[ext, "admonition"])
    assert [str(p) for p in ext.problems] == []
    return html


def rows(html: str) -> list[tuple[str, list[str]]]:
    """(row header, cells) of the first table's body."""
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    found = []
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        header = unescape(re.search(r"<th[^>]*>(.*?)</th>", row).group(1))
        found.append((header, [unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]))
    return found


def figure(html: str) -> dict:
    return json.loads(unescape(re.search(r'data-figure="([^"]*)"', html).group(1)))


def revenue_sql(start: str, end: str) -> Decimal:
    """Completed orders' revenue over local days [start, end) in Europe/Paris."""
    ((total,),) = duckdb.sql(
        f"""select coalesce(sum(total_amount), 0) from '{ORDERS}'
        where status = 'completed' and not is_test
        and ordered_at >= timezone('Europe/Paris', '{start}'::timestamp)
        and ordered_at < timezone('Europe/Paris', '{end}'::timestamp)"""
    ).fetchall()
    return total


def euros(amount) -> str:
    return format_currency(Decimal(str(amount)).quantize(Decimal("0.01")), "EUR", locale="fr_FR")


# --- Time series end at the report's end ---------------------------------------------------

SERIES = [
    # Week 5 of 2026 ends on Sunday 1 February: February shows that day alone.
    (
        "2026-W05",
        "month",
        [
            ("janv. 2026", "2026-01-01", "2026-02-01"),
            ("févr. 2026 (au 1 févr.)", "2026-02-01", "2026-02-02"),
        ],
    ),
    # November 2026 by quarter and by year: to date, and said so.
    (
        "2026-11",
        "quarter",
        [
            ("T3 2026", "2026-07-01", "2026-10-01"),
            ("T4 2026 (au 30 nov.)", "2026-10-01", "2026-12-01"),
        ],
    ),
    (
        "2026-11",
        "year",
        [("2025", "2025-01-01", "2026-01-01"), ("2026 (au 30 nov.)", "2026-01-01", "2026-12-01")],
    ),
    # October 2026 by week: the last week, Monday 26 to Sunday 1 November, stops on the 31st.
    (
        "2026-10",
        "week",
        [
            ("S43 2026", "2026-10-19", "2026-10-26"),
            ("S44 2026 (au 31 oct.)", "2026-10-26", "2026-11-01"),
        ],
    ),
]


@pytest.mark.parametrize(("period", "grain", "expected"), SERIES)
def test_a_series_ends_at_the_report_period_s_end_and_says_so(book, period, grain, expected):
    html = convert(book, f"/// kpi-table | revenue\nover: {grain}\nperiods: 2\n///", period)

    shown = rows(html)

    assert [label for label, _ in shown] == [label for label, _, _ in expected]
    assert [cells[0] for _, cells in shown] == [euros(revenue_sql(s, e)) for _, s, e in expected]


def test_a_chart_s_last_bucket_is_labelled_as_partial(book):
    html = convert(
        book, "/// kpi-chart | revenue\nover: month\nperiods: 3\ntype: bars\n///", "2026-W05"
    )

    assert figure(html)["data"][0]["x"] == ["déc. 2025", "janv. 2026", "févr. 2026 (au 1 févr.)"]


# --- Tables: shares, means, sorting keys -----------------------------------------------------


def shown_as(dimension: str, code: str) -> str:
    """A member as the French site shows it: the codes of an enumerated column by their
    name ("store": "Magasin"), every other value as it is."""
    return value_label(dimension, code, "fr_FR")


def october_revenue_by_channel() -> dict[str, Decimal]:
    """Revenue by channel in October 2026 (Paris), by plain DuckDB SQL on the extract,
    keyed by the channel as the site shows it."""
    found = duckdb.sql(
        f"""select channel, sum(total_amount) from '{ORDERS}'
        where status = 'completed' and not is_test
        and ordered_at >= timezone('Europe/Paris', '2026-10-01'::timestamp)
        and ordered_at < timezone('Europe/Paris', '2026-11-01'::timestamp)
        group by channel"""
    ).fetchall()
    return {shown_as("channel", channel): amount for channel, amount in found}


def test_shares_add_up_to_a_total_of_100_percent(book):
    html = convert(book, "/// kpi-table | revenue\nby: channel\nmode: percent\n///")
    channels = october_revenue_by_channel()
    total = sum(channels.values())

    shown = dict(rows(html))

    for channel, amount in channels.items():
        assert shown[channel] == [format_value(amount / total, "percent")]
    assert re.search('<tfoot><tr><th scope="row">Total</th>\\s*<td[^>]*>100,0\xa0%</td>', html)


def test_means_show_two_decimals_in_every_cell(book):
    html = convert(
        book, "/// kpi-table | csat_responses\nby: respondent_country\nmode: mean\ntop: 8\n///"
    )
    means = survey_means("csat", "respondent_country")

    shown = dict(rows(html))

    assert shown
    for country, (mean, count) in means.items():
        rounded = Decimal(str(mean)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert shown[country] == [format_decimal(rounded, "#,##0.00", locale="fr_FR"), str(count)]


def survey_means(kind: str, by: str) -> dict[str, tuple[float, int]]:
    """{member: (mean score, answers)} of one kind of question in October 2026."""
    return survey_scores("avg", kind, by, "2026-10-01", "2026-11-01")


def survey_scores(
    aggregate: str, kind: str, by: str, start: str, end: str
) -> dict[str, tuple[float | None, int]]:
    """{member: (aggregate of the scores, answers)} of one kind of question over local
    days [start, end), by plain DuckDB SQL on the extract."""
    found = duckdb.sql(
        f"""select {by}, {aggregate}(score), count(score) from '{RESPONSES}' r
        join '{QUESTIONS}' q using (survey_id, question_id)
        where q.kind = '{kind}' and score is not null
        and submitted_at >= timezone('Europe/Paris', '{start}'::timestamp)
        and submitted_at < timezone('Europe/Paris', '{end}'::timestamp)
        group by {by}"""
    ).fetchall()
    return {shown_as(by, member): (value, count) for member, value, count in found}


def test_a_mean_says_how_many_answers_it_is_over_and_rows_follow_the_means(book):
    html = convert(book, "/// kpi-table | ces\nby: platform\nmode: mean\n///")
    chart = convert(book, "/// kpi-chart | ces\nby: platform\nmode: mean\n///")
    means = survey_means("ces", "platform")
    # By the mean shown, those over fewer than five answers after the others.
    ranked = sorted(means, key=lambda platform: (means[platform][1] < 5, -means[platform][0]))

    shown = rows(html)
    trace = figure(chart)["data"][0]
    hover = dict(zip(trace["x"], trace["customdata"], strict=True))

    assert [platform for platform, _ in shown] == ranked
    assert '<th scope="col" title="nombre de valeurs moyennées">n</th>' in html
    for platform, (mean, count) in means.items():
        text = format_decimal(
            Decimal(str(mean)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
            "#,##0.00",
            locale="fr_FR",
        )
        assert dict(shown)[platform] == [text, str(count)]
        few = ", peu de valeurs" if count < 5 else ""
        assert hover[platform] == f"{text} (n = {count}{few})"
        # A mean over fewer than five answers is marked where it is shown.
        cell = re.search(rf'<th scope="row">{platform}</th>\s*<td([^>]*)>', html).group(1)
        assert ('class="kpisite-few"' in cell) == (count < 5), (platform, cell)
    assert any(count < 5 for _, count in means.values())


def test_plain_values_of_a_mean_say_how_many_answers_each_is_over(book):
    html = convert(book, "/// kpi-chart | ces\nby: platform\nmode: mean\ntype: values\n///")
    means = survey_means("ces", "platform")

    items = {
        platform: (attributes, text)
        for platform, attributes, text in re.findall(
            r"<dt>([^<]*)</dt><dd([^>]*)>([^<]*)</dd>", html
        )
    }

    assert set(items) == set(means)
    for platform, (mean, count) in means.items():
        text = format_decimal(
            Decimal(str(mean)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
            "#,##0.00",
            locale="fr_FR",
        )
        attributes, written = items[platform]
        assert written == f"{text} · n = {count}"
        assert ('class="kpisite-few"' in attributes) == (count < 5), platform
    assert any(count < 5 for _, count in means.values())
    assert "En italique : calculé sur moins de 5 valeurs." in html


def test_plain_values_show_the_title_given(book):
    one = convert(book, "/// kpi-chart | orders_count\nby: channel\ntype: values\ntitle: 2026\n///")
    two = convert(
        book,
        "/// kpi-chart\nkpis: [orders_count, revenue]\nby: channel\ntype: values\n"
        "title: Ventes par canal\nfilters: {country_code: FR}\n///",
    )

    assert re.findall(r'<p class="kpisite-title">([^<]*)</p>', one) == ["2026"]
    assert re.findall(r'<p class="kpisite-title">([^<]*)</p>', two) == [
        "Ventes par canal · pays\xa0: France",
        "Commandes",
        "Chiffre d&#x27;affaires",
    ]


def test_a_chart_of_kpis_by_kpi_is_titled_by_their_labels(book):
    html = convert(
        book,
        "/// kpi-chart\nkpis: [completeness(email), completeness(phone)]\nby: kpi\n"
        "type: hbars\n///",
    )

    title = re.search(r'<p class="kpisite-chart-title"[^>]*>([^<]*)</p>', html).group(1)
    assert title == "Complétude (email), Complétude (téléphone)"


def test_a_deviation_by_city_is_ordered_by_the_deviation_shown(book):
    table = convert(book, "/// kpi-table | revenue\nby: city\nmode: std\ntop: 6\n///")
    html = table[: table.index("</tbody>")]

    found = re.findall(
        r'<th scope="row">(?!Autres)[^<]*</th>\s*<td data-value="([^"]+)"[^>]*>[^<]*</td>'
        r'\s*<td data-value="(\d+)"',
        html,
    )
    values = [(int(n) < 5, float(value)) for value, n in found]

    # Largest first, those over fewer than five orders after the others.
    assert len(values) >= 5 and values == sorted(values, key=lambda v: (v[0], -v[1]))
    assert re.findall(r'<th scope="row">([^<]*)</th>', html)[-1] == "Autres"


# --- Filters: a filtered figure says so -----------------------------------------------------


FILTERED = [
    (
        "/// kpi-tile | revenue\nlabel: Ventes totales\nfilters: {channel: web}\n///",
        'Ventes totales<span class="kpisite-tile__filters"> · canal\xa0: Web</span>',
    ),
    (
        "/// kpi-table | revenue\nby: channel\ntitle: Ventes\nfilters: {country_code: FR}\n///",
        "<caption><span>Ventes · pays\xa0: France</span></caption>",
    ),
    (
        "/// kpi-table | revenue\nby: channel\nfilters: {country_code: FR}\n///",
        "<caption><span>Chiffre d&#x27;affaires · pays\xa0: France</span></caption>",
    ),
    (
        "/// kpi-chart | revenue\nby: channel\ntype: pie\nfilters: {country_code: FR}\n///",
        'aria-label="Chiffre d&#x27;affaires · pays\xa0: France"',
    ),
    (
        "/// kpi-chart | ces\nby: respondent_country\nmode: mean\nfilters: {platform: [web, ios]}\n///",
        'aria-label="Note des CES (moyenne) · plateforme\xa0: Web, iOS"',
    ),
    (
        "/// kpi-chart | revenue\nover: month\nperiods: 3\nfilters: {channel: {not: [web]}}\n///",
        'aria-label="Chiffre d&#x27;affaires · canal\xa0: sauf Web"',
    ),
    (
        "Web : [[kpi average_basket channel=web]].",
        'title="Panier moyen · canal\xa0: Web" data-kpi="average_basket"',
    ),
]


@pytest.mark.parametrize(("source", "shown"), FILTERED)
def test_a_filtered_figure_says_what_it_is_filtered_on(book, source, shown):
    html = convert(book, source)

    assert shown in html


def test_an_unfiltered_figure_says_nothing_of_filters(book):
    html = convert(book, "/// kpi-tile | revenue\n///\n\n/// kpi-table | revenue\nby: channel\n///")

    assert "kpisite-tile__filters" not in html and "<caption>" not in html


def test_a_chart_title_is_page_text_above_the_plot_with_its_filters(book):
    html = convert(
        book,
        "/// kpi-chart | revenue\nby: channel\ntitle: Ventes\nfilters: {country_code: FR}\n///",
    )

    # Text of the page wraps at any width, where plotly's own title ran off a phone.
    assert '<p class="kpisite-chart-title" aria-hidden="true">Ventes · pays\xa0: France</p>' in html
    assert 'aria-label="Ventes · pays\xa0: France"' in html
    assert "title" not in figure(html)["layout"]


# --- CSV: the numbers shown, for a machine ------------------------------------------------


def test_table_cells_carry_the_numbers_shown_for_the_csv(book):
    html = convert(book, "/// kpi-table\nkpis: [revenue, orders_count]\nby: channel\n///")
    share = convert(book, "/// kpi-table | revenue\nby: channel\nmode: percent\n///")
    channels = october_revenue_by_channel()
    total = sum(channels.values())

    cell = r'<th scope="row">([^<]*)</th>\s*<td[^>]*data-csv="([^"]*)"'
    csv, shares = dict(re.findall(cell, html)), dict(re.findall(cell, share))

    assert 'data-csv="Chiffre d&#x27;affaires (EUR)"' in html and 'data-csv="Commandes"' in html
    assert 'data-csv="Chiffre d&#x27;affaires (part, %)"' in share
    for channel, amount in channels.items():
        assert csv[channel] == str(
            Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        )
        percent = (Decimal(amount) * 100 / total).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        assert shares[channel] == str(percent)


@pytest.mark.parametrize(
    ("text", "locale", "number"),
    [
        ("1\u202f912,97\xa0€", "fr_FR", "1912.97"),
        ("9,3\xa0%", "fr_FR", "9.3"),
        ("+15", "fr_FR", "15"),
        ("-1\u202f030,50\xa0€", "fr_FR", "-1030.50"),
        ("$1,912.97", "en_US", "1912.97"),
        ("n/a", "fr_FR", ""),
    ],
)
def test_a_shown_number_is_written_for_a_machine_to_the_digit(text, locale, number):
    from site_builder.formats import machine_number

    assert machine_number(text, locale) == number


def test_members_sort_by_name_and_periods_by_time(book):
    by = convert(book, "/// kpi-table | revenue\nby: channel\n///")
    over = convert(book, "/// kpi-table | revenue\nover: month\nperiods: 3\n///")

    assert re.findall(r'<th scope="row"([^>]*)>', by[: by.index("</tbody>")]) == ["", "", "", ""]
    # In time, and in the CSV by their keys ("2026-08"), not the labels shown ("août 2026").
    assert re.findall(r'<th scope="row" data-value="(\d)" data-csv="([^"]+)">', over) == [
        ("0", "2026-08"),
        ("1", "2026-09"),
        ("2", "2026-10"),
    ]


def test_tables_are_left_for_the_theme_to_wrap_once(book):
    html = convert(book, "/// kpi-table | revenue\nby: channel\n///")

    assert "md-typeset__scrollwrap" not in html


# --- Titles and labels --------------------------------------------------------------------


def test_titles_name_what_a_mode_averages_and_fields_as_readers_do(book):
    mean = convert(
        book, "/// kpi-table | revenue\nover: month\nperiods: 2\nmode: cumulative_mean\n///"
    )
    survey = convert(book, "/// kpi-table | csat_responses\nby: platform\nmode: mean\n///")
    field = convert(
        book, "/// kpi-table\nkpis: [completeness(country_code), completeness(phone)]\nby: kpi\n///"
    )

    assert '">Montant des commandes (moyenne cumulée)</th>' in mean
    assert '">Note des réponses CSAT (moyenne)</th>' in survey
    assert [label for label, _ in rows(field)] == ["Complétude (pays)", "Complétude (téléphone)"]


def test_delta_shows_the_change_alone(book):
    html = convert(book, "Sur un an : [[kpi revenue delta=last_year]].")
    change = revenue_sql("2026-10-01", "2026-11-01") - revenue_sql("2025-10-01", "2025-11-01")

    assert re.sub(r"<[^>]+>", "", html) == (f"Sur un an : ▲\xa0+{euros(change)} vs octobre 2025.")


def test_a_currency_is_written_with_its_own_symbol():
    assert format_value(1470272.48, "currency", "fr_FR", "GBP") == "1\u202f470\u202f272,48\xa0£"
    assert format_value(12.5, "currency", "fr_FR", "USD") == "12,50\xa0$"
    assert format_value(12.5, "currency", "fr_FR", "CHF") == "12,50\xa0CHF"


# --- Figures: every number formatted in the locale -------------------------------------------


def test_axis_ticks_are_round_and_written_in_french(book):
    html = convert(book, "/// kpi-chart | revenue\nby: country_code\ntype: hbars\n///")
    layout = figure(html)["layout"]
    largest = max(x for x in figure(html)["data"][0]["x"])

    axis = layout["xaxis"]
    assert axis["tickvals"][0] == 0 and axis["tickvals"][-1] >= largest
    assert axis["ticktext"][:2] == ["0\xa0€", "5\xa0k\xa0€"]
    assert layout["separators"] == ",\u202f"
    assert "tickformat" not in axis


def test_pie_slices_show_shares_as_the_site_writes_them(book):
    html = convert(book, "/// kpi-chart | revenue\nby: channel\ntype: pie\n///")
    pie = figure(html)["data"][0]
    total = sum(pie["values"])

    assert pie["textinfo"] == "text"
    assert pie["text"] == [format_value(v / total, "percent") for v in pie["values"]]
    assert all(text.endswith("\xa0%") for text in pie["text"])


def test_percent_ticks_have_a_space_before_the_sign(book):
    html = convert(book, "/// kpi-chart | churn_rate\nover: month\nperiods: 6\n///")

    ticks = figure(html)["layout"]["yaxis"]["ticktext"]
    assert ticks[0] == "0\xa0%" and all(t.endswith("\xa0%") for t in ticks)


# --- The generated dashboard ---------------------------------------------------------------


def test_the_dashboard_groups_kpis_by_the_table_they_read(book):
    page = dashboard_markdown(book.catalog)
    sections = dict(
        re.findall(r"## (\w+)\n\n/// kpi-grid\nsparkline: 12\nrows:\n  - \[([^\]]*)\]", page)
    )

    assert list(sections) == ["Ventes", "Clients", "Campagnes", "Satisfaction"]
    assert sections["Ventes"] == "orders_count, revenue, average_basket, revenue_per_contact"
    assert "churn_rate" in sections["Clients"] and "active_rate" in sections["Clients"]
    assert "open_rate" in sections["Campagnes"] and "nps" in sections["Satisfaction"]


def test_the_dashboard_leaves_out_kpis_of_tables_the_extract_lacks(book):
    tables = ["contacts", "orders", "order_lines"]

    page = dashboard_markdown(book.catalog, tables=tables)
    sections = dict(
        re.findall(r"## (\w+)\n\n/// kpi-grid\nsparkline: 12\nrows:\n  - \[([^\]]*)\]", page)
    )
    shown = {name for names in sections.values() for name in names.split(", ")}

    # Campaign and survey KPIs could only be n/a: gone, and one line says why.
    assert list(sections) == ["Ventes", "Clients"]
    assert "\nPas de données de campagnes ni d'enquêtes dans cet extrait.\n" in page
    expected = {
        name
        for name, kpi in book.catalog.kpis.items()
        if not kpi.params and kpi.tables <= set(tables)
    }
    assert shown == expected and "churn_rate" in shown and "revenue_per_contact" in shown


def test_a_dashboard_of_every_table_says_nothing_is_missing(book):
    page = dashboard_markdown(book.catalog, tables=sorted(book.extract.names()))

    assert page == dashboard_markdown(book.catalog) and "Pas de données" not in page


def test_an_english_dashboard_names_its_missing_areas_in_english(book):
    page = dashboard_markdown(book.catalog, "en_US", tables=["contacts", "orders"])

    assert "\nNo campaign or survey data in this extract.\n" in page
    assert "## Sales" in page and "## Campaigns" not in page


# --- What a reader needs without hovering: counts on bars, legends, comparisons -------------


def two_decimals(value: float) -> str:
    rounded = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return format_decimal(rounded, "#,##0.00", locale="fr_FR")


def test_a_deviation_chart_writes_each_bar_s_value_and_count(book):
    html = convert(
        book,
        "/// kpi-chart | csat_responses\nby: respondent_city\nmode: std\ntype: hbars\ntop: 8\n///",
        "2026-11",
    )
    stats = survey_scores("stddev_samp", "csat", "respondent_city", "2026-11-01", "2026-12-01")
    chart = figure(html)
    trace = chart["data"][0]

    texts = dict(zip(trace["y"], trace["text"], strict=True))
    notes = {note["y"]: note for note in chart["layout"]["annotations"]}

    cities = [city for city in trace["y"] if city != "Autres"]
    assert len(cities) == 8
    for city in cities:
        std, n = stats[city]
        # A deviation over one answer is n/a: no bar, and "n/a" written where it would be.
        assert texts[city] == ("" if n < 2 else f"{two_decimals(std)} · n = {n}"), city
        assert (city in notes) == (n < 2), city
    assert notes and all(note["text"] == "n/a · n = 1" for note in notes.values())
    assert {note["hovertext"] for note in notes.values()} == {
        "n/a : écart type indéfini avec moins de 2 valeurs"
    }
    # Those over five answers or more first, then the others, each by their deviation.
    order = [(stats[c][1] < 5, stats[c][1] < 2, -(stats[c][0] or 0)) for c in cities]
    assert order == sorted(order) and order[0][0] is False
    assert '<p class="kpisite-note">Estompé : calculé sur moins de 5 valeurs.</p>' in html


def test_a_table_of_means_over_few_values_says_what_its_italics_mean(book):
    few = convert(book, "/// kpi-table | ces\nby: platform\nmode: mean\n///")
    many = convert(book, "/// kpi-table | revenue\nby: channel\nmode: mean\n///")

    assert '<p class="kpisite-note">En italique : calculé sur moins de 5 valeurs.</p>' in few
    assert "kpisite-note" not in many and "kpisite-few" not in many


def test_a_missing_comparison_says_so_with_its_reason(book):
    # The extract starts in December 2023: January 2023 is outside it.
    html = convert(book, "Sur un an : [[kpi revenue delta=last_year]].", "2024-01")
    value = convert(book, "Sur un an : [[kpi revenue compare=last_year]].", "2024-01")

    reason = "n/a : période 2023-01 hors des données (du 01/12/2023 au 30/11/2026)"
    marked = f'class="kpisite-delta kpisite-na" title="{reason}" tabindex="0">pas de comparaison'
    assert marked in html and marked in value
    assert re.sub(r"<[^>]+>", "", html) == "Sur un an : pas de comparaison."


def test_a_tile_with_no_value_shows_no_change(book):
    html = convert(book, "/// kpi-tile | nps\n///", "2000-01")

    assert "kpisite-tile__value kpisite-na" in html and "kpisite-tile__delta" not in html


# --- CSV downloads say what their numbers are --------------------------------------------------


@pytest.mark.parametrize(
    ("title", "filename"),
    [("", "revenue-orders-count-canal-web-magasin"), ("Ventes", "ventes-canal-web-magasin")],
)
def test_a_filtered_table_s_csv_says_its_filters_in_its_name_and_headers(book, title, filename):
    source = f"/// kpi-table\nkpis: [revenue, orders_count]\nby: country_code\ntitle: {title}\n"
    html = convert(book, source + "filters: {channel: [web, store]}\n///")

    assert f'data-filename="{filename}.csv"' in html
    assert 'data-csv="Chiffre d&#x27;affaires (EUR) · canal\xa0: Web, Magasin"' in html
    assert 'data-csv="Commandes · canal\xa0: Web, Magasin"' in html
    # The country column names what it holds, the rows their members: no filter there.
    assert '<th scope="col">Pays</th>' in html


def test_tables_of_one_page_download_under_names_of_their_own(book):
    table = "/// kpi-table\nkpis: [revenue, orders_count]\n{}///\n\n"
    html = convert(book, table.format("over: month\n") + table.format("by: channel\n"))

    assert re.findall(r'data-filename="([^"]+)"', html) == [
        "revenue-orders-count.csv",
        "revenue-orders-count-2.csv",
    ]


@pytest.mark.parametrize(
    ("period", "grain", "keys"),
    [
        ("2026-10", "week", ["2026-W43", "2026-W44"]),
        ("2026-11", "quarter", ["2026-Q3", "2026-Q4"]),
        ("2026-11", "month", ["2026-10", "2026-11"]),
        ("2026-11", "year", ["2025", "2026"]),
    ],
)
def test_a_series_gives_the_csv_its_periods_keys(book, period, grain, keys):
    html = convert(book, f"/// kpi-table | revenue\nover: {grain}\nperiods: 2\n///", period)

    assert re.findall(r'<th scope="row" data-value="\d" data-csv="([^"]+)">', html) == keys
