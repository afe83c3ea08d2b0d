"""Read one sheet of an .xlsx workbook as rows of text, through python-calamine.

Calamine returns Python values; they become text here the way a person reads them in Excel:

==================  ==============================  ==========================================
calamine gives      example                         text
==================  ==============================  ==========================================
str                 ``"02134"``                     as is (leading zeros kept)
float, integral     ``5415550104.0``                ``"5415550104"`` (never ``5.42E+09``)
float               ``12.5``, ``1e-07``             ``"12.5"``, ``"0.0000001"`` (no exponent)
bool                ``True``                        ``"TRUE"``
date                ``date(2026, 12, 1)``           ``"2026-12-01"``
datetime            ``14:30:00``, ``14:30:15``      ``"2026-12-01 14:30"``, ``... 14:30:15``
time                ``time(14, 30)``                ``"14:30"`` (seconds only when not zero)
timedelta           ``[h]:mm`` cells, 1 h 30 min    ``"01:30"``
==================  ==============================  ==========================================

A whole number in a cell formatted with leading zeros (``00000``, Excel's "Zip Code" format) reads
as Excel shows it, ``02134``: calamine does not give number formats, so
:mod:`importer.load.xlsx_formats` finds such cells in the workbook's XML (only when its
styles define such a format).

Dates follow the workbook's date system (1900 or 1904): calamine reads ``date1904`` itself.
Times are rounded to the nearest second, as Excel shows them (a serial number rarely lands on
the exact second). Calamine gives a ``date`` for every whole serial number, so a date-and-time
cell at exactly midnight reads as the date alone. Cells showing an Excel error (``#N/A``) and
formulas without a saved result read as blank. Merged cells read as Excel shows them (the value
in the top-left cell, the others blank); their ranges are kept in :class:`SheetCells` so the
table can give the value to every row a merge spans. The same reader takes ``.xls``, ``.xlsb``
and ``.ods`` workbooks: calamine reads them all (``.ods`` merges are read from its XML by
:mod:`importer.load.ods_merges`, calamine does not give them).
"""

from __future__ import annotations

import datetime as dt
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import python_calamine as calamine
from defusedxml.ElementTree import ParseError

from importer.errors import LoadError
from importer.load.ods_merges import CellRange, ods_merged_ranges
from importer.load.read_ahead import taken_sheet
from importer.load.table_bounds import table_rows
from importer.load.xlsx_parts import Worksheet, listed_worksheets, rows_with_values

EXACT_DIGITS = 15  # Excel keeps 15 significant digits of a number; more are rounded away
_EXACT_LIMIT = 10.0**EXACT_DIGITS  # integral numbers below it have at most 15 digits

CellValue = int | float | str | bool | dt.time | dt.date | dt.datetime | dt.timedelta


@dataclass(frozen=True)
class SheetCells:
    """The cells of one sheet as calamine gives them, from its first used row and column."""

    rows: list[list[CellValue]]  # "" for a blank cell; every row as wide as the used range
    first_row: int  # spreadsheet row number (1-based) of rows[0]
    first_column: int  # 0-based column index of rows[i][0] (0 = column A)
    sheet_name: str
    hidden: bool  # the sheet is hidden in Excel (read because it was named)
    part: str | None  # the zip member holding the sheet; None when the workbook part does not say
    merged: list[
        CellRange
    ]  # merged ranges, 0-based sheet coordinates ((top, left), (bottom, right))


def _is_worksheet(meta: calamine.SheetMetadata) -> bool:
    return bool(meta.typ == calamine.SheetTypeEnum.WorkSheet)


def _is_visible(meta: calamine.SheetMetadata) -> bool:
    return bool(meta.visible == calamine.SheetVisibleEnum.Visible)


