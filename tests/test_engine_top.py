"""The top members of a breakdown: chosen on the raw numbers, and only the rows shown are
made into formatted values (a dimension may have 100,000 members and a page shows ten).

Fixture (tests/kpi_fixture.py), contacts existing at the end of October 2026: c1 Paris,
c2 Lyon, c3 Liège, c5 Bruxelles, c8 Paris, c9 (no city); c4 and c7 are deleted before,
c6 comes in November. So Paris 2, and 1 each for Bruxelles, Liège, Lyon and the blank
member, 6 in all.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from kpi_fixture import make_project

import kpi.engine
from kpi.engine import Workbook, rank_members
from kpi.values import BLANK, OTHER, Member


@pytest.fixture
def book(tmp_path) -> Workbook:
    return Workbook(make_project(tmp_path), cache=False)


def counts(table) -> list[tuple[str, Decimal]]:
    return [(str(m), values["contacts_existing"].raw) for m, values in table.rows]


def test_the_top_members_then_ties_by_label(book):
    # Ties at 1 by label: "(non renseigné)" sorts before letters; Liège and Lyon go to
    # "Autres" (2).
    table = book.breakdown(["contacts_existing"], "2026-10", by="city", top=3)
    assert counts(table) == [
        ("Paris", 2),
        ("(non renseigné)", 1),
        ("Bruxelles", 1),
        ("Autres", 2),
    ]
    assert table.rows[-1][0] == OTHER
    assert table.total[1]["contacts_existing"].raw == 6


def test_only_the_rows_shown_are_formatted(book, monkeypatch):
    formatted = []

    def counting(raw, *args, **kwargs):
        formatted.append(raw)
        return original(raw, *args, **kwargs)

    original = kpi.engine.format_value
    monkeypatch.setattr(kpi.engine, "format_value", counting)
    table = book.breakdown(["contacts_existing"], "2026-10", by="city", top=1)

    # Paris (2), "Autres" (4) and the total (6): not the four members left out.
    assert counts(table) == [("Paris", 2), ("Autres", 4)]
    assert sorted(formatted) == [2, 4, 6]


def test_every_member_without_a_top(book):
    table = book.breakdown(["contacts_existing"], "2026-10", by="city", top=None)
    assert counts(table) == [
        ("Paris", 2),
        ("(non renseigné)", 1),
        ("Bruxelles", 1),
        ("Liège", 1),
        ("Lyon", 1),
    ]


def test_ranking_puts_na_last_and_keeps_ties_at_the_bound():
    a, b, c, d = (Member("value", name) for name in "abcd")
    raws = {d: Decimal(5), c: None, b: Decimal(5), a: Decimal(1), BLANK: Decimal(5)}
    # 5, 5, 5 tie at the bound of a top 2: the labels decide ("(non renseigné)" first).
    assert rank_members(raws, 2) == [BLANK, b]
    assert rank_members(raws, 4) == [BLANK, b, d, a]
    assert rank_members(raws, 5) == [BLANK, b, d, a, c]
    assert rank_members(raws, 9) == [BLANK, b, d, a, c]
    assert rank_members(raws, None) == [BLANK, b, d, a, c]
    # Ties by the labels given: a blank member labelled "zz" sorts after "a".
    assert rank_members({a: Decimal(1), BLANK: Decimal(1)}, 1, {"blank": "zz"}) == [a]
