"""Breakdown rows: the members of every KPI of the breakdown, a count of 0 where a member
has no row, rows that add up to the total, and real values kept apart from the built-in
rows ("Autres", "(non renseigné)", "(sans contact)") even when they are written the same.

A hand-made extract (reporting zone Europe/Paris, October 2026): five contacts created
on 1 January 2026, none deleted, so all exist at the end of October.
"""

from __future__ import annotations

import json
from decimal import Decimal

import duckdb
import pytest
from conftest import ROOT
from kpi_fixture import write_contacts, write_orders

from kpi.engine import Workbook
from kpi.project import Project
from kpi.values import BLANK, OTHER, Member, no_row, parse_member
from site_builder.cli import main

CONTACTS = [
    # contact_id, email, country_code, city, lead_source, created_at, deleted_at
    ("c1", "a@x.fr", "FR", "Paris", "web", "2026-01-01T00:00", None),
    ("c2", "b@x.fr", "FR", "Québec", "Autres", "2026-01-01T00:00", None),
    # A city written as the blank member's label: a real value all the same.
    ("c3", "c@x.fr", "FR", "(non renseigné)", "Autres", "2026-01-01T00:00", None),
    ("c4", "d@x.fr", "FR", None, "ads", "2026-01-01T00:00", None),
    ("c5", "e@x.fr", "FR", "Paris", " Autres ", "2026-01-01T00:00", None),
]

ORDERS = [
    # order_id, contact_id, ordered_at, status, is_test, total_amount, channel, country_code
    ("o1", "c1", "2026-10-05T10:00", "completed", False, "100.00", "web", "FR"),
    ("o2", "c3", "2026-10-06T10:00", "completed", False, "30.00", "web", "FR"),
    ("o3", None, "2026-10-07T10:00", "completed", False, "20.00", "web", "FR"),  # a guest
    ("o4", "c4", "2026-10-08T10:00", "completed", False, "10.00", "web", "FR"),
    ("o5", "c5", "2026-10-09T10:00", "completed", False, "5.00", "web", "FR"),
    ("o6", "c1", "2026-10-10T10:00", "completed", False, "40.00", "web", "FR"),
    # Later orders: the data reaches past October's end, up to the day before the
    # fixture's recorded extraction time (kpi_fixture.EXTRACTED_AT).
    ("o7", "c1", "2026-11-02T10:00", "completed", False, "1.00", "web", "FR"),
    ("o8", "c1", "2027-01-04T12:00", "completed", False, "1.00", "web", "FR"),
]

REAL_BLANK_LABEL = Member("value", "(non renseigné)")
REAL_OTHER = Member("value", "Autres")


@pytest.fixture
def project(tmp_path) -> Project:
    write_contacts(tmp_path / "data", CONTACTS)
    write_orders(tmp_path / "data", ORDERS)
    (tmp_path / "mkdocs.yml").write_text("site_name: t\nplugins:\n  - kpisite\n")
    return Project.from_options(tmp_path, {})


@pytest.fixture
def book(project) -> Workbook:
    return Workbook(project)


def rows_of(table, names) -> list[tuple]:
    return [(member, *(values[n].raw for n in names)) for member, values in table.rows]


def test_members_are_those_of_every_kpi_and_a_missing_count_is_zero(book):
    # By city: Paris c1 c5 (orders o1 o5 o6: 145.00), Québec c2 (no order), the real
    # value "(non renseigné)" c3 (o2: 30.00), blank c4 (o4: 10.00), and the guest order
    # o3 (20.00) with no contact. Ranked by contacts: Paris 2, then the ties of 1 by
    # label ('"(non renseigné)"', '(non renseigné)', 'Québec'), then no contact (0).
    names = ["contacts_existing", "orders_count", "revenue", "average_basket"]
    table = book.breakdown(names, "2026-10", by="city", top=None)
    assert rows_of(table, names) == [
        (Member("value", "Paris"), 2, 3, Decimal("145.00"), Decimal("145.00") / 3),
        (REAL_BLANK_LABEL, 1, 1, Decimal("30.00"), Decimal(30)),
        (BLANK, 1, 1, Decimal("10.00"), Decimal(10)),
        (Member("value", "Québec"), 1, 0, Decimal(0), None),
        (no_row("contacts"), 0, 1, Decimal("20.00"), Decimal(20)),
    ]
    # Québec: 0 orders and 0,00 €, as a filter on it gives; a basket over no order is n/a.
    quebec = dict(table.rows)[Member("value", "Québec")]
    assert quebec["orders_count"].formatted == "0"
    assert quebec["revenue"].formatted == "0,00\xa0€"
    assert quebec["average_basket"].reason == "n/a : aucune commande terminée sur la période"
    filtered = book.values(["orders_count", "revenue"], "2026-10", {"city": "Québec"})
    assert (filtered["orders_count"].raw, filtered["revenue"].raw) == (0, 0)
    # The rows add up to the totals: 5 contacts, 6 orders, 205.00.
    total = table.total[1]
    for name in ("contacts_existing", "orders_count", "revenue"):
        assert sum(values[name].raw for _, values in table.rows) == total[name].raw
    assert [total[n].raw for n in names[:3]] == [5, 6, Decimal("205.00")]


