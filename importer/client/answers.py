"""Reading Apptoto's answers: per-event results, stored events, and refusals in plain words."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from importer.client.redact import redact

# A server's explanation is for a person reading a report cell: one line, not a whole HTML page.
MAX_MESSAGE_CHARS = 300
_HTML_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class EventResult:
    """What happened to one event sent (or deleted): one per input event, in input order."""

    external_id: str  # the caller's id, as sent
    ok: bool  # Apptoto confirmed it (stored, found by lookup, or deleted)
    apptoto_id: int | None = None  # Apptoto's id when known
    stored: dict[str, Any] | None = None  # the event as Apptoto returned it
    message: str = ""  # plain words: why it failed, or how it was confirmed


def status_text(response: httpx.Response) -> str:
    """``"503 Service Unavailable"``: the status code and its reason phrase."""
    phrase = response.reason_phrase or ""
    return f"{response.status_code} {phrase}".strip()


def body_json(response: httpx.Response) -> Any:
    """The response body parsed as JSON, or None when it is empty or not JSON."""
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        return None


def events_in_answer(body: Any) -> list[dict[str, Any]] | None:
    """The event objects of a ``{"events": [...]}`` answer; None when the shape is different."""
    if not isinstance(body, Mapping):
        return None
    events = body.get("events")
    if not isinstance(events, list):
        return None
    return [dict(event) for event in events if isinstance(event, Mapping)]


def apptoto_id_of(event: Mapping[str, Any]) -> int | None:
    """The event's ``id`` as an int (also from a string of digits); None when absent or odd."""
    value = event.get("id")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def server_explanation(response: httpx.Response) -> str:
    """The server's reason for refusing a request, shortened to one line.

    Looks for ``message``, ``error`` or ``errors`` in a JSON body (strings, lists or objects),
    else uses the body text with HTML tags removed; empty when the server said nothing.
    """
    body = body_json(response)
    text = ""
    if isinstance(body, Mapping):
        for key in ("message", "error", "errors"):
            if body.get(key) not in (None, "", [], {}):
                text = _flatten(body[key])
                break
        else:
            text = json.dumps(body, ensure_ascii=False) if body else ""
    elif isinstance(body, list | str):
        text = _flatten(body)
    else:
        try:
            text = _HTML_TAG.sub(" ", response.text)
        except (UnicodeDecodeError, LookupError):
            text = ""
    return shorten(text)


def shorten(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` on one line, cut at ``limit`` characters with an ellipsis."""
    line = _SPACES.sub(" ", text).strip()
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def _flatten(value: Any) -> str:
    """Error values as one string: lists joined by "; ", objects as "key: value"."""
    if isinstance(value, Mapping):
        return "; ".join(f"{key}: {_flatten(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return "; ".join(_flatten(item) for item in value)
    return str(value)


def single_event(body: Any, external_id: str | None) -> dict[str, Any] | None:
    """The one event in an answer: a bare event object, or the matching one of ``{"events"}``.

    An event that names another external_id is not it; one that names none is, when it is alone.
    """
    listed = events_in_answer(body)
    if listed is None:
        is_event = isinstance(body, Mapping) and ("id" in body or "external_id" in body)
        listed = [dict(body)] if is_event else []
    for event in listed:
        answered = event.get("external_id")
        if external_id is None or (answered is not None and str(answered) == external_id):
            return event
    if len(listed) == 1 and listed[0].get("external_id") is None:
        return listed[0]
    return None


def refusal_text(reason: str, response: httpx.Response, secrets: Sequence[str]) -> str:
    """``reason (403 Forbidden): the server's explanation``, secrets masked."""
    explanation = redact(server_explanation(response), secrets)
    return f"{reason} ({status_text(response)})" + (f": {explanation}" if explanation else "")
