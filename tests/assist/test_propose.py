"""The mapping assistant: columns matched by name and content, formats guessed or refused, and the
proposed mapping importing the same events as a hand-written one."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.assist import Confidence, Proposal, proposal_from_choices, propose_mapping
from importer.assist.formats import guess_date_format, guess_time_format
from importer.assist.identity import source_name
from importer.errors import MappingError
from importer.load import load_table
from importer.mapping import format_problem, load_mapping, parse_mapping
from importer.prepare import prepare
from tests.helpers import CLINIC_MAPPING, SAMPLES, invoke_cli

CLINIC = CLINIC_MAPPING
LA = "America/Los_Angeles"


def cells(values: list[str]) -> pd.Series:
    return pd.Series(values, index=range(2, len(values) + 2), dtype="str")


def valid_payloads(path: Path, mapping: Any) -> dict[int, dict[str, Any]]:
    """The events of the rows that would be sent (no issue of any stage)."""
    prepared = prepare(path, mapping)
    return {r: p for r, p in prepared.events.payloads.items() if r not in prepared.issues}


def write_frame(path: Path, frame: pd.DataFrame) -> Path:
    """``frame`` as a CSV sheet, blanks as empty cells."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(frame.columns)
        writer.writerows(frame.fillna("").itertuples(index=False))
    return path


# --- formats -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["12/14/2026", "01/02/2026"], "%m/%d/%Y"),
        (["14/12/2026", "01/02/2026"], "%d/%m/%Y"),
        (["12/14/26", "1/2/27"], "%m/%d/%y"),
        (["14.12.2026", "01.02.2026"], "%d.%m.%Y"),
        (["2026/12/14", "2026/01/02"], "%Y/%m/%d"),
        (["14 Dec 2026", "2 Jan 2027"], "%d %b %Y"),
        (["December 14, 2026", "January 2, 2027"], "%B %d, %Y"),
        (["2026-12-14", "2027-01-02"], None),  # ISO needs no format
        # Excel's date-and-time cells at midnight, saved to CSV: a column of dates
        (["12/14/2026 0:00", "1/2/2027 0:00"], "%m/%d/%Y"),
        (["14/12/2026 00:00", "01/02/2027 00:00"], "%d/%m/%Y"),
        (["2026-12-14 00:00:00", "2027-01-02 00:00:00"], None),
    ],
)
def test_date_formats_are_guessed_from_the_values(values: list[str], expected: str | None) -> None:
    guess = guess_date_format(cells(values))
    assert (guess.format, guess.refused) == (expected, False)


def test_dates_with_times_of_day_are_no_column_of_dates() -> None:
    guess = guess_date_format(cells(["12/14/2026 9:30", "1/2/2027 14:00"]))
    assert guess.share == 0.0


@pytest.mark.parametrize(
    ("values", "words"),
    [
        (
            ["03/04/2026", "05/06/2026", "12/12/2026"],
            "cannot tell March 4 (month first) from 3 April (day first)",
        ),
        (["03.04.2026"], "cannot tell March 4 (month first) from 3 April (day first)"),
        (["13/04/2026", "04/13/2026", "04/14/2026"], "mix both orders"),
    ],
)
def test_day_month_order_is_refused_when_the_values_cannot_tell(
    values: list[str], words: str
) -> None:
    guess = guess_date_format(cells(values))
    assert guess.refused and guess.format is None
    assert len(guess.choices) == 2 and guess.confidence is Confidence.LOW
    assert words in guess.reason


def test_a_few_typos_the_other_way_round_are_named_not_followed() -> None:
    guess = guess_date_format(load_table(SAMPLES / "appointments.csv").frame["Date"])
    assert guess.format == "%m/%d/%Y" and guess.confidence is Confidence.MEDIUM
    assert "row 18 '14/12/2026'" in guess.reason


def test_a_text_date_among_excel_date_cells_is_read_the_one_way_it_can_be() -> None:
    guess = guess_date_format(load_table(SAMPLES / "appointments.xlsx").frame["Date"])
    assert guess.format == "%d/%m/%Y" and guess.confidence is Confidence.MEDIUM
    assert "typed as text read only as DD/MM/YYYY" in guess.reason
    assert "row 18 '14/12/2026'" in guess.reason


CELLS = ["2026-12-14"] * 19  # Excel date cells, as the loader gives them


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (["12/16/2026"], "%m/%d/%Y"),
        (["12/16/2026", "01/13/2027"], "%m/%d/%Y"),
        (["16/12/2026"], "%d/%m/%Y"),
        (["03/04/2026"], None),  # March 4 or 3 April: not guessed
        (["12/16/2026", "16/12/2026"], None),  # both orders: not guessed
        (["12/16/2026", "03/04/2026"], None),  # one cannot be read alone
    ],
)
def test_text_dates_among_date_cells_are_read_only_when_each_reads_one_way(
    typed: list[str], expected: str | None
) -> None:
    guess = guess_date_format(cells(CELLS + typed))
    assert guess.format == expected


@pytest.mark.parametrize(
    ("values", "expected", "refused"),
    [
        (["8:30 AM", "1:00 PM"], "%I:%M %p", False),
        (["8:30am", "1:00pm"], "%I:%M %p", False),
        # The hour alone is read by the 12-hour format, which reads "9:30 AM" later too.
        (["9 AM", "2 PM"], "%I:%M %p", False),
        (["9am", "2:30 PM", "10 a.m."], "%I:%M %p", False),
        # A 24-hour clock said so (past noon): the file saved in Excel writes 08:30 as 8:30.
        (["08:30", "14:00"], "%H:%M", False),
        (["08:30", "00:15"], "%H:%M", False),
        (["08:30", "11:00"], None, False),  # no hour past noon: 8:30 would be a 12-hour guess
        (["9:30", "14:00"], "%H:%M", False),
        (["9.30", "14.00"], "%H.%M", False),
        (["9.30am", "2.00pm", "14.30"], "%I.%M %p", False),  # the UK's way, 24-hour beside
        (["9:30", "2:30"], None, True),  # 2:30 at night, or in the afternoon?
    ],
)
def test_time_formats(values: list[str], expected: str | None, refused: bool) -> None:
    guess = guess_time_format(cells(values))
    assert (guess.format, guess.refused) == (expected, refused)


@pytest.mark.parametrize(
    ("fmt", "problem"),
    [
        ("%m/%d/%Y", None),
        ("%I:%M %p", None),
        ("%Hh%M", None),
        ("%Y-%m-%dT%H:%M", None),
        ("MM/DD/YYYY", "no %-codes"),
        ("CHOOSE %m/%d/%Y or %d/%m/%Y", "only %-codes and separators"),
    ],
)
def test_format_problem(fmt: str, problem: str | None) -> None:
    found = format_problem(fmt)
    assert (found is None) if problem is None else (problem in (found or ""))


def test_a_format_placeholder_stops_the_mapping_with_its_own_words() -> None:
    raw = yaml.safe_load(CLINIC.read_text(encoding="utf-8"))
    raw["defaults"]["date_format"] = "CHOOSE %m/%d/%Y or %d/%m/%Y"
    with pytest.raises(MappingError) as caught:
        parse_mapping(raw)
    assert "defaults.date_format: 'CHOOSE %m/%d/%Y or %d/%m/%Y' is not a date/time format" in str(
        caught.value
    )


