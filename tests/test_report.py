from __future__ import annotations

import csv
import errno
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from importer.errors import ReportError
from importer.load import RESULT_COLUMNS, strip_report_columns
from importer.outcomes import RowResult, RowStatus
from importer.report import escape_cell, write_report


def source_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Id": ["000101", "000102", "000103"],
            "Notes": ['=HYPERLINK("http://x", "y")', "+1 555", "plain\nnote"],
            "Phone": ["@SUM(A1)", "\tled", "\rled"],
        },
        index=pd.Index([2, 3, 5], name="row"),
        dtype="string",
    )


RESULTS = [
    RowResult(2, RowStatus.CREATED, "c-000101", 41, ""),
    RowResult(3, RowStatus.INVALID, "c-000102", None, "row 3, column 'Phone': bad"),
    RowResult(5, RowStatus.UPDATED, "c-000103", 43, ""),
]


@pytest.mark.parametrize("text", ["=1+1", "+1 555", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_escape_cell_quotes_what_a_spreadsheet_would_read_as_a_formula(text: str) -> None:
    assert escape_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["plain", "", "a=b"])
def test_escape_cell_leaves_other_text_alone(text: str) -> None:
    assert escape_cell(text) == text


def test_csv_report_has_source_then_results_and_escapes(tmp_path: Path) -> None:
    path = write_report(tmp_path / "r.csv", source_frame(), RESULTS)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads accents right with the BOM
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["Id", "Notes", "Phone", *RESULT_COLUMNS]
    assert rows[1] == [
        "000101",
        '\'=HYPERLINK("http://x", "y")',
        "'@SUM(A1)",
        "2",
        "created",
        "c-000101",
        "41",
        "",
    ]
    assert rows[2][1:3] == ["'+1 555", "'\tled"]
    assert rows[2][3:] == ["3", "invalid", "c-000102", "", "row 3, column 'Phone': bad"]
    assert rows[3][1:3] == ["plain\nnote", "'\rled"]


def test_report_read_back_as_input_round_trips(tmp_path: Path) -> None:
    path = write_report(tmp_path / "r.csv", source_frame(), RESULTS)
    back = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    back.index = pd.Index([2, 3, 5], name="row")
    source, ids = strip_report_columns(back)
    assert list(source.columns) == ["Id", "Notes", "Phone"]
    assert source.loc[2, "Notes"] == '=HYPERLINK("http://x", "y")'
    assert source.loc[3, "Phone"] == "\tled"
    assert ids == {2: 41, 5: 43}


def test_plain_input_is_not_taken_for_a_report() -> None:
    frame = pd.DataFrame({"status": ["x"], "Id": ["1"]}, dtype="string")
    same, ids = strip_report_columns(frame)
    assert same is frame
    assert ids == {}


def test_xlsx_report_stores_formulas_as_text(tmp_path: Path) -> None:
    path = write_report(tmp_path / "r.xlsx", source_frame(), RESULTS)
    sheet = load_workbook(path).active
    assert sheet is not None
    cell = sheet["B2"]
    assert cell.value == '=HYPERLINK("http://x", "y")'
    assert cell.data_type == "s"
    assert [c.value for c in sheet[1]] == ["Id", "Notes", "Phone", *RESULT_COLUMNS]
    assert sheet["E3"].value == "invalid"


def test_cancelled_events_follow_the_rows(tmp_path: Path) -> None:
    extra = RowResult(None, RowStatus.CANCELLED, "c-000999", 99, "no longer in the file")
    path = write_report(tmp_path / "r.csv", source_frame(), [*RESULTS, extra])
    back = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert back.iloc[-1]["status"] == "cancelled"
    assert back.iloc[-1]["Id"] == ""
    source, _ = strip_report_columns(back.set_index(pd.Index([2, 3, 5, 6], name="row")))
    assert len(source) == 3


def test_missing_outcome_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="no outcome for rows"):
        write_report(tmp_path / "r.csv", source_frame(), RESULTS[:2])


def test_disk_full_keeps_the_previous_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "r.csv"
    target.write_text("previous report\n", encoding="utf-8")

    def half_written_then_full(self: pd.DataFrame, path: str, **_: object) -> None:
        Path(path).write_text("Id,No", encoding="utf-8")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", half_written_then_full)
    with pytest.raises(ReportError, match="No space left on device"):
        write_report(target, source_frame(), RESULTS)
    assert target.read_text(encoding="utf-8") == "previous report\n"
    assert [p.name for p in tmp_path.iterdir()] == ["r.csv"]  # no temporary file left behind
