"""Golden tests of the Markdown extension: each tests/golden/NAME.md is rendered with the
real engine over the bundled extract for October 2026 and compared with NAME.html.

On a mismatch the actual output is written to NAME.actual.html beside it, to diff; after
reviewing a deliberate change, copy it over NAME.html.

The problems a page reports are compared too: with NAME.problems.txt, one problem a line,
in the order they are reported (blocks in page order, then inline directives); a page with
no such file must report none. An `error*` page must have one.
"""

from __future__ import annotations

from pathlib import Path

import markdown
import pytest
from conftest import ROOT

from kpi.engine import Workbook
from kpi.project import Project
from site_builder.markdown import KpiExtension
from site_builder.render import RenderContext

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(path.stem for path in GOLDEN.glob("*.md"))


@pytest.fixture(scope="module")
def book():
    return Workbook(Project.load(ROOT), cache=False)


def render(book, text: str, page: str) -> tuple[str, list[str]]:
    ext = KpiExtension(context=RenderContext(book, book.period("2026-10")))
    ext.start_page(page)
    html = markdown.markdown(text, extensions=[ext, "admonition", "tables"])
    return html + "\n", [str(problem) for problem in ext.problems]


@pytest.mark.parametrize("case", CASES)
def test_golden_page(book, case):
    source = (GOLDEN / f"{case}.md").read_text(encoding="utf-8")
    expected = GOLDEN / f"{case}.html"
    actual = GOLDEN / f"{case}.actual.html"

    html, problems = render(book, source, f"{case}.md")

    if not expected.exists() or expected.read_text(encoding="utf-8") != html:
        actual.write_text(html, encoding="utf-8")
    else:
        actual.unlink(missing_ok=True)
    assert expected.exists(), f"no {expected.name}: review {actual.name} and rename it"
    assert html == expected.read_text(encoding="utf-8"), f"see {actual.name}"
    listed = GOLDEN / f"{case}.problems.txt"
    expected_problems = listed.read_text(encoding="utf-8").splitlines() if listed.exists() else []
    assert case.startswith("error") == bool(expected_problems), f"{listed.name}?"
    assert problems == expected_problems


def test_the_extension_is_registered_as_a_markdown_entry_point():
    from importlib.metadata import entry_points

    (point,) = [p for p in entry_points(group="markdown.extensions") if p.name == "kpisite"]
    (plugin,) = [p for p in entry_points(group="mkdocs.plugins") if p.name == "kpisite"]

    assert point.load() is KpiExtension
    assert plugin.value == "site_builder.plugin:KpiSitePlugin"


def test_the_extension_works_without_mkdocs_from_its_entry_point_name():
    html = markdown.markdown(
        "Commandes : [[kpi orders_count]].",
        extensions=["kpisite"],
        extension_configs={"kpisite": {"project": str(ROOT), "period": "2026-10"}},
    )

    assert html.startswith('<p>Commandes : <span data-kpi="orders_count" class="kpisite-value">')
