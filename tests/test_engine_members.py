"""Breakdown members: blank values make one member, a guest order has no buyer, and
filters select members the way breakdowns show them.

A hand-made extract (reporting zone Europe/Paris, October 2026); every contact was created
on 1 January 2026 and none is deleted, so all nine exist at the end of October.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from kpi_fixture import write_contacts, write_orders

from kpi.engine import Workbook
from kpi.project import Project

CONTACTS = [
    # contact_id, email, country_code, city, lead_source, created_at, deleted_at
    ("c1", "a@x.fr", "FR", "Paris", "web", "2026-01-01T00:00", None),
    ("c2", "b@x.fr", "FR", " Paris ", " web ", "2026-01-01T00:00", None),
    ("c3", "c@x.fr", "FR", "Lyon", "n/a", "2026-01-01T00:00", None),
    ("c4", "d@x.fr", "FR", "\t", "N/A", "2026-01-01T00:00", None),
    ("c5", "e@x.fr", "FR", None, "", "2026-01-01T00:00", None),
    ("c6", "f@x.fr", "FR", "n/a", "\t", "2026-01-01T00:00", None),
    ("c7", "g@x.fr", "FR", "Lyon", None, "2026-01-01T00:00", None),
    ("c8", "h@x.fr", "FR", "Nice", "ads", "2026-01-01T00:00", None),
    ("c9", "i@x.fr", "FR", "NULL", "none", "2026-01-01T00:00", None),
]

ORDERS = [
    # order_id, contact_id, ordered_at, status, is_test, total_amount, channel, country_code
    ("o1", "c1", "2026-10-05T10:00", "completed", False, "100.00", "web", "FR"),
    ("o2", "c3", "2026-10-06T10:00", "completed", False, "30.00", "store", "FR"),
    ("o3", None, "2026-10-07T10:00", "completed", False, "20.00", "web", "FR"),  # a guest
    ("o4", "c4", "2026-10-08T10:00", "completed", False, "10.00", "store", "FR"),
    # A buyer absent from the contacts table: no contact to read a city from either.
    ("o5", "ghost", "2026-10-09T10:00", "completed", False, "7.00", " web", "FR"),
    ("o6", "c8", "2026-11-02T10:00", "completed", False, "5.00", "web", "FR"),
]


@pytest.fixture
def book(tmp_path) -> Workbook:
    write_contacts(tmp_path / "data", CONTACTS)
    write_orders(tmp_path / "data", ORDERS)
    (tmp_path / "mkdocs.yml").write_text("site_name: t\n")
    return Workbook(Project.from_options(tmp_path, {}))


def by(book, name: str, dimension: str, **options) -> dict:
    table = book.breakdown([name], "2026-10", by=dimension, other=False, **options)
    return {str(label): values[name].raw for label, values in table.rows}


def test_blank_values_and_placeholders_make_one_member(book):
    # Lead sources, trimmed: web c1 " web " c2; ads c8; blank (placeholders n/a, N/A,
    # none, empty, a tab, null): c3 c4 c5 c6 c7 c9.
    assert by(book, "contacts_existing", "lead_source") == {
        "(non renseigné)": 6,
        "web": 2,
        "ads": 1,
    }
    assert book.dimension_values("contacts_existing", "lead_source") == {
        "web",
        "ads",
        "(non renseigné)",
    }


def test_filters_select_members_as_breakdowns_show_them(book):
    def count(**filters) -> Decimal:
        return book.value("contacts_existing", "2026-10", filters=filters).raw

    assert count(lead_source="(non renseigné)") == 6
    assert count(lead_source="N/A") == 6  # a placeholder is the blank member too
    assert count(lead_source=None) == 6
    assert count(lead_source=" web") == 2  # c1 and c2, trimmed
    assert count(lead_source=["web", "ads"]) == 3
    assert count(lead_source={"not": ["web", "(non renseigné)"]}) == 1


def test_a_guest_order_is_no_contact_with_a_blank_city(book):
    # October revenue by the buyer's city: Paris c1 100.00; Lyon c3 30.00; blank city
    # (c4's tab) 10.00; no contact: the guest o3 20.00 and o5 whose buyer is not in the
    # contacts table 7.00 -> 27.00.
    assert by(book, "revenue", "city") == {
        "Paris": Decimal("100.00"),
        "Lyon": Decimal("30.00"),
        "(sans contact)": Decimal("27.00"),
        "(non renseigné)": Decimal("10.00"),
    }
    assert book.value("revenue", "2026-10", {"city": "(sans contact)"}).raw == Decimal("27.00")
    assert book.value("revenue", "2026-10", {"city": "(non renseigné)"}).raw == Decimal("10.00")


def test_revenue_per_contact_by_city(book):
    # Contacts existing at the end of October by city: Paris c1 c2 (2), Lyon c3 c7 (2),
    # Nice c8 (1), blank c4 c5 c6 c9 (4). revenue / contacts: Paris 100.00 / 2 = 50;
    # Lyon 30.00 / 2 = 15; blank 10.00 / 4 = 2.5; Nice 0 / 1 = 0; no contact 27.00 / 0:
    # n/a, ranked last.
    table = book.breakdown(["revenue_per_contact"], "2026-10", by="city", other=False)
    rows = [(str(label), values["revenue_per_contact"]) for label, values in table.rows]
    assert [(label, value.raw) for label, value in rows] == [
        ("Paris", Decimal(50)),
        ("Lyon", Decimal(15)),
        ("(non renseigné)", Decimal("2.5")),
        ("Nice", Decimal(0)),
        ("(sans contact)", None),
    ]
    assert rows[-1][1].reason == "n/a : aucun contact à la fin de la période"


def test_active_customers_absent_from_the_contacts_table_are_no_contact(book):
    # Active at the end of October (window 3 August - 31 October): c1, c3, c4 and the
    # unknown buyer "ghost"; the guest order has no buyer to be active.
    assert by(book, "active_customers", "city") == {
        "Paris": 1,
        "Lyon": 1,
        "(non renseigné)": 1,
        "(sans contact)": 1,
    }
    assert book.value("active_customers", "2026-10").raw == 4


def test_channel_members_are_trimmed(book):
    # o5's channel " web" is web: o1 100.00, o3 20.00, o5 7.00; store o2 30.00, o4 10.00.
    assert by(book, "revenue", "channel") == {"web": Decimal("127.00"), "store": Decimal("40.00")}
