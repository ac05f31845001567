"""Project settings: read from the kpisite entry of mkdocs.yml, checked with clear errors."""

from __future__ import annotations

import re
import shutil

import pytest
from conftest import ROOT

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
    (tmp_path / "kpis.yml").write_text("kpis: {}\n", encoding="utf-8")
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


# --- the plugin's options in every form mkdocs takes ---------------------------------------


def test_the_mapping_form_of_plugins_is_read(tmp_path):
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: T\nplugins: {search: {}, kpisite: {timezone: Asia/Tokyo, locale: en_GB}}\n",
        encoding="utf-8",
    )

    settings = Project.load(tmp_path).settings

    assert (settings.timezone, settings.locale) == ("Asia/Tokyo", "en_GB")


def test_an_error_in_the_mapping_form_is_at_its_line(tmp_path):
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: T\nplugins:\n  search: {}\n  kpisite:\n    data: data\n    currency: EURO\n",
        encoding="utf-8",
    )

    with pytest.raises(ConfigError) as error:
        Project.load(tmp_path)

    assert listed(error.value) == [
        "mkdocs.yml:6, plugins.kpisite.currency: unknown currency 'EURO' (did you mean 'EUR'?)"
    ]


def test_a_plugin_named_with_a_leading_slash_is_read(tmp_path):
    # "/kpisite" tells mkdocs not to look for a theme's own plugin of that name.
    write_config(tmp_path, "  - /kpisite:\n      timezone: Europe/London\n      currency: GBPP\n")

    with pytest.raises(ConfigError) as error:
        Project.load(tmp_path)

    assert listed(error.value) == [
        "mkdocs.yml:6, plugins.kpisite.currency: unknown currency 'GBPP' (did you mean 'GBP'?)"
    ]


def test_options_inherited_from_a_parent_config_are_read(tmp_path):
    (tmp_path / "base.yml").write_text(
        "plugins:\n  - kpisite:\n      timezone: America/New_York\n", encoding="utf-8"
    )
    (tmp_path / "mkdocs.yml").write_text("INHERIT: base.yml\nsite_name: T\n", encoding="utf-8")

    assert Project.load(tmp_path).settings.timezone == "America/New_York"


def test_an_inherited_options_error_is_said_in_the_file_it_is_written_in(tmp_path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "base.yml").write_text(
        "site_name: Base\nplugins:\n  - search\n  - kpisite:\n      curency: EUR\n",
        encoding="utf-8",
    )
    config = tmp_path / "mkdocs.yml"
    config.write_text("INHERIT: conf/base.yml\nsite_name: T\n", encoding="utf-8")

    with pytest.raises(ConfigError) as error:
        Project.load(tmp_path)

    assert listed(error.value) == [
        "conf/base.yml:5, plugins.kpisite.curency: unknown option (did you mean 'currency'?)"
    ]


def test_an_option_written_twice_is_said_with_both_lines(tmp_path):
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: T\nplugins:\n  - kpisite:\n      currency: EUR\n      locale: fr_FR\n"
        "      currency: USD\n",
        encoding="utf-8",
    )

    with pytest.raises(ConfigError) as error:
        Project.load(tmp_path)

    assert listed(error.value) == [
        "mkdocs.yml:6, plugins.kpisite.currency: written 2 times (lines 4, 6), and YAML keeps "
        "the last (keep one)"
    ]


def test_a_malformed_plugins_list_is_a_clean_error(tmp_path):
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: T\nplugins:\n  - {search: {}, kpisite: {}}\n", encoding="utf-8"
    )

    with pytest.raises(ConfigError) as error:
        Project.load(tmp_path)

    assert str(error.value) == (
        f"{tmp_path / 'mkdocs.yml'}:3: plugins: search is in the list entry of kpisite: its "
        "options go under its name, indented further than it (e.g. 4 spaces more than the "
        "dash), another plugin in an entry of its own"
    )


# --- folders the project reads: never inside docs_dir --------------------------------------


def project_config(tmp_path, options: str, docs: str = "reports") -> None:
    """A mkdocs.yml with docs_dir `docs` (line 2) and the kpisite options from line 5."""
    (tmp_path / docs).mkdir(parents=True, exist_ok=True)
    (tmp_path / "mkdocs.yml").write_text(
        f"site_name: T\ndocs_dir: {docs}\nplugins:\n  - kpisite:\n{options}", encoding="utf-8"
    )


def problems_of(tmp_path) -> list[str]:
    with pytest.raises(ConfigError) as error:
        Project.load(tmp_path)
    return listed(error.value)


