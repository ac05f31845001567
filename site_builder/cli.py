"""The `kpisite` command line.

Each command lives in its own module under `site_builder.commands` and is imported only
when it runs, so `kpisite check` does not pay for importing mkdocs or plotly.
"""

from __future__ import annotations

import importlib
import logging
import sys

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


def setup_logging(level: int) -> None:
    """One handler on the root logger, writing to stderr so --json output stays clean."""
    from rich.console import Console
    from rich.logging import RichHandler

    handler = RichHandler(
        console=Console(stderr=True), show_time=False, show_path=False, markup=False
    )
    logging.basicConfig(level=level, handlers=[handler], format="%(message)s", force=True)
    # Third-party chatter stays out of the way unless asked for.
    for name in ("urllib3", "MARKDOWN", "watchdog", "filelock"):
        logging.getLogger(name).setLevel(max(level, logging.WARNING))


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `kpisite` console script."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
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
        click.echo(f"Error: {error}", err=True)
        for problem in error.problems:
            click.echo(f"  {problem}", err=True)
        return 1
    except Exception:
        if debug:
            raise
        click.echo(
            "Internal error: this is a bug in kpisite. Rerun with --debug for the "
            "traceback and report it.",
            err=True,
        )
        return 2
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
