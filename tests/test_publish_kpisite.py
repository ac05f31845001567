"""`kpisite publish` end to end: a real kpisite build (plugin, engine, directives) of a
small report over the bundled extract, published to a local bare repository."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT

from site_builder.cli import main

pytestmark = pytest.mark.slow

MKDOCS_YML = """\
site_name: Rapport
docs_dir: reports
strict: true
theme:
  name: material
  language: fr
  font: false
plugins:
  - kpisite:
      data: data
      timezone: Europe/Paris
      locale: fr_FR
"""


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout


def versions(remote: Path) -> dict[str, dict]:
    entries = json.loads(git("show", "gh-pages:versions.json", cwd=remote))
    return {entry["version"]: entry for entry in entries}


@pytest.fixture
def repos(tmp_path, monkeypatch) -> tuple[Path, Path]:
    for variable in ("GIT_AUTHOR", "GIT_COMMITTER"):
        monkeypatch.setenv(f"{variable}_NAME", "Analyst")
        monkeypatch.setenv(f"{variable}_EMAIL", "analyst@example.org")
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    for variable in ("KPISITE_PERIOD", "KPISITE_BUILT_AT", "KPISITE_COMMIT", "KPISITE_SITE_URL"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.chdir(tmp_path)

    remote, work = tmp_path / "remote.git", tmp_path / "work"
    git("init", "--quiet", "--bare", str(remote), cwd=tmp_path)
    (work / "reports").mkdir(parents=True)
    (work / "mkdocs.yml").write_text(MKDOCS_YML, encoding="utf-8")
    (work / "reports" / "index.md").write_text(
        "# Ventes\n\nChiffre d'affaires du mois : [[kpi revenue]].\n", encoding="utf-8"
    )
    shutil.copytree(ROOT / "data", work / "data")
    git("init", "--quiet", str(work), cwd=tmp_path)
    git("add", ".", cwd=work)
    git("commit", "--quiet", "-m", "Report", cwd=work)
    git("remote", "add", "origin", str(remote), cwd=work)
    return remote, work


def publish(work: Path, *args: str) -> int:
    return main(["publish", "--project", str(work), "--push", *args])


def test_publish_builds_with_kpisite_and_records_the_version(repos, capsys):
    remote, work = repos

    assert publish(work, "--period", "2026-09") == 0
    assert publish(work, "--period", "2026-10") == 0

    found = versions(remote)
    assert found["2026-10"]["aliases"] == ["latest"]
    assert found["2026-10"]["title"] == "Octobre 2026"
    properties = found["2026-09"]["properties"]
    assert properties["commit"] == git("rev-parse", "HEAD", cwd=work).strip()

    page = git("show", "gh-pages:2026-09/index.html", cwd=remote)
    # The footer and versions.json agree; the selector reads versions.json.
    assert f'data-fingerprint="{properties["fingerprint"]}"' in page
    assert f'data-built-at="{properties["built_at"]}"' in page
    assert '"version": {"default": "latest", "provider": "mike"}' in page
    assert "période passée (Septembre 2026)" in page
    assert "Published 2026-10 (Octobre 2026) to branch gh-pages; latest is 2026-10; pushed" in (
        capsys.readouterr().out
    )


def test_publishing_with_no_site_url_warns_that_pages_name_a_local_address(
    repos, capsys, monkeypatch
):
    remote, work = repos
    warning = (
        f"{work / 'mkdocs.yml'}: no site_url and no KPISITE_SITE_URL: the published pages "
        "name http://127.0.0.1:8000/ as their address"
    )

    assert publish(work, "--period", "2026-09") == 0

    assert warning in capsys.readouterr().err
    sitemap = git("show", "gh-pages:2026-09/sitemap.xml", cwd=remote)
    assert "<loc>http://127.0.0.1:8000/2026-09/</loc>" in sitemap

    monkeypatch.setenv("KPISITE_SITE_URL", "https://acme.github.io/rapports/")
    assert publish(work, "--period", "2026-10") == 0

    assert warning not in capsys.readouterr().err
    sitemap = git("show", "gh-pages:2026-10/sitemap.xml", cwd=remote)
    assert "<loc>https://acme.github.io/rapports/2026-10/</loc>" in sitemap


def test_republishing_unchanged_is_a_no_op_and_says_so(repos, capsys):
    remote, work = repos
    publish(work, "--period", "2026-10")
    tip = git("rev-parse", "gh-pages", cwd=remote)

    assert publish(work, "--period", "2026-10") == 0

    assert git("rev-parse", "gh-pages", cwd=remote) == tip
    assert "2026-10 (Octobre 2026) is unchanged in branch gh-pages" in capsys.readouterr().out


def test_a_directive_error_publishes_nothing_and_exits_1(repos, capsys):
    remote, work = repos
    publish(work, "--period", "2026-09")
    tip = git("rev-parse", "gh-pages", cwd=remote)

    (work / "reports" / "index.md").write_text("# Ventes\n\n[[kpi revenu]]\n", encoding="utf-8")
    code = publish(work, "--period", "2026-10")

    assert code == 1
    assert "revenu" in capsys.readouterr().err
    assert git("rev-parse", "gh-pages", cwd=remote) == tip
    assert sorted(versions(remote)) == ["2026-09"]


def test_a_preview_shows_the_fingerprint_of_the_published_version(repos, tmp_path):
    from kpi.project import Project
    from site_builder.build import build_site

    remote, work = repos
    publish(work, "--period", "2026-10")
    published = versions(remote)["2026-10"]["properties"]["fingerprint"]

    # A plain `kpisite build` of the same data, files touched as a fresh checkout would.
    for path in (work / "data").iterdir():
        path.touch()
    build_site(Project.load(work), period="2026-10", site_dir=tmp_path / "preview")

    page = (tmp_path / "preview" / "index.html").read_text(encoding="utf-8")
    assert f'data-fingerprint="{published}"' in page
    # The extract, hashed here independently: each file's path in the project, then the
    # hash of its bytes.
    digest = hashlib.sha256()
    for path in sorted((work / "data").iterdir()):
        file_hash = hashlib.sha256(path.read_bytes()).hexdigest()
        digest.update(f"\0data/{path.name}\0{file_hash}".encode())
    assert published == digest.hexdigest()[:16]


def test_a_preview_shows_the_build_time_like_the_extraction_time(repos, tmp_path, monkeypatch):
    from kpi.project import Project
    from site_builder.build import build_site

    _, work = repos
    # 22:30 UTC on 31 October 2026 is 23:30 in Paris (winter time since 25 October).
    monkeypatch.setenv("KPISITE_BUILT_AT", "2026-10-31T22:30:00+00:00")
    build_site(Project.load(work), period="2026-10", site_dir=tmp_path / "preview")

    page = (tmp_path / "preview" / "index.html").read_text(encoding="utf-8")
    assert (
        'construit le <time datetime="2026-10-31T22:30:00+00:00">31 octobre 2026 à 23:30</time>'
        in page
    )


def test_a_rebuild_does_not_read_an_unchanged_extract_again(repos, tmp_path, monkeypatch):
    """The footer's fingerprint of a `kpisite build` remembers each file's hash by its
    stat in the project's cache: `kpisite serve` rebuilds on every page edit."""
    from kpi.cache import DiskCache
    from kpi.project import Project
    from site_builder import publish as publishing

    _, work = repos
    project = Project.load(work)
    memo = DiskCache(tmp_path / "cache")
    first = publishing.extract_fingerprint(project, memo=memo)

    read = []
    real_open = open
    monkeypatch.setattr(
        "builtins.open", lambda path, *args, **kw: read.append(path) or real_open(path, *args, **kw)
    )
    assert publishing.extract_fingerprint(project, memo=memo) == first
    assert not [path for path in read if str(path).endswith(".parquet")]

    # A file written again (a new mtime) is read again, whatever its size.
    orders = work / "data" / "orders.parquet"
    orders.write_bytes(orders.read_bytes())
    read.clear()
    assert publishing.extract_fingerprint(project, memo=memo) == first
    assert orders in read
    memo.close()
