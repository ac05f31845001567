"""The engine's n/a reasons, in the project's language.

A reason is a key and its parameters; this is the one table of their texts. The language
is the one of the project's `locale` ("en" for en_US); French is the default and stands
in for a language missing here, as for the site's own words (site_builder.formats).
"""

from __future__ import annotations

# What an n/a value's reason starts with: French puts a space before the colon.
PREFIX = {"fr": "n/a : ", "en": "n/a: "}

REASONS = {
    "fr": {
        "zero_denominator": "dénominateur nul",
        "zero_kpi": "{label} nul",
        "no_data": "aucune donnée pour {label}",
        "zero_total": "total nul",
        "std_few_values": "écart type indéfini avec moins de 2 valeurs",
        "no_mean_of": "{kpi} n'a pas de colonne de valeur (mean_of) pour ce mode",
        "mode_of_state": "mode non applicable à un état",
        "missing_table": "pas de table {table} dans l'extrait",
        "query_error": "erreur de calcul ({error})",
        "window_before_data": (
            "la fenêtre d'activité commence avant les données (début : {start})"
        ),
        "period_outside": "période {period} hors des données ({span})",
        "period_started_before": "période {period} commencée avant les données ({span})",
        "period_unfinished": "période {period} pas finie dans les données ({span})",
        "data_span": "du {first} au {last}",
    },
    "en": {
        "zero_denominator": "zero denominator",
        "zero_kpi": "zero {label}",
        "no_data": "no data for {label}",
        "zero_total": "zero total",
        "std_few_values": "standard deviation undefined with fewer than 2 values",
        "no_mean_of": "{kpi} has no value column (mean_of) for this mode",
        "mode_of_state": "mode not applicable to a state",
        "missing_table": "no {table} table in the extract",
        "query_error": "computation error ({error})",
        "window_before_data": "the activity window starts before the data (start: {start})",
        "period_outside": "period {period} outside the data ({span})",
        "period_started_before": "period {period} started before the data ({span})",
        "period_unfinished": "period {period} not finished in the data ({span})",
        "data_span": "from {first} to {last}",
    },
}


def language(locale: str) -> str:
    """The language of the reasons for a locale: "en" for en_US, French when the table
    has no such language."""
    code = locale.replace("-", "_").split("_")[0].lower()
    return code if code in REASONS else "fr"


def text(language: str, key: str, **params) -> str:
    """The words of a reason, without the n/a prefix: "dénominateur nul"."""
    return REASONS[language][key].format(**params)


def reason(language: str, key: str, **params) -> str:
    """An n/a reason as a value carries it: "n/a : dénominateur nul"."""
    return prefixed(language, text(language, key, **params))


def prefixed(language: str, words: str) -> str:
    """A reason given in words (a catalog's `empty`, a table's problem) as a value
    carries it."""
    return PREFIX[language] + words


def mid_sentence(label: str) -> str:
    """A KPI label inside a reason: "Commandes" -> "commandes"; "CES", "NPS" stay."""
    return label if label[:2].isupper() else label[:1].lower() + label[1:]
