"""The checks of the extract contract (`kpisite check`, and the first step of a build).

Each table present is checked against `kpi.schema`: readable Parquet files (each file of a
folder table with its own schema), every column there with its kind, no null in a
required column, only known enum values, codes shaped as codes, plausible times, amounts
in the project's currency and of a sane size, no duplicate key, not empty. Rows whose
references lead nowhere (an order whose contact is unknown) are warnings. Every check is
an aggregate query run by the engine (one per table for the values, which also reads
every column so that a damaged page or a value a mapping cannot convert shows here, not
in the build); only a few offending values come back to Python.

`kpisite check` also loads the KPI catalog (the standard one and the project's files): a
catalog error is an error, and a table some KPI reads but the extract lacks is a warning.
"""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import ibis
import ibis.expr.datatypes as dt
import pyarrow as pa
import pyarrow.parquet as pq
from ibis.common.exceptions import IbisError

from kpi.errors import CatalogError, ExtractError, Problem, closest
from kpi.extract import (
    EXTRACTED_AT_KEY,
    Extract,
    MissingTable,
    QueryError,
    ReadError,
    hive_keys,
)
from kpi.project import Project, Settings
from kpi.schema import EXPECTED, TABLES, Column, fits

if TYPE_CHECKING:
    from kpi.catalog import Catalog

log = logging.getLogger(__name__)

EXAMPLES = 5
# The earliest plausible time in a CRM extract: anything before is a placeholder date
# (1900-01-01, 0001-01-01) or a unit error (seconds read as milliseconds).
FLOOR = datetime(1970, 1, 1, tzinfo=UTC)
# Rows may be written while the export runs, on a server whose clock is a little off.
GRACE = timedelta(days=1)
# No CRM amount comes near this: it is a unit or export error, and a sum of such amounts
# overflows the engine's decimals (DECIMAL(38) holds 38 digits).
HUGE_AMOUNT = 10**12


@dataclass(frozen=True)
class Report:
    """The problems found in a project's extract, and the tables checked."""

    tables: list[str]
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


def plural(count: int, noun: str) -> str:
    """A count and its noun in the right number: "1 error", "2 errors", "0 rows"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def check_project(
    project: Project, extract: Extract | None = None, catalog: Catalog | None = None
) -> Report:
    """Check every table of the project's extract; never raises for a bad extract.

    With the catalog a build has loaded, also warn of the tables its KPIs read that the
    extract lacks, as `kpisite check` does through `check_catalog`: a build shows the same
    warnings. The warning of an orphan reference says which KPIs count those rows and
    which leave them out.
    """
    started = time.perf_counter()
    extract = extract or Extract(project)
    names = [name for name in extract.names() if name in TABLES]
    problems = [*data_folder(extract), *missing_sources(extract), *unknown_tables(extract)]
    problems.extend(no_tables(extract, names))
    if catalog is not None:
        problems.extend(absent_tables(project, names, catalog))

    usable = []
    for name in names:
        found = check_table(extract, name)
        problems.extend(found)
        if not any(p.severity == "error" for p in found):
            usable.append(name)
    problems.extend(check_references(extract, usable, Readers(project, catalog)))

    log.debug("checked %d tables in %.2f s", len(names), time.perf_counter() - started)
    return Report(names, problems)


def ensure_valid(
    project: Project, extract: Extract | None = None, catalog: Catalog | None = None
) -> Report:
    """Check the extract and raise ExtractError listing the errors, if any. With the
    catalog of the build, the report warns of the tables its KPIs read that are absent."""
    report = check_project(project, extract, catalog)
    if report.errors:
        raise ExtractError(
            f"the extract of {project.root} breaks the contract "
            f"({plural(len(report.errors), 'error')}; "
            "run `kpisite check` for the details)",
            report.errors,
        )
    return report


def log_warnings(report: Report) -> None:
    """Log the report's warnings (orphans, absent optional columns, absent tables) at
    WARNING.

    The logger, `kpi.contract`, is outside `mkdocs.`: a strict build does not count them,
    as they do not make a KPI wrong, but `kpisite -q build` still shows them.
    """
    for problem in report.warnings:
        log.warning("%s", problem)


def check_catalog(project: Project, tables: list[str]) -> list[Problem]:
    """The catalog's errors (file:line), else a warning per table read by KPIs but absent."""
    from kpi.catalog import Catalog

    try:
        catalog = Catalog.of_project(project)
    except CatalogError as error:
        # Catalog.load reports every error of the catalogs, each a problem of its own.
        texts = [str(problem) for problem in error.problems] or [str(error)]
        return [catalog_problem(text, project) for text in texts]
    return absent_tables(project, tables, catalog)


def absent_tables(project: Project, tables: list[str], catalog: Catalog) -> list[Problem]:
    """A warning per table some KPI of the catalog reads but the extract lacks."""
    readers: dict[str, list[str]] = {}
    for kpi in catalog.kpis.values():
        for table in kpi.tables:
            readers.setdefault(table, []).append(kpi.name)
    return [
        absent_table(project, table, readers[table])
        for table in TABLES
        if table in readers and table not in tables
    ]


