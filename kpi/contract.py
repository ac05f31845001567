"""The checks of the extract contract (`kpisite check`, and the first step of a build).

Each table present is checked against `kpi.schema`: readable Parquet files, every column
there with its kind, no null in a required column, only known enum values, codes shaped
as codes, no duplicate key, not empty. Rows whose references lead nowhere (an order whose
contact is unknown) are warnings. Every check is an aggregate query run by the engine; only
a few offending values come back to Python.

`kpisite check` also loads the KPI catalog (the standard one and the project's files): a
catalog error is an error, and a table some KPI reads but the extract lacks is a warning.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import ibis
import ibis.expr.datatypes as dt
import pyarrow.parquet as pq

from kpi.errors import CatalogError, ExtractError, Problem, closest
from kpi.extract import Extract, MissingTable
from kpi.project import Project
from kpi.schema import EXPECTED, TABLES, Column, Table, fits

log = logging.getLogger(__name__)

EXAMPLES = 5


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
    project: Project, extract: Extract | None = None, catalog: bool = False
) -> Report:
    """Check every table of the project's extract; never raises for a bad extract.

    With `catalog`, also load the project's KPI catalog and report its error and the
    tables its KPIs read that the extract lacks (`kpisite check` does; a build loads the
    catalog itself).
    """
    started = time.perf_counter()
    extract = extract or Extract(project)
    names = [name for name in extract.names() if name in TABLES]
    problems = [*missing_sources(extract), *unknown_tables(extract)]
    if catalog:
        problems.extend(check_catalog(project, names))

    usable = []
    for name in names:
        found = check_table(extract, name)
        problems.extend(found)
        if not any(p.severity == "error" for p in found):
            usable.append(name)
    problems.extend(check_references(extract, usable))

    log.debug("checked %d tables in %.2f s", len(names), time.perf_counter() - started)
    return Report(names, problems)


def ensure_valid(project: Project, extract: Extract | None = None) -> Report:
    """Check the extract and raise ExtractError listing the errors, if any."""
    report = check_project(project, extract)
    if report.errors:
        raise ExtractError(
            f"the extract of {project.root} breaks the contract "
            f"({plural(len(report.errors), 'error')}; "
            "run `kpisite check` for the details)",
            report.errors,
        )
    return report


def check_catalog(project: Project, tables: list[str]) -> list[Problem]:
    """The catalog's error (file:line), else a warning per table read by KPIs but absent."""
    from kpi.catalog import Catalog

    try:
        catalog = Catalog.load([project.path(p) for p in project.settings.catalogs])
    except CatalogError as error:
        return [catalog_problem(str(error), project)]

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
    shown = ", ".join(kpis[:EXAMPLES]) + (", ..." if len(kpis) > EXAMPLES else "")
    return Problem(
        f"table {table}",
        f"absent, so its {plural(len(kpis), 'KPI')} ({shown}) will be n/a",
        f"add {project.settings.data}/{table}.parquet, or map it in plugins.kpisite.tables",
        "warning",
    )


def missing_sources(extract: Extract) -> list[Problem]:
    """A mapped table whose raw files are not there cannot be built: an error."""
    problems = []
    for name in extract.mapping.mapped_names():
        for source in extract.mapping.missing_sources(name):
            problems.append(
                Problem(
                    f"table {name}, source {source.name}",
                    f"raw file not found: {source.path}",
                    "check plugins.kpisite.raw_data, or set KPISITE_SHARED_DATA",
                )
            )
    return problems


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


def check_table(extract: Extract, name: str) -> list[Problem]:
    """The problems of one table: files, columns, values, keys."""
    canonical = TABLES[name]
    problems = check_files(extract, name)
    if problems:
        return problems

    try:
        table = extract.raw_table(name)
    except MissingTable as missing:
        return [Problem(f"table {name}", missing.reason)]
    except ExtractError as error:
        return [Problem(f"table {name}", str(error))]

    spec = extract.mapping.spec(name)
    problems = check_columns(name, canonical, table, spec is not None and spec.is_mapped)
    present = [c for c in canonical.columns if c.name in table.columns and not bad_type(c, table)]
    problems.extend(check_values(name, canonical, table, present))
    if any(p.message == "empty table" for p in problems):
        return problems
    problems.extend(check_key(name, canonical, table))
    return problems


def check_files(extract: Extract, name: str) -> list[Problem]:
    """Every Parquet file of a data/ table must open: a truncated one fails its footer."""
    spec = extract.mapping.spec(name)
    if spec is not None and spec.is_mapped:
        return []
    problems = []
    for path in extract.files(name):
        try:
            pq.ParquetFile(path).close()
        except Exception as error:  # pyarrow raises several kinds for a broken file
            where = relative(path, extract.project.root)
            problems.append(
                Problem(
                    where,
                    f"unreadable Parquet file ({error})",
                    "the file is damaged or truncated: extract it again",
                )
            )
    return problems


def relative(path, root) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def check_columns(name: str, canonical: Table, table: ibis.Table, mapped: bool) -> list[Problem]:
    """Missing or misspelt columns, and columns of the wrong kind."""
    problems = []
    schema = table.schema()
    unknown = [c for c in table.columns if c not in canonical.column_names()]
    absent = []
    for column in canonical.columns:
        if column.name in schema:
            problem = type_problem(name, column, schema[column.name])
            if problem:
                problems.append(problem)
            continue
        problem = missing_column(name, column, unknown)
        if problem:
            problems.append(problem)
        else:
            absent.append(column.name)
    # A mapping declares what it maps: what it leaves out is null on purpose.
    if absent and not mapped:
        problems.append(
            Problem(
                f"table {name}",
                "optional columns absent, read as null: " + ", ".join(absent),
                severity="warning",
            )
        )
    return problems


