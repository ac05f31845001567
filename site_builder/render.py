"""HTML of checked directives: values, tiles, grids, charts and tables.

Values come from the KPI engine (a `Workbook`); every number shown is the engine's own
formatted text, so the page, the tooltips and the CSV downloads agree to the digit.
Charts are plotly figures kept as JSON in a `data-figure` attribute: one script
(assets/kpisite.js) draws them on every page load, instant navigation included.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html import escape
from typing import NamedTuple

from kpi.formatting import shows_digit
from kpi.values import OTHER, Member
from site_builder import formats
from site_builder.directives import AMOUNT_MODES, Spec


@dataclass
class RenderContext:
    """What rendering needs: the engine, the report period, the locale, and tallies."""

    book: object
    period: object
    locale: str = "fr_FR"
    currency: str = "EUR"
    directives: int = 0
    charts: int = 0
    counters: dict = field(default_factory=dict)

    @property
    def words(self) -> dict[str, str]:
        return formats.words(self.locale)

    def filtered(self, label: str, filters: dict | None) -> str:
        """ "Ventes totales · canal : web": a label and what its figure is filtered on."""
        return formats.with_filters(label, filters, self.locale)

    def kpi(self, name: str):
        return self.book.catalog.get(name)

    def label(self, name: str) -> str:
        """The KPI's label; a parameterised KPI adds its arguments as a reader names them:
        "Complétude (pays)"."""
        label = getattr(self.kpi(name), "label", None) or name
        if "(" in name:
            args = name.split("(", 1)[1].rstrip(")").split(",")
            label += (
                " (" + ", ".join(formats.field_label(a.strip(), self.locale) for a in args) + ")"
            )
        return label

    def title(self, name: str, mode: str) -> str:
        """A column's title in a mode: a mean is titled by what it averages, "Montant des
        commandes (moyenne cumulée)", not by the KPI ("Chiffre d'affaires")."""
        if mode == "count":
            return self.label(name)
        base = self.label(name)
        if mode in AMOUNT_MODES:
            base = formats.amount_label(self.kpi(name), self.locale) or base
        return f"{base} ({self.words['mode_' + mode]})"

    def unit(self, name: str) -> str | None:
        return getattr(self.kpi(name), "unit", None)

    def number(self, value: float | None, name: str, unit: str | None = None) -> str:
        return formats.number(value, unit or self.unit(name), self.locale, self.currency)

    def members(self, name: str, dimension: str) -> set[str] | None:
        """The values of a dimension in the extract (kpi.engine, remembered there)."""
        return self.book.dimension_values(name, dimension)

    def next_id(self, prefix: str) -> str:
        self.counters[prefix] = self.counters.get(prefix, 0) + 1
        return f"kpisite-{prefix}-{self.counters[prefix]}"

    def file_name(self, stem: str) -> str:
        """`stem`, then `stem-2`, `stem-3`... for the next downloads of the page that would
        share it (two tables of the same KPIs): a browser would not overwrite, but rename."""
        key = f"file {stem}"
        self.counters[key] = self.counters.get(key, 0) + 1
        count = self.counters[key]
        return stem if count == 1 else f"{stem}-{count}"


def render(spec: Spec, ctx: RenderContext) -> str:
    """The HTML of one checked directive."""
    ctx.directives += 1
    renderer = {
        "value": render_value,
        "tile": render_tile,
        "grid": render_grid,
        "chart": render_chart,
        "table": render_table,
    }[spec.kind]
    return renderer(spec, ctx)


def value_html(value, css: str = "kpisite-value", about: str = "") -> str:
    """A formatted value, or "n/a" with its reason as a tooltip; `about` (what the value
    is filtered on) goes in the tooltip too."""
    if getattr(value, "value", None) is None:
        reason = getattr(value, "reason", None) or "n/a"
        title = escape(" · ".join(part for part in (reason, about) if part), quote=True)
        return f'<span class="{css} kpisite-na" title="{title}" tabindex="0">n/a</span>'
    return f'<span class="{css}">{escape(value.formatted)}</span>'


def mark(comparison) -> tuple[str, str]:
    """The up/down mark of a delta and its class: good, bad or neutral (by direction)."""
    delta = comparison.delta
    if not shows_digit(comparison.delta_formatted):
        return "=", "neutral"  # a change too small to show is no change to the reader
    arrow = "▲" if delta > 0 else "▼"
    tone = {True: "good", False: "bad"}.get(comparison.improved, "neutral")
    return arrow, tone


