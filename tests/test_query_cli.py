"""`kpisite query`: text and JSON output, n/a reasons, clean errors."""

from __future__ import annotations

import json

import pytest
from kpi_fixture import make_project

from site_builder.cli import main


def run(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def row_of(value: dict, label: str) -> dict:
    """The breakdown row of a KPI's JSON value with this label."""
    rows = [row for row in value["by"] if row["label"] == label]
    assert len(rows) == 1, value["by"]
    return rows[0]


def test_json_values_for_a_month(tmp_path, capsys):
    make_project(tmp_path)
    code, out, _ = run(
        capsys, "query", "revenue", "open_rate", "nps", "--period", "2026-10", "--json",
        "--project", str(tmp_path),
    )  # fmt: skip
    assert code == 0
    report = json.loads(out)
    assert report["period"] == "2026-10"
    values = report["values"]
    # Hand-computed in tests/test_engine.py: 200.50 EUR, 3 / 6 opens, NPS 12.5 -> 13.
    assert values["revenue"]["value"] == 200.5
    assert values["revenue"]["formatted"] == "200,50\xa0€"
    assert values["open_rate"]["value"] == 0.5
    assert values["open_rate"]["formatted"] == "50,0\xa0%"
    assert values["nps"] == {"value": 13.0, "formatted": "+13", "label": "NPS", "unit": "score"}


def test_json_na_has_null_value_and_reason(tmp_path, capsys):
    make_project(tmp_path)
    code, out, _ = run(
        capsys, "query", "average_basket", "--period", "2026-12", "--json", "--project",
        str(tmp_path),
    )  # fmt: skip
    value = json.loads(out)["values"]["average_basket"]
    assert code == 0
    assert value["value"] is None
    assert value["reason"] == "n/a : aucune commande terminée sur la période"


def test_by_dimension_and_compare(tmp_path, capsys):
    make_project(tmp_path)
    code, out, _ = run(
        capsys, "query", "orders_count", "--period", "2026-10", "--by", "channel",
        "--compare", "previous", "--json", "--project", str(tmp_path),
    )  # fmt: skip
    value = json.loads(out)["values"]["orders_count"]
    assert code == 0
    # web 2, marketplace 1, store 1 (ties by name); September had 1 order -> +3.
    assert value["by"] == [
        {"member": "web", "kind": "value", "label": "web", "value": 2, "formatted": "2",
         "unit": "count"},
        {"member": "marketplace", "kind": "value", "label": "marketplace", "value": 1,
         "formatted": "1", "unit": "count"},
        {"member": "store", "kind": "value", "label": "store", "value": 1, "formatted": "1",
         "unit": "count"},
    ]  # fmt: skip
    assert value["compare"]["delta"] == 3.0


def test_week_grain_and_text_output(tmp_path, capsys):
    make_project(tmp_path)
    code, out, _ = run(
        capsys, "query", "revenue", "--period", "2026-W53", "--project", str(tmp_path)
    )
    # o11 70.00 on Sunday 3 January 2027 is in 2026-W53.
    assert code == 0
    assert "Semaine 53 de 2026 (2026-W53)" in out
    assert "Chiffre d'affaires [revenue]: 70,00\xa0€" in out


def test_unknown_kpi_is_a_clean_error(tmp_path, capsys):
    make_project(tmp_path)
    code, _, err = run(capsys, "query", "revenu", "--period", "2026-10", "--project", str(tmp_path))
    assert code == 1
    assert "unknown KPI 'revenu' (did you mean 'revenue'?)" in err


def test_counts_are_whole_numbers_in_json(tmp_path, capsys):
    make_project(tmp_path)
    code, out, _ = run(
        capsys, "query", "orders_count", "revenue", "--period", "2026-10", "--compare",
        "previous", "--json", "--project", str(tmp_path),
    )  # fmt: skip
    values = json.loads(out)["values"]
    assert code == 0
    assert values["orders_count"]["value"] == 4
    assert isinstance(values["orders_count"]["value"], int)
    assert isinstance(values["orders_count"]["compare"]["delta"], int)
    assert values["orders_count"]["compare"]["delta"] == 3
    assert values["revenue"]["value"] == 200.5  # money stays a decimal number


@pytest.mark.parametrize("top", ["0", "-1"])
def test_top_must_be_at_least_one(tmp_path, capsys, top):
    make_project(tmp_path)
    code, _, err = run(
        capsys, "query", "orders_count", "--period", "2026-10", "--by", "channel", "--top",
        top, "--project", str(tmp_path),
    )  # fmt: skip
    assert code == 2
    assert f"Invalid value for '--top': {top} is not in the range x>=1." in err


@pytest.mark.parametrize(
    ("period", "message"),
    [
        (
            "2030-01",
            "Error: --period '2030-01': after the data (the extract ends on 2027-01-04; the last "
            "complete month is 2026-12)\n",
        ),
        (
            "2027-01",
            "Error: --period '2027-01': not complete in the data (the extract ends on 2027-01-04; "
            "the last complete month is 2026-12)\n",
        ),
        (
            "2001-01",
            "Error: --period '2001-01': before the data (the extract starts on 2025-01-01; the "
            "first complete month is 2025-01)\n",
        ),
    ],
)
def test_a_period_outside_the_data_fails(tmp_path, capsys, period, message):
    make_project(tmp_path)
    code, out, err = run(capsys, "query", "revenue", "--period", period, "--project", str(tmp_path))
    assert (code, out, err) == (1, "", message)


def test_weekly_breakdown_members_sum_to_the_total(tmp_path, capsys):
    # October 2026 by week, clipped to October: 0 + 100.00 + 20.00 + 50.50 + 30.00.
    make_project(tmp_path)
    code, out, _ = run(
        capsys, "query", "revenue", "--period", "2026-10", "--by", "week", "--json",
        "--project", str(tmp_path),
    )  # fmt: skip
    revenue = json.loads(out)["values"]["revenue"]
    assert code == 0
    assert [(r["member"], r["kind"], r["label"], r["value"]) for r in revenue["by"]] == [
        ("2026-W40", "period", "Semaine 40 de 2026 (1–4 oct.)", 0.0),
        ("2026-W41", "period", "Semaine 41 de 2026", 100.0),
        ("2026-W42", "period", "Semaine 42 de 2026", 20.0),
        ("2026-W43", "period", "Semaine 43 de 2026", 50.5),
        ("2026-W44", "period", "Semaine 44 de 2026 (26–31 oct.)", 30.0),
    ]
    assert sum(r["value"] for r in revenue["by"]) == revenue["value"] == 200.5


def test_an_extract_breaking_the_contract_fails(tmp_path, capsys):
    from kpi_fixture import ORDERS, write_orders

    make_project(tmp_path)
    write_orders(tmp_path / "data", [*ORDERS, ORDERS[0]])  # o1 twice
    code, out, err = run(
        capsys, "query", "orders_count", "--period", "2026-10", "--project", str(tmp_path)
    )
    assert code == 1
    assert out == ""
    assert err.startswith(f"Error: the extract of {tmp_path} breaks the contract (1 error")
    assert "table orders, key (order_id): 1 duplicate key over 2 rows: o1 (x2)" in err


def test_a_value_that_failed_to_compute_fails(tmp_path, capsys, monkeypatch):
    from kpi.engine import Workbook
    from kpi.extract import QueryError

    def refuse(self, leaves, slice_):
        raise QueryError("Out of Range Error: overflow")

    make_project(tmp_path)
    monkeypatch.setattr(Workbook, "compute_measures", refuse)
    code, out, err = run(
        capsys, "query", "revenue", "--period", "2026-10", "--project", str(tmp_path)
    )
    assert code == 1
    assert "Chiffre d'affaires [revenue]: n/a (n/a : erreur de calcul" in out
    # The time bounds of the 5 dated tables ran; the orders query was refused.
    assert err == (
        "INFO     0 KPI values from the cache, 5 queries\n"
        "Error: KPIs revenue: the query failed: Out of Range Error: overflow\n"
    )


def test_an_unknown_filter_value_fails_with_a_hint(tmp_path, capsys):
    make_project(tmp_path)
    code, out, err = run(
        capsys, "query", "revenue", "--period", "2026-10", "--filter", "channel=webb",
        "--project", str(tmp_path),
    )  # fmt: skip
    assert (code, out) == (1, "")
    assert err == (
        "Error: --filter channel=webb: unknown value 'webb' for channel (did you mean 'web'?)\n"
    )


def test_a_known_filter_value_is_kept(tmp_path, capsys):
    # October, web: o1 100.00 and o4 30.00.
    make_project(tmp_path)
    code, out, _ = run(
        capsys, "query", "revenue", "--period", "2026-10", "--filter", "channel=web",
        "--json", "--project", str(tmp_path),
    )  # fmt: skip
    assert code == 0
    assert json.loads(out)["values"]["revenue"]["value"] == 130.0


def test_a_comparison_before_the_data_says_why_in_text(tmp_path, capsys):
    make_project(tmp_path)
    code, out, _ = run(
        capsys, "query", "revenue", "--period", "2025-01", "--compare", "previous",
        "--project", str(tmp_path),
    )  # fmt: skip
    assert code == 0
    assert out.splitlines()[1] == (
        "  Chiffre d'affaires [revenue]: 0,00\xa0€  n/a vs 2024-12 (n/a : période 2024-12 "
        "hors des données (du 01/01/2025 au 04/01/2027))"
    )


def test_a_grain_that_disagrees_with_the_period_is_refused(tmp_path, capsys):
    make_project(tmp_path)
    for period, grain, kind in (("2026-03", "week", "month"), ("2026-W10", "month", "week")):
        code, out, err = run(
            capsys, "query", "revenue", "--period", period, "--grain", grain,
            "--project", str(tmp_path),
        )  # fmt: skip
        assert (code, out) == (2, "")
        assert err.endswith(
            f"Error: Invalid value for --grain: {grain} does not match --period {period}, "
            f"a {kind} (give a {grain} as --period, or leave --grain out)\n"
        )
    # The grain of the period itself is accepted.
    code, out, _ = run(
        capsys, "query", "revenue", "--period", "2026-10", "--grain", "month", "--json",
        "--project", str(tmp_path),
    )  # fmt: skip
    assert (code, json.loads(out)["period"]) == (0, "2026-10")


def test_without_a_period_the_grain_picks_the_last_complete_one(tmp_path, capsys):
    # The fixture ends on Monday 4 January 2027: the last complete week is 2026-W53.
    make_project(tmp_path)
    code, out, _ = run(
        capsys, "query", "revenue", "--grain", "week", "--json", "--project", str(tmp_path)
    )
    assert (code, json.loads(out)["period"]) == (0, "2026-W53")


def test_no_complete_period_of_the_grain_is_said(tmp_path, capsys):
    # An extract of two orders, on 3 and 20 March 2026: no month lies within it.
    import pyarrow.parquet as pq
    from kpi_fixture import EXTRACTED_AT_KEY, write_orders

    write_orders(
        tmp_path / "data",
        [
            ("o1", None, "2026-03-03T10:00", "completed", False, "1.00", "web", "FR"),
            ("o2", None, "2026-03-20T10:00", "completed", False, "1.00", "web", "FR"),
        ],
    )
    # Extracted the next day: the fixture's own time (2027) would be in the future.
    path = tmp_path / "data" / "orders.parquet"
    extracted = {EXTRACTED_AT_KEY: b"2026-03-21T06:00:00+00:00"}
    pq.write_table(pq.read_table(path).replace_schema_metadata(extracted), path)
    (tmp_path / "mkdocs.yml").write_text("site_name: t\nplugins:\n  - kpisite\n")
    code, out, err = run(capsys, "query", "revenue", "--project", str(tmp_path))
    assert (code, out) == (1, "")
    # 3 March 2026 is a Tuesday: week 11 (9-15 March) is the last whole week.
    assert err.endswith(
        "Error: no complete month in the data (from 2026-03-03 to 2026-03-20): ask for "
        "--grain week (last complete: 2026-W11), --grain day (last complete: 2026-03-20) "
        "or a --period within the data\n"
    )


def test_repeated_filters_on_a_dimension_are_alternatives(tmp_path, capsys):
    # October: web o1 100.00 and o4 30.00, store o2 50.50 -> 180.50; the marketplace
    # order o7 (20.00) is left out.
    make_project(tmp_path)
    code, out, _ = run(
        capsys, "query", "revenue", "--period", "2026-10", "--filter", "channel=web",
        "--filter", "channel=store", "--json", "--project", str(tmp_path),
    )  # fmt: skip
    assert code == 0
    assert json.loads(out)["values"]["revenue"]["value"] == 180.5
    assert json.loads(out)["filters"] == {"channel": ["web", "store"]}


def test_the_filters_are_said_with_the_values(tmp_path, capsys):
    # October, web or store, bought by a contact of Paris: c1's o1 100.00 (web) and o2
    # 50.50 (store).
    make_project(tmp_path)
    code, out, _ = run(
        capsys, "query", "revenue", "--period", "2026-10", "--filter", "channel=web",
        "--filter", "channel=store", "--filter", "city=Paris", "--project", str(tmp_path),
    )  # fmt: skip
    assert code == 0
    assert out.splitlines()[:3] == [
        "Octobre 2026 (2026-10)",
        "  filtered on channel = web or store; city = Paris",
        "  Chiffre d'affaires [revenue]: 150,50\u00a0€",
    ]


def test_a_filter_on_the_blank_member(tmp_path, capsys):
    # Contacts existing at the end of October without a city: c9 alone; with Paris too:
    # c1 c8 and c9.
    make_project(tmp_path)
    code, out, _ = run(
        capsys, "query", "contacts_existing", "--period", "2026-10", "--filter",
        "city=(non renseigné)", "--json", "--project", str(tmp_path),
    )  # fmt: skip
    assert (code, json.loads(out)["values"]["contacts_existing"]["value"]) == (0, 1)
    code, out, _ = run(
        capsys, "query", "contacts_existing", "--period", "2026-10", "--filter",
        "city=(non renseigné)", "--filter", "city=Paris", "--json", "--project",
        str(tmp_path),
    )  # fmt: skip
    assert (code, json.loads(out)["values"]["contacts_existing"]["value"]) == (0, 3)


def test_json_numbers_are_whole_for_counts_and_whole_scores(tmp_path, capsys):
    make_project(tmp_path)
    (tmp_path / "kpis.yml").write_text(
        "kpis:\n  completed_lines:\n    kind: measure\n    table: orders\n"
        '    time: ordered_at\n    filter: status == "completed"\n    value: count()\n',
        encoding="utf-8",
    )
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: t\nplugins:\n  - kpisite:\n      catalogs: [kpis.yml]\n"
    )
    code, out, _ = run(
        capsys, "query", "nps", "ces", "--period", "2026-10", "--by", "platform", "--json",
        "--project", str(tmp_path),
    )  # fmt: skip
    values = json.loads(out)["values"]
    assert code == 0
    # NPS 12.5 rounded once to 13, a whole score; CES (2 + 3 + 5) / 3, a mean.
    assert values["nps"]["value"] == 13 and isinstance(values["nps"]["value"], int)
    assert isinstance(values["ces"]["value"], float)
    # NPS on ios: 9 9 -> +100, a whole number in the breakdown too.
    ios = row_of(values["nps"], "ios")
    assert ios["value"] == 100 and isinstance(ios["value"], int)

    code, out, _ = run(
        capsys, "query", "completed_lines", "orders_count", "--period", "2026-10", "--by",
        "channel", "--json", "--project", str(tmp_path),
    )  # fmt: skip
    values = json.loads(out)["values"]
    # Completed orders, tests included, with no unit: o1 o2 o4 o6 o7 -> 5, not 5.0.
    assert values["completed_lines"]["value"] == 5
    assert isinstance(values["completed_lines"]["value"], int)
    web = row_of(values["orders_count"], "web")
    assert web["value"] == 2 and isinstance(web["value"], int)