def catalog_problem(text: str, project: Project) -> Problem:
    """A CatalogError as a Problem: its message starts with `file:line`, shown relative."""
    where, _, message = text.partition(": ")
    root = f"{project.root}/"
    return Problem(where.removeprefix(root), message or "invalid catalog")


def absent_table(project: Project, table: str, kpis: list[str]) -> Problem:
    return Problem(
        f"table {table}",
        f"absent, so its {plural(len(kpis), 'KPI')} ({shown_names(kpis)}) will be n/a",
        f"add {project.settings.data}/{table}.parquet, or map it in plugins.kpisite.tables",
        "warning",
    )


# --- the extract folder and the raw files --------------------------------------------


def data_folder(extract: Extract) -> list[Problem]:
    """The `data` folder must be a folder; it may be absent only when the project maps
    its tables from raw files and leaves the `data` option to its default."""
    project = extract.project
    folder, option = project.data_dir, project.settings.data
    if folder.is_dir():
        return []
    where = extract.mapping.locate("data")
    if folder.exists():
        return [
            Problem(
                where,
                f"data folder {option} is a file, not a folder",
                "set it to the folder of the extract's Parquet files",
            )
        ]
    if option == Settings.data and extract.mapping.mapped_names():
        return []
    return [Problem(where, f"data folder {option} does not exist", folder_hint(folder, option))]


def no_tables(extract: Extract, names: list[str]) -> list[Problem]:
    """An extract folder holding no table at all, with nothing mapped, is a mistake (the
    wrong folder, an export that wrote nothing): every KPI would be n/a."""
    project = extract.project
    if names or extract.mapping.mapped_names() or not project.data_dir.is_dir():
        return []
    expected = ", ".join(f"{table}.parquet" for table in list(TABLES)[:3])
    return [
        Problem(
            extract.mapping.locate("data"),
            f"no extract table found in {project.settings.data}",
            f"expected {expected}, ... or folders of Parquet files",
        )
    ]


def folder_hint(folder: Path, option: str) -> str:
    """The closest existing folder beside the missing one, or how to make one."""
    siblings = (
        [p.name for p in folder.parent.iterdir() if p.is_dir()] if folder.parent.is_dir() else []
    )
    match = closest(folder.name, siblings)
    if match:
        return f"did you mean '{Path(option).parent / match}'?"
    return f"write one with `kpisite sample-data --out {option}`, or set plugins.kpisite.data"


def missing_sources(extract: Extract) -> list[Problem]:
    """A mapped table whose raw files are not there cannot be built: an error, said once
    per raw file with the tables that read it."""
    readers: dict[str, list[str]] = {}
    for name in extract.mapping.mapped_names():
        for source in extract.mapping.missing_sources(name):
            readers.setdefault(source.name, []).append(name)

    problems = []
    for source_name, tables in readers.items():
        source = extract.mapping.sources[source_name]
        where = extract.mapping.source_where(source_name)
        readers_said = f"read by {plural(len(tables), 'table')}: {', '.join(tables)}"
        empty = ", ".join(str(path) for path in source.empty_files())
        if empty:
            problem = Problem(
                where,
                f"raw file is empty (0 bytes): {empty} ({readers_said})",
                "the export wrote nothing: export it again",
            )
        else:
            problem = Problem(
                where,
                f"raw file not found: {source.path} ({readers_said})",
                nearest_file(source.path),
            )
        problems.append(problem)
    return problems


def nearest_file(path: Path) -> str:
    """A hint for a raw file that is not there: the closest name in its folder, or the
    folder that does not exist."""
    settings = "check plugins.kpisite.raw_data, or set KPISITE_SHARED_DATA"
    if not path.parent.is_dir():
        return f"no folder {path.parent}; {settings}"
    match = closest(path.name, [p.name for p in path.parent.iterdir()])
    return f"did you mean '{match}'?" if match else f"no such file in {path.parent}; {settings}"


def unknown_tables(extract: Extract) -> list[Problem]:
    """A Parquet table with a name the contract does not know is probably misnamed."""
    problems = []
    for name in extract.data_names():
        if name not in TABLES:
            match = closest(name, TABLES)
            hint = f"did you mean '{match}'?" if match else "it is not read"
            problems.append(
                Problem(f"{extract.project.settings.data}/{name}", "unknown table", hint, "warning")
            )
    return problems


# --- one table ---------------------------------------------------------------------


def check_table(extract: Extract, name: str) -> list[Problem]:
    """The problems of one table: files, columns, values, keys.

    Any error of the engine while reading the table becomes a problem naming the file
    or the mapping it comes from: a bad extract never crashes the check.
    """
    problems = check_files(extract, name) + extraction_times(extract, name)
    if problems:
        return problems

    try:
        return check_contents(extract, name)
    except MissingTable as missing:
        return [Problem(f"table {name}", missing.reason)]
    except ReadError as error:
        return [Problem(error.where, indented(error.detail))]
    except QueryError as error:
        return [unreadable(extract, name, error)]
    except ExtractError as error:
        return [Problem(f"table {name}", str(error))]