# --- the samples ---------------------------------------------------------------------------------


def without_clinic_extras(payload: dict[str, Any]) -> dict[str, Any]:
    """clinic.yaml's payload minus what the assistant leaves to the user (see the test below),
    its id under the source the assistant names after the id column, not the mapping's name."""
    trimmed = {k: v for k, v in payload.items() if k not in ("show_as", "custom_data")}
    trimmed["content"] = re.sub(r" ?#auto$", "", payload["content"])
    trimmed["external_id"] = payload["external_id"].replace("clinic-", "appointment-id-", 1)
    return trimmed


@pytest.mark.parametrize("sample", ["appointments.csv", "appointments.xlsx"])
def test_the_samples_import_the_same_events_as_the_clinic_mapping(sample: str) -> None:
    """Identical events, but for three choices the assistant leaves to the user on purpose:
    ``show_as: busy`` (Apptoto's own default when absent), ``auto_messages`` (``#auto`` only
    when asked) and ``custom_data`` (DOB and ZIP are offered, commented out: a column is never
    sent to Apptoto unless the user chose it)."""
    path = SAMPLES / sample
    loaded = load_table(path)
    proposal = propose_mapping(loaded.frame, name="clinic", sheet=loaded.sheet_name, time_zone=LA)
    assert proposal.needs_choice == []
    proposed = valid_payloads(path, proposal.to_mapping())
    by_hand = valid_payloads(path, load_mapping(CLINIC))
    # The workbook's one typed date, '14/12/2026' among date cells, can only be 14 December.
    day_first = {18} if sample.endswith(".xlsx") else set()
    assert sorted(proposed) == sorted([*by_hand, *day_first]) and len(by_hand) == 14
    assert {r: p for r, p in proposed.items() if r not in day_first} == {
        row: without_clinic_extras(p) for row, p in by_hand.items()
    }
    assert proposal.unmatched == ("DOB", "ZIP")
    assert '#   dob: "{DOB}"' in proposal.to_yaml()


@pytest.mark.parametrize("sample", ["appointments.csv", "appointments.xlsx"])
def test_init_output_validates_unedited(sample: str, tmp_path: Path) -> None:
    # In the workbook every date but row 18's is a date cell, and '14/12/2026' can only be
    # 14 December: the proposal reads it so, where clinic.yaml (month first) refuses it.
    valid = "14 valid, 8 invalid rows" if sample.endswith(".csv") else "15 valid, 7 invalid rows"
    mapping = tmp_path / "clinic.yaml"
    made = invoke_cli(["init", str(SAMPLES / sample), "-o", str(mapping), "--time-zone", LA])
    assert made.exit_code == 0, made.output
    assert "Provider -> Calendar (provider, staff) (high)" in made.output
    checked = invoke_cli(["validate", str(SAMPLES / sample), "-m", str(mapping)])
    assert checked.exit_code == 1  # the sample's own bad rows, as with clinic.yaml
    assert valid in checked.output
    if sample.endswith(".csv"):
        by_hand = invoke_cli(["validate", str(SAMPLES / sample), "-m", str(CLINIC)])
        assert checked.output.splitlines()[-1] == by_hand.output.splitlines()[-1]


def test_init_without_a_zone_validates_and_names_the_rows_without_one(tmp_path: Path) -> None:
    mapping = tmp_path / "clinic.yaml"
    made = invoke_cli(["init", str(SAMPLES / "appointments.csv"), "-o", str(mapping)])
    assert made.exit_code == 0
    assert "default time zone: none (medium): 11 rows leave 'Time Zone' blank" in made.output
    checked = invoke_cli(["validate", str(SAMPLES / "appointments.csv"), "-m", str(mapping)])
    assert checked.exit_code == 1  # the mapping loads; rows without a zone are refused
    assert "row 3, column 'Time Zone': no time zone" in checked.output
    assert "8 valid, 14 invalid rows" in checked.output  # 6 more than with a zone


def test_without_a_default_zone_only_the_rows_without_one_are_refused() -> None:
    path = SAMPLES / "appointments.csv"
    proposal = propose_mapping(load_table(path).frame, name="clinic")
    assert proposal.time_zone.value is None and "11 rows leave 'Time Zone' blank" in (
        proposal.time_zone.reason
    )
    prepared = prepare(path, proposal.to_mapping())
    with_zone = valid_payloads(path, load_mapping(CLINIC))
    proposed = {r: p for r, p in prepared.events.payloads.items() if r not in prepared.issues}
    assert proposed == {r: without_clinic_extras(p) for r, p in with_zone.items() if r in proposed}
    for row in set(with_zone) - set(proposed):
        assert [i.reason for i in prepared.issues[row]] == [
            "no time zone: the cell is blank and no time zone is set for such rows; write the "
            "zone (like America/New_York) in the cell, or choose the time zone of the "
            "appointments when matching the columns"
        ]


# --- synonyms ------------------------------------------------------------------------------------


def clinic_frame() -> pd.DataFrame:
    return load_table(SAMPLES / "appointments.csv").frame


def hand_mapping(c: dict[str, str], *, name: str, end: dict[str, Any]) -> Any:
    """What a person would write for the renamed sheet (no zone column: LA for every row)."""
    event: dict[str, Any] = {
        "external_id": source_name([c["id"]]) + "-{" + c["id"] + "}",
        "calendar": "{" + c["provider"] + "}",
        "title": "{" + c["service"] + "} with {" + c["provider"] + "}",
        "start": {"date": "{" + c["date"] + "}", "time": "{" + c["start"] + "}"},
        **end,
        "location": "{" + c["location"] + "}",
        "content": "{" + c["notes"] + "}",
        "participants": [
            {"name": name, "email": "{" + c["email"] + "}", "phone": "{" + c["phone"] + "}"}
        ],
    }
    if "zone" in c:
        event["time_zone"] = "{" + c["zone"] + "}"
    defaults = {"time_zone": LA, "date_format": "%m/%d/%Y", "time_format": "%I:%M %p"}
    columns = {
        c["id"]: {"required": True, "unique": True},
        c["email"]: {"type": "email"},
        c["phone"]: {"type": "phone"},
    }
    return parse_mapping({"defaults": defaults, "columns": columns, "event": event})