def test_query_logs_what_came_from_the_cache(tmp_path, capsys):
    make_project(tmp_path)
    args = ["query", "revenue", "--period", "2026-10", "--project", str(tmp_path)]
    run(capsys, *args)
    code, _, err = run(capsys, *args)
    # The second time, the value and the time bounds come from the disk cache.
    assert code == 0
    assert err == "INFO     1 KPI values from the cache, 0 queries\n"
    code, _, err = run(capsys, "-q", *args)
    assert (code, err) == (0, "")


def test_every_catalog_error_is_printed_once(tmp_path, capsys):
    make_project(tmp_path)
    (tmp_path / "kpis.yml").write_text(
        "kpis:\n  a:\n    formula: revenue\n    target: lots\n  b:\n    activity: active\n"
        "    window: -5\n",
        encoding="utf-8",
    )
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: t\nplugins:\n  - kpisite:\n      catalogs: [kpis.yml]\n"
    )
    code, out, err = run(capsys, "query", "revenue", "--project", str(tmp_path))
    path = tmp_path / "kpis.yml"
    assert (code, out) == (1, "")
    assert err == (
        "Error: 2 errors in the KPI catalogs\n"
        f"  {path}:4: KPI a: target: expected a number, got 'lots'\n"
        f"  {path}:7: KPI b: window: expected a number of days, 1 or more, got -5\n"
    )


