"""The dashboard page, generated from the whole KPI catalog: one grid of tiles per area.

A KPI's area is the table it reads: orders make sales, contacts and their activity make
customers, campaign events campaigns, survey answers satisfaction. A formula belongs to
the area of its first operand (revenue per contact is a sales figure).
"""

from __future__ import annotations

DASHBOARD_PAGE = "tableau-de-bord.md"
DASHBOARD_TITLE = "# Tableau de bord\n"

AREAS = ("Ventes", "Clients", "Campagnes", "Satisfaction", "Autres indicateurs")
TABLE_AREAS = {
    "orders": "Ventes",
    "order_lines": "Ventes",
    "contacts": "Clients",
    "interactions": "Clients",
    "campaign_events": "Campagnes",
    "campaigns": "Campagnes",
    "survey_responses": "Satisfaction",
    "survey_questions": "Satisfaction",
}


def area_of(kpidef, catalog) -> str:
    """The area of a KPI, from the table it reads (its first operand's, for a formula)."""
    if kpidef.kind == "activity":
        return "Clients"  # active customers are contacts, whatever orders make them so
    if kpidef.kind == "formula" and kpidef.deps:
        return area_of(catalog.kpis[kpidef.deps[0].name], catalog)
    return TABLE_AREAS.get(kpidef.get("table"), "Autres indicateurs")


def dashboard_markdown(catalog) -> str:
    """A page with every KPI of the catalog as a tile, grouped by area."""
    groups: dict[str, list[str]] = {}
    for name in catalog.kpis:  # in the order of the catalog: counts before their rates
        kpidef = catalog.get(name)
        if getattr(kpidef, "params", ()):
            continue  # a KPI with parameters (completeness of a field) needs its argument
        groups.setdefault(area_of(kpidef, catalog), []).append(name)

    lines = [
        DASHBOARD_TITLE,
        "Tous les indicateurs du catalogue pour la période, comparés à la période précédente. "
        "Cette page est générée automatiquement.",
        "",
    ]
    for area in AREAS:
        if area in groups:
            lines += grid_section(area, groups[area])
    return "\n".join(lines)


def grid_section(area: str, names: list[str]) -> list[str]:
    """One row of tiles: the grid wraps it to the width, in columns that line up."""
    return [
        f"## {area}",
        "",
        "/// kpi-grid",
        "sparkline: 12",
        "rows:",
        f"  - [{', '.join(names)}]",
        "///",
        "",
    ]
