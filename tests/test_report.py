from __future__ import annotations

import csv
import datetime as dt
import errno
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

import importer.report as report_module
from importer.errors import ReportError
from importer.load import RESULT_COLUMNS, load_table, strip_report_columns
from importer.outcomes import RowIssue, RowResult, RowStatus
from importer.report import (
    ReportWriter,
    csv_lines,
    csv_part,
    escape_cell,
    report_frame,
    write_report,
)


def sheet_rows(columns: dict[str, list[str]], rows: tuple[int, ...] = (2, 3, 5)) -> pd.DataFrame:
    """Text cells as the loader gives them, indexed by spreadsheet row."""
    return pd.DataFrame(columns, index=pd.Index(rows, name="row"), dtype="string")


def source_frame() -> pd.DataFrame:
    return sheet_rows(
        {
            "Id": ["000101", "000102", "000103"],
            "Notes": ['=HYPERLINK("http://x", "y")', "+1 555", "plain\nnote"],
            "Phone": ["@SUM(A1)", "\tled", "\rled"],
        }
    )


RESULTS = [
    RowResult(2, RowStatus.CREATED, "c-000101", 41, ""),
    RowResult(3, RowStatus.INVALID, "c-000102", None, "row 3, column 'Phone': bad"),
    RowResult(
        5,
        RowStatus.UPDATED,
        "c-000103",
        43,
        "",
        warnings=(RowIssue(5, "Date", "12/01/2025", "this appointment is in the past"),),
    ),
]


@pytest.mark.parametrize("text", ["=1+1", "+1 555", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_escape_cell_quotes_what_a_spreadsheet_would_read_as_a_formula(text: str) -> None:
    assert escape_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["plain", "", "a=b"])
def test_escape_cell_leaves_other_text_alone(text: str) -> None:
    assert escape_cell(text) == text


# Cells as offices type them, and what a CSV writer or a spreadsheet treats specially.
_CELL_TEXT = st.text(alphabet=st.sampled_from("ab1 =+-@\t\r\n\",;'\x00é"), max_size=6)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(st.one_of(_CELL_TEXT, st.none()), min_size=3, max_size=3), min_size=1, max_size=8
    ),
    st.booleans(),
)
def test_csv_lines_are_the_cells_escaped_one_by_one_as_a_csv_writer_writes_them(
    rows: list[list[str | None]], header: bool
) -> None:
    table = pd.DataFrame(rows, columns=["Id", "=Notes", "Phone"], dtype="string")
    by_cell = table.fillna("").apply(lambda col: col.map(escape_cell))
    expected = by_cell.to_csv(index=False, header=header, lineterminator="\r\n")
    assert csv_lines(table, header=header) == expected


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
        "",
    ]
    assert rows[2][1:3] == ["'+1 555", "'\tled"]
    assert rows[2][3:] == ["3", "invalid", "c-000102", "", "row 3, column 'Phone': bad", ""]
    assert rows[3][1:3] == ["plain\nnote", "'\rled"]
    assert rows[3][-1] == "row 5, column 'Date': '12/01/2025' this appointment is in the past"


def test_report_read_back_as_input_round_trips(tmp_path: Path) -> None:
    path = write_report(tmp_path / "r.csv", source_frame(), RESULTS)
    back = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    back.index = pd.Index([2, 3, 5], name="row")
    source, ids = strip_report_columns(back)
    assert list(source.columns) == ["Id", "Notes", "Phone"]
    assert source.loc[2, "Notes"] == '=HYPERLINK("http://x", "y")'
    assert source.loc[3, "Phone"] == "\tled"
    assert ids == {2: 41, 5: 43}


def test_a_report_written_before_the_warnings_column_is_still_a_report(tmp_path: Path) -> None:
    path = write_report(tmp_path / "r.csv", source_frame(), RESULTS)
    back = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    older = back.drop(columns=["warnings"]).set_index(pd.Index([2, 3, 5], name="row"))
    source, ids = strip_report_columns(older)
    assert list(source.columns) == ["Id", "Notes", "Phone"]
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

    def half_written_then_full(path: Path, data: Iterable[bytes], **_: object) -> None:
        Path(path).write_bytes(b"".join(data)[:5])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(report_module, "write_lines", half_written_then_full)
    with pytest.raises(ReportError, match="No space left on device"):
        write_report(target, source_frame(), RESULTS)
    assert target.read_text(encoding="utf-8") == "previous report\n"
    assert [p.name for p in tmp_path.iterdir()] == ["r.csv"]  # no temporary file left behind