def test_the_period_is_chosen_as_a_build_chooses_it(tmp_path, capsys, monkeypatch):
    # --period, else KPISITE_PERIOD, else the period setting, else the last complete month
    # (the fixture ends on 4 January 2027: 2026-12).
    make_project(tmp_path)
    monkeypatch.delenv("KPISITE_PERIOD", raising=False)

    def period(*args) -> str:
        code, out, err = run(
            capsys, "query", "revenue", "--json", "--project", str(tmp_path), *args
        )
        assert code == 0, err
        return json.loads(out)["period"]

    assert period() == "2026-12"
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: t\nplugins:\n  - kpisite:\n      period: 2026-08\n"
    )
    assert period() == "2026-08"
    monkeypatch.setenv("KPISITE_PERIOD", "2026-09")
    assert period() == "2026-09"
    assert period("--period", "2026-10") == "2026-10"


def test_a_grain_that_disagrees_with_kpisite_period_is_refused(tmp_path, capsys, monkeypatch):
    make_project(tmp_path)
    monkeypatch.setenv("KPISITE_PERIOD", "2026-10")
    code, out, err = run(capsys, "query", "revenue", "--grain", "week", "--project", str(tmp_path))
    assert (code, out) == (2, "")
    assert err.endswith(
        "Error: Invalid value for --grain: week does not match KPISITE_PERIOD 2026-10, a "
        "month (give a week as --period, or leave --grain out)\n"
    )


