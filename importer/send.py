"""Send a plan: calendar moves, batches of creates and updates, then cancellations.

The ledger learns, one transaction per batch, exactly what Apptoto confirmed, and nothing else:
a run stopped at any moment (``kill -9``, Ctrl-C, a power cut) leaves a ledger that the next run
can trust. Rows sent but not confirmed are sent again next time, as updates by ``external_id``.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from importer.client import ApptotoClient, EventResult
from importer.client.matching import same_start
from importer.errors import CredentialsRefused, LedgerError
from importer.ledger import Ledger, LedgerEntry, payload_hash, utc_now
from importer.outcomes import PlanAction, RowResult, RowStatus
from importer.plan import Plan, PlannedRow, calendar_of
from importer.prepare import Prepared
from importer.progress import Progress

INTERRUPTED_REASON = "not sent: the run was interrupted; run the same command again to finish"
NO_ANSWER_REASON = "not sent: Apptoto gave no answer for this row"
IN_FLIGHT_REASON = (
    "not confirmed: sent, but the run was interrupted before Apptoto answered, so it may be in "
    "Apptoto; run the same command again to finish: it is then sent as an update, never twice"
)
CANCEL_IN_FLIGHT_REASON = (
    "not confirmed: no longer in the file, and the request to delete it went out, but the run "
    "was interrupted before Apptoto answered, so it may be deleted already; run the same "
    "command again to finish"
)
LEDGER_STOP_REASON = (
    "not confirmed: the run stopped because its state file could not be written ({problem}); "
    "make room and run the same command again: this row is then sent as an update, never twice"
)


# Rows not sent, whose result is what the plan says.
_KEPT_AS_PLANNED = {
    PlanAction.INVALID: RowStatus.INVALID,
    PlanAction.UNCHANGED: RowStatus.UNCHANGED,
    PlanAction.FAIL: RowStatus.FAILED,
    PlanAction.SKIP: RowStatus.SKIPPED,
    PlanAction.NOT_APPOINTMENT: RowStatus.NOT_APPOINTMENT,
}


@dataclass(frozen=True)
class SendOutcome:
    """One result per row (and per cancellation), and why the sending stopped early, if it did."""

    results: list[RowResult]
    error: str = ""  # credentials refused mid-run: the run stops (exit 2)
    interrupted: bool = False  # cancelled (Ctrl-C, SIGTERM); unanswered rows skipped or failed
    stopped: str = ""  # the ledger could not be written mid-run: unconfirmed rows are failed


def answer_problem(payload: Mapping[str, Any], stored: Mapping[str, Any]) -> str | None:
    """Why Apptoto's stored event is not what was sent (deleted, another calendar, another
    start), in plain words; None when it is. Times compare as instants (an answer without an
    offset is read as the sent local time), an all-day event's date alone as a date.
    """
    if stored.get("is_deleted") is True:
        return (
            "Apptoto answered with this event deleted, so it sends no reminders for it: "
            "check this appointment in Apptoto"
        )
    sent_calendar = payload.get("calendar")
    stored_calendar = stored.get("calendar_name")
    if sent_calendar is not None and stored_calendar not in (None, sent_calendar):
        return (
            f"Apptoto answered with this event in calendar {stored_calendar!r}, not "
            f"{sent_calendar!r}: check this appointment in Apptoto"
        )
    sent_id, stored_id = payload.get("calendar_id"), stored.get("calendar_id")
    if sent_id is not None and stored_id is not None and str(sent_id) != str(stored_id):
        return (
            f"Apptoto answered with this event in calendar {stored_id}, not {sent_id}: "
            "check this appointment in Apptoto"
        )
    sent_start = str(payload.get("start_time", ""))
    if not same_start(sent_start, stored.get("start_time")):
        return (
            f"Apptoto kept start {stored.get('start_time')} instead of {sent_start}: "
            "check this appointment in Apptoto"
        )
    return None


async def _all_or_first_error(coroutines: Sequence[Coroutine[Any, Any, None]]) -> None:
    """Run ``coroutines`` together; on the first error (or a cancellation) cancel the rest."""
    tasks = [asyncio.ensure_future(coroutine) for coroutine in coroutines]
    try:
        for task in asyncio.as_completed(tasks):
            await task
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


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
        self.results = _planned_results(plan)
        self.cancelled: dict[str, RowResult] = {}
        self.by_external_id = {r.external_id: r for r in plan.to_send}
        self.sending: set[str] = set()  # external_ids of every request that went out
        self.cancelling: set[str] = set()  # external_ids of every cancellation that went out

    def _settle(self, batch: Sequence[EventResult]) -> None:
        """Turn one batch's answers into row results and ledger entries (one transaction)."""
        entries: list[LedgerEntry] = []
        for answer in batch:
            planned = self.by_external_id[answer.external_id]
            result, entry = self._judge(planned, answer)
            self.results[planned.row] = result
            if entry is not None:
                entries.append(entry)
        if self.ledger is not None and entries:
            self.ledger.record(entries)
        self.progress.advance(len(batch))

    def _judge(
        self, planned: PlannedRow, answer: EventResult
    ) -> tuple[RowResult, LedgerEntry | None]:
        """The row's result and, when Apptoto confirmed what was sent, its ledger entry."""
        payload = planned.payload or {}
        if not answer.ok:
            failed = RowResult(
                planned.row,
                RowStatus.FAILED,
                planned.external_id,
                planned.apptoto_id,
                answer.message,
            )
            return failed, None
        problem = answer_problem(payload, answer.stored or {})
        if problem is not None:
            # Not recorded: the next run sends the row again instead of trusting this answer.
            mismatch = RowResult(
                planned.row, RowStatus.FAILED, planned.external_id, answer.apptoto_id, problem
            )
            return mismatch, None
        status = RowStatus.UPDATED if planned.action is PlanAction.UPDATE else RowStatus.CREATED
        # Stored, but Apptoto did not say under which id: the row says so (and the ledger
        # keeps it, so the next run updates it by external_id instead of sending it blindly).
        unnamed = answer.message if answer.apptoto_id is None else ""
        message = "; ".join(part for part in (planned.message, unnamed) if part)
        result = RowResult(planned.row, status, planned.external_id, answer.apptoto_id, message)
        entry = LedgerEntry(
            mapping=self.prepared.mapping.scope,
            external_id=planned.external_id,
            apptoto_id=answer.apptoto_id,
            calendar=calendar_of(payload),
            payload_hash=planned.payload_hash or payload_hash(payload),  # "": a new row
            status=status.value,
            updated_at=utc_now(),
            source_file=self.prepared.sheet.file,
            source_row=planned.row,
            payload={k: v for k, v in payload.items() if k != "id"},
        )
        return result, entry

    async def _delete_old_event(self, planned: PlannedRow) -> None:
        """Delete the event a row's calendar change leaves behind (--recreate-on-calendar-change).

        The row is then sent without an id: Apptoto matches external_ids to live events only,
        so it creates the event anew in the new calendar.
        """
        old = planned.recreate_from
        if old is None:
            return
        # Once the DELETE goes out, the old event may be gone: the row is then not "not sent".
        answer = await self._delete(old, functools.partial(self.sending.add, planned.external_id))
        if not answer.ok:
            self.results[planned.row] = RowResult(
                planned.row,
                RowStatus.FAILED,
                planned.external_id,
                old.apptoto_id,
                f"could not delete the event in the old calendar {old.calendar!r}: "
                f"{answer.message}",
            )
            del self.by_external_id[planned.external_id]

    async def _delete(self, event: LedgerEntry, went_out: Callable[[], None]) -> EventResult:
        """DELETE ``event`` by its Apptoto id, else its external_id; ``went_out`` is called as
        each try goes out (a run stopped then cannot say it was not deleted)."""
        if event.apptoto_id is not None:
            return await self.client.delete_event(apptoto_id=event.apptoto_id, on_sending=went_out)
        return await self.client.delete_event(external_id=event.external_id, on_sending=went_out)

    async def _cancel(self, entry: LedgerEntry) -> None:
        went_out = functools.partial(self.cancelling.add, entry.external_id)
        answer = await self._delete(entry, went_out)
        if answer.ok:
            if self.ledger is not None:
                self.ledger.mark_deleted(entry.mapping, [entry.external_id])
            result = RowResult(
                None,
                RowStatus.CANCELLED,
                entry.external_id,
                entry.apptoto_id,
                f"{self.plan.why_cancelled(entry)}: deleted in Apptoto, its reminders stopped",
            )
        else:
            result = RowResult(
                None,
                RowStatus.FAILED,
                entry.external_id,
                entry.apptoto_id,
                f"{self.plan.why_cancelled(entry)}, but could not be deleted: {answer.message}",
            )
        self.cancelled[entry.external_id] = result
        self.progress.advance(1)

    async def send(self) -> None:
        """Send everything the plan says; results accumulate in ``self.results``."""
        moves = [r for r in self.plan.to_send if r.recreate_from is not None]
        self.progress.start(len(self.plan.to_send) + len(self.plan.cancels), "sending")
        try:
            await _all_or_first_error([self._delete_old_event(r) for r in moves])
            payloads = [
                r.payload
                for r in self.plan.to_send
                if r.external_id in self.by_external_id and r.payload is not None
            ]
            if payloads:
                await self.client.send_events(
                    payloads, on_batch=self._settle, on_sending=self.sending.update
                )
            await _all_or_first_error([self._cancel(e) for e in self.plan.cancels])
        finally:
            self.progress.finish()

    def final_results(
        self, reason: str, unanswered: RowStatus = RowStatus.SKIPPED
    ) -> list[RowResult]:
        """One result per row in sheet order, then the cancellations; unanswered: ``unanswered``
        (``skipped``: surely not sent; ``failed``: perhaps sent, not confirmed)."""
        return _results(self.plan, self.results, self.cancelled, reason, unanswered)

    def interrupted_results(self) -> list[RowResult]:
        """:meth:`final_results` of a run stopped (Ctrl-C, SIGTERM): a row or cancellation whose
        request went out unanswered is ``failed`` (perhaps done in Apptoto), one never sent
        ``skipped``."""
        return [self._in_flight(r) for r in self.final_results(INTERRUPTED_REASON)]

    def _in_flight(self, result: RowResult) -> RowResult:
        """``result`` of an interrupted run, ``failed`` if its request went out unanswered."""
        if result.status is not RowStatus.SKIPPED:
            return result
        if result.row is None:
            went_out, reason = result.external_id in self.cancelling, CANCEL_IN_FLIGHT_REASON
        else:
            went_out, reason = result.external_id in self.sending, IN_FLIGHT_REASON
        if not went_out:
            return result
        return RowResult(
            result.row, RowStatus.FAILED, result.external_id, result.apptoto_id, reason
        )


