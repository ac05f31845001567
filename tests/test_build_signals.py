"""A build or a publish stopped by SIGTERM (a cancelled CI job) removes its scratch
folders on the way out, and a build removes those left by builds that were killed outright
(SIGKILL), leaving a running build's own alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT
from kpisite_sites import copy_project

from site_builder.build import build_site, process_running, stopped_cleanly

pytestmark = pytest.mark.slow

PAGES = {"index.md": "# Ventes\n\n[[kpi revenue]]\n"}


def kpisite(*args: str, tmpdir: Path) -> subprocess.Popen:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "TMPDIR": str(tmpdir)}
    env.pop("KPISITE_PERIOD", None)
    return subprocess.Popen(
        [sys.executable, "-m", "site_builder.cli", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def terminate_when(process: subprocess.Popen, appeared) -> str:
    """Send SIGTERM as soon as `appeared()` finds the scratch folder: the process is then
    in the middle of its work. Its standard error, once it ended."""
    deadline = time.monotonic() + 60
    while not appeared():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the scratch folder never appeared: {process.communicate()[1]}")
        time.sleep(0.005)
    process.send_signal(signal.SIGTERM)
    return process.communicate(timeout=60)[1]


def test_a_build_stopped_by_sigterm_removes_its_scratch_folder(tmp_path):
    project = copy_project(PAGES, tmp_path / "project")
    scratch = lambda: list(project.root.glob(".site.*"))  # noqa: E731

    build = kpisite("build", "--period", "2026-10", "--project", str(project.root), tmpdir=tmp_path)
    err = terminate_when(build, scratch)

    assert build.returncode == 128 + signal.SIGTERM, err
    assert "Traceback" not in err
    assert scratch() == []
    assert not (project.root / "site").exists()


def test_a_folder_publish_stopped_by_sigterm_removes_its_scratch_repository(tmp_path):
    project = copy_project(PAGES, tmp_path / "project")
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    public = tmp_path / "public"
    scratch = lambda: list(temporary.glob("kpisite-folder-*"))  # noqa: E731

    publish = kpisite(
        "publish", "--period", "2026-10", "--folder", str(public),
        "--project", str(project.root), tmpdir=temporary,
    )  # fmt: skip
    err = terminate_when(publish, scratch)

    assert publish.returncode == 128 + signal.SIGTERM, err
    assert "Traceback" not in err
    assert list(temporary.iterdir()) == []
    assert list(public.iterdir()) == []


def test_a_build_removes_the_scratch_folders_of_killed_builds_only(tmp_path):
    project = copy_project(PAGES, tmp_path / "project")
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        gone = 4_194_304 + 1  # above Linux's largest process id
        assert not process_running(gone)
        left = [
            project.root / f".site.building-{gone}",
            project.root / f".site.old-{gone}",
        ]
        kept = project.root / f".site.building-{running.pid}"
        for folder in [*left, kept]:
            (folder / "assets").mkdir(parents=True)
            (folder / "index.html").write_text("stale", encoding="utf-8")

        build_site(project, period="2026-10")

        assert [path.exists() for path in left] == [False, False]
        assert (kept / "index.html").read_text(encoding="utf-8") == "stale"
    finally:
        running.kill()
        running.wait()


def swallowed_sigterm() -> None:
    """A SIGTERM that lands inside a query: DuckDB catches the handler's SystemExit and
    answers "Query interrupted", which the KPI layer shows as an n/a value."""
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1)  # the handler runs here, at the latest
    except SystemExit:
        pass


def test_a_signal_a_query_swallowed_still_stops_the_work():
    with pytest.raises(SystemExit) as stopped, stopped_cleanly():
        swallowed_sigterm()
        # The work would go on to the end (and swap its site in) were it not checked.

    assert stopped.value.code == 128 + signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_an_error_caused_by_a_swallowed_signal_is_the_signal_exit_not_a_bug():
    with pytest.raises(SystemExit) as stopped, stopped_cleanly():
        swallowed_sigterm()
        raise RuntimeError("Query interrupted")

    assert stopped.value.code == 128 + signal.SIGTERM


def test_a_build_stopped_during_its_queries_keeps_the_last_site(tmp_path, monkeypatch):
    project = copy_project(PAGES, tmp_path / "project")
    build_site(project, period="2026-10")
    before = (project.root / "site" / "index.html").read_text(encoding="utf-8")
    from kpi.engine import Workbook

    values = Workbook.values

    def interrupted(self, *args, **kwargs):
        swallowed_sigterm()
        return values(self, *args, **kwargs)

    monkeypatch.setattr(Workbook, "values", interrupted)
    with pytest.raises(SystemExit) as stopped:
        build_site(project, period="2026-09")

    assert stopped.value.code == 128 + signal.SIGTERM
    assert (project.root / "site" / "index.html").read_text(encoding="utf-8") == before
    assert list(project.root.glob(".site.*")) == []
