"""Orphan references: the warning says what the KPIs do with those rows, and each claim is
checked by computing the KPI with and without the orphans.

A KPI reading the referenced table through the reference (campaign KPIs are dated by
campaigns.sent_at, survey KPIs filter on survey_questions.kind) finds no row to join: the
orphans drop out. Any other KPI of the table counts them. Values are those of the KPI
fixture (tests/kpi_fixture.py), October 2026 in Paris, computed by hand below.
"""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
from kpi_fixture import EVENTS, ORDERS, make_project, write_campaigns, write_orders

from kpi.contract import check_project
from kpi.engine import Workbook

OCTOBER = "2026-10"


def orphan_warnings(project) -> list[str]:
    report = check_project(project)
    assert report.errors == []
    return [str(p) for p in report.warnings if "refer" in p.message]


def value(project, name: str):
    book = Workbook(project, cache=False)
    try:
        return book.value(name, OCTOBER).raw
    finally:
        book.close()


def test_campaign_events_of_an_unknown_campaign_are_left_out_of_the_campaign_kpis(tmp_path):
    clean = make_project(tmp_path / "clean")
    orphaned = make_project(tmp_path / "orphaned")
    k9 = [
        ("k9", "c1", "delivered", "2026-10-05T08:00", None),
        ("k9", "c2", "delivered", "2026-10-05T08:00", None),
        ("k9", "c1", "open", "2026-10-05T09:00", False),
    ]
    write_campaigns(tmp_path / "orphaned" / "data", events=[*EVENTS, *k9])

    # Delivered pairs of the campaigns sent in October: k1 to c1, c2, c3, c5 (c9 bounced)
    # and k3 to c1, c8; k9 has no campaign row, so no sending time: 6 either way.
    assert value(clean, "delivered") == value(orphaned, "delivered") == 6
    # Human opens among them: k1 by c1 and c3 (c2's is a machine's), k3 by c8.
    assert value(clean, "human_opens") == value(orphaned, "human_opens") == 3
    assert orphan_warnings(orphaned) == [
        "table campaign_events, column campaign_id: 3 rows refer to no row of campaigns: k9 "
        "(left out of 9 KPIs, which read campaigns through campaign_id: delivered, "
        "human_opens, clickers, responsive_contacts, unsubscribes, ...)"
    ]


def test_survey_responses_to_an_unknown_question_are_left_out_of_the_survey_kpis(tmp_path):
    clean = make_project(tmp_path / "clean")
    orphaned = make_project(tmp_path / "orphaned")
    path = tmp_path / "orphaned" / "data" / "survey_responses.parquet"
    responses = pq.read_table(path)
    gone = responses.slice(0, 1).to_pylist()[0] | {"response_id": "r99", "question_id": "q_gone"}
    table = pa.concat_tables([responses, pa.Table.from_pylist([gone], responses.schema)])
    pq.write_table(table.replace_schema_metadata(responses.schema.metadata), path)

    # Scored NPS answers submitted in October: c1 10, c2 10, c3 9, c5 9, c8 8, c9 6 and two
    # anonymous 0 and 3 = 8; the 10 given to q_gone has no question kind: 8 either way.
    assert value(clean, "nps_responses") == value(orphaned, "nps_responses") == 8
    assert orphan_warnings(orphaned) == [
        "table survey_responses, column survey_id, question_id: 1 row refers to no row of "
        "survey_questions: s1/q_gone (left out of 9 KPIs, which read survey_questions "
        "through survey_id, question_id: nps_responses, nps_promoters, nps_detractors, "
        "ces_responses, ces, ...)"
    ]


ORPHAN_ORDER = ("o50", "c404", "2026-10-10T10:00", "completed", False, "25.00", "web", "FR")


def test_orders_of_an_unknown_contact_are_counted(tmp_path):
    clean = make_project(tmp_path / "clean")
    orphaned = make_project(tmp_path / "orphaned")
    write_orders(tmp_path / "orphaned" / "data", [*ORDERS, ORPHAN_ORDER])

    # Completed October orders, tests left out: o1 100.00, o2 50.50, o4 30.00, o7 20.00.
    assert value(clean, "revenue") == Decimal("200.50")
    assert value(orphaned, "revenue") == Decimal("225.50")
    # Active at the end of October (90 days): c1, c2, c3, c8; c404 too with its order.
    assert (value(clean, "active_customers"), value(orphaned, "active_customers")) == (4, 5)
    assert orphan_warnings(orphaned) == [
        "table orders, column contact_id: 1 row refers to no row of contacts: c404 (counted by "
        "12 KPIs, with no contacts row to describe them: orders_count, revenue, "
        "active_customers, active_customers_start, churned, ...)"
    ]


FRENCH_BUYERS = """\
kpis:
  french_buyers_revenue:
    kind: measure
    label: CA des acheteurs français
    table: orders
    time: ordered_at
    filter: status == "completed" and contacts.country_code == "FR"
    value: sum(total_amount)
    unit: currency
"""


def test_a_project_kpi_reading_the_contact_leaves_the_orphans_out_and_says_so(tmp_path):
    for name in ("clean", "orphaned"):
        make_project(tmp_path / name)
        (tmp_path / name / "kpis.yml").write_text(FRENCH_BUYERS, encoding="utf-8")
    clean = make_project(tmp_path / "clean", catalogs=["kpis.yml"])
    orphaned = make_project(tmp_path / "orphaned", catalogs=["kpis.yml"])
    write_orders(tmp_path / "orphaned" / "data", [*ORDERS, ORPHAN_ORDER])

    # Completed October orders of French contacts: o1 100.00 and o2 50.50 (c1); o7 has no
    # contact, o4 and o6 are c3's (BE), and c404, unknown, has no country.
    assert value(clean, "french_buyers_revenue") == Decimal("150.50")
    assert value(orphaned, "french_buyers_revenue") == Decimal("150.50")
    assert orphan_warnings(orphaned) == [
        "table orders, column contact_id: 1 row refers to no row of contacts: c404 (left out "
        "of 1 KPI, which reads contacts through contact_id: french_buyers_revenue; counted "
        "by 12 others, with no contacts row to describe them: orders_count, revenue, "
        "active_customers, active_customers_start, churned, ...)"
    ]