def check_contents(extract: Extract, name: str) -> list[Problem]:
    problems = check_rows(extract, name)
    if not is_mapped(extract, name):
        return problems
    # A mapped table's values are what its mapping makes of the raw files: the fix is there.
    return [mapping_named(extract, name, problem) for problem in problems]


def mapping_named(extract: Extract, name: str, problem: Problem) -> Problem:
    """A problem of a mapped table, said with the mapping of its column (or table)."""
    column = problem.where.partition(", column ")[2] or None
    place = extract.mapping.column_where(name, column)
    return replace(problem, where=f"{problem.where} (mapping in {place})")


def check_rows(extract: Extract, name: str) -> list[Problem]:
    table = extract.raw_table(name)
    problems = check_columns(extract, name, table)
    present = [
        column
        for column in TABLES[name].columns
        if column.name in table.columns and not bad_type(column, table)
    ]
    problems.extend(check_values(extract, name, table, present))
    if any(p.message == "empty table" for p in problems):
        return problems
    problems.extend(check_key(extract, name, table))
    return problems


def is_mapped(extract: Extract, name: str) -> bool:
    spec = extract.mapping.spec(name)
    return spec is not None and spec.is_mapped


def indented(text: str) -> str:
    """A message of several lines (DuckDB's), its next lines indented under the first."""
    return "\n    ".join(text.splitlines())


def unreadable(extract: Extract, name: str, error: QueryError) -> Problem:
    """A query over the table failed: name the mapping, or the file that cannot be read."""
    if is_mapped(extract, name):
        where = extract.mapping.table_where(name, reading=str(error))
        return Problem(where, indented(str(error)))
    found = extract.unreadable_file(name)
    if found is None:
        return Problem(f"table {name}", "cannot be read: " + indented(str(error)))
    path, detail = found
    return Problem(
        extract.shown(path),
        f"unreadable Parquet file (table {name}): " + indented(detail),
        "the file is damaged: extract it again",
    )


# --- files -------------------------------------------------------------------------


def extraction_times(extract: Extract, name: str) -> list[Problem]:
    """A recorded extraction time that cannot be used is an error of its file: it bounds
    the plausible times of the table and is shown in every page's footer."""
    key = EXTRACTED_AT_KEY.decode()
    return [
        Problem(f"{extract.shown(error.path)}, metadata {key}", error.detail, error.hint)
        for error in extract.extraction_time_errors(name)
    ]


def check_files(extract: Extract, name: str) -> list[Problem]:
    """Every Parquet file of a data/ table must open (a truncated one fails its footer),
    and each file of a folder table must have the contract's columns: the folder is read
    as one table, where a file's int64 ids or naive times would pass unseen."""
    if is_mapped(extract, name):
        return []
    problems = ambiguous(extract, name)
    files = extract.files(name)
    schemas = {}
    for path in files:
        schema, problem = file_schema(extract, path)
        if problem:
            problems.append(problem)
        else:
            schemas[path] = schema
    if problems:
        return problems
    # Said with the folder's other problems: each is the file's to fix.
    problems = [
        p for path, schema in schemas.items() for p in repeated_columns(extract, path, schema)
    ]
    layout = partition_layout(extract, name) or partition_columns(extract, name, schemas)
    if layout or len(files) < 2:
        return problems + layout
    return problems + check_file_schemas(extract, name, schemas)


def partition_layout(extract: Extract, name: str) -> list[Problem]:
    """Hive partition folders (`key=value/`) are read as columns only when every file of
    the table lies under the same keys: a file one level deeper or shallower (a '/' in a
    value, a file beside the partitions) would silently drop the columns of all files."""
    folders = extract.partition_folders(name)
    if not any("=" in part for parts in folders.values() for part in parts):
        return []
    layouts: dict[tuple[str, ...] | None, list[Path]] = {}
    for path, parts in folders.items():
        layouts.setdefault(hive_keys(parts), []).append(path)
    if len(layouts) == 1 and None not in layouts:
        return []

    valid = [keys for keys in layouts if keys is not None]
    usual = max(valid, key=lambda keys: len(layouts[keys])) if valid else None
    odd = sorted(path for keys, paths in layouts.items() if keys != usual for path in paths)
    shown = shown_names([extract.shown(path) for path in odd])
    others = plural(len(folders) - len(odd), "other file")
    if usual is None:
        message = f"{plural(len(odd), 'file')} under folders that are not all key=value"
        expected = "key=value folders"
    elif not usual:
        message = f"{plural(len(odd), 'file')} under partition folders, unlike the {others}"
        expected = "the same key=value folders, or none"
    else:
        expected = "/".join(f"{key}=..." for key in usual)
        message = (
            f"{plural(len(odd), 'file')} not under the partition folders {expected} of the {others}"
        )
    return [
        Problem(
            f"table {name}",
            f"{message}, so no partition column is read: {shown}",
            layout_hint([folders[path] for path in odd], expected),
        )
    ]


