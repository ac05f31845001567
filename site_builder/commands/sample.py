"""`kpisite sample-data`: write the deterministic sample CRM extract."""

from __future__ import annotations

import time
from pathlib import Path

import click

from kpi.contract import plural
from kpi.errors import KpisiteError
from kpi.sample import (
    DEFAULT_CONTACTS,
    DEFAULT_END,
    DEFAULT_SEED,
    MAX_CONTACTS,
    MIN_CONTACTS,
    MIN_MONTHS,
    history_problem,
    parse_month,
)


def month_option(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """--end as a month YYYY-MM: 2026-13, nov, 2026-Q3 or 9999-12 are usage errors, not
    bugs."""
    try:
        parse_month(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
    return value


def contacts_option(ctx: click.Context, param: click.Parameter, value: int) -> int:
    """--contacts up to MAX_CONTACTS, with the reason: 10^11 would fail for want of memory."""
    if value > MAX_CONTACTS:
        raise click.BadParameter(
            f"{value:,} is more than {MAX_CONTACTS:,}: ten times the 1,000,000 contacts of the "
            "benchmarks, which take about 4 GB of memory (benchmarks/NOTES.md)"
        )
    return value


@click.command(name="sample-data")
@click.option(
    "--contacts",
    "contacts",
    type=click.IntRange(min=MIN_CONTACTS),
    default=DEFAULT_CONTACTS,
    show_default=True,
    callback=contacts_option,
    help=f"Number of contacts to generate, at most {MAX_CONTACTS:,}.",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=DEFAULT_SEED,
    show_default=True,
    help="Random seed: the same seed writes the same bytes.",
)
@click.option(
    "--end",
    "end_month",
    default=DEFAULT_END,
    show_default=True,
    callback=month_option,
    help="Last month of history, YYYY-MM.",
)
@click.option(
    "--months",
    type=click.IntRange(min=MIN_MONTHS),
    default=36,
    show_default=True,
    help="Months of history.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("data"),
    show_default=True,
    help="Folder to write the tables to.",
)
@click.option("--force", is_flag=True, help="Overwrite the Parquet files already in --out.")
def sample_data(
    contacts: int, seed: int, end_month: str, months: int, out_dir: Path, force: bool
) -> int:
    """Write a realistic sample extract (every canonical table) as Parquet files."""
    from kpi.sample import write_sample

    problem = history_problem(end_month, months)
    if problem:
        raise click.BadParameter(problem, param_hint="'--months'")
    if not force:
        refuse_existing_extract(out_dir)
    started = time.perf_counter()
    try:
        counts = write_sample(out_dir, contacts=contacts, seed=seed, end=end_month, months=months)
    except OSError as error:
        # A file where a folder should be, a read-only or virtual file system...
        reason = error.strerror or str(error)
        raise KpisiteError(f"{out_dir}: cannot write the sample there ({reason})") from None
    except MemoryError:
        # Within the bounds, but more than this machine holds (about 4 GB per million
        # contacts over 36 months, more over more months).
        raise KpisiteError(
            f"not enough memory for a sample of {contacts:,} contacts over {months} months "
            "(1,000,000 contacts over 36 months take about 4 GB; ask for fewer contacts or "
            "months)"
        ) from None
    elapsed = time.perf_counter() - started

    for name, rows in counts.items():
        click.echo(f"{out_dir / (name + '.parquet')}: {plural(rows, 'row')}")
    click.echo(f"sample written in {elapsed:.1f} s")
    return 0


def refuse_existing_extract(out_dir: Path) -> None:
    """Refuse a folder holding Parquet files: the default, data/, holds a project's real
    extract, which only --force may overwrite."""
    found = sorted(out_dir.rglob("*.parquet")) if out_dir.is_dir() else []
    if found:
        raise KpisiteError(
            f"{out_dir}: already holds {plural(len(found), 'Parquet file')} ({found[0].name}"
            f"{', ...' if len(found) > 1 else ''}); the sample would overwrite this extract "
            "(pass --force to overwrite it, or --out DIR to write the sample elsewhere)"
        )
