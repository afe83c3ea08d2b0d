"""A practice with sites in more than one time zone: each row's zone read from its site's name
(``time_zones: {column: Location, values: {...}}``). Before, such an export could only be sent
with one default zone, and the visits of the other site went out an hour off."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from importer.errors import MappingError
from importer.mapping import ZonesByColumn, parse_mapping
from importer.pipeline import RunRequest
from importer.prepare import prepare
from importer.several_sheets import plan_sheets
from tests.hand_kept import SheetSpec, write_workbook
from tests.helpers import write_csv

HEADER = ["Appt ID", "Date", "Time", "Location", "Patient", "Mobile"]
SPEC: dict[str, Any] = {
    "name": "Two sites",
    "defaults": {
        "time_zone": "America/Los_Angeles",
        "date_format": "%m/%d/%Y",
        "time_format": "%I:%M %p",
    },
    "time_zones": {
        "column": "Location",
        "values": {"Boise clinic": "America/Boise", "Eugene clinic": "America/Los_Angeles"},
    },
    "event": {
        "calendar": "Clinic",
        "external_id": "appt-{Appt ID}",
        "title": "Visit",
        "start": {"date": "{Date}", "time": "{Time}"},
        "duration_minutes": "30",
        "participants": [{"name": "{Patient}", "phone": "{Mobile}"}],
    },
}


def export(path: Path, rows: list[list[str]]) -> Path:
    return write_csv(path, HEADER, [dict(zip(HEADER, row, strict=True)) for row in rows])


def test_each_row_takes_its_sites_zone(tmp_path: Path) -> None:
    rows = [
        ["1", "12/14/2026", "9:00 AM", "Boise clinic", "Ann Lee", "208-555-0101"],
        ["2", "12/14/2026", "9:00 AM", "Eugene clinic", "Bo Chen", "541-555-0102"],
        ["3", "07/14/2026", "9:00 AM", " boise  CLINIC ", "Cy Diaz", "208-555-0103"],
        ["4", "12/14/2026", "9:00 AM", "", "Di Park", "541-555-0104"],  # blank: the default
    ]
    prepared = prepare(export(tmp_path / "sites.csv", rows), parse_mapping(SPEC))
    assert prepared.issues == {}
    sent = {row: (p["start_time"], p["time_zone"]) for row, p in prepared.events.payloads.items()}
    assert sent == {
        2: ("2026-12-14T09:00:00-07:00", "America/Boise"),
        3: ("2026-12-14T09:00:00-08:00", "America/Los_Angeles"),
        4: ("2026-07-14T09:00:00-06:00", "America/Boise"),
        5: ("2026-12-14T09:00:00-08:00", "America/Los_Angeles"),
    }


def test_a_site_the_mapping_does_not_list_is_an_invalid_row(tmp_path: Path) -> None:
    rows = [["1", "12/14/2026", "9:00 AM", "Salem clinic", "Ann Lee", "503-555-0101"]]
    prepared = prepare(export(tmp_path / "sites.csv", rows), parse_mapping(SPEC))
    [issue] = prepared.issues[2]
    assert (issue.column, issue.value) == ("Location", "Salem clinic")
    assert issue.reason == (
        "has no time zone in the mapping (its time_zones list 'Boise clinic', 'Eugene clinic'): "
        "add it to time_zones.values with the zone of that place, like America/New_York"
    )


def test_a_blank_site_without_a_default_zone_is_an_invalid_row(tmp_path: Path) -> None:
    spec = {**SPEC, "defaults": {**SPEC["defaults"]}}
    del spec["defaults"]["time_zone"]
    rows = [["1", "12/14/2026", "9:00 AM", "", "Ann Lee", "503-555-0101"]]
    prepared = prepare(export(tmp_path / "sites.csv", rows), parse_mapping(spec))
    assert any("is blank, so the row has no time zone" in i.reason for i in prepared.issues[2])


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ({"column": "Location", "values": {"Boise": "EST"}}, "time_zones.values['Boise']: 'EST'"),
        (
            {"column": "Location", "values": {"Boise": "America/Bosie"}},
            "time_zones.values['Boise']: 'America/Bosie' is not a known time zone; did you mean",
        ),
        ({"column": "Location"}, "time_zones.values: expected each text of the column"),
        ({"values": {"Boise": "America/Boise"}}, "time_zones.column: expected the name"),
        ("Location", "time_zones: expected a column and the zone of each value"),
    ],
)
def test_a_wrong_time_zones_section_is_named(section: Any, problem: str) -> None:
    with pytest.raises(MappingError) as raised:
        parse_mapping({**SPEC, "time_zones": section})
    assert any(p.startswith(problem) for p in raised.value.problems or []), raised.value.problems


def test_one_way_to_give_the_zone() -> None:
    event = {**SPEC["event"], "time_zone": "{Location}"}
    with pytest.raises(MappingError) as raised:
        parse_mapping({**SPEC, "event": event})
    assert any("keep one of the two" in p for p in raised.value.problems or [])


def test_the_section_is_kept_as_written() -> None:
    assert parse_mapping(SPEC).time_zones == ZonesByColumn(
        "Location",
        (("Boise clinic", "America/Boise"), ("Eugene clinic", "America/Los_Angeles")),
    )


def test_a_workbook_with_a_sheet_per_site_takes_the_zone_by_the_sheets_name(
    tmp_path: Path,
) -> None:
    header = ["Appt ID", "Date", "Time", "Patient", "Mobile"]
    book = write_workbook(
        tmp_path / "sites.xlsx",
        [
            SheetSpec("Boise", [header, ["1", "12/14/2026", "9:00 AM", "Ann Lee", "208-555-0101"]]),
            SheetSpec(
                "Eugene", [header, ["2", "12/14/2026", "9:00 AM", "Bo Chen", "541-555-0102"]]
            ),
        ],
    )
    event = {**SPEC["event"], "participants": [{"name": "{Patient}", "phone": "{Mobile}"}]}
    spec = {
        **SPEC,
        "event": event,
        "time_zones": {
            "column": "@sheet",
            "values": {"Boise": "America/Boise", "Eugene": "America/Los_Angeles"},
        },
    }
    planned = plan_sheets(RunRequest(book, parse_mapping(spec), all_sheets=True))
    starts = {
        sheet: [r.payload["start_time"] for r in one.plan.rows if r.payload is not None]
        for sheet, one in planned
    }
    assert starts == {
        "Boise": ["2026-12-14T09:00:00-07:00"],
        "Eugene": ["2026-12-14T09:00:00-08:00"],
    }
