"""`kpisite build`: the report site of one period into site/."""

from __future__ import annotations

import click

from site_builder.commands import given, load_project, period_text, project_option


@click.command()
@click.option(
    "--period",
    default=None,
    callback=lambda ctx, param, value: period_text(value),
    help="The report period, e.g. 2026-10 (default: last complete month).",
)
@click.option(
    "--site-dir",
    default=None,
    type=click.Path(file_okay=False),
    callback=given("a folder such as site"),
    help="Where to write the site (default: the site_dir of mkdocs.yml, or site/).",
)
@project_option
def build(period: str | None, site_dir: str | None, project_dir: str) -> int:
    """Build the report site for a period into the site_dir of mkdocs.yml (site/)."""
    from site_builder.build import build_site
    from site_builder.plugin import plural

    project = load_project(project_dir)
    result = build_site(project, period=period, site_dir=site_dir)
    click.echo(
        f"Built {result.site_dir} for {result.period}: {plural(result.pages, 'page')}, "
        f"{plural(result.directives, 'directive')}, "
        f"{plural(result.cached, 'KPI value')} from the cache, "
        f"{plural(result.queries, 'query', 'queries')}, {result.seconds:.1f} s",
        err=True,
    )
    return 0