def layout_hint(odd: list[tuple[str, ...]], expected: str) -> str:
    """A '/' in a partition value (n/a) makes a folder `key=n` holding a folder `a`."""
    for parts in odd:
        for index, part in enumerate(parts[:-1]):
            if "=" in part and "=" not in parts[index + 1]:
                key, value = "/".join(parts[index:]).split("=", 1)
                return (
                    f"a '/' in a partition value makes an extra folder level ({key}={value}): "
                    f"write it URL-encoded ({key}={value.replace('/', '%2F')}), as DuckDB "
                    "and Spark read it"
                )
    return f"put every file under folders {expected}"


def partition_columns(extract: Extract, name: str, schemas: dict) -> list[Problem]:
    """A partition key that is also a column of its files: the folder's value would
    replace the file's in every row (`channel=web/` holding orders of every channel)."""
    keys = extract.partitions(name)
    found: dict[str, list[Path]] = {}
    for path, schema in schemas.items():
        for key in keys:
            if key in schema.names:
                found.setdefault(key, []).append(path)
    problems = []
    for key, paths in found.items():
        first = paths[0]
        folder = next(part for part in first.parent.parts if part.startswith(f"{key}="))
        more = f"; so do {plural(len(paths) - 1, 'other file')}" if len(paths) > 1 else ""
        problems.append(
            Problem(
                f"{extract.shown(first)}, column {key}",
                f"{key} is both a column of the file and its partition folder {folder}: the "
                f"folder's value would replace the file's in every row{more}",
                f"drop the column {key} from the files, or name the folders by another key",
            )
        )
    return problems


def ambiguous(extract: Extract, name: str) -> list[Problem]:
    single = extract.single_file(name)
    if single is None or not extract.folder_files(name):
        return []
    folder = extract.shown(extract.project.data_dir / name)
    return [
        Problem(
            f"table {name}",
            f"both {extract.shown(single)} and the folder {folder}/ hold it",
            "keep one of them: the table would be read from the file alone",
        )
    ]


def file_schema(extract: Extract, path: Path) -> tuple[pa.Schema | None, Problem | None]:
    """The Arrow schema of a Parquet file, read from its footer, or the problem."""
    where = extract.shown(path)
    if path.is_symlink() and not path.exists():
        return None, Problem(
            where,
            f"broken symbolic link to {os.readlink(path)}",
            "link an existing Parquet file, or remove the link",
        )
    try:
        return pq.read_schema(path), None
    except Exception as error:  # pyarrow raises several kinds for a broken file
        return None, Problem(
            where,
            f"unreadable Parquet file ({error})",
            "the file is damaged or truncated: extract it again",
        )


def repeated_columns(extract: Extract, path: Path, schema: pa.Schema) -> list[Problem]:
    """A Parquet file may name two columns alike; the engine reads the first one alone."""
    positions: dict[str, list[int]] = {}
    for position, name in enumerate(schema.names, 1):
        positions.setdefault(name, []).append(position)
    return [
        Problem(
            f"{extract.shown(path)}, column {name}",
            f"{len(found)} columns of this name (columns {', '.join(map(str, found))}): only the "
            "first one would be read",
            "extract the file again with one column of each name",
        )
        for name, found in positions.items()
        if len(found) > 1
    ]


def check_file_schemas(extract: Extract, name: str, schemas: dict) -> list[Problem]:
    """Each file's columns against the contract: one error per file and column. An
    optional column some files of the folder have and others lack is an error too: the
    folder is read as one table, where the rows of the files without it read null."""
    partitions = set(extract.partitions(name))
    zone = declared_zone(extract, name)
    problems = []
    naive: dict[str, list[str]] = {}
    aware: dict[str, list[str]] = {}
    having = {
        c: sum(c in schema.names for schema in schemas.values())
        for c in TABLES[name].column_names()
    }
    for path, schema in schemas.items():
        where = extract.shown(path)
        types = {field.name: arrow_dtype(field.type) for field in schema}
        unknown = [c for c in types if c not in TABLES[name].column_names()]
        for column in TABLES[name].columns:
            if column.name in partitions:
                continue
            if column.name not in types:
                problem = missing_column(f"{where}, column {column.name}", column, unknown)
                if problem is None and having[column.name]:
                    problem = missing_in_file(where, column.name, having[column.name])
                problems.extend([problem] if problem else [])
                continue
            dtype = types[column.name]
            if dtype is None:
                continue  # a type ibis does not know: the check of the whole table says it
            if column.kind == "timestamp" and dtype.is_timestamp() and dtype.timezone:
                aware.setdefault(column.name, []).append(where)
                continue
            if column.kind == "timestamp" and (dtype.is_timestamp() or dtype.is_date()):
                naive.setdefault(column.name, []).append(where)
                if zone:
                    continue
            problem = type_problem(f"{where}, column {column.name}", name, column, dtype, extract)
            problems.extend([problem] if problem else [])
    # Without a declared zone, each naive file is an error already.
    return problems + (mixed_zones(name, naive, aware) if zone else [])


