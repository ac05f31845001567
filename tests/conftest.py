"""Shared fixtures: paths to the repository, the bundled data and the public extracts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The public extracts live beside the repository (never copied into it).
SHARED_DATA = Path(os.environ.get("KPISITE_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"public extracts not found at {SHARED_DATA}")
    return SHARED_DATA
