"""Warnings: rows that are sent all the same, with something for staff to check."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from importer.events import build_events
from importer.prepare import prepare
from tests.events.test_build import CLINIC, _frame, _mapping, _row

NOW = datetime(2026, 12, 5, 5, 30, tzinfo=UTC)
PAST = "this appointment is in the past"
AHEAD = "this appointment is more than a year ahead"


@pytest.mark.parametrize(
    ("date", "start", "end", "warned"),
    [
        ("12/14/2026", "9:30 AM", "10:00 AM", None),
        ("12/04/2026", "9:30 AM", "10:00 AM", PAST),
        # 05:30 UTC on 5 December is 21:30 on the 4th in Los Angeles.
        ("12/04/2026", "9:00 PM", "9:45 PM", None),  # under way: not over yet
        ("12/04/2026", "9:00 PM", "9:29 PM", PAST),  # over a minute ago
        ("12/05/2027", "9:30 AM", "10:00 AM", AHEAD),
        ("11/30/2027", "9:30 AM", "10:00 AM", None),
    ],
)
def test_appointments_over_or_more_than_a_year_ahead_are_sent_with_a_warning(
    date: str, start: str, end: str, warned: str | None
) -> None:
    built = build_events(_frame(_row(Date=date, Start=start, End=end)), CLINIC, now=NOW)
    assert list(built.payloads) == [2]  # never blocks
    reasons = [(w.column, w.value, w.reason.split(":")[0]) for w in built.warnings]
    assert reasons == ([("Date", date, warned)] if warned else [])


def test_an_all_day_appointment_of_today_is_not_in_the_past() -> None:
    mapping = _mapping(
        start={"date": "{Day}"},
        all_day=True,
        duration_minutes=None,
        participants=[{"phone": "{Phone}"}],
    )
    # 05:30 UTC on 5 December is 00:30 on the 5th in New York: the 4th is over, the 5th is not.
    phone = "212-555-0101"
    days = _frame(
        {"Id": "a", "Day": "2026-12-05", "Phone": phone},
        {"Id": "b", "Day": "2026-12-04", "Phone": phone},
    )
    built = build_events(days, mapping, now=NOW)
    assert [(w.row, w.reason.split(":")[0]) for w in built.warnings] == [(3, PAST)]


def test_a_patient_booked_twice_at_the_same_moment_is_sent_with_a_warning_on_both_rows() -> None:
    ann = _row()
    copy = _row(**{"Appointment ID": "0018"})
    later = _row(**{"Appointment ID": "0019", "Start": "10:30 AM", "End": "11:00 AM"})
    other = _row(**{"Appointment ID": "0020", "First Name": "Bo", "Email": "bo@example.com"})
    built = build_events(_frame(ann, copy, later, other), CLINIC, now=NOW)
    assert sorted(built.payloads) == [2, 3, 4, 5]
    assert [(w.row, w.column, w.value) for w in built.warnings] == [
        (2, "Date", "12/14/2026"),
        (3, "Date", "12/14/2026"),
    ]
    assert built.warnings[0].reason.startswith(
        "Ann Smith has appointments at the same time on rows 2 and 3"
    )


def test_a_row_keeps_every_warning_about_one_cell(tmp_path: Path) -> None:
    rows = [_row(Date="12/04/2021"), _row(**{"Appointment ID": "0018", "Date": "12/04/2021"})]
    sheet = tmp_path / "twice.csv"
    pd.DataFrame(rows).to_csv(sheet, index=False)
    prepared = prepare(sheet, CLINIC, now=NOW)
    assert [w.reason.split(":")[0] for w in prepared.warnings[2]] == [
        "this appointment is in the past",
        "Ann Smith has appointments at the same time on rows 2 and 3",
    ]


UNREACHED = "the appointment is sent, but Apptoto has no way to remind them"


def test_a_patient_with_neither_phone_nor_email_is_sent_with_a_warning_naming_them() -> None:
    reached = _row()
    by_email = _row(**{"Appointment ID": "0018", "Phone": None})
    nobody = _row(**{"Appointment ID": "0019", "Phone": None, "Email": None})
    nameless = _row(**{"Appointment ID": "0020", "Phone": None, "Email": None, "First Name": None})
    nameless["Last Name"] = None
    built = build_events(_frame(reached, by_email, nobody, nameless), CLINIC, now=NOW)
    assert sorted(built.payloads) == [2, 3, 4, 5]  # never blocks: the visit is in the calendar
    assert [(w.row, w.column, w.value, w.reason) for w in built.warnings] == [
        (
            4,
            "Phone",
            "",
            f"no phone or email for 'Ann Smith': {UNREACHED}; fill in their mobile number or email",
        ),
        (
            5,
            "Phone",
            "",
            f"no phone or email for anyone on this row: {UNREACHED}; fill in their mobile "
            "number or email",
        ),
    ]


def test_a_bad_phone_and_no_email_is_the_rows_fault_not_a_second_warning() -> None:
    row = _row(Phone="555-01", Email=None)
    built = build_events(_frame(row), CLINIC, now=NOW)
    assert [i.column for i in built.issues] == ["Phone"]
    assert built.warnings == []


def test_a_mapping_without_participants_or_contact_columns_warns_on_every_row() -> None:
    when = {"When": "2026-12-14 09:30"}
    nobody = build_events(_frame({"Id": "a", **when}), _mapping(), now=NOW)
    assert [w.reason for w in nobody.warnings] == [
        "this appointment has no participant: it is sent, but Apptoto has nobody to send its "
        "reminder to; the mapping needs participants, with a phone or email column"
    ]
    names_only = _mapping(participants=[{"name": "{Name}"}])
    named = build_events(_frame({"Id": "a", "Name": "Bo Wu", **when}), names_only, now=NOW)
    assert [(w.column, w.reason) for w in named.warnings] == [
        (
            "",
            f"no phone or email for 'Bo Wu': {UNREACHED}; the mapping reads no phone or email "
            "column: add one to its participants",
        )
    ]
    by_contact = _mapping(participants=[{"contact_external_id": "{Patient}"}])
    known = build_events(_frame({"Id": "a", "Patient": "p-17", **when}), by_contact, now=NOW)
    assert known.warnings == []
