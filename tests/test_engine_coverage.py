"""The time an extract covers: periods outside it are refused, references before it are
n/a, and the buckets of a finer grain stay inside their period.

Fixture coverage (tests/kpi_fixture.py): the oldest event is c7's creation on
2025-01-01 09:00 UTC (10:00 in Paris), the newest the order o12 on 2027-01-04 12:00 UTC.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from kpi_fixture import make_project

from kpi.engine import Workbook
from kpi.periods import PeriodError


@pytest.fixture
def book(tmp_path) -> Workbook:
    return Workbook(make_project(tmp_path))


def test_coverage_spans_the_oldest_and_newest_events(book):
    coverage = book.data_coverage()
    assert coverage.first.isoformat() == "2025-01-01T09:00:00+00:00"
    assert coverage.last.isoformat() == "2027-01-04T12:00:00+00:00"
    # One min/max query per dated table: orders, contacts, campaigns, events, responses.
    assert book.stats.queries == 5
    book.data_coverage()
    assert book.stats.queries == 5


def test_coverage_comes_from_the_disk_cache_the_second_time(tmp_path):
    project = make_project(tmp_path)
    Workbook(project).data_coverage()
    second = Workbook(project)
    assert second.data_coverage().last.isoformat() == "2027-01-04T12:00:00+00:00"
    assert second.stats.queries == 0


@pytest.mark.parametrize("text", ["2026-12", "2025-01", "2025", "2027-01-04", "2026-W53"])
def test_periods_the_data_covers_whole_pass(book, text):
    assert book.check_period(text).key == text


def test_the_default_period_passes_its_own_check(book):
    for grain in ("day", "week", "month", "quarter", "year"):
        assert book.check_period(book.default_period(grain)) == book.default_period(grain)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "2030-01",
            "period 2030-01: after the data (the extract ends on 2027-01-04; "
            "the last complete month is 2026-12)",
        ),
        (
            "2027-01",
            "period 2027-01: not complete in the data (the extract ends on 2027-01-04; "
            "the last complete month is 2026-12)",
        ),
        (
            "2027-W01",
            "period 2027-W01: not complete in the data (the extract ends on 2027-01-04; "
            "the last complete week is 2026-W53)",
        ),
        (
            "2024-12",
            "period 2024-12: before the data (the extract starts on 2025-01-01; "
            "the first complete month is 2025-01)",
        ),
        (
            "2025-W01",
            "period 2025-W01: starts before the data (the extract starts on 2025-01-01; "
            "the first complete week is 2025-W02)",
        ),
    ],
)
def test_periods_outside_the_data_are_refused(book, text, message):
    with pytest.raises(PeriodError) as error:
        book.check_period(text)
    assert str(error.value) == message


def test_a_reference_before_the_data_is_na_not_growth(book):
    # January 2025: no order (revenue 0); December 2024 is before the first data.
    comparison = book.compare("revenue", "2025-01", "previous")
    assert comparison.current.raw == 0
    assert comparison.reference.period.key == "2024-12"
    assert comparison.reference.value is None
    assert comparison.reference.reason == (
        "n/a : période 2024-12 hors des données (du 01/01/2025 au 04/01/2027)"
    )
    assert comparison.delta is None
    assert comparison.ratio is None
    assert comparison.improved is None


def test_last_year_before_the_data_is_na_in_compare_many(book):
    found = book.compare_many(["orders_count"], "2026-10", ("previous", "last_year"))
    # September 2026: o3 -> 1 order, October 4 -> +3; October 2025 is inside the data
    # (0 orders) -> +4; nothing is n/a.
    assert found["orders_count"]["previous"].delta == 3.0
    assert found["orders_count"]["last_year"].delta == 4.0
    earlier = book.compare_many(["orders_count"], "2025-06", ("previous", "last_year"))
    assert earlier["orders_count"]["previous"].delta == 0.0
    assert earlier["orders_count"]["last_year"].delta is None
    assert earlier["orders_count"]["last_year"].reference.reason == (
        "n/a : période 2024-06 hors des données (du 01/01/2025 au 04/01/2027)"
    )


def test_a_reference_partly_before_the_data_is_na(book):
    # 2025-01-01 is a Wednesday: the week before 2025-W02 starts on 30 December 2024.
    comparison = book.compare("revenue", "2025-W02", "previous")
    assert comparison.reference.reason == (
        "n/a : période 2025-W01 commencée avant les données (du 01/01/2025 au 04/01/2027)"
    )


def test_series_periods_before_the_data_are_na(book):
    series = book.series(["revenue"], "2025-02", count=3)
    assert [p.key for p in series.periods] == ["2024-12", "2025-01", "2025-02"]
    values = series.values["revenue"]
    assert [v.raw for v in values] == [None, Decimal(0), Decimal(0)]
    assert values[0].reason == (
        "n/a : période 2024-12 hors des données (du 01/01/2025 au 04/01/2027)"
    )


def test_weekly_breakdown_is_clipped_to_the_month_and_sums_to_the_total(book):
    # October 2026 by ISO week, each week clipped to October (Paris):
    # W40 1-4 Oct: nothing (o3, 23:30 on 30 September, is September's) -> 0;
    # W41: o1 100.00; W42: o7 20.00; W43: o2 50.50;
    # W44 26-31 Oct: o4 30.00 (o8, 01:30 on Sunday 1 November, is November's).
    table = book.breakdown(["revenue"], "2026-10", by="week")
    rows = {str(label): values["revenue"].raw for label, values in table.rows}
    assert rows == {
        "Semaine 40 de 2026 (1–4 oct.)": Decimal("0"),
        "Semaine 41 de 2026": Decimal("100.00"),
        "Semaine 42 de 2026": Decimal("20.00"),
        "Semaine 43 de 2026": Decimal("50.50"),
        "Semaine 44 de 2026 (26–31 oct.)": Decimal("30.00"),
    }
    assert sum(rows.values()) == table.total[1]["revenue"].raw == Decimal("200.50")


def test_weekly_percent_breakdown_shares_add_up_to_one(book):
    table = book.breakdown(["revenue"], "2026-10", by="week", mode="percent")
    assert sum(values["revenue"].raw for _, values in table.rows) == 1


def test_a_clipped_week_is_not_cached_as_the_whole_week(tmp_path):
    # The whole week 2026-W40 (28 Sep - 4 Oct) holds o3 200.00; clipped to October it
    # holds nothing. Both in one workbook and across workbooks: no cache mix-up.
    project = make_project(tmp_path)
    book = Workbook(project)
    assert book.value("revenue", "2026-W40").raw == Decimal("200.00")
    clipped = book.breakdown(["revenue"], "2026-10", by="week").rows[0][1]["revenue"]
    assert clipped.raw == 0
    again = Workbook(project).breakdown(["revenue"], "2026-10", by="week").rows[0][1]
    assert again["revenue"].raw == 0


def test_dimension_values_come_from_the_extract(book):
    assert book.dimension_values("revenue", "channel") == {"web", "store", "marketplace", "phone"}
    # A buyer's attribute, joined from contacts: c9 has no city, and an order may have no
    # buyer (the guest order o7).
    assert book.dimension_values("revenue", "city") == {
        "Paris",
        "Lyon",
        "Liège",
        "Bruxelles",
        "Nice",
        "(non renseigné)",
        "(sans contact)",
    }
    assert book.dimension_values("revenue", "campaign") is None


SPAN = "du 01/01/2025 au 04/01/2027"


def test_values_after_the_data_are_na_for_every_kind(book):
    # February 2027 is after the newest event (4 January 2027): a measure, a state, an
    # activity count and a formula are all n/a with the reason, not 0.
    names = ["revenue", "contacts_existing", "active_customers", "average_basket"]
    values = book.values(names, "2027-02")
    assert {name: (v.value, v.reason) for name, v in values.items()} == {
        name: (None, f"n/a : période 2027-02 hors des données ({SPAN})") for name in names
    }


def test_a_period_outside_the_data_runs_no_kpi_query(tmp_path):
    project = make_project(tmp_path)
    book = Workbook(project, cache=False)
    book.values(["revenue", "contacts_existing"], "2030-01")
    # Only the time bounds of the 5 dated tables: nothing to ask the data about 2030.
    assert book.stats.queries == 5


def test_a_comparison_after_the_data_and_a_breakdown_outside_it(book):
    # Comparing January 2025 with the same month last year (before the data), and a
    # breakdown of a period outside the data: no member, an n/a total.
    comparison = book.compare("orders_count", "2025-01", "last_year")
    assert comparison.reference.reason == f"n/a : période 2024-01 hors des données ({SPAN})"
    table = book.breakdown(["orders_count"], "2030-01", by="channel")
    assert table.rows == []
    assert table.total[1]["orders_count"].reason == (
        f"n/a : période 2030-01 hors des données ({SPAN})"
    )


def test_a_far_future_event_does_not_move_the_default_period(tmp_path):
    # An order dated 2200-01-01 (a typo) is after the extraction time the files record
    # (2027-01-05): the default month stays December 2026 and the coverage ends on the
    # newest real event.
    from kpi_fixture import CONTACTS, ORDERS, write_contacts, write_orders

    project = make_project(tmp_path)
    typo = ("o99", "c1", "2200-01-01T00:00", "completed", False, "5.00", "web", "FR")
    write_orders(tmp_path / "data", [*ORDERS, typo])
    forever = ("c99", None, "FR", "Paris", "web", "9999-12-31T23:59", None)
    write_contacts(tmp_path / "data", [*CONTACTS, forever])
    book = Workbook(project)
    assert book.default_period("month").key == "2026-12"
    assert book.data_coverage().last.isoformat() == "2027-01-04T12:00:00+00:00"
    assert book.value("contacts_existing", "2026-10").raw == 6
