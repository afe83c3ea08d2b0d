"""Load stage, XLSX side: cell values as the text Excel shows, sheets, rows, merged cells."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900
from openpyxl.worksheet.worksheet import Worksheet

from importer.errors import LoadError
from importer.load import load_table, sheet_names, xlsx_reader
from importer.load.xlsx_parts import rows_with_values
from importer.load.xlsx_reader import (
    column_letter,
    datetime_text,
    duration_text,
    number_text,
    time_text,
)

Build = Callable[[Worksheet], None]


def workbook(tmp_path: Path, build: Build, *, epoch: dt.datetime = CALENDAR_WINDOWS_1900) -> Path:
    """An .xlsx written by openpyxl: ``build`` fills its first sheet, named "Appointments"."""
    book = openpyxl.Workbook()
    book.epoch = epoch
    sheet = book.active
    assert sheet is not None
    sheet.title = "Appointments"
    build(sheet)
    path = tmp_path / "input.xlsx"
    book.save(path)
    return path


def one_cell(value: object, number_format: str | None = None) -> Build:
    def build(sheet: Worksheet) -> None:
        sheet.append(["Value", "Other"])
        sheet["A2"] = value
        sheet["B2"] = "x"
        if number_format:
            sheet["A2"].number_format = number_format

    return build


# --- values as text ---------------------------------------------------------------------------

EPOCHS = pytest.mark.parametrize(
    "epoch", [CALENDAR_WINDOWS_1900, CALENDAR_MAC_1904], ids=["1900", "1904"]
)


@EPOCHS
@pytest.mark.parametrize(
    ("value", "number_format", "text"),
    [
        ("02134", None, "02134"),
        ("000123", "@", "000123"),
        ("0044 20 7946 0958", None, "0044 20 7946 0958"),
        (" Ann ", None, " Ann "),
        (5415550104, None, "5415550104"),
        (5415550104.0, "0", "5415550104"),
        (1234567890123, "0.00E+00", "1234567890123"),  # shown as 1.23E+12 in Excel
        (12.5, None, "12.5"),
        (0.1, None, "0.1"),
        (1e-7, None, "0.0000001"),
        (-3, None, "-3"),
        (True, None, "TRUE"),
        (False, None, "FALSE"),
        (dt.date(2026, 12, 1), "yyyy-mm-dd", "2026-12-01"),
        (dt.date(2026, 12, 1), "mm/dd/yyyy", "2026-12-01"),
        (dt.date(1999, 2, 28), "d-mmm-yy", "1999-02-28"),
        (dt.datetime(2026, 12, 1, 14, 30), "yyyy-mm-dd hh:mm", "2026-12-01 14:30"),
        (dt.datetime(2026, 12, 1, 14, 30, 15), "yyyy-mm-dd hh:mm:ss", "2026-12-01 14:30:15"),
        (dt.datetime(2026, 3, 8, 2, 30), "m/d/yyyy h:mm", "2026-03-08 02:30"),
        (dt.datetime(2026, 12, 1), "yyyy-mm-dd hh:mm", "2026-12-01"),  # midnight: the date
        (dt.time(14, 30), "hh:mm", "14:30"),
        (dt.time(9, 5, 15), "h:mm:ss AM/PM", "09:05:15"),
        (dt.timedelta(hours=1, minutes=30), "[h]:mm", "01:30"),
        (dt.timedelta(hours=26, minutes=15), "[h]:mm", "26:15"),
    ],
)
def test_cell_values_become_the_text_a_person_reads(
    tmp_path: Path, epoch: dt.datetime, value: object, number_format: str | None, text: str
) -> None:
    path = workbook(tmp_path, one_cell(value, number_format), epoch=epoch)
    frame = load_table(path).frame
    assert frame.loc[2, "Value"] == text
    assert frame["Value"].dtype == "str"


def test_the_1904_date_system_is_read_from_the_workbook(tmp_path: Path) -> None:
    # The same date is stored as serial numbers 1,462 days apart; the workbook says which.
    serials = []
    for epoch in (CALENDAR_WINDOWS_1900, CALENDAR_MAC_1904):
        folder = tmp_path / str(epoch.year)
        folder.mkdir()
        path = workbook(folder, one_cell(dt.date(2026, 12, 1), "yyyy-mm-dd"), epoch=epoch)
        with zipfile.ZipFile(path) as archive:
            xml = archive.read("xl/worksheets/sheet1.xml").decode()
        serial = re.search(r'<c r="A2"[^>]*>(?:<f>[^<]*</f>)?<v>([^<]+)</v>', xml)
        assert serial is not None
        serials.append(float(serial.group(1)))
        assert load_table(path).frame.loc[2, "Value"] == "2026-12-01"
    assert serials[0] - serials[1] == 1462


@pytest.mark.parametrize(
    ("value", "number_format", "text"),
    [
        (2134, "00000", "02134"),  # Excel's "Zip Code" format
        (123, "000000", "000123"),
        (5, "00;(00)", "05"),
        (123456, "00000", "123456"),
        ("0042", "00000", "0042"),  # a text cell: as written
        (2134.5, "00000", "2134.5"),  # not a whole number: its true value
        (-12, "00000", "-12"),
        (7, "0", "7"),
    ],
)
def test_numbers_formatted_with_leading_zeros_read_as_excel_shows_them(
    tmp_path: Path, value: object, number_format: str, text: str
) -> None:
    def build(sheet: Worksheet) -> None:
        sheet.append(["Before", "Value"])
        for row in range(2, 5):  # the formatted cell on the middle row, among plain numbers
            sheet.append([row, value if row == 3 else 1])
            sheet.cell(row, 2).number_format = number_format if row == 3 else "General"

    frame = load_table(workbook(tmp_path, build)).frame
    assert frame["Value"].tolist() == ["1", text, "1"]
    assert frame["Before"].tolist() == ["2", "3", "4"]


@pytest.mark.parametrize("value", ["", "   ", "\t", None])
def test_blank_and_space_only_cells_are_missing(tmp_path: Path, value: object) -> None:
    frame = load_table(workbook(tmp_path, one_cell(value))).frame
    assert frame["Value"].isna()[2]
    assert frame.loc[2, "Other"] == "x"


def test_numbers_over_15_digits_are_read_with_a_warning(tmp_path: Path) -> None:
    sheet = load_table(workbook(tmp_path, one_cell(12345678901234567.0)))
    text = sheet.frame.loc[2, "Value"]
    assert isinstance(text, str)
    assert text.isdigit() and len(text) == 17 and text.startswith("123456789012345")
    assert any("more than 15 digits" in w and text in w for w in sheet.warnings)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (5415550104.0, "5415550104"),
        (1234567890123.0, "1234567890123"),
        (-0.0, "0"),
        (12.5, "12.5"),
        (1e-7, "0.0000001"),
        (1e20, "100000000000000000000"),
        (2.5e-5, "0.000025"),
    ],
)
def test_number_text(value: float, text: str) -> None:
    assert number_text(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (dt.datetime(2026, 12, 1, 14, 29, 59, 994_000), "2026-12-01 14:30"),  # serial rounding
        (dt.datetime(2026, 12, 1, 14, 30, 15, 200_000), "2026-12-01 14:30:15"),
        (dt.datetime(2026, 12, 31, 23, 59, 59, 600_000), "2027-01-01 00:00"),
    ],
)
def test_datetimes_round_to_the_second(value: dt.datetime, text: str) -> None:
    assert datetime_text(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (dt.time(14, 30), "14:30"),
        (dt.time(14, 30, 15), "14:30:15"),
        (dt.time(8, 59, 59, 999_000), "09:00"),
        (dt.time(23, 59, 59, 999_000), "00:00"),
    ],
)
def test_time_text(value: dt.time, text: str) -> None:
    assert time_text(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (dt.timedelta(minutes=90), "01:30"),
        (dt.timedelta(days=-2, hours=12), "-36:00"),
        (dt.timedelta(hours=1, seconds=5), "01:00:05"),
    ],
)
def test_duration_text(value: dt.timedelta, text: str) -> None:
    assert duration_text(value) == text


@pytest.mark.parametrize(
    ("index", "letters"), [(0, "A"), (5, "F"), (25, "Z"), (26, "AA"), (701, "ZZ")]
)
def test_column_letter(index: int, letters: str) -> None:
    assert column_letter(index) == letters


# --- rows, columns, headers -------------------------------------------------------------------


def test_rows_keep_their_excel_numbers_when_the_table_starts_lower_right(tmp_path: Path) -> None:
    def build(sheet: Worksheet) -> None:
        sheet["C3"], sheet["D3"], sheet["F3"] = "Name", "Phone", None
        sheet["C4"], sheet["D4"] = "Ann", "02134"
        sheet["C8"], sheet["D8"], sheet["F8"] = "Bob", 5415550104, "no header"
        sheet["C9"] = "   "  # a row of spaces: blank

    sheet = load_table(workbook(tmp_path, build))
    assert sheet.frame.index.tolist() == [4, 8]
    assert list(sheet.frame.columns) == ["Name", "Phone", "Column F"]  # E: blank, dropped
    assert sheet.frame.loc[8, "Phone"] == "5415550104"
    assert sheet.frame.loc[8, "Column F"] == "no header"
    assert any("column names are on row 3" in w for w in sheet.warnings)
    assert any("F have data but no header" in w for w in sheet.warnings)


def test_duplicate_headers_are_renamed(tmp_path: Path) -> None:
    def build(sheet: Worksheet) -> None:
        sheet.append(["Phone", " Phone", "Name", "Phone"])
        sheet.append(["1", "2", "Ann", "3"])

    sheet = load_table(workbook(tmp_path, build))
    assert list(sheet.frame.columns) == ["Phone", "Phone (2)", "Name", "Phone (3)"]
    assert list(sheet.frame.loc[2]) == ["1", "2", "Ann", "3"]
    assert any("columns A, B, D" in w for w in sheet.warnings)


def test_numbers_and_dates_as_headers_become_text(tmp_path: Path) -> None:
    def build(sheet: Worksheet) -> None:
        sheet.append([2026, dt.date(2026, 12, 1), "Name"])
        sheet.append(["a", "b", "c"])

    assert list(load_table(workbook(tmp_path, build)).frame.columns) == [
        "2026",
        "2026-12-01",
        "Name",
    ]


def test_a_cell_merged_down_gives_its_value_to_every_row_it_spans(tmp_path: Path) -> None:
    def build(sheet: Worksheet) -> None:
        sheet.append(["Provider", "Date", "Time"])
        sheet.append(["Dr Who", "2026-12-01", "09:00"])
        sheet.append([None, None, "10:00"])
        sheet.append(["Dr No", "both", None])
        sheet.merge_cells("A2:A3")  # one provider for two appointments
        sheet.merge_cells("B4:C4")

    loaded = load_table(workbook(tmp_path, build))
    frame = loaded.frame
    assert frame["Provider"].tolist() == ["Dr Who", "Dr Who", "Dr No"]
    assert frame["Date"].isna()[3]  # not merged: stays blank
    assert frame.loc[4, "Date"] == "both"
    assert frame["Time"].isna()[4]  # merged across columns: the value stays in its first cell
    assert "1 cell(s) are part of merged cells; each row of a merged cell takes its value" in (
        loaded.warnings
    )


def test_header_only_sheet_gives_an_empty_table(tmp_path: Path) -> None:
    sheet = load_table(workbook(tmp_path, lambda s: s.append(["Name", "Phone"])))
    assert list(sheet.frame.columns) == ["Name", "Phone"]
    assert len(sheet.frame) == 0


@pytest.mark.parametrize("content", [[], [["  ", None]]], ids=["no-cells", "spaces-only"])
def test_empty_sheet_is_refused(tmp_path: Path, content: list[list[object]]) -> None:
    def build(sheet: Worksheet) -> None:
        for row in content:
            sheet.append(row)

    with pytest.raises(LoadError, match="the sheet is empty") as caught:
        load_table(workbook(tmp_path, build))
    assert caught.value.sheet == "Appointments"


def test_row_cap_refuses_a_sheet_with_more_rows_below_the_header(tmp_path: Path) -> None:
    def build(sheet: Worksheet) -> None:
        sheet.append(["Name"])
        for i in range(5):
            sheet.append([f"Patient {i}"])

    path = workbook(tmp_path, build)
    assert len(load_table(path, max_rows=5).frame) == 5
    with pytest.raises(LoadError, match="more than 4 rows below the header; at most 4") as caught:
        load_table(path, max_rows=4)
    assert caught.value.sheet == "Appointments"


def test_rows_with_formatting_only_do_not_count_against_the_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def build(sheet: Worksheet) -> None:
        sheet.append(["Name"])
        for i in range(5):
            sheet.append([f"Patient {i}"])
        for row in range(7, 300):  # formatted in Excel, never typed in
            sheet.cell(row=row, column=1).number_format = "@"

    counts: list[int] = []

    def counting(*args: Any, **kwargs: Any) -> int:
        counts.append(rows_with_values(*args, **kwargs))
        return counts[-1]

    monkeypatch.setattr(xlsx_reader, "rows_with_values", counting)
    frame = load_table(workbook(tmp_path, build), max_rows=10).frame
    assert frame["Name"].tolist() == [f"Patient {i}" for i in range(5)]
    assert counts == [6]  # 299 row tags were over the cap, so the rows were counted: 6 hold text


def test_blank_rows_inside_the_table_count_as_excel_spans_them(tmp_path: Path) -> None:
    def build(sheet: Worksheet) -> None:
        sheet.append(["Name"])
        sheet.append(["Ann"])
        sheet["A20"] = "Bob"

    path = workbook(tmp_path, build)
    with pytest.raises(LoadError, match="the sheet has 19 rows below the header; at most 5"):
        load_table(path, max_rows=5)
    assert load_table(path, max_rows=19).frame["Name"].tolist() == ["Ann", "Bob"]


def test_the_cap_applies_to_the_sheet_read_not_to_the_others(tmp_path: Path) -> None:
    def build(sheet: Worksheet) -> None:
        sheet.append(["Name"])
        sheet.append(["Ann"])
        archive = sheet.parent.create_sheet("Archive")
        archive.sheet_state = "hidden"
        archive.append(["Name"])
        for i in range(50):
            archive.append([f"Patient {i}"])

    path = workbook(tmp_path, build)
    assert load_table(path, max_rows=10).frame["Name"].tolist() == ["Ann"]
    with pytest.raises(LoadError, match="more than 10 rows below the header") as caught:
        load_table(path, sheet="archive", max_rows=10)  # chosen as typed, other capitals
    assert caught.value.sheet == "Archive"


# --- sheets -----------------------------------------------------------------------------------


def three_sheets(tmp_path: Path) -> Path:
    book = openpyxl.Workbook()
    hidden = book.active
    assert hidden is not None
    hidden.title = "Old"
    hidden.append(["Name"])
    hidden.append(["from hidden"])
    hidden.sheet_state = "hidden"
    for title in ("Today", "Tomorrow"):
        sheet = book.create_sheet(title)
        sheet.append(["Name"])
        sheet.append([f"from {title}"])
    secret = book.create_sheet("Lookup")
    secret.append(["Name"])
    secret.sheet_state = "veryHidden"
    path = tmp_path / "sheets.xlsx"
    book.save(path)
    return path


def test_sheet_names_lists_visible_sheets_first_then_hidden(tmp_path: Path) -> None:
    assert sheet_names(three_sheets(tmp_path)) == ["Today", "Tomorrow", "Old", "Lookup"]


@pytest.mark.parametrize(
    ("wanted", "chosen", "value"),
    [
        (None, "Today", "from Today"),  # the first *visible* sheet, not the hidden first one
        ("Tomorrow", "Tomorrow", "from Tomorrow"),
        (" tomorrow ", "Tomorrow", "from Tomorrow"),
        ("Old", "Old", "from hidden"),
    ],
)
def test_sheet_choice(tmp_path: Path, wanted: str | None, chosen: str, value: str) -> None:
    sheet = load_table(three_sheets(tmp_path), sheet=wanted)
    assert sheet.sheet_name == chosen
    assert sheet.frame["Name"].tolist() == [value]
    assert any("hidden" in w for w in sheet.warnings) == (chosen == "Old")


def test_unknown_sheet_is_refused_listing_the_sheets(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="no sheet 'Yesterday'") as caught:
        load_table(three_sheets(tmp_path), sheet="Yesterday")
    assert "'Today', 'Tomorrow', 'Old' (hidden), 'Lookup' (hidden)" in str(caught.value)


def test_workbook_named_csv_is_read_as_a_workbook(tmp_path: Path) -> None:
    path = workbook(tmp_path, one_cell("02134"))
    renamed = path.rename(tmp_path / "export.csv")
    sheet = load_table(renamed)
    assert sheet.frame.loc[2, "Value"] == "02134"
    assert sheet.encoding is None
    assert any("named .csv but is an Excel workbook" in w for w in sheet.warnings)
