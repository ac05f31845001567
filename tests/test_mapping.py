"""Declarative mappings: real exports load through the examples' configuration only.

Every count is checked against plain DuckDB SQL on the raw files, written independently of
the mapping; time zones are checked with Python's zoneinfo, not with DuckDB.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import duckdb
import pytest
from conftest import ROOT

from kpi.contract import check_project
from kpi.errors import ConfigError
from kpi.extract import Extract, MissingTable
from kpi.project import Project
from site_builder.cli import main

RETAIL = "online-retail-ii-2009-2010/online_retail_ii_2009_2010.parquet"
LEADS = "olist-marketing-funnel/olist_marketing_qualified_leads_dataset.csv"
DEALS = "olist-marketing-funnel/olist_closed_deals_dataset.csv"
SALES = "olist-8k-orders-sample/olist_orders_dataset.csv"
SALE_ITEMS = "olist-8k-orders-sample/olist_order_items_dataset.csv"


def scalar(extract_table_expr):
    return extract_table_expr.to_pyarrow().as_py()


def wall_clock_to_utc(naive: datetime, zone: str) -> datetime:
    return naive.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


@pytest.fixture
def retail(shared_data, monkeypatch):
    monkeypatch.setenv("KPISITE_SHARED_DATA", str(shared_data))
    extract = Extract(Project.load(ROOT / "examples" / "online-retail"))
    raw = duckdb.connect()
    raw.execute(f"CREATE VIEW raw AS SELECT * FROM '{shared_data / RETAIL}'")
    return extract, lambda query: raw.execute(query).fetchone()


@pytest.fixture
def funnel(shared_data, monkeypatch):
    monkeypatch.setenv("KPISITE_SHARED_DATA", str(shared_data))
    extract = Extract(Project.load(ROOT / "examples" / "olist-funnel"))
    raw = duckdb.connect()
    raw.execute(
        f"CREATE VIEW leads AS SELECT * FROM read_csv('{shared_data / LEADS}', all_varchar = true)"
    )
    raw.execute(
        f"CREATE VIEW deals AS SELECT * FROM read_csv('{shared_data / DEALS}', all_varchar = true)"
    )
    raw.execute(f"CREATE VIEW sales AS SELECT * FROM read_csv('{shared_data / SALES}')")
    raw.execute(f"CREATE VIEW items AS SELECT * FROM read_csv('{shared_data / SALE_ITEMS}')")
    return extract, lambda query: raw.execute(query).fetchone()


def test_online_retail_orders_and_cancellations(retail):
    extract, raw = retail
    orders = extract.table("orders")

    invoices, cancelled, guests = raw(
        "SELECT count(DISTINCT Invoice), count(DISTINCT Invoice) FILTER (WHERE Invoice[1] = 'C'), "
        'count(DISTINCT Invoice) FILTER (WHERE "Customer ID" IS NULL) FROM raw'
    )

    assert invoices == 28816
    assert scalar(orders.count()) == invoices
    assert scalar(orders.filter(orders.status == "cancelled").count()) == cancelled
    assert scalar(orders.filter(orders.contact_id.isnull()).count()) == guests
    assert scalar(orders.currency.nunique()) == 1


def test_online_retail_completed_revenue(retail):
    extract, raw = retail
    orders = extract.table("orders")

    # Plain float arithmetic on the raw lines; the mapping sums exact decimals per invoice.
    (expected,) = raw("SELECT sum(Quantity * Price) FROM raw WHERE Invoice NOT LIKE 'C%'")
    revenue = scalar(orders.filter(orders.status == "completed").total_amount.sum())

    assert float(revenue) == pytest.approx(expected, abs=0.05)


def test_online_retail_contacts_are_integer_strings(retail):
    extract, raw = retail
    contacts = extract.table("contacts")

    (customers,) = raw('SELECT count(DISTINCT "Customer ID") FROM raw')
    ids = contacts.filter(contacts.contact_id == "12346").count()
    floats = contacts.filter(contacts.contact_id.contains(".")).count()

    assert customers == 4383
    assert scalar(contacts.count()) == customers
    assert scalar(ids) == 1
    assert scalar(floats) == 0


def test_online_retail_contact_created_at_its_first_invoice_in_london_time(retail):
    extract, raw = retail
    # A customer whose first invoice is in British Summer Time (UTC+1).
    customer, first, country = raw(
        'SELECT CAST("Customer ID" AS BIGINT)::VARCHAR, min(InvoiceDate), '
        'arg_min(Country, InvoiceDate) FROM raw WHERE "Customer ID" IS NOT NULL '
        'GROUP BY "Customer ID" HAVING month(min(InvoiceDate)) = 7 '
        "AND arg_min(Country, InvoiceDate) = 'United Kingdom' ORDER BY 1 LIMIT 1"
    )
    contacts = extract.table("contacts")

    row = contacts.filter(contacts.contact_id == customer).to_pyarrow().to_pylist()[0]

    assert row["created_at"] == wall_clock_to_utc(first, "Europe/London")
    assert row["created_at"].hour == first.hour - 1
    assert country == "United Kingdom" and row["country_code"] == "GB"


def test_online_retail_order_lines_match_the_raw_lines(retail):
    extract, raw = retail
    lines = extract.table("order_lines")

    (count,) = raw("SELECT count(*) FROM raw")

    assert scalar(lines.count()) == count
    assert (
        scalar(lines.line_no.max())
        == raw("SELECT max(n) FROM (SELECT count(*) n FROM raw GROUP BY Invoice)")[0]
    )


def test_online_retail_orders_link_to_contacts_without_orphans(retail):
    extract, _ = retail

    report = check_project(extract.project, extract)

    assert report.tables == ["contacts", "order_lines", "orders"]
    assert report.problems == []


def test_olist_funnel_leads_become_contacts_and_won_deals_customers(funnel):
    extract, raw = funnel
    contacts = extract.table("contacts")
    orders = extract.table("orders")

    (leads,) = raw("SELECT count(DISTINCT mql_id) FROM leads")
    (won,) = raw(
        "SELECT count(DISTINCT mql_id) FROM deals WHERE mql_id IN (SELECT mql_id FROM leads)"
    )
    (organic,) = raw("SELECT count(*) FROM leads WHERE origin = 'organic_search'")

    assert (leads, won) == (8000, 842)
    assert scalar(contacts.count()) == leads
    assert scalar(contacts.filter(contacts.lifecycle_stage == "customer").count()) == won
    assert scalar(orders.filter(orders.channel == "phone").count()) == won
    assert scalar(contacts.filter(contacts.lead_source == "organic_search").count()) == organic


def test_olist_funnel_sales_of_won_sellers_are_their_orders(funnel):
    extract, raw = funnel
    orders = extract.table("orders")
    sales = orders.filter(orders.channel == "marketplace")

    count, cancelled, amount = raw(
        "SELECT count(DISTINCT (i.order_id, i.seller_id)), "
        "count(DISTINCT (i.order_id, i.seller_id)) FILTER (WHERE s.order_status IN "
        "('canceled', 'unavailable')), sum(i.price + i.freight_value) FILTER (WHERE "
        "s.order_status NOT IN ('canceled', 'unavailable')) "
        "FROM items i JOIN deals d ON i.seller_id = d.seller_id JOIN sales s USING (order_id)"
    )
    revenue = sales.filter(sales.status == "completed").total_amount.sum()

    assert count > 300
    assert scalar(sales.count()) == count
    assert scalar(orders.count()) == 842 + count
    assert scalar(sales.filter(sales.status == "cancelled").count()) == cancelled
    assert float(scalar(revenue)) == pytest.approx(amount, abs=0.005)


def test_olist_funnel_dates_are_day_first_in_sao_paulo_time(funnel):
    extract, raw = funnel
    lead = "dac32acd4db4c29c230538b72f8dd87d"
    deal = "5420aad7fec3549a85876ba1c529bd84"
    (first_contact,) = raw(f"SELECT first_contact_date FROM leads WHERE mql_id = '{lead}'")
    (won,) = raw(f"SELECT won_date FROM deals WHERE mql_id = '{deal}'")
    contacts = extract.table("contacts")
    orders = extract.table("orders")

    created = scalar(contacts.filter(contacts.contact_id == lead).created_at.max())
    ordered = scalar(orders.filter(orders.order_id == f"deal-{deal}").ordered_at.max())

    # "01-02-2018" is the 1st of February (Brazil was on summer time, UTC-2, then).
    assert first_contact == "01-02-2018"
    assert created == wall_clock_to_utc(datetime(2018, 2, 1), "America/Sao_Paulo")
    assert created == datetime(2018, 2, 1, 2, tzinfo=UTC)
    assert won == "26-02-2018 19:58"
    assert ordered == datetime(2018, 2, 26, 22, 58, tzinfo=UTC)


@pytest.mark.parametrize("example", ["online-retail", "olist-funnel"])
def test_check_passes_on_the_examples(shared_data, monkeypatch, capsys, example):
    monkeypatch.setenv("KPISITE_SHARED_DATA", str(shared_data))

    code = main(["check", "--project", str(ROOT / "examples" / example)])

    assert code == 0, capsys.readouterr().err
    assert "0 errors, 4 warnings" in capsys.readouterr().out  # campaigns and surveys absent


# --- the mapping machinery, on small raw files ---------------------------------------


def make_project(tmp_path, tables: str, sources: str | None = None) -> Project:
    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    (raw / "people.csv").write_text(
        "id;mail;signed_up\n7;a@example.com;31/03/2024 02:30\n8;b@example.com;27/10/2024 02:30\n",
        encoding="utf-8",
    )
    sources = sources or (
        "        people:\n          path: people.csv\n"
        "          options: {delim: ';', timestampformat: '%d/%m/%Y %H:%M', "
        "types: {id: VARCHAR, signed_up: TIMESTAMP}}\n"
    )
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: T\nplugins:\n  - kpisite:\n      raw_data: raw\n      sources:\n"
        + sources
        + "      tables:\n"
        + tables,
        encoding="utf-8",
    )
    return Project.load(tmp_path)


COLUMNS = (
    "        contacts:\n          from: people\n          timezone: Europe/Paris\n"
    "          columns: {contact_id: id, email: mail, created_at: signed_up,\n"
    "                    lifecycle_stage: \"'lead'\"}\n"
)


def test_column_mapping_with_zone_across_dst_changes(tmp_path):
    project = make_project(tmp_path, COLUMNS)
    extract = Extract(project)

    rows = extract.table("contacts").order_by("contact_id").to_pyarrow().to_pylist()

    # 02:30 on 2024-03-31 does not exist in Paris (clocks jump to 03:00); on 2024-10-27 it
    # happens twice. DuckDB reads both with the winter offset, UTC+1.
    assert [r["contact_id"] for r in rows] == ["7", "8"]
    assert rows[0]["created_at"] == datetime(2024, 3, 31, 1, 30, tzinfo=UTC)
    assert rows[1]["created_at"] == datetime(2024, 10, 27, 1, 30, tzinfo=UTC)
    assert rows[0]["lifecycle_stage"] == "lead" and rows[0]["phone"] is None
    assert check_project(project).problems == []


def test_fingerprint_covers_raw_files_and_the_definition(tmp_path):
    before = Extract(make_project(tmp_path, COLUMNS)).fingerprint("contacts")

    raw_file = tmp_path / "raw" / "people.csv"
    changed = make_project(tmp_path, COLUMNS.replace("'lead'", "'subscriber'"))
    after_definition = Extract(changed).fingerprint("contacts")
    raw_file.write_text(raw_file.read_text() + "9;c@example.com;01/01/2025 10:00\n")
    after_file = Extract(changed).fingerprint("contacts")

    assert len({before, after_definition, after_file}) == 3


@pytest.mark.parametrize(
    ("tables", "problem"),
    [
        (
            "        contacts:\n          sql: SELECT id AS contact_id, signed_up AS created_at "
            "FROM people\n",
            "table contacts, column created_at (mapping in mkdocs.yml:11, "
            "plugins.kpisite.tables.contacts.sql): naive timestamp(6) with no declared time "
            "zone (expected a timestamp with time zone (UTC)) (write UTC-aware timestamps, or "
            "declare the zone of the wall-clock times: plugins.kpisite.tables.contacts.timezone: "
            "Europe/Paris)",
        ),
        (
            # mkdocs.yml: line 16 is `lifecycle_stage: ...`.
            "        contacts:\n          from: people\n          timezone: Europe/Paris\n"
            "          columns:\n            contact_id: id\n            created_at: signed_up\n"
            "            lifecycle_stage: \"'prospect'\"\n",
            "table contacts, column lifecycle_stage (mapping in mkdocs.yml:16, "
            "plugins.kpisite.tables.contacts.columns.lifecycle_stage): 2 rows with unknown "
            "values: 'prospect' (expected one of: subscriber, lead, customer, other)",
        ),
    ],
    ids=["sql", "column"],
)
def test_a_mapped_table_s_contract_problem_names_its_mapping(tmp_path, tables, problem):
    project = make_project(tmp_path, tables)

    assert [str(p) for p in check_project(project).errors] == [problem]


def test_bad_sql_is_a_clean_check_error(tmp_path, capsys):
    make_project(tmp_path, "        contacts:\n          sql: SELECT nope FROM people\n")

    code = main(["check", "--project", str(tmp_path)])
    output = capsys.readouterr()

    # DuckDB's hint, on its next line, is kept; the line is the `sql` key's (line 11).
    assert code == 1
    assert output.err.splitlines()[-2:] == [
        "error: table contacts (mapping in mkdocs.yml:11, plugins.kpisite.tables.contacts.sql): "
        'Binder Error: Referenced column "nope" not found in FROM clause!',
        '    Candidate bindings: "signed_up"',
    ]


def test_missing_raw_file_is_an_error_for_check_and_missing_for_kpis(tmp_path):
    sources = "        people: {path: nowhere.csv}\n"
    project = make_project(tmp_path, COLUMNS, sources)

    report = check_project(project)

    assert [str(p) for p in report.errors] == [
        f"source people at mkdocs.yml:6: raw file not found: {tmp_path}/raw/nowhere.csv "
        f"(read by 1 table: contacts) (no such file in {tmp_path}/raw; check "
        "plugins.kpisite.raw_data, or set KPISITE_SHARED_DATA)"
    ]
    with pytest.raises(MissingTable, match="raw file not found"):
        Extract(project).table("contacts")


def test_an_empty_raw_file_is_said_empty_not_a_missing_column(tmp_path):
    project = make_project(tmp_path, COLUMNS)
    (tmp_path / "raw" / "people.csv").write_bytes(b"")

    report = check_project(project)

    assert [str(p) for p in report.errors] == [
        f"source people at mkdocs.yml:6: raw file is empty (0 bytes): {tmp_path}/raw/people.csv "
        "(read by 1 table: contacts) (the export wrote nothing: export it again)"
    ]
    with pytest.raises(MissingTable, match="raw file is empty"):
        Extract(project).table("contacts")


# make_project's lines: 4 raw_data, 5 sources, 6 people, 9 tables, 10 contacts, 11 from,
# 12 timezone, 13 columns.
@pytest.mark.parametrize(
    ("tables", "sources", "problems"),
    [
        (
            COLUMNS.replace("from: people", "from: peple"),
            None,
            [
                "mkdocs.yml:11, plugins.kpisite.tables.contacts.from: unknown source 'peple' "
                "(did you mean 'people'?)"
            ],
        ),
        (
            COLUMNS.replace("email: mail", "emial: mail"),
            None,
            [
                "mkdocs.yml:13, plugins.kpisite.tables.contacts.columns.emial: not a column of "
                "contacts (did you mean 'email'?)"
            ],
        ),
        (
            "        contact:\n          sql: SELECT 1\n",
            None,
            [
                "mkdocs.yml:10, plugins.kpisite.tables.contact: unknown canonical table "
                "(did you mean 'contacts'?)"
            ],
        ),
        (
            COLUMNS,
            "        contacts: {path: people.csv}\n",
            [
                "mkdocs.yml:6, plugins.kpisite.sources.contacts: a source cannot be named like "
                "the canonical table 'contacts' (rename it, e.g. 'raw_contacts')",
                "mkdocs.yml:9, plugins.kpisite.tables.contacts.from: unknown source 'people' "
                "(expected one of: contacts)",
            ],
        ),
        (
            COLUMNS.replace("Europe/Paris", "Europe/Pariss"),
            None,
            [
                "mkdocs.yml:12, plugins.kpisite.tables.contacts.timezone: unknown time zone "
                "'Europe/Pariss' (did you mean 'Europe/Paris'?)"
            ],
        ),
        (
            COLUMNS,
            "        people: {path: people.xlsx}\n",
            [
                "mkdocs.yml:6, plugins.kpisite.sources.people.format: unknown format 'xlsx' "
                "(expected one of: csv, parquet)"
            ],
        ),
    ],
)
def test_bad_mapping_is_a_config_error_naming_the_key_at_its_line(
    tmp_path, tables, sources, problems
):
    with pytest.raises(ConfigError) as error:
        make_project(tmp_path, tables, sources)

    assert [str(problem) for problem in error.value.problems] == problems


def test_every_bad_mapping_entry_is_reported_with_the_other_settings(tmp_path):
    tables = COLUMNS.replace("from: people", "from: peple") + (
        "        order:\n          sql: SELECT 1\n"
    )
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: T\nplugins:\n  - kpisite:\n      currency: EURO\n      sources:\n"
        "        people: {path: people.xlsx}\n      tables:\n" + tables,
        encoding="utf-8",
    )

    with pytest.raises(ConfigError) as error:
        Project.load(tmp_path)

    assert [str(problem) for problem in error.value.problems] == [
        "mkdocs.yml:4, plugins.kpisite.currency: unknown currency 'EURO' (did you mean 'EUR'?)",
        "mkdocs.yml:6, plugins.kpisite.sources.people.format: unknown format 'xlsx' "
        "(expected one of: csv, parquet)",
        "mkdocs.yml:9, plugins.kpisite.tables.contacts.from: unknown source 'peple' "
        "(did you mean 'people'?)",
        "mkdocs.yml:13, plugins.kpisite.tables.order: unknown canonical table "
        "(did you mean 'orders'?)",
    ]


def test_raw_data_defaults_beside_the_repository_and_follows_the_variable(monkeypatch, tmp_path):
    monkeypatch.delenv("KPISITE_SHARED_DATA", raising=False)
    example = ROOT / "examples" / "online-retail"

    default = Extract(Project.load(example)).mapping.sources["retail"].path
    monkeypatch.setenv("KPISITE_SHARED_DATA", str(tmp_path))
    moved = Extract(Project.load(example)).mapping.sources["retail"].path

    assert default == ROOT.parent / "shared" / "data" / RETAIL
    assert moved == tmp_path / RETAIL


# --- errors that show only when the data is read, named by the mapping --------------


def check_output(tmp_path, capsys) -> tuple[int, list[str]]:
    code = main(["check", "--project", str(tmp_path)])
    err = capsys.readouterr().err
    return code, [line for line in err.splitlines() if not line.startswith("warning: ")]


def test_a_wrong_timestamp_format_is_an_error_naming_the_table_source_and_value(tmp_path, capsys):
    sources = (
        "        people:\n          path: people.csv\n"
        "          options: {delim: ';', timestampformat: '%Y-%m-%d %H:%M', "
        "types: {id: VARCHAR, signed_up: TIMESTAMP}}\n"
    )
    make_project(tmp_path, COLUMNS, sources)

    code, lines = check_output(tmp_path, capsys)

    # The table's key is on line 10 of mkdocs.yml, the source's on line 6.
    assert code == 1
    assert lines[0] == (
        "error: table contacts (mapping in mkdocs.yml:10, plugins.kpisite.tables.contacts; "
        "source people at mkdocs.yml:6): Conversion Error: CSV Error on Line: 2"
    )
    assert (
        '    Error when converting column "signed_up". Could not convert string '
        "\"31/03/2024 02:30\" to 'TIMESTAMP'"
    ) in lines
    assert "    timestamp_format = %Y-%m-%d %H:%M (Set By User)" in "\n".join(lines)
    assert not any("Internal error" in line for line in lines)


def test_a_failing_cast_in_a_sql_mapping_is_an_error_naming_the_table(tmp_path, capsys):
    tables = (
        "        contacts:\n          sql: SELECT CAST(upper(mail) AS INTEGER) AS contact_id, "
        "signed_up AS created_at FROM people\n          timezone: Europe/Paris\n"
    )
    make_project(tmp_path, tables)

    code, lines = check_output(tmp_path, capsys)

    assert code == 1
    assert lines[0] == (
        "error: table contacts (mapping in mkdocs.yml:11, plugins.kpisite.tables.contacts.sql; "
        "source people at mkdocs.yml:6): Conversion Error: Could not convert string "
        "'A@EXAMPLE.COM' to INT32"
    )


@pytest.mark.parametrize(
    ("tables", "place"),
    [
        (
            # mkdocs.yml: line 12 is `sql: |`, line 15 `signed_upp AS created_at` (SQL line 3).
            "        contacts:\n          timezone: Europe/Paris\n          sql: |\n"
            "            SELECT\n              id AS contact_id,\n"
            "              signed_upp AS created_at\n            FROM people\n",
            "mkdocs.yml:15, plugins.kpisite.tables.contacts.sql",
        ),
        (
            # mkdocs.yml: line 14 is `contact_id: id`, line 16 `created_at: ...`.
            "        contacts:\n          from: people\n          timezone: Europe/Paris\n"
            "          columns:\n            contact_id: id\n            email: lower(mail)\n"
            "            created_at: CAST(signed_upp AS TIMESTAMP)\n",
            "mkdocs.yml:16, plugins.kpisite.tables.contacts.columns.created_at",
        ),
    ],
    ids=["sql-block", "column"],
)
def test_a_mapping_error_points_at_the_line_duckdb_names(tmp_path, capsys, tables, place):
    make_project(tmp_path, tables)

    code, lines = check_output(tmp_path, capsys)

    assert code == 1
    assert lines[:2] == [
        f"error: table contacts (mapping in {place}): "
        'Binder Error: Referenced column "signed_upp" not found in FROM clause!',
        '    Candidate bindings: "signed_up", "id"',
    ]


def test_a_misspelt_source_in_a_sql_mapping_names_the_closest_source(tmp_path, capsys):
    make_project(tmp_path, "        contacts:\n          sql: SELECT id AS contact_id FROM peple\n")

    code, lines = check_output(tmp_path, capsys)

    # DuckDB's own guess ("contacts or pg_index") knows every table but the sources.
    assert code == 1
    assert lines == [
        "error: table contacts (mapping in mkdocs.yml:11, plugins.kpisite.tables.contacts.sql): "
        "Catalog Error: Table with name peple does not exist! (did you mean 'people'?)"
    ]


def test_online_retail_misspelt_column_keeps_duckdb_candidates(
    shared_data, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("KPISITE_SHARED_DATA", str(shared_data))
    example = ROOT / "examples" / "online-retail"
    config = (example / "mkdocs.yml").read_text(encoding="utf-8")
    config = config.replace("min(InvoiceDate) AS ordered_at", "min(InvoiceDat) AS ordered_at")
    (tmp_path / "mkdocs.yml").write_text(config, encoding="utf-8")
    (tmp_path / "countries.csv").write_bytes((example / "countries.csv").read_bytes())
    line = config.splitlines().index("                min(InvoiceDat) AS ordered_at,") + 1

    code = main(["check", "--project", str(tmp_path)])
    err = capsys.readouterr().err.splitlines()
    errors = [n for n, text in enumerate(err) if text.startswith("error")]

    assert code == 1
    assert len(errors) == 1
    assert err[errors[0]] == (
        f"error: table orders (mapping in mkdocs.yml:{line}, plugins.kpisite.tables.orders.sql): "
        'Binder Error: Referenced column "InvoiceDat" not found in FROM clause!'
    )
    assert err[errors[0] + 1].startswith('    Candidate bindings: "InvoiceDate"')


def test_a_raw_file_missing_for_three_tables_is_reported_once_with_the_closest_name(
    shared_data, tmp_path, monkeypatch
):
    monkeypatch.setenv("KPISITE_SHARED_DATA", str(shared_data))
    example = ROOT / "examples" / "online-retail"
    config = (example / "mkdocs.yml").read_text(encoding="utf-8")
    config = config.replace("online_retail_ii_2009_2010.parquet", "online_retail_ii_2009.parquet")
    (tmp_path / "mkdocs.yml").write_text(config, encoding="utf-8")
    (tmp_path / "countries.csv").write_bytes((example / "countries.csv").read_bytes())
    line = config.splitlines().index("        retail:") + 1

    errors = check_project(Project.load(tmp_path)).errors

    assert [str(p) for p in errors] == [
        f"source retail at mkdocs.yml:{line}: raw file not found: {shared_data.resolve()}/"
        "online-retail-ii-2009-2010/online_retail_ii_2009.parquet (read by 3 tables: contacts, "
        "order_lines, orders) (did you mean 'online_retail_ii_2009_2010.parquet'?)"
    ]


def test_a_misspelt_zone_gets_the_closest_iana_name(tmp_path):
    tables = COLUMNS.replace("Europe/Paris", "America/SaoPaulo")

    with pytest.raises(ConfigError) as error:
        make_project(tmp_path, tables)

    assert [str(problem) for problem in error.value.problems] == [
        "mkdocs.yml:12, plugins.kpisite.tables.contacts.timezone: unknown time zone "
        "'America/SaoPaulo' (did you mean 'America/Sao_Paulo'?)"
    ]


def test_a_misspelt_reporting_zone_gets_the_closest_iana_name(tmp_path):
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: T\nplugins:\n  - kpisite:\n      timezone: America/SaoPaulo\n",
        encoding="utf-8",
    )

    with pytest.raises(ConfigError) as error:
        Project.load(tmp_path)

    assert [str(problem) for problem in error.value.problems] == [
        "mkdocs.yml:4, plugins.kpisite.timezone: unknown time zone 'America/SaoPaulo' "
        "(did you mean 'America/Sao_Paulo'?)"
    ]
