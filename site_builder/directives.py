"""KPI directives: their syntax, the pre-pass that finds them with their line numbers, and
the checks that turn their options into a validated `Spec`.

Two forms, both readable in a plain Markdown preview:

* inline, inside a sentence: ``[[kpi churn_rate compare=previous country_code=FR]]``;
* blocks, fenced by three slashes like pymdownx.blocks, with YAML options in the body::

      /// kpi-tile | churn_rate
      compare: last_year
      sparkline: 12
      ///

A block may sit inside an admonition or a list item, indented like the rest of its
content. Neither Python-Markdown nor pymdownx knows source lines, so `scan()` walks the page
source itself (skipping front matter and code) and records where each directive starts.
Every problem of a directive is reported, each with its own line.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from kpi.errors import DirectiveError, KpisiteError, Problem, did_you_mean
from kpi.values import MEMBER_LABELS

KINDS = ("kpi-tile", "kpi-chart", "kpi-table", "kpi-grid")
CHART_TYPES = ("pie", "bars", "hbars", "lines", "values")
COMPARISONS = ("previous", "last_year", "none")
MODES = ("count", "percent", "mean", "std", "cumulative_mean")
OVER_MODES = ("count", "mean", "std", "cumulative_mean")
BY_MODES = ("count", "percent", "mean", "std")
# Modes that read the KPI's underlying amount or score (its `mean_of` column).
AMOUNT_MODES = ("mean", "std", "cumulative_mean")
GRAINS = ("day", "week", "month", "quarter", "year")
# Options whose value is text shown to the reader. A plain scalar there keeps its text
# as written: `title: 2026`, `label: yes` or `title: 1.50` show as typed, not as the
# number or boolean YAML would read.
TEXT_OPTIONS = ("title", "label")

# What goes before a block's fence: spaces (an admonition's or a list item's content) and
# blockquote marks (`> `), kept on every line of its replacement.
PREFIX = r"(?P<indent>(?:[ \t]*>)*[ \t]*)"
QUOTE_MARK = re.compile(r"^[ \t]*>[ \t]?")
BLOCK_OPEN = re.compile(
    rf"^{PREFIX}(?P<fence>/{{3,}})[ \t]*(?P<kind>kpi[\w-]*)[ \t]*(?:\|[ \t]*(?P<arg>.*?))?\s*$"
)
# Any line opening a `kpi...` block, well formed or not: one BLOCK_OPEN does not match is
# reported, never left as a literal paragraph (pymdownx.blocks' silent failure).
KPI_OPEN = re.compile(rf"^{PREFIX}(?P<fence>/{{3,}})[ \t]*(?P<kind>kpi[\w-]*)", re.I)
ANY_OPEN = re.compile(r"^(?:[ \t]*>)*[ \t]*/{3,}[ \t]*\S")
CODE_FENCE = re.compile(r"^(?:[ \t]*>)*[ \t]*(?P<mark>`{3,}|~{3,})")
# Lines whose indented content is Markdown, not code: admonitions, details, list items.
# The lines whose indented lines below are content, not code: list items always, and the
# openings of admonitions (`!!!`), collapsible blocks (`???`) and tabs (`===`) when the
# page's Markdown has the extension that reads them (CONTAINERS, by block processor).
LIST_ITEM = r"(?:[-*+]|\d+[.)])[ \t]+\S"
# Each with its mark and the Markdown extension that reads it, for the hint.
CONTAINERS = {
    "admonition": (r"!!!", "admonition"),
    "details": (r"\?\?\?\+?", "pymdownx.details"),
    "tabbed": (r"===\+?", "pymdownx.tabbed"),
}
# An HTML comment opening a line: Markdown leaves what it holds as it is, to the end.
COMMENT_OPEN = re.compile(r"^[ \t]*<!--")
INLINE_COMMENT = re.compile(r"<!--.*?-->")
INLINE = re.compile(r"\[\[\s*kpi\s+(?P<body>[^\]]*?)\s*\]\]", re.I)
# What must never reach a reader as text: a directive nobody rendered.
LEFTOVER = re.compile(r"\[\[\s*kpi\b[^\]\n]{0,60}\]?\]?|/{3,}[ \t]*kpi[\w-]*[^\n<]{0,40}", re.I)
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
    indent: str = ""  # the indentation of its fence (inside an admonition or a list)

    def line_of(self, token: str, after: int = 0) -> int:
        """The source line of the first body line mentioning `token` (from line `after`
        on), else the header."""
        for number, text in enumerate(self.body, self.line + 1):
            if number >= after and token and token in text:
                return number
        return self.line

    def key_line(self, key: str) -> int:
        """The source line of the option `key:` (at any indentation), else the header."""
        pattern = re.compile(rf"^[ \t-]*{re.escape(str(key))}[ \t]*:")
        for number, text in enumerate(self.body, self.line + 1):
            if pattern.match(text):
                return number
        return self.line_of(str(key))


@dataclass
class Scan:
    """What the pre-pass found on a page."""

    blocks: list[Block] = field(default_factory=list)
    inline_lines: dict[str, list[int]] = field(default_factory=dict)
    problems: list[tuple[int, str, str | None]] = field(default_factory=list)
    # The lines each problem stands for, by its page line: (first index, last index) of
    # the scanned lines, replaced by the error shown in place.
    spans: dict[int, tuple[int, int]] = field(default_factory=dict)
    # The indentation of each problem's opening line, kept by the error shown in place.
    indents: dict[int, str] = field(default_factory=dict)
    # Each scanned line as prose (code spans blanked), or "" for code: where directive
    # text left in the page is looked for.
    prose: list[str] = field(default_factory=list)


@dataclass
class Spec:
    """A checked directive, ready to render."""

    kind: str  # value, tile, chart, table, grid
    kpis: list[str]
    options: dict[str, Any]
    line: int
    rows: list[list[Spec]] = field(default_factory=list)  # grid only


def scan(lines: list[str], offset: int = 0, containers=("admonition", "details")) -> Scan:
    """Find the directives of a page (a list of lines) outside front matter, code and
    HTML comments.

    `offset` is the number of source lines before `lines[0]` (front matter that mkdocs
    removed before Markdown saw the page). `containers` are the block processors of
    CONTAINERS the page's Markdown has: without `details`, a `???` line is a paragraph
    and the indented lines under it are code.
    """
    found = Scan()
    index = skip_front_matter(lines)
    fence = None
    found.prose = prose = [""] * len(lines)  # the lines outside code
    holders = container_pattern(tuple(containers))

    while index < len(lines):
        text = lines[index]

        # Code fences, indented code and comments: nothing inside them is a directive.
        match = CODE_FENCE.match(text)
        if fence is None and match:
            fence = match.group("mark")
        elif fence is not None and match and match.group("mark").startswith(fence):
            fence = None
        unheld = None if fence or match else read_unheld(lines, index, offset, found, holders)
        if unheld is not None:
            index = unheld
            continue
        if fence is not None or match or indented_code(lines, index, prose, holders):
            index += 1
            continue
        if COMMENT_OPEN.match(text):
            index = comment_end(lines, index) + 1
            continue

        # A deep indented opening line right after a paragraph's line continues that
        # paragraph: its text, reported as leftover directive text if nothing renders it.
        if KPI_OPEN.match(text) and not deep(lines, index, holders):
            opened = BLOCK_OPEN.match(text)
            if opened:
                index = read_block(lines, index, opened, offset, found)
            else:
                index = read_malformed(lines, index, offset, found)
            continue

        prose[index] = blanked(text)
        index += 1

    record_inline("\n".join(prose), offset, found)
    return found


def blanked(text: str) -> str:
    """A prose line with its code spans and HTML comments blanked (kept as long): what
    they hold is no directive."""
    return INLINE_COMMENT.sub(spaces, CODE_SPAN.sub(spaces, text))


def spaces(match: re.Match) -> str:
    return " " * len(match.group(0))


def skip_front_matter(lines: list[str]) -> int:
    """The index of the first line after a YAML front matter, or 0 when there is none."""
    if not lines or lines[0].strip() != "---":
        return 0
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            return index + 1
    return 0


def width(indent: str) -> int:
    return len(indent.expandtabs(4))


def quotes(text: str) -> int:
    """How many blockquote marks (`>`) open the line."""
    count = 0
    while match := QUOTE_MARK.match(text):
        text, count = text[match.end() :], count + 1
    return count


def unquote(text: str, depth: int) -> str:
    """The line without its first `depth` blockquote marks."""
    for _ in range(depth):
        match = QUOTE_MARK.match(text)
        if not match:
            break
        text = text[match.end() :]
    return text


@functools.cache
def container_pattern(containers: tuple[str, ...]) -> re.Pattern:
    """The opening lines of list items and of the given CONTAINERS."""
    marks = [CONTAINERS[name][0] for name in containers if name in CONTAINERS]
    opening = rf"(?:{'|'.join(marks)})[ \t]*\S|" if marks else ""
    return re.compile(rf"^[ \t]*(?:{opening}{LIST_ITEM})")


def comment_end(lines: list[str], index: int) -> int:
    """The index of the line closing the HTML comment opened at `index` (the last line
    when it never closes, as Markdown reads it)."""
    rest = lines[index].split("<!--", 1)[1]
    for end in range(index, len(lines)):
        if "-->" in (rest if end == index else lines[end]):
            return end
    return len(lines) - 1


def deep(lines: list[str], index: int, holders: re.Pattern) -> bool:
    """True when the line is indented four columns or more (inside its blockquotes) with
    no admonition or list item above it to hold it as content."""
    depth = quotes(lines[index])
    text = unquote(lines[index], depth)
    if not text.strip() or width(text[: len(text) - len(text.lstrip())]) < 4:
        return False
    return is_code(lines, index, holders, depth)


def indented_code(lines: list[str], index: int, prose: list[str], holders: re.Pattern) -> bool:
    """True when the line belongs to an indented code block: deep, after a blank line or
    more code (after a paragraph's line, it continues the paragraph)."""
    if not deep(lines, index, holders):
        return False
    previous = unquote(lines[index - 1], quotes(lines[index])) if index else ""
    return not (previous.strip() and prose[index - 1])


def is_code(lines: list[str], index: int, holders: re.Pattern, depth: int = 0) -> bool:
    """True when a line indented four columns or more (in `depth` blockquotes) has no
    admonition or list item above it to hold it as content."""
    above = holder_line(lines, index, depth)
    return above is None or not holders.match(above)


def holder_line(lines: list[str], index: int, depth: int = 0) -> str | None:
    """The first line above `index` indented less than it (in `depth` blockquotes): the
    one that may hold it as content."""
    text = unquote(lines[index], depth)
    indent = width(text[: len(text) - len(text.lstrip())])
    for before in range(index - 1, -1, -1):
        above = unquote(lines[before], depth)
        if above.strip() and width(above[: len(above) - len(above.lstrip())]) < indent:
            return above
    return None


def ends_body(text: str) -> bool:
    """A line that cannot be in a block's options: another block opens, or code."""
    return bool(ANY_OPEN.match(text) or CODE_FENCE.match(text))


def read_block(lines: list[str], index: int, opened: re.Match, offset: int, found: Scan) -> int:
    """Record the block opened at `index`; return the index after its closing fence."""
    indent = opened.group("indent")
    closing = closing_fence(opened.group("fence"))
    line = index + 1 + offset

    for end in range(index + 1, len(lines)):
        if closing.match(lines[end]):
            block = Block(
                kind=opened.group("kind"),
                argument=(opened.group("arg") or "").strip(),
                body=[strip_indent(text, indent) for text in lines[index + 1 : end]],
                line=line,
                start=index,
                end=end,
                indent=indent,
            )
            found.blocks.append(block)
            return end + 1
        if ends_body(lines[end]):
            break

    # Never closed: the error stands for the opening and its options (up to the first
    # blank line); what follows is the page's, rendered as usual.
    last = index
    while last + 1 < len(lines) and lines[last + 1].strip() and not ends_body(lines[last + 1]):
        last += 1
    fence = opened.group("fence")
    message = f"block {opened.group('kind')} is never closed (add a line `{fence}`)"
    found.problems.append((line, message, None))
    found.spans[line] = (index, last)
    found.indents[line] = indent
    return last + 1


def closing_fence(fence: str) -> re.Pattern:
    """The line closing a block opened by `fence`, in a blockquote or not."""
    return re.compile(rf"^(?:[ \t]*>)*[ \t]*{fence}\s*$")


def strip_indent(text: str, indent: str) -> str:
    """A body line without its block's indentation (an admonition's four spaces, a
    blockquote's `> `)."""
    if text.startswith(indent):
        return text[len(indent) :]
    return unquote(text, indent.count(">")).lstrip()


def read_malformed(lines: list[str], index: int, offset: int, found: Scan) -> int:
    """Report a `/// kpi...` line BLOCK_OPEN does not match (`/// kpi-tile revenue`,
    `/// kpi-tiles x`); its body and closing fence, if any, go with it. Return the index
    after them."""
    opened = KPI_OPEN.match(lines[index])
    text = lines[index].strip()
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

    return record_span(lines, index, opened, line, found)


def record_span(lines: list[str], index: int, opened: re.Match, line: int, found: Scan) -> int:
    """Record the lines a problem at `index` stands for: the opening line, its body and
    its closing fence, unless another block opens first (then the line goes alone).
    Return the index after them."""
    closing = closing_fence(opened.group("fence"))
    end = index
    for later in range(index + 1, len(lines)):
        if closing.match(lines[later]):
            end = later
            break
        if ends_body(lines[later]):
            break
    found.spans[line] = (index, end)
    found.indents[line] = opened.group("indent")
    return end + 1


def read_unheld(lines: list[str], index: int, offset: int, found: Scan, holders) -> int | None:
    """A directive indented under `???`, `!!!` or `===` when the page's Markdown does not
    read that container: Markdown would show it as code, a block's HTML and all. An
    error at its line instead (for a block, in place of its lines); None when the line
    is not in that case."""
    if not deep(lines, index, holders):
        return None  # most lines: nothing indented as code
    opened = KPI_OPEN.match(lines[index])
    if not (opened or INLINE.search(blanked(lines[index]))):
        return None
    above = holder_line(lines, index, quotes(lines[index])) or ""
    name = next((n for n in CONTAINERS if container_pattern((n,)).match(above)), None)
    if name is None or holders.match(above):
        return None
    line = index + 1 + offset
    message = (
        f"directive under '{above.strip()}', which this site's Markdown does not read as a "
        "container: it would show as code"
    )
    hint = f"add {CONTAINERS[name][1]} to markdown_extensions in mkdocs.yml"
    found.problems.append((line, message, hint))
    if opened:
        after = record_span(lines, index, opened, line, found)
    else:
        found.spans[line], after = (index, index), index + 1
    # Shown out of the indentation that would make the error itself code.
    found.indents[line] = "> " * quotes(lines[index])
    return after


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
    problem = Problem(where=str(line), message=message, hint=hint)
    failure = DirectiveError(message)
    failure.problems = [problem]
    failure.line = line
    failure.hint = hint
    return failure


class Errors:
    """The problems of one directive, gathered so that all of them are reported at once."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def check(self, step: Callable[..., Any], *args, default: Any = None) -> Any:
        """`step(*args)`, or `default` once its DirectiveError is recorded."""
        try:
            return step(*args)
        except DirectiveError as failure:
            self.add(failure)
            return default

    def add(self, failure: DirectiveError) -> None:
        # A grid's shared option is checked for each of its tiles: one problem, said once.
        for problem in failure.problems or [Problem(str(failure.line), str(failure))]:
            if problem not in self.problems:
                self.problems.append(problem)

    def raise_any(self) -> None:
        """One DirectiveError carrying every problem, in line order."""
        if not self.problems:
            return
        problems = sorted(self.problems, key=lambda problem: int(problem.where))
        failure = DirectiveError(problems[0].message, problems)
        failure.line = int(problems[0].where)
        failure.hint = problems[0].hint
        raise failure


# --- Parsing the options -------------------------------------------------------------


def parse_inline(body: str, line: int) -> tuple[str, dict[str, Any]]:
    """`churn_rate compare=previous country_code=FR` -> the KPI name and its options.

    Options are split as a shell splits words: a value with spaces goes in quotes,
    `city="Le Mans"` or `city='(sans contact)'`. A filter dimension given twice keeps both
    values (either one matches); any other option given twice is an error.
    """
    words = inline_words(body, line)
    if not words:
        raise error(line, "inline directive names no KPI", "e.g. [[kpi revenue]]")
    name, options = words[0], {}
    for index, word in enumerate(words[1:], 1):
        key, equals, value = word.partition("=")
        if not equals or not key or not value:
            hint = quoting_hint(words, index) or "e.g. compare=previous"
            raise error(line, f"inline option '{word}' is not written key=value", hint)
        if key not in options:
            options[key] = value
        elif key in INLINE_OPTIONS:
            raise error(line, f"option '{key}' is given twice ({options[key]}, {value})")
        else:
            kept = options[key] if isinstance(options[key], list) else [options[key]]
            options[key] = [*kept, value]
    return name, options


def inline_words(body: str, line: int) -> list[str]:
    """The words of an inline directive, quotes removed (shlex, POSIX rules); `#` is text."""
    import shlex

    lexer = shlex.shlex(body, posix=True)
    lexer.whitespace_split, lexer.commenters = True, ""
    try:
        return list(lexer)
    except ValueError:
        raise error(
            line,
            f"inline directive '{body}' opens a quote it never closes",
            'close it, e.g. city="Le Mans"',
        ) from None


def quoting_hint(words: list[str], index: int) -> str | None:
    """`city=Le Mans` splits into `city=Le` and `Mans`: suggest the value in quotes."""
    start = index - 1
    while start > 0 and "=" not in words[start]:
        start -= 1
    if start == 0:
        return None
    key, _, value = words[start].partition("=")
    end = index + 1
    while end < len(words) and "=" not in words[end]:
        end += 1
    whole = " ".join([value, *words[start + 1 : end]])
    return f'put a value with spaces in quotes: {key}="{whole}", or use a block\'s filters:'


class UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that records each key given twice in a mapping (PyYAML keeps
    the last one silently) as (key, first line, repeated line), 0-based, and goes on;
    the plain scalar of a text option is read as its text (TEXT_OPTIONS)."""

    def __init__(self, stream):
        super().__init__(stream)
        self.duplicates: list[tuple[str, int, int]] = []

    def construct_mapping(self, node, deep=False):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str | int | float | bool) and key in seen:
                self.duplicates.append((str(key), seen[key], key_node.start_mark.line))
            seen.setdefault(key, key_node.start_mark.line)
            if key in TEXT_OPTIONS:
                as_text(value_node)
        return super().construct_mapping(node, deep=deep)


