"""The `kpisite` mkdocs plugin: a thin layer around the Markdown extension.

It reads the project's settings (its own options in mkdocs.yml), opens one KPI engine for
the build, hands the extension a shared render context, ships the assets (plotly.js from
the installed package, the renderer script, the styles), adds the theme overrides and the
generated dashboard page, watches the extract and catalogs under `mkdocs serve`, and
collects the directive errors of all pages to report them together.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin

from mkdocs.config import config_options as c
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files

from kpi.errors import ConfigError, KpisiteError, utf8_problem
from kpi.project import Project, Settings
from site_builder import extract_wait, formats
from site_builder.build import git_head
from site_builder.dashboard import DASHBOARD_PAGE, dashboard_markdown
from site_builder.markdown import KpiExtension
from site_builder.raw_data import raw_data_in_site
from site_builder.render import RenderContext

log = logging.getLogger("mkdocs.plugins.kpisite")
# Directive errors under `on_error: warn`: outside `mkdocs.`, so that strict mode, which
# counts the warnings of mkdocs' loggers, does not turn them back into a failure.
warnings_log = logging.getLogger("kpisite.directives")

HERE = Path(__file__).parent
ASSETS = HERE / "assets"
TEMPLATES = HERE / "templates"
ASSET_DIR = "assets/kpisite"
# Where a site with no site_url and no KPISITE_SITE_URL is taken to be served.
PLACEHOLDER_URL = "http://127.0.0.1:8000/"
# How long a preview waits for an extract being written before showing it as such.
SERVE_WAIT = 2.0
# French words split at apostrophes too: "affaires" finds "chiffre d'affaires". Set as the
# search plugin's separator when a French site leaves it to its default.
FRENCH_SEPARATOR = r"[\s\-,:!=\[\]()\"/'’]+|\.(?!\d)"


def plotly_js() -> Path:
    """plotly.min.js as installed with the plotly package (never a CDN)."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


