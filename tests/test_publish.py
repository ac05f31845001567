"""Publishing versions with mike to a git branch, checked against a local bare repository.

The report project here is a small mkdocs-material project (one page, a data folder) built
with `build_with_mkdocs`, so these tests exercise the publishing logic and the theme
partials without depending on the KPI engine; test_publish_kpisite.py does the same with a
full kpisite build.
"""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from kpi.errors import KpisiteError
from kpi.project import Project
from site_builder import publish as publishing
from site_builder.publish import PublishError, build_with_mkdocs

MKDOCS_YML = f"""\
site_name: Rapports
docs_dir: reports
theme:
  name: material
  language: fr
  custom_dir: {ROOT / "site_builder" / "templates"}
  font: false
"""


def git(*args: str, cwd: Path) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return result.stdout


def show(remote: Path, path: str, branch: str = "gh-pages") -> str:
    return git("show", f"{branch}:{path}", cwd=remote)


def versions(remote: Path) -> dict[str, dict]:
    return {entry["version"]: entry for entry in json.loads(show(remote, "versions.json"))}


def branch_tip(remote: Path, branch: str = "gh-pages") -> str:
    return git("rev-parse", branch, cwd=remote).strip()


@pytest.fixture(autouse=True)
def identity(monkeypatch):
    # The project's own commits need an author; publishing must not (tested below).
    for variable, value in {
        "GIT_AUTHOR_NAME": "Analyst",
        "GIT_AUTHOR_EMAIL": "analyst@example.org",
        "GIT_COMMITTER_NAME": "Analyst",
        "GIT_COMMITTER_EMAIL": "analyst@example.org",
        "NO_MKDOCS_2_WARNING": "1",
    }.items():
        monkeypatch.setenv(variable, value)
    monkeypatch.delenv("KPISITE_PERIOD", raising=False)
    monkeypatch.delenv("KPISITE_BUILT_AT", raising=False)
    monkeypatch.delenv("KPISITE_COMMIT", raising=False)


@pytest.fixture
def remote(tmp_path) -> Path:
    path = tmp_path / "remote.git"
    git("init", "--quiet", "--bare", "--initial-branch=main", str(path), cwd=tmp_path)
    return path


def make_clone(tmp_path: Path, remote: Path, name: str) -> Project:
    """A clone of the remote holding the report project (created on first use)."""
    work = tmp_path / name
    if not any(remote.glob("refs/heads/main")) and not (remote / "packed-refs").exists():
        git("init", "--quiet", "--initial-branch=main", str(work), cwd=tmp_path)
        write_project(work)
        git("add", ".", cwd=work)
        git("commit", "--quiet", "-m", "Report project", cwd=work)
        git("remote", "add", "origin", str(remote), cwd=work)
        git("push", "--quiet", "origin", "main", cwd=work)
    else:
        git("clone", "--quiet", str(remote), str(work), cwd=tmp_path)
    return Project.load(work)


def write_project(work: Path) -> None:
    (work / "reports").mkdir(parents=True)
    (work / "data").mkdir()
    (work / "mkdocs.yml").write_text(MKDOCS_YML, encoding="utf-8")
    (work / "reports" / "index.md").write_text("# Ventes\n\nLe rapport.\n", encoding="utf-8")
    (work / "reports" / "clients.md").write_text("# Clients\n", encoding="utf-8")
    (work / "data" / "orders.parquet").write_bytes(b"orders v1")


def publish(project: Project, period: str, **options):
    options.setdefault("push", True)
    return publishing.publish(project, period, builder=build_with_mkdocs, **options)


@pytest.fixture
def project(tmp_path, remote) -> Project:
    return make_clone(tmp_path, remote, "work")


def test_two_periods_make_two_versions_with_latest_on_the_newest(project, remote):
    first = publish(project, "2026-10")
    second = publish(project, "2026-11")

    assert (first.changed, first.latest, first.pushed) == (True, "2026-10", True)
    assert (second.changed, second.latest) == (True, "2026-11")
    found = versions(remote)
    assert sorted(found) == ["2026-10", "2026-11"]
    assert found["2026-11"]["title"] == "Novembre 2026"
    assert found["2026-10"]["title"] == "Octobre 2026"
    assert found["2026-11"]["aliases"] == ["latest"]
    assert found["2026-10"]["aliases"] == []

    # Each version is a folder with the built pages, and the tree has no symlink.
    for period in ("2026-10", "2026-11"):
        assert "<h1" in show(remote, f"{period}/index.html")
        assert "Clients" in show(remote, f"{period}/clients/index.html")
    modes = {line.split()[0] for line in git("ls-tree", "-r", "gh-pages", cwd=remote).splitlines()}
    assert modes == {"100644"}

    # latest/ holds redirects to the newest period; the root redirects to latest/.
    assert 'window.location.replace(\n      "../2026-11/"' in show(remote, "latest/index.html")
    assert '"../../2026-11/clients/"' in show(remote, "latest/clients/index.html")
    assert 'href="latest/"' in show(remote, "index.html")
    assert show(remote, ".nojekyll") == ""


