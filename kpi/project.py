"""A report project: a folder with a `mkdocs.yml` whose `kpisite` plugin entry holds the
settings of the KPI layer (reporting time zone, locale, extract folder, catalogs, ...).

The settings live in `mkdocs.yml` so that one file configures a report project, but this
module reads them without building anything: `kpisite check` and `kpisite query` use it.
Every setting is checked at once, so one run lists every mistake, each at its line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import yaml

from kpi.errors import (
    ConfigError,
    KpisiteError,
    Problem,
    closest,
    did_you_mean,
    utf8_problem,
    with_hint,
)

CONFIG_FILE = "mkdocs.yml"
PLUGIN_NAME = "kpisite"
# mkdocs' default docs_dir and site_dir.
DEFAULT_DOCS_DIR = "docs"
DEFAULT_SITE_DIR = "site"

DEFAULT_PLACEHOLDERS = ("n/a", "na", "-", "none", "null")
# The longest activity window, in days: ten years, leap days included. A window is a
# business horizon (90 days, a year); "active" over more than ten years means "ever
# bought", and a window of millions of days opens before year 1, which no period
# arithmetic can compute (each directive would fail on its own, long after `check`).
MAX_ACTIVITY_WINDOW = 3660
ON_ERROR = ("fail", "warn")


@dataclass(frozen=True)
class Settings:
    """The `kpisite` plugin options of a project; every one has a default."""

    data: str = "data"
    # The folder the paths of `sources` are relative to (relative to the project).
    raw_data: str = "."
    timezone: str = "Europe/Paris"
    locale: str = "fr_FR"
    currency: str = "EUR"
    activity_window: int = 90
    activity_includes_interactions: bool = False
    catalogs: tuple[str, ...] = ()
    placeholders: tuple[str, ...] = DEFAULT_PLACEHOLDERS
    sources: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, Any] = field(default_factory=dict)
    cache: str = ".kpisite-cache"
    period: str | None = None
    on_error: str = "fail"
    # Files of docs_dir (glob patterns, relative to it) published although they look like
    # raw data or contacts (site_builder/raw_data.py): whoever lists one vouches for it.
    publish_anyway: tuple[str, ...] = ()

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


@dataclass(frozen=True)
class Project:
    """A report project rooted at `root`, with its validated settings."""

    root: Path
    settings: Settings = field(default_factory=Settings)
    # mkdocs' docs_dir as mkdocs.yml writes it: the pages, every file of which mkdocs
    # copies into the site.
    docs: str = DEFAULT_DOCS_DIR
    # mkdocs' site_dir as mkdocs.yml writes it: where `kpisite build` writes the site.
    site: str = DEFAULT_SITE_DIR
    # Whether mkdocs.yml names the kpisite plugin, as `load` read it (None: not read).
    plugin_named: bool | None = None

    @property
    def config_file(self) -> Path:
        return self.root / CONFIG_FILE

    @property
    def docs_dir(self) -> Path:
        return self.path(self.docs)

    @property
    def site_dir(self) -> Path:
        return self.path(self.site)

    @property
    def data_dir(self) -> Path:
        return self.path(self.settings.data)

    @property
    def cache_dir(self) -> Path:
        return self.path(self.settings.cache)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)

    def path(self, value: str | os.PathLike) -> Path:
        """A path from the settings, relative to the project root unless absolute."""
        return (self.root / Path(value)).resolve()

    @classmethod
    def load(cls, root: str | os.PathLike = ".") -> Project:
        """Read the project at `root` from its mkdocs.yml."""
        root = Path(root).resolve()
        config_file = root / CONFIG_FILE
        if not config_file.is_file():
            raise ConfigError(
                f"{root}: no {CONFIG_FILE} here (a report project is a folder with a "
                f"{CONFIG_FILE}; pass --project DIR to name another one)"
            )
        config = read_config(config_file)
        options = plugin_entry(config, config_file)
        docs = str(config.get("docs_dir") or DEFAULT_DOCS_DIR)
        project = cls.from_options(root, options or {}, where=str(config_file), docs_dir=docs)
        site = str(config.get("site_dir") or DEFAULT_SITE_DIR)
        return replace(project, site=site, plugin_named=options is not None)

    @classmethod
    def from_options(
        cls,
        root: str | os.PathLike,
        options: dict[str, Any],
        where: str = CONFIG_FILE,
        docs_dir: str | os.PathLike | None = None,
    ) -> Project:
        """Validate plugin options (a dict as written in mkdocs.yml) into a project.

        `where` is the mkdocs.yml they come from (relative to `root` unless absolute): a
        ConfigError lists every bad option at its line of that file. `docs_dir` is mkdocs'
        (by default, as that file sets it): no folder the project reads may lie inside it.
        """
        root = Path(root).resolve()
        values, errors = check_options(options)
        for key, lines in ConfigLines.read(root / where).twice.items():
            listed = ", ".join(map(str, lines))
            errors.append(
                SettingError(
                    key,
                    f"written {len(lines)} times (lines {listed}), and YAML keeps the last",
                    "keep one",
                )
            )
        docs = str(docs_dir if docs_dir is not None else configured_docs_dir(root / where))
        project = cls(root=root, settings=Settings(**values), docs=docs)

        # The mapping options are checked with the others, so that one run lists all.
        from kpi import mapping

        sources: dict[str, Path] = {}
        if not any(error.key in ("raw_data", "sources", "tables") for error in errors):
            parsed, found = mapping.parse(project)
            sources = {name: source.path for name, source in parsed.sources.items()}
            errors.extend(found)
        wrong = {error.key for error in errors}
        errors.extend(error for error in folder_errors(project, sources) if error.key not in wrong)
        if errors:
            raise settings_error(root / where, errors)
        return project


def read_config(config_file: Path) -> dict[str, Any]:
    """mkdocs.yml as mkdocs reads it: its loader resolves !ENV tags and INHERIT."""
    from mkdocs.utils.yaml import yaml_load

    with open(config_file, "rb") as stream:
        problem = utf8_problem(stream.read())
        if problem:
            raise ConfigError(f"{config_file}:{problem}")
        stream.seek(0)
        config = yaml_load(stream)  # a file: INHERIT is relative to its name
    return config if isinstance(config, dict) else {}


def configured_docs_dir(config_file: Path) -> str:
    """The docs_dir a mkdocs.yml sets, or mkdocs' default (also when there is no file)."""
    if not config_file.is_file():
        return DEFAULT_DOCS_DIR
    return str(read_config(config_file).get("docs_dir") or DEFAULT_DOCS_DIR)


