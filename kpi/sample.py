"""A deterministic, realistic sample CRM extract (`kpisite sample-data`).

Every canonical table is generated with NumPy and pyarrow, column by column: no loop runs
per row. Times are drawn as wall-clock seconds in Europe/Paris and converted to UTC at the
end, so the data crosses daylight-saving changes the way a French CRM's does. The same
arguments always give the same bytes: one seeded generator, draws in a fixed order, and
Parquet files written with fixed options.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kpi.errors import KpisiteError
from kpi.extract import EXTRACTED_AT_KEY

log = logging.getLogger(__name__)

DEFAULT_CONTACTS = 3000
DEFAULT_SEED = 7
DEFAULT_END = "2026-11"
# The smallest sample that has rows in every table for the seeds and months tried (4,500
# draws at 200 contacts over 3 months); `write_sample` still refuses an empty table.
MIN_CONTACTS = 200
# At most ten times the benchmark size (benchmarks/NOTES.md): 1,000,000 contacts over 36
# months are 28 M rows, written in one to two minutes with a peak of about 4 GB of memory,
# which grows with the contacts. Ten million need about 40 GB; more is no sample but a
# request that fails for want of memory.
MAX_CONTACTS = 10_000_000
MIN_MONTHS = 3
# History starts in 1971 at the earliest (the contract refuses times before 1970, and a
# Paris wall-clock time on 1970-01-01 is in 1969 in UTC) and ends in 2100 at the latest.
FIRST_MONTH = (1971, 1)
LAST_MONTH = (2100, 12)
MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
ZONE = "Europe/Paris"
DAY = 86_400

COUNTRIES = {
    "FR": (
        0.74,
        [
            "Paris",
            "Lyon",
            "Marseille",
            "Toulouse",
            "Bordeaux",
            "Lille",
            "Nantes",
            "Strasbourg",
            "Rennes",
            "Montpellier",
            "Nice",
            "Grenoble",
        ],
    ),
    "BE": (0.08, ["Bruxelles", "Liège", "Namur", "Charleroi"]),
    "CH": (0.06, ["Genève", "Lausanne", "Neuchâtel"]),
    "CA": (0.04, ["Montréal", "Québec", "Sherbrooke"]),
    "DE": (0.03, ["Berlin", "Munich", "Hambourg"]),
    "ES": (0.03, ["Madrid", "Barcelone", "Valence"]),
    "LU": (0.02, ["Luxembourg"]),
}
FIRST_NAMES = [
    "Camille",
    "Léa",
    "Manon",
    "Chloé",
    "Emma",
    "Inès",
    "Jade",
    "Louise",
    "Alice",
    "Lucas",
    "Hugo",
    "Louis",
    "Gabriel",
    "Arthur",
    "Jules",
    "Nathan",
    "Paul",
    "Marie",
    "Thomas",
    "Sarah",
    "Julien",
    "Claire",
    "Antoine",
    "Zoé",
]
LAST_NAMES = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "Andre",
    "Mercier",
]
ASCII = str.maketrans("éèêëàâîïôöûüç", "eeeeaaiioouuc")
COMPANIES = ["Exemple SARL", "Démo SAS", "Fictif & Fils", "Atelier Test", "Maison Modèle"]
LEAD_SOURCES = (
    ["web_form", "referral", "social", "paid_search", "event", "partner", "n/a"],
    [0.34, 0.16, 0.18, 0.16, 0.06, 0.05, 0.05],
)
PRODUCTS = [  # sku, name, category, price in cents
    ("CAF-001", "Café en grains 1 kg", "épicerie", 1890),
    ("CAF-002", "Capsules espresso x50", "épicerie", 1450),
    ("THE-001", "Thé vert bio", "épicerie", 890),
    ("CHO-001", "Tablette chocolat noir", "épicerie", 390),
    ("MUG-001", "Mug grès", "art de la table", 1290),
    ("TAS-001", "Tasses espresso x4", "art de la table", 2490),
    ("MAC-001", "Machine espresso", "électroménager", 24900),
    ("MOU-001", "Moulin à café", "électroménager", 6990),
    ("BOU-001", "Bouilloire inox", "électroménager", 4990),
    ("COF-001", "Coffret dégustation", "cadeaux", 3990),
    ("CAR-001", "Carte cadeau 50 €", "cadeaux", 5000),
    ("FIL-001", "Filtres papier x100", "accessoires", 390),
]
CHANNELS = (["web", "store", "phone", "marketplace"], [0.55, 0.25, 0.08, 0.12])
PLATFORMS = (["web", "ios", "android", "email", "sms"], [0.33, 0.2, 0.2, 0.2, 0.07])
# Relative order volume per calendar month: summer dip, Black Friday and Christmas peaks.
SEASON = np.array([0.85, 0.8, 0.9, 0.95, 1.0, 0.9, 0.75, 0.7, 0.95, 1.0, 1.35, 1.5])
NPS_REASONS = [
    "Livraison rapide",
    "Produits de qualité",
    "Trop cher",
    "Service client au top",
    "Colis abîmé",
    "n/a",
    "",
]
CSAT_CHOICES = ["Livraison", "Produit", "Prix", "Service client"]


@dataclass
class Timeline:
    """History bounds as wall-clock seconds since 1970 in the sample's zone."""

    start: int
    end: int
    months: np.ndarray  # start of each month, wall-clock seconds


