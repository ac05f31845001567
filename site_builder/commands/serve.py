"""`kpisite serve`: live preview; a page, catalog or extract change rebuilds and reloads.

A problem with the data (an extract being written, a bad catalog) shows in every page
while the server keeps answering: mkdocs' preview waits for a build to end before serving
a request, so a build never waits long nor fails.
"""

from __future__ import annotations

import errno
import os
import socket

import click

from kpi.errors import KpisiteError
from site_builder.commands import load_project, period_text, project_option

DEFAULT_ADDRESS = "127.0.0.1:8000"


@click.command()
@click.option(
    "--dev-addr",
    default=None,
    metavar="IP:PORT",
    help=f"Address to serve on (default: dev_addr in mkdocs.yml, else {DEFAULT_ADDRESS}).",
)
@click.option(
    "--period",
    default=None,
    callback=lambda ctx, param, value: period_text(value),
    help="The report period, e.g. 2026-10.",
)
@project_option
def serve(dev_addr: str | None, period: str | None, project_dir: str) -> int:
    """Preview the report site, rebuilding on every change."""
    from mkdocs.commands.serve import serve as mkdocs_serve

    # A busy port stops the preview before the first build. A bad extract or catalog does
    # not: every page shows the error, and fixing it rebuilds them.
    project = load_project(project_dir)
    address = dev_addr or configured_address(project.config_file)
    ensure_free(address)
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    if period:
        os.environ["KPISITE_PERIOD"] = period
        os.environ["KPISITE_PERIOD_SOURCE"] = "--period"  # what its errors name

    # Errors show in place in the pages while previewing: not strict, never failing.
    options = {"strict": False}
    if dev_addr:
        options["dev_addr"] = dev_addr
    try:
        mkdocs_serve(str(project.config_file), livereload=True, **options)
    except OSError as error:
        # Another server took the port between the probe and mkdocs' own bind.
        if error.errno == errno.EADDRINUSE:
            raise address_in_use(address) from None
        raise
    return 0


def configured_address(config_file) -> str:
    """dev_addr as mkdocs.yml sets it, else mkdocs' default."""
    from mkdocs.utils.yaml import yaml_load

    with open(config_file, "rb") as stream:
        config = yaml_load(stream) or {}
    return str(config.get("dev_addr") or DEFAULT_ADDRESS)


def ensure_free(address: str) -> None:
    """Raise a clean error when something already listens on `address`.

    Bound the way mkdocs' server binds (SO_REUSEADDR), so a port left in TIME_WAIT by a
    preview just stopped is not taken for a busy one. An address mkdocs would reject
    (no port, a host not on this machine) is left for mkdocs to report.
    """
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit():
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, int(port)))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise address_in_use(address) from None


def address_in_use(address: str) -> KpisiteError:
    return KpisiteError(f"{address}: address already in use (pass --dev-addr with another port)")
