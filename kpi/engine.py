"""The KPI engine: a spreadsheet with no screen.

A `Workbook` evaluates the catalog's KPIs over a project's extract. Leaves (measures,
states, activity) are computed by ibis queries, batched: every leaf asked for one table is
computed by one aggregate query, whatever the number of KPIs, periods (comparisons, time
series) or statistics. Formulas are then evaluated in exact decimal arithmetic. Leaf
results are cached in memory and on disk (kpi.cache), keyed by what they depend on.

    book = Workbook(project)
    book.value("active_rate", book.period("2026-10"), filters={"country_code": "FR"})
"""

from __future__ import annotations

import ast
import heapq
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import ibis
from ibis.common.exceptions import IbisError

from kpi import reasons, schema
from kpi.cache import DiskCache, cache_key
from kpi.catalog import CONTACT_DIMENSIONS, DIMENSIONS, JOINS, Catalog, KpiDef
from kpi.errors import CatalogError, ExtractError, did_you_mean, with_hint
from kpi.extract import Extract, MissingTable, QueryError
from kpi.formatting import format_delta, format_ratio, format_value
from kpi.formula import NotAvailable, Ref, RowEnv, evaluate_formula, referenced_kpi
from kpi.periods import (
    GRAINS,
    Coverage,
    Period,
    PeriodError,
    parse_period,
    period_of,
    window_start,
)
from kpi.project import Project
from kpi.values import (
    BLANK,
    MEMBER_LABELS_BY_LANGUAGE,
    OTHER,
    Breakdown,
    Comparison,
    Member,
    Series,
    Value,
    labeller,
    no_row,
    parse_member,
)

log = logging.getLogger(__name__)

MODES = ("count", "percent", "mean", "std", "cumulative_mean")
TOTAL = "Total"
# In a query, the member column holds a value trimmed, null for a blank one, and this
# prefix and the joined table for rows a dimension's join finds nothing for (a guest
# order has no buyer). A trimmed value never starts with a newline, so no real value can
# be taken for it; results are turned into Members (kpi.values) as they come back.
NO_ROW_KEY = "\n(no row) "

# The time column of each dated table: the extract covers [first, last] of their events.
TIME_COLUMNS = {
    "orders": "ordered_at",
    "contacts": "created_at",
    "campaigns": "sent_at",
    "campaign_events": "occurred_at",
    "survey_responses": "submitted_at",
    "interactions": "occurred_at",
}

PRESENTATION = ("label", "description", "unit", "format", "direction", "target", "empty")

# Statistic of a leaf each presentation mode needs.
# A mean or a deviation says how many values it is over (Value.n).
MODE_STATS = {
    "count": ("value",),
    "percent": ("value",),
    "mean": ("mean", "n"),
    "std": ("std", "n"),
}


@dataclass
class Stats:
    """What the engine did: queries run, leaf results read from the disk cache."""

    queries: int = 0
    from_cache: int = 0
    computed: int = 0
    # Queries the backend refused, one line each: their KPIs are n/a with the reason,
    # and a caller such as the site plugin decides whether that fails the build.
    failures: list[str] = field(default_factory=list)

    def reset(self) -> None:
        self.queries = self.from_cache = self.computed = 0
        self.failures = []


@dataclass(frozen=True)
class Slice:
    """Filters (dimension -> values, or excluded values) and an optional breakdown."""

    filters: tuple[tuple[str, tuple, bool], ...] = ()
    by: str | None = None

    def dimensions(self) -> set[str]:
        return {name for name, _, _ in self.filters} | ({self.by} if self.by else set())

    def describe(self) -> list:
        filters = [
            [name, [m.to_json() for m in wanted], not_] for name, wanted, not_ in self.filters
        ]
        return [filters, self.by]


@dataclass(frozen=True)
class Leaf:
    """One leaf to compute: a KPI reference, a period and a statistic of it."""

    ref: Ref
    period: Period
    stat: str = "value"


@dataclass
class Result:
    """A leaf's values by breakdown member (member None when there is no breakdown)."""

    members: dict[Any, Decimal | None] = field(default_factory=dict)
    reason: str | None = None  # set when the whole leaf is n/a (missing table...)
    empty: Decimal | None = None  # the value of a member with no rows

    def get(self, member) -> Decimal | None:
        return self.members.get(member, self.empty)

    def to_json(self) -> dict:
        """The result for the disk cache. The values of real members are a mapping from
        text to number, the most compact JSON: a dimension may have 100,000 members."""
        values, others = {}, []
        for member, value in self.members.items():
            number = None if value is None else str(value)
            if member is not None and member.kind == "value":
                values[member.value] = number
            else:
                others.append([None if member is None else member.to_json(), number])
        empty = None if self.empty is None else str(self.empty)
        return {"values": values, "members": others, "reason": self.reason, "empty": empty}

    @classmethod
    def from_json(cls, data: dict) -> Result:
        members = {
            None if m is None else Member.from_json(m): None if v is None else Decimal(v)
            for m, v in data["members"]
        }
        for text, v in data["values"].items():
            members[Member("value", text)] = None if v is None else Decimal(v)
        empty = None if data["empty"] is None else Decimal(data["empty"])
        return cls(members, data["reason"], empty)


@dataclass
class Batch:
    """Leaf results of cells computed together, and the members of each cell: every
    member of the batch, none for a period outside the data (None without a breakdown)."""

    results: dict[Leaf, Result]
    members: dict[tuple[Ref, Period], set]
    outside: dict[Period, str | None]