def test_shown_rows_and_other_add_up_to_the_total(book):
    # Top 2 by contacts: Paris, then the real "(non renseigné)"; "Autres" is Québec,
    # the blank city and the guest order: 2 contacts, 2 orders (o4 o3), 30.00.
    names = ["contacts_existing", "orders_count", "revenue"]
    table = book.breakdown(names, "2026-10", by="city", top=2)
    assert rows_of(table, names) == [
        (Member("value", "Paris"), 2, 3, Decimal("145.00")),
        (REAL_BLANK_LABEL, 1, 1, Decimal("30.00")),
        (OTHER, 2, 2, Decimal("30.00")),
    ]
    assert table.labels() == ["Paris", '"(non renseigné)"', "Autres"]


def test_a_real_autres_is_not_the_other_row(book):
    # Orders by the buyer's lead source: web c1 (o1 o6: 2), the real "Autres" c3 and
    # " Autres " c5 trimmed (o2 o5: 2), ads c4 (o4: 1), no contact (o3: 1). The tie of 2
    # is broken by label: '"Autres"' sorts before 'web'. Top 1: the real "Autres", then
    # the other row: web 2 + ads 1 + guest 1 = 4; 2 + 4 = 6, the total.
    table = book.breakdown(["orders_count"], "2026-10", by="lead_source", top=1)
    assert rows_of(table, ["orders_count"]) == [(REAL_OTHER, 2), (OTHER, 4)]
    assert table.labels() == ['"Autres"', "Autres"]
    # Labels a chart can tell apart; in English the real value needs no quotes.
    assert table.labels({"other": "Other"}) == ["Autres", "Other"]


def test_a_value_written_as_a_label_is_selected_by_its_quoted_label(book):
    def orders(**filters) -> Decimal:
        return book.value("orders_count", "2026-10", filters=filters).raw

    assert orders(city="(non renseigné)") == 1  # the blank city: c4's o4
    assert orders(city='"(non renseigné)"') == 1  # the real value: c3's o2
    assert book.value("revenue", "2026-10", {"city": '"(non renseigné)"'}).raw == 30
    assert orders(city="(sans contact)") == 1  # the guest order o3
    assert orders(lead_source="Autres") == 2  # no filter selects the other row
    assert orders(lead_source='"Autres"') == 2
    assert orders(city={"not": ["Paris", "(sans contact)"]}) == 2  # o2 and o4


def test_members_keep_their_kind_through_the_disk_cache(project):
    Workbook(project).breakdown(["orders_count"], "2026-10", by="city", top=None)
    again = Workbook(project)
    table = again.breakdown(["orders_count"], "2026-10", by="city", top=None)
    assert again.stats.queries == 0
    assert {member for member, _ in table.rows} == {
        Member("value", "Paris"),
        REAL_BLANK_LABEL,
        BLANK,
        no_row("contacts"),
    }
    assert again.members("revenue", "city") == {
        Member("value", "Paris"),
        Member("value", "Québec"),
        REAL_BLANK_LABEL,
        BLANK,
        no_row("contacts"),
    }


def test_labels_and_their_parsing_map_one_to_one():
    members = [
        REAL_OTHER,
        OTHER,
        REAL_BLANK_LABEL,
        BLANK,
        no_row("contacts"),
        Member("value", '"x"'),
    ]
    labels = [member.label() for member in members]
    assert labels == [
        '"Autres"',
        "Autres",
        '"(non renseigné)"',
        "(non renseigné)",
        "(sans contact)",
        '""x""',
    ]
    # Each label but the other row's names its member again.
    assert [parse_member(label) for label in labels if label != "Autres"] == [
        REAL_OTHER,
        REAL_BLANK_LABEL,
        BLANK,
        no_row("contacts"),
        Member("value", '"x"'),
    ]  # fmt: skip
    assert parse_member("n/a", blanks=["n/a"]) == BLANK


