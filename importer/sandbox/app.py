"""The sandbox as a FastAPI app: the Apptoto endpoints under /v1 and the controls under /_sandbox.

Routes here only read requests and shape answers; what is stored lives in
:class:`~importer.sandbox.store.EventStore`, limits and faults in
:class:`~importer.sandbox.faults.FaultPlan`, credentials and fault delivery in
:class:`~importer.sandbox.gate.SandboxGate`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from importer.errors import ConfigError
from importer.sandbox.differences import as_answered, forbidden, refused_calendar, router_page
from importer.sandbox.faults import FaultPlan
from importer.sandbox.gate import SandboxGate
from importer.sandbox.request_body import (
    EventNotFound,
    EventRefused,
    is_time_with_offset,
    read_events,
    utc_text,
)
from importer.sandbox.settings import SandboxSettings, settings_as_json, settings_with
from importer.sandbox.store import EventStore
from importer.serving import is_loopback

DEFAULT_PAGE_SIZE = 30
MAX_PAGE_SIZE = 1000


class Sandbox:
    """One sandbox: its store, its current settings and fault plan."""

    def __init__(self, settings: SandboxSettings, db_path: str | None = None) -> None:
        self.startup_settings = settings
        self.store = EventStore(db_path)
        self.plan = FaultPlan(settings)
        self.stopping = threading.Event()  # set when the server stops: injected waits end

    @property
    def settings(self) -> SandboxSettings:
        """The settings in force now."""
        return self.plan.settings

    def configure(self, changes: dict[str, Any]) -> SandboxSettings:
        """Apply setting changes (JSON values); raise ConfigError naming a bad field."""
        updated = settings_with(self.settings, changes)
        self.plan.update(updated, changes.keys())
        return updated

    def reset(self, *, startup_settings: bool = False) -> None:
        """Forget events, calendars and the request log; restart limits and faults."""
        self.store.reset()
        if startup_settings:
            self.plan.update(self.startup_settings, ())
        self.plan.restart()


def _refused(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _json_body(request: Request) -> object:
    try:
        return json.loads(await request.body() or b"null")
    except ValueError as exc:
        raise EventRefused(f"the body is not valid JSON: {exc}") from exc


def _int_param(request: Request, name: str, default: int | None = None) -> int | None:
    text = request.query_params.get(name)
    if text is None or text == "":
        return default
    try:
        return int(text)
    except ValueError as exc:
        raise EventRefused(f"query parameter {name}={text!r} is not a whole number") from exc


def _time_param(request: Request, name: str) -> str | None:
    """A begin/end bound as UTC text: ISO 8601 with offset, or a date (midnight UTC)."""
    text = request.query_params.get(name)
    if not text:
        return None
    if is_time_with_offset(text):
        return utc_text(text)
    try:
        day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError as exc:
        raise EventRefused(
            f"query parameter {name}={text!r} is not a date or an ISO 8601 time with offset"
        ) from exc
    return utc_text(day.isoformat())


def _which_event(request: Request) -> tuple[int | None, str | None]:
    event_id = _int_param(request, "id")
    external_id = request.query_params.get("external_id") or None
    if event_id is None and external_id is None:
        raise EventRefused("give id= or external_id=")
    return event_id, external_id


def _add_api_routes(app: FastAPI, sandbox: Sandbox) -> None:
    @app.exception_handler(EventRefused)
    async def refused(_request: Request, exc: EventRefused) -> JSONResponse:
        return _refused(404 if isinstance(exc, EventNotFound) else 400, str(exc))

    async def store(request: Request, *, create_only: bool) -> Response:
        settings = sandbox.settings
        body = await _json_body(request)
        calendar = refused_calendar(body, settings)
        if calendar is not None:
            return forbidden(calendar)
        if settings.refuse_every_event:
            return _refused(400, settings.refuse_every_event)
        changes = read_events(body, phone_region=settings.phone_region)
        stored = sandbox.store.store_events(
            changes,
            create_only=create_only,
            match_deleted=settings.deleted_external_id_matches,
            any_calendar=settings.external_id_across_calendars,
            unknown_id_404=settings.unknown_id_404,
        )
        return JSONResponse({"events": [as_answered(e, settings, put_answer=True) for e in stored]})

    @app.put("/v1/events")
    async def put_events(request: Request) -> Response:
        return await store(request, create_only=False)

    @app.post("/v1/events")
    async def post_events(request: Request) -> Response:
        return await store(request, create_only=True)

    @app.get("/v1/events")
    async def get_events(request: Request) -> JSONResponse:
        page = _int_param(request, "page", 1) or 1
        page_size = _int_param(request, "page_size", DEFAULT_PAGE_SIZE) or DEFAULT_PAGE_SIZE
        if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
            raise EventRefused(f"page must be >= 1 and page_size between 1 and {MAX_PAGE_SIZE}")
        include_deleted = request.query_params.get("include_deleted", "").lower()
        events = sandbox.store.list_events(
            begin_utc=_time_param(request, "begin"),
            end_utc=_time_param(request, "end"),
            include_deleted=include_deleted in ("true", "1", "yes"),
            external_id=request.query_params.get("external_id") or None,
            page=page,
            page_size=page_size,
        )
        return JSONResponse({"events": [as_answered(e, sandbox.settings) for e in events]})

    @app.get("/v1/event")
    async def get_event(request: Request) -> Response:
        if sandbox.settings.lookup_answer != "normal":
            return router_page(int(sandbox.settings.lookup_answer))
        event_id, external_id = _which_event(request)
        found = sandbox.store.find_event(event_id=event_id, external_id=external_id)
        if not found:
            return _refused(404, "no such event")
        return JSONResponse(as_answered(found, sandbox.settings))

    @app.delete("/v1/events")
    async def delete_event(request: Request) -> Response:
        answer = sandbox.settings.delete_answer
        if answer in ("404", "405"):
            return router_page(int(answer))
        event_id, external_id = _which_event(request)
        if answer == "ignored":
            return JSONResponse({})
        found = sandbox.store.delete_event(event_id=event_id, external_id=external_id)
        if answer == "silent":
            return JSONResponse({})
        if not found:
            return _refused(404, "no such event")
        return JSONResponse({"events": [as_answered(found, sandbox.settings)]})


def _add_control_routes(app: FastAPI, sandbox: Sandbox) -> None:
    @app.get("/_sandbox/stats")
    async def stats() -> JSONResponse:
        return JSONResponse(sandbox.store.stats())

    @app.get("/_sandbox/requests")
    async def requests() -> JSONResponse:
        return JSONResponse({"requests": sandbox.store.logged_requests()})

    @app.get("/_sandbox/events")
    async def all_events() -> JSONResponse:
        return JSONResponse({"events": sandbox.store.list_events(include_deleted=True)})

    @app.get("/_sandbox/config")
    async def get_config() -> JSONResponse:
        return JSONResponse(settings_as_json(sandbox.settings))

    @app.put("/_sandbox/config")
    async def put_config(request: Request) -> JSONResponse:
        try:
            changes = json.loads(await request.body() or b"{}")
            if not isinstance(changes, dict):
                raise ConfigError("the body must be a JSON object of setting names and values")
            updated = sandbox.configure(changes)
        except (ValueError, ConfigError) as exc:
            return _refused(400, str(exc))
        return JSONResponse(settings_as_json(updated))

    @app.post("/_sandbox/reset")
    async def reset(request: Request) -> JSONResponse:
        startup = request.query_params.get("settings", "keep") == "startup"
        sandbox.reset(startup_settings=startup)
        return JSONResponse({"reset": True, "settings": settings_as_json(sandbox.settings)})

    @app.post("/_sandbox/participants/{participant_id}/messaged")
    async def messaged(participant_id: int) -> JSONResponse:
        if not sandbox.store.mark_messaged(participant_id):
            return _refused(404, f"no participant {participant_id}")
        return JSONResponse({"participant_id": participant_id, "state": "messaged"})


CONTROL_PREFIX = "/_sandbox"
CONTROL_REFUSED = (
    "the sandbox's controls (reset, faults, every event and request) answer only on the "
    "computer it runs on"
)


def _from_this_computer(request: Request) -> bool:
    return is_loopback(request.client.host if request.client else "")


def create_app(settings: SandboxSettings, *, db_path: str | None = None) -> FastAPI:
    """The sandbox app; events live in SQLite at ``db_path`` (a file) or in memory (None).

    ``app.state.sandbox`` holds the :class:`Sandbox` (store, settings, faults).
    """
    sandbox = Sandbox(settings, db_path)
    app = FastAPI(
        title="Apptoto sandbox",
        docs_url="/_sandbox/docs",
        redoc_url=None,
        openapi_url="/_sandbox/openapi.json",
    )
    app.state.sandbox = sandbox
    _add_api_routes(app, sandbox)
    _add_control_routes(app, sandbox)

    @app.middleware("http")
    async def controls_from_this_computer(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if request.url.path.startswith(CONTROL_PREFIX) and not _from_this_computer(request):
            return _refused(403, CONTROL_REFUSED)
        return await call_next(request)

    app.add_middleware(
        SandboxGate, store=sandbox.store, plan=sandbox.plan, stopping=sandbox.stopping
    )
    return app
