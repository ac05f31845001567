"""Number and period formats of the site, in the project's locale (French by default)."""

from __future__ import annotations

import math
from datetime import timedelta

from babel import Locale
from babel.dates import format_datetime, format_skeleton
from babel.numbers import format_compact_decimal, format_decimal, get_decimal_symbol

# The words of the site, by language; French is the default.
WORDS = {
    "fr": {
        "previous": "vs période précédente",
        "last_year": "vs même période l'an dernier",
        "target": "Objectif",
        "reached": "atteint",
        "missed": "non atteint",
        "total": "Total",
        "period": "Période",
        "download": "Télécharger en CSV",
        "chart_data": "Données du graphique",
        "sort": "Trier",
        "extracted": "données extraites le",
        "na": "n/a",
        "error": "Erreur de directive",
        "other": "Autres",
        "indicator": "Indicateur",
        "until": "au",
        "from": "dès le",
        "week": "S{week:02d} {year}",
        "mode_percent": "part",
        "mode_mean": "moyenne",
        "mode_std": "écart-type",
        "mode_cumulative_mean": "moyenne cumulée",
    },
    "en": {
        "previous": "vs previous period",
        "last_year": "vs same period last year",
        "target": "Target",
        "reached": "reached",
        "missed": "missed",
        "total": "Total",
        "period": "Period",
        "download": "Download as CSV",
        "chart_data": "Chart data",
        "sort": "Sort",
        "extracted": "data extracted on",
        "na": "n/a",
        "error": "Directive error",
        "other": "Other",
        "indicator": "Indicator",
        "until": "to",
        "from": "from",
        "week": "W{week:02d} {year}",
        "mode_percent": "share",
        "mode_mean": "mean",
        "mode_std": "standard deviation",
        "mode_cumulative_mean": "cumulative mean",
    },
}

DIMENSION_LABELS = {
    "fr": {
        "channel": "Canal",
        "country_code": "Pays",
        "respondent_country": "Pays",
        "respondent_city": "Ville",
        "city": "Ville",
        "platform": "Plateforme",
        "category": "Catégorie",
        "lifecycle_stage": "Étape du cycle de vie",
        "lead_source": "Source",
        "type": "Type",
        "field": "Champ",
        "campaign": "Campagne",
        "campaign_channel": "Canal de campagne",
        "campaign_type": "Type de campagne",
        "answer_choice": "Réponse",
        "currency": "Devise",
        "sku": "Produit",
    }
}

# The canonical contact fields as a reader names them ("Complétude (pays)").
FIELD_LABELS = {
    "fr": {
        "email": "email",
        "phone": "téléphone",
        "country_code": "pays",
        "city": "ville",
        "lead_source": "source",
        "company": "entreprise",
        "first_name": "prénom",
        "last_name": "nom",
        "lifecycle_stage": "étape du cycle de vie",
    },
    "en": {"country_code": "country", "lead_source": "source", "lifecycle_stage": "stage"},
}

# What a mean or deviation mode averages: the KPI's `mean_of` column, by table.
AMOUNT_LABELS = {
    "fr": {
        ("orders", "total_amount"): "Montant des commandes",
        ("order_lines", "line_amount"): "Montant des lignes de commande",
        ("survey_responses", "score"): "Note des {kpi}",
    },
    "en": {
        ("orders", "total_amount"): "Order amount",
        ("order_lines", "line_amount"): "Order line amount",
        ("survey_responses", "score"): "Score of {kpi}",
    },
}


def language(locale: str) -> str:
    return locale.split("_")[0]


def words(locale: str) -> dict[str, str]:
    return WORDS.get(language(locale), WORDS["fr"])


def dimension_label(name: str, locale: str) -> str:
    labels = DIMENSION_LABELS.get(language(locale), {})
    return labels.get(name, name.replace("_", " ").capitalize())


def field_label(name: str, locale: str) -> str:
    return FIELD_LABELS.get(language(locale), {}).get(name, name.replace("_", " "))


def amount_label(kpidef, locale: str) -> str | None:
    """What a mean of the KPI averages: "Montant des commandes", "Note des réponses CSAT"."""
    source = str(kpidef.get("mean_of") or "")
    table, _, column = source.rpartition(".")
    key = (table or kpidef.get("table"), column)
    label = AMOUNT_LABELS.get(language(locale), {}).get(key)
    if label is None:
        return None
    name = kpidef.label or kpidef.name
    # "Réponses CSAT" reads "réponses CSAT" mid-sentence; an acronym ("CES") stays.
    inline = name if name[:2].isupper() else name[:1].lower() + name[1:]
    return label.format(kpi=inline)


