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
        "n/a : la période de comparaison précède les données (début : janvier 2025)"
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
        "n/a : la période de comparaison précède les données (début : janvier 2025)"
    )


def test_a_week_reference_names_the_first_day(book):
    # 2025-01-01 is a Wednesday: the week before 2025-W02 starts on 30 December 2024.
    comparison = book.compare("revenue", "2025-W02", "previous")
    assert comparison.reference.reason == (
        "n/a : la période de comparaison précède les données (début : 1 janvier 2025)"
    )


def test_series_periods_before_the_data_are_na(book):
    series = book.series(["revenue"], "2025-02", count=3)
    assert [p.key for p in series.periods] == ["2024-12", "2025-01", "2025-02"]
    values = series.values["revenue"]
    assert [v.raw for v in values] == [None, Decimal(0), Decimal(0)]
    assert values[0].reason == "n/a : la période précède les données (début : janvier 2025)"


def test_weekly_breakdown_is_clipped_to_the_month_and_sums_to_the_total(book):
    # October 2026 by ISO week, each week clipped to October (Paris):
    # W40 1-4 Oct: nothing (o3, 23:30 on 30 September, is September's) -> 0;
    # W41: o1 100.00; W42: o7 20.00; W43: o2 50.50;
    # W44 26-31 Oct: o4 30.00 (o8, 01:30 on Sunday 1 November, is November's).
    table = book.breakdown(["revenue"], "2026-10", by="week")
    rows = {label: values["revenue"].raw for label, values in table.rows}
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
    # A buyer's attribute, joined from contacts.
    assert book.dimension_values("revenue", "city") == {
        "Paris",
        "Lyon",
        "Liège",
        "Bruxelles",
        "Nice",
    }
    assert book.dimension_values("revenue", "campaign") is None
