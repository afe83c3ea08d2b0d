"""Reading the events of a ``PUT``/``POST /v1/events`` body, as the real Apptoto is known to.

Checks that need no stored state happen here (types, time offsets, ``show_as``); the checks that
depend on whether the event already exists (required fields, calendar moves) happen in the store.
Every refusal names the event by its index in the request and its ``external_id``, and the field.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from importer.values import normalise_phone

# ISO 8601 combined date and time with a UTC offset (or Z), e.g. 2026-12-01T09:00:00-08:00.
_TIME_WITH_OFFSET = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})$"
)
# Plain fields of an event: an update changes only those sent (a patch).
TEXT_FIELDS = ("title", "time_zone", "location", "content")
TIME_FIELDS = ("start_time", "end_time")
REQUIRED_FOR_NEW = ("title", "start_time", "end_time")
SHOW_AS_VALUES = (0, 1, 2, 3, 4)


class EventRefused(Exception):
    """One event of the request is refused; the whole request is answered 400."""


class EventNotFound(EventRefused):
    """An event names an ``id`` the account does not have (``unknown_id_404``): answered 404."""


@dataclass(frozen=True)
class ParticipantIn:
    """One participant as sent, with its phone normalised to E.164 where possible."""

    name: str | None
    email: str | None
    phone: str | None
    normalized_phone: str | None
    contact_id: int | None
    contact_external_id: str | None

    def keys(self) -> set[tuple[str, str]]:
        """What identifies this person, to recognise them among the stored participants."""
        found = {
            ("contact_id", str(self.contact_id) if self.contact_id is not None else ""),
            ("contact_external_id", self.contact_external_id or ""),
            ("phone", self.normalized_phone or self.phone or ""),
            ("email", (self.email or "").strip().lower()),
        }
        return {key for key in found if key[1]}


@dataclass(frozen=True)
class EventChange:
    """One event of a request: what was sent, checked for types; ``sent`` says which fields."""

    index: int
    id: int | None
    external_id: str | None
    calendar: str | None
    calendar_id: int | None
    plain: dict[str, Any]  # plain fields sent (title, times, all_day, show_as, ...), patch-wise
    custom_data: dict[str, Any] | None  # None: not sent (kept); a dict replaces the stored one
    participants: tuple[ParticipantIn, ...] | None  # None: not sent; else replaces the list

    @property
    def label(self) -> str:
        """``event 2 (external_id "A-17")``: how refusals name this event."""
        shown = f'"{self.external_id}"' if self.external_id is not None else "none"
        return f"event {self.index} (external_id {shown})"


def utc_text(value: str) -> str:
    """The instant of an ISO 8601 time with offset, as sortable UTC text (``...Z``)."""
    moment = datetime.fromisoformat(value).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def is_time_with_offset(value: object) -> bool:
    """True for ISO 8601 text with a date, a time and a UTC offset, such as ``...T09:00-08:00``."""
    if not isinstance(value, str) or not _TIME_WITH_OFFSET.match(value):
        return False
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def read_events(body: object, *, phone_region: str) -> list[EventChange]:
    """The events of a request body ``{"events": [...]}``; raise EventRefused on the first fault."""
    if not isinstance(body, dict) or not isinstance(body.get("events"), list):
        raise EventRefused('the body must be a JSON object {"events": [...]}')
    return [read_event(i, event, phone_region) for i, event in enumerate(body["events"])]


def _external_id(index: int, event: dict[str, Any]) -> str | None:
    value = event.get("external_id")
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise EventRefused(f"event {index}: external_id must be non-empty text, not {value!r}")
    return value


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def read_event(index: int, event: object, phone_region: str) -> EventChange:
    """One event object, type-checked; plain fields keep only what was sent."""
    if not isinstance(event, dict):
        raise EventRefused(f"event {index}: must be a JSON object, not {type(event).__name__}")
    external_id = _external_id(index, event)
    label = EventChange(index, None, external_id, None, None, {}, None, None).label

    def refuse(field: str, problem: str) -> EventRefused:
        return EventRefused(f"{label}: {field} {problem}")

    event_id = event.get("id")
    if event_id is not None and not _is_int(event_id):
        raise refuse("id", f"must be an integer, not {event_id!r}")
    calendar = event.get("calendar")
    if calendar is not None and (not isinstance(calendar, str) or not calendar.strip()):
        raise refuse("calendar", f"must be a calendar name, not {calendar!r}")
    calendar_id = event.get("calendar_id")
    if calendar_id is not None and not _is_int(calendar_id):
        raise refuse("calendar_id", f"must be an integer, not {calendar_id!r}")

    plain: dict[str, Any] = {}
    for field in (*TEXT_FIELDS, *TIME_FIELDS):
        if field not in event:
            continue
        value = event[field]
        if field in REQUIRED_FOR_NEW and value is None:
            raise refuse(field, "must not be null")
        if value is not None and not isinstance(value, str):
            raise refuse(field, f"must be text, not {value!r}")
        if field in TIME_FIELDS and not is_time_with_offset(value):
            raise refuse(
                field,
                f"{value!r} is not an ISO 8601 time with a UTC offset "
                "(write it like 2026-12-01T09:00:00-08:00)",
            )
        plain[field] = value
    if "all_day" in event:
        if not isinstance(event["all_day"], bool):
            raise refuse("all_day", f"must be true or false, not {event['all_day']!r}")
        plain["all_day"] = event["all_day"]
    if "show_as" in event:
        show_as = event["show_as"]
        if show_as is not None and not (_is_int(show_as) and show_as in SHOW_AS_VALUES):
            raise refuse("show_as", f"must be null or one of 0, 1, 2, 3, 4, not {show_as!r}")
        plain["show_as"] = show_as

    custom_data = None
    if "custom_data" in event:
        custom_data = event["custom_data"] if event["custom_data"] is not None else {}
        if not isinstance(custom_data, dict):
            raise refuse("custom_data", f"must be a JSON object, not {custom_data!r}")
    participants = None
    if "participants" in event:
        if not isinstance(event["participants"], list):
            raise refuse("participants", f"must be a list, not {event['participants']!r}")
        participants = tuple(
            _read_participant(refuse, n, p, phone_region)
            for n, p in enumerate(event["participants"])
        )
    return EventChange(
        index, event_id, external_id, calendar, calendar_id, plain, custom_data, participants
    )


def _read_participant(
    refuse: Callable[[str, str], EventRefused], number: int, sent: object, phone_region: str
) -> ParticipantIn:
    field = f"participants[{number}]"
    if not isinstance(sent, dict):
        raise refuse(field, f"must be a JSON object, not {sent!r}")
    for key in ("name", "email", "phone", "contact_external_id"):
        if sent.get(key) is not None and not isinstance(sent[key], str):
            raise refuse(f"{field}.{key}", f"must be text, not {sent[key]!r}")
    contact_id = sent.get("contact_id")
    if contact_id is not None and not _is_int(contact_id):
        raise refuse(f"{field}.contact_id", f"must be an integer, not {contact_id!r}")
    identifying = ("name", "email", "phone", "contact_id", "contact_external_id")
    if not any(sent.get(k) for k in identifying):
        raise refuse(field, "needs name, email or phone, or contact_id, or contact_external_id")
    phone = sent.get("phone") or None
    normalized = None
    if phone:
        # Apptoto skips normalisation for full E.164 numbers; the region is ignored for those.
        normalized, _reason = normalise_phone(phone, phone_region)
        if normalized is None and phone.startswith("+"):
            normalized = phone
    return ParticipantIn(
        name=sent.get("name") or None,
        email=sent.get("email") or None,
        phone=phone,
        normalized_phone=normalized,
        contact_id=contact_id,
        contact_external_id=sent.get("contact_external_id") or None,
    )
