"""The `kpisite` Python-Markdown extension: KPI directives rendered to HTML.

It works without mkdocs: ``markdown.markdown(text, extensions=[KpiExtension(project=".")])``
renders a page against the project's extract. The mkdocs plugin only gives it a shared
`RenderContext` (one engine for the whole build) and tells it which page it is on.

A bad directive never vanishes: it is rendered in place as a visible error and recorded
in `problems` as `page.md:LINE: message (did you mean 'x'?)`; the caller decides whether
that fails the build. An unexpected failure while rendering one directive becomes that
directive's error; it never stops the page.
"""

from __future__ import annotations

import logging
from html import escape, unescape

from markdown import Extension
from markdown.inlinepatterns import InlineProcessor
from markdown.postprocessors import Postprocessor
from markdown.preprocessors import Preprocessor

from kpi.errors import DirectiveError, KpisiteError, Problem
from site_builder import directives
from site_builder.render import RenderContext, render

log = logging.getLogger("mkdocs.plugins.kpisite.markdown")


class KpiExtension(Extension):
    """Renders `[[kpi ...]]` inline directives and `/// kpi-...` blocks."""

    def __init__(self, context: RenderContext | None = None, **kwargs):
        self.config = {
            "project": [".", "The report project folder (holding mkdocs.yml)."],
            "period": ["", "The report period (e.g. 2026-10); default: last complete month."],
        }
        super().__init__(**kwargs)
        self.page = "page.md"
        self.offset = 0
        self.problems: list[Problem] = []
        self.inline_lines: dict[str, list[int]] = {}
        # The page's lines outside code (code as ""), to find leftover directive text.
        self.prose: list[str] = []
        # The mkdocs plugin shares one context (one engine) across pages; Python-Markdown
        # would turn an object given as a config option into a bool, so it is an argument.
        self._context = context

    # The plugin calls this before each page so that errors name the page and its lines.
    def start_page(self, page: str, offset: int = 0) -> None:
        self.page, self.offset = page, offset

    @property
    def context(self) -> RenderContext:
        if self._context is None:
            self._context = standalone_context(self.getConfig("project"), self.getConfig("period"))
        return self._context

    def extendMarkdown(self, md):  # noqa: N802 (Python-Markdown's name)
        md.registerExtension(self)
        # After whitespace normalisation (30), before HTML blocks (20) and fences (25).
        md.preprocessors.register(KpiBlockProcessor(md, self), "kpisite_blocks", 29)
        # Before links (160) so that `[[` is never read as a link.
        md.inlinePatterns.register(
            # `[[KPI revenue]]` too: the flag goes in the pattern, Python-Markdown compiles it.
            KpiInlineProcessor("(?i)" + directives.INLINE.pattern, md, self),
            "kpisite_inline",
            175,
        )
        # Last, once raw HTML and code are back in place.
        md.postprocessors.register(LeftoverCheck(md, self), "kpisite_leftovers", 5)

    def reset(self) -> None:
        self.inline_lines = {}

    def report(self, failure: KpisiteError, line: int) -> str:
        """Record the problems of a failure; return the message shown in their place."""
        listed = failure.problems if isinstance(failure, DirectiveError) else []
        if not listed:
            line = getattr(failure, "line", None) or line
            listed = [Problem(str(line), str(failure), getattr(failure, "hint", None))]
        shown = []
        for problem in listed:
            where = problem.where if problem.where.isdigit() else str(line)
            located = Problem(
                where=f"{self.page}:{where}", message=problem.message, hint=problem.hint
            )
            self.problems.append(located)
            shown.append(str(located))
        return "\n".join(shown)

    def unexpected(self, failure: Exception, line: int) -> str:
        """A failure that is not the user's: the directive's error, with a debug trace."""
        log.debug("kpisite: %s:%d: unexpected error", self.page, line, exc_info=failure)
        message = (
            f"internal error while rendering this directive ({type(failure).__name__}: "
            f"{failure}); this is a bug in kpisite, please report it"
        )
        return self.report(directives.error(line, message), line)

    def checker(self) -> directives.Checker:
        return directives.Checker(self.context.book.catalog, self.context.members)

    def render_block(self, block: directives.Block) -> str:
        try:
            spec = directives.check_block(block, self.checker())
            return render(spec, self.context)
        except KpisiteError as failure:
            return error_block(self.report(failure, block.line), self.context)
        except Exception as failure:  # noqa: BLE001 (one directive must not stop the page)
            return error_block(self.unexpected(failure, block.line), self.context)

    def render_inline(self, text: str, body: str) -> str:
        line = self.line_of_inline(text)
        try:
            spec = directives.check_inline(text, body, line, self.checker())
            return render(spec, self.context)
        except KpisiteError as failure:
            return error_span(self.report(failure, line))
        except Exception as failure:  # noqa: BLE001 (one directive must not stop the page)
            return error_span(self.unexpected(failure, line))

    def line_of_inline(self, text: str) -> int:
        lines = self.inline_lines.get(directives.inline_key(text))
        if not lines:
            return self.offset + 1
        # Repeated identical directives: each use takes the next recorded line.
        return lines.pop(0) if len(lines) > 1 else lines[0]

    def leftover_places(self) -> list[tuple[int, str]]:
        """(source line, text) of each piece of directive text in the page's prose that
        no inline directive or code span covers, in page order: where leftovers come from.
        A well-formed `[[kpi average_basket]]` above a broken `[[kpi average_basket` is
        not the broken one's place."""
        places = []
        for index, line in enumerate(self.prose):
            bare = directives.INLINE.sub(" ", directives.CODE_SPAN.sub(" ", line))
            for match in directives.LEFTOVER.finditer(bare):
                places.append((index + 1 + self.offset, " ".join(match.group(0).split())))
        return places