def missing_column(name: str, column: Column, unknown: list[str]) -> Problem | None:
    """A column is misspelt when an unknown column is close to its name."""
    where = f"table {name}, column {column.name}"
    match = closest(column.name, unknown)
    if match:
        return Problem(where, "missing column", f"did you mean '{match}'?")
    if not column.nullable:
        present = ", ".join(unknown) if unknown else "none"
        return Problem(where, "missing required column", f"unknown columns present: {present}")
    return None


def type_problem(name: str, column: Column, dtype: dt.DataType) -> Problem | None:
    """A Problem when the column's type does not fit its kind, else None."""
    if fits(column.kind, dtype):
        return None
    where = f"table {name}, column {column.name}"
    if column.kind == "timestamp" and (dtype.is_timestamp() or dtype.is_date()):
        return Problem(
            where,
            f"naive {dtype} with no declared time zone (expected {EXPECTED['timestamp']})",
            f"write UTC-aware timestamps, or declare the zone of the wall-clock times: "
            f"plugins.kpisite.tables.{name}.timezone: Europe/Paris",
        )
    return Problem(
        where, f"expected {EXPECTED[column.kind]}, got {dtype}", TYPE_HINTS.get(column.kind)
    )


TYPE_HINTS = {
    "id": "store identifiers as strings; a float id would read '12346.0'",
    "money": "cast amounts to DECIMAL(18,2): floats do not add cents up exactly",
    "bool": "use true/false, not 0/1 or 'yes'/'no'",
}


def bad_type(column: Column, table: ibis.Table) -> bool:
    return not fits(column.kind, table.schema()[column.name])


def check_values(name: str, canonical: Table, table, present: list[Column]) -> list[Problem]:
    """Row count, nulls in required columns, enum and code values: one aggregate query."""
    metrics = {"rows": table.count()}
    for column in present:
        value = table[column.name]
        if not column.nullable:
            metrics[f"null:{column.name}"] = value.isnull().sum()
        if column.enum:
            metrics[f"enum:{column.name}"] = (value.notnull() & ~value.isin(column.enum)).sum()
        if column.pattern:
            bad = value.notnull() & ~value.re_search(column.pattern)
            metrics[f"pattern:{column.name}"] = bad.sum()
    counts = table.aggregate(**metrics).to_pyarrow().to_pylist()[0]

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
        if key != "rows" and count:
            check, column_name = key.split(":")
            problems.append(value_problem(name, canonical.column(column_name), check, count, table))
    return problems


def value_problem(name: str, column: Column, check: str, count: int, table) -> Problem:
    """Describe one failed value check with a few offending values."""
    where = f"table {name}, column {column.name}"
    if check == "null":
        return Problem(where, f"{plural(count, 'null value')} in a required column")
    examples = few_values(table, column, check)
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


def few_values(table, column: Column, check: str) -> str:
    value = table[column.name]
    if check == "enum":
        bad = value.notnull() & ~value.isin(column.enum)
    else:
        bad = value.notnull() & ~value.re_search(column.pattern)
    rows = table.filter(bad).select(value).distinct().order_by(value).limit(EXAMPLES)
    return ", ".join(repr(v) for v in rows.to_pyarrow().column(0).to_pylist())


def check_key(name: str, canonical: Table, table) -> list[Problem]:
    """Duplicate keys, counted by the engine, with a few of them shown."""
    if not all(k in table.columns for k in canonical.key):
        return []
    groups = table.group_by(list(canonical.key)).aggregate(n=table.count())
    duplicates = groups.filter(groups.n > 1)
    stats = duplicates.aggregate(keys=duplicates.count(), rows=duplicates.n.sum())
    found = stats.to_pyarrow().to_pylist()[0]
    if not found["keys"]:
        return []

    examples = duplicates.order_by([ibis.desc("n"), *canonical.key]).limit(EXAMPLES)
    shown = ", ".join(format_key(row, canonical.key) for row in examples.to_pyarrow().to_pylist())
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


def check_references(extract: Extract, usable: list[str]) -> list[Problem]:
    """Rows pointing at a row absent from its table: warnings, the KPIs still run."""
    problems = []
    for name in usable:
        for reference in TABLES[name].references:
            if reference.table in usable:
                problem = orphans(extract, name, reference)
                if problem:
                    problems.append(problem)
    return problems


def orphans(extract: Extract, name: str, reference) -> Problem | None:
    source = extract.table(name)
    target = extract.table(reference.table)
    keys = target.select(**{f"k{i}": target[c] for i, c in enumerate(reference.target)}).distinct()
    present = source.filter([source[c].notnull() for c in reference.columns])
    condition = [present[c] == keys[f"k{i}"] for i, c in enumerate(reference.columns)]
    lost = present.anti_join(keys, condition).select(*reference.columns)
    stats = lost.aggregate(rows=lost.count()).to_pyarrow().to_pylist()[0]
    if not stats["rows"]:
        return None

    examples = lost.distinct().order_by(list(reference.columns)).limit(EXAMPLES)
    shown = ", ".join(
        "/".join(str(row[c]) for c in reference.columns)
        for row in examples.to_pyarrow().to_pylist()
    )
    columns = ", ".join(reference.columns)
    return Problem(
        f"table {name}, column {columns}",
        f"{plural(stats['rows'], 'row')} {'refers' if stats['rows'] == 1 else 'refer'} "
        f"to no row of {reference.table}: {shown}",
        "KPIs still count them; their contact attributes are unknown",
        "warning",
    )
