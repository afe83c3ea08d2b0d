"""The typer app: every command, in the order ``--help`` lists them, and the console script."""

from __future__ import annotations

import sys
import traceback

import typer

from importer.cli.console import secrets_in_env
from importer.cli.importing import plan, run, validate
from importer.cli.proposing import init
from importer.cli.servers import sandbox, serve
from importer.exit_codes import EXIT_UNEXPECTED

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Import appointments from CSV/Excel spreadsheets into Apptoto.",
)

for command in (validate, run, plan, sandbox, serve, init):
    app.command()(command)


def main() -> None:
    """Entry point of the ``apptoto-import`` console script.

    An error the importer did not foresee (a bug) ends the process with exit code 3 and its
    traceback on stderr, with the API key and base64 of ``user:key`` masked: the message or a
    chained error may quote them, and tracebacks get pasted into bug reports.
    """
    try:
        app()
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
