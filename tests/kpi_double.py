"""A test double of the KPI engine for rendering tests: the real catalog and value types,
with numbers set by hand so that every figure on a rendered page is known in advance.

Only the golden and parser tests use it; end-to-end site tests use the real Workbook.
"""

from __future__ import annotations

from kpi.catalog import Catalog
from kpi.formatting import format_delta, format_value
from kpi.periods import parse_period
from kpi.values import Breakdown, Comparison, Series, Value

# KPI -> value of the month 2026-10; each earlier month is 90 % of the next one.
OCTOBER = {"revenue": 12345.5, "churn_rate": 0.093, "orders_count": 250.0, "nps": 31.0}
CHANNELS = {"web": 0.6, "store": 0.3, "phone": 0.1}  # shares of each KPI by channel


class DoubleBook:
    def __init__(self):
        self.catalog = Catalog.load()
        self.stats = {"queries": 0, "from_cache": 0}

    def period(self, text):
        return parse_period(text)

    def default_period(self, grain="month"):
        return parse_period("2026-10")

    def number(self, name, period, filters=None):
        base = OCTOBER.get(name.split("(")[0])
        if base is None:
            return None
        months = (2026 - period.first.year) * 12 + 10 - period.first.month
        share = CHANNELS.get((filters or {}).get("channel"), 1.0)
        return round(base * 0.9**months * share, 6)

    def value(self, name, period, filters=None):
        kpi = self.catalog.get(name)
        number = self.number(name, period, filters)
        reason = None if number is not None else "n/a : aucune donnée sur la période"
        return Value(
            name, period, number, format_value(number, kpi.unit), reason, kpi.unit, kpi.label
        )

    def compare(self, name, period, against="previous", filters=None):
        current = self.value(name, period, filters)
        other = period.previous() if against == "previous" else period.last_year()
        reference = self.value(name, other, filters)
        delta = (
            None
            if reference.value is None or current.value is None
            else current.value - reference.value
        )
        kpi = self.catalog.get(name)
        improved = (
            None
            if delta is None or not kpi.direction
            else (delta > 0) == (kpi.direction == "higher")
        )
        return Comparison(
            current, reference, against, delta, format_delta(delta, kpi.unit), None, "n/a", improved
        )

    def series(self, names, period, count=12, filters=None, mode="count", grain=None):
        periods = [period.shift(step) for step in range(1 - count, 1)]
        return Series(
            periods, {name: [self.value(name, p, filters) for p in periods] for name in names}
        )

    def breakdown(self, names, period, by, top=10, other=True, mode="count", filters=None):
        rows = [
            (label, {name: self.value(name, period, {by: label}) for name in names})
            for label in CHANNELS
        ]
        return Breakdown(
            by, rows, ("Total", {name: self.value(name, period) for name in names}), mode
        )
