"""`kpisite build` and `kpisite publish` refuse a period the extract does not cover, before
anything is written (the bundled extract runs from 2023-12-01 to 2026-11-30)."""

from __future__ import annotations

import pytest
from kpisite_sites import copy_project

from kpi.periods import PeriodError
from site_builder.cli import main

PAGES = {"index.md": "# Ventes\n\n{{ kpi revenue }}\n"}

AFTER = (
    "period 2030-01: after the data (the extract ends on 2026-11-30; the last complete "
    "month is 2026-11)"
)


def test_build_of_a_period_before_the_data_fails_and_writes_nothing(tmp_path, capsys):
    copy_project(PAGES, tmp_path)
    code = main(["build", "--period", "2001-01", "--project", str(tmp_path)])
    _, err = capsys.readouterr()
    assert code == 1
    message = (
        "period 2001-01: before the data (the extract starts on 2023-12-01; the first "
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
        "period 2026-12: after the data (the extract ends on 2026-11-30; the last complete "
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
