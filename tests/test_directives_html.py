"""Directives around raw HTML: Markdown leaves an HTML block as it is, so a directive
inside one is never rendered; it is an error at its own line, saying why."""

from __future__ import annotations

from test_directives import book, convert  # noqa: F401 (book is a fixture)


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