class Workbook:
    """The KPIs of a project, evaluated lazily, batched and cached."""

    def __init__(
        self,
        project: Project,
        extract: Extract | None = None,
        catalog: Catalog | None = None,
        cache: bool = True,
    ):
        self.project = project
        self.settings = project.settings
        self.extract = extract or Extract(project)
        # The language of the n/a reasons, and of the standard catalog's labels.
        self.language = reasons.language(self.settings.locale)
        self.catalog = catalog or Catalog.of_project(project)
        self.cache = DiskCache(project.cache_dir if cache else None)
        self.stats = Stats()
        self._memo: dict[str, Result] = {}
        self._fingerprints: dict[str, str] = {}
        self._coverage: list[Coverage | None] = []  # computed once, when first asked
        self._members: dict[tuple[str, str], set[Member]] = {}

    def close(self) -> None:
        """Release the disk cache and the engine's connection (the build is over)."""
        self.cache.close()
        disconnect = getattr(self.extract.con, "disconnect", None)
        if disconnect is not None:
            disconnect()

    @property
    def member_labels(self) -> dict[str, str]:
        """The labels of the built-in members (Autres...) in the project's language."""
        return MEMBER_LABELS_BY_LANGUAGE[self.language]

    # --- Periods ----------------------------------------------------------------------

    def period(self, text: str | Period) -> Period:
        """A period in the reporting zone: "2026-10", "2026-Q3", "2026-W05", "2026"..."""
        if isinstance(text, Period):
            return text
        return parse_period(text, self.settings.timezone, self.settings.locale)

    def default_period(self, grain: str = "month") -> Period:
        """The last complete period of `grain` in the data: the period of the newest
        event's day if that day is its last one, else the period before; PeriodError
        when no period of that grain lies within the data (a year of a 12-month extract
        that starts in December)."""
        coverage = self.data_coverage(required=True)
        period = coverage.last_complete(grain)
        if period is None:
            raise PeriodError(coverage.no_complete(grain))
        return period

    def check_period(self, period: str | Period) -> Period:
        """The period, if the extract covers it whole; else PeriodError saying why.

        The default period (the last complete one) always passes. A period after the
        newest event's day, still in progress, or starting before the oldest event's day
        would show zeros that look like real values.
        """
        period = self.period(period)
        problem = self.data_coverage(required=True).problem(period)
        if problem:
            raise PeriodError(problem)
        return period

    def data_coverage(self, required: bool = False) -> Coverage | None:
        """First and last event over the dated tables (one min/max query per table)."""
        if not self._coverage:
            self._coverage.append(self.compute_coverage())
        coverage = self._coverage[0]
        if coverage is None and required:
            raise ExtractError(
                f"{self.project.data_dir}: the extract has no dated rows to choose or check "
                "a period with (expected orders, contacts, campaign events... with dates)"
            )
        return coverage

    def compute_coverage(self) -> Coverage | None:
        """The coverage from each table's bounds, cached on disk per table: a change to
        one table queries the bounds of that table alone.

        Events after the extraction time (a far-future typo such as 2200-01-01) are left
        out: they would move the default period to a month nobody can report on.
        """
        tables = [table for table in TIME_COLUMNS if self.extract.has(table)]
        limit = self.extract.extracted_at()
        stamp = None if limit is None else limit.isoformat()
        keys = {
            t: cache_key({"bounds": [t, TIME_COLUMNS[t], self.fingerprint(t), stamp]})
            for t in tables
        }
        cached = self.cache.get_many(list(keys.values()))
        missing = [t for t in tables if keys[t] not in cached]
        fresh = {keys[t]: pair for t, pair in self.query_bounds(missing, limit).items()}
        self.cache.put_many(
            {
                key: None if pair is None else [t.isoformat() for t in pair]
                for key, pair in fresh.items()
            }
        )

        bounds = [pair for pair in fresh.values() if pair is not None]
        bounds += [tuple(map(datetime.fromisoformat, pair)) for pair in cached.values() if pair]
        if not bounds:
            return None
        first = min(start for start, _ in bounds)
        last = max(stop for _, stop in bounds)
        return Coverage(first, last, self.settings.timezone, self.settings.locale)

    def query_bounds(self, tables: list[str], limit: datetime | None) -> dict[str, Any]:
        """{table: (first, last) or None} of the tables whose bounds could be queried."""
        found = {}
        for table in tables:
            try:
                found[table] = self.time_bounds(table, limit)
            except (IbisError, QueryError) as error:
                # Not cached: its KPIs say why when asked, its dates are just not counted.
                self.stats.failures.append(
                    f"table {table}: the query of its time bounds failed: {first_line(error)}"
                )
        return found

    def time_bounds(self, table: str, limit: datetime | None = None):
        """(first, last) of a table's time column up to `limit`; None when no row is dated.

        A plain min/max is answered from the Parquet statistics; only an extract holding
        events after `limit` pays for a second, filtered scan.
        """
        try:
            data = self.extract.table(table)
        except MissingTable:
            return None
        column = data[TIME_COLUMNS[table]]
        row = self.execute(data.aggregate(first=column.min(), last=column.max())).to_pylist()[0]
        if row["first"] is not None and limit is not None and aware(row["last"]) > limit:
            kept = column <= utc(limit)
            bounds = data.aggregate(first=column.min(where=kept), last=column.max(where=kept))
            row = self.execute(bounds).to_pylist()[0]
        if row["first"] is None:
            return None
        return aware(row["first"]), aware(row["last"])

    def newest_event(self):
        """The newest timestamp among the dated tables, or None."""
        coverage = self.data_coverage()
        return None if coverage is None else coverage.last

    def dimension_values(self, name: str, dimension: str) -> set[str] | None:
        """What a filter on a dimension of a KPI may name: the labels of its members in
        the extract (see `members`), and each real value as it is, or None when the KPI
        has no such dimension or its table is missing."""
        members = self.members(name, dimension)
        if members is None:
            return None
        label = labeller(self.member_labels)  # merged once: a dimension may have 100,000
        return {label(m) for m in members} | {m.value for m in members if m.value}

    def members(self, name: str, dimension: str) -> set[Member] | None:
        """The members a dimension of a KPI has in the extract, as breakdowns find them
        (trimmed values, the blank member), with the member of rows its join finds
        nothing for when the dimension is read through one (a guest order's city); None
        when the KPI has no such dimension or its table is missing. One query per
        column, cached on disk like leaf results: a rebuild after a page edit runs none."""
        kpidef = self.catalog.get(name)
        source = dimension_source(kpidef, dimension)
        if source is None or not self.extract.has(source[0]):
            return None
        if source not in self._members:
            self._members[source] = self.members_of(*source)
        return self._members[source] | {no_row(t) for t in joined_tables(kpidef, dimension)}

    def members_of(self, table: str, column: str) -> set[Member]:
        placeholders = list(self.settings.placeholders)
        key = cache_key({"members": [table, column, self.fingerprint(table), placeholders]})
        cached = self.cache.get_many([key])
        if key in cached:
            return {Member.from_json(member) for member in cached[key]}
        data = self.extract.table(table)
        expr = data.select(member=dimension_member(data[column], placeholders)).distinct()
        members = {member_of(row) for row in self.execute(expr).column(0).to_pylist()}
        ordered = sorted(members, key=Member.sort_key)
        self.cache.put_many({key: [member.to_json() for member in ordered]})
        return members

    def filter_member(self, value) -> Member:
        """The member a filter value selects: a Member as it is; None, "", a placeholder
        ("n/a") or "(non renseigné)" the blank member; "(sans contact)" the rows with no
        contact; '"Autres"' the real value Autres (see kpi.values.parse_member)."""
        if isinstance(value, Member):
            return value
        if value is None:
            return BLANK
        return parse_member(str(value), self.member_labels, self.settings.placeholders)

    # --- Public API -------------------------------------------------------------------

    def value(
        self, name: str, period: str | Period, filters: dict | None = None, mode: str = "count"
    ) -> Value:
        """One KPI for one period; n/a is a Value with a reason, never an exception."""
        return self.values([name], period, filters, mode)[name]

    def values(
        self,
        names: list[str],
        period: str | Period,
        filters: dict | None = None,
        mode: str = "count",
    ) -> dict[str, Value]:
        """Several KPIs for one period, computed together (one query per table)."""
        period = self.period(period)
        refs = self.refs(names)
        slice_ = self.slice(refs, filters)
        cells = [(ref, period) for ref in refs.values()]
        results = self.cells(cells, slice_, mode)
        return {name: results[(ref, period)][None] for name, ref in refs.items()}

    def compare(
        self,
        name: str,
        period: str | Period,
        against: str = "previous",
        filters: dict | None = None,
    ) -> Comparison:
        """A KPI against the previous period or the same period last year."""
        return self.compare_many([name], period, against, filters)[name]

    def compare_many(
        self,
        names: list[str],
        period: str | Period,
        against: str | tuple[str, ...] = "previous",
        filters: dict | None = None,
    ) -> dict[str, Any]:
        """Comparisons of several KPIs, every period computed in the same queries.

        With one reference (`"previous"`) the result maps each name to a Comparison; with
        several (`("previous", "last_year")`) to a dict of Comparisons by reference.
        """
        period = self.period(period)
        several = not isinstance(against, str)
        references = {a: reference_period(period, a) for a in (against if several else [against])}
        refs = self.refs(names)
        slice_ = self.slice(refs, filters)
        periods = [period, *references.values()]
        results = self.cells([(r, p) for r in refs.values() for p in periods], slice_, "count")
        found = {}
        for name, ref in refs.items():
            current = results[(ref, period)][None]
            found[name] = {
                a: self.comparison(current, results[(ref, other)][None], a)
                for a, other in references.items()
            }
        return found if several else {name: found[name][against] for name in found}

    def series(
        self,
        names: list[str],
        period: str | Period,
        count: int = 12,
        filters: dict | None = None,
        mode: str = "count",
        grain: str | None = None,
    ) -> Series:
        """KPIs over `count` consecutive periods ending with `period`, oldest first."""
        period = self.period(period)
        last = period
        if grain and grain != period.grain:
            # The series ends with the bucket holding the period's last day, cut at the
            # period's end: no figure after the report shows, whether the bucket is finer
            # (a week running into the next month) or coarser (a quarter, a year to date).
            last = period_of(period.end_date - timedelta(days=1), grain, period)
            last = replace(last, end_date=min(last.end_date, period.end_date))
        periods = [last.shift(-i) for i in range(count - 1, 0, -1)] + [last]
        return Series(periods, self.over_periods(names, periods, filters, mode), mode)

    def breakdown(
        self,
        names: list[str],
        period: str | Period,
        by: str,
        top: int | None = 10,
        other: bool = True,
        mode: str = "count",
        filters: dict | None = None,
    ) -> Breakdown:
        """KPIs by member of a dimension (top N, then "Autres"), and a total row.

        `by` may also be a grain finer than the period ("month" in a quarter): the rows
        are then the period's time buckets in order, which is what cumulative_mean needs.
        """
        period = self.period(period)
        check_mode(mode)
        if mode == "percent":
            self.check_shares(names)
        if by in GRAINS:
            return self.breakdown_by_time(names, period, by, mode, filters)
        if mode == "cumulative_mean":
            raise CatalogError(
                f"breakdown by {by!r}: cumulative_mean runs over time buckets "
                f"(expected by: one of {', '.join(GRAINS)}, or series())"
            )
        return self.breakdown_by_member(names, period, by, top, other, mode, filters)

    # --- References and slices -----------------------------------------------------------

    def refs(self, names: list[str]) -> dict[str, Ref]:
        if isinstance(names, str):
            names = [names]
        return {name: self.catalog.ref(name) for name in names}

    def check_shares(self, names: list[str]) -> None:
        """Mode percent shows each member's share of the total: a CatalogError for a KPI
        whose members do not add up to its total (a ratio, a mean, a score)."""
        for name, ref in self.refs(names).items():
            if not self.catalog.additive(ref.name):
                raise CatalogError(
                    f"mode 'percent': KPI {name} is not a count or a sum, so its shares of "
                    "the total would mean nothing (use mode 'count', or a counted or summed "
                    "KPI such as orders_count or revenue)"
                )

    def slice(self, refs: dict[str, Ref], filters: dict | None, by: str | None = None) -> Slice:
        """Normalised filters; CatalogError when a KPI has no such dimension."""
        normalised = []
        for dimension, wanted in sorted((filters or {}).items()):
            normalised.append(filter_entry(dimension, wanted, self.filter_member))
        slice_ = Slice(tuple(normalised), by)
        for ref in refs.values():
            kpi = self.catalog.kpis[ref.name]
            for dimension in slice_.dimensions():
                if dimension not in kpi.dimensions:
                    hint = did_you_mean(dimension, kpi.dimensions)
                    message = (
                        f"KPI {ref.key}: unknown dimension {dimension!r} for its tables "
                        f"({', '.join(sorted(kpi.tables))})"
                    )
                    raise CatalogError(with_hint(message, hint))
        return slice_

    # --- Cells: formulas over leaves -------------------------------------------------------

    def cells(
        self, cells: list[tuple[Ref, Period]], slice_: Slice, mode: str = "count"
    ) -> dict[tuple[Ref, Period], dict[Any, Value]]:
        """Values of (KPI, period) cells by member, in one batch of leaf queries.

        A period the data does not cover whole is n/a with the reason, and not queried:
        its zeros would look like real values. With a breakdown it has no member.
        """
        batch = self.batch(cells, slice_, [mode])
        return {
            cell: {member: self.cell_value(batch, *cell, member, mode) for member in members}
            for cell, members in batch.members.items()
        }

    def batch(self, cells: list[tuple[Ref, Period]], slice_: Slice, modes: list[str]) -> Batch:
        """The leaf results of cells in every mode asked, resolved together (one query per
        table), and the members each cell has."""
        for mode in modes:
            check_mode(mode)
        outside = {period: self.outside_reason(period) for _, period in cells}
        inside = [(ref, period) for ref, period in cells if not outside[period]]
        results = self.resolve(self.leaves_of(inside, modes), slice_)
        members = self.members_in(results, slice_)
        found = {}
        for cell in cells:
            if outside[cell[1]]:
                found[cell] = set() if slice_.by else {None}
            else:
                found[cell] = members
        return Batch(results, found, outside)

    def cell_value(self, batch: Batch, ref: Ref, period: Period, member, mode: str) -> Value:
        """The Value of one cell for one member (None without a breakdown)."""
        if batch.outside[period]:
            return self.make_value(ref, period, None, batch.outside[period], mode)
        results = batch.results
        raw, reason = self.raw(ref, period, results, member, mode)
        n = count_of(results, Leaf(ref, period, "n"), member, mode)
        return self.make_value(ref, period, raw, reason, mode=mode, n=n)

    @staticmethod
    def members_in(results: dict[Leaf, Result], slice_: Slice) -> set:
        """The members of a batch: with a breakdown, every member any of its leaves has,
        so that each KPI has a value for each (0 for a count with no row, n/a for a zero
        denominator) and the rows of every KPI add up to its total; else None alone."""
        if slice_.by is None:
            return {None}
        return {member for result in results.values() for member in result.members}

    def leaves_of(self, cells: list[tuple[Ref, Period]], modes: list[str]) -> list[Leaf]:
        """The leaves, with the statistics of each mode, that cells are computed from."""
        stats = dict.fromkeys(s for mode in modes for s in MODE_STATS.get(mode, ("value",)))
        return [
            Leaf(leaf_ref, period, stat)
            for ref, period in cells
            for leaf_ref in self.catalog.leaves(ref)
            for stat in stats
        ]

    def outside_reason(self, period: Period) -> str | None:
        """The n/a reason of a period the data does not cover whole, else None."""
        coverage = self.data_coverage()
        reason = None if coverage is None else coverage.outside_reason(period)
        return reasons.prefixed(self.language, reason) if reason else None

    def na(self, key: str, **params) -> str:
        """An n/a reason of the engine in the project's language (kpi.reasons)."""
        return reasons.reason(self.language, key, **params)

    def empty_reason(self, kpi: KpiDef) -> str:
        """Why a KPI with no rows is n/a: its catalog's `empty`, else a generic reason."""
        if kpi.empty:
            return reasons.prefixed(self.language, kpi.empty)
        return self.na("no_data", label=reasons.mid_sentence(kpi.label))

    def missing_reason(self, missing: MissingTable) -> str:
        """The n/a reason of the KPIs of a missing or unusable table."""
        if missing.detail:
            return reasons.prefixed(self.language, missing.detail)
        return self.na("missing_table", table=missing.table)

    def raw(self, ref: Ref, period: Period, results, member, mode: str):
        """(Decimal or None, reason) of one cell for one breakdown member."""
        kpi = self.catalog.kpis[ref.name]
        if mode in ("mean", "std"):
            return self.raw_statistic(kpi, ref, period, results, member, mode)
        try:
            return self.evaluate(ref, period, results, member), None
        except NotAvailable as stop:
            return None, stop.reason

    def raw_statistic(self, kpi: KpiDef, ref: Ref, period: Period, results, member, mode):
        if kpi.kind != "measure" or not kpi.get("mean_of"):
            return None, self.na("no_mean_of", kpi=kpi.name)
        result = results[Leaf(ref, period, "mean" if mode == "mean" else "std")]
        if result.reason:
            return None, result.reason
        if mode == "std" and (results[Leaf(ref, period, "n")].get(member) or 0) < 2:
            return None, self.na("std_few_values")
        value = result.get(member)
        return (value, None) if value is not None else (None, self.empty_reason(kpi))

    def evaluate(self, ref: Ref, period: Period, results, member) -> Decimal:
        kpi = self.catalog.kpis[ref.name]
        if kpi.kind != "formula":
            result = results[Leaf(ref, period)]
            if result.reason:
                raise NotAvailable(result.reason)
            value = result.get(member)
            if value is None:
                raise NotAvailable(self.empty_reason(kpi))
            return value

        bound = dict(zip(kpi.params, ref.args, strict=True))

        def lookup(dep: Ref) -> Decimal:
            args = tuple(bound.get(arg, arg) for arg in dep.args)
            return self.evaluate(Ref(dep.name, args), period, results, member)

        def zero_reason(node: ast.AST) -> str:
            name = referenced_kpi(node)
            if name is not None:
                dep = self.catalog.kpis[name]
                if dep.empty:
                    return self.empty_reason(dep)
                return self.na("zero_kpi", label=reasons.mid_sentence(dep.label))
            return self.na("zero_denominator")

        return evaluate_formula(str(kpi.get("formula")), lookup, zero_reason)

    def make_value(
        self,
        ref: Ref,
        period: Period,
        raw: Decimal | None,
        reason: str | None,
        mode="count",
        n: int | None = None,
    ):
        kpi = self.catalog.kpis[ref.name]
        unit, pattern = kpi.unit, kpi.format
        if mode in ("mean", "std", "cumulative_mean"):
            # A mean of order amounts is an amount, whatever the KPI counts.
            unit, pattern = value_column_unit(kpi), None
        settings = self.settings
        formatted = format_value(raw, unit, settings.locale, settings.currency, pattern)
        number = None if raw is None else float(raw)
        return Value(ref.key, period, number, formatted, reason, unit, kpi.label, raw, n)

    # --- Leaves: cache, then one query per group ------------------------------------------

    def resolve(self, leaves: list[Leaf], slice_: Slice) -> dict[Leaf, Result]:
        """Results of leaves, from memory, the disk cache, or batched queries."""
        leaves = list(dict.fromkeys(leaves))
        keys = {leaf: self.leaf_key(leaf, slice_) for leaf in leaves}
        found = {leaf: self._memo[key] for leaf, key in keys.items() if key in self._memo}

        missing = [leaf for leaf in leaves if leaf not in found]
        on_disk = self.cache.get_many([keys[leaf] for leaf in missing])
        for leaf in missing:
            if keys[leaf] in on_disk:
                found[leaf] = self._memo[keys[leaf]] = Result.from_json(on_disk[keys[leaf]])
                self.stats.from_cache += 1

        missing = [leaf for leaf in leaves if leaf not in found]
        computed = {}
        for group in group_leaves(missing, self.catalog).values():
            computed.update(self.compute_group(group, slice_))
        self.stats.computed += len(computed)
        for leaf, result in computed.items():
            self._memo[keys[leaf]] = found[leaf] = result
        self.cache.put_many({keys[leaf]: result.to_json() for leaf, result in computed.items()})
        return found

    def leaf_key(self, leaf: Leaf, slice_: Slice) -> str:
        kpi = self.catalog.kpis[leaf.ref.name]
        tables = self.leaf_tables(kpi, slice_)
        # Presentation fields (label, unit, target...) do not change a leaf's numbers.
        spec = {
            k: v for k, v in kpi.spec.items() if not k.startswith("_") and k not in PRESENTATION
        }
        return cache_key(
            {
                "kind": kpi.kind,
                "spec": spec,
                "args": leaf.ref.args,
                "period": period_identity(leaf.period, self.settings.timezone),
                "stat": leaf.stat,
                "slice": slice_.describe(),
                "window": self.settings.activity_window,
                "interactions": self.settings.activity_includes_interactions,
                "placeholders": list(self.settings.placeholders),
                # A cached result may carry an n/a reason, written in this language.
                "language": self.language,
                "tables": {name: self.fingerprint(name) for name in sorted(tables)},
            }
        )

    def fingerprint(self, table: str) -> str:
        if table not in self._fingerprints:
            self._fingerprints[table] = self.extract.fingerprint(table)
        return self._fingerprints[table]

    def leaf_tables(self, kpi: KpiDef, slice_: Slice) -> set[str]:
        """Every table a leaf reads: its own, its joins, and those of its dimensions."""
        tables = set(kpi.tables)
        if kpi.kind == "activity":
            if slice_.dimensions():
                tables.add("contacts")
            if self.includes_interactions(kpi):
                tables.add("interactions")
        elif kpi.kind == "measure":
            for dimension in slice_.dimensions():
                joined, _ = DIMENSIONS[kpi.get("table")][dimension]
                tables.add(joined or kpi.get("table"))
        return tables

    def includes_interactions(self, kpi: KpiDef) -> bool:
        return bool(kpi.get("include_interactions", self.settings.activity_includes_interactions))

    def window(self, kpi: KpiDef) -> int:
        return int(kpi.get("window", self.settings.activity_window))

    def compute_group(self, leaves: list[Leaf], slice_: Slice) -> dict[Leaf, Result]:
        """Run the one query of a group of leaves; a missing table makes them all n/a."""
        kind = self.catalog.kpis[leaves[0].ref.name].kind
        try:
            if kind == "measure":
                return self.compute_measures(leaves, slice_)
            if kind == "state":
                return self.compute_states(leaves, slice_)
            return self.compute_activity(leaves, slice_)
        except MissingTable as missing:
            return {leaf: Result(reason=self.missing_reason(missing)) for leaf in leaves}
        except (IbisError, QueryError) as error:
            # The engine refused the query (a value the contract cannot see, a backend
            # limit): these KPIs are n/a with the reason, the other tables' KPIs are still
            # computed. A column of the wrong type is caught earlier, by Extract.table().
            names = ", ".join(sorted({leaf.ref.key for leaf in leaves}))
            self.stats.failures.append(f"KPIs {names}: the query failed: {first_line(error)}")
            log.debug("KPIs %s: the query failed", names, exc_info=True)
            reason = self.na("query_error", error=f"{type(error).__name__}: {first_line(error)}")
            return {leaf: Result(reason=reason) for leaf in leaves}

    def execute(self, expr) -> Any:
        """Run one ibis expression (counted in stats) and return a pyarrow result."""
        self.stats.queries += 1
        if log.isEnabledFor(logging.DEBUG):
            log.debug("query:\n%s", ibis.to_sql(expr))
        return self.extract.execute(expr)

    # --- Measures ---------------------------------------------------------------------------

    def compute_measures(self, leaves: list[Leaf], slice_: Slice) -> dict[Leaf, Result]:
        table = self.catalog.kpis[leaves[0].ref.name].get("table")
        parts = {leaf.ref: self.catalog.compile(leaf.ref) for leaf in leaves}
        data = self.joined_table(table, self.measure_joins(table, leaves, slice_))

        # Filters first, so each aggregate is built over the very relation it reads.
        env = self.row_env(data)
        data = data.filter(self.slice_condition(slice_, table_members(table, env)))
        env = self.row_env(data)
        spans = [(parts[leaf.ref]["time"].build(env), leaf.period) for leaf in leaves]
        data = data.filter(span_condition(spans))
        env = self.row_env(data)

        # Distinct counts of one key get their own query; everything else shares one.
        wheres = {leaf: leaf_condition(leaf, parts[leaf.ref], env) for leaf in leaves}
        dimension = table_members(table, env)
        found = {}
        for key, group in distinct_groups(leaves, parts, env).items():
            found.update(self.distinct_counts(data, group, key, wheres, parts, slice_, dimension))
        rest = [leaf for leaf in leaves if leaf not in found]
        if rest:
            found.update(self.plain_measures(data, rest, parts, wheres, slice_, dimension))
        return found

    def plain_measures(self, data, leaves, parts, wheres, slice_, dimension):
        """One aggregate query with a conditional aggregate per leaf."""
        env = self.row_env(data)
        aggregates = {
            f"v{i}": measure_aggregate(parts[leaf.ref], leaf.stat, env, wheres[leaf])
            for i, leaf in enumerate(leaves)
        }
        rows = self.aggregate(data, aggregates, slice_, dimension)
        return {
            leaf: self.leaf_result(rows, f"v{i}", self.empty_value(parts[leaf.ref], leaf))
            for i, leaf in enumerate(leaves)
        }

    def distinct_counts(self, data, leaves, key, wheres, parts, slice_, dimension):
        """Distinct counts of one key (campaign x contact pairs) for many filters at once.

        COUNT(DISTINCT key) FILTER (...) for each KPI and period keeps one hash set per
        aggregate (gigabytes on 18M events). Grouping once by the key with one flag per
        condition ("any row of this pair passes"), then counting flags, gives the same
        numbers with a single hash table. When the time column belongs to a table joined
        on part of the key (a campaign's sent_at), it is constant within a pair: the
        flags are then per filter only, and the period is tested once per pair.
        """
        present = ibis.literal(True)
        for column in key:
            present = present & column.notnull()
        groups = {f"k{i}": column for i, column in enumerate(key)}
        if slice_.by:
            groups["member"] = dimension(slice_.by)
        env = self.row_env(data)
        table = self.catalog.kpis[leaves[0].ref.name].get("table")
        times = {parts[leaf.ref]["time"].build(env).get_name() for leaf in leaves}
        if len(times) == 1 and time_per_key(table, next(iter(times)), key):
            pairs, counts = self.pairs_by_filter(data, present, groups, leaves, parts, env)
        else:
            pairs, counts = self.keys_by_leaf(data, present, groups, leaves, parts, wheres, env)
        grouped = pairs.group_by("member") if slice_.by else pairs
        rows = self.rows_by_member(self.execute(grouped.aggregate(**counts)).to_pylist(), slice_)
        return {leaf: self.leaf_result(rows, f"v{i}", Decimal(0)) for i, leaf in enumerate(leaves)}

    def pairs_by_filter(self, data, present, groups, leaves, parts, env):
        """Pairs with their (shared) time and one flag per distinct condition (filters,
        and the `among` condition a pair must also meet: delivered); the counts."""
        time = parts[leaves[0].ref]["time"].build(env)
        flags: dict[str, Any] = {}
        names: dict[tuple, str] = {}
        used = {}
        for ref in dict.fromkeys(leaf.ref for leaf in leaves):
            kpi = self.catalog.kpis[ref.name]
            used[ref] = []
            for part in ("filter", "among"):
                if part == "among" and part not in parts[ref]:
                    continue
                signature = (kpi.get(part), ref.args)
                if signature not in names:
                    names[signature] = f"f{len(names)}"
                    flags[names[signature]] = row_flag(parts[ref].get(part), env).any()
                used[ref].append(names[signature])
        pairs = data.filter(present).group_by(**groups).aggregate(at=time.max(), **flags)
        counts = {}
        for i, leaf in enumerate(leaves):
            inside = (pairs.at >= utc(leaf.period.start_utc)) & (
                pairs.at < utc(leaf.period.end_utc)
            )
            met = all_of([pairs[name] for name in used[leaf.ref]])
            counts[f"v{i}"] = pairs.count(where=met & inside)
        return pairs, counts

    def keys_by_leaf(self, data, present, groups, leaves, parts, wheres, env):
        """Keys with one flag per leaf ("a row of this key passes"), and one per leaf with
        an `among` condition ("a row of this key in the period meets it"); the counts."""
        flags, counts = {}, {}
        for i, leaf in enumerate(leaves):
            flags[f"v{i}"] = wheres[leaf].any()
            if "among" in parts[leaf.ref]:
                among = {"time": parts[leaf.ref]["time"], "filter": parts[leaf.ref]["among"]}
                flags[f"a{i}"] = leaf_condition(leaf, among, env).any()
        keys = data.filter(present).group_by(**groups).aggregate(**flags)
        for i in range(len(leaves)):
            met = [keys[name] for name in (f"v{i}", f"a{i}") if name in flags]
            counts[f"v{i}"] = keys.count(where=all_of(met))
        return keys, counts

    def row_env(self, data) -> RowEnv:
        """Columns of `data` for row expressions; joined columns are named table__column."""
        return RowEnv(
            column=lambda t, c: data[c] if t is None else data[f"{t}__{c}"],
            placeholders=tuple(self.settings.placeholders),
            table=data,
        )

    def measure_joins(self, table: str, leaves: list[Leaf], slice_: Slice) -> list[str]:
        joins = set()
        for leaf in leaves:
            joins |= self.catalog.kpis[leaf.ref.name].tables - {table}
        for dimension in slice_.dimensions():
            joined, _ = DIMENSIONS[table][dimension]
            if joined:
                joins.add(joined)
        return sorted(joins)

    def joined_table(self, table: str, joins: list[str]):
        """The table with its many-to-one joins, joined columns named table__column."""
        data = self.extract.table(table)
        for joined in joins:
            other = self.extract.table(joined)
            other = other.select(**{f"{joined}__{c}": other[c] for c in other.columns})
            keys = JOINS[table][joined]
            data = data.left_join(other, [data[k] == other[f"{joined}__{k}"] for k in keys])
        return data

    def empty_value(self, part: dict, leaf: Leaf) -> Decimal | None:
        """The value of a leaf over no rows: 0 for counts and sums, n/a for a mean."""
        if leaf.stat == "n":
            return Decimal(0)
        if leaf.stat != "value":
            return None
        additive = part["value"].name in ("count", "count_distinct", "sum")
        return Decimal(0) if additive else None

    def leaf_result(self, rows: dict, column: str, empty: Decimal | None) -> Result:
        members = {member: to_decimal(values[column]) for member, values in rows.items()}
        members = {m: (empty if v is None and empty is not None else v) for m, v in members.items()}
        return Result(members, None, empty)

    def aggregate(self, data, aggregates: dict, slice_: Slice, dimension) -> dict:
        """Run one aggregate query, grouped by the breakdown member if any."""
        if slice_.by:
            expr = data.group_by(member=dimension(slice_.by)).aggregate(**aggregates)
        else:
            expr = data.aggregate(**aggregates)
        return self.rows_by_member(self.execute(expr).to_pylist(), slice_)

    def rows_by_member(self, table: list[dict], slice_: Slice) -> dict:
        if slice_.by:
            return {member_of(row.pop("member")): row for row in table}
        return {None: table[0]} if table else {None: {}}

    def slice_condition(self, slice_: Slice, dimension):
        """Rows whose members pass the filters (the blank member is a null member)."""
        condition = ibis.literal(True)
        for name, wanted, exclude in slice_.filters:
            column = dimension(name)
            keys = [member_key(member) for member in wanted]
            present = [key for key in keys if key is not None]
            test = column.isin(present) if present else ibis.literal(False)
            if None in keys:
                test = test | column.isnull()
            if exclude:
                test = ~test.fill_null(False)
            condition = condition & test.fill_null(False)
        return condition

    # --- States ---------------------------------------------------------------------------

    def compute_states(self, leaves: list[Leaf], slice_: Slice) -> dict[Leaf, Result]:
        table = self.catalog.kpis[leaves[0].ref.name].get("table")
        data = self.extract.table(table)
        data = data.filter(self.slice_condition(slice_, table_members(table, self.row_env(data))))
        valued = [leaf for leaf in leaves if leaf.stat == "value"]
        if valued:
            # Only rows alive at some instant asked: no breakdown member made of zeros.
            instants = {alive_key(leaf, self.catalog): leaf for leaf in valued}
            data = data.filter(
                any_of([alive_at(data, one, self.catalog) for one in instants.values()])
            )
        data, filters = self.with_filter_columns(data, [leaf.ref for leaf in leaves])

        aggregates = {}
        for index, leaf in enumerate(leaves):
            if leaf.stat != "value":
                continue
            where = alive_at(data, leaf, self.catalog)
            if leaf.ref in filters:
                where = where & data[filters[leaf.ref]]
            aggregates[f"v{index}"] = data.count(where=where)

        dimension = table_members(table, self.row_env(data))
        rows = self.aggregate(data, aggregates, slice_, dimension) if aggregates else {}
        return {leaf: self.state_result(rows, f"v{i}", leaf) for i, leaf in enumerate(leaves)}

    def with_filter_columns(self, data, refs: list[Ref]):
        """Each distinct filter computed once per row, as a column.

        The same filter serves every period asked (a value and its comparisons); written
        inside each aggregate, a costly one (is_blank: trim and lower) would run per period.
        """
        env = self.row_env(data)
        columns, names = {}, {}
        for ref in dict.fromkeys(refs):
            parts = self.catalog.compile(ref)
            if "filter" in parts:
                names[ref] = f"kpisite_filter_{len(columns)}"
                columns[names[ref]] = parts["filter"].build(env).fill_null(False)
        return (data.mutate(**columns) if columns else data), names

    def state_result(self, rows: dict, column: str, leaf: Leaf) -> Result:
        if leaf.stat != "value":
            return Result(reason=self.na("mode_of_state"))
        return self.leaf_result(rows, column, Decimal(0))

    # --- Activity ---------------------------------------------------------------------------

    def compute_activity(self, leaves: list[Leaf], slice_: Slice) -> dict[Leaf, Result]:
        """Active, churned and activated contacts: one query over orders by contact."""
        flags, plans = {}, {}
        for leaf in leaves:
            kpi = self.catalog.kpis[leaf.ref.name]
            instants = activity_instants(kpi, leaf.period)
            plans[leaf] = [
                flags.setdefault((t, self.window(kpi)), f"f{len(flags)}") for t in instants
            ]

        kpis = [self.catalog.kpis[leaf.ref.name] for leaf in leaves]
        include = any(self.includes_interactions(kpi) for kpi in kpis)
        events = self.activity_events(include)
        windows = {name: activity_window(t, days) for (t, days), name in flags.items()}
        first = min(start for start, _ in windows.values())
        last = max(stop for _, stop in windows.values())
        events = events.filter((events.at >= utc(first)) & (events.at < utc(last)))
        by_contact = events.group_by("contact_id").aggregate(
            **{
                name: ((events.at >= utc(a)) & (events.at < utc(b))).any()
                for name, (a, b) in windows.items()
            }
        )
        by_contact, dimension = self.with_contact_dimensions(by_contact, slice_)

        aggregates = {}
        for index, leaf in enumerate(leaves):
            condition = activity_condition(
                self.catalog.kpis[leaf.ref.name], plans[leaf], by_contact
            )
            aggregates[f"v{index}"] = by_contact.count(where=condition)
        rows = self.aggregate(by_contact, aggregates, slice_, dimension)
        results = {leaf: self.activity_result(rows, f"v{i}", leaf) for i, leaf in enumerate(leaves)}
        for leaf in leaves:
            reason = self.window_before_data([windows[name] for name in plans[leaf]])
            if reason:
                results[leaf] = Result(reason=reason)
        return results

    def window_before_data(self, windows: list[tuple]) -> str | None:
        """The n/a reason when an activity window opens before the first day of data: its
        count would miss the activity before the extract starts and look like a real drop."""
        coverage = self.data_coverage()
        if coverage is None:
            return None
        first_day = datetime.combine(coverage.first_day, clock(), ZoneInfo(coverage.zone_name))
        if min(start for start, _ in windows) >= first_day:
            return None
        start = coverage.start_label("day")
        return self.na("window_before_data", start=start)

    def activity_result(self, rows: dict, column: str, leaf: Leaf) -> Result:
        if leaf.stat != "value":
            return Result(reason=self.na("mode_of_state"))
        return self.leaf_result(rows, column, Decimal(0))

    def activity_events(self, include_interactions: bool):
        """(contact_id, at) of every activity: completed orders, and interactions if asked."""
        orders = self.extract.table("orders")
        completed = (orders.status == "completed") & ~orders.is_test.fill_null(False)
        events = orders.filter(completed & orders.contact_id.notnull()).select(
            contact_id=orders.contact_id, at=orders.ordered_at
        )
        if include_interactions and self.extract.has("interactions"):
            talks = self.extract.table("interactions")
            events = events.union(
                talks.filter(talks.contact_id.notnull()).select(
                    contact_id=talks.contact_id, at=talks.occurred_at
                ),
                distinct=False,
            )
        return events

    def with_contact_dimensions(self, by_contact, slice_: Slice):
        """Join the contacts' attributes when the slice filters or breaks down by them; an
        active contact absent from the contacts table is the member "(sans contact)"."""
        if not slice_.dimensions():
            return by_contact, None
        contacts = self.extract.table("contacts")
        names = sorted({CONTACT_DIMENSIONS[d][1] for d in slice_.dimensions()})
        attributes = contacts.select(
            contacts__contact_id=contacts.contact_id,
            **{f"contacts__{n}": contacts[n] for n in names},
        )
        joined = by_contact.left_join(
            attributes, by_contact.contact_id == attributes.contacts__contact_id
        )
        members = contact_members(joined, tuple(self.settings.placeholders))
        return joined.filter(self.slice_condition(slice_, members)), members

    # --- Comparisons, series, breakdowns ------------------------------------------------------

    def comparison(self, current: Value, reference: Value, against: str) -> Comparison:
        kpi = self.catalog.get(current.kpi)
        delta = ratio = None
        if current.raw is not None and reference.raw is not None:
            delta = float(current.raw - reference.raw)
            if reference.raw != 0:
                ratio = float(current.raw / reference.raw - 1)
        improved = None
        if delta and kpi.direction:
            improved = (delta > 0) == (kpi.direction == "higher")
        settings = self.settings
        return Comparison(
            current,
            reference,
            against,
            delta,
            format_delta(delta, kpi.unit, settings.locale, settings.currency, kpi.format),
            ratio,
            format_ratio(ratio, settings.locale),
            improved,
        )

    def over_periods(self, names, periods: list[Period], filters, mode: str):
        """{name: [Value per period]}: every period in the same batch of queries."""
        check_mode(mode)
        refs = self.refs(names)
        slice_ = self.slice(refs, filters)
        if mode == "percent":
            raise CatalogError("mode 'percent' applies to breakdowns by a dimension, not series")
        if mode == "cumulative_mean":
            return self.cumulative_means(refs, periods, slice_)
        cells = [(ref, p) for ref in refs.values() for p in periods]
        results = self.cells(cells, slice_, mode)
        return {name: [results[(ref, p)][None] for p in periods] for name, ref in refs.items()}

    def cumulative_means(self, refs: dict[str, Ref], periods: list[Period], slice_: Slice):
        """Running sum / running count of the value column over buckets (not a mean of
        means: a bucket with many rows weighs more). A bucket outside the data is n/a
        and adds nothing to the running sums."""
        outside = {period: self.outside_reason(period) for period in periods}
        measured = {
            ref
            for ref in refs.values()
            if self.catalog.kpis[ref.name].kind == "measure"
            and self.catalog.kpis[ref.name].get("mean_of")
        }
        leaves = [
            Leaf(ref, p, stat)
            for ref in measured
            for p in periods
            if not outside[p]
            for stat in ("sum", "n")
        ]
        results = self.resolve(leaves, slice_)
        return {
            name: self.running_means(ref, periods, results, ref in measured, outside)
            for name, ref in refs.items()
        }

    def running_means(self, ref: Ref, periods, results, measured: bool, outside) -> list[Value]:
        values, total, count = [], Decimal(0), Decimal(0)
        kpi = self.catalog.kpis[ref.name]
        for period in periods:
            if not measured or outside[period]:
                reason = outside[period] or (self.na("no_mean_of", kpi=kpi.name))
                values.append(self.make_value(ref, period, None, reason, "cumulative_mean"))
                continue
            total += results[Leaf(ref, period, "sum")].get(None) or 0
            count += results[Leaf(ref, period, "n")].get(None) or 0
            raw = total / count if count else None
            reason = None if count else self.empty_reason(kpi)
            values.append(
                self.make_value(ref, period, raw, reason, "cumulative_mean", n=int(count))
            )
        return values

    def breakdown_by_time(self, names, period: Period, grain: str, mode: str, filters):
        buckets = period.buckets(grain)
        if mode == "percent":
            refs = self.refs(names)
            slice_ = self.slice(refs, filters)
            cells = [(ref, p) for ref in refs.values() for p in [*buckets, period]]
            results = self.cells(cells, slice_)
            rows = [(b.label, {n: results[(r, b)][None] for n, r in refs.items()}) for b in buckets]
            total = {n: results[(r, period)][None] for n, r in refs.items()}
            return Breakdown(
                grain, self.shares(rows, total), (TOTAL, self.whole(total)), mode, period
            )
        values = self.over_periods(names, buckets, filters, mode)
        rows = [(b.label, {n: values[n][i] for n in values}) for i, b in enumerate(buckets)]
        # The total of a running mean is the mean of every row of the period: the last
        # running value, computed directly.
        total = self.values(names, period, filters, "mean" if mode == "cumulative_mean" else mode)
        return Breakdown(grain, rows, (TOTAL, total), mode, period)

    def breakdown_by_member(self, names, period: Period, by, top, other, mode, filters):
        refs = self.refs(names)
        if filters and by in filters:
            raise CatalogError(f"breakdown by {by!r}: {by} is also a filter")
        slice_ = self.slice(refs, filters, by)
        value_mode = "count" if mode == "percent" else mode
        cells = [(ref, period) for ref in refs.values()]

        # Members are ranked by the first KPI's value in every mode, so that a mean or a
        # share shows the same top members as the counts; both in one batch of queries.
        batch = self.batch(cells, slice_, ["count", value_mode])
        first = next(iter(refs.values()))
        members = batch.members[(first, period)]
        kept = self.top_members(batch, first, period, top)

        # Values are made (and formatted) for the members shown only: a dimension may
        # have a hundred thousand members and a page shows ten.
        rows = [
            (
                member,
                {n: self.cell_value(batch, r, period, member, value_mode) for n, r in refs.items()},
            )
            for member in kept
        ]
        if other and len(members) > len(kept):
            rest = {**(filters or {}), by: {"not": kept}}
            rows.append((OTHER, self.values(list(refs), period, rest, value_mode)))
        total = self.values(list(refs), period, filters, value_mode)
        if mode == "percent":
            rows, total = self.shares(rows, total), self.whole(total)
        return Breakdown(by, rows, (TOTAL, total), mode, period)

    def top_members(self, batch: Batch, ref: Ref, period: Period, top: int | None) -> list:
        """The `top` members with the largest value of a KPI (all of them without `top`),
        n/a last, ties by label: ranked on the raw numbers, none formatted."""
        members = batch.members[(ref, period)]
        if not members:
            return []  # a period outside the data
        if self.catalog.kpis[ref.name].kind == "formula":
            raws = {m: self.raw(ref, period, batch.results, m, "count")[0] for m in members}
        else:
            # A leaf's value as evaluate() reads it, for every member at once.
            result = batch.results[Leaf(ref, period)]
            raws = dict.fromkeys(members) if result.reason else {m: result.get(m) for m in members}
        return rank_members(raws, top, self.member_labels)

    def shares(self, rows, total: dict[str, Value]):
        """Each row's value as a fraction of the total row's."""
        shared = []
        for label, values in rows:
            cells = {}
            for name, value in values.items():
                whole = total[name].raw
                raw = value.raw / whole if value.raw is not None and whole else None
                reason = value.reason or total[name].reason or self.na("zero_total")
                cells[name] = self.share_value(value, raw, None if raw is not None else reason)
            shared.append((label, cells))
        return shared

    def whole(self, total: dict[str, Value]) -> dict[str, Value]:
        """The total row in percent mode: 100 %, or n/a when the total is n/a or zero."""
        found = {}
        for name, value in total.items():
            raw = Decimal(1) if value.raw else None
            reason = None if raw else value.reason or self.na("zero_total")
            found[name] = self.share_value(value, raw, reason)
        return found

    def share_value(self, value: Value, raw: Decimal | None, reason: str | None) -> Value:
        formatted = format_value(raw, "percent", self.settings.locale)
        number = None if raw is None else float(raw)
        return Value(
            value.kpi, value.period, number, formatted, reason, "percent", value.label, raw
        )


