"""`kpisite serve`: live preview; a page, catalog or extract change rebuilds and reloads."""

from __future__ import annotations

import os

import click

from site_builder.commands import load_project, project_option


@click.command()
@click.option(
    "--dev-addr",
    default=None,
    metavar="IP:PORT",
    help="Address to serve on (default 127.0.0.1:8000).",
)
@click.option("--period", default=None, help="The report period, e.g. 2026-10.")
@project_option
def serve(dev_addr: str | None, period: str | None, project_dir: str) -> int:
    """Preview the report site, rebuilding on every change."""
    from mkdocs.commands.serve import serve as mkdocs_serve

    from kpi.contract import ensure_valid

    # A bad extract stops the preview before it starts, with the problems listed.
    project = load_project(project_dir)
    ensure_valid(project)
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    if period:
        os.environ["KPISITE_PERIOD"] = period

    # Errors show in place in the pages while previewing: not strict, never failing.
    options = {"strict": False}
    if dev_addr:
        options["dev_addr"] = dev_addr
    mkdocs_serve(str(project.config_file), livereload=True, **options)
    return 0