@pytest.mark.parametrize("empty", ["", " "])
def test_an_empty_period_is_a_malformed_command_line(tmp_path, capsys, empty):
    make_project(tmp_path)
    code, out, err = run(capsys, "query", "revenue", "--period", empty, "--project", str(tmp_path))
    assert (code, out) == (2, "")
    assert err.endswith(
        "Error: Invalid value for '--period': empty; give a period such as 2026-10, or leave "
        "the option out\n"
    )


@pytest.mark.parametrize("option", ["channel=", "channel= "])
def test_an_empty_filter_value_is_refused_with_the_blank_members_name(tmp_path, capsys, option):
    make_project(tmp_path)
    code, out, err = run(
        capsys, "query", "revenue", "--period", "2026-10", "--filter", option,
        "--project", str(tmp_path),
    )  # fmt: skip
    assert (code, out) == (2, "")
    assert err.endswith(
        f"Error: Invalid value for --filter: {option!r}: no value after '=' (write "
        "channel='(non renseigné)' to select blank values)\n"
    )


def test_a_filter_on_the_guest_orders_member(tmp_path, capsys):
    # October's guest order: o7, 20.00, on the marketplace. Breakdowns by the buyer's
    # city show it as "(sans contact)"; a filter names it the same way.
    make_project(tmp_path)
    code, out, _ = run(
        capsys, "query", "revenue", "orders_count", "--period", "2026-10", "--filter",
        "city=(sans contact)", "--json", "--project", str(tmp_path),
    )  # fmt: skip
    values = json.loads(out)["values"]
    assert code == 0
    assert (values["revenue"]["value"], values["orders_count"]["value"]) == (20.0, 1)
    # A dimension of the contacts' own: no contact is missing there, the value is unknown.
    code, _, err = run(
        capsys, "query", "contacts_existing", "--period", "2026-10", "--filter",
        "city=(sans contact)", "--project", str(tmp_path),
    )  # fmt: skip
    assert code == 1
    assert "--filter city=(sans contact): unknown value '(sans contact)' for city" in err


