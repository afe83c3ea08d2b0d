"""The main job: prepare -> plan -> send -> report, with a summary that tells the truth.

Every caller goes through here: ``run_import`` (the CLI's ``run``, the web page's runs, the bench),
``plan_import`` (``plan``, the web review: prepared and planned, nothing sent) and
``validate_rows`` (``validate``). Nothing here prints, picks an exit code or writes a file it was
not asked for; progress goes to a callback. The ledger is updated per batch, only for what Apptoto
confirmed, so a run killed at any moment can simply be run again: rows are matched to the ledger
by ``external_id``, and an event sent twice is updated, never duplicated.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from importer.calendars import with_new_calendars
from importer.errors import ReportError
from importer.file_facts import PreparedParts
from importer.guard import EarlierRows
from importer.ledger import Ledger, LedgerEntry
from importer.load import STREAMED_MAX_ROWS
from importer.mapping import Mapping
from importer.outcomes import RowResult
from importer.parts_done import PartsDone, count_statuses
from importer.plan import Plan, PlanOptions, make_plan
from importer.prepare import Prepared, prepare
from importer.progress import NullProgress, Progress
from importer.report import ReportWriter, check_report_path, not_replaced_note
from importer.streaming import (
    checked_ahead,
    decide_cancels,
    plan_parts,
    plan_results,
    validate_parts,
    validate_rows,
    with_warnings,
)
from importer.workers import PartPool

if TYPE_CHECKING:
    import httpx

    from importer.client import ClientConfig

__all__ = [
    "FileCheck",
    "PlannedImport",
    "RunRequest",
    "RunSummary",
    "count_statuses",
    "parts_of",
    "plan_import",
    "plan_results",
    "run_import",
    "run_import_async",
    "stopped_summary",
    "validate_file",
    "validate_rows",
    "with_warnings",
]


@dataclass(frozen=True)
class RunSummary:
    """Counts per status, time taken and report path of one run."""

    mapping: str
    file: str
    counts: dict[str, int]
    duration_seconds: float
    report_path: str | None
    dry_run: bool
    error: str = ""  # why the run stopped early with nothing to show (exit 2), when it did
    stopped: str = ""  # why the sending stopped early; the rows say what was done (exit 0/1)
    report_note: str = ""  # the report went beside the one asked for, and why
    interrupted: bool = False  # stopped by Ctrl-C or SIGTERM; rows not answered are skipped
    # Every row's result for a file of one part; for a file in parts, those a person should read
    # (rows not done, the first invalid rows and rows with warnings: importer.streaming, the
    # others counted below); the report has all.
    results: list[RowResult] = field(default_factory=list, repr=False)
    new_calendars: tuple[
        str, ...
    ] = ()  # calendars Apptoto creates for this run (importer.calendars)
    # what the load said of the file as a whole (a title skipped, rows set aside, an encoding):
    # (the sheet, "" where one sheet is read as ever; the words)
    sheet_warnings: tuple[tuple[str, str], ...] = ()
    # A file in parts keeps the results of the first rows whose only news is warnings
    # (importer.parts_done.WARNED_KEPT); the others are counted here (the report has them).
    warned_left_out: int = 0  # rows
    warnings_left_out: int = 0  # their warnings
    invalid_left_out: int = 0  # likewise, invalid rows past the first (INVALID_KEPT)

    def line(self) -> str:
        """One line for people: ``12 created, 3 invalid in 4.2 s; report: reports/x.csv``."""
        counts = ", ".join(f"{n} {status}" for status, n in self.counts.items() if n) or "no rows"
        what = "plan (nothing sent)" if self.dry_run else "done"
        if self.interrupted:
            what = "interrupted"
        text = f"{what}: {counts} in {self.duration_seconds:.1f} s"
        if self.warned:
            rows = "row has" if self.warned == 1 else "rows have"
            text += f"; {self.warned} {rows} warnings to check"
        if self.report_path:
            text += f"; report: {self.report_path}"
        return text

    @property
    def warned(self) -> int:
        """How many rows carry warnings (sent or not: a warning never changes a status)."""
        return sum(1 for r in self.results if r.warnings) + self.warned_left_out

    def to_json(self) -> dict[str, Any]:
        """The summary for monitoring (``--summary-json``): the same keys whatever happened."""
        return {
            "mapping": self.mapping,
            "file": self.file,
            "counts": self.counts,
            "rows_with_warnings": self.warned,
            "duration_seconds": round(self.duration_seconds, 3),
            "report_path": self.report_path,
            "dry_run": self.dry_run,
            "error": self.error or self.stopped,
            "interrupted": self.interrupted,
            "report_note": self.report_note,
        }


def stopped_summary(
    file: str | Path,
    mapping: str,
    *,
    error: str,
    duration_seconds: float,
    dry_run: bool = False,
    interrupted: bool = False,
) -> RunSummary:
    """The summary of a run that stopped before any row had a result."""
    return RunSummary(
        mapping=mapping,
        file=str(file),
        counts={},
        duration_seconds=duration_seconds,
        report_path=None,
        dry_run=dry_run,
        error=error,
        interrupted=interrupted,
    )


@dataclass(frozen=True)
class RunRequest:
    """Everything one run needs, typed and defaulted in one place."""

    source: Path  # the spreadsheet
    mapping: Mapping
    client_config: ClientConfig | None = None  # None only for dry runs
    sheet: str | None = None  # default: the mapping's sheet, else the one holding the table
    # Several sheets in one run (importer.several_sheets.run_sheets): named, or every one with
    # the mapping's columns; default: the mapping's sheets.
    sheets: tuple[str, ...] = ()
    all_sheets: bool = False
    report_path: Path | None = None  # where to write the per-row report; None: no report
    report_copies: tuple[Path, ...] = ()  # more paths the same report goes to (CSV and XLSX)
    ledger_path: Path | None = None  # None: no ledger (every row is sent, as create or update)
    plan_options: PlanOptions = field(default_factory=PlanOptions)
    dry_run: bool = False  # plan only (the ledger is read, not locked), send nothing
    max_rows: int | None = None  # refuse bigger files; default: the loader's cap
    source_name: str | None = None  # the file as the ledger and messages name it; default: source
    now: datetime | None = None  # the moment "in the past" is judged against; default: the present
    prepared: Prepared | None = None  # the sheet already read and checked; default: read source
    # Rows read, planned and sent at a time (importer.streaming); None: the default (file_facts).
    part_rows: int | None = None
    # The rows earlier sheets of this run send, for the same-appointment guard (one object
    # passed from sheet to sheet by importer.several_sheets); None: the file is judged alone.
    earlier: EarlierRows | None = None
    # Worker processes that check the parts of a file of more than one (importer.workers);
    # 1: this process alone.
    workers: int = 1


def _prepare(request: RunRequest) -> Prepared:
    kwargs: dict[str, Any] = {
        "sheet": request.sheet,
        "now": request.now,
        "file_name": request.source_name,
    }
    if request.max_rows is not None:
        kwargs["max_rows"] = request.max_rows
    prepared = request.prepared or prepare(request.source, request.mapping, **kwargs)
    if request.source_name is None:
        return prepared
    # A web upload lives in a private temporary file: the ledger keeps the name it was sent as.
    return replace(prepared, sheet=replace(prepared.sheet, file=request.source_name))


def _open_ledger(path: Path | None, *, read_only: bool) -> Ledger | None:
    if path is None:
        return None
    if not read_only:
        return Ledger.open(path)
    if not path.exists():
        return None  # a plan leaves no state file behind; with none, every row is a create
    # A plan only reads: no lock, so it works beside a run that holds the ledger.
    return Ledger.open_read_only(path)


def _client_config(request: RunRequest) -> ClientConfig:
    if request.client_config is None:
        raise ValueError("a run that sends needs a client configuration")
    return request.client_config


@contextlib.contextmanager
def _planned(
    request: RunRequest, *, read_only: bool
) -> Iterator[tuple[Prepared, Plan, Ledger | None]]:
    """Prepare the file and plan it against the ledger, which stays open until exit (locked,
    unless ``read_only``). Refuses (ReportError) a report path that is the input or the ledger."""
    if request.report_path is not None:
        check_report_path(request.report_path, source=request.source, ledger=request.ledger_path)
    prepared = _prepare(request)
    ledger = _open_ledger(request.ledger_path, read_only=read_only)
    try:
        plan = make_plan(prepared, ledger, request.plan_options, earlier=request.earlier)
        yield prepared, with_new_calendars(plan, prepared.mapping, ledger), ledger
    finally:
        if ledger is not None:
            ledger.close()


@dataclass(frozen=True)
class PlannedImport:
    """A file prepared and planned against the ledger, nothing sent: what a run would do."""

    prepared: Prepared
    plan: Plan

    def results(self) -> list[RowResult]:
        """The plan's report lines: the action each row would get, and the cancellations."""
        return plan_results(self.plan)