# --- Helpers ----------------------------------------------------------------------------------


def first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else ""


def check_mode(mode: str) -> None:
    if mode not in MODES:
        raise CatalogError(with_hint(f"unknown mode {mode!r}", did_you_mean(mode, MODES)))


def reference_period(period: Period, against: str) -> Period:
    if against == "previous":
        return period.previous()
    if against == "last_year":
        return period.last_year()
    raise CatalogError(
        f"compare: unknown reference {against!r} (expected 'previous' or 'last_year')"
    )


def filter_entry(
    dimension: str, wanted, member: Callable[[Any], Member]
) -> tuple[str, tuple, bool]:
    """A filter as (dimension, members, exclude): "FR", ["FR", "BE"] or {"not": [...]};
    `member(value)` turns a value (a Member, None, a label) into the Member it selects."""
    exclude = False
    if isinstance(wanted, dict):
        if set(wanted) != {"not"}:
            raise CatalogError(f"filter {dimension}: expected a value, a list or {{'not': [...]}}")
        wanted, exclude = wanted["not"], True
    if not isinstance(wanted, list | tuple | set):
        wanted = [wanted]
    members = {member(w) for w in wanted}
    return dimension, tuple(sorted(members, key=Member.sort_key)), exclude


def group_leaves(leaves: list[Leaf], catalog: Catalog) -> dict[tuple, list[Leaf]]:
    """Leaves that one query can compute: same kind and table."""
    groups: dict[tuple, list[Leaf]] = {}
    for leaf in leaves:
        kpi = catalog.kpis[leaf.ref.name]
        groups.setdefault((kpi.kind, kpi.get("table")), []).append(leaf)
    return groups


