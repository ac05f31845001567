"""`kpisite sample-data`: write the deterministic sample CRM extract."""

from __future__ import annotations

import time
from pathlib import Path

import click

from kpi.sample import DEFAULT_CONTACTS, DEFAULT_END, DEFAULT_SEED


@click.command(name="sample-data")
@click.option(
    "--contacts",
    "contacts",
    type=click.IntRange(min=10),
    default=DEFAULT_CONTACTS,
    show_default=True,
    help="Number of contacts to generate.",
)
@click.option(
    "--seed",
    type=int,
    default=DEFAULT_SEED,
    show_default=True,
    help="Random seed: the same seed writes the same bytes.",
)
@click.option(
    "--end",
    "end_month",
    default=DEFAULT_END,
    show_default=True,
    help="Last month of history, YYYY-MM.",
)
@click.option(
    "--months", type=click.IntRange(min=1), default=36, show_default=True, help="Months of history."
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("data"),
    show_default=True,
    help="Folder to write the tables to.",
)
def sample_data(contacts: int, seed: int, end_month: str, months: int, out_dir: Path) -> int:
    """Write a realistic sample extract (every canonical table) as Parquet files."""
    from kpi.sample import write_sample

    started = time.perf_counter()
    counts = write_sample(out_dir, contacts=contacts, seed=seed, end=end_month, months=months)
    elapsed = time.perf_counter() - started

    for name, rows in counts.items():
        click.echo(f"{out_dir / (name + '.parquet')}: {rows} rows")
    click.echo(f"sample written in {elapsed:.1f} s")
    return 0
