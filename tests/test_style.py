"""The code style is enforced by ruff, the same way in CI as on a developer's machine."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from conftest import ROOT


def ruff(*args: str) -> subprocess.CompletedProcess:
    executable = shutil.which("ruff") or str(ROOT / ".venv" / "bin" / "ruff")
    if not shutil.which(executable):
        pytest.skip("ruff is not installed (pip install -e '.[test]')")
    return subprocess.run(
        [executable, *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_code_is_formatted():
    result = ruff("format", "--check", ".")

    assert result.returncode == 0, result.stdout + result.stderr


def test_code_passes_the_linter():
    result = ruff("check", ".")

    assert result.returncode == 0, result.stdout + result.stderr


def test_library_code_never_prints():
    # Library code logs; only the command line writes to stdout, through click.
    offenders = []
    for folder in ("kpi", "site_builder"):
        for path in (ROOT / folder).rglob("*.py"):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if line.lstrip().startswith("print("):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}")

    assert offenders == []
