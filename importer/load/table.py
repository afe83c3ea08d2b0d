"""Load stage: a spreadsheet (CSV or a workbook) into a DataFrame of text cells, row numbers as in
Excel. Workbooks: ``.xlsx``/``.xlsm``, ``.xlsb``, old ``.xls`` and ``.ods``, all read by calamine.

Every cell is text exactly as written (``02134``, ``000123``, ``0044 20 7946 0958`` stay so); no
type is guessed here. Blank cells, and cells holding only spaces, are missing values. The
readers: :mod:`importer.load.csv_reader` (encodings, delimiters) and
:mod:`importer.load.xlsx_reader` (calamine values as text), behind
:mod:`importer.load.xlsx_safety` (zip and XML bombs).

The table (:mod:`importer.load.table_bounds`): the header row is found below a title and blank
rows, or named (``header_row``); rows above it are skipped (row numbers still count them). A
merged cell's value applies to every row it spans. Fully blank rows are dropped, each kept row
keeps its own number (header = row 1 when it is on top, so the first data row is 2). Rows that
are not appointments (totals, notes, a repeated header) stay in the frame for the report and
are listed in ``Sheet.set_aside`` with the reason; they are never sent. A column is dropped only
when its header and all its cells are blank; a blank header over data becomes ``Column F`` (its
Excel letter), a repeated header ``Phone (2)``, each with a warning (:mod:`importer.load.sheet`).
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pandas as pd

from importer.errors import LoadError
from importer.load.csv_reader import read_csv_table
from importer.load.file_types import ZipFlavour, known_document, zip_flavour
from importer.load.limits import (
    CSV_SUFFIXES,
    DEFAULT_MAX_ROWS,
    WORKBOOK_SUFFIXES,
    XLSX_SUFFIXES,
)
from importer.load.sheet import Sheet, assemble_sheet
from importer.load.table_bounds import (
    HEADER_SEARCH_ROWS,
    fill_merged,
    find_header,
    header_index,
    title_of,
)
from importer.load.xlsx_formats import pad_with_zeros, struck_cells, zero_padded_cells
from importer.load.xlsx_reader import (
    CellText,
    CellValue,
    SheetCells,
    read_sheet,
    workbook_sheet_names,
)
from importer.load.xlsx_safety import FileKind, WorkbookScan, check_workbook_once, file_kind
from importer.values.distinct import collector_paused

MAX_XLS_BYTES = 200 << 20  # an old .xls holds at most 65,536 rows; calamine reads it whole


_ACCEPTED = (
    "CSV (.csv, .tsv, .txt), Excel workbooks (.xlsx, .xlsm, .xlsb, .xls) and OpenDocument "
    "spreadsheets (.ods)"
)


def load_table(
    path: str | Path,
    *,
    sheet: str | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    header_row: int | None = None,
) -> Sheet:
    """Read a CSV file or a workbook as text cells; ``sheet`` names the workbook's sheet to read.

    Without ``sheet`` the visible sheet holding the table is read (the first of them when several
    do); without ``header_row`` (the spreadsheet row of the column names) the header is found.
    The kind of file is judged from its bytes as well as its name. Raises LoadError, in plain
    words naming the file (and row/column when one is at fault), for: a missing or unreadable
    file, an empty file, an unknown extension, a PDF, image or other document, a
    password-protected workbook, a text file named ``.xlsx``, undecodable text, broken quoting,
    an unknown sheet, more than ``max_rows`` data rows (refused before the whole file is read),
    or a zip/XML bomb.
    """
    file = str(path)
    source = Path(path)
    try:
        checked = _checked_workbook(source, file)
        if checked is None:
            return _load_csv(
                source, file=file, sheet=sheet, max_rows=max_rows, header_row=header_row
            )
        flavour, scan = checked
        with collector_paused():  # 100,000 row lists from calamine: ~0.15 s of collections
            found = read_sheet(
                source, file=file, sheet=sheet, max_rows=max_rows, last_rows=scan.last_rows
            )
            loaded = _sheet_of(
                found, source, flavour, file=file, max_rows=max_rows, header=header_row
            )
        hidden = scan.hidden_rows.get(found.part or "", ())
        if not hidden:
            return loaded
        return replace(loaded, hidden_rows=frozenset(hidden) & set(loaded.frame.index.tolist()))
    except OSError as exc:
        raise _unreadable(exc, file) from exc


def reads_as_workbook(path: str | Path) -> bool:
    """True for a workbook, whatever its name says (an .xlsx saved under .csv), False for CSV
    text. LoadError, as :func:`load_table` raises it, for a file that is neither or cannot be
    read (missing, a folder, empty, a PDF under a spreadsheet's name)."""
    file = str(path)
    try:
        return _checked_workbook(Path(path), file) is not None
    except OSError as exc:
        raise _unreadable(exc, file) from exc


def _checked_workbook(source: Path, file: str) -> tuple[str, WorkbookScan] | None:
    """The workbook format of ``source`` ("xlsx", "xlsb", "ods", "xls") once its safety checks
    passed, with what they noted of its parts; None for a CSV file. LoadError for any other
    file, saying what it is."""
    kind = _kind(source, file)
    suffix = source.suffix.lower()
    if suffix in (*WORKBOOK_SUFFIXES, *CSV_SUFFIXES):
        if kind is FileKind.ZIP:
            flavour = _flavour(source, file)
            return flavour.value, check_workbook_once(source, file=file)
        if kind is FileKind.OLD_EXCEL:
            if source.stat().st_size > MAX_XLS_BYTES:
                raise LoadError(
                    f"the old Excel (.xls) file is over {MAX_XLS_BYTES >> 20} MB, the most "
                    "that is read in one run. Save it as .xlsx in Excel, or split it",
                    file=file,
                )
            return "xls", WorkbookScan()
        if kind is FileKind.TEXT and suffix in CSV_SUFFIXES:
            return None
    raise _wrong_kind(kind, suffix, file, source)


def _load_csv(
    source: Path, *, file: str, sheet: str | None, max_rows: int, header_row: int | None
) -> Sheet:
    text = read_csv_table(source, file=file, max_rows=max_rows, header_row=header_row)
    unused = [f"a CSV file has no sheets; the sheet {sheet!r} was not used"] if sheet else []
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
        title=text.title,
    )


