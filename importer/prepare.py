"""Everything before the network: load the sheet, check the mapping against it, validate, map.

No network and no state: ``validate`` is this stage alone; ``plan`` and ``run`` start from it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import pandas as pd

from importer.appointments import appointments_of, unlisted_cancellations
from importer.events import BuiltEvents, TemplateRenderer, build_events, external_ids_of
from importer.load import (
    DEFAULT_MAX_ROWS,
    WORKBOOK_SUFFIXES,
    Sheet,
    load_table,
    sheet_names,
)
from importer.mapping import Mapping
from importer.outcomes import RowIssue
from importer.validate import forget_email_answers, validate_columns
from importer.values.excel_errors import EXCEL_ERROR_LOST
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
    # The rows' renderer, when they are all the appointments: a part's keys rendered its ids.
    cells = found.cells if kept is appointments else None
    built, issues = validate_and_map(
        kept, mapping, now=now, shared=shared, unique=unique, cells=cells
    )
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


def validate_and_map(
    source: pd.DataFrame,
    mapping: Mapping,
    *,
    now: datetime | None = None,
    shared: dict[int, tuple[int, ...]] | None = None,
    unique: dict[str, dict[int, tuple[int, ...]]] | None = None,
    cells: TemplateRenderer | None = None,
) -> tuple[BuiltEvents, dict[int, list[RowIssue]]]:
    """Validate every row of ``source`` and map it to an event: the events, and the issues by row.

    ``source`` holds text cells indexed by spreadsheet row, and the mapping fits its columns. A
    cell the map stage left out with a warning (a bad email beside a good phone) is not also an
    error of the column checks: the row is sent with its good contact. ``cells``: ``source``'s
    renderer, when one is kept (:attr:`importer.appointments.Appointments.cells`).
    """
    try:
        built = build_events(source, mapping, now=now, shared=shared, cells=cells)
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