def missing_in_file(where: str, column: str, having: int) -> Problem:
    others = (
        "1 other file of the folder has"
        if having == 1
        else f"the {having} other files of the folder have"
    )
    return Problem(
        f"{where}, column {column}",
        f"missing from this file, while {others} it: the rows of this file would read "
        f"{column} as null",
        "extract every file of the folder with the same columns",
    )


def arrow_dtype(arrow_type: pa.DataType) -> dt.DataType | None:
    from ibis.formats.pyarrow import PyArrowType

    try:
        return PyArrowType.to_ibis(arrow_type)
    except (TypeError, ValueError, KeyError, NotImplementedError):
        return None


def declared_zone(extract: Extract, name: str) -> str | None:
    spec = extract.mapping.spec(name)
    return spec.timezone if spec else None


def mixed_zones(name: str, naive: dict, aware: dict) -> list[Problem]:
    """A column naive in some files and zone-aware in others: read together, the naive
    times would be taken for UTC, whatever zone is declared."""
    problems = []
    for column in naive:
        if column in aware:
            problems.append(
                Problem(
                    f"table {name}, column {column}",
                    f"naive timestamps in {', '.join(naive[column])} but zone-aware ones in "
                    f"{', '.join(aware[column])}",
                    "write every file of the table the same way (UTC-aware timestamps)",
                )
            )
    return problems


# --- columns -----------------------------------------------------------------------


def check_columns(extract: Extract, name: str, table: ibis.Table) -> list[Problem]:
    """Missing or misspelt columns, and columns of the wrong kind (with a few values)."""
    problems = []
    canonical = TABLES[name]
    schema = table.schema()
    unknown = [c for c in table.columns if c not in canonical.column_names()]
    absent = []
    for column in canonical.columns:
        where = f"table {name}, column {column.name}"
        if column.name in schema:
            dtype = schema[column.name]
            problem = type_problem(where, name, column, dtype, extract)
            # Naive times are said by their type; times written as text show a few.
            if problem and not (dtype.is_timestamp() or dtype.is_date()):
                problem = replace(
                    problem, message=f"{problem.message}: {few_of(extract, table, column)}"
                )
            problems.extend([problem] if problem else [])
            continue
        problem = missing_column(where, column, unknown)
        if problem:
            problems.append(problem)
        else:
            absent.append(column.name)
    # A mapping declares what it maps: what it leaves out is null on purpose.
    if absent and not is_mapped(extract, name):
        problems.append(
            Problem(
                f"table {name}",
                "optional columns absent, read as null: " + ", ".join(absent),
                severity="warning",
            )
        )
    return problems


def missing_column(where: str, column: Column, unknown: list[str]) -> Problem | None:
    """A column is misspelt when an unknown column is close to its name."""
    match = closest(column.name, unknown)
    if match:
        # The extract is what was misspelt, so the hint says what to rename, not "did you
        # mean": the expected name is the one the catalog reads.
        return Problem(where, "missing column", f"found '{match}': rename it '{column.name}'")
    if not column.nullable:
        present = ", ".join(unknown) if unknown else "none"
        return Problem(where, "missing required column", f"unknown columns present: {present}")
    return None


def type_problem(
    where: str, name: str, column: Column, dtype: dt.DataType, extract: Extract
) -> Problem | None:
    """A Problem when the column's type does not fit its kind, else None."""
    if fits(column.kind, dtype):
        return None
    if column.kind == "timestamp" and (dtype.is_timestamp() or dtype.is_date()):
        zone = extract.project.settings.timezone
        return Problem(
            where,
            f"naive {dtype} with no declared time zone (expected {EXPECTED['timestamp']})",
            f"write UTC-aware timestamps, or declare the zone of the wall-clock times: "
            f"plugins.kpisite.tables.{name}.timezone: {zone}",
        )
    return Problem(
        where,
        f"expected {EXPECTED[column.kind]}, got {shown_type(dtype)}",
        TYPE_HINTS.get(column.kind),
    )


def shown_type(dtype: dt.DataType) -> str:
    """A type as a person reads it: a column the engine types as its own (a Parquet
    column of nulls only, of type NULL) is not shown as ibis' internal repr."""
    if not dtype.is_unknown():
        return str(dtype)
    kind = re.search(r'kind="(\w+)"', str(dtype))
    if kind and kind.group(1) == "NULL":
        return "a column of nulls with no type"
    return f"type {kind.group(1)}" if kind else "a type of its own, which ibis does not know"