def as_text(node: yaml.Node) -> None:
    """A scalar node read as the text written, null aside (a text option left empty)."""
    if isinstance(node, yaml.ScalarNode) and node.tag != "tag:yaml.org,2002:null":
        node.tag = "tag:yaml.org,2002:str"


def parse_body(block: Block, errors: Errors) -> dict[str, Any]:
    """The YAML options in a block's body, as a mapping. An option given twice is added
    to `errors` and the rest checked as usual (the last value kept), so that every
    problem of the block is reported at once; unreadable YAML stops here."""
    import textwrap

    text = "\n".join(block.body)
    if not text.strip():
        return {}
    loader = UniqueKeyLoader(textwrap.dedent(text))
    try:
        options = loader.get_single_data()
    except yaml.YAMLError as failure:
        raise yaml_error(block, failure) from None
    finally:
        loader.dispose()
    for key, first, again in loader.duplicates:
        message = (
            f"{block.kind}: option '{key}' is given twice (first on line {block.line + 1 + first})"
        )
        errors.add(error(block.line + 1 + again, message))
    if not isinstance(options, dict):
        raise error(
            block.line + 1,
            f"{block.kind}: expected 'option: value' lines, got {text.strip()[:40]!r}",
        )
    return options


def yaml_error(block: Block, failure: yaml.YAMLError) -> DirectiveError:
    """The error of unreadable options, at the line where the problem starts: an unclosed
    `[` or `{` is reported where it opens, not where the parser gave up."""
    mark = getattr(failure, "problem_mark", None)
    context = getattr(failure, "context", None) or ""
    if context.startswith("while parsing a flow") and getattr(failure, "context_mark", None):
        mark = failure.context_mark
    line = block.line + 1 + mark.line if mark else block.line
    problem = getattr(failure, "problem", None) or "invalid YAML"
    return error(line, f"{block.kind}: options are not valid YAML: {problem}")


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

    @functools.cached_property
    def all_dimensions(self) -> set[str]:
        """The dimensions some KPI of the catalog has."""
        return {d for name in self.names for d in dimension_names(self.catalog.get(name))}

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
            if name in GRAINS:
                # `kpisite query --by week` splits the period; a page shows a time series.
                hint = f"'{name}' is a grain: use 'over: {name}' for a time series"
            raise error(line, f"unknown {what} '{name}' for {', '.join(kpis)}", hint)
        return name

    def filters(self, value: Any, kpis: list[str], block: Block | None, line: int) -> dict:
        """`filters:` of a block; each problem at the line of its dimension."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise error(line, f"filters: expected a mapping 'dimension: value', got {value!r}")
        errors, checked = Errors(), {}
        for key, wanted in value.items():
            where = block.line_of(str(key), after=line) if block else line
            errors.check(self.dimension, key, kpis, where, "filter dimension")
            shaped = errors.check(filter_values, key, wanted, where)
            if shaped and key in self.dimensions(kpis):
                errors.check(self.member, kpis[0], key, wanted, where)
            checked[key] = wanted
        errors.raise_any()
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

    def modes(self, name: str, breakdown: bool) -> list[str]:
        """The presentation modes a KPI supports, by a dimension or over time."""
        kpidef = self.catalog.get(name)
        allowed = ["count"]
        if breakdown and self.catalog.additive(kpidef.name):
            allowed.append("percent")
        if measured(kpidef):
            allowed += ["mean", "std"] if breakdown else ["mean", "std", "cumulative_mean"]
        return allowed

    def mode_for(self, mode: str, kpis: list[str], breakdown: bool, line: int) -> None:
        """Each KPI must support the mode: a mean needs an amount, a share a sum."""
        for name in kpis:
            if mode in self.modes(name, breakdown):
                continue
            kpidef = self.catalog.get(name)
            if mode in AMOUNT_MODES:
                valid = ", ".join(sorted(n for n in self.names if measured(self.catalog.get(n))))
                message = (
                    f"mode '{mode}' needs a KPI measured over an amount ({valid}); "
                    f"'{name}' is {describe(kpidef, mode)}"
                )
            else:
                message = (
                    f"mode 'percent' shows shares of a total that adds up; '{name}' is "
                    f"{describe(kpidef, mode)}"
                )
            hint = f"modes for {name}: {', '.join(self.modes(name, breakdown))}"
            raise error(line, message, hint)
        if mode in AMOUNT_MODES:
            self.distinct_amounts(mode, kpis, line)

    def distinct_amounts(self, mode: str, kpis: list[str], line: int) -> None:
        """In a mean or a deviation, a KPI is its amount: two KPIs over the same amount of
        the same rows (revenue and orders_count) would show the same figures twice."""
        seen: dict[tuple, str] = {}
        for name in kpis:
            kpidef = self.catalog.get(name)
            amount = (kpidef.get("table"), kpidef.get("filter"), kpidef.get("mean_of"))
            if amount not in seen:
                seen[amount] = name
                continue
            raise error(
                line,
                f"mode '{mode}': {seen[amount]} and {name} are over the same amount "
                f"({amount[2]} of the same {amount[0]}): their figures would be the same",
                "keep one of them",
            )

    def unit(self, name: str, mode: str) -> str:
        """The unit a KPI's values have in a mode (a chart axis shows one unit)."""
        kpidef = self.catalog.get(name)
        if mode == "percent":
            return "percent"
        if mode in AMOUNT_MODES:
            return "currency" if amount_is_money(kpidef) else "number"
        return {"count": "number", "score": "number"}.get(kpidef.unit, kpidef.unit)


