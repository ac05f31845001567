"""Catalog files: the standard catalog, project overrides, and errors at file:line."""

from __future__ import annotations

import pytest

from kpi.catalog import Catalog
from kpi.errors import CatalogError

STANDARD_KPIS = {
    "orders_count", "revenue", "average_basket", "contacts_existing", "active_customers",
    "active_rate", "churned", "churn_rate", "activated", "activation_rate",
    "revenue_per_contact", "completeness", "delivered", "open_rate", "click_rate",
    "responsiveness_rate", "unsubscribe_rate", "nps", "ces", "csat", "nps_responses",
    "ces_responses", "csat_responses",
}  # fmt: skip


def write(tmp_path, text: str):
    path = tmp_path / "kpis.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_standard_catalog_covers_the_issue_with_french_labels():
    catalog = Catalog.load()
    assert set(catalog.names()) >= STANDARD_KPIS
    for name in catalog.names():
        kpi = catalog.get(name)
        assert kpi.label and kpi.description and kpi.unit, name
    assert catalog.get("churn_rate").label == "Taux d'attrition"
    assert catalog.get("churn_rate").direction == "lower"
    assert catalog.get("revenue").tables == {"orders"}
    assert catalog.get("open_rate").tables == {"campaign_events", "campaigns"}
    assert "channel" in catalog.get("average_basket").dimensions


def test_project_adds_and_overrides(tmp_path):
    path = write(
        tmp_path,
        """kpis:
  revenue:
    target: 100000
  big_orders:
    kind: measure
    label: Grosses commandes
    table: orders
    time: ordered_at
    filter: status == "completed" and total_amount >= 1000
    unit: count
  big_share:
    formula: big_orders / orders_count
    unit: percent
""",
    )
    catalog = Catalog.load([path])
    assert catalog.get("revenue").target == 100000
    assert catalog.get("revenue").label == "Chiffre d'affaires"  # kept from the standard
    assert catalog.get("big_share").deps[0].name == "big_orders"


def test_unknown_column_reports_file_line_and_hint(tmp_path):
    path = write(
        tmp_path,
        """kpis:
  x:
    kind: measure
    table: orders
    time: ordered_at
    filter: statuss == "completed"
""",
    )
    with pytest.raises(
        CatalogError, match=r"kpis.yml:6: KPI x: filter: unknown column 'statuss'.*'status'"
    ):
        Catalog.load([path])


@pytest.mark.parametrize(
    ("formulas", "cycle"),
    [
        ({"a": "b + 1", "b": "a * 2"}, "a -> b -> a"),
        ({"a": "b + 1", "b": "c * 2", "c": "a - revenue"}, "a -> b -> c -> a"),
    ],
    ids=["two", "three"],
)
def test_a_cycle_between_kpis_is_said_once_with_its_path(tmp_path, formulas, cycle):
    text = "".join(f"  {name}:\n    formula: {formula}\n" for name, formula in formulas.items())
    path = write(tmp_path, "kpis:\n" + text)

    with pytest.raises(CatalogError) as error:
        Catalog.load([path])

    assert str(error.value) == f"{path}:2: cycle {cycle}"


@pytest.mark.parametrize(
    ("broken", "error"),
    [
        ("revenu / 2", "KPI c: unknown KPI 'revenu' (did you mean 'revenue'?)"),
        (
            "completeness(emial)",
            "KPI c: completeness(emial): no column 'emial' in contacts (did you mean 'email'?)",
        ),
    ],
    ids=["unknown-kpi", "bad-argument"],
)
def test_a_chain_of_formulas_over_a_broken_kpi_says_the_broken_one(tmp_path, broken, error):
    # c is wrong, and declared first; b reads c and a reads b: they are left out with it.
    path = write(
        tmp_path,
        f"kpis:\n  c:\n    formula: {broken}\n  b:\n    formula: c * 2\n  a:\n    formula: b + 1\n",
    )

    with pytest.raises(CatalogError) as raised:
        Catalog.load([path])

    assert str(raised.value) == f"{path}:3: {error}"


