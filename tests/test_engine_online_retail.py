"""The standard catalog on examples/online-retail against values computed independently
from the raw UCI Online Retail II file (not from the mapped tables, not with its SQL).

The orders are recomputed in Python from the raw lines read with pyarrow: an invoice's
total is the sum over its lines of Quantity * Price (exact decimals, rounded to the penny
per invoice), its time the first of its lines' naive London wall-clock times, converted to
UTC with zoneinfo and compared with the period's bounds (London midnights, as UTC). The
status follows the spec, not the mapping's SQL: an invoice whose number starts with "C"
is a cancelled order, every other invoice (including the three "A" bad-debt adjustments,
which have negative totals) a completed order. The contact KPIs are checked with DuckDB
SQL on the raw lines.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import duckdb
import pyarrow.parquet as pq
import pytest
from conftest import ROOT

from kpi.engine import Workbook
from kpi.project import Project

pytestmark = pytest.mark.slow

RAW = "online-retail-ii-2009-2010/online_retail_ii_2009_2010.parquet"
LONDON = ZoneInfo("Europe/London")


@functools.cache
def book() -> Workbook:
    return Workbook(Project.load(ROOT / "examples" / "online-retail"), cache=False)


@pytest.fixture
def raw_path(shared_data):
    path = shared_data / RAW
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return path


@pytest.fixture
def raw(raw_path):
    con = duckdb.connect()
    con.execute(f"CREATE VIEW raw AS SELECT * FROM read_parquet('{raw_path}')")
    # One row per invoice: its first line's time and its customer.
    con.execute(
        """CREATE VIEW invoices AS SELECT Invoice, min(InvoiceDate) AS invoiced_at,
               any_value("Customer ID") AS customer
           FROM raw GROUP BY Invoice"""
    )
    return con


def scalar(con, sql: str):
    return con.execute(sql).fetchone()[0]


@dataclass
class Invoice:
    number: str
    first_line: datetime  # naive London wall-clock time
    country: str
    total: Decimal = Decimal(0)

    @property
    def instant(self) -> datetime:
        return self.first_line.replace(tzinfo=LONDON).astimezone(UTC)

    @property
    def completed(self) -> bool:
        return not self.number.startswith("C")


@functools.cache
def invoices(path) -> dict[str, Invoice]:
    """Every invoice of the raw file, built line by line in Python."""
    table = pq.read_table(path, columns=["Invoice", "Quantity", "Price", "InvoiceDate", "Country"])
    found: dict[str, Invoice] = {}
    for number, quantity, price, when, country in zip(
        *(table.column(name).to_pylist() for name in table.column_names), strict=True
    ):
        when = when.to_pydatetime() if hasattr(when, "to_pydatetime") else when
        invoice = found.get(number)
        if invoice is None:
            invoice = found[number] = Invoice(number, when, country)
        invoice.first_line = min(invoice.first_line, when)
        # Prices have at most 3 decimals: their shortest repr is exact.
        invoice.total += quantity * Decimal(repr(price))
    for invoice in found.values():
        invoice.total = invoice.total.quantize(Decimal("0.01"), ROUND_HALF_UP)
    return found


def london(day: str) -> datetime:
    """Midnight of a London calendar day, as a UTC instant."""
    return datetime.fromisoformat(day).replace(tzinfo=LONDON).astimezone(UTC)


def completed_in(path, first_day: str, end_day: str) -> list[Invoice]:
    start, end = london(first_day), london(end_day)
    return [i for i in invoices(path).values() if i.completed and start <= i.instant < end]


# 2010-W43 is Monday 25 to Sunday 31 October 2010; London left BST (UTC+1) for GMT at
# 02:00 on the 31st, so the week lasts 169 hours.
PERIODS = [
    ("2010-10", "2010-10-01", "2010-11-01"),
    ("2010-Q3", "2010-07-01", "2010-10-01"),
    ("2010-W43", "2010-10-25", "2010-11-01"),
]


@pytest.mark.parametrize(("period", "first_day", "end_day"), PERIODS)
def test_orders_revenue_basket(raw_path, period, first_day, end_day):
    assert (london(end_day) - london(first_day)).total_seconds() == {
        "2010-10": (31 * 24 + 1) * 3600,
        "2010-Q3": 92 * 24 * 3600,
        "2010-W43": (7 * 24 + 1) * 3600,
    }[period]
    completed = completed_in(raw_path, first_day, end_day)
    revenue = sum(invoice.total for invoice in completed)

    values = book().values(["orders_count", "revenue", "average_basket"], period)

    assert values["orders_count"].raw == len(completed)
    assert values["revenue"].raw == revenue
    assert values["average_basket"].raw == revenue / len(completed)


def test_bad_debt_adjustments_are_completed_orders_with_negative_totals(raw_path):
    # The spec: every invoice not starting with C is a completed order, "A" ones too.
    adjustments = {n: i for n, i in invoices(raw_path).items() if n.startswith("A")}

    assert {n: (i.completed, i.total) for n, i in adjustments.items()} == {
        "A506401": (True, Decimal("-53594.36")),
        "A516228": (True, Decimal("-44031.79")),
        "A528059": (True, Decimal("-38925.87")),
    }
    october = book().values(["orders_count", "revenue"], "2010-10")
    without = [i for i in completed_in(raw_path, "2010-10-01", "2010-11-01") if i.number[0] != "A"]
    assert october["orders_count"].raw == len(without) + 1  # A528059, 2010-10-20
    assert october["revenue"].raw == sum(i.total for i in without) - Decimal("38925.87")


# The invoice's country (the customer's, in the UCI file) as ISO 3166-1 alpha-2.
ISO = {
    "United Kingdom": "GB", "EIRE": "IE", "Germany": "DE", "France": "FR",
    "Netherlands": "NL", "Spain": "ES", "Switzerland": "CH", "Portugal": "PT",
    "Belgium": "BE", "Sweden": "SE", "Italy": "IT", "Australia": "AU", "Cyprus": "CY",
    "Austria": "AT", "Greece": "GR", "United Arab Emirates": "AE", "Denmark": "DK",
    "Norway": "NO", "Finland": "FI", "USA": "US", "Japan": "JP", "Poland": "PL",
    "Malta": "MT", "Lithuania": "LT", "Singapore": "SG", "RSA": "ZA", "Bahrain": "BH",
    "Canada": "CA", "Hong Kong": "HK", "Thailand": "TH", "Israel": "IL", "Iceland": "IS",
    "Korea": "KR", "Brazil": "BR", "Bermuda": "BM", "Nigeria": "NG", "Lebanon": "LB",
}  # fmt: skip


def test_orders_count_by_country(raw_path):
    expected = Counter(
        ISO.get(i.country) for i in completed_in(raw_path, "2010-10-01", "2010-11-01")
    )

    breakdown = book().breakdown(["orders_count"], "2010-10", "country_code", top=None)

    found = {str(label): values["orders_count"].raw for label, values in breakdown.rows}
    # A country whose October invoices were all cancelled is a member with 0 orders.
    found = {label: count for label, count in found.items() if count != 0}
    assert found == {
        "(non renseigné)" if code is None else code: count for code, count in expected.items()
    }
    assert breakdown.total[1]["orders_count"].raw == expected.total()


def test_contacts_activity_churn_activation(raw):
    # Contacts: distinct customers, created at their first invoice (cancellations too).
    existing = scalar(
        raw,
        """SELECT count(*) FROM (SELECT "Customer ID", min(InvoiceDate) AS created
           FROM raw WHERE "Customer ID" IS NOT NULL GROUP BY 1) WHERE created < '2010-11-01'""",
    )

    def active(window_start: str, instant: str) -> set:
        rows = raw.execute(
            f"""SELECT DISTINCT customer FROM invoices WHERE Invoice NOT LIKE 'C%'
                AND customer IS NOT NULL
                AND invoiced_at >= '{window_start}' AND invoiced_at < '{instant}'"""
        ).fetchall()
        return {row[0] for row in rows}

    # 90 calendar days before 1 Nov 2010 is 3 Aug; before 1 Oct 2010 it is 3 Jul.
    at_end, at_start = active("2010-08-03", "2010-11-01"), active("2010-07-03", "2010-10-01")
    names = ["contacts_existing", "active_customers", "active_customers_start", "churned"]
    names += ["activated", "active_rate", "churn_rate", "activation_rate"]
    values = book().values(names, "2010-10")

    assert values["contacts_existing"].raw == existing
    assert values["active_customers"].raw == len(at_end)
    assert values["active_customers_start"].raw == len(at_start)
    assert values["churned"].raw == len(at_start - at_end)
    assert values["activated"].raw == len(at_end - at_start)
    assert values["active_rate"].raw == Decimal(len(at_end)) / existing
    assert values["churn_rate"].raw == Decimal(len(at_start - at_end)) / len(at_start)
    assert values["activation_rate"].raw == Decimal(len(at_end - at_start)) / (
        existing - len(at_start)
    )


def test_tables_the_extract_lacks_are_na(raw):
    assert book().value("open_rate", "2010-10").reason == (
        "n/a : pas de table campaign_events dans l'extrait"
    )


def test_an_activity_window_opening_before_the_data_is_na(raw_path):
    # The file starts on 1 December 2009. Active customers at the end of January 2010
    # look back 90 days to 3 November 2009: a partial window, so n/a, not a low count.
    # At the end of March 2010 the window opens on 1 January 2010: a real value.
    workbook = book()

    january = workbook.value("active_customers", "2010-01")
    # Churn in February needs the active customers at 1 February: window from 3 November.
    churn = workbook.value("churn_rate", "2010-02")
    march = workbook.value("active_customers", "2010-03")

    reason = "n/a : la fenêtre d'activité commence avant les données (début : 1er décembre 2009)"
    assert (january.value, january.reason) == (None, reason)
    assert churn.value is None and "la fenêtre d'activité commence avant" in churn.reason
    assert march.value is not None and march.reason is None


def first_and_last_days(raw_path) -> tuple[str, str]:
    """The first and last invoice days of the raw file (London wall-clock dates)."""
    con = duckdb.connect()
    query = f"SELECT min(InvoiceDate)::DATE, max(InvoiceDate)::DATE FROM read_parquet('{raw_path}')"
    first, last = con.execute(query).fetchone()
    return first.isoformat(), last.isoformat()


def test_a_period_outside_the_data_is_na_not_zero(raw_path):
    # The raw file runs from 2009-12-01 to 2010-12-09: nothing can be said of October
    # 2026, for a measure, a state or an activity count alike.
    first, last = first_and_last_days(raw_path)
    span = f"du {first[8:]}/{first[5:7]}/{first[:4]} au {last[8:]}/{last[5:7]}/{last[:4]}"
    values = book().values(["revenue", "contacts_existing", "active_customers"], "2026-10")
    for value in values.values():
        assert (value.value, value.formatted) == (None, "n/a")
        assert value.reason == f"n/a : période 2026-10 hors des données ({span})"


def test_no_complete_year_in_the_data(raw_path):
    # Only December 2009 of 2009 and up to 9 December of 2010: no whole year.
    from kpi.periods import PeriodError

    first, last = first_and_last_days(raw_path)
    with pytest.raises(PeriodError) as default:
        book().default_period("year")
    assert str(default.value) == f"no complete year in the data (from {first} to {last})"
    with pytest.raises(PeriodError) as year:
        book().check_period("2010")
    assert str(year.value) == (
        f"period 2010: not complete in the data (the extract ends on {last}; "
        f"no complete year in the data (from {first} to {last}))"
    )
