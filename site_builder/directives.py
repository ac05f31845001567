"""KPI directives: their syntax, the pre-pass that finds them with their line numbers, and
the checks that turn their options into a validated `Spec`.

Two forms, both readable in a plain Markdown preview:

* inline, inside a sentence: ``[[kpi churn_rate compare=previous country_code=FR]]``;
* blocks, fenced by three slashes like pymdownx.blocks, with YAML options in the body::

      /// kpi-tile | churn_rate
      compare: last_year
      sparkline: 12
      ///

Neither Python-Markdown nor pymdownx knows source lines, so `scan()` walks the page source
itself (skipping front matter and code fences) and records where each directive starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from kpi.errors import DirectiveError, KpisiteError, did_you_mean

KINDS = ("kpi-tile", "kpi-chart", "kpi-table", "kpi-grid")
CHART_TYPES = ("pie", "bars", "hbars", "lines", "values")
COMPARISONS = ("previous", "last_year", "none")
MODES = ("count", "percent", "mean", "std", "cumulative_mean")
OVER_MODES = ("count", "mean", "std", "cumulative_mean")
BY_MODES = ("count", "percent", "mean", "std")
GRAINS = ("day", "week", "month", "quarter", "year")

BLOCK_OPEN = re.compile(
    r"^(?P<fence>/{3,})[ \t]*(?P<kind>kpi[\w-]*)[ \t]*(?:\|[ \t]*(?P<arg>.*?))?\s*$"
)
# Any line opening a `kpi...` block, well formed or not: one BLOCK_OPEN does not match is
# reported, never left as a literal paragraph (pymdownx.blocks' silent failure).
KPI_OPEN = re.compile(r"^(?P<fence>/{3,})[ \t]*(?P<kind>kpi[\w-]*)", re.IGNORECASE)
ANY_OPEN = re.compile(r"^/{3,}[ \t]*\S")
CODE_FENCE = re.compile(r"^[ \t]{0,3}(?P<mark>`{3,}|~{3,})")
INLINE = re.compile(r"\[\[kpi\s+(?P<body>[^\]]*?)\s*\]\]")
CODE_SPAN = re.compile(r"(`+).+?\1")
REF = re.compile(r"^\s*([A-Za-z_]\w*)\s*(?:\((.*)\))?\s*$")


@dataclass
class Block:
    """A block directive as written: its kind, argument, YAML body and source lines."""

    kind: str
    argument: str
    body: list[str]
    line: int  # 1-based line of the opening fence in the page source
    start: int  # index of the opening line in the scanned lines
    end: int  # index of the closing line

    def line_of(self, token: str) -> int:
        """The source line of the first body line mentioning `token`, else the header."""
        for number, text in enumerate(self.body, self.line + 1):
            if token and token in text:
                return number
        return self.line


@dataclass
class Scan:
    """What the pre-pass found on a page."""

    blocks: list[Block] = field(default_factory=list)
    inline_lines: dict[str, list[int]] = field(default_factory=dict)
    problems: list[tuple[int, str, str | None]] = field(default_factory=list)
    # The lines each problem stands for, by its page line: (first index, last index) of
    # the scanned lines, replaced by the error shown in place.
    spans: dict[int, tuple[int, int]] = field(default_factory=dict)


@dataclass
class Spec:
    """A checked directive, ready to render."""

    kind: str  # value, tile, chart, table, grid
    kpis: list[str]
    options: dict[str, Any]
    line: int
    rows: list[list[Spec]] = field(default_factory=list)  # grid only


def scan(lines: list[str], offset: int = 0) -> Scan:
    """Find the directives of a page (a list of lines) outside front matter and code.

    `offset` is the number of source lines before `lines[0]` (front matter that mkdocs
    removed before Markdown saw the page).
    """
    found = Scan()
    index = skip_front_matter(lines)
    fence = None
    prose = [""] * len(lines)  # the lines outside code, for inline directives

    while index < len(lines):
        text = lines[index]

        # Code fences: nothing inside them is a directive.
        match = CODE_FENCE.match(text)
        if fence is None and match:
            fence = match.group("mark")
        elif fence is not None and match and match.group("mark").startswith(fence):
            fence = None
        if fence is not None or match:
            index += 1
            continue

        opened = BLOCK_OPEN.match(text)
        if opened:
            index = read_block(lines, index, opened, offset, found)
            continue
        if KPI_OPEN.match(text):
            index = read_malformed(lines, index, offset, found)
            continue

        prose[index] = CODE_SPAN.sub(lambda m: " " * len(m.group(0)), text)
        index += 1

    record_inline("\n".join(prose), offset, found)
    return found


def skip_front_matter(lines: list[str]) -> int:
    """The index of the first line after a YAML front matter, or 0 when there is none."""
    if not lines or lines[0].strip() != "---":
        return 0
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            return index + 1
    return 0


def read_block(lines: list[str], index: int, opened: re.Match, offset: int, found: Scan) -> int:
    """Record the block opened at `index`; return the index after its closing fence."""
    closing = re.compile(rf"^{opened.group('fence')}\s*$")
    line = index + 1 + offset

    for end in range(index + 1, len(lines)):
        if closing.match(lines[end]):
            block = Block(
                kind=opened.group("kind"),
                argument=(opened.group("arg") or "").strip(),
                body=lines[index + 1 : end],
                line=line,
                start=index,
                end=end,
            )
            found.blocks.append(block)
            return end + 1

    fence = opened.group("fence")
    found.problems.append(
        (
            line,
            f"directive '{opened.group('kind')}' is never closed",
            f"end it with a line '{fence}'",
        )
    )
    found.spans[line] = (index, index)
    return index + 1


def read_malformed(lines: list[str], index: int, offset: int, found: Scan) -> int:
    """Report a `/// kpi...` line BLOCK_OPEN does not match (`/// kpi-tile revenue`,
    `/// kpi-tiles x`); its body and closing fence, if any, go with it. Return the index
    after them."""
    text = lines[index].strip()
    opened = KPI_OPEN.match(text)
    kind = opened.group("kind")
    line = index + 1 + offset
    written = text[len(opened.group("fence")) :].strip()

    if kind in KINDS:
        form = f"'/// {kind}'" if kind == "kpi-grid" else f"'/// {kind} | KPI'"
        found.problems.append((line, f"malformed directive '{written}': expected {form}", None))
    else:
        hint = did_you_mean(kind.lower(), KINDS)
        found.problems.append(
            (line, f"malformed directive '{written}': unknown kind '{kind}'", hint)
        )

    # Its closing fence, unless another block opens first (then the line goes alone).
    closing = re.compile(rf"^{opened.group('fence')}\s*$")
    end = index
    for later in range(index + 1, len(lines)):
        if closing.match(lines[later]):
            end = later
            break
        if ANY_OPEN.match(lines[later]) or CODE_FENCE.match(lines[later]):
            break
    found.spans[line] = (index, end)
    return end + 1


def record_inline(text: str, offset: int, found: Scan) -> None:
    """Remember the line of each inline directive (one may span a line break)."""
    for match in INLINE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1 + offset
        found.inline_lines.setdefault(inline_key(match.group(0)), []).append(line)


def inline_key(text: str) -> str:
    """An inline directive with its whitespace collapsed, as both passes see it."""
    return " ".join(text.split())


def error(line: int, message: str, hint: str | None = None) -> DirectiveError:
    """A directive error whose `problems` carry the line, for the page-level report."""
    from kpi.errors import Problem

    problem = Problem(where=str(line), message=message, hint=hint)
    failure = DirectiveError(message)
    failure.problems = [problem]
    failure.line = line
    failure.hint = hint
    return failure


# --- Parsing the options -------------------------------------------------------------


def parse_inline(body: str, line: int) -> tuple[str, dict[str, str]]:
    """`churn_rate compare=previous country_code=FR` -> the KPI name and its options."""
    words = body.split()
    name, options = words[0], {}
    for word in words[1:]:
        key, equals, value = word.partition("=")
        if not equals or not key or not value:
            raise error(
                line, f"inline option '{word}' is not written key=value", "e.g. compare=previous"
            )
        options[key] = value
    return name, options


def parse_body(block: Block) -> dict[str, Any]:
    """The YAML options in a block's body, as a mapping."""
    text = "\n".join(block.body)
    if not text.strip():
        return {}
    try:
        options = yaml.safe_load(dedent(text))
    except yaml.YAMLError as failure:
        mark = getattr(failure, "problem_mark", None)
        line = block.line + 1 + mark.line if mark else block.line
        problem = getattr(failure, "problem", None) or "invalid YAML"
        raise error(line, f"{block.kind}: options are not valid YAML: {problem}") from None
    if not isinstance(options, dict):
        raise error(
            block.line + 1,
            f"{block.kind}: expected 'option: value' lines, got {text.strip()[:40]!r}",
        )
    return options


