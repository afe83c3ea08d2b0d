"""The map stage: rows of text cells -> the exact payloads sent to Apptoto's PUT /v1/events."""

from __future__ import annotations

import collections.abc
import json
from dataclasses import replace
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.events import BuiltEvents, TemplateRenderer, build_events, external_ids_of
from importer.mapping import (
    Mapping,
    ParticipantTemplate,
    When,
    load_mapping,
    parse_mapping,
    parse_template,
)
from importer.validate import NOT_EMAIL, two_addresses_reason
from importer.values.numbers import SHORTENED_REASON
from tests.helpers import CLINIC_MAPPING, NOT_US_PHONE

CLINIC = load_mapping(CLINIC_MAPPING)

# One clinic row as staff type it; tests change a cell or two.
ANN = {
    "Appointment ID": "0017",
    "Date": "12/14/2026",
    "Start": "9:30 AM",
    "End": "10:15 am",
    "Provider": "Dr Lee",
    "Service": "Checkup",
    "Time Zone": "",
    "Location": "Room 2",
    "Notes": "",
    "DOB": "01/02/1980",
    "ZIP": "02134",
    "First Name": "Ann",
    "Last Name": "Smith",
    "Email": " ann@example.com ",
    "Phone": "(541) 555-0104",
}


def _frame(*rows: collections.abc.Mapping[str, str | None], first_row: int = 2) -> pd.DataFrame:
    """Text cells as the loader gives them: blank -> NA, index = spreadsheet row."""
    frame = pd.DataFrame(list(rows), index=range(first_row, first_row + len(rows)), dtype="str")
    return frame.replace("", pd.NA)


def _row(**changes: str | None) -> dict[str, str | None]:
    return {**ANN, **changes}


def _mapping(**event: Any) -> Mapping:
    spec: dict[str, Any] = {
        "calendar": "Clinic",
        "external_id": "{Id}",
        "title": "Visit",
        "start": "{When}",
        "duration_minutes": "30",
    }
    spec.update(event)
    spec = {key: value for key, value in spec.items() if value is not None}  # None: not mapped
    return parse_mapping({"defaults": {"time_zone": "America/New_York"}, "event": spec})


def _issues(built: BuiltEvents) -> list[tuple[int, str, str, str]]:
    return [(i.row, i.column, i.value, i.reason) for i in built.issues]


def test_clinic_rows_give_exact_payloads() -> None:
    bob = _row(
        **{
            "Appointment ID": "18",
            "Date": "2026-07-01",  # an Excel date cell, as the loader writes it
            "Start": "14:00",
            "End": "14:45",
            "Time Zone": "America/New_York",
            "Location": "",
            "Notes": "Bring your insurance card",
            "DOB": "",
            "First Name": "",
            "Last Name": "",
            "Email": "",
            "Phone": "",
        }
    )
    built = build_events(_frame(ANN, bob), CLINIC)
    assert built.issues == []
    assert built.external_ids == {2: "clinic-0017", 3: "clinic-18"}
    assert built.payloads == {
        2: {
            "external_id": "clinic-0017",
            "calendar": "Dr Lee",
            "title": "Checkup with Dr Lee",
            "start_time": "2026-12-14T09:30:00-08:00",
            "end_time": "2026-12-14T10:15:00-08:00",
            "time_zone": "America/Los_Angeles",
            "all_day": False,
            "location": "Room 2",
            "content": "#auto",
            "show_as": 2,
            "custom_data": {"patient_dob": "01/02/1980", "clinic_zip": "02134"},
            "participants": [
                {"name": "Ann Smith", "email": "ann@example.com", "phone": "+15415550104"}
            ],
        },
        3: {
            "external_id": "clinic-18",
            "calendar": "Dr Lee",
            "title": "Checkup with Dr Lee",
            "start_time": "2026-07-01T14:00:00-04:00",
            "end_time": "2026-07-01T14:45:00-04:00",
            "time_zone": "America/New_York",
            "all_day": False,
            "location": "",  # mapped but blank: sent as "" so an update clears it
            "content": "Bring your insurance card #auto",
            "show_as": 2,
            "custom_data": {"patient_dob": "", "clinic_zip": "02134"},
            "participants": [],  # every participant field blank: nobody is added
        },
    }
    for payload in built.payloads.values():  # plain JSON types only, nothing from numpy
        assert json.loads(json.dumps(payload)) == payload


def test_fields_the_mapping_does_not_map_are_left_out() -> None:
    built = build_events(_frame({"Id": "a1", "When": "2026-07-01 09:00"}), _mapping())
    assert built.payloads[2] == {
        "external_id": "a1",
        "calendar": "Clinic",
        "title": "Visit",
        "start_time": "2026-07-01T09:00:00-04:00",
        "end_time": "2026-07-01T09:30:00-04:00",
        "time_zone": "America/New_York",
        "all_day": False,
    }


@pytest.mark.parametrize(
    ("written", "e164"),
    [
        ("(541) 555-0104", "+15415550104"),
        ("541.555.0104", "+15415550104"),
        ("+1 541 555 0104", "+15415550104"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_phones_are_sent_as_e164(written: str, e164: str) -> None:
    built = build_events(_frame(_row(Phone=written)), CLINIC)
    assert built.payloads[2]["participants"][0]["phone"] == e164


BAD_PHONE = NOT_US_PHONE
LEFT_OUT = ": this {0} is left out and the reminder goes to the {1} only"


def test_a_bad_phone_with_no_other_contact_makes_the_row_invalid_naming_the_column() -> None:
    built = build_events(_frame(_row(Phone="555-12", Email="")), CLINIC)
    assert built.payloads == {}
    assert built.external_ids == {2: "clinic-0017"}  # reports need it for invalid rows too
    assert _issues(built) == [(2, "Phone", "555-12", BAD_PHONE)]


@pytest.mark.parametrize(
    ("cells", "participant", "issues", "warnings"),
    [
        pytest.param(
            {"Phone": "555-12"},
            {"name": "Ann Smith", "email": "ann@example.com"},
            [],
            [("Phone", "555-12", BAD_PHONE + LEFT_OUT.format("phone", "email"))],
            id="bad phone, good email: sent by email",
        ),
        pytest.param(
            {"Email": "ann@example"},
            {"name": "Ann Smith", "phone": "+15415550104"},
            [],
            [
                (
                    "Email",
                    "ann@example",
                    NOT_EMAIL + LEFT_OUT.format("email", "phone"),
                )
            ],
            id="bad email, good phone: sent by phone",
        ),
        pytest.param(
            {"Email": "ann@example", "Phone": "555-12"},
            None,
            [("Email", "ann@example", NOT_EMAIL), ("Phone", "555-12", BAD_PHONE)],
            [],
            id="both bad: invalid",
        ),
        pytest.param(
            {"Email": "ann@example", "Phone": ""},
            None,
            [("Email", "ann@example", NOT_EMAIL)],
            [],
            id="bad email, no phone: invalid",
        ),
    ],
)
def test_a_bad_contact_detail_is_left_out_with_a_warning_when_the_other_one_works(
    cells: dict[str, str],
    participant: dict[str, str] | None,
    issues: list[tuple[str, str, str]],
    warnings: list[tuple[str, str, str]],
) -> None:
    built = build_events(_frame(_row(**cells)), CLINIC)
    sent = built.payloads.get(2)
    assert (sent["participants"][0] if sent else None) == participant
    assert [(i.column, i.value, i.reason) for i in built.issues] == issues
    assert [(w.column, w.value, w.reason) for w in built.warnings] == warnings


@pytest.mark.parametrize(
    "written",
    [
        "Ann Smith <ann@example.com>",
        "mailto:ann@example.com",
        "ann@example.com;",
        "<ann@example.com>",
    ],
)
def test_an_address_as_mail_programs_copy_it_is_sent_as_the_address(written: str) -> None:
    built = build_events(_frame(_row(Email=written, Phone="")), CLINIC)
    assert built.issues == [] and built.warnings == []
    assert built.payloads[2]["participants"] == [{"name": "Ann Smith", "email": "ann@example.com"}]


def test_a_cell_of_two_addresses_is_left_out_beside_a_phone_and_says_why() -> None:
    built = build_events(_frame(_row(Email="ann@example.com; dad@example.com")), CLINIC)
    assert built.payloads[2]["participants"] == [{"name": "Ann Smith", "phone": "+15415550104"}]
    [warning] = built.warnings
    assert (warning.column, warning.value) == ("Email", "ann@example.com; dad@example.com")
    assert warning.reason == two_addresses_reason(2) + LEFT_OUT.format("email", "phone")


def test_a_participant_with_some_fields_keeps_only_those() -> None:
    built = build_events(_frame(_row(**{"Last Name": "", "Email": "", "Phone": ""})), CLINIC)
    assert built.payloads[2]["participants"] == [{"name": "Ann"}]


def test_leading_zeros_stay_in_text_fields_and_custom_data() -> None:
    row = _row(**{"Appointment ID": "000123", "ZIP": "00501", "Location": "007"})
    payload = build_events(_frame(row), CLINIC).payloads[2]
    assert payload["external_id"] == "clinic-000123"
    assert payload["custom_data"]["clinic_zip"] == "00501"
    assert payload["location"] == "007"


@pytest.mark.parametrize(
    ("notes", "content"),
    [
        ("", "#auto"),
        ("Bring your card", "Bring your card #auto"),
        ("Bring your card #auto", "Bring your card #auto"),  # already there: never twice
        ("#auto", "#auto"),
        ("#auto please remind", "#auto please remind"),
        ("See #automatic", "See #automatic #auto"),  # a different word
    ],
)
def test_auto_tag_is_added_once(notes: str, content: str) -> None:
    built = build_events(_frame(_row(Notes=notes)), CLINIC)
    assert built.payloads[2]["content"] == content
    # Mapping the sent content again gives the same text: the payload hash stays put.
    again = build_events(_frame(_row(Notes=content)), CLINIC)
    assert again.payloads[2]["content"] == content


def test_a_shared_external_id_fails_every_row_that_shares_it() -> None:
    rows = [
        _row(**{"Appointment ID": "17"}),
        _row(**{"Appointment ID": "18"}),
        _row(**{"Appointment ID": "17", "Start": "11:00 AM", "End": "11:30 AM"}),
        _row(**{"Appointment ID": "17", "Date": "99/99/2026"}),  # invalid anyway: still counted
    ]
    built = build_events(_frame(*rows), CLINIC)
    assert sorted(built.payloads) == [3]
    assert built.external_ids == {2: "clinic-17", 3: "clinic-18", 4: "clinic-17", 5: "clinic-17"}
    shared = (
        "makes the appointment id 'clinic-17' of rows 2, 4 and 5: each appointment needs its "
        "own id, or they would overwrite each other in Apptoto"
    )
    assert [i for i in _issues(built) if "own id" in i[3]] == [
        (2, "Appointment ID", "clinic-17", shared),
        (4, "Appointment ID", "clinic-17", shared),
        (5, "Appointment ID", "clinic-17", shared),
    ]


def test_an_id_excel_shortened_is_refused_for_that_alone() -> None:
    # 202612140930 and 202612141030, saved by Excel as they show in a General cell: sent, each
    # would be a second event once the file is saved with its digits.
    rows = [
        _row(**{"Appointment ID": "2.02613E+11"}),
        _row(**{"Appointment ID": "2.02613E+11", "Start": "10:30 AM", "End": "11:00 AM"}),
        _row(**{"Appointment ID": "202612141130"}),
    ]
    built = build_events(_frame(*rows), CLINIC)
    assert sorted(built.payloads) == [4]
    assert built.external_ids == {4: "clinic-202612141130"}
    assert [(row, column, value) for row, column, value, _ in _issues(built)] == [
        (2, "Appointment ID", "2.02613E+11"),
        (3, "Appointment ID", "2.02613E+11"),
    ]
    assert all(reason == SHORTENED_REASON for *_, reason in _issues(built))
    assert "last digits are lost" in SHORTENED_REASON


def test_a_blank_external_id_cell_is_an_issue_and_no_id_is_reported() -> None:
    built = build_events(_frame(_row(**{"Appointment ID": ""}), _row()), CLINIC)
    assert sorted(built.payloads) == [3]
    assert built.external_ids == {3: "clinic-0017"}
    assert _issues(built) == [
        (
            2,
            "Appointment ID",
            "",
            "is blank: every appointment needs its id, so that the next import updates it "
            "instead of adding it again; fill it in",
        )
    ]


@pytest.mark.parametrize(
    ("start", "end", "reason"),
    [
        (
            "10:00 AM",
            "9:00 AM",
            "ends before it starts: starts 2026-12-14T10:00:00-08:00, "
            "ends 2026-12-14T09:00:00-08:00",
        ),
        (
            "10:00 AM",
            "10:00 AM",
            "ends when it starts (it must end after it starts): "
            "starts 2026-12-14T10:00:00-08:00, ends 2026-12-14T10:00:00-08:00",
        ),
        (
            "10:00 PM",
            "12:00 AM",  # midnight on the same date: never moved to the next day
            "ends before it starts: starts 2026-12-14T22:00:00-08:00, "
            "ends 2026-12-14T00:00:00-08:00; "
            "an event that ends at midnight needs the next day's date",
        ),
        (
            "10:00 PM",
            "2:00 AM",  # a night visit: the end needs the next day's date
            "ends before it starts: starts 2026-12-14T22:00:00-08:00, "
            "ends 2026-12-14T02:00:00-08:00; "
            "if it ends after midnight, its end needs the next day's date",
        ),
    ],
)
def test_an_event_must_end_after_it_starts(start: str, end: str, reason: str) -> None:
    built = build_events(_frame(_row(Start=start, End=end)), CLINIC)
    assert built.payloads == {}
    assert _issues(built) == [(2, "End", end, reason)]


def test_end_without_a_date_takes_the_start_date() -> None:
    mapping = _mapping(
        start={"date": "{Day}", "time": "{From}"}, end={"time": "{To}"}, duration_minutes=None
    )
    assert mapping.event.end == When(time=parse_template("{To}", where="event.end.time"))
    row = {"Id": "a", "Day": "2026-07-01", "From": "09:00", "To": "17:00"}
    payload = build_events(_frame(row), mapping).payloads[2]
    assert (payload["start_time"], payload["end_time"]) == (
        "2026-07-01T09:00:00-04:00",
        "2026-07-01T17:00:00-04:00",
    )


@pytest.mark.parametrize(
    ("minutes", "end_time", "problem"),
    [
        ("45", "2026-07-01T09:45:00-04:00", None),
        ("90.0", "2026-07-01T10:30:00-04:00", None),  # how a spreadsheet may show 90
        ("0", None, "is not a length in minutes"),
        ("-15", None, "is not a length in minutes"),
        ("1.5", None, "is not a whole number of minutes: if the column gives hours"),
        ("an hour", None, "is not a length in minutes"),
        ("", None, "the length of the appointment is missing"),
    ],
)
def test_duration_minutes(minutes: str, end_time: str | None, problem: str | None) -> None:
    mapping = _mapping(duration_minutes="{Minutes}")
    built = build_events(
        _frame({"Id": "a", "When": "2026-07-01 09:00", "Minutes": minutes}), mapping
    )
    if problem is None:
        assert built.issues == []
        assert built.payloads[2]["end_time"] == end_time
    else:
        assert built.payloads == {}
        [(row, column, value, reason)] = _issues(built)
        assert (row, column, value) == (2, "Minutes", minutes)
        assert reason.startswith(problem)


@pytest.mark.parametrize(
    ("all_day", "end_date", "start_time", "end_time"),
    [
        ("yes", "", "2026-12-01T00:00:00-05:00", "2026-12-02T00:00:00-05:00"),
        ("X", "2026-12-03", "2026-12-01T00:00:00-05:00", "2026-12-04T00:00:00-05:00"),
        ("TRUE", "12/01/2026", "2026-12-01T00:00:00-05:00", "2026-12-02T00:00:00-05:00"),
        # The night clocks go back is 25 hours long; the end is still the next midnight.
        ("1", "", "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00"),
    ],
)
def test_all_day_runs_midnight_to_midnight(
    all_day: str, end_date: str, start_time: str, end_time: str
) -> None:
    mapping = parse_mapping(
        {
            "defaults": {"time_zone": "America/New_York", "date_format": "%m/%d/%Y"},
            "event": {
                "calendar": "Clinic",
                "external_id": "{Id}",
                "title": "Away",
                "start": {"date": "{From}", "time": "{At}"},
                "end": {"date": "{To}", "time": "{Until}"},
                "all_day": "{All day}",
            },
        }
    )
    day = "2026-11-01" if start_time.startswith("2026-11-01") else "2026-12-01"
    row = {"Id": "a", "From": day, "At": "", "To": end_date, "Until": "", "All day": all_day}
    built = build_events(_frame(row), mapping)
    assert built.issues == []
    payload = built.payloads[2]
    assert (payload["start_time"], payload["end_time"], payload["all_day"]) == (
        start_time,
        end_time,
        True,
    )


def test_all_day_cells_must_say_yes_or_no() -> None:
    mapping = _mapping(all_day="{All day}")
    built = build_events(
        _frame(
            {"Id": "a", "When": "2026-07-01 09:00", "All day": "no"},
            {"Id": "b", "When": "2026-07-01 09:00", "All day": ""},
            {"Id": "c", "When": "2026-07-01 09:00", "All day": "maybe"},
        ),
        mapping,
    )
    assert [p["all_day"] for p in built.payloads.values()] == [False, False]
    assert _issues(built) == [(4, "All day", "maybe", "must be yes or no (blank means no)")]


@pytest.mark.parametrize(
    ("written", "number", "problem"),
    [
        ("Busy", 2, None),
        ("free", 0, None),
        ("Tentative", 1, None),
        ("out of office", 3, None),
        ("Working-Elsewhere", 4, None),
        ("OUT_OF_OFFICE", 3, None),
        ("", None, None),  # JSON null: Apptoto's default, Busy
        (
            "asleep",
            None,
            "must be one of: free, tentative, busy, out of office, working elsewhere",
        ),
    ],
)
def test_show_as(written: str, number: int | None, problem: str | None) -> None:
    built = build_events(
        _frame({"Id": "a", "When": "2026-07-01 09:00", "Show": written}),
        _mapping(show_as="{Show}"),
    )
    if problem is None:
        assert built.payloads[2]["show_as"] == number
    else:
        assert _issues(built) == [(2, "Show", written, problem)]


def test_show_as_numbers_stay_ints_next_to_blank_cells() -> None:
    built = build_events(
        _frame(
            {"Id": "a", "When": "2026-07-01 09:00", "Show": "busy"},
            {"Id": "b", "When": "2026-07-01 09:00", "Show": ""},
        ),
        _mapping(show_as="{Show}"),
    )
    assert json.dumps([p["show_as"] for p in built.payloads.values()]) == "[2, null]"


@pytest.mark.parametrize(
    ("written", "calendar_id", "problem"),
    [
        ("42", 42, None),
        ("42.0", 42, None),
        ("123456789012345678", 123456789012345678, None),  # long ids are not rounded
        ("Dr Lee", None, "is not a number: it must be a whole number above 0, like 1234"),
        ("0", None, "is not a number: it must be a whole number above 0, like 1234"),
        ("", None, "is blank: fill in the number"),
    ],
)
def test_calendar_id(written: str, calendar_id: int | None, problem: str | None) -> None:
    mapping = _mapping(calendar=None, calendar_id="{Calendar}")
    built = build_events(
        _frame({"Id": "a", "When": "2026-07-01 09:00", "Calendar": written}), mapping
    )
    if problem is None:
        assert built.payloads[2]["calendar_id"] == calendar_id
        assert type(built.payloads[2]["calendar_id"]) is int
        assert "calendar" not in built.payloads[2]
    else:
        assert _issues(built) == [(2, "Calendar", written, problem)]


@pytest.mark.parametrize(
    ("cells", "participants", "problem"),
    [
        ({"Contact": "123", "Ext": ""}, [{"contact_id": 123}], None),
        ({"Contact": "", "Ext": "C-0042"}, [{"contact_external_id": "C-0042"}], None),
        ({"Contact": "", "Ext": ""}, [], None),
        ({"Contact": "abc", "Ext": ""}, None, "is not a number: it must be a whole number"),
    ],
)
def test_contact_participants(
    cells: dict[str, str], participants: list[dict[str, Any]] | None, problem: str | None
) -> None:
    mapping = _mapping(participants=[{"contact_id": "{Contact}", "contact_external_id": "{Ext}"}])
    built = build_events(_frame({"Id": "a", "When": "2026-07-01 09:00", **cells}), mapping)
    if problem is None:
        assert built.payloads[2]["participants"] == participants
    else:
        [(_, column, _, reason)] = _issues(built)
        assert column == "Contact"
        assert reason.startswith(problem)


@pytest.mark.parametrize(
    ("changes", "issue"),
    [
        ({"Service": "", "Provider": ""}, (2, "Provider", "", "the appointment has no calendar")),
        ({"Service": "", "Provider": ""}, (2, "Service", "", "the appointment has no title")),
    ],
)
def test_blank_title_and_calendar_are_issues(
    changes: dict[str, str], issue: tuple[int, str, str, str]
) -> None:
    built = build_events(_frame(_row(**changes)), CLINIC)
    assert built.payloads == {}
    found = [
        (r, c, v, reason.split(", so ")[1].split(" (")[0]) for r, c, v, reason in _issues(built)
    ]
    assert issue in found


def test_issues_name_spreadsheet_rows_across_a_gap_in_the_index() -> None:
    frame = _frame(_row(), _row(**{"Appointment ID": "2", "Date": "31/12/2026"}), first_row=10)
    frame.index = pd.Index([10, 40])  # rows filtered out earlier keep their own numbers
    built = build_events(frame, CLINIC)
    assert sorted(built.payloads) == [10]
    assert [(i.row, i.column, i.value) for i in built.issues] == [(40, "Date", "31/12/2026")]


_cell = st.one_of(
    st.sampled_from(
        ["", " ", "12/14/2026", "2026-07-01", "9:30 AM", "14:30", "00:00", "17", "0017"]
    ),
    st.text(max_size=12),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.fixed_dictionaries({k: _cell for k in ANN}), min_size=1, max_size=6))
def test_mapping_is_deterministic_and_never_crashes(rows: list[dict[str, str]]) -> None:
    frame = _frame(*rows)
    first, second = build_events(frame, CLINIC), build_events(frame.copy(), CLINIC)
    assert first == second
    assert json.dumps(first.payloads, sort_keys=True) == json.dumps(second.payloads, sort_keys=True)
    # Every row ends up either with a payload or with at least one issue, never both.
    with_issues = {i.row for i in first.issues}
    assert set(first.payloads) | with_issues == set(frame.index)
    assert not set(first.payloads) & with_issues


def test_a_participant_row_with_a_contact_and_details_is_an_issue() -> None:
    # parse_mapping forbids this statically; the per-row guard covers models built otherwise.
    base = _mapping()
    both = ParticipantTemplate(
        name=parse_template("{Name}", where="name"),
        contact_id=parse_template("{Contact}", where="contact_id"),
    )
    mapping = replace(base, event=replace(base.event, participants=(both,)))
    built = build_events(
        _frame(
            {"Id": "a", "When": "2026-07-01 09:00", "Name": "Ann", "Contact": "12"},
            {"Id": "b", "When": "2026-07-01 09:00", "Name": "", "Contact": "12"},
        ),
        mapping,
    )
    assert built.payloads[3]["participants"] == [{"contact_id": 12}]
    assert _issues(built) == [
        (
            2,
            "",
            "",
            "gives both an Apptoto contact and a name, email or phone for the same person: "
            "Apptoto takes one or the other; leave one of them blank",
        )
    ]


def test_a_timed_row_needs_an_end_when_all_day_comes_from_a_cell() -> None:
    mapping = _mapping(duration_minutes=None, all_day="{All day}")
    built = build_events(
        _frame(
            {"Id": "a", "When": "2026-07-01 09:00", "All day": "yes"},
            {"Id": "b", "When": "2026-07-01 09:00", "All day": "no"},
        ),
        mapping,
    )
    assert built.payloads[2]["end_time"] == "2026-07-02T00:00:00-04:00"
    assert _issues(built) == [
        (3, "end", "", "the event is not all-day, and the mapping gives no end or duration_minutes")
    ]


def test_payloads_are_put_together_only_when_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Checking a file reads only which rows are valid; the payload dicts are made on first
    read, once, and are those of the row (the mapped columns are then let go)."""
    import importer.events.build as build

    made: list[int] = []
    real = build._assemble

    def counted(*args: Any) -> Any:
        made.append(1)
        return real(*args)

    monkeypatch.setattr(build, "_assemble", counted)
    built = build_events(_frame(ANN, _row(**{"Appointment ID": None})), CLINIC)
    assert made == [] and [i.row for i in built.issues] == [3]
    assert list(built.payloads) == [2] and built.payloads[2]["external_id"] == "clinic-0017"
    assert built.payloads is built.payloads and made == [1]
    assert built.assemble() is built.payloads  # the columns are let go, the payloads kept
    assert replace(built, issues=[]).payloads is built.payloads and made == [1]


def test_validate_never_puts_payloads_together(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importer.events.build as build
    from importer.pipeline import RunRequest, validate_file
    from tests.helpers import SAMPLES

    def refused(*args: Any) -> Any:
        raise AssertionError("validate put the payloads together")

    monkeypatch.setattr(build, "_assemble", refused)
    checked = validate_file(
        RunRequest(source=SAMPLES / "appointments.csv", mapping=CLINIC, client_config=None)
    )
    assert checked.done.counts["invalid"] > 0 and checked.done.counts["skipped"] > 0


@pytest.mark.parametrize(
    ("time_zone", "zone", "hint"),
    [
        (
            "{Zone}",
            "PT",
            "; or have the mapping read the column's names as their zones: {Zone|zone}",
        ),
        ("{Zone}", "MST", ""),  # Denver's or Arizona's: the filter leaves it, so no hint
        ("{Zone}{Region}", "PT", ""),  # not one column as written: no filter to name
    ],
)
def test_a_short_zone_name_s_reason_names_the_zone_filter_for_one_column(
    time_zone: str, zone: str, hint: str
) -> None:
    mapping = _mapping(time_zone=time_zone)
    row = {"Id": "a", "When": "2026-12-14 09:00", "Zone": zone, "Region": ""}
    built = build_events(_frame(row), mapping)
    [issue] = built.issues
    assert issue.reason.endswith(hint) and hint in issue.reason
    assert (issue.reason.count("{Zone|zone}"), built.payloads) == (1 if hint else 0, {})


def test_a_renderer_kept_for_the_rows_is_used_and_one_of_other_rows_is_refused() -> None:
    frame = _frame(_row(), _row(**{"Appointment ID": "0018"}))
    cells = TemplateRenderer(frame)
    ids = external_ids_of(frame, CLINIC.event.external_id, cells)
    built = build_events(frame, CLINIC, cells=cells)
    assert built.external_ids == dict(zip(frame.index.tolist(), ids.tolist(), strict=True))
    assert built.external_ids == {2: "clinic-0017", 3: "clinic-0018"}
    other = TemplateRenderer(frame.copy())
    with pytest.raises(ValueError, match="another frame"):
        build_events(frame, CLINIC, cells=other)
