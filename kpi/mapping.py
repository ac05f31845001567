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

import yaml

from kpi.errors import ConfigError, closest, did_you_mean, with_hint
from kpi.project import PLUGIN_NAME, Project
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
        line = line or self.lines.keys.get(key)
        where = f"{self.config}:{line}" if line else self.config
        return f"{where}, plugins.{PLUGIN_NAME}.{key}"

    def table_where(self, name: str, sql_line: int | None = None, reading: str = "") -> str:
        """Where an error of the mapped table `name` is: its definition and, for an error
        `reading` the data (DuckDB's message), its sources, as their read options may be
        the cause: those whose files the message names, else all of them."""
        spec = self.tables[name]
        key = f"tables.{name}.sql" if spec.sql is not None else f"tables.{name}"
        parts = [f"mapping in {self.locate(key, sql_line)}"]
        if reading:
            named = [s for s in spec.sources if self.sources[s].named_in(reading)]
            parts.extend(self.source_where(source) for source in named or spec.sources)
        return f"table {name} ({'; '.join(parts)})"

    def source_where(self, name: str) -> str:
        line = self.lines.keys.get(f"sources.{name}")
        return f"source {name} at {self.config}:{line}" if line else f"source {name}"

    def mapped_names(self) -> list[str]:
        return sorted(name for name, spec in self.tables.items() if spec.is_mapped)

    def missing_sources(self, name: str) -> list[Source]:
        """The sources of a mapped table whose files are not there."""
        spec = self.tables[name]
        return [self.sources[s] for s in spec.sources if not self.sources[s].files()]

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


