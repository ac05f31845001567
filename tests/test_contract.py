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
        "error: table orders, column ordered_at: missing column (found 'ordred_at': rename it "
        "'ordered_at')" in output
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


def test_text_in_an_amount_column_shows_the_values_that_are_not_numbers_first(tmp_path, capsys):
    # Sorted as text, "10.50", "100.00", "12.00"... would hide "douze" and "n/a".
    amounts = ["10.50", "douze", "3.00", "7.25", "100.00", "n/a", "12.00"]
    table = pa.table(
        {
            "order_id": pa.array([f"O{i}" for i in range(7)]),
            "ordered_at": pa.array([datetime(2024, 2, 1, 12, tzinfo=UTC)] * 7, UTC_TYPE),
            "status": pa.array(["completed"] * 7),
            "total_amount": pa.array(amounts),
            "currency": pa.array(["EUR"] * 7),
        }
    )
    make_project(tmp_path, orders=table)

    code, output = run_check(tmp_path, capsys)

    assert code == 1
    assert (
        "table orders, column total_amount: expected a decimal, e.g. decimal(18,2), got string: "
        "'douze', 'n/a', '10.50', '100.00', '12.00' (cast amounts"
    ) in output


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


# --- folder tables: each file checked, nested folders read --------------------------


def folder_project(tmp_path, plugin: str = "", **files) -> Project:
    """A project whose orders are a folder of Parquet files (`name=table` pairs)."""
    project = make_project(tmp_path, plugin, contacts=contacts())
    for name, table in files.items():
        path = tmp_path / "data" / "orders" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path)
    return project


def problems_of(project) -> list[str]:
    return [str(p) for p in check_project(project).problems if p.severity == "error"]


def test_each_file_of_a_folder_table_is_checked_for_its_column_types(tmp_path):
    # Read together, b's int64 ids would become '1', '2' and its naive times UTC.
    project = folder_project(
        tmp_path,
        "      timezone: Europe/London\n",
        **{
            "a.parquet": orders(),
            "b.parquet": orders(order_id=pa.array([4, 5, 6]), ordered_at=NAIVE),
        },
    )

    assert problems_of(project) == [
        "data/orders/b.parquet, column order_id: expected a string identifier, got int64 "
        "(store identifiers as strings; a float id would read '12346.0')",
        "data/orders/b.parquet, column ordered_at: naive timestamp(6) with no declared time "
        "zone (expected a timestamp with time zone (UTC)) (write UTC-aware timestamps, or "
        "declare the zone of the wall-clock times: "
        "plugins.kpisite.tables.orders.timezone: Europe/London)",
    ]


def test_a_misspelt_column_in_one_file_names_the_file_and_the_closest_name(tmp_path):
    misspelt = orders().rename_columns(
        ["order_id", "contact_id", "ordred_at", "status", "total_amount", "currency", "channel"]
    )
    project = folder_project(tmp_path, **{"a.parquet": orders(), "b.parquet": misspelt})

    assert problems_of(project) == [
        "data/orders/b.parquet, column ordered_at: missing column (found 'ordred_at': rename "
        "it 'ordered_at')"
    ]


def test_an_optional_column_some_files_of_a_folder_lack_is_an_error(tmp_path):
    # Read as one table, b's and c's rows would have no channel: revenue by channel would
    # put them under "(non renseigné)", with no word of why.
    without = orders().drop_columns(["channel"])
    project = folder_project(
        tmp_path, **{"a.parquet": orders(), "b.parquet": without, "c.parquet": without}
    )

    assert problems_of(project) == [
        f"data/orders/{name}.parquet, column channel: missing from this file, while 1 other "
        "file of the folder has it: the rows of this file would read channel as null "
        "(extract every file of the folder with the same columns)"
        for name in ("b", "c")
    ]


