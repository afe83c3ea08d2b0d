"""How long an appointment lasts, as staff write it: minutes, hours, or both."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from importer.events import build_events
from importer.mapping import parse_mapping
from importer.values.durations import length_in_minutes


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


def test_a_length_with_its_unit_sets_the_end() -> None:
    mapping = parse_mapping(
        {
            "defaults": {"time_zone": "America/Chicago"},
            "event": {
                "calendar": "Clinic",
                "external_id": "{Id}",
                "title": "Visit",
                "start": {"datetime": "{When}"},
                "duration_minutes": "{Length}",
            },
        }
    )
    frame = pd.DataFrame(
        {
            "Id": ["1", "2", "3"],
            "When": ["2026-12-14 09:00"] * 3,
            "Length": ["1 hr 15 min", "45 mins", "a while"],
        },
        index=[2, 3, 4],
        dtype="str",
    )
    built = build_events(frame, mapping)
    assert [p["end_time"] for p in built.payloads.values()] == [
        "2026-12-14T10:15:00-06:00",
        "2026-12-14T09:45:00-06:00",
    ]
    (issue,) = built.issues
    assert (issue.row, issue.value) == (4, "a while")
    assert issue.reason.startswith("is not a length in minutes")