@pytest.mark.parametrize("empty", ["", " "])
def test_an_empty_by_is_a_malformed_command_line(tmp_path, capsys, empty):
    make_project(tmp_path)
    code, out, err = run(
        capsys, "query", "revenue", "--period", "2026-10", "--by", empty, "--project",
        str(tmp_path),
    )  # fmt: skip
    assert (code, out) == (2, "")
    assert "Invalid value for '--by': empty; give a dimension such as channel" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--by", "week"],
            "Invalid value for --top: keeps the first members of a dimension; --by week "
            "lists every week of the period (leave --top out)",
        ),
        ([], "Invalid value for --top: keeps the first members of a breakdown: give --by too"),
    ],
)
def test_a_top_that_would_be_ignored_is_refused(tmp_path, capsys, args, message):
    make_project(tmp_path)
    code, out, err = run(
        capsys, "query", "revenue", "--period", "2026-10", "--top", "3", *args, "--project",
        str(tmp_path),
    )  # fmt: skip
    assert (code, out) == (2, "")
    assert message in " ".join(err.split())


def test_a_filter_on_the_other_row_says_no_filter_selects_it(tmp_path, capsys):
    make_project(tmp_path)
    code, out, err = run(
        capsys, "query", "contacts_existing", "--period", "2026-10", "--filter",
        "city=Autres", "--project", str(tmp_path),
    )  # fmt: skip
    assert (code, out) == (1, "")
    assert err == (
        "Error: --filter city=Autres: 'Autres' is the row of a breakdown's other members, "
        "which no filter selects, and city has no such value (filter on the members it "
        "stands for, as the breakdown shows them)\n"
    )