def typed_source() -> pd.DataFrame:
    """A workbook's cells as the loader gives them: Excel dates in ISO form, numbers as digits."""
    return sheet_rows(
        {
            "Appointment ID": ["000101", "000102", "000103"],
            "Date": ["2026-12-14", "2026-12-15", ""],
            "Start": ["08:30", "14:05:30", "09:00"],
            "Booked": ["2026-11-02 10:15", "2026-11-03 16:45:10", "2026-11-04 08:00"],
            "Minutes": ["30", "45", "-5"],
            "Fee": ["12.5", "0.75", "40"],
            "Phone": ["5415550104", "5415550123", "5415550142"],
            "ZIP": ["02134", "97401", "97402"],
            "Notes": ["=1+1", "2026-12-14", "45"],
            "Mixed": ["2026-12-14", "soon", ""],
        }
    )


TYPED_RESULTS = [*RESULTS[:2], RowResult(5, RowStatus.UPDATED, "c-000103", 12345678901, "")]


def test_xlsx_report_types_numbers_and_dates_and_keeps_ids_as_text(tmp_path: Path) -> None:
    path = write_report(tmp_path / "r.xlsx", typed_source(), TYPED_RESULTS)
    sheet = load_workbook(path).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    row2 = dict(zip(header, sheet[2], strict=True))
    row3 = dict(zip(header, sheet[3], strict=True))
    typed = {
        "Date": (dt.datetime(2026, 12, 14), "yyyy-mm-dd"),
        "Start": (dt.time(8, 30), "hh:mm"),
        "Booked": (dt.datetime(2026, 11, 2, 10, 15), "yyyy-mm-dd hh:mm"),
        "Minutes": (30, "General"),
        "Fee": (12.5, "General"),
        "row": (2, "General"),
    }
    for column, (value, number_format) in typed.items():
        assert (row2[column].value, row2[column].number_format) == (value, number_format), column
    assert row3["Start"].value == dt.time(14, 5, 30)
    assert row3["Start"].number_format == "hh:mm:ss"
    # Ids, codes, phones and columns with any other text stay text, zeros and all.
    for column in ("Appointment ID", "Phone", "ZIP", "Notes", "Mixed", "external_id", "apptoto_id"):
        assert row2[column].data_type == "s", column
        assert row2[column].number_format == "@", column
    assert row2["ZIP"].value == "02134"
    assert row2["Appointment ID"].value == "000101"
    assert sheet.cell(4, header.index("apptoto_id") + 1).value == "12345678901"


def test_xlsx_report_has_a_frozen_header_a_filter_and_widths(tmp_path: Path) -> None:
    path = write_report(tmp_path / "r.xlsx", typed_source(), TYPED_RESULTS)
    sheet = load_workbook(path).active
    assert sheet is not None
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:P4"  # up to the warnings column
    assert all(cell.font.bold for cell in sheet[1])
    # Excel stores a little more than the characters asked for (padding): whole characters.
    widths = {c: int(sheet.column_dimensions[c].width) for c in "ABCDEFGHIJKLMNOP"}
    assert widths["A"] == len("Appointment ID") + 3  # the header and its filter button
    assert widths["O"] == len("row 3, column 'Phone': bad") + 1  # message: the longest cell
    assert widths["B"] == len("2026-12-14") + 1
    assert min(widths.values()) >= 6


def test_xlsx_report_read_back_gives_every_cell_as_written(tmp_path: Path) -> None:
    path = write_report(tmp_path / "r.xlsx", typed_source(), TYPED_RESULTS)
    source, ids = strip_report_columns(load_table(path).frame)
    expected = typed_source()
    assert list(source.columns) == list(expected.columns)
    back = source.fillna("").astype("string").reset_index(drop=True)
    assert back.equals(expected.reset_index(drop=True))
    assert ids == {2: 41, 4: 12345678901}  # by the report's own rows