TYPE_HINTS = {
    "id": "store identifiers as strings; a float id would read '12346.0'",
    "money": "cast amounts to DECIMAL(18,2): floats do not add cents up exactly",
    "bool": "use true/false, not 0/1 or 'yes'/'no'",
}


def bad_type(column: Column, table: ibis.Table) -> bool:
    return not fits(column.kind, table.schema()[column.name])


# The kinds of column whose values are numbers (kpi/schema.py).
NUMBER_KINDS = ("money", "int", "number")


def few_of(extract: Extract, table: ibis.Table, column: Column) -> str:
    """A few distinct values of a column, as the user wrote them, to show its type: for
    text where numbers are expected, those that do not read as a number first."""
    value = table[column.name]
    order = [value]
    if column.kind in NUMBER_KINDS and table.schema()[column.name].is_string():
        order = [value.try_cast("float64").notnull(), value]
    rows = table.filter(value.notnull()).select(value).distinct().order_by(order)
    try:
        values = extract.execute(rows.limit(EXAMPLES)).column(0).to_pylist()
    except (QueryError, IbisError):
        return "values not shown"  # a type the engine cannot sort or return
    return ", ".join(repr(v) for v in values) if values else "only nulls"


# --- values ------------------------------------------------------------------------


@dataclass(frozen=True)
class Bounds:
    """The plausible times of a table: from FLOOR to its extraction time (plus GRACE)."""

    extracted: datetime
    recorded: bool

    @property
    def latest(self) -> datetime:
        return self.extracted + GRACE

    def label(self) -> str:
        moment = f"{self.extracted:%Y-%m-%d %H:%M} UTC"
        return moment if self.recorded else f"{moment}, now: no kpisite.extracted_at recorded"


def bounds_of(extract: Extract, name: str) -> Bounds:
    recorded = extract.recorded_extracted_at(name)
    return Bounds(recorded or datetime.now(UTC), recorded is not None)


def check_values(extract: Extract, name: str, table, present: list[Column]) -> list[Problem]:
    """Row count, nulls, enums, codes, times, currencies, amounts: one aggregate query.

    It counts the nulls of every column, wanted or not: that reads every page of every
    column (a count alone may be answered from the file's statistics), so a damaged page
    or a value a mapping cannot convert fails here, where it can be named. No comparison
    is decided by the files' statistics either (Extract.every_value_read): a page damaged
    into absurd values, its footer intact, is found by the time checks.
    """
    bounds = bounds_of(extract, name)
    currency = extract.project.settings.currency
    metrics = {"rows": table.count()}
    for index, column_name in enumerate(table.columns):
        metrics[f"read:{index}"] = table[column_name].isnull().sum()
    for column in present:
        metrics.update(value_metrics(table, column, bounds, currency))
    with extract.every_value_read():
        counts = extract.execute(table.aggregate(**metrics)).to_pylist()[0]
        return value_problems(extract, name, table, counts, bounds)


def value_problems(extract: Extract, name: str, table, counts: dict, bounds: Bounds):
    """The problems of check_values' counts, each with a few offending values."""
    if counts["rows"] == 0:
        return [
            Problem(
                f"table {name}",
                "empty table",
                "a table with no rows is a failed export; leave the file out instead",
            )
        ]
    problems = []
    for key, count in counts.items():
        check, _, column_name = key.partition(":")
        if check in ("rows", "read") or not count:
            continue
        column = TABLES[name].column(column_name)
        problems.append(value_problem(extract, name, table, column, check, count, bounds))
    return problems


def value_metrics(table, column: Column, bounds: Bounds, currency: str) -> dict:
    """The counts of offending rows one column is checked for, by `check:column`."""
    value = table[column.name]
    metrics = {}
    if not column.nullable:
        metrics[f"null:{column.name}"] = value.isnull().sum()
    if column.enum:
        metrics[f"enum:{column.name}"] = (value.notnull() & ~value.isin(column.enum)).sum()
    if column.pattern:
        metrics[f"pattern:{column.name}"] = (
            value.notnull() & ~value.re_search(column.pattern)
        ).sum()
    if column.name == "currency":
        metrics[f"currency:{column.name}"] = (value.notnull() & (value != currency)).sum()
    if column.kind == "timestamp":
        metrics[f"future:{column.name}"] = (value > bounds.latest).sum()
        metrics[f"past:{column.name}"] = (value < FLOOR).sum()
    if column.kind == "money":
        metrics[f"huge:{column.name}"] = (value.abs() >= HUGE_AMOUNT).sum()
    return metrics


