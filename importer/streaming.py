"""The stages run a part of the file at a time: memory stays flat however long the file is.

:class:`importer.file_facts.PreparedParts` reads the file once to settle what needs all of it,
then gives it part after part. Each part is checked, mapped, planned against the ledger, sent and
written to the report before the next part is read; its payloads are dropped once its results
are recorded. What is decided for the whole file is decided before its first part is sent:
cancellations (``--cancel-missing``, over every id of the file) and whether the ledger knew the
mapping at all. Sending a part is :mod:`importer.part_sending`. Counts cover every row; the
results kept in memory are every row's for a file of one part sent or planned, and otherwise
(and for any ``validate``) those a person should read (:mod:`importer.parts_done`): the report
has every row.
``validate`` may have a few parts checked at once by worker processes
(:class:`importer.workers.PartPool`, :func:`check_part`); their results are taken in the parts'
order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal, TypeVar

import pandas as pd

from importer.calendars import with_new_calendars
from importer.cancels import (
    NONE_MISSING,
    Missing,
    guarded_cancels,
    missing_events,
    renamed_in_file,
)
from importer.file_facts import Ahead, PartFacts, PreparedParts, prepare_part
from importer.guard import EarlierRows
from importer.ledger import Ledger, LedgerEntry
from importer.load import Sheet
from importer.mapping import Mapping
from importer.outcomes import PlanAction, RowResult, RowStatus, SkipReason
from importer.parts_done import (
    VALID_MESSAGE,
    LeftOut,
    PartsDone,
    routine_valid,
)
from importer.plan import Plan, PlannedRow, PlanOptions, make_plan, same_as_row_message
from importer.prepare import Prepared
from importer.report import CsvLines, ReportWriter, csv_part, report_frame
from importer.values import collector_paused
from importer.workers import PartPool

T = TypeVar("T")


def with_warnings(results: Sequence[RowResult], plan: Plan) -> list[RowResult]:
    """``results`` with each row's warnings from the plan (a warning never changes a status)."""
    warned = {r.row: r.warnings for r in plan.rows if r.warnings}
    return [
        replace(r, warnings=warned[r.row]) if r.row is not None and r.row in warned else r
        for r in results
    ]


def plan_results(plan: Plan) -> list[RowResult]:
    """The report of a plan: the action each row would get, and the cancellations."""
    with collector_paused():  # a result per row, acyclic
        results = [
            RowResult(r.row, r.action, r.external_id, r.apptoto_id, r.message, r.reason, r.warnings)
            for r in plan.rows
        ]
    results += [
        RowResult(
            None,
            PlanAction.CANCEL,
            e.external_id,
            e.apptoto_id,
            f"{plan.why_cancelled(e)}: would be deleted in Apptoto",
        )
        for e in plan.cancels
    ]
    return results


def validate_rows(prepared: Prepared, *, routine: bool = True) -> list[RowResult]:
    """One result per row of a prepared file: ``invalid`` with its issues, else ``skipped``
    (valid, and nothing was sent). ``routine`` False: the valid rows with no warning get none
    (a file in parts checked without a report keeps none of them; they are only counted)."""
    results: list[RowResult] = []
    ids, warned, valid = prepared.events.external_ids, prepared.warnings, RowStatus.SKIPPED
    other = prepared.copies.keys() | prepared.set_aside.keys() | prepared.issues.keys()
    with collector_paused():  # a result per row, acyclic: the collector would walk them all
        for row in prepared.source.index.tolist():
            external_id = ids.get(row, "")
            warnings = tuple(warned.get(row, ()))
            if row not in other:  # most rows: valid
                if routine or warnings:
                    results.append(
                        RowResult(row, valid, external_id, None, VALID_MESSAGE, None, warnings)
                    )
            elif row in prepared.copies:
                message = same_as_row_message(prepared.copies[row])
                copy = RowResult(row, RowStatus.SKIPPED, external_id, None, message)
                results.append(replace(copy, reason=SkipReason.SAME_AS_ROW))
            elif row in prepared.set_aside:
                reason = prepared.set_aside[row]
                results.append(RowResult(row, RowStatus.NOT_APPOINTMENT, "", None, reason))
            else:
                message = "; ".join(str(i) for i in prepared.issues[row])
                results.append(
                    RowResult(row, RowStatus.INVALID, external_id, None, message, warnings=warnings)
                )
    return results


def with_last(items: Iterable[T]) -> Iterator[tuple[T, bool]]:
    """Each item, and whether it is the last (one item read ahead)."""
    it = iter(items)
    try:
        current = next(it)
    except StopIteration:
        return
    for following in it:
        yield current, False
        current = following
    yield current, True


