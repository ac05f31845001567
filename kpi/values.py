"""What the engine returns: values, comparisons, series and breakdowns of KPIs.

A value is never an exception: an n/a value has `value` None and a `reason` saying why
("n/a : aucune commande terminée sur la période").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from kpi.periods import Period


@dataclass(frozen=True)
class Value:
    """One KPI for one period (and slice): rates are fractions, money is in the currency."""

    kpi: str
    period: Period
    value: float | None
    formatted: str
    reason: str | None = None
    unit: str = "number"
    label: str = ""
    raw: Decimal | None = field(default=None, compare=False)

    @property
    def na(self) -> bool:
        return self.value is None

    def to_dict(self) -> dict[str, Any]:
        data = {
            "value": json_number(self.raw, self.unit, self.value),
            "formatted": self.formatted,
            "label": self.label,
            "unit": self.unit,
        }
        if self.reason:
            data["reason"] = self.reason
        return data


@dataclass(frozen=True)
class Comparison:
    """A value against a reference period: the difference and whether it improved."""

    current: Value
    reference: Value
    against: str
    delta: float | None
    delta_formatted: str
    ratio: float | None
    ratio_formatted: str
    improved: bool | None

    @property
    def delta_raw(self) -> Decimal | None:
        current, reference = self.current.raw, self.reference.raw
        return None if current is None or reference is None else current - reference

    def to_dict(self) -> dict[str, Any]:
        return {
            "against": self.against,
            "reference_period": self.reference.period.key,
            "reference": self.reference.to_dict(),
            "delta": json_number(self.delta_raw, self.current.unit, self.delta),
            "delta_formatted": self.delta_formatted,
            "ratio": self.ratio,
            "ratio_formatted": self.ratio_formatted,
            "improved": self.improved,
        }


@dataclass(frozen=True)
class Series:
    """Values of KPIs over consecutive periods, oldest first."""

    periods: list[Period]
    values: dict[str, list[Value]]
    mode: str = "count"


@dataclass(frozen=True)
class Breakdown:
    """Values of KPIs by member of a dimension (or by time bucket), then a total row."""

    by: str
    rows: list[tuple[str, dict[str, Value]]]
    total: tuple[str, dict[str, Value]]
    mode: str = "count"
    period: Period | None = None


def json_number(raw: Decimal | None, unit: str, number: float | None = None) -> float | int | None:
    """A value for JSON: a whole number for counts and for exact whole results (an NPS
    of 27, a sum of integers: 27, not 27.0); a float for rates, money and anything
    computed in floating point (a mean of 4.0 stays 4.0)."""
    if raw is None:
        return number
    whole = raw == raw.to_integral_value()
    if unit == "count" and whole:
        return int(raw)
    if unit in ("score", "number") and whole and raw.as_tuple().exponent >= 0:
        return int(raw)
    return float(raw)