def _flavour(source: Path, file: str) -> ZipFlavour:
    """The workbook format of a zip; LoadError saying what it is when it is no workbook."""
    try:
        flavour = zip_flavour(source)
    except zipfile.BadZipFile as exc:
        raise LoadError(
            f"this is not a readable Excel workbook (the zip inside is damaged: {exc})", file=file
        ) from exc
    if isinstance(flavour, str):
        raise LoadError(f"this is {flavour}; the importer reads {_ACCEPTED}", file=file)
    return flavour


_SUFFIXES_OF = {
    "xlsx": XLSX_SUFFIXES,
    "xlsb": (".xlsb",),
    "xls": (".xls",),
    "ods": (".ods",),
}


_FORMAT_NAMES = {
    "xlsx": "an Excel workbook (.xlsx)",
    "xlsb": "an Excel binary workbook (.xlsb)",
    "xls": "an old Excel workbook (.xls)",
    "ods": "an OpenDocument spreadsheet (.ods)",
}


def _sheet_of(
    found: SheetCells, source: Path, flavour: str, *, file: str, max_rows: int, header: int | None
) -> Sheet:
    """The Sheet of one workbook sheet's cells: merges filled, header found (or ``header``)."""
    to_text = CellText()
    merged_cells = fill_merged(
        found.rows, found.merged, first_row=found.first_row - 1, first_column=found.first_column
    )
    header_at = _header_at(found.rows, to_text, header, found.first_row, file=file)
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
    if source.suffix.lower() not in _SUFFIXES_OF[flavour]:
        notes.append(
            f"the file is named {source.suffix} but is {_FORMAT_NAMES[flavour]}; read as one"
        )
    struck, partly = _struck_rows(
        struck_cells(source, found.part), columns, first_body_row, found.first_column
    )
    if partly:
        shown = ", ".join(str(row) for row in partly[:_STRUCK_SHOWN])
        more = f" and {len(partly) - _STRUCK_SHOWN:,} more" if len(partly) > _STRUCK_SHOWN else ""
        some = f"row {shown} has" if len(partly) == 1 else f"rows {shown}{more} have"
        notes.append(
            f"{some} cells struck through in Excel, not the whole row: read as written; check "
            "what the crossing out meant"
        )
    if merged_cells:
        notes.append(
            f"{merged_cells:,} cell(s) are part of merged cells; each row of a merged cell "
            "takes its value"
        )
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
        title=title_of([to_text(row) for row in found.rows[:header_at]]),
        crossed_out=struck,
    )
    return replace(loaded, warnings=(*loaded.warnings, *to_text.warnings()), hidden=found.hidden)


_STRUCK_SHOWN = 10  # rows partly struck through named in the warning
STRUCK_ROW = (
    "not an appointment: crossed out in Excel (its text struck through), as visits called off are"
)


