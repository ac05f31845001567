"""The CRM extract of a project: one ibis table per canonical table name.

A canonical table is `data/<table>.parquet` or a folder `data/<table>/` of Parquet files
(a refresh may add files to the folder; subfolders are read too, hive partitions such as
`year=2025/` as columns), or a table the project maps from raw files (`kpi.mapping`).
Both are served the same way, as lazy DuckDB views. Every table is optional: asking for a
missing one raises `MissingTable`, which the engine turns into an n/a value with its
reason.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path

import duckdb
import ibis
import pyarrow.parquet as pq

from kpi import mapping
from kpi.errors import ExtractError, did_you_mean, with_hint
from kpi.mapping import identifier, quote
from kpi.project import Project, shown_path
from kpi.schema import TABLES, fits

log = logging.getLogger(__name__)

# The Parquet key-value metadata where an export tool records when it took the extract.
EXTRACTED_AT_KEY = b"kpisite.extracted_at"
EXTRACTED_AT_FORMAT = "an ISO 8601 time with its UTC offset, such as 2026-12-01T06:00:00+01:00"
# A recorded extraction time is refused before 1970, when no CRM extract was taken (the
# earliest plausible time of the contract), and after both now and the newest event of the
# extract plus this margin, for the clock of the server that wrote it: a time in the
# future would switch off the check of events after the extraction and be printed in
# every page's footer.
EARLIEST_EXTRACTION = datetime(1970, 1, 1, tzinfo=UTC)
CLOCK_MARGIN = timedelta(days=1)


class MissingTable(ExtractError):
    """The extract has no such table; KPIs reading it are n/a, the build goes on."""

    def __init__(self, table: str, where: Path | str, reason: str | None = None):
        super().__init__(reason or f"no {table} table in {where}")
        self.table = table
        self.reason = reason or f"no {table} table in {where}"
        # Why a table that exists cannot be used (raw file missing, wrong column type).
        self.detail = reason


class ExtractionTimeError(ExtractError):
    """A Parquet file records an extraction time that cannot be used: unreadable, without
    a UTC offset, before 1970 or in the future. The contract reports it; nothing uses it."""

    def __init__(self, path: Path, message: str, hint: str):
        super().__init__(f"{path}: {EXTRACTED_AT_KEY.decode()}: {message} ({hint})")
        self.path = path
        self.detail = message
        self.hint = hint


class QueryError(ExtractError):
    """The backend refused a query over the extract (a value the contract cannot see)."""


class ReadError(ExtractError):
    """A table's view could not be made: a bad mapping query, an unreadable file.

    `where` names the place to fix (the mapping's option and line, the files), `detail`
    is the backend's message.
    """

    def __init__(self, where: str, detail: str):
        super().__init__(f"{where}: {detail}")
        self.where = where
        self.detail = detail


# DuckDB's "LINE 3: ..." and the caret line under it repeat the query: the line number is
# kept (kpi.mapping turns it into a line of mkdocs.yml), the text is dropped.
SQL_LINE = re.compile(r"^LINE (\d+):")


def backend_message(error: Exception) -> str:
    """DuckDB's message without its blank, LINE and caret lines: the hints stay
    ("Candidate bindings: ...", the CSV reader's column and options)."""
    kept = []
    for line in str(error).splitlines():
        if line.strip() and not SQL_LINE.match(line) and set(line.strip()) != {"^"}:
            kept.append(line.rstrip())
    return "\n".join(kept)


# DuckDB's error for a table its catalog lacks, followed by its own guess among every
# table it knows ("Did you mean "contacts or pg_index"?").
UNKNOWN_TABLE = re.compile(r"Table with name (\S+) does not exist")


def with_source_hint(message: str, sources: list[str]) -> str:
    """A mapping's SQL reading a table that is not one of its sources: the closest source
    instead of DuckDB's guess, which knows the canonical views and its own catalog too."""
    match = UNKNOWN_TABLE.search(message)
    if not match:
        return message
    kept = "\n".join(line for line in message.splitlines() if "Did you mean" not in line)
    hint = did_you_mean(match.group(1), sources) if sources else None
    return with_hint(kept, hint or "declare the raw file under plugins.kpisite.sources")


def sql_line(error: Exception) -> int | None:
    """The line of the query DuckDB points at, if it names one."""
    for line in str(error).splitlines():
        match = SQL_LINE.match(line)
        if match:
            return int(match.group(1))
    return None


def hidden(path: Path, folder: Path) -> bool:
    """Files and folders named `.x` or `_x` (`_SUCCESS`, `.part.crc`) are not data."""
    return any(part.startswith((".", "_")) for part in path.relative_to(folder).parts)


def partition_keys(path: Path, folder: Path) -> tuple[str, ...] | None:
    """The hive partition keys of a file's folders (`year=2025/month=01` -> year, month),
    or None when a folder between the table's folder and the file is not `key=value`."""
    return hive_keys(path.relative_to(folder).parent.parts)


def hive_keys(folders: tuple[str, ...]) -> tuple[str, ...] | None:
    """The keys of `key=value` folders, or None when one of them is not `key=value`."""
    if not all("=" in part for part in folders):
        return None
    return tuple(part.split("=", 1)[0] for part in folders)


class Extract:
    """The tables of one project, read lazily through one ibis connection."""

    def __init__(self, project: Project, con: ibis.BaseBackend | None = None):
        self.project = project
        self.con = con or ibis.duckdb.connect()
        self.mapping = mapping.load(project)
        self._tables: dict[str, ibis.Table] = {}
        self._sources: set[str] = set()
        self._recorded: dict[Path, tuple[datetime | None, ExtractionTimeError | None]] = {}

    def files(self, name: str) -> list[Path]:
        """The files a table is read from (Parquet, or a mapping's raw files), sorted.

        `data/<name>.parquet` wins over a folder `data/<name>/` (the contract reports
        both as ambiguous); a broken symbolic link is listed, for the contract to report.
        """
        spec = self.mapping.spec(name)
        if spec is not None and spec.is_mapped:
            found = []
            for source in spec.sources:
                found.extend(self.mapping.sources[source].files())
            return found
        single = self.single_file(name)
        return [single] if single else self.folder_files(name)

    def single_file(self, name: str) -> Path | None:
        """`data/<name>.parquet` when it exists, even as a broken symbolic link."""
        path = self.project.data_dir / f"{name}.parquet"
        return path if path.is_symlink() or path.is_file() else None

    def folder_files(self, name: str) -> list[Path]:
        """The Parquet files under `data/<name>/`, at any depth, hidden ones left out."""
        folder = self.project.data_dir / name
        if not folder.is_dir():
            return []
        files = (path for path in folder.rglob("*.parquet") if not path.is_dir())
        return sorted(path for path in files if not hidden(path, folder))

    def partitions(self, name: str) -> tuple[str, ...]:
        """The hive partition keys of a folder table: every file must lie under the same
        `key=value` folders, else the folders are only a way to arrange files."""
        folder = self.project.data_dir / name
        files = [] if self.single_file(name) else self.folder_files(name)
        keys = {partition_keys(path, folder) for path in files}
        if len(keys) != 1 or None in keys:
            return ()
        return keys.pop()

    def partition_folders(self, name: str) -> dict[Path, tuple[str, ...]]:
        """The folders between a folder table's folder and each of its files
        (`lead_source=web/part-0.parquet` -> ("lead_source=web",)), for the contract."""
        if self.single_file(name):
            return {}
        folder = self.project.data_dir / name
        return {path: path.relative_to(folder).parent.parts for path in self.folder_files(name)}

    def data_names(self) -> list[str]:
        """The table names with Parquet files under the extract folder."""
        found = set()
        if self.project.data_dir.is_dir():
            for path in self.project.data_dir.iterdir():
                if path.name.startswith((".", "_")):
                    continue
                if path.suffix == ".parquet" and not path.is_dir():
                    found.add(path.stem)
                elif path.is_dir() and self.folder_files(path.name):
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
            select = mapping.select_sql(spec, columns)
            where = functools.partial(self.mapping.table_where, name)
            self._create_view(inner, select, where, sources=list(self.mapping.sources))
        else:
            files = self.files(name)
            if not files:
                raise MissingTable(name, self.project.data_dir)
            paths = ", ".join(quote(str(path)) for path in files)
            # Set, not guessed from the first file: a folder of files beside partitions
            # would otherwise lose its partition columns silently.
            hive = "true" if self.partitions(name) else "false"
            select = (
                f"SELECT * FROM read_parquet([{paths}], union_by_name = true, "
                f"hive_partitioning = {hive})"
            )
            where = f"table {name} ({self.shown(files[0])}{', ...' if len(files) > 1 else ''})"
            self._create_view(inner, select, lambda _: where)

        zone = spec.timezone if spec else None
        types = {column: kind for column, kind, *_ in self._describe(inner)}
        select = mapping.zoned_sql(inner, name, types, zone)
        self._create_view(name, select, lambda _: f"table {name}")

    def _check_sources(self, name: str) -> None:
        missing = self.mapping.missing_sources(name)
        empty = [str(path) for source in missing for path in source.empty_files()]
        if empty:
            paths = ", ".join(empty)
            raise MissingTable(
                name, paths, f"table {name}: raw file is empty: {paths} (export it again)"
            )
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
            where = f"{self.mapping.source_where(source_name)} ({source.path})"
            self._create_view(source_name, select, lambda _: where)
            self._sources.add(source_name)

    def _columns(self, view: str) -> list[str]:
        return [row[0] for row in self._describe(view)]

    def _describe(self, view: str) -> list[tuple]:
        return self.con.raw_sql(f"DESCRIBE {identifier(view)}").fetchall()

    def _create_view(
        self,
        view: str,
        select: str,
        where: Callable[[int | None], str],
        sources: list[str] | None = None,
    ) -> None:
        """Create a view; `where(line)` names the place of an error, given the line of
        `select` DuckDB points at (the view's SQL starts on the statement's first line).
        `sources` are the tables a mapping's SQL may read, for the hint of a misspelt one."""
        log.debug("view %s: %s", view, select)
        try:
            self.con.raw_sql(f"CREATE OR REPLACE VIEW {identifier(view)} AS {select}")
        except duckdb.Error as error:
            # A bad mapping query or an unreadable file: the user's to fix.
            message = backend_message(error)
            if sources is not None:
                message = with_source_hint(message, sources)
            raise ReadError(where(sql_line(error)), message) from None

    def shown(self, path: Path) -> str:
        """A path as the user reads it: relative to the project when it is inside."""
        return shown_path(self.project, path)

    def unreadable_file(self, name: str) -> tuple[Path, str] | None:
        """The first Parquet file of a data/ table DuckDB cannot read whole, and why.

        Run only after a query over the table failed: it reads every column of every file
        (a null count per column, so that no column is answered from the statistics).
        """
        for path in self.files(name):
            select = (
                "SELECT sum(CASE WHEN COLUMNS(*) IS NULL THEN 1 ELSE 0 END) "
                f"FROM read_parquet({quote(str(path))})"
            )
            try:
                self.con.raw_sql(select).fetchall()
            except duckdb.Error as error:
                return path, backend_message(error)
        return None

    def fingerprint(self, name: str) -> str:
        """A short hash that changes when any file of the table (or its mapping) changes.

        The file's stat stands for its content: hashing gigabytes of Parquet at every
        build would cost more than the queries the cache saves. Size and modification
        time alone miss a file edited to the same size whose time was put back (`cp -p`,
        `touch -r`); its change time and inode cannot be put back that way. Each file
        counts by its path under the extract folder, not its name alone: a hive partition
        folder renamed (`lead_source=web/` to `lead_source=web_form/`) changes a column's
        values.
        """
        spec = self.mapping.spec(name)
        if spec is not None and spec.is_mapped:
            return self.mapping.fingerprint(name)
        digest = hashlib.sha256(name.encode())
        if spec is not None:
            digest.update(spec.definition().encode())
        for path in self.files(name):
            where = path.relative_to(self.project.data_dir).as_posix()
            digest.update(f"{where}:{file_stamp(path)}".encode())
        return digest.hexdigest()[:16]

    def execute(self, expr: ibis.Expr):
        """Run an ibis expression over the extract and return a pyarrow result.

        Backend errors become QueryError, so callers need not know the backend.
        """
        try:
            return self.con.to_pyarrow(expr)
        except duckdb.Error as error:
            raise QueryError(backend_message(error)) from error

    @contextlib.contextmanager
    def every_value_read(self) -> Iterator[None]:
        """Queries that compare every value, none answered from the files' statistics.

        DuckDB folds a comparison the Parquet footer's min/max decides (`ordered_at <
        1900` is false when the footer says 2023 to 2026) and skips the row groups a
        filter excludes by the same statistics: a file damaged in its pages, its footer
        intact, would pass a check that never reads them. The contract's checks run with
        those optimisations off; the KPI queries keep them.
        """
        if self.con.name != "duckdb":
            yield
            return
        setting = "disabled_optimizers"
        (before,) = self.con.raw_sql(f"SELECT current_setting('{setting}')").fetchone()
        # Both: one folds comparisons, the other skips the row groups a filter excludes.
        self.con.raw_sql(f"SET {setting} = 'statistics_propagation,filter_pushdown'")
        try:
            yield
        finally:
            self.con.raw_sql(f"SET {setting} = {quote(before or '')}")

    def all_files(self) -> list[Path]:
        """Every file the available tables are read from, each once, sorted."""
        return sorted({path for name in self.names() for path in self.files(name)})

    def extracted_at(self) -> datetime | None:
        """When the extract was taken, in UTC: the newest time recorded under
        `kpisite.extracted_at` in a Parquet file's metadata, else the newest file's
        modification time (a fresh clone gives committed files the clone's time, so an
        export tool should record the real one). A recorded time the contract refuses is
        left out: the build stops on it, and no footer shows it."""
        moments = [
            self.usable_recorded_at(path) or datetime.fromtimestamp(path.stat().st_mtime, UTC)
            for path in self.all_files()
        ]
        return max(moments, default=None)

    def recorded_extracted_at(self, name: str) -> datetime | None:
        """When table `name` was extracted, as its files record it (no guess from file
        times): the newest usable `kpisite.extracted_at` of its Parquet files, or None."""
        moments = [self.usable_recorded_at(path) for path in self.files(name)]
        return max((moment for moment in moments if moment), default=None)

    def extraction_time_errors(self, name: str) -> list[ExtractionTimeError]:
        """The files of table `name` whose recorded extraction time cannot be read, or
        lies in the future."""
        errors = (self.recorded_time(path)[1] for path in self.files(name))
        return [error for error in errors if error]

    def usable_recorded_at(self, path: Path) -> datetime | None:
        """The recorded extraction time of a file, or None when it records none or one
        the contract refuses (it reports those files)."""
        return self.recorded_time(path)[0]

    def recorded_time(self, path: Path) -> tuple[datetime | None, ExtractionTimeError | None]:
        """(recorded extraction time or None, None) of a file, or (None, the error) when
        it cannot be read, or lies in the future. Each footer is read once: the contract,
        the time bounds and the footer all ask, and an Extract lives one build (as the
        cached newest_event)."""
        if path not in self._recorded:
            try:
                moment = recorded_at(path)
                now = datetime.now(UTC)
                if moment is not None and moment > now + CLOCK_MARGIN:
                    check_future(path, moment, now, self.newest_event)
                self._recorded[path] = (moment, None)
            except ExtractionTimeError as error:
                self._recorded[path] = (None, error)
        return self._recorded[path]

    @cached_property
    def newest_event(self) -> datetime | None:
        """The newest event time (an order, a campaign event...) of the data/ tables, as
        the statistics of their Parquet footers say (no data is read), or None."""
        moments = []
        for name in self.data_names():
            if name in TABLES:
                columns = {column.name for column in TABLES[name].columns if column.event}
                single = self.single_file(name)
                for path in [single] if single else self.folder_files(name):
                    moments.append(footer_max(path, columns))
        return max((moment for moment in moments if moment), default=None)


def file_stamp(path: Path) -> str:
    """What stands for a file's content in a fingerprint: its size, modification time,
    change time and inode. `cp -p` or `touch -r` can put the modification time back, not
    the change time; a file replaced by another (a rename over it) has a new inode."""
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ctime_ns}:{stat.st_ino}"


def recorded_at(path: Path) -> datetime | None:
    """The extraction time recorded in a Parquet file's footer, in UTC, or None when it
    records none; ExtractionTimeError when the value cannot be read as one."""
    if path.suffix != ".parquet":
        return None
    try:
        value = (pq.read_metadata(path).metadata or {}).get(EXTRACTED_AT_KEY)
    except (OSError, ValueError):
        return None  # an unreadable footer (ArrowInvalid): the contract reports the file
    return None if value is None else parse_extracted_at(path, value)


def parse_extracted_at(path: Path, value: bytes) -> datetime:
    """A recorded extraction time: an ISO time with its offset, from 1970 on, in UTC."""
    text = value.decode("utf-8", errors="replace")
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ExtractionTimeError(
            path, f"cannot read {text!r} as a time", f"expected {EXTRACTED_AT_FORMAT}"
        ) from None
    if moment.utcoffset() is None:
        raise ExtractionTimeError(
            path, f"{text!r} has no UTC offset", f"expected {EXTRACTED_AT_FORMAT}"
        )
    if moment < EARLIEST_EXTRACTION:
        raise ExtractionTimeError(path, f"{text!r} is before 1970", "write the time the export ran")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        # 9999-12-31T23:59:59-01:00 has no UTC equivalent.
        raise ExtractionTimeError(
            path, f"{text!r} is outside the calendar in UTC", "write the time the export ran"
        ) from None


def check_future(path: Path, moment: datetime, now: datetime, newest: datetime | None) -> None:
    """An extraction recorded after now and after every event of the extract (plus
    CLOCK_MARGIN) is a typo: it would switch off the check of events after the
    extraction, and show in every footer. Data dated after the clock of the machine that
    checks it (a clock behind, a test extract) keeps the extraction time its events show."""
    latest = max(now, newest) if newest else now
    if moment - CLOCK_MARGIN <= latest:  # not latest + margin: an event in 9999 overflows
        return
    shown = f"now: {now:%Y-%m-%d %H:%M} UTC"
    if newest:
        shown += f"; newest event: {newest.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    raise ExtractionTimeError(
        path,
        f"{moment.isoformat()!r} is in the future, after every event of the extract ({shown})",
        "write the time the export ran; check the clock of the server that wrote it",
    )


def footer_max(path: Path, columns: set[str]) -> datetime | None:
    """The largest value of `columns` (zone-aware timestamps) in a Parquet file's row-group
    statistics, or None when the footer has none."""
    try:
        metadata = pq.read_metadata(path)
    except (OSError, ValueError):
        return None  # an unreadable footer: the contract reports the file
    found = []
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        for index in range(row_group.num_columns):
            column = row_group.column(index)
            stats = column.statistics
            if column.path_in_schema in columns and stats is not None and stats.has_min_max:
                found.append(stats.max)
    aware = [value for value in found if isinstance(value, datetime) and value.tzinfo]
    return max(aware, default=None)
