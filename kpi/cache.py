"""The disk cache of KPI results: one SQLite file in the project's cache folder.

A key is a hash of everything a result depends on: the KPI definition (and the
definitions it reads), the period, the slice (filters, breakdown dimension, mode), the
settings that change its meaning (time zone, activity window, placeholders), the
language of the n/a reason it may carry, and the fingerprint of each extract table it
reads. A page edit changes none of these, so a
rebuild reads every value from here; a new orders file changes only the keys of the
KPIs that read orders.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# Bumped when the meaning or the form of a cached result changes (2: members trimmed and
# blanks merged; 3: members typed, a real value apart from the built-in rows; 4: the
# values of real members as one mapping; n/a reasons in the project's language).
SCHEMA_VERSION = "4"


def cache_key(parts: dict[str, Any]) -> str:
    """A stable hash of a JSON-able description of a result."""
    text = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=True)
    return hashlib.sha256((SCHEMA_VERSION + text).encode()).hexdigest()


# SQLite's names of a file that is not a sound database: it is replaced by a fresh one.
DAMAGED = ("SQLITE_NOTADB", "SQLITE_CORRUPT")


class DiskCache:
    """A persistent key -> JSON value store; `None` folder means memory only.

    The cache only saves time, so it never stops a build: a damaged file (not a database,
    malformed) is moved aside and a fresh one started; a cache that cannot be written at
    all (a read-only file, a folder that is a file) is replaced by one in memory, with one
    warning.
    """

    def __init__(self, folder: Path | None):
        self.path = folder / "kpi-cache.sqlite" if folder else None
        self._db: sqlite3.Connection | None = None
        self._on_disk = self.path is not None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = self._open()
        return self._db

    def get_many(self, keys: list[str]) -> dict[str, Any]:
        """The cached values among `keys` (missing keys are absent from the result)."""
        return self._run(lambda db: read_many(db, keys))

    def put_many(self, items: dict[str, Any]) -> None:
        rows = [(key, json.dumps(value)) for key, value in items.items()]
        self._run(lambda db: write_many(db, rows))

    def clear(self) -> None:
        self._run(lambda db: write_many(db, [], clear=True))

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _open(self) -> sqlite3.Connection:
        if not self._on_disk:
            return connect(":memory:")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return connect(str(self.path))
        except (OSError, sqlite3.Error) as error:
            return self._recover(error)

    def _run(self, operation: Callable[[sqlite3.Connection], Any]) -> Any:
        """Run `operation` on the database; on a failure of the disk file, again on its
        replacement: a fresh file the first time, memory the second (a fresh file that
        fails too), where a failure is a bug and raised."""
        for attempt in range(3):
            try:
                return operation(self.db)
            except sqlite3.Error as error:
                if not self._on_disk:
                    raise
                self.close()
                self._db = self._recover(error, fresh=attempt == 0)

    def _recover(self, error: Exception, fresh: bool = True) -> sqlite3.Connection:
        """A fresh file in place of a damaged one, else a cache in memory."""
        damaged = getattr(error, "sqlite_errorname", None) in DAMAGED
        if fresh and damaged and move_aside(self.path):
            log.warning(
                "KPI cache %s: damaged (%s); moved to %s.damaged, starting a fresh cache",
                self.path,
                error,
                self.path.name,
            )
            try:
                return connect(str(self.path))
            except sqlite3.Error as again:
                error = again
        log.warning(
            "KPI cache %s: cannot be used (%s); KPI values are kept in memory for this run "
            "(check the permissions of the cache folder, or the cache setting)",
            self.path,
            unusable_reason(self.path, error),
        )
        self._on_disk = False
        return connect(":memory:")


def connect(target: str) -> sqlite3.Connection:
    """A connection with the cache's table; sqlite3.Error when the file is unusable."""
    # mkdocs serve rebuilds in another thread than the one that opened the cache.
    db = sqlite3.connect(target, timeout=30, check_same_thread=False)
    try:
        db.execute("CREATE TABLE IF NOT EXISTS kpi (key TEXT PRIMARY KEY, value TEXT)")
    except sqlite3.Error:
        db.close()
        raise
    return db


def read_many(db: sqlite3.Connection, keys: list[str]) -> dict[str, Any]:
    found = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        marks = ",".join("?" * len(chunk))
        query = f"SELECT key, value FROM kpi WHERE key IN ({marks})"
        for key, value in db.execute(query, chunk):
            found[key] = json.loads(value)
    return found


def write_many(db: sqlite3.Connection, rows: list[tuple[str, str]], clear: bool = False) -> None:
    with db:
        if clear:
            db.execute("DELETE FROM kpi")
        db.executemany("INSERT OR REPLACE INTO kpi VALUES (?, ?)", rows)


def unusable_reason(path: Path, error: Exception) -> str:
    """Why the cache file cannot be used, in words a user acts on."""
    if path.parent.exists() and not path.parent.is_dir():
        return f"{path.parent.name} is a file, not a folder"
    if path.is_dir():
        return f"{path.name} is a folder, not a file"
    return str(getattr(error, "strerror", None) or error)


def move_aside(path: Path) -> bool:
    """Move a damaged cache file to `<name>.damaged` (replacing an older one), and drop
    its journals, which would otherwise be replayed into the fresh file."""
    try:
        for suffix in ("-journal", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        path.replace(path.with_name(path.name + ".damaged"))
    except OSError:
        return False
    return True