def utc(instant):
    """An ibis timestamp literal in UTC, comparable with the extract's timestamp columns."""
    return ibis.literal(instant.astimezone(UTC), type="timestamp('UTC')")


def span_condition(spans):
    """Rows inside any requested period, so the query reads only those (pushdown).

    Periods are merged where they touch (a series' months make one range), but a month
    and the same month last year stay two ranges: the year between is not read.
    """
    by_time: dict[str, tuple] = {}
    for time, period in spans:
        key = str(time.get_name()) if hasattr(time, "get_name") else repr(time)
        column, ranges = by_time.setdefault(key, (time, []))
        ranges.append((period.start_utc, period.end_utc))
    condition = None
    for column, ranges in by_time.values():
        for start, end in merge_ranges(ranges):
            part = (column >= utc(start)) & (column < utc(end))
            condition = part if condition is None else condition | part
    return condition


def merge_ranges(ranges: list[tuple]) -> list[tuple]:
    merged: list[list] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [tuple(pair) for pair in merged]


def dimension_member(column, placeholders) -> Any:
    """A dimension's member for a row: its text trimmed, or null when blank (null, empty,
    whitespace or a placeholder, case-insensitive: what completeness counts as blank)."""
    text = column.cast("string").strip()
    blanks = [p.strip().lower() for p in placeholders] + [""]
    return (text.isnull() | text.lower().isin(blanks)).ifelse(ibis.null("string"), text)


