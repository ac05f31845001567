"""The dashboard page, generated from the whole KPI catalog: one grid of tiles per area."""

from __future__ import annotations

DASHBOARD_PAGE = "tableau-de-bord.md"

AREAS = ("Clients", "Ventes", "Campagnes", "Satisfaction", "Autres indicateurs")
PER_ROW = 4


def area_of(kpidef) -> str:
    """The area of a KPI, from the tables it reads and the dimensions it has."""
    tables = set(getattr(kpidef, "tables", None) or ())
    if tables & {"survey_responses", "survey_questions"}:
        return "Satisfaction"
    if tables & {"campaign_events", "campaigns"}:
        return "Campagnes"
    if "contacts" in tables or "lifecycle_stage" in (kpidef.dimensions or ()):
        return "Clients"
    if tables & {"orders", "order_lines"}:
        return "Ventes"
    return "Autres indicateurs"


def dashboard_markdown(catalog, ctx) -> str:
    """A page with every KPI of the catalog as a tile, grouped by area."""
    groups: dict[str, list[str]] = {}
    for name in catalog.names():
        if getattr(catalog.get(name), "params", ()):
            continue  # a KPI with parameters (completeness of a field) needs its argument
        groups.setdefault(area_of(catalog.get(name)), []).append(name)

    lines = [
        "# Tableau de bord",
        "",
        "Tous les indicateurs du catalogue pour la période, comparés à la période précédente. "
        "Cette page est générée automatiquement.",
        "",
    ]
    for area in AREAS:
        if area in groups:
            lines += grid_section(area, groups[area])
    return "\n".join(lines)


def grid_section(area: str, names: list[str]) -> list[str]:
    rows = [names[i : i + PER_ROW] for i in range(0, len(names), PER_ROW)]
    body = [f"  - [{', '.join(row)}]" for row in rows]
    return [f"## {area}", "", "/// kpi-grid", "sparkline: 12", "rows:", *body, "///", ""]
