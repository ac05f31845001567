"""Publishing: one version of the report site per period, deployed with mike.

`publish()` builds the site of a period into a temporary folder, then commits it to a git
branch (gh-pages by default) as the version named by the period key (`2026-11`), titled
in the site language ("Novembre 2026"). The alias `latest` follows the newest period and
the branch root redirects to it; aliases are redirect pages, never symbolic links, which
GitHub Pages rejects. `publish_to_folder()` writes the same tree to a plain folder,
holding a lock on it so that concurrent publishers take turns.

Each version records in `versions.json` its period, a fingerprint of the extract files,
the time it was built, the project commit, and a hash of everything the build read
(`inputs`). Republishing a version whose inputs did not change is skipped before
building, so it changes nothing on the branch even though the footer's build time would.

The steps run in this order on purpose: the cheap refusals first (a branch name git would
not take, a branch holding the project's sources, local versions a push would drop), then
the build (a failing build touches no branch), then the commit with mike's git helpers,
then the push; a push rejected because another publisher moved the branch is redone on top
of the new branch tip after a short random pause, so neither version is lost.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import logging
import os
import random
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kpi.errors import KpisiteError
from kpi.project import PeriodRequest, Project, requested_period
from site_builder.build import (
    check_output_folder,
    environment,
    git_head,
    read_mkdocs_config,
    stopped_cleanly,
)
from site_builder.plugin import PLACEHOLDER_URL

try:
    import fcntl
except ImportError:  # Windows (not a target): the folder mode then runs without its lock.
    fcntl = None

log = logging.getLogger(__name__)

LATEST = "latest"
# mike's record of the versions, at the root of the branch.
VERSIONS_FILE = "versions.json"
DEFAULT_REMOTE = "origin"
PUSH_ATTEMPTS = 8
# Commits a shallow clone fetches at a time when it looks below the remote branch's tip.
DEEPEN_STEP = 32
# The pause before push attempt n+1: 0.5 s * 2^(n-1), capped, plus up to 0.5 s at random,
# so that publishers rejected together do not all retry together.
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
DEFAULT_IDENTITY = ("kpisite", "kpisite@localhost")
# How many uncommitted files the warning about a dirty working tree names.
DIRTY_SHOWN = 5
# Nouns of the grains a version is not.
GRAIN_NOUNS = {"day": "a day", "week": "a week", "quarter": "a quarter", "year": "a year"}

# The pause between push attempts (tests replace it).
sleep = time.sleep

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
    # True when `latest` was pointed back at the newest period (its version was deleted).
    repaired: bool = False


def publish(
    project: Project,
    period: str | None = None,
    *,
    branch: str = "gh-pages",
    remote: str | None = None,
    push: bool = False,
    builder: Builder | None = None,
    attempts: int = PUSH_ATTEMPTS,
) -> Outcome:
    """Build the site of `period` and deploy it as a version on the git branch `branch`.

    The project folder must be inside a git repository (the branch lives there). With
    `push`, the branch is pushed to `remote` (default origin), retrying on top of a
    concurrent publisher. Refused before anything is built: a bad branch name, a branch
    holding the project's own history, local versions a push would drop.
    """
    check_branch_name(branch, project.root)
    target = Branch(
        project.root, branch, remote or DEFAULT_REMOTE, push, remote_given=remote is not None
    )

    with stopped_cleanly(), target.session():
        target.check_not_source()
        request = resolve_period(project, period)
        version = describe(project, request.text)
        target.sync()
        directory_urls = use_directory_urls(project)
        if target.is_current(version):
            log.info("%s is up to date on %s: nothing to build", version.period, branch)
            return target.keep(version, directory_urls, attempts)

        with tempfile.TemporaryDirectory(prefix="kpisite-publish-") as scratch:
            site_dir = build(project, version, Path(scratch) / "site", builder, request.source)
            return target.deploy(
                version, lambda: target.commit(site_dir, version, directory_urls), attempts
            )


def publish_to_folder(
    project: Project, folder: str | os.PathLike, period: str | None = None, *, builder=None
) -> Outcome:
    """Deploy the version of `period` into a plain folder served by any web server.

    The folder gets the same tree as the branch (versions.json, one folder per period,
    `latest/` redirects, a root index.html): it is imported into a scratch git repository,
    deployed there with the same code as the branch, and written back. The folder is
    locked from the import to the export: a second publisher waits, then deploys on top.
    """
    folder = Path(folder).resolve()
    harm = "publishing replaces what it holds"
    check_output_folder(project, folder, "the publishing folder", harm, "public")
    request = resolve_period(project, period)
    version = describe(project, request.text)
    directory_urls = use_directory_urls(project)

    # Stopped by a signal, the scratch repository is removed and the lock released.
    with (
        stopped_cleanly(),
        folder_lock(folder),
        tempfile.TemporaryDirectory(prefix="kpisite-folder-") as scratch,
    ):
        repo = Path(scratch) / "repo"
        target = Branch(repo, "site", remote=None, push=False, label=f"folder {folder}")
        with target.session(init=True):
            target.import_folder(folder)
            if target.is_current(version):
                outcome = target.keep(version, directory_urls, 1)
            else:
                site_dir = build(project, version, Path(scratch) / "site", builder, request.source)
                outcome = target.deploy(
                    version, lambda: target.commit(site_dir, version, directory_urls), 1
                )
            target.export_folder(folder)
            return outcome


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on `folder` while publishing into it, so that concurrent
    publishers take turns instead of each exporting its own view (the last would win).

    The lock is flock(2) on the folder itself: no lock file to be served or left behind,
    and the system releases it when the process ends, even killed.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(folder, os.O_RDONLY) if fcntl else None
    except OSError as error:
        raise PublishError(
            f"{folder}: cannot create or open the publishing folder ({error.strerror}); "
            "check that it can be written"
        ) from None
    try:
        if descriptor is not None:
            wait_for_lock(descriptor, folder)
        yield
    finally:
        if descriptor is not None:
            os.close(descriptor)  # releases the lock


def wait_for_lock(descriptor: int, folder: Path) -> None:
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        log.info("%s: another publisher is writing to it; waiting for it to finish", folder)
        fcntl.flock(descriptor, fcntl.LOCK_EX)


# Checks before anything is built.


def check_branch_name(name: str, cwd: Path) -> None:
    """Refuse a name git would not take for a branch, or would read as something else."""
    problem = branch_name_problem(name, cwd)
    if problem:
        raise PublishError(
            f"--branch {name!r}: {problem} (versions live on a branch of their own, "
            "e.g. --branch gh-pages)"
        )


def branch_name_problem(name: str, cwd: Path) -> str | None:
    if not name.strip():
        return "a branch name cannot be empty"
    if name.startswith("-"):
        return "a branch name cannot start with '-' (git would read it as an option)"
    if name.startswith("refs/"):
        return "give the branch name alone, without refs/heads/"
    if name in ("HEAD", "@"):
        return f"{name} names the checked-out commit, not a branch"
    # --branch also expands @{-1} and the like: the name must come back unchanged.
    result = run_git(["check-ref-format", "--branch", name], cwd=cwd, check=False)
    if result.returncode != 0 or result.stdout.strip() != name:
        return (
            "not a valid git branch name (no spaces, '..', '~', '^', ':', '?', '*', '[', "
            "'\\' or '@{'; no part starting with '.' or ending with '.lock'; "
            "see git check-ref-format)"
        )
    return None


# The version: period, title, fingerprints.


def resolve_period(project: Project, period: str | None) -> PeriodRequest:
    """The month to publish and where it was asked for: given, else KPISITE_PERIOD or the
    `period` setting, else the last complete month of the extract. A version is one
    month: other grains are refused."""
    request = requested_period(project, period)
    if request is None:
        from kpi.engine import Workbook

        book = Workbook(project)
        try:
            month = book.default_period("month").key
        finally:
            book.close()
        return PeriodRequest(month, "the last complete month")

    parsed = request.read(project)
    if parsed.grain != "month":
        month = parsed.first.strftime("%Y-%m")
        raise PublishError(
            f"{request.source} {request.text!r}: a version is one month (YYYY-MM), and this "
            f"is {GRAIN_NOUNS.get(parsed.grain, parsed.grain)} (publish a month, e.g. {month}, "
            "the month it starts in)"
        )
    return PeriodRequest(parsed.key, request.source)


def describe(project: Project, period: str) -> Version:
    """The record of the version about to be built (before the build: it is cheap)."""
    from kpi.periods import parse_period

    settings = project.settings
    extract = extract_files(project)
    return Version(
        period=period,
        title=parse_period(period, settings.timezone, settings.locale).label,
        fingerprint=content_hash(extract, project.root),
        inputs=content_hash(
            input_files(project, extract), project.root, salt=period + tool_fingerprint()
        ),
        built_at=built_at(),
        commit=os.environ.get("KPISITE_COMMIT") or project_commit(project, extract),
    )


def extract_fingerprint(project: Project, extract=None, memo=None) -> str:
    """The fingerprint of the extract that every footer shows and versions.json records:
    `kpisite build` and `kpisite publish` compute it here, over the same files, so a
    preview can be matched to a published version. `extract` is an open kpi Extract;
    `memo`, a kpi DiskCache that spares re-reading files whose stat did not change."""
    return content_hash(extract_files(project, extract), project.root, memo=memo)


def extract_files(project: Project, extract=None) -> list[Path]:
    """Every file the KPI values are computed from: the extract folder's files and the raw
    files a mapping reads (kpi.mapping), wherever they are."""
    if extract is None:
        from kpi.extract import Extract

        extract = Extract(project)
    return sorted({*visible_files(project.data_dir), *extract.all_files()})


def input_files(project: Project, extract: list[Path] | None = None) -> list[Path]:
    """Everything of the project a build reads: extract, pages, mkdocs.yml, catalogs."""
    files = [project.config_file, *(extract_files(project) if extract is None else extract)]
    files += visible_files(project.docs_dir)
    files += [project.path(catalog) for catalog in project.settings.catalogs]
    return [path for path in files if path.is_file()]


def built_at() -> str:
    """When the version is built: KPISITE_BUILT_AT (a reproducible build), else now."""
    given = os.environ.get("KPISITE_BUILT_AT")
    if not given:
        return now_iso()
    try:
        datetime.fromisoformat(given)
    except ValueError:
        raise PublishError(
            f"KPISITE_BUILT_AT={given!r}: not an ISO 8601 time (e.g. 2026-12-04T06:05:00+00:00)"
        ) from None
    return given


def project_commit(project: Project, extract: list[Path]) -> str | None:
    """The project's HEAD commit, as `<sha>-dirty` when what the build reads has changes
    not committed: the version must not claim a commit that does not hold its pages."""
    head = git_head(project.root)
    if head is None:
        return None
    changed = uncommitted_files(project, extract)
    if not changed:
        return head
    shown = ", ".join(changed[:DIRTY_SHOWN])
    if len(changed) > DIRTY_SHOWN:
        shown += f" and {len(changed) - DIRTY_SHOWN} more"
    log.warning(
        "%s: uncommitted changes in %s; the version records commit %s-dirty "
        "(commit them first for a version that can be traced to a commit)",
        project.root,
        shown,
        head[:12],
    )
    return f"{head}-dirty"


def uncommitted_files(project: Project, extract: list[Path]) -> list[str]:
    """The files a build reads that git sees modified, added, deleted or untracked."""
    top = run_git(["rev-parse", "--show-toplevel"], cwd=project.root, check=False)
    if top.returncode != 0:
        return []
    inside = Path(top.stdout.strip()).resolve()
    folders = [project.data_dir, project.docs_dir]
    paths = [project.config_file, *folders]
    paths += [project.path(catalog) for catalog in project.settings.catalogs]
    # Raw files a mapping reads from elsewhere in the repository (a lookup table).
    paths += [path for path in extract if not any(path.is_relative_to(f) for f in folders)]
    specs = [str(path) for path in paths if path.resolve().is_relative_to(inside)]

    status = run_git(
        ["--literal-pathspecs", "status", "--porcelain", "-z", "--untracked-files=all", "--"]
        + specs,
        cwd=project.root,
        check=False,
    )
    return sorted(porcelain_paths(status.stdout)) if status.returncode == 0 else []


def porcelain_paths(output: str) -> list[str]:
    """The paths of `git status --porcelain -z` (a rename's second field is its origin)."""
    paths, records = [], iter(output.split("\0"))
    for record in records:
        if len(record) > 3:
            paths.append(record[3:])
            if record[0] in "RC":
                next(records, None)
    return paths


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


def content_hash(files: Iterable[Path], root: Path, salt: str = "", memo=None) -> str:
    """A short hash of the files' names and bytes (not their mtimes: a fresh CI checkout
    gives every file a new mtime, and that must not republish every version)."""
    digest = hashlib.sha256(salt.encode())
    for path in files:
        # Raw files outside the project (shared data) are named alone: where they are
        # mounted must not change the hash.
        inside = path.resolve().is_relative_to(root.resolve())
        name = path.relative_to(root).as_posix() if inside else path.name
        digest.update(f"\0{name}\0{file_digest(path, memo)}".encode())
    return digest.hexdigest()[:16]


def file_digest(path: Path, memo=None) -> str:
    """The SHA-256 of a file's bytes. With `memo` (a kpi DiskCache), a file whose size,
    mtime and inode did not change since it was last read is not read again: `kpisite
    serve` rebuilds on every page edit, and an extract can weigh gigabytes."""
    stat = path.stat()
    key = f"file-digest:{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ino}"
    if memo is not None:
        known = memo.get_many([key]).get(key)
        if known:
            return known

    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    if memo is not None:
        memo.put_many({key: digest.hexdigest()})
    return digest.hexdigest()


def use_directory_urls(project: Project) -> bool:
    return read_mkdocs_config(project).get("use_directory_urls", True) is not False


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def time_label(project: Project, moment: str | None) -> str | None:
    """An ISO time as the footer shows it, in the reporting zone and locale, formatted
    like the extraction time: "4 décembre 2026 à 07:05". None when it cannot be read."""
    from site_builder import formats

    try:
        parsed = datetime.fromisoformat(moment or "")
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return formats.timestamp(parsed.astimezone(project.zone), project.settings.locale)


# The build.


def build(
    project: Project,
    version: Version,
    site_dir: Path,
    builder: Builder | None,
    source: str = "--period",
) -> Path:
    """Build the site of the version into `site_dir`; any failure publishes nothing.
    `source` is where the period was asked for, for the errors of the build to name."""
    builder = builder or build_with_kpisite
    overrides = {
        "KPISITE_PERIOD": version.period,
        "KPISITE_PERIOD_SOURCE": source,
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
    home = (site_dir / "index.html").read_text(encoding="utf-8")
    if '"provider": "mike"' not in home:
        log.warning(
            "%s: the built pages have no version selector (set extra.version.provider: mike "
            "in mkdocs.yml)",
            project.config_file,
        )
    if PLACEHOLDER_URL in home:
        # The plugin's stand-in for a site_url nobody gave: right for a preview, wrong for
        # every reader of a published site (canonical links, sitemap, instant navigation).
        log.warning(
            "%s: no site_url and no KPISITE_SITE_URL: the published pages name %s as their "
            "address (set site_url in mkdocs.yml, or KPISITE_SITE_URL, to where the versions "
            "are served, e.g. https://reports.example.org/ or https://OWNER.github.io/REPOSITORY/)",
            project.config_file,
            PLACEHOLDER_URL,
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

    from site_builder import formats

    config = load_config(str(project.config_file), site_dir=str(site_dir), strict=True)
    config.extra.setdefault("version", {"provider": "mike", "default": LATEST})
    config.extra.setdefault(
        "kpisite",
        {
            # The theme partials' words, in the project's language, as the plugin sets them.
            "words": formats.words(project.settings.locale),
            "period": period,
            "period_label": describe_label(project, period),
            "fingerprint": os.environ.get("KPISITE_FINGERPRINT"),
            "built_at": os.environ.get("KPISITE_BUILT_AT"),
            "built_label": time_label(project, os.environ.get("KPISITE_BUILT_AT")),
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
        self,
        root: Path,
        branch: str,
        remote: str | None,
        push: bool,
        label: str | None = None,
        remote_given: bool = True,
    ):
        self.root = Path(root)
        self.branch = branch
        self.remote = remote
        self.push = push
        # What the log calls the destination: the branch, or the folder written from it.
        self.label = label or f"branch {branch}"
        # False when the remote is the default one: its absence is then no surprise.
        self.remote_given = remote_given

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

    # Refusing a branch of sources.

    def check_not_source(self) -> None:
        """Refuse a branch that holds the project's sources: mike would commit the site
        onto it, and --push would reset it to the remote, losing unpushed work."""
        owner = next((r for r in self.remotes() if self.branch.startswith(f"{r}/")), None)
        if owner or ref_exists(f"refs/remotes/{self.branch}"):
            local = self.branch.split("/", 1)[1] if owner else self.branch
            raise PublishError(
                f"{self.root}: --branch {self.branch!r} names a remote-tracking branch; "
                f"name the local branch, e.g. --branch {local} (--push pushes it to "
                f"--remote {owner or self.remote})"
            )

        checked_out = checked_out_branches()
        if self.branch in checked_out:
            self.refuse(f"it is the branch checked out in {checked_out[self.branch]}")
        self.check_own_history(f"refs/heads/{self.branch}")

    def check_own_history(self, ref: str) -> None:
        """A branch of versions starts from nothing (an orphan): one sharing commits
        with the project's HEAD is a branch of sources."""
        if ref_exists(ref) and run_git(["merge-base", "HEAD", ref], check=False).returncode == 0:
            self.refuse(f"{ref} shares history with the project's HEAD, so it holds sources")

    def refuse(self, reason: str) -> None:
        raise PublishError(
            f"{self.root}: refusing to publish to branch {self.branch!r}: {reason}, and "
            "publishing would commit the site onto it (and --push would reset it to the "
            "remote); publish to a branch of its own, e.g. --branch gh-pages"
        )

    # Reading.

    def versions(self):
        from mike import git_utils
        from mike.versions import Versions

        try:
            text = git_utils.read_file(self.branch, VERSIONS_FILE, universal_newlines=True)
        except git_utils.GitError:
            return Versions()  # no branch, or no version on it yet
        return read_versions(
            text,
            f"{self.branch}:{VERSIONS_FILE} ({self.label})",
            "fix it with a commit on the branch, or restore it from an earlier commit",
        )

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

    def newest(self, also: str | None = None) -> str | None:
        """The newest month among the versions (and `also`): the one `latest` follows.
        Versions that are not months (a hand-made "dev") do not compete for it."""
        names = [str(info.version) for info in self.versions()]
        return max((name for name in [*names, also] if is_month(name)), default=None)

    def aliases_for(self, version: Version) -> list[str]:
        """`latest` for the newest period; a restatement of an older one keeps it away."""
        return [LATEST] if self.newest(also=version.period) == version.period else []

    # Writing.

    def deploy(self, version: Version, change: Callable[[], bool], attempts: int) -> Outcome:
        """Make the change (it says whether the version changed), then push, redoing the
        change on top of the remote when another publisher moved it."""
        for attempt in range(1, attempts + 1):
            changed = change()
            if not self.push:
                return Outcome(version.period, version.title, changed, self.latest(), False, 1)
            if self.try_push(attempt, attempts):
                return Outcome(version.period, version.title, changed, self.latest(), True, attempt)
            sleep(backoff(attempt))
            self.fetch()
            self.reset_to_remote()
        raise AssertionError("unreachable: the last attempt raises")  # pragma: no cover

    def keep(self, version: Version, directory_urls: bool, attempts: int) -> Outcome:
        """The version is on the branch already: nothing to build, but `latest` may need
        repairing (the newest version was deleted) and a local branch pushing."""
        if self.latest() == self.newest():
            pushed = self.push_pending()
            return Outcome(version.period, version.title, False, self.latest(), pushed)

        def repair() -> bool:
            self.point_latest(directory_urls)
            return False  # the version itself did not change

        return dataclasses.replace(self.deploy(version, repair, attempts), repaired=True)

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

        self.point_latest(directory_urls)
        shown = ", ".join(aliases) or "none"
        log.info("Deployed %s to %s (aliases: %s)", version.period, self.label, shown)
        return changed

    def point_latest(self, directory_urls: bool) -> bool:
        """Make `latest` redirect to the newest month, and the root to `latest`. Needed
        beyond a deploy when the version holding `latest` was deleted (`mike delete`)."""
        from mike import commands
        from mike.git_utils import GitEmptyCommit

        newest, previous = self.newest(), self.latest()
        if newest is None:
            return False
        moved = False
        if previous != newest:
            try:
                commands.alias(
                    {"use_directory_urls": directory_urls},
                    newest,
                    [LATEST],
                    update_aliases=True,
                    alias_type=commands.AliasType.redirect,
                    branch=self.branch,
                    message=f"Point latest at {newest}, the newest period",
                )
            except GitEmptyCommit:
                pass
            else:
                moved = True
                log.warning(
                    "latest on %s pointed at %s; it now points at %s, the newest period",
                    self.label,
                    previous or "no version",
                    newest,
                )
        with contextlib.suppress(GitEmptyCommit):
            commands.set_default(LATEST, branch=self.branch, message="Redirect the root to latest")
        return moved

    def push_pending(self) -> bool:
        """Push a local branch the remote does not have yet (committed without --push)."""
        from mike.git_utils import has_branch

        if not self.push or not has_branch(self.branch):
            return False
        if ref_exists(f"refs/remotes/{self.remote}/{self.branch}"):
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

        When pushing, the remote is the truth: the local branch is reset to it, once it
        is known to hold no version the remote lacks (those are never dropped silently).
        """
        from mike.git_utils import GitBranchDiverged, GitRevUnrelated, update_from_upstream

        if not self.fetch():
            return
        self.check_own_history(f"refs/remotes/{self.remote}/{self.branch}")
        if self.push:
            self.check_nothing_unpushed()
            self.reset_to_remote()
            return
        try:
            update_from_upstream(self.remote, self.branch)
        except (GitBranchDiverged, GitRevUnrelated) as error:
            raise PublishError(
                f"{self.root}: {error} (publish with --push to rebuild on top of the "
                f"remote branch, or delete the local branch: git branch -D {self.branch})"
            ) from None

    def check_nothing_unpushed(self) -> None:
        """Refuse to push when the local branch has commits the remote branch lacks
        (versions published without --push): resetting to the remote would drop them."""
        local, remote = f"refs/heads/{self.branch}", f"refs/remotes/{self.remote}/{self.branch}"
        if not (ref_exists(local) and ref_exists(remote)):
            return
        ahead = self.unpushed(local, remote)
        if not ahead:
            return
        behind = count_commits(f"{local}..{remote}")
        tracking = f"{self.remote}/{self.branch}"
        found = (
            f"{self.root}: the local branch {self.branch} has {ahead} commit(s) that "
            f"{tracking} does not have (versions published without --push)"
        )
        drop = f"git branch -f {self.branch} {tracking}"
        if behind:
            raise PublishError(
                f"{found}, and {tracking} has {behind} commit(s) it lacks; publishing with "
                f"--push would drop the local ones. Drop them with `{drop}` and publish "
                "those periods again with --push (or merge the two branches by hand)"
            )
        raise PublishError(
            f"{found}; publishing with --push would drop them. Push them first with "
            f"`git push {self.remote} {self.branch}`, or drop them with `{drop}`, then "
            "publish again"
        )

    def unpushed(self, local: str, remote: str) -> int:
        """How many commits of `local` the remote branch lacks. A shallow clone fetches
        the remote's tip alone: the versions it pushed itself before another publisher
        moved the branch sit below that tip, out of sight, until its history is fetched
        deeper, a step at a time, as far as it goes."""
        ahead = count_commits(f"{remote}..{local}")
        refspec = f"+refs/heads/{self.branch}:{remote}"
        while ahead and self.is_shallow():
            known = count_commits(remote)
            deepen = f"--deepen={DEEPEN_STEP}"
            run_git(["fetch", "--quiet", deepen, self.remote, refspec], check=False)
            if count_commits(remote) == known:
                break  # the whole history is here: what is left is really unpushed
            ahead = count_commits(f"{remote}..{local}")
        return ahead

    def fetch(self) -> bool:
        """Fetch remote/branch; False when there is no remote, no such branch yet, or
        (without --push, which only commits locally) the remote cannot be reached."""
        if not self.remote or self.remote not in self.remotes():
            known = ", ".join(self.remotes()) or "none"
            if self.push:
                raise PublishError(
                    f"{self.root}: no git remote named {self.remote!r} to push to "
                    f"(known: {known}; pass --remote NAME)"
                )
            if self.remote_given:
                log.warning(
                    "%s: no git remote named %r (known: %s): publishing to the local "
                    "branch %s only",
                    self.root,
                    self.remote,
                    known,
                    self.branch,
                )
            return False

        refspec = f"+refs/heads/{self.branch}:refs/remotes/{self.remote}/{self.branch}"
        # A shallow CI checkout stays shallow: the branch's history is not needed.
        depth = ["--depth=1"] if self.is_shallow() else []
        result = run_git(["fetch", "--quiet", *depth, self.remote, refspec], check=False)
        if result.returncode == 0:
            return True
        if "couldn't find remote ref" in result.stderr:
            return False
        if not self.push:
            log.warning(
                "git fetch %s %s failed (%s): publishing to the local branch only, which "
                "may be behind the remote",
                self.remote,
                self.branch,
                first_line(result.stderr),
            )
            return False
        raise PublishError(f"git fetch {self.remote} {self.branch} failed: {result.stderr.strip()}")

    def reset_to_remote(self) -> None:
        from mike.git_utils import get_latest_commit, update_ref

        remote_branch = f"refs/remotes/{self.remote}/{self.branch}"
        if ref_exists(remote_branch):
            update_ref(self.branch, get_latest_commit(remote_branch))
        elif ref_exists(f"refs/heads/{self.branch}"):
            run_git(["branch", "--delete", "--force", "--", self.branch])

    def remotes(self) -> list[str]:
        return run_git(["remote"], cwd=self.root).stdout.split()

    def is_shallow(self) -> bool:
        return run_git(["rev-parse", "--is-shallow-repository"]).stdout.strip() == "true"

    # The plain-folder mode.

    def import_folder(self, folder: Path) -> None:
        """Commit the folder's current tree to the branch (the starting point)."""
        from mike import git_utils

        if not (folder / VERSIONS_FILE).is_file():
            if folder.is_dir() and any(folder.iterdir()):
                raise PublishError(
                    f"{folder}: not empty and holds no versions.json, so it is not a folder "
                    "of published versions; refusing to overwrite it (name an empty folder)"
                )
            return
        check_versions_file(folder / VERSIONS_FILE)
        with git_utils.Commit(self.branch, "Import the published folder") as commit:
            for info in git_utils.walk_real_files(str(folder)):
                commit.add_file(info.copy("", str(folder)))

    def export_folder(self, folder: Path) -> None:
        """Make the folder hold exactly the branch's tree, touching unchanged files not
        (and keeping a `.git`: see published)."""
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


def check_versions_file(path: Path) -> None:
    """A versions.json mike can read, or a clean error naming it (it is never replaced)."""
    fix = "fix it or restore it, kpisite does not overwrite it"
    read_versions(path.read_text(encoding="utf-8"), str(path), fix)


def read_versions(text: str, where: str, fix: str):
    """A versions.json as mike's Versions, or a PublishError naming `where`, what is wrong
    and how to `fix` it. Its shape is checked first: mike reads `"aliases": "latest"` as
    the aliases l, a, t, e, s, and a string as the properties fails later, in a build."""
    from mike.versions import Versions

    try:
        data = json.loads(text)
        problem = versions_problem(data)
        if problem is None:
            return Versions.from_json(data)
    except (ValueError, KeyError, TypeError) as error:
        problem = f"not a list of versions mike can read ({type(error).__name__}: {error})"
    raise PublishError(f"{where}: {problem}; {fix}")


def versions_problem(data) -> str | None:
    """What makes a parsed versions.json unlike the list mike writes, or None."""
    if not isinstance(data, list):
        return f"expected a list of versions, got {json.dumps(data)[:40]}"
    for index, entry in enumerate(data, 1):
        if not isinstance(entry, dict):
            return f"entry {index}: expected an object, got {json.dumps(entry)[:40]}"
        problem = entry_problem(entry)
        if problem:
            return f"entry {index} (version {json.dumps(entry.get('version'))}): {problem}"
    return None


def entry_problem(entry: dict) -> str | None:
    """What is wrong with one version of versions.json, field by field, or None."""
    version, title, aliases = entry.get("version"), entry.get("title"), entry.get("aliases")
    if not isinstance(version, str) or not version:
        return f'"version": expected a name such as "2026-11", got {json.dumps(version)}'
    if "title" not in entry or not isinstance(title, str | None):
        return f'"title": expected a string, got {json.dumps(title)}'
    if not isinstance(aliases, list) or not all(isinstance(alias, str) for alias in aliases):
        hint = f" (write [{json.dumps(aliases)}])" if isinstance(aliases, str) else ""
        return f'"aliases": expected a list of names, got {json.dumps(aliases)}{hint}'
    if not isinstance(entry.get("properties"), dict | None):
        return f'"properties": expected an object, got {json.dumps(entry["properties"])[:40]}'
    return None


def is_month(name: str | None) -> bool:
    """True for a version named by a month (2026-11): the only grain a version has."""
    from kpi.periods import PeriodError, parse_period

    if not name:
        return False
    try:
        period = parse_period(name)
    except PeriodError:
        return False
    return period.grain == "month" and period.key == name


def backoff(attempt: int) -> float:
    """Seconds to wait after push attempt `attempt` was rejected."""
    return min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1)) + random.uniform(0, BACKOFF_BASE)


def checked_out_branches() -> dict[str, str]:
    """The branches checked out in any worktree of the repository, with its path."""
    listing = run_git(["worktree", "list", "--porcelain"], check=False).stdout
    found, path = {}, ""
    for line in listing.splitlines():
        if line.startswith("worktree "):
            path = line.removeprefix("worktree ")
        elif line.startswith("branch refs/heads/"):
            found[line.removeprefix("branch refs/heads/")] = path
    return found


def first_line(stderr: str) -> str:
    """git's own reason, without the advice paragraphs it adds after it."""
    return next((line.strip() for line in stderr.splitlines() if line.strip()), "no message")


def ref_exists(ref: str) -> bool:
    return run_git(["rev-parse", "--verify", "--quiet", ref], check=False).returncode == 0


def count_commits(revisions: str) -> int:
    return int(run_git(["rev-list", "--count", revisions]).stdout.strip() or 0)


def visible_or_hidden_files(folder: Path) -> list[Path]:
    return [path for path in published(folder) if path.is_file() or path.is_symlink()]


def remove_empty_folders(folder: Path) -> None:
    for path in sorted(published(folder), key=lambda p: len(p.parts), reverse=True):
        if path.is_dir() and not any(path.iterdir()):
            shutil.rmtree(path)


def published(folder: Path) -> list[Path]:
    """Everything under the folder but a `.git` (the folder is a clone), which mike's
    import skips as well: the branch never holds it, and exporting must not delete it."""
    return [path for path in folder.rglob("*") if ".git" not in path.relative_to(folder).parts]


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
