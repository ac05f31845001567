"""Number and period formats of the site, in the project's locale (French by default)."""

from __future__ import annotations

import math
from datetime import timedelta
from functools import cache

from babel import Locale
from babel.dates import format_datetime, format_skeleton
from babel.numbers import format_compact_decimal, format_decimal, get_decimal_symbol

from kpi.periods import day_pattern
from kpi.reasons import mid_sentence
from kpi.values import MEMBER_LABELS_BY_LANGUAGE

# The site's own words, by language: one table for the pages, the footer, the banner and
# the scripts. The language is the one of the project's `locale`; French is the default
# and stands in for a language missing here.
WORDS = {
    "fr": {
        "previous": "vs période précédente",
        "last_year": "vs même période l'an dernier",
        "versus": "vs {period}",
        "colon": " : ",
        "target": "Objectif",
        "target_status": "{target} : {status}",
        "reached": "atteint",
        "missed": "non atteint",
        "total": "Total",
        "period": "Période",
        "download": "Télécharger en CSV",
        "chart_data": "Données du graphique",
        "chart_unavailable": "Graphique indisponible",
        "plotly_missing": "plotly.min.js n'a pas pu être chargé",
        "sort": "Trier",
        "extracted": "données extraites le",
        "built": "construit le",
        "reference": "réf.",
        "reference_data": "données",
        "reference_project": "projet",
        "reference_help": "Référence de la version : empreinte des données",
        "reference_help_commit": ", puis commit du projet",
        "outdated": "Vous consultez le rapport d'une période passée",
        "outdated_link": "Voir le rapport de la dernière période.",
        "unavailable": "Données indisponibles",
        "timestamp": "d MMMM yyyy 'à' HH:mm",
        "na": "n/a",
        "error": "Erreur de directive",
        "indicator": "Indicateur",
        "until": "au",
        "from": "dès le",
        "week": "S{week:02d} {year}",
        "mode_percent": "part",
        "mode_mean": "moyenne",
        "mode_std": "écart-type",
        "mode_cumulative_mean": "moyenne cumulée",
        # A no-break space before the colon, as French writes it.
        "filter": "{dimension}\u00a0: {values}",
        "filter_not": "sauf {values}",
        "count": "n",
        "count_help": "nombre de valeurs moyennées",
        "count_shown": "n = {n}",
        "few": "peu de valeurs",
        "few_table": "En italique : calculé sur moins de {n} valeurs.",
        "few_chart": "Estompé : calculé sur moins de {n} valeurs.",
        "no_comparison": "pas de comparaison",
        "dashboard": "Tableau de bord",
        "dashboard_intro": "Les indicateurs du catalogue pour la période, comparés à la "
        "période précédente. Cette page est générée automatiquement.",
        # "Pas de données de campagnes ni d'enquêtes dans cet extrait."
        "dashboard_absent": "Pas de données {areas} dans cet extrait.",
        "and_none": " ni ",
    },
    "en": {
        "previous": "vs previous period",
        "last_year": "vs same period last year",
        "versus": "vs {period}",
        "colon": ": ",
        "target": "Target",
        "target_status": "{target}: {status}",
        "reached": "reached",
        "missed": "missed",
        "total": "Total",
        "period": "Period",
        "download": "Download as CSV",
        "chart_data": "Chart data",
        "chart_unavailable": "Chart unavailable",
        "plotly_missing": "plotly.min.js could not be loaded",
        "sort": "Sort",
        "extracted": "data extracted on",
        "built": "built on",
        "reference": "ref.",
        "reference_data": "data",
        "reference_project": "project",
        "reference_help": "Version reference: fingerprint of the data",
        "reference_help_commit": ", then commit of the project",
        "outdated": "You are reading the report of a past period",
        "outdated_link": "See the report of the latest period.",
        "unavailable": "Data unavailable",
        "timestamp": "MMMM d, yyyy 'at' HH:mm",
        "na": "n/a",
        "error": "Directive error",
        "indicator": "Indicator",
        "until": "to",
        "from": "from",
        "week": "W{week:02d} {year}",
        "mode_percent": "share",
        "mode_mean": "mean",
        "mode_std": "standard deviation",
        "mode_cumulative_mean": "cumulative mean",
        "filter": "{dimension}: {values}",
        "filter_not": "not {values}",
        "count": "n",
        "count_help": "number of values averaged",
        "count_shown": "n = {n}",
        "few": "few values",
        "few_table": "In italics: computed over fewer than {n} values.",
        "few_chart": "Faded: computed over fewer than {n} values.",
        "no_comparison": "no comparison",
        "dashboard": "Dashboard",
        "dashboard_intro": "The KPIs of the catalog for the period, compared with the previous "
        "period. This page is generated.",
        # "No campaign or survey data in this extract."
        "dashboard_absent": "No {areas} data in this extract.",
        "and_none": " or ",
    },
}