def dimension_names(kpidef) -> list[str]:
    dims = getattr(kpidef, "dimensions", None) or ()
    return list(dims.keys()) if isinstance(dims, dict) else list(dims)


def measured(kpidef) -> bool:
    """A measure with an underlying amount or score to average (`mean_of`)."""
    return kpidef.kind == "measure" and bool(kpidef.get("mean_of"))


def amount_is_money(kpidef) -> bool:
    from kpi import schema

    source = str(kpidef.get("mean_of") or "")
    table, _, column = source.rpartition(".")
    table = schema.TABLES.get(table or kpidef.get("table"))
    return (
        table is not None
        and column in table.column_names()
        and (table.column(column).kind == "money")
    )


def describe(kpidef, mode: str) -> str:
    """What a KPI is, to say why `mode` does not apply to it."""
    if kpidef.kind == "formula":
        return "a formula"
    if kpidef.kind in ("state", "activity"):
        return f"a count of contacts ({kpidef.kind})"
    if mode in AMOUNT_MODES:
        return "a measure with no amount (mean_of)"
    return f"a measure of {kpidef.get('value')}"


def filter_values(dimension: str, wanted: Any, line: int) -> list:
    """The values of a filter: a value, a list of values or {not: [values]}. An empty one
    would select nothing (a 0) or exclude nothing, and still be said in the label."""
    values = wanted["not"] if isinstance(wanted, dict) and list(wanted) == ["not"] else wanted
    values = values if isinstance(values, list) else [values]
    if not values:
        hint = "give at least one value, or remove the filter"
        raise error(line, f"filter {dimension}: empty list of values", hint)
    for value in values:
        if isinstance(value, list | dict):
            expected = "expected a value, a list of values or {not: [values]}"
            raise error(line, f"filter {dimension}: {expected}, got {wanted!r}")
        if value is None:
            # As `kpisite query --filter channel=`: a value left out, not the blank member.
            blank = MEMBER_LABELS["blank"]
            where = "the filter" if wanted is None else "it from the list"
            hint = f"write '{blank}' to select blank values, or remove {where}"
            raise error(line, f"filter {dimension}: empty value", hint)
    return values


