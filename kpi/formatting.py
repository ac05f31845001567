"""KPI values as text, in the project's locale, with babel ("9,3 %", "1 234,56 €", "+12").

Rates are fractions (0.093) and print as percentages; a delta of a rate prints in points
("+1,2 pt"); an n/a value prints as "n/a" and carries its reason separately.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from babel import Locale
from babel.numbers import format_currency, format_decimal, format_percent, get_currency_symbol

NOT_AVAILABLE = "n/a"

DEFAULT_PATTERNS = {"count": "#,##0", "score": "#,##0.#", "number": "#,##0.##"}

POINTS = {"fr": "pt", "en": "pt", "de": "Pkt."}


def format_value(
    value: float | Decimal | int | None,
    unit: str,
    locale: str = "fr_FR",
    currency: str = "EUR",
    pattern: str | None = None,
) -> str:
    """A KPI value as text: count "1 234", percent "9,3 %", currency "1 234,56 €"."""
    if value is None:
        return NOT_AVAILABLE
    if pattern:
        if value == 0 and pattern.startswith("+"):
            pattern = pattern.split(";")[0].lstrip("+")  # zero has no sign: "0", not "+0"
        return format_decimal(value, pattern, locale=locale)
    # Babel rounds half to even; a report rounds half away from zero (50,125 -> 50,13).
    if unit == "percent":
        value = half_up(value, "0.001")
        return format_percent(value, percent_pattern(locale), locale=locale)
    if unit == "currency":
        text = format_currency(half_up(value, "0.01"), currency, locale=locale)
        return text.replace(
            get_currency_symbol(currency, locale), currency_symbol(currency, locale)
        )
    return format_decimal(value, DEFAULT_PATTERNS.get(unit, "#,##0.##"), locale=locale)


def format_delta(
    delta: float | Decimal | None,
    unit: str,
    locale: str = "fr_FR",
    currency: str = "EUR",
    pattern: str | None = None,
) -> str:
    """A signed difference: "+1 234", "-3,5 pt" (rates), "+120,00 €"."""
    if delta is None:
        return NOT_AVAILABLE
    sign = "+" if delta > 0 else "-" if delta < 0 else ""
    size = abs(delta)
    if unit == "percent":
        points = format_decimal(Decimal(str(size)) * 100, "#,##0.0", locale=locale)
        text = f"{points}\u00a0{POINTS.get(locale.split('_')[0], 'pt')}"
    else:
        if pattern:
            pattern = pattern.split(";")[0].lstrip("+")
        text = format_value(size, unit, locale, currency, pattern)
    # A change that rounds to zero is shown unsigned: "-0,0 pt" reads as a fall.
    return (sign if shows_digit(text) else "") + text


def shows_digit(text: str) -> bool:
    """Whether a formatted number shows a non-zero digit."""
    return any(character in "123456789" for character in text)


def format_ratio(ratio: float | None, locale: str = "fr_FR") -> str:
    """A relative change (0.12 -> "+12,0 %")."""
    if ratio is None:
        return NOT_AVAILABLE
    sign = "+" if ratio > 0 else "-" if ratio < 0 else ""
    return sign + format_percent(abs(ratio), percent_pattern(locale), locale=locale)


def currency_symbol(currency: str, locale: str) -> str:
    """The symbol a report writes: the locale's, unless it only adds a country to the
    currency's own ("£GB" in French is "£", "$US" is "$"; "$CA" and "CHF" stay)."""
    symbol = get_currency_symbol(currency, locale)
    home = get_currency_symbol(currency, "en")
    qualified = home != symbol and symbol.startswith(home) and symbol[len(home) :].isalpha()
    return home if qualified else symbol


def half_up(value, step: str) -> Decimal:
    return Decimal(str(value)).quantize(Decimal(step), rounding=ROUND_HALF_UP)


def percent_pattern(locale: str) -> str:
    """The locale's percent pattern with one decimal ("#,##0,0 %" in French)."""
    pattern = Locale.parse(locale).percent_formats[None].pattern
    return pattern.replace("0", "0.0", 1) if "0.0" not in pattern else pattern
