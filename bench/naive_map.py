"""The mapping baseline: what a plain script does with a clinic CSV, row by row.

``csv.DictReader``, ``datetime.strptime`` per cell (the formats the clinic mapping accepts, tried in
turn), ``ZoneInfo`` per row, one dict per event. It checks nothing else (phones and emails go out
as written, repeated ids are not noticed), so it does less work than the importer's map stage.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "America/Los_Angeles"
DATE_FORMATS = ("%m/%d/%Y", "%Y-%m-%d")
TIME_FORMATS = ("%I:%M %p", "%I:%M%p", "%H:%M")


def _first_match(text: str, formats: tuple[str, ...]) -> dt.datetime:
    for fmt in formats:
        try:
            return dt.datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
    raise ValueError(f"{text!r} matches none of {formats}")


def _moment(day: dt.date, time_text: str, zone: ZoneInfo) -> str:
    clock = _first_match(time_text, TIME_FORMATS).time()
    return dt.datetime.combine(day, clock, tzinfo=zone).isoformat()


def map_rows(path: Path) -> tuple[list[dict[str, Any]], int]:
    """Events for the rows that parse, and how many rows did not."""
    events: list[dict[str, Any]] = []
    skipped = 0
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            try:
                zone_name = row["Time Zone"].strip() or DEFAULT_ZONE
                zone = ZoneInfo(zone_name)
                day = _first_match(row["Date"], DATE_FORMATS).date()
                start, end = _moment(day, row["Start"], zone), _moment(day, row["End"], zone)
            except (ValueError, ZoneInfoNotFoundError):
                skipped += 1
                continue
            notes = row["Notes"].strip()
            events.append(
                {
                    "external_id": f"clinic-{row['Appointment ID'].strip()}",
                    "calendar": row["Provider"].strip(),
                    "title": f"{row['Service'].strip()} with {row['Provider'].strip()}",
                    "start_time": start,
                    "end_time": end,
                    "time_zone": zone_name,
                    "all_day": False,
                    "location": row["Location"].strip(),
                    "content": f"{notes} #auto" if notes else "#auto",
                    "show_as": 2,
                    "custom_data": {"patient_dob": row["DOB"], "clinic_zip": row["ZIP"]},
                    "participants": [
                        {
                            "name": f"{row['First Name']} {row['Last Name']}".strip(),
                            "email": row["Email"],
                            "phone": row["Phone"],
                        }
                    ],
                }
            )
    return events, skipped