def table_members(table: str, env: RowEnv):
    """name -> the member expression of a dimension of `table`. A dimension read through
    a join (a buyer's city) has its own member for rows the join finds nothing for (a
    guest order is "(sans contact)", not a contact whose city is blank)."""

    def member(name: str):
        joined, column = DIMENSIONS[table][name]
        value = dimension_member(env.column(joined, column), env.placeholders)
        if joined is None:
            return value
        key = JOINS[table][joined][0]
        return env.column(joined, key).isnull().ifelse(ibis.literal(NO_ROW_KEY + joined), value)

    return member


def row_flag(condition, env: RowEnv):
    """A row condition as a flag (true when no condition; null counts as false)."""
    return ibis.literal(True) if condition is None else condition.build(env).fill_null(False)


def all_of(conditions: list):
    found = conditions[0]
    for condition in conditions[1:]:
        found = found & condition
    return found


def count_of(results: dict, leaf: Leaf, member, mode: str) -> int | None:
    """How many values a mean or a deviation of a measure is over; None in other modes."""
    if mode not in ("mean", "std") or leaf not in results or results[leaf].reason:
        return None
    return int(results[leaf].get(member) or 0)


def value_column_unit(kpi: KpiDef) -> str:
    """The unit of a measure's mean_of column: currency for money, else a number."""
    source = str(kpi.get("mean_of") or "")
    table, _, column = source.rpartition(".")
    table = table or kpi.get("table")
    if table in schema.TABLES and column in schema.TABLES[table].column_names():
        return "currency" if schema.TABLES[table].column(column).kind == "money" else "number"
    return "number"


