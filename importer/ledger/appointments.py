"""Keys that recognise one appointment whatever its ``external_id``: calendar, start, participant.

The same-appointment guard (:mod:`importer.plan`) holds back a new event when the ledger already
has a live event in the same calendar, at the same instant, for the same person: the same visit
reaching Apptoto twice (from a second mapping, another file, ids that changed) means two
reminders. One key per contact detail of each participant (phone, email, name, Apptoto contact),
so a phone written in one file and an email in the other still meet when they share one detail.
Each key carries who its participant is (digests of name, phone and email, blank where missing):
two keys match unless the names differ (two children booked at one time with their mother's
phone), or the phones differ and the emails do not match, or the other way round (two patients of
one name).

A key is a short digest, not the text: the ledger table of keys holds no names or phone numbers
beyond what the payloads table already holds.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

KEY_CHARS = 32  # hex digits of SHA-256 kept: 128 bits, no accidental collisions
CONTACT_FIELDS = ("phone", "email", "name", "contact_id", "contact_external_id")
PERSON_FIELDS = ("name", "phone", "email")  # what says who a participant is, in this order
PERSON_CHARS = 16  # hex digits per detail of a person: 64 bits
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


def _person(details: Mapping[str, str]) -> str:
    """``name|phone|email`` digests (16 hex digits each, "" where missing), for same_person."""
    return "|".join(
        _digest(details[f])[:PERSON_CHARS] if details.get(f) else "" for f in PERSON_FIELDS
    )


def appointment_keys(payload: Mapping[str, Any]) -> frozenset[tuple[str, str]]:
    """The keys of an event payload: (key, person) per contact detail of each participant.

    ``key`` digests the calendar, the start instant and one contact detail; ``person`` says who
    the participant is (see :func:`same_person`). Calendars are compared by name (case and
    spacing aside) or by id, names with names; contact details by kind, case and spacing aside
    (phones by their digits). Empty when the payload has no calendar, start or participant: such
    an event cannot be recognised this way.
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
        details = {
            field: _normal(field, value)
            for field in CONTACT_FIELDS
            if (value := participant.get(field)) is not None
        }
        person = _person(details)
        for field, detail in details.items():
            if detail:
                keys.add((_digest(f"{prefix}{field}:{detail}"), person))
    return frozenset(keys)


def person_details(person: str) -> list[str]:
    """The name, phone and email digests of a ``person`` (each "" where missing)."""
    parts = [part[:PERSON_CHARS] for part in person.split("|")]
    return (parts + [""] * len(PERSON_FIELDS))[: len(PERSON_FIELDS)]


def same_person(person: str, other: str) -> bool:
    """Whether two participants sharing a key may be one person.

    Not when both have names and the names differ, nor when both have phones that differ and
    their emails do not match (or the other way round): a second reminder then goes to another
    number or address, while holding back another patient's event would leave that patient
    without any. (A ``person`` of a name digest alone, as first written by schema 2, reads as a
    name.)
    """
    pairs = list(zip(person_details(person), person_details(other), strict=True))
    differ = [bool(a) and bool(b) and a != b for a, b in pairs]
    match = [bool(a) and a == b for a, b in pairs]
    (name_differs, phone_differs, email_differs) = differ
    phone_matches, email_matches = match[1], match[2]
    return not (
        name_differs
        or (phone_differs and not email_matches)
        or (email_differs and not phone_matches)
    )


def names_of(people: Iterable[str]) -> frozenset[str]:
    """The name digests of participants (``person`` of :func:`appointment_keys`), blank ones
    left out."""
    return frozenset(name for person in people if (name := person_details(person)[0]))


def payload_names(payload: Mapping[str, Any]) -> frozenset[str]:
    """The name digests of an event payload's participants."""
    return names_of(person for _, person in appointment_keys(payload))