@pytest.mark.parametrize(
    "text",
    [
        "2026-02-30",  # no such day
        "1899-12-31",  # before Excel's calendar
        "24:30",
        "9:30",  # would read back as 09:30
        "007",  # leading zero
        "1234567890",  # ten digits: an id
        "1.50",  # Excel would show 1.5
        "123456.5",  # General would round it
        "-0",
    ],
)
def test_cells_that_excel_would_show_differently_stay_text(tmp_path: Path, text: str) -> None:
    source = sheet_rows({"Value": [text]}, rows=(2,))
    path = write_report(tmp_path / "r.xlsx", source, TYPED_RESULTS[:1])
    sheet = load_workbook(path).active
    assert sheet is not None
    assert (sheet["A2"].value, sheet["A2"].data_type) == (text, "s")


def sheet_xml(path: Path) -> bytes:
    with zipfile.ZipFile(path) as book:
        return book.read("xl/worksheets/sheet1.xml")


def test_an_xlsx_report_of_several_parts_is_the_one_report_of_the_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    # Cells that a round trip through a temporary CSV file could change, in every part.
    tricky = ["a\rb", "a\r\nb", " lead", "trail ", "NA", "", '"q"', "x,y", "=1+1", "nan", "Zoë"]
    rows = tuple(range(2, 2 + 3 * len(tricky)))
    source = sheet_rows(
        {
            "Notes": [tricky[i % len(tricky)] for i in range(len(rows))],
            "Minutes": [str(10 + i) for i in range(len(rows))],  # numbers in every part
            "Mixed": ["2026-12-14"] * (len(rows) - 1) + ["soon"],  # text only in the last part
        },
        rows=rows,
    )
    results = [RowResult(r, RowStatus.CREATED, f"c-{r}", r * 10, "") for r in rows]
    whole = write_report(tmp_path / "whole.xlsx", source, results)
    writer = ReportWriter(tmp_path / "parts.xlsx")
    for start in range(0, len(rows), 10):
        part = source.iloc[start : start + 10]
        writer.add(part, [r for r in results if r.row in set(part.index)])
    # The lines wait on disk, not in memory (a report of 1,000,000 rows holds ~1 GB of text).
    assert list(Path(tempfile.gettempdir()).glob("apptoto-report-*.csv"))
    parted = writer.finish()
    assert sheet_xml(parted) == sheet_xml(whole)
    assert not list(Path(tempfile.gettempdir()).glob("apptoto-report-*.csv"))  # removed


def test_lines_written_as_csv_where_a_part_was_checked_make_the_same_report(
    tmp_path: Path,
) -> None:
    # A worker writes a part's lines as CSV (csv_part); the report built from them is the
    # report built from frames, byte for byte. A report that is not one CSV file refuses them.
    whole = write_report(tmp_path / "whole.csv", source_frame(), RESULTS)
    writer = ReportWriter(tmp_path / "parts.csv")
    assert writer.takes_csv
    for row in (2, 3, 5):
        part = source_frame().loc[[row]]
        writer.add_lines(csv_part(report_frame(part, [r for r in RESULTS if r.row == row])))
    assert writer.finish().read_bytes() == whole.read_bytes()
    lines = csv_part(report_frame(source_frame(), RESULTS))
    for other in (ReportWriter(tmp_path / "r.xlsx"), ReportWriter(tmp_path / "r.csv", ["r.xlsx"])):
        assert not other.takes_csv
        with pytest.raises(ValueError, match="takes its lines as a frame"):
            other.add_lines(lines)


def test_a_report_is_the_same_whatever_the_slices_its_lines_are_written_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = write_report(tmp_path / "whole.csv", source_frame(), RESULTS).read_bytes()
    monkeypatch.setattr(report_module, "_SLICE", 2)
    assert write_report(tmp_path / "sliced.csv", source_frame(), RESULTS).read_bytes() == whole
    lines = csv_part(report_frame(source_frame(), RESULTS))
    assert len(lines.data) == 2
    assert whole.count(b"\r\n") == 4 and whole.startswith(b"\xef\xbb\xbfId,Notes,Phone,row,")