def text(value: Any, option: str, line: int) -> str:
    """A text option (a title, a label); left empty, the default text."""
    if value is None or isinstance(value, str):
        return value or ""
    kind = "a list" if isinstance(value, list) else "a mapping"
    # YAML read brackets or braces as a list or a mapping: in quotes, they are text.
    written = yaml.safe_dump(value, default_flow_style=True, width=1000).strip()
    hint = f'put it in quotes: {option}: "{written}"' if '"' not in written else None
    raise error(line, f"{option}: expected text, got {kind} {value!r}", hint)


def choice(value: Any, allowed: tuple[str, ...], option: str, line: int) -> str:
    if value not in allowed:
        raise error(line, f"{option}: unknown value '{value}'", did_you_mean(str(value), allowed))
    return value


def whole(value: Any, option: str, line: int, low: int = 0, high: int = 120) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise error(line, f"{option}: expected a whole number from {low} to {high}, got {value!r}")
    return value


def unknown_options(options: dict, allowed: tuple[str, ...], kind: str, block: Block) -> None:
    errors = Errors()
    for key in options:
        if key not in allowed:
            hint = did_you_mean(str(key), allowed)
            errors.add(error(block.key_line(key), f"{kind}: unknown option '{key}'", hint))
    errors.raise_any()


