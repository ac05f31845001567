"""A tiny hand-made CRM extract for the KPI tests; every expected value is computed by hand
in tests/test_engine.py from the rows below.

Reporting zone Europe/Paris. October 2026 = [2026-09-30 22:00 UTC, 2026-10-31 23:00 UTC):
it crosses the end of summer time (25 October), so start and end have different offsets.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from kpi.extract import EXTRACTED_AT_KEY
from kpi.project import Project

TS = pa.timestamp("us", tz="UTC")
MONEY = pa.decimal128(18, 2)
# When the fixture says it was extracted: after its newest event (o12, 2027-01-04 12:00
# UTC), which is later than the day these tests were written; the engine ignores events
# after the extraction time, so the files record it.
EXTRACTED_AT = "2027-01-05T06:00:00+00:00"


def at(text: str) -> datetime:
    """A UTC instant from "2026-10-05T10:00"."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


CONTACTS = [
    # contact_id, email, country_code, city, lead_source, created_at, deleted_at
    ("c1", "a@x.fr", "FR", "Paris", "web", "2026-01-10T09:00", None),
    ("c2", "n/a", "FR", "Lyon", "referral", "2026-03-01T09:00", None),
    ("c3", "   ", "BE", "Liège", "web", "2026-05-01T09:00", None),
    # 23:00 in Paris on 30 September: exists at the start of October.
    ("c4", None, "FR", "Paris", "web", "2026-09-30T21:00", "2026-10-15T09:00"),
    # 23:30 in Paris on 31 October: created in October, exists at its end.
    ("c5", "b@y.be", "BE", "Bruxelles", "ads", "2026-10-31T22:30", None),
    # 00:30 in Paris on 1 November: not yet there at the end of October.
    ("c6", "NULL", "FR", "Paris", "ads", "2026-10-31T23:30", None),
    ("c7", "c@z.fr", "FR", "Nice", "web", "2025-01-01T09:00", "2026-06-01T09:00"),
    ("c8", "None", "FR", "Paris", "referral", "2026-02-01T09:00", None),
    ("c9", "d@w.fr", "BE", None, None, "2026-04-01T09:00", None),
]

ORDERS = [
    # order_id, contact_id, ordered_at, status, is_test, total_amount, channel, country_code
    ("o1", "c1", "2026-10-05T10:00", "completed", False, "100.00", "web", "FR"),
    ("o2", "c1", "2026-10-20T10:00", "completed", False, "50.50", "store", "FR"),
    # 23:30 in Paris on 30 September: a September order.
    ("o3", "c2", "2026-09-30T21:30", "completed", False, "200.00", "web", "FR"),
    # 23:30 in Paris on 31 October: an October order.
    ("o4", "c3", "2026-10-31T22:30", "completed", False, "30.00", "web", "BE"),
    ("o5", "c2", "2026-10-10T10:00", "cancelled", False, "999.00", "web", "FR"),
    ("o6", "c3", "2026-10-12T10:00", "completed", True, "500.00", "web", "BE"),
    # A guest order (no contact), is_test unknown: counted as an order, not as activity.
    ("o7", None, "2026-10-15T10:00", "completed", None, "20.00", "marketplace", "FR"),
    ("o8", "c5", "2026-11-01T00:30", "completed", False, "40.00", "web", "BE"),
    ("o9", "c4", "2026-07-15T10:00", "completed", False, "60.00", "phone", "FR"),
    # 00:30 in Paris on 3 August: inside the 90 calendar days before 1 November (Paris),
    # outside 90 x 24 hours (summer time ended in between).
    ("o10", "c8", "2026-08-02T22:30", "completed", False, "10.00", "web", "FR"),
    # Week 53 of 2026 (Monday 28 December 2026 to Sunday 3 January 2027).
    ("o11", "c1", "2027-01-03T12:00", "completed", False, "70.00", "web", "FR"),
    ("o12", "c1", "2027-01-04T12:00", "completed", False, "80.00", "web", "FR"),
]

CAMPAIGNS = [
    ("k1", "Newsletter octobre", "email", "newsletter", "2026-10-02T08:00"),
    # 23:00 in Paris on 30 September: a September campaign.
    ("k2", "Relance", "email", "automation", "2026-09-30T21:00"),
    ("k3", "Promo", "email", "newsletter", "2026-10-20T08:00"),
]

