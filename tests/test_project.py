"""Project settings: read from the kpisite entry of mkdocs.yml, checked with clear errors."""

from __future__ import annotations

import pytest

from kpi.errors import ConfigError
from kpi.project import Project


def write_config(tmp_path, plugin_block: str) -> None:
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: Test\nplugins:\n  - search\n" + plugin_block, encoding="utf-8"
    )


def test_defaults_when_the_plugin_has_no_options(tmp_path):
    write_config(tmp_path, "  - kpisite\n")

    project = Project.load(tmp_path)

    assert project.settings.timezone == "Europe/Paris"
    assert project.settings.locale == "fr_FR"
    assert project.settings.activity_window == 90
    assert project.data_dir == tmp_path.resolve() / "data"


def test_options_are_read_and_paths_resolved(tmp_path):
    write_config(
        tmp_path,
        "  - kpisite:\n      timezone: Europe/London\n      activity_window: 30\n"
        "      data: extracts\n      catalogs: [kpis.yml]\n",
    )

    project = Project.load(tmp_path)

    assert project.settings.timezone == "Europe/London"
    assert project.settings.activity_window == 30
    assert project.settings.catalogs == ("kpis.yml",)
    assert project.data_dir == tmp_path.resolve() / "extracts"


def test_env_tag_is_resolved_like_mkdocs_does(tmp_path, monkeypatch):
    monkeypatch.setenv("KPISITE_TEST_ZONE", "America/Sao_Paulo")
    write_config(tmp_path, "  - kpisite:\n      timezone: !ENV KPISITE_TEST_ZONE\n")

    assert Project.load(tmp_path).settings.timezone == "America/Sao_Paulo"


def listed(error: ConfigError) -> list[str]:
    """The problems of a settings error, as printed under it."""
    return [str(problem) for problem in error.problems]


# Lines 1-4 of every config: site_name, plugins, search, kpisite; options from line 5.
@pytest.mark.parametrize(
    ("block", "problem"),
    [
        (
            "      timezon: Europe/Paris\n",
            "mkdocs.yml:5, plugins.kpisite.timezon: unknown option (did you mean 'timezone'?)",
        ),
        (
            "      timezone: Europe/Pariss\n",
            "mkdocs.yml:5, plugins.kpisite.timezone: unknown time zone 'Europe/Pariss' "
            "(did you mean 'Europe/Paris'?)",
        ),
        (
            "      activity_window: ninety\n",
            "mkdocs.yml:5, plugins.kpisite.activity_window: expected a whole number, got 'ninety'",
        ),
        (
            "      locale: xx_YY\n",
            "mkdocs.yml:5, plugins.kpisite.locale: unknown locale 'xx_YY' "
            "(expected a code such as 'fr_FR' or 'en_GB')",
        ),
        (
            "      locale: fr-FR\n",
            "mkdocs.yml:5, plugins.kpisite.locale: unknown locale 'fr-FR' (did you mean 'fr_FR'?)",
        ),
        (
            "      currency: EURO\n",
            "mkdocs.yml:5, plugins.kpisite.currency: unknown currency 'EURO' (did you mean 'EUR'?)",
        ),
        (
            "      currency: DOLLARS\n",
            "mkdocs.yml:5, plugins.kpisite.currency: unknown currency 'DOLLARS' "
            "(expected an ISO 4217 code such as 'EUR')",
        ),
        (
            "      on_error: wran\n",
            "mkdocs.yml:5, plugins.kpisite.on_error: unknown value 'wran' (did you mean 'warn'?)",
        ),
        (
            "      period: 2026-13\n",
            "mkdocs.yml:5, plugins.kpisite.period: '2026-13': not a valid month "
            "(month must be in 1..12)",
        ),
    ],
)
def test_bad_options_name_the_key_and_its_line(tmp_path, block, problem):
    write_config(tmp_path, "  - kpisite:\n" + block)

    with pytest.raises(ConfigError) as error:
        Project.load(tmp_path)

    assert str(error.value) == f"{tmp_path / 'mkdocs.yml'}: 1 error in the kpisite plugin settings"
    assert listed(error.value) == [problem]


def test_every_bad_option_is_reported_at_once_in_the_order_of_the_file(tmp_path):
    write_config(
        tmp_path,
        "  - kpisite:\n"
        "      data: data\n"
        "      timezon: Europe/Paris\n"
        "      activity_window: douze\n"
        "      locale: xx_YY\n"
        "      currency: EURO\n"
        "      tables:\n"
        "        order:\n"
        "          timezone: Europe/Paris\n",
    )

    with pytest.raises(ConfigError) as error:
        Project.load(tmp_path)

    assert str(error.value).endswith("mkdocs.yml: 5 errors in the kpisite plugin settings")
    assert listed(error.value) == [
        "mkdocs.yml:6, plugins.kpisite.timezon: unknown option (did you mean 'timezone'?)",
        "mkdocs.yml:7, plugins.kpisite.activity_window: expected a whole number, got 'douze'",
        "mkdocs.yml:8, plugins.kpisite.locale: unknown locale 'xx_YY' "
        "(expected a code such as 'fr_FR' or 'en_GB')",
        "mkdocs.yml:9, plugins.kpisite.currency: unknown currency 'EURO' (did you mean 'EUR'?)",
        "mkdocs.yml:11, plugins.kpisite.tables.order: unknown canonical table "
        "(did you mean 'orders'?)",
    ]


@pytest.mark.parametrize("days", [0, -5, 3661, 100_000, 3_000_000])
def test_an_activity_window_outside_one_day_to_ten_years_is_refused_at_its_line(tmp_path, days):
    write_config(tmp_path, f"  - kpisite:\n      locale: fr_FR\n      activity_window: {days}\n")

    with pytest.raises(ConfigError) as error:
        Project.load(tmp_path)

    assert listed(error.value) == [
        f"mkdocs.yml:6, plugins.kpisite.activity_window: expected a number of days from 1 to "
        f"3660 (ten years), got {days} (90 is a quarter, 365 a year)"
    ]


@pytest.mark.parametrize("days", [1, 365, 3660])
def test_an_activity_window_from_one_day_to_ten_years_is_accepted(tmp_path, days):
    write_config(tmp_path, f"  - kpisite:\n      activity_window: {days}\n")

    assert Project.load(tmp_path).settings.activity_window == days


def test_options_given_by_mkdocs_are_located_in_its_config_file(tmp_path):
    # The plugin passes mkdocs' config_file_path, which may lie outside the project root.
    config = tmp_path / "conf" / "site.yml"
    config.parent.mkdir()
    config.write_text("plugins:\n  - kpisite:\n      currency: EURO\n", encoding="utf-8")

    with pytest.raises(ConfigError) as error:
        Project.from_options(tmp_path, {"currency": "EURO"}, where=str(config))

    assert str(error.value) == f"{config}: 1 error in the kpisite plugin settings"
    assert listed(error.value) == [
        "site.yml:3, plugins.kpisite.currency: unknown currency 'EURO' (did you mean 'EUR'?)"
    ]


def test_an_iso_currency_code_is_accepted(tmp_path):
    write_config(tmp_path, "  - kpisite:\n      currency: GBP\n")
    assert Project.load(tmp_path).settings.currency == "GBP"
