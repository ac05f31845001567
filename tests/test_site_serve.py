"""Live preview: a half-written Parquet file is waited for, and a change to a page or to
the extract rebuilds the site served by `kpisite serve`."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT

from kpi.errors import ExtractError
from kpi.extract import Extract
from kpi.project import Project
from site_builder.extract_wait import is_complete, parquet_files, wait_for_extract

ORDERS = ROOT / "data" / "orders.parquet"


def test_a_parquet_file_is_complete_only_with_both_magic_markers(tmp_path):
    data = ORDERS.read_bytes()
    half = tmp_path / "half.parquet"
    half.write_bytes(data[: len(data) // 2])

    assert is_complete(ORDERS)
    assert not is_complete(half)
    assert not is_complete(tmp_path / "missing.parquet")


def extract_of(folder: Path) -> Extract:
    """The extract of a project whose data folder is `folder`/data."""
    (folder / "data").mkdir(exist_ok=True)
    (folder / "mkdocs.yml").write_text("site_name: T\nplugins:\n  - kpisite\n", encoding="utf-8")
    return Extract(Project.load(folder))


def test_a_half_written_file_is_waited_for_until_complete(tmp_path):
    data = ORDERS.read_bytes()
    extract = extract_of(tmp_path)
    target = tmp_path / "data" / "orders.parquet"
    target.write_bytes(data[:1000])

    def finish():
        time.sleep(0.6)
        with open(target, "ab") as stream:
            stream.write(data[1000:])

    writer = threading.Thread(target=finish)
    started = time.monotonic()
    writer.start()
    wait_for_extract(extract, timeout=10, pause=0.1)
    writer.join()

    assert time.monotonic() - started >= 0.6
    assert is_complete(target)


def test_a_file_still_growing_after_the_wait_is_being_written(tmp_path):
    extract = extract_of(tmp_path)
    target = tmp_path / "data" / "orders.parquet"
    target.write_bytes(b"PAR1 not yet")
    stop = threading.Event()

    def grow():
        while not stop.is_set():
            with open(target, "ab") as stream:
                stream.write(b"x" * 100)
            time.sleep(0.05)

    writer = threading.Thread(target=grow)
    writer.start()
    try:
        with pytest.raises(ExtractError, match=r"extract being written \(data/orders\.parquet\)"):
            wait_for_extract(extract, timeout=0.5, pause=0.1)
    finally:
        stop.set()
        writer.join()


def test_a_file_that_stays_truncated_is_left_to_the_contract_as_damaged(tmp_path):
    from kpi.contract import check_project

    extract = extract_of(tmp_path)
    data = ORDERS.read_bytes()
    (tmp_path / "data" / "orders.parquet").write_bytes(data[: len(data) // 2])

    wait_for_extract(extract, timeout=0.4, pause=0.1)  # no "being written" for ever
    problems = [str(problem) for problem in check_project(extract.project, extract).errors]

    assert any(
        problem.startswith("data/orders.parquet: unreadable Parquet file")
        and "the file is damaged or truncated: extract it again" in problem
        for problem in problems
    ), problems


def test_files_the_extract_ignores_are_not_waited_for(tmp_path):
    extract = extract_of(tmp_path)
    shutil.copy(ORDERS, tmp_path / "data" / "orders.parquet")
    # A Spark or Hadoop job's markers and scratch files, a hidden temporary copy.
    (tmp_path / "data" / "_SUCCESS.parquet").write_bytes(b"")
    (tmp_path / "data" / "_temporary").mkdir()
    (tmp_path / "data" / "_temporary" / "part-0.parquet").write_bytes(b"PAR1 half")
    (tmp_path / "data" / ".orders.parquet.tmp.parquet").write_bytes(b"PAR1")
    (tmp_path / "data" / "contacts").mkdir()
    shutil.copy(ROOT / "data" / "contacts.parquet", tmp_path / "data" / "contacts" / "a.parquet")
    (tmp_path / "data" / "contacts" / "_temporary").mkdir()
    (tmp_path / "data" / "contacts" / "_temporary" / "b.parquet").write_bytes(b"PAR1")

    started = time.monotonic()
    wait_for_extract(extract, timeout=5, pause=0.1)

    assert time.monotonic() - started < 1
    assert sorted(extract.shown(path) for path in parquet_files(extract)) == [
        "data/contacts/a.parquet",
        "data/orders.parquet",
    ]


def test_the_plugin_watches_the_extract_and_the_catalogs(tmp_path):
    from mkdocs.config import load_config

    class Server:
        watched: list[str] = []

        def watch(self, path, recursive=True):
            self.watched.append(path)

    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    config = load_config(str(ROOT / "mkdocs.yml"), site_dir=str(tmp_path / "site"))
    config = config.plugins.on_config(config)
    server = config.plugins.on_serve(Server(), config=config, builder=None)

    assert str(ROOT / "data") in server.watched


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode("utf-8")


def wait_until(condition, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return True
        except OSError:
            pass
        time.sleep(0.3)
    return False


@pytest.mark.slow
def test_kpisite_serve_rebuilds_on_a_page_change_and_on_an_extract_change(tmp_path):
    shutil.copytree(ROOT / "data", tmp_path / "data")
    (tmp_path / "reports").mkdir()
    page = tmp_path / "reports" / "index.md"
    page.write_text("# Essai\n\nCommandes : [[kpi orders_count]].\n", encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: Essai\ndocs_dir: reports\ntheme:\n  name: material\n  font: false\n"
        f"plugins:\n  - kpisite:\n      cache: {tmp_path / 'cache'}\n",
        encoding="utf-8",
    )
    port = free_port()
    log = open(tmp_path / "serve.log", "w+", encoding="utf-8")  # noqa: SIM115 (read while running)
    command = [sys.executable, "-m", "site_builder.cli", "serve", "--project", str(tmp_path)]
    server = subprocess.Popen(
        [*command, "--dev-addr", f"127.0.0.1:{port}", "--period", "2026-10"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    url = f"http://127.0.0.1:{port}/"
    builds = lambda: Path(log.name).read_text(encoding="utf-8").count("Documentation built in")  # noqa: E731
    try:
        assert wait_until(lambda: "Commandes" in fetch(url)), Path(log.name).read_text()

        page.write_text("# Essai\n\nPanier : [[kpi average_basket]].\n", encoding="utf-8")
        assert wait_until(lambda: "Panier" in fetch(url)), Path(log.name).read_text()

        before = builds()
        shutil.copy(ROOT / "data" / "orders.parquet", tmp_path / "data" / "orders.parquet")
        assert wait_until(lambda: builds() > before), Path(log.name).read_text()
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def start_serve(project: Path, *extra: str):
    """`kpisite serve` on a free loopback port: (process, URL, log file)."""
    port = free_port()
    log = open(project / "serve.log", "w+", encoding="utf-8")  # noqa: SIM115 (read while running)
    command = [sys.executable, "-m", "site_builder.cli", "serve", "--project", str(project)]
    server = subprocess.Popen(
        [*command, "--dev-addr", f"127.0.0.1:{port}", "--period", "2026-10", *extra],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    return server, f"http://127.0.0.1:{port}/", log


def preview_project(folder: Path, catalogs: str = "") -> Path:
    shutil.copytree(ROOT / "data", folder / "data")
    (folder / "reports").mkdir()
    (folder / "reports" / "index.md").write_text(
        "# Essai\n\nCommandes : [[kpi orders_count]].\n", encoding="utf-8"
    )
    (folder / "mkdocs.yml").write_text(
        "site_name: Essai\ndocs_dir: reports\ntheme:\n  name: material\n  font: false\n"
        f"plugins:\n  - kpisite:\n      cache: {folder / 'cache'}\n{catalogs}",
        encoding="utf-8",
    )
    return folder


def write_slowly(path: Path, data: bytes, seconds: float) -> None:
    """Write `data` to `path` in small pieces over `seconds`, as a slow export does."""
    steps = 40
    piece = len(data) // steps + 1
    with open(path, "wb") as stream:
        for start in range(0, len(data), piece):
            stream.write(data[start : start + piece])
            stream.flush()
            time.sleep(seconds / steps)


def answered(url: str, text: str, within: float = 5.0) -> bool:
    """The page holds `text`, each request answered within `within` seconds."""
    with urllib.request.urlopen(url, timeout=within) as response:
        return text in response.read().decode("utf-8")


@pytest.mark.slow
def test_kpisite_serve_shows_catalog_and_extract_problems_in_the_pages(tmp_path):
    project = preview_project(tmp_path, "      catalogs: [extra.yml]\n")
    catalog = tmp_path / "extra.yml"
    catalog.write_text("kpis: {}\n", encoding="utf-8")
    orders = tmp_path / "data" / "orders.parquet"
    whole = orders.read_bytes()
    server, url, log = start_serve(project)
    shown = lambda text: wait_until(lambda: answered(url, text), timeout=40)  # noqa: E731
    try:
        assert shown('data-kpi="orders_count"'), Path(log.name).read_text()

        # A catalog that is not YAML: every page says so, the server keeps answering.
        catalog.write_text("kpis:\n  a: [\n", encoding="utf-8")
        assert shown("Données indisponibles"), Path(log.name).read_text()
        assert shown("extra.yml:"), Path(log.name).read_text()
        catalog.write_text("kpis: {}\n", encoding="utf-8")
        assert shown('data-kpi="orders_count"'), Path(log.name).read_text()

        # An extract being written: a short wait, then the pages say so; complete, it is read.
        writer = threading.Thread(target=write_slowly, args=(orders, whole, 8.0))
        writer.start()
        assert shown("extract being written (data/orders.parquet)"), Path(log.name).read_text()
        writer.join()
        assert shown('data-kpi="orders_count"'), Path(log.name).read_text()

        # Truncated, and written no more: damaged, as `kpisite check` says, not "being
        # written" for ever.
        orders.write_bytes(whole[: len(whole) // 2])
        assert shown("the file is damaged or truncated"), Path(log.name).read_text()
        orders.write_bytes(whole)
        assert shown('data-kpi="orders_count"'), Path(log.name).read_text()

        # A catalog named while serving is watched from the next build on.
        config = tmp_path / "mkdocs.yml"
        config.write_text(
            config.read_text(encoding="utf-8").replace("[extra.yml]", "[extra.yml, later.yml]"),
            encoding="utf-8",
        )
        assert shown("later.yml"), Path(log.name).read_text()  # not written yet: an error
        (tmp_path / "later.yml").write_text("kpis: {}\n", encoding="utf-8")
        assert shown('data-kpi="orders_count"'), Path(log.name).read_text()
        assert "Traceback" not in Path(log.name).read_text()
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()
