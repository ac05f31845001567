"""`kpisite query`: KPI values for a period, as text or as one JSON object."""

from __future__ import annotations

import json
import logging

import click

from kpi.errors import KpisiteError, did_you_mean, with_hint
from site_builder.commands import load_project, project_option

GRAINS = ("day", "week", "month", "quarter", "year")

log = logging.getLogger(__name__)


@click.command()
@click.argument("kpis", nargs=-1, required=True)
@click.option("--period", "period_text", help="2026-10, 2026-Q3, 2026-W05, 2026 or 2026-10-05.")
@click.option(
    "--grain",
    type=click.Choice(GRAINS),
    help="Without --period: the grain of the last complete period to report (default "
    "month). With --period, it must be the grain of that period.",
)
@click.option("--by", "by", help="Break the values down by this dimension (or a grain).")
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Members kept with --by (1 or more).",
)
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
    help="Keep only rows whose dimension has this value; repeat it for several values "
    "of one dimension (any of them) or for several dimensions (all of them). "
    "'(non renseigné)' selects blank values.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@project_option
def query(kpis, period_text, grain, by, top, compare, filters, as_json, project_dir) -> int:
    """Print the values of KPIS for a period.

    Exits 1 when the extract breaks the contract, the period is not covered by the data,
    or a value failed to compute.
    """
    from kpi.contract import ensure_valid
    from kpi.engine import Workbook

    project = load_project(project_dir)
    book = Workbook(project)
    try:
        ensure_valid(project, book.extract)
        period = choose_period(book, period_text, grain)
        chosen = parse_filters(filters)
        check_filter_values(book, list(kpis), chosen)
        report = make_report(book, list(kpis), period, by, top, compare, chosen)
        failures = list(book.stats.failures)
        # The same figures as the summary of `kpisite build`.
        log.info(
            "%d KPI values from the cache, %d queries", book.stats.from_cache, book.stats.queries
        )
    finally:
        book.close()
    echo_report(report, as_json)
    for failure in failures:
        click.echo(f"Error: {failure}", err=True)
    return 1 if failures else 0


def choose_period(book, period_text: str | None, grain: str | None):
    """The period asked (checked against the data), else the last complete one of the
    grain. A --grain that is not the grain of --period is refused: 2026-03 is a month,
    and silently answering for one of its weeks would answer another question."""
    if not period_text:
        return book.default_period(grain or "month")
    period = book.period(period_text)
    if grain and grain != period.grain:
        raise click.BadParameter(
            f"{grain} does not match --period {period_text}, a {period.grain} (give a "
            f"{grain} as --period, or leave --grain out)",
            param_hint="--grain",
        )
    return book.check_period(period)


def make_report(book, kpis, period, by, top, compare, chosen) -> dict:
    report = {"period": period.key, "period_label": period.label, "grain": period.grain}
    values = book.values(kpis, period, chosen or None)
    report["values"] = {name: value.to_dict() for name, value in values.items()}
    if compare:
        add_comparisons(book, report, kpis, period, compare, chosen)
    if by:
        add_breakdown(book, report, kpis, period, by, top, chosen)
    return report


def parse_filters(filters: tuple[str, ...]) -> dict[str, list[str]]:
    """DIMENSION=VALUE options as {dimension: [values]}: values of one dimension are
    alternatives (channel=web and channel=store: either), dimensions all apply."""
    chosen: dict[str, list[str]] = {}
    for text in filters:
        name, sep, value = text.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{text!r}: expected DIMENSION=VALUE", param_hint="--filter")
        values = chosen.setdefault(name.strip(), [])
        if value.strip() not in values:
            values.append(value.strip())
    return chosen


def check_filter_values(book, kpis: list[str], chosen: dict[str, list[str]]) -> None:
    """A filter value must exist in the extract: a typo would silently give 0 (as in pages).
    A blank value ("(non renseigné)", "n/a"...) selects the blank member, which may be
    empty but is never a typo."""
    for dimension, values in chosen.items():
        known = book.dimension_values(kpis[0], dimension)
        for wanted in values:
            member = book.filter_value(wanted)
            if known is None or member is None or member in known:
                continue
            hint = did_you_mean(wanted, known)
            message = f"--filter {dimension}={wanted}: unknown value '{wanted}' for {dimension}"
            raise KpisiteError(with_hint(message, hint))


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
            if compare["delta"] is None and compare["reference"].get("reason"):
                line += f" ({compare['reference']['reason']})"
        click.echo(line)
        for label, member in value.get("by", {}).items():
            click.echo(f"      {label}: {member['formatted']}")
