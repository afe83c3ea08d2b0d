"""Several sheets of one workbook in one run: one sheet per day, as front desks keep them.

The sheets come from the request (``--sheet`` repeated, ``--all-sheets``) or the mapping
(``sheets: [Mon, Tue]``, ``sheets: all``: every visible sheet whose columns the mapping reads).
Every sheet is read and checked before anything is sent, so an unreadable sheet stops the run
with nothing sent. An appointment id found on two sheets makes both rows invalid (one
appointment, one event: never two reminders), and a later sheet's new row repeating an earlier
sheet's visit under another id (same calendar, start and participant) is held back, by a plan as
by a run, with or without a ledger (one :class:`importer.guard.EarlierRows` passed from sheet to
sheet). Each sheet is then run as ``run_import`` runs one, in workbook order, with one ledger;
``--cancel-missing`` counts the ids of every sheet as in the file, from the earliest sheet's first
day on, and is decided with the first sheet, before anything is sent. One report covers them
all, its ``sheet`` column naming each row's sheet; row numbers stay each sheet's own.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from importer.appointments import Coverage, coverage_of
from importer.errors import LoadError, MappingError, ReportError
from importer.guard import EarlierRows
from importer.load import WORKBOOK_SUFFIXES, sheet_names
from importer.mapping import Mapping
from importer.outcomes import RowIssue, RowResult
from importer.pipeline import (
    PlannedImport,
    RunRequest,
    RunSummary,
    count_statuses,
    plan_import,
    run_import,
    validate_rows,
)
from importer.prepare import Prepared, prepare
from importer.progress import Progress
from importer.report import not_replaced_note, report_frame, write_report_table
from importer.streaming import payloads_sent

if TYPE_CHECKING:
    import httpx


@dataclass(frozen=True)
class SheetPart:
    """One sheet of a several-sheet run: its name, what was read, and what happened."""

    sheet: str
    prepared: Prepared
    summary: RunSummary | None = None  # None: not run (an earlier sheet stopped the run)


def sheets_to_read(request: RunRequest) -> list[str] | None:
    """The sheets ``request`` reads, named as the workbook has them; None for one sheet as ever.

    A CSV file has no sheets: it is read whole (None).
    """
    named = request.sheets or request.mapping.sheets
    every = _every(request)
    if request.sheet is not None or not (named or every):
        return None
    if Path(request.source).suffix.lower() not in WORKBOOK_SUFFIXES:
        return None
    if every:
        return sheet_names(request.source, hidden=False)
    return list(named)


def _every(request: RunRequest) -> bool:
    """True when ``request`` reads every sheet with the mapping's columns: asked for in the run,
    or in the mapping unless the run names its sheets (the run's choice comes first)."""
    return request.all_sheets or (not request.sheets and request.mapping.all_sheets)


def prepare_sheets(request: RunRequest, names: Sequence[str]) -> list[SheetPart]:
    """Read, check and map every sheet; with ``all`` the sheets without the columns are left out.

    Raises LoadError or MappingError for a named sheet that cannot be read or lacks columns, and
    MappingError when no sheet has the mapping's columns.
    """
    every = _every(request)
    if not every and not request.sheets:
        _named_sheets_present(request, names)
    parts = []
    for name in names:
        try:
            prepared = _prepare(request, name)
        except (LoadError, MappingError):
            if every:
                continue  # a notes sheet, an empty one: not a sheet of appointments
            raise
        parts.append(SheetPart(name, prepared))
    if not parts:
        raise MappingError(
            "no sheet of the workbook has the columns the mapping reads",
            file=request.mapping.path,
            problems=[f"the workbook's sheets: {', '.join(repr(n) for n in names)}"],
        )
    return _shared_ids_invalid(parts)


def _named_sheets_present(request: RunRequest, names: Sequence[str]) -> None:
    """LoadError when the workbook lacks a sheet the mapping's ``sheets:`` names: a workbook
    kept a sheet per day names its sheets anew each week, and ``sheets: all`` reads those."""
    found = {n.strip().casefold() for n in sheet_names(request.source)}
    missing = [n for n in names if n.strip().casefold() not in found]
    if missing:
        shown = ", ".join(repr(n) for n in sheet_names(request.source, hidden=False))
        raise LoadError(
            f"the mapping reads the sheets {', '.join(repr(n) for n in names)}, and this "
            f"workbook has no {' and no '.join(repr(n) for n in missing)} (it has: {shown}). "
            "If each workbook names its sheets anew (a sheet per day), write sheets: all in the "
            "mapping: every sheet with its columns is read, whatever its name",
            file=request.source_name or str(request.source),
        )


def _prepare(request: RunRequest, sheet: str | None) -> Prepared:
    """``prepare`` of one sheet of ``request``'s file, with its row cap (if it sets one)."""
    limit = {} if request.max_rows is None else {"max_rows": request.max_rows}
    return prepare(
        request.source,
        request.mapping,
        sheet=sheet,
        now=request.now,
        file_name=request.source_name,
        **limit,
    )


def _shared_ids_invalid(parts: list[SheetPart]) -> list[SheetPart]:
    """Rows whose appointment id is also on another sheet become invalid, naming the other."""
    where: dict[str, list[tuple[str, int]]] = {}
    for part in parts:
        events = part.prepared.events
        for row in events.payloads:
            where.setdefault(events.external_ids[row], []).append((part.sheet, row))
    shared = {ext: places for ext, places in where.items() if len({s for s, _ in places}) > 1}
    if not shared:
        return parts
    marked = []
    for part in parts:
        issues = {row: list(found) for row, found in part.prepared.issues.items()}
        for external_id, places in shared.items():
            others = "; ".join(f"sheet {s!r} row {r}" for s, r in places if s != part.sheet)
            for sheet, row in places:
                if sheet == part.sheet:
                    reason = f"is also on {others}: one appointment is sent once; keep one row"
                    issue = RowIssue(row, "", external_id, f"the appointment id {reason}")
                    issues.setdefault(row, []).append(issue)
        marked.append(replace(part, prepared=replace(part.prepared, issues=issues)))
    return marked


def _coverage(parts: Sequence[SheetPart], mapping: Mapping) -> Coverage:
    """What every sheet says of its appointments (sheets per day, in any order)."""
    return Coverage.of_all(coverage_of(p.prepared.sheet, mapping) for p in parts)


def _one_sheet(request: RunRequest, part: SheetPart) -> RunRequest:
    """``request`` narrowed to ``part``'s sheet, read and checked already; no report."""
    return replace(
        request,
        sheet=part.sheet,
        sheets=(),
        all_sheets=False,
        report_path=None,
        prepared=part.prepared,
    )


def plan_sheets(request: RunRequest) -> list[tuple[str, PlannedImport]]:
    """Plan every sheet ``request`` reads (:func:`sheets_to_read`), as :func:`run_sheets` would
    send them; nothing is sent or written. Raises as :func:`prepare_sheets` and ``plan_import``;
    ValueError when ``request`` reads one sheet only."""
    names = sheets_to_read(request)
    if names is None:
        raise ValueError("plan_sheets is for a request of several sheets")
    parts = prepare_sheets(request, names)
    in_file = frozenset(ext for p in parts for ext in p.prepared.events.external_ids.values())
    covered = _coverage(parts, request.mapping)
    earlier = EarlierRows(request.mapping.scope)
    planned = []
    for i, part in enumerate(parts):
        options = replace(
            request.plan_options,
            cancel_missing=request.plan_options.cancel_missing and i == 0,
            cancels_decided=request.plan_options.cancel_missing and i > 0,
            also_in_file=in_file,
            coverage=covered,
        )
        earlier.next_sheet(part.sheet)
        one = replace(_one_sheet(request, part), plan_options=options, earlier=earlier)
        sheet_plan = plan_import(one)
        earlier.add(payloads_sent(sheet_plan.plan.to_send))
        planned.append((part.sheet, sheet_plan))
    return planned


def run_sheets(
    request: RunRequest,
    *,
    progress: Progress | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    report_copies: Sequence[Path] = (),
) -> RunSummary:
    """Run ``request`` over every sheet it names (see the module); one sheet: ``run_import``.

    Raises what ``run_import`` raises, before anything is sent. A sheet stopped by an error or
    an interruption stops the run: the sheets after it are not sent, and the report lists the
    sheets that ran. ``report_copies``: more paths the same report goes to (the page keeps it
    as CSV and XLSX); only with several sheets and ``request.report_path`` set.
    """
    names = sheets_to_read(request)
    if names is None:
        return run_import(request, progress=progress, transport=transport)
    started = time.monotonic()
    parts = prepare_sheets(request, names)
    in_file = frozenset(ext for p in parts for ext in p.prepared.events.external_ids.values())
    covered = _coverage(parts, request.mapping)
    # A later sheet's new row repeating an earlier sheet's appointment is held back: by the
    # ledger once the earlier sheet is recorded, without one by what Apptoto confirmed, and in a
    # dry run by what the earlier sheets would send.
    earlier = EarlierRows(request.mapping.scope)
    done: list[SheetPart] = []
    for i, part in enumerate(parts):
        options = request.plan_options
        # Cancellations are decided once, with the first sheet (before anything is sent), with
        # the ids of every sheet counted as in the file, from the earliest sheet's first day.
        options = replace(
            options,
            cancel_missing=options.cancel_missing and i == 0,
            cancels_decided=options.cancel_missing and i > 0,
            also_in_file=in_file,
            coverage=covered,
        )
        earlier.next_sheet(part.sheet)
        one = replace(_one_sheet(request, part), plan_options=options, earlier=earlier)
        summary = run_import(one, progress=progress, transport=transport)
        done.append(replace(part, summary=summary))
        if summary.interrupted or summary.error:
            break
    return _combined(request, done, started, report_copies)


def _combined(
    request: RunRequest, parts: list[SheetPart], started: float, copies: Sequence[Path] = ()
) -> RunSummary:
    summaries = [p.summary for p in parts if p.summary is not None]
    results = [
        r.on_sheet(p.sheet) for p in parts if p.summary is not None for r in p.summary.results
    ]
    error = "; ".join(s.error for s in summaries if s.error)
    report_path, note = None, ""
    if request.report_path is not None:
        try:
            ran = [(p.sheet, p.prepared.source, p.summary.results) for p in parts if p.summary]
            table = sheets_report(ran)
            written = write_report_table(request.report_path, table)
            report_path = str(written)
            for copy in copies:
                write_report_table(copy, table)
            note = not_replaced_note(written, request.report_path)
        except ReportError as exc:
            error = "; ".join(part for part in (error, str(exc)) if part)
    return RunSummary(
        mapping=request.mapping.name,
        file=str(request.source),
        counts=count_statuses(results),
        duration_seconds=time.monotonic() - started,
        report_path=report_path,
        dry_run=request.dry_run,
        error=error,
        report_note=note,
        interrupted=any(s.interrupted for s in summaries),
        results=results,
        new_calendars=tuple(sorted({c for s in summaries for c in s.new_calendars})),
        sheet_warnings=tuple(
            (p.sheet, warning) for p in parts for warning in p.prepared.sheet.warnings
        ),
        warned_left_out=sum(s.warned_left_out for s in summaries),
        warnings_left_out=sum(s.warnings_left_out for s in summaries),
        invalid_left_out=sum(s.invalid_left_out for s in summaries),
    )


def sheets_report(parts: Sequence[tuple[str, pd.DataFrame, Sequence[RowResult]]]) -> pd.DataFrame:
    """One report for several sheets: each sheet's lines (its source rows and their results),
    a ``sheet`` column first."""
    tables = []
    for sheet, source, results in parts:
        table = report_frame(source, results).rename(columns={"sheet": "sheet (source)"})
        table.insert(0, "sheet", sheet)
        tables.append(table)
    return pd.concat(tables, ignore_index=True).fillna("")


@dataclass(frozen=True)
class SheetCheck:
    """One sheet checked (``validate``): its name (None when one sheet is read as ever), what was
    read, and a result per row."""

    sheet: str | None
    prepared: Prepared
    results: list[RowResult]


def validate_sheets(request: RunRequest) -> list[SheetCheck]:
    """Check every sheet ``request`` reads (see :func:`sheets_to_read`); nothing is sent.

    Raises LoadError or MappingError as :func:`prepare_sheets` (or ``prepare``) does.
    """
    names = sheets_to_read(request)
    if names is None:
        prepared = _prepare(request, request.sheet)
        return [SheetCheck(None, prepared, validate_rows(prepared))]
    parts = prepare_sheets(request, names)
    return [SheetCheck(p.sheet, p.prepared, validate_rows(p.prepared)) for p in parts]