def test_each_version_records_what_it_was_built_from(project, remote):
    head = git("rev-parse", "HEAD", cwd=project.root).strip()

    publish(project, "2026-11")

    properties = versions(remote)["2026-11"]["properties"]
    # The fingerprint hashes each extract file's path in the project and the hash of its bytes.
    orders = hashlib.sha256((project.root / "data" / "orders.parquet").read_bytes()).hexdigest()
    data_hash = hashlib.sha256(f"\0data/orders.parquet\0{orders}".encode()).hexdigest()[:16]
    assert properties["period"] == "2026-11"
    assert properties["period_label"] == "Novembre 2026"
    assert properties["fingerprint"] == data_hash
    assert properties["commit"] == head
    assert properties["built_at"].endswith("+00:00")

    # The footer of every page shows the same record.
    page = show(remote, "2026-11/clients/index.html")
    assert f'data-fingerprint="{data_hash}"' in page
    assert f'data-commit="{head}"' in page
    assert f'data-built-at="{properties["built_at"]}"' in page
    assert "Période : Novembre 2026" in page


def test_the_version_selector_and_outdated_banner_are_in_every_page(project, remote):
    publish(project, "2026-10")
    publish(project, "2026-11")

    page = show(remote, "2026-10/index.html")
    config = json.loads(
        page.split('<script id="__config" type="application/json">')[1].split("</script>")[0]
    )
    assert config["version"] == {"provider": "mike", "default": "latest"}
    # The banner is hidden until material's script finds the page is not `latest`.
    assert 'data-md-component="outdated" hidden' in page
    assert "Vous consultez le rapport d'une période passée (Octobre 2026)" in page
    assert 'href="./../latest/"' in page


def test_restating_an_older_period_does_not_move_latest(project, remote):
    publish(project, "2026-10")
    publish(project, "2026-11")
    old_built = versions(remote)["2026-10"]["properties"]

    (project.root / "data" / "orders.parquet").write_bytes(b"orders v2, corrected")
    outcome = publish(project, "2026-10")

    found = versions(remote)
    assert (outcome.changed, outcome.latest) == (True, "2026-11")
    assert found["2026-11"]["aliases"] == ["latest"]
    assert found["2026-10"]["aliases"] == []
    assert found["2026-10"]["properties"]["fingerprint"] != old_built["fingerprint"]
    assert '"../2026-11/"' in show(remote, "latest/index.html")


def test_republishing_unchanged_data_and_pages_makes_no_commit(project, remote, monkeypatch):
    publish(project, "2026-10")
    publish(project, "2026-11")
    tip = branch_tip(remote)

    # A fresh checkout gives every file a new mtime: content, not mtime, decides.
    (project.root / "data" / "orders.parquet").touch()
    builds = []
    monkeypatch.setattr(publishing, "build", lambda *args: builds.append(args))
    again = publish(project, "2026-11")
    older = publish(project, "2026-10")

    assert (again.changed, older.changed) == (False, False)
    assert builds == []
    assert branch_tip(remote) == tip


def test_a_changed_page_is_republished(project, remote):
    publish(project, "2026-11")
    tip = branch_tip(remote)

    (project.root / "reports" / "clients.md").write_text("# Clients fidèles\n", encoding="utf-8")
    outcome = publish(project, "2026-11")

    assert outcome.changed
    assert branch_tip(remote) != tip
    assert "Clients fidèles" in show(remote, "2026-11/clients/index.html")


def test_a_failing_build_leaves_the_branch_untouched(project, remote):
    publish(project, "2026-10")
    tip = branch_tip(remote)
    local_tip = git("rev-parse", "gh-pages", cwd=project.root).strip()

    # A link to a missing page is a warning, and strict mode makes it fatal.
    (project.root / "reports" / "index.md").write_text("[x](missing.md)\n", encoding="utf-8")
    with pytest.raises(PublishError, match="the build of 2026-11 failed, nothing was published"):
        publish(project, "2026-11")

    assert branch_tip(remote) == tip
    assert git("rev-parse", "gh-pages", cwd=project.root).strip() == local_tip
    assert sorted(versions(remote)) == ["2026-10"]


def test_a_builder_raising_a_user_error_publishes_nothing(project, remote):
    from kpi.errors import DirectiveError

    def broken(project, period, site_dir):
        site_dir.mkdir(parents=True)
        (site_dir / "index.html").write_text("half a site")
        raise DirectiveError("reports/index.md:3: unknown KPI 'revenu'")

    with pytest.raises(DirectiveError, match="revenu"):
        publishing.publish(project, "2026-11", builder=broken, push=True)

    assert git("branch", "--list", "gh-pages", cwd=remote) == ""
    assert git("branch", "--list", "gh-pages", cwd=project.root) == ""


def test_a_rejected_push_is_redone_on_top_of_the_other_publisher(tmp_path, remote, monkeypatch):
    alice = make_clone(tmp_path, remote, "alice")
    bob = make_clone(tmp_path, remote, "bob")
    publish(alice, "2026-09")

    # Bob commits 2026-10 on top of what he fetched; meanwhile Alice pushes 2026-11.
    real_try_push = publishing.Branch.try_push
    pushed_first = []

    def alice_pushes_first(self, attempt, attempts):
        if not pushed_first:
            pushed_first.append(True)
            with monkeypatch.context() as inner:
                inner.setattr(publishing.Branch, "try_push", real_try_push)
                publish(alice, "2026-11")
        return real_try_push(self, attempt, attempts)

    monkeypatch.setattr(publishing.Branch, "try_push", alice_pushes_first)
    outcome = publish(bob, "2026-10")

    found = versions(remote)
    assert outcome.attempts == 2
    assert sorted(found) == ["2026-09", "2026-10", "2026-11"]
    # Bob's older period did not take latest from Alice's newer one.
    assert found["2026-11"]["aliases"] == ["latest"]
    assert "<h1" in show(remote, "2026-10/index.html")
    assert "<h1" in show(remote, "2026-11/index.html")


