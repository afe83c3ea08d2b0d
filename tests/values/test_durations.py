"""How long an appointment lasts, as staff write it: minutes, hours, or both."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from importer.assist import propose_mapping
from importer.events import build_events
from importer.mapping import Mapping, parse_mapping
from importer.values.durations import in_hours, length_in_minutes


@pytest.mark.parametrize(
    ("written", "minutes"),
    [
        ("30", 30),
        ("30.0", 30),  # a number cell saved to CSV
        ("30 min", 30),
        ("45 mins", 45),
        ("30m", 30),
        ("90 Minutes", 90),
        ("1 hr", 60),
        ("1 hr.", 60),
        ("2 hrs", 120),
        ("1.5 hours", 90),
        ("1h30", 90),
        ("1 hr 30 min", 90),
        ("1h 30m", 90),
        ("1:30", 90),  # hours and minutes, as Excel shows a duration
        ("0:45", 45),
        ("00:30:00", 30),
        ("1.33 hours", None),  # no whole number of minutes
        ("2.5", None),
        ("30ish", None),
        ("1:75", None),
        ("", None),
    ],
)
def test_lengths_as_staff_write_them(written: str, minutes: int | None) -> None:
    found = length_in_minutes(written)
    assert (None if math.isnan(found) else found) == minutes


def _mapping(length: str = "{Length}") -> Mapping:
    return parse_mapping(
        {
            "defaults": {"time_zone": "America/Chicago"},
            "event": {
                "calendar": "Clinic",
                "external_id": "{Id}",
                "title": "Visit",
                "start": {"datetime": "{When}"},
                "duration_minutes": length,
                "participants": [{"phone": "{Phone}"}],
            },
        }
    )


def _lengths(*lengths: str) -> pd.DataFrame:
    rows = len(lengths)
    return pd.DataFrame(
        {
            "Id": [str(i) for i in range(rows)],
            "When": ["2026-12-14 09:00"] * rows,
            "Length": list(lengths),
            "Phone": [f"312-555-01{i:02d}" for i in range(rows)],  # a patient each
        },
        index=range(2, 2 + rows),
        dtype="str",
    )


def test_a_length_with_its_unit_sets_the_end() -> None:
    mapping = _mapping()
    built = build_events(_lengths("1 hr 15 min", "45 mins", "a while"), mapping)
    assert [p["end_time"] for p in built.payloads.values()] == [
        "2026-12-14T10:15:00-06:00",
        "2026-12-14T09:45:00-06:00",
    ]
    (issue,) = built.issues
    assert (issue.row, issue.value) == (4, "a while")
    assert issue.reason.startswith("is not a length in minutes")


@pytest.mark.parametrize(
    ("written", "shown"),
    [("1.5", "1.5 h"), (" 2 ", "2 h"), ("45 min", "45 min"), ("1:30", "1:30"), ("soon", "soon")],
)
def test_the_hours_filter_gives_a_bare_number_its_unit(written: str, shown: str) -> None:
    assert in_hours(written) == shown


def test_a_column_of_hours_read_with_the_hours_filter() -> None:
    # "Duration (hrs)": 1 and 2 were appointments of 1 and 2 minutes, 1.5 an invalid row.
    built = build_events(_lengths("1", "1.5", "45 min", "1.33"), _mapping("{Length|hours}"))
    assert [p["end_time"] for p in built.payloads.values()] == [
        "2026-12-14T10:00:00-06:00",
        "2026-12-14T10:30:00-06:00",
        "2026-12-14T09:45:00-06:00",  # a length with its unit is as written
    ]
    (issue,) = built.issues
    assert (issue.row, issue.value) == (5, "1.33")  # as written, not as the filter gave it
    assert issue.reason.startswith("is not a length in whole minutes")
    assert built.warnings == []


def test_a_bare_number_too_short_for_minutes_is_sent_with_a_warning_naming_the_filter() -> None:
    built = build_events(_lengths("2", "5", "30", "1.5"), _mapping())
    assert sorted(built.payloads) == [2, 3, 4]
    assert [(w.row, w.value, w.reason) for w in built.warnings] == [
        (
            2,
            "2",
            "is read as minutes: the appointment lasts only 2 minutes; if the column gives "
            "hours, read it with {Length|hours} in the mapping",
        )
    ]
    (issue,) = built.issues
    assert (issue.row, issue.value) == (5, "1.5")
    assert "read it with {Length|hours}" in issue.reason


@pytest.mark.parametrize(
    ("header", "template"),
    [
        ("Duration (hrs)", "{Duration (hrs)|hours}"),
        ("Length in hours", "{Length in hours|hours}"),
        ("Duration", "{Duration}"),
        ("Duration (h:mm)", "{Duration (h:mm)}"),
    ],
)
def test_the_assistant_reads_a_length_headed_in_hours_as_hours(header: str, template: str) -> None:
    frame = pd.DataFrame(
        {
            "Id": ["1", "2"],
            "Date": ["12/14/2026"] * 2,
            "Time": ["9:00 AM", "10:00 AM"],
            header: ["1", "1.5"] if "h:mm" not in header else ["1:00", "1:30"],
            "Patient": ["Ann Lee", "Bo Wu"],
            "Phone": ["312-555-0100", "312-555-0101"],
        }
    )
    proposal = propose_mapping(frame, name="hours", time_zone="America/Chicago")
    length = proposal.to_mapping().event.duration_minutes
    assert length is not None
    assert length.source == template