# The dashboard's sections: a KPI's area is the table it reads (site_builder.dashboard).
AREA_LABELS = {
    "fr": {
        "sales": "Ventes",
        "customers": "Clients",
        "campaigns": "Campagnes",
        "satisfaction": "Satisfaction",
        "other": "Autres indicateurs",
    },
    "en": {
        "sales": "Sales",
        "customers": "Customers",
        "campaigns": "Campaigns",
        "satisfaction": "Satisfaction",
        "other": "Other indicators",
    },
}

# An area as the dashboard names its missing data: "Pas de données de campagnes".
AREA_DATA = {
    "fr": {
        "sales": "de ventes",
        "customers": "de contacts",
        "campaigns": "de campagnes",
        "satisfaction": "d'enquêtes",
        "other": "d'autres indicateurs",
    },
    "en": {
        "sales": "sales",
        "customers": "contact",
        "campaigns": "campaign",
        "satisfaction": "survey",
        "other": "other",
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
    },
    "en": {
        "country_code": "Country",
        "respondent_country": "Country",
        "respondent_city": "City",
        "lifecycle_stage": "Lifecycle stage",
        "lead_source": "Source",
        "answer_choice": "Answer",
        "sku": "Product",
    },
}

# The codes of the extract's enumerated columns as a reader names them: a breakdown's rows
# and a filter's values show "Magasin" where the extract holds "store". The codes stay
# what pages, filters and CSV keys write; values outside this table show as they are.
VALUE_LABELS = {
    "fr": {
        "channel": {
            "web": "Web",
            "store": "Magasin",
            "phone": "Téléphone",
            "marketplace": "Place de marché",
            "email": "E-mail",
            "chat": "Chat",
        },
        "campaign_channel": {"email": "E-mail", "sms": "SMS", "push": "Notification push"},
        "campaign_type": {
            "newsletter": "Newsletter",
            "automation": "Automatisation",
            "transactional": "Transactionnel",
        },
        "platform": {
            "web": "Web",
            "ios": "iOS",
            "android": "Android",
            "email": "E-mail",
            "sms": "SMS",
        },
        "lifecycle_stage": {
            "subscriber": "Abonné",
            "lead": "Prospect",
            "customer": "Client",
            "other": "Autre",
        },
    },
    "en": {
        "channel": {
            "web": "Web",
            "store": "Store",
            "phone": "Phone",
            "marketplace": "Marketplace",
            "email": "Email",
            "chat": "Chat",
        },
        "campaign_channel": {"email": "Email", "sms": "SMS", "push": "Push notification"},
        "campaign_type": {
            "newsletter": "Newsletter",
            "automation": "Automation",
            "transactional": "Transactional",
        },
        "platform": {
            "web": "Web",
            "ios": "iOS",
            "android": "Android",
            "email": "Email",
            "sms": "SMS",
        },
        "lifecycle_stage": {
            "subscriber": "Subscriber",
            "lead": "Lead",
            "customer": "Customer",
            "other": "Other stage",
        },
    },
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
    """The language of the site's words for a locale: "en" for en_US, French when the
    table has no such language."""
    code = locale.replace("-", "_").split("_")[0].lower()
    return code if code in WORDS else "fr"


def words(locale: str) -> dict[str, str]:
    return WORDS[language(locale)]


def member_labels(locale: str) -> dict[str, str]:
    """The rows a breakdown adds to a dimension's values, by the engine's key (kpi.values)."""
    return MEMBER_LABELS_BY_LANGUAGE[language(locale)]


def area_label(area: str, locale: str) -> str:
    return AREA_LABELS[language(locale)][area]


def absent_areas(areas: list[str], locale: str) -> str:
    """The dashboard's line on areas with no data: "Pas de données de campagnes ni
    d'enquêtes dans cet extrait.", "No campaign or survey data in this extract."."""
    said = words(locale)
    names = [AREA_DATA[language(locale)][area] for area in areas]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + said["and_none"] + names[-1]
    return said["dashboard_absent"].format(areas=listed)


def dimension_label(name: str, locale: str) -> str:
    labels = DIMENSION_LABELS.get(language(locale), {})
    return labels.get(name, name.replace("_", " ").capitalize())


def filters_text(filters: dict | None, locale: str) -> str:
    """What a figure is filtered on, as a reader says it: "canal : web", "plateforme :
    web, ios", "pays : sauf FR"; "" without filters. A blank value is the blank member."""
    said, parts = words(locale), []
    for dimension, wanted in (filters or {}).items():
        excluded = isinstance(wanted, dict)
        values = wanted.get("not", []) if excluded else wanted
        values = values if isinstance(values, list | tuple) else [values]
        shown = ", ".join(filter_value(value, locale, dimension) for value in values)
        if excluded:
            shown = said["filter_not"].format(values=shown)
        label = mid_sentence(dimension_label(dimension, locale))
        parts.append(said["filter"].format(dimension=label, values=shown))
    return " · ".join(parts)


def filter_value(value, locale: str, dimension: str) -> str:
    if value is None:
        return member_labels(locale)["blank"]
    return value_label(dimension, str(value), locale)


# Dimensions holding ISO 3166-1 country codes, named by babel in the site's language.
COUNTRY_DIMENSIONS = ("country_code", "respondent_country")


def value_label(dimension: str, value: str, locale: str) -> str:
    """A code as a reader names it: an enumerated column's ("store" -> "Magasin"), a
    country's ("BE" -> "Belgique"); any other value as it is."""
    if dimension in COUNTRY_DIMENSIONS and isinstance(value, str):
        return Locale.parse(locale).territories.get(value.upper(), value)
    return VALUE_LABELS.get(language(locale), {}).get(dimension, {}).get(value, value)


def with_filters(label: str, filters: dict | None, locale: str) -> str:
    """ "Ventes totales · canal : web": a figure's label and what it is filtered on."""
    text = filters_text(filters, locale)
    return f"{label} · {text}" if text and label else label or text


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
    # "Réponses CSAT" reads "réponses CSAT" mid-sentence; an acronym ("CES") stays.
    return label.format(kpi=mid_sentence(kpidef.label or kpidef.name))


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
    """ "3 décembre 2026 à 18:05", "1er décembre 2026 à 06:00", "December 3, 2026 at 18:05"."""
    pattern = day_pattern(words(locale)["timestamp"], moment.day, locale)
    return format_datetime(moment, pattern, locale=locale)


def sentence_period(period, locale: str) -> str:
    """A period's label inside a sentence: "octobre 2026" in French, "October 2026" in
    English (babel's month names know their case); other grains as the engine says them."""
    from babel.dates import format_date

    if getattr(period, "grain", None) == "month" and getattr(period, "whole", True):
        return format_date(period.first, "LLLL y", locale=locale)
    return period.label


def machine_number(text: str, locale: str) -> str:
    """A formatted number as a machine reads it, to the digit shown: "1 912,97 €" ->
    "1912.97", "9,3 %" -> "9.3", "+15" -> "15"; "" for text that holds no number."""
    group, minus, decimal = number_symbols(locale)
    text = text.replace(group, "").replace("\u2212", "-").replace(minus, "-")
    kept = "".join(c for c in text if c.isdigit() or c in (decimal, "-"))
    kept = kept.replace(decimal, ".")
    return kept if any(c.isdigit() for c in kept) else ""


@cache
def number_symbols(locale: str) -> tuple[str, str, str]:
    """The locale's group, minus and decimal signs, looked up once: machine_number reads
    every cell of every table."""
    from babel.numbers import get_group_symbol, get_minus_sign_symbol

    return get_group_symbol(locale), get_minus_sign_symbol(locale), get_decimal_symbol(locale)