def test_an_extract_inside_docs_dir_is_refused_at_its_line(tmp_path):
    project_config(tmp_path, "      data: reports/data\n")

    assert problems_of(tmp_path) == [
        "mkdocs.yml:5, plugins.kpisite.data: reports/data is inside docs_dir (reports), and "
        "mkdocs copies every file there into the site: the extract would be published "
        "(move it out of reports, e.g. to data)"
    ]


def test_every_folder_inside_docs_dir_is_listed_at_once(tmp_path):
    (tmp_path / "reports" / "kpis.yml").parent.mkdir()
    (tmp_path / "reports" / "kpis.yml").write_text("kpis: {}\n", encoding="utf-8")
    project_config(
        tmp_path,
        "      data: reports\n"
        "      cache: reports/cache\n"
        "      catalogs: [reports/kpis.yml]\n"
        "      sources:\n"
        "        crm: {path: reports/raw/crm.csv, base: project}\n",
    )

    assert problems_of(tmp_path) == [
        "mkdocs.yml:5, plugins.kpisite.data: reports is docs_dir (reports), and mkdocs "
        "copies every file there into the site: the extract would be published "
        "(move it out of reports)",
        "mkdocs.yml:6, plugins.kpisite.cache: reports/cache is inside docs_dir (reports), and "
        "mkdocs copies every file there into the site: the KPI cache would be published "
        "(move it out of reports, e.g. to cache)",
        "mkdocs.yml:6, plugins.kpisite.cache: reports/cache is inside the data folder "
        "(reports): the cache would be read with the extract, and change its fingerprint at "
        "every build (leave it out for .kpisite-cache, or name a folder outside reports)",
        "mkdocs.yml:7, plugins.kpisite.catalogs: reports/kpis.yml is inside docs_dir "
        "(reports), and mkdocs copies every file there into the site: the catalog "
        "reports/kpis.yml would be published (move it out of reports, e.g. to kpis.yml)",
        "mkdocs.yml:9, plugins.kpisite.sources.crm: reports/raw/crm.csv is inside docs_dir "
        "(reports), and mkdocs copies every file there into the site: the raw file crm would "
        "be published (move it out of reports, e.g. to crm.csv)",
    ]


def test_a_raw_data_folder_inside_docs_dir_is_said_once_for_its_sources(tmp_path):
    project_config(
        tmp_path,
        "      raw_data: reports/raw\n"
        "      sources:\n"
        "        crm: crm.csv\n"
        "      tables:\n"
        "        contacts: {from: crm, columns: {contact_id: id}}\n",
    )

    assert problems_of(tmp_path) == [
        "mkdocs.yml:5, plugins.kpisite.raw_data: reports/raw is inside docs_dir (reports), and "
        "mkdocs copies every file there into the site: the raw exports would be published "
        "(move it out of reports, e.g. to raw)"
    ]


def test_a_folder_linked_into_docs_dir_is_inside_it(tmp_path):
    # mkdocs follows symbolic links in docs_dir: reports/extract -> ../elsewhere is published.
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "extract").symlink_to(tmp_path / "elsewhere")
    project_config(tmp_path, "      data: reports/extract\n")

    assert problems_of(tmp_path)[0].startswith(
        "mkdocs.yml:5, plugins.kpisite.data: reports/extract is inside docs_dir (reports)"
    )


def test_the_default_docs_dir_counts_too(tmp_path):
    write_config(tmp_path, "  - kpisite:\n      cache: docs/.cache\n")

    assert problems_of(tmp_path) == [
        "mkdocs.yml:5, plugins.kpisite.cache: docs/.cache is inside docs_dir (docs), and mkdocs "
        "copies every file there into the site: the KPI cache would be published "
        "(move it out of docs, e.g. to .cache)"
    ]


def test_a_cache_inside_the_data_folder_is_refused(tmp_path):
    project_config(tmp_path, "      data: data\n      cache: data/.cache\n")

    assert problems_of(tmp_path) == [
        "mkdocs.yml:6, plugins.kpisite.cache: data/.cache is inside the data folder (data): the "
        "cache would be read with the extract, and change its fingerprint at every build "
        "(leave it out for .kpisite-cache, or name a folder outside data)"
    ]


def test_a_data_folder_inside_the_cache_is_refused(tmp_path):
    project_config(tmp_path, "      cache: work\n      data: work/data\n")

    assert problems_of(tmp_path) == [
        "mkdocs.yml:6, plugins.kpisite.data: work/data is inside the cache folder (work), which "
        "kpisite writes to (keep the extract and the cache in folders of their own)"
    ]


