"""Campaign rates count responses among delivered pairs only, so they stay within 0-100 %.

A hand-made extract where some (campaign, contact) pairs were opened, clicked or
unsubscribed without any `delivered` event (a bounce, a forwarded copy). Reporting zone
Europe/Paris; both campaigns were sent in October 2026.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from kpi_fixture import write_campaigns

from kpi.catalog import Catalog
from kpi.engine import Workbook
from kpi.errors import CatalogError
from kpi.project import Project

CAMPAIGNS = [
    ("k1", "Octobre", "email", "newsletter", "2026-10-01T08:00"),
    ("k2", "Relance", "email", "automation", "2026-10-15T08:00"),
]

EVENTS = [
    # campaign_id, contact_id, event_type, occurred_at, is_machine_open
    ("k1", "c1", "delivered", "2026-10-01T08:01", None),
    ("k1", "c1", "open", "2026-10-01T09:00", False),
    ("k1", "c1", "click", "2026-10-01T09:05", None),
    ("k1", "c2", "bounce", "2026-10-01T08:01", None),
    ("k1", "c2", "open", "2026-10-01T10:00", False),  # opened, never delivered
    ("k1", "c3", "open", "2026-10-01T10:00", None),  # no delivery at all
    ("k1", "c3", "click", "2026-10-01T10:01", None),
    ("k1", "c3", "reply", "2026-10-01T11:00", None),
    ("k1", "c3", "unsubscribe", "2026-10-01T12:00", None),
    ("k1", "c4", "delivered", "2026-10-01T08:01", None),
    ("k1", "c4", "open", "2026-10-01T08:02", True),  # a machine open
    ("k1", "c4", "reply", "2026-10-31T12:00", None),  # 13:00 in Paris, 31 October
    # The QA's case: 1 delivered pair, 3 opened pairs.
    ("k2", "c1", "delivered", "2026-10-15T08:01", None),
    ("k2", "c1", "open", "2026-10-15T09:00", False),
    ("k2", "c2", "open", "2026-10-15T09:00", False),
    ("k2", "c3", "open", "2026-10-15T09:00", False),
]


@pytest.fixture
def project(tmp_path) -> Project:
    write_campaigns(tmp_path / "data", CAMPAIGNS, EVENTS)
    (tmp_path / "mkdocs.yml").write_text("site_name: t\n")
    return Project.from_options(tmp_path, {})


def test_responses_count_only_among_delivered_pairs(project):
    book = Workbook(project)
    values = book.values(
        ["delivered", "human_opens", "clickers", "responsive_contacts", "unsubscribes"],
        "2026-10",
    )
    # Delivered pairs: (k1, c1), (k1, c4), (k2, c1) -> 3.
    assert values["delivered"].raw == 3
    # Human opens among them: (k1, c1) and (k2, c1); (k1, c4) is a machine open; the
    # opens of (k1, c2), (k1, c3), (k2, c2), (k2, c3) answer no delivered email -> 2, not 6.
    assert values["human_opens"].raw == 2
    # Clicks: (k1, c1); (k1, c3) was never delivered -> 1.
    assert values["clickers"].raw == 1
    # Clicked or replied: (k1, c1) click, (k1, c4) reply -> 2.
    assert values["responsive_contacts"].raw == 2
    # Unsubscribed: only (k1, c3), never delivered -> 0.
    assert values["unsubscribes"].raw == 0


def test_campaign_rates_stay_within_zero_and_one(project):
    book = Workbook(project)
    rates = book.values(
        ["open_rate", "click_rate", "responsiveness_rate", "unsubscribe_rate"], "2026-10"
    )
    assert rates["open_rate"].raw == Decimal(2) / Decimal(3)
    assert rates["click_rate"].raw == Decimal(1) / Decimal(3)
    assert rates["responsiveness_rate"].raw == Decimal(2) / Decimal(3)
    assert rates["unsubscribe_rate"].raw == 0


def test_one_delivered_pair_and_three_opened_pairs_is_one_hundred_percent(project):
    # By campaign: Octobre delivered (c1, c4), opened by a person c1 -> 1 / 2; Relance
    # delivered c1, opened by c1, c2, c3 -> 1 / 1, not 300 %.
    table = Workbook(project).breakdown(["delivered", "open_rate"], "2026-10", by="campaign")
    rows = {str(label): (v["delivered"].raw, v["open_rate"].raw) for label, v in table.rows}
    assert rows == {"Octobre": (2, Decimal("0.5")), "Relance": (1, Decimal(1))}
    assert table.rows[1][1]["open_rate"].formatted == "100,0\xa0%"


def test_among_with_a_time_per_row(tmp_path, project):
    # A project KPI dated by the event's own time: pairs opened by a person in the
    # period that were also delivered in it. 15 October (Paris): k2 c1 delivered and
    # opened; k2 c2 and c3 opened only -> 1. 1 October: k1 c1 -> 1 (c2, c3 not
    # delivered; c4's open is a machine's). October -> 2.
    catalog = tmp_path / "kpis.yml"
    catalog.write_text(
        "kpis:\n  opened_delivered:\n    kind: measure\n    table: campaign_events\n"
        "    time: occurred_at\n"
        '    filter: event_type == "open" and not is_machine_open\n'
        '    among: event_type == "delivered"\n'
        "    value: count_distinct(campaign_id, contact_id)\n    unit: count\n",
        encoding="utf-8",
    )
    book = Workbook(Project.from_options(project.root, {"catalogs": ["kpis.yml"]}))
    assert book.value("opened_delivered", "2026-10-15").raw == 1
    assert book.value("opened_delivered", "2026-10-01").raw == 1
    assert book.value("opened_delivered", "2026-10").raw == 2


def test_among_applies_to_distinct_counts_only(tmp_path):
    path = tmp_path / "kpis.yml"
    path.write_text(
        "kpis:\n  x:\n    kind: measure\n    table: campaign_events\n"
        "    time: occurred_at\n    value: count()\n"
        '    among: event_type == "delivered"\n',
        encoding="utf-8",
    )
    with pytest.raises(CatalogError) as error:
        Catalog.load([path])
    assert str(error.value) == (
        f"{path}:7: KPI x: among: applies to distinct counts, not to 'count()' "
        "(expected value: count_distinct(...))"
    )
