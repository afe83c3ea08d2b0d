"""Everything before the network: load the sheet, check the mapping against it, validate, map.

No network and no state: ``validate`` is this stage alone; ``plan`` and ``run`` start from it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from importer.events import BuiltEvents, FirstDay, build_events, external_ids_of, first_day
from importer.load import (
    DEFAULT_MAX_ROWS,
    WORKBOOK_SUFFIXES,
    Sheet,
    calls_off,
    headings_above,
    load_table,
    recorded_external_ids,
    sheet_names,
    strip_report_columns,
)
from importer.mapping import SHEET_VALUES, CancelledRows, Mapping, Template, check_columns
from importer.outcomes import RowIssue
from importer.validate import forget_email_answers, validate_columns
from importer.values.distinct import map_distinct
from importer.values.excel_errors import EXCEL_ERROR_LOST, EXCEL_ERROR_REASON, excel_errors
from importer.values.numbers import SHORTENED_REASON
from importer.values.phones import forget_fast_answers


@dataclass(frozen=True)
class Prepared:
    """A sheet checked and mapped: what would be sent, and what is wrong, row by row."""

    sheet: Sheet
    mapping: Mapping
    source: pd.DataFrame  # the input columns (a report's result columns removed), index = row
    events: BuiltEvents
    issues: dict[int, list[RowIssue]]  # row -> its issues; rows without issues are absent
    report_ids: dict[int, int] = field(default_factory=dict)  # row -> apptoto_id from a report
    warnings: dict[int, list[RowIssue]] = field(default_factory=dict)  # row -> what to look at
    # row -> the earlier row it repeats in every cell (exported twice): one appointment, whose
    # first row alone is checked and mapped
    copies: dict[int, int] = field(default_factory=dict)
    set_aside: dict[int, str] = field(default_factory=dict)  # row -> why it is not an appointment

    @property
    def rows(self) -> list[int]:
        """Every input row number, in sheet order (the rows set aside included)."""
        return [int(r) for r in self.source.index]


def by_row(found: Iterable[RowIssue]) -> dict[int, list[RowIssue]]:
    """``found`` grouped by row, every one kept (a row may have two warnings about one cell)."""
    grouped: dict[int, list[RowIssue]] = {}
    for issue in found:
        grouped.setdefault(issue.row, []).append(issue)
    return grouped


def merge_issues(
    *groups: Iterable[RowIssue], derived: dict[str, tuple[str, ...]] | None = None
) -> dict[int, list[RowIssue]]:
    """Issues grouped by row; the same cell reported by two stages is shown once (the first).

    ``derived`` maps a mapping key (``external_id``) to the columns it is made of: a problem with
    the key is left out when one of those cells of the row already has an issue that explains it.
    """
    by_row: dict[int, list[RowIssue]] = {}
    seen: set[tuple[int, str]] = set()
    derived = derived or {}
    for group in groups:
        for issue in group:
            key = (issue.row, issue.column)
            if key in seen and issue.column:
                continue
            if any((issue.row, c) in seen for c in derived.get(issue.column, ())):
                continue
            seen.add(key)
            by_row.setdefault(issue.row, []).append(issue)
    return by_row


def mapping_sheet(path: str | Path, mapping: Mapping) -> str | None:
    """The mapping's sheet for a workbook; a one-sheet workbook (a report, say) is used as it is."""
    if mapping.sheet is None or Path(path).suffix.lower() not in WORKBOOK_SUFFIXES:
        return None
    names = sheet_names(path)
    if mapping.sheet not in names and len(names) == 1:
        return names[0]
    return mapping.sheet


