"""The extract contract as a build meets it: its warnings shown without failing a strict
build, and an extract the engine cannot read refused cleanly, before any page."""

from __future__ import annotations

import shutil

import pyarrow as pa
import pyarrow.parquet as pq
from conftest import ROOT
from test_contract import damage_pages

from site_builder.cli import main

PAGE = "# Ventes\n\nLe chiffre d'affaires : [[kpi revenue]].\n"


def make_project(tmp_path) -> None:
    """A strict report project of one page over a copy of the bundled extract."""
    shutil.copytree(ROOT / "data", tmp_path / "data")
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "index.md").write_text(PAGE, encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: Test\ndocs_dir: reports\nstrict: true\n"
        "theme:\n  name: material\n  language: fr\n  font: false\n"
        f"plugins:\n  - kpisite:\n      cache: {tmp_path / 'cache'}\n",
        encoding="utf-8",
    )


def orphan_order(tmp_path) -> None:
    """The first order's contact becomes one the contacts table does not hold."""
    path = tmp_path / "data" / "orders.parquet"
    orders = pq.read_table(path)
    ids = orders["contact_id"].to_pylist()
    ids[0] = "C9999999"
    column = orders.schema.get_field_index("contact_id")
    orders = orders.set_column(column, "contact_id", pa.array(ids, pa.string()))
    pq.write_table(orders.replace_schema_metadata(orders.schema.metadata), path)


def build(tmp_path, capsys, *options) -> tuple[int, str]:
    code = main([*options, "build", "--period", "2026-10", "--project", str(tmp_path)])
    return code, capsys.readouterr().err


def test_an_orphan_is_a_warning_shown_by_a_quiet_strict_build_that_succeeds(tmp_path, capsys):
    make_project(tmp_path)
    orphan_order(tmp_path)

    code, err = build(tmp_path, capsys, "-q")

    assert code == 0, err
    assert (
        "WARNING  table orders, column contact_id: 1 row refers to no row of contacts: "
        "C9999999 (counted by 12 KPIs, with no contacts row to describe them: orders_count, "
        "revenue, active_customers, active_customers_start, churned, ...)"
    ) in err.splitlines()
    assert (tmp_path / "site" / "index.html").is_file()


def test_an_absent_table_is_the_same_warning_in_a_build_as_in_check(tmp_path, capsys):
    # Cold: no cache to answer from, the warning must come from the contract itself.
    make_project(tmp_path)
    (tmp_path / "data" / "orders.parquet").unlink()
    warning = (
        "table orders: absent, so its 12 KPIs (orders_count, revenue, average_basket, "
        "active_customers, active_customers_start, ...) will be n/a (add data/orders.parquet, "
        "or map it in plugins.kpisite.tables)"
    )

    checked = main(["check", "--project", str(tmp_path)])
    check_err = capsys.readouterr().err
    code, err = build(tmp_path, capsys, "-q")

    assert checked == 0 and f"warning: {warning}" in check_err.splitlines()
    assert code == 0, err
    assert f"WARNING  {warning}" in err.splitlines()
    assert (tmp_path / "site" / "index.html").is_file()


def test_a_damaged_file_stops_the_build_with_a_clean_error(tmp_path, capsys):
    make_project(tmp_path)
    damage_pages(tmp_path / "data" / "orders.parquet")

    code, err = build(tmp_path, capsys)

    assert code == 1
    assert "data/orders.parquet: unreadable Parquet file (table orders): " in err
    assert "Internal error" not in err
    assert not (tmp_path / "site").exists()


def test_a_mapping_failing_on_its_data_stops_the_build_with_a_clean_error(tmp_path, capsys):
    make_project(tmp_path)
    (tmp_path / "data" / "interactions.parquet").unlink()
    (tmp_path / "raw.csv").write_text("id,contact,seen\nI1,C0000001,yesterday\n", encoding="utf-8")
    config = (tmp_path / "mkdocs.yml").read_text(encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text(
        config + "      sources: {talks: raw.csv}\n      tables:\n        interactions:\n"
        "          from: talks\n          columns: {interaction_id: id, contact_id: contact,\n"
        "                    occurred_at: 'CAST(seen AS TIMESTAMPTZ)'}\n",
        encoding="utf-8",
    )

    code, err = build(tmp_path, capsys)

    assert code == 1
    assert (
        "table interactions (mapping in mkdocs.yml:13, plugins.kpisite.tables.interactions; "
        "source talks at mkdocs.yml:11): Conversion Error: "
    ) in err
    assert "yesterday" in err
    assert "Internal error" not in err
