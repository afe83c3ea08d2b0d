"""``validate``, ``plan`` and ``run``: a spreadsheet checked, planned, or sent to Apptoto."""

from __future__ import annotations

import signal
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from importer.cli.console import (
    RUN_AGAIN,
    fail,
    on_sigterm,
    print_held_back,
    print_issues,
    progress_for,
    setup_logging,
    state_file_for,
    write_summary,
)
from importer.cli.leaving import all_said
from importer.cli.options import (
    AllSheetsOpt,
    FileArg,
    MappingOpt,
    MaxRowsOpt,
    PlanArgs,
    ReportOpt,
    SheetsOpt,
    WorkersOpt,
    meanwhile,
    plan_options,
    read_ahead_of,
    sheet_choice,
    workers_or_default,
)
from importer.errors import ImporterError
from importer.exit_codes import (
    EXIT_INTERRUPTED,
    EXIT_NOTHING,
    EXIT_OK,
    EXIT_ROWS,
    exit_code_for,
    summary_document,
)
from importer.outcomes import RowResult, RowStatus
from importer.plan_options import CALENDAR_MOVE

if TYPE_CHECKING:
    from importer.pipeline import RunSummary
    from importer.several_sheets import SheetCheck


def validate(
    file: FileArg,
    mapping: MappingOpt,
    report: ReportOpt = None,
    sheet: SheetsOpt = None,
    all_sheets: AllSheetsOpt = False,
    max_rows: MaxRowsOpt = None,
    workers: WorkersOpt = None,
) -> None:
    """Check a spreadsheet against a mapping and list every mistake. Sends nothing."""
    read_ahead_of(file, mapping, sheet, all_sheets, max_rows)
    from importer.mapping import load_mapping
    from importer.pipeline import RunRequest, validate_file
    from importer.report import check_report_path, not_replaced_note
    from importer.several_sheets import sheets_to_read, validate_sheets

    meanwhile()
    counts: Counter[str] = Counter()
    written: Path | None = None
    # Rows whose results a file in parts did not keep (importer.streaming): counted.
    warned_left_out = warnings_left_out = invalid_left_out = 0
    # SIGTERM stops the check like Ctrl-C: its worker processes are stopped, no half report left.
    previous_sigterm = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        if report is not None:
            check_report_path(report, source=file)
        parsed = load_mapping(mapping)
        request = RunRequest(
            file,
            parsed,
            max_rows=max_rows,
            workers=workers_or_default(workers),
            **sheet_choice(sheet, all_sheets),
        )
        if sheets_to_read(request) is None:
            # One sheet, read a part at a time (memory stays flat); its report written as it goes.
            check = validate_file(replace(request, report_path=report))
            for warning in check.warnings:
                typer.echo(f"warning: {file.name}: {warning}")
            results, counts, written = check.done.results, check.done.counter, check.report_path
            left = check.done.left
            warned_left_out, warnings_left_out = left.warned_valid, left.warnings
            invalid_left_out = left.invalid
        else:
            checks = validate_sheets(request)
            results = _sheet_results(checks, file)
            counts.update(str(r.status) for r in results)
            written = None if report is None else _validation_report(report, checks)
    except ImporterError as exc:
        raise fail(exc) from None
    except KeyboardInterrupt:
        typer.echo("interrupted: nothing was sent; no report was written", err=True)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    finally:
        signal.signal(signal.SIGTERM, previous_sigterm)
    if report is not None and written is not None and written != report:
        typer.echo(f"warning: {not_replaced_note(written, report)}", err=True)
    print_issues(
        results,
        file,
        report=written is not None,
        more_invalid=invalid_left_out,
        more_warnings=warnings_left_out,
    )
    invalid = counts[RowStatus.INVALID.value]
    set_aside = counts[RowStatus.NOT_APPOINTMENT.value]
    valid = sum(counts.values()) - invalid - set_aside
    where = "" if written is None else f"; report: {written}"
    warned = sum(1 for r in results if r.warnings and r.status != RowStatus.INVALID)
    warned += warned_left_out
    if warned:
        rows = "row has" if warned == 1 else "rows have"
        where = f"; {warned} valid {rows} warnings to check{where}"
    aside = f", {set_aside} not {'an appointment' if set_aside == 1 else 'appointments'}"
    aside = aside if set_aside else ""
    typer.echo(f"{valid} valid, {invalid} invalid rows{aside} in {file.name}{where}")
    all_said()
    raise typer.Exit(EXIT_ROWS if invalid else EXIT_OK)


def _sheet_results(checks: list[SheetCheck], file: Path) -> list[RowResult]:
    """Every sheet's results, each message naming its sheet; the sheets' warnings printed."""
    results: list[RowResult] = []
    for check in checks:
        shown = f"{file.name}, sheet {check.sheet!r}"
        for warning in check.prepared.sheet.warnings:
            typer.echo(f"warning: {shown}: {warning}")
        results += [r.on_sheet(check.sheet) for r in check.results]
    return results


def _validation_report(report: Path, checks: list[SheetCheck]) -> Path:
    """Write ``validate``'s report of several sheets (a ``sheet`` column names each row's)."""
    from importer.report import write_report_table
    from importer.several_sheets import sheets_report

    parts = [(str(c.sheet), c.prepared.source, c.results) for c in checks]
    return write_report_table(report, sheets_report(parts))


