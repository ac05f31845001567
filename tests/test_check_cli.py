"""`kpisite check` loads the KPI catalog too: a catalog error fails the check as the build
would fail, a table the catalog reads but the extract lacks is a warning, and counts are
said in the right number."""

from __future__ import annotations

import re
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import ROOT

from kpi.contract import plural
from site_builder.cli import main

CYCLE = """\
kpis:
  margin_a:
    kind: formula
    label: A
    formula: margin_b + 1
  margin_b:
    kind: formula
    label: B
    formula: margin_a * 2
"""


def make_project(tmp_path, tables=(), catalog: str | None = None, data=None):
    """A project over some tables of the bundled sample (or over `data`), with a catalog."""
    folder = tmp_path / "data"
    folder.mkdir(exist_ok=True)
    for name in tables:
        shutil.copy(ROOT / "data" / f"{name}.parquet", folder / f"{name}.parquet")
    options = f"      data: {data or 'data'}\n"
    if catalog is not None:
        (tmp_path / "kpis.yml").write_text(catalog, encoding="utf-8")
        options += "      catalogs: [kpis.yml]\n"
    config = f"site_name: T\nplugins:\n  - kpisite:\n{options}"
    (tmp_path / "mkdocs.yml").write_text(config, encoding="utf-8")


def run_check(tmp_path, capsys) -> tuple[int, str, list[str]]:
    code = main(["check", "--project", str(tmp_path)])
    captured = capsys.readouterr()
    problems = [line for line in captured.err.splitlines() if line.startswith(("error", "warn"))]
    return code, captured.out.strip(), problems


def test_a_cycle_in_a_project_catalog_fails_the_check(tmp_path, capsys):
    make_project(tmp_path, catalog=CYCLE, data=ROOT / "data")

    code, summary, problems = run_check(tmp_path, capsys)

    assert code == 1
    assert problems == ["error: kpis.yml:2: cycle margin_a -> margin_b -> margin_a"]
    assert summary.startswith("8 tables checked (")
    assert summary.endswith("): 0 errors, 0 warnings; 1 error in the KPI catalogs")


def test_an_unknown_kpi_in_a_formula_names_its_line_and_the_closest_kpi(tmp_path, capsys):
    catalog = (
        "kpis:\n  basket:\n    kind: formula\n    label: B\n    formula: revenu / orders_count\n"
    )
    make_project(tmp_path, catalog=catalog, data=ROOT / "data")

    code, _, problems = run_check(tmp_path, capsys)

    assert code == 1
    assert problems == [
        "error: kpis.yml:5: KPI basket: unknown KPI 'revenu' (did you mean 'revenue'?)"
    ]


def test_an_absent_table_read_by_kpis_is_a_warning(tmp_path, capsys):
    make_project(tmp_path, tables=["contacts", "campaigns", "campaign_events"])

    code, summary, problems = run_check(tmp_path, capsys)

    assert code == 0
    absent = [re.match(r"warning: table (\w+): absent, so its \d+ KPIs \(", p) for p in problems]
    assert [match.group(1) for match in absent if match] == [
        "orders",
        "survey_questions",
        "survey_responses",
    ]
    orders = problems[0]
    assert "revenue" in orders and orders.endswith(
        "will be n/a (add data/orders.parquet, or map it in plugins.kpisite.tables)"
    )
    assert summary == (
        "3 tables checked (campaign_events, campaigns, contacts): 0 errors, 3 warnings"
    )


def test_one_of_each_is_said_in_the_singular(tmp_path, capsys):
    # One table, one error (the catalog's), one warning (a misnamed table file).
    make_project(tmp_path, tables=["contacts"], catalog=CYCLE)
    shutil.copy(ROOT / "data" / "orders.parquet", tmp_path / "data" / "order.parquet")

    code, summary, problems = run_check(tmp_path, capsys)

    assert code == 1
    assert len(problems) == 2
    assert summary == "1 table checked (contacts): 0 errors, 1 warning; 1 error in the KPI catalogs"


@pytest.mark.parametrize(
    ("orphans", "said"),
    [(1, "1 row refers to no row of contacts: X0"), (2, "2 rows refer to no row of contacts")],
)
def test_orphan_rows_are_counted_in_the_right_number(tmp_path, capsys, orphans, said):
    make_project(tmp_path, tables=["contacts"])
    orders = pq.read_table(ROOT / "data" / "orders.parquet").slice(0, 5)
    contact_ids = [
        f"X{n}" if n < orphans else c for n, c in enumerate(orders["contact_id"].to_pylist())
    ]
    orders = orders.set_column(
        orders.schema.get_field_index("contact_id"),
        "contact_id",
        pa.array(contact_ids, orders["contact_id"].type),
    )
    pq.write_table(orders, tmp_path / "data" / "orders.parquet")

    code, _, problems = run_check(tmp_path, capsys)

    assert code == 0
    assert any(f"table orders, column contact_id: {said}" in p for p in problems), problems


def test_plural():
    assert [plural(n, "row") for n in (0, 1, 2)] == ["0 rows", "1 row", "2 rows"]