def minutes_between(frame: pd.DataFrame) -> pd.Series:
    start = pd.to_datetime(
        frame["Date"] + " " + frame["Start"], format="%m/%d/%Y %I:%M %p", errors="coerce"
    )
    end = pd.to_datetime(
        frame["Date"] + " " + frame["End"], format="%m/%d/%Y %I:%M %p", errors="coerce"
    )
    minutes = ((end - start).dt.total_seconds() // 60).astype("Int64").astype("str")
    return minutes.where(minutes != "<NA>", "")


SYNONYM_FILES = {
    "a": {
        "Appointment ID": "Booking Ref",
        "Date": "Date of Visit",
        "Start": "Time",
        "End": "End Time",
        "Provider": "Doctor",
        "Service": "Type",
        "First Name": "Given Name",
        "Last Name": "Surname",
        "Phone": "Mobile",
        "Email": "E-mail",
        "Location": "Room",
        "Notes": "Comments",
        "Time Zone": "TZ",
    },
    "b": {
        "Appointment ID": "ID",
        "Date": "Appt Date",
        "Start": "Start Time",
        "End": "Finish",
        "Provider": "Staff",
        "Service": "Appointment Type",
        "Phone": "Cell",
        "Email": "Email Address",
        "Location": "Location",
        "Notes": "Memo",
        "Time Zone": "Timezone",
    },
    "c": {
        "Appointment ID": "Ref",
        "Date": "Date",
        "Start": "From",
        "Provider": "Provider",
        "Service": "Service",
        "Phone": "Phone #",
        "Email": "Email",
        "Location": "Clinic",
        "Notes": "Notes",
    },
}


@pytest.mark.parametrize("variant", sorted(SYNONYM_FILES))
def test_synonym_headers_give_the_same_events(variant: str, tmp_path: Path) -> None:
    renames = SYNONYM_FILES[variant]
    frame = clinic_frame()
    if variant == "b":  # one column for the whole name
        frame.insert(6, "Patient Name", frame["First Name"] + " " + frame["Last Name"])
        frame = frame.drop(columns=["First Name", "Last Name"])
    if variant == "c":  # a duration instead of an end, a client column, no zone column
        frame.insert(3, "Duration", minutes_between(frame))
        frame.insert(6, "Client", frame["First Name"] + " " + frame["Last Name"])
        frame = frame.drop(columns=["End", "First Name", "Last Name", "Time Zone"])
    frame = frame.rename(columns=renames)
    path = write_frame(tmp_path / f"{variant}.csv", frame)
    proposal = propose_mapping(load_table(path).frame, name="clinic", time_zone=LA)
    assert proposal.needs_choice == []

    c = {
        role: renames[col]
        for role, col in [
            ("id", "Appointment ID"),
            ("date", "Date"),
            ("start", "Start"),
            ("provider", "Provider"),
            ("service", "Service"),
            ("phone", "Phone"),
            ("email", "Email"),
            ("location", "Location"),
            ("notes", "Notes"),
        ]
    }
    if "Time Zone" in renames:
        c["zone"] = renames["Time Zone"]
    if variant == "a":
        by_hand = hand_mapping(
            c,
            name="{Given Name} {Surname}",
            end={"end": {"date": "{Date of Visit}", "time": "{End Time}"}},
        )
    elif variant == "b":
        by_hand = hand_mapping(
            c, name="{Patient Name}", end={"end": {"date": "{Appt Date}", "time": "{Finish}"}}
        )
    else:
        by_hand = hand_mapping(c, name="{Client}", end={"duration_minutes": "{Duration}"})
    proposed = valid_payloads(path, proposal.to_mapping())
    expected = valid_payloads(path, by_hand)
    assert len(expected) >= 13
    assert proposed == expected


def test_email_and_zone_columns_are_found_by_their_values() -> None:
    frame = pd.DataFrame(
        {
            "Ref": ["A1", "A2", "A3"],
            "Visit": ["12/14/2026", "12/15/2026", "12/16/2026"],
            "Hour": ["9:00 AM", "10:00 AM", "2:00 PM"],
            "Contact": ["a@example.com", "b@example.org", "c@example.net"],
            "Region": ["America/Chicago", "America/Chicago", "Europe/Paris"],
        },
        index=[2, 3, 4],
    )
    proposal = propose_mapping(frame, name="x")
    picks = proposal.columns_by_field()
    assert picks["participant_email"] == "Contact"
    assert picks["time_zone"] == "Region"
    assert picks["start_date"] == "Visit" and picks["start_time"] == "Hour"
    assert proposal.picks["participant_email"].confidence is Confidence.MEDIUM
    assert "participant_name" not in picks  # "Contact" names a person, but holds addresses


# --- what needs the user -------------------------------------------------------------------------


def test_an_ambiguous_date_file_gets_no_guessed_format(tmp_path: Path) -> None:
    source = tmp_path / "ambiguous.csv"
    source.write_text(
        "Appointment ID,Date,Time,Duration,Doctor,Client\n"
        "1,03/04/2026,9:00 AM,30,Dr A,Ann\n"
        "2,05/06/2026,10:00 AM,30,Dr A,Bob\n"
        "3,11/12/2026,2:00 PM,45,Dr B,Cy\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "ambiguous.yaml"
    made = invoke_cli(["init", str(source), "-o", str(mapping), "--time-zone", "Europe/London"])
    assert made.exit_code == 0
    assert "NEEDS YOUR CHOICE: defaults.date_format" in made.output
    text = mapping.read_text(encoding="utf-8")
    assert 'date_format: "CHOOSE %m/%d/%Y or %d/%m/%Y"' in text
    assert "cannot tell March 4 (month first) from 3 April (day first)" in text.replace(
        "\n  # ", " "
    )

    refused = invoke_cli(["validate", str(source), "-m", str(mapping)])
    assert refused.exit_code == 2
    assert "defaults.date_format: 'CHOOSE %m/%d/%Y or %d/%m/%Y' is not a date/time format" in (
        refused.output
    )
    # The user's choice, from the lines offered in the comment:
    mapping.write_text(text.replace('"CHOOSE %m/%d/%Y or %d/%m/%Y"', '"%d/%m/%Y"'), "utf-8")
    chosen = invoke_cli(["validate", str(source), "-m", str(mapping)])
    assert chosen.exit_code == 0, chosen.output
    payloads = valid_payloads(source, load_mapping(mapping))
    assert payloads[2]["start_time"] == "2026-04-03T09:00:00+01:00"  # 3 April, British summer


def test_a_uk_clinic_sheet_gets_its_times_and_its_country(tmp_path: Path) -> None:
    """Times like 9.30am, dates day first, mobiles written 07400 and +44 7500, no zone column:
    before, the times were not seen as times (the time column became the appointment id and the
    visits all-day events) and the numbers were read as US ones."""
    source = tmp_path / "uk.csv"
    source.write_text(
        "Patient No,Appt Date,Time,Finish,Clinician,Forename,Surname,Mobile\n"
        "000123,14/12/2026,9.30am,9.50am,Dr Patel,Oliver,Smith,07400 123456\n"
        "000124,14/12/2026,10.15am,10.30am,Dr Patel,Amelia,Jones,07400 234567\n"
        "000125,14/12/2026,2.00pm,2.20pm,Nurse Khan,George,Brown,+44 7500 345678\n"
        "000126,15/12/2026,14.30,14.50,Nurse Khan,Isla,Taylor,07500456789\n",
        encoding="utf-8",
    )
    proposal = propose_mapping(load_table(source).frame, name="uk", time_zone="Europe/London")
    assert proposal.time_format.format == "%I.%M %p"
    assert proposal.phone_region.value == "GB"  # the zone's country
    mapping = proposal.to_mapping()
    assert mapping.event.start.time is not None and mapping.event.start.time.columns == ("Time",)
    payloads = valid_payloads(source, mapping)
    assert [(p["start_time"], p["end_time"]) for p in payloads.values()] == [
        ("2026-12-14T09:30:00+00:00", "2026-12-14T09:50:00+00:00"),
        ("2026-12-14T10:15:00+00:00", "2026-12-14T10:30:00+00:00"),
        ("2026-12-14T14:00:00+00:00", "2026-12-14T14:20:00+00:00"),
        ("2026-12-15T14:30:00+00:00", "2026-12-15T14:50:00+00:00"),
    ]
    assert [p["participants"][0]["phone"] for p in payloads.values()] == [
        "+447400123456",
        "+447400234567",
        "+447500345678",
        "+447500456789",
    ]
    # Without the zone, the numbers written with +44 tell the country.
    unzoned = propose_mapping(load_table(source).frame, name="uk")
    assert unzoned.phone_region.value == "GB"
    assert unzoned.phone_region.confidence is Confidence.MEDIUM
    assert "written with +44" in unzoned.phone_region.reason
    assert "4 of 4 numbers are valid that way" in unzoned.phone_region.reason


@pytest.mark.parametrize(
    ("dates", "expected"),
    [(["14-Dec-26", "15-Dec-26"], "%d-%b-%y"), (["14-Dec-2026", "15-Dec-2026"], "%d-%b-%Y")],
)
def test_dates_as_excel_shows_dd_mmm_yy_are_a_column_of_dates(
    dates: list[str], expected: str
) -> None:
    """Excel's dd-mmm-yy cells saved to CSV: before, the column was not seen as dates at all
    ("no column of dates was found"), alone or with the time in the same cell."""
    frame = pd.DataFrame(
        {"Appt ID": ["A1", "A2"], "Date": dates, "Time": ["09:30", "14:15"], "Staff": ["X", "Y"]}
    )
    proposal = propose_mapping(frame, name="x", time_zone=LA)
    assert proposal.date_format.format == expected
    assert proposal.to_mapping().event.start.date is not None
    together = pd.DataFrame(
        {
            "Appt ID": ["A1", "A2"],
            "Appointment Time": [
                f"{d} {t}" for d, t in zip(dates, ["09:30", "14:15"], strict=True)
            ],
            "Staff": ["X", "Y"],
        }
    )
    start = propose_mapping(together, name="x", time_zone=LA).to_mapping().event.start
    assert start.datetime is not None and start.datetime.columns == ("Appointment Time",)


def test_a_few_foreign_numbers_do_not_change_the_country() -> None:
    frame = clinic_frame()
    frame.loc[frame.index[:1], "Phone"] = "+44 7400 123456"
    proposal = propose_mapping(frame, name="clinic")
    assert proposal.phone_region.value == "US"


def test_a_sheet_without_zones_asks_for_one() -> None:
    frame = pd.DataFrame({"ID": ["1"], "Date": ["2026-12-14"], "Start": ["09:00"], "Staff": ["A"]})
    proposal = propose_mapping(frame, name="x")
    assert proposal.time_zone.placeholder
    assert any(n.startswith("defaults.time_zone") for n in proposal.needs_choice)
    with pytest.raises(MappingError, match="defaults.time_zone: 'CHOOSE a time zone"):
        proposal.to_mapping()


def test_without_an_id_column_the_id_is_made_of_the_appointment_and_says_so() -> None:
    frame = clinic_frame().drop(columns=["Appointment ID"])
    proposal = propose_mapping(frame, name="clinic", time_zone=LA)
    [choice] = [c for c in proposal.event if c.key == "external_id"]
    assert choice.value == (
        "date-start-provider-first-name-last-name-"
        "{Date}-{Start}-{Provider}-{First Name}-{Last Name}"
    )
    assert choice.confidence is Confidence.LOW
    assert "no column holds an appointment id" in choice.reason
    assert "a rescheduled appointment" in proposal.to_yaml().replace("\n  # ", " ")
    mapping = proposal.to_mapping()  # still a working mapping
    assert mapping.event.external_id.columns == (
        "Date",
        "Start",
        "Provider",
        "First Name",
        "Last Name",
    )


def test_dates_without_times_become_all_day_events(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"Booking ID": ["b1", "b2"], "Date": ["12/14/2026", "12/15/2026"], "Staff": ["A", "B"]}
    )
    path = write_frame(tmp_path / "days.csv", frame)
    proposal = propose_mapping(load_table(path).frame, name="days", time_zone="America/Denver")
    assert [c.value for c in proposal.event if c.key == "all_day"] == ["true"]
    [payload, _] = valid_payloads(path, proposal.to_mapping()).values()
    assert payload["all_day"] is True
    assert (payload["start_time"], payload["end_time"]) == (
        "2026-12-14T00:00:00-07:00",
        "2026-12-15T00:00:00-07:00",
    )


def test_a_start_column_of_excel_s_day_fractions_is_never_made_all_day_events(
    tmp_path: Path,
) -> None:
    # A CSV saved from time columns of General format: "Start" holds 0.375 (9:00). The dates
    # alone made all-day events of timed visits, every row valid; now the start is that
    # column (low confidence) and each row says what is wrong with its time.
    frame = pd.DataFrame(
        {
            "Booking ID": ["b1", "b2"],
            "Date": ["12/14/2026", "12/15/2026"],
            "Start": ["0.375", "0.5"],
            "Staff": ["A", "B"],
        }
    )
    path = write_frame(tmp_path / "times.csv", frame)
    proposal = propose_mapping(load_table(path).frame, name="times", time_zone="America/Denver")
    assert not [c for c in proposal.event if c.key == "all_day"]
    [start] = [c for c in proposal.event if c.key == "start"]
    assert (start.value, start.confidence) == (
        {"date": "{Date}", "time": "{Start}"},
        Confidence.LOW,
    )
    assert "(0.375 would be 09:00)" in start.reason
    prepared = prepare(path, proposal.to_mapping())
    assert prepared.events.payloads.keys() <= prepared.issues.keys() == {2, 3}
    assert "0.5 would be 12:00" in str(prepared.issues[3][0])


def test_tables_side_by_side_never_lend_the_second_s_columns_to_the_first() -> None:
    # Two doctors' days side by side: the load numbers the repeated headers. "Time (2)" was
    # proposed as the end of the first table's visits and "Phone (2)" as its patients' other
    # phone, so a patient without a number would have been reminded on another's phone.
    frame = pd.DataFrame(
        {
            "Date": ["12/14/2026", "12/14/2026"],
            "Time": ["09:00", "09:30"],
            "Patient": ["Ann Lee", "Bob Ray"],
            "Phone": ["07911 123001", ""],
            "Ref": ["S1", "S2"],
            "Time (2)": ["09:00", "10:00"],
            "Patient (2)": ["Cy Dunn", "Di Moss"],
            "Phone (2)": ["07911 123101", "07911 123102"],
            "Ref (2)": ["J1", "J2"],
        }
    )
    proposal = propose_mapping(frame, name="side", time_zone="Europe/London")
    used = {pick.column for pick in proposal.picks.values()}
    assert not used & {"Time (2)", "Patient (2)", "Phone (2)", "Ref (2)"}
    assert any("tables side by side" in note for note in proposal.notes)
    # Two phones of one patient under one header stay two phones.
    alone = propose_mapping(
        frame[["Date", "Time", "Patient", "Phone", "Ref"]].assign(
            **{"Phone (2)": ["541-555-0104", "541-555-0105"]}
        ),
        name="phones",
        time_zone="Europe/London",
    )
    assert "Phone (2)" in {pick.column for pick in alone.picks.values()}
    assert not any("side by side" in note for note in alone.notes)


def test_an_outlook_calendar_export_goes_to_its_organizer_s_calendar(tmp_path: Path) -> None:
    # Outlook's "Export to a file" (CSV): the organizer owns the calendar the visit is in.
    source = tmp_path / "outlook.csv"
    source.write_text(
        "Subject,Start Date,Start Time,End Date,End Time,All day event,Meeting Organizer,"
        "Required Attendees,Location\n"
        "Ann Lee - cleaning,12/14/2026,9:00:00 AM,12/14/2026,9:30:00 AM,False,Dr Shah,"
        "ann@example.com,Room 2\n",
        encoding="utf-8",
    )
    proposal = propose_mapping(load_table(source).frame, name="o", time_zone="America/Denver")
    assert proposal.picks["calendar"].column == "Meeting Organizer"
    [payload] = valid_payloads(source, proposal.to_mapping()).values()
    assert (payload["calendar"], payload["start_time"]) == ("Dr Shah", "2026-12-14T09:00:00-07:00")


def test_a_vet_s_sheet_reminds_the_owner_not_the_pet(tmp_path: Path) -> None:
    # "Pet Name" was the participant (reminders greeting "Rex" on the owner's phone), the
    # owner's name unused and the vet no calendar.
    source = tmp_path / "vet.csv"
    source.write_text(
        "Appt #,Date,Time,Vet,Pet Name,Species,Owner Name,Owner Phone,Owner Email\n"
        "501,12/14/2026,9:00 AM,Dr Hale,Rex,Dog,Ann Lee,541-555-0104,ann@example.com\n",
        encoding="utf-8",
    )
    proposal = propose_mapping(load_table(source).frame, name="vet", time_zone="America/Denver")
    [payload] = valid_payloads(source, proposal.to_mapping()).values()
    assert payload["calendar"] == "Dr Hale"
    assert payload["participants"] == [
        {"name": "Ann Lee", "email": "ann@example.com", "phone": "+15415550104"}
    ]


@pytest.mark.parametrize(
    "header", ["Tutor", "Trainer", "Attorney", "Instructor", "Technician", "Groomer", "Vet"]
)
def test_offices_other_than_clinics_name_their_calendar(header: str) -> None:
    frame = pd.DataFrame(
        {
            "Booking ID": ["b1", "b2"],
            "Date": ["12/14/2026", "12/15/2026"],
            "Time": ["9:00 AM", "10:00 AM"],
            header: ["Sam Hill", "Jo Park"],
            "Client": ["Ann Lee", "Bob Ray"],
            "Phone": ["541-555-0104", "541-555-0105"],
        }
    )
    proposal = propose_mapping(frame, name="office", time_zone="America/Denver")
    assert proposal.picks["calendar"].column == header
    assert proposal.picks["participant_name"].column == "Client"


def test_a_date_and_time_in_one_cell(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "Appointment #": ["7", "8"],
            "Appointment Date/Time": ["12/14/2026 8:30 AM", "12/15/2026 1:15 PM"],
            "Length (min)": ["30", "45"],
            "Therapist": ["Kim", "Lee"],
        }
    )
    path = write_frame(tmp_path / "one-cell.csv", frame)
    proposal = propose_mapping(load_table(path).frame, name="p", time_zone="America/New_York")
    picks = proposal.columns_by_field()
    assert picks["start_datetime"] == "Appointment Date/Time"
    assert picks["duration_minutes"] == "Length (min)"
    assert picks["external_id"] == "Appointment #"
    assert (proposal.date_format.format, proposal.time_format.format) == ("%m/%d/%Y", "%I:%M %p")
    payloads = valid_payloads(path, proposal.to_mapping())
    assert payloads[3]["start_time"] == "2026-12-15T13:15:00-05:00"
    assert payloads[3]["end_time"] == "2026-12-15T14:00:00-05:00"


