"""How long `kpisite sample-data` takes, from 10k to 1M contacts.

    .venv/bin/python benchmarks/sample_speed.py [--max 1000000]

Prints, per size, the seconds to generate and to write the extract, the rows written and
the ratio of time to the smallest size: a vectorised generator grows about linearly.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from kpi.sample import generate, write_parquet


def run(contacts: int, out: Path) -> tuple[float, float, int, int]:
    started = time.perf_counter()
    tables = generate(contacts=contacts)
    generated = time.perf_counter() - started
    for name, table in tables.items():
        write_parquet(table, out / f"{name}.parquet")
    written = time.perf_counter() - started - generated
    size = sum(path.stat().st_size for path in out.glob("*.parquet"))
    return generated, written, sum(t.num_rows for t in tables.values()), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=1_000_000, help="largest number of contacts")
    largest = parser.parse_args().max
    sizes = [n for n in (10_000, 100_000, 1_000_000) if n <= largest]

    print(f"{'contacts':>10} {'generate s':>11} {'write s':>8} {'rows':>11} {'MB':>7} {'ratio':>6}")
    base = None
    for contacts in sizes:
        with tempfile.TemporaryDirectory() as folder:
            generated, written, rows, size = run(contacts, Path(folder))
        total = generated + written
        base = base or total / contacts
        ratio = total / contacts / base
        print(
            f"{contacts:>10} {generated:>11.2f} {written:>8.2f} {rows:>11} "
            f"{size / 1e6:>7.1f} {ratio:>6.2f}"
        )
    print("ratio: time per contact relative to the smallest size (1.00 = linear)")


if __name__ == "__main__":
    main()
