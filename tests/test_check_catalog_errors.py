"""`kpisite check` lists every error of the catalogs, each a problem of its own."""

from __future__ import annotations

from conftest import ROOT

from site_builder.cli import main


def test_every_catalog_error_is_a_problem_of_its_own(tmp_path, capsys):
    (tmp_path / "kpis.yml").write_text(
        "kpis:\n  a:\n    formula: revenue\n    target: lots\n  b:\n    activity: active\n"
        "    window: -5\n",
        encoding="utf-8",
    )
    (tmp_path / "mkdocs.yml").write_text(
        f"site_name: T\nplugins:\n  - kpisite:\n      data: {ROOT / 'data'}\n"
        "      catalogs: [kpis.yml]\n",
        encoding="utf-8",
    )

    code = main(["check", "--project", str(tmp_path)])

    out, err = capsys.readouterr()
    problems = [line for line in err.splitlines() if line.startswith("error")]
    assert code == 1
    assert problems == [
        "error: kpis.yml:4: KPI a: target: expected a number, got 'lots'",
        "error: kpis.yml:7: KPI b: window: expected a number of days, 1 or more, got -5",
    ]
    # The bundled extract has no fault: the summary puts the errors on the catalogs.
    assert out.startswith("8 tables checked (")
    assert out.endswith("): 0 errors, 0 warnings; 2 errors in the KPI catalogs\n")
