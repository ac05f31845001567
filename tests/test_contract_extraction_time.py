"""The extraction time a Parquet file records (`kpisite.extracted_at`) is checked where it
is read: unreadable, without a UTC offset, before 1970 or in the future, it is a contract
error naming the file and the key, never a crash, never a silent bound or footer."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_contract import UTC_TYPE, make_project, orders, with_extraction_time
from test_contract_build import build
from test_contract_build import make_project as make_report_project

from kpi.contract import check_project
from kpi.extract import Extract
from site_builder.cli import main

KEY = "data/orders.parquet, metadata kpisite.extracted_at"
FORMAT = "expected an ISO 8601 time with its UTC offset, such as 2026-12-01T06:00:00+01:00"
FUTURE = re.compile(
    r"is in the future, after every event of the extract \(now: \d{4}-\d\d-\d\d \d\d:\d\d "
    r"UTC; newest event: 2024-02-03 12:00 UTC\) \(write the time the export ran; check the "
    r"clock of the server that wrote it\)$"
)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("garbage", f"{KEY}: cannot read 'garbage' as a time ({FORMAT})"),
        ("", f"{KEY}: cannot read '' as a time ({FORMAT})"),
        ("2024-03-01T06:00:00", f"{KEY}: '2024-03-01T06:00:00' has no UTC offset ({FORMAT})"),
        ("2024-03-01", f"{KEY}: '2024-03-01' has no UTC offset ({FORMAT})"),
        (
            "1900-01-01T00:00:00+00:00",
            f"{KEY}: '1900-01-01T00:00:00+00:00' is before 1970 (write the time the export ran)",
        ),
        # No UTC equivalent: converting them would overflow.
        (
            "0001-01-01T00:00:00+01:00",
            f"{KEY}: '0001-01-01T00:00:00+01:00' is before 1970 (write the time the export ran)",
        ),
        (
            "9999-12-31T23:59:59-01:00",
            f"{KEY}: '9999-12-31T23:59:59-01:00' is outside the calendar in UTC (write the time "
            "the export ran)",
        ),
    ],
)
def test_an_unusable_extraction_time_is_an_error_naming_the_file_and_the_key(
    tmp_path, value, problem
):
    project = make_project(tmp_path, orders=with_extraction_time(orders(), value))

    assert [str(p) for p in check_project(project).errors] == [problem]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("9999-12-31T23:59:59+00:00", "9999-12-31T23:59:59+00:00"),
        ("2200-01-01T01:00:00+01:00", "2200-01-01T00:00:00+00:00"),
    ],
)
def test_an_extraction_time_in_the_future_is_an_error(tmp_path, value, shown):
    # The orders' newest event is 2024-02-03 12:00 UTC.
    project = make_project(tmp_path, orders=with_extraction_time(orders(), value))

    [problem] = check_project(project).errors

    assert problem.where == KEY
    assert str(problem).startswith(f"{KEY}: {shown!r} is in the future")
    assert FUTURE.search(str(problem)), str(problem)


def test_an_extract_dated_after_the_clock_keeps_the_extraction_time_of_its_events(tmp_path):
    # A checking machine whose clock is behind: events up to 10 days from now, extracted
    # 6 hours after the last one. Both are consistent, so neither is refused.
    last = (datetime.now(UTC) + timedelta(days=10)).replace(microsecond=0)
    times = pa.array([last - timedelta(days=2), last - timedelta(days=1), last], UTC_TYPE)
    extracted = (last + timedelta(hours=6)).isoformat()
    project = make_project(
        tmp_path, orders=with_extraction_time(orders(ordered_at=times), extracted)
    )

    assert check_project(project).errors == []
    assert Extract(project).recorded_extracted_at("orders") == last + timedelta(hours=6)


def test_an_extraction_time_within_a_day_of_now_is_the_bound_of_the_table(tmp_path):
    # A server whose clock is a few hours ahead: accepted, and it bounds the event times.
    ahead = (datetime.now(UTC) + timedelta(hours=3)).replace(microsecond=0)
    project = make_project(tmp_path, orders=with_extraction_time(orders(), ahead.isoformat()))

    assert check_project(project).errors == []
    assert Extract(project).recorded_extracted_at("orders") == ahead


def test_the_bad_file_of_a_folder_table_is_the_one_named(tmp_path):
    project = make_project(tmp_path)
    folder = tmp_path / "data" / "orders"
    folder.mkdir()
    pq.write_table(
        with_extraction_time(orders(), "2024-03-01T06:00:00+01:00"), folder / "a.parquet"
    )
    later = orders(order_id=orders()["order_id"].to_pylist()[::-1])
    pq.write_table(with_extraction_time(later, "yesterday"), folder / "b.parquet")

    problems = [str(p) for p in check_project(project).errors]

    assert problems == [
        f"data/orders/b.parquet, metadata kpisite.extracted_at: cannot read 'yesterday' as a "
        f"time ({FORMAT})"
    ]


def test_a_bad_extraction_time_never_reaches_the_footer_or_the_time_bounds(tmp_path):
    # The footer and the engine's time bounds fall back to the file's time (the contract
    # has stopped the build by then); year 2200 must not become "extracted in 2200".
    project = make_project(tmp_path, orders=with_extraction_time(orders(), "2200-01-01T00:00Z"))
    path = tmp_path / "data" / "orders.parquet"

    extract = Extract(project)

    assert extract.recorded_extracted_at("orders") is None
    assert extract.extracted_at() == datetime.fromtimestamp(path.stat().st_mtime, UTC)


def year_9999(tmp_path) -> None:
    path = tmp_path / "data" / "orders.parquet"
    table = pq.read_table(path)
    metadata = {**table.schema.metadata, b"kpisite.extracted_at": b"9999-12-31T23:59:59+00:00"}
    pq.write_table(table.replace_schema_metadata(metadata), path)


def test_check_and_build_exit_1_not_3_on_a_year_9999_extraction_time(tmp_path, capsys):
    make_report_project(tmp_path)
    year_9999(tmp_path)

    checked = main(["check", "--project", str(tmp_path)])
    check_output = capsys.readouterr()
    built, build_output = build(tmp_path, capsys)

    assert checked == 1
    assert f"error: {KEY}: '9999-12-31T23:59:59+00:00' is in the future" in check_output.err
    assert built == 1
    assert f"  {KEY}: '9999-12-31T23:59:59+00:00' is in the future" in build_output
    assert "Internal error" not in check_output.err + build_output
    assert not (tmp_path / "site").exists()