# --- choices from the web page -------------------------------------------------------------------


def test_a_mapping_from_drop_down_choices() -> None:
    frame = clinic_frame()
    choices = {
        "external_id": "Appointment ID",
        "calendar": "Location",
        "title": "Service",
        "start_date": "Date",
        "start_time": "Start",
        "end_time": "End",
        "time_zone": "Time Zone",
        "participant_phone": "Phone",
        "location": "",  # left blank: not mapped
    }
    proposal = proposal_from_choices(frame, choices, name="mine", time_zone=LA)
    mapping = proposal.to_mapping()
    assert mapping.event.calendar is not None and mapping.event.calendar.source == "{Location}"
    assert mapping.event.title is not None
    assert mapping.event.title.source == "{Service} with {Location}"
    assert all(p.confidence is Confidence.CHOSEN for p in proposal.picks.values())
    assert "Provider" in proposal.unmatched and "Location" not in proposal.unmatched


@pytest.mark.parametrize(
    ("choices", "problem"),
    [
        ({"start_date": "Nope"}, "the sheet has no column 'Nope'"),
        ({"colour": "Date"}, "unknown field 'colour'"),
        ({"start_date": "Date", "start_datetime": "Start"}, "not both"),
        (
            {"contact_id": "Appointment ID", "participant_email": "Email"},
            "either an Apptoto contact or a name/email/phone",
        ),
    ],
)
def test_choices_that_do_not_fit_are_refused(choices: dict[str, str], problem: str) -> None:
    with pytest.raises(MappingError, match=re.escape(problem)):
        proposal_from_choices(clinic_frame(), choices, name="x")