class KpiSitePlugin(BasePlugin):
    """Builds the KPI directives of report pages with one engine per build."""

    config_scheme = tuple((name, c.Optional(c.Type(object))) for name in Settings.names())

    def __init__(self):
        super().__init__()
        self.serving = False
        self.book = None
        # The user error that stopped on_config (bad extract, period outside the data).
        self.user_error: KpisiteError | None = None
        self.context: RenderContext | None = None
        self.extension: KpiExtension | None = None
        self.pages = 0
        self.started = 0.0
        self.project: Project | None = None
        self.server = None
        self.watched: set[Path] = set()

    # Having on_startup keeps this instance across rebuilds of `mkdocs serve`.
    def on_startup(self, *, command, dirty):
        self.serving = command == "serve"

    # Early, so that mike's plugin (first in the list under `mike deploy`) finds site_url.
    @event_priority(50)
    def on_config(self, config):
        # mkdocs keeps this instance from one build to the next in the same process.
        self.started = time.monotonic()
        self.pages = 0
        self.user_error = None
        self.book = self.context = self.extension = None
        fill_site_url(config)
        self.add_theme(config)
        config.extra.setdefault("generator", False)  # no English "Made with" in the footer
        # The site's words, for the templates, before anything can fail.
        locale = self.config.get("locale") or Settings.locale
        config.extra["kpisite"] = {"words": formats.words(locale)}
        french_search(config, formats.language(locale))

        try:
            self.open_project(config)
        except KpisiteError as error:
            # Before any page is rendered or the site folder touched: nothing is built. A
            # preview shows the error in every page instead, and keeps answering.
            close_workbook(self.book)
            self.book, self.user_error = None, error
            listing = "".join(f"\n  {problem}" for problem in error.problems)
            if not self.serving:
                raise PluginError(f"{error}{listing}") from None
            log.error("%s%s", error, listing)
            return config

        self.extension = KpiExtension(context=self.context)
        config.markdown_extensions.append(self.extension)
        config.extra["kpisite"].update(site_metadata(self.project, self.book, self.context.period))
        # `kpisite publish` asks for the version selector and the outdated banner.
        if os.environ.get("KPISITE_VERSIONED"):
            config.extra.setdefault("version", {"provider": "mike", "default": "latest"})
        return config

    def open_project(self, config) -> None:
        """The project, its extract checked, one engine and the period: KpisiteError when
        the settings, the catalog, the extract or the period are wrong."""
        try:
            self.project = self.load_project(config)
        except KpisiteError:
            # A catalog named but not written yet is a settings error: its folder is
            # watched all the same, so that writing it rebuilds the preview.
            self.watch_named_catalogs(config)
            raise
        self.watch_new_paths()

        self.book = open_workbook(self.project)  # a bad catalog fails here; no file read yet
        # A Parquet file still being written is waited for under `serve`, never read; the
        # wait is short (requests wait for a build), and the writer's last change rebuilds.
        # One that stays truncated is the contract's to report, as damaged.
        if self.serving:
            extract_wait.wait_for_extract(self.book.extract, timeout=SERVE_WAIT)
        self.check_extract()
        period = choose_period(self.book, self.project)
        settings = self.project.settings
        self.context = RenderContext(self.book, period, settings.locale, settings.currency)

    def check_extract(self) -> None:
        """The extract contract, before any page: `mkdocs build` and mike check it too."""
        from kpi.contract import ensure_valid, log_warnings

        # With the build's catalog: the same warnings as `kpisite check`, absent tables too.
        report = ensure_valid(self.project, self.book.extract, self.book.catalog)
        # Orphans and absent optional columns do not make a KPI wrong: shown as warnings
        # of `kpi.contract`, outside `mkdocs.`, so that strict mode does not fail on them.
        log_warnings(report)

    def load_project(self, config) -> Project:
        root = Path(config.config_file_path or ".").parent
        options = {key: value for key, value in self.config.items() if value is not None}
        return Project.from_options(root, options, where=config.config_file_path or "mkdocs.yml")

    def add_theme(self, config) -> None:
        """Our template overrides after the user's custom_dir, our assets after theirs.

        plotly.min.js (4.8 MB) is not a script of every page: kpisite.js loads it beside
        itself when a page with a chart shows, on first load or by instant navigation.
        """
        dirs = config.theme.dirs
        position = 1 if config.theme.custom_dir else 0
        if str(TEMPLATES) not in dirs:
            dirs.insert(position, str(TEMPLATES))
        config.extra_css.append(f"{ASSET_DIR}/kpisite.css")
        config.extra_javascript.append(f"{ASSET_DIR}/kpisite.js")

    def on_files(self, files: Files, *, config) -> Files:
        self.refuse_broken_links(files)
        self.refuse_raw_data(files)
        self.refuse_pages_not_in_utf8(files)
        shipped = [
            (plotly_js(), "plotly.min.js"),
            (ASSETS / "kpisite.js", None),
            (ASSETS / "kpisite.css", None),
        ]
        for path, name in shipped:
            files.append(
                File.generated(config, f"{ASSET_DIR}/{name or path.name}", abs_src_path=str(path))
            )

        if files.get_file_from_path(DASHBOARD_PAGE) is None:
            locale = self.project.settings.locale if self.project else Settings.locale
            catalog, tables = (
                (self.book.catalog, self.book.extract.names()) if self.book else (None, None)
            )
            content = dashboard_markdown(catalog, locale, tables)
            files.append(File.generated(config, DASHBOARD_PAGE, content=content))
        return files

    def refuse_raw_data(self, files: Files) -> None:
        """An extract, a raw export or the cache in docs_dir must never reach the site
        (mkdocs copies every file there): the build stops; a local preview only says so."""
        if self.project is None:
            return
        extract = self.book.extract.all_files() if self.book else []
        error = raw_data_in_site(self.project, files, extract)
        if error is not None:
            self.refuse(error)

    def refuse(self, error: KpisiteError) -> None:
        """Stop the build on `error`, before any page is written; a preview says it and
        goes on (with what it left out of `files`)."""
        if self.serving:
            log.error("%s", error)
            return
        self.user_error = error
        raise PluginError(str(error))

    def refuse_broken_links(self, files: Files) -> None:
        """A symbolic link in docs_dir to a file that is gone (an export moved away):
        mkdocs would stop on it with a bare FileNotFoundError. A preview leaves it out."""
        broken = [
            file
            for file in list(files)
            if file.abs_src_path
            and os.path.islink(file.abs_src_path)
            and not os.path.exists(file.abs_src_path)
        ]
        if not broken:
            return
        listing = "".join(
            f"\n  {file.src_uri} -> {os.readlink(file.abs_src_path)}" for file in broken
        )
        them = "it" if len(broken) == 1 else "them"
        message = (
            f"{plural(len(broken), 'link')} in docs_dir to no file (remove {them}, or point "
            f"{them} at an existing file):{listing}"
        )
        if self.serving:
            for file in broken:
                files.remove(file)
        self.refuse(ConfigError(message))

    def refuse_pages_not_in_utf8(self, files: Files) -> None:
        """mkdocs reads pages as UTF-8 and stops at the first that is not with a bare
        UnicodeDecodeError: every such page is said here, at its line. A preview leaves
        them out and goes on with the others."""
        problems = []
        for file in list(files.documentation_pages()):
            problem = utf8_problem(file.content_bytes) if file.abs_src_path else None
            if problem:
                problems.append(f"{file.src_uri}:{problem}")
                if self.serving:
                    files.remove(file)
        if not problems:
            return
        listing = "".join(f"\n  {problem}" for problem in problems)
        self.refuse(ConfigError(f"{plural(len(problems), 'page')} not in UTF-8:{listing}"))

    def on_page_markdown(self, markdown, *, page, config, files):
        if self.user_error is not None:
            return unavailable_page(markdown, self.user_error, config.extra["kpisite"]["words"])
        # Front matter is gone from `markdown`: count its lines so errors name source lines.
        source = page.file.content_string
        offset = (
            source[: len(source) - len(markdown)].count("\n") if source.endswith(markdown) else 0
        )
        self.extension.start_page(page.file.src_uri, offset)
        self.context.counters = {}
        self.pages += 1
        return markdown

    def on_serve(self, server, *, config, builder):
        # Kept: each rebuild watches what its config names (a catalog added meanwhile).
        self.server = server
        self.watch_new_paths()
        return server

    def watch_new_paths(self) -> None:
        if self.server is None or self.project is None:
            return
        for path, recursive in watched_paths(self.project, self.book):
            if path not in self.watched:
                self.watched.add(path)
                self.server.watch(str(path), recursive=recursive)

    def watch_named_catalogs(self, config) -> None:
        if self.server is None:
            return
        root = Path(config.config_file_path or ".").parent
        named = self.config.get("catalogs")
        names = named if isinstance(named, list) else [named]
        for name in names:
            if isinstance(name, str) and name.strip():
                folder = (root / name).parent.resolve()
                if folder.is_dir() and folder not in self.watched:
                    self.watched.add(folder)
                    self.server.watch(str(folder), recursive=False)

    def on_post_build(self, *, config):
        if self.book is None:
            return  # the error is on every page (serve) or stopped the build
        problems = self.extension.problems
        self.log_summary(len(problems))
        # A KPI query the engine refused: the page shows n/a, strict mode must count it.
        for failure in self.book.stats.failures:
            log.warning("%s", failure)
        close_workbook(self.book)
        self.report(problems)

    def report(self, problems: list) -> None:
        """Directive errors fail the build (`on_error: fail`) or are warnings that never
        fail it (`on_error: warn`, whatever `strict`): they go to a logger outside
        `mkdocs.`, which strict mode does not count. A preview only warns."""
        warn = self.serving or self.project.settings.on_error == "warn"
        logger = warnings_log if warn else log
        for problem in sorted(problems, key=page_order):
            logger.log(logging.WARNING if warn else logging.ERROR, str(problem))
        if problems and not warn:
            # Each problem was logged just above: the failure only counts them.
            raise PluginError(directive_failure(problems))

    def log_summary(self, errors: int) -> None:
        queries, cached = engine_counts(self.book)
        log.info(
            "kpisite: %s, %s (%s), %s from the cache, %s run, %s, in %.2f s",
            plural(self.pages, "page"),
            plural(self.context.directives, "directive"),
            plural(self.context.charts, "chart"),
            plural(cached, "KPI value"),
            plural(queries, "query", "queries"),
            plural(errors, "directive error"),
            time.monotonic() - self.started,
        )


