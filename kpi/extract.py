"""The CRM extract of a project: one ibis table per canonical table name.

A canonical table is `data/<table>.parquet` or a folder `data/<table>/` of Parquet files
(a refresh may add files to the folder), or a table the project maps from raw files
(`kpi.mapping`). Both are served the same way, as lazy DuckDB views. Every table is
optional: asking for a missing one raises `MissingTable`, which the engine turns into an
n/a value with its reason.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

import duckdb
import ibis
import pyarrow.parquet as pq

from kpi import mapping
from kpi.errors import ExtractError
from kpi.mapping import identifier, quote
from kpi.project import Project
from kpi.schema import TABLES, fits

log = logging.getLogger(__name__)

# The Parquet key-value metadata where an export tool records when it took the extract.
EXTRACTED_AT_KEY = b"kpisite.extracted_at"


class MissingTable(ExtractError):
    """The extract has no such table; KPIs reading it are n/a, the build goes on."""

    def __init__(self, table: str, where: Path | str, reason: str | None = None):
        super().__init__(reason or f"no {table} table in {where}")
        self.table = table
        self.reason = reason or f"no {table} table in {where}"
        # Why a table that exists cannot be used (raw file missing, wrong column type).
        self.detail = reason


class QueryError(ExtractError):
    """The backend refused a query over the extract (a value the contract cannot see)."""


class Extract:
    """The tables of one project, read lazily through one ibis connection."""

    def __init__(self, project: Project, con: ibis.BaseBackend | None = None):
        self.project = project
        self.con = con or ibis.duckdb.connect()
        self.mapping = mapping.load(project)
        self._tables: dict[str, ibis.Table] = {}
        self._sources: set[str] = set()

    def files(self, name: str) -> list[Path]:
        """The files a table is read from (Parquet, or a mapping's raw files), sorted."""
        spec = self.mapping.spec(name)
        if spec is not None and spec.is_mapped:
            found = []
            for source in spec.sources:
                found.extend(self.mapping.sources[source].files())
            return found
        single = self.project.data_dir / f"{name}.parquet"
        folder = self.project.data_dir / name
        if single.is_file():
            return [single]
        if folder.is_dir():
            return sorted(folder.glob("*.parquet"))
        return []

    def data_names(self) -> list[str]:
        """The table names with Parquet files under the extract folder."""
        found = set()
        if self.project.data_dir.is_dir():
            for path in self.project.data_dir.iterdir():
                if path.suffix == ".parquet" and path.is_file():
                    found.add(path.stem)
                elif path.is_dir() and any(path.glob("*.parquet")):
                    found.add(path.name)
        return sorted(found)

    def names(self) -> list[str]:
        """The canonical table names available: Parquet tables and mapped tables."""
        mapped = self.mapping.mapped_names()
        available = [name for name in mapped if not self.mapping.missing_sources(name)]
        return sorted(set(self.data_names()) | set(available))

    def has(self, name: str) -> bool:
        return name in self.names()

    def table(self, name: str) -> ibis.Table:
        """The ibis table `name` with every canonical column (absent nullable ones null).

        A column of the wrong type makes the table unusable (MissingTable with the
        reason): computing on it would fail in the engine, or worse, give a wrong number.
        """
        raw = self.raw_table(name)
        if name not in TABLES:
            return raw
        self._check_types(name, raw)
        present = set(raw.columns)
        missing = {
            column.name: ibis.null().cast(column.ibis_type)
            for column in TABLES[name].columns
            if column.name not in present and column.nullable
        }
        return raw.mutate(**missing) if missing else raw

    def _check_types(self, name: str, raw: ibis.Table) -> None:
        schema = raw.schema()
        for column in TABLES[name].columns:
            if column.name in schema and not fits(column.kind, schema[column.name]):
                raise MissingTable(
                    name,
                    self.project.data_dir,
                    f"table {name}, column {column.name}: unexpected type "
                    f"{schema[column.name]} (run kpisite check)",
                )

    def raw_table(self, name: str) -> ibis.Table:
        """The ibis table `name` as the extract holds it (the contract checks this one)."""
        if name not in self._tables:
            self._register(name)
            self._tables[name] = self.con.table(name)
        return self._tables[name]

    def _register(self, name: str) -> None:
        """Create the view `name` (and its unzoned inner view) in DuckDB."""
        spec = self.mapping.spec(name)
        inner = f"kpisite_{name}_unzoned"
        if spec is not None and spec.is_mapped:
            self._check_sources(name)
            for source in spec.sources:
                self._register_source(source)
            columns = self._columns(spec.source) if spec.source else []
            self._create_view(inner, mapping.select_sql(spec, columns), spec.where)
        else:
            files = self.files(name)
            if not files:
                raise MissingTable(name, self.project.data_dir)
            paths = ", ".join(quote(str(path)) for path in files)
            select = f"SELECT * FROM read_parquet([{paths}], union_by_name = true)"
            self._create_view(inner, select, str(files[0]))

        zone = spec.timezone if spec else None
        types = {column: kind for column, kind, *_ in self._describe(inner)}
        self._create_view(name, mapping.zoned_sql(inner, name, types, zone), name)

    def _check_sources(self, name: str) -> None:
        missing = self.mapping.missing_sources(name)
        if missing:
            paths = ", ".join(str(source.path) for source in missing)
            raise MissingTable(
                name,
                paths,
                f"table {name}: raw file not found: {paths} (check plugins.kpisite.raw_data "
                "or the KPISITE_SHARED_DATA variable)",
            )

    def _register_source(self, source_name: str) -> None:
        if source_name not in self._sources:
            source = self.mapping.sources[source_name]
            select = f"SELECT * FROM {source.reader_sql()}"
            self._create_view(source_name, select, f"source {source_name} ({source.path})")
            self._sources.add(source_name)

    def _columns(self, view: str) -> list[str]:
        return [row[0] for row in self._describe(view)]

    def _describe(self, view: str) -> list[tuple]:
        return self.con.raw_sql(f"DESCRIBE {identifier(view)}").fetchall()

    def _create_view(self, view: str, select: str, where: str) -> None:
        log.debug("view %s: %s", view, select)
        try:
            self.con.raw_sql(f"CREATE OR REPLACE VIEW {identifier(view)} AS {select}")
        except duckdb.Error as error:
            # A bad mapping query or an unreadable file: the user's to fix.
            message = str(error).splitlines()[0]
            raise ExtractError(f"{where}: cannot read: {message}") from None

    def fingerprint(self, name: str) -> str:
        """A short hash that changes when any file of the table (or its mapping) changes.

        Size and modification time stand for the content: hashing gigabytes of Parquet
        at every build would cost more than the queries the cache saves.
        """
        spec = self.mapping.spec(name)
        if spec is not None and spec.is_mapped:
            return self.mapping.fingerprint(name)
        digest = hashlib.sha256(name.encode())
        if spec is not None:
            digest.update(spec.definition().encode())
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

    def execute(self, expr: ibis.Expr):
        """Run an ibis expression over the extract and return a pyarrow result.

        Backend errors become QueryError, so callers need not know the backend.
        """
        try:
            return self.con.to_pyarrow(expr)
        except duckdb.Error as error:
            raise QueryError(str(error).splitlines()[0]) from error

    def all_files(self) -> list[Path]:
        """Every file the available tables are read from, each once, sorted."""
        return sorted({path for name in self.names() for path in self.files(name)})

    def extracted_at(self) -> datetime | None:
        """When the extract was taken, in UTC: the newest time recorded under
        `kpisite.extracted_at` in a Parquet file's metadata, else the newest file's
        modification time (a fresh clone gives committed files the clone's time, so an
        export tool should record the real one)."""
        moments = [file_extracted_at(path) for path in self.all_files()]
        return max(moments, default=None)


def file_extracted_at(path: Path) -> datetime:
    """The extraction time recorded in a Parquet file's footer, else its mtime."""
    if path.suffix == ".parquet":
        try:
            metadata = pq.read_metadata(path).metadata or {}
        except (OSError, ValueError):
            metadata = {}
        if EXTRACTED_AT_KEY in metadata:
            return datetime.fromisoformat(metadata[EXTRACTED_AT_KEY].decode()).astimezone(UTC)
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)
