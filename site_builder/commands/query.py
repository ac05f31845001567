"""`kpisite query`: KPI values for a period, as text or as one JSON object."""

from __future__ import annotations

import difflib
import json
import logging

import click

from kpi.errors import KpisiteError, did_you_mean, with_hint
from site_builder.commands import load_project, project_option
from site_builder.commands import period_text as given_period

GRAINS = ("day", "week", "month", "quarter", "year")

log = logging.getLogger(__name__)


@click.command()
@click.argument("kpis", nargs=-1, required=True)
@click.option(
    "--period",
    "period_text",
    callback=lambda ctx, param, value: given_period(value),
    help="2026-10, 2026-Q3, 2026-W05, 2026 or 2026-10-05 (default: KPISITE_PERIOD, else "
    "the period setting, else the last complete month, as kpisite build).",
)
@click.option(
    "--grain",
    type=click.Choice(GRAINS),
    help="Without a period (--period, KPISITE_PERIOD or the period setting): the grain of "
    "the last complete period to report (default month). With one, it must be its grain.",
)
@click.option(
    "--by",
    "by",
    multiple=True,
    callback=lambda ctx, param, value: breakdown_axis(value),
    help="Break the values down by this dimension (or a grain); once.",
)
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Members kept with --by a dimension (1 or more); a grain lists every bucket.",
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
    "'(non renseigné)' selects blank values, '(sans contact)' rows with no contact.",
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

    chosen = parse_filters(filters)
    check_top(by, click.get_current_context())
    project = load_project(project_dir)
    book = Workbook(project)
    try:
        ensure_valid(project, book.extract)
        period = choose_period(book, project, period_text, grain)
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


def breakdown_axis(given: tuple[str, ...]) -> str | None:
    """`--by` as given: an empty one is a mistake (an unset variable in a script), not
    "no breakdown"; a second one would silently replace the first."""
    if len(given) > 1:
        raise click.BadParameter(
            f"given {len(given)} times ({', '.join(given)}): a breakdown has one dimension "
            "(run the query once per dimension)"
        )
    value = given[0] if given else None
    if value is not None and not value.strip():
        raise click.BadParameter(
            "empty; give a dimension such as channel or a grain such as week, or leave the "
            "option out"
        )
    return value.strip() if value else value


def check_top(by: str | None, ctx: click.Context) -> None:
    """A --top written for a breakdown by time would be silently ignored: every bucket of
    the period is a row, in order, so that the rows add up to the total."""
    given = ctx.get_parameter_source("top") is not click.core.ParameterSource.DEFAULT
    if given and by in GRAINS:
        raise click.BadParameter(
            f"keeps the first members of a dimension; --by {by} lists every {by} of the "
            "period (leave --top out)",
            param_hint="--top",
        )
    if given and by is None:
        raise click.BadParameter(
            "keeps the first members of a breakdown: give --by too", param_hint="--top"
        )


def choose_period(book, project, period_text: str | None, grain: str | None):
    """The period a build would report, in the same order: --period, KPISITE_PERIOD, the
    period setting (each checked against the data), else the last complete period of
    the grain. A --grain that is not the grain of that period is refused: 2026-03 is a
    month, and silently answering for one of its weeks would answer another question."""
    from kpi.project import requested_period

    request = requested_period(project, period_text)
    if request is None:
        return default_period(book, grain or "month")
    period = request.read(project)
    if grain and grain != period.grain:
        raise click.BadParameter(
            f"{grain} does not match {request.source} {request.text}, a {period.grain} (give "
            f"a {grain} as --period, or leave --grain out)",
            param_hint="--grain",
        )
    return request.check(book, period)


def default_period(book, grain: str):
    """The last complete period of `grain`; when the data holds none, the error says what
    to ask instead: a finer grain that has one, or a --period within the data."""
    from kpi.periods import GRAINS as ORDER
    from kpi.periods import PeriodError

    try:
        return book.default_period(grain)
    except PeriodError as error:
        coverage = book.data_coverage(required=True)
        finer = [(g, coverage.last_complete(g)) for g in reversed(ORDER[: ORDER.index(grain)])]
        options = [f"--grain {g} (last complete: {p.key})" for g, p in finer if p]
        options.append("a --period within the data")
        hint = ", ".join(options[:-1]) + " or " + options[-1] if len(options) > 1 else options[0]
        raise PeriodError(f"{error}: ask for {hint}") from None


def make_report(book, kpis, period, by, top, compare, chosen) -> dict:
    report = {"period": period.key, "period_label": period.label, "grain": period.grain}
    if chosen:
        report["filters"] = chosen  # said with the values: without it they mislead
    values = book.values(kpis, period, chosen or None)
    report["values"] = {name: value.to_dict() for name, value in values.items()}
    if compare:
        add_comparisons(book, report, kpis, period, compare, chosen)
    if by:
        add_breakdown(book, report, kpis, period, by, top, chosen)
    return report