# --- the command ---------------------------------------------------------------------------------


def test_init_never_overwrites_without_force(
    tmp_path: Path, monkeypatch: Any, data_folder: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    source = SAMPLES / "appointments.csv"
    first = invoke_cli(["init", str(source), "--time-zone", LA])
    assert first.exit_code == 0
    written = data_folder / "mappings" / "appointments.yaml"  # where the web page looks
    assert f"wrote {written}" in first.output
    written.write_text("# mine\n", encoding="utf-8")
    again = invoke_cli(["init", str(source)])
    assert again.exit_code == 2 and "use --force" in again.output
    assert written.read_text(encoding="utf-8") == "# mine\n"
    forced = invoke_cli(["init", str(source), "--force"])
    assert forced.exit_code == 0
    assert 'external_id: "appointment-id-{Appointment ID}"' in written.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--time-zone", "America/Los Angeles"], "did you mean 'America/Los_Angeles'?"),
        (["--sheet", "Nope"], "Nope"),
    ],
)
def test_init_errors_exit_2(args: list[str], message: str, tmp_path: Path) -> None:
    out = tmp_path / "m.yaml"
    result = invoke_cli(["init", str(SAMPLES / "appointments.xlsx"), "-o", str(out), *args])
    assert result.exit_code == 2 and message in result.output
    assert not out.exists()


