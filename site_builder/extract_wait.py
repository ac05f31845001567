"""Waiting for an extract being written: a half-written Parquet file is never read.

A Parquet file starts and ends with the magic bytes `PAR1`; a writer adds the footer last.
A file is ready when both are there and its size stopped changing. The files waited for
are the ones the extract reads, listed by the extract itself (`_SUCCESS`, `_temporary/`,
`.x` are not data). A file that stays truncated through the whole wait is not being
written: it is left to the contract check, which reports it as damaged.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from kpi.errors import ExtractError
from kpi.extract import Extract

log = logging.getLogger("mkdocs.plugins.kpisite.extract")

MAGIC = b"PAR1"


def parquet_files(extract: Extract) -> list[Path]:
    """The Parquet files the extract reads (its tables' and its mapped sources')."""
    return [path for path in extract.all_files() if path.suffix.lower() == ".parquet"]


def is_complete(path: Path) -> bool:
    """True when the file has its leading and trailing `PAR1` magic."""
    try:
        with open(path, "rb") as stream:
            head = stream.read(4)
            if stream.seek(0, 2) < 12:
                return False
            stream.seek(-4, 2)
            return head == MAGIC and stream.read(4) == MAGIC
    except OSError:
        return False


def sizes(paths: list[Path]) -> dict[Path, int]:
    found = {}
    for path in paths:
        try:
            found[path] = path.stat().st_size
        except OSError:
            found[path] = -1
    return found


def wait_for_extract(extract: Extract, timeout: float = 60.0, pause: float = 0.25) -> None:
    """Return once every Parquet file of the extract is complete and stable in size, or
    once the only incomplete ones have not changed for the whole wait (damaged: the
    contract check says so); ExtractError naming the files still being written after
    `timeout` seconds."""
    deadline = time.monotonic() + timeout
    before, first, told = None, {}, False

    while True:
        now = sizes(parquet_files(extract))
        incomplete = [path for path in now if not is_complete(path)]
        if not incomplete and now == before:
            return
        for path, size in now.items():
            first.setdefault(path, size)

        if time.monotonic() > deadline:
            # Written to during the wait: incomplete files that changed, complete ones
            # still growing. The rest of the incomplete files are damaged, not written.
            writing = [p for p in incomplete if now[p] != first[p]]
            writing += [p for p in now if p not in incomplete and now[p] != (before or {}).get(p)]
            if not writing:
                return
            names = ", ".join(extract.shown(path) for path in sorted(writing))
            raise ExtractError(
                f"{extract.shown(extract.project.data_dir)}: extract being written ({names}); "
                "the pages are built again once it is complete"
            )
        if incomplete and not told:
            names = ", ".join(extract.shown(path) for path in incomplete)
            log.info("kpisite: waiting for %s to be fully written", names)
            told = True
        before = now
        time.sleep(pause)
