"""Load stage, finding the table in a sheet kept by hand: the header below a title, the header row
a mapping names, the rows that are not appointments (totals, notes, a repeated header)."""

from __future__ import annotations

from pathlib import Path

import pytest

from importer.errors import LoadError
from importer.load import load_table

TITLED = (
    "Riverside Family Dental,,,\n"
    "Printed 12/10/2026,,,\n"
    ",,,\n"
    "Appt ID,Date,Time,Patient\n"
    "A1,12/14/2026,8:30 AM,Gail Abernathy\n"
    ",,,\n"
    "A2,12/14/2026,9:00 AM,Tom Baker\n"
    "TOTAL,,,2 appointments\n"
    "Bring insurance cards,,,\n"
)


def write(tmp_path: Path, text: str, name: str = "day.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_title_and_a_blank_row_above_the_header_are_skipped(tmp_path: Path) -> None:
    loaded = load_table(write(tmp_path, TITLED))
    assert loaded.header_row == 4
    assert list(loaded.frame.columns) == ["Appt ID", "Date", "Time", "Patient"]
    assert loaded.appointments.index.tolist() == [5, 7]  # the spreadsheet's own row numbers
    assert (
        "the column names are on row 4; the rows above them (a title or blank rows) were "
        "skipped" in loaded.warnings
    )


def test_totals_and_notes_below_the_table_are_set_aside_with_the_reason(tmp_path: Path) -> None:
    loaded = load_table(write(tmp_path, TITLED))
    assert loaded.set_aside == {
        8: "not an appointment: a totals row ('TOTAL', '2 appointments')",
        9: "not an appointment: a heading or a note, only one cell filled "
        "('Bring insurance cards')",
    }
    assert loaded.frame.index.tolist() == [5, 7, 8, 9]  # kept for the report
    assert "row 8 is a totals row ('TOTAL', '2 appointments'): not sent" in loaded.warnings


@pytest.mark.parametrize(
    ("row", "words"),
    [
        ("Total:,,,2\n", "a totals row"),
        ("Grand total,,,2\n", "a totals row"),
        # Found in any cell of a short row; "ſ" (long s) reads as "s", as the regex has it.
        (",SUBTOTAL,,2\n", "a totals row"),
        (",,\u017fum:,2\n", "a totals row"),
        ("Appt ID,Date,Time,Patient\n", "the header row again"),
        ("Dr. Chen,,,\n", "a heading or a note, only one cell filled"),
    ],
)
def test_rows_that_are_not_appointments(tmp_path: Path, row: str, words: str) -> None:
    text = "Appt ID,Date,Time,Patient\nA1,12/14/2026,8:30 AM,Ann\n" + row
    text += "A2,12/14/2026,9:00 AM,Bo\n"
    loaded = load_table(write(tmp_path, text))
    assert list(loaded.set_aside) == [3]
    assert words in loaded.set_aside[3]
    assert loaded.appointments.index.tolist() == [2, 4]


def test_sparse_rows_after_the_last_full_row_are_notes(tmp_path: Path) -> None:
    text = "Appt ID,Date,Time,Patient,Phone\nA1,12/14/2026,8:30 AM,Ann,5415550101\n"
    text += "A2,12/14/2026,,,\n"  # an appointment missing cells, inside the table: kept
    text += "A3,12/14/2026,9:00 AM,Bo,5415550102\n"
    text += "Checked by,Mary,,,\n"
    loaded = load_table(write(tmp_path, text))
    assert loaded.set_aside == {
        5: "not an appointment: a note below the table ('Checked by', 'Mary')"
    }


def test_a_clean_table_sets_nothing_aside(tmp_path: Path) -> None:
    text = "Appt ID,Date,Time,Patient\nA1,12/14/2026,8:30 AM,Ann\nA2,12/14/2026,9:00 AM,Bo\n"
    loaded = load_table(write(tmp_path, text))
    assert loaded.header_row == 1 and loaded.set_aside == {}
    assert loaded.appointments.index.tolist() == [2, 3]


def test_the_header_row_a_mapping_names_wins(tmp_path: Path) -> None:
    text = "Week of,12/14/2026\nAppt ID,Date\nA1,12/14/2026\n"
    assert load_table(write(tmp_path, text)).header_row == 2
    named = load_table(write(tmp_path, text), header_row=1)
    assert list(named.frame.columns) == ["Week of", "12/14/2026"]


@pytest.mark.parametrize(
    ("header_row", "words"),
    [
        (9, "the header should be on row 9, but the table is on rows 1 to 4"),
        (3, "the header should be on row 3, but that row is blank"),
    ],
)
def test_a_header_row_that_cannot_be_is_refused_in_words(
    tmp_path: Path, header_row: int, words: str
) -> None:
    text = "Appt ID,Date\nA1,12/14/2026\n,\nA2,12/15/2026\n"
    with pytest.raises(LoadError, match=words):
        load_table(write(tmp_path, text), header_row=header_row)


def test_an_incomplete_last_appointment_is_checked_not_set_aside(tmp_path: Path) -> None:
    text = "Appt ID,Date,Time,Patient,Phone,Email\n"
    text += "A1,12/14/2026,8:30 AM,Ann,5415550101,a@example.com\n"
    text += "A2,12/14/2026,,,,\n"  # the last appointment, half typed: must be refused, not lost
    loaded = load_table(write(tmp_path, text))
    assert loaded.set_aside == {}
    assert loaded.appointments.index.tolist() == [2, 3]


def test_a_header_with_a_name_twice_is_still_the_header(tmp_path: Path) -> None:
    text = "Clinic list\nName,Phone,Phone\nAnn,5415550101,5415550102\nBo,5415550103,\n"
    loaded = load_table(write(tmp_path, text))
    assert loaded.header_row == 2
    assert list(loaded.frame.columns) == ["Name", "Phone", "Phone (2)"]
