"""The disk cache: a rebuild runs no query; a changed table re-runs only its KPIs."""

from __future__ import annotations

import os
from decimal import Decimal

from kpi_fixture import ORDERS, make_project, write_orders

from kpi.engine import Workbook
from kpi.project import Project

NAMES = ["revenue", "orders_count", "contacts_existing", "active_customers", "open_rate", "nps"]


def test_second_workbook_reads_everything_from_disk(tmp_path):
    project = make_project(tmp_path)
    first = Workbook(project)
    values = first.compare_many(NAMES, "2026-10")
    # orders, contacts, activity, campaign events, survey responses; and the coverage of
    # the data for the comparisons: one min/max per dated table (5 in the fixture).
    assert first.stats.queries == 10

    second = Workbook(project)
    again = second.compare_many(NAMES, "2026-10")
    assert second.stats.queries == 0
    assert second.stats.from_cache > 0
    assert {n: c.current.raw for n, c in again.items()} == {
        n: c.current.raw for n, c in values.items()
    }
    assert again["revenue"].current.raw == Decimal("200.50")


def test_changed_orders_rerun_only_the_kpis_reading_orders(tmp_path):
    project = make_project(tmp_path)
    Workbook(project).values(NAMES, "2026-10")

    # One more October order; the file's size and time change, so its fingerprint does.
    extra = ("o99", "c9", "2026-10-10T10:00", "completed", False, "9.50", "web", "BE")
    write_orders(tmp_path / "data", [*ORDERS, extra])
    os.utime(tmp_path / "data" / "orders.parquet", ns=(1, 1))

    book = Workbook(project)
    values = book.values(NAMES, "2026-10")
    # Orders measures, activity (which reads orders) and the time bounds of orders run
    # again; contacts, campaign events and survey responses come from the cache.
    assert book.stats.queries == 3
    assert values["revenue"].raw == Decimal("210.00")
    assert values["active_customers"].raw == 5  # c9 is now active
    assert values["contacts_existing"].raw == 6


def test_a_project_override_changes_only_that_kpi(tmp_path):
    make_project(tmp_path)
    Workbook(Project.from_options(tmp_path, {})).values(NAMES, "2026-10")

    (tmp_path / "kpis.yml").write_text(
        'kpis:\n  revenue:\n    filter: status == "completed"\n', encoding="utf-8"
    )
    book = Workbook(Project.from_options(tmp_path, {"catalogs": ["kpis.yml"]}))
    values = book.values(NAMES, "2026-10")
    # Only the orders query runs again (revenue now keeps test orders: + o6 500.00).
    assert book.stats.queries == 1
    assert values["revenue"].raw == Decimal("700.50")
    assert values["orders_count"].raw == 4


def test_memory_only_cache(tmp_path):
    project = make_project(tmp_path)
    book = Workbook(project, cache=False)
    book.value("revenue", "2026-10")
    book.value("revenue", "2026-10")
    # The orders query once, and once the time bounds of the 5 dated tables (is October
    # covered by the data?).
    assert book.stats.queries == 6
    assert not (project.cache_dir / "kpi-cache.sqlite").exists()


def test_a_new_label_or_target_runs_no_query(tmp_path):
    make_project(tmp_path)
    Workbook(Project.from_options(tmp_path, {})).values(NAMES, "2026-10")
    (tmp_path / "kpis.yml").write_text(
        "kpis:\n  revenue:\n    label: CA\n    target: 1000\n", encoding="utf-8"
    )
    book = Workbook(Project.from_options(tmp_path, {"catalogs": ["kpis.yml"]}))
    value = book.value("revenue", "2026-10")
    assert book.stats.queries == 0
    assert (value.label, value.raw) == ("CA", Decimal("200.50"))


def test_close_releases_the_cache_and_a_new_workbook_reads_it(tmp_path):
    project = make_project(tmp_path)
    first = Workbook(project)
    first.value("revenue", "2026-10")
    first.close()
    second = Workbook(project)
    assert second.value("revenue", "2026-10").raw == Decimal("200.50")
    assert second.stats.queries == 0
    second.close()


