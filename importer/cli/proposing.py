"""``init``: propose a mapping for a spreadsheet, its columns matched to Apptoto fields."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from importer.cli.console import fail
from importer.cli.options import FileArg, SheetOpt
from importer.errors import ImporterError
from importer.exit_codes import EXIT_NOTHING


def init(
    file: FileArg,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Where to write the mapping (default: <file>.yaml in the mappings folder that "
            "serve offers).",
        ),
    ] = None,
    sheet: SheetOpt = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the output file if it exists.")
    ] = False,
    time_zone: Annotated[
        str | None,
        typer.Option("--time-zone", help="IANA zone of rows without one, e.g. America/New_York."),
    ] = None,
    phone_region: Annotated[
        str | None,
        typer.Option(
            "--phone-region",
            help="Country of numbers without +country, e.g. GB (default: the time zone's).",
        ),
    ] = None,
) -> None:
    """Propose a mapping for a spreadsheet: its columns matched to Apptoto fields, with reasons."""
    from importer.assist import propose_mapping, slug
    from importer.assist.sheet_values import with_headings
    from importer.files import atomic_write_text
    from importer.load import load_table, sheets_like
    from importer.paths import mappings_folder

    name = output.stem if output is not None else slug(file.stem) or "mapping"
    target = output if output is not None else mappings_folder().path / f"{name}.yaml"
    if target.exists() and not force:
        typer.echo(f"error: {target} exists; use --force to replace it", err=True)
        raise typer.Exit(EXIT_NOTHING)
    try:
        loaded = load_table(file, sheet=sheet)
        proposal = propose_mapping(
            with_headings(loaded.appointments, loaded.headings),
            name=name,
            sheet=loaded.sheet_name,
            source=file.name,
            time_zone=time_zone,
            phone_region=phone_region,
            sheet_values=loaded.own_values(),
        )
        proposal = replace(
            proposal,
            header_row=loaded.header_row,
            sheets=tuple(sheets_like(file, loaded)) if sheet is None else (),
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(target, proposal.to_yaml())
    except ImporterError as exc:
        raise fail(exc) from None
    except OSError as exc:  # the folder cannot be made
        typer.echo(f"error: cannot write {target}: {exc.strerror or exc}", err=True)
        raise typer.Exit(EXIT_NOTHING) from None
    for line in proposal.summary():
        typer.echo(f"  {line}")
    typer.echo(f"wrote {target}; check it, then: apptoto-import validate {file} -m {target}")
