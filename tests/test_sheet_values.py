"""Values of the sheet itself in a mapping: ``{@title}``, ``{@sheet}`` and ``{@file}``, and the
date of a day's sheet read from them (``{@title|date}``) where no column holds it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from importer.assist import Proposal, propose_mapping
from importer.assist.sheet_values import named_by_day
from importer.errors import MappingError
from importer.load import calls_off, load_table
from importer.load.parts import PartReader
from importer.mapping import parse_mapping
from importer.prepare import prepare, prepare_sheet

ROWS = "Time,Patient,Phone,Provider\n9:00 AM,Gail Abernathy,(541) 555-0104,Dr. Patel\n"


def mapping(date: str, *, external_id: str = "desk-{Patient}-{Time}") -> str:
    return f"""
name: desk
defaults: {{time_zone: America/Los_Angeles, date_format: "%m/%d/%Y", time_format: "%I:%M %p"}}
event:
  external_id: "{external_id}"
  calendar: "{{Provider}}"
  title: Visit
  start: {{date: "{date}", time: "{{Time}}"}}
  duration_minutes: 30
  participants:
    - name: "{{Patient}}"
      phone: "{{Phone}}"
"""


def test_the_text_above_the_header_is_the_sheets_title_in_every_reader(tmp_path: Path) -> None:
    source = tmp_path / "desk.csv"
    source.write_text("Appointments for  12/14/2026,,\n,,,\n" + ROWS, encoding="utf-8")
    assert load_table(source).title == "Appointments for 12/14/2026"
    parts = list(PartReader(source, part_rows=1).parts())
    assert [p.title for p in parts] == ["Appointments for 12/14/2026"] * len(parts)
    plain = tmp_path / "plain.csv"
    plain.write_text(ROWS, encoding="utf-8")
    assert load_table(plain).title == ""


@pytest.mark.parametrize(
    ("file", "date", "start"),
    [
        ("desk.csv", "{@title|date}", "2026-12-14T09:00:00-08:00"),
        ("appointments_2026-12-15.csv", "{@file|date}", "2026-12-15T09:00:00-08:00"),
    ],
)
def test_a_day_sheet_s_rows_are_on_the_day_its_title_or_file_name_says(
    tmp_path: Path, file: str, date: str, start: str
) -> None:
    source = tmp_path / file
    source.write_text("Appointments for Monday 12/14/2026\n" + ROWS, encoding="utf-8")
    prepared = prepare(source, parse_mapping(yaml.safe_load(mapping(date))))
    (payload,) = prepared.events.payloads.values()
    assert payload["start_time"] == start
    assert "@title" not in prepared.source.columns  # the report shows the sheet's own columns


def test_an_id_may_hold_the_sheet_s_date(tmp_path: Path) -> None:
    source = tmp_path / "desk.csv"
    source.write_text("Appointments for 12/14/2026\n" + ROWS, encoding="utf-8")
    made = mapping("{@title|date}", external_id="desk-{@title|date}-{Time}-{Patient}")
    prepared = prepare(source, parse_mapping(yaml.safe_load(made)))
    assert list(prepared.events.external_ids.values()) == ["desk-12/14/2026-9:00 AM-Gail Abernathy"]


def test_an_unknown_value_of_the_sheet_is_named_with_the_ones_there_are(tmp_path: Path) -> None:
    source = tmp_path / "desk.csv"
    source.write_text(ROWS, encoding="utf-8")
    with pytest.raises(MappingError) as raised:
        prepare(source, parse_mapping(yaml.safe_load(mapping("{@date}"))))
    assert raised.value.problems == [
        "no {@date}: of the sheet itself a mapping can read {@title} (Sheet title), {@sheet} "
        "(Sheet name), {@file} (File name), {@heading} (Heading above)"
    ]


def _proposal(tmp_path: Path, text: str, name: str = "desk.csv") -> Proposal:
    """What init proposes for a CSV file of ``text``."""
    source = tmp_path / name
    source.write_text(text, encoding="utf-8")
    loaded = load_table(source)
    return propose_mapping(
        loaded.appointments,
        name="desk",
        time_zone="America/Los_Angeles",
        sheet_values=loaded.own_values(),
    )


def _proposed(tmp_path: Path, text: str, name: str = "desk.csv") -> dict[str, object]:
    return {c.key: c.value for c in _proposal(tmp_path, text, name).event}


def test_the_assistant_takes_the_title_s_date_only_where_no_column_holds_dates(
    tmp_path: Path,
) -> None:
    titled = _proposed(tmp_path, "Appointments for 12/14/2026\n" + ROWS)
    assert titled["start"] == {"date": "{@title|date}", "time": "{Time}"}
    with_column = "Appointments for 12/14/2026\nDate," + ROWS.replace("\n9:00", "\n12/15/2026,9:00")
    assert _proposed(tmp_path, with_column)["start"] == {"date": "{Date}", "time": "{Time}"}


def test_a_week_s_title_gives_no_date_to_every_row(tmp_path: Path) -> None:
    """A weekly sheet's title names its Monday: every row on that Monday would be wrong."""
    start = _proposed(tmp_path, "Week of December 14, 2026\n" + ROWS)["start"]
    assert start == {"date": "{CHOOSE the date column}"}


def test_a_title_s_day_without_its_year_is_never_completed_and_init_says_so(
    tmp_path: Path,
) -> None:
    proposal = _proposal(tmp_path, "Monday 14th December\n" + ROWS)
    source = tmp_path / "desk.csv"
    assert {c.key: c.value for c in proposal.event}["start"] == {"date": "{CHOOSE the date column}"}
    assert (
        "sheet title 'Monday 14th December' has a day without its year, which is not guessed"
        in " ".join(proposal.notes)
    )
    made = mapping("{@title|date}")
    prepared = prepare(source, parse_mapping(yaml.safe_load(made)))
    (issue,) = prepared.issues[3]
    assert issue.column == "Sheet title"
    assert issue.reason.startswith("has a date without its year ('Monday 14th December')")


