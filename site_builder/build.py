"""Building the report site of a project: the contract check, then mkdocs with the plugin."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from kpi.errors import ConfigError, DirectiveError, KpisiteError, Problem
from kpi.project import (
    PERIOD_SOURCE_VARIABLE,
    PeriodRequest,
    Project,
    check_plugin_named,
    read_config,
    requested_period,
)

log = logging.getLogger("mkdocs.plugins.kpisite.build")


@dataclass
class BuildResult:
    """What a build produced and how long it took."""

    site_dir: Path
    period: str
    pages: int = 0
    directives: int = 0
    queries: int = 0
    cached: int = 0
    seconds: float = 0.0
    problems: list[Problem] = field(default_factory=list)


@contextmanager
def environment(**values: str | None):
    """Set environment variables for the duration of a build (KPISITE_PERIOD, ...)."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update({key: value for key, value in values.items() if value is not None})
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def build_site(
    project: Project,
    period: str | None = None,
    site_dir: str | os.PathLike | None = None,
    strict: bool = True,
) -> BuildResult:
    """Build the report site of `project` for `period` (default: last complete month).

    Raises DirectiveError listing every bad directive of every page, a ConfigError or an
    ExtractError for a bad project; the site goes to `site_dir` (default: the site_dir of
    mkdocs.yml, `site/` unless it sets one), which must keep clear of the project's own
    folders (check_output_folder). The pages are written to a scratch folder beside it and
    swapped in only when the build succeeds: a failed build leaves the last good site as it
    was.
    """
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import Abort, PluginError

    started = time.monotonic()
    check_plugin_named(project)
    target = Path(site_dir).resolve() if site_dir else project.site_dir
    check_output_folder(
        project, target, "the site folder", "a build replaces what it holds", "site"
    )
    check_site_folder(target)
    # A period that cannot be read is said here, naming where it was written, before
    # mkdocs starts. The plugin checks it against the data.
    request = period_request(project, period)
    if request is not None:
        request.read(project)

    with (
        stopped_cleanly(),
        environment(
            KPISITE_PERIOD=period,
            KPISITE_PERIOD_SOURCE=request.source if request and period else None,
            NO_MKDOCS_2_WARNING="1",
        ),
    ):
        # mkdocs checks the real site folder (never the docs folder or one holding it).
        config = load_config(str(project.config_file), site_dir=str(target), strict=strict)
        plugin = config.plugins["kpisite"]
        scratch = scratch_path(target)
        try:
            # Made inside the try: a signal right after it still has the folder removed.
            make_empty_folder(scratch)
            config.site_dir = str(scratch)
            try:
                build(config)
            except (Abort, PluginError) as failure:
                raise build_failure(plugin, failure) from None
            check_stopped()  # a query the signal interrupted left n/a values in the pages
            swap_into_place(scratch, target)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    return result_of(plugin, target, time.monotonic() - started)


def period_request(project: Project, period: str | None) -> PeriodRequest | None:
    """The period asked for: `period` names its source in KPISITE_PERIOD_SOURCE when a
    command passes one on (publish), else it is the --period option."""
    if period is None:
        return requested_period(project)
    return PeriodRequest(period, os.environ.get(PERIOD_SOURCE_VARIABLE) or "--period")


