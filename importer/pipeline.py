"""The main job: prepare -> plan -> send -> report, with a summary that tells the truth.

``run_import`` is what the CLI and the web page call. It never prints; it takes a progress
callback and returns a :class:`RunSummary`. The ledger is updated per batch, only for what Apptoto
confirmed, so a run killed at any moment can simply be run again.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from importer.client import ApptotoClient, ClientConfig, EventResult
from importer.errors import CredentialsRefused
from importer.ledger import Ledger, LedgerEntry
from importer.mapping import Mapping
from importer.outcomes import PlanAction, RowResult, RowStatus
from importer.plan import Plan, PlanOptions, make_plan
from importer.prepare import Prepared, prepare
from importer.progress import NullProgress, Progress
from importer.report import write_report

DEFAULT_REPORT_DIR = "reports"
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
    exit_code: int  # 0 every row succeeded, 1 some rows invalid or failed, 2 nothing could be done
    error: str = ""  # why the run stopped early, when it did
    results: list[RowResult] = field(default_factory=list, repr=False)

    def line(self) -> str:
        """One line for people: ``12 created, 3 invalid in 4.2 s; report: reports/x.csv``."""
        counts = ", ".join(f"{n} {status}" for status, n in self.counts.items() if n) or "no rows"
        what = "plan (nothing sent)" if self.dry_run else "done"
        text = f"{what}: {counts} in {self.duration_seconds:.1f} s"
        if self.report_path:
            text += f"; report: {self.report_path}"
        return text

    def to_json(self) -> dict[str, Any]:
        """The summary for monitoring (``--summary-json``)."""
        return {
            "mapping": self.mapping,
            "file": self.file,
            "counts": self.counts,
            "duration_seconds": round(self.duration_seconds, 3),
            "report_path": self.report_path,
            "dry_run": self.dry_run,
            "exit_code": self.exit_code,
            "error": self.error,
        }


def default_report_path(source: str | Path) -> Path:
    """``reports/<file name>-report.csv`` in the working directory."""
    return Path(DEFAULT_REPORT_DIR) / f"{Path(source).stem}-report.csv"


def exit_code_for(results: Sequence[RowResult]) -> int:
    """0 when every row succeeded (or needs nothing), else 1."""
    return 0 if all(r.status in _OK_STATUSES for r in results) else 1


def count_statuses(results: Sequence[RowResult]) -> dict[str, int]:
    """Counts per status value, in a fixed order so summaries are easy to compare."""
    counter = Counter(str(r.status) for r in results)
    order = [s.value for s in RowStatus] + [a.value for a in PlanAction]
    return {status: counter[status] for status in order if counter[status]}


def plan_results(prepared: Prepared, plan: Plan) -> list[RowResult]:
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


def _same_instant(sent: str, stored: Any) -> bool:
    if not isinstance(stored, str) or not stored:
        return True  # nothing to compare with
    try:
        return datetime.fromisoformat(sent) == datetime.fromisoformat(stored)
    except ValueError:
        return False


class _Sender:
    """Sends a plan's rows and cancellations, recording what Apptoto confirmed as it goes."""

    def __init__(
        self,
        prepared: Prepared,
        plan: Plan,
        client: ApptotoClient,
        ledger: Ledger | None,
        progress: Progress,
    ) -> None:
        self.prepared = prepared
        self.plan = plan
        self.client = client
        self.ledger = ledger
        self.progress = progress
        self.results: dict[int, RowResult] = {}
        self.cancelled: list[RowResult] = []
        self.by_external_id = {r.external_id: r for r in plan.to_send}
        for r in plan.rows:
            if r.action is PlanAction.INVALID:
                self.results[r.row] = RowResult(
                    r.row, RowStatus.INVALID, r.external_id, None, r.message
                )
            elif r.action is PlanAction.UNCHANGED:
                self.results[r.row] = RowResult(
                    r.row,
                    RowStatus.UNCHANGED,
                    r.external_id,
                    r.apptoto_id,
                    "unchanged since the last run",
                )
            elif r.action is PlanAction.FAIL:
                self.results[r.row] = RowResult(
                    r.row, RowStatus.FAILED, r.external_id, r.apptoto_id, r.message
                )

    def _now(self) -> str:
        return datetime.now(UTC).isoformat(timespec="seconds")

    def _settle(self, batch: Sequence[EventResult]) -> None:
        """Turn one batch's answers into row results and ledger entries (one transaction)."""
        entries: list[LedgerEntry] = []
        for answer in batch:
            planned = self.by_external_id[answer.external_id]
            status = RowStatus.UPDATED if planned.action is PlanAction.UPDATE else RowStatus.CREATED
            payload = planned.payload or {}
            if not answer.ok:
                self.results[planned.row] = RowResult(
                    planned.row,
                    RowStatus.FAILED,
                    planned.external_id,
                    planned.apptoto_id,
                    answer.message,
                )
                continue
            stored = answer.stored or {}
            sent_start = str(payload.get("start_time", ""))
            if not _same_instant(sent_start, stored.get("start_time")):
                self.results[planned.row] = RowResult(
                    planned.row,
                    RowStatus.FAILED,
                    planned.external_id,
                    answer.apptoto_id,
                    f"Apptoto kept start {stored.get('start_time')} instead of {sent_start}: "
                    "check this appointment in Apptoto",
                )
                continue
            message = planned.message if planned.recreate_from else ""
            self.results[planned.row] = RowResult(
                planned.row, status, planned.external_id, answer.apptoto_id, message
            )
            entries.append(
                LedgerEntry(
                    mapping=self.prepared.mapping.name,
                    external_id=planned.external_id,
                    apptoto_id=answer.apptoto_id,
                    calendar=str(payload.get("calendar", payload.get("calendar_id", ""))),
                    payload_hash=planned.payload_hash,
                    status=status.value,
                    updated_at=self._now(),
                    source_file=self.prepared.sheet.file,
                    source_row=planned.row,
                    payload={k: v for k, v in payload.items() if k != "id"},
                )
            )
        if self.ledger is not None and entries:
            self.ledger.record(entries)
        self.progress.advance(len(batch))

    async def _recreate_moves(self) -> None:
        """Delete the old event of rows whose calendar changed (--recreate-on-calendar-change)."""
        for planned in self.plan.to_send:
            if planned.recreate_from is None:
                continue
            answer = await self.client.delete_event(apptoto_id=planned.recreate_from)
            if not answer.ok:
                self.results[planned.row] = RowResult(
                    planned.row,
                    RowStatus.FAILED,
                    planned.external_id,
                    planned.recreate_from,
                    f"could not delete the event in the old calendar: {answer.message}",
                )
                del self.by_external_id[planned.external_id]

    async def _cancel(self, entry: LedgerEntry) -> None:
        if entry.apptoto_id is not None:
            answer = await self.client.delete_event(apptoto_id=entry.apptoto_id)
        else:
            answer = await self.client.delete_event(external_id=entry.external_id)
        if answer.ok:
            if self.ledger is not None:
                self.ledger.mark_deleted(entry.mapping, [entry.external_id])
            self.cancelled.append(
                RowResult(
                    None,
                    RowStatus.CANCELLED,
                    entry.external_id,
                    entry.apptoto_id,
                    "no longer in the file: deleted in Apptoto, its reminders stopped",
                )
            )
        else:
            self.cancelled.append(
                RowResult(
                    None,
                    RowStatus.FAILED,
                    entry.external_id,
                    entry.apptoto_id,
                    f"no longer in the file, but could not be deleted: {answer.message}",
                )
            )
        self.progress.advance(1)

    async def send(self) -> None:
        """Send everything the plan says; results accumulate in ``self.results``."""
        self.progress.start(len(self.plan.to_send) + len(self.plan.cancels), "sending")
        try:
            await self._recreate_moves()
            payloads = [
                r.payload for r in self.plan.to_send if r.external_id in self.by_external_id
            ]
            if payloads:
                await self.client.send_events(
                    [p for p in payloads if p is not None], on_batch=self._settle
                )
            await asyncio.gather(*(self._cancel(e) for e in self.plan.cancels))
        finally:
            self.progress.finish()

    def final_results(self, reason: str) -> list[RowResult]:
        """One result per row in sheet order; rows never answered are ``skipped``."""
        out = []
        for planned in self.plan.rows:
            out.append(
                self.results.get(planned.row)
                or RowResult(
                    planned.row, RowStatus.SKIPPED, planned.external_id, planned.apptoto_id, reason
                )
            )
        return out + self.cancelled


