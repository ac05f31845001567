"""The CRM extract of a project: one ibis table per canonical table name.

A canonical table is `data/<table>.parquet` or a folder `data/<table>/` of Parquet files
(a refresh may add files to the folder). Every table is optional: asking for a missing
one raises `MissingTable`, which the engine turns into an n/a value with its reason.
"""

from __future__ import annotations

import hashlib
import logging
from functools import cached_property
from pathlib import Path

import ibis

from kpi.errors import ExtractError
from kpi.project import Project

log = logging.getLogger(__name__)


class MissingTable(ExtractError):
    """The extract has no such table; KPIs reading it are n/a, the build goes on."""

    def __init__(self, table: str, where: Path):
        super().__init__(f"no {table} table in {where}")
        self.table = table


class Extract:
    """The tables of one project, read lazily through one ibis connection."""

    def __init__(self, project: Project, con: ibis.BaseBackend | None = None):
        self.project = project
        self.con = con or ibis.duckdb.connect()
        self._tables: dict[str, ibis.Table] = {}

    def files(self, name: str) -> list[Path]:
        """The Parquet files of a canonical table, sorted; empty when it is missing."""
        single = self.project.data_dir / f"{name}.parquet"
        folder = self.project.data_dir / name
        if single.is_file():
            return [single]
        if folder.is_dir():
            return sorted(folder.glob("*.parquet"))
        return []

    def names(self) -> list[str]:
        """The canonical table names present in the extract folder."""
        found = set()
        if self.project.data_dir.is_dir():
            for path in self.project.data_dir.iterdir():
                if path.suffix == ".parquet" and path.is_file():
                    found.add(path.stem)
                elif path.is_dir() and any(path.glob("*.parquet")):
                    found.add(path.name)
        return sorted(found)

    def has(self, name: str) -> bool:
        return bool(self.files(name))

    def table(self, name: str) -> ibis.Table:
        """The ibis table `name`, registered on first use."""
        if name not in self._tables:
            files = self.files(name)
            if not files:
                raise MissingTable(name, self.project.data_dir)
            paths = [str(path) for path in files]
            self._tables[name] = self.con.read_parquet(paths, table_name=name)
        return self._tables[name]

    def fingerprint(self, name: str) -> str:
        """A short hash that changes when any file of the table changes.

        Size and modification time stand for the content: hashing gigabytes of Parquet
        at every build would cost more than the queries the cache saves.
        """
        digest = hashlib.sha256(name.encode())
        for path in self.files(name):
            stat = path.stat()
            digest.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
        return digest.hexdigest()[:16]

    @cached_property
    def fingerprint_all(self) -> str:
        """One hash over every table of the extract, recorded with each site version."""
        digest = hashlib.sha256()
        for name in self.names():
            digest.update(f"{name}={self.fingerprint(name)};".encode())
        return digest.hexdigest()[:16]
