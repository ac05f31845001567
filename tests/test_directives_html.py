"""Directives where Markdown reads no Markdown: inside an HTML block a directive is never
rendered (an error at its own line, saying why); inside an HTML comment it is commented
out (ignored, typos and all); under a `???` line the page's Markdown does not read as a
container it would show as code (an error naming the extension to add)."""

from __future__ import annotations

import markdown
from test_directives import book, convert  # noqa: F401 (book is a fixture)

from site_builder.markdown import KpiExtension
from site_builder.render import RenderContext


def test_an_inline_directive_inside_an_html_block_is_said_at_its_line(book):  # noqa: F811
    page = (
        "# M\n\nText.\n\n<details>\n<summary>Plus</summary>\n\nLe CA : [[kpi revenue]].\n\n"
        "</details>\n\n<div>\n[[kpi orders_count]]\n</div>\n"
    )

    html, problems = convert(book, page)

    assert problems == [
        f"page.md:{line}: directive not rendered: '[[kpi {name}]]' is inside raw HTML (an "
        "HTML block such as <div> or <details>), which Markdown leaves as it is (give the "
        'HTML block markdown="1", with md_in_html, or take the directive out)'
        for line, name in ((8, "revenue"), (13, "orders_count"))
    ]
    assert 'class="kpisite-error"' in html


def test_the_same_directive_rendered_and_inside_html_is_said_at_the_html_one(book):  # noqa: F811
    page = "Le CA : [[kpi revenue]].\n\n<div>\n[[kpi revenue]]\n</div>\n"

    _, problems = convert(book, page)

    assert [problem.split(": ")[0] for problem in problems] == ["page.md:4"]


def test_directives_in_an_html_comment_are_commented_out(book):  # noqa: F811
    page = (
        "Avant.\n\n<!--\n/// kpi-tile | revenux\n///\n\nEt [[kpi orders_cont]].\n-->\n\n"
        "Le CA : [[kpi revenue]].\n"
    )

    html, problems = convert(book, page)

    assert problems == []
    assert html.count('data-kpi="revenue"') == 1
    assert "<!--\n/// kpi-tile | revenux" in html  # left as written, unrendered


def render(book, page: str, extensions: list[str]) -> tuple[str, list[str]]:  # noqa: F811
    ext = KpiExtension(context=RenderContext(book, book.period("2026-10")))
    ext.start_page("page.md", 0)
    html = markdown.markdown(page, extensions=[ext, *extensions])
    return html, [str(problem) for problem in ext.problems]


COLLAPSIBLE = '??? info "Détails"\n    /// kpi-tile | revenue\n    ///\n'


def test_a_block_under_a_collapsible_line_markdown_does_not_read_is_an_error(book):  # noqa: F811
    html, problems = render(book, COLLAPSIBLE, ["admonition"])

    assert problems == [
        "page.md:2: directive under '??? info \"Détails\"', which this site's Markdown does not "
        "read as a container: it would show as code (add pymdownx.details to "
        "markdown_extensions in mkdocs.yml)"
    ]
    assert "<pre>" not in html


def test_a_block_under_a_collapsible_line_renders_with_pymdownx_details(book):  # noqa: F811
    html, problems = render(book, COLLAPSIBLE, ["admonition", "pymdownx.details"])

    assert problems == []
    assert "<details" in html and 'data-kpi="revenue"' in html


def test_inline_directives_under_unread_containers_are_errors_too(book):  # noqa: F811
    page = (
        '=== "Onglet"\n\n    Commandes : [[kpi orders_count]]\n\n'
        '??? note "Détails"\n\n    Valeur : [[kpi revenue]]\n'
    )

    html, problems = render(book, page, ["admonition"])

    assert [problem.split(" (")[0] for problem in problems] == [
        "page.md:3: directive under '=== \"Onglet\"', which this site's Markdown does not read "
        "as a container: it would show as code",
        "page.md:7: directive under '??? note \"Détails\"', which this site's Markdown does not "
        "read as a container: it would show as code",
    ]
    assert "[[kpi" not in html.replace("&#x27;", "'").split("kpisite-error")[0]


def test_a_directive_in_an_inline_comment_is_commented_out(book):  # noqa: F811
    page = "Le CA : [[kpi revenue]]. <!-- TODO [[kpi revenue_mensuel]] -->\n"

    html, problems = convert(book, page)

    assert problems == []
    assert "<!-- TODO [[kpi revenue_mensuel]] -->" in html
    assert html.count('data-kpi="revenue"') == 1


def test_a_block_inside_an_html_block_is_read_before_markdown_and_renders(book):  # noqa: F811
    html, problems = convert(book, "<div>\n/// kpi-tile | revenue\n///\n</div>\n")

    assert problems == []
    assert html.startswith("<div>") and 'data-kpi="revenue"' in html