def prepare(
    path: str | Path,
    mapping: Mapping,
    *,
    sheet: str | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    now: datetime | None = None,
    file_name: str | None = None,
) -> Prepared:
    """Load ``path``, check ``mapping`` against its headers, validate every row and map it.

    Raises LoadError (unreadable file) or MappingError (columns the sheet lacks). Row problems
    are values in ``Prepared.issues``, all of them at once, and ``Prepared.warnings`` (which
    never block a row; ``now``, default the present, dates "in the past"). ``file_name``: the
    name the file goes by when ``path`` is not it (a web upload's), for messages and ``{@file}``.
    """
    loaded = load_table(
        path,
        sheet=sheet or mapping_sheet(path, mapping),
        max_rows=max_rows,
        header_row=mapping.header_row,
    )
    if file_name is not None:
        loaded = replace(loaded, file=file_name)
    return prepare_sheet(loaded, mapping, now=now)


@dataclass(frozen=True)
class Appointments:
    """A sheet's input columns, and the rows of them that may be appointments."""

    source: pd.DataFrame  # the input columns (a report's result columns removed), index = row
    report_ids: dict[int, int]  # row -> apptoto_id from a report read back as input
    # ``source`` without the rows set aside (totals, notes, cancelled), with the values of the
    # sheet the mapping reads (with_sheet_values)
    rows: pd.DataFrame
    set_aside: dict[int, str]  # row -> why it is not an appointment to send
    # cells of ``rows`` that held an error Excel showed, read as blank (a warning each)
    excel_errors: list[RowIssue] = field(default_factory=list)


def appointments_of(loaded: Sheet, mapping: Mapping) -> Appointments:
    """``loaded``'s input columns checked against ``mapping`` (MappingError for a column the
    sheet lacks), leading zeros Excel dropped from a report's ids given back. Besides the rows
    the load set aside, those the mapping's ``cancelled`` marks are not appointments to send."""
    source, report_ids = strip_report_columns(loaded.frame)
    check_columns(mapping, [str(c) for c in source.columns])
    recorded = recorded_external_ids(loaded.frame)
    source = restore_lost_zeros(source, recorded, mapping.event.external_id)
    set_aside = {
        **under_cancelled_headings(source.index, loaded.headings),
        **cancelled_rows(source, mapping.cancelled),
        **loaded.set_aside,
    }
    rows = source.drop(index=list(set_aside)) if set_aside else source
    rows, errors = _without_excel_errors(rows, mapping)
    return Appointments(
        source, report_ids, with_sheet_values(rows, loaded, mapping), set_aside, errors
    )


@dataclass(frozen=True)
class Coverage:
    """What a file says of the appointments it speaks for, beyond those it sends: the first day
    of its rows, and the ids of its rows set aside (marked called off, crossed out, under a
    CANCELLED heading): appointments it says are off, not ones it left out."""

    first_day: FirstDay | None = None
    called_off: frozenset[str] = frozenset()

    @staticmethod
    def of_all(covers: Iterable[Coverage]) -> Coverage:
        """The coverage of a file of several parts or sheets, each of ``covers``."""
        covers = list(covers)
        days = [c.first_day for c in covers if c.first_day is not None]
        off = frozenset().union(*(c.called_off for c in covers))
        return Coverage(min(days, default=None), off)


def coverage_of(loaded: Sheet, mapping: Mapping) -> Coverage:
    """The :class:`Coverage` of ``loaded``. Its first day (:func:`importer.events.first_day`)
    is over every row whose start reads, the rows set aside included: a day whose visits are all
    marked called off is still a day the file speaks for."""
    found = appointments_of(loaded, mapping)
    if not len(found.source):
        return Coverage()
    aside = with_sheet_values(found.source.loc[list(found.set_aside)], loaded, mapping)
    ids = external_ids_of(aside, mapping.event.external_id)
    return Coverage(
        first_day(with_sheet_values(found.source, loaded, mapping), mapping),
        frozenset(i for i in ids.tolist() if i),
    )