def alive_at(data, leaf: Leaf, catalog: Catalog):
    """Rows of a state KPI's table alive at its instant: created before, not yet deleted."""
    kpi = catalog.kpis[leaf.ref.name]
    instant = utc(instant_of(kpi, leaf.period))
    start, stop = data[kpi.get("valid_from")], data[kpi.get("valid_to")]
    return (start < instant) & (stop.isnull() | (stop >= instant))


def alive_key(leaf: Leaf, catalog: Catalog) -> tuple:
    kpi = catalog.kpis[leaf.ref.name]
    return kpi.get("valid_from"), kpi.get("valid_to"), instant_of(kpi, leaf.period)


def any_of(conditions: list):
    found = conditions[0]
    for condition in conditions[1:]:
        found = found | condition
    return found


def leaf_condition(leaf: Leaf, part: dict, env: RowEnv):
    """Rows of a leaf: its time in the leaf's period, and its filter."""
    time = part["time"].build(env)
    where = (time >= utc(leaf.period.start_utc)) & (time < utc(leaf.period.end_utc))
    if "filter" in part:
        where = where & part["filter"].build(env).fill_null(False)
    return where


def distinct_groups(leaves: list[Leaf], parts: dict, env: RowEnv) -> dict[tuple, list[Leaf]]:
    """Leaves that count distinct values of the same key, by key (built columns)."""
    groups: dict[tuple, list[Leaf]] = {}
    names: dict[tuple, tuple] = {}
    for leaf in leaves:
        value = parts[leaf.ref]["value"]
        if leaf.stat != "value" or value.name != "count_distinct":
            continue
        columns = tuple(arg.build(env) for arg in value.args)
        signature = tuple(repr(column) for column in columns)
        key = names.setdefault(signature, columns)
        groups.setdefault(key, []).append(leaf)
    return groups


