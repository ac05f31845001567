"""`kpisite query`: text and JSON output, n/a reasons, clean errors."""

from __future__ import annotations

import json

from kpi_fixture import make_project

from site_builder.cli import main


def run(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_values_for_a_month(tmp_path, capsys):
    make_project(tmp_path)
    code, out, _ = run(
        capsys, "query", "revenue", "open_rate", "nps", "--period", "2026-10", "--json",
        "--project", str(tmp_path),
    )  # fmt: skip
    assert code == 0
    report = json.loads(out)
    assert report["period"] == "2026-10"
    values = report["values"]
    # Hand-computed in tests/test_engine.py: 200.50 EUR, 3 / 6 opens, NPS 12.5 -> 13.
    assert values["revenue"]["value"] == 200.5
    assert values["revenue"]["formatted"] == "200,50\xa0€"
    assert values["open_rate"]["value"] == 0.5
    assert values["open_rate"]["formatted"] == "50,0\xa0%"
    assert values["nps"] == {"value": 13.0, "formatted": "+13", "label": "NPS", "unit": "score"}


def test_json_na_has_null_value_and_reason(tmp_path, capsys):
    make_project(tmp_path)
    code, out, _ = run(
        capsys, "query", "average_basket", "--period", "2026-12", "--json", "--project",
        str(tmp_path),
    )  # fmt: skip
    value = json.loads(out)["values"]["average_basket"]
    assert code == 0
    assert value["value"] is None
    assert value["reason"] == "n/a : aucune commande terminée sur la période"


def test_by_dimension_and_compare(tmp_path, capsys):
    make_project(tmp_path)
    code, out, _ = run(
        capsys, "query", "orders_count", "--period", "2026-10", "--by", "channel",
        "--compare", "previous", "--json", "--project", str(tmp_path),
    )  # fmt: skip
    value = json.loads(out)["values"]["orders_count"]
    assert code == 0
    # web 2, marketplace 1, store 1; September had 1 order -> +3.
    assert {k: v["value"] for k, v in value["by"].items()} == {
        "web": 2.0,
        "marketplace": 1.0,
        "store": 1.0,
    }
    assert value["compare"]["delta"] == 3.0


def test_week_grain_and_text_output(tmp_path, capsys):
    make_project(tmp_path)
    code, out, _ = run(
        capsys, "query", "revenue", "--period", "2026-W53", "--project", str(tmp_path)
    )
    # o11 70.00 on Sunday 3 January 2027 is in 2026-W53.
    assert code == 0
    assert "Semaine 53 de 2026 (2026-W53)" in out
    assert "Chiffre d'affaires [revenue]: 70,00\xa0€" in out


def test_unknown_kpi_is_a_clean_error(tmp_path, capsys):
    make_project(tmp_path)
    code, _, err = run(capsys, "query", "revenu", "--period", "2026-10", "--project", str(tmp_path))
    assert code == 1
    assert "unknown KPI 'revenu' (did you mean 'revenue'?)" in err