def delta_html(comparison, against: str, ctx: RenderContext, css: str) -> str:
    """The change against a reference period: "▲ +4,51 € vs octobre 2026"; "pas de
    comparaison" when there is none, its reason in the tooltip as for any n/a."""
    if comparison.delta is None:
        reference = comparison.reference
        reason = getattr(reference, "reason", None) or getattr(comparison.current, "reason", None)
        title = escape(reason or ctx.words["na"], quote=True)
        shown = escape(ctx.words["no_comparison"])
        return f'<span class="{css} kpisite-na" title="{title}" tabindex="0">{shown}</span>'
    arrow, tone = mark(comparison)
    reference = getattr(comparison.reference, "period", None)
    versus = ctx.words[against]
    if reference is not None and getattr(reference, "label", None):
        period = formats.sentence_period(reference, ctx.locale)
        versus = ctx.words["versus"].format(period=period)
    return (
        f'<span class="{css} kpisite-{tone}">'
        # A no-break space: a line never ends between the mark and its number.
        f'<span aria-hidden="true" data-search-exclude>{arrow}</span>\u00a0'
        f"{escape(comparison.delta_formatted)}"
        f' <span class="kpisite-versus">{escape(versus)}</span></span>'
    )


# --- Inline values and tiles --------------------------------------------------------


def render_value(spec: Spec, ctx: RenderContext) -> str:
    """An inline value; a filtered one says what it is in its tooltip ("Panier moyen ·
    canal : web"), a sentence rarely does."""
    name, options = spec.kpis[0], spec.options
    filters = options["filters"] or None
    about = ctx.filtered(ctx.label(name), filters) if filters else ""
    title = f' title="{escape(about, quote=True)}"' if about else ""
    if options["compare"] == "none":
        value = ctx.book.value(name, ctx.period, filters=filters)
        html = value_html(value, about=about)
        if value.value is not None:
            html = html.replace("<span ", f"<span{title} ", 1)
        return html.replace('class="', f'data-kpi="{name}" class="', 1)

    comparison = ctx.book.compare(name, ctx.period, against=options["compare"], filters=filters)
    delta = delta_html(comparison, options["compare"], ctx, "kpisite-delta")
    if options.get("show") == "delta":
        return f'<span class="kpisite-inline" data-kpi="{name}"{title}>{delta}</span>'
    shown = value_html(comparison.current, about=about)
    return f'<span class="kpisite-inline" data-kpi="{name}"{title}>{shown} ({delta})</span>'


def render_tile(spec: Spec, ctx: RenderContext) -> str:
    name, options = spec.kpis[0], spec.options
    kpidef = ctx.kpi(name)
    filters = options["filters"] or None
    label = options["label"] or ctx.label(name)
    description = escape(getattr(kpidef, "description", None) or "", quote=True)
    # A filtered tile says so: "Ventes totales · canal : web" beside the unfiltered one.
    scope = formats.filters_text(filters, ctx.locale)
    scope = f'<span class="kpisite-tile__filters"> · {escape(scope)}</span>' if scope else ""

    parts = [f'<div class="kpisite-tile__label" title="{description}">{escape(label)}{scope}</div>']
    if options["compare"] == "none":
        current = ctx.book.value(name, ctx.period, filters=filters)
        parts.append(value_html(current, "kpisite-tile__value"))
    else:
        comparison = ctx.book.compare(name, ctx.period, against=options["compare"], filters=filters)
        current = comparison.current
        parts.append(value_html(current, "kpisite-tile__value"))
        if current.value is not None:  # an n/a value has no change to show
            parts.append(delta_html(comparison, options["compare"], ctx, "kpisite-tile__delta"))

    parts.append(target_html(kpidef, current, ctx))
    if options["sparkline"] > 1:
        series = ctx.book.series([name], ctx.period, count=options["sparkline"], filters=filters)
        parts.append(sparkline(series.values[name], ctx.filtered(label, filters), ctx.words))
    # One part a line: the search index reads "Chiffre d'affaires 28 119,39 €", not the
    # parts glued together (the tile's flex layout ignores the line breaks).
    body = "\n".join(part for part in parts if part)
    return f'<div class="kpisite-tile" data-kpi="{name}">\n{body}\n</div>'