def _struck_rows(
    struck: set[tuple[int, int]],
    columns: list[Sequence[str | None]],
    first_row: int,
    first_column: int,
) -> tuple[dict[int, str], list[int]]:
    """The rows of the table (``columns``' texts, the first in sheet row ``first_row``) whose
    every cell holding a value is struck through (row -> why it is not sent), and those with
    some cells struck through; rows as the sheet numbers them."""
    by_row: dict[int, set[int]] = {}
    for row, column in struck:
        j = column - first_column
        if 0 <= j < len(columns) and 0 <= row + 1 - first_row < len(columns[j]):
            by_row.setdefault(row + 1, set()).add(j)
    whole: dict[int, str] = {}
    partly: list[int] = []
    for row in sorted(by_row):
        i = row - first_row
        filled = {j for j, cells in enumerate(columns) if cells[i] not in (None, "")}
        crossed = by_row[row] & filled
        if crossed and crossed == filled:
            whole[row] = STRUCK_ROW
        elif crossed:
            partly.append(row)
    return whole, partly


def _header_at(
    rows: list[list[CellValue]],
    to_text: CellText,
    header_row: int | None,
    first_row: int,
    *,
    file: str,
) -> int | None:
    """The index in ``rows`` of the header: the row named, else the one found."""
    shown = rows if header_row is not None else rows[: 2 * HEADER_SEARCH_ROWS]
    texts = [to_text(row) for row in shown]
    if header_row is None:
        return find_header(texts)
    if header_row < first_row:  # rows above the first used row are blank
        header_index(header_row, header_row, [False], file=file)
    return header_index(
        header_row, first_row, [any(t is not None for t in r) for r in texts], file=file
    )


def sheet_names(path: str | Path, *, hidden: bool = True) -> list[str]:
    """The worksheets of a workbook: visible ones in workbook order, then hidden ones.

    Hidden sheets are listed (last) so they can be chosen by name, but ``load_table`` never picks
    one by default (``hidden=False`` leaves them out). Chart sheets are left out. A CSV file
    has no sheets: ``[]``. Raises LoadError
    as :func:`load_table` does for a file that is not a readable workbook.
    """
    file = str(path)
    source = Path(path)
    try:
        if _checked_workbook(source, file) is None:
            return []
        return workbook_sheet_names(source, file=file, hidden=hidden)
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


def _wrong_kind(kind: FileKind, suffix: str, file: str, source: Path) -> LoadError:
    if kind is FileKind.DOCUMENT:
        try:
            with source.open("rb") as stream:
                what = known_document(stream.read(16)) or "not a spreadsheet"
        except OSError as exc:
            return _unreadable(exc, file)
        return LoadError(
            f"this is {what}, not a spreadsheet, whatever its name says; the importer reads "
            f"{_ACCEPTED}. Export the appointments from the program that keeps them as a "
            "spreadsheet and use that file",
            file=file,
        )
    if kind is FileKind.ENCRYPTED_EXCEL:
        return LoadError(
            "the workbook is password-protected; remove the password in Excel and save again",
            file=file,
        )
    if suffix not in (*CSV_SUFFIXES, *WORKBOOK_SUFFIXES):
        shown = f"a {suffix} file" if suffix else "a file without an extension"
        return LoadError(f"this is {shown}; the importer reads {_ACCEPTED}", file=file)
    if kind is FileKind.TEXT:
        return LoadError(
            "this is not a workbook (it looks like text/CSV); if it is CSV, rename it to .csv",
            file=file,
        )
    what = "workbook" if suffix in WORKBOOK_SUFFIXES else "text (CSV) file"
    return LoadError(f"this is not a {what}: its content is neither text nor a workbook", file=file)


def sheets_like(path: str | Path, loaded: Sheet, *, max_rows: int = DEFAULT_MAX_ROWS) -> list[str]:
    """The visible sheets of ``path`` with the same column names as ``loaded`` (one of them).

    In workbook order, ``loaded``'s sheet included; [] for a CSV file or when no other sheet has
    these columns. A sheet that cannot be read is left out.
    """
    if loaded.sheet_name is None:
        return []
    wanted = {str(c) for c in loaded.frame.columns}
    found = []
    for name in sheet_names(path):
        if name == loaded.sheet_name:
            found.append(name)
            continue
        try:
            other = load_table(path, sheet=name, max_rows=max_rows)
        except LoadError:
            continue
        if not other.hidden and {str(c) for c in other.frame.columns} == wanted:
            found.append(name)
    return found if len(found) > 1 else []
