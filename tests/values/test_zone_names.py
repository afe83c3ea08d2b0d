"""A time written with its zone's short name ("9:30 AM EST"), as some practice systems export
it: read, and checked against the row's zone, so a wrong zone is caught, not sent."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from importer.events import build_events
from importer.mapping import parse_mapping
from importer.values import apply_filter
from importer.values.time_ranges import range_end, range_start
from importer.values.zone_names import split_zone_names, zone_name_problems


@pytest.mark.parametrize(
    ("cell", "rest", "name"),
    [
        ("9:30 AM EST", "9:30 AM", "EST"),
        ("14:00 (PST)", "14:00", "PST"),
        ("9:30am pt", "9:30am", "PT"),
        ("12/14/2026 9:30 AM CDT", "12/14/2026 9:30 AM", "CDT"),
        ("9:30 AM", "9:30 AM", ""),
        ("9:30 AM XST", "9:30 AM XST", ""),  # no zone's name: left for the time format
        ("EST", "EST", ""),  # a name alone is no time
    ],
)
def test_the_zone_s_name_is_taken_off_the_time(cell: str, rest: str, name: str) -> None:
    rests, names = split_zone_names(pd.Series([cell], dtype="str"))
    assert (rests.iloc[0], names.iloc[0]) == (rest, name)


@pytest.mark.parametrize(
    ("name", "zone", "fits"),
    [
        ("EST", "America/New_York", True),
        ("EDT", "America/New_York", True),  # written in winter too: the zone's own name
        ("ET", "America/Toronto", True),
        ("MST", "America/Phoenix", True),
        ("MT", "America/Denver", True),
        ("GMT", "Europe/London", True),
        ("BST", "Europe/London", True),
        ("PST", "America/New_York", False),
        ("EST", "America/Chicago", False),
        ("CST", "Europe/London", False),
    ],
)
def test_the_zone_s_name_must_fit_the_row_s_zone(name: str, zone: str, fits: bool) -> None:
    (problem,) = zone_name_problems(pd.Series([name], dtype="str"), pd.Series([zone], dtype="str"))
    assert (problem == "") == fits
    if not fits:
        assert problem.startswith(f"says {name} (") and zone in problem


def _mapping(start: dict[str, str], **defaults: Any) -> Any:
    return parse_mapping(
        {
            "defaults": {"time_zone": "America/New_York", **defaults},
            "event": {
                "calendar": "Clinic",
                "external_id": "{Id}",
                "title": "Visit",
                "time_zone": "{Zone}",
                "start": start,
                "duration_minutes": "30",
            },
        }
    )


def test_rows_keep_their_local_time_and_a_wrong_zone_is_invalid() -> None:
    frame = pd.DataFrame(
        {
            "Id": ["1", "2", "3", "4"],
            "Date": ["12/14/2026", "12/14/2026", "12/14/2026", "07/14/2026"],
            "Time": ["9:30 AM EST", "9:30 AM (PST)", "9:30 AM PT", "9:30 AM EST"],
            "Zone": ["", "", "America/Los_Angeles", ""],
        },
        index=[2, 3, 4, 5],
        dtype="str",
    )
    mapping = _mapping(
        {"date": "{Date}", "time": "{Time}"}, date_format="%m/%d/%Y", time_format="%I:%M %p"
    )
    built = build_events(frame, mapping)
    assert {r: p["start_time"] for r, p in built.payloads.items()} == {
        2: "2026-12-14T09:30:00-05:00",
        4: "2026-12-14T09:30:00-08:00",
        5: "2026-07-14T09:30:00-04:00",  # "EST" in July: 9:30 in New York, as staff mean it
    }
    (issue,) = built.issues
    assert (issue.row, issue.column, issue.value) == (3, "Time", "9:30 AM (PST)")
    assert "but the row's time zone is America/New_York" in issue.reason


def test_a_date_and_time_cell_with_the_zone_s_name() -> None:
    frame = pd.DataFrame(
        {"Id": ["1", "2"], "When": ["2026-12-14 09:30 EST", "2026-12-14 09:30 CST"], "Zone": ""},
        index=[2, 3],
        dtype="str",
    )
    built = build_events(frame, _mapping({"datetime": "{When}"}))
    assert built.payloads[2]["start_time"] == "2026-12-14T09:30:00-05:00"
    assert [(i.row, i.value) for i in built.issues] == [(3, "2026-12-14 09:30 CST")]


def test_a_time_range_with_the_zone_s_name_gives_it_to_both_ends() -> None:
    assert (range_start("9:00-9:30 AM EST"), range_end("9:00-9:30 AM EST")) == (
        "9:00 AM EST",
        "9:30 AM EST",
    )


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("EST", "America/New_York"),
        ("edt", "America/New_York"),
        ("ET", "America/New_York"),
        ("PT", "America/Los_Angeles"),
        ("CDT", "America/Chicago"),
        ("BST", "Europe/London"),
        ("HST", "Pacific/Honolulu"),
        ("MST", "MST"),  # Arizona's all year, Denver's in winter: left to the zone check
        ("AST", "AST"),  # Puerto Rico's all year, Halifax's in winter
        ("GMT", "GMT"),  # the UK's winter time, or universal time
        ("America/Denver", "America/Denver"),
        ("Eastern", "America/New_York"),  # a zone in words (tests/values/test_zone_words.py)
        ("Easter", "Easter"),
    ],
)
def test_the_zone_filter_reads_a_short_name_as_its_family_s_zone(written: str, read: str) -> None:
    assert apply_filter(pd.Series([written], dtype="str"), "zone").tolist() == [read]
