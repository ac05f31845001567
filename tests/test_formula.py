"""The catalog's expression language: a whitelist over `ast`, typed, never `eval`."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kpi import schema
from kpi.catalog import JOINS
from kpi.errors import CatalogError
from kpi.formula import (
    NotAvailable,
    Ref,
    RowScope,
    compile_row,
    evaluate_formula,
    formula_refs,
)


def scope(table: str = "orders") -> RowScope:
    return RowScope(table, schema.TABLES, JOINS.get(table, {}), {}, "kpis.yml:3")


@pytest.mark.parametrize(
    "source",
    [
        "__import__('os').system('true')",
        "(lambda: 1)()",
        "status[0] == 'c'",
        "status.__class__ == 'x'",
        "[x for x in status]",
    ],
)
def test_anything_outside_the_whitelist_is_refused(source):
    with pytest.raises(CatalogError, match="kpis.yml:3"):
        compile_row(source, scope())


@pytest.mark.parametrize(
    ("source", "construct"),
    [
        ("revenue ** 2", "the operator '**'"),
        ("revenue % orders_count", "the operator '%'"),
        ("-revenue // 2", "the operator '//'"),
        ("~revenue", "the unary operator '~'"),
        ("revenue[0]", "'revenue[0]'"),
    ],
)
def test_a_refused_construct_is_named_as_written(source, construct):
    with pytest.raises(CatalogError) as error:
        formula_refs(source, (), "kpis.yml:3: KPI x")

    assert str(error.value) == (
        f"kpis.yml:3: KPI x: {construct} is not allowed in a catalog expression (expected "
        "names, numbers, strings, comparisons, and/or/not, + - * /, and the functions of "
        "doc/catalog.md)"
    )


def test_a_refused_row_operator_is_named_by_its_symbol():
    with pytest.raises(CatalogError, match=r"^kpis.yml:3: the operator 'is not' is not allowed"):
        compile_row("status is not 'completed'", scope())


def test_unknown_column_names_the_table_and_a_hint():
    with pytest.raises(CatalogError, match="unknown column 'statu' in orders.*'status'"):
        compile_row("statu == 'completed'", scope())


def test_type_errors():
    with pytest.raises(CatalogError, match="compares a str with a num"):
        compile_row("status == 3", scope())
    with pytest.raises(CatalogError, match="expected a num"):
        compile_row("sum(status)", scope(), aggregate=True)
    with pytest.raises(CatalogError, match="not a condition"):
        compile_row("total_amount", scope())
    with pytest.raises(CatalogError, match="not an aggregate"):
        compile_row("total_amount", scope(), aggregate=True)


def test_joined_columns_need_a_declared_join():
    assert compile_row("campaigns.channel == 'email'", scope("campaign_events")).type == "bool"
    with pytest.raises(CatalogError, match="cannot join 'campaign'.*'campaigns'"):
        compile_row("campaign.channel == 'email'", scope("campaign_events"))


def test_formula_references():
    refs = formula_refs("round(100 * (a - b) / c) + d(field)", ("field",), "x")
    assert [ref for ref, _ in refs] == [Ref("a"), Ref("b"), Ref("c"), Ref("d", ("field",))]
    with pytest.raises(CatalogError, match="not allowed"):
        formula_refs("a if b else c", (), "x")


@pytest.mark.parametrize(
    ("promoters", "detractors", "responses", "expected"),
    [
        (4, 3, 8, 13),  # 12.5 -> 13 (banker's rounding gives 12)
        (3, 4, 8, -13),  # -12.5 -> -13, away from zero
        (5, 3, 8, 25),  # exact
        (1, 0, 3, 33),  # 33.33...
        (2, 0, 3, 67),  # 66.66...
    ],
)
def test_round_is_half_away_from_zero_on_exact_decimals(promoters, detractors, responses, expected):
    values = {"p": promoters, "d": detractors, "n": responses}
    result = evaluate_formula(
        "round(100 * (p - d) / n)", lambda ref: Decimal(values[ref.name]), lambda node: "zero"
    )
    assert result == expected


def test_zero_denominator_is_not_available_with_the_reason():
    with pytest.raises(NotAvailable) as stop:
        evaluate_formula("a / b", lambda ref: Decimal(0), lambda node: "n/a : b nul")
    assert stop.value.reason == "n/a : b nul"