def test_unknown_kpi_in_formula(tmp_path):
    path = write(tmp_path, "kpis:\n  a:\n    label: A\n    formula: revenu / orders_count\n")
    with pytest.raises(CatalogError, match=r"kpis.yml:4: KPI a: unknown KPI 'revenu'.*'revenue'"):
        Catalog.load([path])


def test_unknown_field_and_kind(tmp_path):
    path = write(tmp_path, "kpis:\n  a:\n    formula: revenue\n    unti: count\n")
    with pytest.raises(CatalogError, match=r"kpis.yml:4: KPI a: unknown field 'unti'.*'unit'"):
        Catalog.load([path])
    path = write(tmp_path, "kpis:\n  a:\n    kind: mesure\n")
    with pytest.raises(CatalogError, match=r"kpis.yml:3: KPI a: unknown kind 'mesure'.*'measure'"):
        Catalog.load([path])


def test_type_error_in_value(tmp_path):
    path = write(
        tmp_path,
        "kpis:\n  a:\n    kind: measure\n    table: orders\n    time: ordered_at\n"
        "    value: sum(channel)\n",
    )
    with pytest.raises(CatalogError, match=r"kpis.yml:6: KPI a: value: .*expected a num"):
        Catalog.load([path])


def test_parameter_column_is_checked(tmp_path):
    path = write(tmp_path, "kpis:\n  a:\n    formula: completeness(emial)\n    unit: percent\n")
    with pytest.raises(CatalogError, match=r"kpis.yml:3: .*no column 'emial'.*'email'"):
        Catalog.load([path])


def test_unknown_kpi_without_a_close_name_has_a_hint_not_none(tmp_path):
    path = write(tmp_path, "kpis:\n  big_share:\n    formula: big_orders / orders_count\n")
    with pytest.raises(CatalogError) as error:
        Catalog.load([path])
    assert str(error.value) == (
        f"{path}:3: KPI big_share: unknown KPI 'big_orders' (declare it under 'kpis:' in a "
        "file of the catalogs setting, or use a KPI of kpi/catalog.yml)"
    )


def test_a_python_builtin_in_a_formula_names_what_a_formula_may_call(tmp_path):
    path = write(tmp_path, 'kpis:\n  a:\n    formula: __import__("os")\n')
    with pytest.raises(CatalogError) as error:
        Catalog.load([path])
    assert str(error.value) == (
        f"{path}:3: KPI a: unknown KPI '__import__' (a formula names KPIs of the catalog "
        "and the functions round() and abs())"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "- revenue\n- nps\n",
            "1: expected a top-level 'kpis:' mapping of KPI names, found a list",
        ),
        (
            "kpis:\n  - revenue: {formula: orders_count}\n",
            "2: 'kpis:' holds a list; expected a top-level 'kpis:' mapping of KPI names (each "
            "name followed by its fields, e.g. 'revenue:' then 'measure: ...')",
        ),
        (
            "kpi:\n  a:\n    formula: revenue\n",
            "1: expected a top-level 'kpis:' mapping of KPI names (found 'kpi': rename it 'kpis')",
        ),
        (
            "metrics:\n  a:\n    formula: revenue\n",
            "1: expected a top-level 'kpis:' mapping of KPI names (the file's top-level keys: "
            "'metrics')",
        ),
    ],
    ids=["list", "kpis-list", "misspelt", "other-key"],
)
def test_a_catalog_without_a_kpis_mapping_says_what_it_holds(tmp_path, text, message):
    path = write(tmp_path, text)

    with pytest.raises(CatalogError) as error:
        Catalog.load([path])

    assert str(error.value) == f"{path}:{message}"


