"""Events as Apptoto will show them: title, local time with its zone, participants.

Also the first rows of a sheet mapped with a mapping not yet saved (:func:`preview_sheet`), for
the column-matching step.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

import pandas as pd
import phonenumbers

from importer.appointments import cancelled_rows
from importer.mapping import Mapping
from importer.outcomes import RowIssue
from importer.prepare import validate_and_map
from importer.values import is_zone

FIRST_PROBLEMS = 5  # problems listed from the whole sheet under a preview


@dataclass(frozen=True)
class EventPreview:
    """One event of the review page, in words."""

    row: int  # spreadsheet row
    action: str  # "new", "update" or "unchanged"
    calendar: str
    title: str
    when: str  # e.g. "Mon Dec 14, 2026, 8:30 AM – 9:00 AM PST"
    zone: str  # the IANA zone name, e.g. "America/Los_Angeles"
    location: str
    participants: list[list[str]]  # e.g. ["Maria Gómez", "maria@example.com", "+1 541-555-0104"]
    sheet: str = ""  # the row's sheet when the review covers several sheets


def _clock(moment: datetime) -> str:
    return f"{moment.hour % 12 or 12}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"


def _day(moment: datetime) -> str:
    return f"{moment:%a %b} {moment.day}, {moment.year}"


def _zone(name: str) -> tzinfo | None:
    # The same list of zones the mapping and the validation check names against.
    return zoneinfo.ZoneInfo(name) if is_zone(name) else None


def describe_when(payload: dict[str, Any]) -> str:
    """The event's start and end in its own zone, e.g. ``Mon Dec 14, 2026, 8:30 AM – 9:00 AM PST``.

    Times are the payload's ISO 8601 texts with offsets, shown in ``time_zone`` (or at their own
    offset when the zone is unknown). An all-day event shows its date(s) only. Text that is not
    a time is shown as it is.
    """
    start_text = str(payload.get("start_time", ""))
    end_text = str(payload.get("end_time", ""))
    try:
        start = datetime.fromisoformat(start_text)
        end = datetime.fromisoformat(end_text) if end_text else None
    except ValueError:
        return f"{start_text} – {end_text}".strip(" –")
    zone = _zone(str(payload.get("time_zone") or ""))
    if zone is not None and start.tzinfo is not None:
        start = start.astimezone(zone)
        end = end.astimezone(zone) if end is not None and end.tzinfo is not None else end
    if payload.get("all_day"):
        if end is None or end.date() <= start.date():
            return f"{_day(start)} (all day)"
        return f"{_day(start)} – {_day(end)} (all day)"
    text = f"{_day(start)}, {_clock(start)}"
    if end is not None:
        text += " – " + (
            _clock(end) if end.date() == start.date() else f"{_day(end)}, {_clock(end)}"
        )
    abbreviation = start.tzname()
    return f"{text} {abbreviation}" if abbreviation else text


def _phone(text: str) -> str:
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return text
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def participant_parts(participant: dict[str, Any]) -> list[str]:
    """``[name, email, phone]`` with the blank parts left out, phone in international form."""
    name = str(participant.get("name") or "").strip()
    email = str(participant.get("email") or "").strip()
    phone = str(participant.get("phone") or "").strip()
    parts = [name, email, _phone(phone) if phone else ""]
    if participant.get("contact_external_id"):
        parts.append(f"contact {participant['contact_external_id']}")
    if participant.get("contact_id"):
        parts.append(f"contact #{participant['contact_id']}")
    return [p for p in parts if p] or ["(no details)"]


def describe_participant(participant: dict[str, Any]) -> str:
    """``name · email · phone`` with the blank parts left out, phone in international form."""
    return " · ".join(participant_parts(participant))


def preview_event(row: int, action: str, payload: dict[str, Any]) -> EventPreview:
    """The review page's view of one payload."""
    calendar = payload.get("calendar", payload.get("calendar_id", ""))
    return EventPreview(
        row=row,
        action=action,
        calendar="" if calendar is None else str(calendar),
        title=str(payload.get("title") or ""),
        when=describe_when(payload),
        zone=str(payload.get("time_zone") or ""),
        location=str(payload.get("location") or ""),
        participants=[participant_parts(p) for p in payload.get("participants") or []],
    )


@dataclass(frozen=True)
class RowPreview:
    """One of the first rows of a sheet: its event, or why it cannot be sent."""

    row: int
    event: EventPreview | None
    problems: list[str]  # plain words, each naming the column
    called_off: str = ""  # why the row is no appointment to send (its status column), else ""


@dataclass(frozen=True)
class SheetPreview:
    """The first rows of a sheet as events, and how many of all its rows could be sent."""

    total: int
    sendable: int
    rows: list[RowPreview]
    first_problems: list[str]  # the first problems anywhere in the sheet, "row N, ..." each
    called_off: int = 0  # rows marked as not going ahead (the mapping's ``cancelled``)


def issue_words(issue: RowIssue) -> str:
    """``Phone “555-012” is not a valid phone number`` (the column, the cell, the reason)."""
    shown = f"“{issue.value}” {issue.reason}" if issue.value != "" else issue.reason
    return f"{issue.column} {shown}" if issue.column else shown


def preview_sheet(frame: pd.DataFrame, mapping: Mapping, rows: int) -> SheetPreview:
    """Check and map every row of ``frame`` with ``mapping``; show the first ``rows`` of them.

    ``frame`` holds text cells indexed by spreadsheet row; the mapping must fit its columns.
    Nothing is planned or sent: an event shown here may be new or an update. Rows the mapping's
    ``cancelled`` marks are shown as such, and neither mapped nor counted as sendable.
    """
    called_off = cancelled_rows(frame, mapping.cancelled)
    built, issues = validate_and_map(frame.drop(index=list(called_off)), mapping)
    shown = []
    for row in [int(r) for r in frame.index[:rows]]:
        payload = built.payloads.get(row)
        if row in called_off:
            shown.append(RowPreview(row, None, [], called_off[row]))
        elif row in issues or payload is None:
            words = [issue_words(i) for i in issues.get(row, [])] or ["cannot be mapped"]
            shown.append(RowPreview(row, None, words))
        else:
            shown.append(RowPreview(row, preview_event(row, "preview", payload), []))
    first = [str(i) for row in sorted(issues)[:FIRST_PROBLEMS] for i in issues[row][:1]]
    return SheetPreview(
        total=len(frame),
        sendable=len(frame) - len(issues) - len(called_off),
        rows=shown,
        first_problems=first,
        called_off=len(called_off),
    )