def test_proposals_are_deterministic() -> None:
    frame = clinic_frame()
    assert propose_mapping(frame, name="a").to_yaml() == propose_mapping(frame, name="a").to_yaml()


_HEADERS = st.sampled_from(
    ["Date", "Start", "End", "ID", "Phone #", "Email", "Client", "Doctor", "Notes", "Time Zone"]
    + ["Duration", "All Day", "Show As", "x", 'Q"uote: #', "DOB", "null", "Étage"]
)
_CELLS = st.one_of(
    st.sampled_from(["", "12/14/2026", "03/04/2026", "2026-12-14", "9:30 AM", "14:30", "9:30"]),
    st.sampled_from(["(541) 555-0104", "a@example.com", "America/Boise", "yes", "busy", "30"]),
    st.text(max_size=12),
)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(_HEADERS, min_size=1, max_size=6, unique=True).flatmap(
        lambda headers: st.lists(
            st.fixed_dictionaries({h: _CELLS for h in headers}), min_size=0, max_size=5
        ).map(lambda rows: (headers, rows))
    )
)
def test_any_sheet_gets_a_proposal_that_is_valid_yaml(sheet: tuple[list[str], list[Any]]) -> None:
    headers, rows = sheet
    frame = pd.DataFrame(rows, columns=headers, dtype="str", index=range(2, len(rows) + 2))
    frame = frame.where(frame.apply(lambda c: c.str.strip() != ""))
    proposal = propose_mapping(frame, name="any", time_zone="UTC")
    text = proposal.to_yaml()
    assert text == propose_mapping(frame, name="any", time_zone="UTC").to_yaml()
    raw = yaml.safe_load(text)  # the comments and quoting never break the YAML
    assert raw["name"] == "any" and raw["defaults"]["time_zone"] == "UTC"
    if not proposal.needs_choice:
        proposal.to_mapping()


def _export(statuses: list[str]) -> pd.DataFrame:
    rows = [
        {
            "Appt ID": str(500 + n),
            "Date": "12/14/2026",
            "Time": f"{9 + n}:30 AM",
            "Provider": "Dr Ray",
            "Patient": f"Patient {n}",
            "Mobile": f"541-555-01{10 + n}",
            "Appt Status": status,
        }
        for n, status in enumerate(statuses)
    ]
    return pd.DataFrame(rows, index=range(2, len(rows) + 2), dtype="str")


def test_a_status_column_marking_cancelled_visits_becomes_the_cancelled_section() -> None:
    frame = _export(["Confirmed", "Cancelled", "No Show", "Scheduled", "Cancelled"])
    proposal = propose_mapping(frame, name="practice", time_zone="America/Chicago")
    mapping = parse_mapping(yaml.safe_load(proposal.to_yaml()))
    assert mapping.cancelled is not None
    assert (mapping.cancelled.column, mapping.cancelled.values) == (
        "Appt Status",
        ("Cancelled", "No Show"),
    )
    assert "Appt Status" not in proposal.unmatched
    assert "Appt Status: rows marked 'Cancelled', 'No Show' are not sent" in "\n".join(
        proposal.summary()
    )


def test_a_dental_systems_broken_and_missed_appointments_are_proposed_as_cancelled() -> None:
    # Dentrix-like statuses: a broken appointment is one the patient will not come to; a
    # missed call is a reminder call not answered, and the visit goes ahead.
    frame = _export(["Scheduled", "Broken", "Missed call", "Missed appt", "Broken"])
    proposal = propose_mapping(frame, name="dental", time_zone="America/Chicago")
    mapping = parse_mapping(yaml.safe_load(proposal.to_yaml()))
    assert mapping.cancelled is not None
    assert mapping.cancelled.values == ("Broken", "Missed appt")


def test_rows_from_several_places_without_a_zone_column_say_how_to_give_each_its_zone() -> None:
    frame = _export(["Booked"] * 3).assign(Location=["Boise clinic", "Eugene clinic", ""])
    proposal = propose_mapping(frame, name="sites", time_zone="America/Los_Angeles")
    [note] = [n for n in proposal.notes if "places in 'Location'" in n]
    assert note == (
        "the rows come from 2 places in 'Location' ('Boise clinic', 'Eugene clinic'), and every "
        "row is read in the default time zone: if a place is in another zone, give each place "
        'its zone in the mapping (time_zones: {column: Location, values: {"Boise clinic": '
        'ZONE, "Eugene clinic": ZONE}}, each ZONE written like America/Denver)'
    )
    one = _export(["Booked"] * 2).assign(Location="Boise clinic")
    assert not any("places in" in n for n in propose_mapping(one, name="s").notes)
    # The mapping has the section commented out, each place in the default zone: with its #
    # removed (and a zone corrected), it is read.
    text = proposal.to_yaml()
    block = text[text.index("# time_zones:") :].split("\ncolumns:")[0]
    mapping = parse_mapping(yaml.safe_load(text.replace(block, block.replace("# ", ""))))
    assert mapping.time_zones is not None
    assert mapping.time_zones.values == (
        ("Boise clinic", "America/Los_Angeles"),
        ("Eugene clinic", "America/Los_Angeles"),
    )
    assert parse_mapping(yaml.safe_load(text)).time_zones is None


def test_a_status_column_with_no_cancelled_visit_yet_is_offered_commented_out() -> None:
    proposal = propose_mapping(
        _export(["Confirmed", "Scheduled"]), name="practice", time_zone="America/Chicago"
    )
    text = proposal.to_yaml()
    assert '# cancelled: {column: "Appt Status", values: ["Cancelled"]}' in text
    assert parse_mapping(yaml.safe_load(text)).cancelled is None


def test_no_status_column_no_cancelled_section() -> None:
    frame = _export(["Cancelled"]).rename(columns={"Appt Status": "Notes"})
    proposal = propose_mapping(frame, name="practice", time_zone="America/Chicago")
    assert proposal.cancelled is None and "cancelled" not in proposal.to_yaml()


def test_a_state_column_of_an_address_is_no_status() -> None:
    frame = _export(["Confirmed"]).rename(columns={"Appt Status": "State"})
    frame["State"] = "OR"
    proposal = propose_mapping(frame, name="practice", time_zone="America/Chicago")
    assert proposal.cancelled is None


