"""``apptoto-import doctor``: check an Apptoto account before the first import."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from importer.cli.console import fail, setup_logging
from importer.errors import ImporterError


def doctor(
    write: Annotated[
        bool,
        typer.Option(
            "--write",
            help="Also create, update, look up and delete one test event (needs --calendar).",
        ),
    ] = False,
    calendar: Annotated[
        str | None, typer.Option(help="The calendar for the test event of --write.")
    ] = None,
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="Log every request.")] = False,
) -> None:
    """Check that the Apptoto account answers as the importer expects (reads only, unless --write).

    Exit code 0: every behaviour as expected; 1: some differ (each says what the importer does
    about it); 2: the credentials were refused or Apptoto did not answer.
    """
    from importer.client import ClientConfig
    from importer.client.doctor import check_account

    setup_logging(verbose)
    if write and not (calendar or "").strip():
        raise fail(ValueError("--write needs --calendar NAME: the calendar for the test event"))
    try:
        config = ClientConfig.from_env(max_tries=3)
    except ImporterError as exc:
        raise fail(exc) from None
    typer.echo(f"Checking Apptoto at {config.base_url} as {config.user}")
    findings = asyncio.run(check_account(config, write_calendar=calendar if write else None))
    for finding in findings:
        typer.echo(finding.line())
    if any(f.behaviour in ("credentials", "answers") and f.same is not True for f in findings):
        raise typer.Exit(2)
    differences = [f for f in findings if f.same is False]
    typer.echo(
        f"{len(differences)} behaviour(s) differ from what the importer expects"
        if differences
        else "Every behaviour checked is as the importer expects."
    )
    if not write:
        typer.echo("Run with --write --calendar NAME to check creating, updating and deleting too.")
    raise typer.Exit(1 if differences else 0)
