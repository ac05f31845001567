"""The sample extract: deterministic to the byte, realistic enough for every KPI."""

from __future__ import annotations

import hashlib
import os
import resource
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import ROOT

from kpi.contract import check_project
from kpi.errors import KpisiteError
from kpi.project import Project
from kpi.sample import generate, write_sample
from kpi.schema import TABLES
from site_builder.cli import main

DATA = ROOT / "data"


def digest(folder) -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.glob("*.parquet"))
    }


@pytest.fixture(scope="module")
def sql():
    """Plain DuckDB over the committed sample, in the sample's zone."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Europe/Paris'")
    for name in TABLES:
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM '{DATA / name}.parquet'")

    def one(query: str):
        return con.execute(query).fetchone()

    return one


def test_committed_sample_is_reproduced_byte_for_byte(tmp_path):
    # The command documented in doc/extract.md, with its defaults.
    code = main(["sample-data", "--out", str(tmp_path)])

    assert code == 0
    assert digest(tmp_path) == digest(DATA)
    assert len(digest(DATA)) == len(TABLES)


SMALL = ["--contacts", "200", "--months", "3"]


def test_sample_data_refuses_to_overwrite_an_extract_without_force(tmp_path, capsys, monkeypatch):
    # The default --out is data/, where a project keeps its real extract.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "orders.parquet").write_bytes(b"the real extract")

    code = main(["sample-data", *SMALL])

    assert code == 1
    assert capsys.readouterr().err.strip() == (
        "Error: data: already holds 1 Parquet file (orders.parquet); the sample would "
        "overwrite this extract (pass --force to overwrite it, or --out DIR to write the "
        "sample elsewhere)"
    )
    assert [path.name for path in (tmp_path / "data").iterdir()] == ["orders.parquet"]
    assert (tmp_path / "data" / "orders.parquet").read_bytes() == b"the real extract"


def test_sample_data_overwrites_an_extract_with_force(tmp_path):
    (tmp_path / "orders").mkdir()
    (tmp_path / "orders" / "2024-01.parquet").write_bytes(b"a folder table")

    assert main(["sample-data", *SMALL, "--out", str(tmp_path)]) == 1
    assert main(["sample-data", *SMALL, "--out", str(tmp_path), "--force"]) == 0
    assert len(digest(tmp_path)) == len(TABLES)


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    write_sample(tmp_path / "a", contacts=200, seed=3)
    write_sample(tmp_path / "b", contacts=200, seed=3)
    write_sample(tmp_path / "c", contacts=200, seed=4)

    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert digest(tmp_path / "a")["contacts.parquet"] != digest(tmp_path / "c")["contacts.parquet"]


def test_a_small_sample_passes_the_contract(tmp_path):
    write_sample(tmp_path / "data", contacts=150, seed=11, end="2025-03", months=24)
    (tmp_path / "mkdocs.yml").write_text("site_name: T\nplugins:\n  - kpisite\n")

    report = check_project(Project.load(tmp_path))

    assert report.errors == []
    assert len(report.tables) == len(TABLES)


def test_every_canonical_column_is_generated():
    tables = generate(contacts=50, seed=1)

    for name, table in TABLES.items():
        assert tables[name].column_names == table.column_names(), name


def test_committed_sample_is_small():
    size = sum(path.stat().st_size for path in DATA.glob("*.parquet"))

    assert size < 3_000_000


def test_history_covers_36_months_ending_november_2026(sql):
    first, last, months = sql(
        "SELECT strftime(min(ordered_at), '%Y-%m'), strftime(max(ordered_at), '%Y-%m'), "
        "count(DISTINCT strftime(ordered_at, '%Y-%m')) FROM orders"
    )

    assert (first, last, months) == ("2023-12", "2026-11", 36)


def test_growth_and_seasonality(sql):
    # More orders in the last year than the year before, and a Christmas peak.
    before, after = sql(
        "SELECT count(*) FILTER (WHERE ordered_at < '2025-12-01'), "
        "count(*) FILTER (WHERE ordered_at >= '2025-12-01') FROM orders"
    )
    december, august = sql(
        "SELECT count(*) FILTER (WHERE strftime(ordered_at, '%Y-%m') = '2025-12'), "
        "count(*) FILTER (WHERE strftime(ordered_at, '%Y-%m') = '2025-08') FROM orders"
    )

    assert after > before * 0.9
    assert december > august * 1.5


def test_churn_and_reactivation(sql):
    # Customers with a gap of more than 120 days between two orders came back.
    (reactivated,) = sql(
        "SELECT count(DISTINCT contact_id) FROM (SELECT contact_id, ordered_at - lag(ordered_at) "
        "OVER (PARTITION BY contact_id ORDER BY ordered_at) AS gap FROM orders "
        "WHERE contact_id IS NOT NULL) WHERE gap > INTERVAL 120 DAY"
    )
    (active_last_90,) = sql(
        "SELECT count(DISTINCT contact_id) FROM orders WHERE ordered_at >= '2026-09-02'"
    )
    (customers,) = sql("SELECT count(*) FROM contacts WHERE lifecycle_stage = 'customer'")

    assert reactivated > 50
    assert 0 < active_last_90 < customers * 0.6


def test_cancelled_test_and_guest_orders(sql):
    cancelled, test, guests = sql(
        "SELECT count(*) FILTER (WHERE status = 'cancelled'), count(*) FILTER (WHERE is_test), "
        "count(*) FILTER (WHERE contact_id IS NULL) FROM orders"
    )

    assert cancelled > 100 and test > 10 and guests > 100


def test_orders_add_up_from_their_lines(sql):
    # total = lines - discount + shipping, to the cent, for every order.
    (wrong,) = sql(
        "SELECT count(*) FROM orders o JOIN (SELECT order_id, sum(line_amount) AS lines "
        "FROM order_lines GROUP BY 1) l USING (order_id) "
        "WHERE o.total_amount <> l.lines - o.discount_amount + o.shipping_amount"
    )

    assert wrong == 0


def test_campaign_funnel_with_machine_opens_in_the_last_month(sql):
    sent, human, machine, clicks, unsubscribes = sql(
        "SELECT count(*) FILTER (WHERE event_type = 'sent'), "
        "count(*) FILTER (WHERE event_type = 'open' AND NOT is_machine_open), "
        "count(*) FILTER (WHERE event_type = 'open' AND is_machine_open), "
        "count(*) FILTER (WHERE event_type = 'click'), "
        "count(*) FILTER (WHERE event_type = 'unsubscribe') "
        "FROM campaign_events WHERE occurred_at >= '2026-11-01'"
    )
    (machine_flag_elsewhere,) = sql(
        "SELECT count(*) FROM campaign_events "
        "WHERE event_type <> 'open' AND is_machine_open IS NOT NULL"
    )

    assert sent > human > clicks > 0
    assert machine > 0 and unsubscribes > 0
    assert machine_flag_elsewhere == 0


def test_unsubscribed_contacts_are_opted_out(sql):
    (mismatch,) = sql(
        "SELECT count(*) FROM contacts c JOIN (SELECT contact_id, min(occurred_at) AS at "
        "FROM campaign_events WHERE event_type = 'unsubscribe' GROUP BY 1) u USING (contact_id) "
        "WHERE c.email_opt_out_at IS DISTINCT FROM u.at OR c.email_opt_in"
    )

    assert mismatch == 0


def test_surveys_on_every_platform_in_recent_months(sql):
    kinds, platforms, countries, cities = sql(
        "SELECT count(DISTINCT q.kind), count(DISTINCT platform), "
        "count(DISTINCT respondent_country), count(DISTINCT respondent_city) "
        "FROM survey_responses r JOIN survey_questions q USING (survey_id, question_id) "
        "WHERE submitted_at >= '2026-09-01' AND q.kind IN ('nps', 'ces', 'csat')"
    )

    assert (kinds, platforms) == (3, 5)
    assert countries >= 5 and cities >= 15


def test_placeholders_missing_values_and_soft_deletes(sql):
    missing, blank, placeholder, bad_domain, deleted = sql(
        "SELECT count(*) FILTER (WHERE email IS NULL), count(*) FILTER (WHERE email = ''), "
        "count(*) FILTER (WHERE email = 'n/a'), "
        "count(*) FILTER (WHERE email LIKE '%@%' AND NOT email LIKE '%@example.com'), "
        "count(*) FILTER (WHERE deleted_at IS NOT NULL) FROM contacts"
    )
    (phone_placeholder,) = sql("SELECT count(*) FROM contacts WHERE phone = 'n/a'")

    assert missing > 0 and blank > 0 and placeholder > 0 and phone_placeholder > 0
    assert bad_domain == 0
    assert deleted > 20


def test_countries_mostly_france(sql):
    france, others = sql(
        "SELECT count(*) FILTER (WHERE country_code = 'FR'), "
        "count(DISTINCT country_code) FILTER (WHERE country_code <> 'FR') FROM contacts"
    )
    (total,) = sql("SELECT count(*) FROM contacts")

    assert france > total * 0.6
    assert others >= 5


def test_timestamps_cross_daylight_saving_changes(sql):
    # Orders at Paris wall-clock times on both sides of the offset change, and at night.
    winter, summer = sql(
        "SELECT count(*) FILTER (WHERE utc_offset = INTERVAL 1 HOUR), "
        "count(*) FILTER (WHERE utc_offset = INTERVAL 2 HOUR) FROM "
        "(SELECT ordered_at::TIMESTAMP - timezone('UTC', ordered_at) AS utc_offset FROM orders)"
    )
    (change_days,) = sql(
        "SELECT count(*) FROM contacts WHERE strftime(created_at, '%m-%d') IN "
        "('03-31', '03-30', '03-29', '10-25', '10-26', '10-27')"
    )

    assert winter > 0 and summer > 0
    assert change_days > 0


# --- sizes and arguments the sample refuses ----------------------------------------


def test_the_smallest_sample_accepted_passes_the_check(tmp_path, capsys):
    for seed in (0, 1, 2):
        out = tmp_path / str(seed)
        assert main(["sample-data", *SMALL, "--seed", str(seed), "--out", str(out / "data")]) == 0
        (out / "mkdocs.yml").write_text("site_name: T\nplugins:\n  - kpisite\n")

        assert main(["check", "--project", str(out)]) == 0, capsys.readouterr().err
        assert "8 tables checked" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--contacts", "10"], "Invalid value for '--contacts': 10 is not in the range x>=200."),
        (["--months", "1"], "Invalid value for '--months': 1 is not in the range x>=3."),
        (
            ["--contacts", "100000000000"],
            "Invalid value for '--contacts': 100,000,000,000 is more than 10,000,000: ten times "
            "the 1,000,000 contacts of the benchmarks, which take about 4 GB of memory "
            "(benchmarks/NOTES.md)",
        ),
        (
            ["--contacts", "10000001"],
            "Invalid value for '--contacts': 10,000,001 is more than 10,000,000",
        ),
        (["--end", "9999-12"], "'9999-12': expected a month from 1971-01 to 2100-12"),
        (["--end", "0001-01"], "'0001-01': expected a month from 1971-01 to 2100-12"),
        (
            ["--end", "1971-06", "--months", "12"],
            "Invalid value for '--months': 12 months ending with 1971-06 start in 1970-07, "
            "before 1971-01 (at most 6 months end with 1971-06)",
        ),
    ],
)
def test_sizes_and_months_out_of_range_are_usage_errors(tmp_path, capsys, args, message):
    code = main(["sample-data", *args, "--out", str(tmp_path / "out")])

    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert not (tmp_path / "out").exists()


def test_a_sample_with_an_empty_table_is_refused_and_not_written(tmp_path):
    # Ten contacts over one month: no one answers a survey with this seed.
    tables = generate(contacts=10, seed=1, months=1)
    assert tables["survey_responses"].num_rows == 0

    with pytest.raises(KpisiteError) as error:
        write_sample(tmp_path / "out", contacts=10, seed=1, months=1)

    assert "has no rows in " in str(error.value) and "survey_responses" in str(error.value)
    assert "at least 200 contacts over 3 months" in str(error.value)
    assert not (tmp_path / "out").exists()


def test_an_out_folder_that_cannot_be_made_is_a_clean_error(tmp_path, capsys):
    (tmp_path / "afile").write_text("a file, not a folder")

    code = main(["sample-data", *SMALL, "--out", str(tmp_path / "afile" / "sub")])

    assert code == 1
    assert capsys.readouterr().err == (
        f"Error: {tmp_path}/afile/sub: cannot write the sample there (Not a directory)\n"
    )


def address_space_after_imports() -> int:
    """The virtual memory of a process that has imported the sample command, in bytes."""
    probe = (
        "import site_builder.cli, site_builder.commands.sample, kpi.sample; "
        "print(next(line.split()[1] for line in open('/proc/self/status') "
        "if line.startswith('VmSize')))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    return int(result.stdout) * 1024


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_a_sample_larger_than_the_memory_is_a_clean_error(tmp_path):
    # A million contacts need about 4 GB: with 1 GB more than the imports took (and room
    # for thread stacks), the generator runs out of memory for real, early.
    limit = address_space_after_imports() + 2**30 + (os.cpu_count() or 1) * 16 * 2**20

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    command = [sys.executable, "-m", "site_builder.cli", "sample-data", "--contacts", "1000000"]
    result = subprocess.run(
        [*command, "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        preexec_fn=cap,
        cwd=ROOT,
    )

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "Error: not enough memory for a sample of 1,000,000 contacts over 36 months "
        "(1,000,000 contacts over 36 months take about 4 GB; ask for fewer contacts or "
        "months)\n"
    )
    assert not (tmp_path / "out").exists()
