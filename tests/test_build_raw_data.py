"""Raw data never reaches a built site: mkdocs copies every file of docs_dir into it, so a
Parquet file, a database (the KPI cache), a file the extract reads or a text export of
contacts found there stops the build, whatever the settings say (they refuse the extract,
raw and cache folders there)."""

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


CONTACTS_CSV = (
    "contact_id;email;city\nc1;ana@example.com;Lyon\nc2;bo@example.com;Nice\n"
    "c3;cy@example.com;Paris\n"
)


@pytest.mark.parametrize(
    ("name", "text", "refused"),
    [
        # An export of contacts: by their addresses, or by a column of personal details.
        ("contacts.csv", CONTACTS_CSV, True),
        ("contacts.json", '[{"id": "c1", "first_name": "Ana"}]', True),
        ("people.tsv", "id\tphone\nc1\t+33 6 00 00 00 00\n", True),
        # Aggregates: a column named email (the channel) is not an address.
        ("channels.csv", "month;email;sms\n2026-10;1204;88\n", False),
    ],
)
def test_a_text_export_of_contacts_in_docs_dir_stops_the_build(tmp_path, name, text, refused):
    project = copy_project(PAGES, tmp_path / "project")
    (project.root / "reports" / name).write_text(text, encoding="utf-8")

    if not refused:
        build_site(project, period="2026-10")
        assert (project.root / "site" / name).read_text(encoding="utf-8") == text
        return
    with pytest.raises(ConfigError) as error:
        build_site(project, period="2026-10")
    assert str(error.value).startswith(
        "reports: 1 file of raw data would be published with the site (mkdocs copies every "
        f"file of docs_dir into it): {name} (move it out of reports"
    )
    assert not (project.root / "site").exists()