def target_html(kpidef, current, ctx: RenderContext) -> str:
    """'Objectif 10,0 % atteint' in the KPI's good/bad colour, when the KPI has a target."""
    target = getattr(kpidef, "target", None)
    if target is None or not isinstance(target, int | float):
        return ""
    text = f"{ctx.words['target']} {ctx.number(target, kpidef.name)}"
    if current.value is None:
        return f'<div class="kpisite-tile__target kpisite-neutral">{escape(text)}</div>'
    higher = getattr(kpidef, "direction", "higher") != "lower"
    reached = current.value >= target if higher else current.value <= target
    status, tone = (ctx.words["reached"], "good") if reached else (ctx.words["missed"], "bad")
    text = ctx.words["target_status"].format(target=text, status=status)
    return f'<div class="kpisite-tile__target kpisite-{tone}">{escape(text)}</div>'


def sparkline(values: list, label: str, said: dict, width: int = 120, height: int = 28) -> str:
    """An inline SVG polyline of recent periods (drawn server-side: no script, prints). Its
    title lists the values for screen readers; the search index leaves it out."""
    numbers = [v.value for v in values]
    known = [n for n in numbers if n is not None]
    if len(known) < 2:
        return ""
    low, high = min(known), max(known)
    span = (high - low) or 1.0
    step = width / max(len(numbers) - 1, 1)
    points = " ".join(
        f"{i * step:.1f},{height - 2 - (n - low) / span * (height - 4):.1f}"
        for i, n in enumerate(numbers)
        if n is not None
    )
    title = escape(
        label
        + said["colon"]
        + ", ".join(v.formatted if v.value is not None else said["na"] for v in values)
    )
    return (
        f'<svg class="kpisite-spark" data-search-exclude viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" preserveAspectRatio="none" role="img" '
        f'aria-label="{title}">'
        f'<title>{title}</title><polyline fill="none" stroke="currentColor" stroke-width="1.5" '
        f'vector-effect="non-scaling-stroke" points="{points}"/></svg>'
    )


def render_grid(spec: Spec, ctx: RenderContext) -> str:
    rows = []
    for level, row in enumerate(spec.rows):
        tiles = "\n".join(render_tile(tile, ctx) for tile in row)
        rows.append(
            f'<div class="kpisite-grid__row kpisite-grid__row--{min(level, 2)}" '
            f'style="--kpisite-tiles: {len(row)}">{tiles}</div>'
        )
    joined = "\n".join(rows)
    return f'<div class="kpisite-grid">{joined}</div>'


# --- Data of charts and tables -------------------------------------------------------

# Means and deviations of counted things or scores: one number of decimals per column.
AMOUNT_PATTERN = "#,##0.00"
# A mean or a deviation over fewer values than this is marked as such: a CES of 5,00 on
# one answer is not a platform's experience.
FEW = 5


class Cell(NamedTuple):
    """One number of a table or a chart, as shown."""

    raw: float | None
    text: str
    reason: str | None = None
    n: int | None = None  # the values a mean or a deviation is over

    @property
    def few(self) -> bool:
        return self.raw is not None and self.n is not None and self.n < FEW


@dataclass
class Frame:
    """Rows of formatted values: one per period or per dimension value."""

    heading: str
    labels: list[str]
    columns: list[str]  # KPI names, or "value" for one row per KPI
    cells: dict[str, list[Cell]]
    total: dict[str, Cell] | None = None
    units: dict[str, str | None] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)  # column -> header
    in_time: bool = False  # rows are periods, oldest first: they sort by their order
    keys: list[str] | None = None  # the rows as a machine reads them: periods' keys

    @property
    def few(self) -> bool:
        """Some mean or deviation is over few values (drawn faded, in italics)."""
        return any(cell.few for cells in self.cells.values() for cell in cells)

    @property
    def counted(self) -> bool:
        """Means and deviations: each says how many values it is over (n)."""
        return any(cell.n is not None for cells in self.cells.values() for cell in cells)


def frame(spec: Spec, ctx: RenderContext) -> Frame:
    if spec.options.get("by") == "kpi":
        found = kpi_frame(spec, ctx)
    elif "by" in spec.options:
        found = breakdown_frame(spec, ctx)
    else:
        found = series_frame(spec, ctx)
    mode = spec.options.get("mode", "count")
    for column in found.columns:
        if column not in found.titles:
            found.titles[column] = ctx.title(column, mode)
    return found