def dedent(text: str) -> str:
    import textwrap

    return textwrap.dedent(text)


# --- Checking against the catalog ----------------------------------------------------


class Checker:
    """Checks directive options against the KPI catalog, with did-you-mean hints."""

    def __init__(self, catalog, members=None):
        self.catalog = catalog
        self.names = set(catalog.names())
        # members(kpi, dimension) -> the values a filter may take, or None when unknown.
        self.members = members

    def kpi(self, name: Any, line: int) -> str:
        """A KPI reference as written: `revenue` or `completeness(email)`."""
        match = REF.match(str(name)) if isinstance(name, str) else None
        if not match or match.group(1) not in self.names:
            base = match.group(1) if match else str(name)
            raise error(line, f"unknown KPI '{base}'", did_you_mean(base, self.names))
        try:
            self.catalog.ref(name)
        except KpisiteError as failure:
            raise error(line, str(failure).split(": ", 1)[-1]) from None
        return name.replace(" ", "")

    def dimensions(self, kpis: list[str]) -> set[str]:
        """The dimensions every KPI of the list can be filtered or broken down by."""
        sets = [set(dimension_names(self.catalog.get(name))) for name in kpis]
        return set.intersection(*sets) if sets else set()

    def dimension(self, name: Any, kpis: list[str], line: int, what: str = "dimension") -> str:
        valid = self.dimensions(kpis)
        if name not in valid:
            alone = (
                f"{kpis[0]} has no dimension" if len(kpis) == 1 else "these KPIs share no dimension"
            )
            hint = did_you_mean(str(name), valid) or alone
            raise error(line, f"unknown {what} '{name}' for {', '.join(kpis)}", hint)
        return name

    def filters(
        self, value: Any, kpis: list[str], block: Block | None, line: int
    ) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise error(line, f"filters: expected a mapping 'dimension: value', got {value!r}")
        checked = {}
        for key, wanted in value.items():
            where = block.line_of(str(key)) if block else line
            self.dimension(key, kpis, where, "filter dimension")
            self.member(kpis[0], key, wanted, where)
            checked[key] = wanted
        return checked

    def member(self, kpi: str, dimension: str, wanted: Any, line: int) -> None:
        """A filter value must exist in the extract: a typo would silently give n/a."""
        known = self.members(kpi, dimension) if self.members else None
        if known is None:
            return
        if isinstance(wanted, dict):
            wanted = wanted.get("not", [])
        for value in wanted if isinstance(wanted, list | tuple) else [wanted]:
            if value is not None and str(value) not in known:
                hint = did_you_mean(str(value), known)
                raise error(line, f"unknown value '{value}' for {dimension}", hint)


