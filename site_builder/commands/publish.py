"""`kpisite publish`: build the site of a period and deploy it as a version."""

from __future__ import annotations

import click

from site_builder.commands import given, load_project, period_text, project_option


@click.command("publish")
@click.option(
    "--period",
    callback=lambda ctx, param, value: period_text(value),
    help="The month to publish, e.g. 2026-11 (default: the last complete month).",
)
@click.option(
    "--remote",
    default=None,
    callback=given("a git remote such as origin"),
    help="The git remote to fetch from and push to (default: origin).",
)
@click.option(
    "--branch",
    default="gh-pages",
    show_default=True,
    callback=given("a branch such as gh-pages"),
    help="The branch of versions.",
)
@click.option("--push", is_flag=True, help="Push the branch to the remote after committing.")
@click.option(
    "--folder",
    type=click.Path(file_okay=False, path_type=str),
    callback=given("a folder such as /srv/www/reports"),
    help="Write the versions to this plain folder instead of a git branch.",
)
@project_option
def publish(
    period: str | None,
    remote: str | None,
    branch: str,
    push: bool,
    folder: str | None,
    project_dir: str,
) -> int:
    """Build the report site for a month and deploy it as version YYYY-MM.

    The alias `latest` follows the newest period and the site root redirects to it.
    Republishing a period whose data and pages did not change changes nothing. The branch
    must be a branch of versions (gh-pages), never a branch of the project's sources.
    """
    from site_builder import publish as publishing

    if folder is not None and push:
        raise click.UsageError("--push publishes a git branch; it has no meaning with --folder")
    project = load_project(project_dir)
    if folder is not None:
        outcome = publishing.publish_to_folder(project, folder, period)
        where = folder
    else:
        outcome = publishing.publish(project, period, branch=branch, remote=remote, push=push)
        where = f"branch {branch}"

    click.echo(summary(outcome, where, remote or publishing.DEFAULT_REMOTE))
    return 0


def summary(outcome, where: str, remote: str) -> str:
    """One line a person reads: what was published where, and where latest points."""
    if outcome.changed:
        text = f"Published {outcome.version} ({outcome.title}) to {where}"
    else:
        text = f"{outcome.version} ({outcome.title}) is unchanged in {where}"
    repaired = "was repaired and " if outcome.repaired else ""
    text += f"; latest {repaired}is {outcome.latest or 'not set'}"
    if outcome.pushed:
        retries = outcome.attempts - 1
        text += f"; pushed to {remote}" + (f" after {retries} retry(ies)" if retries else "")
    return text + "."
