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
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from importer.calendars import with_new_calendars
from importer.client import ApptotoClient, ClientConfig
from importer.errors import ReportError
from importer.ledger import Ledger
from importer.mapping import Mapping
from importer.outcomes import PlanAction, RowResult, RowStatus, SkipReason
from importer.plan import Plan, PlanOptions, make_plan, same_as_row_message
from importer.prepare import Prepared, prepare
from importer.progress import NullProgress, Progress
from importer.report import check_report_path, not_replaced_note, write_report
from importer.send import SendOutcome, send_plan


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
    results: list[RowResult] = field(default_factory=list, repr=False)
    new_calendars: tuple[
        str, ...
    ] = ()  # calendars Apptoto creates for this run (importer.calendars)

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
        return sum(1 for r in self.results if r.warnings)

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


def count_statuses(results: Sequence[RowResult]) -> dict[str, int]:
    """Counts per status value, in a fixed order so summaries are easy to compare."""
    counter = Counter(str(r.status) for r in results)
    statuses = [s.value for s in RowStatus]
    actions = [a.value for a in PlanAction]
    # A plan reads in its own order: create, update, unchanged, invalid, fail, cancel.
    is_plan = any(isinstance(r.status, PlanAction) for r in results)
    order = actions + statuses if is_plan else statuses + actions
    return {status: counter[status] for status in order if counter[status]}


def with_warnings(results: Sequence[RowResult], plan: Plan) -> list[RowResult]:
    """``results`` with each row's warnings from the plan (a warning never changes a status)."""
    warned = {r.row: r.warnings for r in plan.rows if r.warnings}
    return [
        replace(r, warnings=warned[r.row]) if r.row is not None and r.row in warned else r
        for r in results
    ]


def plan_results(plan: Plan) -> list[RowResult]:
    """The report of a plan: the action each row would get, and the cancellations."""
    results = [
        RowResult(
            r.row, r.action, r.external_id, r.apptoto_id, r.message, r.reason, warnings=r.warnings
        )
        for r in plan.rows
    ]
    results += [
        RowResult(
            None,
            PlanAction.CANCEL,
            e.external_id,
            e.apptoto_id,
            "no longer in the file: would be deleted in Apptoto",
        )
        for e in plan.cancels
    ]
    return results


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
    ledger_path: Path | None = None  # None: no ledger (every row is sent, as create or update)
    plan_options: PlanOptions = field(default_factory=PlanOptions)
    dry_run: bool = False  # plan only (the ledger is read, not locked), send nothing
    max_rows: int | None = None  # refuse bigger files; default: the loader's cap
    source_name: str | None = None  # the file as the ledger and messages name it; default: source
    now: datetime | None = None  # the moment "in the past" is judged against; default: the present
    prepared: Prepared | None = None  # the sheet already read and checked; default: read source


def _prepare(request: RunRequest) -> Prepared:
    kwargs: dict[str, Any] = {"sheet": request.sheet, "now": request.now}
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
        plan = make_plan(prepared, ledger, request.plan_options)
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


def validate_rows(prepared: Prepared) -> list[RowResult]:
    """One result per row of a prepared file: ``invalid`` with its issues, else ``skipped``
    (valid, and nothing was sent)."""
    results = []
    for row in prepared.rows:
        external_id = prepared.events.external_ids.get(row, "")
        warnings = tuple(prepared.warnings.get(row, ()))
        if row in prepared.copies:
            message = same_as_row_message(prepared.copies[row])
            copy = RowResult(row, RowStatus.SKIPPED, external_id, None, message)
            results.append(replace(copy, reason=SkipReason.SAME_AS_ROW))
        elif row in prepared.set_aside:
            reason = prepared.set_aside[row]
            results.append(RowResult(row, RowStatus.NOT_APPOINTMENT, "", None, reason))
        elif row in prepared.issues:
            message = "; ".join(str(i) for i in prepared.issues[row])
            results.append(
                RowResult(row, RowStatus.INVALID, external_id, None, message, warnings=warnings)
            )
        else:
            message = "valid (validate sends nothing)"
            results.append(
                RowResult(row, RowStatus.SKIPPED, external_id, None, message, warnings=warnings)
            )
    return results


async def _send_with_client(
    prepared: Prepared,
    plan: Plan,
    config: ClientConfig,
    ledger: Ledger | None,
    progress: Progress | None,
    transport: httpx.AsyncBaseTransport | None,
) -> SendOutcome:
    async with ApptotoClient(config, transport=transport) as client:
        return await send_plan(prepared, plan, client, ledger, progress or NullProgress())


def _finish(
    request: RunRequest, prepared: Prepared, plan: Plan, outcome: SendOutcome, started: float
) -> RunSummary:
    """Write the report (when asked for one) and sum the run up."""
    report_path = None if request.report_path is None else str(request.report_path)
    error, note = outcome.error, ""
    results = with_warnings(outcome.results, plan)
    if request.report_path is not None:
        try:
            written = write_report(request.report_path, prepared.source, results)
            report_path, note = str(written), not_replaced_note(written, report_path)
        except ReportError as exc:
            # Rows were sent and the ledger knows them: say what happened rather than raise.
            report_path = None
            error = "; ".join(part for part in (error, str(exc)) if part)
    return RunSummary(
        mapping=request.mapping.name,
        file=str(request.source),
        counts=count_statuses(outcome.results),
        duration_seconds=time.monotonic() - started,
        report_path=report_path,
        dry_run=request.dry_run,
        error=error,
        stopped=outcome.stopped,
        report_note=note,
        interrupted=outcome.interrupted,
        results=results,
        new_calendars=plan.new_calendars,
    )


def _finish_plan(request: RunRequest, started: float) -> RunSummary:
    """A dry run: :func:`plan_import`, its results reported as a run's."""
    planned = plan_import(request)
    return _finish(request, planned.prepared, planned.plan, SendOutcome(planned.results()), started)


def run_import(
    request: RunRequest,
    *,
    progress: Progress | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> RunSummary:
    """Run one import: load, validate, map, plan against the ledger, send, write the report.

    The report is written only when ``request.report_path`` is set; with ``dry_run`` nothing is
    sent and the results are the plan's. Raises ImporterError subclasses when nothing can be done
    (unreadable file, bad mapping, locked ledger, refused plan, missing credentials); row problems
    are in the summary, and so is a report that could not be written (``error`` set,
    ``report_path`` None). A Ctrl-C (SIGINT) while sending stops the run: the ledger keeps what
    Apptoto confirmed, the report is written with the unanswered rows ``skipped``, and the summary
    says ``interrupted``. Before sending, Ctrl-C raises ``KeyboardInterrupt``: nothing was sent.
    Must be called from a thread without a running event loop.
    """
    started = time.monotonic()
    if request.dry_run:
        return _finish_plan(request, started)
    with _planned(request, read_only=False) as (prepared, plan, ledger):
        # asyncio.run turns the first Ctrl-C into a cancellation of this coroutine, which
        # send_plan answers by settling what it has: the report below is still written.
        outcome = asyncio.run(
            _send_with_client(prepared, plan, _client_config(request), ledger, progress, transport)
        )
    return _finish(request, prepared, plan, outcome, started)


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
        return _finish_plan(request, started)
    with _planned(request, read_only=False) as (prepared, plan, ledger):
        outcome = await _send_with_client(
            prepared, plan, _client_config(request), ledger, progress, transport
        )
    summary = _finish(request, prepared, plan, outcome, started)
    if outcome.interrupted:
        raise asyncio.CancelledError("the import was cancelled; its report is written")
    return summary