INLINE_OPTIONS = ("compare", "delta")
TILE_OPTIONS = ("label", "compare", "sparkline", "filters")
CHART_OPTIONS = ("kpis", "type", "over", "by", "periods", "filters", "mode", "top", "title")
TABLE_OPTIONS = ("kpis", "over", "by", "periods", "filters", "mode", "top", "title")
GRID_OPTIONS = ("rows", "compare", "sparkline", "filters")


def check_inline(text: str, body: str, line: int, checker: Checker) -> Spec:
    """The Spec of an inline directive: `compare` shows the value and its change, `delta`
    the change alone; other keys are filters (a repeated one matches either value). Every
    problem of its options is reported, not only the first."""
    name, raw = parse_inline(body, line)
    errors = Errors()
    name = errors.check(checker.kpi, name, line)
    options = {"compare": "none", "show": "value", "filters": {}}
    if "compare" in raw and "delta" in raw:
        errors.add(error(line, "give 'compare' (the value and its change) or 'delta', not both"))

    for key, value in raw.items():
        if key in INLINE_OPTIONS:
            allowed = COMPARISONS if key == "compare" else COMPARISONS[:2]
            options["compare"] = errors.check(choice, value, allowed, key, line, default="none")
            options["show"] = "delta" if key == "delta" else "value"
            continue
        # A filter is checked against the KPI's dimensions; with the KPI unknown, a key no
        # KPI has is wrong whichever KPI was meant.
        if name is None:
            if key not in checker.all_dimensions:
                hint = did_you_mean(key, [*INLINE_OPTIONS, *checker.all_dimensions])
                errors.add(error(line, f"unknown option or dimension '{key}'", hint))
            continue
        valid = checker.dimensions([name])
        if key not in valid:
            hint = did_you_mean(key, [*INLINE_OPTIONS, *valid])
            errors.add(error(line, f"unknown option or dimension '{key}' for {name}", hint))
            continue
        errors.check(checker.member, name, key, value, line)
        options["filters"][key] = value
    errors.raise_any()
    return Spec("value", [name], options, line)


