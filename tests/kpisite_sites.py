"""Built sites shared by the site and browser tests: each is built once per test process
with the real KPI engine over real data (the bundled extract, the public extracts)."""

from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path

from conftest import ROOT

from kpi.project import Project

os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")

# Fixed build metadata so that pages do not depend on the clock or the checkout.
STAMP = {"KPISITE_BUILT_AT": "2026-12-01T08:00:00+00:00", "KPISITE_COMMIT": "0123456789abcdef"}


@functools.cache
def sample_site() -> tuple[Path, object]:
    """The sample report project (repository root) built into a temporary folder."""
    from site_builder.build import build_site, environment

    target = Path(tempfile.mkdtemp(prefix="kpisite-site-")) / "site"
    with environment(**STAMP):
        result = build_site(Project.load(ROOT), site_dir=target)
    return target, result


def served_sample_site(mount: str):
    """The sample site built for the address it is served at (its sitemap names the real
    pages, so that instant navigation works) and served under the sub-path `mount` on
    loopback: (server, base URL)."""
    from site_builder.build import build_site, environment

    root = Path(tempfile.mkdtemp(prefix="kpisite-serve-"))
    server = serve_root(root)
    url = f"http://127.0.0.1:{server.server_port}/{mount.strip('/')}/"
    with environment(**STAMP, KPISITE_SITE_URL=url):
        build_site(Project.load(ROOT), site_dir=root / mount.strip("/"))
    return server, url


def copy_project(pages: dict[str, str], folder: Path, nav: bool = False) -> Project:
    """A small report project over the bundled extract, with the given pages."""
    reports = folder / "reports"
    reports.mkdir(parents=True)
    for name, text in pages.items():
        (reports / name).write_text(text, encoding="utf-8")
    config = (
        "site_name: Test\ndocs_dir: reports\nstrict: true\n"
        "theme:\n  name: material\n  language: fr\n  font: false\n"
        "plugins:\n  - search\n  - kpisite:\n"
        f"      data: {ROOT / 'data'}\n      cache: {folder / 'cache'}\n"
    )
    (folder / "mkdocs.yml").write_text(config, encoding="utf-8")
    return Project.load(folder)


def serve_root(root: Path):
    """Serve the folder `root` on a free loopback port, quietly, from a daemon thread."""
    import functools
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