class KpiBlockProcessor(Preprocessor):
    """The pre-pass: finds directives with their lines and renders the blocks."""

    def __init__(self, md, extension: KpiExtension):
        super().__init__(md)
        self.extension = extension

    def run(self, lines: list[str]) -> list[str]:
        ext = self.extension
        # `???` holds content only with pymdownx.details, `!!!` with admonition.
        blocks = self.md.parser.blockprocessors
        containers = [name for name in directives.CONTAINERS if name in blocks]
        found = directives.scan(lines, ext.offset, containers)
        ext.inline_lines, ext.prose = found.inline_lines, found.prose
        # Each bad opening line (with its body) and each block is replaced in place, in
        # page order, by its HTML: an error or the rendered directive. It keeps the
        # indentation of its opening line, so it stays inside an admonition or a list item,
        # and its blockquote marks, on the blank lines around it too.
        pieces = [(block.start, block.end, block.indent, block) for block in found.blocks]
        for line, message, hint in found.problems:
            start, end = found.spans[line]
            failure = directives.error(line, message, hint)
            pieces.append((start, end, found.indents.get(line, ""), failure))

        output, cursor = [], 0
        for start, end, indent, piece in sorted(pieces, key=lambda piece: piece[0]):
            if isinstance(piece, directives.Block):
                html = ext.render_block(piece)
            else:
                html = error_block(ext.report(piece, piece.line), ext.context)
            output.extend(lines[cursor:start])
            before, after = quoted_blanks(indent, output[-1:], lines[end + 1 : end + 2])
            output += [before, indent + self.md.htmlStash.store(html), after]
            cursor = end + 1
        output.extend(lines[cursor:])
        return output


def quoted_blanks(indent: str, before: list[str], after: list[str]) -> tuple[str, str]:
    """The blank lines around a replaced block: in a blockquote, `>` where the quote goes
    on around it (a blank line would end it), else empty."""
    depth = indent.count(">")
    if not depth:
        return "", ""
    mark = indent.rstrip()
    inside = [mark if line and directives.quotes(line) >= depth else "" for line in before + after]
    return (inside[0] if before else ""), (inside[-1] if after else "")