def plugin_entry(config: dict[str, Any], config_file: Path) -> dict[str, Any] | None:
    """The options of the `kpisite` entry under `plugins:`, in either form mkdocs takes:
    a list of names and one-key mappings, or a mapping of names to options; None when no
    entry names the plugin. mkdocs' own parser reads the entries, so that `check` and
    `query` see what `build` sees."""
    from mkdocs.config.base import ValidationError
    from mkdocs.config.config_options import Plugins

    plugins = config.get("plugins")
    if not plugins:
        return None
    try:
        entries = list(Plugins._parse_configs(plugins))
    except (ValidationError, TypeError, AttributeError) as error:
        raise plugins_error(config_file, error) from None
    stray_options(config_file, [name for name, _ in entries])
    # Twice in the list form, mkdocs' parser sees both; in the mapping form, YAML keeps
    # the last key alone, so only the file's own nodes tell (read for that form alone).
    twice = sum(name.removeprefix("/") == PLUGIN_NAME for name, _ in entries) > 1
    if twice or isinstance(plugins, dict):
        lines = plugin_lines(config_file)
        if twice or len(lines) > 1:
            raise listed_twice(config_file, lines)
    for name, options in entries:
        # "/kpisite" asks mkdocs not to look for a theme's plugin of that name.
        if name.removeprefix("/") != PLUGIN_NAME:
            continue
        if options is not None and not isinstance(options, dict):
            raise ConfigError(
                f"{config_file}: plugins.{PLUGIN_NAME}: expected a mapping of options, "
                f"got {options!r}"
            )
        return options or {}
    return None