def number(
    value: float | None,
    unit: str | None,
    locale: str,
    currency: str = "EUR",
    pattern: str | None = None,
) -> str:
    """A value of a KPI's unit as the site shows it: "9,3 %", "1 234,56 €", "1 234"."""
    from kpi.formatting import format_value

    if value is None:
        return words(locale)["na"]
    return format_value(value, unit or "number", locale, currency, pattern)


def separators(locale: str) -> str:
    """plotly's `separators`: the decimal mark, then the thousands one ("," and a space)."""
    from babel.numbers import get_group_symbol

    return get_decimal_symbol(locale) + get_group_symbol(locale)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values from `low` to `high` (steps of 1, 2 or 5 times a power of ten)."""
    low, high = min(low, 0.0), max(high, 0.0)
    if high == low:
        high = low + 1
    rough = (high - low) / count
    power = 10 ** math.floor(math.log10(rough))
    step = next(f * power for f in (1, 2, 5, 10) if f * power >= rough)
    first, last = math.floor(low / step + 1e-9), math.ceil(high / step - 1e-9)
    return [round(i * step, 12) for i in range(first, last + 1)]


def tick_text(value: float, unit: str | None, step: float, locale: str, currency: str) -> str:
    """A short axis label in the locale: "200 k€"-style compact amounts, "80 %"."""
    if unit == "percent":
        digits = max(0, -math.floor(math.log10(step * 100) + 1e-9))
        pattern = Locale.parse(locale).percent_formats[None].pattern
        pattern = pattern.replace("0", "0." + "0" * digits, 1) if digits else pattern
        return _percent(value, pattern, locale)
    if abs(step) >= 1000:
        text = format_compact_decimal(value, locale=locale, fraction_digits=1)
    else:
        digits = max(0, -math.floor(math.log10(step) + 1e-9))
        text = format_decimal(
            value, "#,##0" + ("." + "0" * digits if digits else ""), locale=locale
        )
    if unit == "currency":
        return with_currency(text, locale, currency)
    return text


def _percent(value: float, pattern: str, locale: str) -> str:
    from babel.numbers import format_percent

    return format_percent(value, pattern, locale=locale)


def with_currency(text: str, locale: str, currency: str) -> str:
    """A number with the currency symbol where the locale writes it ("5 k €", "£5k")."""
    from kpi.formatting import currency_symbol

    symbol = currency_symbol(currency, locale)
    pattern = Locale.parse(locale).currency_formats["standard"].pattern
    return f"{symbol}{text}" if pattern.lstrip().startswith("¤") else f"{text}\u00a0{symbol}"


def short_period(period, locale: str) -> str:
    """A short label for a chart axis: "oct. 2026", "S05 2026", "T3 2026", "2026"; a bucket
    cut by the report period says where: "févr. 2026 (au 1 févr.)"."""
    from babel.dates import format_date

    start, grain = period.start, getattr(period, "grain", "month")
    if grain == "month":
        label = format_date(start, "MMM yyyy", locale=locale)
    elif grain == "day":
        label = format_date(start, "d MMM", locale=locale)
    elif grain == "year":
        label = str(start.year)
    elif grain == "week":
        year, week, _ = period.first.isocalendar()
        label = words(locale)["week"].format(week=week, year=year)
    else:
        label = period_label(period)
    return label + partial_suffix(period, locale)


def period_label(period) -> str:
    """The label of a whole period of its grain (a clipped one adds its days itself)."""
    from kpi.periods import period_label as label_of

    return label_of(period.first, period.grain, period.locale)


def partial_suffix(period, locale: str) -> str:
    """ " (au 1 févr.)" for a period cut short by the report's end, "" for a whole one."""
    from kpi.periods import grain_start, shift_date

    if period.grain == "day" or getattr(period, "whole", True):
        return ""
    first = grain_start(period.first, period.grain)
    said = words(locale)
    if shift_date(first, period.grain, 1) != period.end_date:
        last = period.end_date - timedelta(days=1)
        return f" ({said['until']} {format_skeleton('MMMd', last, locale=locale)})"
    return f" ({said['from']} {format_skeleton('MMMd', period.first, locale=locale)})"


def timestamp(moment, locale: str) -> str:
    return format_datetime(moment, "d MMMM yyyy 'à' HH:mm", locale=locale)