def _open(path: Path, file: str) -> calamine.CalamineWorkbook:
    try:
        try:
            return calamine.CalamineWorkbook.from_path(str(path))
        except calamine.PasswordError:
            raise
        except (calamine.CalamineError, ValueError):
            # calamine picks the format by the name; a workbook renamed (an .ods saved as
            # .xlsx, an .xls as .xlsx) is read by its content instead.
            with path.open("rb") as stream:
                return calamine.CalamineWorkbook.from_filelike(stream)
    except calamine.PasswordError as exc:
        raise LoadError(
            "the workbook is password-protected; remove the password in Excel and save again",
            file=file,
        ) from exc
    except (calamine.CalamineError, ValueError) as exc:
        raise LoadError(f"this is not a readable Excel workbook ({exc})", file=file) from exc


def workbook_sheet_names(path: Path, *, file: str, hidden: bool = True) -> list[str]:
    """Worksheet names: the visible ones in workbook order, then the hidden ones.

    Chart sheets (no cells) are left out. Call only after the safety checks. Read from the
    workbook part when it says all (~1 ms; calamine reads the whole shared-strings table first,
    0.1 s for 100,000 rows), else by calamine.
    """
    listed = _listed_worksheets(path)
    if listed is not None:
        visible, hidden_ones = _by_state(listed)
    else:
        workbook = _open(path, file)
        try:
            visible, hidden_ones = _calamine_worksheets(workbook)
        finally:
            workbook.close()
    return visible + hidden_ones if hidden else visible


def _listed_worksheets(path: Path) -> list[Worksheet] | None:
    """The worksheets as the workbook part lists them; None when it does not say (calamine may)."""
    try:
        return listed_worksheets(path)
    except (KeyError, ValueError, zipfile.BadZipFile, ParseError):
        return None


def _by_state(listed: list[Worksheet]) -> tuple[list[str], list[str]]:
    return [w.name for w in listed if w.visible], [w.name for w in listed if not w.visible]


def _calamine_worksheets(workbook: calamine.CalamineWorkbook) -> tuple[list[str], list[str]]:
    worksheets = [m for m in workbook.sheets_metadata if _is_worksheet(m)]
    return (
        [m.name for m in worksheets if _is_visible(m)],
        [m.name for m in worksheets if not _is_visible(m)],
    )


def _choose_sheet(visible: list[str], hidden: list[str], wanted: str | None, *, file: str) -> str:
    listed = ", ".join([repr(n) for n in visible] + [f"{n!r} (hidden)" for n in hidden])
    listed = listed or "no worksheet"
    if wanted is None:
        if visible:
            return visible[0]
        raise LoadError(
            f"the workbook has no visible sheet; name the sheet to read (it has: {listed})",
            file=file,
        )
    names = visible + hidden
    if wanted in names:
        return wanted
    # A name typed with other capitals or stray spaces is still one sheet, if it is only one.
    loose = [n for n in names if n.strip().casefold() == wanted.strip().casefold()]
    if len(loose) == 1:
        return loose[0]
    raise LoadError(f"there is no sheet {wanted!r}; the workbook has: {listed}", file=file)