def test_two_publishers_running_at_once_both_land(tmp_path, remote):
    alice = make_clone(tmp_path, remote, "alice")
    bob = make_clone(tmp_path, remote, "bob")
    publish(alice, "2026-08")  # The branch exists; both clones then fetch it.

    # Two processes: mike's git helpers work in the current directory.
    script = (
        "import sys; from kpi.project import Project; from site_builder import publish as p;"
        "p.publish(Project.load(sys.argv[1]), sys.argv[2], push=True,"
        " builder=p.build_with_mkdocs)"
    )
    runs = [
        subprocess.Popen([sys.executable, "-c", script, str(who.root), period], cwd=ROOT)
        for who, period in ((alice, "2026-09"), (bob, "2026-10"))
    ]

    assert [run.wait(timeout=120) for run in runs] == [0, 0]
    found = versions(remote)
    assert sorted(found) == ["2026-08", "2026-09", "2026-10"]
    assert found["2026-10"]["aliases"] == ["latest"]


def test_publishing_without_a_git_identity_uses_a_default_one(project, remote, monkeypatch):
    monkeypatch.delenv("GIT_COMMITTER_NAME")
    monkeypatch.delenv("GIT_COMMITTER_EMAIL")
    monkeypatch.setenv("HOME", str(project.root.parent))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")

    publish(project, "2026-11")

    committer = git("log", "-1", "--format=%cn <%ce>", "gh-pages", cwd=remote).strip()
    assert committer == "kpisite <kpisite@localhost>"


def test_a_shallow_clone_without_the_branch_publishes_on_top_of_the_remote(
    tmp_path, remote, project
):
    publish(project, "2026-10")
    shallow = tmp_path / "ci"
    git("clone", "--quiet", "--depth=1", f"file://{remote}", str(shallow), cwd=tmp_path)
    assert git("branch", "-a", "--list", "*gh-pages", cwd=shallow) == ""

    publishing.publish(Project.load(shallow), "2026-11", push=True, builder=build_with_mkdocs)

    assert sorted(versions(remote)) == ["2026-10", "2026-11"]
    assert git("rev-parse", "--is-shallow-repository", cwd=shallow).strip() == "true"


def kept_shallow_runner(tmp_path, remote, project, *, push: bool) -> Project:
    """A kept CI workspace: a one-commit-deep clone, published from once (with or without
    --push) after the project published 2026-09; its fetches stay one commit deep."""
    publish(project, "2026-09")
    shallow = tmp_path / "runner"
    git("clone", "--quiet", "--depth=1", f"file://{remote}", str(shallow), cwd=tmp_path)
    runner = Project.load(shallow)
    publishing.publish(runner, "2026-10", push=push, builder=build_with_mkdocs)
    return runner


def test_a_reused_shallow_clone_knows_the_versions_it_pushed_are_on_the_remote(
    tmp_path, remote, project
):
    runner = kept_shallow_runner(tmp_path, remote, project, push=True)
    # Its own version now sits below the remote's new tip, out of its sight.
    publish(project, "2026-06")
    publish(project, "2026-07")

    publishing.publish(runner, "2026-11", push=True, builder=build_with_mkdocs)

    assert sorted(versions(remote)) == ["2026-06", "2026-07", "2026-09", "2026-10", "2026-11"]


def test_a_shallow_clone_still_refuses_to_drop_a_version_it_never_pushed(tmp_path, remote, project):
    runner = kept_shallow_runner(tmp_path, remote, project, push=False)
    publish(project, "2026-06")

    with pytest.raises(PublishError, match="has 1 commit\\(s\\) that origin/gh-pages does not"):
        publishing.publish(runner, "2026-11", push=True, builder=build_with_mkdocs)

    assert sorted(versions(remote)) == ["2026-06", "2026-09"]


def test_publishing_without_push_commits_locally_only(project, remote):
    outcome = publish(project, "2026-11", push=False)

    assert (outcome.changed, outcome.pushed) == (True, False)
    assert "2026-11" in git("show", "gh-pages:versions.json", cwd=project.root)
    assert git("branch", "--list", "gh-pages", cwd=remote) == ""


def test_pushing_to_an_unknown_remote_is_a_clear_error(project):
    with pytest.raises(PublishError, match=r"no git remote named 'upstream'.*known: origin"):
        publish(project, "2026-11", remote="upstream")


def test_a_project_outside_git_is_told_about_the_folder_mode(tmp_path):
    write_project(tmp_path / "plain")

    with pytest.raises(PublishError, match="not inside a git repository.*--folder DIR"):
        publish(Project.load(tmp_path / "plain"), "2026-11", push=False)


def test_a_bad_period_names_the_expected_form(project):
    with pytest.raises(Exception, match=r"period '2026-13'.*not a valid month"):
        publish(project, "2026-13")


def test_the_folder_mode_writes_the_same_tree(tmp_path, remote, project):
    folder = tmp_path / "www"
    publishing.publish_to_folder(project, folder, "2026-10", builder=build_with_mkdocs)
    publishing.publish_to_folder(project, folder, "2026-11", builder=build_with_mkdocs)

    found = {e["version"]: e for e in json.loads((folder / "versions.json").read_text())}
    assert sorted(found) == ["2026-10", "2026-11"]
    assert found["2026-11"]["aliases"] == ["latest"]
    assert "Clients" in (folder / "2026-10" / "clients" / "index.html").read_text()
    assert '"../2026-11/"' in (folder / "latest" / "index.html").read_text()
    assert 'href="latest/"' in (folder / "index.html").read_text()
    assert not any(path.is_symlink() for path in folder.rglob("*"))

    # Unchanged: nothing in the folder is rewritten.
    stamps = {path: path.stat().st_mtime_ns for path in folder.rglob("*") if path.is_file()}
    again = publishing.publish_to_folder(project, folder, "2026-11", builder=build_with_mkdocs)
    assert not again.changed
    assert stamps == {path: path.stat().st_mtime_ns for path in folder.rglob("*") if path.is_file()}