def kpi_frame(spec: Spec, ctx: RenderContext) -> Frame:
    """One row per KPI at the report period (e.g. completeness of each field)."""
    filters = spec.options["filters"] or None
    values = [ctx.book.value(name, ctx.period, filters=filters) for name in spec.kpis]
    cells = {"value": [Cell(v.value, cell_text(v, ctx), v.reason) for v in values]}
    labels = [ctx.label(name) for name in spec.kpis]
    return Frame(
        ctx.words["indicator"],
        labels,
        ["value"],
        cells,
        None,
        {"value": ctx.unit(spec.kpis[0])},
        {"value": ctx.period.label},
    )


def series_frame(spec: Spec, ctx: RenderContext) -> Frame:
    options = spec.options
    series = ctx.book.series(
        spec.kpis,
        ctx.period,
        count=options["periods"],
        filters=options["filters"] or None,
        mode=options["mode"],
        grain=options["over"],
    )
    labels = [formats.short_period(p, ctx.locale) for p in series.periods]
    mode = options["mode"]
    cells = {name: [cell_of(v, mode, ctx) for v in series.values[name]] for name in spec.kpis}
    units = {
        name: mode_unit(value_unit(series.values[name], ctx.unit(name)), mode) for name in spec.kpis
    }
    keys = [period.key for period in series.periods]  # "2026-07", "2026-W05", "2026-Q3"
    return Frame(
        ctx.words["period"], labels, list(spec.kpis), cells, None, units, in_time=True, keys=keys
    )


def value_unit(values: list, default: str | None) -> str | None:
    """The unit the engine gave the values (a mode may change it), else the KPI's."""
    return next((v.unit for v in values if getattr(v, "unit", None)), default)


def mode_unit(unit: str | None, mode: str) -> str | None:
    """A mean or deviation of counted things (scores, amounts) is not a whole count."""
    return "number" if unit in ("count", "score") and mode in AMOUNT_MODES else unit


def cell_of(value, mode: str, ctx: RenderContext) -> Cell:
    """One cell in a presentation mode: a mean or a deviation keeps how many values it is
    over, as the engine counted them."""
    n = getattr(value, "n", None) if mode in AMOUNT_MODES else None
    if value.value is None:
        return Cell(None, cell_text(value, ctx), value.reason, n)
    if mode in AMOUNT_MODES and mode_unit(value.unit, mode) == "number":
        shown = formats.number(value.value, "number", ctx.locale, ctx.currency, AMOUNT_PATTERN)
        return Cell(value.value, shown, None, n)
    return Cell(value.value, cell_text(value, ctx), value.reason, n)


def cell_text(value, ctx: RenderContext) -> str:
    return value.formatted if value.value is not None else ctx.words["na"]


def breakdown_frame(spec: Spec, ctx: RenderContext) -> Frame:
    options = spec.options
    mode = options["mode"]
    result = ctx.book.breakdown(
        spec.kpis,
        ctx.period,
        by=options["by"],
        top=options["top"],
        other=True,
        mode=mode,
        filters=options["filters"] or None,
    )
    rows = list(zip(member_labels(result, ctx, options["by"]), result.rows, strict=True))
    if mode in ("mean", "std"):
        # Members come ranked by their count; a mean reads best in the order it shows,
        # the ones over few values after the others (Lyon's 2,00 over 3 notes does not lead).
        rows = ranked_by_value(rows, spec.kpis[0])
    labels = [label for label, _ in rows]
    cells = {
        name: [cell_of(values[name], mode, ctx) for _, (_, values) in rows] for name in spec.kpis
    }
    total = total_cells(getattr(result, "total", None), spec.kpis, mode, ctx)
    units = {
        name: mode_unit(value_unit([row[name] for _, row in result.rows], ctx.unit(name)), mode)
        for name in spec.kpis
    }
    heading = formats.dimension_label(options["by"], ctx.locale)
    return Frame(heading, labels, list(spec.kpis), cells, total, units)


def member_labels(result, ctx: RenderContext, dimension: str) -> list[str]:
    """The rows' labels in the site's language: the engine tells its own rows ("other",
    blank values, no joined row) from the dimension's values, which show as they are but
    for the codes of an enumerated column ("store": "Magasin")."""
    labels = getattr(result, "labels", None)
    if not callable(labels):
        return [str(label) for label, _ in result.rows]
    shown = labels(formats.member_labels(ctx.locale))
    return [
        formats.value_label(dimension, member.value, ctx.locale)
        if isinstance(member, Member) and member.kind == "value"
        else label
        for label, (member, _) in zip(shown, result.rows, strict=True)
    ]


