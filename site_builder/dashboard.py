"""The dashboard page, generated from the whole KPI catalog: one grid of tiles per area.

A KPI's area is the table it reads: orders make sales, contacts and their activity make
customers, campaign events campaigns, survey answers satisfaction. A formula belongs to
the area of its first operand (revenue per contact is a sales figure). The page's words
are the site's (site_builder.formats), in the project's language.
"""

from __future__ import annotations

from site_builder import formats

DASHBOARD_PAGE = "tableau-de-bord.md"

AREAS = ("sales", "customers", "campaigns", "satisfaction", "other")
TABLE_AREAS = {
    "orders": "sales",
    "order_lines": "sales",
    "contacts": "customers",
    "interactions": "customers",
    "campaign_events": "campaigns",
    "campaigns": "campaigns",
    "survey_responses": "satisfaction",
    "survey_questions": "satisfaction",
}


def area_of(kpidef, catalog) -> str:
    """The area of a KPI, from the table it reads (its first operand's, for a formula)."""
    if kpidef.kind == "activity":
        return "customers"  # active customers are contacts, whatever orders make them so
    if kpidef.kind == "formula" and kpidef.deps:
        return area_of(catalog.kpis[kpidef.deps[0].name], catalog)
    return TABLE_AREAS.get(kpidef.get("table"), "other")


def dashboard_markdown(catalog, locale: str = "fr_FR") -> str:
    """A page with every KPI of the catalog as a tile, grouped by area; its title alone
    without a catalog (a preview showing why the figures are missing)."""
    said = formats.words(locale)
    lines = [f"# {said['dashboard']}", ""]
    if catalog is None:
        return "\n".join(lines)

    groups: dict[str, list[str]] = {}
    for name in catalog.kpis:  # in the order of the catalog: counts before their rates
        kpidef = catalog.get(name)
        if getattr(kpidef, "params", ()):
            continue  # a KPI with parameters (completeness of a field) needs its argument
        groups.setdefault(area_of(kpidef, catalog), []).append(name)

    lines += [said["dashboard_intro"], ""]
    for area in AREAS:
        if area in groups:
            lines += grid_section(formats.area_label(area, locale), groups[area])
    return "\n".join(lines)


def grid_section(title: str, names: list[str]) -> list[str]:
    """One row of tiles: the grid wraps it to the width, in columns that line up."""
    return [
        f"## {title}",
        "",
        "/// kpi-grid",
        "sparkline: 12",
        "rows:",
        f"  - [{', '.join(names)}]",
        "///",
        "",
    ]
