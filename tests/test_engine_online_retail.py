"""The standard catalog on examples/online-retail against independent DuckDB SQL written
directly on the raw UCI Online Retail II file (not on the mapped tables).

The raw file holds invoice lines with naive London wall-clock times; the project's
reporting zone is Europe/London, so a month is simply [first day, first day of next
month) in the raw times. An invoice is an order; "C..." invoices are cancellations.
"""

from __future__ import annotations

import functools
from decimal import Decimal

import duckdb
import pytest
from conftest import ROOT

from kpi.engine import Workbook
from kpi.project import Project

pytestmark = pytest.mark.slow

RAW = "online-retail-ii-2009-2010/online_retail_ii_2009_2010.parquet"
OCTOBER = ("2010-10-01", "2010-11-01")


@functools.cache
def book() -> Workbook:
    return Workbook(Project.load(ROOT / "examples" / "online-retail"), cache=False)


@pytest.fixture
def raw(shared_data):
    path = shared_data / RAW
    if not path.is_file():
        pytest.skip(f"{path} not found")
    con = duckdb.connect()
    con.execute(f"CREATE VIEW raw AS SELECT * FROM read_parquet('{path}')")
    # One row per invoice: its time, customer, and amount rounded to the cent.
    con.execute(
        """CREATE VIEW invoices AS SELECT Invoice, min(InvoiceDate) AS invoiced_at,
               any_value("Customer ID") AS customer,
               round(sum(Quantity * CAST(Price AS DECIMAL(18, 3))), 2) AS amount
           FROM raw GROUP BY Invoice"""
    )
    return con


def scalar(con, sql: str):
    return con.execute(sql).fetchone()[0]


def test_orders_revenue_basket(raw):
    start, end = OCTOBER
    completed = f"Invoice NOT LIKE 'C%' AND invoiced_at >= '{start}' AND invoiced_at < '{end}'"
    orders = scalar(raw, f"SELECT count(*) FROM invoices WHERE {completed}")
    revenue = scalar(raw, f"SELECT sum(amount) FROM invoices WHERE {completed}")

    values = book().values(["orders_count", "revenue", "average_basket"], "2010-10")
    assert values["orders_count"].raw == orders
    assert values["revenue"].raw == Decimal(str(revenue))
    assert values["average_basket"].raw == Decimal(str(revenue)) / orders


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