def test_a_practice_system_export_with_long_dates_and_one_letter_times(tmp_path: Path) -> None:
    """Dates as Excel's Long Date writes them ("Monday, December 14, 2026") and times as some
    practice systems print them ("2:15p", "noon"): before, no column of dates was found and two
    of the times were refused."""
    source = tmp_path / "export.csv"
    source.write_text(
        "Appt #,Patient,Appointment Date,Time,Cell Phone,Provider\n"
        '5001,"Lee, Ann","Monday, December 14, 2026",9:30a,(541) 555-0104,Dr. Smith\n'
        '5002,"Ortiz, Ben","Monday, December 14, 2026",noon,541-555-0105,Dr. Smith\n'
        '5003,"Khan, Cara","Tuesday, December 15, 2026",2:15p,541.555.0106,Dr. Jones\n'
        '5004,"Wu, Dan","Wednesday, December 16, 2026",3:45p,5415550108,Dr. Jones\n',
        encoding="utf-8",
    )
    proposal = propose_mapping(
        load_table(source).frame, name="export", time_zone="America/Los_Angeles"
    )
    assert proposal.date_format.format == "%B %d, %Y"
    assert proposal.time_format.format == "%I:%M %p"
    payloads = valid_payloads(source, proposal.to_mapping())
    assert [p["start_time"] for p in payloads.values()] == [
        "2026-12-14T09:30:00-08:00",
        "2026-12-14T12:00:00-08:00",
        "2026-12-15T14:15:00-08:00",
        "2026-12-16T15:45:00-08:00",
    ]


def test_a_practice_system_export_names_the_patient_pat_and_the_provider_resource(
    tmp_path: Path,
) -> None:
    """Headers as a practice system writes them (PatFirstName, ResourceName, FacilityName): the
    provider's name was proposed as the patient's, so reminders would have greeted the patient
    as "Ana Rivera" and the patient's own name columns were left unused."""
    source = tmp_path / "export.csv"
    source.write_text(
        "ApptID,ApptDateTime,ApptLength,ResourceName,ApptType,PatLastName,PatFirstName,"
        "PatCellPhone,PatEmail,FacilityName\n"
        '884213,12/14/2026 08:30,30,"RIVERA, ANA MD",NEW PATIENT,GOMEZ,MARIA,(541) 555-0104,'
        "mg@example.com,EUGENE MAIN\n"
        '884216,12/15/2026 13:00,60,"CHEN, LI DO",PROCEDURE,BECKER,NOAH,5415550177,,BEND CLINIC\n',
        encoding="utf-8",
    )
    proposal = propose_mapping(
        load_table(source).frame, name="export", time_zone="America/Los_Angeles"
    )
    payloads = valid_payloads(source, proposal.to_mapping())
    assert [p["calendar"] for p in payloads.values()] == ["RIVERA, ANA MD", "CHEN, LI DO"]
    assert [p["location"] for p in payloads.values()] == ["EUGENE MAIN", "BEND CLINIC"]
    assert [p["participants"][0]["name"] for p in payloads.values()] == [
        "MARIA GOMEZ",
        "NOAH BECKER",
    ]


def test_a_schedule_with_time_ranges_gets_its_starts_and_ends(tmp_path: Path) -> None:
    """A "Time" column of ranges ("9:00 AM - 9:30 AM", "10:00-10:45 AM"): before, its values
    were not seen as times, the column went unused and every visit was proposed all-day."""
    source = tmp_path / "schedule.csv"
    source.write_text(
        "Appt ID,Date,Time,Patient,Phone,Provider\n"
        "7001,12/14/2026,9:00 AM - 9:30 AM,Ann Lee,(541) 555-0104,Dr. Smith\n"
        "7002,12/14/2026,10:00-10:45 AM,Ben Ortiz,(541) 555-0105,Dr. Smith\n"
        "7003,12/15/2026,11:30-12:15 PM,Cara Khan,(541) 555-0106,Dr. Jones\n"
        "7004,12/15/2026,3:15 PM-3:30 PM,Dan Wu,(541) 555-0107,Dr. Jones\n",
        encoding="utf-8",
    )
    proposal = propose_mapping(
        load_table(source).frame, name="schedule", time_zone="America/Los_Angeles"
    )
    mapping = proposal.to_mapping()
    assert mapping.event.all_day is False
    assert proposal.time_format.format == "%I:%M %p"
    payloads = valid_payloads(source, mapping)
    assert [(p["start_time"], p["end_time"]) for p in payloads.values()] == [
        ("2026-12-14T09:00:00-08:00", "2026-12-14T09:30:00-08:00"),
        ("2026-12-14T10:00:00-08:00", "2026-12-14T10:45:00-08:00"),
        ("2026-12-15T11:30:00-08:00", "2026-12-15T12:15:00-08:00"),
        ("2026-12-15T15:15:00-08:00", "2026-12-15T15:30:00-08:00"),
    ]


def test_a_length_column_with_units_is_the_duration(tmp_path: Path) -> None:
    """ "30 min", "1 hr": before, not seen as lengths, so every visit was taken to last 30
    minutes (the default) whatever the sheet said."""
    source = tmp_path / "lengths.csv"
    source.write_text(
        "Appt ID,Date,Time,Length,Patient,Provider\n"
        "1,12/14/2026,9:00 AM,30 min,Ann Lee,Dr. Smith\n"
        "2,12/14/2026,10:00 AM,1 hr,Ben Ortiz,Dr. Smith\n"
        "3,12/15/2026,1:00 PM,1 hr 30 min,Cara Khan,Dr. Jones\n",
        encoding="utf-8",
    )
    proposal = propose_mapping(load_table(source).frame, name="l", time_zone="America/Denver")
    mapping = proposal.to_mapping()
    assert mapping.event.duration_minutes is not None
    assert mapping.event.duration_minutes.source == "{Length}"
    payloads = valid_payloads(source, mapping)
    assert [p["end_time"] for p in payloads.values()] == [
        "2026-12-14T09:30:00-07:00",
        "2026-12-14T11:00:00-07:00",
        "2026-12-15T14:30:00-07:00",
    ]


def test_times_written_with_their_zone_s_name_give_the_zone(tmp_path: Path) -> None:
    """ "9:30 AM EST", as some practice systems export times: before, not seen as times (every
    visit proposed all-day) and the zone left to choose."""
    source = tmp_path / "est.csv"
    source.write_text(
        "Appt ID,Date,Appt Time,Patient,Provider\n"
        "1,12/14/2026,9:30 AM EST,Ann Lee,Dr. Smith\n"
        "2,07/14/2026,10:15 AM EDT,Ben Ortiz,Dr. Smith\n"
        "3,12/15/2026,2:00 PM ET,Cara Khan,Dr. Jones\n",
        encoding="utf-8",
    )
    proposal = propose_mapping(load_table(source).frame, name="est")
    assert proposal.time_zone.value == "America/New_York"
    assert proposal.time_zone.confidence is Confidence.MEDIUM
    assert "written with EDT, EST, ET" in proposal.time_zone.reason
    payloads = valid_payloads(source, proposal.to_mapping())
    assert [p["start_time"] for p in payloads.values()] == [
        "2026-12-14T09:30:00-05:00",
        "2026-07-14T10:15:00-04:00",
        "2026-12-15T14:00:00-05:00",
    ]
    mixed = tmp_path / "mixed.csv"
    mixed.write_text(source.read_text().replace("2:00 PM ET", "2:00 PM PST"), encoding="utf-8")
    assert propose_mapping(load_table(mixed).frame, name="m").time_zone.placeholder


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (["Dec 14 2026", "Dec 15 2026"], "%b %d %Y"),
        (["December 14th, 2026", "December 15th, 2026"], "%B %d, %Y"),
        (["14th December 2026", "1st January 2027"], "%d %B %Y"),
    ],
)
def test_dates_typed_out_are_a_column_of_dates(dates: list[str], expected: str) -> None:
    """Before, "no column of dates was found" for these."""
    frame = pd.DataFrame(
        {"Appt ID": ["1", "2"], "Date": dates, "Time": ["9:30 AM", "10:00 AM"]},
        index=[2, 3],
        dtype="str",
    )
    proposal = propose_mapping(frame, name="typed", time_zone="America/Chicago")
    assert proposal.date_format.format == expected