def _planned_results(plan: Plan) -> dict[int, RowResult]:
    """row -> result of the rows a plan does not send: what the plan says of them."""
    results = {}
    for r in plan.rows:
        status = _KEPT_AS_PLANNED.get(r.action)
        if status is not None:
            message = r.message or "unchanged since the last run"
            results[r.row] = RowResult(
                r.row, status, r.external_id, r.apptoto_id, message, r.reason
            )
    return results


def _results(
    plan: Plan,
    answered: dict[int, RowResult],
    cancelled: dict[str, RowResult],
    reason: str,
    unanswered: RowStatus,
) -> list[RowResult]:
    out = [
        answered.get(planned.row)
        or RowResult(planned.row, unanswered, planned.external_id, planned.apptoto_id, reason)
        for planned in plan.rows
    ]
    for entry in plan.cancels:
        out.append(
            cancelled.get(entry.external_id)
            or RowResult(
                None,
                unanswered,
                entry.external_id,
                entry.apptoto_id,
                reason.replace("not sent", "not cancelled"),
            )
        )
    return out


async def send_plan(
    prepared: Prepared,
    plan: Plan,
    client: ApptotoClient,
    ledger: Ledger | None,
    progress: Progress,
) -> SendOutcome:
    """Send a plan; one result per row (and per cancellation), in sheet order.

    Credentials refused mid-run stop the run: rows not yet answered are ``skipped`` and the
    outcome carries the reason (the caller exits 2). A cancellation (Ctrl-C, SIGTERM) is
    answered the same way with ``interrupted`` set (but rows whose request went out unanswered
    are ``failed``: they may be in Apptoto), and NOT re-raised: the caller decides
    (``run_import_async`` re-raises it after writing the report). Either way the ledger
    already holds everything Apptoto confirmed. A ledger that cannot be written mid-run (a full
    disk) stops the sending too: rows Apptoto confirmed keep their status, the others are
    ``failed`` (some may have reached Apptoto), and ``stopped`` says why.
    """
    sender = _Sender(prepared, plan, client, ledger, progress)
    try:
        await sender.send()
    except CredentialsRefused as exc:
        return SendOutcome(sender.final_results(f"not sent: {exc}"), error=str(exc))
    except LedgerError as exc:
        reason = LEDGER_STOP_REASON.format(problem=exc)
        results = sender.final_results(reason, RowStatus.FAILED)
        return SendOutcome(results, stopped=f"the state file could not be written: {exc}")
    except asyncio.CancelledError:
        return SendOutcome(sender.interrupted_results(), interrupted=True)
    return SendOutcome(sender.final_results(NO_ANSWER_REASON))


def unsent_results(
    plan: Plan, reason: str, unanswered: RowStatus = RowStatus.SKIPPED
) -> list[RowResult]:
    """The results of a plan that is not sent (the run stopped before it): one per row, the
    rows it would send ``unanswered`` with ``reason``, the others as planned."""
    return _results(plan, _planned_results(plan), {}, reason, unanswered)
