"""Counting a worksheet's rows in its XML, in chunks, without calamine."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest

from importer.load.xlsx_parts import (
    HiddenRows,
    LastRowNumber,
    count_rows_with_values,
    listed_worksheets,
    rows_with_values,
)
from importer.load.xlsx_safety import check_workbook_zip

SHEET = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<sheetViews><sheetView workbookViewId="0"/></sheetViews><sheetData>'
    b'<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
    # a number, a date serial
    b'<row r="2" spans="1:2"><c r="A2"><v>5415550104</v></c><c r="B2" s="3"><v>46371</v></c></row>'
    # formatting only: a styled row, styled empty cells
    b'<row r="3" s="4" customFormat="1"/>'
    b'<row r="4"><c r="A4" s="2"/><c r="B4" s="2"/></row>'
    # inline text
    b'<row r="5"><c r="A5" t="inlineStr"><is><t xml:space="preserve"> Ann</t></is></c></row>'
    # a formula without a saved result; an empty value
    b'<row r="6"><c r="A6"><f>A2*2</f></c><c r="B6"><v></v></c></row>'
    # a formula with its result
    b'<row r="7"><c r="A7"><f>A2*2</f><v>10831100208</v></c></row>'
    b'<row r="8"\n ht="20"><c r="A8" t="inlineStr"><is><r><t>rich</t></r></is></c></row>'
    b'</sheetData><rowBreaks count="1"><brk id="3" max="16383" man="1"/></rowBreaks>'
    b"</worksheet>"
)
SHEET_VALUE_ROWS = 5  # rows 1, 2, 5, 7 and 8

# The same rows written with a namespace prefix, as some .NET writers do.
PREFIXED = (
    b'<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b"<x:sheetData>"
    b'<x:row r="1"><x:c r="A1" t="s"><x:v>0</x:v></x:c></x:row>'
    b'<x:row r="2"><x:c r="A2" s="1"/></x:row>'
    b'<x:row r="3"><x:c r="A3"><x:v>7</x:v></x:c></x:row>'
    b"</x:sheetData></x:worksheet>"
)


def counted(xml: bytes, *, chunk_size: int, stop_after: int = 1_000) -> int:
    return count_rows_with_values(io.BytesIO(xml), stop_after=stop_after, chunk_size=chunk_size)


def last_row_in_chunks(xml: bytes, chunk_size: int) -> int | None:
    last_row = LastRowNumber()
    for start in range(0, len(xml), chunk_size):
        last_row.feed(xml[start : start + chunk_size])
    return last_row.number


@pytest.mark.parametrize("chunk_size", [*range(1, 40), 97, 1 << 20])
def test_rows_holding_values_are_counted_whatever_the_chunk_size(chunk_size: int) -> None:
    assert counted(SHEET, chunk_size=chunk_size) == SHEET_VALUE_ROWS
    assert counted(PREFIXED, chunk_size=chunk_size) == 2


@pytest.mark.parametrize("chunk_size", [*range(1, 40), 300, 1 << 20])
def test_the_last_row_number_is_found_whatever_the_chunk_size(chunk_size: int) -> None:
    assert last_row_in_chunks(SHEET, chunk_size) == 8  # not fooled by <rowBreaks> after it
    long_tag = b'<sheetData><row r="1"/><row customHeight="1" ht="20" ' + b" " * 150
    assert last_row_in_chunks(long_tag + b'r="1048576"></row></sheetData>', chunk_size) == 1048576


@pytest.mark.parametrize(
    "xml",
    [
        PREFIXED,  # prefixed rows are not followed: counted instead
        b'<sheetData><row r="1"><c><v>1</v></c></row><row><c><v>2</v></c></row></sheetData>',
        b"<sheetData/>",
        b'<sst count="1"><si><t>row r="9"</t></si></sst>',
    ],
    ids=["prefixed", "last-row-unnumbered", "no-rows", "shared-strings"],
)
def test_no_last_row_number_when_the_part_does_not_give_one(xml: bytes) -> None:
    for chunk_size in (5, 1 << 20):
        assert last_row_in_chunks(xml, chunk_size) is None


@pytest.mark.parametrize("chunk_size", [7, 64, 1 << 20])
def test_counting_stops_once_past_the_limit(chunk_size: int) -> None:
    many = b"<sheetData>" + b'<row r="1"><c><v>1</v></c></row>' * 1_000 + b"</sheetData>"
    stream = io.BytesIO(many)
    assert count_rows_with_values(stream, stop_after=10, chunk_size=chunk_size) == 11
    assert stream.tell() < len(many) // 2 or chunk_size >= len(many)


def test_a_row_with_a_value_after_a_long_empty_stretch_counts_once() -> None:
    # The value comes in a later chunk than the row's start: the row stays undecided until then.
    row = (
        b'<row r="2">' + b'<c s="1"/>' * 500 + b"<c><v>1</v></c>" + b'<c s="1"/>' * 500 + b"</row>"
    )
    xml = b"<sheetData>" + row + b'<row r="3"><c s="1"/></row>' + row + b"</sheetData>"
    for chunk_size in (5, 33, 4096):
        assert counted(xml, chunk_size=chunk_size) == 2


def test_what_follows_the_rows_is_not_read_as_a_row() -> None:
    # An undecided last row, then parts of the sheet after its rows: nothing there is a value.
    xml = (
        b'<sheetData><row r="1"><c><v>1</v></c></row><row r="2"><c s="1"/></row></sheetData>'
        + b'<mergeCells count="1"><mergeCell ref="A1:B1"/></mergeCells>' * 50
        + b"<extLst><ext><v>1</v><t>x</t></ext></extLst>"
    )
    for chunk_size in (3, 16, 100, 1 << 20):
        assert counted(xml, chunk_size=chunk_size) == 1


def write_workbook(path: Path, *, rows: int, styled_rows: int = 0) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Appointments"
    sheet.append(["Name", "Phone"])
    for number in range(rows):
        sheet.append([f"Patient {number}", 5415550100 + number])
    for number in range(rows + 2, rows + 2 + styled_rows):
        sheet.cell(row=number, column=1).number_format = "@"  # formatting, no value
    book.save(path)
    return path


def test_the_safety_check_notes_the_last_row_of_each_worksheet_part(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "in.xlsx", rows=30, styled_rows=50)
    last_rows = check_workbook_zip(path, file=str(path)).last_rows
    listed = listed_worksheets(path)
    assert listed is not None and [w.name for w in listed] == ["Appointments"]
    part = listed[0].part
    with zipfile.ZipFile(path) as archive:
        assert part in archive.namelist()
    assert last_rows == {part: 81}  # the header, 30 rows and 50 rows of formatting
    assert rows_with_values(path, part, stop_after=1_000) == 31


HIDDEN = (
    b'<sheetData><row r="1" spans="1:3"><c r="A1" t="s"><v>0</v></c></row>'
    b'<row r="2" hidden="1"><c><v>1</v></c></row>'
    # the word in a cell's text, a row shown, a hidden column: no hidden row
    b'<row r="3"><c t="inlineStr"><is><t>hidden="1"</t></is></c></row>'
    b'<row r="14" spans="1:3" s="1" customFormat="1" hidden="true" x14ac:dyDescent="0.25"><c/>'
    b'</row><row r="15" hidden="0"/><cols><col min="1" max="1" hidden="1"/></cols>'
    b'<row r="16" ht="20" customHeight="1" ' + b" " * 200 + b'hidden="1"/></sheetData>'
)


@pytest.mark.parametrize("chunk_size", [*range(1, 70), 250, 1 << 20])
def test_the_hidden_rows_are_found_whatever_the_chunk_size(chunk_size: int) -> None:
    hidden = HiddenRows()
    for start in range(0, len(HIDDEN), chunk_size):
        hidden.feed(HIDDEN[start : start + chunk_size])
    assert hidden.rows == [2, 14, 16]


def test_the_safety_check_notes_the_rows_a_filter_hides(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "in.xlsx", rows=30, styled_rows=0)
    book = openpyxl.load_workbook(path)
    sheet = book.active
    assert sheet is not None
    sheet.auto_filter.ref = sheet.dimensions
    for row in (5, 9):
        sheet.row_dimensions[row].hidden = True
    book.save(path)
    scan = check_workbook_zip(path, file=str(path))
    listed = listed_worksheets(path)
    assert listed is not None
    assert scan.hidden_rows == {listed[0].part: (5, 9)}
