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
    mapping = _mapping(start={"date": "{Day}"}, all_day=True, duration_minutes=None)
    # 05:30 UTC on 5 December is 00:30 on the 5th in New York: the 4th is over, the 5th is not.
    days = _frame({"Id": "a", "Day": "2026-12-05"}, {"Id": "b", "Day": "2026-12-04"})
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