def plan_import(request: RunRequest) -> PlannedImport:
    """Prepare ``request.source`` and plan it against the ledger; send nothing, write nothing.

    The ledger is read without its lock (a plan works beside a run that holds it); with no
    ledger file every valid row is a create. ``client_config``, ``report_path`` and ``dry_run``
    are not used. Raises what :func:`prepare` and :func:`make_plan` raise (LoadError,
    MappingError, LedgerError, PlanRefused).
    """
    with _planned(request, read_only=True) as (prepared, plan, _):
        return PlannedImport(prepared, plan)


def parts_of(request: RunRequest, *, sending: bool = False) -> PreparedParts:
    """The file of ``request`` as parts (:mod:`importer.file_facts`), not yet read; ``sending``:
    to be sent (smaller parts: a run's memory holds payloads)."""
    return PreparedParts(
        request.source,
        request.mapping,
        sheet=request.sheet,
        max_rows=STREAMED_MAX_ROWS if request.max_rows is None else request.max_rows,
        now=request.now,
        file_name=request.source_name,
        prepared=request.prepared,
        part_rows=request.part_rows,
        sending=sending,
    )


@dataclass(frozen=True)
class FileCheck:
    """``validate`` of one sheet: the load's warnings and what was found, every row counted."""

    warnings: tuple[str, ...]
    done: PartsDone
    report_path: Path | None = None  # where the report went, when one was asked for


