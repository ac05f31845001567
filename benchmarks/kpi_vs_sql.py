"""Benchmark: the KPI engine against hand-written DuckDB SQL on a large sample.

Generates (once, in a child process) a sample extract of about 1M contacts with
kpi.sample, then in one process:

1. resolves every KPI of the standard catalog for one month with its two comparisons
   (previous month, same month last year) through `Workbook`, with no disk cache;
2. computes the same values with hand-written DuckDB SQL (one query per table);
3. checks that both agree, and prints both times, their ratio, the number of queries each
   ran, the time of a rebuild served by the disk cache, and the peak memory.

    .venv/bin/python benchmarks/kpi_vs_sql.py [--contacts 1000000] [--period 2026-10]
    .venv/bin/python benchmarks/kpi_vs_sql.py --data data --period 2026-03

The SQL side shares nothing with the engine but the sample: its period bounds are worked
out here with datetime and zoneinfo, not with kpi.periods, so a period bug would show as
a mismatch.

Goal: ratio at most 1.5, peak memory under 2 GB. Figures are recorded in
benchmarks/NOTES.md.
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pyarrow.parquet as pq

from kpi.engine import Workbook
from kpi.project import Project

ZONE = "Europe/Paris"
PLACEHOLDERS = ("", "n/a", "na", "-", "none", "null")


def main() -> int:
    from kpi.sample import MIN_CONTACTS

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--contacts",
        type=at_least(MIN_CONTACTS),
        default=1_000_000,
        help=f"contacts of the generated sample ({MIN_CONTACTS} or more)",
    )
    parser.add_argument("--period", default="2026-10", help="YYYY-MM, YYYY-Qn or YYYY")
    parser.add_argument("--data", type=Path, help="an existing extract folder to use")
    parser.add_argument(
        "--repeat", type=at_least(1), default=3, help="runs of each side, best kept (1 or more)"
    )
    args = parser.parse_args()

    spans = periods_of(args.period)  # an unreadable period fails before any work
    # Absolute: the engine reads the folder as a project root, the SQL as file paths.
    data = (args.data or ensure_sample(args.contacts, parser)).resolve()
    if not (data / "orders.parquet").is_file():
        parser.error(f"--data {args.data}: no orders.parquet in {data}")
    check_covered(data, args.period)
    rows = {
        path.stem: pq.ParquetFile(path).metadata.num_rows for path in sorted(data.glob("*.parquet"))
    }
    print("extract:", ", ".join(f"{name} {count:,}" for name, count in rows.items()))

    names = standard_names()
    engine_times, sql_times = [], []
    for _ in range(args.repeat):
        seconds, engine_values, queries = run_engine(data, names, args.period)
        engine_times.append(seconds)
        seconds, sql_values = run_sql(data, spans)
        sql_times.append(seconds)
    check_agreement(engine_values, sql_values)
    warm_seconds, warm_queries = run_warm(data, names, args.period)
    report(engine_times, sql_times, queries, warm_seconds, warm_queries, len(engine_values))
    return 0


def check_covered(data: Path, period: str) -> None:
    """Stop when the extract does not cover the period whole: the engine would answer
    n/a where the SQL counts zeros, and there would be nothing to compare."""
    from kpi.periods import PeriodError

    book = Workbook(project_for(data), cache=False)
    try:
        book.check_period(period)
    except PeriodError as error:
        raise SystemExit(f"--period {period}: {error}") from None
    finally:
        book.close()


def at_least(minimum: int):
    """An argparse type: a whole number, `minimum` or more (argparse says which option)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {minimum} or more, got {value}")
        return value

    return parse


def ensure_sample(contacts: int, parser: argparse.ArgumentParser) -> Path:
    """The sample of `contacts` contacts, generated once in a child process (its memory is
    not this process's peak); a failure is the child's last line, not a traceback."""
    folder = Path(tempfile.gettempdir()) / f"kpisite-bench-{contacts}"
    if not (folder / "orders.parquet").is_file():
        print(f"generating a sample of {contacts:,} contacts in {folder} ...", flush=True)
        code = f"from kpi.sample import write_sample; write_sample({str(folder)!r}, {contacts})"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if done.returncode != 0:
            lines = done.stderr.strip().splitlines() or ["no message"]
            parser.error(f"--contacts {contacts}: the sample was not generated: {lines[-1]}")
    return folder


def standard_names() -> list[str]:
    from kpi.catalog import Catalog

    catalog = Catalog.load()
    names = [name for name in catalog.names() if not catalog.get(name).params]
    return names + ["completeness(email)"]


