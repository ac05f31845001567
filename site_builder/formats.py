"""Number and period formats of the site, in the project's locale (French by default)."""

from __future__ import annotations

from babel.dates import format_date, format_datetime

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


def words(locale: str) -> dict[str, str]:
    return WORDS.get(locale.split("_")[0], WORDS["fr"])


def dimension_label(name: str, locale: str) -> str:
    labels = DIMENSION_LABELS.get(locale.split("_")[0], {})
    return labels.get(name, name.replace("_", " ").capitalize())


def number(value: float | None, unit: str | None, locale: str, currency: str = "EUR") -> str:
    """A value of a KPI's unit as the site shows it: "9,3 %", "1 234,56 €", "1 234"."""
    from kpi.formatting import format_value

    if value is None:
        return words(locale)["na"]
    return format_value(value, unit or "number", locale, currency)


def short_period(period, locale: str) -> str:
    """A short label for a chart axis: "oct. 2026", "S05 2026", "T3 2026", "2026"."""
    start = period.start
    grain = getattr(period, "grain", "month")
    if grain == "month":
        return format_date(start, "MMM yyyy", locale=locale)
    if grain == "day":
        return format_date(start, "d MMM", locale=locale)
    if grain == "year":
        return str(start.year)
    return getattr(period, "label", str(start.date()))


def timestamp(moment, locale: str) -> str:
    return format_datetime(moment, "d MMMM yyyy 'à' HH:mm", locale=locale)
