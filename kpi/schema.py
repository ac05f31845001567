"""The canonical extract: every table, column, type, enum and key kpisite relies on.

This module is the single source of truth of the contract. `kpi.contract` checks extracts
against it, `kpi.mapping` fills the columns a mapping leaves out, `kpi.sample` writes data
that satisfies it, and doc/extract.md describes the same tables in prose.

Column kinds (what the check accepts):

- `id`: an identifier, always a string (an integer id would lose leading zeros);
- `string`: free text;
- `timestamp`: a UTC-aware timestamp (a naive one needs a declared time zone), from
  1970 on; an *event* time (an order, a sign-up) cannot follow the extraction;
- `money`: a decimal (decimal(18,2) in the sample), in the currency of its row;
- `bool`: a boolean;
- `int`: an integer;
- `number`: an integer, a float or a decimal.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ibis.expr.datatypes as dt

# The ibis type each kind is filled with when a nullable column is absent.
IBIS_TYPES = {
    "id": "string",
    "string": "string",
    "timestamp": "timestamp('UTC')",
    "money": "decimal(18, 2)",
    "bool": "boolean",
    "int": "int64",
    "number": "float64",
}

EXPECTED = {
    "id": "a string identifier",
    "string": "a string",
    "timestamp": "a timestamp with time zone (UTC)",
    "money": "a decimal, e.g. decimal(18,2)",
    "bool": "a boolean",
    "int": "an integer",
    "number": "a number (integer, float or decimal)",
}


@dataclass(frozen=True)
class Column:
    """One canonical column: its kind, whether it may be null, its allowed values."""

    name: str
    kind: str
    doc: str
    nullable: bool = True
    enum: tuple[str, ...] = ()
    # A regular expression every non-null value must match (country and currency codes).
    pattern: str | None = None
    # A timestamp of something that happened, so never after the extraction (a campaign
    # may be scheduled, a deletion planned: those are not events).
    event: bool = False

    @property
    def ibis_type(self) -> str:
        return IBIS_TYPES[self.kind]


@dataclass(frozen=True)
class Reference:
    """A column (or columns) whose values should exist in another table: else a warning."""

    columns: tuple[str, ...]
    table: str
    target: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """One canonical table: its columns, its key and the references it makes."""

    name: str
    doc: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    references: tuple[Reference, ...] = field(default=())

    def column(self, name: str) -> Column:
        return {column.name: column for column in self.columns}[name]

    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]


COUNTRY = r"^[A-Z]{2}$"
CURRENCY = r"^[A-Z]{3}$"


def col(name, kind, doc, nullable=True, enum=(), pattern=None, event=False) -> Column:
    return Column(name, kind, doc, nullable, tuple(enum), pattern, event)


def ref(columns, table, target=None) -> Reference:
    columns = (columns,) if isinstance(columns, str) else tuple(columns)
    target = columns if target is None else (target,) if isinstance(target, str) else target
    return Reference(columns, table, tuple(target))


CONTACTS = Table(
    "contacts",
    "One row per person known to the CRM (subscriber, lead or customer).",
    (
        col("contact_id", "id", "Identifier of the contact.", nullable=False),
        col("email", "string", "Email address; may be null, blank or a placeholder ('n/a')."),
        col("phone", "string", "Phone number as typed; may be null or a placeholder."),
        col("first_name", "string", "First name."),
        col("last_name", "string", "Last name."),
        col("company", "string", "Company of a business contact; null for individuals."),
        col("country_code", "string", "Country, ISO 3166-1 alpha-2 (FR, BE...).", pattern=COUNTRY),
        col("city", "string", "City as typed in the CRM."),
        col(
            "created_at",
            "timestamp",
            "When the contact entered the CRM.",
            nullable=False,
            event=True,
        ),
        col("deleted_at", "timestamp", "When the contact was soft-deleted; null if alive."),
        col(
            "lifecycle_stage",
            "string",
            "Stage in the funnel at extraction time.",
            enum=("subscriber", "lead", "customer", "other"),
        ),
        col("lead_source", "string", "Where the contact came from (web_form, referral...)."),
        col("email_opt_in", "bool", "Whether the contact accepts marketing email."),
        col("email_opt_out_at", "timestamp", "When the contact unsubscribed; null if never."),
    ),
    key=("contact_id",),
)

ORDERS = Table(
    "orders",
    "One row per order (completed or cancelled); amounts in the order's currency.",
    (
        col("order_id", "id", "Identifier of the order.", nullable=False),
        col("contact_id", "id", "The buying contact; null for guest or unknown buyers."),
        col("ordered_at", "timestamp", "When the order was placed.", nullable=False, event=True),
        col(
            "status",
            "string",
            "Whether the order went through.",
            nullable=False,
            enum=("completed", "cancelled"),
        ),
        col("is_test", "bool", "A test order, left out of every KPI."),
        col("currency", "string", "ISO 4217 code of the amounts (EUR).", pattern=CURRENCY),
        col("total_amount", "money", "Amount paid, tax and shipping included.", nullable=False),
        col("tax_amount", "money", "Tax included in the total."),
        col("shipping_amount", "money", "Shipping charged, included in the total."),
        col("discount_amount", "money", "Discount granted, already taken off the total."),
        col(
            "channel",
            "string",
            "Where the order was placed.",
            enum=("web", "store", "phone", "marketplace"),
        ),
        col("country_code", "string", "Delivery country, ISO 3166-1 alpha-2.", pattern=COUNTRY),
    ),
    key=("order_id",),
    references=(ref("contact_id", "contacts"),),
)

ORDER_LINES = Table(
    "order_lines",
    "One row per product line of an order.",
    (
        col("order_id", "id", "The order of the line.", nullable=False),
        col("line_no", "int", "Position of the line in its order, from 1.", nullable=False),
        col("sku", "string", "Product code."),
        col("product_name", "string", "Product name."),
        col("category", "string", "Product category."),
        col("quantity", "int", "Units ordered (negative on a return line)."),
        col("unit_price", "money", "Price of one unit."),
        col("line_amount", "money", "quantity x unit_price, in the order's currency."),
    ),
    key=("order_id", "line_no"),
    references=(ref("order_id", "orders"),),
)

CAMPAIGNS = Table(
    "campaigns",
    "One row per marketing message sent to a list.",
    (
        col("campaign_id", "id", "Identifier of the campaign.", nullable=False),
        col("name", "string", "Name of the campaign."),
        col("channel", "string", "Medium.", nullable=False, enum=("email", "sms", "push")),
        col(
            "type",
            "string",
            "Purpose.",
            enum=("newsletter", "automation", "transactional"),
        ),
        col("sent_at", "timestamp", "When the send started."),
    ),
    key=("campaign_id",),
)

CAMPAIGN_EVENTS = Table(
    "campaign_events",
    "One row per event of a campaign for one contact (sent, open, click...).",
    (
        col("event_id", "id", "Identifier of the event.", nullable=False),
        col("campaign_id", "id", "The campaign.", nullable=False),
        col("contact_id", "id", "The contact.", nullable=False),
        col(
            "event_type",
            "string",
            "What happened.",
            nullable=False,
            enum=(
                "sent",
                "delivered",
                "open",
                "click",
                "reply",
                "bounce",
                "unsubscribe",
                "complaint",
            ),
        ),
        col("occurred_at", "timestamp", "When it happened.", nullable=False, event=True),
        col(
            "is_machine_open",
            "bool",
            "On an open: true when a mail client opened it by itself (privacy proxies); "
            "null on other events.",
        ),
    ),
    key=("event_id",),
    references=(ref("campaign_id", "campaigns"), ref("contact_id", "contacts")),
)

SURVEY_QUESTIONS = Table(
    "survey_questions",
    "One row per question of a survey.",
    (
        col("survey_id", "id", "The survey.", nullable=False),
        col("question_id", "id", "The question, unique within its survey.", nullable=False),
        col("label", "string", "Question as asked."),
        col(
            "kind",
            "string",
            "Kind of question; nps, ces and csat feed the satisfaction KPIs.",
            nullable=False,
            enum=("nps", "ces", "csat", "choice", "text"),
        ),
        col("scale_min", "int", "Lowest score (0 for NPS, 1 for CES and CSAT)."),
        col("scale_max", "int", "Highest score (10 for NPS, 7 for CES, 5 for CSAT)."),
    ),
    key=("survey_id", "question_id"),
)

SURVEY_RESPONSES = Table(
    "survey_responses",
    "One row per answer to one question.",
    (
        col("response_id", "id", "Identifier of the answer.", nullable=False),
        col("survey_id", "id", "The survey.", nullable=False),
        col("question_id", "id", "The question.", nullable=False),
        col("contact_id", "id", "The respondent; null when anonymous."),
        col(
            "submitted_at",
            "timestamp",
            "When the answer was submitted.",
            nullable=False,
            event=True,
        ),
        col("score", "number", "Score on the question's scale; null for choice and text."),
        col("answer_choice", "string", "Chosen option of a choice question."),
        col("answer_text", "string", "Free text answer."),
        col(
            "platform",
            "string",
            "Where the survey was answered.",
            enum=("web", "ios", "android", "email", "sms"),
        ),
        col(
            "respondent_country",
            "string",
            "Country of the respondent, ISO 3166-1 alpha-2.",
            pattern=COUNTRY,
        ),
        col("respondent_city", "string", "City of the respondent."),
    ),
    key=("response_id",),
    references=(
        ref(("survey_id", "question_id"), "survey_questions"),
        ref("contact_id", "contacts"),
    ),
)

INTERACTIONS = Table(
    "interactions",
    "One row per exchange with a contact outside campaigns (support, sales call...).",
    (
        col("interaction_id", "id", "Identifier of the interaction.", nullable=False),
        col("contact_id", "id", "The contact.", nullable=False),
        col("occurred_at", "timestamp", "When it happened.", nullable=False, event=True),
        col("channel", "string", "Medium (email, phone, chat, store...)."),
        col("direction", "string", "Who started it.", enum=("inbound", "outbound")),
        col("type", "string", "Subject (support, sales, complaint...)."),
    ),
    key=("interaction_id",),
    references=(ref("contact_id", "contacts"),),
)

TABLES: dict[str, Table] = {
    table.name: table
    for table in (
        CONTACTS,
        ORDERS,
        ORDER_LINES,
        CAMPAIGNS,
        CAMPAIGN_EVENTS,
        SURVEY_QUESTIONS,
        SURVEY_RESPONSES,
        INTERACTIONS,
    )
}


def table(name: str) -> Table:
    """The canonical table `name`; KeyError when there is none."""
    return TABLES[name]


def fits(kind: str, dtype: dt.DataType) -> bool:
    """Whether a column type fits a kind of the contract."""
    if kind in ("id", "string"):
        return dtype.is_string()
    if kind == "timestamp":
        return dtype.is_timestamp() and dtype.timezone is not None
    if kind == "money":
        return dtype.is_decimal()
    if kind == "bool":
        return dtype.is_boolean()
    if kind == "int":
        return dtype.is_integer()
    return dtype.is_numeric()
