"""The dashboard page, generated from the KPI catalog: one grid of tiles per area.

A KPI's area is the table it reads: orders make sales, contacts and their activity make
customers, campaign events campaigns, survey answers satisfaction. A formula belongs to
the area of its first operand (revenue per contact is a sales figure). A KPI reading a
table the extract lacks is left out (it could only be n/a), and one line says which
areas have no data. The page's words are the site's (site_builder.formats), in the
project's language.
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


def dashboard_markdown(catalog, locale: str = "fr_FR", tables: list[str] | None = None) -> str:
    """A page with the KPIs of the catalog as tiles, grouped by area; its title alone
    without a catalog (a preview showing why the figures are missing). With `tables`,
    the extract's tables, a KPI reading another table is left out."""
    said = formats.words(locale)
    lines = [f"# {said['dashboard']}", ""]
    if catalog is None:
        return "\n".join(lines)

    groups: dict[str, list[str]] = {}
    left_out: set[str] = set()
    for name in catalog.kpis:  # in the order of the catalog: counts before their rates
        kpidef = catalog.get(name)
        if getattr(kpidef, "params", ()):
            continue  # a KPI with parameters (completeness of a field) needs its argument
        area = area_of(kpidef, catalog)
        if tables is not None and set(kpidef.tables) - set(tables):
            left_out.add(area)
            continue
        groups.setdefault(area, []).append(name)

    lines += [said["dashboard_intro"], ""]
    # Areas of which no KPI is left: the reader learns why their section is missing.
    absent = [area for area in AREAS if area in left_out and area not in groups]
    if absent:
        lines += [formats.absent_areas(absent, locale), ""]
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
