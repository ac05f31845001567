"""One module per `kpisite` command; shared options live here."""

from __future__ import annotations

import click

from kpi.project import Project, check_plugin_named

project_option = click.option(
    "--project",
    "project_dir",
    type=click.Path(file_okay=False, path_type=str),
    default=".",
    show_default=True,
    help="The report project: a folder holding a mkdocs.yml.",
)


def load_project(project_dir: str) -> Project:
    """The project at `project_dir`, or a clean error naming what is missing."""
    project = Project.load(project_dir)
    check_plugin_named(project)
    return project


def period_text(value: str | None) -> str | None:
    """`--period` as given: an empty one is a mistake (an unset variable in a script), not
    the default period, and one that does not read as a period is a malformed command
    line (exit 2). Whether the extract covers it is the command's to say."""
    from kpi.periods import PeriodError, parse_period

    if value is None:
        return None
    if not value.strip():
        raise click.BadParameter("empty; give a period such as 2026-10, or leave the option out")
    try:
        parse_period(value)
    except PeriodError as error:
        message = str(error)
        raise click.BadParameter(message.removeprefix("period ")) from None
    return value


def given(example: str):
    """A click callback refusing an empty value (an unset variable in a script): it would
    otherwise quietly mean the default, e.g. an empty --folder the local git branch."""

    def check(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise click.BadParameter(f"empty; give {example}, or leave the option out")
        return value

    return check
