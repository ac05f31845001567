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


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (
            "      timezon: Europe/Paris\n",
            "plugins.kpisite.timezon: unknown option (did you mean 'timezone'?)",
        ),
        (
            "      timezone: Europe/Pariss\n",
            "plugins.kpisite.timezone: unknown time zone 'Europe/Pariss'",
        ),
        ("      activity_window: ninety\n", "expected a whole number, got 'ninety'"),
        ("      activity_window: 0\n", "expected a number of days >= 1, got 0"),
        ("      locale: xx_YY\n", "plugins.kpisite.locale: unknown locale 'xx_YY'"),
        (
            "      currency: EURO\n",
            "plugins.kpisite.currency: unknown currency 'EURO' (did you mean 'EUR'?)",
        ),
        (
            "      currency: DOLLARS\n",
            "plugins.kpisite.currency: unknown currency 'DOLLARS' "
            "(expected an ISO 4217 code such as 'EUR')",
        ),
    ],
)
def test_bad_options_name_the_key(tmp_path, block, message):
    write_config(tmp_path, "  - kpisite:\n" + block)

    with pytest.raises(ConfigError) as error:
        Project.load(tmp_path)

    assert message in str(error.value)
    assert str(tmp_path / "mkdocs.yml") in str(error.value)


def test_an_iso_currency_code_is_accepted(tmp_path):
    write_config(tmp_path, "  - kpisite:\n      currency: GBP\n")
    assert Project.load(tmp_path).settings.currency == "GBP"