def parse_filters(filters: tuple[str, ...]) -> dict[str, list[str]]:
    """DIMENSION=VALUE options as {dimension: [values]}: values of one dimension are
    alternatives (channel=web and channel=store: either), dimensions all apply. An empty
    value is a mistake (an unset variable in a script), not the blank member."""
    chosen: dict[str, list[str]] = {}
    for text in filters:
        name, sep, value = text.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"{text!r}: expected DIMENSION=VALUE", param_hint="--filter")
        if not value.strip():
            raise click.BadParameter(
                f"{text!r}: no value after '=' (write {name.strip()}='(non renseigné)' to "
                "select blank values)",
                param_hint="--filter",
            )
        values = chosen.setdefault(name.strip(), [])
        if value.strip() not in values:
            values.append(value.strip())
    return chosen


def check_filter_values(book, kpis: list[str], chosen: dict[str, list[str]]) -> None:
    """A filter value must be a member of the dimension in the extract, for one of the
    KPIs: a typo would silently give 0 (as in pages). The blank member may be empty but
    is never a typo; "(sans contact)" is a member wherever the dimension is the buyer's."""
    for dimension, values in chosen.items():
        known = known_members(book, kpis, dimension)
        for wanted in values:
            member = book.filter_member(wanted)
            if known is None or member.kind == "blank" or member in known:
                continue
            raise KpisiteError(unknown_value(book, dimension, wanted, known))


def unknown_value(book, dimension: str, wanted: str, known: set) -> str:
    """Why a filter value selects nothing, with the members it may mean. The label of a
    breakdown's other members ("Autres") is not a member: those rows change with the
    top N and the filters, so no filter selects them."""
    from kpi.values import OTHER, labeller

    label = labeller(book.member_labels)  # merged once: a dimension may have 100,000 members
    labels = {label(member) for member in known}
    where = f"--filter {dimension}={wanted}"
    if wanted.strip() != label(OTHER):
        hint = did_you_mean(wanted, labels)
        return with_hint(f"{where}: unknown value '{wanted}' for {dimension}", hint)
    close = difflib.get_close_matches(wanted, sorted(labels), n=5, cutoff=0.5)
    hint = (
        "close members: " + ", ".join(f"'{label}'" for label in close)
        if close
        else "filter on the members it stands for, as the breakdown shows them"
    )
    message = (
        f"{where}: '{wanted}' is the row of a breakdown's other members, which no filter "
        f"selects, and {dimension} has no such value"
    )
    return with_hint(message, hint)


def known_members(book, kpis: list[str], dimension: str):
    """The members of a dimension over the KPIs asked, or None when none can say."""
    found = [book.members(name, dimension) for name in kpis]
    found = [members for members in found if members is not None]
    return set().union(*found) if found else None


def add_comparisons(book, report, kpis, period, against, filters) -> None:
    comparisons = book.compare_many(kpis, period, against, filters or None)
    for name, comparison in comparisons.items():
        report["values"][name]["compare"] = comparison.to_dict()


def add_breakdown(book, report, kpis, period, by, top, filters) -> None:
    """Each KPI's rows under `by`, in order: the member (a real value, or null for a
    built-in row), its kind (value, other, blank, no_row; period for time buckets), its
    label as shown, then the value as elsewhere."""
    breakdown = book.breakdown(kpis, period, by=by, top=top, filters=filters or None)
    report["by"] = by
    rows = [
        row_identity(key, breakdown, index, book.member_labels)
        for index, (key, _) in enumerate(breakdown.rows)
    ]
    for name in kpis:
        report["values"][name]["by"] = [
            {**identity, **without_label(values[name].to_dict())}
            for identity, (_, values) in zip(rows, breakdown.rows, strict=True)
        ]


def row_identity(key, breakdown, index: int, labels: dict[str, str]) -> dict:
    from kpi.values import Member

    if isinstance(key, Member):
        return key.to_dict(labels)
    bucket = breakdown.period.buckets(breakdown.by)[index]
    return {"member": bucket.key, "kind": "period", "label": bucket.label}


def without_label(value: dict) -> dict:
    """A value's fields but the KPI's label: a row's label is its member's."""
    return {key: item for key, item in value.items() if key != "label"}


def echo_report(report: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    click.echo(f"{report['period_label']} ({report['period']})")
    if report.get("filters"):
        wanted = [f"{name} = {' or '.join(values)}" for name, values in report["filters"].items()]
        click.echo(f"  filtered on {'; '.join(wanted)}")
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
        for row in value.get("by", []):
            click.echo(f"      {row['label']}: {row['formatted']}")
