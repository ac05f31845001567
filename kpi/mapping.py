"""Declarative mappings: how a project's raw files become canonical tables, with no Python.

A project declares, under its `kpisite` plugin options:

- `raw_data`: the folder raw source paths are relative to (default: the project folder);
- `sources`: named raw files (CSV or Parquet) with their read options;
- `tables`: per canonical table, either `sql:` (a SELECT over the source names) or
  `from:` a source plus `columns:` (canonical column -> raw column or SQL expression),
  and `timezone:` the zone of its naive wall-clock timestamps. An entry with only
  `timezone:` declares the zone of a Parquet table under `data/`.

Everything becomes DuckDB views: nothing is read until a KPI query runs. The SQL written
here is the project's own (it reads raw files), so it is DuckDB SQL by design; the KPI
layer on top only sees ibis tables.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from kpi.errors import closest, did_you_mean
from kpi.project import ConfigLines, Project, SettingError, setting_where, settings_error
from kpi.schema import TABLES

FORMATS = ("csv", "parquet")
SOURCE_KEYS = ("path", "format", "options", "base")
# What a source path is relative to: the raw data folder, or the project (a lookup table
# the project ships beside its mkdocs.yml).
BASES = ("raw_data", "project")
TABLE_KEYS = ("sql", "from", "columns", "timezone", "sources")

# DuckDB types that hold a wall-clock time without a zone.
NAIVE_TYPES = ("TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "DATE")


@dataclass(frozen=True)
class Source:
    """One raw file (or glob) of a project, read by DuckDB with its options."""

    name: str
    path: Path
    format: str
    options: dict[str, Any] = field(default_factory=dict)

    def files(self) -> list[Path]:
        """The files the path names today (a glob may match several)."""
        if any(char in str(self.path) for char in "*?["):
            return sorted(self.path.parent.glob(self.path.name))
        return [self.path] if self.path.is_file() else []

    def empty_files(self) -> list[Path]:
        """Its files of 0 bytes: an export that wrote nothing, whose columns are unknown."""
        return [path for path in self.files() if path.stat().st_size == 0]

    def named_in(self, message: str) -> bool:
        """Whether an error message names one of this source's files."""
        return any(str(path) in message for path in self.files())

    def reader_sql(self) -> str:
        """The DuckDB table function reading this source."""
        paths = ", ".join(quote(str(path)) for path in self.files())
        options = "".join(f", {key} = {literal(value)}" for key, value in self.options.items())
        return f"read_{self.format}([{paths}]{options})"


@dataclass(frozen=True)
class TableSpec:
    """How one canonical table is made: from raw sources, or from data/ with a zone."""

    name: str
    where: str
    sql: str | None = None
    source: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    timezone: str | None = None
    sources: tuple[str, ...] = ()

    @property
    def is_mapped(self) -> bool:
        """True when the table comes from raw sources rather than data/."""
        return self.sql is not None or self.source is not None

    def definition(self) -> str:
        """A stable text of the definition, hashed into the table's fingerprint."""
        return json.dumps(
            [self.sql, self.source, self.columns, self.timezone, self.sources], sort_keys=True
        )


@dataclass(frozen=True)
class Mapping:
    """The sources and table specs of a project, validated."""

    sources: dict[str, Source]
    tables: dict[str, TableSpec]
    # Where the options are written, to point at them in errors.
    config_file: Path | None = None

    @property
    def config(self) -> str:
        return self.config_file.name if self.config_file else "mkdocs.yml"

    @cached_property
    def lines(self) -> ConfigLines:
        """The line of each option ("tables.orders.sql" -> 57), read on the first error."""
        return ConfigLines.read(self.config_file) if self.config_file else ConfigLines({}, {})

    def spec(self, name: str) -> TableSpec | None:
        return self.tables.get(name)

    def locate(self, key: str, sql_line: int | None = None) -> str:
        """`mkdocs.yml:57, plugins.kpisite.tables.orders.sql`: a plugin option and its line.

        With `sql_line`, the line DuckDB names in a table's SQL ("LINE 3:"), when the
        SQL is a literal block whose lines are the file's.
        """
        line = self.lines.sql_line(key, sql_line) if sql_line else None
        return setting_where(self.config_file, self.lines, key, line)

    def table_where(self, name: str, sql_line: int | None = None, reading: str = "") -> str:
        """Where an error of the mapped table `name` is: its definition and, for an error
        `reading` the data (DuckDB's message), its sources, as their read options may be
        the cause: those whose files the message names, else all of them."""
        spec = self.tables[name]
        if spec.sql is not None:
            place = self.locate(f"tables.{name}.sql", sql_line)
        else:
            column = column_at(spec, sql_line) if sql_line else None
            place = self.locate(f"tables.{name}.columns.{column}" if column else f"tables.{name}")
        parts = [f"mapping in {place}"]
        if reading:
            named = [s for s in spec.sources if self.sources[s].named_in(reading)]
            parts.extend(self.source_where(source) for source in named or spec.sources)
        return f"table {name} ({'; '.join(parts)})"

    def column_where(self, name: str, column: str | None) -> str:
        """Where the mapped table `name` makes `column` (None: the table): the column's
        own entry under `columns:`, else the table's SQL, else the table."""
        spec = self.tables[name]
        if spec.sql is not None:
            return self.locate(f"tables.{name}.sql")
        if column in spec.columns:
            return self.locate(f"tables.{name}.columns.{column}")
        return self.locate(f"tables.{name}")

    def source_where(self, name: str) -> str:
        line = self.lines.line(f"sources.{name}")
        return f"source {name} at {self.config}:{line}" if line else f"source {name}"

    def mapped_names(self) -> list[str]:
        return sorted(name for name, spec in self.tables.items() if spec.is_mapped)

    def missing_sources(self, name: str) -> list[Source]:
        """The sources of a mapped table whose files are not there, or empty."""
        spec = self.tables[name]
        sources = [self.sources[s] for s in spec.sources]
        return [source for source in sources if not source.files() or source.empty_files()]

    def fingerprint(self, name: str) -> str:
        """Hash of the table's definition and of the size and time of its raw files."""
        spec = self.tables[name]
        digest = hashlib.sha256(f"{name}:{spec.definition()}".encode())
        for source_name in spec.sources:
            source = self.sources[source_name]
            digest.update(f"{source_name}:{source.format}:{source.options}".encode())
            for path in source.files():
                stat = path.stat()
                digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns}".encode())
        return digest.hexdigest()[:16]