def part_lines(
    report: ReportWriter | None, source: pd.DataFrame, results: Sequence[RowResult]
) -> pd.DataFrame | None:
    """One part's report lines, when a report is written."""
    return None if report is None else report_frame(source, results)


@dataclass(frozen=True)
class PartChecked:
    """One part checked (:func:`check_part`): the results of the rows with something to say
    (not the routine valid rows: :func:`routine_valid`), its row count, and its report lines
    when a report is written."""

    results: list[RowResult]
    rows: int
    lines: pd.DataFrame | CsvLines | None
    left: LeftOut = field(default_factory=LeftOut)  # rows past those a file keeps, counted


# How a part's report lines are made (:func:`lines_for`): none (no report), a frame, CSV.
LinesAs = Literal["", "frame", "csv"]


def lines_for(report: ReportWriter | None) -> LinesAs:
    """How the parts' lines are made for ``report`` by worker processes: written as CSV there
    when the report is one CSV file (the command's own process then only adds them to it)."""
    if report is None:
        return ""
    return "csv" if report.takes_csv else "frame"


def checked_part(prepared: Prepared, lines: LinesAs) -> PartChecked:
    """``prepared``'s results of rows with something to say, and its report lines (every
    row's, for which each valid row gets a result first) as ``lines`` says."""
    results = validate_rows(prepared, routine=bool(lines))
    table: pd.DataFrame | CsvLines | None = None
    if lines:
        frame = report_frame(prepared.source, results)
        table = csv_part(frame) if lines == "csv" else frame
        results = [r for r in results if not routine_valid(r)]
    # No more results than a file keeps (WARNED_KEPT, INVALID_KEPT) go back from a worker: a
    # part whose every row has a warning would send 25,000 to be counted and dropped.
    kept = PartsDone(every=False)
    kept.add(results)
    return PartChecked(kept.results, len(prepared.source), table, kept.left)


def check_part(
    job: tuple[Sheet | bytes, PartFacts | None],
    mapping: Mapping,
    now: datetime | None,
    lines: LinesAs,
) -> PartChecked:
    """One part of a file checked and mapped with what the whole file says of it: in a worker
    process for a big file (:class:`importer.workers.PartPool`), where nothing but the results
    and report lines come back."""
    return checked_part(prepare_part(job, mapping, now), lines)


def checked_ahead(parts: PreparedParts, report: ReportWriter | None) -> Ahead:
    """The check of each part of a file of several, made while the file is first read
    (``parts.check(pool, ahead=...)``) and taken by :func:`validate_parts` for every part the
    rest of the file changes nothing of: such a file is read and checked in one pass.
    ``report``: the report to be written, if any."""
    # The routine valid rows are counted, and get a result only for their report lines: not
    # made without a report (~1 s per 1,000,000 rows), not sent back from a worker with one.
    return Ahead(check_part, (parts.mapping, parts.now, lines_for(report)))


def validate_parts(
    parts: PreparedParts, report: ReportWriter | None, pool: PartPool | None = None
) -> PartsDone:
    """Check and map every part (after ``parts.check()``); nothing is sent. ``pool``: the
    worker processes that check the parts of a file of more than one, and take the checks
    made ahead (:func:`checked_ahead`)."""
    facts = parts.facts or parts.check(pool)
    # What is printed is the rows with something to say: a routine valid row gets a result only
    # for its report line, and is counted whatever the file's size.
    done = PartsDone(every=False)
    checked: Iterable[PartChecked]
    if pool is None or facts.parts == 1 or parts.given:
        # Here, a frame's lines are written straight to the report (never all held as text).
        lines: LinesAs = "" if report is None else "frame"
        checked = (checked_part(p, lines) for p in parts.prepared())
    else:
        checked = parts.worked(checked_ahead(parts, report), pool)
    for part in checked:
        done.write(report, part.lines)
        done.add(part.results)
        done.add_left_out(part.left)
        routine = part.rows - len(part.results) - part.left.rows
        done.counter[str(RowStatus.SKIPPED)] += routine  # routine valid
    return done


