"""A time range in one cell ("9:00 AM - 9:30 AM", "10:00-10:45 AM"): ``{Time|start}`` and
``{Time|end}`` give each end, and the row gets the start and end the schedule shows."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from importer.errors import MappingError
from importer.events import build_events
from importer.mapping import parse_mapping
from importer.values.time_ranges import range_end, range_start


@pytest.mark.parametrize(
    ("cell", "start", "end"),
    [
        ("9:00 AM - 9:30 AM", "9:00 AM", "9:30 AM"),
        ("10:00-10:45 AM", "10:00 AM", "10:45 AM"),  # AM written once holds for both
        ("11:30-12:15 PM", "11:30 AM", "12:15 PM"),  # ... unless the start would be after the end
        ("12:00-1:00 PM", "12:00 PM", "1:00 PM"),
        ("9-5 PM", "9 AM", "5 PM"),
        ("9:30 AM-10:15", "9:30 AM", "10:15 AM"),  # written on the start only
        ("11:30 AM-12:15", "11:30 AM", "12:15 PM"),
        ("1:00 PM – 2:00 PM", "1:00 PM", "2:00 PM"),  # an en dash
        ("9am to 9.30am", "9am", "9.30am"),
        ("14:00-14:30", "14:00", "14:30"),  # 24-hour: nothing to lend
        ("9:30-10:15", "9:30", "10:15"),  # no AM or PM at all: the time format decides
        ("9:00 AM", "9:00 AM", ""),  # one time: no end
        ("12-14-2026", "12-14-2026", ""),  # a date's dashes are no range
    ],
)
def test_each_end_of_a_time_range(cell: str, start: str, end: str) -> None:
    assert (range_start(cell), range_end(cell)) == (start, end)


def _mapping(**defaults: Any) -> Any:
    return parse_mapping(
        {
            "defaults": {"time_zone": "America/Los_Angeles", "date_format": "%m/%d/%Y", **defaults},
            "event": {
                "calendar": "Clinic",
                "external_id": "{Id}",
                "title": "Visit",
                "start": {"date": "{Date}", "time": "{Time|start}"},
                "end": {"date": "{Date}", "time": "{Time|end}"},
            },
        }
    )


def test_a_schedule_of_time_ranges_gives_each_row_its_start_and_end() -> None:
    cells = ["9:00 AM - 9:30 AM", "11:30-12:15 PM", "9:30", "9:00 AM", "9:30-9:00 AM", None]
    frame = pd.DataFrame(
        {"Id": [str(n) for n in range(6)], "Date": ["12/14/2026"] * 6, "Time": cells},
        index=range(2, 8),
        dtype="str",
    )
    built = build_events(frame, _mapping(time_format="%I:%M %p"))
    assert {r: (p["start_time"], p["end_time"]) for r, p in built.payloads.items()} == {
        2: ("2026-12-14T09:00:00-08:00", "2026-12-14T09:30:00-08:00"),
        3: ("2026-12-14T11:30:00-08:00", "2026-12-14T12:15:00-08:00"),
    }
    said = {(i.row, i.value, i.reason) for i in built.issues}
    no_end = "is not a time range (like 9:00 AM - 9:30 AM): it has no end time"
    assert (5, "9:00 AM", no_end) in said
    assert any(row == 4 and value == "9:30" for row, value, _ in said)  # no AM or PM: refused
    assert any(row == 6 and value == "9:30-9:00 AM" and "ends before it starts" in reason
               for row, value, reason in said)  # fmt: skip
    assert {i.row for i in built.issues} == {4, 5, 6, 7}


def test_a_24_hour_schedule_of_time_ranges() -> None:
    frame = pd.DataFrame(
        {"Id": ["1"], "Date": ["12/14/2026"], "Time": ["14:00–14:45"]}, index=[2], dtype="str"
    )
    built = build_events(frame, _mapping(time_format="%H:%M"))
    assert (built.payloads[2]["start_time"], built.payloads[2]["end_time"]) == (
        "2026-12-14T14:00:00-08:00",
        "2026-12-14T14:45:00-08:00",
    )


def test_an_unknown_filter_names_the_time_range_ones() -> None:
    with pytest.raises(MappingError, match=r"\|start, \|end"):
        parse_mapping(
            {
                "event": {
                    "calendar": "C",
                    "external_id": "{Id}",
                    "title": "Visit",
                    "start": {"date": "{Date}", "time": "{Time|begin}"},
                    "duration_minutes": "30",
                }
            }
        )