def check_block(block: Block, checker: Checker) -> Spec:
    """The Spec of a block directive, or a DirectiveError naming every problem's line."""
    if block.kind not in KINDS:
        raise error(
            block.line, f"unknown directive '{block.kind}'", did_you_mean(block.kind, KINDS)
        )
    errors = Errors()
    options = parse_body(block, errors)
    check = {"tile": check_tile, "chart": check_chart, "table": check_table, "grid": check_grid}
    spec = errors.check(check[block.kind.removeprefix("kpi-")], block, options, checker)
    errors.raise_any()
    return spec


def check_tile(block: Block, options: dict, checker: Checker, defaults: dict | None = None) -> Spec:
    errors = Errors()
    allowed = TILE_OPTIONS if defaults is None else (*TILE_OPTIONS, "kpi")
    errors.check(unknown_options, options, allowed, "kpi-tile", block)
    merged = {"compare": "previous", "sparkline": 12, "filters": {}, **(defaults or {}), **options}
    name = options.get("kpi", block.argument) if defaults is None else options["kpi"]
    line = block.line if defaults is None else block.line_of(str(name))
    if not name:
        raise error(block.line, "kpi-tile: name the KPI after a bar: '/// kpi-tile | churn_rate'")
    name = errors.check(checker.kpi, name, line)

    where = block.key_line
    spec = {
        "label": errors.check(text, merged.get("label"), "label", where("label"), default=""),
        "compare": errors.check(
            choice, merged["compare"], COMPARISONS, "compare", where("compare")
        ),
        "sparkline": errors.check(
            whole, merged["sparkline"], "sparkline", where("sparkline"), 0, 60
        ),
    }
    if name:
        filters = (merged["filters"], [name], block, where("filters"))
        spec["filters"] = errors.check(checker.filters, *filters, default={})
    errors.raise_any()
    return Spec("tile", [name], spec, line)