def test_broken_yaml_names_the_file_and_line(tmp_path):
    path = write(tmp_path, "kpis:\n  a:\n    formula: revenue\n   label: A\n")
    with pytest.raises(CatalogError) as error:
        Catalog.load([path])
    assert str(error.value) == (
        f"{path}:4: not valid YAML: expected <block end>, but found '<block mapping start>' "
        "(while parsing a block mapping, column 4)"
    )
    assert "<unicode string>" not in str(error.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'kpis:\n  a:\n    label: "A\n',
            ":3: not valid YAML: found unexpected end of stream (while scanning a quoted scalar, "
            "column 12)",
        ),
        (
            "kpis:\n  a: [\n\n",
            ":2: not valid YAML: expected the node content, but found '<stream end>' (the file "
            "ends after this line)",
        ),
    ],
    ids=["quote", "bracket"],
)
def test_yaml_left_open_is_said_where_it_opens_not_past_the_last_line(tmp_path, text, message):
    path = write(tmp_path, text)

    with pytest.raises(CatalogError) as error:
        Catalog.load([path])

    assert str(error.value) == f"{path}{message}"


def test_unknown_column_without_a_close_name_prints_no_none(tmp_path):
    path = write(
        tmp_path,
        "kpis:\n  a:\n    kind: measure\n    table: orders\n    time: ordered_at\n"
        "    value: sum(zzzzzz)\n",
    )
    with pytest.raises(CatalogError) as error:
        Catalog.load([path])
    assert "(None)" not in str(error.value)
    assert str(error.value).startswith(f"{path}:6: KPI a: value: unknown column 'zzzzzz' in ")


def load_error(path) -> CatalogError:
    with pytest.raises(CatalogError) as error:
        Catalog.load([path])
    return error.value


def test_a_kpi_declared_twice_in_a_file_names_both_lines(tmp_path):
    path = write(
        tmp_path,
        "kpis:\n  a:\n    formula: revenue\n  a:\n    formula: orders_count\n",
    )
    assert str(load_error(path)) == (
        f"{path}:4: KPI a: declared twice in this file (first on line 2; keep one)"
    )


def test_a_field_given_twice_names_both_lines(tmp_path):
    path = write(tmp_path, "kpis:\n  a:\n    formula: revenue\n    formula: orders_count\n")
    assert str(load_error(path)) == (
        f"{path}:4: KPI a: field 'formula' given twice (first on line 3)"
    )


def test_an_override_of_another_kind_replaces_the_kpi(tmp_path):
    # revenue is a measure; a formula says its kind by its `formula` field.
    path = write(tmp_path, "kpis:\n  revenue:\n    formula: orders_count * 10\n")
    revenue = Catalog.load([path]).get("revenue")
    assert (revenue.kind, revenue.label, revenue.unit) == ("formula", "revenue", "number")
    assert [ref.name for ref in revenue.deps] == ["orders_count"]
    assert revenue.tables == {"orders"}


def test_a_typo_in_a_field_suggests_the_closest_field_of_any_kind(tmp_path):
    path = write(tmp_path, "kpis:\n  a:\n    label: A\n    formla: revenue / 2\n")
    assert str(load_error(path)) == (
        f"{path}:4: KPI a: unknown field 'formla' (did you mean 'formula'?)"
    )


def test_a_field_of_another_kind_says_which(tmp_path):
    path = write(
        tmp_path,
        "kpis:\n  a:\n    kind: measure\n    table: orders\n    time: ordered_at\n    window: 30\n",
    )
    assert str(load_error(path)) == (
        f"{path}:6: KPI a: field 'window' does not apply to a measure KPI (it is a field "
        "of activity KPIs)"
    )