def parse_month(text: str) -> tuple[int, int]:
    """(year, month) of "YYYY-MM" from 1971-01 to 2100-12; ValueError saying what was
    expected otherwise."""
    match = MONTH.fullmatch(str(text).strip())
    if not match:
        raise ValueError(f"{text!r}: expected a month YYYY-MM, e.g. {DEFAULT_END}")
    month = int(match.group(1)), int(match.group(2))
    if not FIRST_MONTH <= month <= LAST_MONTH:
        raise ValueError(
            f"{text!r}: expected a month from {format_month(FIRST_MONTH)} to "
            f"{format_month(LAST_MONTH)}"
        )
    return month


def format_month(month: tuple[int, int]) -> str:
    return f"{month[0]:04d}-{month[1]:02d}"


def history_problem(end: str, months: int) -> str | None:
    """Why `months` of history ending with `end` cannot be written, or None."""
    year, month = parse_month(end)
    index = year * 12 + month - 1 - (months - 1)
    first = (index // 12, index % 12 + 1)
    if first >= FIRST_MONTH:
        return None
    most = (year - FIRST_MONTH[0]) * 12 + month - FIRST_MONTH[1] + 1
    return (
        f"{months} months ending with {end} start in {format_month(first)}, before "
        f"{format_month(FIRST_MONTH)} (at most {most} months end with {end})"
    )


def timeline(end: str, months: int) -> Timeline:
    year, month = parse_month(end)
    last = np.datetime64(f"{year:04d}-{month:02d}", "M")
    starts = np.arange(last - months + 1, last + 2).astype("datetime64[s]").astype(np.int64)
    return Timeline(int(starts[0]), int(starts[-1]), starts[:-1])


def generate(contacts=DEFAULT_CONTACTS, seed=DEFAULT_SEED, end=DEFAULT_END, months=36):
    """Every canonical table of the sample, as pyarrow tables keyed by name."""
    rng = np.random.default_rng(seed)
    time = timeline(end, months)

    people = make_contacts(rng, contacts, time)
    orders, lines, bought = make_orders(rng, people, time)
    campaigns, events, opt_out = make_campaigns(rng, people, time)
    interactions, support = make_interactions(rng, people, time)
    questions, responses = make_surveys(rng, people, orders, support, time)
    people["email_opt_out_at"] = opt_out
    contact_table = contacts_table(rng, people, bought)

    return {
        "contacts": contact_table,
        "orders": orders,
        "order_lines": lines,
        "campaigns": campaigns,
        "campaign_events": events,
        "survey_questions": questions,
        "survey_responses": responses,
        "interactions": interactions,
    }


def write_sample(
    out_dir, contacts=DEFAULT_CONTACTS, seed=DEFAULT_SEED, end=DEFAULT_END, months=36
) -> dict[str, int]:
    """Write the sample as `<out_dir>/<table>.parquet`; returns the rows per table."""
    out_dir = Path(out_dir)
    problem = history_problem(end, months)
    if problem:
        raise KpisiteError(problem)
    tables = generate(contacts, seed, end, months)
    refuse_empty(tables, contacts, seed, months)

    out_dir.mkdir(parents=True, exist_ok=True)
    extracted = extraction_time(end)
    for name, table in tables.items():
        write_parquet(table, out_dir / f"{name}.parquet", extracted)
    log.debug("sample of %d contacts written to %s", contacts, out_dir)
    return {name: table.num_rows for name, table in tables.items()}


def refuse_empty(tables: dict[str, pa.Table], contacts: int, seed: int, months: int) -> None:
    """The contract refuses an empty table: a sample with one is not written."""
    empty = [name for name, table in tables.items() if table.num_rows == 0]
    if empty:
        raise KpisiteError(
            f"a sample of {contacts} contacts over {months} months (seed {seed}) has no rows "
            f"in {', '.join(empty)}, which the contract refuses (use more contacts or months; "
            f"at least {MIN_CONTACTS} contacts over {MIN_MONTHS} months)"
        )


def extraction_time(end: str) -> str:
    """When the sample pretends to be extracted: 06:00 in its zone, the day after `end`.

    Recorded in each file (kpi.extract.EXTRACTED_AT_KEY) so that pages show a fixed
    extraction time, not the time a clone wrote the files.
    """
    first_after = datetime.fromtimestamp(timeline(end, 1).end, UTC).replace(tzinfo=None)
    local = first_after.replace(hour=6, tzinfo=ZoneInfo(ZONE))
    return local.astimezone(UTC).isoformat(timespec="seconds")


def write_parquet(table: pa.Table, path: Path, extracted_at: str) -> None:
    # Fixed options and no pandas metadata: the same table always gives the same bytes.
    pq.write_table(
        table.replace_schema_metadata({EXTRACTED_AT_KEY: extracted_at}),
        path,
        compression="zstd",
        row_group_size=1 << 20,
        use_dictionary=True,
        write_statistics=True,
    )


# --- helpers ------------------------------------------------------------------------


def utc(local_seconds: np.ndarray) -> pa.Array:
    """Wall-clock seconds in the sample zone as UTC-aware timestamps (nulls kept)."""
    naive = pa.array(local_seconds.astype("datetime64[s]"))
    zoned = pc.assume_timezone(naive, ZONE, ambiguous="earliest", nonexistent="latest")
    return zoned.cast(pa.timestamp("us", tz="UTC"))


def utc_masked(local_seconds: np.ndarray, valid: np.ndarray) -> pa.Array:
    values = utc(np.where(valid, local_seconds, 0))
    return pc.if_else(pa.array(valid), values, pa.scalar(None, values.type))


def ids(prefix: str, count: int, width: int) -> pa.Array:
    numbers = pa.array(np.arange(1, count + 1)).cast(pa.string())
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(numbers, width, "0"), "")