def test_members_of_a_dimension_come_from_the_disk_cache(tmp_path):
    # A page filtering on channel=web checks "web" against the members: a rebuild after
    # a page edit must not query them again.
    project = make_project(tmp_path)
    first = Workbook(project)
    assert first.dimension_values("revenue", "channel") == {"web", "store", "marketplace", "phone"}
    assert first.stats.queries == 1

    second = Workbook(project)
    assert second.dimension_values("revenue", "channel") == {"web", "store", "marketplace", "phone"}
    assert second.stats.queries == 0

    # A new orders file changes the members: they are queried again.
    extra = ("o99", "c9", "2026-10-10T10:00", "completed", False, "9.50", "mail", "BE")
    write_orders(tmp_path / "data", [*ORDERS, extra])
    os.utime(tmp_path / "data" / "orders.parquet", ns=(1, 1))
    third = Workbook(project)
    assert "mail" in third.dimension_values("revenue", "channel")
    assert third.stats.queries == 1


def test_a_renamed_partition_folder_changes_the_values(tmp_path):
    # Contacts written as hive partitions by lead source, the column held by the folder
    # names only (c9, with no lead source, is left out). Existing at the end of October:
    # c1 c3 (web), c2 c8 (referral), c5 (ads); c4 and c7 are deleted, c6 comes in
    # November.
    import pyarrow.parquet as pq
    from kpi_fixture import write_contacts

    project = make_project(tmp_path)
    data = tmp_path / "data"
    write_contacts(data)
    table = pq.read_table(data / "contacts.parquet")
    (data / "contacts.parquet").unlink()
    sources = table.column("lead_source").to_pylist()
    for source in sorted({s for s in sources if s}):
        rows = [i for i, s in enumerate(sources) if s == source]
        folder = data / "contacts" / f"lead_source={source}"
        folder.mkdir(parents=True)
        pq.write_table(table.take(rows).drop_columns(["lead_source"]), folder / "part-0.parquet")

    def by_source(book) -> dict:
        table = book.breakdown(["contacts_existing"], "2026-10", by="lead_source")
        return {str(member): values["contacts_existing"].raw for member, values in table.rows}

    assert by_source(Workbook(project)) == {"web": 2, "referral": 2, "ads": 1}
    # The same file, its size and time unchanged, under another folder name.
    folder = data / "contacts" / "lead_source=web"
    folder.rename(data / "contacts" / "lead_source=web_form")
    book = Workbook(project)
    assert by_source(book) == {"web_form": 2, "referral": 2, "ads": 1}
    assert book.stats.queries > 0


def test_a_file_edited_to_the_same_size_and_time_is_read_again(tmp_path):
    # What `cp -p edited.parquet orders.parquet` does: the same size (o1's amount 100.00
    # becomes 300.00; the file's size is checked below), the old modification time put
    # back. October revenue: 200.50 - 100.00 + 300.00 = 400.50.
    project = make_project(tmp_path)
    orders = tmp_path / "data" / "orders.parquet"
    assert Workbook(project).value("revenue", "2026-10").raw == Decimal("200.50")
    before = orders.stat()

    edited = [("o1", *ORDERS[0][1:5], "300.00", *ORDERS[0][6:]), *ORDERS[1:]]
    write_orders(tmp_path / "copy", edited)
    orders.write_bytes((tmp_path / "copy" / "orders.parquet").read_bytes())
    os.utime(orders, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = orders.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)

    book = Workbook(project)
    assert book.value("revenue", "2026-10").raw == Decimal("400.50")
    assert book.stats.from_cache == 0


def test_cached_reasons_are_in_the_language_of_the_project(tmp_path):
    make_project(tmp_path)
    (tmp_path / "data" / "campaign_events.parquet").unlink()
    french = Project.from_options(tmp_path, {})
    english = Project.from_options(tmp_path, {"locale": "en_US"})

    # The same cache folder, in turn: neither language is served the other's reasons.
    for project, reason, label in (
        (french, "n/a : pas de table campaign_events dans l'extrait", "Taux d'ouverture"),
        (english, "n/a: no campaign_events table in the extract", "Open rate"),
        (french, "n/a : pas de table campaign_events dans l'extrait", "Taux d'ouverture"),
    ):
        value = Workbook(project).value("open_rate", "2026-10")
        assert (value.raw, value.reason, value.label) == (None, reason, label)