def test_a_bad_field_value_points_at_its_own_line(tmp_path):
    path = write(
        tmp_path,
        "kpis:\n  a:\n    label: A\n    formula: revenue / 2\n    unit: euros\n",
    )
    assert str(load_error(path)) == (
        f"{path}:5: KPI a: unit: 'euros' is not one of count, percent, currency, score, number"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "kpis:\n  a:\n    activity: active\n    window: -5\n",
            ":4: KPI a: window: expected a number of days, 1 or more, got -5",
        ),
        (
            "kpis:\n  a:\n    activity: active\n    window: ninety\n",
            ":4: KPI a: window: expected a number of days, 1 or more, got 'ninety'",
        ),
        (
            "kpis:\n  a:\n    formula: revenue\n    target: lots\n",
            ":4: KPI a: target: expected a number, got 'lots'",
        ),
        (
            "kpis:\n  a:\n    activity: active\n    include_interactions: sometimes\n",
            ":4: KPI a: include_interactions: expected true or false, got 'sometimes'",
        ),
        (
            "kpis:\n  a:\n    activity: actif\n",
            ":3: KPI a: activity: 'actif' is not one of active, churned, activated "
            "(did you mean 'active'?)",
        ),
    ],
)
def test_field_values_are_checked(tmp_path, text, message):
    path = write(tmp_path, text)
    assert str(load_error(path)) == f"{path}{message}"


def test_every_error_of_every_catalog_file_is_reported_together(tmp_path):
    first = write(
        tmp_path,
        "kpis:\n  a:\n    formula: revenu / 2\n    unit: euros\n  b:\n    formla: a\n",
    )
    second = tmp_path / "more.yml"
    second.write_text(
        "kpis:\n  c:\n    activity: active\n    window: 0\n  d:\n    formula: a + c\n",
        encoding="utf-8",
    )
    with pytest.raises(CatalogError) as error:
        Catalog.load([first, second])
    assert str(error.value) == "4 errors in the KPI catalogs"
    # In the order of the files, then of their lines, whichever check found them.
    assert [str(problem) for problem in error.value.problems] == [
        f"{first}:3: KPI a: unknown KPI 'revenu' (did you mean 'revenue'?)",
        f"{first}:4: KPI a: unit: 'euros' is not one of count, percent, currency, score, number",
        f"{first}:6: KPI b: unknown field 'formla' (did you mean 'formula'?)",
        f"{second}:4: KPI c: window: expected a number of days, 1 or more, got 0",
    ]


def test_a_misspelt_override_says_it_is_no_kpi_of_the_catalog(tmp_path):
    # `revenu` only relabels: it defines nothing, and no KPI has that name.
    path = write(tmp_path, "kpis:\n  revenu:\n    label: Ventes\n  x:\n    label: X\n")
    with pytest.raises(CatalogError) as error:
        Catalog.load([path])
    assert [str(problem) for problem in error.value.problems] == [
        f"{path}:2: KPI revenu: revenu is not a KPI of the catalog, so it needs a kind "
        "(formula, table or activity); did you mean to override 'revenue'?",
        f"{path}:4: KPI x: x is not a KPI of the catalog, so it needs a kind (formula, "
        "table or activity)",
    ]


def test_a_formula_reading_a_misspelt_override_is_not_reported_again(tmp_path):
    path = write(tmp_path, "kpis:\n  revenu:\n    label: Ventes\n  b:\n    formula: revenu * 2\n")
    with pytest.raises(CatalogError) as error:
        Catalog.load([path])
    assert str(error.value).startswith(f"{path}:2: KPI revenu: revenu is not a KPI")
    assert not error.value.problems  # one error alone


