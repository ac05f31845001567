"""A damaged or unusable disk cache never stops a command: it is only a cache.

A damaged file (not a database, malformed) is moved aside and a fresh one started; a
cache that cannot be written (a read-only file, a cache folder that is a file, a cache
file that is a folder) gives one warning and the values are kept in memory.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from decimal import Decimal

import pytest
from kpi_fixture import make_project
from kpisite_sites import copy_project

from kpi.engine import Workbook
from site_builder.cli import main

# October 2026 in the fixture (tests/test_engine.py): o1 100.00, o2 50.50, o4 30.00 and
# the guest o7 20.00.
REVENUE = Decimal("200.50")


def cache_file(project):
    return project.cache_dir / "kpi-cache.sqlite"


def fill_cache(project, names=("revenue", "orders_count")) -> None:
    book = Workbook(project)
    book.values(list(names), "2026-10")
    book.close()


def cache_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "kpi.cache"]


def not_a_database(project) -> None:
    cache_file(project).write_bytes(os.urandom(5000))


def truncated(project) -> None:
    fill_cache(project)
    data = cache_file(project).read_bytes()
    cache_file(project).write_bytes(data[: len(data) // 2])


def overwritten(project) -> None:
    fill_cache(project)
    data = bytearray(cache_file(project).read_bytes())
    data[4096:8192] = os.urandom(4096)
    cache_file(project).write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        (not_a_database, "file is not a database"),
        (truncated, "database disk image is malformed"),
        (overwritten, "database disk image is malformed"),
    ],
)
def test_a_damaged_cache_is_moved_aside_and_started_afresh(tmp_path, caplog, damage, said):
    project = make_project(tmp_path)
    project.cache_dir.mkdir(parents=True, exist_ok=True)
    damage(project)
    caplog.set_level(logging.WARNING, logger="kpi.cache")

    book = Workbook(project)
    assert book.value("revenue", "2026-10").raw == REVENUE
    book.close()

    path = cache_file(project)
    assert cache_warnings(caplog) == [
        f"KPI cache {path}: damaged ({said}); moved to kpi-cache.sqlite.damaged, starting a "
        "fresh cache"
    ]
    assert path.with_name("kpi-cache.sqlite.damaged").is_file()
    # The fresh cache holds the value: a second workbook runs no query.
    again = Workbook(project)
    assert again.value("revenue", "2026-10").raw == REVENUE
    assert again.stats.queries == 0


def a_file_for_a_folder(project) -> str:
    project.cache_dir.parent.mkdir(parents=True, exist_ok=True)
    project.cache_dir.write_text("not a folder")
    return f"{project.cache_dir.name} is a file, not a folder"


def a_folder_for_a_file(project) -> str:
    cache_file(project).mkdir(parents=True)
    return "kpi-cache.sqlite is a folder, not a file"


def read_only(project) -> str:
    # Tests run as root, whom file permissions do not stop: a database whose header
    # asks for a newer writer (write version 3) is one SQLite opens read-only. It holds
    # the NPS, not the values the test then writes.
    fill_cache(project, ["nps"])
    data = bytearray(cache_file(project).read_bytes())
    data[18] = 3
    cache_file(project).write_bytes(bytes(data))
    return "attempt to write a readonly database"


@pytest.mark.parametrize("unusable", [a_file_for_a_folder, a_folder_for_a_file, read_only])
def test_an_unusable_cache_warns_once_and_keeps_values_in_memory(tmp_path, caplog, unusable):
    project = make_project(tmp_path)
    said = unusable(project)
    caplog.set_level(logging.WARNING, logger="kpi.cache")

    book = Workbook(project)
    # Two batches, each writing to the cache: one warning.
    assert book.value("revenue", "2026-10").raw == REVENUE
    assert book.value("orders_count", "2026-10").raw == 4
    # Memory still spares a second query of the same value.
    queries = book.stats.queries
    assert book.value("revenue", "2026-10").raw == REVENUE
    assert book.stats.queries == queries
    book.close()

    assert cache_warnings(caplog) == [
        f"KPI cache {cache_file(project)}: cannot be used ({said}); KPI values are kept in "
        "memory for this run (check the permissions of the cache folder, or the cache "
        "setting)"
    ]


def test_query_with_a_damaged_cache_exits_0(tmp_path, capsys):
    project = make_project(tmp_path)
    project.cache_dir.mkdir(parents=True)
    not_a_database(project)
    code = main(["query", "revenue", "--period", "2026-10", "--project", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0
    assert "Chiffre d'affaires [revenue]: 200,50\xa0€" in out
    assert "damaged (file is not a database)" in err
    assert "Internal error" not in err


@pytest.mark.slow
def test_build_with_a_damaged_cache_and_with_a_file_for_a_folder(tmp_path, capsys):
    project = copy_project({"index.md": "# Ventes\n\n[[kpi orders_count]]\n"}, tmp_path)
    project.cache_dir.mkdir(parents=True)
    cache_file(project).write_bytes(os.urandom(5000))
    code = main(["build", "--period", "2026-10", "--project", str(tmp_path)])
    assert code == 0, capsys.readouterr().err
    assert "damaged (file is not a database)" in capsys.readouterr().err

    for path in project.cache_dir.iterdir():
        path.unlink()
    project.cache_dir.rmdir()
    project.cache_dir.write_text("")
    code = main(["build", "--period", "2026-10", "--project", str(tmp_path)])
    assert code == 0, capsys.readouterr().err
    assert "cache is a file, not a folder" in capsys.readouterr().err


def test_a_cache_in_memory_still_raises_its_own_errors(tmp_path):
    # Memory only (cache=False) has no file to fall back from: a misuse is a bug.
    book = Workbook(make_project(tmp_path), cache=False)
    book.cache.db.execute("DROP TABLE kpi")
    with pytest.raises(sqlite3.OperationalError):
        book.cache.get_many(["x"])


def test_a_fresh_cache_that_fails_too_gives_way_to_memory(tmp_path, caplog, monkeypatch):
    # The damaged file is replaced, and the fresh one fails as well (a disk that breaks
    # whatever is written to it): the values go to memory, the command goes on.
    import kpi.cache

    project = make_project(tmp_path)
    failures = []
    read = kpi.cache.read_many

    def failing(db, keys):
        if len(failures) < 2:
            failures.append(keys)
            error = sqlite3.DatabaseError("database disk image is malformed")
            error.sqlite_errorname = "SQLITE_CORRUPT"
            raise error
        return read(db, keys)

    fill_cache(project)
    monkeypatch.setattr(kpi.cache, "read_many", failing)
    caplog.set_level(logging.WARNING, logger="kpi.cache")
    book = Workbook(project)
    assert book.value("revenue", "2026-10").raw == REVENUE
    path = cache_file(project)
    assert cache_warnings(caplog) == [
        f"KPI cache {path}: damaged (database disk image is malformed); moved to "
        "kpi-cache.sqlite.damaged, starting a fresh cache",
        f"KPI cache {path}: cannot be used (database disk image is malformed); KPI values are "
        "kept in memory for this run (check the permissions of the cache folder, or the cache "
        "setting)",
    ]