def time_per_key(table: str, time_name: str, key) -> bool:
    """True when the time column comes from a table joined on columns of the key."""
    joined, _, _ = time_name.partition("__")
    keys = JOINS.get(table, {}).get(joined)
    names = {column.get_name() for column in key}
    return keys is not None and set(keys) <= names


def contact_members(table, placeholders: tuple[str, ...]):
    """name -> member expression of a contact dimension over contacts joined by contact_id."""

    def member(name: str):
        value = dimension_member(table[f"contacts__{CONTACT_DIMENSIONS[name][1]}"], placeholders)
        missing = table.contacts__contact_id.isnull()
        return missing.ifelse(ibis.literal(NO_ROW_KEY + "contacts"), value)

    return member


def measure_aggregate(part: dict, stat: str, env: RowEnv, where):
    if stat == "value":
        return part["value"].build(env)(where)
    column = part["mean_of"].build(env)
    if stat == "mean":
        # On a decimal column ibis keeps the column's scale: 66.60 for 66.5953...
        return column.cast("float64").mean(where=where)
    if stat == "std":
        # On a decimal column DuckDB keeps the column's scale (49.5 for 49.497...).
        return column.cast("float64").std(where=where, how="sample")
    if stat == "sum":
        return column.sum(where=where)
    return column.count(where=where)