def stray_options(config_file: Path, names: list[str]) -> None:
    """ConfigError for a kpisite option that stands as a plugin of its own (`locale:`
    indented as far as `kpisite:` in the mapping form): mkdocs would look for a plugin
    of that name, and `check` or `query` would leave the option out."""
    from importlib.metadata import entry_points

    options = [name for name in names if name in Settings.names()]
    if not options:
        return  # the usual case: the installed plugins need not be looked up
    installed = {point.name for point in entry_points(group="mkdocs.plugins")}
    stray = [name for name in options if name not in installed]
    if not stray:
        return
    plugins = child(compose(config_file), "plugins")
    keys = [key for key, _ in plugins.value] if isinstance(plugins, yaml.MappingNode) else []
    if isinstance(plugins, yaml.SequenceNode):
        entries = [entry for entry in plugins.value if isinstance(entry, yaml.MappingNode)]
        keys = [key for entry in entries for key, _ in entry.value]
    lines = [key.start_mark.line + 1 for key in keys if key.value == stray[0]]
    where = f"{config_file}:{lines[-1]}" if lines else str(config_file)
    raise ConfigError(
        f"{where}: plugins: {', '.join(stray)} is an option of {PLUGIN_NAME}, not a plugin "
        f"(indent it under {PLUGIN_NAME}:, further than {PLUGIN_NAME}'s name)"
    )


def plugin_lines(config_file: Path) -> list[int]:
    """The lines naming the kpisite plugin under `plugins:`, in either form, as written."""
    plugins = child(compose(config_file), "plugins")
    if isinstance(plugins, yaml.MappingNode):
        names = [key for key, _ in plugins.value]
    elif isinstance(plugins, yaml.SequenceNode):
        entries = plugins.value
        names = [entry for entry in entries if isinstance(entry, yaml.ScalarNode)]
        names += [
            key
            for entry in entries
            if isinstance(entry, yaml.MappingNode)
            for key, _ in entry.value
        ]
    else:
        return []
    return sorted(
        node.start_mark.line + 1
        for node in names
        if isinstance(node.value, str) and node.value.removeprefix("/") == PLUGIN_NAME
    )


def listed_twice(config_file: Path, lines: list[int]) -> ConfigError:
    """The plugin listed twice under `plugins:`: mkdocs would run both entries of a list
    (a mapping keeps the last), with their own options each, while check and query read
    one."""
    where = f"{config_file}:{lines[-1]}" if lines else str(config_file)
    said = f" (lines {', '.join(map(str, lines))})" if len(lines) > 1 else ""
    return ConfigError(
        f"{where}: plugins: {PLUGIN_NAME} is listed twice{said}; keep one entry with all "
        "its options"
    )


def plugins_error(config_file: Path, error: Exception) -> ConfigError:
    """mkdocs' words for a `plugins:` it cannot read, at its line, or the usual cause: an
    option of `- kpisite:` indented as far as the plugin's name, which YAML reads as a
    second key of the list entry, beside the plugin instead of under it."""
    key, plugins = item(compose(config_file), "plugins") or (None, None)
    entries = plugins.value if isinstance(plugins, yaml.SequenceNode) else []
    for entry in entries:
        names = [key for key, _ in entry.value] if isinstance(entry, yaml.MappingNode) else []
        if len(names) > 1 and any(key.value.removeprefix("/") == PLUGIN_NAME for key in names):
            beside = [key for key in names if key.value.removeprefix("/") != PLUGIN_NAME]
            listed = ", ".join(key.value for key in beside)
            return ConfigError(
                f"{config_file}:{beside[0].start_mark.line + 1}: plugins: {listed} "
                f"{'is' if len(beside) == 1 else 'are'} in the list entry of {PLUGIN_NAME}: "
                f"its options go under its name, indented further than it (e.g. 4 spaces "
                "more than the dash), another plugin in an entry of its own"
            )
    line = f":{key.start_mark.line + 1}" if key is not None else ""
    return ConfigError(f"{config_file}{line}: plugins: {error}")


