"""Pairing the events of a ``PUT /events`` answer with the events sent, without a request each.

Apptoto's answer lists the stored events; the docs say to pair them by ``external_id``. If the
answer leaves ``external_id`` out, events are paired by Apptoto's ``id`` (updates carry it), then
by what they hold: calendar, start (as an instant), title and participants. Only the events
this leaves ambiguous need a lookup; :func:`pair_events` says which.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from importer.client.answers import apptoto_id_of


def pair_events(
    sent: Sequence[Mapping[str, Any]], answered: Sequence[dict[str, Any]]
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """external_id -> the answered event that is it; and the answered events left unpaired.

    An answered event is used at most once; a sent event with two or more candidates, or a
    candidate shared with another sent event, stays unpaired (a lookup decides).
    """
    paired: dict[str, dict[str, Any]] = {}
    left = list(answered)
    for event in sent:  # 1. by external_id, as documented
        external_id = str(event["external_id"])
        found = _take(left, lambda a, x=external_id: _text(a.get("external_id")) == x)
        if found is not None:
            paired[external_id] = found
    for event in sent:  # 2. by Apptoto's id, which updates carry
        wanted = apptoto_id_of(event)
        if str(event["external_id"]) in paired or wanted is None:
            continue
        found = _take(
            left, lambda a, w=wanted: a.get("external_id") is None and apptoto_id_of(a) == w
        )
        if found is not None:
            paired[str(event["external_id"])] = found
    unpaired = [event for event in sent if str(event["external_id"]) not in paired]
    anonymous = [a for a in left if a.get("external_id") is None]
    candidates = {
        str(event["external_id"]): [a for a in anonymous if _same_content(event, a)]
        for event in unpaired
    }
    for external_id, fitting in candidates.items():  # 3. by content, when it is unambiguous
        if len(fitting) != 1:
            continue
        rivals = [x for x, other in candidates.items() if x != external_id and fitting[0] in other]
        if not rivals:
            paired[external_id] = fitting[0]
            left.remove(fitting[0])
    return paired, left


def _take(events: list[dict[str, Any]], matches: Any) -> dict[str, Any] | None:
    for event in events:
        if matches(event):
            events.remove(event)
            return event
    return None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _same_content(sent: Mapping[str, Any], answered: Mapping[str, Any]) -> bool:
    """Calendar, start, title and participants agree (fields the answer leaves out are skipped)."""
    if "calendar_id" in sent and answered.get("calendar_id") not in (None, sent["calendar_id"]):
        return False
    if "calendar" in sent and answered.get("calendar_name") not in (None, sent["calendar"]):
        return False
    if "title" in sent and answered.get("title") not in (None, sent["title"]):
        return False
    if not same_start(sent.get("start_time"), answered.get("start_time")):
        return False
    if "participants" in sent and "participants" in answered:
        return _people(sent["participants"]) == _people(answered["participants"])
    return True


def same_start(sent: Any, answered: Any) -> bool:
    """Two ISO 8601 times name the same moment; a time without offset is the sent local time.

    A date alone (an all-day event) matches the sent time's date. Missing values match.
    """
    if not isinstance(sent, str) or not isinstance(answered, str) or not sent or not answered:
        return True
    try:
        sent_at = datetime.fromisoformat(sent)
        answered_at = datetime.fromisoformat(answered.replace("Z", "+00:00"))
    except ValueError:
        return False
    if len(answered.strip()) == 10:  # YYYY-MM-DD
        return sent_at.date() == answered_at.date()
    if answered_at.tzinfo is None or sent_at.tzinfo is None:
        return sent_at.replace(tzinfo=None) == answered_at.replace(tzinfo=None)
    return sent_at == answered_at


def _people(participants: Any) -> list[tuple[str, str]]:
    if not isinstance(participants, list):
        return []
    return sorted(
        (str(p.get("name") or "").strip().lower(), str(p.get("email") or "").strip().lower())
        for p in participants
        if isinstance(p, Mapping)
    )
