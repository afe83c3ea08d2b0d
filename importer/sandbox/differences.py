"""How a real account might answer differently from the sandbox's reading of the docs.

Each difference is a setting of :class:`~importer.sandbox.settings.SandboxSettings`, off by
default; the routes of :mod:`importer.sandbox.app` ask here how to shape an answer. They exist so
that tests and ``apptoto-import doctor`` can show the importer staying truthful when Apptoto's
answers are not the documented ones (``../shared/apptoto-api.md``, "Not confirmed").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi.responses import HTMLResponse, JSONResponse, Response

from importer.sandbox.settings import SandboxSettings

# What a web framework's router answers for a path or method it does not serve.
_ROUTER_PAGE = (
    "<!DOCTYPE html><html><head><title>{title}</title></head>"
    "<body><h1>{title}</h1><p>The page you were looking for doesn't exist.</p></body></html>"
)
_TITLES = {404: "404 Not Found", 405: "405 Method Not Allowed"}


def router_page(status: int) -> Response:
    """A 404 or 405 as an HTML page, the way a route that does not exist is answered."""
    return HTMLResponse(_ROUTER_PAGE.format(title=_TITLES[status]), status_code=status)


def refused_calendar(events: Any, settings: SandboxSettings) -> str | None:
    """The first forbidden calendar a PUT/POST body names, or None."""
    if not settings.forbidden_calendars or not isinstance(events, dict):
        return None
    for event in events.get("events") or []:
        if isinstance(event, dict) and event.get("calendar") in settings.forbidden_calendars:
            return str(event["calendar"])
    return None


def forbidden(calendar: str) -> JSONResponse:
    """Apptoto's refusal of one calendar to this user: a 403 that is not about the credentials."""
    return JSONResponse(
        {"error": f"You do not have access to calendar {calendar!r}"}, status_code=403
    )


def as_answered(
    event: dict[str, Any], settings: SandboxSettings, *, put_answer: bool = False
) -> dict[str, Any]:
    """``event`` as this account shows it in an answer (its times, its external_id or not)."""
    shown = dict(event)
    if put_answer and not settings.put_echoes_external_id:
        shown.pop("external_id", None)
    for field in ("start_time", "end_time"):
        value = shown.get(field)
        if isinstance(value, str) and value:
            shown[field] = _time_as_answered(value, settings, all_day=bool(shown.get("all_day")))
    return shown


def _time_as_answered(value: str, settings: SandboxSettings, *, all_day: bool) -> str:
    moment = datetime.fromisoformat(value)
    if all_day and settings.all_day_as_dates:
        return moment.date().isoformat()
    if settings.time_echo == "naive":
        return moment.replace(tzinfo=None).isoformat()  # the local wall time, offset dropped
    if settings.time_echo == "utc":
        offset = moment.utcoffset()
        utc = moment.replace(tzinfo=None) - offset if offset is not None else moment
        return utc.isoformat() + "Z"
    return value