def dimension_names(kpidef) -> list[str]:
    dims = getattr(kpidef, "dimensions", None) or ()
    return list(dims.keys()) if isinstance(dims, dict) else list(dims)


def choice(value: Any, allowed: tuple[str, ...], option: str, line: int) -> str:
    if value not in allowed:
        raise error(line, f"{option}: unknown value '{value}'", did_you_mean(str(value), allowed))
    return value


def whole(value: Any, option: str, line: int, low: int = 0, high: int = 120) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise error(line, f"{option}: expected a whole number from {low} to {high}, got {value!r}")
    return value


def unknown_options(options: dict, allowed: tuple[str, ...], kind: str, block: Block) -> None:
    for key in options:
        if key not in allowed:
            hint = did_you_mean(str(key), allowed)
            raise error(block.line_of(f"{key}"), f"{kind}: unknown option '{key}'", hint)


VALUE_OPTIONS = ("compare",)
TILE_OPTIONS = ("label", "compare", "sparkline", "filters")
CHART_OPTIONS = ("kpis", "type", "over", "by", "periods", "filters", "mode", "top", "title")
TABLE_OPTIONS = ("kpis", "over", "by", "periods", "filters", "mode", "top", "title")
GRID_OPTIONS = ("rows", "compare", "sparkline", "filters")