@pytest.mark.parametrize(
    ("fields", "line", "hint"),
    [
        # 'table' is one edit from 'lable' too, but a formula has no table, and a
        # measure's 'label' shares the typo's first letter.
        ("formula: revenue\n    lable: X\n", 4, "did you mean 'label'?"),
        (
            "table: orders\n    time: ordered_at\n    lable: X\n",
            5,
            "did you mean 'label'?",
        ),
        ("formula: revenue\n    descripton: X\n", 4, "did you mean 'description'?"),
        ("table: orders\n    time: ordered_at\n    fliter: x\n", 5, "did you mean 'filter'?"),
        (
            "formula: revenue\n    colour: red\n",
            4,
            "expected one of: description, direction, empty, format, formula, kind, label, "
            "params, target, unit",
        ),
    ],
)
def test_a_misspelt_field_suggests_a_field_of_its_kind(tmp_path, fields, line, hint):
    path = write(tmp_path, f"kpis:\n  a:\n    {fields}")
    with pytest.raises(CatalogError) as error:
        Catalog.load([path])
    key = fields.splitlines()[-1].strip().split(":")[0]
    assert str(error.value) == f"{path}:{line}: KPI a: unknown field '{key}' ({hint})"


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ('"my kpi"', "my_kpi"),
        ('"1bad"', "kpi_1bad"),
        ("éà", "ea"),
        ("Chiffre d'affaires", "chiffre_d_affaires"),
        ("if", "if_kpi"),
        ("round", "round_kpi"),
    ],
)
def test_a_kpi_name_a_formula_cannot_write_is_an_error_at_its_line(tmp_path, name, suggestion):
    path = write(tmp_path, f"kpis:\n  ok:\n    formula: revenue\n  {name}:\n    formula: revenue\n")
    with pytest.raises(CatalogError) as caught:
        Catalog.load([path])
    shown = name.strip('"')
    assert str(caught.value).startswith(f"{path}:4: KPI {shown!r}: not a usable name (")
    assert str(caught.value).endswith(f"; did you mean '{suggestion}'?")


def test_every_usable_kpi_name_is_read_by_formulas_and_references(tmp_path):
    path = write(
        tmp_path,
        "kpis:\n  _Big2:\n    formula: revenue * 2\n  twice:\n    formula: _Big2 + 0\n",
    )
    catalog = Catalog.load([path])
    assert catalog.ref("_Big2").name == "_Big2"
    assert [ref.name for ref in catalog.get("twice").deps] == ["_Big2"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("revenue(x)", "catalog: KPI revenue takes no parameter (write revenue, not revenue(x))"),
        ("nps(1)", "catalog: KPI nps takes no parameter (write nps, not nps(1))"),
        (
            "completeness",
            "catalog: KPI completeness takes one parameter, field (a column of contacts): "
            "write completeness(field)",
        ),
        (
            "completeness(email, phone)",
            "catalog: KPI completeness takes one parameter, field (a column of contacts): "
            "write completeness(field), not completeness(email, phone)",
        ),
    ],
)
def test_a_reference_with_the_wrong_arguments_says_which_parameters(text, message):
    with pytest.raises(CatalogError) as caught:
        Catalog.load().ref(text)
    assert str(caught.value) == message


def test_a_formula_passing_an_argument_to_a_kpi_without_parameters(tmp_path):
    path = write(tmp_path, "kpis:\n  a:\n    formula: revenue(email) / 2\n")
    with pytest.raises(CatalogError) as caught:
        Catalog.load([path])
    assert str(caught.value) == (
        f"{path}:3: KPI a: KPI revenue takes no parameter (write revenue, not revenue(email))"
    )


@pytest.mark.parametrize(
    ("encoding", "message"),
    [
        (
            "latin-1",
            ":3: not UTF-8 (byte 0xc9 at column 12; saved as Latin-1 or Windows-1252, perhaps: "
            "save the file as UTF-8)",
        ),
        ("utf-16", ":1: not UTF-8 but UTF-16 (its first bytes say so; save the file as UTF-8)"),
        ("utf-16-le", ":1: not UTF-8 but UTF-16, perhaps (NUL bytes; save the file as UTF-8)"),
    ],
)
def test_a_catalog_not_in_utf_8_is_said_at_its_first_bad_byte(tmp_path, encoding, message):
    path = tmp_path / "kpis.yml"
    path.write_bytes("kpis:\n  a:\n    label: Été\n    formula: revenue\n".encode(encoding))

    with pytest.raises(CatalogError) as error:
        Catalog.load([path])

    assert str(error.value) == f"{path}{message}"