def test_the_log_names_the_folder_or_the_branch_written(tmp_path, project, caplog):
    caplog.set_level(logging.INFO, logger="site_builder.publish")
    folder = tmp_path / "www"

    publishing.publish_to_folder(project, folder, "2026-10", builder=build_with_mkdocs)
    publish(project, "2026-11", push=False)

    deployed = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Deployed")]
    assert deployed == [
        f"Deployed 2026-10 to folder {folder.resolve()} (aliases: latest)",
        "Deployed 2026-11 to branch gh-pages (aliases: latest)",
    ]


def test_the_folder_mode_refuses_a_folder_of_something_else(tmp_path, project):
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "notes.txt").write_text("mine")

    with pytest.raises(PublishError, match="holds no versions.json"):
        publishing.publish_to_folder(
            project, tmp_path / "www", "2026-11", builder=build_with_mkdocs
        )
    assert (tmp_path / "www" / "notes.txt").read_text() == "mine"


# A publisher into a folder, run as a process of its own (mike's git helpers work in the
# current directory). The first one, once it holds the folder, waits in its build until
# the second is either kept waiting by the lock or (without a lock) has read the folder.
FOLDER_PUBLISHER = """
import fcntl, sys, time
from pathlib import Path
from kpi.project import Project
from site_builder import publish as p

root, folder, period, role, marks = sys.argv[1:6]
marks = Path(marks)

def wait_for(*names):
    deadline = time.monotonic() + 60
    while not any((marks / name).exists() for name in names):
        if time.monotonic() > deadline:
            sys.exit(f"{role}: gave up waiting for {names}")
        time.sleep(0.05)

builder = p.build_with_mkdocs
if role == "first":
    def builder(project, period, site_dir):
        (marks / "first-building").touch()
        wait_for("second-waiting", "second-imported")
        p.build_with_mkdocs(project, period, site_dir)
else:
    wait_for("first-building")
    real_flock, real_import = fcntl.flock, p.Branch.import_folder

    def flock(descriptor, operation):
        try:
            return real_flock(descriptor, operation)
        except BlockingIOError:
            (marks / "second-waiting").touch()
            raise

    def import_folder(self, folder):
        real_import(self, folder)
        (marks / "second-imported").touch()

    fcntl.flock, p.Branch.import_folder = flock, import_folder

p.publish_to_folder(Project.load(root), folder, period, builder=builder)
"""


def test_two_publishers_into_one_folder_take_turns(tmp_path, remote):
    folder, marks, script = tmp_path / "www", tmp_path / "marks", tmp_path / "publisher.py"
    marks.mkdir()
    script.write_text(FOLDER_PUBLISHER, encoding="utf-8")
    runs = [
        subprocess.Popen(
            [sys.executable, str(script), str(who.root), str(folder), period, role, str(marks)],
            cwd=ROOT,
        )
        for who, period, role in (
            (make_clone(tmp_path, remote, "alice"), "2026-11", "first"),
            (make_clone(tmp_path, remote, "bob"), "2026-10", "second"),
        )
    ]

    assert [run.wait(timeout=120) for run in runs] == [0, 0]
    found = {e["version"]: e for e in json.loads((folder / "versions.json").read_text())}
    assert sorted(found) == ["2026-10", "2026-11"]
    assert found["2026-11"]["aliases"] == ["latest"]
    assert "Clients" in (folder / "2026-10" / "clients" / "index.html").read_text()
    assert "Clients" in (folder / "2026-11" / "clients" / "index.html").read_text()
    # The second publisher waited for the folder, and no lock file is left to be served.
    assert (marks / "second-waiting").exists()
    assert sorted(path.name for path in folder.iterdir()) == [
        ".nojekyll",
        "2026-10",
        "2026-11",
        "index.html",
        "latest",
        "versions.json",
    ]


def test_the_folder_mode_keeps_the_git_folder_of_a_clone(tmp_path, project):
    folder = tmp_path / "www"
    publishing.publish_to_folder(project, folder, "2026-10", builder=build_with_mkdocs)
    (folder / ".git" / "refs").mkdir(parents=True)
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/gh-pages\n", encoding="utf-8")

    publishing.publish_to_folder(project, folder, "2026-11", builder=build_with_mkdocs)

    assert (folder / ".git" / "HEAD").read_text() == "ref: refs/heads/gh-pages\n"
    assert (folder / ".git" / "refs").is_dir()
    assert (folder / "2026-11" / "index.html").is_file()


