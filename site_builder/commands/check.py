"""`kpisite check`: validate the project's extract against the contract, and its catalog."""

from __future__ import annotations

import click

from site_builder.commands import load_project, project_option


@click.command()
@project_option
def check(project_dir: str) -> int:
    """Validate every table of the project's extract and its KPI catalog; exit 1 on any error."""
    from kpi.contract import check_catalog, check_project, plural

    project = load_project(project_dir)
    report = check_project(project)
    catalog = check_catalog(project, report.tables)

    for problem in catalog + report.problems:
        label = "error" if problem.severity == "error" else "warning"
        click.echo(f"{label}: {problem}", err=True)

    # The catalogs' errors are counted apart: they are no fault of the tables. A table
    # the catalog reads but the extract lacks is a warning about the tables.
    catalog_errors = sum(problem.severity == "error" for problem in catalog)
    errors = len(report.errors)
    warnings = len(report.warnings) + len(catalog) - catalog_errors
    tables = ", ".join(report.tables) or "none"
    summary = f"{plural(len(report.tables), 'table')} checked ({tables}): "
    summary += f"{plural(errors, 'error')}, {plural(warnings, 'warning')}"
    if catalog_errors:
        summary += f"; {plural(catalog_errors, 'error')} in the KPI catalogs"
    click.echo(summary)
    return 1 if errors or catalog_errors else 0