def plural(count: int, word: str, words: str | None = None) -> str:
    """ "1 query", "2 queries", "0 pages"."""
    return f"{count} {word if count == 1 else words or word + 's'}"


def directive_failure(problems: list) -> str:
    """What a build failed by directive errors says, once they are logged one by one."""
    return f"{plural(len(problems), 'directive error')} in the report pages (listed above)"


def fill_site_url(config) -> None:
    """site_url when mkdocs.yml sets none: instant navigation and the version selector need
    a sitemap of the pages' real addresses (mkdocs-material matches a link against it).

    KPISITE_SITE_URL names where the site is served (the GitHub Pages address in CI), else
    PLACEHOLDER_URL, the address of `python -m http.server` in site/; served elsewhere,
    links load whole pages. A published version lives under its period's folder.
    """
    base = config.site_url or os.environ.get("KPISITE_SITE_URL") or PLACEHOLDER_URL
    base = base if base.endswith("/") else base + "/"
    version = os.environ.get("KPISITE_PERIOD") if os.environ.get("KPISITE_VERSIONED") else None
    config.site_url = urljoin(base, f"{version}/") if version and not config.site_url else base


def unavailable_page(markdown: str, error: KpisiteError, words: dict) -> str:
    """A page whose figures cannot be computed: its title, then the error."""
    from site_builder.markdown import error_block

    title = next((line for line in markdown.splitlines() if line.startswith("# ")), "")
    listing = "".join(f"\n{problem}" for problem in error.problems)
    return f"{title}\n\n{error_block(f'{error}{listing}', None, words['unavailable'])}\n"


