"""A failed `kpisite build` keeps the last good site: the pages are built beside site/ and
swapped into place only when the build succeeds."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from kpisite_sites import copy_project

from kpi.errors import DirectiveError, KpisiteError
from site_builder.build import build_site

pytestmark = pytest.mark.slow

GOOD = {"index.md": "# Ventes\n\n[[kpi revenue]]\n"}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def built(tmp_path) -> tuple[object, Path, dict[str, bytes]]:
    project = copy_project(GOOD, tmp_path / "project")
    result = build_site(project, period="2026-10")
    site = project.root / "site"
    assert result.site_dir == site
    assert "Ventes" in (site / "index.html").read_text(encoding="utf-8")
    return project, site, snapshot(site)


def leftovers(project) -> list[str]:
    return sorted(path.name for path in project.root.iterdir() if path.name.startswith(".site"))


def test_a_directive_error_keeps_the_last_good_site(built):
    project, site, before = built
    (project.root / "reports" / "index.md").write_text("# Ventes\n\n[[kpi revenu]]\n", "utf-8")

    with pytest.raises(DirectiveError):
        build_site(project, period="2026-10")

    assert snapshot(site) == before
    assert leftovers(project) == []


def test_a_strict_warning_keeps_the_last_good_site(built):
    project, site, before = built
    (project.root / "reports" / "index.md").write_text("[x](missing.md)\n", encoding="utf-8")

    with pytest.raises(KpisiteError, match="mkdocs build failed"):
        build_site(project, period="2026-10")

    assert snapshot(site) == before
    assert leftovers(project) == []


def test_a_good_build_replaces_the_site_whole(built):
    project, site, before = built
    (site / "stale.html").write_text("from an older build", encoding="utf-8")
    (project.root / "reports" / "index.md").write_text("# Clients\n", encoding="utf-8")

    build_site(project, period="2026-10")

    after = snapshot(site)
    assert "stale.html" not in after
    assert "Clients" in after["index.html"].decode()
    assert leftovers(project) == []
    # The swapped-in folder has the umask's permissions, not a private scratch folder's.
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(site.stat().st_mode) == 0o777 & ~umask