def money(cents: np.ndarray) -> pa.Array:
    """Integer cents as decimal(18,2), exactly: the decimal's storage is the cents."""
    cents = np.asarray(cents, dtype=np.int64)
    words = np.empty((len(cents), 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = cents >> 63  # sign extension into the high word
    return pa.Array.from_buffers(pa.decimal128(18, 2), len(cents), [None, pa.py_buffer(words)])


def pick(rng, choices, size):
    values, weights = choices
    return np.asarray(values)[rng.choice(len(values), size=size, p=weights)]


def nullable(values: np.ndarray, null: np.ndarray) -> pa.Array:
    return pa.array(values, mask=null, type=pa.string())


def seasonal_keep(rng, local_seconds: np.ndarray) -> np.ndarray:
    """Thin events by calendar month so volumes follow the season."""
    month = local_seconds.astype("datetime64[s]").astype("datetime64[M]").astype(int) % 12
    return rng.random(len(local_seconds)) < SEASON[month] / SEASON.max()


def hour_of_day(rng, size) -> np.ndarray:
    """Seconds into the day, mostly in waking hours, a few around 2-3 am (DST changes)."""
    hours = np.clip(rng.normal(14, 4, size), 0, 23.99)
    night = rng.random(size) < 0.03
    hours = np.where(night, 2 + rng.random(size), hours)
    return (hours * 3600).astype(np.int64)


# --- contacts -----------------------------------------------------------------------


def make_contacts(rng, n: int, time: Timeline) -> dict:
    """The attributes of each contact, as NumPy arrays (turned into a table at the end)."""
    span = time.end - time.start
    # Growth: the density of sign-ups rises over the history.
    days = (rng.random(n) ** (1 / 1.6) * span // DAY).astype(np.int64)
    created = np.sort(time.start + days * DAY + hour_of_day(rng, n))
    created = np.minimum(created, time.end - 3600)

    codes = list(COUNTRIES)
    country = rng.choice(len(codes), size=n, p=[COUNTRIES[c][0] for c in codes])
    cities = np.concatenate([COUNTRIES[c][1] for c in codes])
    sizes = np.array([len(COUNTRIES[c][1]) for c in codes])
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    city = cities[offsets[country] + rng.integers(0, 1 << 30, n) % sizes[country]]

    deleted = rng.random(n) < 0.025
    deleted_at = created + (rng.random(n) * (time.end - created)).astype(np.int64)
    return {
        "n": n,
        "created": created,
        "country": np.asarray(codes)[country],
        "city": city,
        "deleted": deleted,
        "deleted_at": deleted_at,
        "engagement": rng.beta(2, 5, n),
        "opt_in": rng.random(n) < 0.72,
        "email_state": rng.choice(4, size=n, p=[0.9, 0.05, 0.03, 0.02]),
        "phone_state": rng.choice(3, size=n, p=[0.8, 0.15, 0.05]),
    }


def contacts_table(rng, people: dict, bought: np.ndarray) -> pa.Table:
    n = people["n"]
    first_index = rng.integers(0, len(FIRST_NAMES), n)
    last_index = rng.integers(0, len(LAST_NAMES), n)
    first = np.asarray(FIRST_NAMES)[first_index]
    last = np.asarray(LAST_NAMES)[last_index]
    # Email addresses are plain ASCII: prenom.nom.<id>@example.com.
    local = np.char.add(
        np.char.add(ascii_names(FIRST_NAMES)[first_index], "."), ascii_names(LAST_NAMES)[last_index]
    )
    contact_id = ids("C", n, 7)

    stage = np.where(rng.random(n) < 0.55, "lead", "subscriber")
    stage = np.where(rng.random(n) < 0.03, "other", stage)
    stage = np.where(bought, "customer", stage)
    opt_out = people["email_opt_out_at"]
    company = np.asarray(COMPANIES)[rng.integers(0, len(COMPANIES), n)]

    return pa.table(
        {
            "contact_id": contact_id,
            "email": emails(local, contact_id, people["email_state"]),
            "phone": phones(rng, people["phone_state"]),
            "first_name": first,
            "last_name": last,
            "company": nullable(company, rng.random(n) > 0.18),
            "country_code": nullable(people["country"], rng.random(n) < 0.02),
            "city": nullable(people["city"], rng.random(n) < 0.03),
            "created_at": utc(people["created"]),
            "deleted_at": utc_masked(people["deleted_at"], people["deleted"]),
            "lifecycle_stage": stage,
            "lead_source": nullable(pick(rng, LEAD_SOURCES, n), rng.random(n) < 0.08),
            "email_opt_in": people["opt_in"] & (opt_out < 0),
            "email_opt_out_at": utc_masked(opt_out, opt_out >= 0),
        }
    )


def ascii_names(names: list[str]) -> np.ndarray:
    return np.asarray([name.lower().translate(ASCII) for name in names])


def emails(local, contact_id, state) -> pa.Array:
    """prenom.nom.<id>@example.com; some missing, blank or 'n/a' (state 1, 2, 3)."""
    number = pc.utf8_lower(contact_id)
    full = pc.binary_join_element_wise(pa.array(local), ".", number, "@example.com", "")
    full = pc.if_else(pa.array(state == 2), "", full)
    full = pc.if_else(pa.array(state == 3), "n/a", full)
    return pc.if_else(pa.array(state == 1), pa.scalar(None, pa.string()), full)


def phones(rng, state) -> pa.Array:
    """French mobile numbers in the reserved fiction range; some missing or 'n/a'."""
    digits = pa.array(rng.integers(0, 10_000, len(state))).cast(pa.string())
    number = pc.binary_join_element_wise("+33 6 39 98 ", pc.utf8_lpad(digits, 4, "0"), "")
    number = pc.if_else(pa.array(state == 2), "n/a", number)
    return pc.if_else(pa.array(state == 1), pa.scalar(None, pa.string()), number)


# --- orders -------------------------------------------------------------------------


def spans(rng, counts: np.ndarray, start: np.ndarray, length: np.ndarray, first_at_start: bool):
    """Order times in [start, start + length) per contact, `counts` of each."""
    owner = np.repeat(np.arange(len(counts)), counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    position = np.arange(len(owner)) - first
    offset = (rng.random(len(owner)) * length[owner]).astype(np.int64)
    if first_at_start:
        offset = np.where(position == 0, 0, offset)
    return owner, start[owner] + offset, position == 0


def order_times(rng, people: dict, time: Timeline):
    """Who orders when: a first span of activity, churn, and for some a reactivation."""
    n = people["n"]
    buyer = rng.random(n) < 0.6
    rate = rng.gamma(1.5, 0.45, n) / (30 * DAY)  # orders per second of activity
    first_at = people["created"] + rng.exponential(20 * DAY, n).astype(np.int64)
    life = rng.exponential(320 * DAY, n).astype(np.int64)
    count = np.where(buyer, 1 + rng.poisson(rate * life), 0).clip(0, 80)

    comeback = buyer & (rng.random(n) < 0.22)
    again_at = first_at + life + rng.integers(120, 400, n) * DAY
    again_life = rng.exponential(120 * DAY, n).astype(np.int64)
    again = np.where(comeback, 1 + rng.poisson(rate * again_life), 0).clip(0, 40)

    owner1, at1, first1 = spans(rng, count, first_at, life, True)
    owner2, at2, _ = spans(rng, again, again_at, again_life, False)
    owner = np.concatenate([owner1, owner2])
    at = np.concatenate([at1, at2])
    at = at // DAY * DAY + hour_of_day(rng, len(at))

    keep = seasonal_keep(rng, at) | np.concatenate([first1, np.zeros(len(at2), bool)])
    alive = ~people["deleted"][owner] | (at < people["deleted_at"][owner])
    keep &= alive & (at < time.end) & (at >= people["created"][owner])
    return owner[keep], at[keep]


def make_orders(rng, people: dict, time: Timeline):
    """Orders of known contacts and of guests, their lines, and who bought."""
    owner, at = order_times(rng, people, time)
    guests = int(len(owner) * 0.04)
    guest_at = time.start + (rng.random(guests) * (time.end - time.start)).astype(np.int64)
    owner = np.concatenate([owner, np.full(guests, -1)])
    at = np.concatenate([at, guest_at])
    order = np.lexsort((owner, at))
    owner, at = owner[order], at[order]

    count = len(owner)
    cancelled = rng.random(count) < 0.06
    test = rng.random(count) < 0.008
    channel = pick(rng, CHANNELS, count)
    channel = np.where(owner < 0, "marketplace", channel)
    line_order, lines, subtotal = make_lines(rng, count)

    discount = np.where(rng.random(count) < 0.12, subtotal // 10, 0)
    shipping = np.where(np.isin(channel, ["web", "phone"]) & (subtotal < 6000), 490, 0)
    total = subtotal - discount + shipping
    country = np.where(owner >= 0, people["country"][owner], "FR")

    bought = np.zeros(people["n"], dtype=bool)
    bought[owner[(owner >= 0) & ~cancelled & ~test]] = True
    orders = pa.table(
        {
            "order_id": ids("O", count, 7),
            "contact_id": contact_ids(owner),
            "ordered_at": utc(at),
            "status": np.where(cancelled, "cancelled", "completed"),
            "is_test": test,
            "currency": pa.array(np.full(count, "EUR")),
            "total_amount": money(total),
            "tax_amount": money((total * 20 + 60) // 120),
            "shipping_amount": money(shipping),
            "discount_amount": money(discount),
            "channel": channel,
            "country_code": country,
        }
    )
    lines = lines.add_column(0, "order_id", orders["order_id"].combine_chunks().take(line_order))
    return orders, lines, bought


def contact_ids(owner: np.ndarray) -> pa.Array:
    """Contact ids of row owners; -1 (no contact) becomes null."""
    number = pa.array(np.maximum(owner, 0) + 1).cast(pa.string())
    text = pc.binary_join_element_wise("C", pc.utf8_lpad(number, 7, "0"), "")
    return pc.if_else(pa.array(owner >= 0), text, pa.scalar(None, pa.string()))


def make_lines(rng, orders: int):
    """Product lines of each order; returns the order of each line, the lines, subtotals."""
    per_order = 1 + rng.poisson(0.8, orders)
    order = np.repeat(np.arange(orders), per_order)
    line_no = np.arange(len(order)) - np.repeat(np.cumsum(per_order) - per_order, per_order) + 1
    weights = np.array([1 / (p[3] ** 0.5) for p in PRODUCTS])
    product = rng.choice(len(PRODUCTS), size=len(order), p=weights / weights.sum())
    quantity = 1 + rng.poisson(0.4, len(order))

    price = np.array([p[3] for p in PRODUCTS])[product]
    amount = quantity * price
    subtotal = np.bincount(order, weights=amount, minlength=orders).astype(np.int64)
    # Strings are taken from a small pyarrow array: far cheaper than NumPy string arrays.
    column = {
        key: pa.array([p[i] for p in PRODUCTS]).take(product)
        for i, key in enumerate(("sku", "product_name", "category"))
    }
    lines = pa.table(
        {
            "line_no": line_no,
            **column,
            "quantity": quantity,
            "unit_price": money(price),
            "line_amount": money(amount),
        }
    )
    return order, lines, subtotal


# --- campaigns ----------------------------------------------------------------------

TEMPLATES = [  # name, channel, type, day of month
    ("Lettre d'information n°1", "email", "newsletter", 3),
    ("Lettre d'information n°2", "email", "newsletter", 10),
    ("Lettre d'information n°3", "email", "newsletter", 17),
    ("Offres de la semaine", "email", "newsletter", 24),
    ("Relance panier", "email", "automation", 1),
    ("Confirmation de commande", "email", "transactional", 5),
    ("Ventes flash SMS", "sms", "newsletter", 14),
    ("Nouveautés appli", "push", "newsletter", 20),
]
EVENT_TYPES = np.array(
    ["sent", "delivered", "open", "click", "reply", "bounce", "unsubscribe", "complaint"]
)


def make_campaigns(rng, people: dict, time: Timeline):
    """Campaigns every month and their events; also each contact's opt-out time (-1: none)."""
    months = len(time.months)
    template = np.tile(np.arange(len(TEMPLATES)), months)
    month = np.repeat(np.arange(months), len(TEMPLATES))
    day = np.array([t[3] for t in TEMPLATES])[template]
    sent = time.months[month] + (day - 1) * DAY + 10 * 3600 + rng.integers(0, 1800, len(month))
    channel = np.array([t[1] for t in TEMPLATES])[template]
    label = np.datetime_as_string(time.months[month].astype("datetime64[s]"), unit="M")
    name = np.char.add(np.char.add(np.array([t[0] for t in TEMPLATES])[template], " "), label)

    camp, who = audience(rng, people, sent, channel)
    events, opt_out = campaign_events(rng, people, camp, who, sent, channel, time)
    campaigns = pa.table(
        {
            "campaign_id": ids("K", len(month), 5),
            "name": name,
            "channel": channel,
            "type": np.array([t[2] for t in TEMPLATES])[template],
            "sent_at": utc(sent),
        }
    )
    return campaigns, events, opt_out


def audience(rng, people: dict, sent: np.ndarray, channel: np.ndarray):
    """(campaign, contact) pairs: a random 12 % of the contacts who could receive each one."""
    n = people["n"]
    size = rng.binomial(n, 0.12, len(sent))
    camp = np.repeat(np.arange(len(sent)), size)
    who = rng.integers(0, n, len(camp))

    at = sent[camp]
    ok = (people["created"][who] < at) & people["opt_in"][who]
    ok &= ~people["deleted"][who] | (people["deleted_at"][who] > at)
    reach = np.where(
        channel[camp] == "email",
        people["email_state"][who] == 0,
        np.where(
            channel[camp] == "sms", people["phone_state"][who] == 0, people["engagement"][who] > 0.2
        ),
    )
    pairs = np.sort(camp[ok & reach] * n + who[ok & reach])
    # A contact drawn twice for one campaign receives it once (sorting beats np.unique).
    # Built this way, the mask also fits no pair at all (10 contacts over 1 month).
    first = np.ones(len(pairs), dtype=bool)
    first[1:] = pairs[1:] != pairs[:-1]
    pairs = pairs[first]
    return pairs // n, pairs % n


def campaign_events(rng, people, camp, who, sent, channel, time: Timeline):
    """Sent, delivered, human and machine opens, clicks, unsubscribes... per (campaign, contact)."""
    at = sent[camp]
    medium = channel[camp]
    size = len(camp)
    engaged = people["engagement"][who]

    bounce = rng.random(size) < np.where(medium == "email", 0.02, 0.01)
    delivered = ~bounce
    human = delivered & (medium != "sms") & (rng.random(size) < engaged * 0.9)
    machine = delivered & (medium == "email") & (rng.random(size) < 0.18)
    click_rate = np.where(medium == "sms", engaged * 0.3, 0.25)
    click = delivered & np.where(medium == "sms", True, human) & (rng.random(size) < click_rate)
    unsubscribe = delivered & (medium != "push") & (rng.random(size) < 0.005)
    complaint = delivered & (medium == "email") & (rng.random(size) < 0.0007)
    reply = delivered & (medium != "push") & (rng.random(size) < 0.001)

    open_at = at + rng.exponential(5 * 3600, size).astype(np.int64) + 60
    parts = [
        (np.ones(size, bool), 0, at, None),
        (delivered, 1, at + rng.integers(1, 60, size), None),
        (human, 2, open_at, False),
        (machine, 2, at + rng.integers(5, 300, size), True),
        (click, 3, open_at + rng.integers(10, 900, size), None),
        (reply, 4, at + rng.exponential(DAY, size).astype(np.int64), None),
        (bounce, 5, at + rng.integers(1, 60, size), None),
        (unsubscribe, 6, open_at + rng.integers(30, 600, size), None),
        (complaint, 7, open_at + rng.integers(30, 600, size), None),
    ]
    return events_table(people, camp, who, parts, time)


def events_table(people, camp, who, parts, time: Timeline):
    row = np.concatenate([np.flatnonzero(mask) for mask, *_ in parts])
    kind = np.concatenate([np.full(mask.sum(), code) for mask, code, *_ in parts])
    at = np.concatenate([when[mask] for mask, _, when, _ in parts])
    machine = np.concatenate(
        [np.full(mask.sum(), 1 if m else 0 if m is False else -1) for mask, _, _, m in parts]
    )
    keep = at < time.end
    row, kind, at, machine = row[keep], kind[keep], at[keep], machine[keep]

    # A contact who unsubscribed receives nothing after it.
    opt_out = np.full(people["n"], np.iinfo(np.int64).max)
    np.minimum.at(opt_out, who[row[kind == 6]], at[kind == 6])
    later = at > opt_out[who[row]]
    row, kind, at, machine = row[~later], kind[~later], at[~later], machine[~later]

    # Parts come kind by kind, each in (campaign, contact) order: a stable sort on time
    # keeps that order among equal times, and costs far less than a four-key lexsort.
    order = np.argsort(at, kind="stable")
    row, kind, at, machine = row[order], kind[order], at[order], machine[order]
    events = pa.table(
        {
            "event_id": ids("E", len(row), 8),
            "campaign_id": ids_of("K", camp[row], 5),
            "contact_id": contact_ids(who[row]),
            "event_type": pa.array(EVENT_TYPES).take(kind),
            "occurred_at": utc(at),
            "is_machine_open": pa.array(machine == 1, mask=machine < 0),
        }
    )
    opt_out = np.where(opt_out == np.iinfo(np.int64).max, -1, opt_out)
    return events, opt_out


def ids_of(prefix: str, index: np.ndarray, width: int) -> pa.Array:
    number = pa.array(index + 1).cast(pa.string())
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(number, width, "0"), "")


# --- interactions and surveys -------------------------------------------------------

INTERACTION_TYPES = (["support", "sales", "information", "complaint"], [0.45, 0.25, 0.2, 0.1])
INTERACTION_CHANNELS = (["email", "phone", "chat", "store"], [0.4, 0.3, 0.2, 0.1])


def make_interactions(rng, people: dict, time: Timeline):
    """Support and sales exchanges; returns the table and (contact, time) of support ones."""
    years = (time.end - people["created"]) / (365 * DAY)
    count = rng.poisson(1.2 * years * (0.5 + people["engagement"]))
    who = np.repeat(np.arange(people["n"]), count)
    at = people["created"][who] + (rng.random(len(who)) * (time.end - people["created"][who]))
    at = at.astype(np.int64)
    order = np.lexsort((who, at))
    who, at = who[order], at[order]

    kind = pick(rng, INTERACTION_TYPES, len(who))
    table = pa.table(
        {
            "interaction_id": ids("I", len(who), 7),
            "contact_id": contact_ids(who),
            "occurred_at": utc(at),
            "channel": pick(rng, INTERACTION_CHANNELS, len(who)),
            "direction": np.where(rng.random(len(who)) < 0.7, "inbound", "outbound"),
            "type": kind,
        }
    )
    support = kind == "support"
    return table, (who[support], at[support])


QUESTIONS = [  # survey, question, label, kind, min, max
    ("NPS", "Q1", "Recommanderiez-vous notre marque à un proche ?", "nps", 0, 10),
    ("NPS", "Q2", "Pourquoi cette note ?", "text", None, None),
    ("CSAT", "Q1", "Êtes-vous satisfait de votre commande ?", "csat", 1, 5),
    ("CSAT", "Q2", "Qu'avez-vous le plus apprécié ?", "choice", None, None),
    ("CES", "Q1", "Votre demande a-t-elle été facile à traiter ?", "ces", 1, 7),
]


def make_surveys(rng, people: dict, orders: pa.Table, support, time: Timeline):
    """NPS every month, CSAT after orders, CES after support; several platforms."""
    questions = pa.table(
        {
            "survey_id": [q[0] for q in QUESTIONS],
            "question_id": [q[1] for q in QUESTIONS],
            "label": [q[2] for q in QUESTIONS],
            "kind": [q[3] for q in QUESTIONS],
            "scale_min": pa.array([q[4] for q in QUESTIONS], pa.int64()),
            "scale_max": pa.array([q[5] for q in QUESTIONS], pa.int64()),
        }
    )
    parts = [
        nps_answers(rng, people, time),
        csat_answers(rng, people, orders),
        ces_answers(rng, support),
    ]
    return questions, responses_table(rng, people, parts, time)


def nps_answers(rng, people: dict, time: Timeline) -> dict:
    # A relational NPS wave every month, to a few percent of the base.
    size = rng.binomial(people["n"], 0.04, len(time.months))
    when = np.repeat(time.months, size) + (rng.random(size.sum()) * 28 * DAY).astype(np.int64)
    who = rng.integers(0, people["n"], len(when))
    ok = (people["created"][who] < when) & (
        ~people["deleted"][who] | (people["deleted_at"][who] > when)
    )
    who, when = who[ok], when[ok]
    score = rng.choice(
        11, size=len(who), p=[0.02, 0.01, 0.02, 0.03, 0.03, 0.06, 0.08, 0.13, 0.17, 0.2, 0.25]
    )
    text = rng.random(len(who)) < 0.35
    return {
        "survey": "NPS",
        "rows": [("Q1", who, when, score, None), ("Q2", who[text], when[text], None, "text")],
    }


def csat_answers(rng, people: dict, orders: pa.Table) -> dict:
    owner = pc.cast(pc.utf8_slice_codeunits(orders["contact_id"], 1), pa.int64())
    owner = owner.fill_null(0).to_numpy() - 1
    done = pc.equal(orders["status"], "completed").to_numpy(zero_copy_only=False)
    at = local_seconds(orders["ordered_at"])
    pick_ = done & (owner >= 0) & (rng.random(len(owner)) < 0.12)
    who, when = owner[pick_], at[pick_] + rng.integers(2, 10, pick_.sum()) * DAY
    score = rng.choice(np.arange(1, 6), size=len(who), p=[0.05, 0.07, 0.15, 0.38, 0.35])
    choice = rng.random(len(who)) < 0.6
    return {
        "survey": "CSAT",
        "rows": [("Q1", who, when, score, None), ("Q2", who[choice], when[choice], None, "choice")],
    }


def ces_answers(rng, support) -> dict:
    who, at = support
    chosen = rng.random(len(who)) < 0.3
    who, when = who[chosen], at[chosen] + rng.integers(3600, 3 * DAY, chosen.sum())
    score = rng.choice(np.arange(1, 8), size=len(who), p=[0.03, 0.04, 0.08, 0.15, 0.25, 0.25, 0.2])
    return {"survey": "CES", "rows": [("Q1", who, when, score, None)]}


def local_seconds(timestamps) -> np.ndarray:
    """UTC timestamps back to wall-clock seconds in the sample zone."""
    local = pc.local_timestamp(
        pc.assume_timezone(timestamps.cast(pa.timestamp("s")), "UTC").cast(
            pa.timestamp("s", tz=ZONE)
        )
    )
    return local.cast(pa.int64()).to_numpy()


def responses_table(rng, people: dict, parts: list[dict], time: Timeline) -> pa.Table:
    rows = [(part["survey"], *row) for part in parts for row in part["rows"]]
    survey = np.concatenate([np.full(len(r[2]), r[0]) for r in rows])
    question = np.concatenate([np.full(len(r[2]), r[1]) for r in rows])
    who = np.concatenate([r[2] for r in rows])
    when = np.concatenate([r[3] for r in rows])
    score = np.concatenate([r[4] if r[4] is not None else np.full(len(r[2]), -1) for r in rows])
    kind = np.concatenate([np.full(len(r[2]), r[5] or "") for r in rows])
    keep = when < time.end
    order = np.lexsort((question[keep], who[keep], when[keep]))
    survey, question, who, when, score, kind = (
        a[keep][order] for a in (survey, question, who, when, score, kind)
    )
    return answers_table(rng, people, survey, question, who, when, score, kind)


def answers_table(rng, people, survey, question, who, when, score, kind) -> pa.Table:
    size = len(who)
    anonymous = rng.random(size) < 0.03
    owner = np.where(anonymous, -1, who)
    reasons = np.asarray(NPS_REASONS)[rng.integers(0, len(NPS_REASONS), size)]
    choices = np.asarray(CSAT_CHOICES)[rng.integers(0, len(CSAT_CHOICES), size)]
    city = np.where(rng.random(size) < 0.02, "n/a", people["city"][who])
    return pa.table(
        {
            "response_id": ids("R", size, 7),
            "survey_id": survey,
            "question_id": question,
            "contact_id": contact_ids(owner),
            "submitted_at": utc(when),
            "score": pa.array(score, mask=score < 0, type=pa.int64()),
            "answer_choice": nullable(choices, kind != "choice"),
            "answer_text": nullable(reasons, kind != "text"),
            "platform": pick(rng, PLATFORMS, size),
            "respondent_country": nullable(people["country"][who], rng.random(size) < 0.04),
            "respondent_city": nullable(city, rng.random(size) < 0.04),
        }
    )
