"""Presentation modes over the hand-made extract of kpi_fixture.py (October 2026 in
Paris: completed orders o1 web 100.00, o2 store 50.50, o4 web 30.00, o7 marketplace
20.00)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from kpi_fixture import make_project

from kpi.engine import Workbook
from kpi.errors import CatalogError


@pytest.fixture
def book(tmp_path) -> Workbook:
    return Workbook(make_project(tmp_path))


def rows(table, name: str) -> dict:
    return {str(label): values[name].raw for label, values in table.rows}


def test_a_mean_is_not_rounded_before_it_is_shown(book):
    # (100.00 + 50.50 + 30.00 + 20.00) / 4 = 50.125 exactly; shown 50,13 EUR.
    value = book.value("orders_count", "2026-10", mode="mean")
    assert value.raw == Decimal("50.125")
    assert value.formatted == "50,13\xa0€"


def test_percent_is_refused_for_a_ratio(book):
    with pytest.raises(CatalogError) as error:
        book.breakdown(["average_basket"], "2026-10", by="channel", mode="percent")
    assert str(error.value) == (
        "mode 'percent': KPI average_basket is not a count or a sum, so its shares of the "
        "total would mean nothing (use mode 'count', or a counted or summed KPI such as "
        "orders_count or revenue)"
    )
    with pytest.raises(CatalogError, match="KPI nps is not a count or a sum"):
        book.breakdown(["nps"], "2026-10", by="week", mode="percent")


def test_percent_is_kept_for_counts_sums_states_and_their_differences(book):
    # inactive_contacts_start = contacts_existing - active_customers_start adds up too.
    names = ["orders_count", "revenue", "contacts_existing", "inactive_contacts_start"]
    table = book.breakdown(names, "2026-10", by="country_code", mode="percent")
    # Revenue by the order's country: FR o1 o2 o7 = 170.50, BE o4 = 30.00 of 200.50.
    assert rows(table, "revenue") == {
        "FR": Decimal("170.50") / Decimal("200.50"),
        "BE": Decimal("30.00") / Decimal("200.50"),
    }


def test_the_total_row_of_percent_is_one_hundred_percent(book):
    table = book.breakdown(["orders_count"], "2026-10", by="channel", mode="percent")
    total = table.total[1]["orders_count"]
    assert (total.raw, total.formatted) == (Decimal(1), "100,0\xa0%")
    assert sum(rows(table, "orders_count").values()) == 1


def test_the_total_row_of_mean_and_std_is_over_every_row(book):
    # The mean of the 4 amounts is 50.125 (not the sum of the members' means); their
    # sample deviation: squared gaps 49.875^2 + 0.375^2 + 20.125^2 + 30.125^2 = 3800.1875,
    # / (4 - 1).
    mean = book.breakdown(["revenue"], "2026-10", by="channel", mode="mean")
    assert mean.total[1]["revenue"].raw == Decimal("50.125")
    std = book.breakdown(["revenue"], "2026-10", by="channel", mode="std")
    assert std.total[1]["revenue"].value == pytest.approx(float(Decimal("3800.1875") / 3) ** 0.5)


def test_the_total_row_of_a_running_mean_is_the_mean_of_every_row(book):
    # Q3 by month: July o9 60.00, August o10 10.00, September o3 200.00; running means
    # 60, 35, 90; the total is the mean of the three orders, 90, not their sum 270.
    table = book.breakdown(["revenue"], "2026-Q3", by="month", mode="cumulative_mean")
    assert list(rows(table, "revenue").values()) == [Decimal(60), Decimal(35), Decimal(90)]
    assert table.total[1]["revenue"].raw == Decimal(90)


def test_top_members_are_the_same_in_every_mode(book):
    # By orders: web 2, then marketplace and store 1 each (ties by name): the top 2 are
    # web and marketplace whatever the mode; a mean ranking would have put store (50.50)
    # before marketplace (20.00). "Autres" is store alone.
    for mode in ("count", "percent", "mean", "std"):
        table = book.breakdown(["orders_count"], "2026-10", by="channel", top=2, mode=mode)
        assert [str(label) for label, _ in table.rows] == ["web", "marketplace", "Autres"], mode
    mean = book.breakdown(["orders_count"], "2026-10", by="channel", top=2, mode="mean")
    assert rows(mean, "orders_count") == {
        "web": Decimal(65),
        "marketplace": Decimal(20),
        "Autres": Decimal("50.5"),
    }


def test_a_project_mean_is_not_rounded(tmp_path):
    # A measure whose value is mean(total_amount), same four orders: 50.125.
    make_project(tmp_path)
    (tmp_path / "kpis.yml").write_text(
        "kpis:\n  mean_amount:\n    kind: measure\n    table: orders\n    time: ordered_at\n"
        '    filter: status == "completed" and not is_test\n'
        "    value: mean(total_amount)\n    unit: currency\n",
        encoding="utf-8",
    )
    from kpi.project import Project

    book = Workbook(Project.from_options(tmp_path, {"catalogs": ["kpis.yml"]}))
    assert book.value("mean_amount", "2026-10").raw == Decimal("50.125")
