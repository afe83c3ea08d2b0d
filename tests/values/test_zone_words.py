"""Zones as Windows and staff write them in a zone column: ``Eastern Standard Time`` (what a
practice system built on .NET exports), ``Pacific Time (US & Canada)``, ``Eastern``. The
``|zone`` filter reads them as the zone of the place, summer time included; those that tell no
one zone (``Mountain Standard Time``: Denver's or Arizona's) are refused, never guessed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from importer.mapping import parse_mapping
from importer.prepare import prepare
from importer.values.zones import zone_cell_problem, zone_of_short_name, zone_problem

READ = [
    ("Eastern Standard Time", "America/New_York"),  # Windows' name: summer time included
    ("eastern  standard TIME", "America/New_York"),
    ("Central Standard Time", "America/Chicago"),
    ("Pacific Standard Time", "America/Los_Angeles"),
    ("US Mountain Standard Time", "America/Phoenix"),  # Arizona: no summer time
    ("Alaskan Standard Time", "America/Anchorage"),
    ("Hawaiian Standard Time", "Pacific/Honolulu"),
    ("GMT Standard Time", "Europe/London"),  # the UK's, BST included
    ("W. Europe Standard Time", "Europe/Berlin"),
    ("Eastern", "America/New_York"),
    ("Central Time", "America/Chicago"),
    ("Eastern Daylight Time", "America/New_York"),
    ("Pacific Time (US & Canada)", "America/Los_Angeles"),
    ("Mountain Time (US & Canada)", "America/Denver"),
    ("(UTC-05:00) Eastern Time (US & Canada)", "America/New_York"),  # Windows' display name
    ("(GMT-06:00) Central Time (US & Canada)", "America/Chicago"),
    ("Atlantic Time (Canada)", "America/Halifax"),
]

# Denver's or Arizona's, Halifax's or Puerto Rico's: an hour apart in summer.
AMBIGUOUS = ["Mountain Standard Time", "Mountain Time", "Mountain", "Atlantic Standard Time"]


@pytest.mark.parametrize(("written", "zone"), READ)
def test_the_zone_filter_reads_windows_names_and_zones_in_words(written: str, zone: str) -> None:
    assert zone_of_short_name(written) == zone
    how = "Windows' name for" if "standard time" in written.casefold() else "a name in words of"
    assert zone_problem(written) == (
        f"is {how} the time of {zone} (its winter and summer time alike), not a time zone: "
        f"write {zone}"
    )


@pytest.mark.parametrize("written", AMBIGUOUS)
def test_a_name_that_tells_no_one_zone_is_left_for_staff_to_write(written: str) -> None:
    assert zone_of_short_name(written) == written
    problem = zone_problem(written)
    assert problem is not None and problem.endswith("write the zone of the place")
    assert "an hour apart in summer" in problem
    assert zone_cell_problem(written, "Zone") == problem  # the filter would not read it


@pytest.mark.parametrize(
    "written",
    [
        "(UTC-08:00) Eastern Time (US & Canada)",  # the offset is not Eastern's
        "Eastern Europe",
        "Pacific/Auckland Time",
        "Arizona",
        "Standard Time",
    ],
)
def test_other_text_is_left_as_written(written: str) -> None:
    assert zone_of_short_name(written) == written


def test_iana_names_stay_as_written() -> None:
    for zone in ("America/New_York", "UTC", "US/Eastern", "Europe/London"):
        assert zone_of_short_name(zone) == zone and zone_problem(zone) is None


def test_without_the_filter_the_reason_names_the_zone_and_the_filter() -> None:
    problem = zone_cell_problem("Eastern Standard Time", "Time Zone")
    assert problem == (
        "is Windows' name for the time of America/New_York (its winter and summer time alike), "
        "not a time zone: write America/New_York; or have the mapping read the column's names "
        "as their zones: {Time Zone|zone}"
    )


MAPPING = """
defaults: {date_format: "%m/%d/%Y", time_format: "%I:%M %p", time_zone: America/Chicago}
columns:
  Id: {required: true, unique: true}
event:
  external_id: "x-{Id}"
  calendar: Clinic
  title: Visit
  start: {date: "{Date}", time: "{Time}"}
  duration_minutes: "30"
  time_zone: "{Zone|zone}"
  participants:
    - name: "{Name}"
      phone: "{Phone}"
"""


def test_an_export_of_windows_zone_names_is_sent_at_each_place_s_hour_summer_and_winter(
    tmp_path: Path,
) -> None:
    rows = [
        ("1", "12/14/2026", "Eastern Standard Time"),
        ("2", "07/14/2027", "Eastern Standard Time"),
        ("3", "07/14/2027", "US Mountain Standard Time"),
        ("4", "07/14/2027", "GMT Standard Time"),
        ("5", "07/14/2027", "(UTC-06:00) Central Time (US & Canada)"),
        ("6", "07/14/2027", "Mountain Standard Time"),
    ]
    path = tmp_path / "export.csv"
    path.write_text(
        "Id,Date,Time,Zone,Name,Phone\n"
        + "".join(f'{i},{d},9:00 AM,"{z}",Ann Lee,5415550104\n' for i, d, z in rows),
        encoding="utf-8",
    )
    prepared = prepare(path, parse_mapping(yaml.safe_load(MAPPING)))
    payloads = prepared.events.payloads
    starts = {row: (p["start_time"], p["time_zone"]) for row, p in payloads.items()}
    assert starts == {
        2: ("2026-12-14T09:00:00-05:00", "America/New_York"),
        3: ("2027-07-14T09:00:00-04:00", "America/New_York"),  # summer time, as Windows means
        4: ("2027-07-14T09:00:00-07:00", "America/Phoenix"),
        5: ("2027-07-14T09:00:00+01:00", "Europe/London"),
        6: ("2027-07-14T09:00:00-05:00", "America/Chicago"),
    }
    [issue] = prepared.issues[7]  # Denver's or Arizona's: not guessed
    assert issue.column == "Zone" and "America/Phoenix" in issue.reason