def is_other(member) -> bool:
    """The row of the members after the top N (a time bucket's label is a string)."""
    return member == OTHER


def ranked_by_value(rows: list, name: str) -> list:
    """Rows by the first KPI's value, largest first: those over FEW values or more, then
    those over fewer, then n/a, then the other members' row."""

    def key(row):
        _, (member, values) = row
        value, n = values[name].value, getattr(values[name], "n", None)
        few = n is not None and n < FEW
        return (is_other(member), value is None, few, -(value or 0.0))

    return sorted(rows, key=key)


def total_cells(total, kpis: list[str], mode: str, ctx: RenderContext) -> dict | None:
    """The total row in the mode's unit: shares add up to 100 %."""
    if total is None:
        return None
    values = total[1] if isinstance(total, tuple) else total
    cells = {}
    for name in kpis:
        if name not in values:
            continue
        value = values[name]
        if mode == "percent" and value.value is not None and value.unit != "percent":
            cells[name] = Cell(1.0, formats.number(1, "percent", ctx.locale))
        else:
            cells[name] = cell_of(value, mode, ctx)
    return cells


def default_title(spec: Spec, data: Frame) -> str:
    """The title a chart gets when none is given: its columns' titles, or the labels of its
    KPIs when they are its rows (`by: kpi`, whose one column is the period)."""
    if spec.options["title"]:
        return spec.options["title"]
    if spec.options.get("by") == "kpi":
        return ", ".join(data.labels)
    return ", ".join(data.titles.values())


# --- Tables ----------------------------------------------------------------------------


def table_html(
    data: Frame, ctx: RenderContext, caption: str = "", sortable: bool = True, about: str = ""
) -> str:
    """An accessible HTML table of a frame; numbers carry their raw value for sorting, and
    periods their order (a dimension's members sort by their name). Each number, header
    and period carries its CSV form (data-csv): the number shown, the column with its unit
    and what it is filtered on (`about`), the period's key, for a machine. Cells are
    apart (a line each) so that the search index reads them as words."""
    # No class: mkdocs-material styles `table:not([class])` and wraps it to scroll.
    sort = ' data-sortable="true"' if sortable else ""
    counted = data.counted  # once per table: it looks at every cell
    head = [f'<th scope="col">{escape(data.heading)}</th>']
    for name in data.columns:
        head.append(header_html(data.titles[name], data.units.get(name), ctx, about))
        if counted:
            head.append(count_header(data, name, ctx))

    body = []
    for index, label in enumerate(data.labels):
        row = {n: data.cells[n][index] for n in data.columns}
        cells = "\n".join(row_cells(data, row, counted, ctx))
        order = f' data-value="{index}"' if data.in_time else ""
        key = f' data-csv="{escape(data.keys[index], quote=True)}"' if data.keys else ""
        body.append(f'<tr><th scope="row"{order}{key}>{escape(label)}</th>\n{cells}</tr>')

    foot = ""
    if data.total:
        cells = "\n".join(row_cells(data, data.total, counted, ctx))
        total = escape(ctx.words["total"])
        foot = f'\n<tfoot><tr><th scope="row">{total}</th>\n{cells}</tr></tfoot>'
    # The caption's text in a box of its own, which stays in view while the table scrolls.
    caption_html = f"<caption><span>{escape(caption)}</span></caption>\n" if caption else ""
    head_html, body_html = "\n".join(head), "\n".join(body)
    return (
        f"<table data-kpisite-table{sort}>{caption_html}<thead><tr>{head_html}</tr></thead>\n"
        f"<tbody>\n{body_html}\n</tbody>{foot}</table>"
    )


def header_html(title: str, unit: str | None, ctx: RenderContext, about: str = "") -> str:
    """A column's header; its CSV form names the unit the numbers are in and what they
    are filtered on: "Chiffre d'affaires (EUR)", "Chiffre d'affaires (part, %)",
    "Chiffre d'affaires (EUR) · canal : web, store"."""
    symbol = {"currency": ctx.currency, "percent": "%"}.get(unit or "")
    csv = title
    if symbol:
        csv = f"{title[:-1]}, {symbol})" if title.endswith(")") else f"{title} ({symbol})"
    csv = escape(f"{csv} · {about}" if about else csv, quote=True)
    return f'<th scope="col" data-csv="{csv}">{escape(title)}</th>'