def test_an_optional_column_no_file_of_a_folder_has_is_the_usual_warning(tmp_path, capsys):
    first = orders().drop_columns(["channel"])
    second = orders(order_id=pa.array(["O4", "O5", "O6"])).drop_columns(["channel"])
    folder_project(tmp_path, **{"a.parquet": first, "b.parquet": second})

    code, output = run_check(tmp_path, capsys)

    assert code == 0
    assert "table orders: optional columns absent, read as null: " in output
    assert "missing from this file" not in output


def test_two_columns_of_one_name_in_a_file_are_an_error(tmp_path):
    table = orders()
    twice = pa.Table.from_arrays(
        [*table.columns, pa.array(["cancelled"] * 3)], names=[*table.column_names, "status"]
    )
    project = make_project(tmp_path, orders=twice)

    assert problems_of(project) == [
        "data/orders.parquet, column status: 2 columns of this name (columns 4, 8): only the "
        "first one would be read (extract the file again with one column of each name)"
    ]


def test_a_repeated_column_and_a_missing_one_in_a_folder_are_said_together(tmp_path):
    table = orders(order_id=pa.array(["O4", "O5", "O6"]))
    twice = pa.Table.from_arrays(
        [*table.columns, table.column("total_amount")],
        names=[*table.column_names, "total_amount"],
    )
    without = orders(order_id=pa.array(["O7", "O8", "O9"])).drop_columns(["channel"])
    project = folder_project(
        tmp_path, **{"a.parquet": orders(), "b.parquet": twice, "c.parquet": without}
    )

    assert problems_of(project) == [
        "data/orders/b.parquet, column total_amount: 2 columns of this name (columns 5, 8): "
        "only the first one would be read (extract the file again with one column of each "
        "name)",
        "data/orders/c.parquet, column channel: missing from this file, while the 2 other "
        "files of the folder have it: the rows of this file would read channel as null "
        "(extract every file of the folder with the same columns)",
    ]


def test_a_column_of_nulls_with_no_type_is_said_plainly(tmp_path):
    table = orders()
    index = table.column_names.index("channel")
    nulls = table.set_column(index, pa.field("channel", pa.null()), pa.nulls(3))
    project = make_project(tmp_path, orders=nulls)

    assert problems_of(project)[0].startswith(
        "table orders, column channel: expected a string, got a column of nulls with no type"
    )


def test_times_written_as_text_show_a_few_of_them(tmp_path):
    as_text = orders(ordered_at=pa.array(["2026-10-01 10:00", "2026-10-02 11:00", "03/10/2026"]))
    project = make_project(tmp_path, orders=as_text)

    assert problems_of(project) == [
        "table orders, column ordered_at: expected a timestamp with time zone (UTC), got "
        "string: '03/10/2026', '2026-10-01 10:00', '2026-10-02 11:00'"
    ]


def test_naive_and_aware_files_of_one_table_are_an_error_even_with_a_zone(tmp_path):
    project = folder_project(
        tmp_path,
        "      tables:\n        orders: {timezone: Europe/Paris}\n",
        **{
            "a.parquet": orders(),
            "b.parquet": orders(order_id=pa.array(["O4", "O5", "O6"]), ordered_at=NAIVE),
        },
    )

    assert problems_of(project) == [
        "table orders, column ordered_at: naive timestamps in data/orders/b.parquet but "
        "zone-aware ones in data/orders/a.parquet (write every file of the table the same "
        "way (UTC-aware timestamps))"
    ]


def test_hive_partitions_are_read_recursively_with_their_columns(tmp_path):
    project = folder_project(
        tmp_path,
        **{
            "year=2024/part-0.parquet": orders().slice(0, 2),
            "year=2025/part-0.parquet": orders().slice(2, 1),
            "year=2025/_SUCCESS.parquet": pa.table({"x": [1]}),
        },
    )

    table = Extract(project).table("orders")
    rows = table.order_by("order_id").select("order_id", "year").to_pyarrow().to_pylist()

    assert problems_of(project) == []
    assert rows == [
        {"order_id": "O1", "year": 2024},
        {"order_id": "O2", "year": 2024},
        {"order_id": "O3", "year": 2025},
    ]


