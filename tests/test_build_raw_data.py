"""Raw data never reaches a built site: mkdocs copies every file of docs_dir into it, so a
Parquet file, a database (the KPI cache) or a file the extract reads found there stops the
build, whatever the settings say (they refuse the extract, raw and cache folders there)."""

from __future__ import annotations

import pytest
from conftest import ROOT
from kpisite_sites import copy_project

from kpi.errors import ConfigError
from kpi.project import Project
from site_builder.build import build_site
from site_builder.cli import main

pytestmark = pytest.mark.slow

PAGES = {"index.md": "# Ventes\n\n[[kpi revenue]]\n"}


def test_parquet_and_sqlite_files_in_docs_dir_stop_the_build(tmp_path, capsys):
    project = copy_project(PAGES, tmp_path / "project")
    reports = project.root / "reports"
    (reports / "data").mkdir()
    (reports / "data" / "contacts.parquet").write_bytes(
        (ROOT / "data/contacts.parquet").read_bytes()
    )
    (reports / "kpi-cache.sqlite").write_bytes(b"SQLite format 3\0")
    (reports / "kpi-cache.sqlite-wal").write_bytes(b"")

    code = main(["build", "--period", "2026-10", "--project", str(project.root)])

    err = capsys.readouterr().err
    assert code == 1
    assert (
        "reports: 3 files of raw data would be published with the site (mkdocs copies every "
        "file of docs_dir into it): data/contacts.parquet, kpi-cache.sqlite, "
        "kpi-cache.sqlite-wal (move them out of reports, or leave them out with exclude_docs "
        "in mkdocs.yml)"
    ) in err
    assert not (project.root / "site").exists()
    assert [p.name for p in project.root.iterdir() if p.name.startswith(".site")] == []


def test_a_link_to_a_file_the_extract_reads_stops_the_build(tmp_path):
    project = copy_project(PAGES, tmp_path / "project")
    (project.root / "reports" / "clients.bin").symlink_to(ROOT / "data" / "contacts.parquet")

    with pytest.raises(ConfigError) as error:
        build_site(project, period="2026-10")

    assert str(error.value).startswith(
        "reports: 1 file of raw data would be published with the site (mkdocs copies every "
        "file of docs_dir into it): clients.bin (move it out of reports"
    )


def test_files_left_out_with_exclude_docs_are_not_published(tmp_path):
    project = copy_project(PAGES, tmp_path / "project")
    (project.root / "reports" / "notes.parquet").write_bytes(b"PAR1")
    config = project.root / "mkdocs.yml"
    config.write_text(
        config.read_text(encoding="utf-8") + "exclude_docs: '*.parquet'\n", encoding="utf-8"
    )

    result = build_site(Project.load(project.root), period="2026-10")

    assert (result.site_dir / "index.html").is_file()
    assert not (result.site_dir / "notes.parquet").exists()
