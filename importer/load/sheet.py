"""The table read from a file, as the later stages take it: :class:`Sheet`, and
:func:`assemble_sheet`, which names the columns, drops blank rows and columns and sets aside the
rows that are not appointments."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from importer.errors import LoadError
from importer.load.csv_reader import check_width
from importer.load.table_bounds import headings_of, rows_set_aside
from importer.load.xlsx_reader import column_letter

SET_ASIDE_SHOWN = 10  # rows set aside named one by one in the warnings
MAC_ROMAN_NOTE = (
    "the file is not UTF-8; it was read as Mac Roman, the encoding Excel for Mac saves "
    '"Comma Separated Values" in. If accented names look wrong, save it again as "CSV UTF-8 '
    '(Comma delimited)"'
)


@dataclass(frozen=True)
class Sheet:
    """One table read from a file: text cells, spreadsheet row numbers, what to tell the user."""

    frame: pd.DataFrame  # text cells (pandas str dtype), blank = missing; index "row" = Excel row
    file: str  # the path as given, for messages
    sheet_name: str | None  # the XLSX sheet read; None for CSV
    encoding: str | None  # the CSV encoding found ("utf-8", "utf-8-sig", "cp1252", "utf-16")
    delimiter: str | None  # the CSV delimiter found ("," ";" or "\t")
    warnings: tuple[str, ...]  # what the user should know but did not stop the load
    set_aside: dict[int, str] = field(default_factory=dict)  # row -> why it is not an appointment
    header_row: int = 1  # the spreadsheet row holding the column names
    hidden: bool = False  # the workbook's sheet is hidden (read because it was named)
    title: str = ""  # the text above the header (importer.load.table_bounds.title_of)
    # row -> the text of a heading row within the table ("Dr. Rivera", "CANCELLED"), for the rows
    # below it; a part of a big file also has the last heading of the parts before it
    headings: dict[int, str] = field(default_factory=dict)
    # rows of the table Excel does not show (a filter, rows hidden by hand): read and sent like
    # the others, each with a warning (importer.prepare)
    hidden_rows: frozenset[int] = frozenset()

    def own_values(self, file_name: str | None = None) -> dict[str, str]:
        """What a mapping reads of the sheet itself as ``{@title}``, ``{@sheet}`` and ``{@file}``
        (the file's name without folder and extension; ``file_name``: the name the file goes by
        when ``file`` is not it, a web upload's)."""
        stem = Path(file_name if file_name is not None else self.file).stem
        return {"@title": self.title, "@sheet": self.sheet_name or "", "@file": stem}

    @property
    def appointments(self) -> pd.DataFrame:
        """The frame without the rows set aside (totals, notes): the rows that may be sent."""
        if not self.set_aside:
            return self.frame
        return self.frame.drop(index=list(self.set_aside))


def assemble_sheet(
    header: Sequence[str],
    columns: Sequence[Sequence[str | None] | np.ndarray],
    rows: pd.Index,
    *,
    file: str,
    max_rows: int,
    header_row: int,
    first_column: int = 0,
    sheet_name: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    notes: Sequence[str] = (),
    keep: Sequence[bool] | None = None,
    final: bool = True,
    typical: float | None = None,
    present: np.ndarray | None = None,
    title: str = "",
    crossed_out: Mapping[int, str] | None = None,
    name_set_aside: bool = True,
) -> Sheet:
    """Name the columns, drop blank rows and columns, and check the row cap: the Sheet.

    ``columns[j]`` holds the cells below ``header[j]`` (blank = None/NaN), the column at
    ``first_column + j`` (0 = A); ``rows`` gives each body row its spreadsheet row number. A
    column wider than the header gets a blank header. Raises LoadError when more than
    ``max_rows`` rows with text follow the header. ``keep`` (one part of a big file,
    :mod:`importer.load.parts`): which columns are kept, the same for every part; ``final``
    False: more rows follow, ``typical`` the cells of a full row (see :func:`rows_set_aside`).
    ``present`` (rows x ``columns``): True where a cell holds text, when the reader knows it
    already (a CSV part's blank cells); otherwise asked of the cells once. ``title``: the text
    above the header. ``crossed_out``: rows a workbook crosses out (row -> why it is not sent),
    set aside with the rest. ``name_set_aside`` False: the warnings do not name the rows set
    aside (a CSV file's parts: its reader names them once for the file).
    """
    warnings = list(notes)
    if encoding == "mac_roman":
        warnings.append(MAC_ROMAN_NOTE)
    if header_row > 1:
        warnings.append(
            f"the column names are on row {header_row}; the rows above them (a title or blank "
            "rows) were skipped"
        )
    names: list[str] = []
    letters: list[str] = []
    kept: list[pd.api.extensions.ExtensionArray] = []
    kept_at: list[int] = []  # the position in ``columns`` of each kept column
    for j in range(max(len(header), len(columns))):
        values = pd.array(columns[j] if j < len(columns) else [None] * len(rows), dtype="str")
        name = header[j].strip() if j < len(header) else ""
        if keep is not None:
            wanted = j < len(keep) and keep[j]
        else:
            wanted = bool(name) or not values.isna().all()
        if not wanted:
            continue  # no header, no data: a blank column
        names.append(name)
        letters.append(column_letter(first_column + j))
        kept.append(values)
        kept_at.append(j)
    check_width(len(names), file=file)
    names = _unique_names(names, letters, warnings)
    frame = pd.DataFrame(dict(zip(names, kept, strict=True)), index=rows)
    frame.index = pd.Index(rows, dtype="int64", name="row")
    cells_present = _present(frame, present, kept_at)
    filled = np.flatnonzero(cells_present.any(axis=1))
    if len(filled) < len(frame):
        frame, cells_present = frame.iloc[filled], cells_present[filled]
    if len(frame) > max_rows:
        raise LoadError(
            f"there are {len(frame):,} rows below the header; at most {max_rows:,} are read "
            "in one run. Split the file into smaller ones",
            file=file,
            sheet=sheet_name,
        )
    set_aside = rows_set_aside(frame, final=final, typical=typical, present=cells_present)
    if crossed_out:
        rows_left = set(frame.index.tolist())
        crossed = {row: why for row, why in crossed_out.items() if row in rows_left}
        set_aside = dict(sorted({**crossed, **set_aside}.items()))
    if name_set_aside:
        warnings += set_aside_warnings(list(set_aside.items()), len(set_aside))
    return Sheet(
        frame,
        file,
        sheet_name,
        encoding,
        delimiter,
        tuple(warnings),
        set_aside,
        header_row,
        title=title,
        headings=headings_of(frame, set_aside),
    )


def set_aside_warnings(named: Sequence[tuple[int, str]], count: int) -> list[str]:
    """The warnings of the rows set aside (not appointments): the first of ``named`` (row,
    reason), in row order, one by one, then how many more of the ``count`` rows there are."""
    said = [
        f"row {row} is {reason.removeprefix('not an appointment: ')}: not sent"
        for row, reason in named[:SET_ASIDE_SHOWN]
    ]
    if count > SET_ASIDE_SHOWN:
        more = count - SET_ASIDE_SHOWN
        said.append(f"{more:,} more row(s) are not appointments (see the report): not sent")
    return said


def _present(frame: pd.DataFrame, present: np.ndarray | None, kept_at: list[int]) -> np.ndarray:
    """True where a cell of ``frame`` holds text: from ``present`` (the columns as given, of
    which ``kept_at`` were kept; those past its end are blank), else asked of ``frame``."""
    if present is None:
        return frame.notna().to_numpy()
    found = np.zeros((len(frame), len(kept_at)), dtype=bool)
    for k, j in enumerate(kept_at):
        if j < present.shape[1]:
            found[:, k] = present[:, j]
    return found


def _unique_names(names: list[str], letters: list[str], warnings: list[str]) -> list[str]:
    """Blank headers named after their column letter, repeated ones numbered: ``Phone (2)``."""
    named = [name or f"Column {letter}" for name, letter in zip(names, letters, strict=True)]
    unnamed = [letter for name, letter in zip(names, letters, strict=True) if not name]
    if unnamed:
        shown = ", ".join(unnamed)
        warnings.append(
            f"column(s) {shown} have data but no header; they are read as "
            + ", ".join(f"'Column {letter}'" for letter in unnamed)
        )
    taken = set(named)
    seen: dict[str, list[int]] = {}
    for j, name in enumerate(named):
        seen.setdefault(name, []).append(j)
    unique = list(named)
    repeated: list[str] = []
    said: list[str] = []
    for name, positions in seen.items():
        if len(positions) < 2:
            continue
        renamed = []
        number = 1
        for j in positions[1:]:
            number += 1
            while f"{name} ({number})" in taken:
                number += 1
            unique[j] = f"{name} ({number})"
            taken.add(unique[j])
            renamed.append(f"'{unique[j]}' (column {letters[j]})")
        where = ", ".join(letters[j] for j in positions)
        repeated.append(name)
        said.append(
            f"the header {name!r} appears {len(positions)} times (columns {where}); "
            f"the later ones are read as {', '.join(renamed)}"
        )
    if len(repeated) >= 2:  # a row of headers repeated: tables side by side (a doctor each)
        shown = ", ".join(repr(n) for n in repeated)
        later = ", ".join(u for u, n in zip(unique, named, strict=True) if u != n)
        warnings.append(
            f"the column names {shown} appear more than once on the header row: the sheet "
            f"looks like tables side by side. The later ones are read as {later}, and only the "
            "columns the mapping names are sent: put each table below the first (or on a sheet "
            "of its own), or its appointments get no reminder"
        )
    else:
        warnings += said
    return unique
