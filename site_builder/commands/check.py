"""`kpisite check`: validate the project's extract against the contract."""

from __future__ import annotations

import click

from site_builder.commands import load_project, project_option


@click.command()
@project_option
def check(project_dir: str) -> int:
    """Validate every table of the project's extract; exit 1 on any error."""
    from kpi.contract import check_project

    project = load_project(project_dir)
    report = check_project(project)

    for problem in report.problems:
        label = "error" if problem.severity == "error" else "warning"
        click.echo(f"{label}: {problem}", err=True)

    errors, warnings = len(report.errors), len(report.warnings)
    tables = ", ".join(report.tables) or "none"
    summary = f"{len(report.tables)} tables checked ({tables}): "
    click.echo(summary + f"{errors} errors, {warnings} warnings")
    return 1 if errors else 0