def load(project: Project) -> Mapping:
    """The mapping declared by a project (empty when it declares none); a ConfigError
    lists every bad mapping option at its line."""
    mapping, errors = parse(project)
    if errors:
        raise settings_error(project.config_file, errors)
    return mapping


def parse(project: Project) -> tuple[Mapping, list[SettingError]]:
    """The mapping, and the error of each bad `sources` or `tables` entry (all of them:
    `Project.from_options` reports them with the other settings)."""
    raw_root = project.path(project.settings.raw_data)
    errors: list[SettingError] = []
    sources = {}
    for name, value in project.settings.sources.items():
        try:
            sources[name] = parse_source(name, value, raw_root, project.root)
        except SettingError as error:
            errors.append(error)

    # A table naming a source in error is not told the source is unknown.
    declared = list(project.settings.sources)
    tables = {}
    for name, value in project.settings.tables.items():
        found: list[SettingError] = []
        spec = parse_table(name, value, declared, found)
        errors.extend(found)
        if spec is not None and not found:
            tables[name] = spec
    return Mapping(sources, tables, project.config_file), errors


def parse_source(name: str, value: Any, raw_root: Path, project_root: Path) -> Source:
    """One `sources:` entry: a path string, or a mapping with path, format and options."""
    key = f"sources.{name}"
    if name in TABLES:
        raise SettingError(
            key,
            f"a source cannot be named like the canonical table '{name}'",
            f"rename it, e.g. 'raw_{name}'",
        )
    if isinstance(value, str):
        value = {"path": value}
    if not isinstance(value, dict) or "path" not in value:
        raise SettingError(key, "expected a path, or a mapping with a 'path' key")
    unknown = unknown_keys(value, SOURCE_KEYS, key)
    if unknown:
        raise unknown[0]

    base = value.get("base", "raw_data")
    if base not in BASES:
        raise SettingError(f"{key}.base", f"expected one of {', '.join(BASES)}, got {base!r}")
    path = (project_root if base == "project" else raw_root) / str(value["path"])
    fmt = value.get("format") or path.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise SettingError(
            f"{key}.format", f"unknown format {fmt!r}", f"expected one of: {', '.join(FORMATS)}"
        )
    options = value.get("options") or {}
    if not isinstance(options, dict):
        raise SettingError(f"{key}.options", "expected a mapping of read options")
    return Source(name, path, fmt, dict(options))


def parse_table(
    name: str, value: Any, sources: list[str], errors: list[SettingError]
) -> TableSpec | None:
    """One `tables:` entry, checked against the canonical schema and the sources; its
    errors are appended to `errors`."""
    key = f"tables.{name}"
    if name not in TABLES:
        errors.append(SettingError(key, "unknown canonical table", did_you_mean(name, TABLES)))
        return None
    if not isinstance(value, dict):
        errors.append(SettingError(key, "expected a mapping with 'sql' or 'from' and 'columns'"))
        return None
    errors.extend(unknown_keys(value, TABLE_KEYS, key))
    if "sql" in value and "from" in value:
        errors.append(SettingError(key, "give either 'sql' or 'from' + 'columns', not both"))
        return None

    timezone = value.get("timezone")
    if timezone is not None:
        errors.extend(zone_errors(timezone, f"{key}.timezone"))
    if "sql" in value:
        return sql_spec(name, value, sources, timezone, errors)
    if "from" in value:
        return columns_spec(name, value, sources, timezone, errors)
    if "columns" in value:
        errors.append(SettingError(key, "'columns' needs 'from: <source name>'"))
        return None
    return TableSpec(name, key, timezone=timezone)