# --- Engine ------------------------------------------------------------------------------


def project_for(data: Path, cache: Path | None = None) -> Project:
    # Without `cache`, the Workbooks run with cache=False and never write there; the path
    # stays outside the data folder all the same, as the settings require.
    options = {"data": str(data), "cache": str(cache or data.with_name(f".{data.name}-no-cache"))}
    return Project.from_options(data, options)


def run_engine(data: Path, names: list[str], period: str):
    start = time.perf_counter()
    book = Workbook(project_for(data), cache=False)
    found = book.compare_many(names, period, against=("previous", "last_year"))
    seconds = time.perf_counter() - start

    values = {}
    for name, comparisons in found.items():
        values[(name, "current")] = comparisons["previous"].current
        values[(name, "previous")] = comparisons["previous"].reference
        values[(name, "last_year")] = comparisons["last_year"].reference
    return seconds, values, book.stats.queries


def run_warm(data: Path, names: list[str], period: str):
    """A rebuild after a page edit: a fresh Workbook, every value from the disk cache."""
    with tempfile.TemporaryDirectory() as cache:
        project = project_for(data, Path(cache))
        Workbook(project).compare_many(names, period, against=("previous", "last_year"))
        start = time.perf_counter()
        book = Workbook(project)
        book.compare_many(names, period, against=("previous", "last_year"))
        return time.perf_counter() - start, book.stats.queries


# --- Hand-written SQL ------------------------------------------------------------------------


def instant(day: date, days_before: int = 0) -> str:
    """A DuckDB literal: local midnight (Paris) of `day`, `days_before` calendar days
    earlier, as a UTC instant."""
    local = datetime.combine(day - timedelta(days=days_before), datetime.min.time())
    moment = local.replace(tzinfo=ZoneInfo(ZONE)).astimezone(UTC)
    return f"TIMESTAMPTZ '{moment.isoformat()}'"