def check_inline(text: str, body: str, line: int, checker: Checker) -> Spec:
    """The Spec of an inline directive: other keys than `compare` are filters."""
    name, raw = parse_inline(body, line)
    name = checker.kpi(name, line)
    options = {"compare": "none", "filters": {}}

    for key, value in raw.items():
        if key in ("compare", "delta"):
            options["compare"] = choice(value, COMPARISONS, key, line)
            continue
        valid = checker.dimensions([name])
        if key not in valid:
            hint = did_you_mean(key, [*VALUE_OPTIONS, *valid])
            raise error(line, f"unknown option or dimension '{key}' for {name}", hint)
        checker.member(name, key, value, line)
        options["filters"][key] = value
    return Spec("value", [name], options, line)


def check_block(block: Block, checker: Checker) -> Spec:
    """The Spec of a block directive, or a DirectiveError naming the line."""
    if block.kind not in KINDS:
        raise error(
            block.line, f"unknown directive '{block.kind}'", did_you_mean(block.kind, KINDS)
        )
    options = parse_body(block)
    kind = block.kind.removeprefix("kpi-")
    return {"tile": check_tile, "chart": check_chart, "table": check_table, "grid": check_grid}[
        kind
    ](block, options, checker)


def check_tile(block: Block, options: dict, checker: Checker, defaults: dict | None = None) -> Spec:
    allowed = TILE_OPTIONS if defaults is None else (*TILE_OPTIONS, "kpi")
    unknown_options(options, allowed, "kpi-tile", block)
    merged = {"compare": "previous", "sparkline": 12, "filters": {}, **(defaults or {}), **options}
    name = options.get("kpi", block.argument) if defaults is None else options["kpi"]
    line = block.line if defaults is None else block.line_of(str(name))
    if not name:
        raise error(block.line, "kpi-tile: name the KPI after a bar: '/// kpi-tile | churn_rate'")
    name = checker.kpi(name, line)

    spec = {
        "label": str(merged.get("label") or ""),
        "compare": choice(merged["compare"], COMPARISONS, "compare", block.line_of("compare")),
        "sparkline": whole(merged["sparkline"], "sparkline", block.line_of("sparkline"), 0, 60),
        "filters": checker.filters(merged["filters"], [name], block, block.line_of("filters")),
    }
    return Spec("tile", [name], spec, line)


def kpi_list(block: Block, options: dict, checker: Checker) -> list[str]:
    names = options.get("kpis") or ([block.argument] if block.argument else [])
    if isinstance(names, str):
        names = [names]
    if not names or not isinstance(names, list):
        raise error(
            block.line,
            f"{block.kind}: name the KPIs: '/// {block.kind} | revenue' or 'kpis: [a, b]'",
        )
    return [checker.kpi(name, block.line_of(str(name))) for name in names]


