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

from mkdocs.config import config_options as c
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files

from kpi.errors import KpisiteError
from kpi.project import Project, Settings
from site_builder import extract_wait, formats
from site_builder.build import git_head
from site_builder.dashboard import DASHBOARD_PAGE, dashboard_markdown
from site_builder.markdown import KpiExtension
from site_builder.render import RenderContext

log = logging.getLogger("mkdocs.plugins.kpisite")

HERE = Path(__file__).parent
ASSETS = HERE / "assets"
TEMPLATES = HERE / "templates"
ASSET_DIR = "assets/kpisite"


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

    # Having on_startup keeps this instance across rebuilds of `mkdocs serve`.
    def on_startup(self, *, command, dirty):
        self.serving = command == "serve"

    def on_config(self, config):
        # mkdocs keeps this instance from one build to the next in the same process.
        self.started = time.monotonic()
        self.pages = 0
        self.user_error = None
        self.project = self.load_project(config)

        # A Parquet file still being written is waited for under `serve`, never read.
        if self.serving:
            extract_wait.wait_for_extract(self.project.data_dir)

        self.book = None
        try:
            self.book = open_workbook(self.project)  # a bad catalog fails here
            self.check_extract()
            period = choose_period(self.book, self.project)
        except KpisiteError as error:
            # Before any page is rendered or the site folder touched: nothing is built.
            close_workbook(self.book)
            self.user_error = error
            listing = "".join(f"\n  {problem}" for problem in error.problems)
            raise PluginError(f"{error}{listing}") from None
        settings = self.project.settings
        self.context = RenderContext(self.book, period, settings.locale, settings.currency)
        self.extension = KpiExtension(context=self.context)
        config.markdown_extensions.append(self.extension)

        self.add_theme(config)
        config.extra["kpisite"] = site_metadata(self.project, self.book, period)
        # `kpisite publish` asks for the version selector and the outdated banner.
        if os.environ.get("KPISITE_VERSIONED"):
            config.extra.setdefault("version", {"provider": "mike", "default": "latest"})
        return config

    def check_extract(self) -> None:
        """The extract contract, before any page: `mkdocs build` and mike check it too."""
        from kpi.contract import ensure_valid, log_warnings

        report = ensure_valid(self.project, self.book.extract)
        # Orphans and absent optional columns do not make a KPI wrong: shown as warnings
        # of `kpi.contract`, outside `mkdocs.`, so that strict mode does not fail on them.
        log_warnings(report)

    def load_project(self, config) -> Project:
        root = Path(config.config_file_path or ".").parent
        options = {key: value for key, value in self.config.items() if value is not None}
        return Project.from_options(root, options, where=config.config_file_path or "mkdocs.yml")

    def add_theme(self, config) -> None:
        """Our template overrides after the user's custom_dir, our assets after theirs."""
        dirs = config.theme.dirs
        position = 1 if config.theme.custom_dir else 0
        if str(TEMPLATES) not in dirs:
            dirs.insert(position, str(TEMPLATES))
        config.extra_css.append(f"{ASSET_DIR}/kpisite.css")
        config.extra_javascript.append(f"{ASSET_DIR}/plotly.min.js")
        config.extra_javascript.append(f"{ASSET_DIR}/kpisite.js")

    def on_files(self, files: Files, *, config) -> Files:
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
            content = dashboard_markdown(self.book.catalog, self.context)
            files.append(File.generated(config, DASHBOARD_PAGE, content=content))
        return files

    def on_page_markdown(self, markdown, *, page, config, files):
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
        for path in watched_paths(self.project, self.book):
            server.watch(str(path))
        return server

    def on_post_build(self, *, config):
        problems = self.extension.problems if self.extension else []
        self.log_summary(len(problems))
        # A KPI query the engine refused: the page shows n/a, strict mode must count it.
        for failure in self.book.stats.failures:
            log.warning("%s", failure)
        close_workbook(self.book)

        fail = not self.serving and self.project.settings.on_error == "fail"
        for problem in sorted(problems, key=page_order):
            log.log(logging.ERROR if fail else logging.WARNING, str(problem))
        if problems and fail:
            # Each problem was logged just above: the failure only counts them.
            count = f"{len(problems)} directive error" + ("" if len(problems) == 1 else "s")
            raise PluginError(f"{count} in the report pages (listed above)")

    def log_summary(self, errors: int) -> None:
        queries, cached = engine_counts(self.book)
        log.info(
            "kpisite: %d pages, %d directives (%d charts), %d KPI values from the cache, "
            "%d queries run, %d directive errors, in %.2f s",
            self.pages,
            self.context.directives,
            self.context.charts,
            cached,
            queries,
            errors,
            time.monotonic() - self.started,
        )


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
    """KPISITE_PERIOD, else the `period` setting, else the last complete month.

    A period the extract does not cover whole is a PeriodError: its pages would show
    zeros as if nothing had been sold.
    """
    text = os.environ.get("KPISITE_PERIOD") or project.settings.period
    if text:
        period = book.period(text)
        book.check_period(period)
        return period
    period = book.default_period("month")
    return book.period(period) if isinstance(period, str) else period


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
        or extract_fingerprint(project, book.extract),
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


def watched_paths(project: Project, book) -> list[Path]:
    """The extract folder, mapped raw sources' folders and the project's catalogs."""
    paths = [project.data_dir, *(project.path(catalog) for catalog in project.settings.catalogs)]
    paths += [file.parent for file in book.extract.all_files()]
    return sorted({path for path in paths if path.exists()})