def months_later(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def periods_of(period: str) -> dict[str, tuple[date, date]]:
    """current/previous/last_year -> (first day, day after the last) of a month, a
    quarter or a year, worked out here rather than with kpi.periods."""
    patterns = {
        r"(\d{4})-(\d{2})": lambda y, m: (date(y, m, 1), 1),
        r"(\d{4})-Q([1-4])": lambda y, q: (date(y, 3 * q - 2, 1), 3),
        r"(\d{4})": lambda y: (date(y, 1, 1), 12),
    }
    for pattern, read in patterns.items():
        match = re.fullmatch(pattern, period)
        if match:
            first, months = read(*map(int, match.groups()))
            break
    else:
        raise SystemExit(f"--period {period}: expected YYYY-MM, YYYY-Qn or YYYY")
    starts = {"current": first, "previous": months_later(first, -months)}
    starts["last_year"] = months_later(first, -12)
    return {label: (start, months_later(start, months)) for label, start in starts.items()}


def run_sql(data: Path, spans: dict[str, tuple[date, date]]):
    start = time.perf_counter()
    con = duckdb.connect()
    for path in data.glob("*.parquet"):
        con.execute(f"CREATE VIEW {path.stem} AS SELECT * FROM read_parquet('{path}')")
    values = {}
    values.update(sql_orders(con, spans))
    values.update(sql_contacts(con, spans))
    values.update(sql_activity(con, spans))
    values.update(sql_campaigns(con, spans))
    values.update(sql_surveys(con, spans))
    add_formulas(values, spans)
    return time.perf_counter() - start, values


def one_row(con, sql: str) -> dict:
    cursor = con.execute(sql)
    columns = [d[0] for d in cursor.description]
    return dict(zip(columns, cursor.fetchone(), strict=True))


def sql_orders(con, spans) -> dict:
    parts = []
    for label, (s, e) in spans.items():
        inside = f"ordered_at >= {instant(s)} AND ordered_at < {instant(e)}"
        parts += [
            f'count(*) FILTER (WHERE {inside}) AS "orders_count|{label}"',
            f'coalesce(sum(total_amount) FILTER (WHERE {inside}), 0) AS "revenue|{label}"',
        ]
    row = one_row(
        con,
        f"SELECT {', '.join(parts)} FROM orders "
        "WHERE status = 'completed' AND NOT coalesce(is_test, false) "
        f"AND ({any_period('ordered_at', spans)})",
    )
    return split(row)


def sql_contacts(con, spans) -> dict:
    blank = (
        "email IS NULL OR lower(trim(email)) IN (" + ", ".join(f"'{p}'" for p in PLACEHOLDERS) + ")"
    )
    parts = []
    for label, (_, e) in spans.items():
        alive = f"created_at < {instant(e)} AND (deleted_at IS NULL OR deleted_at >= {instant(e)})"
        parts += [
            f'count(*) FILTER (WHERE {alive}) AS "contacts_existing|{label}"',
            f'count(*) FILTER (WHERE {alive} AND NOT ({blank})) AS "filled|{label}"',
        ]
    return split(one_row(con, f"SELECT {', '.join(parts)} FROM contacts"))


def sql_activity(con, spans) -> dict:
    instants = sorted({t for s, e in spans.values() for t in (s, e)})
    flags = ", ".join(
        f"bool_or(ordered_at >= {instant(t, 90)} AND ordered_at < {instant(t)}) AS f{i}"
        for i, t in enumerate(instants)
    )
    index = {t: f"f{i}" for i, t in enumerate(instants)}
    parts = []
    for label, (s, e) in spans.items():
        fs, fe = index[s], index[e]
        parts += [
            f'count(*) FILTER (WHERE {fe}) AS "active_customers|{label}"',
            f'count(*) FILTER (WHERE {fs}) AS "active_customers_start|{label}"',
            f'count(*) FILTER (WHERE {fs} AND NOT {fe}) AS "churned|{label}"',
            f'count(*) FILTER (WHERE {fe} AND NOT {fs}) AS "activated|{label}"',
        ]
    sql = (
        f"WITH by_contact AS (SELECT contact_id, {flags} FROM orders "
        "WHERE status = 'completed' AND NOT coalesce(is_test, false) "
        "AND contact_id IS NOT NULL "
        f"AND ordered_at >= {instant(instants[0], 90)} "
        f"AND ordered_at < {instant(instants[-1])} GROUP BY contact_id) "
        f"SELECT {', '.join(parts)} FROM by_contact"
    )
    return split(one_row(con, sql))


def sql_campaigns(con, spans) -> dict:
    # Campaigns sent in the periods first (a few rows), then one row per (campaign,
    # contact) pair of their events with a flag per kind of event. Responses count only
    # for delivered pairs.
    kinds = {
        "delivered": "event_type = 'delivered'",
        "human_opens": "event_type = 'open' AND NOT coalesce(is_machine_open, false)",
        "clickers": "event_type = 'click'",
        "responsive_contacts": "event_type IN ('click', 'reply')",
        "unsubscribes": "event_type = 'unsubscribe'",
    }
    flags = ", ".join(f"bool_or({condition}) AS {name}" for name, condition in kinds.items())
    # A campaign falls in one span: the previous year of a year is also its last year.
    tags = {}
    for label, span in spans.items():
        tags.setdefault(span, label)
    period = " ".join(
        f"WHEN sent_at >= {instant(s)} AND sent_at < {instant(e)} THEN '{tag}'"
        for (s, e), tag in tags.items()
    )
    parts = [
        f"count(*) FILTER (WHERE period = '{tags[span]}' AND {name}"
        f'{"" if name == "delivered" else " AND delivered"}) AS "{name}|{label}"'
        for label, span in spans.items()
        for name in kinds
    ]
    sql = (
        f"WITH sent AS (SELECT campaign_id, CASE {period} END AS period FROM campaigns "
        f"WHERE {any_period('sent_at', spans)}), "
        f"pairs AS (SELECT ev.campaign_id, ev.contact_id, any_value(sent.period) AS period, "
        f"{flags} FROM campaign_events ev JOIN sent ON sent.campaign_id = ev.campaign_id "
        "WHERE ev.contact_id IS NOT NULL GROUP BY 1, 2) "
        f"SELECT {', '.join(parts)} FROM pairs"
    )
    return split(one_row(con, sql))


def sql_surveys(con, spans) -> dict:
    parts = []
    for label, (s, e) in spans.items():
        inside = f"r.submitted_at >= {instant(s)} AND r.submitted_at < {instant(e)}"
        parts += [
            f"count(*) FILTER (WHERE {inside} AND q.kind = 'nps' AND r.score IS NOT NULL) "
            f'AS "nps_responses|{label}"',
            f"count(*) FILTER (WHERE {inside} AND q.kind = 'nps' AND r.score >= 9) "
            f'AS "nps_promoters|{label}"',
            f"count(*) FILTER (WHERE {inside} AND q.kind = 'nps' AND r.score <= 6) "
            f'AS "nps_detractors|{label}"',
            f"avg(r.score) FILTER (WHERE {inside} AND q.kind = 'ces') AS \"ces|{label}\"",
            f"count(*) FILTER (WHERE {inside} AND q.kind = 'ces' AND r.score IS NOT NULL) "
            f'AS "ces_responses|{label}"',
            f"count(*) FILTER (WHERE {inside} AND q.kind = 'csat' AND r.score IS NOT NULL) "
            f'AS "csat_responses|{label}"',
            f"count(*) FILTER (WHERE {inside} AND q.kind = 'csat' AND r.score >= 4) "
            f'AS "csat_satisfied|{label}"',
        ]
    sql = (
        f"SELECT {', '.join(parts)} FROM survey_responses r JOIN survey_questions q "
        "ON q.survey_id = r.survey_id AND q.question_id = r.question_id "
        f"WHERE {any_period('r.submitted_at', spans)}"
    )
    return split(one_row(con, sql))


def any_period(column: str, spans) -> str:
    return " OR ".join(
        f"({column} >= {instant(s)} AND {column} < {instant(e)})" for s, e in spans.values()
    )


def split(row: dict) -> dict:
    found = {}
    for key, value in row.items():
        name, label = key.split("|")
        found[(name, label)] = None if value is None else Decimal(str(value))
    return found


def add_formulas(values: dict, spans) -> None:
    def ratio(a, b):
        return None if a is None or b in (None, 0) else a / b

    for label in spans:
        v = {name: value for (name, lab), value in values.items() if lab == label}
        inactive = v["contacts_existing"] - v["active_customers_start"]
        nps = ratio(100 * (v["nps_promoters"] - v["nps_detractors"]), v["nps_responses"])
        formulas = {
            "average_basket": ratio(v["revenue"], v["orders_count"]),
            "active_rate": ratio(v["active_customers"], v["contacts_existing"]),
            "churn_rate": ratio(v["churned"], v["active_customers_start"]),
            "inactive_contacts_start": inactive,
            "activation_rate": ratio(v["activated"], inactive),
            "revenue_per_contact": ratio(v["revenue"], v["contacts_existing"]),
            "filled_contacts": v["filled"],
            "completeness(email)": ratio(v["filled"], v["contacts_existing"]),
            "open_rate": ratio(v["human_opens"], v["delivered"]),
            "click_rate": ratio(v["clickers"], v["delivered"]),
            "responsiveness_rate": ratio(v["responsive_contacts"], v["delivered"]),
            "unsubscribe_rate": ratio(v["unsubscribes"], v["delivered"]),
            "nps": None if nps is None else nps.quantize(Decimal(1), rounding="ROUND_HALF_UP"),
            "csat": ratio(v["csat_satisfied"], v["csat_responses"]),
        }
        for name, value in formulas.items():
            values[(name, label)] = value


# --- Report ------------------------------------------------------------------------------------


def check_agreement(engine: dict, sql: dict) -> None:
    """Every engine value equals the SQL one, except the cells the engine leaves n/a
    because the data does not reach back far enough (a reference period or an activity
    window before the extract starts): the SQL counts zeros there, by design."""
    wrong, skipped = [], 0
    for key, found in engine.items():
        value, expected = found.raw, sql.get(key)
        if value is None and "données" in (found.reason or ""):
            skipped += 1
        elif key not in sql:
            wrong.append(f"{key}: no SQL value")
        elif (value is None) != (expected is None) or (
            value is not None
            and abs(float(value) - float(expected)) > 1e-9 * max(1.0, abs(float(expected)))
        ):
            wrong.append(f"{key}: engine {value} != SQL {expected}")
    if wrong:
        print("MISMATCH:\n  " + "\n  ".join(wrong))
        raise SystemExit(1)
    print(f"values agree: {len(engine) - skipped} (KPI, period) cells", end="")
    print(f", {skipped} before the data not compared" if skipped else "")


def report(engine_times, sql_times, queries, warm_seconds, warm_queries, cells) -> None:
    engine, sql = min(engine_times), min(sql_times)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    print(f"engine: {engine:.3f} s ({queries} queries, {cells} cells)")
    print(f"hand-written SQL: {sql:.3f} s (5 queries)")
    print(f"ratio engine / SQL: {engine / sql:.2f} (goal <= 1.5)")
    print(f"rebuild from the disk cache: {warm_seconds:.3f} s ({warm_queries} queries)")
    print(f"peak memory: {peak:.0f} MiB (goal < 2048)")


if __name__ == "__main__":
    sys.exit(main())