def _zones_proposed(
    source: Path, first: str, second: str, *, header: str = "Time Zone"
) -> Proposal:
    """The proposal for two July visits at 9:00 and 9:30 whose ``header`` cells are ``first``
    and ``second`` (written to ``source``)."""
    source.write_text(
        f"Appt ID,Patient,Date,Time,{header}\nA1,Ann Lee,07/14/2027,9:00 AM,{first}\n"
        f"A2,Bo Li,07/14/2027,9:30 AM,{second}\n",
        encoding="utf-8",
    )
    return propose_mapping(load_table(source).frame, name="desk")


def test_a_zone_column_of_short_names_is_read_as_their_zones_and_mst_asks(
    tmp_path: Path,
) -> None:
    # EST is no zone to send (UTC-05:00 all year: a July 9:00 would be 10:00 in New York), but
    # it says where the row's clinic is: {Time Zone|zone} reads EST as New York, summer time
    # and all, PT as Los Angeles.
    source = tmp_path / "est.csv"
    proposal = _zones_proposed(source, "EST", "pt")
    choices = {c.key: c for c in proposal.event}
    assert choices["time_zone"].value == "{Time Zone|zone}"
    assert choices["time_zone"].confidence is Confidence.MEDIUM
    assert "short names (EST, PT)" in choices["time_zone"].reason
    assert proposal.time_zone.value is None
    payloads = prepare(source, proposal.to_mapping()).events.payloads
    assert [p["start_time"] for p in payloads.values()] == [
        "2027-07-14T09:00:00-04:00",
        "2027-07-14T09:30:00-07:00",
    ]
    assert [p["time_zone"] for p in payloads.values()] == [
        "America/New_York",
        "America/Los_Angeles",
    ]

    # MST is Arizona's all year and Denver's in winter: no zone is guessed for it.
    proposal = _zones_proposed(source, "EST", "MST")
    assert "time_zone" not in {c.key for c in proposal.event}
    assert proposal.time_zone.placeholder
    assert "some tell no single zone (MST: MST is Arizona's" in proposal.time_zone.reason

    # Connecticut's clinic: its State column says CT, which is no Central time.
    proposal = _zones_proposed(source, "CT", "CT", header="State")
    assert proposal.time_zone.placeholder
    assert "short name" not in proposal.time_zone.reason


def test_a_zone_column_of_windows_names_is_read_as_their_zones_and_mountain_asks(
    tmp_path: Path,
) -> None:
    # A practice system built on .NET exports Windows' names: "Eastern Standard Time" is New
    # York's time, summer time included (a July 9:00 is 9:00 EDT there).
    source = tmp_path / "windows.csv"
    proposal = _zones_proposed(source, "Eastern Standard Time", "Pacific Time (US & Canada)")
    choices = {c.key: c for c in proposal.event}
    assert choices["time_zone"].value == "{Time Zone|zone}"
    assert "(Eastern Standard Time, Pacific Time (US & Canada))" in choices["time_zone"].reason
    payloads = prepare(source, proposal.to_mapping()).events.payloads
    assert [(p["start_time"], p["time_zone"]) for p in payloads.values()] == [
        ("2027-07-14T09:00:00-04:00", "America/New_York"),
        ("2027-07-14T09:30:00-07:00", "America/Los_Angeles"),
    ]

    # Windows' "Mountain Standard Time" is Denver's; staff in Arizona write it for theirs.
    proposal = _zones_proposed(source, "Eastern Standard Time", "Mountain Standard Time")
    assert "time_zone" not in {c.key for c in proposal.event}
    assert proposal.time_zone.placeholder
    assert "some tell no single zone (Mountain Standard Time:" in proposal.time_zone.reason


def test_an_appointment_book_of_a_column_per_provider_is_said_not_proposed_as_fine() -> None:
    # Times down the side, a column per provider, the patients written in its cells: read as a
    # table, every time slot became one event for nobody, every row valid, and no patient of
    # the book would have been reminded.
    book = pd.DataFrame(
        {
            "Date": ["12/14/2026"] * 3,
            "Time": ["8:00 AM", "8:30 AM", "9:00 AM"],
            "Dr Rivera": ["Maria Gomez 541-555-0104", "", "Aiko Tanaka 541-555-0142"],
            "Dr Chen": ["", "James O'Connor 541-555-0123", "Ben Ortiz"],
        }
    )
    proposal = propose_mapping(book, name="book", time_zone="America/Los_Angeles")
    [note] = [n for n in proposal.notes if n.startswith("no column holds the patients'")]
    assert "so these events would have nobody to remind" in note
    assert "If the columns 'Dr Rivera', 'Dr Chen' are an appointment book's" in note
    # A sheet with its patients in a column of their own gets no such note.
    table = pd.DataFrame(
        {
            "Date": ["12/14/2026"] * 2,
            "Time": ["8:00 AM", "8:30 AM"],
            "Provider": ["Dr Rivera", "Dr Chen"],
            "Patient": ["Maria Gomez", "James O'Connor"],
            "Phone": ["541-555-0104", "541-555-0123"],
        }
    )
    fine = propose_mapping(table, name="table", time_zone="America/Los_Angeles")
    assert not any("nobody to remind" in n for n in fine.notes)


def test_a_phone_column_of_numbers_written_with_words_is_still_the_phone() -> None:
    # Only 2 of 6 cells were phone numbers as they stand, so "Phone" was left out of the
    # mapping: every patient of the sheet would have gone without a reminder.
    frame = pd.DataFrame(
        {
            "ID": [str(i) for i in range(1, 7)],
            "Date": ["12/14/2026"] * 6,
            "Time": ["9:00 AM", "9:30 AM", "10:00 AM", "10:30 AM", "11:00 AM", "11:30 AM"],
            "Patient": ["Ann Smith", "Bob Ray", "Cy Dunn", "Di Moss", "Ed Fox", "Flo Gee"],
            "Phone": [
                "541-555-0104 / 541-555-0199",
                "541-555-0105 x12",
                "Cell: 541-555-0106",
                "(541) 555-0107 (mom)",
                "1-541-555-0108",
                "555-0109",
            ],
        }
    )
    proposal = propose_mapping(frame, name="phones", time_zone="America/Los_Angeles")
    phone = proposal.picks["participant_phone"]
    assert (phone.column, phone.confidence) == ("Phone", Confidence.LOW)
    assert "only 33% of the values are phone numbers as they stand" in phone.reason
    # Values that are no phone numbers at all rule the header out still.
    consent = frame.assign(Phone=["yes", "no", "yes", "yes", "no", "yes"])
    assert "participant_phone" not in propose_mapping(consent, name="c", time_zone="UTC").picks