def count_header(data: Frame, name: str, ctx: RenderContext) -> str:
    said = ctx.words
    text = said["count"] if len(data.columns) == 1 else f"{said['count']} ({data.titles[name]})"
    help_text = escape(said["count_help"], quote=True)
    return f'<th scope="col" title="{help_text}">{escape(text)}</th>'


def row_cells(data: Frame, row: dict[str, Cell], counted: bool, ctx: RenderContext) -> list[str]:
    cells = []
    for name in data.columns:
        cell = row.get(name, Cell(None, ""))
        cells.append(cell_html(cell, ctx))
        if counted:
            cells.append(count_html(cell.n, ctx))
    return cells


def slug(text: str) -> str:
    """A file name from a title: "Ventes par pays" -> "ventes-par-pays", "revenue canal :
    web, store" -> "revenue-canal-web-store"."""
    import re
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:80].strip("-")


def few_note(data: Frame, word: str, ctx: RenderContext) -> str:
    """The legend of figures over few values, under a table or a chart that has some
    ("En italique : calculé sur moins de 5 valeurs."); "" otherwise."""
    if not data.few:
        return ""
    return f'<p class="kpisite-note">{escape(ctx.words[word].format(n=FEW))}</p>\n'


def cell_html(cell: Cell, ctx: RenderContext) -> str:
    if cell.raw is None:
        title = escape(cell.reason or ctx.words["na"], quote=True)
        return f'<td class="kpisite-na" title="{title}" data-csv="">{escape(cell.text)}</td>'
    csv = formats.machine_number(cell.text, ctx.locale)
    few = few_marked(cell, ctx)
    return f'<td data-value="{cell.raw!r}" data-csv="{csv}"{few}>{escape(cell.text)}</td>'


def few_marked(cell: Cell, ctx: RenderContext) -> str:
    """The attributes of a mean over few values ("peu de valeurs : n = 3"), or ""."""
    if not cell.few:
        return ""
    said = ctx.words
    note = escape(said["few"] + said["colon"] + said["count_shown"].format(n=cell.n), quote=True)
    return f' class="kpisite-few" title="{note}"'


def counted_text(cell: Cell, ctx: RenderContext) -> str:
    """A mean or a deviation with how many values it is over: "2,00 · n = 3"."""
    return f"{cell.text} · {ctx.words['count_shown'].format(n=cell.n)}"


def count_html(n: int | None, ctx: RenderContext) -> str:
    if n is None:
        return '<td data-csv=""></td>'
    shown = formats.number(n, "count", ctx.locale)
    return f'<td data-value="{n}" data-csv="{n}">{escape(shown)}</td>'


def render_table(spec: Spec, ctx: RenderContext) -> str:
    data = frame(spec, ctx)
    table_id = ctx.next_id("table")
    title, filters = spec.options["title"], spec.options["filters"]
    # A filtered table says so in its caption, titled or not: "pays : FR"; its CSV file
    # says so in its name and its headers, which a spreadsheet shows without the page.
    caption = ctx.filtered(title or default_title(spec, data), filters) if filters else title
    scope = formats.filters_text(filters, ctx.locale)
    filename = ctx.file_name(slug(f"{title or ' '.join(spec.kpis)} {scope}") or table_id)
    button = (
        f'<button type="button" class="md-button kpisite-csv" data-table="{table_id}" '
        f'data-filename="{escape(filename)}.csv" data-search-exclude>'
        f"{escape(ctx.words['download'])}</button>"
    )
    table = table_html(data, ctx, caption=caption, about=scope)
    table = table.replace("<table ", f'<table id="{table_id}" ', 1)
    return f'<div class="kpisite-table">{table}\n{few_note(data, "few_table", ctx)}{button}</div>'


# --- Charts ----------------------------------------------------------------------------


