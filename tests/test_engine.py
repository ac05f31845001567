"""Every KPI of the standard catalog on the hand-made extract of kpi_fixture.py.

Each expected number is worked out by hand from the fixture's rows in the comment above
its assertion. October 2026 in Paris = [2026-09-30 22:00 UTC, 2026-10-31 23:00 UTC).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from kpi_fixture import make_project

from kpi.engine import Workbook
from kpi.errors import CatalogError
from kpi.project import Project


@pytest.fixture
def book(tmp_path) -> Workbook:
    return Workbook(make_project(tmp_path))


def raw(book: Workbook, name: str, period: str = "2026-10", **filters) -> Decimal | None:
    return book.value(name, period, filters=filters or None).raw


def test_orders_revenue_and_basket(book):
    # October: o1 100.00, o2 50.50, o4 30.00 (23:30 Paris on 31 Oct), o7 20.00 (guest,
    # is_test null). Out: o3 (23:30 Paris on 30 Sep), o5 cancelled, o6 test, o8 November.
    assert raw(book, "orders_count") == 4
    assert raw(book, "revenue") == Decimal("200.50")
    # 200.50 / 4 = 50.125, shown rounded half away from zero.
    basket = book.value("average_basket", "2026-10")
    assert basket.raw == Decimal("50.125")
    assert basket.formatted == "50,13\xa0€"


def test_contacts_existing_at_both_ends(book):
    # At the end (2026-10-31 23:00 UTC): c1 c2 c3 c5 (created 22:30 UTC) c8 c9 = 6;
    # c4 deleted 15 Oct, c6 created 23:30 UTC (November in Paris), c7 deleted in June.
    assert raw(book, "contacts_existing") == 6
    # At the start (2026-09-30 22:00 UTC): c1 c2 c3 c4 (created 21:00 UTC) c8 c9 = 6.
    assert raw(book, "contacts_existing", "2026-09") == 6  # end of September = start of Oct


def test_activity_churn_and_activation(book):
    # Window 90 calendar days in Paris.
    # Start: [2026-07-02 22:00, 2026-09-30 22:00) UTC: c2 (o3), c4 (o9), c8 (o10) -> 3.
    # End: [2026-08-02 22:00, 2026-10-31 23:00) UTC: c1 (o1,o2), c2 (o3), c3 (o4),
    #      c8 (o10 at 22:30 UTC on 2 Aug: inside only when counting calendar days) -> 4.
    assert raw(book, "active_customers_start") == 3
    assert raw(book, "active_customers") == 4
    # active_rate = 4 / 6.
    assert raw(book, "active_rate") == Decimal(4) / Decimal(6)
    # churned = active at start, not at end = {c4}; churn_rate = 1 / 3.
    assert raw(book, "churned") == 1
    assert raw(book, "churn_rate") == Decimal(1) / Decimal(3)
    # activated = active at end, not at start = {c1, c3}; rate = 2 / (6 - 3).
    assert raw(book, "activated") == 2
    assert raw(book, "activation_rate") == Decimal(2) / Decimal(3)
    # revenue_per_contact = 200.50 / 6.
    assert raw(book, "revenue_per_contact") == Decimal("200.50") / Decimal(6)


def test_activity_window_is_configurable(tmp_path):
    # A 30-day window ending 1 Nov 00:00 Paris starts 2 Oct 00:00 Paris (22:00 UTC on
    # 1 Oct): c1 (o1 5 Oct, o2 20 Oct) and c3 (o4 31 Oct) -> 2.
    book = Workbook(make_project(tmp_path, activity_window=30))
    assert raw(book, "active_customers") == 2


def test_completeness_with_placeholders(book):
    # Contacts existing at the end: c1 a@x.fr, c2 "n/a", c3 blanks, c5 b@y.be, c8 "None",
    # c9 d@w.fr -> filled 3 of 6 (placeholders match case-insensitively).
    assert raw(book, "filled_contacts(email)") == 3
    assert raw(book, "completeness(email)") == Decimal("0.5")
    # city: c9 has none -> 5 of 6.
    assert raw(book, "completeness(city)") == Decimal(5) / Decimal(6)


def test_placeholder_list_is_configurable(tmp_path):
    # Only "n/a" is a placeholder now: c8's "None" counts as filled -> 4 of 6.
    book = Workbook(make_project(tmp_path, placeholders=["n/a"]))
    assert raw(book, "completeness(email)") == Decimal(4) / Decimal(6)


def test_campaign_rates_count_distinct_pairs(book):
    # Campaigns sent in October (Paris): k1 and k3; k2 was sent 23:00 Paris on 30 Sep.
    # delivered pairs: k1 x {c1 (twice), c2, c3, c5} + k3 x {c1, c8} = 6.
    assert raw(book, "delivered") == 6
    # human opens: k1 c1 (twice), k1 c3 (machine flag null); k1 c2 is a machine open;
    # k3 c8 -> 3 pairs; open_rate = 3 / 6.
    assert raw(book, "human_opens") == 3
    assert raw(book, "open_rate") == Decimal("0.5")
    # clickers: k1 c1 (two clicks, one in November), k3 c8 -> 2; rate 2 / 6.
    assert raw(book, "click_rate") == Decimal(2) / Decimal(6)
    # clicked or replied: k1 c1, k1 c3 (reply), k3 c8, k3 c1 (reply) -> 4; rate 4 / 6.
    assert raw(book, "responsiveness_rate") == Decimal(4) / Decimal(6)
    # unsubscribes: k1 c5 -> 1 / 6.
    assert raw(book, "unsubscribe_rate") == Decimal(1) / Decimal(6)


def test_nps_on_exactly_half_rounds_away_from_zero(book):
    # Scored NPS answers in October: 10 10 9 9 8 6 0 3 (the unscored one and the one at
    # 23:30 Paris on 30 Sep are out) -> 8 answers, promoters 4, detractors 3.
    # 100 x (4 - 3) / 8 = 12.5 -> 13 (banker's rounding would give 12).
    assert raw(book, "nps_responses") == 8
    assert raw(book, "nps_promoters") == 4
    assert raw(book, "nps_detractors") == 3
    nps = book.value("nps", "2026-10")
    assert (nps.value, nps.formatted) == (13, "+13")


def test_ces_and_csat(book):
    # CES: 2, 3, 5 -> mean 10 / 3. CSAT: 5 4 3 1 4 -> 3 of 5 score 4 or 5 = 0.6.
    assert raw(book, "ces") == pytest.approx(Decimal(10) / Decimal(3))
    assert raw(book, "ces_responses") == 3
    assert raw(book, "csat") == Decimal("0.6")
    assert raw(book, "csat_responses") == 5
    assert book.value("csat", "2026-10").formatted == "60,0\xa0%"


def test_empty_period_gives_zero_counts_and_na_ratios(book):
    # December 2026: no order, no campaign, no response.
    values = book.values(
        ["orders_count", "revenue", "average_basket", "open_rate", "ces", "nps"], "2026-12"
    )
    assert values["orders_count"].raw == 0
    assert values["revenue"].raw == 0
    assert values["average_basket"].value is None
    assert values["average_basket"].reason == "n/a : aucune commande terminée sur la période"
    assert values["open_rate"].reason == "n/a : aucun email délivré sur la période"
    assert values["ces"].reason == "n/a : aucune réponse CES sur la période"
    assert values["nps"].reason == "n/a : aucune réponse NPS sur la période"
    assert values["nps"].formatted == "n/a"


def test_zero_denominator_of_a_difference(tmp_path):
    # activation_rate = activated / (contacts_existing - active_customers_start), on an
    # extract of one contact who is active at both ends of October (an order on 15
    # September; the one of 2 November only makes the data cover October).
    from kpi_fixture import write_contacts, write_orders

    data = tmp_path / "data"
    write_contacts(data, [("c1", "a@x.fr", "FR", "Paris", "web", "2026-01-01T00:00", None)])
    write_orders(
        data,
        [
            ("o1", "c1", "2026-09-15T10:00", "completed", False, "10.00", "web", "FR"),
            ("o2", "c1", "2026-11-02T10:00", "completed", False, "10.00", "web", "FR"),
        ],
    )
    (tmp_path / "mkdocs.yml").write_text("site_name: t\n")
    from kpi.project import Project

    book = Workbook(Project.from_options(tmp_path, {}))
    # October: 1 contact, active at the start (order 15 Sep) -> 1 - 1 = 0 inactive.
    value = book.value("activation_rate", "2026-10")
    assert value.value is None
    assert value.reason == "n/a : aucun contact inactif à activer"
    # Campaign tables are missing: n/a with the reason, no crash.
    assert book.value("open_rate", "2026-10").reason == (
        "n/a : pas de table campaign_events dans l'extrait"
    )


def test_iso_week_53(book):
    # 2026-W53 = Monday 28 Dec 2026 to Sunday 3 Jan 2027: o11 (3 Jan) is in, o12 (4 Jan)
    # is in 2027-W01.
    assert raw(book, "orders_count", "2026-W53") == 1
    assert raw(book, "revenue", "2026-W53") == Decimal("70.00")
    # 2027-W01 holds o12 (80.00) but the data ends on Monday 4 January, its first day: a
    # week not complete in the data is n/a, not a partial 80.00.
    week = book.value("revenue", "2027-W01")
    assert (week.raw, week.reason) == (
        None,
        "n/a : période 2027-W01 pas finie dans les données (du 01/01/2025 au 04/01/2027)",
    )


def test_period_crossing_daylight_saving_day(book):
    # 25 October 2026 lasts 25 hours in Paris; no order that day, 1 on the 20th.
    assert raw(book, "orders_count", "2026-10-20") == 1
    assert raw(book, "orders_count", "2026-10-25") == 0
    # Week 43 (19-25 Oct) holds o2 (20 Oct).
    assert raw(book, "revenue", "2026-W43") == Decimal("50.50")


def test_compare_previous_and_last_year(book):
    # September: o3 only -> 1 order; October 4 -> delta +3, higher is better.
    comparison = book.compare("orders_count", "2026-10", against="previous")
    assert comparison.reference.period.key == "2026-09"
    assert (comparison.reference.raw, comparison.delta) == (1, 3)
    assert comparison.ratio == 3.0
    assert comparison.improved is True
    assert comparison.delta_formatted == "+3"
    # Last year: October 2025 has no order -> 0, ratio n/a (division by zero).
    last_year = book.compare("orders_count", "2026-10", against="last_year")
    assert (last_year.reference.raw, last_year.delta, last_year.ratio) == (0, 4, None)


def test_compare_rates_in_points_and_direction_lower(book):
    # unsubscribe_rate lower is better: October 1/6, September 0/2 = 0 -> worse.
    comparison = book.compare("unsubscribe_rate", "2026-10")
    assert comparison.reference.raw == 0
    assert comparison.delta == pytest.approx(1 / 6)
    assert comparison.delta_formatted == "+16,7\xa0pt"
    assert comparison.improved is False


def test_series_oldest_first(book):
    # Revenue August (o10 10.00), September (o3 200.00), October (200.50).
    series = book.series(["revenue"], "2026-10", count=3)
    assert [p.key for p in series.periods] == ["2026-08", "2026-09", "2026-10"]
    assert [v.raw for v in series.values["revenue"]] == [
        Decimal("10.00"),
        Decimal("200.00"),
        Decimal("200.50"),
    ]


def test_cumulative_mean_is_running_sum_over_running_count(book):
    # Order amounts: September 200.00 (1 order); October 100 + 50.50 + 30 + 20 (4).
    # Cumulative mean: Sep 200 / 1 = 200; Oct (200 + 200.50) / 5 = 80.10, not the mean of
    # the monthly means (200 + 50.125) / 2.
    series = book.series(["revenue"], "2026-10", count=2, mode="cumulative_mean")
    assert [v.raw for v in series.values["revenue"]] == [Decimal("200"), Decimal("80.1")]


def test_breakdown_top_and_other(book):
    # October orders by channel: web o1 o4 (2), store o2 (1), marketplace o7 (1).
    # Top 2: web, then the tie broken by name (marketplace), the rest in "Autres".
    table = book.breakdown(["orders_count", "revenue"], "2026-10", by="channel", top=2)
    rows = {str(label): (v["orders_count"].raw, v["revenue"].raw) for label, v in table.rows}
    assert [str(label) for label, _ in table.rows] == ["web", "marketplace", "Autres"]
    assert rows["web"] == (2, Decimal("130.00"))
    assert rows["marketplace"] == (1, Decimal("20.00"))
    assert rows["Autres"] == (1, Decimal("50.50"))
    assert table.total[1]["orders_count"].raw == 4


def test_breakdown_percent_of_total(book):
    # 2 / 4, 1 / 4, 1 / 4.
    table = book.breakdown(["orders_count"], "2026-10", by="channel", top=2, mode="percent")
    assert [v["orders_count"].raw for _, v in table.rows] == [
        Decimal("0.5"),
        Decimal("0.25"),
        Decimal("0.25"),
    ]
    assert table.rows[0][1]["orders_count"].formatted == "50,0\xa0%"


def test_breakdown_mean_and_std_of_one_value(book):
    # Mean amount: web (100 + 30) / 2 = 65; store 50.50; marketplace 20.
    # Sample std: web sqrt(((100-65)^2 + (30-65)^2) / (2-1)) = sqrt(2450); store has one
    # value: n/a.
    means = book.breakdown(["orders_count"], "2026-10", by="channel", mode="mean", other=False)
    assert {str(k): v["orders_count"].raw for k, v in means.rows} == {
        "web": Decimal(65),
        "store": Decimal("50.5"),
        "marketplace": Decimal(20),
    }
    stds = book.breakdown(["orders_count"], "2026-10", by="channel", mode="std", other=False)
    values = {str(k): v["orders_count"] for k, v in stds.rows}
    assert values["web"].value == pytest.approx(2450**0.5)
    assert values["store"].value is None
    assert values["store"].reason == "n/a : écart type indéfini avec moins de 2 valeurs"


def test_breakdown_of_contacts_states_and_filters(book):
    # Existing at the end by country: FR c1 c2 c8 = 3, BE c3 c5 c9 = 3.
    table = book.breakdown(["contacts_existing", "active_customers"], "2026-10", by="country_code")
    rows = {str(k): (v["contacts_existing"].raw, v["active_customers"].raw) for k, v in table.rows}
    # Active at the end: FR c1 c2 c8 = 3, BE c3 = 1.
    assert rows == {"FR": (3, 3), "BE": (3, 1)}
    assert raw(book, "active_rate", country_code="BE") == Decimal(1) / Decimal(3)


def test_filter_on_campaign_and_survey_dimensions(book):
    # k3 "Promo": delivered c1 c8, opened by c8 -> 1 / 2.
    assert raw(book, "open_rate", campaign="Promo") == Decimal("0.5")
    # NPS on web: 10 10 8 6 3 -> promoters 2, detractors 2 -> 0.
    assert raw(book, "nps", platform="web") == 0
    # On ios: 9 9 -> +100.
    assert raw(book, "nps", platform="ios") == 100


def test_breakdown_by_time_bucket(book):
    # Revenue of the third quarter by month: July o9 60, August o10 10, September o3 200.
    table = book.breakdown(["revenue"], "2026-Q3", by="month")
    assert [str(label) for label, _ in table.rows] == [
        "Juillet 2026",
        "Août 2026",
        "Septembre 2026",
    ]
    assert [v["revenue"].raw for _, v in table.rows] == [
        Decimal("60.00"),
        Decimal("10.00"),
        Decimal("200.00"),
    ]
    assert table.total[1]["revenue"].raw == Decimal("270.00")


def test_unknown_names_raise_with_a_hint(book):
    with pytest.raises(CatalogError, match="did you mean 'revenue'"):
        book.value("revenu", "2026-10")
    with pytest.raises(CatalogError, match="did you mean 'channel'"):
        book.value("revenue", "2026-10", filters={"chanel": "web"})
    with pytest.raises(CatalogError, match="write completeness\\(field\\)"):
        book.value("completeness", "2026-10")


def test_batching_one_query_per_table(book):
    # Every standard KPI for a period with its previous period: orders, contacts,
    # activity, campaign events and survey responses -> 5 queries; plus, once per extract,
    # one min/max query per dated table for the data's coverage (orders, contacts,
    # campaigns, campaign events, survey responses) -> 10.
    names = [n for n in book.catalog.names() if not book.catalog.get(n).params]
    book.compare_many(names + ["completeness(email)"], "2026-10")
    assert book.stats.queries == 10


def test_default_period_is_last_complete_month(book):
    # Newest event: o12 on 2027-01-04, January is not complete -> December 2026.
    assert book.default_period("month").key == "2026-12"


def test_project_distinct_count_with_its_own_time(tmp_path):
    # A project KPI: distinct buyers of completed orders placed in the period. October:
    # c1 (o1, o2) and c3 (o4); o7 has no contact -> 2. September: c2 (o3) -> 1.
    make_project(tmp_path)
    (tmp_path / "kpis.yml").write_text(
        "kpis:\n  buyers:\n    kind: measure\n    label: Acheteurs\n    table: orders\n"
        '    time: ordered_at\n    filter: status == "completed" and not is_test\n'
        "    value: count_distinct(contact_id)\n    unit: count\n",
        encoding="utf-8",
    )
    from kpi.project import Project

    book = Workbook(Project.from_options(tmp_path, {"catalogs": ["kpis.yml"]}))
    comparison = book.compare("buyers", "2026-10")
    assert (comparison.current.raw, comparison.reference.raw) == (2, 1)
    table = book.breakdown(["buyers"], "2026-10", by="channel", other=False)
    # web: c1 (o1), c3 (o4); store: c1 (o2); marketplace holds only the guest o7, which
    # has no contact to count, so it is no member of this breakdown.
    assert {str(k): v["buyers"].raw for k, v in table.rows} == {"web": 2, "store": 1}


def test_series_at_a_finer_grain_ends_with_the_last_week_of_the_period(book):
    # October 2026 by ISO week, 2 buckets: 2026-W43 (19-25 Oct: o2 50.50) and 2026-W44
    # clipped to October (26-31 Oct): o4 30.00 (23:30 Paris on 31 Oct); o8 40.00 (01:30
    # Paris on Sunday 1 November) is November's, outside the period.
    series = book.series(["revenue"], "2026-10", count=2, grain="week")
    assert [p.key for p in series.periods] == ["2026-W43", "2026-W44"]
    assert [p.label for p in series.periods] == [
        "Semaine 43 de 2026",
        "Semaine 44 de 2026 (26–31 oct.)",
    ]
    assert [v.raw for v in series.values["revenue"]] == [Decimal("50.50"), Decimal("30.00")]


def test_interactions_count_as_activity_when_the_project_says_so(tmp_path):
    # c9 (no order) called on 10 October; c4 called on 1 September.
    from kpi_fixture import write_interactions

    project = make_project(tmp_path, activity_includes_interactions=True)
    write_interactions(tmp_path / "data", [("c9", "2026-10-10T10:00"), ("c4", "2026-09-01T10:00")])
    book = Workbook(project)
    # End: c1 c2 c3 c8 (orders) + c9 + c4 (1 Sep is after 3 Aug) = 6; start: c2 c4 c8 = 3.
    assert raw(book, "active_customers") == 6
    assert raw(book, "active_customers_start") == 3
    # churned: none (c4 still active at the end); activated: c1 c3 c9.
    assert raw(book, "churned") == 0
    assert raw(book, "activated") == 3
    # Without the setting, interactions are ignored.
    assert raw(Workbook(make_project(tmp_path / "other")), "active_customers") == 4


def test_a_table_breaking_the_contract_gives_na_not_a_crash(tmp_path, caplog):
    # total_amount written as text: revenue cannot be summed; other tables still work.
    import pyarrow as pa
    import pyarrow.parquet as pq

    make_project(tmp_path)
    orders = pq.read_table(tmp_path / "data" / "orders.parquet")
    index = orders.schema.get_field_index("total_amount")
    broken = orders.set_column(index, "total_amount", pa.array(["x"] * orders.num_rows))
    pq.write_table(broken, tmp_path / "data" / "orders.parquet")
    book = Workbook(Project.from_options(tmp_path, {}))
    values = book.values(["revenue", "open_rate"], "2026-10")
    assert values["revenue"].value is None
    assert values["revenue"].reason == (
        "n/a : table orders, column total_amount: unexpected type string (run kpisite check)"
    )
    assert values["open_rate"].raw == Decimal("0.5")


def test_other_row_of_a_rate_is_recomputed_not_summed(book):
    # Campaigns sent in October ranked by delivered pairs: "Newsletter octobre" (k1: 4
    # delivered, human opens c1 c3 -> 2 / 4) then "Promo" (k3: 2 delivered, c8 -> 1 / 2).
    # Top 1: the "Autres" row is Promo alone, its rate recomputed: 1 / 2.
    table = book.breakdown(["delivered", "open_rate"], "2026-10", by="campaign", top=1)
    rows = {str(k): (v["delivered"].raw, v["open_rate"].raw) for k, v in table.rows}
    assert rows == {"Newsletter octobre": (4, Decimal("0.5")), "Autres": (2, Decimal("0.5"))}
    assert table.total[1]["open_rate"].raw == Decimal("0.5")  # 3 / 6


def test_missing_dimension_values_are_a_member_of_their_own(book):
    # Contacts existing at the end by city: Paris c1 c8, Lyon c2, Liège c3, Bruxelles c5,
    # and c9 without a city.
    table = book.breakdown(["contacts_existing"], "2026-10", by="city", other=False)
    assert {str(k): v["contacts_existing"].raw for k, v in table.rows} == {
        "Paris": 2,
        "Bruxelles": 1,
        "Liège": 1,
        "Lyon": 1,
        "(non renseigné)": 1,
    }
    # Filtering on a missing value: None.
    assert raw(book, "contacts_existing", city=None) == 1


def test_mean_of_amounts_is_shown_as_an_amount(book):
    # Mean order amount on the web in October: (100 + 30) / 2 = 65.00 EUR.
    table = book.breakdown(["orders_count"], "2026-10", by="channel", mode="mean", top=1)
    member, values = table.rows[0]
    assert (str(member), values["orders_count"].unit) == ("web", "currency")
    assert values["orders_count"].formatted == "65,00\xa0€"


def test_orders_by_the_buyers_lead_source(book):
    # October revenue by the buyer's lead source: c1 (web) 100 + 50.50, c3 (web) 30 ->
    # 180.50; the guest order o7 has no buyer -> 20.00 under "(sans contact)", not among
    # buyers whose lead source is blank; c2 (referral) only has the cancelled o5 -> 0.
    table = book.breakdown(["revenue"], "2026-10", by="lead_source", other=False)
    assert {str(k): v["revenue"].raw for k, v in table.rows} == {
        "web": Decimal("180.50"),
        "(sans contact)": Decimal("20.00"),
        "referral": Decimal(0),
    }
    # revenue_per_contact by lead source: contacts from the web existing at the end are
    # c1 and c3 (c4 and c7 are deleted, c5 came from ads) -> 180.50 / 2 = 90.25.
    assert raw(book, "revenue_per_contact", lead_source="web") == Decimal("90.25")


def test_a_query_the_backend_refuses_is_na_and_recorded(tmp_path, monkeypatch):
    # The backend fails (what the contract cannot foresee): every KPI of that query is
    # n/a with the backend's message, and the failure is recorded for the caller.
    from kpi.extract import Extract, QueryError

    def refuse(self, expr):
        raise QueryError("Out of Range Error: overflow")

    book = Workbook(make_project(tmp_path))
    book.data_coverage()  # the time bounds of the tables, before the backend fails
    monkeypatch.setattr(Extract, "execute", refuse)

    value = book.value("orders_count", "2026-10")

    assert value.value is None
    assert value.reason == "n/a : erreur de calcul (QueryError: Out of Range Error: overflow)"
    assert len(book.stats.failures) == 1
    assert book.stats.failures[0].endswith("the query failed: Out of Range Error: overflow")
    assert "orders_count" in book.stats.failures[0]


def test_a_measure_overridden_by_a_formula(tmp_path):
    # The project makes revenue a formula (10 per completed order): October has 4
    # completed orders -> 40, and average_basket = revenue / orders_count = 10.
    make_project(tmp_path)
    (tmp_path / "kpis.yml").write_text(
        "kpis:\n  revenue:\n    formula: orders_count * 10\n", encoding="utf-8"
    )
    book = Workbook(Project.from_options(tmp_path, {"catalogs": ["kpis.yml"]}))
    assert raw(book, "revenue") == 40
    assert raw(book, "average_basket") == 10
