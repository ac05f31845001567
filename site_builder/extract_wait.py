"""Waiting for an extract being written: a half-written Parquet file is never read.

A Parquet file starts and ends with the magic bytes `PAR1`; a writer adds the footer last.
A file is ready when both are there and its size stopped changing.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from kpi.errors import ExtractError

log = logging.getLogger("mkdocs.plugins.kpisite.extract")

MAGIC = b"PAR1"


def parquet_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.parquet")) if folder.is_dir() else []


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


def wait_for_extract(folder: Path, timeout: float = 60.0, pause: float = 0.25) -> None:
    """Return once every Parquet file under `folder` is complete and stable in size;
    ExtractError naming the files still being written after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    before, told = None, False

    while True:
        now = sizes(parquet_files(folder))
        incomplete = [path for path in now if not is_complete(path)]
        if not incomplete and now == before:
            return

        names = ", ".join(str(path.relative_to(folder)) for path in incomplete)
        if time.monotonic() > deadline:
            raise ExtractError(
                f"{folder}: extract being written ({names or 'files still growing'}); the "
                "pages are built again once it is complete"
            )
        if incomplete and not told:
            log.info("kpisite: waiting for %s to be fully written", names)
            told = True
        before = now
        time.sleep(pause)
