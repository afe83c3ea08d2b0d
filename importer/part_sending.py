"""A big file sent a part at a time (:func:`send_parts`), each part recorded in the ledger and
the report before the next is read; see :mod:`importer.streaming`.

Rows that would end a part's sending in a batch not full wait for the next part's first batch,
so a file in parts costs the requests of a whole one (at most :data:`MOST_WAITING` parts wait,
their rows known to the next part's same-appointment guard). A stop (credentials refused,
Ctrl-C, a ledger that cannot be written) ends the run fast: the later parts' rows are listed as
not sent, without being checked or mapped.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import httpx
import pandas as pd

from importer.client import ApptotoClient, ClientConfig
from importer.file_facts import PreparedParts
from importer.guard import EarlierRows
from importer.ledger import Ledger, LedgerEntry
from importer.outcomes import RowResult, RowStatus
from importer.parts_done import PartsDone
from importer.plan import Plan, PlannedRow, PlanOptions
from importer.progress import Progress
from importer.report import ReportWriter
from importer.send import INTERRUPTED_REASON, SendOutcome, send_plan, unsent_results
from importer.streaming import (
    events_gone,
    ids_renamed,
    no_record_for,
    part_lines,
    payloads_sent,
    plan_part,
    with_last,
    with_warnings,
)


def _stop_reason(stop: SendOutcome) -> str:
    if stop.stopped:
        return "not sent: the run stopped: " + stop.stopped
    return f"not sent: {stop.error}" if stop.error else INTERRUPTED_REASON


def _not_sent(
    rows: list[int], set_aside: dict[int, str], cancels: list[LedgerEntry], reason: str
) -> list[RowResult]:
    """The results of a part after the sending stopped: every row not sent (those set aside
    are not appointments), and the cancellations not done."""
    results = [
        RowResult(row, RowStatus.NOT_APPOINTMENT, "", None, set_aside[row])
        if row in set_aside
        else RowResult(row, RowStatus.SKIPPED, "", None, reason)
        for row in rows
    ]
    return results + unsent_results(Plan(rows=[], cancels=cancels), reason)


# Parts whose last rows may wait for the next part's: more would keep more parts in memory.
MOST_WAITING = 2


@dataclass
class _Part:
    """A part sent, whose report lines are written once every row has its result: rows at the
    end of what is sent that do not fill a batch go with the next part's first batch (a file in
    parts then costs the requests of a whole one)."""

    source: pd.DataFrame
    plan: Plan
    held: list[PlannedRow]  # its rows not sent yet
    results: dict[int, RowResult]  # row -> result
    cancelled: list[RowResult]  # the cancellations' results (the last part's)

    def finish(self, done: PartsDone, report: ReportWriter | None) -> None:
        """Write and count the part (every row has its result)."""
        results = [self.results[r.row] for r in self.plan.rows] + self.cancelled
        results = with_warnings(results, self.plan)
        done.write(report, part_lines(report, self.source, results))
        done.add(results)


class _Waiting:
    """The parts sent but for some rows, oldest first."""

    def __init__(self) -> None:
        self.parts: list[_Part] = []

    @property
    def held(self) -> list[PlannedRow]:
        """Every row waiting, in sheet order."""
        return [r for part in self.parts for r in part.held]

    def hold(self, plan: Plan, batch_size: int, *, last: bool) -> set[int]:
        """The rows (waiting or ``plan``'s) to send with the next part: what does not fill a
        whole batch, unless this is the last part or too many parts wait already."""
        sending = [*self.held, *plan.to_send]
        keep = len(sending) % batch_size
        if last or not keep or len(self.parts) >= MOST_WAITING:
            return set()
        return {r.row for r in sending[len(sending) - keep :]}

    def answered(
        self,
        part: _Part,
        results: dict[int, RowResult],
        done: PartsDone,
        report: ReportWriter | None,
    ) -> None:
        """Take a send's ``results`` (of ``part``, just sent, and of rows that waited); write
        the parts whose every row is answered, in sheet order."""
        self.parts.append(part)
        for waiting in self.parts:
            waiting.results |= {r.row: results[r.row] for r in waiting.held if r.row in results}
            waiting.held = [r for r in waiting.held if r.row not in results]
        while self.parts and not self.parts[0].held:
            self.parts.pop(0).finish(done, report)

    def give_up(self, reason: str, done: PartsDone, report: ReportWriter | None) -> None:
        """The sending stopped: every row waiting is not sent; write every part."""
        unsent = unsent_results(Plan(self.held, []), reason)
        for part in self.parts:
            part.results |= {r.row: r for r in unsent if r.row is not None}
            part.held = []
            part.finish(done, report)
        self.parts = []


async def send_parts(
    parts: PreparedParts,
    ledger: Ledger | None,
    options: PlanOptions,
    cancels: list[LedgerEntry],
    config: ClientConfig,
    *,
    progress: Progress,
    transport: httpx.AsyncBaseTransport | None,
    report: ReportWriter | None,
    earlier: EarlierRows | None = None,
) -> PartsDone:
    """Plan and send every part in turn (after ``parts.check()``), recording each in the ledger
    and the report before the next is read; ``cancels`` go with the last part. Rows that would
    end a part's sending in a batch not full wait for the next part's. A part that stops the
    sending (credentials refused, interrupted, ledger unwritable) stops the run: the later
    parts' rows are reported as not sent.

    A part's same-appointment guard sees what earlier parts sent in the ledger, and the rows
    waiting (not sent yet) in :class:`importer.guard.EarlierRows`; without a ledger, the rows
    Apptoto confirmed are remembered there too (in ``earlier`` when given: what earlier sheets
    of the run sent)."""
    facts = parts.facts or parts.check()
    done = PartsDone(every=facts.parts == 1)
    no_record = no_record_for(parts, ledger)
    gone = events_gone(parts, ledger, options)
    renamed = ids_renamed(parts, ledger, options)  # before this run records anything
    stop: SendOutcome | None = None
    waiting = _Waiting()
    # Without a ledger, what earlier parts (and sheets) sent.
    confirmed = earlier if earlier is not None else EarlierRows(parts.mapping.scope)
    async with ApptotoClient(config, transport=transport) as client:
        for sheet, last in with_last(parts.sheets()):
            going = cancels if last else []
            if stop is not None:
                # Not checked or mapped: a stopped run ends fast; its rows are listed unsent.
                found = parts.unchecked(sheet)
                rows = sheet.frame.index.tolist()
                results = _not_sent(rows, found.set_aside, going, _stop_reason(stop))
                done.write(report, part_lines(report, found.source, results))
                done.add(results)
                continue
            prepared = parts.prepare(sheet)
            earlier = confirmed.with_rows(payloads_sent(waiting.held))
            plan = plan_part(prepared, ledger, options, no_record, going, earlier, gone, renamed)
            del earlier  # the keys it made for the part
            later = waiting.hold(plan, config.batch_size, last=last)
            rows = [r for r in [*waiting.held, *plan.rows] if r.row not in later]
            outcome = await send_plan(prepared, replace(plan, rows=rows), client, ledger, progress)
            answered = {r.row: r for r in outcome.results if r.row is not None}
            if ledger is None:
                stored = (RowStatus.CREATED, RowStatus.UPDATED)
                sent = [r for r in rows if r.row in answered and answered[r.row].status in stored]
                confirmed.add(payloads_sent(sent))
            cancelled = [r for r in outcome.results if r.row is None]
            held = [r for r in plan.rows if r.row in later]
            own = {r.row: answered[r.row] for r in plan.rows if r.row in answered}
            part = _Part(prepared.source, plan, held, own, cancelled)
            waiting.answered(part, answered, done, report)
            done.new_calendars.update(dict.fromkeys(plan.new_calendars))
            if outcome.error or outcome.interrupted or outcome.stopped:
                stop = outcome
                waiting.give_up(_stop_reason(stop), done, report)
    if stop is not None:
        done.error, done.stopped, done.interrupted = stop.error, stop.stopped, stop.interrupted
    return done