def _without_excel_errors(
    rows: pd.DataFrame, mapping: Mapping
) -> tuple[pd.DataFrame, list[RowIssue]]:
    """``rows`` with the cells the mapping reads that hold an error Excel showed (``#NAME?``)
    blank, and a warning for each (:mod:`importer.values.excel_errors`). The report shows the
    cell as written."""
    found = excel_errors(rows, mapping.referenced_columns())
    if not found:
        return rows, []
    rows = rows.copy()
    warnings = []
    names = list(rows.columns)
    for column, where in found.items():
        at = names.index(column)  # a repeated header: its first column, the one read
        marked = where.to_numpy()
        for row, text in zip(
            rows.index[marked].tolist(), rows.iloc[marked, at].tolist(), strict=True
        ):
            warnings.append(RowIssue(int(row), column, str(text), EXCEL_ERROR_REASON))
        rows.iloc[:, at] = rows.iloc[:, at].mask(marked)
    return rows, warnings


def with_sheet_values(frame: pd.DataFrame, loaded: Sheet, mapping: Mapping) -> pd.DataFrame:
    """``frame`` (rows of ``loaded``) with a column for each value of the sheet itself that the
    mapping reads: ``{@title}``, ``{@sheet}``, ``{@file}`` (the same text on every row) and
    ``{@heading}`` (each row's heading row above it). Not in ``Appointments.source``, so
    reports and the page show the sheet's own columns only."""
    used = [name for name in mapping.referenced_columns() if name in SHEET_VALUES]
    if not used:
        return frame
    values = loaded.own_values()
    return frame.assign(
        **{
            name: headings_above(frame.index, loaded.headings)
            if name == "@heading"
            else pd.Series(values[name], index=frame.index, dtype="str")
            for name in used
        }
    )


def under_cancelled_headings(rows: pd.Index, headings: dict[int, str]) -> dict[int, str]:
    """Rows below a heading that calls them off ("CANCELLED", "No shows") -> why they are not
    sent: a hand-kept sheet moves called-off visits under such a heading."""
    at = sorted(headings)
    marked = np.array([calls_off(headings[row]) for row in at], dtype=bool)
    if not marked.any():
        return {}
    above = np.searchsorted(np.array(at, dtype=np.int64), rows.to_numpy(dtype=np.int64)) - 1
    under = (above >= 0) & marked[above.clip(min=0)]
    return {
        int(row): f"not an appointment: below the heading {headings[at[i]]!r}, so no reminder "
        "is sent"
        for row, i in zip(rows[under].tolist(), above[under].tolist(), strict=True)
    }


def cancelled_rows(source: pd.DataFrame, cancelled: CancelledRows | None) -> dict[int, str]:
    """Rows whose cell in ``cancelled.column`` is one of its values -> why they are not sent."""
    if cancelled is None or cancelled.column not in source.columns or source.empty:
        return {}
    cells = source[cancelled.column].fillna("").astype("str").str.strip()
    marked = cells[cells.map(cancelled.folded).isin(cancelled.words())]
    return {
        int(row): (
            f"not an appointment: marked {text!r} in {cancelled.column!r}, so no reminder is sent"
        )
        for row, text in zip(marked.index.tolist(), marked.tolist(), strict=True)
    }


# A status that reads as a visit not going ahead, anywhere in the cell ("Canceled by patient",
# "Pt no-show", a dental system's "Broken"); not "Cancellation list" (a booked patient waiting
# for an earlier slot), nor "Missed call" (a reminder call not answered).
_LOOKS_CANCELLED = re.compile(
    r"(?i)\b(?:cancell?ed|cancel|no[\s\-]?show|did not attend|dna|rescheduled|void|broken"
    r"|missed\s+(?:appt|appointment|visit))\b"
)