def value_problem(
    extract: Extract, name: str, table, column: Column, check: str, count: int, bounds: Bounds
) -> Problem:
    """Describe one failed value check with a few offending values or rows."""
    where = f"table {name}, column {column.name}"
    value = table[column.name]
    if check == "null":
        rows = offending_rows(extract, name, table, value.isnull(), exclude=column.name)
        shown = f": {rows}" if rows else ""
        return Problem(where, f"{plural(count, 'null value')} in a required column{shown}")
    if check in ("enum", "pattern"):
        return code_problem(extract, where, table, column, check, count)
    if check == "currency":
        return currency_problem(extract, where, table, column, count)
    if check == "huge":
        rows = offending_rows(extract, name, table, value.abs() >= HUGE_AMOUNT, value)
        return Problem(
            where,
            f"{plural(count, 'row')} with an amount of {HUGE_AMOUNT:,} or more: {rows}",
            "no CRM amount is that large: a unit or export error; sums of it would overflow",
        )
    if check == "past":
        rows = offending_rows(extract, name, table, value < FLOOR, value)
        return Problem(
            where,
            f"{plural(count, 'row')} before {FLOOR:%Y-%m-%d}: {rows}",
            "a placeholder date or a unit error: fix the times in the source",
        )
    rows = offending_rows(extract, name, table, value > bounds.latest, value)
    message = f"{plural(count, 'row')} after the extraction ({bounds.label()}): {rows}"
    if column.event:
        hint = "what happened cannot follow the extraction: fix the times in the source"
        return Problem(where, message, hint)
    hint = "a scheduled time? KPIs count it in the period it falls in"
    return Problem(where, message, hint, "warning")


def code_problem(extract, where: str, table, column: Column, check: str, count: int) -> Problem:
    examples = few_values(extract, table, column, check)
    if check == "enum":
        return Problem(
            where,
            f"{plural(count, 'row')} with unknown values: {examples}",
            "expected one of: " + ", ".join(column.enum),
        )
    return Problem(
        where,
        f"{plural(count, 'row')} with badly formed codes: {examples}",
        f"expected {column.pattern}",
    )


def few_values(extract: Extract, table, column: Column, check: str) -> str:
    value = table[column.name]
    if check == "enum":
        bad = value.notnull() & ~value.isin(column.enum)
    else:
        bad = value.notnull() & ~value.re_search(column.pattern)
    rows = table.filter(bad).select(value).distinct().order_by(value).limit(EXAMPLES)
    return ", ".join(repr(v) for v in extract.execute(rows).column(0).to_pylist())


def currency_problem(extract: Extract, where: str, table, column: Column, count: int) -> Problem:
    """Amounts in another currency than the project's would be added to its own."""
    currency = extract.project.settings.currency
    value = table[column.name]
    others = table.filter(value.notnull() & (value != currency))
    groups = others.group_by(value.name("code")).aggregate(n=others.count())
    rows = extract.execute(groups.order_by([ibis.desc("n"), "code"])).to_pylist()
    shown = ", ".join(f"{row['code']} ({row['n']})" for row in rows[:EXAMPLES])
    return Problem(
        where,
        f"{plural(count, 'row')} in another currency than the project's {currency}: {shown}",
        f"KPIs add amounts up as {currency}: set plugins.kpisite.currency if the extract is "
        f"in {rows[0]['code']}, or convert the amounts to {currency} in a mapping",
    )


def offending_rows(
    extract: Extract, name: str, table, condition, value=None, exclude: str | None = None
) -> str:
    """A few rows matching `condition`, by key (and `value`, as text): "O7 (2200-01-01 ...)".

    Values are formatted by the engine: a year 10000 has no Python datetime.
    """
    key = [k for k in TABLES[name].key if k != exclude and k in table.columns]
    if not key:
        return ""
    columns = {k: table[k] for k in key}
    if value is not None:
        columns["value"] = value.cast("string")
    rows = table.filter(condition).select(**columns).order_by(key).limit(EXAMPLES)
    found = extract.execute(rows).to_pylist()
    shown = []
    for row in found:
        text = "/".join(str(row[k]) for k in key)
        shown.append(f"{text} ({row['value']})" if value is not None else text)
    label = ", ".join(key)
    return f"{label} {', '.join(shown)}" if exclude else ", ".join(shown)


# --- keys and references -----------------------------------------------------------


def check_key(extract: Extract, name: str, table) -> list[Problem]:
    """Duplicate keys, counted by the engine, with a few of them shown. A null key part
    is the null check's to report, not a duplicate."""
    canonical = TABLES[name]
    if not all(k in table.columns for k in canonical.key):
        return []
    keyed = table.filter([table[k].notnull() for k in canonical.key])
    groups = keyed.group_by(list(canonical.key)).aggregate(n=keyed.count())
    duplicates = groups.filter(groups.n > 1)
    stats = duplicates.aggregate(keys=duplicates.count(), rows=duplicates.n.sum())
    found = extract.execute(stats).to_pylist()[0]
    if not found["keys"]:
        return []

    examples = duplicates.order_by([ibis.desc("n"), *canonical.key]).limit(EXAMPLES)
    rows = extract.execute(examples).to_pylist()
    shown = ", ".join(format_key(row, canonical.key) for row in rows)
    key_name = ", ".join(canonical.key)
    return [
        Problem(
            f"table {name}, key ({key_name})",
            f"{plural(found['keys'], 'duplicate key')} over {plural(found['rows'], 'row')}: "
            f"{shown}",
            "each key must name one row; drop the repeated rows",
        )
    ]


