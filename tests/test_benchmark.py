"""benchmarks/kpi_vs_sql.py: its hand-written SQL agrees with the engine on the hand-made
extract of kpi_fixture.py, from a relative --data path, with period bounds of its own."""

from __future__ import annotations

import importlib.util
import sys
from datetime import date

import pytest
from conftest import ROOT
from kpi_fixture import make_project


@pytest.fixture(scope="module")
def bench():
    path = ROOT / "benchmarks" / "kpi_vs_sql.py"
    spec = importlib.util.spec_from_file_location("kpi_vs_sql", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_engine_and_sql_agree_from_a_relative_data_folder(bench, tmp_path, monkeypatch, capsys):
    make_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    argv = ["kpi_vs_sql.py", "--data", "data", "--period", "2026-10", "--repeat", "1"]
    monkeypatch.setattr(sys, "argv", argv)

    assert bench.main() == 0

    out = capsys.readouterr().out
    # October 2026, September 2026, October 2025 and their 90-day activity windows lie
    # inside the fixture's data (2025-01-01 to 2027-01-04): all 96 cells are compared.
    assert "values agree: 96 (KPI, period) cells\n" in out


def test_period_bounds_are_computed_independently(bench):
    assert bench.periods_of("2026-03") == {
        "current": (date(2026, 3, 1), date(2026, 4, 1)),
        "previous": (date(2026, 2, 1), date(2026, 3, 1)),
        "last_year": (date(2025, 3, 1), date(2025, 4, 1)),
    }
    assert bench.periods_of("2026-Q1")["previous"] == (date(2025, 10, 1), date(2026, 1, 1))
    # Local midnight in Paris: UTC+1 in winter, UTC+2 in summer.
    assert bench.instant(date(2026, 3, 1)) == "TIMESTAMPTZ '2026-02-28T23:00:00+00:00'"
    assert bench.instant(date(2026, 11, 1), 90) == "TIMESTAMPTZ '2026-08-02T22:00:00+00:00'"


@pytest.mark.parametrize(
    ("option", "said"),
    [
        (["--repeat", "0"], "argument --repeat: expected 1 or more, got 0"),
        (["--repeat", "two"], "argument --repeat: expected a whole number, got 'two'"),
        (["--contacts", "0"], "argument --contacts: expected 200 or more, got 0"),
    ],
)
def test_bad_arguments_are_clean_errors(bench, monkeypatch, capsys, option, said):
    monkeypatch.setattr(sys, "argv", ["kpi_vs_sql.py", *option])
    with pytest.raises(SystemExit) as stop:
        bench.main()
    err = capsys.readouterr().err
    assert stop.value.code == 2
    assert err.endswith(f"kpi_vs_sql.py: error: {said}\n")
    assert "Traceback" not in err