def render_chart(spec: Spec, ctx: RenderContext) -> str:
    data = frame(spec, ctx)
    title = ctx.filtered(default_title(spec, data), spec.options["filters"])
    # The alternative table's summary and caption repeat the title: out of the search index.
    table = table_html(data, ctx, caption=title, sortable=False)
    table = table.replace("<caption>", "<caption data-search-exclude>", 1)
    alternative = (
        f'<details class="kpisite-alt"><summary data-search-exclude>'
        f"{escape(ctx.words['chart_data'])}</summary>{table}</details>"
    )
    if spec.options["type"] == "values":
        return f'<div class="kpisite-values">{values_html(data, ctx, spec)}</div>'

    ctx.charts += 1
    figure = json.dumps(figure_of(spec, data, ctx), ensure_ascii=False, separators=(",", ":"))
    label = escape(title, quote=True)
    unavailable = escape(ctx.words["chart_unavailable"], quote=True)
    # The title is the page's text, above the plot: it wraps to any width (a phone's)
    # where plotly's own would run off the edge.
    return (
        f'<div class="kpisite-figure"><p class="kpisite-chart-title" aria-hidden="true">'
        f'{escape(title)}</p><div class="kpisite-chart" role="img" aria-label="{label}" '
        f'data-unavailable="{unavailable}" data-figure="{escape(figure, quote=True)}"></div>'
        f"{few_note(data, 'few_chart', ctx)}{alternative}</div>"
    )


def values_html(data: Frame, ctx: RenderContext, spec: Spec) -> str:
    """Plain values: one definition list per KPI, labels to numbers, under the chart's
    title (a title given heads them all). A mean or a deviation says how many values it is
    over, as a bar does ("2,00 · n = 3"), and one over few values is set apart."""
    given, filters = spec.options["title"], spec.options["filters"]
    headed = bool(given) and len(data.columns) > 1
    parts = []
    if headed:
        parts.append(f'<p class="kpisite-title">{escape(ctx.filtered(given, filters))}</p>')
    for name in data.columns:
        items = "".join(
            f"<dt>{escape(label)}</dt>{value_item(cell, ctx)}"
            for label, cell in zip(data.labels, data.cells[name], strict=True)
        )
        # Under a given title, each list is named by its KPI alone: the title said the filters.
        title = data.titles[name] if headed else ctx.filtered(given or data.titles[name], filters)
        parts.append(f'<p class="kpisite-title">{escape(title)}</p><dl>{items}</dl>')
    return "".join(parts) + few_note(data, "few_table", ctx)


def value_item(cell: Cell, ctx: RenderContext) -> str:
    """One plain value, with its count of values in a mean or a deviation."""
    if cell.raw is None:
        reason = escape(cell.reason or ctx.words["na"], quote=True)
        return f'<dd class="kpisite-na" title="{reason}" tabindex="0">{escape(cell.text)}</dd>'
    if cell.n is None:
        return f"<dd>{escape(cell.text)}</dd>"
    return f"<dd{few_marked(cell, ctx)}>{escape(counted_text(cell, ctx))}</dd>"


def figure_of(spec: Spec, data: Frame, ctx: RenderContext) -> dict:
    """A minimal plotly figure (no template: kpisite.js styles it for the palette; no
    title: the page shows it). Every number it shows, ticks and slice labels included, is
    formatted here with babel."""
    kind = spec.options["type"]
    traces = [trace(kind, name, data, ctx) for name in data.columns]
    layout = {
        "showlegend": len(traces) > 1 or kind == "pie",
        "separators": formats.separators(ctx.locale),
    }
    if kind == "pie":
        return {"data": traces, "layout": layout}

    numbers = [
        cell.raw for name in data.columns for cell in data.cells[name] if cell.raw is not None
    ]
    unit = data.units.get(data.columns[0])
    value_axis = axis_format(numbers, unit, ctx)
    category_axis = {"type": "category", "automargin": True}
    if kind == "hbars":
        layout["xaxis"], layout["yaxis"] = value_axis, {**category_axis, "autorange": "reversed"}
    else:
        layout["yaxis"], layout["xaxis"] = value_axis, category_axis
    notes = missing_bars(kind, data, ctx) if kind in ("bars", "hbars") else []
    if notes:
        layout["annotations"] = notes
    # Fewer ticks, for kpisite.js to use where the value axis's labels would not fit side
    # by side (bars along a phone's width).
    narrow = axis_format(numbers, unit, ctx, count=3)
    narrow = {key: narrow[key] for key in ("tickvals", "ticktext", "range")}
    return {"data": traces, "layout": layout, "narrow": narrow}


