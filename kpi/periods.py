"""Reporting periods: half-open intervals [start, end) of calendar time in the reporting zone.

Boundaries are computed here in Python, in the project's time zone, and handed to the
engine as UTC-aware instants: the comparison `start <= ts < end` is then exact across
daylight-saving changes on any ibis backend, with no time-zone arithmetic in SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from kpi import reasons
from kpi.errors import KpisiteError

GRAINS = ("day", "week", "month", "quarter", "year")

# A grain's sub-grains, finest last, for breakdowns of a period by time.
FINER = {
    "year": ("quarter", "month", "week", "day"),
    "quarter": ("month", "week", "day"),
    "month": ("week", "day"),
    "week": ("day",),
    "day": (),
}

PATTERNS = [
    ("day", re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")),
    ("week", re.compile(r"^(\d{4})-W(\d{1,2})$")),
    ("month", re.compile(r"^(\d{4})-(\d{2})$")),
    ("quarter", re.compile(r"^(\d{4})-Q([1-4])$")),
    ("year", re.compile(r"^(\d{4})$")),
]

LABELS = {
    "fr": {"week": "Semaine {week} de {year}", "quarter": "T{quarter} {year}"},
    "en": {"week": "Week {week} of {year}", "quarter": "Q{quarter} {year}"},
}


class PeriodError(KpisiteError):
    """A period written by the user cannot be read."""


@dataclass(frozen=True)
class Period:
    """One reporting period: local dates [first, end_date) at a grain, in a time zone.

    `start` and `end` are aware datetimes at local midnight; `start_utc` and `end_utc`
    are the same instants in UTC, which is how the engine compares them to timestamps.
    """

    first: date
    end_date: date
    grain: str
    zone_name: str = "Europe/Paris"
    locale: str = field(default="fr_FR", compare=False)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.zone_name)

    @property
    def start(self) -> datetime:
        return local_midnight(self.first, self.zone)

    @property
    def end(self) -> datetime:
        return local_midnight(self.end_date, self.zone)

    @property
    def start_utc(self) -> datetime:
        return in_utc(self.start, self.key)

    @property
    def end_utc(self) -> datetime:
        return in_utc(self.end, self.key)

    @property
    def key(self) -> str:
        """The period as written by users: 2026-10, 2026-Q3, 2026-W05, 2026, 2026-10-05."""
        return period_key(self.first, self.grain)

    @property
    def label(self) -> str:
        """A human label in the project's locale, e.g. "Octobre 2026"; a clipped period
        names its days: "Semaine 40 de 2026 (1–4 oct.)"."""
        label = period_label(self.first, self.grain, self.locale)
        if self.whole:
            return label
        return f"{label} ({days_label(self.first, self.end_date, self.locale)})"

    @property
    def whole(self) -> bool:
        """False for a period clipped to a part of its grain (a week cut by a month's end)."""
        start = grain_start(self.first, self.grain)
        return start == self.first and shift_date(start, self.grain, 1) == self.end_date

    def clip(self, outer: Period) -> Period:
        """This period narrowed to the days it shares with `outer`: [max start, min end)."""
        first, end = max(self.first, outer.first), min(self.end_date, outer.end_date)
        return Period(first, end, self.grain, self.zone_name, self.locale)

    def shift(self, steps: int) -> Period:
        """The period `steps` grains later (negative: earlier)."""
        return period_of(shift_date(self.first, self.grain, steps), self.grain, self)

    def previous(self) -> Period:
        return self.shift(-1)

    def last_year(self) -> Period:
        """The same period one year earlier (ISO week 53 falls back to week 52)."""
        if self.grain in ("week", "day") and self.first.year <= 1:
            raise PeriodError(f"period {self.key}: {out_of_range()}")
        if self.grain == "week":
            year, week, _ = self.first.isocalendar()
            week = min(week, iso_weeks(year - 1))
            return period_of(date.fromisocalendar(year - 1, week, 1), "week", self)
        if self.grain == "day":
            day = self.first
            try:
                earlier = day.replace(year=day.year - 1)
            except ValueError:  # 29 February
                earlier = day.replace(year=day.year - 1, day=28)
            return period_of(earlier, "day", self)
        return self.shift(-4 if self.grain == "quarter" else -12 if self.grain == "month" else -1)

    def buckets(self, grain: str) -> list[Period]:
        """The periods of a finer grain that cover this one, in order, clipped to it: the
        weeks of October 2026 start with Thursday 1 October and end with Saturday 31."""
        if grain not in FINER[self.grain] and grain != self.grain:
            raise PeriodError(
                f"period {self.key}: cannot split a {self.grain} into {grain}s "
                f"(expected one of: {', '.join(FINER[self.grain]) or 'none'})"
            )
        bucket = period_of(self.first, grain, self)
        found = []
        while bucket.first < self.end_date:
            found.append(bucket.clip(self))
            bucket = bucket.shift(1)
        return found

    def __str__(self) -> str:
        return self.key


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def out_of_range() -> str:
    return "outside the calendar kpisite can compute (years 1 to 9999)"


def last_day_of(period: Period) -> date:
    """The last day of a period (its end is the day after, which year 9999 may not have)."""
    return period.end_date - timedelta(days=1)


def in_utc(instant: datetime, key: str) -> datetime:
    """An aware instant in UTC; PeriodError at the ends of the calendar (year 1, 9999)."""
    try:
        return instant.astimezone(UTC)
    except (OverflowError, ValueError):
        raise PeriodError(f"period {key}: {out_of_range()}") from None


def window_start(instant: datetime, days: int) -> datetime:
    """The instant `days` calendar days before `instant`, same wall-clock time, in its zone.

    A 90-day activity window ending at local midnight starts at local midnight 90 days
    earlier, whatever daylight-saving changes lie between (so it is not 90 x 24 hours).
    """
    try:
        wall = instant.replace(tzinfo=None) - timedelta(days=days)
    except OverflowError:
        raise PeriodError(
            f"a window of {days} days before {instant.date().isoformat()}: {out_of_range()}"
        ) from None
    return wall.replace(tzinfo=instant.tzinfo)


def iso_weeks(year: int) -> int:
    """52 or 53: the number of ISO weeks in an ISO year."""
    return date(year, 12, 28).isocalendar()[1]


def grain_start(day: date, grain: str) -> date:
    """The first day of the `grain` period holding `day`."""
    if grain == "day":
        return day
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if grain == "year":
        return date(day.year, 1, 1)
    raise PeriodError(f"unknown grain {grain!r} (expected one of: {', '.join(GRAINS)})")


def shift_date(day: date, grain: str, steps: int) -> date:
    """`day` (a period start) moved by `steps` periods of `grain`; PeriodError past the
    ends of the calendar (a timestamp in year 9999 has no next month)."""
    try:
        if grain == "day":
            return day + timedelta(days=steps)
        if grain == "week":
            return day + timedelta(weeks=steps)
        months = {"month": 1, "quarter": 3, "year": 12}[grain] * steps
        index = day.year * 12 + day.month - 1 + months
        return date(index // 12, index % 12 + 1, 1)
    except (OverflowError, ValueError):
        moved = f"{day.isoformat()} {'+' if steps >= 0 else '-'} {abs(steps)} {grain}(s)"
        raise PeriodError(f"{moved}: {out_of_range()}") from None


def period_of(
    day: date | datetime, grain: str, like: Period | None = None, zone: str | None = None
) -> Period:
    """The period of `grain` holding `day` (a local date, or an aware instant)."""
    zone_name = zone or (like.zone_name if like else "Europe/Paris")
    locale = like.locale if like else "fr_FR"
    if isinstance(day, datetime):
        day = day.astimezone(ZoneInfo(zone_name)).date()
    first = grain_start(day, grain)
    return Period(first, shift_date(first, grain, 1), grain, zone_name, locale)


def parse_period(text: str, zone: str = "Europe/Paris", locale: str = "fr_FR") -> Period:
    """Read a period: 2026-10, 2026-Q3, 2026-W05, 2026 or 2026-10-05."""
    text = str(text).strip()
    for grain, pattern in PATTERNS:
        match = pattern.match(text)
        if match:
            first = period_start(grain, [int(part) for part in match.groups()], text)
            like = Period(first, first, grain, zone, locale)
            return period_of(first, grain, like)
    raise PeriodError(
        f"period {text!r}: cannot read it (expected YYYY-MM, YYYY-Qn, YYYY-Www, YYYY "
        "or YYYY-MM-DD, e.g. 2026-10)"
    )


def period_start(grain: str, parts: list[int], text: str) -> date:
    try:
        if grain == "day":
            return date(*parts)
        if grain == "week":
            year, week = parts
            if not 1 <= week <= iso_weeks(year):
                raise ValueError(f"{year} has {iso_weeks(year)} ISO weeks")
            return date.fromisocalendar(year, week, 1)
        if grain == "month":
            return date(parts[0], parts[1], 1)
        if grain == "quarter":
            return date(parts[0], 3 * parts[1] - 2, 1)
        return date(parts[0], 1, 1)
    except ValueError as error:
        raise PeriodError(f"period {text!r}: not a valid {grain} ({error})") from None


def period_key(first: date, grain: str) -> str:
    if grain == "day":
        return first.isoformat()
    if grain == "week":
        year, week, _ = first.isocalendar()
        return f"{year:04d}-W{week:02d}"
    if grain == "month":
        return f"{first.year:04d}-{first.month:02d}"
    if grain == "quarter":
        return f"{first.year:04d}-Q{(first.month - 1) // 3 + 1}"
    return f"{first.year:04d}"


def day_pattern(pattern: str, day: int, locale: str) -> str:
    """A babel date pattern for `day` of a month: French writes the first day as an
    ordinal ("1er décembre"), every other one as a number ("2 décembre")."""
    if day == 1 and locale.split("_")[0] == "fr":
        return pattern.replace("d ", "d'er' ", 1)
    return pattern


def period_label(first: date, grain: str, locale: str = "fr_FR") -> str:
    from babel.dates import format_date

    words = LABELS.get(locale.split("_")[0], LABELS["en"])
    if grain == "day":
        return format_date(first, day_pattern("d MMMM y", first.day, locale), locale=locale)
    if grain == "week":
        year, week, _ = first.isocalendar()
        return words["week"].format(week=week, year=year)
    if grain == "month":
        text = format_date(first, "LLLL y", locale=locale)
        return text[:1].upper() + text[1:]
    if grain == "quarter":
        return words["quarter"].format(quarter=(first.month - 1) // 3 + 1, year=first.year)
    return str(first.year)


def days_label(first: date, end: date, locale: str = "fr_FR") -> str:
    """The days [first, end) as a short interval: "1–4 oct.", "28 sept. – 4 oct."."""
    from babel.dates import format_interval

    last = end - timedelta(days=1)
    if first == last:
        return format_date_short(first, locale)
    return format_interval(first, last, "MMMd", locale=locale)


def format_date_short(day: date, locale: str) -> str:
    from babel.dates import format_skeleton

    return format_skeleton("MMMd", day, locale=locale)


@dataclass(frozen=True)
class Coverage:
    """The time an extract covers: its first and last event, as aware instants.

    A day holding an event counts as covered from its start to its end (in the reporting
    zone): a period is complete when it lies within [first day, last day].
    """

    first: datetime
    last: datetime
    zone_name: str = "Europe/Paris"
    locale: str = "fr_FR"

    @property
    def first_day(self) -> date:
        return self.first.astimezone(ZoneInfo(self.zone_name)).date()

    @property
    def last_day(self) -> date:
        return self.last.astimezone(ZoneInfo(self.zone_name)).date()

    def period(self, day: date, grain: str) -> Period:
        first = grain_start(day, grain)
        return Period(first, shift_date(first, grain, 1), grain, self.zone_name, self.locale)

    def last_complete(self, grain: str) -> Period | None:
        """The newest period of `grain` that lies within [first day, last day], or None."""
        current = self.period(self.last_day, grain)
        if last_day_of(current) != self.last_day:
            current = current.previous()
        return current if current.first >= self.first_day else None

    def first_complete(self, grain: str) -> Period | None:
        """The oldest period of `grain` that lies within [first day, last day], or None."""
        current = self.period(self.first_day, grain)
        if current.first != self.first_day:
            current = current.shift(1)
        return current if last_day_of(current) <= self.last_day else None

    def no_complete(self, grain: str) -> str:
        """Why a grain has no complete period in this extract: "no complete year in the
        data (from 2009-12-01 to 2010-12-09)"."""
        return (
            f"no complete {grain} in the data (from {self.first_day.isoformat()} "
            f"to {self.last_day.isoformat()})"
        )

    def covers(self, period: Period) -> bool:
        """True when `period` lies within [first day, last day]."""
        return self.first_day <= period.first and last_day_of(period) <= self.last_day

    def outside_reason(self, period: Period) -> str | None:
        """Why the data cannot give a value for `period` (an n/a reason in the locale's
        language, kpi.reasons), or None.

        A period partly or wholly outside the data would show zeros (nothing sold before
        the extract starts or after it ends) that look like real values.
        """
        if self.covers(period):
            return None
        language = reasons.language(self.locale)
        first, last = self.day_label(self.first_day), self.day_label(self.last_day)
        span = reasons.text(language, "data_span", first=first, last=last)
        if period.end_date <= self.first_day or period.first > self.last_day:
            key = "period_outside"
        elif period.first < self.first_day:
            key = "period_started_before"
        else:
            key = "period_unfinished"
        return reasons.text(language, key, period=period.key, span=span)

    def day_label(self, day: date) -> str:
        from babel.dates import format_date

        return format_date(day, "short", locale=self.locale)

    def precedes(self, period: Period) -> bool:
        """True when `period` starts before the first day of data."""
        return period.first < self.first_day

    def start_label(self, grain: str) -> str:
        """The start of the data for a reason: "décembre 2009", or "5 décembre 2009"."""
        day = self.first_day
        if grain_start(day, grain) == day and grain != "day":
            label = period_label(day, grain, self.locale)
        else:
            label = period_label(day, "day", self.locale)
        return label[:1].lower() + label[1:]

    def problem(self, period: Period) -> str | None:
        """Why `period` cannot be reported from this extract, or None when it can."""
        grain, last_day = period.grain, self.last_day
        if last_day_of(period) > last_day:
            where = "after the data" if period.first > last_day else "not complete in the data"
            complete = self.last_complete(grain)
            hint = f"the last complete {grain} is {complete.key}" if complete else None
            return (
                f"period {period.key}: {where} (the extract ends on {last_day.isoformat()}; "
                f"{hint or self.no_complete(grain)})"
            )
        if self.precedes(period):
            where = (
                "before the data" if period.end_date <= self.first_day else "starts before the data"
            )
            complete = self.first_complete(grain)
            hint = f"the first complete {grain} is {complete.key}" if complete else None
            return (
                f"period {period.key}: {where} (the extract starts on "
                f"{self.first_day.isoformat()}; {hint or self.no_complete(grain)})"
            )
        return None