def check_axis(block: Block, options: dict, kpis: list[str], checker: Checker) -> dict:
    """The options shared by charts and tables: over a grain or by a dimension."""
    if "over" in options and "by" in options:
        raise error(
            block.line_of("by"),
            f"{block.kind}: give 'over' (a grain) or 'by' (a dimension), not both",
        )
    axis = {
        "filters": checker.filters(options.get("filters"), kpis, block, block.line_of("filters"))
    }

    if options.get("by") == "kpi":
        # One row per KPI of the list, at the report period.
        axis.update(by="kpi", mode="count", top=len(kpis))
    elif "by" in options:
        axis["by"] = checker.dimension(options["by"], kpis, block.line_of("by"))
        mode = options.get("mode", "count")
        if mode == "cumulative_mean":
            raise error(
                block.line_of("mode"), "mode 'cumulative_mean' runs over time", "use 'over: month'"
            )
        axis["mode"] = choice(mode, BY_MODES, "mode", block.line_of("mode"))
        axis["top"] = whole(options.get("top", 10), "top", block.line_of("top"), 1, 50)
    else:
        axis["over"] = choice(
            options.get("over", "period"), (*GRAINS, "period"), "over", block.line_of("over")
        )
        axis["periods"] = whole(
            options.get("periods", 12), "periods", block.line_of("periods"), 1, 120
        )
        mode = options.get("mode", "count")
        if mode in MODES and mode not in OVER_MODES:
            raise error(
                block.line_of("mode"),
                f"mode '{mode}' applies to a breakdown",
                "add 'by: <dimension>'",
            )
        axis["mode"] = choice(mode, OVER_MODES, "mode", block.line_of("mode"))
    axis["title"] = str(options.get("title") or "")
    return axis


def check_chart(block: Block, options: dict, checker: Checker) -> Spec:
    unknown_options(options, CHART_OPTIONS, "kpi-chart", block)
    kpis = kpi_list(block, options, checker)
    spec = check_axis(block, options, kpis, checker)
    default = "bars" if "by" in spec else "lines"
    spec["type"] = choice(options.get("type", default), CHART_TYPES, "type", block.line_of("type"))
    if spec["type"] == "pie" and ("by" not in spec or len(kpis) != 1):
        raise error(
            block.line_of("type"),
            "a pie chart shows one KPI by a dimension",
            "add 'by: <dimension>'",
        )
    return Spec("chart", kpis, spec, block.line)


def check_table(block: Block, options: dict, checker: Checker) -> Spec:
    unknown_options(options, TABLE_OPTIONS, "kpi-table", block)
    kpis = kpi_list(block, options, checker)
    return Spec("table", kpis, check_axis(block, options, kpis, checker), block.line)


def check_grid(block: Block, options: dict, checker: Checker) -> Spec:
    unknown_options(options, GRID_OPTIONS, "kpi-grid", block)
    rows = options.get("rows")
    if not isinstance(rows, list) or not rows:
        raise error(
            block.line,
            "kpi-grid: expected 'rows:', a list of rows of KPIs",
            "e.g. rows: [[revenue], [orders_count, average_basket]]",
        )
    defaults = {key: options[key] for key in ("compare", "sparkline", "filters") if key in options}

    checked = []
    for row in rows:
        row = row if isinstance(row, list) else [row]
        checked.append([check_tile(block, tile_options(item), checker, defaults) for item in row])
    kpis = [tile.kpis[0] for row in checked for tile in row]
    return Spec("grid", kpis, {}, block.line, rows=checked)


def tile_options(item: Any) -> dict:
    """A grid cell: a KPI name, or a mapping {kpi: name, compare: ..., ...}."""
    if isinstance(item, dict) and len(item) == 1 and isinstance(next(iter(item.values())), dict):
        # `- revenue: {compare: last_year}` reads well too.
        name, options = next(iter(item.items()))
        return {"kpi": name, **options}
    if isinstance(item, dict):
        return dict(item)
    return {"kpi": item}