def french_search(config, language: str) -> None:
    """A French site whose search plugin keeps its default separator (spaces and hyphens)
    gets the French one, which splits at apostrophes too. Run before the search plugin's
    own on_config, which fills in the default of the theme's language."""
    if language != "fr":
        return
    for name, plugin in config.plugins.items():
        options = getattr(plugin, "config", None)
        if name.split("/")[-1] != "search" or options is None or "separator" not in options:
            continue
        if options.separator in (None, "", r"[\s\-]+"):
            options.separator = FRENCH_SEPARATOR


def open_workbook(project: Project):
    from kpi.engine import Workbook

    return Workbook(project)


def page_order(problem) -> tuple:
    """Sort key of a directive problem: its page, then its line as a number."""
    page, _, line = problem.where.rpartition(":")
    return (page, int(line)) if line.isdigit() else (problem.where, 0)


def close_workbook(book) -> None:
    if book is not None:
        book.close()


def choose_period(book, project: Project):
    """The period to build: KPISITE_PERIOD, else the `period` setting, else the last
    complete month, as every command chooses it (kpi.project.choose_period)."""
    from kpi.project import choose_period as chosen

    return chosen(book, project)


def engine_counts(book) -> tuple[int, int]:
    """(queries run, values from the cache) so far in this build."""
    return book.stats.queries, book.stats.from_cache


def site_metadata(project: Project, book, period) -> dict:
    """config.extra["kpisite"]: what the pages, their footer and the versions file show."""
    # The same fingerprint and time format as `kpisite publish`: a preview matches its version.
    from site_builder.publish import extract_fingerprint, time_label

    built_at = os.environ.get("KPISITE_BUILT_AT") or datetime.now(UTC).isoformat(timespec="seconds")
    return {
        "period": period.key,
        "period_label": period.label,
        "grain": period.grain,
        "fingerprint": os.environ.get("KPISITE_FINGERPRINT")
        or extract_fingerprint(project, book.extract, memo=book.cache),
        "extracted_at": isoformat(extracted_at(book)),
        "extracted_label": extracted_label(project, book),
        "built_at": built_at,
        "built_label": time_label(project, built_at),
        "commit": os.environ.get("KPISITE_COMMIT") or git_head(project.root),
    }


def isoformat(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds")


def extracted_at(book) -> datetime | None:
    """When the extract was taken (kpi.extract.Extract.extracted_at)."""
    return book.extract.extracted_at()


def extracted_label(project: Project, book) -> str | None:
    """The extraction time in the reporting zone and locale: "3 décembre 2026 à 18:05"."""
    moment = extracted_at(book)
    if moment is None:
        return None
    return formats.timestamp(moment.astimezone(project.zone), project.settings.locale)


def watched_paths(project: Project, book) -> list[tuple[Path, bool]]:
    """(path, recursive) of the extract folder, mapped raw sources' folders and the
    project's catalogs; a catalog not written yet is watched through its folder."""
    paths = {(project.data_dir, True)}
    for catalog in project.settings.catalogs:
        path = project.path(catalog)
        paths.add((path, False) if path.exists() else (path.parent, False))
    if book is not None:
        paths |= {(file.parent, True) for file in book.extract.all_files()}
    return sorted((path, recursive) for path, recursive in paths if path.exists())
