"""The main job: prepare -> plan -> send -> report, with a summary that tells the truth.

``run_import`` is what the CLI and the web page call. It never prints; it takes a progress
callback and returns a :class:`RunSummary`. The ledger is updated per batch, only for what Apptoto
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
from pathlib import Path
from typing import Any

import httpx

from importer.client import ApptotoClient, ClientConfig
from importer.errors import ReportError
from importer.ledger import Ledger
from importer.mapping import Mapping
from importer.outcomes import PlanAction, RowResult, RowStatus
from importer.plan import Plan, PlanOptions, make_plan
from importer.prepare import Prepared, prepare
from importer.progress import NullProgress, Progress
from importer.report import write_report
from importer.send import SendOutcome, send_plan

DEFAULT_REPORT_DIR = "reports"
EXIT_OK, EXIT_ROWS, EXIT_NOTHING, EXIT_INTERRUPTED = 0, 1, 2, 130
_OK_STATUSES = {
    RowStatus.CREATED,
    RowStatus.UPDATED,
    RowStatus.UNCHANGED,
    RowStatus.CANCELLED,
    PlanAction.CREATE,
    PlanAction.UPDATE,
    PlanAction.UNCHANGED,
    PlanAction.CANCEL,
}


@dataclass(frozen=True)
class RunSummary:
    """Counts per status, time taken, report path and exit code of one run."""

    mapping: str
    file: str
    counts: dict[str, int]
    duration_seconds: float
    report_path: str | None
    dry_run: bool
    # 0 every row succeeded, 1 some rows invalid or failed, 2 nothing could be done,
    # 130 interrupted (Ctrl-C, SIGTERM)
    exit_code: int
    error: str = ""  # why the run stopped early, when it did
    interrupted: bool = False  # stopped by Ctrl-C or SIGTERM; rows not answered are skipped
    results: list[RowResult] = field(default_factory=list, repr=False)

    def line(self) -> str:
        """One line for people: ``12 created, 3 invalid in 4.2 s; report: reports/x.csv``."""
        counts = ", ".join(f"{n} {status}" for status, n in self.counts.items() if n) or "no rows"
        what = "plan (nothing sent)" if self.dry_run else "done"
        if self.interrupted:
            what = "interrupted"
        text = f"{what}: {counts} in {self.duration_seconds:.1f} s"
        if self.report_path:
            text += f"; report: {self.report_path}"
        return text

    def to_json(self) -> dict[str, Any]:
        """The summary for monitoring (``--summary-json``): the same keys whatever happened."""
        return {
            "mapping": self.mapping,
            "file": self.file,
            "counts": self.counts,
            "duration_seconds": round(self.duration_seconds, 3),
            "report_path": self.report_path,
            "dry_run": self.dry_run,
            "exit_code": self.exit_code,
            "error": self.error,
            "interrupted": self.interrupted,
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
    """The summary of a run that stopped before any row had a result (exit 2, or 130)."""
    return RunSummary(
        mapping=mapping,
        file=str(file),
        counts={},
        duration_seconds=duration_seconds,
        report_path=None,
        dry_run=dry_run,
        exit_code=EXIT_INTERRUPTED if interrupted else EXIT_NOTHING,
        error=error,
        interrupted=interrupted,
    )


def default_report_path(source: str | Path) -> Path:
    """``reports/<file name>-report.csv`` in the working directory."""
    return Path(DEFAULT_REPORT_DIR) / f"{Path(source).stem}-report.csv"


def exit_code_for(results: Sequence[RowResult]) -> int:
    """0 when every row succeeded (or needs nothing), else 1."""
    return EXIT_OK if all(r.status in _OK_STATUSES for r in results) else EXIT_ROWS


def count_statuses(results: Sequence[RowResult]) -> dict[str, int]:
    """Counts per status value, in a fixed order so summaries are easy to compare."""
    counter = Counter(str(r.status) for r in results)
    statuses = [s.value for s in RowStatus]
    actions = [a.value for a in PlanAction]
    # A plan reads in its own order: create, update, unchanged, invalid, fail, cancel.
    is_plan = any(isinstance(r.status, PlanAction) for r in results)
    order = actions + statuses if is_plan else statuses + actions
    return {status: counter[status] for status in order if counter[status]}


def plan_results(plan: Plan) -> list[RowResult]:
    """The report of a plan: the action each row would get, and the cancellations."""
    results = [
        RowResult(r.row, r.action, r.external_id, r.apptoto_id, r.message) for r in plan.rows
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
    sheet: str | None = None  # default: the mapping's sheet, else the first
    report_path: Path | None = None  # default: reports/<file name>-report.csv
    ledger_path: Path | None = None  # None: no ledger (every row is sent, as create or update)
    plan_options: PlanOptions = field(default_factory=PlanOptions)
    dry_run: bool = False  # write the plan's report, send nothing
    max_rows: int | None = None  # refuse bigger files; default: the loader's cap
    source_name: str | None = None  # the file as the ledger and messages name it; default: source


def _prepare(request: RunRequest) -> Prepared:
    kwargs: dict[str, Any] = {"sheet": request.sheet}
    if request.max_rows is not None:
        kwargs["max_rows"] = request.max_rows
    prepared = prepare(request.source, request.mapping, **kwargs)
    if request.source_name is None:
        return prepared
    # A web upload lives in a private temporary file: the ledger keeps the name it was sent as.
    return replace(prepared, sheet=replace(prepared.sheet, file=request.source_name))


def _open_ledger(request: RunRequest) -> Ledger | None:
    if request.ledger_path is None:
        return None
    if not request.dry_run:
        return Ledger.open(request.ledger_path)
    if not request.ledger_path.exists():
        return None  # a plan leaves no state file behind; with none, every row is a create
    # A plan only reads: no lock, so it works beside a run that holds the ledger.
    return Ledger.open_read_only(request.ledger_path)


def _client_config(request: RunRequest) -> ClientConfig:
    if request.client_config is None:
        raise ValueError("a run that sends needs a client configuration")
    return request.client_config


@contextlib.contextmanager
def _planned(request: RunRequest) -> Iterator[tuple[Prepared, Plan, Ledger | None]]:
    """Prepare the file and plan it against the ledger, which stays open (locked) until exit."""
    prepared = _prepare(request)
    ledger = _open_ledger(request)
    try:
        yield prepared, make_plan(prepared, ledger, request.plan_options), ledger
    finally:
        if ledger is not None:
            ledger.close()


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
    request: RunRequest, prepared: Prepared, outcome: SendOutcome, started: float
) -> RunSummary:
    """Write the report and sum the run up."""
    target = request.report_path or default_report_path(request.source)
    report_path: str | None = str(target)
    error = outcome.error
    try:
        write_report(target, prepared.source, outcome.results)
    except ReportError as exc:
        # Rows were sent and the ledger knows them: say what happened rather than raise.
        report_path = None
        error = "; ".join(part for part in (error, str(exc)) if part)
    if outcome.interrupted:
        exit_code = EXIT_INTERRUPTED
    elif error:
        exit_code = EXIT_NOTHING
    else:
        exit_code = exit_code_for(outcome.results)
    return RunSummary(
        mapping=request.mapping.name,
        file=str(request.source),
        counts=count_statuses(outcome.results),
        duration_seconds=time.monotonic() - started,
        report_path=report_path,
        dry_run=request.dry_run,
        exit_code=exit_code,
        error=error,
        interrupted=outcome.interrupted,
        results=outcome.results,
    )


def run_import(
    request: RunRequest,
    *,
    progress: Progress | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> RunSummary:
    """Run one import: load, validate, map, plan against the ledger, send, write the report.

    Raises ImporterError subclasses when nothing can be done (unreadable file, bad mapping,
    locked ledger, refused plan, missing credentials); row problems are in the summary, and so
    is a report that could not be written (``error``, exit code 2, ``report_path`` None). A
    Ctrl-C (SIGINT) while sending stops the run: the ledger keeps what Apptoto confirmed, the
    report is written with the unanswered rows ``skipped``, and the summary says ``interrupted``
    (exit code 130). Before sending, Ctrl-C raises ``KeyboardInterrupt``: nothing was sent.
    Must be called from a thread without a running event loop.
    """
    started = time.monotonic()
    with _planned(request) as (prepared, plan, ledger):
        if request.dry_run:
            outcome = SendOutcome(plan_results(plan))
        else:
            # asyncio.run turns the first Ctrl-C into a cancellation of this coroutine, which
            # send_plan answers by settling what it has: the report below is still written.
            outcome = asyncio.run(
                _send_with_client(
                    prepared, plan, _client_config(request), ledger, progress, transport
                )
            )
    return _finish(request, prepared, outcome, started)


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
    with _planned(request) as (prepared, plan, ledger):
        if request.dry_run:
            outcome = SendOutcome(plan_results(plan))
        else:
            outcome = await _send_with_client(
                prepared, plan, _client_config(request), ledger, progress, transport
            )
    summary = _finish(request, prepared, outcome, started)
    if outcome.interrupted:
        raise asyncio.CancelledError("the import was cancelled; its report is written")
    return summary