def read_sheet(
    path: Path,
    *,
    file: str,
    sheet: str | None,
    max_rows: int,
    last_rows: Mapping[str, int] | None = None,
) -> SheetCells:
    """The cells of one sheet as calamine values; ``sheet=None`` takes the first visible sheet.

    Refuses (LoadError) a sheet with more than ``max_rows`` rows below its first used row. When
    the workbook part lists its sheets and ``last_rows`` (the safety check's last row number per
    part) says the chosen sheet may be over the cap, its rows holding values are counted in its
    XML before calamine opens the workbook, reading only until the count passes the cap.
    Calamine's count decides in the end, before any cell is turned into Python values. Call only
    after the safety checks.
    """
    listed = _listed_worksheets(path)
    workbook = None
    try:
        if listed is None:
            workbook = _open(path, file)
            visible, hidden = _calamine_worksheets(workbook)
        else:
            visible, hidden = _by_state(listed)
        if sheet is None and len(visible) > 1:
            workbook = workbook or _open(path, file)
            name = _sheet_holding_the_table(workbook, visible)
        else:
            name = _choose_sheet(visible, hidden, sheet, file=file)
        part = None if listed is None else next(w.part for w in listed if w.name == name)
        if part is not None and last_rows is not None:
            _refuse_over_the_cap(path, part, last_rows, max_rows, file=file, sheet=name)
        cells = taken_sheet(path, name)  # parsed while the program loaded (the command line)
        if cells is None:
            if workbook is None:
                workbook = _open(path, file)
            try:
                cells = workbook.get_sheet_by_name(name)
            except calamine.CalamineError as exc:
                raise LoadError(f"the sheet cannot be read ({exc})", file=file, sheet=name) from exc
        if cells.start is None:
            raise LoadError("the sheet is empty", file=file, sheet=name)
        first_row, first_column = cells.start
        # height spans the first to the last row holding a value (formatting alone does not
        # count): the header and every data row, blank rows inside the table included.
        if cells.height - 1 > max_rows:
            raise LoadError(
                f"the sheet has {cells.height - 1:,} rows below the header; at most "
                f"{max_rows:,} are read in one run. Split it into smaller files",
                file=file,
                sheet=name,
            )
        values = cells.to_python(skip_empty_area=True)
        merged = cells.merged_cell_ranges
        if merged is None:  # calamine gives none for .ods (and .xlsb)
            merged = ods_merged_ranges(path, name) if zipfile.is_zipfile(path) else []
    finally:
        if workbook is not None:
            workbook.close()
    return SheetCells(values, first_row + 1, first_column, name, name in hidden, part, merged)


_PEEK_ROWS = 500  # rows of each sheet looked at to find the one holding the table


def _sheet_holding_the_table(workbook: calamine.CalamineWorkbook, visible: list[str]) -> str:
    """The first visible sheet holding a table (rows under a header, its first rows looked at)
    at least half as long as the longest: a "Notes" or "Read me" sheet in front of the
    appointments is passed over, and of several day sheets the first is read."""
    found: list[tuple[str, int]] = []
    for name in visible:
        try:
            peeked = workbook.get_sheet_by_name(name).to_python(nrows=_PEEK_ROWS)
        except calamine.CalamineError:
            continue
        rows = table_rows([[None if c == "" else cell_text(c) for c in row] for row in peeked])
        found.append((name, rows))
    longest = max((rows for _, rows in found), default=0)
    if longest == 0:
        return visible[0]
    return next(name for name, rows in found if 2 * rows >= longest)


def _refuse_over_the_cap(
    path: Path, part: str, last_rows: Mapping[str, int], max_rows: int, *, file: str, sheet: str
) -> None:
    """Refuse the sheet in ``part`` if more than ``max_rows`` rows below the header hold values.

    Rows holding values are fewer than (or as many as) the rows calamine spans, so this never
    refuses a sheet calamine's count would accept.
    """
    last_row = last_rows.get(part)
    if last_row is not None and last_row - 1 <= max_rows:
        return  # even if every row up to the last one held a value, the sheet is within the cap
    try:
        rows = rows_with_values(path, part, stop_after=max_rows + 1)
    except (KeyError, zipfile.BadZipFile, zlib.error):
        return  # a part this reading cannot follow: calamine's count decides
    if rows - 1 > max_rows:
        raise LoadError(
            f"the sheet has more than {max_rows:,} rows below the header; at most {max_rows:,} "
            "are read in one run. Split it into smaller files",
            file=file,
            sheet=sheet,
        )


_SAMPLE_CELLS = 1000  # cells looked at to judge whether a column repeats its text


