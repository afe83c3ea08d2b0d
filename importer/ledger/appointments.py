"""Keys that recognise one appointment whatever its ``external_id``: calendar, start, participant.

The same-appointment guard (:mod:`importer.plan`) holds back a new event when the ledger already
has a live event in the same calendar, at the same instant, for the same person: the same visit
reaching Apptoto twice (from a second mapping, another file, ids that changed) means two
reminders. One key per contact detail of each participant (phone, email, name, Apptoto contact),
so a phone written in one file and an email in the other still meet when they share one detail.
Each key carries its participant's name (as a digest, blank without one): two keys match unless
both have a name and the names differ, so two children booked at one time with their mother's
phone stay two appointments.

A key is a short digest, not the text: the ledger table of keys holds no names or phone numbers
beyond what the payloads table already holds.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

KEY_CHARS = 32  # hex digits of SHA-256 kept: 128 bits, no accidental collisions
CONTACT_FIELDS = ("phone", "email", "name", "contact_id", "contact_external_id")
_NOT_DIGITS = re.compile(r"[^0-9+]")


@functools.lru_cache(maxsize=4096)
def _instant(start: str) -> str:
    """The start as a UTC instant: 09:00-08:00 and 17:00Z are the same moment."""
    try:
        moment = datetime.fromisoformat(start)
    except ValueError:
        return start.strip()
    if moment.tzinfo is None:
        return moment.isoformat()
    return moment.astimezone(UTC).isoformat()


def _normal(field: str, value: Any) -> str:
    """Case and runs of spaces aside; a phone number by its digits (and +)."""
    text = " ".join(str(value).split()).casefold()
    if field == "phone":
        return _NOT_DIGITS.sub("", text)
    return text


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:KEY_CHARS]


def appointment_keys(payload: Mapping[str, Any]) -> frozenset[tuple[str, str]]:
    """The keys of an event payload: (key, person) per contact detail of each participant.

    ``key`` digests the calendar, the start instant and one contact detail; ``person`` digests
    the participant's name ("" when it has none). Calendars are compared by name (case and
    spacing aside) or by id, names with names; contact details by kind, case and spacing aside
    (phones by their digits). Empty when the payload has no calendar, start or participant: such
    an event cannot be recognised this way. See :func:`same_person`.
    """
    if payload.get("calendar") not in (None, ""):
        calendar = "name:" + _normal("calendar", payload["calendar"])
    elif payload.get("calendar_id") not in (None, ""):
        calendar = "id:" + _normal("calendar_id", payload["calendar_id"])
    else:
        return frozenset()
    start = payload.get("start_time")
    if not isinstance(start, str) or not start.strip():
        return frozenset()
    prefix = f"{calendar}\x1f{_instant(start)}\x1f"
    keys = set()
    for participant in payload.get("participants") or ():
        if not isinstance(participant, Mapping):
            continue
        name = participant.get("name")
        person = _digest(_normal("name", name)) if name not in (None, "") else ""
        for field in CONTACT_FIELDS:
            value = participant.get(field)
            detail = "" if value is None else _normal(field, value)
            if detail:
                keys.add((_digest(f"{prefix}{field}:{detail}"), person))
    return frozenset(keys)


def same_person(person: str, other: str) -> bool:
    """Whether two keys' persons may be one: equal names, or a name missing on either side."""
    return not person or not other or person == other