def test_a_publishing_folder_inside_the_data_folder_is_refused(project, no_build):
    folder = project.root / "data" / "www"

    with pytest.raises(KpisiteError) as error:
        publishing.publish_to_folder(project, folder, "2026-11", builder=build_with_mkdocs)

    assert str(error.value) == (
        f"{folder}: cannot be the publishing folder: it is inside the data folder "
        f"({project.root / 'data'}), and what is written there would mix with the project's "
        f"files (name a folder of its own, e.g. {project.root / 'public'})"
    )
    assert not folder.exists()


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--folder", "", "a folder such as /srv/www/reports"),
        ("--folder", "  ", "a folder such as /srv/www/reports"),
        ("--remote", "", "a git remote such as origin"),
        ("--branch", "", "a branch such as gh-pages"),
        ("--period", " ", "a period such as 2026-10"),
    ],
)
def test_an_empty_option_is_a_usage_error(project, capsys, no_build, option, value, expected):
    from site_builder.cli import main

    code = main(["publish", "--project", str(project.root), option, value])

    assert code == 2
    assert (
        f"Invalid value for '{option}': empty; give {expected}, or leave the option out"
        in capsys.readouterr().err
    )
    assert git("branch", "--list", "gh-pages", cwd=project.root) == ""


def test_push_has_no_meaning_with_a_folder(project, capsys):
    from site_builder.cli import main

    args = ["publish", "--project", str(project.root), "--folder", "www", "--push"]
    code = main([*args, "--period", "2026-11"])

    assert code == 2
    assert (
        "--push publishes a git branch; it has no meaning with --folder" in capsys.readouterr().err
    )


def test_a_version_committed_only_locally_is_pushed_by_the_next_push(project, remote):
    publish(project, "2026-11", push=False)

    outcome = publish(project, "2026-11", push=True)

    # Nothing new to commit, but the remote gets the version it did not have.
    assert (outcome.changed, outcome.pushed) == (False, True)
    assert sorted(versions(remote)) == ["2026-11"]


# Refusals before anything is built (QA findings).


@pytest.fixture
def no_build(monkeypatch):
    """Fails the test if publishing gets as far as building."""

    def refuse(*args):
        raise AssertionError("publishing built the site before refusing")

    monkeypatch.setattr(publishing, "build", refuse)


def refs(repo: Path) -> str:
    return git("for-each-ref", "--format=%(refname) %(objectname)", cwd=repo)


def test_the_checked_out_branch_is_refused_and_left_intact(project, remote, no_build):
    # A commit on main that was never pushed: the reset to origin/main would lose it.
    (project.root / "notes.txt").write_text("unpushed work\n", encoding="utf-8")
    git("add", "notes.txt", cwd=project.root)
    git("commit", "--quiet", "-m", "Unpushed", cwd=project.root)
    before, remote_before = refs(project.root), refs(remote)

    with pytest.raises(PublishError) as error:
        publish(project, "2026-11", branch="main")

    assert str(error.value) == (
        f"{project.root}: refusing to publish to branch 'main': it is the branch checked out "
        f"in {project.root}, and publishing would commit the site onto it (and --push would "
        "reset it to the remote); publish to a branch of its own, e.g. --branch gh-pages"
    )
    assert (refs(project.root), refs(remote)) == (before, remote_before)
    assert (project.root / "notes.txt").read_text(encoding="utf-8") == "unpushed work\n"


def test_a_branch_checked_out_in_another_worktree_is_refused(project, tmp_path, no_build):
    other = tmp_path / "other-worktree"
    git("worktree", "add", "--quiet", "-b", "drafts", str(other), cwd=project.root)

    with pytest.raises(PublishError, match=f"'drafts': it is the branch checked out in {other}"):
        publish(project, "2026-11", branch="drafts", push=False)


def test_head_is_refused(project, no_build):
    with pytest.raises(PublishError, match="'HEAD': HEAD names the checked-out commit"):
        publish(project, "2026-11", branch="HEAD")


def test_a_branch_sharing_history_with_head_is_refused(project, no_build):
    git("branch", "release", cwd=project.root)
    tip = git("rev-parse", "release", cwd=project.root)

    with pytest.raises(
        PublishError,
        match=r"branch 'release': refs/heads/release shares history with the project's HEAD.*"
        r"--branch gh-pages",
    ):
        publish(project, "2026-11", branch="release", push=False)
    assert git("rev-parse", "release", cwd=project.root) == tip


def test_a_source_branch_known_only_to_the_remote_is_refused(tmp_path, remote, no_build):
    alice = make_clone(tmp_path, remote, "alice")
    git("push", "--quiet", "origin", "main:feature", cwd=alice.root)
    bob = make_clone(tmp_path, remote, "bob")
    git("update-ref", "-d", "refs/remotes/origin/feature", cwd=bob.root)
    tip = branch_tip(remote, "feature")

    with pytest.raises(PublishError, match="refs/remotes/origin/feature shares history"):
        publish(bob, "2026-11", branch="feature")
    assert branch_tip(remote, "feature") == tip
    assert git("branch", "--list", "feature", cwd=bob.root) == ""


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("-x", "a branch name cannot start with '-'"),
        ("refs/heads/foo", "give the branch name alone, without refs/heads/"),
        ("a b", "not a valid git branch name"),
        ("../x", "not a valid git branch name"),
        ("a..b", "not a valid git branch name"),
        ("x.lock", "not a valid git branch name"),
        ("@{-1}", "not a valid git branch name"),
        ("", "a branch name cannot be empty"),
        ("@", "@ names the checked-out commit, not a branch"),
    ],
)
def test_a_bad_branch_name_is_refused_before_anything(project, remote, no_build, name, problem):
    before, remote_before = refs(project.root), refs(remote)

    with pytest.raises(PublishError) as error:
        publish(project, "2026-11", branch=name)

    assert str(error.value).startswith(f"--branch {name!r}: {problem}")
    assert str(error.value).endswith(
        "(versions live on a branch of their own, e.g. --branch gh-pages)"
    )
    assert (refs(project.root), refs(remote)) == (before, remote_before)
    assert not list((project.root / ".git").glob("fast_import_crash_*"))


