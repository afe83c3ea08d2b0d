"""The ``apptoto-import`` command: the only module that parses options, prints and picks exit codes.

Exit codes: 0 every row succeeded; 1 some rows invalid or failed; 2 nothing could be done (bad
mapping, unreadable file, credentials refused, another run holds the ledger); 3 an unexpected
error (a bug); 130 interrupted.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
import traceback
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer

from importer.errors import ImporterError
from importer.ledger import DEFAULT_LEDGER_PATH
from importer.mapping import load_mapping
from importer.outcomes import RowResult, RowStatus
from importer.plan import DEFAULT_MAX_CANCEL_SHARE, PlanOptions
from importer.progress import NullProgress, Progress

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Import appointments from CSV/Excel spreadsheets into Apptoto.",
)
log = logging.getLogger("importer.cli")

EXIT_OK, EXIT_ROWS, EXIT_NOTHING, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_UNEXPECTED = 3  # a bug: not 1, which tells a monitor "see the report", when none is written
MAX_ISSUES_PRINTED = 200

FileArg = Annotated[
    Path, typer.Argument(help="The spreadsheet: .csv or .xlsx.", show_default=False)
]
MappingOpt = Annotated[Path, typer.Option("--mapping", "-m", help="The mapping file (YAML).")]
ReportOpt = Annotated[
    Path | None,
    typer.Option("--report", help="Where to write the per-row report (.csv or .xlsx)."),
]
SheetOpt = Annotated[str | None, typer.Option("--sheet", help="Sheet of an .xlsx workbook.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar, summary only.")]
VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="Log every request (DEBUG) to stderr.")
]
StateOpt = Annotated[
    Path, typer.Option("--state", help="The ledger of what earlier runs sent (SQLite).")
]
MaxRowsOpt = Annotated[
    int | None, typer.Option("--max-rows", help="Refuse files with more rows (default 200,000).")
]


class _TqdmProgress:
    """A tqdm bar on stderr."""

    def __init__(self) -> None:
        self._bar: Any = None

    def start(self, total: int, label: str) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=total, desc=label, unit="event", file=sys.stderr, leave=False)

    def advance(self, done: int) -> None:
        if self._bar is not None:
            self._bar.update(done)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _progress(quiet: bool) -> Progress:
    return NullProgress() if quiet or not sys.stderr.isatty() else _TqdmProgress()


def _setup_logging(verbose: bool) -> None:
    from importer.client import RedactSecrets

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(_secrets_in_env()))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)


def _secrets_in_env() -> list[str]:
    """Every shape of the API key in the environment: as set, and stripped as the client uses it.

    With the user, base64 of ``user:key`` (the Basic auth header) is among them.
    """
    from importer.client import secret_forms

    key, user = os.environ.get("APPTOTO_API_KEY", ""), os.environ.get("APPTOTO_USER")
    forms = set(secret_forms(key, user)) | set(
        secret_forms(key.strip(), None if user is None else user.strip())
    )
    return sorted(forms, key=len, reverse=True)


def _fail(exc: BaseException) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(EXIT_NOTHING)


def _print_issues(results: list[RowResult], file: Path) -> None:
    invalid = [r for r in results if r.status is RowStatus.INVALID]
    for r in invalid[:MAX_ISSUES_PRINTED]:
        typer.echo(f"{file.name} {r.message}")
    if len(invalid) > MAX_ISSUES_PRINTED:
        typer.echo(f"... and {len(invalid) - MAX_ISSUES_PRINTED} more invalid rows: see the report")


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    """SIGTERM (systemd, ``kill``) stops a run like Ctrl-C does."""
    # While sending, asyncio's Ctrl-C handler is in place: it cancels the run, which then still
    # writes its report. Before that, the default handler raises KeyboardInterrupt.
    on_sigint = signal.getsignal(signal.SIGINT)
    if callable(on_sigint):
        on_sigint(signal.SIGINT, frame)
    else:  # SIGINT ignored (a background job): stop all the same
        raise KeyboardInterrupt


@app.command()
def validate(
    file: FileArg,
    mapping: MappingOpt,
    report: ReportOpt = None,
    sheet: SheetOpt = None,
    max_rows: MaxRowsOpt = None,
) -> None:
    """Check a spreadsheet against a mapping and list every mistake. Sends nothing."""
    from importer.prepare import prepare
    from importer.report import write_report

    try:
        parsed = load_mapping(mapping)
        kwargs: dict[str, Any] = {"sheet": sheet}
        if max_rows is not None:
            kwargs["max_rows"] = max_rows
        prepared = prepare(file, parsed, **kwargs)
    except ImporterError as exc:
        raise _fail(exc) from None
    for warning in prepared.sheet.warnings:
        typer.echo(f"warning: {file.name}: {warning}")
    results = []
    for row in prepared.rows:
        external_id = prepared.events.external_ids.get(row, "")
        if row in prepared.issues:
            message = "; ".join(str(i) for i in prepared.issues[row])
            results.append(RowResult(row, RowStatus.INVALID, external_id, None, message))
        else:
            results.append(
                RowResult(
                    row, RowStatus.SKIPPED, external_id, None, "valid (validate sends nothing)"
                )
            )
    _print_issues(results, file)
    invalid = sum(1 for r in results if r.status is RowStatus.INVALID)
    if report is not None:
        try:
            write_report(report, prepared.source, results)
        except ImporterError as exc:
            raise _fail(exc) from None
    where = f"; report: {report}" if report else ""
    typer.echo(f"{len(results) - invalid} valid, {invalid} invalid rows in {file.name}{where}")
    raise typer.Exit(EXIT_ROWS if invalid else EXIT_OK)


def _write_summary(path: Path | None, content: dict[str, Any]) -> None:
    if path is None:
        return
    from importer.files import atomic_write_text

    atomic_write_text(path, json.dumps(content, indent=2) + "\n")


BatchOpt = Annotated[
    int | None, typer.Option("--batch-size", help="Events per request (default 15, at most 50).")
]
RateOpt = Annotated[
    float | None,
    typer.Option("--rate", help="Requests per minute (default 100, Apptoto's limit)."),
]
FullOpt = Annotated[bool, typer.Option("--full", help="Re-send every row, even unchanged ones.")]
CancelOpt = Annotated[
    bool,
    typer.Option(
        "--cancel-missing",
        help="Delete events this mapping created whose rows are no longer in the file.",
    ),
]
ForceOpt = Annotated[
    bool, typer.Option("--force", help="With --cancel-missing: cancel past the guard.")
]
CancelShareOpt = Annotated[
    float,
    typer.Option(
        "--max-cancel-share",
        min=0.0,
        max=1.0,
        help="With --cancel-missing: refuse to cancel more than this share (0 to 1) of the "
        "mapping's events.",
    ),
]
RecreateOpt = Annotated[
    bool,
    typer.Option(
        "--recreate-on-calendar-change",
        help="Delete and re-create an event whose calendar changed (Apptoto cannot move it).",
    ),
]
MaxTriesOpt = Annotated[
    int | None,
    typer.Option("--max-tries", help="Tries per batch before its rows are failed (default 6)."),
]
DeadlineOpt = Annotated[
    float | None,
    typer.Option(
        "--deadline",
        help="Seconds the whole send may take; rows not confirmed by then are failed "
        "(default: none).",
    ),
]
TimeoutOpt = Annotated[
    float | None,
    typer.Option("--timeout", help="Seconds to wait for one answer (default 240)."),
]
SummaryOpt = Annotated[
    Path | None, typer.Option("--summary-json", help="Write counts and exit code as JSON here.")
]


@app.command()
def run(
    file: FileArg,
    mapping: MappingOpt,
    report: ReportOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Write the plan's report; send nothing.")
    ] = False,
    sheet: SheetOpt = None,
    batch_size: BatchOpt = None,
    rate: RateOpt = None,
    max_tries: MaxTriesOpt = None,
    deadline: DeadlineOpt = None,
    timeout: TimeoutOpt = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    state: StateOpt = Path(DEFAULT_LEDGER_PATH),
    full: FullOpt = False,
    cancel_missing: CancelOpt = False,
    force: ForceOpt = False,
    max_cancel_share: CancelShareOpt = DEFAULT_MAX_CANCEL_SHARE,
    recreate_on_calendar_change: RecreateOpt = False,
    summary_json: SummaryOpt = None,
    max_rows: MaxRowsOpt = None,
) -> None:
    """Import a spreadsheet into Apptoto (APPTOTO_USER, APPTOTO_API_KEY, APPTOTO_BASE_URL)."""
    from importer.client import ClientConfig
    from importer.pipeline import RunRequest, run_import, stopped_summary

    _setup_logging(verbose)
    started = time.monotonic()
    previous_sigterm = signal.signal(signal.SIGTERM, _on_sigterm)
    mapping_name = ""
    try:
        parsed = load_mapping(mapping)
        mapping_name = parsed.name
        client_config = None
        if not dry_run:
            client_config = ClientConfig.from_env(
                batch_size=batch_size,
                requests_per_minute=rate,
                max_tries=max_tries,
                deadline_seconds=deadline,
                timeout_seconds=timeout,
            )
        request = RunRequest(
            source=file,
            mapping=parsed,
            client_config=client_config,
            sheet=sheet,
            report_path=report,
            ledger_path=state,
            plan_options=PlanOptions(
                full=full,
                cancel_missing=cancel_missing,
                max_cancel_share=max_cancel_share,
                force=force,
                recreate_on_calendar_change=recreate_on_calendar_change,
            ),
            dry_run=dry_run,
            max_rows=max_rows,
        )
        summary = run_import(request, progress=_progress(quiet))
    except KeyboardInterrupt:
        typer.echo(f"interrupted: what Apptoto confirmed is in the ledger; {_RUN_AGAIN}", err=True)
        stopped = stopped_summary(
            file,
            mapping_name,
            error="interrupted",
            duration_seconds=time.monotonic() - started,
            dry_run=dry_run,
            interrupted=True,
        )
        _write_summary(summary_json, stopped.to_json())
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except ImporterError as exc:
        stopped = stopped_summary(
            file,
            mapping_name,
            error=str(exc),
            duration_seconds=time.monotonic() - started,
            dry_run=dry_run,
        )
        _write_summary(summary_json, stopped.to_json())
        raise _fail(exc) from None
    finally:
        signal.signal(signal.SIGTERM, previous_sigterm)
    if not quiet:
        _print_issues(summary.results, file)
    if summary.interrupted:
        typer.echo(f"interrupted: what Apptoto confirmed is in the ledger; {_RUN_AGAIN}", err=True)
    if summary.error:
        typer.echo(f"error: {summary.error}", err=True)
    typer.echo(summary.line())
    _write_summary(summary_json, summary.to_json())
    raise typer.Exit(summary.exit_code)


_RUN_AGAIN = "run the same command again to finish (rows already confirmed are not sent twice)"


@app.command()
def plan(
    file: FileArg,
    mapping: MappingOpt,
    report: ReportOpt = None,
    sheet: SheetOpt = None,
    quiet: QuietOpt = False,
    state: StateOpt = Path(DEFAULT_LEDGER_PATH),
    full: FullOpt = False,
    cancel_missing: CancelOpt = False,
    force: ForceOpt = False,
    max_cancel_share: CancelShareOpt = DEFAULT_MAX_CANCEL_SHARE,
    recreate_on_calendar_change: RecreateOpt = False,
    summary_json: SummaryOpt = None,
    max_rows: MaxRowsOpt = None,
) -> None:
    """Show what a run would do with each row (create, update, unchanged, invalid, cancel)."""
    run(
        file,
        mapping,
        report=report,
        dry_run=True,
        sheet=sheet,
        quiet=quiet,
        state=state,
        full=full,
        cancel_missing=cancel_missing,
        force=force,
        max_cancel_share=max_cancel_share,
        recreate_on_calendar_change=recreate_on_calendar_change,
        summary_json=summary_json,
        max_rows=max_rows,
    )


@app.command()
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

        shown = redact(traceback.format_exc(), _secrets_in_env())
        sys.stderr.write(shown)
        typer.echo(
            "error: an unexpected error stopped the importer; please report it with the "
            "traceback above (the API key is masked in it)",
            err=True,
        )
        raise SystemExit(EXIT_UNEXPECTED) from None


@app.command()
def serve(
    host: Annotated[
        str, typer.Option(help="Address to listen on; beyond 127.0.0.1 needs a password.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    mappings: Annotated[
        Path, typer.Option("--mappings", help="Folder of the mappings offered on the page.")
    ] = Path("mappings"),
    state: StateOpt = Path(DEFAULT_LEDGER_PATH),
    max_upload_mb: Annotated[
        float, typer.Option("--max-upload-mb", help="Refuse uploads larger than this.")
    ] = 20.0,
) -> None:
    """Serve the web page for office staff (APPTOTO_USER, APPTOTO_API_KEY, APPTOTO_BASE_URL)."""
    from importer.web.server import serve as serve_page
    from importer.web.settings import ENV_PASSWORD, WebSettings

    _setup_logging(verbose=False)
    try:
        settings = WebSettings(
            mappings_dir=mappings,
            ledger_path=state,
            max_upload_bytes=int(max_upload_mb * 1024 * 1024),
            password=os.environ.get(ENV_PASSWORD, ""),
        )
        serve_page(host=host, port=port, settings=settings)
    except ImporterError as exc:
        raise _fail(exc) from None


@app.command()
def init(
    file: FileArg,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Where to write the mapping (default mappings/<file>.yaml)."
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
        str, typer.Option("--phone-region", help="Country of numbers without +country.")
    ] = "US",
) -> None:
    """Propose a mapping for a spreadsheet: its columns matched to Apptoto fields, with reasons."""
    from importer.assist import propose_mapping, slug
    from importer.files import atomic_write_text
    from importer.load import load_table

    name = output.stem if output is not None else slug(file.stem) or "mapping"
    target = output if output is not None else Path("mappings") / f"{name}.yaml"
    if target.exists() and not force:
        typer.echo(f"error: {target} exists; use --force to replace it", err=True)
        raise typer.Exit(EXIT_NOTHING)
    try:
        loaded = load_table(file, sheet=sheet)
        proposal = propose_mapping(
            loaded.frame,
            name=name,
            sheet=loaded.sheet_name,
            source=file.name,
            time_zone=time_zone,
            phone_region=phone_region,
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(target, proposal.to_yaml())
    except ImporterError as exc:
        raise _fail(exc) from None
    except OSError as exc:  # the folder cannot be made
        typer.echo(f"error: cannot write {target}: {exc.strerror or exc}", err=True)
        raise typer.Exit(EXIT_NOTHING) from None
    for line in proposal.summary():
        typer.echo(f"  {line}")
    typer.echo(f"wrote {target}; check it, then: apptoto-import validate {file} -m {target}")