class CellText:
    """Turns a column (or row) of calamine values into text, blank cells into None.

    One instance per sheet: it remembers the text of each value met (a date column repeats a few
    hundred dates) and which numbers have more digits than Excel keeps.
    """

    def __init__(self) -> None:
        self._known: dict[CellValue, str] = {}
        self.long_numbers: list[str] = []  # texts of integral numbers over EXACT_DIGITS digits

    def __call__(self, cells: Sequence[CellValue]) -> Sequence[str | None]:
        """The cells as text (see the module table); empty or all-space text cells -> None.

        One pass per column. Equal text cells of a column with repeats become one string object,
        as pandas' CSV reader does: later hashing (factorize, isin, duplicated) is then done once
        per distinct text. A column whose first cells are mostly distinct (ids, phones) is not
        worth the dict.
        """
        other = self._other
        sample = cells[:_SAMPLE_CELLS]
        if len(set(sample)) > len(sample) // 2:
            # Each text copied, in column order: calamine made the cells row by row, so one
            # column's texts lay scattered among the others'. Together, the dozen later passes
            # over the column (strip, factorize, checks) take ~20% less (~0.2 s per 100,000
            # rows), for ~10 ms of copying per column.
            join = "".join
            return [
                (join(("", c)) if c and not c.isspace() else None) if type(c) is str else other(c)
                for c in cells
            ]
        seen: dict[str, str] = {}
        shared = seen.setdefault
        return [
            (shared(c, c) if c and not c.isspace() else None) if type(c) is str else other(c)
            for c in cells
        ]

    def _other(self, value: CellValue) -> str:
        if type(value) is float:  # phone numbers and ids: mostly unique, so not memoised
            if value.is_integer() and -_EXACT_LIMIT < value < _EXACT_LIMIT:
                return str(int(value))
            digits = number_text(value)
            if value.is_integer():
                self.long_numbers.append(digits)
            return digits
        if type(value) is bool:  # True == 1.0: kept out of the memo
            return "TRUE" if value else "FALSE"
        text = self._known.get(value)
        if text is None:
            text = self._known[value] = cell_text(value)
        return text

    def warnings(self) -> list[str]:
        """A warning if numbers longer than Excel's 15 digits were read (their end may be lost)."""
        if not self.long_numbers:
            return []
        return [
            f"{len(self.long_numbers):,} number(s) have more than {EXACT_DIGITS} digits (the "
            f"first: {self.long_numbers[0]}); Excel keeps only {EXACT_DIGITS}, so their last "
            "digits may be wrong. Store such ids as text in Excel"
        ]


def cell_text(value: CellValue) -> str:
    """One calamine value as text (see the module table)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return number_text(value)
    if isinstance(value, dt.datetime):  # before date: a datetime is a date too
        return datetime_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return time_text(value)
    if isinstance(value, dt.timedelta):
        return duration_text(value)
    return str(value)


def number_text(value: float) -> str:
    """A number as its full digits: ``5415550104.0`` -> ``"5415550104"``, ``12.5`` -> ``"12.5"``."""
    if value.is_integer():
        if abs(value) < 2**53:
            return str(int(value))
        # Beyond 2**53 a float holds binary noise in its last digits: print the shortest
        # decimal that reads back the same (what Excel shows), never an exponent.
        return format(Decimal(repr(value)), "f")
    text = repr(value)
    return format(Decimal(text), "f") if "e" in text else text


def _round_to_second(value: dt.datetime) -> dt.datetime:
    if value.microsecond >= 500_000:
        value += dt.timedelta(seconds=1)
    return value.replace(microsecond=0)


def datetime_text(value: dt.datetime) -> str:
    """``2026-12-01 14:30``, with ``:15`` seconds only when they are not zero."""
    value = _round_to_second(value)
    text = value.strftime("%Y-%m-%d %H:%M:%S")
    return text[:-3] if text.endswith(":00") else text


def time_text(value: dt.time) -> str:
    """``14:30`` or ``14:30:15``; a time rounding up past midnight becomes ``00:00`` as in Excel."""
    rounded = _round_to_second(dt.datetime.combine(dt.date(2000, 1, 1), value)).time()
    text = rounded.strftime("%H:%M:%S")
    return text[:-3] if text.endswith(":00") else text


def duration_text(value: dt.timedelta) -> str:
    """A duration in hours and minutes: ``01:30``, ``-36:00`` (``[h]:mm`` cells), seconds if any."""
    seconds = round(value.total_seconds())
    sign = "-" if seconds < 0 else ""
    hours, rest = divmod(abs(seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours:02d}:{minutes:02d}" + (f":{seconds:02d}" if seconds else "")


def column_letter(index: int) -> str:
    """Excel's letters for a 0-based column index: 0 -> ``A``, 25 -> ``Z``, 26 -> ``AA``."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters
