"""What a workbook's cell styles say that calamine does not give, found in its XML.

A cell formatted ``00000`` (Excel's "Zip Code" format) holding ``2134`` shows ``02134``; calamine
gives the number. :func:`zero_padded_cells` finds such cells in the sheet's XML, only when the
workbook's styles define a format made of zeros (styles.xml alone is read otherwise), and
:func:`pad_with_zeros` pads their text. :func:`struck_cells` finds the cells whose font is struck
through (how hand-kept schedules cross out a visit called off), likewise only when a style
strikes. Call these only after the safety checks.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TypeVar

from defusedxml import ElementTree
from defusedxml.ElementTree import ParseError

from importer.load.xlsx_parts import (
    MAIN,
    office_document,
    part_folder,
    relationships,
    relationships_part,
    resolve,
)
from importer.load.xlsx_reader import CellValue, number_text

T = TypeVar("T")
_ZEROS = re.compile(r"0{2,}")  # a format that is only zeros pads a whole number to its width
_CELL_REF = re.compile(rb' r="([A-Z]{1,3})([0-9]{1,7})"')
_SCAN_BYTES = 4 << 20


def zero_padded_cells(path: Path, sheet_part: str | None) -> dict[tuple[int, int], int]:
    """Cells of a worksheet part styled with a zero-padding format: (row, column) -> width.

    Rows and columns are 0-based; ``sheet_part`` is the zip member of the sheet read (None when
    the workbook part does not say: nothing is found). Empty (and cheap: styles.xml only) unless
    the workbook defines such a format. Reads the sheet's XML in chunks; call only after the
    safety checks. Cells without an ``r`` reference (rare writers) are not found.
    """
    if sheet_part is None:
        return {}
    try:
        return _zero_padded_cells(path, sheet_part)
    except (KeyError, ValueError, zipfile.BadZipFile, ParseError):
        return {}  # parts calamine read but this reading cannot: the plain numbers stand


def _zero_padded_cells(path: Path, sheet_part: str) -> dict[tuple[int, int], int]:
    with zipfile.ZipFile(path) as archive:
        styles_part = _styles_part(archive)
        widths = _padding_styles(archive, styles_part) if styles_part else {}
        if not widths:
            return {}
        with archive.open(sheet_part) as stream:
            return _styled_cells(stream, widths, numbers_only=True)


def struck_cells(path: Path, sheet_part: str | None) -> set[tuple[int, int]]:
    """Cells of a worksheet part whose font is struck through: (row, column), 0-based.

    Empty (and cheap: styles.xml only) unless a cell style of the workbook strikes its font.
    """
    if sheet_part is None:
        return set()
    try:
        with zipfile.ZipFile(path) as archive:
            styles_part = _styles_part(archive)
            struck = _strike_styles(archive, styles_part) if styles_part else {}
            if not struck:
                return set()
            with archive.open(sheet_part) as stream:
                return set(_styled_cells(stream, struck, numbers_only=False))
    except (KeyError, ValueError, zipfile.BadZipFile, ParseError):
        return set()  # parts calamine read but this reading cannot: the rows stand as read


def _styles_part(archive: zipfile.ZipFile) -> str | None:
    workbook_part = office_document(archive)
    targets = relationships(archive, relationships_part(workbook_part))
    styles = next((t for kind, t in targets.values() if kind.endswith("/styles")), None)
    return resolve(part_folder(workbook_part), styles) if styles else None


def _strike_styles(archive: zipfile.ZipFile, part: str) -> dict[bytes, bool]:
    """Cell style index (as in ``s="..."``) -> True, for the styles whose font strikes through."""
    try:
        root = ElementTree.fromstring(archive.read(part))
    except KeyError:
        return {}
    fonts = root.find(f"{MAIN}fonts")
    cell_formats = root.find(f"{MAIN}cellXfs")
    if fonts is None or cell_formats is None:
        return {}
    striking = {
        str(index)
        for index, font in enumerate(fonts.iter(f"{MAIN}font"))
        if (strike := font.find(f"{MAIN}strike")) is not None
        and strike.get("val", "1").lower() not in ("0", "false")
    }
    return {
        str(index).encode(): True
        for index, xf in enumerate(cell_formats.iter(f"{MAIN}xf"))
        if xf.get("fontId", "0") in striking
    }


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


def _padding_styles(archive: zipfile.ZipFile, part: str) -> dict[bytes, int]:
    """Cell style index (as it appears in ``s="..."``) -> width, for zero-padding formats."""
    try:
        root = ElementTree.fromstring(archive.read(part))
    except KeyError:
        return {}
    widths = {}
    for node in root.iter(f"{MAIN}numFmt"):
        code = node.get("formatCode", "").split(";")[0]  # the format of positive numbers
        if _ZEROS.fullmatch(code):
            widths[node.get("numFmtId")] = len(code)
    cell_formats = root.find(f"{MAIN}cellXfs")
    if not widths or cell_formats is None:
        return {}
    return {
        str(index).encode(): widths[xf.get("numFmtId")]
        for index, xf in enumerate(cell_formats.iter(f"{MAIN}xf"))
        if xf.get("numFmtId") in widths
    }


def _styled_cells(
    stream: IO[bytes], styles: dict[bytes, T], *, numbers_only: bool
) -> dict[tuple[int, int], T]:
    """The cells of the sheet XML in ``stream`` of one of ``styles`` (index -> what it says),
    (row, column) 0-based -> that; ``numbers_only``: number cells alone."""
    found: dict[tuple[int, int], T] = {}
    needles = {b' s="' + index + b'"': said for index, said in styles.items()}
    carry = b""
    while True:
        chunk = stream.read(_SCAN_BYTES)
        text = carry + chunk
        # Keep the last, maybe unfinished, cell tag for the next round.
        cut = len(text) if not chunk else max(text.rfind(b"<"), 0)
        for needle, said in needles.items():
            at = text.find(needle, 0, cut)
            while at != -1:
                start = text.rfind(b"<", 0, at)
                end = text.find(b">", at)
                tag = text[start:end]
                reference = _CELL_REF.search(tag)
                # Only cells of this style (not a <row s=...>), of numbers where asked.
                number = b' t="' not in tag or b' t="n"' in tag
                if tag.startswith(b"<c ") and reference and (number or not numbers_only):
                    letters, row = reference.groups()
                    found[(int(row) - 1, _column_index(letters.decode()))] = said
                at = text.find(needle, at + 1, cut)
        if not chunk:
            return found
        carry = text[cut:]


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - ord("A") + 1
    return index - 1