def unlisted_cancellations(rows: pd.DataFrame, cancelled: CancelledRows | None) -> list[RowIssue]:
    """Rows whose status reads as a cancellation the mapping does not list ("Canceled by
    patient" where the mapping lists "Cancelled"): each an issue, so the row is not sent.

    The mapping's values come from the file ``init`` saw; a later export may word a
    cancellation another way, and sending it would remind a patient of a visit called off."""
    if cancelled is None or cancelled.column not in rows.columns or rows.empty:
        return []
    cells = rows[cancelled.column].fillna("").astype("str").str.strip()
    listed = cancelled.words()

    def looks(distinct: pd.Series) -> pd.Series:
        return pd.Series(
            [
                bool(t)
                and cancelled.folded(t) not in listed
                and _LOOKS_CANCELLED.search(t) is not None
                for t in distinct
            ],
            dtype=bool,
        )

    marked = cells[map_distinct(cells, looks).to_numpy(dtype=bool)]
    shown = ", ".join(repr(v) for v in cancelled.values) or "none"
    return [
        RowIssue(
            int(row),
            cancelled.column,
            text,
            f"reads as a visit called off, but the mapping marks only {shown} as cancelled: if "
            f"it is off, add {text!r} to the mapping's cancelled values; if it goes ahead, "
            "correct the status",
        )
        for row, text in zip(marked.index.tolist(), marked.tolist(), strict=True)
    ]


# A row a filter (or a person) hid in Excel is still in the file: read and sent like the others,
# it says so, as whoever hid it may not want it reminded (or may have forgotten it is there).
HIDDEN_ROW = (
    "is hidden in Excel (by a filter or by hand) and is read like the rows shown: delete it from "
    "the sheet if it is not to be sent"
)


def prepare_sheet(
    loaded: Sheet,
    mapping: Mapping,
    *,
    now: datetime | None = None,
    copies: dict[int, int] | None = None,
    shared: dict[int, tuple[int, ...]] | None = None,
    unique: dict[str, dict[int, tuple[int, ...]]] | None = None,
) -> Prepared:
    """Check, validate and map ``loaded`` (see :func:`prepare`). A part of a big file
    (:mod:`importer.file_facts`) comes with what the whole file says of its rows: ``copies``
    (row -> the earlier row it repeats in every cell), ``shared`` (row -> every row whose
    appointment id is the row's) and ``unique`` (the same, per column that must be unique)."""
    found = appointments_of(loaded, mapping)
    appointments = found.rows
    copies = {**repeated_rows(appointments, mapping.event.external_id.columns), **(copies or {})}
    copies = {row: first for row, first in copies.items() if row in appointments.index}
    kept = appointments.drop(index=list(copies)) if copies else appointments
    built, issues = validate_and_map(kept, mapping, now=now, shared=shared, unique=unique)
    for issue in unlisted_cancellations(kept, mapping.cancelled):
        issues.setdefault(issue.row, []).append(issue)
    hidden = [
        RowIssue(row, "", "", HIDDEN_ROW) for row in sorted(loaded.hidden_rows) if row in kept.index
    ]
    issues, excel = _said_as_excel_errors(issues, found.excel_errors)
    hidden += [issue for issue in excel if issue.row in kept.index]
    if copies:
        # A copy has its first row's id: --cancel-missing and the report see it in the file.
        ids = built.external_ids
        first_ids = external_ids_of(appointments.loc[list(copies)], mapping.event.external_id)
        ids.update(
            {
                row: text
                for row, text in zip(first_ids.index.tolist(), first_ids.tolist(), strict=True)
                if text
            }
        )
    return Prepared(
        sheet=loaded,
        mapping=mapping,
        source=found.source,
        events=built,
        issues=issues,
        report_ids=found.report_ids,
        warnings=by_row([*built.warnings, *hidden]),
        copies=copies,
        set_aside=found.set_aside,
    )


def _said_as_excel_errors(
    issues: dict[int, list[RowIssue]], errors: list[RowIssue]
) -> tuple[dict[int, list[RowIssue]], list[RowIssue]]:
    """``issues`` with the complaints about a cell that held an Excel error (blank, required)
    said as that error, which they follow from; and the warnings of the other such cells."""
    if not errors:
        return issues, errors
    cells = {(e.row, e.column): e for e in errors}
    said: set[tuple[int, str]] = set()
    for row in {e.row for e in errors} & issues.keys():
        found = []
        for issue in issues[row]:
            error = cells.get((issue.row, issue.column))
            if error is None:
                found.append(issue)
            elif (issue.row, issue.column) not in said:
                said.add((issue.row, issue.column))
                found.append(replace(error, reason=EXCEL_ERROR_LOST))
        issues[row] = found
    return issues, [e for e in errors if (e.row, e.column) not in said]