def test_files_in_subfolders_that_are_not_partitions_are_read_too(tmp_path):
    project = folder_project(
        tmp_path,
        **{"2024/01.parquet": orders().slice(0, 2), "latest.parquet": orders().slice(2, 1)},
    )

    ids = Extract(project).table("orders").order_id.to_pyarrow().to_pylist()

    assert problems_of(project) == []
    assert sorted(ids) == ["O1", "O2", "O3"]


def test_a_table_both_as_a_file_and_a_folder_is_ambiguous(tmp_path):
    project = folder_project(tmp_path, **{"part-0.parquet": orders()})
    pq.write_table(orders(), tmp_path / "data" / "orders.parquet")

    assert problems_of(project) == [
        "table orders: both data/orders.parquet and the folder data/orders/ hold it "
        "(keep one of them: the table would be read from the file alone)"
    ]


def test_a_broken_symbolic_link_is_an_error_not_an_absent_table(tmp_path):
    project = make_project(tmp_path, contacts=contacts())
    (tmp_path / "data" / "orders.parquet").symlink_to(tmp_path / "exports" / "orders.parquet")

    assert problems_of(project) == [
        f"data/orders.parquet: broken symbolic link to {tmp_path}/exports/orders.parquet "
        "(link an existing Parquet file, or remove the link)"
    ]


# --- damaged files -----------------------------------------------------------------


def many_orders(count: int = 5000, first: int = 0) -> pa.Table:
    """Orders enough for data pages of some size, compressed with zstd when written."""
    numbers = range(first, first + count)
    return orders(
        order_id=pa.array([f"O{n}" for n in numbers]),
        contact_id=pa.array([f"C{n % 997}" for n in numbers]),
        ordered_at=pa.array([datetime(2024, 2, 1, tzinfo=UTC)] * count, UTC_TYPE),
        status=pa.array(["completed"] * count),
        total_amount=pa.array([Decimal(n % 1000) / 4 for n in numbers], pa.decimal128(18, 2)),
        currency=pa.array(["EUR"] * count),
        channel=pa.array(["web"] * count),
    )


