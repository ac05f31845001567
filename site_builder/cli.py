"""The `kpisite` command line.

Each command lives in its own module under `site_builder.commands` and is imported only
when it runs, so `kpisite check` does not pay for importing mkdocs or plotly.
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections import deque

import click

from kpi.errors import KpisiteError

COMMANDS = {
    "check": "site_builder.commands.check:check",
    "sample-data": "site_builder.commands.sample:sample_data",
    "query": "site_builder.commands.query:query",
    "build": "site_builder.commands.build:build",
    "serve": "site_builder.commands.serve:serve",
    "publish": "site_builder.commands.publish:publish",
}

# Exit codes: 0 done, 1 a problem with the input (its message says where), 2 a malformed
# command line (click's own), 3 a bug in kpisite.
INTERNAL_ERROR = 3

HELP = {
    "check": "Validate the project's CRM extracts against the contract.",
    "sample-data": "Write a deterministic, realistic sample CRM extract.",
    "query": "Print KPI values for a period, as text or JSON.",
    "build": "Build the report site for a period into site/.",
    "serve": "Preview the report site, rebuilding on every change.",
    "publish": "Build the site for a period and deploy it as a version with mike.",
}


class LazyGroup(click.Group):
    """A click group that imports a command's module only when that command runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module_name, attribute = COMMANDS[name].split(":")
        return getattr(importlib.import_module(module_name), attribute)

    def format_commands(self, ctx: click.Context, formatter) -> None:
        # The short help comes from HELP so listing commands imports nothing.
        rows = [(name, HELP[name]) for name in COMMANDS]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup)
@click.option("-v", "--verbose", is_flag=True, help="Log detail, generated SQL included.")
@click.option("-q", "--quiet", is_flag=True, help="Log warnings and errors only.")
@click.option("--debug", is_flag=True, help="Show the traceback of any error.")
@click.version_option(package_name="kpisite")
@click.pass_context
def cli(ctx: click.Context, verbose: bool, quiet: bool, debug: bool) -> None:
    """kpisite turns CRM extracts into a versioned static site of KPI reports."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    setup_logging(logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO)


class Shown(logging.Filter):
    """Remembers the warnings and errors the log printed, so that the problems of the
    error a command ends with are not printed a second time (the plugin logs each one)."""

    def __init__(self) -> None:
        super().__init__()
        # Bounded: `kpisite serve` logs on every rebuild for as long as it runs.
        self.messages: deque[str] = deque(maxlen=10_000)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            self.messages.append(record.getMessage())
        return True

    def printed(self, text: str) -> bool:
        return any(text in message for message in self.messages)


shown = Shown()


class StderrHandler(logging.StreamHandler):
    """A stream handler on whatever sys.stderr is when a record is written: a caller that
    swaps it (a test capturing output, click's runner) must not leave a closed stream."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def setup_logging(level: int) -> None:
    """One handler on the root logger, writing to stderr so --json output stays clean."""
    from rich.console import Console
    from rich.logging import RichHandler

    console = Console(stderr=True)
    if console.is_terminal:
        handler = RichHandler(console=console, show_time=False, show_path=False, markup=False)
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        # In a pipe or a CI log, one line per message: a problem's `file:line` stays whole
        # and can be searched for, where rich would wrap it at 80 columns.
        handler = StderrHandler()
        handler.setFormatter(logging.Formatter("%(levelname)-8s %(message)s"))
    handler.addFilter(shown)
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # Third-party chatter stays out of the way unless asked for.
    for name in ("urllib3", "MARKDOWN", "watchdog", "filelock"):
        logging.getLogger(name).setLevel(max(level, logging.WARNING))


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `kpisite` console script."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    shown.messages.clear()
    try:
        # Commands return their exit code: 0, or 1 when they reported problems.
        code = cli.main(args=argv, prog_name="kpisite", standalone_mode=False)
    except click.exceptions.Exit as stop:
        return stop.exit_code
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 1
    except KpisiteError as error:
        # A user error: its message says where and what; no traceback.
        if debug:
            raise
        echo_error(error)
        return 1
    except Exception:
        if debug:
            raise
        click.echo(
            "Internal error: this is a bug in kpisite. Rerun with --debug for the "
            "traceback and report it.",
            err=True,
        )
        return INTERNAL_ERROR
    return code if isinstance(code, int) else 0


def echo_error(error: KpisiteError) -> None:
    """The error's message, then each of its problems the log has not already shown."""
    fresh = [problem for problem in error.problems if not shown.printed(str(problem))]
    if shown.printed(str(error)) and not fresh:
        return  # mkdocs logged the plugin's error already: say it once
    above = " (listed above)" if error.problems and not fresh else ""
    click.echo(f"Error: {error}{above}", err=True)
    for problem in fresh:
        click.echo(f"  {problem}", err=True)


if __name__ == "__main__":
    sys.exit(main())