def repeated_rows(source: pd.DataFrame, key_columns: Sequence[str] = ()) -> dict[int, int]:
    """Rows identical in every cell to an earlier row: row -> that first row, in sheet order.

    A row exported twice is one appointment; two rows that differ in any cell are not, even if
    they share an id (they stay invalid, as the id check says). ``key_columns`` (the id's) narrow
    the search first: identical rows share them, so only rows repeating them are compared whole.
    """
    keys = [c for c in key_columns if c in source.columns]
    if keys:
        source = source[source.duplicated(subset=keys, keep=False)]
    repeated = source.duplicated(keep="first")
    if not repeated.any():
        return {}
    group = source.groupby(list(source.columns), dropna=False, sort=False).ngroup()
    first_of = dict(zip(group[~repeated].tolist(), source.index[~repeated].tolist(), strict=True))
    return {
        int(row): int(first_of[g])
        for row, g in zip(source.index[repeated].tolist(), group[repeated].tolist(), strict=True)
    }


def restore_lost_zeros(
    source: pd.DataFrame, recorded: pd.Series, template: Template
) -> pd.DataFrame:
    """Give back the leading zeros Excel dropped from the cells that make a report's external_id.

    A CSV report opened and saved in Excel comes back with ``000101`` as ``101``; its
    ``external_id`` column (``recorded``, by row) still says ``clinic-000101``. A cell of the
    template's columns whose digits are that value's without its leading zeros gets them back,
    so the row keeps its event's external_id (and every other field made from that cell) instead
    of an update that would rewrite the id. Other cells, and edits that change a digit, stay.
    """
    if recorded.empty or template.is_literal:
        return source
    pattern = "".join(re.escape(p) if isinstance(p, str) else "(.*?)" for p in template.parts)
    found = recorded.reindex(source.index).fillna("").str.extract(f"^{pattern}$")
    restored = source.copy()
    for group, column in enumerate(template.columns):
        if column not in restored.columns:
            continue
        original = found[group].fillna("")
        current = restored[column].astype("string").fillna("")
        lost = (
            original.str.fullmatch(r"0[0-9]*")
            & current.str.fullmatch(r"[0-9]+")
            & (original != current)
            & (original.str.lstrip("0") == current.str.lstrip("0"))
        )
        if bool(lost.any()):
            restored[column] = restored[column].mask(lost, original)
    return restored


def validate_and_map(
    source: pd.DataFrame,
    mapping: Mapping,
    *,
    now: datetime | None = None,
    shared: dict[int, tuple[int, ...]] | None = None,
    unique: dict[str, dict[int, tuple[int, ...]]] | None = None,
) -> tuple[BuiltEvents, dict[int, list[RowIssue]]]:
    """Validate every row of ``source`` and map it to an event: the events, and the issues by row.

    ``source`` holds text cells indexed by spreadsheet row, and the mapping fits its columns. A
    cell the map stage left out with a warning (a bad email beside a good phone) is not also an
    error of the column checks: the row is sent with its good contact.
    """
    try:
        built = build_events(source, mapping, now=now, shared=shared)
        left_out = {(w.row, w.column, w.value) for w in built.warnings}
        # A cell Excel shortened (2.02613E+11) is reported for that alone: its other complaints
        # (the same id as another row's) follow from it, and would send staff the wrong way.
        lost = {(i.row, i.column) for i in built.issues if i.reason == SHORTENED_REASON}
        column_issues = [
            issue
            for issue in validate_columns(source, mapping, unique)
            if (issue.row, issue.column, issue.value) not in left_out
            and (issue.row, issue.column) not in lost
        ]
    finally:
        # The phone and email answers served both passes over these columns; a later part
        # rarely has the same numbers, and a web server would hold them for nothing.
        forget_fast_answers()
        forget_email_answers()
    issues = merge_issues(
        column_issues,
        built.issues,
        derived={"external_id": mapping.event.external_id.columns},
    )
    return built, issues