def kpi_list(block: Block, options: dict, checker: Checker, errors: Errors) -> list[str]:
    """The KPIs of a chart or table: after the bar or in `kpis:`, not both."""
    if block.argument and "kpis" in options:
        raise error(
            block.key_line("kpis"),
            f"{block.kind}: KPIs given twice: '| {block.argument}' and 'kpis:'",
            "keep one of them",
        )
    names = options.get("kpis") or ([block.argument] if block.argument else [])
    if isinstance(names, str):
        names = [names]
    if not names or not isinstance(names, list):
        raise error(
            block.line,
            f"{block.kind}: name the KPIs: '/// {block.kind} | revenue' or 'kpis: [a, b]'",
        )
    checked = [errors.check(checker.kpi, name, block.line_of(str(name))) for name in names]
    errors.check(repeated_kpis, block, names, checked)
    return [name for name in checked if name]


def repeated_kpis(block: Block, names: list, checked: list) -> None:
    """A KPI listed twice would be the same column or series twice: an error at the line
    where it comes again (`names` as written, `checked` as the checker read them)."""
    errors, seen = Errors(), {}
    for written, name in zip(names, checked, strict=True):
        if not name:
            continue
        if name in seen:
            first = block.line_of(str(seen[name]))
            again = block.line_of(str(written), after=first + 1)
            message = f"{block.kind}: KPI '{name}' is listed twice"
            errors.add(error(max(first, again), message, "keep one of them"))
        seen.setdefault(name, written)
    errors.raise_any()


def check_axis(block: Block, options: dict, kpis: list[str], checker: Checker, errors) -> dict:
    """The options shared by charts and tables: over a grain or by a dimension."""
    where = block.key_line
    if "over" in options and "by" in options:
        errors.add(
            error(
                where("by"), f"{block.kind}: give 'over' (a grain) or 'by' (a dimension), not both"
            )
        )
    filters = (options.get("filters"), kpis, block, where("filters"))
    axis = {"filters": errors.check(checker.filters, *filters, default={}) if kpis else {}}

    if options.get("by") == "kpi":
        # One row per KPI of the list, at the report period.
        axis.update(by="kpi", mode="count", top=len(kpis))
    elif "by" in options:
        axis.update(by_axis(block, options, kpis, checker, errors))
    else:
        axis.update(over_axis(block, options, kpis, checker, errors))
    axis["title"] = errors.check(text, options.get("title"), "title", where("title"), default="")
    return axis


def by_axis(block: Block, options: dict, kpis: list[str], checker: Checker, errors) -> dict:
    where = block.key_line
    axis = {"by": errors.check(by_dimension, options["by"], kpis, checker, where("by"))}
    if "periods" in options:
        message = "periods: counts periods over time; 'by' shows the report period"
        errors.add(error(where("periods"), message, "remove it, or use 'over: month'"))
    mode = options.get("mode", "count")
    if mode == "cumulative_mean":
        errors.add(
            error(where("mode"), "mode 'cumulative_mean' runs over time", "use 'over: month'")
        )
    else:
        axis["mode"] = errors.check(choice, mode, BY_MODES, "mode", where("mode"))
    if axis.get("mode"):
        errors.check(checker.mode_for, axis["mode"], kpis, True, where("mode"))
    axis["top"] = errors.check(whole, options.get("top", 10), "top", where("top"), 1, 50)
    return axis


def by_dimension(by: Any, kpis: list[str], checker: Checker, line: int) -> str:
    """The dimension of a breakdown: one name (a list reads as several)."""
    if isinstance(by, list | dict):
        hint = "draw one chart or table per dimension"
        raise error(line, f"by: expected one dimension, got {by!r}", hint)
    return checker.dimension(by, kpis, line) if kpis else ""


