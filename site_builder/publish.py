"""Publishing: one version of the report site per period, deployed with mike.

`publish()` builds the site of a period into a temporary folder, then commits it to a git
branch (gh-pages by default) as the version named by the period key (`2026-11`), titled
in the site language ("Novembre 2026"). The alias `latest` follows the newest period and
the branch root redirects to it; aliases are redirect pages, never symbolic links, which
GitHub Pages rejects. `publish_to_folder()` writes the same tree to a plain folder.

Each version records in `versions.json` its period, a fingerprint of the extract files,
the time it was built, the project commit, and a hash of everything the build read
(`inputs`). Republishing a version whose inputs did not change is skipped before
building, so it changes nothing on the branch even though the footer's build time would.

The steps run in this order on purpose: build first (a failing build touches no branch),
then commit with mike's git helpers, then push; a push rejected because another publisher
moved the branch is redone on top of the new branch tip, so neither version is lost.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kpi.errors import KpisiteError
from kpi.project import Project
from site_builder.build import environment, git_head

log = logging.getLogger(__name__)

LATEST = "latest"
PUSH_ATTEMPTS = 5
DEFAULT_IDENTITY = ("kpisite", "kpisite@localhost")

# Files of the kpisite tool itself: a new release of the templates re-renders every page.
TOOL_SUFFIXES = {".py", ".yml", ".html", ".js", ".css"}

Builder = Callable[[Project, str, Path], None]


class PublishError(KpisiteError):
    """Publishing failed (a build error, a git error): the branch was left as it was."""


@dataclass(frozen=True)
class Version:
    """What one published version records, in versions.json and in the page footer."""

    period: str
    title: str
    fingerprint: str
    inputs: str
    built_at: str
    commit: str | None

    def properties(self) -> dict:
        return {
            "period": self.period,
            "period_label": self.title,
            "fingerprint": self.fingerprint,
            "inputs": self.inputs,
            "built_at": self.built_at,
            "commit": self.commit,
        }


@dataclass(frozen=True)
class Outcome:
    """What a publish did: `changed` is False when the version was already up to date."""

    version: str
    title: str
    changed: bool
    latest: str | None
    pushed: bool = False
    attempts: int = 0


def publish(
    project: Project,
    period: str | None = None,
    *,
    branch: str = "gh-pages",
    remote: str = "origin",
    push: bool = False,
    builder: Builder | None = None,
    attempts: int = PUSH_ATTEMPTS,
) -> Outcome:
    """Build the site of `period` and deploy it as a version on the git branch `branch`.

    The project folder must be inside a git repository (the branch lives there). With
    `push`, the branch is pushed to `remote`, retrying on top of a concurrent publisher.
    """
    version = describe(project, resolve_period(project, period))
    target = Branch(project.root, branch, remote, push)

    with target.session():
        target.sync()
        if target.is_current(version):
            log.info("%s is up to date on %s: nothing to publish", version.period, branch)
            pushed = target.push_pending()
            return Outcome(version.period, version.title, False, target.latest(), pushed)

        with tempfile.TemporaryDirectory(prefix="kpisite-publish-") as scratch:
            site_dir = build(project, version, Path(scratch) / "site", builder)
            return target.deploy(site_dir, version, use_directory_urls(project), attempts)


def publish_to_folder(
    project: Project, folder: str | os.PathLike, period: str | None = None, *, builder=None
) -> Outcome:
    """Deploy the version of `period` into a plain folder served by any web server.

    The folder gets the same tree as the branch (versions.json, one folder per period,
    `latest/` redirects, a root index.html): it is imported into a scratch git repository,
    deployed there with the same code as the branch, and written back.
    """
    folder = Path(folder).resolve()
    version = describe(project, resolve_period(project, period))

    with tempfile.TemporaryDirectory(prefix="kpisite-folder-") as scratch:
        repo = Path(scratch) / "repo"
        target = Branch(repo, "site", remote=None, push=False, label=f"folder {folder}")
        with target.session(init=True):
            target.import_folder(folder)
            if target.is_current(version):
                return Outcome(version.period, version.title, False, target.latest())

            site_dir = build(project, version, Path(scratch) / "site", builder)
            outcome = target.deploy(site_dir, version, use_directory_urls(project), 1)
            target.export_folder(folder)
            return outcome


# The version: period, title, fingerprints.


def resolve_period(project: Project, period: str | None) -> str:
    """The period key to publish: given, else KPISITE_PERIOD or the `period` setting,
    else the last complete month of the extract."""
    from kpi.periods import parse_period

    text = period or os.environ.get("KPISITE_PERIOD") or project.settings.period
    if text:
        return parse_period(text, project.settings.timezone, project.settings.locale).key

    from kpi.engine import Workbook

    book = Workbook(project)
    return book.default_period("month").key


def describe(project: Project, period: str) -> Version:
    """The record of the version about to be built (before the build: it is cheap)."""
    from kpi.periods import parse_period

    settings = project.settings
    return Version(
        period=period,
        title=parse_period(period, settings.timezone, settings.locale).label,
        fingerprint=content_hash(extract_files(project), project.root),
        inputs=content_hash(input_files(project), project.root, salt=period + tool_fingerprint()),
        built_at=os.environ.get("KPISITE_BUILT_AT") or now_iso(),
        commit=os.environ.get("KPISITE_COMMIT") or git_head(project.root),
    )


def extract_files(project: Project) -> list[Path]:
    """Every file the KPI values are computed from: the extract folder's Parquet files and
    the raw files a mapping reads (kpi.mapping)."""
    from kpi.extract import Extract

    return sorted({*visible_files(project.data_dir), *Extract(project).all_files()})


def input_files(project: Project) -> list[Path]:
    """Everything of the project a build reads: extract, pages, mkdocs.yml, catalogs."""
    files = [project.config_file, *extract_files(project)]
    files += visible_files(project.path(docs_dir(project)))
    files += [project.path(catalog) for catalog in project.settings.catalogs]
    return [path for path in files if path.is_file()]


@functools.cache
def tool_fingerprint() -> str:
    """A hash of kpisite's own code and templates: a new release re-renders every page.

    Computed once per process, like the code it describes is loaded once.
    """
    import kpi
    import site_builder

    files = []
    for package in (kpi, site_builder):
        folder = Path(package.__file__).parent
        files += [path for path in visible_files(folder) if is_tool_file(path)]
    return content_hash(files, Path(kpi.__file__).parent.parent)


def is_tool_file(path: Path) -> bool:
    return path.suffix in TOOL_SUFFIXES and "__pycache__" not in path.parts


def visible_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )


def content_hash(files: Iterable[Path], root: Path, salt: str = "") -> str:
    """A short hash of the files' names and bytes (not their mtimes: a fresh CI checkout
    gives every file a new mtime, and that must not republish every version)."""
    digest = hashlib.sha256(salt.encode())
    for path in files:
        # Raw files outside the project (shared data) are named alone: where they are
        # mounted must not change the hash.
        inside = path.resolve().is_relative_to(root.resolve())
        name = path.relative_to(root).as_posix() if inside else path.name
        digest.update(f"\0{name}\0".encode())
        with open(path, "rb") as stream:
            for chunk in iter(lambda stream=stream: stream.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()[:16]


def read_mkdocs_config(project: Project) -> dict:
    from mkdocs.utils.yaml import yaml_load

    with open(project.config_file, "rb") as stream:
        return yaml_load(stream) or {}


def docs_dir(project: Project) -> str:
    return read_mkdocs_config(project).get("docs_dir") or "docs"


def use_directory_urls(project: Project) -> bool:
    return read_mkdocs_config(project).get("use_directory_urls", True) is not False


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# The build.


def build(project: Project, version: Version, site_dir: Path, builder: Builder | None) -> Path:
    """Build the site of the version into `site_dir`; any failure publishes nothing."""
    builder = builder or build_with_kpisite
    overrides = {
        "KPISITE_PERIOD": version.period,
        "KPISITE_BUILT_AT": version.built_at,
        "KPISITE_COMMIT": version.commit or "",
        "KPISITE_FINGERPRINT": version.fingerprint,
        "KPISITE_VERSIONED": "1",
    }
    log.info("Building %s (%s) for publishing", version.period, version.title)
    try:
        with environment(**overrides):
            builder(project, version.period, site_dir)
    except KpisiteError:
        raise
    except Exception as error:
        # mkdocs' Abort (warnings in strict mode), a broken theme, a bad config...
        raise PublishError(
            f"{project.config_file}: the build of {version.period} failed, nothing was "
            f"published ({type(error).__name__}: {error})"
        ) from error

    if not (site_dir / "index.html").is_file():
        raise PublishError(
            f"{project.config_file}: the build of {version.period} wrote no index.html "
            "into the site folder, nothing was published"
        )
    if '"provider": "mike"' not in (site_dir / "index.html").read_text(encoding="utf-8"):
        log.warning(
            "%s: the built pages have no version selector (set extra.version.provider: mike "
            "in mkdocs.yml)",
            project.config_file,
        )
    return site_dir


def build_with_kpisite(project: Project, period: str, site_dir: Path) -> None:
    """The default builder: kpisite's own strict build, plugin and all."""
    from site_builder.build import build_site

    build_site(project, period=period, site_dir=site_dir, strict=True)


