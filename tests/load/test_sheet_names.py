"""Sheet names read from the workbook part agree with calamine's list, sheet kinds and states."""

from __future__ import annotations

from pathlib import Path

import pytest
import python_calamine as calamine
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference

from importer.load import sheet_names
from importer.load.xlsx_parts import listed_worksheets
from tests.helpers import ROOT


def by_calamine(path: Path) -> list[str]:
    workbook = calamine.CalamineWorkbook.from_path(str(path))
    try:
        sheets = [m for m in workbook.sheets_metadata if m.typ == calamine.SheetTypeEnum.WorkSheet]
    finally:
        workbook.close()
    shown = [m.name for m in sheets if m.visible == calamine.SheetVisibleEnum.Visible]
    return shown + [m.name for m in sheets if m.visible != calamine.SheetVisibleEnum.Visible]


def listed_names(path: Path) -> list[str]:
    listed = listed_worksheets(path)
    assert listed is not None
    return [w.name for w in listed if w.visible] + [w.name for w in listed if not w.visible]


def workbook(path: Path, sheets: list[tuple[str, str]], *, chart: bool = False) -> Path:
    """A workbook with (name, state) sheets, each holding a cell; optionally a chart sheet."""
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for name, state in sheets:
        sheet = book.create_sheet(name)
        sheet.append(["Appointment ID", "Date"])
        sheet.append(["1", "2026-12-01"])
        sheet.sheet_state = state
    if chart:
        data = book[sheets[0][0]]
        chart_sheet = book.create_chartsheet("Chart", 1)
        bars = BarChart()
        bars.add_data(Reference(data, min_col=1, min_row=1, max_row=2))
        chart_sheet.add_chart(bars)
    book.save(path)
    return path


@pytest.mark.parametrize(
    ("sheets", "chart", "expected"),
    [
        ([("Appointments", "visible")], False, ["Appointments"]),
        (
            [("Read me", "hidden"), ("Appointments", "visible"), ("Old", "veryHidden")],
            False,
            ["Appointments", "Read me", "Old"],
        ),
        ([("A & B <1>", "visible"), ("Zoë’s", "visible")], True, ["A & B <1>", "Zoë’s"]),
        ([("Data", "visible"), ("Notes", "hidden")], True, ["Data", "Notes"]),
    ],
)
def test_listed_names_match_calamine(
    tmp_path: Path, sheets: list[tuple[str, str]], chart: bool, expected: list[str]
) -> None:
    path = workbook(tmp_path / "book.xlsx", sheets, chart=chart)
    assert listed_names(path) == expected
    assert by_calamine(path) == expected
    assert sheet_names(path) == expected


@pytest.mark.parametrize("name", ["importer/examples/appointments.xlsx"])
def test_sample_workbooks_agree(name: str) -> None:
    path = ROOT / name
    assert listed_names(path) == by_calamine(path) == sheet_names(path)