def missing_bars(kind: str, data: Frame, ctx: RenderContext) -> list[dict]:
    """ "n/a" where a row has no bar (a deviation over one value), its reason on hover: an
    empty row would read as zero."""
    notes = []
    for index, label in enumerate(data.labels):
        cells = [data.cells[name][index] for name in data.columns]
        if any(cell.raw is not None for cell in cells):
            continue
        text = ctx.words["na"]
        if len(cells) == 1 and cells[0].n is not None:
            text += " · " + ctx.words["count_shown"].format(n=cells[0].n)
        place = {"x": 0, "y": label, "xanchor": "left"}
        if kind == "bars":
            place = {"x": label, "y": 0, "yanchor": "bottom"}
        reason = cells[0].reason or ctx.words["na"]
        notes.append({**place, "text": text, "hovertext": reason, "showarrow": False})
    return notes


def bar_texts(cells: list[Cell], ctx: RenderContext) -> list[str]:
    """The number a bar of a mean or a deviation shows at its end, with how many values it
    is over: "2,00 · n = 3" (a phone has no hover to tell)."""
    return ["" if cell.raw is None else counted_text(cell, ctx) for cell in cells]


def hover_texts(cells: list[Cell], ctx: RenderContext) -> list[str]:
    """What hovering a point shows: its number, and for a mean how many values it is over
    ("5,00 (n = 1, peu de valeurs)")."""
    said, texts = ctx.words, []
    for cell in cells:
        if cell.n is None:
            texts.append(cell.text)
            continue
        notes = [said["count_shown"].format(n=cell.n)] + ([said["few"]] if cell.few else [])
        texts.append(f"{cell.text} ({', '.join(notes)})")
    return texts


def trace(kind: str, name: str, data: Frame, ctx: RenderContext) -> dict:
    cells = data.cells[name]
    values = [cell.raw for cell in cells]
    shown = hover_texts(cells, ctx)
    label = data.titles[name]
    colon = ctx.words["colon"]
    # The series' name in the box's own text, not plotly's side part (<extra>), which
    # writes it in the series' colour: unreadable on the box for a light colour.
    hover = "%{customdata}<extra></extra>"
    named = escape(label, quote=False) + "<br>"
    if kind == "pie":
        return {
            "type": "pie",
            "labels": data.labels,
            "values": values,
            "customdata": shown,
            "text": shares(values, ctx),
            "textinfo": "text",
            "name": label,
            "hovertemplate": "%{label}" + colon + "%{customdata} (%{text})<extra></extra>",
            "sort": False,
        }
    axis = "y" if kind == "hbars" else "x"
    base = {
        axis: data.labels,
        "xy".replace(axis, ""): values,
        "name": label,
        "customdata": shown,
        "hovertemplate": named + "%{" + axis + "}" + colon + hover,
    }
    if any(cell.few for cell in cells):
        # A mean over few values is drawn faded, as its hover text and the note say why.
        base["marker"] = {"opacity": [0.45 if cell.few else 1 for cell in cells]}
    if kind in ("bars", "hbars") and data.counted:
        # Inside a long bar, past the end of a short one (kpisite.js colours the text).
        base["text"] = bar_texts(cells, ctx)
        base["textposition"] = "auto" if kind == "hbars" else "outside"
        base.update(cliponaxis=False, constraintext="none")
    if kind == "hbars":
        return {"type": "bar", "orientation": "h", **base}
    if kind == "lines":
        return {"type": "scatter", "mode": "lines+markers", **base}
    return {"type": "bar", **base}


def shares(values: list, ctx: RenderContext) -> list[str]:
    """Each slice's share of the pie, as the site writes percentages ("49,7 %")."""
    total = sum(value for value in values if value)
    return [
        formats.number(value / total if total and value else 0, "percent", ctx.locale)
        for value in values
    ]


def axis_format(numbers: list[float], unit: str | None, ctx: RenderContext, count: int = 5) -> dict:
    """The value axis: about `count` round ticks labelled in the locale ("200 k €",
    "80 %"), from zero, its labels given room by automargin (never cut at a fixed margin)."""
    ticks = formats.nice_ticks(min(numbers, default=0.0), max(numbers, default=0.0), count)
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    return {
        "tickmode": "array",
        "tickvals": ticks,
        "ticktext": [formats.tick_text(t, unit, step, ctx.locale, ctx.currency) for t in ticks],
        "range": [ticks[0], ticks[-1]],
        "automargin": True,
        "zeroline": True,
    }