def compose(config_file: Path) -> yaml.Node | None:
    """The YAML nodes of `config_file`, with their marks; None when it cannot be read.
    Composed, not loaded: tags such as mkdocs' `!ENV` need no constructor."""
    try:
        return yaml.compose(config_file.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None


def check_plugin_named(project: Project) -> None:
    """ConfigError unless mkdocs.yml names the kpisite plugin: without it mkdocs would
    publish the directives as written, and `check` or `query` would read settings that
    no build uses. A second `plugins:` key is the usual cause: YAML keeps the last one."""
    config_file = project.config_file
    named = project.plugin_named
    if named is None:  # a project made from options: its file is read here
        named = plugin_entry(read_config(config_file), config_file) is not None
    if named:
        return

    root = compose(config_file)
    found = root.value if isinstance(root, yaml.MappingNode) else []
    keys = [key.start_mark.line + 1 for key, _ in found if key.value == "plugins"]
    where = f"{config_file}:{keys[-1]}" if keys else str(config_file)
    twice = ""
    if len(keys) > 1:
        lines = ", ".join(str(number) for number in keys)
        twice = f" (plugins: is written {len(keys)} times, lines {lines}, and YAML keeps the last)"
    raise ConfigError(
        f"{where}: the {PLUGIN_NAME} plugin is not in plugins{twice}, so no directive would be "
        f"resolved (add `- {PLUGIN_NAME}` to plugins, after `- search`)"
    )


# --- every setting, checked at once ------------------------------------------------------


class SettingError(ConfigError):
    """One bad plugin option: its dotted key under `plugins.kpisite`, what is wrong and a
    hint. Collected as a Problem at the key's line, with the others of the file."""

    def __init__(self, key: str, message: str, hint: str | None = None):
        super().__init__(with_hint(f"plugins.{PLUGIN_NAME}.{key}: {message}", hint))
        self.key = key
        self.detail = message
        self.hint = hint


def settings_error(config_file: Path, errors: list[SettingError]) -> ConfigError:
    """One error listing every bad option of `config_file`, each at its line."""
    lines = ConfigLines.read(config_file)
    # In the order of the file, whatever check found them.
    ordered = sorted(errors, key=lambda error: lines.line(error.key) or 0)
    problems = [
        Problem(setting_where(config_file, lines, error.key), error.detail, error.hint)
        for error in ordered
    ]
    count = f"{len(problems)} error{'s' if len(problems) > 1 else ''}"
    return ConfigError(f"{config_file}: {count} in the {PLUGIN_NAME} plugin settings", problems)


def check_options(options: dict[str, Any]) -> tuple[dict[str, Any], list[SettingError]]:
    """The options converted to the types of Settings, and every error: unknown names,
    wrong types, wrong values. An option in error is left out, so it keeps its default."""
    errors: list[SettingError] = []
    known = Settings.names()
    for key in options:
        if key not in known:
            errors.append(SettingError(key, "unknown option", did_you_mean(key, known)))

    defaults = Settings()
    values = {}
    for name in known:
        if options.get(name) is None:
            continue
        try:
            values[name] = coerce(name, options[name], getattr(defaults, name))
        except SettingError as error:
            errors.append(error)

    wrong = value_errors(values)
    for error in wrong:
        values.pop(error.key, None)
    return values, errors + wrong


def coerce(name: str, value: Any, default: Any) -> Any:
    """Convert one option to the type of its default, or raise naming the option."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise SettingError(name, f"expected true or false, got {value!r}")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise SettingError(name, f"expected a whole number, got {value!r}")
        return value
    if isinstance(default, tuple):
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise SettingError(name, f"expected a list of strings, got {value!r}")
        return tuple(value)
    if isinstance(default, dict):
        if not isinstance(value, dict):
            raise SettingError(name, f"expected a mapping, got {value!r}")
        return value
    if not isinstance(value, str | os.PathLike):
        raise SettingError(name, f"expected a string, got {value!r}")
    return str(value)


def value_errors(values: dict[str, Any]) -> list[SettingError]:
    """The options (of the right type) whose values are wrong."""
    checks = {
        "timezone": timezone_error,
        "locale": locale_error,
        "currency": currency_error,
        "activity_window": window_error,
        "on_error": on_error_error,
    }
    found = [check(values[name]) for name, check in checks.items() if name in values]
    if "period" in values:
        found.append(period_error(values))
    return [error for error in found if error is not None]


def timezone_error(zone: str) -> SettingError | None:
    try:
        ZoneInfo(zone)
        return None
    except (ZoneInfoNotFoundError, ValueError):
        match = closest(zone, available_timezones())
        hint = (
            f"did you mean '{match}'?" if match else "expected an IANA name such as 'Europe/Paris'"
        )
        return SettingError("timezone", f"unknown time zone {zone!r}", hint)


def locale_error(locale: str) -> SettingError | None:
    """A locale babel knows ("fr_FR", "en_GB"); "fr-FR" is a typo of "fr_FR"."""
    from babel import Locale, UnknownLocaleError
    from babel.localedata import locale_identifiers

    try:
        Locale.parse(locale)
        return None
    except (UnknownLocaleError, ValueError):
        match = closest(locale.replace("-", "_"), locale_identifiers())
        hint = f"did you mean '{match}'?" if match else "expected a code such as 'fr_FR' or 'en_GB'"
        return SettingError("locale", f"unknown locale {locale!r}", hint)


def currency_error(code: str) -> SettingError | None:
    """An ISO 4217 code babel knows ("EUR", "GBP"), not "EURO"."""
    from babel.numbers import list_currencies

    known = list_currencies()
    if code in known:
        return None
    # A code has 3 letters: "DOLLARS" is no typo of "ARS", "EURO" is one of "EUR".
    close = closest(code.upper(), known) if len(code) <= 4 else None
    hint = f"did you mean '{close}'?" if close else "expected an ISO 4217 code such as 'EUR'"
    return SettingError("currency", f"unknown currency {code!r}", hint)


def window_error(days: int) -> SettingError | None:
    if 1 <= days <= MAX_ACTIVITY_WINDOW:
        return None
    return SettingError(
        "activity_window",
        f"expected a number of days from 1 to {MAX_ACTIVITY_WINDOW} (ten years), got {days}",
        "90 is a quarter, 365 a year",
    )


def on_error_error(value: str) -> SettingError | None:
    if value in ON_ERROR:
        return None
    return SettingError("on_error", f"unknown value {value!r}", did_you_mean(value, ON_ERROR))


def period_error(values: dict[str, Any]) -> SettingError | None:
    """The `period` must read as a period (whether the data covers it is the build's)."""
    from kpi.periods import PeriodError, parse_period

    try:
        parse_period(values["period"])
        return None
    except PeriodError as error:
        message = str(error).removeprefix(f"period {values['period']!r}: ")
        return SettingError("period", f"{values['period']!r}: {message}")


# --- where the project's files are ---------------------------------------------------------


def folder_errors(project: Project, sources: dict[str, Path]) -> list[SettingError]:
    """The folders and files the project reads, against mkdocs' docs_dir and each other.

    mkdocs copies every file of docs_dir into the site: an extract, a raw export, the
    cache or a catalog there would be published with the pages. The cache inside the
    extract folder (or the extract inside the cache) would be read as extract data, and
    change the extract's fingerprint at every build. `sources` are the mapped raw files.
    """
    settings = project.settings
    errors = empty_errors(project)
    if errors:
        return errors + catalog_errors(project)

    errors += published_error(project, "data", settings.data, "the extract")
    raw = published_error(project, "raw_data", settings.raw_data, "the raw exports")
    errors += raw
    for name, path in sources.items():
        # Said once for the raw data folder when the source is inside it.
        if not (raw and within(project, path, settings.raw_data)):
            errors += published_error(project, f"sources.{name}", path, f"the raw file {name}")
    errors += published_error(project, "cache", settings.cache, "the KPI cache")
    for catalog in settings.catalogs:
        errors += published_error(project, "catalogs", catalog, f"the catalog {catalog}")
    return errors + cache_error(project) + catalog_errors(project)


def empty_errors(project: Project) -> list[SettingError]:
    """An empty data or cache folder would be the project folder itself."""
    hints = {
        "data": "name the folder of the extract's Parquet files, e.g. data",
        "cache": f"leave it out for {Settings.cache}, or name a folder of its own",
    }
    return [
        SettingError(
            name, f"empty, so it would be the project folder itself ({project.root})", hint
        )
        for name, hint in hints.items()
        if not getattr(project.settings, name).strip()
    ]


def published_error(
    project: Project, key: str, place: str | os.PathLike, what: str
) -> list[SettingError]:
    """An error when `place` (a setting's path) lies in docs_dir, as written or through a
    symbolic link: its files would be published."""
    if not within(project, place, project.docs):
        return []
    docs = shown_path(project, project.docs_dir)
    outside = Path(place).name
    hint = f"move it out of {docs}"
    if outside and not within(project, outside, project.docs):
        hint += f", e.g. to {outside}"
    return [
        SettingError(
            key,
            f"{shown_path(project, plain_path(project, place))} "
            f"{relation(project, place, project.docs)} docs_dir ({docs}), and "
            f"mkdocs copies every file there into the site: {what} would be published",
            hint,
        )
    ]


def cache_error(project: Project) -> list[SettingError]:
    """The cache and the extract folder must not hold one another."""
    settings = project.settings
    if within(project, settings.cache, settings.data):
        return [
            SettingError(
                "cache",
                f"{settings.cache} {relation(project, settings.cache, settings.data)} the data "
                f"folder ({settings.data}): the cache would be read with the extract, and "
                "change its fingerprint at every build",
                f"leave it out for {Settings.cache}, or name a folder outside {settings.data}",
            )
        ]
    if within(project, settings.data, settings.cache):
        return [
            SettingError(
                "data",
                f"{settings.data} is inside the cache folder ({settings.cache}), which "
                "kpisite writes to",
                "keep the extract and the cache in folders of their own",
            )
        ]
    return []


def relation(project: Project, place: str, folder: str) -> str:
    """ "is" when the two settings name one folder, else "is inside"."""
    return "is" if project.path(place) == project.path(folder) else "is inside"


def catalog_errors(project: Project) -> list[SettingError]:
    """A catalog named in the settings must be a file: a missing one is a mistake."""
    errors = []
    for catalog in project.settings.catalogs:
        path = project.path(catalog)
        if path.is_file():
            continue
        if path.is_dir():
            inside = sorted(p.name for p in yaml_files(path))
            hint = (
                "name its YAML files: " + ", ".join(str(Path(catalog) / n) for n in inside[:5])
                if inside
                else "name a YAML file of KPIs"
            )
            errors.append(SettingError("catalogs", f"{catalog}: a folder, not a file", hint))
            continue
        # The closest YAML file beside it: a catalog is never pyproject.toml or mkdocs.yml.
        folder = path.parent
        names = (
            [p.name for p in yaml_files(folder) if p.name != CONFIG_FILE] if folder.is_dir() else []
        )
        match = closest(path.name, names)
        hint = (
            f"did you mean '{Path(catalog).parent / match}'?"
            if match
            else "write it, or remove it from the list"
        )
        errors.append(SettingError("catalogs", f"{catalog}: no such file", hint))
    return errors


def yaml_files(folder: Path) -> list[Path]:
    return [
        path for path in folder.iterdir() if path.suffix in (".yml", ".yaml") and path.is_file()
    ]


def within(project: Project, place: str | os.PathLike, folder: str | os.PathLike) -> bool:
    """Whether `place` is or lies inside `folder` (both settings' paths), as written or
    with symbolic links resolved: mkdocs follows links in docs_dir."""
    places = {plain_path(project, place), project.path(place)}
    folders = {plain_path(project, folder), project.path(folder)}
    return any(p.is_relative_to(f) for p in places for f in folders)


def plain_path(project: Project, value: str | os.PathLike) -> Path:
    """A path from the settings made absolute, its symbolic links not resolved."""
    return Path(os.path.abspath(project.root / Path(value)))


def shown_path(project: Project, path: Path) -> str:
    """A path as the user writes it: relative to the project when it is inside."""
    return str(path.relative_to(project.root)) if path.is_relative_to(project.root) else str(path)


# --- the period asked for ------------------------------------------------------------------

PERIOD_VARIABLE = "KPISITE_PERIOD"
# Set beside KPISITE_PERIOD by a command that hands its own --period (or the period it
# chose) to the plugin, so that an error names where the user wrote it.
PERIOD_SOURCE_VARIABLE = "KPISITE_PERIOD_SOURCE"


@dataclass(frozen=True)
class PeriodRequest:
    """A period asked for and where it was written: `--period`, `KPISITE_PERIOD`, or the
    `period` setting at its line of mkdocs.yml. Its errors start with that place."""

    text: str
    source: str

    def read(self, project: Project):
        """The period, in the project's zone and locale; PeriodError naming the source."""
        from kpi.periods import PeriodError, parse_period

        try:
            return parse_period(self.text, project.settings.timezone, project.settings.locale)
        except PeriodError as error:
            raise self.named(error) from None

    def check(self, book, period):
        """`period` if the extract covers it whole (book.check_period), else PeriodError
        naming the source."""
        from kpi.periods import PeriodError

        try:
            return book.check_period(period)
        except PeriodError as error:
            raise self.named(error) from None

    def named(self, error: KpisiteError) -> KpisiteError:
        """The error with the source and the text as given in front of its reason."""
        message = str(error)
        if message.startswith("period ") and ": " in message:
            message = message.split(": ", 1)[1]  # "period 'x': reason": the text is ours
        return type(error)(f"{self.source} {self.text!r}: {message}", error.problems)


def requested_period(project: Project, option: str | None = None) -> PeriodRequest | None:
    """The period asked for, in the order every command follows: the `--period` option,
    else KPISITE_PERIOD (empty is unset, as an unset CI input gives), else the `period`
    setting; None when none is, and the command reports the last complete period."""
    if option is not None:
        return PeriodRequest(option, "--period")
    text = os.environ.get(PERIOD_VARIABLE)
    if text:
        return PeriodRequest(text, os.environ.get(PERIOD_SOURCE_VARIABLE) or PERIOD_VARIABLE)
    if project.settings.period:
        lines = ConfigLines.read(project.config_file)
        where = setting_where(project.config_file, lines, "period")
        return PeriodRequest(project.settings.period, where)
    return None


def choose_period(book, project: Project, option: str | None = None):
    """The period a build reports: the one asked for (requested_period), if the extract
    covers it whole, else the last complete month. A period the extract does not cover
    whole is a PeriodError: its pages would show zeros as if nothing had been sold."""
    request = requested_period(project, option)
    if request is not None:
        return request.check(book, request.read(project))
    period = book.default_period("month")
    return book.period(period) if isinstance(period, str) else period


# --- where each option is written ---------------------------------------------------------


def setting_where(config_file: Path | None, lines: ConfigLines, key: str, line: int | None = None):
    """`mkdocs.yml:57, plugins.kpisite.tables.orders.sql`: an option and its line (`line`
    when the caller knows a better one, else the key's, else its closest parent's)."""
    line = line or lines.line(key)
    name = config_file.name if config_file else CONFIG_FILE
    if lines.file and config_file and lines.file != config_file:
        # Inherited: the file as the one inheriting it names it (conf/base.yml).
        name = os.path.relpath(lines.file, config_file.parent)
    where = f"{name}:{line}" if line else name
    return f"{where}, plugins.{PLUGIN_NAME}.{key}"


@dataclass(frozen=True)
class ConfigLines:
    """The lines of the kpisite plugin's options in mkdocs.yml, to point errors at them.

    `keys` maps a dotted option ("data", "sources.retail", "tables.orders.sql") to the
    1-based line of its key; `sql` maps a table's SQL option to the line of its first SQL
    line, when the SQL is a literal block (`sql: |`) whose lines are the file's. `file` is
    the file they are written in: mkdocs.yml, or the file it inherits them from.
    """

    keys: dict[str, int]
    sql: dict[str, int]
    file: Path | None = None
    # The options written more than once, with their lines: YAML keeps the last silently.
    twice: dict[str, list[int]] = field(default_factory=dict)

    def line(self, key: str) -> int | None:
        """The line of `key`, else of its closest parent written in the file."""
        while key:
            if key in self.keys:
                return self.keys[key]
            key = key.rpartition(".")[0]
        return None

    def sql_line(self, key: str, line: int) -> int | None:
        start = self.sql.get(key)
        return start + line - 1 if start else None

    @classmethod
    def read(cls, config_file: Path) -> ConfigLines:
        """The lines of the options in `config_file`, or in the file it inherits them from
        (mkdocs' INHERIT, followed as far as it goes); none when they cannot be read.

        The YAML is composed, not loaded: nodes keep their marks, and tags such as
        mkdocs' `!ENV` need no constructor.
        """
        seen = set()
        while config_file not in seen:
            seen.add(config_file)
            root = compose(config_file)
            options = plugin_node(root)
            if options is not None:
                keys: dict[str, int] = {}
                sql: dict[str, int] = {}
                twice: dict[str, list[int]] = {}
                walk_options(options, "", keys, sql, twice)
                return cls(keys, sql, config_file, twice)
            parent = child(root, "INHERIT")
            if not isinstance(parent, yaml.ScalarNode):
                break
            config_file = (config_file.parent / parent.value).resolve()
        return cls({}, {})


def plugin_node(root) -> yaml.Node | None:
    """The node of the kpisite plugin's options under `plugins:` (list or mapping form)."""
    plugins = child(root, "plugins")
    entries = plugins.value if isinstance(plugins, yaml.SequenceNode) else [plugins]
    for entry in entries:
        for name in (PLUGIN_NAME, f"/{PLUGIN_NAME}"):
            options = child(entry, name)
            if options is not None:
                return options
    return None


def child(node, key: str) -> yaml.Node | None:
    found = item(node, key)
    return found[1] if found else None


def item(node, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    """The key node and the value node of `key` in a mapping node; of a key written
    twice, the last, as the YAML loader keeps it."""
    if not isinstance(node, yaml.MappingNode):
        return None
    return next(((name, value) for name, value in reversed(node.value) if name.value == key), None)


def walk_options(
    node, prefix: str, keys: dict[str, int], sql: dict[str, int], twice: dict[str, list[int]]
) -> None:
    """Record the line of every key under `node`, four levels deep at most
    (`tables.orders.columns.email`), and the lines of the keys written more than once."""
    if not isinstance(node, yaml.MappingNode) or prefix.count(".") >= 4:
        return
    for name, value in node.value:
        key = f"{prefix}{name.value}"
        if key in keys:
            twice.setdefault(key, [keys[key]]).append(name.start_mark.line + 1)
        keys[key] = name.start_mark.line + 1
        if name.value == "sql" and isinstance(value, yaml.ScalarNode) and value.style == "|":
            # The block's content starts on the line after `|`, less the blank lines
            # that mapping.sql_spec strips.
            skipped = value.value[: len(value.value) - len(value.value.lstrip())].count("\n")
            sql[key] = value.start_mark.line + 2 + skipped
        walk_options(value, f"{key}.", keys, sql, twice)
