"""`kpisite build` and `kpisite publish` refuse a period the extract does not cover, before
anything is written (the bundled extract runs from 2023-12-01 to 2026-11-30)."""

from __future__ import annotations

import pytest
from kpisite_sites import copy_project

from kpi.periods import PeriodError
from site_builder.cli import main

PAGES = {"index.md": "# Ventes\n\n{{ kpi revenue }}\n"}

AFTER = (
    "--period '2030-01': after the data (the extract ends on 2026-11-30; the last complete "
    "month is 2026-11)"
)


def test_build_of_a_period_before_the_data_fails_and_writes_nothing(tmp_path, capsys):
    copy_project(PAGES, tmp_path)
    code = main(["build", "--period", "2001-01", "--project", str(tmp_path)])
    _, err = capsys.readouterr()
    assert code == 1
    message = (
        "--period '2001-01': before the data (the extract starts on 2023-12-01; the first "
        "complete month is 2023-12)"
    )
    assert err.count(message) == 1, err
    assert not (tmp_path / "site").exists()


def test_build_site_refuses_the_month_in_progress(tmp_path):
    from site_builder.build import build_site

    project = copy_project(PAGES, tmp_path)
    with pytest.raises(PeriodError) as error:
        build_site(project, period="2026-12", site_dir=tmp_path / "site")
    assert str(error.value) == (
        "--period '2026-12': after the data (the extract ends on 2026-11-30; the last complete "
        "month is 2026-11)"
    )
    assert not (tmp_path / "site").exists()


def test_publish_of_a_period_after_the_data_leaves_the_folder_untouched(tmp_path):
    from site_builder import publish as publishing

    project = copy_project(PAGES, tmp_path / "project")
    folder = tmp_path / "public"
    folder.mkdir()
    (folder / "versions.json").write_text("[]", encoding="utf-8")

    with pytest.raises(PeriodError) as error:
        publishing.publish_to_folder(project, folder, "2030-01")

    assert str(error.value) == AFTER
    assert [p.name for p in folder.iterdir()] == ["versions.json"]
    assert (folder / "versions.json").read_text(encoding="utf-8") == "[]"


# --- where the period comes from, in every error -------------------------------------

READ = "cannot read it (expected YYYY-MM, YYYY-Qn, YYYY-Www, YYYY or YYYY-MM-DD, e.g. 2026-10)"


@pytest.mark.parametrize("command", [["build"], ["query", "revenue"], ["publish", "--folder"]])
@pytest.mark.parametrize("value", ["garbage", " "])
def test_a_bad_kpisite_period_is_named_in_the_error_line(
    tmp_path, capsys, monkeypatch, command, value
):
    copy_project(PAGES, tmp_path / "project")
    monkeypatch.setenv("KPISITE_PERIOD", value)
    if command[-1] == "--folder":
        command = [*command, str(tmp_path / "public")]

    code = main([*command, "--project", str(tmp_path / "project")])

    assert code == 1
    assert capsys.readouterr().err.endswith(f"Error: KPISITE_PERIOD {value!r}: {READ}\n")
    assert not (tmp_path / "project" / "site").exists()
    assert not (tmp_path / "public").exists()


@pytest.mark.parametrize("command", ["build", "query", "publish", "serve"])
def test_a_period_option_that_does_not_read_as_one_is_a_usage_error(tmp_path, capsys, command):
    copy_project(PAGES, tmp_path)
    kpis = ["revenue"] if command == "query" else []

    code = main([command, *kpis, "--period", "2026-13", "--project", str(tmp_path)])

    assert code == 2
    assert capsys.readouterr().err.endswith(
        "Error: Invalid value for '--period': '2026-13': not a valid month (month must be in "
        "1..12)\n"
    )


def test_a_period_setting_outside_the_data_is_named_at_its_line(tmp_path, capsys):
    copy_project(PAGES, tmp_path)
    config = tmp_path / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8") + "      period: 2030-01\n", "utf-8")
    line = config.read_text(encoding="utf-8").count("\n")

    for command in (["build"], ["query", "revenue"]):
        code = main([*command, "--project", str(tmp_path)])
        assert code == 1
        assert (
            f"mkdocs.yml:{line}, plugins.kpisite.period '2030-01': after the data (the extract "
            "ends on 2026-11-30; the last complete month is 2026-11)"
        ) in capsys.readouterr().err


def test_a_kpisite_period_outside_the_data_is_named_by_the_build(tmp_path, capsys, monkeypatch):
    copy_project(PAGES, tmp_path)
    monkeypatch.setenv("KPISITE_PERIOD", "2030-01")

    code = main(["build", "--project", str(tmp_path)])

    assert code == 1
    assert f"KPISITE_PERIOD '2030-01': {AFTER.split(': ', 1)[1]}" in capsys.readouterr().err


def test_publish_names_the_line_of_a_period_setting_that_is_not_a_month(tmp_path, capsys):
    copy_project(PAGES, tmp_path)
    config = tmp_path / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8") + "      period: 2026-Q3\n", "utf-8")
    line = config.read_text(encoding="utf-8").count("\n")

    code = main(
        ["publish", "--folder", str(tmp_path.parent / "public"), "--project", str(tmp_path)]
    )

    assert code == 1
    assert capsys.readouterr().err == (
        f"Error: mkdocs.yml:{line}, plugins.kpisite.period '2026-Q3': a version is one month "
        "(YYYY-MM), and this is a quarter (publish a month, e.g. 2026-07, the month it starts "
        "in)\n"
    )
