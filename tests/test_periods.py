"""Periods: parsing, boundaries in the reporting zone, ISO weeks, comparisons, windows."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from kpi.periods import Coverage, PeriodError, parse_period, period_label, period_of, window_start

PARIS = ZoneInfo("Europe/Paris")


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_month_boundaries_are_local_midnights_in_utc():
    # October 2026 in Paris: summer time (UTC+2) at its start, winter time (UTC+1) at its end.
    october = parse_period("2026-10")
    assert (october.grain, october.key, october.label) == ("month", "2026-10", "Octobre 2026")
    assert october.start_utc == utc(2026, 9, 30, 22)
    assert october.end_utc == utc(2026, 10, 31, 23)


def test_an_instant_late_in_january_utc_is_in_february_in_paris():
    # Pitfall: 2024-01-31 23:30 UTC is 2024-02-01 00:30 in Paris.
    assert period_of(utc(2024, 1, 31, 23, 30), "month").key == "2024-02"
    assert period_of(utc(2024, 1, 31, 22, 59), "month").key == "2024-01"


@pytest.mark.parametrize(
    ("text", "grain", "first", "end"),
    [
        ("2026-10-05", "day", date(2026, 10, 5), date(2026, 10, 6)),
        ("2026-W05", "week", date(2026, 1, 26), date(2026, 2, 2)),
        ("2026-Q3", "quarter", date(2026, 7, 1), date(2026, 10, 1)),
        ("2026", "year", date(2026, 1, 1), date(2027, 1, 1)),
        ("2026-12", "month", date(2026, 12, 1), date(2027, 1, 1)),
    ],
)
def test_parse_each_grain(text, grain, first, end):
    period = parse_period(text)
    assert (period.grain, period.first, period.end_date, period.key) == (grain, first, end, text)


def test_iso_week_53_pairs_with_the_iso_year():
    # Pitfall: 2010-01-03 is in ISO week 53 of 2009; 2024-12-30 in week 1 of 2025.
    week = period_of(date(2010, 1, 3), "week")
    assert (week.key, week.first, week.end_date) == (
        "2009-W53",
        date(2009, 12, 28),
        date(2010, 1, 4),
    )
    assert parse_period("2009-W53") == week
    assert period_of(date(2024, 12, 30), "week").key == "2025-W01"
    # 2009 has 53 weeks, its next week is 2010-W01; 2008 has 52, so week 53 maps to 52.
    assert week.shift(1).key == "2010-W01"
    assert week.last_year().key == "2008-W52"
    with pytest.raises(PeriodError, match="2010 has 52 ISO weeks"):
        parse_period("2010-W53")


def test_previous_and_last_year():
    assert parse_period("2026-01").previous().key == "2025-12"
    assert parse_period("2026-Q1").previous().key == "2025-Q4"
    assert parse_period("2026-Q1").last_year().key == "2025-Q1"
    assert parse_period("2026-10").last_year().key == "2025-10"
    assert parse_period("2024-02-29").last_year().key == "2023-02-28"
    assert parse_period("2026-W10").last_year().key == "2025-W10"


def test_buckets_split_a_period_in_order():
    assert [p.key for p in parse_period("2026-Q3").buckets("month")] == [
        "2026-07",
        "2026-08",
        "2026-09",
    ]
    days = parse_period("2026-10").buckets("day")
    assert len(days) == 31 and days[-1].key == "2026-10-31"
    with pytest.raises(PeriodError, match="cannot split a month into quarters"):
        parse_period("2026-10").buckets("quarter")


def test_window_counts_calendar_days_across_daylight_saving():
    # 90 days before 1 November 2026 00:00 Paris (UTC+1) is 3 August 00:00 Paris (UTC+2):
    # 90 x 24 hours would give 2 August 23:00 UTC, one hour later than 22:00 UTC.
    end = parse_period("2026-10").end
    start = window_start(end, 90)
    assert start.astimezone(UTC) == utc(2026, 8, 2, 22)
    elapsed = end.astimezone(UTC) - start.astimezone(UTC)
    assert elapsed.total_seconds() == 90 * 86400 + 3600


def test_a_day_of_25_hours():
    # 25 October 2026: clocks go back in Paris, the day lasts 25 hours.
    day = parse_period("2026-10-25")
    assert (day.end_utc - day.start_utc).total_seconds() == 25 * 3600


def test_bad_period_text_says_what_was_expected():
    with pytest.raises(PeriodError, match="expected YYYY-MM, YYYY-Qn"):
        parse_period("octobre")
    with pytest.raises(PeriodError, match="not a valid month"):
        parse_period("2026-13")


def test_labels_in_english():
    assert parse_period("2026-10", locale="en_GB").label == "October 2026"
    assert parse_period("2026-Q3", locale="en_GB").label == "Q3 2026"


def test_week_buckets_of_a_month_are_clipped_to_it():
    weeks = parse_period("2026-10").buckets("week")
    spans = [(w.key, w.first.isoformat(), w.end_date.isoformat(), w.whole) for w in weeks]
    assert spans == [
        ("2026-W40", "2026-10-01", "2026-10-05", False),
        ("2026-W41", "2026-10-05", "2026-10-12", True),
        ("2026-W42", "2026-10-12", "2026-10-19", True),
        ("2026-W43", "2026-10-19", "2026-10-26", True),
        ("2026-W44", "2026-10-26", "2026-11-01", False),
    ]
    # The days of a clipped bucket tile the month exactly: 4 + 7 + 7 + 7 + 6 = 31.
    assert sum((w.end_date - w.first).days for w in weeks) == 31
    assert weeks[0].label == "Semaine 40 de 2026 (1–4 oct.)"
    assert weeks[0].start.isoformat() == "2026-10-01T00:00:00+02:00"


def test_a_one_day_clipped_week_names_its_day():
    # 2029 ends on Monday 31 December, the first day of ISO week 1 of 2030.
    last = parse_period("2029").buckets("week")[-1]
    assert (last.key, last.label) == ("2030-W01", "Semaine 1 de 2030 (31 déc.)")


def test_extreme_dates_give_a_clean_error_not_a_crash():
    # A timestamp in year 9999 has no next month; year 1 has no year before.
    outside = "outside the calendar kpisite can compute (years 1 to 9999)"
    with pytest.raises(PeriodError) as error:
        period_of(date(9999, 12, 31), "month")
    assert str(error.value) == f"9999-12-01 + 1 month(s): {outside}"
    with pytest.raises(PeriodError, match="years 1 to 9999"):
        parse_period("9999")
    with pytest.raises(PeriodError, match="years 1 to 9999"):
        parse_period("0001-01").previous()
    with pytest.raises(PeriodError, match="years 1 to 9999"):
        parse_period("0001-03-01").last_year()
    with pytest.raises(PeriodError) as error:
        parse_period("0001-01").start_utc  # noqa: B018 (the property raises)
    assert str(error.value) == f"period 0001-01: {outside}"
    with pytest.raises(PeriodError, match="a window of 90 days before 0001-01-02"):
        window_start(datetime(1, 1, 2, tzinfo=UTC), 90)


def coverage(first: str, last: str) -> Coverage:
    """The coverage of an extract whose events run from `first` to `last` (UTC noon)."""
    return Coverage(
        datetime.fromisoformat(f"{first}T12:00+00:00"),
        datetime.fromisoformat(f"{last}T12:00+00:00"),
    )


def test_no_complete_period_of_a_grain():
    # Online Retail II: 1 December 2009 to 9 December 2010. No year lies within it;
    # the months do (December 2009 to November 2010).
    data = coverage("2009-12-01", "2010-12-09")
    assert data.last_complete("year") is None
    assert data.first_complete("year") is None
    assert (data.first_complete("month").key, data.last_complete("month").key) == (
        "2009-12",
        "2010-11",
    )
    assert (
        data.no_complete("year") == "no complete year in the data (from 2009-12-01 to 2010-12-09)"
    )
    assert data.problem(parse_period("2010")) == (
        "period 2010: not complete in the data (the extract ends on 2010-12-09; "
        "no complete year in the data (from 2009-12-01 to 2010-12-09))"
    )
    assert data.problem(parse_period("2009")) == (
        "period 2009: starts before the data (the extract starts on 2009-12-01; "
        "no complete year in the data (from 2009-12-01 to 2010-12-09))"
    )


def test_outside_reasons_name_the_period_and_the_data():
    data = coverage("2025-01-01", "2027-01-04")
    span = "(du 01/01/2025 au 04/01/2027)"
    assert data.outside_reason(parse_period("2026-10")) is None
    assert (
        data.outside_reason(parse_period("2024-12")) == f"période 2024-12 hors des données {span}"
    )
    assert (
        data.outside_reason(parse_period("2027-02")) == f"période 2027-02 hors des données {span}"
    )
    assert data.outside_reason(parse_period("2025-W01")) == (
        f"période 2025-W01 commencée avant les données {span}"
    )
    assert data.outside_reason(parse_period("2027-01")) == (
        f"période 2027-01 pas finie dans les données {span}"
    )


@pytest.mark.parametrize(
    ("day", "locale", "label"),
    [
        (date(2026, 12, 1), "fr_FR", "1er décembre 2026"),
        (date(2026, 12, 2), "fr_FR", "2 décembre 2026"),
        (date(2026, 12, 11), "fr_FR", "11 décembre 2026"),
        (date(2026, 12, 1), "en_US", "1 December 2026"),
    ],
)
def test_the_first_of_a_month_is_an_ordinal_in_french(day, locale, label):
    assert period_label(day, "day", locale) == label


def test_a_timestamp_on_the_first_of_a_month_says_1er():
    from site_builder.formats import timestamp

    moment = datetime(2026, 12, 1, 6, 0, tzinfo=ZoneInfo("Europe/Paris"))

    assert timestamp(moment, "fr_FR") == "1er décembre 2026 à 06:00"
    assert timestamp(moment.replace(day=21), "fr_FR") == "21 décembre 2026 à 06:00"