async def send_plan(
    prepared: Prepared,
    plan: Plan,
    client: ApptotoClient,
    ledger: Ledger | None,
    progress: Progress | None = None,
) -> tuple[list[RowResult], str]:
    """Send a plan; returns one result per row (and per cancellation), and why it stopped early.

    Credentials refused mid-run stop the run: rows not yet answered are ``skipped``, and the
    reason is returned (the caller exits 2). Interruption (Ctrl-C, SIGTERM) propagates as
    ``asyncio.CancelledError`` after the ledger holds everything Apptoto confirmed.
    """
    sender = _Sender(prepared, plan, client, ledger, progress or NullProgress())
    try:
        await sender.send()
    except CredentialsRefused as exc:
        return sender.final_results(f"not sent: {exc}"), str(exc)
    return sender.final_results("not sent: Apptoto gave no answer for this row"), ""


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


async def run_import_async(
    request: RunRequest,
    *,
    progress: Progress | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> RunSummary:
    """Run one import end to end and write its report; see :func:`run_import`."""
    started = time.monotonic()
    kwargs: dict[str, Any] = {"sheet": request.sheet}
    if request.max_rows is not None:
        kwargs["max_rows"] = request.max_rows
    prepared = prepare(request.source, request.mapping, **kwargs)
    report_path = request.report_path or default_report_path(request.source)
    ledger = Ledger.open(request.ledger_path) if request.ledger_path is not None else None
    error = ""
    try:
        plan = make_plan(prepared, ledger, request.plan_options)
        if request.dry_run:
            results = plan_results(prepared, plan)
        else:
            if request.client_config is None:
                raise ValueError("a run that sends needs a client configuration")
            async with ApptotoClient(request.client_config, transport=transport) as client:
                results, error = await send_plan(prepared, plan, client, ledger, progress)
    finally:
        if ledger is not None:
            ledger.close()
    write_report(report_path, prepared.source, results)
    return RunSummary(
        mapping=request.mapping.name,
        file=str(request.source),
        counts=count_statuses(results),
        duration_seconds=time.monotonic() - started,
        report_path=str(report_path),
        dry_run=request.dry_run,
        exit_code=2 if error else exit_code_for(results),
        error=error,
        results=results,
    )


def run_import(
    request: RunRequest,
    *,
    progress: Progress | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> RunSummary:
    """Run one import: load, validate, map, plan against the ledger, send, write the report.

    Raises ImporterError subclasses when nothing can be done (unreadable file, bad mapping,
    locked ledger, refused plan, missing credentials); row problems are in the summary.
    """
    return asyncio.run(run_import_async(request, progress=progress, transport=transport))
