"""`kpisite check`: validate the project's extract against the contract, and its catalog."""

from __future__ import annotations

import click

from site_builder.commands import load_project, project_option


@click.command()
@project_option
def check(project_dir: str) -> int:
    """Validate every table of the project's extract and its KPI catalog; exit 1 on any error."""
    from kpi.contract import check_project, plural

    project = load_project(project_dir)
    report = check_project(project, catalog=True)

    for problem in report.problems:
        label = "error" if problem.severity == "error" else "warning"
        click.echo(f"{label}: {problem}", err=True)

    errors, warnings = len(report.errors), len(report.warnings)
    tables = ", ".join(report.tables) or "none"
    summary = f"{plural(len(report.tables), 'table')} checked ({tables}): "
    click.echo(summary + f"{plural(errors, 'error')}, {plural(warnings, 'warning')}")
    return 1 if errors else 0
