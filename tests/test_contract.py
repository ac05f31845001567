"""`kpisite check`: each way an extract can break the contract gets a clear error."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import ROOT

from kpi.contract import check_project, ensure_valid
from kpi.errors import ExtractError
from kpi.extract import Extract, MissingTable
from kpi.project import Project
from site_builder.cli import main

UTC_TYPE = pa.timestamp("us", tz="UTC")


def contacts(**overrides) -> pa.Table:
    columns = {
        "contact_id": pa.array(["C1", "C2"]),
        "created_at": pa.array([datetime(2024, 1, 5, tzinfo=UTC)] * 2, UTC_TYPE),
        "email": pa.array(["a@example.com", "n/a"]),
        "lifecycle_stage": pa.array(["customer", "lead"]),
        "country_code": pa.array(["FR", "BE"]),
    }
    columns.update(overrides)
    return pa.table(columns)


def orders(**overrides) -> pa.Table:
    columns = {
        "order_id": pa.array(["O1", "O2", "O3"]),
        "contact_id": pa.array(["C1", "C1", None]),
        "ordered_at": pa.array([datetime(2024, 2, day, 12, tzinfo=UTC) for day in (1, 2, 3)]),
        "status": pa.array(["completed", "cancelled", "completed"]),
        "total_amount": pa.array([Decimal("10.50"), Decimal("3.00"), Decimal("7.25")]),
        "currency": pa.array(["EUR"] * 3),
        "channel": pa.array(["web", "store", "marketplace"]),
    }
    columns.update(overrides)
    return pa.table(columns)


def make_project(tmp_path, plugin: str = "", **tables) -> Project:
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: Test\nplugins:\n  - kpisite:\n      on_error: fail\n" + plugin,
        encoding="utf-8",
    )
    (tmp_path / "data").mkdir(exist_ok=True)
    for name, table in tables.items():
        pq.write_table(table, tmp_path / "data" / f"{name}.parquet")
    return Project.load(tmp_path)


def run_check(tmp_path, capsys) -> tuple[int, str]:
    code = main(["check", "--project", str(tmp_path)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_a_valid_extract_passes(tmp_path, capsys):
    make_project(tmp_path, contacts=contacts(), orders=orders())

    code, output = run_check(tmp_path, capsys)

    assert code == 0
    assert "2 tables checked (contacts, orders): 0 errors" in output


def test_bundled_sample_passes_the_check_with_no_warning(tmp_path, capsys):
    (tmp_path / "mkdocs.yml").write_text(
        f"site_name: T\nplugins:\n  - kpisite:\n      data: {ROOT / 'data'}\n", encoding="utf-8"
    )

    code, output = run_check(tmp_path, capsys)

    assert code == 0, output
    assert "8 tables checked" in output
    assert "0 errors, 0 warnings" in output


def test_misspelt_column_names_the_closest_one(tmp_path, capsys):
    bad = orders().rename_columns(
        ["order_id", "contact_id", "ordred_at", "status", "total_amount", "currency", "channel"]
    )
    make_project(tmp_path, orders=bad)

    code, output = run_check(tmp_path, capsys)

    assert code == 1
    assert (
        "error: table orders, column ordered_at: missing column (did you mean 'ordred_at'?)"
        in output
    )


def test_missing_required_column_lists_what_is_there(tmp_path, capsys):
    make_project(tmp_path, orders=orders().drop_columns(["status"]))

    code, output = run_check(tmp_path, capsys)

    assert code == 1
    assert "table orders, column status: missing required column" in output


def test_absent_optional_columns_are_one_warning(tmp_path, capsys):
    make_project(tmp_path, orders=orders().drop_columns(["channel"]))

    code, output = run_check(tmp_path, capsys)

    # The optional columns of orders in kpi/schema.py's order, less those orders() writes
    # (order_id, contact_id, ordered_at, status, total_amount, currency) and channel dropped.
    assert code == 0
    assert [line for line in output.splitlines() if line.startswith("warning: table orders")] == [
        "warning: table orders: optional columns absent, read as null: is_test, tax_amount, "
        "shipping_amount, discount_amount, channel, country_code"
    ]


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        (
            "total_amount",
            pa.array([10.5, 3.0, 7.25]),
            "expected a decimal, e.g. decimal(18,2), got float64",
        ),
        ("order_id", pa.array([1, 2, 3]), "expected a string identifier, got int64"),
        ("channel", pa.array([1, 2, 3]), "expected a string, got int64"),
    ],
)
def test_wrong_type_is_an_error(tmp_path, capsys, column, values, message):
    make_project(tmp_path, orders=orders(**{column: values}))

    code, output = run_check(tmp_path, capsys)

    assert code == 1
    assert f"table orders, column {column}: {message}" in output


def test_duplicate_keys_are_counted_and_shown(tmp_path, capsys):
    make_project(tmp_path, orders=orders(order_id=pa.array(["O1", "O1", "O3"])))

    code, output = run_check(tmp_path, capsys)

    assert code == 1
    assert "table orders, key (order_id): 1 duplicate key over 2 rows: O1 (x2)" in output


def test_unknown_enum_value_lists_the_allowed_ones(tmp_path, capsys):
    make_project(tmp_path, orders=orders(status=pa.array(["completed", "shipped", "shipped"])))

    code, output = run_check(tmp_path, capsys)

    assert code == 1
    assert (
        "table orders, column status: 2 rows with unknown values: 'shipped' "
        "(expected one of: completed, cancelled)" in output
    )


def test_null_in_a_required_column(tmp_path, capsys):
    make_project(tmp_path, orders=orders(status=pa.array(["completed", None, "cancelled"])))

    code, output = run_check(tmp_path, capsys)

    assert code == 1
    assert "table orders, column status: 1 null value in a required column" in output


def test_badly_formed_country_code(tmp_path, capsys):
    make_project(tmp_path, contacts=contacts(country_code=pa.array(["FR", "France"])))

    code, output = run_check(tmp_path, capsys)

    assert code == 1
    assert "table contacts, column country_code: 1 row with badly formed codes: 'France'" in output


NAIVE = pa.array([datetime(2024, 1, 15, 12), datetime(2024, 7, 1, 12), datetime(2024, 3, 31, 1)])


def test_naive_timestamp_without_declared_zone_is_an_error(tmp_path, capsys):
    make_project(tmp_path, orders=orders(ordered_at=NAIVE))

    code, output = run_check(tmp_path, capsys)

    assert code == 1
    assert (
        "table orders, column ordered_at: naive timestamp(6) with no declared time zone" in output
    )
    assert "plugins.kpisite.tables.orders.timezone: Europe/Paris" in output


def test_declared_zone_turns_wall_clock_times_into_utc(tmp_path, capsys):
    # Paris is UTC+1 in January, UTC+2 in July and from 2024-03-31 02:00 (DST change).
    project = make_project(
        tmp_path,
        "      tables:\n        orders: {timezone: Europe/Paris}\n",
        orders=orders(ordered_at=NAIVE),
    )

    code, output = run_check(tmp_path, capsys)
    times = Extract(project).table("orders").ordered_at.to_pyarrow().to_pylist()

    assert code == 0, output
    assert [t.astimezone(UTC).replace(tzinfo=None) for t in times] == [
        datetime(2024, 1, 15, 11),
        datetime(2024, 7, 1, 10),
        datetime(2024, 3, 31, 0),
    ]


def test_declared_zone_reads_the_missing_and_the_repeated_hour_with_the_standard_offset(
    tmp_path, capsys
):
    # Paris: 2024-03-31 02:00 CET jumps to 03:00 CEST (02:30 does not exist); 2024-10-27
    # 03:00 CEST falls back to 02:00 CET (02:30 happens twice). doc/extract.md: both are
    # read with the standard offset, UTC+1, so 02:30 -> 01:30 UTC both nights. Around
    # them, 01:30 and 03:30 have one offset: +1 and +2 in March, +2 and +1 in October.
    wall_clock = [
        datetime(2024, 3, 31, 1, 30),
        datetime(2024, 3, 31, 2, 30),
        datetime(2024, 3, 31, 3, 30),
        datetime(2024, 10, 27, 1, 30),
        datetime(2024, 10, 27, 2, 30),
        datetime(2024, 10, 27, 3, 30),
    ]
    project = make_project(
        tmp_path,
        "      tables:\n        orders: {timezone: Europe/Paris}\n",
        orders=orders(
            order_id=pa.array([f"O{n}" for n in range(1, 7)]),
            contact_id=pa.array(["C1"] * 6),
            ordered_at=pa.array(wall_clock),
            status=pa.array(["completed"] * 6),
            total_amount=pa.array([Decimal("1.00")] * 6),
            currency=pa.array(["EUR"] * 6),
            channel=pa.array(["web"] * 6),
        ),
    )

    code, output = run_check(tmp_path, capsys)
    rows = Extract(project).table("orders").order_by("order_id").to_pyarrow().to_pylist()

    assert code == 0, output
    assert [r["ordered_at"] for r in rows] == [
        datetime(2024, 3, 31, 0, 30, tzinfo=UTC),
        datetime(2024, 3, 31, 1, 30, tzinfo=UTC),  # the missing 02:30
        datetime(2024, 3, 31, 1, 30, tzinfo=UTC),
        datetime(2024, 10, 26, 23, 30, tzinfo=UTC),
        datetime(2024, 10, 27, 1, 30, tzinfo=UTC),  # the repeated 02:30: its second time
        datetime(2024, 10, 27, 2, 30, tzinfo=UTC),
    ]


def test_truncated_parquet_file_is_named(tmp_path, capsys):
    make_project(tmp_path, contacts=contacts(), orders=orders())
    path = tmp_path / "data" / "orders.parquet"
    path.write_bytes(path.read_bytes()[:-40])

    code, output = run_check(tmp_path, capsys)

    assert code == 1
    assert "error: data/orders.parquet: unreadable Parquet file" in output
    assert "damaged or truncated" in output


def test_unreadable_file_in_a_table_folder(tmp_path, capsys):
    make_project(tmp_path)
    folder = tmp_path / "data" / "orders"
    folder.mkdir()
    pq.write_table(orders(), folder / "part-1.parquet")
    (folder / "part-2.parquet").write_bytes(b"not parquet at all")

    code, output = run_check(tmp_path, capsys)

    assert code == 1
    assert "data/orders/part-2.parquet: unreadable Parquet file" in output


def test_empty_table_is_an_error(tmp_path, capsys):
    make_project(tmp_path, orders=orders().slice(0, 0))

    code, output = run_check(tmp_path, capsys)

    assert code == 1
    assert "error: table orders: empty table" in output


def test_orphan_order_is_a_warning_only(tmp_path, capsys):
    make_project(
        tmp_path, contacts=contacts(), orders=orders(contact_id=pa.array(["C1", "C9", None]))
    )

    code, output = run_check(tmp_path, capsys)

    assert code == 0
    assert (
        "warning: table orders, column contact_id: 1 row refers to no row of contacts: C9" in output
    )
    assert "0 errors, 7 warnings" in output  # two absent optional columns, four absent tables


def test_no_mkdocs_yml_is_a_clean_error(tmp_path, capsys):
    code, output = run_check(tmp_path, capsys)

    assert code == 1
    assert "no mkdocs.yml here" in output
    assert "Traceback" not in output


def test_missing_tables_are_not_errors_but_raise_missing_table(tmp_path, capsys):
    project = make_project(tmp_path, contacts=contacts())

    code, _ = run_check(tmp_path, capsys)

    assert code == 0
    with pytest.raises(MissingTable) as missing:
        Extract(project).table("orders")
    assert missing.value.table == "orders"


def test_ensure_valid_raises_with_the_problems(tmp_path):
    project = make_project(tmp_path, orders=orders().slice(0, 0))

    with pytest.raises(ExtractError) as error:
        ensure_valid(project)

    assert [str(p) for p in error.value.problems] == [
        "table orders: empty table (a table with no rows is a failed export; "
        "leave the file out instead)"
    ]


def test_a_folder_table_grows_with_a_refresh(tmp_path):
    project = make_project(tmp_path)
    folder = tmp_path / "data" / "orders"
    folder.mkdir()
    pq.write_table(orders().slice(0, 2), folder / "2024-01.parquet")
    before = Extract(project).fingerprint("orders")

    pq.write_table(orders().slice(2, 1), folder / "2024-02.parquet")
    extract = Extract(project)

    assert extract.fingerprint("orders") != before
    assert extract.table("orders").count().to_pyarrow().as_py() == 3
    assert check_project(project).errors == []


def test_absent_nullable_columns_are_served_as_typed_nulls(tmp_path):
    project = make_project(tmp_path, orders=orders())

    table = Extract(project).table("orders")

    assert str(table.schema()["discount_amount"]) == "decimal(18, 2)"
    assert table.discount_amount.isnull().sum().to_pyarrow().as_py() == 3


def test_every_canonical_column_is_documented():
    from kpi.schema import TABLES

    doc = (ROOT / "doc" / "extract.md").read_text(encoding="utf-8")

    for table in TABLES.values():
        section = doc.split(f"### {table.name}\n", 1)[1].split("\n### ", 1)[0]
        for column in table.column_names():
            assert f"| `{column}` |" in section, f"{table.name}.{column}"


def test_nanosecond_timestamps_as_pandas_writes_them_pass(tmp_path, capsys):
    # DuckDB 2 reads them as TIMESTAMPTZ_NS, a type ibis 12 does not know: the extract
    # serves them as microsecond instants.
    instants = pa.array([datetime(2024, 2, day, 12, tzinfo=UTC) for day in (1, 2, 3)])
    project = make_project(
        tmp_path, orders=orders(ordered_at=instants.cast(pa.timestamp("ns", tz="UTC")))
    )

    code, output = run_check(tmp_path, capsys)
    values = Extract(project).table("orders").ordered_at.to_pyarrow().to_pylist()

    assert code == 0, output
    assert values == instants.to_pylist()
