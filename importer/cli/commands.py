"""The typer app: every command, in the order ``--help`` lists them, and the console script."""

from __future__ import annotations

import sys
import traceback
from typing import Annotated

import typer

from importer._version import __version__
from importer.cli.console import secrets_in_env
from importer.cli.doctoring import doctor
from importer.cli.importing import plan, run, validate
from importer.cli.leaving import leave_now
from importer.cli.proposing import init
from importer.cli.servers import sandbox, serve
from importer.exit_codes import EXIT_UNEXPECTED
from importer.own_process import keep_text_as_python_strings, leave_out_test_only_modules

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Import appointments from CSV/Excel spreadsheets into Apptoto.",
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"apptoto-import {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Import appointments from CSV/Excel spreadsheets into Apptoto."""


def demo() -> None:
    """Import the sample spreadsheets into a local sandbox and show what happened (no account)."""
    from importer.demo import main as run_demo

    raise typer.Exit(run_demo())


for command in (validate, run, plan, doctor, sandbox, serve, init, demo):
    app.command()(command)


def main() -> None:
    """Entry point of the ``apptoto-import`` console script.

    An error the importer did not foresee (a bug) ends the process with exit code 3 and its
    traceback on stderr, with the API key and base64 of ``user:key`` masked: the message or a
    chained error may quote them, and tracebacks get pasted into bug reports.
    """
    leave_out_test_only_modules()  # before pandera is imported
    keep_text_as_python_strings()  # before any table is read
    try:
        app()
    except SystemExit as done:
        leave_now(done.code)  # a check that said everything ends without the teardown
        raise
    except Exception:
        from importer.client import redact

        shown = redact(traceback.format_exc(), secrets_in_env())
        sys.stderr.write(shown)
        typer.echo(
            "error: an unexpected error stopped the importer; please report it with the "
            "traceback above (the API key is masked in it)",
            err=True,
        )
        raise SystemExit(EXIT_UNEXPECTED) from None