class KpiInlineProcessor(InlineProcessor):
    """`[[kpi churn_rate compare=previous]]` inside a sentence (code spans are skipped)."""

    def __init__(self, pattern: str, md, extension: KpiExtension):
        super().__init__(pattern, md)
        self.extension = extension

    def handleMatch(self, m, data):  # noqa: N802 (Python-Markdown's name)
        if data.rfind("<!--", 0, m.start(0)) > data.rfind("-->", 0, m.start(0)):
            return None, None, None  # commented out: Markdown keeps the comment as it is
        html = self.extension.render_inline(m.group(0), m.group("body"))
        return self.md.htmlStash.store(html), m.start(0), m.end(0)


class LeftoverCheck(Postprocessor):
    """Directive text that reached the page as text (a block in a table or after text on
    its line, `[[kpi]]` with no KPI) is an error at its line, never silent literal output."""

    def __init__(self, md, extension: KpiExtension):
        super().__init__(md)
        self.extension = extension

    def run(self, text: str) -> str:
        ext = self.extension
        places = ext.leftover_places()
        for leftover in directives.leftovers(text):
            # A well-formed inline directive Markdown never read: inside raw HTML.
            unread = ext.inline_lines.get(directives.inline_key(unescape(leftover)))
            if unread and directives.INLINE.fullmatch(unescape(leftover)):
                line = unread.pop(0) if len(unread) > 1 else unread[0]
                message = (
                    f"directive not rendered: '{leftover}' is inside raw HTML (an HTML block "
                    "such as <div> or <details>), which Markdown leaves as it is (give the "
                    'HTML block markdown="1", with md_in_html, or take the directive out)'
                )
            else:
                line = take_place(places, leftover, ext.offset + 1)
                message = (
                    f"directive text left as is: '{leftover}' (a directive goes on lines of "
                    "its own, in a paragraph, a blockquote, an admonition or a list item; "
                    "'[[kpi NAME]]' inline)"
                )
            shown = ext.report(directives.error(line, message), line)
            marked = f"{error_span(shown)}{escape(leftover)}"
            text = text.replace(escape(leftover, quote=False), marked, 1)
        return text


def take_place(places: list[tuple[int, str]], leftover: str, default: int) -> int:
    """The line of the first place not taken yet whose text starts as `leftover` does
    (the same broken text twice is two places), taken. Markdown may have changed the text
    (emphasis): then the first place not taken, as both come in page order; else
    `default`."""
    probe = " ".join(unescape(leftover).split())[:12]
    matching = [index for index, (_, text) in enumerate(places) if text.startswith(probe)]
    if not places:
        return default
    return places.pop(matching[0] if matching else 0)[0]


def error_span(message: str) -> str:
    title = escape(message, quote=True)
    return f'<span class="kpisite-error" role="alert" title="{title}">⚠ {escape(message)}</span>'


def error_block(message: str, ctx: RenderContext | None, title: str | None = None) -> str:
    title = title or (ctx.words["error"] if ctx else "Directive error")
    paragraphs = "".join(f"<p>{escape(line)}</p>" for line in message.splitlines())
    return (
        f'<div class="admonition failure kpisite-error" role="alert"><p class="admonition-title">'
        f"{escape(title)}</p>{paragraphs}</div>"
    )


def standalone_context(project_dir: str, period: str) -> RenderContext:
    """A context of its own for use outside mkdocs: the project's engine and period."""
    from kpi.engine import Workbook
    from kpi.project import Project

    project = Project.load(project_dir)
    book = Workbook(project)
    chosen = book.period(period) if period else book.default_period("month")
    return RenderContext(book, chosen, project.settings.locale, project.settings.currency)


def makeExtension(**kwargs):  # noqa: N802 (Python-Markdown's entry point)
    return KpiExtension(**kwargs)


__all__ = ["KpiExtension", "DirectiveError", "makeExtension"]
