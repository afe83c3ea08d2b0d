"""``serve`` (the web page for office staff) and ``sandbox`` (a local imitation of Apptoto)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from importer.cli.console import fail, setup_logging, state_file_for
from importer.cli.options import StateOpt
from importer.errors import ImporterError


def sandbox(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
    db: Annotated[
        Path | None, typer.Option("--db", help="Keep events in this SQLite file.")
    ] = None,
) -> None:
    """Serve a local imitation of Apptoto's API, for rehearsals and tests."""
    from importer.sandbox.server import serve

    serve(host=host, port=port, db_path=str(db) if db else None)


def serve(
    host: Annotated[
        str,
        typer.Option(
            help="Address to listen on; beyond 127.0.0.1 needs a password and a TLS certificate."
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    mappings: Annotated[
        Path | None,
        typer.Option(
            "--mappings",
            help="Folder of the mappings offered on the page (default: mappings in the data "
            "folder, APPTOTO_IMPORT_HOME).",
            show_default=False,
        ),
    ] = None,
    state: StateOpt = None,
    max_upload_mb: Annotated[
        float, typer.Option("--max-upload-mb", help="Refuse uploads larger than this.")
    ] = 20.0,
    allow_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-host",
            help="Another name or address browsers use to reach the page (repeatable); "
            "other names are refused, which stops DNS rebinding.",
        ),
    ] = None,
    keep_reports_days: Annotated[
        float,
        typer.Option(
            "--keep-reports-days",
            help="Delete the page's past runs (their reports hold patients' details) this many "
            "days after they ran.",
        ),
    ] = 30.0,
    certfile: Annotated[
        Path | None,
        typer.Option("--certfile", help="TLS certificate (PEM); needed beyond 127.0.0.1."),
    ] = None,
    keyfile: Annotated[
        Path | None, typer.Option("--keyfile", help="The certificate's private key (PEM).")
    ] = None,
) -> None:
    """Serve the web page for office staff (APPTOTO_USER, APPTOTO_API_KEY, APPTOTO_BASE_URL)."""
    from importer.paths import mappings_folder
    from importer.web.server import serve as serve_page
    from importer.web.settings import ENV_PASSWORD, WebSettings

    setup_logging(verbose=False)
    if mappings is None:
        place = mappings_folder()
        mappings = place.path
        if place.note:
            typer.echo(f"note: {place.note}", err=True)
    try:
        settings = WebSettings(
            mappings_dir=mappings,
            ledger_path=state_file_for(state),
            max_upload_bytes=int(max_upload_mb * 1024 * 1024),
            password=os.environ.get(ENV_PASSWORD, ""),
            allowed_hosts=tuple(allow_host or ()),
            certfile=certfile,
            keyfile=keyfile,
            keep_reports_days=keep_reports_days,
        )
        serve_page(host=host, port=port, settings=settings)
    except ImporterError as exc:
        raise fail(exc) from None