def over_axis(block: Block, options: dict, kpis: list[str], checker: Checker, errors) -> dict:
    where = block.key_line
    # No `over`: the series runs at the report period's own grain.
    over = options.get("over")
    axis = {
        "over": None if over is None else errors.check(choice, over, GRAINS, "over", where("over"))
    }
    if "top" in options:
        message = "top: keeps the largest members of a breakdown; 'over' shows every period"
        errors.add(error(where("top"), message, "remove it, or use 'by: <dimension>'"))
    periods = options.get("periods", 12)
    axis["periods"] = errors.check(whole, periods, "periods", where("periods"), 1, 120)
    mode = options.get("mode", "count")
    if mode in MODES and mode not in OVER_MODES:
        errors.add(
            error(where("mode"), f"mode '{mode}' applies to a breakdown", "add 'by: <dimension>'")
        )
        return axis
    axis["mode"] = errors.check(choice, mode, OVER_MODES, "mode", where("mode"))
    if axis["mode"]:
        errors.check(checker.mode_for, axis["mode"], kpis, False, where("mode"))
    return axis


def check_chart(block: Block, options: dict, checker: Checker) -> Spec:
    errors = Errors()
    errors.check(unknown_options, options, CHART_OPTIONS, "kpi-chart", block)
    kpis = errors.check(kpi_list, block, options, checker, errors, default=[])
    spec = check_axis(block, options, kpis, checker, errors)
    default = "bars" if "by" in spec else "lines"
    where = block.key_line
    spec["type"] = errors.check(
        choice, options.get("type", default), CHART_TYPES, "type", where("type")
    )
    if spec["type"] == "pie":
        errors.check(pie, block, options, kpis)
    if spec["type"] not in ("values", "pie", None):
        errors.check(one_unit, block, kpis, spec, checker)
    errors.raise_any()
    return Spec("chart", kpis, spec, block.line)


def pie(block: Block, options: dict, kpis: list[str]) -> None:
    """A pie shows the shares of one KPI's members: one KPI, by a dimension."""
    errors, line = Errors(), block.key_line("type")
    if options.get("by") == "kpi":
        hint = "use 'type: bars' to compare KPIs, or 'by: <dimension>'"
        raise error(line, "a pie chart shows one KPI by a dimension, not by KPI", hint)
    if "by" not in options and "over" in options:
        hint = f"replace 'over: {options['over']}' with 'by: <dimension>'"
        errors.add(error(line, "a pie chart shows one KPI by a dimension, not over time", hint))
    elif "by" not in options:
        errors.add(error(line, "a pie chart shows one KPI by a dimension", "add 'by: <dimension>'"))
    if len(kpis) > 1:
        message = f"a pie chart shows one KPI, not {len(kpis)}: {', '.join(kpis)}"
        errors.add(error(line, message, "keep one, or use 'type: bars'"))
    errors.raise_any()


def one_unit(block: Block, kpis: list[str], spec: dict, checker: Checker) -> None:
    """A chart has one value axis: KPIs of different units would read as one (orders
    counted in euros). Two charts, or a table, show them."""
    mode = spec.get("mode") or "count"
    units = {name: checker.unit(name, mode) for name in kpis}
    if len(set(units.values())) <= 1:
        return
    # Named as the catalog names them: a count is "count" there, though it shares the
    # axis of plain numbers.
    named = {
        name: checker.catalog.get(name).unit if mode == "count" else units[name] for name in kpis
    }
    shown = ", ".join(f"{name} ({unit})" for name, unit in named.items())
    raise error(
        block.key_line("kpis"),
        f"kpi-chart: one axis cannot show KPIs of different units: {shown}",
        "draw one chart per unit, or use a kpi-table",
    )


def check_table(block: Block, options: dict, checker: Checker) -> Spec:
    errors = Errors()
    errors.check(unknown_options, options, TABLE_OPTIONS, "kpi-table", block)
    kpis = errors.check(kpi_list, block, options, checker, errors, default=[])
    spec = check_axis(block, options, kpis, checker, errors)
    errors.raise_any()
    return Spec("table", kpis, spec, block.line)


def check_grid(block: Block, options: dict, checker: Checker) -> Spec:
    errors = Errors()
    errors.check(unknown_options, options, GRID_OPTIONS, "kpi-grid", block)
    rows = options.get("rows")
    if not isinstance(rows, list) or not rows:
        errors.add(
            error(
                block.line,
                "kpi-grid: expected 'rows:', a list of rows of KPIs",
                "e.g. rows: [[revenue], [orders_count, average_basket]]",
            )
        )
        errors.raise_any()
    defaults = {key: options[key] for key in ("compare", "sparkline", "filters") if key in options}

    checked = []
    for row in rows:
        row = row if isinstance(row, list) else [row]
        tiles = [errors.check(check_tile, block, tile_options(i), checker, defaults) for i in row]
        checked.append([tile for tile in tiles if tile])
    errors.raise_any()
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


def leftovers(html: str) -> list[str]:
    """Directive text left in rendered HTML outside code and error messages: a directive
    that nothing rendered (an unsupported place, a typo in `[[kpi`)."""
    text = re.sub(r"<(pre|code)\b.*?</\1>|<!--.*?-->", " ", html, flags=re.S | re.I)
    text = re.sub(r'<(div|span) class="[^"]*kpisite-error.*?</\1>', " ", text, flags=re.S)
    text = re.sub(r"<[^>]*>", " ", text)
    return [match.group(0).strip() for match in LEFTOVER.finditer(text)]