@dataclass(frozen=True)
class ConfigLines:
    """The lines of the kpisite plugin's options in mkdocs.yml, to point errors at them.

    `keys` maps a dotted option ("data", "sources.retail", "tables.orders.sql") to the
    1-based line of its key; `sql` maps a table's SQL option to the line of its first SQL
    line, when the SQL is a literal block (`sql: |`) whose lines are the file's.
    """

    keys: dict[str, int]
    sql: dict[str, int]

    def sql_line(self, key: str, line: int) -> int | None:
        start = self.sql.get(key)
        return start + line - 1 if start else None

    @classmethod
    def read(cls, config_file: Path) -> ConfigLines:
        """The lines of the options in `config_file`; none when it cannot be read.

        The YAML is composed, not loaded: nodes keep their marks, and tags such as
        mkdocs' `!ENV` need no constructor.
        """
        try:
            root = yaml.compose(config_file.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            return cls({}, {})
        options = plugin_node(root)
        keys: dict[str, int] = {}
        sql: dict[str, int] = {}
        if options is not None:
            walk_options(options, "", keys, sql)
        return cls(keys, sql)


def plugin_node(root) -> yaml.Node | None:
    """The node of the kpisite plugin's options under `plugins:` (list or mapping form)."""
    plugins = child(root, "plugins")
    entries = plugins.value if isinstance(plugins, yaml.SequenceNode) else [plugins]
    for entry in entries:
        options = child(entry, PLUGIN_NAME)
        if options is not None:
            return options
    return None


def child(node, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    return next((value for name, value in node.value if name.value == key), None)


def walk_options(node, prefix: str, keys: dict[str, int], sql: dict[str, int]) -> None:
    """Record the line of every key under `node`, three levels deep at most."""
    if not isinstance(node, yaml.MappingNode) or prefix.count(".") >= 3:
        return
    for name, value in node.value:
        key = f"{prefix}{name.value}"
        keys[key] = name.start_mark.line + 1
        if name.value == "sql" and isinstance(value, yaml.ScalarNode) and value.style == "|":
            # The block's content starts on the line after `|`, less the blank lines
            # that mapping.sql_spec strips.
            skipped = value.value[: len(value.value) - len(value.value.lstrip())].count("\n")
            sql[key] = value.start_mark.line + 2 + skipped
        walk_options(value, f"{key}.", keys, sql)


def load(project: Project) -> Mapping:
    """The mapping declared by a project (empty when it declares none)."""
    where = f"{project.config_file}: plugins.{PLUGIN_NAME}"
    raw_root = project.path(project.settings.raw_data)
    sources = {
        name: parse_source(name, value, raw_root, project.root, f"{where}.sources.{name}")
        for name, value in project.settings.sources.items()
    }
    tables = {
        name: parse_table(name, value, sources, f"{where}.tables.{name}")
        for name, value in project.settings.tables.items()
    }
    return Mapping(sources, tables, project.config_file)


def parse_source(name: str, value: Any, raw_root: Path, project_root: Path, where: str) -> Source:
    """One `sources:` entry: a path string, or a mapping with path, format and options."""
    if name in TABLES:
        raise ConfigError(
            f"{where}: a source cannot be named like the canonical table '{name}' "
            f"(rename it, e.g. 'raw_{name}')"
        )
    if isinstance(value, str):
        value = {"path": value}
    if not isinstance(value, dict) or "path" not in value:
        raise ConfigError(f"{where}: expected a path, or a mapping with a 'path' key")
    check_keys(value, SOURCE_KEYS, where)

    base = value.get("base", "raw_data")
    if base not in BASES:
        raise ConfigError(f"{where}.base: expected one of {', '.join(BASES)}, got {base!r}")
    path = (project_root if base == "project" else raw_root) / str(value["path"])
    fmt = value.get("format") or path.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise ConfigError(
            f"{where}.format: unknown format {fmt!r} (expected one of: {', '.join(FORMATS)})"
        )
    options = value.get("options") or {}
    if not isinstance(options, dict):
        raise ConfigError(f"{where}.options: expected a mapping of read options")
    return Source(name, path, fmt, dict(options))


def parse_table(name: str, value: Any, sources: dict[str, Source], where: str) -> TableSpec:
    """One `tables:` entry, checked against the canonical schema and the sources."""
    if name not in TABLES:
        raise ConfigError(f"{where}: unknown canonical table ({did_you_mean(name, TABLES)})")
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a mapping with 'sql' or 'from' and 'columns'")
    check_keys(value, TABLE_KEYS, where)
    if "sql" in value and "from" in value:
        raise ConfigError(f"{where}: give either 'sql' or 'from' + 'columns', not both")

    timezone = value.get("timezone")
    if timezone is not None:
        check_zone(timezone, f"{where}.timezone")
    if "sql" in value:
        return sql_spec(name, value, sources, timezone, where)
    if "from" in value:
        return columns_spec(name, value, sources, timezone, where)
    if "columns" in value:
        raise ConfigError(f"{where}: 'columns' needs 'from: <source name>'")
    return TableSpec(name, where, timezone=timezone)


def sql_spec(name, value, sources, timezone, where) -> TableSpec:
    sql = value["sql"]
    if not isinstance(sql, str) or not sql.strip():
        raise ConfigError(f"{where}.sql: expected a SELECT statement over the sources")
    used = value.get("sources")
    if used is None:
        # The sources a query reads are the source names it mentions as words.
        used = [s for s in sources if re.search(rf"\b{re.escape(s)}\b", sql)]
    check_source_names(used, sources, f"{where}.sources")
    return TableSpec(
        name, where, sql=sql.strip().rstrip(";"), timezone=timezone, sources=tuple(used)
    )


def columns_spec(name, value, sources, timezone, where) -> TableSpec:
    source = value["from"]
    check_source_names([source], sources, f"{where}.from")
    columns = value.get("columns") or {}
    if not isinstance(columns, dict) or not columns:
        raise ConfigError(f"{where}.columns: expected canonical column: raw column or expression")
    known = TABLES[name].column_names()
    for column in columns:
        if column not in known:
            hint = did_you_mean(column, known)
            raise ConfigError(with_hint(f"{where}.columns.{column}: not a column of {name}", hint))
    columns = {key: str(expr) for key, expr in columns.items()}
    return TableSpec(
        name, where, source=source, columns=columns, timezone=timezone, sources=(source,)
    )


def check_keys(value: dict, known: tuple[str, ...], where: str) -> None:
    for key in value:
        if key not in known:
            raise ConfigError(f"{where}.{key}: unknown key ({did_you_mean(key, known)})")


def check_source_names(names, sources, where: str) -> None:
    for name in names:
        if name not in sources:
            raise ConfigError(f"{where}: unknown source '{name}' ({did_you_mean(name, sources)})")


def check_zone(zone: Any, where: str) -> None:
    try:
        ZoneInfo(str(zone))
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}: unknown time zone {zone!r} ({zone_hint(zone)})") from None


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
    return f"SELECT {', '.join(parts)} FROM {identifier(spec.source)}"


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