EVENTS = [
    # campaign_id, contact_id, event_type, occurred_at, is_machine_open
    ("k1", "c1", "delivered", "2026-10-02T08:01", None),
    ("k1", "c1", "delivered", "2026-10-02T08:02", None),  # duplicate event
    ("k1", "c2", "delivered", "2026-10-02T08:01", None),
    ("k1", "c3", "delivered", "2026-10-02T08:01", None),
    ("k1", "c5", "delivered", "2026-10-02T08:01", None),
    ("k1", "c9", "bounce", "2026-10-02T08:01", None),
    ("k1", "c1", "open", "2026-10-02T09:00", False),
    ("k1", "c1", "open", "2026-10-03T09:00", False),  # duplicate open
    ("k1", "c2", "open", "2026-10-02T08:01", True),  # machine open
    ("k1", "c3", "open", "2026-10-02T10:00", None),  # unknown: a human open
    ("k1", "c1", "click", "2026-10-02T09:01", None),
    ("k1", "c1", "click", "2026-11-02T09:01", None),  # later, but k1 was sent in October
    ("k1", "c3", "reply", "2026-10-04T09:01", None),
    ("k1", "c5", "unsubscribe", "2026-10-05T09:01", None),
    ("k3", "c1", "delivered", "2026-10-20T08:01", None),
    ("k3", "c8", "delivered", "2026-10-20T08:01", None),
    ("k3", "c8", "open", "2026-10-20T09:00", False),
    ("k3", "c8", "click", "2026-10-20T09:01", None),
    ("k3", "c1", "reply", "2026-10-21T09:01", None),
    ("k2", "c1", "delivered", "2026-09-30T21:01", None),
    ("k2", "c2", "delivered", "2026-09-30T21:01", None),
    ("k2", "c1", "open", "2026-09-30T22:30", False),
    ("k2", "c2", "click", "2026-09-30T22:31", None),
]

QUESTIONS = [
    ("s1", "q_nps", "Recommanderiez-vous ?", "nps", 0, 10),
    ("s1", "q_ces", "Facilité", "ces", 1, 7),
    ("s1", "q_csat", "Satisfaction", "csat", 1, 5),
    ("s1", "q_choice", "Canal préféré", "choice", None, None),
]

RESPONSES = [
    # question_id, contact_id, submitted_at, score, answer_choice, platform
    ("q_nps", "c1", "2026-10-03T10:00", 10, None, "web"),
    ("q_nps", "c2", "2026-10-03T10:00", 10, None, "web"),
    ("q_nps", "c3", "2026-10-03T10:00", 9, None, "ios"),
    ("q_nps", "c5", "2026-10-03T10:00", 9, None, "ios"),
    ("q_nps", "c8", "2026-10-03T10:00", 8, None, "web"),
    ("q_nps", "c9", "2026-10-03T10:00", 6, None, "web"),
    ("q_nps", None, "2026-10-03T10:00", 0, None, "email"),
    ("q_nps", None, "2026-10-03T10:00", 3, None, "web"),
    ("q_nps", None, "2026-10-03T10:00", None, None, "web"),  # unscored: not a response
    ("q_nps", None, "2026-09-30T21:30", 0, None, "web"),  # September in Paris
    ("q_ces", "c1", "2026-10-04T10:00", 2, None, "web"),
    ("q_ces", "c2", "2026-10-04T10:00", 3, None, "web"),
    ("q_ces", "c3", "2026-10-04T10:00", 5, None, "ios"),
    ("q_csat", "c1", "2026-10-05T10:00", 5, None, "web"),
    ("q_csat", "c2", "2026-10-05T10:00", 4, None, "web"),
    ("q_csat", "c3", "2026-10-05T10:00", 3, None, "ios"),
    ("q_csat", "c5", "2026-10-05T10:00", 1, None, "web"),
    ("q_csat", "c8", "2026-10-05T10:00", 4, None, "web"),
    ("q_choice", "c1", "2026-10-05T10:00", None, "prix", "web"),
]


