"""The disk cache of KPI results: one SQLite file in the project's cache folder.

A key is a hash of everything a result depends on: the KPI definition (and the
definitions it reads), the period, the slice (filters, breakdown dimension, mode), the
settings that change its meaning (time zone, activity window, placeholders) and the
fingerprint of each extract table it reads. A page edit changes none of these, so a
rebuild reads every value from here; a new orders file changes only the keys of the
KPIs that read orders.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# Bumped when the meaning of a cached result changes (2: members trimmed and blanks merged).
SCHEMA_VERSION = "2"


def cache_key(parts: dict[str, Any]) -> str:
    """A stable hash of a JSON-able description of a result."""
    text = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=True)
    return hashlib.sha256((SCHEMA_VERSION + text).encode()).hexdigest()


class DiskCache:
    """A persistent key -> JSON value store; `None` folder means memory only."""

    def __init__(self, folder: Path | None):
        self.path = folder / "kpi-cache.sqlite" if folder else None
        self._db: sqlite3.Connection | None = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            target = ":memory:"
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                target = str(self.path)
            # mkdocs serve rebuilds in another thread than the one that opened the cache.
            self._db = sqlite3.connect(target, timeout=30, check_same_thread=False)
            self._db.execute("CREATE TABLE IF NOT EXISTS kpi (key TEXT PRIMARY KEY, value TEXT)")
        return self._db

    def get_many(self, keys: list[str]) -> dict[str, Any]:
        """The cached values among `keys` (missing keys are absent from the result)."""
        found = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT key, value FROM kpi WHERE key IN ({marks})"
            for key, value in self.db.execute(query, chunk):
                found[key] = json.loads(value)
        return found

    def put_many(self, items: dict[str, Any]) -> None:
        rows = [(key, json.dumps(value)) for key, value in items.items()]
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO kpi VALUES (?, ?)", rows)

    def clear(self) -> None:
        with self.db:
            self.db.execute("DELETE FROM kpi")

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