def validate_file(request: RunRequest) -> FileCheck:
    """Check every row of ``request``'s sheet, a part at a time; send nothing. Writes the report
    when ``request.report_path`` is set. Raises LoadError, MappingError, ReportError."""
    if request.report_path is not None:
        check_report_path(request.report_path, source=request.source)
    parts = parts_of(request)
    with PartPool(request.workers) as pool:
        # Each part is checked as it is read; only a part whose rows share an id with rows of
        # other parts is checked again, once the whole file is known.
        report = None if request.report_path is None else ReportWriter(request.report_path)
        facts = parts.check(pool, ahead=checked_ahead(parts, report))
        try:
            done = validate_parts(parts, report, pool)
        except BaseException:
            if report is not None:
                report.abandon()  # no half report left beside the old one (Ctrl-C, a bad part)
            raise
    written = report.finish() if report is not None else None
    return FileCheck(facts.warnings, done, written)


def _summary(
    request: RunRequest,
    done: PartsDone,
    report: ReportWriter | None,
    started: float,
    parts: PreparedParts,
) -> RunSummary:
    """Put the report in place (when one is written) and sum the run up."""
    report_path = None if request.report_path is None else str(request.report_path)
    error, note = done.error, ""
    if done.report_error:
        report_path = None
        error = "; ".join(part for part in (error, done.report_error) if part)
    elif report is not None:
        try:
            written = report.finish()
            report_path, note = str(written), not_replaced_note(written, report_path or "")
        except ReportError as exc:
            # Rows were sent and the ledger knows them: say what happened rather than raise.
            report_path = None
            error = "; ".join(part for part in (error, str(exc)) if part)
    return RunSummary(
        mapping=request.mapping.name,
        file=str(request.source),
        counts=done.counts,
        duration_seconds=time.monotonic() - started,
        report_path=report_path,
        dry_run=request.dry_run,
        error=error,
        stopped=done.stopped,
        report_note=note,
        interrupted=done.interrupted,
        results=done.results,
        new_calendars=tuple(done.new_calendars),
        sheet_warnings=tuple(("", w) for w in (parts.facts.warnings if parts.facts else ())),
        warned_left_out=done.left.warned_valid,
        warnings_left_out=done.left.warnings,
        invalid_left_out=done.left.invalid,
    )