def build_with_mkdocs(project: Project, period: str, site_dir: Path) -> None:
    """A builder for a plain mkdocs project (no kpisite plugin): mkdocs' strict build,
    with the version selector and the version record the kpisite plugin would add."""
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    config = load_config(str(project.config_file), site_dir=str(site_dir), strict=True)
    config.extra.setdefault("version", {"provider": "mike", "default": LATEST})
    config.extra.setdefault(
        "kpisite",
        {
            "period": period,
            "period_label": describe_label(project, period),
            "fingerprint": os.environ.get("KPISITE_FINGERPRINT"),
            "built_at": os.environ.get("KPISITE_BUILT_AT"),
            "commit": os.environ.get("KPISITE_COMMIT") or None,
        },
    )
    mkdocs_build(config)


def describe_label(project: Project, period: str) -> str:
    from kpi.periods import parse_period

    return parse_period(period, project.settings.timezone, project.settings.locale).label


# The branch.


class Branch:
    """A branch of versions in a git repository, read and written with mike.

    mike's git helpers run git in the current directory, so every call happens inside
    `session()`, which enters the repository and provides a committer identity.
    """

    def __init__(
        self, root: Path, branch: str, remote: str | None, push: bool, label: str | None = None
    ):
        self.root = Path(root)
        self.branch = branch
        self.remote = remote
        self.push = push
        # What the log calls the destination: the branch, or the folder written from it.
        self.label = label or f"branch {branch}"

    @contextlib.contextmanager
    def session(self, init: bool = False) -> Iterator[None]:
        if init:
            self.root.mkdir(parents=True, exist_ok=True)
            run_git(["init", "--quiet"], cwd=self.root)
        self.check_repository()

        previous = Path.cwd()
        os.chdir(self.root)
        try:
            with environment(**self.identity()):
                yield
        finally:
            os.chdir(previous)

    def check_repository(self) -> None:
        if run_git(["rev-parse", "--git-dir"], cwd=self.root, check=False).returncode != 0:
            raise PublishError(
                f"{self.root}: not inside a git repository, so there is no branch to "
                "publish to (run `git init`, or publish into a plain folder with --folder DIR)"
            )

    def identity(self) -> dict[str, str]:
        """The committer mike writes: git's own setting, else a kpisite default (CI)."""
        values = {}
        for key, variable, default in zip(
            ("user.name", "user.email"),
            ("GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"),
            DEFAULT_IDENTITY,
            strict=True,
        ):
            configured = run_git(["config", key], cwd=self.root, check=False).stdout.strip()
            if not os.environ.get(variable) and not configured:
                values[variable] = default
        return values

    # Reading.

    def versions(self):
        from mike import commands

        return commands.list_versions(self.branch)

    def latest(self) -> str | None:
        found = self.versions().find(LATEST)
        return found[0] if found else None

    def is_current(self, version: Version) -> bool:
        """True when the branch holds this version built from the same inputs."""
        versions = self.versions()
        if versions.find(version.period) != (version.period,):
            return False
        properties = versions[version.period].properties or {}
        return properties.get("inputs") == version.inputs

    def aliases_for(self, version: Version) -> list[str]:
        """`latest` for the newest period; a restatement of an older one keeps it away."""
        from kpi.periods import PeriodError, parse_period

        starts = []
        for info in self.versions():
            # Versions that are not periods (a hand-made "dev") do not compete for latest.
            with contextlib.suppress(PeriodError):
                period = parse_period(str(info.version))
                starts.append((period.first, period.end_date))
        mine = parse_period(version.period)
        return [LATEST] if all((mine.first, mine.end_date) >= start for start in starts) else []

    # Writing.

    def deploy(
        self, site_dir: Path, version: Version, directory_urls: bool, attempts: int
    ) -> Outcome:
        """Commit the built site as the version, then push, retrying on a moved remote."""
        for attempt in range(1, attempts + 1):
            changed = self.commit(site_dir, version, directory_urls)
            if not self.push:
                return Outcome(version.period, version.title, changed, self.latest(), False, 1)
            if self.try_push(attempt, attempts):
                return Outcome(version.period, version.title, changed, self.latest(), True, attempt)
            self.fetch()
            self.reset_to_remote()
        raise AssertionError("unreachable: the last attempt raises")  # pragma: no cover

    def commit(self, site_dir: Path, version: Version, directory_urls: bool) -> bool:
        """Write the version, its aliases, versions.json and the root redirect."""
        from mike import commands
        from mike.git_utils import GitEmptyCommit

        aliases = self.aliases_for(version)
        config = {"site_dir": str(site_dir), "use_directory_urls": directory_urls}
        message = f"Publish {version.period} ({version.title}) from {version.commit or 'no commit'}"
        changed = True
        try:
            with commands.deploy(
                config,
                version.period,
                version.title,
                aliases,
                update_aliases=True,
                alias_type=commands.AliasType.redirect,
                branch=self.branch,
                message=message,
                set_props=[("", version.properties())],
            ):
                pass
        except GitEmptyCommit:
            changed = False

        with contextlib.suppress(GitEmptyCommit):
            commands.set_default(LATEST, branch=self.branch, message="Redirect the root to latest")
        shown = ", ".join(aliases) or "none"
        log.info("Deployed %s to %s (aliases: %s)", version.period, self.label, shown)
        return changed

    def push_pending(self) -> bool:
        """Push a local branch the remote does not have yet (committed without --push)."""
        from mike.git_utils import has_branch

        if not self.push or not has_branch(self.branch):
            return False
        if has_branch(f"{self.remote}/{self.branch}"):
            return False  # sync() reset the local branch to it: nothing is pending.
        return self.try_push(1, 1)

    def try_push(self, attempt: int, attempts: int) -> bool:
        result = run_git(["push", "--quiet", "--", self.remote, self.branch], check=False)
        if result.returncode == 0:
            return True
        if not is_rejection(result.stderr) or attempt == attempts:
            raise PublishError(
                f"git push {self.remote} {self.branch} failed after {attempt} attempt(s): "
                f"{result.stderr.strip()}"
            )
        log.warning(
            "Push to %s/%s rejected: another publisher moved it; redeploying on top "
            "(attempt %d of %d)",
            self.remote,
            self.branch,
            attempt + 1,
            attempts,
        )
        return False

    # Keeping up with the remote.

    def sync(self) -> None:
        """Fetch the remote branch and bring the local one to it.

        When pushing, the remote is the truth: the local branch is reset to it, and a
        version found only in local commits is published again.
        """
        from mike.git_utils import GitBranchDiverged, GitRevUnrelated, update_from_upstream

        if not self.fetch():
            return
        if self.push:
            self.reset_to_remote()
            return
        try:
            update_from_upstream(self.remote, self.branch)
        except (GitBranchDiverged, GitRevUnrelated) as error:
            raise PublishError(
                f"{self.root}: {error} (publish with --push to rebuild on top of the "
                f"remote branch, or delete the local branch: git branch -D {self.branch})"
            ) from None

    def fetch(self) -> bool:
        """Fetch remote/branch; False when there is no remote or no such branch yet."""
        if not self.remote or self.remote not in self.remotes():
            if self.push:
                raise PublishError(
                    f"{self.root}: no git remote named {self.remote!r} to push to "
                    f"(known: {', '.join(self.remotes()) or 'none'}; pass --remote NAME)"
                )
            return False

        refspec = f"+refs/heads/{self.branch}:refs/remotes/{self.remote}/{self.branch}"
        # A shallow CI checkout stays shallow: the branch's history is not needed.
        depth = ["--depth=1"] if self.is_shallow() else []
        result = run_git(["fetch", "--quiet", *depth, self.remote, refspec], check=False)
        if result.returncode != 0:
            if "couldn't find remote ref" in result.stderr:
                return False
            raise PublishError(f"git fetch {self.remote} {self.branch} failed: {result.stderr}")
        return True

    def reset_to_remote(self) -> None:
        from mike.git_utils import get_latest_commit, has_branch, update_ref

        remote_branch = f"{self.remote}/{self.branch}"
        if has_branch(remote_branch):
            update_ref(self.branch, get_latest_commit(remote_branch))
        elif has_branch(self.branch):
            run_git(["branch", "--delete", "--force", "--", self.branch])

    def remotes(self) -> list[str]:
        return run_git(["remote"]).stdout.split()

    def is_shallow(self) -> bool:
        return run_git(["rev-parse", "--is-shallow-repository"]).stdout.strip() == "true"

    # The plain-folder mode.

    def import_folder(self, folder: Path) -> None:
        """Commit the folder's current tree to the branch (the starting point)."""
        from mike import git_utils

        if not (folder / "versions.json").is_file():
            if folder.is_dir() and any(folder.iterdir()):
                raise PublishError(
                    f"{folder}: not empty and holds no versions.json, so it is not a folder "
                    "of published versions; refusing to overwrite it (name an empty folder)"
                )
            return
        with git_utils.Commit(self.branch, "Import the published folder") as commit:
            for info in git_utils.walk_real_files(str(folder)):
                commit.add_file(info.copy("", str(folder)))

    def export_folder(self, folder: Path) -> None:
        """Make the folder hold exactly the branch's tree, touching unchanged files not."""
        from mike import git_utils

        wanted = {}
        for info in git_utils.walk_files(self.branch):
            wanted[Path(info.path).as_posix()] = info.data

        folder.mkdir(parents=True, exist_ok=True)
        for path in visible_or_hidden_files(folder):
            name = path.relative_to(folder).as_posix()
            if name not in wanted:
                path.unlink()
        for name, data in wanted.items():
            path = folder / name
            if not path.is_file() or path.read_bytes() != data:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
        remove_empty_folders(folder)


def visible_or_hidden_files(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file() or path.is_symlink()]


def remove_empty_folders(folder: Path) -> None:
    for path in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_dir() and not any(path.iterdir()):
            shutil.rmtree(path)


def is_rejection(stderr: str) -> bool:
    """A push refused because the remote moved (or a concurrent ref update won)."""
    markers = ("rejected", "fetch first", "non-fast-forward", "cannot lock ref", "stale info")
    return any(marker in stderr for marker in markers)


def run_git(
    args: list[str], cwd: Path | None = None, check: bool = True
) -> subprocess.CompletedProcess:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise PublishError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result