@pytest.mark.parametrize("option", ["data", "cache"])
def test_an_empty_data_or_cache_folder_is_refused(tmp_path, option):
    project_config(tmp_path, f"      {option}: ''\n")

    problems = problems_of(tmp_path)

    assert len(problems) == 1
    assert problems[0].startswith(
        f"mkdocs.yml:5, plugins.kpisite.{option}: empty, so it would be the project folder "
        f"itself ({tmp_path.resolve()})"
    )


def test_folders_beside_docs_dir_are_accepted(tmp_path):
    project_config(tmp_path, "      data: data\n      cache: .cache\n      raw_data: raw\n")

    project = Project.load(tmp_path)

    assert project.docs_dir == tmp_path.resolve() / "reports"


# --- catalogs ------------------------------------------------------------------------


def test_a_missing_catalog_is_named_at_its_line_with_the_closest_file(tmp_path):
    (tmp_path / "kpis.yml").write_text("kpis: {}\n", encoding="utf-8")
    write_config(tmp_path, "  - kpisite:\n      locale: fr_FR\n      catalogs: [kpi.yml]\n")

    assert problems_of(tmp_path) == [
        "mkdocs.yml:6, plugins.kpisite.catalogs: kpi.yml: no such file (did you mean 'kpis.yml'?)"
    ]


def test_a_catalog_that_is_a_folder_names_the_yaml_files_in_it(tmp_path):
    (tmp_path / "catalogs").mkdir()
    for name in ("sales.yml", "notes.txt", "base.yaml"):
        (tmp_path / "catalogs" / name).write_text("kpis: {}\n", encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    write_config(tmp_path, "  - kpisite:\n      catalogs: [catalogs, catalog.yml]\n")

    assert problems_of(tmp_path) == [
        "mkdocs.yml:5, plugins.kpisite.catalogs: catalogs: a folder, not a file (name its YAML "
        "files: catalogs/base.yaml, catalogs/sales.yml)",
        "mkdocs.yml:5, plugins.kpisite.catalogs: catalog.yml: no such file (write it, or "
        "remove it from the list)",
    ]


def test_a_cache_in_the_data_folder_itself_is_refused(tmp_path):
    # Its file would be hashed with the extract: a new fingerprint at every build.
    project_config(tmp_path, "      data: data\n      cache: data\n")

    assert problems_of(tmp_path) == [
        "mkdocs.yml:6, plugins.kpisite.cache: data is the data folder (data): the cache would "
        "be read with the extract, and change its fingerprint at every build (leave it out for "
        ".kpisite-cache, or name a folder outside data)"
    ]


def test_the_readme_s_settings_error_is_the_one_the_bundled_project_gives(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quoted = re.search(r"`(mkdocs\.yml:\d+, plugins\.kpisite\.currency: [^`]+)`", readme).group(1)
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    (tmp_path / "reports").mkdir()
    (tmp_path / "data").mkdir()
    config = tmp_path / "mkdocs.yml"
    text = config.read_text(encoding="utf-8").replace("currency: EUR\n", "currency: EURO\n")
    config.write_text(text, encoding="utf-8")

    with pytest.raises(ConfigError) as error:
        Project.load(tmp_path)

    assert listed(error.value) == [quoted]


LISTED = "site_name: T\nplugins:\n  - search\n"


@pytest.mark.parametrize(
    ("config", "second"),
    [
        (LISTED + "  - kpisite:\n      currency: USD\n  - kpisite:\n      locale: en_US\n", 6),
        (LISTED + "  - kpisite\n  - /kpisite:\n      locale: en_US\n", 5),
        # YAML keeps the last key of a mapping: the first entry's options would vanish.
        (
            "site_name: T\nplugins:\n  search: {}\n  kpisite:\n    locale: en_US\n"
            "  kpisite:\n    currency: EUR\n",
            6,
        ),
    ],
    ids=["two-entries", "name-and-entry", "mapping"],
)
def test_the_plugin_listed_twice_is_an_error_naming_both_lines(tmp_path, config, second):
    # mkdocs would run both entries, each with its own options, while check and query
    # read one of them: the two would disagree on the currency or the locale.
    (tmp_path / "mkdocs.yml").write_text(config, encoding="utf-8")

    with pytest.raises(ConfigError) as error:
        Project.load(tmp_path)

    assert str(error.value) == (
        f"{tmp_path / 'mkdocs.yml'}:{second}: plugins: kpisite is listed twice (lines 4, "
        f"{second}); keep one entry with all its options"
    )
