"""What the engine returns: values, comparisons, series and breakdowns of KPIs.

A value is never an exception: an n/a value has `value` None and a `reason` saying why
("n/a : aucune commande terminée sur la période").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
    # How many values a mean or a deviation is over (None for other values).
    n: int | None = field(default=None, compare=False)

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
        if self.n is not None:
            data["n"] = self.n
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


# The labels of the built-in members, by their key, in French; a site in another language
# passes its own to Member.label() and parse_member().
MEMBER_LABELS = {
    "other": "Autres",
    "blank": "(non renseigné)",
    "no_row:contacts": "(sans contact)",
    "no_row:orders": "(sans commande)",
    "no_row:campaigns": "(sans campagne)",
    "no_row:survey_questions": "(sans question)",
}
# The same rows for a site in English (locale en_*).
ENGLISH_MEMBER_LABELS = {
    "other": "Other",
    "blank": "(not given)",
    "no_row:contacts": "(no contact)",
    "no_row:orders": "(no order)",
    "no_row:campaigns": "(no campaign)",
    "no_row:survey_questions": "(no question)",
}
MEMBER_LABELS_BY_LANGUAGE = {"fr": MEMBER_LABELS, "en": ENGLISH_MEMBER_LABELS}
MEMBER_KINDS = ("value", "other", "blank", "no_row")


@dataclass(frozen=True)
class Member:
    """A row of a breakdown by a dimension, as the engine identifies it: a value of the
    dimension (kind "value"), or a built-in row: "other" (the members after the top N),
    "blank" (null, empty or placeholder values), "no_row" (rows the dimension's join
    finds nothing for: a guest order has no buyer, `table` "contacts").

    Identity is the kind and the value, never the label: a real lead source "Autres" is
    not the "other" row, and its label is quoted to tell them apart ('"Autres"').
    """

    kind: str = "value"
    value: str | None = None
    table: str | None = None

    @property
    def key(self) -> str:
        """The key of a built-in member's label in MEMBER_LABELS ("no_row:contacts")."""
        return f"no_row:{self.table}" if self.kind == "no_row" else self.kind

    def label(self, labels: Mapping[str, str] | None = None) -> str:
        """The member as a reader sees it; `labels` replaces built-in labels by key."""
        return labeller(labels)(self)

    def __str__(self) -> str:
        return self.label()

    def sort_key(self) -> tuple:
        return (self.kind, self.value or "", self.table or "")

    def to_dict(self, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
        """`member` (the real value, or null for a built-in row), `kind` and `label`."""
        return {"member": self.value, "kind": self.kind, "label": self.label(labels)}

    def to_json(self) -> list:
        return [self.kind, self.value, self.table]

    @classmethod
    def from_json(cls, data: list) -> Member:
        return cls(*data)


OTHER = Member("other")
BLANK = Member("blank")


def no_row(table: str) -> Member:
    return Member("no_row", table=table)


def quoted(text: str) -> str:
    return f'"{text}"'


def needs_quotes(value: str, built_in) -> bool:
    """A real value that reads as a built-in label, or as a quoted value, is shown quoted:
    labels then map one to one to members, and a filter can name either."""
    return value in built_in or (len(value) >= 2 and value[0] == value[-1] == '"')


def labeller(labels: Mapping[str, str] | None = None) -> Callable[[Member], str]:
    """Member.label with `labels` merged once, to label many members."""
    merged = {**MEMBER_LABELS, **(labels or {})}
    built_in = frozenset(merged.values())

    def label(member: Member) -> str:
        if member.kind != "value":
            return merged.get(member.key, member.key)
        return quoted(member.value) if needs_quotes(member.value, built_in) else member.value

    return label


def parse_member(text: str, labels: Mapping[str, str] | None = None, blanks=()) -> Member:
    """The member a label names (what a filter value is): a built-in label, a quoted
    value ('"Autres"': the real value Autres), else the value itself, trimmed; "" and
    the `blanks` (placeholders, compared case-insensitively) are the blank member.
    "Autres" alone is the real value: no filter can select the other members' row."""
    text = str(text).strip()
    labels = {**MEMBER_LABELS, **(labels or {})}
    if text == "" or text.lower() in {b.strip().lower() for b in blanks}:
        return BLANK
    for key, label in labels.items():
        if text == label and key != "other":
            kind, _, table = key.partition(":")
            return Member(kind, None, table or None)
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return Member("value", text[1:-1])
    return Member("value", text)


@dataclass(frozen=True)
class Breakdown:
    """Values of KPIs by member of a dimension (or by time bucket), then a total row.

    A row is (Member, values) by a dimension, (label, values) by time buckets.
    """

    by: str
    rows: list[tuple[Member | str, dict[str, Value]]]
    total: tuple[str, dict[str, Value]]
    mode: str = "count"
    period: Period | None = None

    def labels(self, labels: Mapping[str, str] | None = None) -> list[str]:
        """The rows' labels, one per row, never two alike (see Member.label)."""
        label = labeller(labels)
        return [label(key) if isinstance(key, Member) else str(key) for key, _ in self.rows]


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
