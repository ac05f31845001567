"""A failed `kpisite build` keeps the last good site: the pages are built beside site/ and
swapped into place only when the build succeeds. The swap keeps the folder itself and the
dot entries at its top, as mkdocs does; a site folder over the project's own is refused."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest
from conftest import ROOT
from kpisite_sites import copy_project

from kpi.errors import ConfigError, DirectiveError, KpisiteError
from kpi.project import Project
from site_builder.build import build_site
from site_builder.cli import main

pytestmark = pytest.mark.slow

GOOD = {"index.md": "# Ventes\n\n[[kpi revenue]]\n"}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


# What a deployment worktree keeps at the top of its folder; mkdocs never deletes it.
DOT_ENTRIES = {".git/HEAD": b"ref: refs/heads/gh-pages\n", ".nojekyll": b""}


@pytest.fixture
def built(tmp_path) -> tuple[object, Path, dict[str, bytes]]:
    project = copy_project(GOOD, tmp_path / "project")
    result = build_site(project, period="2026-10")
    site = project.root / "site"
    assert result.site_dir == site
    assert "Ventes" in (site / "index.html").read_text(encoding="utf-8")
    for name, data in DOT_ENTRIES.items():
        (site / name).parent.mkdir(exist_ok=True)
        (site / name).write_bytes(data)
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


def test_kpisite_build_lists_directive_errors_then_counts_them_once(tmp_path, capsys):
    page = "# Ventes\n\n[[kpi revenu]] et [[kpi npss]]\n"
    root = copy_project({"index.md": page}, tmp_path / "project").root

    code = main(["build", "--period", "2026-10", "--project", str(root)])

    said = [line for line in capsys.readouterr().err.splitlines() if "INFO" not in line]
    assert code == 1
    assert said == [
        "ERROR    index.md:3: unknown KPI 'revenu' (did you mean 'revenue'?)",
        "ERROR    index.md:3: unknown KPI 'npss' (did you mean 'nps'?)",
        "ERROR    2 directive errors in the report pages (listed above)",
    ]


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
    assert {name: after.get(name) for name in DOT_ENTRIES} == DOT_ENTRIES
    assert leftovers(project) == []
    # The swapped-in folder has the umask's permissions, not a private scratch folder's.
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(site.stat().st_mode) == 0o777 & ~umask


def test_the_site_dir_of_mkdocs_yml_is_where_the_site_goes(tmp_path, capsys):
    root = tmp_path / "project"
    copy_project(GOOD, root)
    config = root / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8") + "site_dir: public\n", encoding="utf-8")

    code = main(["build", "--period", "2026-10", "--project", str(root)])

    assert code == 0
    assert "Ventes" in (root / "public" / "index.html").read_text(encoding="utf-8")
    assert not (root / "site").exists()
    said = capsys.readouterr().err.splitlines()[-1]
    assert said.startswith(f"Built {root / 'public'} for 2026-10: ")


def test_the_site_folder_itself_stays_with_its_dot_entries(built):
    project, site, before = built
    folder = site.stat().st_ino
    (site / "notes.txt").write_text("not from a build", encoding="utf-8")

    build_site(project, period="2026-10")

    after = snapshot(site)
    # The same folder: a web server or a container serving it keeps serving it.
    assert site.stat().st_ino == folder
    assert {name: after[name] for name in DOT_ENTRIES} == DOT_ENTRIES
    assert "notes.txt" not in after
    assert sorted(after) == sorted(before)


def test_a_swap_that_fails_midway_puts_the_last_good_site_back(built, monkeypatch):
    project, site, before = built
    real_rename = Path.rename

    def rename(self, target):
        # The new pages are half moved in when the search index's folder cannot be.
        if Path(target) == site / "search" and ".building-" in self.parent.name:
            raise OSError(13, "Permission denied")
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    (project.root / "reports" / "index.md").write_text("# Clients\n", encoding="utf-8")

    with pytest.raises(KpisiteError) as error:
        build_site(project, period="2026-10")

    assert str(error.value) == (
        f"{site}: could not put the built site in place (Permission denied); the previous "
        "site was left as it was (check the folder's permissions)"
    )
    assert snapshot(site) == before
    assert leftovers(project) == []


@pytest.fixture
def own_data(tmp_path) -> Project:
    """A project whose data folder is its own copy of the bundled extract: a site folder
    that were not refused could only harm the copy."""
    root = tmp_path / "project"
    copy_project(GOOD, root)
    shutil.copytree(ROOT / "data", root / "data")
    config = root / "mkdocs.yml"
    text = config.read_text(encoding="utf-8").replace(f"data: {ROOT / 'data'}", "data: data")
    config.write_text(text, encoding="utf-8")
    return Project.load(root)


def every_file(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.mark.parametrize(
    ("site_dir", "refusal"),
    [
        ("data", "it is the data folder ({root}/data), and a build replaces what it holds"),
        (
            "data/site",
            "it is inside the data folder ({root}/data), and what is written there would mix "
            "with the project's files",
        ),
        (
            "reports",
            "it is the docs_dir of mkdocs.yml ({root}/reports), and a build replaces what it holds",
        ),
        (".", "it is the project folder ({root}), and a build replaces what it holds"),
        ("..", "it holds the project folder ({root}), and a build replaces what it holds"),
        ("cache", "it is the cache folder ({root}/cache), and a build replaces what it holds"),
    ],
    ids=["data", "inside-data", "docs_dir", "project", "above-project", "cache"],
)
def test_a_site_folder_over_the_projects_own_is_refused(own_data, capsys, site_dir, refusal):
    root = own_data.root
    (root / "cache").mkdir()
    (root / "cache" / "values.sqlite").write_bytes(b"cached")
    everything = every_file(root.parent)
    folder = (root / site_dir).resolve()

    code = main(["build", "--period", "2026-10", "--site-dir", str(folder), "--project", str(root)])

    output = capsys.readouterr()
    assert code == 1
    assert output.err.strip() == (
        f"Error: {folder}: cannot be the site folder: {refusal.format(root=root)} "
        f"(name a folder of its own, e.g. {root}/site)"
    )
    assert every_file(root.parent) == everything


def test_the_hint_names_a_free_folder_when_site_is_taken(tmp_path):
    root = tmp_path / "project"
    copy_project(GOOD, root)
    config = root / "mkdocs.yml"
    text = config.read_text(encoding="utf-8").replace(f"data: {ROOT / 'data'}", "data: site")
    config.write_text(text, encoding="utf-8")

    with pytest.raises(ConfigError) as error:
        build_site(Project.load(root), period="2026-10")

    assert str(error.value) == (
        f"{root}/site: cannot be the site folder: it is the data folder ({root}/site), and a "
        f"build replaces what it holds (name a folder of its own, e.g. {root}/_site)"
    )


def test_a_site_folder_holding_a_catalog_is_refused(tmp_path):
    root = tmp_path / "project"
    copy_project(GOOD, root)
    (root / "catalogs").mkdir()
    (root / "catalogs" / "extra.yml").write_text("kpis: {}\n", encoding="utf-8")
    config = root / "mkdocs.yml"
    text = config.read_text(encoding="utf-8") + "      catalogs: [catalogs/extra.yml]\n"
    config.write_text(text, encoding="utf-8")

    with pytest.raises(ConfigError, match="it is the folder of the catalog catalogs/extra.yml"):
        build_site(Project.load(root), period="2026-10", site_dir=root / "catalogs")

    assert (root / "catalogs" / "extra.yml").read_text(encoding="utf-8") == "kpis: {}\n"


def build_into(capsys, project, folder: Path) -> tuple[int, str]:
    """`kpisite build --site-dir folder`: its exit code and what it said."""
    args = ["--period", "2026-10", "--site-dir", str(folder), "--project", str(project.root)]
    code = main(["build", *args])
    return code, capsys.readouterr().err.strip()


@pytest.mark.parametrize(
    ("files", "refusal"),
    [
        (
            {"versions.json": "[]", "2026-09/index.html": "<p>Septembre</p>"},
            "it holds versions.json, so it is a folder of published versions",
        ),
        (
            {"thesis.docx": "chapter one", "notes/a.txt": "a", ".hidden": "h"},
            "it holds files no kpisite build wrote (notes, thesis.docx)",
        ),
    ],
    ids=["published-versions", "documents"],
)
def test_a_site_folder_holding_other_files_is_refused_and_left_whole(
    tmp_path, capsys, files, refusal
):
    project = copy_project(GOOD, tmp_path / "project")
    folder = tmp_path / "elsewhere"
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    before = snapshot(folder)

    assert build_into(capsys, project, folder) == (
        1,
        f"Error: {folder}: cannot be the site folder: {refusal}, and a build replaces what it "
        "holds (name an empty folder, or empty this one first)",
    )
    assert snapshot(folder) == before


def test_an_empty_site_folder_or_one_with_dot_entries_only_is_built(tmp_path):
    project = copy_project(GOOD, tmp_path / "project")
    folder = tmp_path / "deploy"
    (folder / ".git").mkdir(parents=True)
    (folder / ".git" / "HEAD").write_bytes(DOT_ENTRIES[".git/HEAD"])

    build_site(project, period="2026-10", site_dir=folder)

    assert "Ventes" in (folder / "index.html").read_text(encoding="utf-8")
    assert (folder / ".git" / "HEAD").read_bytes() == DOT_ENTRIES[".git/HEAD"]


def test_a_build_stopped_as_its_scratch_folder_is_made_removes_it(tmp_path, monkeypatch):
    import site_builder.build as build

    project = copy_project(GOOD, tmp_path / "project")
    made = build.make_empty_folder

    def stopped_right_after(scratch):
        made(scratch)
        raise SystemExit(143)  # SIGTERM between the folder's creation and anything else

    monkeypatch.setattr(build, "make_empty_folder", stopped_right_after)

    with pytest.raises(SystemExit):
        build_site(project, period="2026-10")

    assert leftovers(project) == []
    assert not (project.root / "site").exists()


def test_a_version_of_a_folder_of_published_versions_is_refused(tmp_path, capsys):
    project = copy_project(GOOD, tmp_path / "project")
    published = tmp_path / "www"
    version = published / "2026-10"
    (version / "assets" / "kpisite").mkdir(parents=True)
    (version / "assets" / "kpisite" / "kpisite.js").write_text("// built", encoding="utf-8")
    (version / "index.html").write_text("<p>Octobre</p>", encoding="utf-8")
    (published / "versions.json").write_text('[{"version": "2026-10"}]', encoding="utf-8")
    before = snapshot(published)

    assert build_into(capsys, project, version) == (
        1,
        f"Error: {version}: cannot be the site folder: it is inside a folder of published "
        f"versions ({published}, which holds versions.json), which `kpisite publish --folder "
        f"{published}` writes (name a folder of its own)",
    )
    assert snapshot(published) == before