@contextlib.contextmanager
def _parts_and_ledger(
    request: RunRequest, *, read_only: bool
) -> Iterator[tuple[PreparedParts, Ledger | None, list[LedgerEntry], ReportWriter | None]]:
    """The file read once and checked whole, the ledger open (locked unless ``read_only``) and
    the cancellations decided, all before anything is sent; the report to write, if any."""
    if request.report_path is not None:
        check_report_path(request.report_path, source=request.source, ledger=request.ledger_path)
    parts = parts_of(request, sending=not read_only)
    with PartPool(request.workers) as pool:
        parts.check(pool)
    ledger = _open_ledger(request.ledger_path, read_only=read_only)
    report = None
    if request.report_path is not None:
        report = ReportWriter(request.report_path, request.report_copies)
    try:
        cancels = decide_cancels(parts, ledger, request.plan_options)
        yield parts, ledger, cancels, report
    except BaseException:
        if report is not None:
            report.abandon()
        raise
    finally:
        if ledger is not None:
            ledger.close()


def _plan_run(request: RunRequest, started: float) -> RunSummary:
    """A dry run: every part planned against the ledger (read only), nothing sent."""
    with _parts_and_ledger(request, read_only=True) as (parts, ledger, cancels, report):
        done = plan_parts(
            parts, ledger, request.plan_options, cancels, report, earlier=request.earlier
        )
    return _summary(request, done, report, started, parts)


def _send(
    request: RunRequest,
    parts: PreparedParts,
    ledger: Ledger | None,
    cancels: list[LedgerEntry],
    report: ReportWriter | None,
    progress: Progress | None,
    transport: httpx.AsyncBaseTransport | None,
) -> Coroutine[Any, Any, PartsDone]:
    """The sending of every part of ``request``'s file (:func:`send_parts`), to be awaited."""
    # Here, not above: the client and httpx are for a run that sends (validate starts ~0.1 s
    # sooner without them).
    from importer.part_sending import send_parts

    return send_parts(
        parts,
        ledger,
        request.plan_options,
        cancels,
        _client_config(request),
        progress=progress or NullProgress(),
        transport=transport,
        report=report,
        earlier=request.earlier,
    )


def run_import(
    request: RunRequest,
    *,
    progress: Progress | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> RunSummary:
    """Run one import: load, validate, map, plan against the ledger, send, write the report.

    The file is read a part at a time (:mod:`importer.streaming`), after a first read that checks
    it whole: nothing is sent from a file that cannot be read to its end. The report is written
    only when ``request.report_path`` is set; with ``dry_run`` nothing is sent and the results
    are the plan's. Raises ImporterError subclasses when nothing can be done (unreadable file,
    bad mapping, locked ledger, refused plan, missing credentials); row problems are in the
    summary, and so is a report that could not be written (``error`` set, ``report_path``
    None). A Ctrl-C (SIGINT) while sending stops the run: the ledger keeps what Apptoto
    confirmed, the report is written with the unanswered rows ``skipped``, and the summary says
    ``interrupted``. Before sending, Ctrl-C raises ``KeyboardInterrupt``: nothing was sent.
    Must be called from a thread without a running event loop.
    """
    started = time.monotonic()
    if request.dry_run:
        return _plan_run(request, started)
    with _parts_and_ledger(request, read_only=False) as (parts, ledger, cancels, report):
        # asyncio.run turns the first Ctrl-C into a cancellation of this coroutine, which
        # send_plan answers by settling what it has: the report below is still written.
        sending = _send(request, parts, ledger, cancels, report, progress, transport)
        done = asyncio.run(sending)
    return _summary(request, done, report, started, parts)


async def run_import_async(
    request: RunRequest,
    *,
    progress: Progress | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> RunSummary:
    """Run one import inside a running event loop; see :func:`run_import`.

    Loading and planning block the loop (they are CPU work). When the task is cancelled while
    sending, the ledger keeps what Apptoto confirmed and the report is written (unanswered rows
    ``skipped``) before ``asyncio.CancelledError`` propagates.
    """
    started = time.monotonic()
    if request.dry_run:
        return _plan_run(request, started)
    with _parts_and_ledger(request, read_only=False) as (parts, ledger, cancels, report):
        done = await _send(request, parts, ledger, cancels, report, progress, transport)
    summary = _summary(request, done, report, started, parts)
    if done.interrupted:
        raise asyncio.CancelledError("the import was cancelled; its report is written")
    return summary