def test_a_filter_on_the_other_row_lists_the_close_members(tmp_path, capsys):
    from kpi_fixture import CONTACTS, write_contacts

    make_project(tmp_path)
    cities = {"c1": "Autrans", "c2": "Autre"}
    rows = [(c[0], c[1], c[2], cities.get(c[0], c[3]), *c[4:]) for c in CONTACTS]
    write_contacts(tmp_path / "data", rows)
    code, _, err = run(
        capsys, "query", "contacts_existing", "--period", "2026-10", "--filter",
        "city=Autres", "--project", str(tmp_path),
    )  # fmt: skip
    assert code == 1
    assert err.endswith("city has no such value (close members: 'Autre', 'Autrans')\n")
    # The real value "Autres", once in the data, is a member the filter selects.
    cities["c3"] = "Autres"
    write_contacts(
        tmp_path / "data", [(c[0], c[1], c[2], cities.get(c[0], c[3]), *c[4:]) for c in CONTACTS]
    )
    code, out, _ = run(
        capsys, "query", "contacts_existing", "--period", "2026-10", "--filter",
        "city=Autres", "--json", "--project", str(tmp_path),
    )  # fmt: skip
    assert code == 0
    assert json.loads(out)["values"]["contacts_existing"]["value"] == 1  # c3


def test_a_second_by_is_refused_not_silently_taken(tmp_path, capsys):
    make_project(tmp_path)
    code, out, err = run(
        capsys, "query", "revenue", "--period", "2026-10", "--by", "channel", "--by", "city",
        "--project", str(tmp_path),
    )  # fmt: skip
    assert (code, out) == (2, "")
    assert err.endswith(
        "Error: Invalid value for '--by': given 2 times (channel, city): a breakdown has one "
        "dimension (run the query once per dimension)\n"
    )