def plan_parts(
    parts: PreparedParts,
    ledger: Ledger | None,
    options: PlanOptions,
    cancels: list[LedgerEntry],
    report: ReportWriter | None,
    *,
    each: Callable[[Prepared, Plan], None] | None = None,
    earlier: EarlierRows | None = None,
) -> PartsDone:
    """Plan every part against ``ledger`` (read only); nothing is sent. ``cancels``: decided for
    the whole file (:func:`decide_cancels`), listed after the last part. ``each``: given every
    part's rows and plan before the part is dropped (the web review keeps what it shows).

    A later part's row that repeats the appointment of a row an earlier part sends is held back,
    as the run holds it back (there, the earlier part's event is in the ledger by then): the
    rows planned to be sent are remembered as digests (:class:`importer.guard.EarlierRows`).
    ``earlier``: what earlier sheets of the run send (every part is added to it); default: none."""
    facts = parts.facts or parts.check()
    done = PartsDone(every=facts.parts == 1, plan=True)
    no_record = no_record_for(parts, ledger)
    gone = events_gone(parts, ledger, options)
    renamed = ids_renamed(parts, ledger, options)
    shared = earlier is not None
    earlier = earlier if earlier is not None else EarlierRows(parts.mapping.scope)
    for prepared, last in with_last(parts.prepared()):
        going = cancels if last else []
        plan = plan_part(prepared, ledger, options, no_record, going, earlier, gone, renamed)
        if shared or not last:
            earlier.add(payloads_sent(plan.to_send))
        results = plan_results(plan)
        done.write(report, part_lines(report, prepared.source, results))
        done.add(results)
        done.new_calendars.update(dict.fromkeys(plan.new_calendars))
        if each is not None:
            each(prepared, plan)
    return done


def decide_cancels(
    parts: PreparedParts, ledger: Ledger | None, options: PlanOptions
) -> list[LedgerEntry]:
    """The events ``--cancel-missing`` cancels: those whose ids are nowhere in the file (or in
    ``options.also_in_file``), from the file's first day on; PlanRefused past its guard, before
    anything is sent."""
    if not options.cancel_missing:
        return []
    return guarded_cancels(
        events_gone(parts, ledger, options),
        parts.mapping,
        parts.file_label,
        force=options.force,
        max_share=options.max_cancel_share,
    )


def events_gone(parts: PreparedParts, ledger: Ledger | None, options: PlanOptions) -> Missing:
    """The live events not over whose rows are nowhere in the file (:func:`missing_events`):
    those ``--cancel-missing`` cancels, and those before the file's first day it leaves alone.
    A new row that looks like one of them moved says so, unless the run cancels it
    (:mod:`importer.reschedules`)."""
    if ledger is None:
        return NONE_MISSING
    return missing_events(
        parts.mapping,
        ledger,
        _absent(parts, options),
        now=options.now,
        coverage=lambda: options.coverage or parts.coverage(),
    )


def ids_renamed(
    parts: PreparedParts, ledger: Ledger | None, options: PlanOptions
) -> dict[str, LedgerEntry]:
    """The ids of the file that are live events' ids with leading zeros dropped (saved in
    Excel) -> those events, worked out once for the whole file (:mod:`importer.zeros_dropped`)."""
    if ledger is None:
        return {}
    return renamed_in_file(parts.mapping, ledger, _absent(parts, options), options.now)


def _absent(parts: PreparedParts, options: PlanOptions) -> Callable[[list[str]], list[bool]]:
    """For each id, True when no row of the file has it (nor ``options.also_in_file``)."""
    facts = parts.facts or parts.check()
    also = options.also_in_file

    def absent(ids: list[str]) -> list[bool]:
        return [gone and i not in also for i, gone in zip(ids, facts.absent(ids), strict=True)]

    return absent


def payloads_sent(rows: Iterable[PlannedRow]) -> dict[int, dict[str, Any]]:
    """row -> payload of those of ``rows`` that are sent (created or updated)."""
    sending = (PlanAction.CREATE, PlanAction.UPDATE)
    return {r.row: r.payload for r in rows if r.action in sending and r.payload is not None}


def no_record_for(parts: PreparedParts, ledger: Ledger | None) -> bool:
    return ledger is None or ledger.count_live(parts.mapping.scope) == 0


def plan_part(
    prepared: Prepared,
    ledger: Ledger | None,
    options: PlanOptions,
    no_record: bool,
    cancels: list[LedgerEntry],
    earlier: EarlierRows | None = None,
    gone: Missing | None = None,
    renamed: dict[str, LedgerEntry] | None = None,
) -> Plan:
    """One part planned (``earlier``: what earlier parts send; ``gone``: the events whose rows
    are not in the whole file; ``renamed``: the file's ids that lost their leading zeros, see
    :func:`make_plan`)."""
    with collector_paused():  # a key and a hash per row, acyclic: ~10% of a plan's time
        plan = make_plan(
            prepared,
            ledger,
            replace(options, cancel_missing=False),
            no_record=no_record or None,
            cancels=cancels,
            earlier=earlier,
            cancelling_missing=options.cancel_missing or options.cancels_decided,
            gone=gone or NONE_MISSING,
            renamed=renamed or {},
        )
    return with_new_calendars(plan, prepared.mapping, ledger)
