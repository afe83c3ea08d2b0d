"""Merged cells of an OpenDocument spreadsheet (``.ods``), which calamine does not report.

In ``content.xml`` a merged cell is a ``table:table-cell`` with ``table:number-rows-spanned``
(and/or ``number-columns-spanned``); the cells it covers follow as ``table:covered-table-cell``.
Rows and cells may stand for several (``number-rows-repeated``, ``number-columns-repeated``).
Call only after :func:`importer.load.xlsx_safety.check_workbook_zip` passed the file.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from defusedxml.ElementTree import ParseError, iterparse

TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
CellRange = tuple[tuple[int, int], tuple[int, int]]  # (first row, column), (last row, column)


def _count(element: object, attribute: str) -> int:
    value = element.get(TABLE + attribute, "1")  # type: ignore[attr-defined]
    return int(value) if value.isdigit() else 1


def ods_merged_ranges(path: Path, sheet: str) -> list[CellRange]:
    """The merged ranges of the sheet named ``sheet``, 0-based as calamine numbers cells.

    [] when the file has no such sheet or its XML cannot be read (the cells then read as Excel
    shows them unmerged: the value in the first cell only).
    """
    try:
        with zipfile.ZipFile(path) as archive, archive.open("content.xml") as stream:
            return _merged_ranges(stream, sheet)
    except (KeyError, zipfile.BadZipFile, ParseError, OSError):
        return []


def _merged_ranges(stream: object, sheet: str) -> list[CellRange]:
    found: list[CellRange] = []
    inside = False
    row = 0
    for event, element in iterparse(stream, events=("start", "end")):
        if element.tag == TABLE + "table":
            if event == "start":
                inside, row = element.get(TABLE + "name") == sheet, 0
            elif inside:
                return found
            continue
        if not inside or event != "end" or element.tag != TABLE + "table-row":
            continue
        column = 0
        for cell in element:
            if cell.tag == TABLE + "table-cell":
                rows, columns = (
                    _count(cell, "number-rows-spanned"),
                    _count(cell, "number-columns-spanned"),
                )
                if rows > 1 or columns > 1:
                    found.append(((row, column), (row + rows - 1, column + columns - 1)))
            if cell.tag in (TABLE + "table-cell", TABLE + "covered-table-cell"):
                column += _count(cell, "number-columns-repeated")
        row += _count(element, "number-rows-repeated")
        element.clear()
    return found