def test_a_remote_tracking_branch_is_refused(project, remote, no_build):
    # Refused by its name, whether or not origin/gh-pages was fetched yet.
    before = refs(project.root)

    with pytest.raises(PublishError) as error:
        publish(project, "2026-11", branch="origin/gh-pages")

    assert str(error.value) == (
        f"{project.root}: --branch 'origin/gh-pages' names a remote-tracking branch; name the "
        "local branch, e.g. --branch gh-pages (--push pushes it to --remote origin)"
    )
    assert refs(project.root) == before


@pytest.mark.parametrize(
    ("period", "grain", "month"),
    [
        ("2026-W48", "a week", "2026-11"),
        ("2026-11-15", "a day", "2026-11"),
        ("2026-Q3", "a quarter", "2026-07"),
        ("2026", "a year", "2026-01"),
    ],
)
def test_a_version_is_one_month(project, remote, no_build, period, grain, month):
    with pytest.raises(PublishError) as error:
        publish(project, period)

    assert str(error.value) == (
        f"--period {period!r}: a version is one month (YYYY-MM), and this is {grain} "
        f"(publish a month, e.g. {month}, the month it starts in)"
    )
    assert git("branch", "--list", "gh-pages", cwd=remote) == ""


def test_a_period_of_another_grain_from_the_environment_is_refused(project, monkeypatch, no_build):
    monkeypatch.setenv("KPISITE_PERIOD", "2026-W48")

    with pytest.raises(PublishError, match=r"^KPISITE_PERIOD '2026-W48': a version is one month"):
        publishing.publish(project, None, builder=build_with_mkdocs)


def test_a_version_that_is_not_a_month_never_holds_latest(project, remote, monkeypatch):
    # A week published before months were enforced, holding latest.
    from mike import commands

    site = project.root.parent / "week-site"
    site.mkdir()
    (site / "index.html").write_text("week", encoding="utf-8")
    monkeypatch.chdir(project.root)
    with commands.deploy({"site_dir": str(site)}, "2026-W48", "Semaine 48", ["latest"]):
        pass

    outcome = publish(project, "2026-10", push=False)

    assert outcome.latest == "2026-10"
    found = {
        entry["version"]: entry["aliases"]
        for entry in json.loads(git("show", "gh-pages:versions.json", cwd=project.root))
    }
    assert found == {"2026-W48": [], "2026-10": ["latest"]}


# Local versions and the remote.


def test_local_versions_a_push_would_drop_are_refused(project, remote, monkeypatch):
    publish(project, "2026-10")
    publish(project, "2026-11", push=False)
    local = git("rev-parse", "gh-pages", cwd=project.root)
    remote_tip = branch_tip(remote)

    with monkeypatch.context() as inner:
        inner.setattr(publishing, "build", lambda *args: pytest.fail("built"))
        with pytest.raises(PublishError) as error:
            publish(project, "2026-09")

    assert str(error.value) == (
        f"{project.root}: the local branch gh-pages has 1 commit(s) that origin/gh-pages does "
        "not have (versions published without --push); publishing with --push would drop "
        "them. Push them first with `git push origin gh-pages`, or drop them with "
        "`git branch -f gh-pages origin/gh-pages`, then publish again"
    )
    assert git("rev-parse", "gh-pages", cwd=project.root) == local
    assert branch_tip(remote) == remote_tip

    # Following the advice publishes both.
    git("push", "--quiet", "origin", "gh-pages", cwd=project.root)
    publish(project, "2026-09")
    assert sorted(versions(remote)) == ["2026-09", "2026-10", "2026-11"]


def test_local_versions_diverged_from_the_remote_are_refused(tmp_path, remote):
    alice = make_clone(tmp_path, remote, "alice")
    publish(alice, "2026-09")
    bob = make_clone(tmp_path, remote, "bob")
    git("fetch", "--quiet", "origin", "gh-pages:gh-pages", cwd=bob.root)
    publish(bob, "2026-10", push=False)  # local only
    publish(alice, "2026-11")  # meanwhile on the remote
    local = git("rev-parse", "gh-pages", cwd=bob.root)

    with pytest.raises(PublishError) as error:
        publish(bob, "2026-08")

    assert str(error.value) == (
        f"{bob.root}: the local branch gh-pages has 1 commit(s) that origin/gh-pages does not "
        "have (versions published without --push), and origin/gh-pages has 1 commit(s) it "
        "lacks; publishing with --push would drop the local ones. Drop them with "
        "`git branch -f gh-pages origin/gh-pages` and publish those periods again with "
        "--push (or merge the two branches by hand)"
    )
    assert git("rev-parse", "gh-pages", cwd=bob.root) == local
    assert sorted(versions(remote)) == ["2026-09", "2026-11"]


def test_without_push_an_unreachable_remote_is_a_warning(project, caplog):
    git("remote", "set-url", "origin", str(project.root.parent / "gone.git"), cwd=project.root)
    caplog.set_level(logging.WARNING, logger="site_builder.publish")

    outcome = publish(project, "2026-11", push=False)

    assert (outcome.changed, outcome.pushed) == (True, False)
    assert "2026-11" in git("show", "gh-pages:versions.json", cwd=project.root)
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.startswith("git fetch origin gh-pages failed (fatal: ")
    assert warning.endswith(
        "): publishing to the local branch only, which may be behind the remote"
    )

    # With --push the same failure stops before anything is built.
    with pytest.raises(PublishError, match="git fetch origin gh-pages failed"):
        publish(project, "2026-10")