@plan_options
def run(
    args: PlanArgs,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Write the plan's report; send nothing.")
    ] = False,
    batch_size: Annotated[
        int | None,
        typer.Option("--batch-size", help="Events per request (default 15, at most 50)."),
    ] = None,
    rate: Annotated[
        float | None,
        typer.Option("--rate", help="Requests per minute (default 100, Apptoto's limit)."),
    ] = None,
    max_tries: Annotated[
        int | None,
        typer.Option("--max-tries", help="Tries per batch before its rows are failed (default 6)."),
    ] = None,
    deadline: Annotated[
        float | None,
        typer.Option(
            "--deadline",
            help="Seconds the whole send may take; rows not confirmed by then are failed "
            "(default: none).",
        ),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", help="Seconds to wait for one answer (default 240)."),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log every request (DEBUG) to stderr.")
    ] = False,
) -> None:
    """Import a spreadsheet into Apptoto (APPTOTO_USER, APPTOTO_API_KEY, APPTOTO_BASE_URL)."""
    client_options = {
        "batch_size": batch_size,
        "requests_per_minute": rate,
        "max_tries": max_tries,
        "deadline_seconds": deadline,
        "timeout_seconds": timeout,
    }
    execute(args, dry_run=dry_run, client_options=client_options, verbose=verbose)


@plan_options
def plan(args: PlanArgs) -> None:
    """Show what a run would do with each row (create, update, unchanged, invalid, cancel)."""
    execute(args, dry_run=True, client_options={}, verbose=False)


def execute(
    args: PlanArgs, *, dry_run: bool, client_options: dict[str, Any], verbose: bool
) -> None:
    """Run (or, with ``dry_run``, plan) ``args.file``, print the outcome and exit with its code."""
    read_ahead_of(args.file, args.mapping, args.sheet, args.all_sheets, args.max_rows)
    from importer.client import ClientConfig
    from importer.mapping import load_mapping
    from importer.pipeline import RunRequest, stopped_summary
    from importer.several_sheets import run_sheets

    setup_logging(verbose)
    meanwhile()
    started = time.monotonic()
    previous_sigterm = signal.signal(signal.SIGTERM, on_sigterm)
    mapping_name = ""

    def stopped(error: str, exit_code: int) -> None:
        summary = stopped_summary(
            args.file,
            mapping_name,
            error=error,
            duration_seconds=time.monotonic() - started,
            dry_run=dry_run,
            interrupted=exit_code == EXIT_INTERRUPTED,
        )
        write_summary(args.summary_json, summary_document(summary, exit_code))

    state = state_file_for(args.state)
    if dry_run:
        typer.echo(f"state file: {state}")
    try:
        parsed = load_mapping(args.mapping)
        mapping_name = parsed.name
        request = RunRequest(
            source=args.file,
            mapping=parsed,
            client_config=None if dry_run else ClientConfig.from_env(**client_options),
            **args.sheet_choice(),
            report_path=args.report_path,
            ledger_path=state,
            plan_options=args.plan_options(),
            dry_run=dry_run,
            max_rows=args.max_rows,
            workers=workers_or_default(args.workers),
        )
        summary = run_sheets(request, progress=progress_for(args.quiet))
    except KeyboardInterrupt:
        typer.echo(f"interrupted: what Apptoto confirmed is in the ledger; {RUN_AGAIN}", err=True)
        stopped("interrupted", EXIT_INTERRUPTED)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except ImporterError as exc:
        stopped(str(exc), EXIT_NOTHING)
        raise fail(exc) from None
    finally:
        signal.signal(signal.SIGTERM, previous_sigterm)
    _print_outcome(summary, args.file, quiet=args.quiet)
    write_summary(args.summary_json, summary_document(summary))
    if dry_run:
        all_said()  # a plan (a run ends as usual: its ledger and client close on the way out)
    raise typer.Exit(exit_code_for(summary))


def _print_outcome(summary: RunSummary, file: Path, *, quiet: bool) -> None:
    if not quiet:
        for sheet, warning in summary.sheet_warnings:
            shown = f"{file.name}, sheet {sheet!r}" if sheet else file.name
            typer.echo(f"warning: {shown}: {warning}")
        print_issues(
            summary.results,
            file,
            report=summary.report_path is not None,
            more_invalid=summary.invalid_left_out,
            more_warnings=summary.warnings_left_out,
        )
        print_held_back(summary.results, file)
    if summary.dry_run:
        from importer.calendars import new_calendar_warning

        for calendar in summary.new_calendars:
            typer.echo(new_calendar_warning(calendar))
    if any(CALENDAR_MOVE in r.message for r in summary.results):
        typer.echo(
            "some rows changed calendar: run again with --recreate-on-calendar-change to delete "
            "their old events and create them in the new calendars"
        )
    if summary.interrupted:
        typer.echo(f"interrupted: what Apptoto confirmed is in the ledger; {RUN_AGAIN}", err=True)
    if summary.error or summary.stopped:
        typer.echo(f"error: {summary.error or summary.stopped}", err=True)
    if summary.report_note:
        typer.echo(f"warning: {summary.report_note}", err=True)
    typer.echo(summary.line())
