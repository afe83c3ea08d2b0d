"""What a sheet holds of appointments, before any row is checked: its input columns, the rows
that may be appointments (besides those the load set aside, those the mapping or a CANCELLED
heading calls off, cells that hold an error Excel showed read as blank), the first day it speaks
for (:class:`Coverage`), and the leading zeros Excel dropped from a report's ids given back.

A part of a big file is read for its keys and for its check (:mod:`importer.file_facts`): within
:func:`appointments_remembered` its appointments are worked out once.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from importer.events import FirstDay, TemplateRenderer, external_ids_of, first_day
from importer.load import (
    Sheet,
    calls_off,
    headings_above,
    recorded_external_ids,
    strip_report_columns,
)
from importer.mapping import SHEET_VALUES, CancelledRows, Mapping, Template, check_columns
from importer.outcomes import RowIssue
from importer.values.distinct import map_distinct
from importer.values.excel_errors import EXCEL_ERROR_REASON, excel_errors


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

    @functools.cached_property
    def cells(self) -> TemplateRenderer:
        """The renderer of :attr:`rows`, made when first asked: a part's keys and its check
        share it, so its appointment ids are rendered once (~8 ms per 25,000 rows)."""
        return TemplateRenderer(self.rows)


# The appointments of the sheets read within :func:`appointments_remembered`, by sheet.
_remembered: ContextVar[dict[int, tuple[Sheet, Mapping, Appointments]] | None] = ContextVar(
    "remembered_appointments", default=None
)


@contextlib.contextmanager
def appointments_remembered(
    memo: dict[int, tuple[Sheet, Mapping, Appointments]] | None = None,
) -> Iterator[None]:
    """Within this block, :func:`appointments_of` reads each sheet once: a part's keys and its
    check both need its appointments (~8% of checking it). ``memo``: kept by the caller for
    later blocks (a file of one part is checked in two steps); else forgotten at the end."""
    token = _remembered.set({} if memo is None else memo)
    try:
        yield
    finally:
        _remembered.reset(token)


def appointments_of(loaded: Sheet, mapping: Mapping) -> Appointments:
    """``loaded``'s input columns checked against ``mapping`` (MappingError for a column the
    sheet lacks), leading zeros Excel dropped from a report's ids given back. Besides the rows
    the load set aside, those the mapping's ``cancelled`` marks are not appointments to send."""
    memo = _remembered.get()
    if memo is None:
        return _appointments_of(loaded, mapping)
    known = memo.get(id(loaded))
    if known is not None and known[0] is loaded and known[1] is mapping:
        return known[2]
    found = _appointments_of(loaded, mapping)
    memo[id(loaded)] = (loaded, mapping, found)
    return found


def _appointments_of(loaded: Sheet, mapping: Mapping) -> Appointments:
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