def sql_spec(name, value, sources, timezone, errors) -> TableSpec | None:
    key = f"tables.{name}"
    sql = value["sql"]
    if not isinstance(sql, str) or not sql.strip():
        errors.append(SettingError(f"{key}.sql", "expected a SELECT statement over the sources"))
        return None
    used = value.get("sources")
    if used is None:
        # The sources a query reads are the source names it mentions as words.
        used = [s for s in sources if re.search(rf"\b{re.escape(s)}\b", sql)]
    errors.extend(source_name_errors(used, sources, f"{key}.sources"))
    return TableSpec(name, key, sql=sql.strip().rstrip(";"), timezone=timezone, sources=tuple(used))


def columns_spec(name, value, sources, timezone, errors) -> TableSpec | None:
    key = f"tables.{name}"
    source = value["from"]
    errors.extend(source_name_errors([source], sources, f"{key}.from"))
    columns = value.get("columns") or {}
    if not isinstance(columns, dict) or not columns:
        errors.append(
            SettingError(f"{key}.columns", "expected canonical column: raw column or expression")
        )
        return None
    known = TABLES[name].column_names()
    for column in columns:
        if column not in known:
            hint = did_you_mean(column, known)
            errors.append(SettingError(f"{key}.columns.{column}", f"not a column of {name}", hint))
    columns = {column: str(expr) for column, expr in columns.items()}
    return TableSpec(
        name, key, source=source, columns=columns, timezone=timezone, sources=(source,)
    )


def unknown_keys(value: dict, known: tuple[str, ...], key: str) -> list[SettingError]:
    return [
        SettingError(f"{key}.{name}", "unknown key", did_you_mean(name, known))
        for name in value
        if name not in known
    ]


def source_name_errors(names, sources: list[str], key: str) -> list[SettingError]:
    return [
        SettingError(key, f"unknown source '{name}'", did_you_mean(name, sources))
        for name in names
        if name not in sources
    ]


def zone_errors(zone: Any, key: str) -> list[SettingError]:
    try:
        ZoneInfo(str(zone))
        return []
    except (ZoneInfoNotFoundError, ValueError):
        return [SettingError(key, f"unknown time zone {zone!r}", zone_hint(zone))]


def zone_hint(zone: Any) -> str:
    """ "did you mean 'America/Sao_Paulo'?" for a misspelt IANA zone name, else an example."""
    match = closest(str(zone), available_timezones())
    return f"did you mean '{match}'?" if match else "expected an IANA name such as 'Europe/London'"


def quote(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def identifier(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: Any) -> str:
    """A read option as a DuckDB literal: string, number, boolean, list or struct."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(literal(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{quote(str(k))}: {literal(v)}" for k, v in value.items()) + "}"
    return quote(str(value))


def select_sql(spec: TableSpec, source_columns: list[str]) -> str:
    """The SELECT of a mapped table, before its timestamps are given their zone."""
    if spec.sql is not None:
        return spec.sql
    parts = []
    for column, expr in spec.columns.items():
        # A value naming a raw column exactly is that column; anything else is SQL.
        value = identifier(expr) if expr in source_columns else expr
        parts.append(f"{value} AS {identifier(column)}")
    # One column a line, from line 2: the line of an error is the column's (column_at).
    columns = ",\n".join(parts)
    return f"SELECT\n{columns}\nFROM {identifier(spec.source)}"


def column_at(spec: TableSpec, sql_line: int) -> str | None:
    """The canonical column whose expression is on `sql_line` of select_sql's query."""
    names = list(spec.columns)
    if any("\n" in str(expr) for expr in spec.columns.values()):
        return None  # an expression over several lines shifts the ones after it
    return names[sql_line - 2] if 2 <= sql_line < len(names) + 2 else None


def zoned_sql(view: str, table: str, types: dict[str, str], zone: str | None) -> str:
    """A SELECT over `view` giving naive canonical timestamps their zone, when one is set.

    Nanosecond instants (pandas' default) become microsecond ones: ibis does not know
    DuckDB's TIMESTAMPTZ_NS, and microseconds are all a CRM timestamp needs.
    """
    kinds = {column.name: column.kind for column in TABLES[table].columns}
    replaced = []
    for name, duck_type in types.items():
        column = identifier(name)
        if zone and kinds.get(name) == "timestamp" and duck_type in NAIVE_TYPES:
            # timezone(zone, naive) reads the wall-clock time in `zone`, gives TIMESTAMPTZ.
            replaced.append(f"timezone({quote(zone)}, {column}::TIMESTAMP) AS {column}")
        elif duck_type == "TIMESTAMPTZ_NS":
            replaced.append(f"{column}::TIMESTAMPTZ AS {column}")
    if not replaced:
        return f"SELECT * FROM {identifier(view)}"
    return f"SELECT * REPLACE ({', '.join(replaced)}) FROM {identifier(view)}"