def to_decimal(value) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, float):
        if value != value:  # NaN never reaches a page
            return None
        return Decimal(repr(value))
    return Decimal(value) if not isinstance(value, Decimal) else value


def period_identity(period: Period, zone: str) -> list:
    """What identifies a period in a cache key: a clipped one adds its days."""
    identity = [period.key, period.grain, zone]
    if not period.whole:
        identity += [period.first.isoformat(), period.end_date.isoformat()]
    return identity


def aware(instant):
    """A timestamp from the extract as an aware instant (naive ones are UTC)."""
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def member_of(key: str | None) -> Member:
    """The Member of a member column's value (see NO_ROW_KEY)."""
    if key is None:
        return BLANK
    if key.startswith(NO_ROW_KEY):
        return no_row(key.removeprefix(NO_ROW_KEY))
    return Member("value", key)


def member_key(member: Member) -> str | None:
    """The member column's value of a Member: the reverse of member_of."""
    if member.kind == "no_row":
        return NO_ROW_KEY + str(member.table)
    return member.value if member.kind == "value" else None


def joined_tables(kpidef: KpiDef, dimension: str) -> set[str]:
    """The tables a KPI reads a dimension through by a join (a buyer's city: contacts)."""
    found = set()
    for table in kpidef.tables:
        joined, _ = DIMENSIONS.get(table, {}).get(dimension, (None, None))
        if joined:
            found.add(joined)
    if kpidef.kind == "activity" and dimension in CONTACT_DIMENSIONS:
        found.add("contacts")
    return found


def dimension_source(kpidef: KpiDef, dimension: str) -> tuple[str, str] | None:
    """(table, column) holding a dimension of a KPI, from the catalog's dimension map;
    an activity KPI reads the contacts' attributes (its table, orders, has a country of
    its own)."""
    if kpidef.kind == "activity":
        found = CONTACT_DIMENSIONS.get(dimension)
        return ("contacts", found[1]) if found else None
    for table in sorted(kpidef.tables):
        found = DIMENSIONS.get(table, {}).get(dimension)
        if found:
            joined, column = found
            return joined or table, column
    return None


def rank_members(raws: dict[Any, Decimal | None], top: int | None, labels=None) -> list:
    """Members by decreasing value, n/a last, then by label (one per member); the first
    `top` of them. A numeric pass finds the value of the last one kept: only members up
    to it are labelled and sorted, since ties at that value need their labels."""
    known = {m: raw for m, raw in raws.items() if raw is not None}
    unknown = [m for m, raw in raws.items() if raw is None]
    if top is not None and top <= len(known):
        bound = heapq.nlargest(top, known.values())[-1]
        known = {m: raw for m, raw in known.items() if raw >= bound}
        unknown = []
    label = labeller(labels)
    if top is not None:
        ranked = heapq.nsmallest(top, known, key=lambda m: (-known[m], label(m)))
        return ranked + heapq.nsmallest(top - len(ranked), unknown, key=label)
    return sorted(known, key=lambda m: (-known[m], label(m))) + sorted(unknown, key=label)


def instant_of(kpi: KpiDef, period: Period):
    return period.start if kpi.get("at", "end") == "start" else period.end


def activity_instants(kpi: KpiDef, period: Period) -> list:
    if kpi.get("activity") == "active":
        return [instant_of(kpi, period)]
    return [period.start, period.end]


def activity_window(instant, days: int):
    """[instant - days, instant) in calendar days of the reporting zone, as UTC."""
    return window_start(instant, days).astimezone(UTC), instant.astimezone(UTC)


def activity_condition(kpi: KpiDef, flags: list[str], table):
    if kpi.get("activity") == "active":
        return table[flags[0]]
    at_start, at_end = table[flags[0]], table[flags[1]]
    if kpi.get("activity") == "churned":
        return at_start & ~at_end
    return ~at_start & at_end
