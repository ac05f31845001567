"""`kpisite query`: KPI values for a period, as text or as one JSON object."""

from __future__ import annotations

import json

import click

from site_builder.commands import load_project, project_option

GRAINS = ("day", "week", "month", "quarter", "year")


@click.command()
@click.argument("kpis", nargs=-1, required=True)
@click.option("--period", "period_text", help="2026-10, 2026-Q3, 2026-W05, 2026 or 2026-10-05.")
@click.option(
    "--grain",
    type=click.Choice(GRAINS),
    help="Grain of the period (default: that of --period; month without --period).",
)
@click.option("--by", "by", help="Break the values down by this dimension (or a grain).")
@click.option("--top", type=int, default=10, show_default=True, help="Members kept with --by.")
@click.option(
    "--compare",
    type=click.Choice(["previous", "last_year"]),
    help="Also give the value of the previous period or of the same period last year.",
)
@click.option(
    "--filter",
    "filters",
    multiple=True,
    metavar="DIMENSION=VALUE",
    help="Keep only rows whose dimension has this value (repeatable).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@project_option
def query(kpis, period_text, grain, by, top, compare, filters, as_json, project_dir) -> int:
    """Print the values of KPIS for a period."""
    from kpi.engine import Workbook
    from kpi.periods import period_of

    book = Workbook(load_project(project_dir))
    if period_text:
        period = book.period(period_text)
        if grain and grain != period.grain:
            period = period_of(period.start, grain, period)
    else:
        period = book.default_period(grain or "month")
    chosen = parse_filters(filters)

    report = {"period": period.key, "period_label": period.label, "grain": period.grain}
    values = book.values(list(kpis), period, chosen or None)
    report["values"] = {name: value.to_dict() for name, value in values.items()}
    if compare:
        add_comparisons(book, report, list(kpis), period, compare, chosen)
    if by:
        add_breakdown(book, report, list(kpis), period, by, top, chosen)
    echo_report(report, as_json)
    return 0


def parse_filters(filters: tuple[str, ...]) -> dict[str, str]:
    chosen = {}
    for text in filters:
        name, sep, value = text.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{text!r}: expected DIMENSION=VALUE", param_hint="--filter")
        chosen[name.strip()] = value.strip()
    return chosen


def add_comparisons(book, report, kpis, period, against, filters) -> None:
    comparisons = book.compare_many(kpis, period, against, filters or None)
    for name, comparison in comparisons.items():
        report["values"][name]["compare"] = comparison.to_dict()


def add_breakdown(book, report, kpis, period, by, top, filters) -> None:
    breakdown = book.breakdown(kpis, period, by=by, top=top, filters=filters or None)
    report["by"] = by
    for name in kpis:
        report["values"][name]["by"] = {
            label: values[name].to_dict() for label, values in breakdown.rows
        }


def echo_report(report: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    click.echo(f"{report['period_label']} ({report['period']})")
    for name, value in report["values"].items():
        line = f"  {value['label']} [{name}]: {value['formatted']}"
        if value.get("reason"):
            line += f" ({value['reason']})"
        if "compare" in value:
            compare = value["compare"]
            line += f"  {compare['delta_formatted']} vs {compare['reference_period']}"
        click.echo(line)
        for label, member in value.get("by", {}).items():
            click.echo(f"      {label}: {member['formatted']}")