def query(capsys, project, *args) -> tuple[int, str, str]:
    code = main(["query", *args, "--period", "2026-10", "--project", str(project.root)])
    out, err = capsys.readouterr()
    return code, out, err


def test_query_json_rows_say_member_kind_and_label(project, capsys):
    code, out, _ = query(
        capsys, project, "orders_count", "--by", "lead_source", "--top", "2", "--json"
    )
    value = json.loads(out)["values"]["orders_count"]
    assert code == 0
    # '"Autres"' 2 and web 2 shown, then the other row: ads 1 + the guest order 1.
    assert [(r["member"], r["kind"], r["label"], r["value"]) for r in value["by"]] == [
        ("Autres", "value", '"Autres"', 2),
        ("web", "value", "web", 2),
        (None, "other", "Autres", 2),
    ]
    assert sum(row["value"] for row in value["by"]) == value["value"] == 6


def test_query_json_has_both_rows_written_the_same(project, capsys):
    # Orders alone: Québec, with no order, is no member of this breakdown.
    code, out, _ = query(capsys, project, "orders_count", "--by", "city", "--json")
    rows = json.loads(out)["values"]["orders_count"]["by"]
    assert code == 0
    assert [(r["member"], r["kind"], r["label"], r["value"]) for r in rows] == [
        ("Paris", "value", "Paris", 3),
        ("(non renseigné)", "value", '"(non renseigné)"', 1),
        (None, "blank", "(non renseigné)", 1),
        (None, "no_row", "(sans contact)", 1),
    ]


def test_query_text_and_filters_on_built_in_members(project, capsys):
    code, out, _ = query(capsys, project, "orders_count", "--by", "lead_source", "--top", "1")
    assert code == 0
    assert out.splitlines()[2:] == ['      "Autres": 2', "      Autres: 4"]
    code, out, _ = query(capsys, project, "revenue", "--filter", "city=(sans contact)")
    assert (code, out.splitlines()[1:]) == (
        0,
        ["  filtered on city = (sans contact)", "  Chiffre d'affaires [revenue]: 20,00\xa0€"],
    )
    code, out, _ = query(capsys, project, "revenue", "--filter", 'city="(non renseigné)"')
    assert (code, out.splitlines()[1:]) == (
        0,
        ['  filtered on city = "(non renseigné)"', "  Chiffre d'affaires [revenue]: 30,00\xa0€"],
    )


def test_breakdown_rows_match_independent_sql_on_the_bundled_extract():
    # November 2026 (Paris) on the bundled extract: contacts existing at the end and
    # completed orders by the buyer's city, counted by DuckDB SQL written here.
    book = Workbook(Project.from_options(ROOT, {}), cache=False)
    names = ["contacts_existing", "orders_count"]
    table = book.breakdown(names, "2026-11", by="city", top=None)
    found = {str(member): (v[names[0]].raw, v[names[1]].raw) for member, v in table.rows}

    con = duckdb.connect()
    data = ROOT / "data"
    member = (
        "CASE WHEN trim({c}) IS NULL OR lower(trim({c})) IN ('', 'n/a', 'na', '-', 'none', "
        "'null') THEN '(non renseigné)' ELSE trim({c}) END"
    )
    end = "TIMESTAMPTZ '2026-11-30 23:00:00+00'"
    contacts = con.sql(
        f"SELECT {member.format(c='city')} AS m, count(*) FROM '{data}/contacts.parquet' "
        f"WHERE created_at < {end} AND (deleted_at IS NULL OR deleted_at >= {end}) GROUP BY m"
    ).fetchall()
    orders = con.sql(
        f"SELECT CASE WHEN c.contact_id IS NULL THEN '(sans contact)' ELSE "
        f"{member.format(c='c.city')} END AS m, count(*) FROM '{data}/orders.parquet' o "
        f"LEFT JOIN '{data}/contacts.parquet' c USING (contact_id) WHERE o.status = "
        "'completed' AND NOT coalesce(o.is_test, false) AND o.ordered_at >= TIMESTAMPTZ "
        f"'2026-10-31 23:00:00+00' AND o.ordered_at < {end} GROUP BY m"
    ).fetchall()
    expected = {m: (0, 0) for m, _ in contacts + orders}
    for m, n in contacts:
        expected[m] = (n, expected[m][1])
    for m, n in orders:
        expected[m] = (expected[m][0], n)
    assert found == expected
    assert found["(sans contact)"][1] > 0  # guest orders exist, and are counted
    assert any(c > 0 and n == 0 for c, n in found.values())  # a city with no order: 0