def write(path: Path, columns: dict[str, pa.Array], extracted_at: str = EXTRACTED_AT) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table(columns)
    pq.write_table(table.replace_schema_metadata({EXTRACTED_AT_KEY: extracted_at}), path)


def times(values) -> pa.Array:
    return pa.array([None if v is None else at(v) for v in values], TS)


def write_contacts(data: Path, rows=CONTACTS) -> None:
    ids, emails, countries, cities, sources, created, deleted = zip(*rows, strict=True)
    write(
        data / "contacts.parquet",
        {
            "contact_id": pa.array(ids),
            "email": pa.array(emails, pa.string()),
            "country_code": pa.array(countries),
            "city": pa.array(cities, pa.string()),
            "lead_source": pa.array(sources, pa.string()),
            "created_at": times(created),
            "deleted_at": times(deleted),
        },
    )


def write_orders(data: Path, rows=ORDERS) -> None:
    ids, contacts, ordered, status, test, total, channel, country = zip(*rows, strict=True)
    write(
        data / "orders.parquet",
        {
            "order_id": pa.array(ids),
            "contact_id": pa.array(contacts, pa.string()),
            "ordered_at": times(ordered),
            "status": pa.array(status),
            "is_test": pa.array(test, pa.bool_()),
            "currency": pa.array(["EUR"] * len(ids)),
            "total_amount": pa.array([Decimal(t) for t in total], MONEY),
            "channel": pa.array(channel),
            "country_code": pa.array(country),
        },
    )


def write_campaigns(data: Path, campaigns=CAMPAIGNS, events=EVENTS) -> None:
    ids, names, channels, types, sent = zip(*campaigns, strict=True)
    write(
        data / "campaigns.parquet",
        {
            "campaign_id": pa.array(ids),
            "name": pa.array(names),
            "channel": pa.array(channels),
            "type": pa.array(types),
            "sent_at": times(sent),
        },
    )
    campaign, contact, kind, occurred, machine = zip(*events, strict=True)
    write(
        data / "campaign_events.parquet",
        {
            "event_id": pa.array([f"e{i}" for i in range(len(events))]),
            "campaign_id": pa.array(campaign),
            "contact_id": pa.array(contact),
            "event_type": pa.array(kind),
            "occurred_at": times(occurred),
            "is_machine_open": pa.array(machine, pa.bool_()),
        },
    )


def write_surveys(data: Path) -> None:
    survey, question, label, kind, low, high = zip(*QUESTIONS, strict=True)
    write(
        data / "survey_questions.parquet",
        {
            "survey_id": pa.array(survey),
            "question_id": pa.array(question),
            "label": pa.array(label),
            "kind": pa.array(kind),
            "scale_min": pa.array(low, pa.int64()),
            "scale_max": pa.array(high, pa.int64()),
        },
    )
    question, contact, submitted, score, choice, platform = zip(*RESPONSES, strict=True)
    write(
        data / "survey_responses.parquet",
        {
            "response_id": pa.array([f"r{i}" for i in range(len(RESPONSES))]),
            "survey_id": pa.array(["s1"] * len(RESPONSES)),
            "question_id": pa.array(question),
            "contact_id": pa.array(contact, pa.string()),
            "submitted_at": times(submitted),
            "score": pa.array(score, pa.float64()),
            "answer_choice": pa.array(choice, pa.string()),
            "platform": pa.array(platform),
        },
    )


def write_interactions(data: Path, rows) -> None:
    """rows: (contact_id, occurred_at)."""
    contacts, occurred = zip(*rows, strict=True)
    write(
        data / "interactions.parquet",
        {
            "interaction_id": pa.array([f"i{i}" for i in range(len(rows))]),
            "contact_id": pa.array(contacts),
            "occurred_at": times(occurred),
            "channel": pa.array(["phone"] * len(rows)),
        },
    )


def make_project(root: Path, **options) -> Project:
    """A project folder with the whole fixture extract under data/."""
    data = root / "data"
    write_contacts(data)
    write_orders(data)
    write_campaigns(data)
    write_surveys(data)
    (root / "mkdocs.yml").write_text("site_name: test\nplugins:\n  - kpisite\n")
    return Project.from_options(root, options)
