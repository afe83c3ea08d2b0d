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
as Excel shows it, ``02134``: calamine does not give number formats, so :func:`zero_padded_cells`
finds such cells in the workbook's XML (only when its styles define such a format).

Dates follow the workbook's date system (1900 or 1904): calamine reads ``date1904`` itself.
Times are rounded to the nearest second, as Excel shows them (a serial number rarely lands on
the exact second). Calamine gives a ``date`` for every whole serial number, so a date-and-time
cell at exactly midnight reads as the date alone. Cells showing an Excel error (``#N/A``) and
formulas without a saved result read as blank. Merged cells read as Excel shows them: the value
in the top-left cell, the others blank.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO

import python_calamine as calamine
from defusedxml import ElementTree
from defusedxml.ElementTree import ParseError

from importer.errors import LoadError

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


def _is_worksheet(meta: calamine.SheetMetadata) -> bool:
    return bool(meta.typ == calamine.SheetTypeEnum.WorkSheet)


def _is_visible(meta: calamine.SheetMetadata) -> bool:
    return bool(meta.visible == calamine.SheetVisibleEnum.Visible)


def _open(path: Path, file: str) -> calamine.CalamineWorkbook:
    try:
        return calamine.CalamineWorkbook.from_path(str(path))
    except calamine.PasswordError as exc:
        raise LoadError(
            "the workbook is password-protected; remove the password in Excel and save again",
            file=file,
        ) from exc
    except (calamine.CalamineError, ValueError) as exc:
        raise LoadError(f"this is not a readable Excel workbook ({exc})", file=file) from exc


def workbook_sheet_names(path: Path, *, file: str) -> list[str]:
    """Worksheet names: the visible ones in workbook order, then the hidden ones.

    Chart sheets (no cells) are left out. Call only after the safety checks. Read from the
    workbook part when it says all (~1 ms; calamine reads the whole shared-strings table first,
    0.1 s for 100,000 rows), else by calamine.
    """
    try:
        listed = _listed_sheet_names(path)
    except (KeyError, ValueError, zipfile.BadZipFile, ParseError):
        listed = None
    if listed:
        return listed
    workbook = _open(path, file)
    try:
        worksheets = [m for m in workbook.sheets_metadata if _is_worksheet(m)]
    finally:
        workbook.close()
    return [m.name for m in worksheets if _is_visible(m)] + [
        m.name for m in worksheets if not _is_visible(m)
    ]


def _choose_sheet(workbook: calamine.CalamineWorkbook, wanted: str | None, *, file: str) -> str:
    worksheets = [m for m in workbook.sheets_metadata if _is_worksheet(m)]
    visible = [m.name for m in worksheets if _is_visible(m)]
    hidden = [m.name for m in worksheets if not _is_visible(m)]
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


def read_sheet(path: Path, *, file: str, sheet: str | None, max_rows: int) -> SheetCells:
    """The cells of one sheet as calamine values; ``sheet=None`` takes the first visible sheet.

    Refuses (LoadError) a sheet with more than ``max_rows`` rows below its first used row,
    before any cell is turned into Python values. Call only after the safety checks.
    """
    workbook = _open(path, file)
    try:
        name = _choose_sheet(workbook, sheet, file=file)
        hidden = any(m.name == name and not _is_visible(m) for m in workbook.sheets_metadata)
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
    finally:
        workbook.close()
    return SheetCells(values, first_row + 1, first_column, name, hidden)


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
            return [
                (c if c and not c.isspace() else None) if type(c) is str else other(c)
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


# --- numbers formatted with leading zeros ------------------------------------------------------

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_DOC_RELS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_ZEROS = re.compile(r"0{2,}")  # a format that is only zeros pads a whole number to its width
_CELL_REF = re.compile(rb' r="([A-Z]{1,3})([0-9]{1,7})"')
_SCAN_BYTES = 4 << 20


def zero_padded_cells(path: Path, sheet_name: str) -> dict[tuple[int, int], int]:
    """Cells of ``sheet_name`` styled with a zero-padding format: (row, column) -> width, 0-based.

    Empty (and cheap: styles.xml only) unless the workbook defines such a format. Reads the
    sheet's XML in chunks; call only after the safety checks. Cells without an ``r`` reference
    (rare writers) are not found.
    """
    try:
        return _zero_padded_cells(path, sheet_name)
    except (KeyError, ValueError, zipfile.BadZipFile, ParseError):
        return {}  # parts calamine read but this reading cannot: the plain numbers stand


def _zero_padded_cells(path: Path, sheet_name: str) -> dict[tuple[int, int], int]:
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        workbook_part = _office_document(archive, names)
        folder = workbook_part.rsplit("/", 1)[0] + "/" if "/" in workbook_part else ""
        targets = _relationships(archive, f"{folder}_rels/{workbook_part.rsplit('/', 1)[-1]}.rels")
        styles = next((t for kind, t in targets.values() if kind.endswith("/styles")), None)
        widths = _padding_styles(archive, _part(folder, styles)) if styles else {}
        if not widths:
            return {}
        workbook_xml = ElementTree.fromstring(archive.read(workbook_part))
        sheet_id = next(
            (
                node.get(f"{_DOC_RELS}id")
                for node in workbook_xml.iter(f"{_MAIN}sheet")
                if node.get("name") == sheet_name
            ),
            None,
        )
        if sheet_id not in targets:
            return {}
        sheet_part = _part(folder, targets[sheet_id][1])
        if sheet_part not in names:
            return {}
        with archive.open(sheet_part) as stream:
            return _styled_numbers(stream, widths)


def pad_with_zeros(
    columns: list[Sequence[str | None]],
    body: Sequence[Sequence[CellValue]],
    padded: dict[tuple[int, int], int],
    *,
    first_row: int,
    first_column: int,
) -> None:
    """Pad whole numbers of zero-formatted cells in ``columns`` (texts of ``body``) in place.

    ``2134`` in a ``00000`` cell becomes ``02134``; ``body[0]`` is sheet row ``first_row``
    (1-based), ``body[i][0]`` column ``first_column`` (0-based). Text cells stay as written.
    """
    editable: dict[int, list[str | None]] = {}
    for (row, column), width in padded.items():
        i, j = row + 1 - first_row, column - first_column
        if not (0 <= i < len(body) and 0 <= j < len(columns)):
            continue
        value = body[i][j]
        if type(value) is float and value.is_integer() and value >= 0:
            if j not in editable:  # a column may be a tuple (all text, passed through)
                editable[j] = list(columns[j])
                columns[j] = editable[j]
            editable[j][i] = number_text(value).zfill(width)


def _listed_sheet_names(path: Path) -> list[str] | None:
    """Worksheet names from ``xl/workbook.xml`` and its relationships, as calamine lists them.

    None when a sheet's relationship is missing or no sheet is found (a strict-namespace or odd
    workbook): calamine decides then.
    """
    with zipfile.ZipFile(path) as archive:
        workbook_part = _office_document(archive, set(archive.namelist()))
        folder, _, base = workbook_part.rpartition("/")
        folder = f"{folder}/" if folder else ""
        targets = _relationships(archive, f"{folder}_rels/{base}.rels")
        root = ElementTree.fromstring(archive.read(workbook_part))
    visible: list[str] = []
    hidden: list[str] = []
    sheets = list(root.iter(f"{_MAIN}sheet"))
    for node in sheets:
        kind, _ = targets.get(node.get(f"{_DOC_RELS}id", ""), ("", ""))
        if not kind or node.get("name") is None:
            return None
        if kind.endswith("/worksheet"):
            state = node.get("state", "visible")
            (visible if state == "visible" else hidden).append(str(node.get("name")))
    return visible + hidden if sheets else None


def _part(folder: str, target: str) -> str:
    return target.lstrip("/") if target.startswith("/") else folder + target


def _office_document(archive: zipfile.ZipFile, names: set[str]) -> str:
    if "_rels/.rels" in names:
        for kind, target in _relationships(archive, "_rels/.rels").values():
            if kind.endswith("/officeDocument"):
                return target.lstrip("/")
    return "xl/workbook.xml"


def _relationships(archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type, target) of one .rels part ({} when it is missing)."""
    try:
        root = ElementTree.fromstring(archive.read(part))
    except KeyError:
        return {}
    return {
        node.get("Id", ""): (node.get("Type", ""), node.get("Target", ""))
        for node in root.iter(f"{_RELS}Relationship")
    }


def _padding_styles(archive: zipfile.ZipFile, part: str) -> dict[bytes, int]:
    """Cell style index (as it appears in ``s="..."``) -> width, for zero-padding formats."""
    try:
        root = ElementTree.fromstring(archive.read(part))
    except KeyError:
        return {}
    widths = {}
    for node in root.iter(f"{_MAIN}numFmt"):
        code = node.get("formatCode", "").split(";")[0]  # the format of positive numbers
        if _ZEROS.fullmatch(code):
            widths[node.get("numFmtId")] = len(code)
    cell_formats = root.find(f"{_MAIN}cellXfs")
    if not widths or cell_formats is None:
        return {}
    return {
        str(index).encode(): widths[xf.get("numFmtId")]
        for index, xf in enumerate(cell_formats.iter(f"{_MAIN}xf"))
        if xf.get("numFmtId") in widths
    }


def _styled_numbers(stream: IO[bytes], widths: dict[bytes, int]) -> dict[tuple[int, int], int]:
    found: dict[tuple[int, int], int] = {}
    needles = {b' s="' + index + b'"': width for index, width in widths.items()}
    carry = b""
    while True:
        chunk = stream.read(_SCAN_BYTES)
        text = carry + chunk
        # Keep the last, maybe unfinished, cell tag for the next round.
        cut = len(text) if not chunk else max(text.rfind(b"<"), 0)
        for needle, width in needles.items():
            at = text.find(needle, 0, cut)
            while at != -1:
                start = text.rfind(b"<", 0, at)
                end = text.find(b">", at)
                tag = text[start:end]
                reference = _CELL_REF.search(tag)
                # Only number cells of this style: a <row s=...> or a text cell is no match.
                if (
                    tag.startswith(b"<c ")
                    and reference
                    and (b' t="' not in tag or b' t="n"' in tag)
                ):
                    letters, row = reference.groups()
                    found[(int(row) - 1, _column_index(letters.decode()))] = width
                at = text.find(needle, at + 1, cut)
        if not chunk:
            return found
        carry = text[cut:]


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - ord("A") + 1
    return index - 1