def test_without_push_an_unknown_remote_is_a_warning(project, caplog):
    caplog.set_level(logging.WARNING, logger="site_builder.publish")

    publish(project, "2026-11", push=False, remote="nope")

    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"{project.root}: no git remote named 'nope' (known: origin): publishing to the "
        "local branch gh-pages only"
    ]


def test_the_default_remote_missing_without_push_is_no_warning(tmp_path, caplog):
    work = tmp_path / "alone"
    git("init", "--quiet", "--initial-branch=main", str(work), cwd=tmp_path)
    write_project(work)
    git("add", ".", cwd=work)
    git("commit", "--quiet", "-m", "Report project", cwd=work)
    caplog.set_level(logging.WARNING, logger="site_builder.publish")

    publish(Project.load(work), "2026-11", push=False)

    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


# What the version records.


def test_uncommitted_changes_are_recorded_as_a_dirty_commit(project, remote, caplog):
    head = git("rev-parse", "HEAD", cwd=project.root).strip()
    (project.root / "reports" / "clients.md").write_text("# Clients (brouillon)\n", "utf-8")
    (project.root / "data" / "returns.parquet").write_bytes(b"new table, not committed")
    (project.root / "README.txt").write_text("not read by the build\n", encoding="utf-8")
    caplog.set_level(logging.WARNING, logger="site_builder.publish")

    publish(project, "2026-11")

    assert versions(remote)["2026-11"]["properties"]["commit"] == f"{head}-dirty"
    page = show(remote, "2026-11/index.html")
    assert f'data-commit="{head}-dirty"' in page
    assert f"projet <code>{head[:12]}-dirty</code>" in page
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warning == (
        f"{project.root}: uncommitted changes in data/returns.parquet, reports/clients.md; "
        f"the version records commit {head[:12]}-dirty (commit them first for a version "
        "that can be traced to a commit)"
    )


def test_changes_outside_what_the_build_reads_leave_the_commit_clean(project, remote):
    head = git("rev-parse", "HEAD", cwd=project.root).strip()
    (project.root / "README.txt").write_text("not read by the build\n", encoding="utf-8")

    publish(project, "2026-11")

    assert versions(remote)["2026-11"]["properties"]["commit"] == head


def test_the_footer_shows_the_build_time_in_the_reporting_zone(project, remote, monkeypatch):
    # 06:05 UTC on 4 December is 07:05 in Paris (winter time), written like the extraction.
    monkeypatch.setenv("KPISITE_BUILT_AT", "2026-12-04T06:05:00+00:00")

    publish(project, "2026-11")

    page = show(remote, "2026-11/index.html")
    assert (
        'construit le <time datetime="2026-12-04T06:05:00+00:00">4 décembre 2026 à 07:05</time>'
        in page
    )


def test_a_build_time_that_is_not_iso_is_a_clean_error(project, monkeypatch, no_build):
    monkeypatch.setenv("KPISITE_BUILT_AT", "yesterday")

    with pytest.raises(PublishError, match=r"KPISITE_BUILT_AT='yesterday': not an ISO 8601 time"):
        publish(project, "2026-11")


# latest follows the newest version, even after a deletion.


def delete_version(project: Project, period: str, monkeypatch) -> None:
    """`mike delete PERIOD --push`, as a person would remove a version."""
    from mike import commands

    with monkeypatch.context() as inside:
        inside.chdir(project.root)
        commands.delete([period], branch="gh-pages")
    git("push", "--quiet", "origin", "gh-pages", cwd=project.root)


def test_latest_is_repaired_without_a_build_after_the_newest_is_deleted(
    project, remote, monkeypatch
):
    publish(project, "2026-10")
    publish(project, "2026-11")
    delete_version(project, "2026-11", monkeypatch)
    assert versions(remote)["2026-10"]["aliases"] == []
    monkeypatch.setattr(publishing, "build", lambda *args: pytest.fail("built"))

    outcome = publish(project, "2026-10")

    assert (outcome.changed, outcome.repaired, outcome.latest, outcome.pushed) == (
        False,
        True,
        "2026-10",
        True,
    )
    assert versions(remote)["2026-10"]["aliases"] == ["latest"]
    assert 'window.location.replace(\n      "../2026-10/"' in show(remote, "latest/index.html")
    assert '"../../2026-10/clients/"' in show(remote, "latest/clients/index.html")
    assert 'href="latest/"' in show(remote, "index.html")

    # Once repaired, publishing again changes nothing.
    tip = branch_tip(remote)
    again = publish(project, "2026-10")
    assert (again.repaired, branch_tip(remote)) == (False, tip)


def test_the_summary_says_latest_was_repaired():
    from site_builder.commands.publish import summary

    outcome = publishing.Outcome("2026-10", "Octobre 2026", False, "2026-10", True, 1, True)

    assert summary(outcome, "branch gh-pages", "origin") == (
        "2026-10 (Octobre 2026) is unchanged in branch gh-pages; latest was repaired and is "
        "2026-10; pushed to origin."
    )


# Unreadable versions files.


def test_a_corrupt_versions_file_in_the_folder_is_a_clean_error(tmp_path, project, no_build):
    folder = tmp_path / "www"
    folder.mkdir()
    (folder / "versions.json").write_text('[{"version": "2026-10",', encoding="utf-8")

    with pytest.raises(PublishError) as error:
        publishing.publish_to_folder(project, folder, "2026-11", builder=build_with_mkdocs)

    assert str(error.value) == (
        f"{folder / 'versions.json'}: not a list of versions mike can read (JSONDecodeError: "
        "Expecting property name enclosed in double quotes: line 1 column 24 (char 23)); "
        "fix it or restore it, kpisite does not overwrite it"
    )
    assert (folder / "versions.json").read_text() == '[{"version": "2026-10",'


def commit_versions_file(project: Project, text: str) -> None:
    """Push a gh-pages branch holding only a versions.json of `text`."""
    blob = subprocess.run(
        ["git", "hash-object", "-w", "--stdin"],
        input=text,
        cwd=project.root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    tree = subprocess.run(
        ["git", "mktree"],
        input=f"100644 blob {blob}\tversions.json\n",
        cwd=project.root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    commit = git("commit-tree", "-m", "Broken", tree, cwd=project.root).strip()
    git("push", "--quiet", "origin", f"{commit}:refs/heads/gh-pages", cwd=project.root)


def test_a_corrupt_versions_file_on_the_branch_is_a_clean_error(project, remote, no_build):
    commit_versions_file(project, "not json\n")

    with pytest.raises(PublishError) as error:
        publish(project, "2026-11")

    assert str(error.value) == (
        "gh-pages:versions.json (branch gh-pages): not a list of versions mike can read "
        "(JSONDecodeError: Expecting value: line 1 column 1 (char 0)); fix it with a commit "
        "on the branch, or restore it from an earlier commit"
    )


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        (
            '{"version": "2026-10", "title": "Octobre 2026", "aliases": "latest"}',
            'entry 1 (version "2026-10"): "aliases": expected a list of names, got "latest" '
            '(write ["latest"])',
        ),
        (
            '{"version": "2026-10", "title": "Octobre 2026", "aliases": [], "properties": "x"}',
            'entry 1 (version "2026-10"): "properties": expected an object, got "x"',
        ),
        (
            '{"version": "2026-10", "aliases": []}',
            'entry 1 (version "2026-10"): "title": expected a string, got null',
        ),
        (
            '{"version": 202610, "title": "T", "aliases": []}',
            'entry 1 (version 202610): "version": expected a name such as "2026-11", got 202610',
        ),
        ('"2026-10"', 'entry 1: expected an object, got "2026-10"'),
    ],
    ids=["aliases-string", "properties-string", "no-title", "version-number", "entry-string"],
)
def test_a_versions_file_of_the_wrong_shape_names_the_entry(
    tmp_path, project, no_build, entry, problem
):
    # Read as mike reads it, "aliases": "latest" would be the aliases l, a, t, e and s.
    folder = tmp_path / "www"
    folder.mkdir()
    (folder / "versions.json").write_text(f"[{entry}]", encoding="utf-8")

    with pytest.raises(PublishError) as error:
        publishing.publish_to_folder(project, folder, "2026-11", builder=build_with_mkdocs)

    assert str(error.value) == (
        f"{folder / 'versions.json'}: {problem}; fix it or restore it, kpisite does not "
        "overwrite it"
    )
    assert (folder / "versions.json").read_text(encoding="utf-8") == f"[{entry}]"


def test_a_versions_file_of_the_wrong_shape_on_the_branch_names_the_entry(
    project, remote, no_build
):
    text = '[{"version": "2026-10", "title": "Octobre 2026", "aliases": "latest"}]\n'
    commit_versions_file(project, text)

    with pytest.raises(PublishError) as error:
        publish(project, "2026-11")

    assert str(error.value) == (
        'gh-pages:versions.json (branch gh-pages): entry 1 (version "2026-10"): "aliases": '
        'expected a list of names, got "latest" (write ["latest"]); fix it with a commit on '
        "the branch, or restore it from an earlier commit"
    )


# Retrying a rejected push.


def test_backoff_grows_with_jitter_and_is_capped(monkeypatch):
    monkeypatch.setattr(publishing.random, "uniform", lambda low, high: high)
    assert [publishing.backoff(n) for n in (1, 2, 3, 4, 5, 6, 9)] == [
        0.5 + 0.5,
        1.0 + 0.5,
        2.0 + 0.5,
        4.0 + 0.5,
        8.0 + 0.5,
        8.0 + 0.5,
        8.0 + 0.5,
    ]
    monkeypatch.setattr(publishing.random, "uniform", lambda low, high: low)
    assert publishing.backoff(1) == 0.5


def test_a_rejected_push_waits_before_retrying(tmp_path, remote, monkeypatch):
    alice = make_clone(tmp_path, remote, "alice")
    bob = make_clone(tmp_path, remote, "bob")
    publish(alice, "2026-09")
    waits = []
    monkeypatch.setattr(publishing, "sleep", waits.append)

    real_try_push = publishing.Branch.try_push

    def alice_pushes_first(self, attempt, attempts):
        if attempt == 1:
            with monkeypatch.context() as inner:
                inner.setattr(publishing.Branch, "try_push", real_try_push)
                publish(alice, f"2026-1{len(waits)}")
        return real_try_push(self, attempt, attempts)

    monkeypatch.setattr(publishing.Branch, "try_push", alice_pushes_first)
    outcome = publish(bob, "2026-08")

    assert outcome.attempts == 2
    (wait,) = waits
    assert 0.5 <= wait <= 1.0
    assert sorted(versions(remote)) == ["2026-08", "2026-09", "2026-10"]
