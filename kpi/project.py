"""A report project: a folder with a `mkdocs.yml` whose `kpisite` plugin entry holds the
settings of the KPI layer (reporting time zone, locale, extract folder, catalogs, ...).

The settings live in `mkdocs.yml` so that one file configures a report project, but this
module reads them without building anything: `kpisite check` and `kpisite query` use it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from kpi.errors import ConfigError, closest, did_you_mean, with_hint

CONFIG_FILE = "mkdocs.yml"
PLUGIN_NAME = "kpisite"

DEFAULT_PLACEHOLDERS = ("n/a", "na", "-", "none", "null")


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

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


@dataclass(frozen=True)
class Project:
    """A report project rooted at `root`, with its validated settings."""

    root: Path
    settings: Settings = field(default_factory=Settings)

    @property
    def config_file(self) -> Path:
        return self.root / CONFIG_FILE

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
        options = read_plugin_options(config_file)
        return cls.from_options(root, options, where=str(config_file))

    @classmethod
    def from_options(
        cls, root: str | os.PathLike, options: dict[str, Any], where: str = CONFIG_FILE
    ) -> Project:
        """Validate plugin options (a dict as written in mkdocs.yml) into a project."""
        settings = parse_settings(options, where)
        return cls(root=Path(root).resolve(), settings=settings)


def read_plugin_options(config_file: Path) -> dict[str, Any]:
    """The options of the `kpisite` entry under `plugins:` in a mkdocs.yml."""
    # mkdocs' own loader resolves !ENV tags and INHERIT like `mkdocs build` does.
    from mkdocs.utils.yaml import yaml_load

    with open(config_file, "rb") as stream:
        config = yaml_load(stream)

    for entry in config.get("plugins") or []:
        if entry == PLUGIN_NAME:
            return {}
        if isinstance(entry, dict) and PLUGIN_NAME in entry:
            return entry[PLUGIN_NAME] or {}
    if isinstance(config.get("plugins"), dict) and PLUGIN_NAME in config["plugins"]:
        return config["plugins"][PLUGIN_NAME] or {}
    return {}


def parse_settings(options: dict[str, Any], where: str = CONFIG_FILE) -> Settings:
    """Check each option's name and type; raise ConfigError naming the bad key."""
    known = Settings.names()
    for key in options:
        if key not in known:
            hint = did_you_mean(key, known)
            message = f"{where}: plugins.{PLUGIN_NAME}.{key}: unknown option"
            raise ConfigError(with_hint(message, hint))

    defaults = Settings()
    values = {}
    for name in known:
        if options.get(name) is None:
            continue
        values[name] = coerce(name, options[name], getattr(defaults, name), where)

    settings = Settings(**values)
    check_values(settings, where)
    return settings


def coerce(name: str, value: Any, default: Any, where: str) -> Any:
    """Convert one option to the type of its default, or raise naming the option."""
    key = f"{where}: plugins.{PLUGIN_NAME}.{name}"
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected a whole number, got {value!r}")
        return value
    if isinstance(default, tuple):
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{key}: expected a list of strings, got {value!r}")
        return tuple(value)
    if isinstance(default, dict):
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a mapping, got {value!r}")
        return value
    if not isinstance(value, str | os.PathLike):
        raise ConfigError(f"{key}: expected a string, got {value!r}")
    return str(value)


def check_values(settings: Settings, where: str) -> None:
    """Check the options whose values, not only types, can be wrong."""
    prefix = f"{where}: plugins.{PLUGIN_NAME}"
    try:
        ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        match = closest(settings.timezone, available_timezones())
        hint = (
            f"did you mean '{match}'?" if match else "expected an IANA name such as 'Europe/Paris'"
        )
        raise ConfigError(
            f"{prefix}.timezone: unknown time zone {settings.timezone!r} ({hint})"
        ) from None

    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(settings.locale)
    except (UnknownLocaleError, ValueError):
        raise ConfigError(
            f"{prefix}.locale: unknown locale {settings.locale!r} "
            "(expected a code such as 'fr_FR' or 'en_GB')"
        ) from None

    check_currency(settings.currency, prefix)
    if settings.activity_window < 1:
        raise ConfigError(
            f"{prefix}.activity_window: expected a number of days >= 1, "
            f"got {settings.activity_window}"
        )
    if settings.on_error not in ("fail", "warn"):
        raise ConfigError(
            f"{prefix}.on_error: expected 'fail' or 'warn', got {settings.on_error!r}"
        )


def check_currency(code: str, prefix: str) -> None:
    """The currency must be an ISO 4217 code babel knows ("EUR", "GBP"), not "EURO"."""
    from babel.numbers import list_currencies

    known = list_currencies()
    if code not in known:
        # A code has 3 letters: "DOLLARS" is no typo of "ARS", "EURO" is one of "EUR".
        close = closest(code.upper(), known) if len(code) <= 4 else None
        hint = f"did you mean '{close}'?" if close else "expected an ISO 4217 code such as 'EUR'"
        raise ConfigError(with_hint(f"{prefix}.currency: unknown currency {code!r}", hint))
