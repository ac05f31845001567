"""Building the report site of a project: the contract check, then mkdocs with the plugin."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from kpi.errors import DirectiveError, KpisiteError, Problem
from kpi.project import Project

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
    ExtractError for a bad project; the site goes to `site_dir` (default: `site/`). The
    pages are written to a scratch folder beside it and swapped in only when the build
    succeeds: a failed build leaves the last good site as it was.
    """
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import Abort, PluginError

    started = time.monotonic()
    target = (Path(site_dir) if site_dir else project.root / "site").resolve()

    with environment(KPISITE_PERIOD=period, NO_MKDOCS_2_WARNING="1"):
        # mkdocs checks the real site folder (never the docs folder or one holding it).
        config = load_config(str(project.config_file), site_dir=str(target), strict=strict)
        plugin = config.plugins["kpisite"]
        scratch = scratch_folder(target)
        config.site_dir = str(scratch)
        try:
            try:
                build(config)
            except (Abort, PluginError) as failure:
                raise build_failure(plugin, failure) from None
            swap_into_place(scratch, target)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    return result_of(plugin, target, time.monotonic() - started)


def scratch_folder(target: Path) -> Path:
    """An empty folder beside `target` (same file system, so the swap is a rename), made
    with the umask's permissions: the swapped-in site must stay readable by a web server."""
    scratch = target.with_name(f".{target.name}.building-{os.getpid()}")
    shutil.rmtree(scratch, ignore_errors=True)  # left by a build that was killed
    scratch.parent.mkdir(parents=True, exist_ok=True)
    scratch.mkdir()
    return scratch


def swap_into_place(built: Path, target: Path) -> None:
    """Put the built site at `target`: renames only, so no reader ever sees half a site
    (between the two renames `target` is briefly absent, never partial)."""
    if not target.exists():
        built.rename(target)
        return
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    shutil.rmtree(old, ignore_errors=True)
    target.rename(old)
    built.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def build_failure(plugin, failure: Exception) -> KpisiteError:
    if plugin.user_error is not None:
        return plugin.user_error
    problems = plugin.extension.problems if plugin.extension else []
    if problems:
        return DirectiveError(f"{len(problems)} directive error(s) in the report pages", problems)
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