def damage_pages(path) -> None:
    """Overwrite bytes between offset 200 and the middle: the footer stays whole."""
    data = bytearray(path.read_bytes())
    for offset in range(200, len(data) // 2, 7):
        data[offset] = (data[offset] + 13) % 256
    path.write_bytes(data)


def test_a_damaged_page_behind_a_whole_footer_is_a_contract_error(tmp_path, capsys):
    make_project(tmp_path)
    path = tmp_path / "data" / "orders.parquet"
    pq.write_table(many_orders(), path, compression="zstd")
    damage_pages(path)
    pq.read_schema(path)  # the footer still reads

    code, output = run_check(tmp_path, capsys)

    assert code == 1
    assert "error: data/orders.parquet: unreadable Parquet file (table orders): " in output
    assert "(the file is damaged: extract it again)" in output
    assert "Internal error" not in output


def test_a_damaged_file_of_a_folder_table_is_the_one_named(tmp_path, capsys):
    make_project(tmp_path)
    folder = tmp_path / "data" / "orders"
    folder.mkdir()
    pq.write_table(many_orders(), folder / "a.parquet", compression="zstd")
    pq.write_table(many_orders(first=5000), folder / "b.parquet", compression="zstd")
    damage_pages(folder / "b.parquet")

    code, output = run_check(tmp_path, capsys)

    assert code == 1
    assert "error: data/orders/b.parquet: unreadable Parquet file (table orders): " in output
    assert "a.parquet" not in output


# --- values: times, currencies, amounts --------------------------------------------


def with_extraction_time(table: pa.Table, moment: str) -> pa.Table:
    return table.replace_schema_metadata({b"kpisite.extracted_at": moment.encode()})


def test_times_after_the_extraction_or_before_1970_are_errors_with_their_rows(tmp_path):
    # Recorded extraction: 2024-03-01 00:00 UTC; up to a day later is tolerated.
    times = [datetime(2024, 3, 1, 23, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC)]
    times.append(datetime(1900, 1, 1, tzinfo=UTC))
    table = with_extraction_time(
        orders(ordered_at=pa.array(times, UTC_TYPE)), "2024-03-01T01:00:00+01:00"
    )
    project = make_project(tmp_path, orders=table)

    assert problems_of(project) == [
        "table orders, column ordered_at: 1 row after the extraction (2024-03-01 00:00 UTC): "
        "O2 (2200-01-01 00:00:00+00) (what happened cannot follow the extraction: fix the "
        "times in the source)",
        "table orders, column ordered_at: 1 row before 1970-01-01: O3 (1900-01-01 00:00:00+00) "
        "(a placeholder date or a unit error: fix the times in the source)",
    ]


def test_times_damaged_in_their_page_are_found_though_the_footer_says_otherwise(tmp_path):
    # Plain, uncompressed values: the page holds the 3 timestamps as 8-byte integers after
    # its header (whose own min/max come first), and the footer's min/max (2024-02-01 to
    # 2024-02-03) stays as written. A query planner trusting those statistics decides
    # "ordered_at < 1970" is false without reading the page.
    project = make_project(tmp_path)
    path = tmp_path / "data" / "orders.parquet"
    table = orders(ordered_at=orders()["ordered_at"].cast(UTC_TYPE))
    pq.write_table(table, path, compression="none", use_dictionary=False)
    chunk = pq.ParquetFile(path).metadata.row_group(0).column(2)
    assert chunk.path_in_schema == "ordered_at"
    first = pa.scalar(datetime(2024, 2, 1, 12, tzinfo=UTC), UTC_TYPE).value.to_bytes(8, "little")
    data = bytearray(path.read_bytes())
    start = chunk.data_page_offset
    at = data.rindex(first, start, start + chunk.total_compressed_size)
    data[at : at + 8] = (-1).to_bytes(8, "little", signed=True)
    path.write_bytes(bytes(data))
    assert pq.read_table(path)["ordered_at"][0].value == -1

    assert problems_of(project) == [
        "table orders, column ordered_at: 1 row before 1970-01-01: O1 "
        "(1969-12-31 23:59:59.999999+00) (a placeholder date or a unit error: fix the times "
        "in the source)"
    ]


def test_a_contact_created_in_year_9999_is_an_error_and_now_is_the_bound(tmp_path):
    created = pa.array([datetime(2024, 1, 5, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC)])
    project = make_project(tmp_path, contacts=contacts(created_at=created.cast(UTC_TYPE)))

    [problem] = check_project(project).errors

    assert problem.where == "table contacts, column created_at"
    assert problem.message.startswith("1 row after the extraction (")
    assert problem.message.endswith(
        " UTC, now: no kpisite.extracted_at recorded): C2 (9999-12-31 00:00:00+00)"
    )


def test_a_campaign_sent_after_the_extraction_is_only_a_warning(tmp_path):
    campaigns = pa.table(
        {
            "campaign_id": ["K1", "K2"],
            "channel": ["email", "sms"],
            "sent_at": pa.array(
                [datetime(2024, 1, 2, tzinfo=UTC), datetime(2024, 6, 1, tzinfo=UTC)], UTC_TYPE
            ),
        }
    )
    project = make_project(
        tmp_path, campaigns=with_extraction_time(campaigns, "2024-03-01T00:00:00+00:00")
    )

    report = check_project(project)

    assert report.errors == []
    assert [str(p) for p in report.warnings if "sent_at" in p.where] == [
        "table campaigns, column sent_at: 1 row after the extraction (2024-03-01 00:00 UTC): "
        "K2 (2024-06-01 00:00:00+00) (a scheduled time? KPIs count it in the period it "
        "falls in)"
    ]


def test_orders_in_another_currency_are_counted_per_currency(tmp_path):
    currencies = pa.array(["EUR", "USD", "USD", "GBP", None])
    table = many_orders(5).set_column(5, "currency", currencies)
    project = make_project(tmp_path, orders=table)

    assert problems_of(project) == [
        "table orders, column currency: 3 rows in another currency than the project's EUR: "
        "USD (2), GBP (1) (KPIs add amounts up as EUR: set plugins.kpisite.currency if the "
        "extract is in USD, or convert the amounts to EUR in a mapping)"
    ]


def test_the_project_currency_is_the_one_expected(tmp_path):
    table = orders(currency=pa.array(["GBP"] * 3))

    assert problems_of(make_project(tmp_path, "      currency: GBP\n", orders=table)) == []


def test_absurd_amounts_are_errors_before_their_sums_overflow(tmp_path):
    amounts = [Decimal("10.50"), Decimal("1E+35"), Decimal("999999999999.99")]
    project = make_project(
        tmp_path, orders=orders(total_amount=pa.array(amounts, pa.decimal128(38, 2)))
    )

    assert problems_of(project) == [
        "table orders, column total_amount: 1 row with an amount of 1,000,000,000,000 or "
        "more: O2 (100000000000000000000000000000000000.00) (no CRM amount is that large: a "
        "unit or export error; sums of it would overflow)"
    ]


# --- the data folder ---------------------------------------------------------------


def test_a_misspelt_data_folder_is_an_error_naming_the_option(tmp_path, capsys):
    make_project(tmp_path, "      data: dta\n", orders=orders())

    code, output = run_check(tmp_path, capsys)

    assert code == 1
    assert (
        "error: mkdocs.yml:5, plugins.kpisite.data: data folder dta does not exist "
        "(did you mean 'data'?)" in output
    )


def test_a_data_setting_naming_a_file_is_an_error(tmp_path):
    project = make_project(tmp_path, "      data: data/orders.parquet\n", orders=orders())

    assert problems_of(project) == [
        "mkdocs.yml:5, plugins.kpisite.data: data folder data/orders.parquet is a file, not a "
        "folder (set it to the folder of the extract's Parquet files)"
    ]


def test_a_project_mapping_its_tables_needs_no_data_folder(tmp_path):
    (tmp_path / "people.csv").write_text("id,seen\nC1,2024-01-01 10:00:00+00\n", encoding="utf-8")
    mapping = (
        "      sources: {people: people.csv}\n"
        "      tables:\n        contacts: {from: people, columns: {contact_id: id, "
        "created_at: 'CAST(seen AS TIMESTAMPTZ)'}}\n"
    )
    project = make_project(tmp_path, mapping)
    (tmp_path / "data").rmdir()

    assert problems_of(project) == []


# --- what messages show ------------------------------------------------------------


def test_nulls_in_a_required_column_show_the_rows_keys(tmp_path):
    project = make_project(tmp_path, orders=orders(status=pa.array([None, "completed", None])))

    assert problems_of(project) == [
        "table orders, column status: 2 null values in a required column: order_id O1, O3"
    ]


def test_a_null_key_is_reported_once_as_a_null_not_as_a_duplicate(tmp_path):
    project = make_project(tmp_path, orders=orders(order_id=pa.array(["O1", None, None])))

    assert problems_of(project) == [
        "table orders, column order_id: 2 null values in a required column"
    ]


def test_a_wrong_type_shows_a_few_values(tmp_path):
    project = make_project(tmp_path, orders=orders(order_id=pa.array([12346.0, 3.0, 7.0])))

    assert problems_of(project) == [
        "table orders, column order_id: expected a string identifier, got float64: 3.0, "
        "7.0, 12346.0 (store identifiers as strings; a float id would read '12346.0')"
    ]


def test_the_naive_time_hint_suggests_the_project_zone(tmp_path):
    project = make_project(
        tmp_path, "      timezone: Europe/London\n", orders=orders(ordered_at=NAIVE)
    )

    [problem] = check_project(project).errors

    assert problem.hint.endswith("plugins.kpisite.tables.orders.timezone: Europe/London")


# --- hive partitions that would be read wrong ------------------------------------------


def test_a_partition_key_that_is_also_a_column_of_the_file_is_an_error(tmp_path):
    # channel=web/ holding orders of every channel: the folder's 'web' would win.
    project = folder_project(tmp_path, **{"channel=web/part-0.parquet": orders()})

    assert problems_of(project) == [
        "data/orders/channel=web/part-0.parquet, column channel: channel is both a column of "
        "the file and its partition folder channel=web: the folder's value would replace the "
        "file's in every row (drop the column channel from the files, or name the folders by "
        "another key)"
    ]
    with pytest.raises(ExtractError):
        ensure_valid(project)


def test_partition_keys_apart_from_the_files_columns_pass(tmp_path):
    web, store = orders().slice(0, 2).drop(["channel"]), orders().slice(2, 1).drop(["channel"])
    project = folder_project(
        tmp_path, **{"channel=web/part-0.parquet": web, "channel=store/part-0.parquet": store}
    )

    rows = Extract(project).table("orders").select("order_id", "channel").to_pyarrow()

    assert problems_of(project) == []
    assert sorted(rows.to_pylist(), key=lambda row: row["order_id"]) == [
        {"order_id": "O1", "channel": "web"},
        {"order_id": "O2", "channel": "web"},
        {"order_id": "O3", "channel": "store"},
    ]


def test_a_slash_in_a_partition_value_is_named_with_its_file(tmp_path):
    # channel=n/a/ is a folder channel=n holding a folder a: one level deeper than the
    # others, so the folders would silently stop being read as a column for every file.
    table = orders().drop(["channel"])
    project = folder_project(
        tmp_path,
        **{
            "channel=web/part-0.parquet": table.slice(0, 1),
            "channel=store/part-0.parquet": table.slice(1, 1),
            "channel=n/a/part-0.parquet": table.slice(2, 1),
        },
    )

    assert problems_of(project) == [
        "table orders: 1 file not under the partition folders channel=... of the 2 other "
        "files, so no partition column is read: data/orders/channel=n/a/part-0.parquet (a '/' "
        "in a partition value makes an extra folder level (channel=n/a): write it URL-encoded "
        "(channel=n%2Fa), as DuckDB and Spark read it)"
    ]


def test_a_file_beside_the_partition_folders_is_named(tmp_path):
    table = orders().drop(["channel"])
    project = folder_project(
        tmp_path,
        **{
            "channel=web/part-0.parquet": table.slice(0, 1),
            "channel=store/part-0.parquet": table.slice(1, 1),
            "late.parquet": table.slice(2, 1),
        },
    )

    assert problems_of(project) == [
        "table orders: 1 file not under the partition folders channel=... of the 2 other "
        "files, so no partition column is read: data/orders/late.parquet (put every file "
        "under folders channel=...)"
    ]


# --- an extract with no table --------------------------------------------------------


def test_a_data_folder_with_no_table_is_an_error(tmp_path, capsys):
    make_project(tmp_path, "      data: data\n")
    (tmp_path / "data" / "notes.txt").write_text("nothing here\n", encoding="utf-8")

    code, output = run_check(tmp_path, capsys)

    assert code == 1
    assert (
        "error: mkdocs.yml:5, plugins.kpisite.data: no extract table found in data (expected "
        "contacts.parquet, orders.parquet, order_lines.parquet, ... or folders of Parquet "
        "files)"
    ) in output
    # Besides, each table the catalog reads is absent: one warning per table.
    assert "0 tables checked (none): 1 error, 6 warnings" in output


def test_a_data_folder_of_misnamed_tables_is_an_error_and_each_name_a_warning(tmp_path):
    project = make_project(tmp_path, contact=contacts())

    problems = [str(problem) for problem in check_project(project).problems]

    assert problems == [
        "data/contact: unknown table (did you mean 'contacts'?)",
        "mkdocs.yml, plugins.kpisite.data: no extract table found in data (expected "
        "contacts.parquet, orders.parquet, order_lines.parquet, ... or folders of Parquet "
        "files)",
    ]
