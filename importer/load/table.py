"""Load stage: a spreadsheet (CSV or XLSX) into a DataFrame of text cells, row numbers as in Excel.

Every cell is text exactly as written (``02134``, ``000123``, ``0044 20 7946 0958`` stay so); no
type is guessed here. Blank cells, and cells holding only spaces, are missing values. The
readers: :mod:`importer.load.csv_reader` (encodings, delimiters) and
:mod:`importer.load.xlsx_reader` (calamine values as text), behind
:mod:`importer.load.xlsx_safety` (zip and XML bombs).

The table: the header is the first row with any text; blank rows above it are skipped (row
numbers still count them). Fully blank rows are dropped, each kept row keeps its own number
(header = row 1 when it is on top, so the first data row is 2). A column is dropped only when its
header and all its cells are blank; a blank header over data becomes ``Column F`` (its Excel
letter), a repeated header ``Phone (2)``, each with a warning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from importer.errors import LoadError
from importer.load.csv_reader import check_width, read_csv_table
from importer.load.xlsx_formats import pad_with_zeros, zero_padded_cells
from importer.load.xlsx_reader import CellText, column_letter, read_sheet, workbook_sheet_names
from importer.load.xlsx_safety import FileKind, check_workbook_zip, file_kind
from importer.values.distinct import collector_paused

DEFAULT_MAX_ROWS = 200_000


CSV_SUFFIXES = (".csv", ".tsv", ".txt")


XLSX_SUFFIXES = (".xlsx", ".xlsm")


_ACCEPTED = "CSV (.csv, .tsv, .txt) and Excel workbooks (.xlsx)"


@dataclass(frozen=True)
class Sheet:
    """One table read from a file: text cells, spreadsheet row numbers, what to tell the user."""

    frame: pd.DataFrame  # text cells (pandas str dtype), blank = missing; index "row" = Excel row
    file: str  # the path as given, for messages
    sheet_name: str | None  # the XLSX sheet read; None for CSV
    encoding: str | None  # the CSV encoding found ("utf-8", "utf-8-sig", "cp1252", "utf-16")
    delimiter: str | None  # the CSV delimiter found ("," ";" or "\t")
    warnings: tuple[str, ...]  # what the user should know but did not stop the load


def load_table(
    path: str | Path, *, sheet: str | None = None, max_rows: int = DEFAULT_MAX_ROWS
) -> Sheet:
    """Read a CSV or XLSX file as text cells; ``sheet`` names the XLSX sheet to read.

    Without ``sheet`` the first visible sheet is read. The kind of file is judged from its bytes
    as well as its name. Raises LoadError, in plain words naming the file (and row/column when
    one is at fault), for: a missing or unreadable file, an empty file, an unknown extension, an
    old ``.xls``, a password-protected workbook, a text file named ``.xlsx``, undecodable text,
    broken quoting, an unknown sheet, more than ``max_rows`` data rows (refused before the whole
    file is read), or a zip/XML bomb.
    """
    file = str(path)
    source = Path(path)
    kind = _kind(source, file)
    suffix = source.suffix.lower()
    try:
        if kind is FileKind.ZIP and suffix in (*XLSX_SUFFIXES, ".xls", *CSV_SUFFIXES):
            last_rows = _check_workbook_once(source, file=file)
            with collector_paused():  # 100,000 row lists from calamine: ~0.15 s of collections
                return _load_sheet(
                    source, file=file, sheet=sheet, max_rows=max_rows, last_rows=last_rows
                )
        if kind is FileKind.TEXT and suffix in CSV_SUFFIXES:
            text = read_csv_table(source, file=file, max_rows=max_rows)
            unused = (
                [f"a CSV file has no sheets; the sheet {sheet!r} was not used"] if sheet else []
            )
            return assemble_sheet(
                text.header,
                text.columns,
                text.rows,
                file=file,
                max_rows=max_rows,
                header_row=text.header_row,
                encoding=text.encoding,
                delimiter=text.delimiter,
                notes=unused,
            )
    except OSError as exc:
        raise _unreadable(exc, file) from exc
    raise _wrong_kind(kind, suffix, file)


# Workbooks that passed the zip/XML bomb checks, by (path, size, modified ns, inode): `validate`
# lists the sheets and then loads one, and the check inflates every XML part (0.1 s per 100,000
# rows). A changed or replaced file has another key and is checked again. Each keeps the last row
# number the check noted per part.
_SAFE_WORKBOOKS: dict[tuple[str, int, int, int], dict[str, int]] = {}


_SAFE_WORKBOOKS_KEPT = 16


def _check_workbook_once(source: Path, *, file: str) -> dict[str, int]:
    """``check_workbook_zip``, skipped for a file that passed it unchanged in this process.

    Returns the last row number it noted per part (an upper bound of each sheet's rows).
    """
    try:
        status = source.stat()
        key = (str(source.resolve()), status.st_size, status.st_mtime_ns, status.st_ino)
    except OSError:
        key = None
    if key is not None and key in _SAFE_WORKBOOKS:
        return _SAFE_WORKBOOKS[key]
    last_rows = check_workbook_zip(source, file=file)
    if key is not None:
        if len(_SAFE_WORKBOOKS) >= _SAFE_WORKBOOKS_KEPT:
            _SAFE_WORKBOOKS.pop(next(iter(_SAFE_WORKBOOKS)))
        _SAFE_WORKBOOKS[key] = last_rows
    return last_rows


def _load_sheet(
    source: Path, *, file: str, sheet: str | None, max_rows: int, last_rows: dict[str, int]
) -> Sheet:
    found = read_sheet(source, file=file, sheet=sheet, max_rows=max_rows, last_rows=last_rows)
    to_text = CellText()
    header_at = next(
        (i for i, row in enumerate(found.rows) if any(t is not None for t in to_text(row))), None
    )
    if header_at is None:  # every cell holds spaces only
        raise LoadError("the sheet is empty", file=file, sheet=found.sheet_name)
    body = found.rows[header_at + 1 :]
    columns = [to_text(cells) for cells in zip(*body, strict=True)] if body else []
    first_body_row = found.first_row + header_at + 1
    padded = zero_padded_cells(source, found.part)
    if padded:
        pad_with_zeros(
            columns, body, padded, first_row=first_body_row, first_column=found.first_column
        )
    notes = []
    if found.hidden:
        notes.append(
            f"the sheet {found.sheet_name!r} is hidden in Excel; read because it was named"
        )
    if source.suffix.lower() not in XLSX_SUFFIXES:
        notes.append(f"the file is named {source.suffix} but is an Excel workbook; read as one")
    loaded = assemble_sheet(
        [text or "" for text in to_text(found.rows[header_at])],
        columns,
        pd.RangeIndex(first_body_row, first_body_row + len(body)),
        file=file,
        max_rows=max_rows,
        header_row=first_body_row - 1,
        first_column=found.first_column,
        sheet_name=found.sheet_name,
        notes=notes,
    )
    return replace(loaded, warnings=(*loaded.warnings, *to_text.warnings()))


def sheet_names(path: str | Path) -> list[str]:
    """The worksheets of an XLSX workbook: visible ones in workbook order, then hidden ones.

    Hidden sheets are listed (last) so they can be chosen by name, but ``load_table`` never picks
    one by default. Chart sheets are left out. A CSV file has no sheets: ``[]``. Raises LoadError
    as :func:`load_table` does for a file that is not a readable workbook.
    """
    file = str(path)
    source = Path(path)
    kind = _kind(source, file)
    if kind is not FileKind.ZIP:
        if kind is FileKind.TEXT and source.suffix.lower() in CSV_SUFFIXES:
            return []
        raise _wrong_kind(kind, source.suffix.lower(), file)
    try:
        _check_workbook_once(source, file=file)
        return workbook_sheet_names(source, file=file)
    except OSError as exc:
        raise _unreadable(exc, file) from exc


def _unreadable(exc: OSError, file: str) -> LoadError:
    if isinstance(exc, FileNotFoundError):
        return LoadError("the file does not exist", file=file)
    if isinstance(exc, IsADirectoryError):
        return LoadError("this is a folder, not a file", file=file)
    if isinstance(exc, PermissionError):
        return LoadError("the file cannot be opened: permission denied", file=file)
    return LoadError(f"the file cannot be read ({exc.strerror or exc})", file=file)


def _kind(source: Path, file: str) -> FileKind:
    try:
        kind = file_kind(source)
    except OSError as exc:
        raise _unreadable(exc, file) from exc
    if kind is FileKind.EMPTY:
        raise LoadError("the file is empty", file=file)
    return kind


def _wrong_kind(kind: FileKind, suffix: str, file: str) -> LoadError:
    if kind is FileKind.OLD_EXCEL:
        return LoadError(
            "this is an old Excel 97-2003 .xls file; open it in Excel and save it as .xlsx or CSV",
            file=file,
        )
    if kind is FileKind.ENCRYPTED_EXCEL:
        return LoadError(
            "the workbook is password-protected; remove the password in Excel and save again",
            file=file,
        )
    if suffix not in (*CSV_SUFFIXES, *XLSX_SUFFIXES, ".xls"):
        shown = f"a {suffix} file" if suffix else "a file without an extension"
        return LoadError(f"this is {shown}; the importer reads {_ACCEPTED}", file=file)
    if kind is FileKind.TEXT:
        return LoadError(
            "this is not an Excel workbook (it looks like text/CSV); if it is CSV, rename it "
            "to .csv",
            file=file,
        )
    if kind is FileKind.ZIP:
        return LoadError(
            f"this is a zip archive, not a spreadsheet; the importer reads {_ACCEPTED}", file=file
        )
    what = "Excel workbook" if suffix in (*XLSX_SUFFIXES, ".xls") else "text (CSV) file"
    return LoadError(f"this is not a {what}: its content is neither text nor a workbook", file=file)


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
) -> Sheet:
    """Name the columns, drop blank rows and columns, and check the row cap: the Sheet.

    ``columns[j]`` holds the cells below ``header[j]`` (blank = None/NaN), the column at
    ``first_column + j`` (0 = A); ``rows`` gives each body row its spreadsheet row number. A
    column wider than the header gets a blank header. Raises LoadError when more than
    ``max_rows`` rows with text follow the header.
    """
    warnings = list(notes)
    if header_row > 1:
        warnings.append(f"the header is on row {header_row}; the blank rows above it were skipped")
    names: list[str] = []
    letters: list[str] = []
    kept: list[pd.api.extensions.ExtensionArray] = []
    for j in range(max(len(header), len(columns))):
        values = pd.array(columns[j] if j < len(columns) else [None] * len(rows), dtype="str")
        name = header[j].strip() if j < len(header) else ""
        if not name and values.isna().all():
            continue  # no header, no data: a blank column
        names.append(name)
        letters.append(column_letter(first_column + j))
        kept.append(values)
    check_width(len(names), file=file)
    names = _unique_names(names, letters, warnings)
    frame = pd.DataFrame(dict(zip(names, kept, strict=True)), index=rows)
    frame.index = pd.Index(rows, dtype="int64", name="row")
    filled = frame.notna().any(axis=1)
    if not filled.all():
        frame = frame[filled]
    if len(frame) > max_rows:
        raise LoadError(
            f"there are {len(frame):,} rows below the header; at most {max_rows:,} are read "
            "in one run. Split the file into smaller ones",
            file=file,
            sheet=sheet_name,
        )
    return Sheet(frame, file, sheet_name, encoding, delimiter, tuple(warnings))


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
        warnings.append(
            f"the header {name!r} appears {len(positions)} times (columns {where}); "
            f"the later ones are read as {', '.join(renamed)}"
        )
    return unique