def format_key(row: dict, key: tuple[str, ...]) -> str:
    values = "/".join(str(row[k]) for k in key)
    return f"{values} (x{row['n']})"


def check_references(extract: Extract, usable: list[str], readers: Readers) -> list[Problem]:
    """Rows pointing at a row absent from its table: warnings, the KPIs still run."""
    problems = []
    for name in usable:
        for reference in TABLES[name].references:
            if reference.table not in usable:
                continue
            try:
                problem = orphans(extract, name, reference, readers)
            except QueryError as error:
                problem = Problem(f"table {name}", "cannot be read: " + indented(str(error)))
            if problem:
                problems.append(problem)
    return problems


def orphans(extract: Extract, name: str, reference, readers: Readers) -> Problem | None:
    source = extract.table(name)
    target = extract.table(reference.table)
    keys = target.select(**{f"k{i}": target[c] for i, c in enumerate(reference.target)}).distinct()
    present = source.filter([source[c].notnull() for c in reference.columns])
    condition = [present[c] == keys[f"k{i}"] for i, c in enumerate(reference.columns)]
    lost = present.anti_join(keys, condition).select(*reference.columns)
    stats = extract.execute(lost.aggregate(rows=lost.count())).to_pylist()[0]
    if not stats["rows"]:
        return None

    examples = lost.distinct().order_by(list(reference.columns)).limit(EXAMPLES)
    shown = ", ".join(
        "/".join(str(row[c]) for c in reference.columns)
        for row in extract.execute(examples).to_pylist()
    )
    columns = ", ".join(reference.columns)
    return Problem(
        f"table {name}, column {columns}",
        f"{plural(stats['rows'], 'row')} {'refers' if stats['rows'] == 1 else 'refer'} "
        f"to no row of {reference.table}: {shown}",
        readers.orphan_effect(name, reference),
        "warning",
    )


class Readers:
    """Which KPIs of the catalog read a table's rows, and how, for the orphan warnings.

    The catalog is the one checked, else the project's, loaded when an orphan is found
    (the standard one when the project's has an error, reported elsewhere).
    """

    def __init__(self, project: Project, catalog: Catalog | None = None):
        self.project = project
        self._catalog = catalog

    @property
    def catalog(self) -> Catalog:
        from kpi.catalog import Catalog

        if self._catalog is None:
            try:
                self._catalog = Catalog.of_project(self.project)
            except CatalogError:
                self._catalog = Catalog.load()
        return self._catalog

    def orphan_effect(self, name: str, reference) -> str:
        """What happens to rows of `name` whose reference leads nowhere. A KPI reading
        the referenced table through it (in its time, filter or value) leaves them out:
        the join finds no row, its columns are null. Any other KPI reading `name` counts
        them. Formulas follow the KPIs they are computed from."""
        left_out, counted = [], []
        for kpi in self.catalog.kpis.values():
            if kpi.kind != "formula" and self.reads_rows(kpi, name):
                (left_out if reference.table in kpi.tables else counted).append(kpi.name)
        if not left_out and not counted:
            return f"no KPI of the catalog reads {name}"

        left_out += self.formulas_over(left_out)
        counted += [kpi for kpi in self.formulas_over(counted) if kpi not in left_out]
        columns = ", ".join(reference.columns)
        parts = []
        if left_out:
            reads = "reads" if len(left_out) == 1 else "read"
            parts.append(
                f"left out of {plural(len(left_out), 'KPI')}, which {reads} {reference.table} "
                f"through {columns}: {shown_names(left_out)}"
            )
        if counted:
            others = "others" if left_out else "KPI" if len(counted) == 1 else "KPIs"
            parts.append(
                f"counted by {len(counted)} {others}, with no {reference.table} row to "
                f"describe them: {shown_names(counted)}"
            )
        return "; ".join(parts)

    def reads_rows(self, kpi, name: str) -> bool:
        """Whether a measure, state or activity KPI reads the rows of table `name`."""
        if kpi.kind == "activity":
            interactions = kpi.get(
                "include_interactions", self.project.settings.activity_includes_interactions
            )
            return name == "orders" or (name == "interactions" and bool(interactions))
        return kpi.get("table") == name

    def formulas_over(self, names: list[str]) -> list[str]:
        """The formulas computed from any of the KPIs `names`."""
        from kpi.formula import Ref

        found = []
        for kpi in self.catalog.kpis.values():
            if kpi.kind == "formula":
                leaves = self.catalog.leaves(Ref(kpi.name, tuple(kpi.params)))
                if any(leaf.name in names for leaf in leaves):
                    found.append(kpi.name)
        return found


def shown_names(names: list[str]) -> str:
    return ", ".join(names[:EXAMPLES]) + (", ..." if len(names) > EXAMPLES else "")