@contextmanager
def stopped_cleanly():
    """Make SIGTERM (a cancelled CI job, `kill`) and SIGHUP (a closed terminal) raise
    SystemExit, as Ctrl-C raises KeyboardInterrupt, while the block runs: the finally
    blocks that remove scratch folders run before the process ends (exit 128 + signal).
    A signal the process was set to ignore stays ignored; outside the main thread, where
    no handler can be set, nothing changes.

    A signal that lands while DuckDB runs a query does not reach the block as SystemExit:
    DuckDB turns it into its own "Query interrupted" error, which the KPI layer shows as
    an n/a value. The signal is remembered instead: `check_stopped` ends a build before
    its site is swapped in, and any error leaving the block becomes the signal's exit.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    names = [name for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]
    wanted = [getattr(signal, name) for name in names]
    previous = {number: signal.getsignal(number) for number in wanted}
    outermost = stop not in previous.values()
    if outermost:
        STOPPED.clear()
    for number, handler in previous.items():
        if handler == signal.SIG_DFL:
            signal.signal(number, stop)
    try:
        yield
        check_stopped()
    except Exception:
        check_stopped()  # an error caused by the signal: the signal's exit, not the error
        raise
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


# The signal that stopped the current build or publish, if one did.
STOPPED: list[int] = []


def stop(number: int, frame) -> None:
    """The handler of stopped_cleanly: a second signal must not cut the cleanup short."""
    signal.signal(number, signal.SIG_IGN)
    STOPPED.append(number)
    raise SystemExit(128 + number)


def check_stopped() -> None:
    """SystemExit when a signal stopped the work, even one that DuckDB swallowed."""
    if STOPPED:
        raise SystemExit(128 + STOPPED[0]) from None


def scratch_path(target: Path) -> Path:
    """The scratch folder of this build: beside `target` (same file system, so the swap is
    a rename), named with the process id so that a concurrent build keeps its own."""
    remove_stale_scratch(target)
    return target.with_name(f".{target.name}.building-{os.getpid()}")


def make_empty_folder(scratch: Path) -> None:
    """Made with the umask's permissions: the swapped-in site must stay readable by a web
    server."""
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.parent.mkdir(parents=True, exist_ok=True)
    scratch.mkdir()


def remove_stale_scratch(target: Path) -> None:
    """Remove the scratch folders beside `target` of builds that were killed before they
    could (SIGKILL, a power cut): each is named with its build's process id, and is left
    alone while that process runs (a concurrent build)."""
    for pattern in (f".{target.name}.building-*", f".{target.name}.old-*"):
        for path in target.parent.glob(pattern):
            pid = path.name.rpartition("-")[2]
            if pid.isdigit() and not process_running(int(pid)):
                log.debug("removing %s, left by a build that was stopped", path)
                shutil.rmtree(path, ignore_errors=True)


def process_running(pid: int) -> bool:
    """Whether a process of that id runs (ours included; another user's counts too).
    Signal 0 is sent to no one: it only asks whether the process exists."""
    if pid <= 0:
        return True  # not a process id: 0 and -1 would address groups; keep the folder
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:
        return True
    return True


def swap_into_place(built: Path, target: Path) -> None:
    """Put the built site at `target`, by renames only, so no page is ever half written.

    The folder itself stays (a web server or a container serving it keeps serving it), and
    so do the entries at its top whose name starts with a dot (the `.git` of a deployment
    worktree, a `.nojekyll`), as a plain mkdocs build keeps them. Every other entry is
    replaced; for an instant, pages of the old and the new site may sit side by side. A
    failure midway moves everything back: the previous site stays whole.
    """
    if not target.exists():
        built.rename(target)
        return

    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    shutil.rmtree(old, ignore_errors=True)
    done: list[tuple[Path, Path]] = []
    try:
        old.mkdir()
        for entry in sorted(target.iterdir()):
            if replaced(entry, built):
                move(entry, old / entry.name, done)
        for entry in sorted(built.iterdir()):
            move(entry, target / entry.name, done)
    except BaseException as error:
        # Interrupted too (Ctrl-C): put the previous site back before anything is deleted.
        undo(done)
        shutil.rmtree(old, ignore_errors=True)
        if isinstance(error, OSError):
            raise KpisiteError(
                f"{target}: could not put the built site in place ({error.strerror or error}); "
                "the previous site was left as it was (check the folder's permissions)"
            ) from None
        raise
    shutil.rmtree(old, ignore_errors=True)


def replaced(entry: Path, built: Path) -> bool:
    """An entry of the previous site the new one replaces: not a dot entry, unless the
    build wrote one of the same name (as a plain mkdocs build would write over it)."""
    return not entry.name.startswith(".") or os.path.lexists(built / entry.name)


def move(source: Path, destination: Path, done: list[tuple[Path, Path]]) -> None:
    source.rename(destination)
    done.append((source, destination))


def undo(done: list[tuple[Path, Path]]) -> None:
    """Move back what a failed swap moved, newest first."""
    for source, destination in reversed(done):
        destination.rename(source)


def check_output_folder(project: Project, folder: Path, role: str, harm: str, usual: str) -> None:
    """Refuse an output folder that is, holds or is inside a folder of the project's own:
    writing there would delete the extract, the pages or the project (`harm` says how), or
    mix the output into what the next build reads. `usual` names the folder to suggest."""
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{folder}: cannot be {role}: it is a file, not a folder")

    for name, place, inside_too in clear_of(project):
        if not clashes(folder, place, inside_too):
            continue
        if place.is_relative_to(folder):
            relation, why = ("is" if folder == place else "holds"), harm
        else:
            relation, why = "is inside", "what is written there would mix with the project's files"
        raise ConfigError(
            f"{folder}: cannot be {role}: it {relation} {name} ({place}), and {why} "
            f"(name a folder of its own, e.g. {free_folder(project, usual)})"
        )


def check_site_folder(target: Path) -> None:
    """Refuse a site folder that holds files but no site of a kpisite build: a build
    replaces every entry of it but the dot entries, so a folder named by mistake (a folder
    of published versions or one of its versions, someone's documents) would be emptied.
    An empty folder, or the site of an earlier build (its kpisite script is the mark), is
    rebuilt whole, as mkdocs rebuilds its site_dir."""
    from site_builder.plugin import ASSET_DIR

    # A version of a folder of published versions holds a kpisite site too, but it is
    # `kpisite publish`'s: rebuilt for another period, its versions.json would lie.
    published = next((f for f in target.parents if (f / "versions.json").is_file()), None)
    if published is not None:
        raise ConfigError(
            f"{target}: cannot be the site folder: it is inside a folder of published "
            f"versions ({published}, which holds versions.json), which `kpisite publish "
            f"--folder {published}` writes (name a folder of its own)"
        )
    if not target.is_dir() or (target / ASSET_DIR / "kpisite.js").is_file():
        return
    entries = sorted(entry.name for entry in target.iterdir() if not entry.name.startswith("."))
    if not entries:
        return

    if "versions.json" in entries:
        what = "it holds versions.json, so it is a folder of published versions"
    else:
        listed = ", ".join(entries[:5]) + (", ..." if len(entries) > 5 else "")
        what = f"it holds files no kpisite build wrote ({listed})"
    raise ConfigError(
        f"{target}: cannot be the site folder: {what}, and a build replaces what it holds "
        "(name an empty folder, or empty this one first)"
    )


def free_folder(project: Project, usual: str) -> Path:
    """A folder for the output that keeps clear of the project's own, for a hint."""
    places = clear_of(project)
    for candidate in (project.root / usual, project.root / f"_{usual}"):
        if not any(clashes(candidate, place, inside) for _, place, inside in places):
            return candidate
    return project.root.parent / f"{project.root.name}-{usual}"


def clashes(folder: Path, place: Path, inside_too: bool) -> bool:
    """True when `folder` is or holds `place`, or is inside it and that is refused too."""
    return place.is_relative_to(folder) or (inside_too and folder.is_relative_to(place))


def clear_of(project: Project) -> list[tuple[str, Path, bool]]:
    """The project's own folders, and whether a folder inside each is refused too: it is
    where whatever lands would be read as the project's own (the extract, the pages) or
    is kpisite's (the cache)."""
    places = [
        ("the project folder", project.root, False),
        ("the data folder", project.data_dir, True),
        ("the docs_dir of mkdocs.yml", project.docs_dir, True),
        ("the cache folder", project.cache_dir, True),
        ("the raw data folder", project.path(project.settings.raw_data), False),
    ]
    places += [
        (f"the folder of the catalog {catalog}", project.path(catalog).parent, False)
        for catalog in project.settings.catalogs
    ]
    return [(name, place.resolve(), inside) for name, place, inside in places]


def read_mkdocs_config(project: Project) -> dict:
    return read_config(project.config_file)


def build_failure(plugin, failure: Exception) -> KpisiteError:
    if plugin.user_error is not None:
        return plugin.user_error
    problems = plugin.extension.problems if plugin.extension else []
    if problems:
        from site_builder.plugin import directive_failure

        return DirectiveError(directive_failure(problems), problems)
    return KpisiteError(f"mkdocs build failed: {failure} (see the messages above)")


def result_of(plugin, target: Path, seconds: float) -> BuildResult:
    from site_builder.plugin import engine_counts

    queries, cached = engine_counts(plugin.book)
    return BuildResult(
        site_dir=target,
        period=plugin.context.period.key,
        pages=plugin.pages,
        directives=plugin.context.directives,
        queries=queries,
        cached=cached,
        seconds=seconds,
        problems=list(plugin.extension.problems),
    )


def git_head(root: Path) -> str | None:
    """The commit the project is at, or None outside a git checkout (or without git)."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None