@pytest.mark.parametrize(
    ("sheets", "by_day"),
    [
        (["Mon 12-14", "Tue 12-15"], True),
        (["Monday", "Tuesday"], True),
        (["Dec 14", "Dec 15"], True),
        (["2026-12-14", "2026-12-15"], True),
        (["Dr Patel", "Dr Kim"], False),
        (["Montreal", "Sunnyvale"], False),  # a day's letters inside a word are no day
        (["Mon 12-14", "Archive"], False),
    ],
)
def test_sheets_named_by_their_days_are_read_as_sheets_all(sheets: list[str], by_day: bool) -> None:
    assert named_by_day(sheets) is by_day


@pytest.mark.parametrize(
    ("heading", "off"),
    [
        ("CANCELLED", True),
        ("Cancellations", True),
        ("No shows", True),
        ("Cancelled appointments:", True),
        ("Rescheduled", True),
        ("Broken appointments", True),
        ("Cancellation list", False),  # patients waiting for an earlier slot: booked
        ("Mrs. Lee cancelled, call back", False),  # a note about one visit
        ("Dr. Rivera", False),
    ],
)
def test_a_heading_calls_off_the_rows_below_it_only_when_it_says_so_alone(
    heading: str, off: bool
) -> None:
    assert calls_off(heading) is off


def test_a_heading_reaches_the_rows_below_it_in_every_part_of_a_big_file(
    tmp_path: Path,
) -> None:
    """A file read in parts: a part's first rows have the heading of a part before it."""
    source = tmp_path / "blocks.csv"
    rows = [f"12/14/2026,9:{i % 60:02d} AM,P{i},54155{i:05d},Exam\n" for i in range(150)]
    later = [f"12/15/2026,3:{i % 60:02d} PM,Q{i},54156{i:05d},Exam\n" for i in range(100)]
    source.write_text(
        "Date,Time,Patient,Phone,Reason\nDr. Rivera,,,,\n"
        + "".join(rows)
        + "CANCELLED,,,,\n"
        + "".join(later),
        encoding="utf-8",
    )
    parts = list(PartReader(source, part_rows=50).parts())
    assert len(parts) > 3
    made = mapping("{Date}").replace('calendar: "{Provider}"', 'calendar: "{@heading}"')
    found = [prepare_sheet(part, parse_mapping(yaml.safe_load(made))) for part in parts]
    calendars = {p["calendar"] for f in found for p in f.events.payloads.values()}
    assert calendars == {"Dr. Rivera"}
    aside = {row: why for f in found for row, why in f.set_aside.items()}
    assert (
        sum(
            why.endswith("below the heading 'CANCELLED', so no reminder is sent")
            for why in aside.values()
        )
        == 100
    )


def test_a_column_of_starts_as_moments_is_the_start_and_one_of_utc_midnights_is_not(
    tmp_path: Path,
) -> None:
    """Web systems export moments: varied times are starts, kept at their offset; one time of
    day (UTC midnight) is a date written as a moment, which no zone-free reading places on a
    day, so it is named in a note and not used."""
    starts = "ID,Start,Patient\n1,2026-12-14T17:00:00Z,Ann\n2,2026-12-14T17:30:00.000Z,Bo\n"
    starts += "3,2026-12-15T18:15:00Z,Cy\n"
    source = tmp_path / "starts.csv"
    source.write_text(starts, encoding="utf-8")
    proposal = propose_mapping(load_table(source).frame, name="web", time_zone="America/Denver")
    assert {c.key: c.value for c in proposal.event}["start"] == "{Start}"
    (first, *_) = prepare(source, proposal.to_mapping()).events.payloads.values()
    assert first["start_time"] == "2026-12-14T17:00:00+00:00"

    dates = "ID,Date,Time,Patient\n1,2026-12-14T00:00:00Z,9:00 AM,Ann\n"
    dates += "2,2026-12-15T00:00:00.000Z,9:30 AM,Bo\n"
    source.write_text(dates, encoding="utf-8")
    proposal = propose_mapping(load_table(source).frame, name="web", time_zone="America/Denver")
    assert {c.key: c.value for c in proposal.event}["start"] == {"date": "{CHOOSE the date column}"}
    assert any(n.startswith("the column 'Date' holds moments in UTC time") for n in proposal.notes)


def test_a_date_column_of_excel_s_numbers_for_dates_is_named_and_zip_codes_are_not(
    tmp_path: Path,
) -> None:
    """A CSV saved from a workbook whose date column was formatted General holds 46370 for
    14 December 2026: not read as a date (1900 or 1904 based?), but said, so staff know what
    to fix. ZIP codes are such numbers too: a column not named for the date is left alone."""
    text = "ID,Appt Date,Time,Patient,ZIP\n1,46370,9:00 AM,Ann,54301\n2,46371,9:30 AM,Bo,54302\n"
    source = tmp_path / "serial.csv"
    source.write_text(text, encoding="utf-8")
    proposal = propose_mapping(load_table(source).frame, name="desk", time_zone="America/Chicago")
    assert {c.key: c.value for c in proposal.event}["start"] == {"date": "{CHOOSE the date column}"}
    named = [n for n in proposal.notes if "Excel shows dates as numbers" in n]
    assert len(named) == 1
    assert named[0].startswith("the column 'Appt Date' holds '46370', which is a number")
    assert "46370 would be 14 December 2026" in named[0]
