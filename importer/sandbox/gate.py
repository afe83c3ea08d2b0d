"""The ASGI layer in front of ``/v1``: credentials, limits, injected faults and the request log.

It sits outside FastAPI so it can do what a route cannot: answer before the body is read, hold a
stored answer back, or drop the connection after the batch was committed. Dropping sends the
response head with a Content-Length and then stops, so the client sees a broken answer (httpx
raises ``RemoteProtocolError``) while the events stay stored.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import email.utils
import json
import logging
import math
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from importer.sandbox.faults import Fault, FaultPlan, Refusal
from importer.sandbox.request_log import LoggedRequest
from importer.sandbox.store import EventStore

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

API_PREFIX = "/v1"
_GATEWAY_PAGE = "<html><head><title>{code} {reason}</title></head><body><center><h1>{code} {reason}</h1></center><hr><center>nginx</center></body></html>\n"  # noqa: E501
_REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Time-out",
}  # noqa: E501
# What uvicorn logs when an answer is cut short on purpose (a dropped connection).
DROP_LOG_MESSAGE = "ASGI callable returned without completing response."


class DroppedAnswerFilter(logging.Filter):
    """Hide uvicorn's error line for answers the sandbox drops on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != DROP_LOG_MESSAGE


def quiet_dropped_answers() -> None:
    """Install :class:`DroppedAnswerFilter` on uvicorn's error logger (once)."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, DroppedAnswerFilter) for f in logger.filters):
        logger.addFilter(DroppedAnswerFilter())


class _Answer:
    """A response held back by the gate until it decides how to deliver it."""

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    @classmethod
    def json(cls, status: int, payload: object, headers: dict[str, str] | None = None) -> _Answer:
        return cls.text(status, json.dumps(payload), "application/json", headers)

    @classmethod
    def text(
        cls, status: int, body: str, media_type: str, headers: dict[str, str] | None = None
    ) -> _Answer:
        encoded = [(b"content-type", media_type.encode())]
        encoded += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        return cls(status, encoded, body.encode())

    @classmethod
    def error(cls, status: int, message: str) -> _Answer:
        if status in (502, 503, 504):  # a gateway in front of Apptoto answers these in HTML
            page = _GATEWAY_PAGE.format(code=status, reason=_REASONS[status])
            return cls.text(status, page, "text/html")
        return cls.json(status, {"error": message})

    async def send(self, send: Send, *, drop: bool = False) -> None:
        headers = [(k, v) for k, v in self.headers if k != b"content-length"]
        headers.append((b"content-length", str(max(1, len(self.body))).encode()))
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        if not drop:
            await send({"type": "http.response.body", "body": self.body, "more_body": False})


def _retry_after(seconds: int, form: str) -> dict[str, str]:
    if form == "none":
        return {}
    if form == "http-date":
        when = math.ceil(time.time()) + seconds
        return {"Retry-After": email.utils.formatdate(when, usegmt=True)}
    return {"Retry-After": str(seconds)}


def _credentials(scope: Scope) -> tuple[str, str] | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization" and value[:6].lower() == b"basic ":
            try:
                decoded = base64.b64decode(value[6:].strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return None
            user, _, key = decoded.partition(":")
            return user, key
    return None


def _what_was_sent(method: str, body: bytes, query: dict[str, list[str]]) -> tuple[int, list[str]]:
    """Number of events in the body and the external_ids named by the request."""
    external_ids = list(query.get("external_id", []))
    if method in ("PUT", "POST") and body:
        try:
            events = json.loads(body).get("events")
        except (ValueError, AttributeError):
            return 0, external_ids
        if isinstance(events, list):
            for event in events:
                if isinstance(event, dict) and isinstance(event.get("external_id"), str):
                    external_ids.append(event["external_id"])
            return len(events), external_ids
    return 0, external_ids


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


class SandboxGate:
    """ASGI middleware: everything under /v1 passes here; /_sandbox goes straight through."""

    def __init__(
        self, app: ASGIApp, *, store: EventStore, plan: FaultPlan, stopping: threading.Event
    ) -> None:
        self.app = app
        self.store = store
        self.plan = plan
        self.stopping = stopping  # once set, injected waits end at once (fast shutdown)

    async def _pause(self, seconds: float) -> None:
        """Wait ``seconds``, cut short when the server is stopping."""
        deadline = time.monotonic() + seconds
        while not self.stopping.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            await asyncio.sleep(min(left, 0.05))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == API_PREFIX or path.startswith(API_PREFIX + "/")):
            await self.app(scope, receive, send)
            return
        arrived = datetime.now(UTC).isoformat(timespec="milliseconds")
        body = await _read_body(receive)
        method = scope["method"]
        raw_query = scope.get("query_string", b"").decode("latin-1")
        event_count, external_ids = _what_was_sent(method, body, parse_qs(raw_query))

        answer, fault, drop, delay = await self._answer(scope, body, event_count)
        self._add_quota_headers(answer)
        self.store.log_request(
            LoggedRequest(
                at=arrived,
                method=method,
                path=path,
                query=raw_query,
                status=None if drop else answer.status,
                fault=fault,
                event_count=event_count,
                external_ids=external_ids,
            )
        )
        if delay:
            await self._pause(delay)
        await answer.send(send, drop=drop)

    def _add_quota_headers(self, answer: _Answer) -> None:
        """The rate limit as the IETF draft's RateLimit-* headers, when the settings ask for it."""
        quota = self.plan.quota() if self.plan.settings.rate_limit_headers else None
        if quota is None:
            return
        limit, left, reset = quota
        window = self.plan.settings.rate_limit_window_seconds
        for name, value in (
            ("ratelimit-limit", str(limit)),
            ("ratelimit-remaining", str(left)),
            ("ratelimit-reset", str(reset)),
            ("ratelimit-policy", f"{limit};w={window:g}"),
        ):
            answer.headers.append((name.encode(), value.encode()))

    async def _answer(
        self, scope: Scope, body: bytes, event_count: int
    ) -> tuple[_Answer, Fault | None, bool, float]:
        """What to answer, which fault (if any), whether to drop it, how long to hold it back."""
        outage = self.plan.outage()
        if outage is not None:
            return _Answer.error(503, "service unavailable"), Fault.OUTAGE, outage.status == 0, 0.0
        settings = self.plan.settings
        given = _credentials(scope)
        if given is None or not (
            secrets.compare_digest(given[0].encode(), settings.user.encode())
            and secrets.compare_digest(given[1].encode(), settings.api_key.encode())
        ):
            headers = {"WWW-Authenticate": 'Basic realm="Apptoto"'}
            return _Answer.json(401, {"error": "invalid credentials"}, headers), None, False, 0.0
        refusal: Refusal | None = self.plan.admit()
        if refusal is not None:
            seconds = refusal.retry_after_seconds or 1
            headers = _retry_after(seconds, settings.retry_after_form)
            message = {"error": "rate limit exceeded, slow down"}
            return _Answer.json(429, message, headers), refusal.fault, False, 0.0
        draws = self.plan.draw()
        if draws.latency_seconds > 0:
            await self._pause(draws.latency_seconds)
        if event_count > settings.max_events_per_request:
            return _Answer.error(502, "bad gateway"), Fault.TOO_MANY_EVENTS, False, 0.0
        if draws.error_code is not None:
            return _Answer.error(draws.error_code, "sandbox fault"), Fault.ERROR, False, 0.0

        answer = await self._call_app(scope, body)
        if not 200 <= answer.status < 300 or draws.after_commit is None:
            return answer, None, False, 0.0
        if draws.after_commit is Fault.COMMIT_THEN_ERROR:
            late = _Answer.error(draws.after_commit_code, "sandbox fault after commit")
            return late, Fault.COMMIT_THEN_ERROR, False, 0.0
        if draws.after_commit is Fault.COMMIT_THEN_DROP:
            return answer, Fault.COMMIT_THEN_DROP, True, 0.0
        if draws.after_commit is Fault.MALFORMED:
            # A whole HTTP answer (status, headers, length) whose JSON stops half-way: what a
            # proxy that truncates bodies, or a server that crashes while writing, delivers.
            cut = _Answer(answer.status, answer.headers, answer.body[: len(answer.body) // 2])
            return cut, Fault.MALFORMED, False, 0.0
        return answer, Fault.SLOW, False, settings.slow_seconds

    async def _call_app(self, scope: Scope, body: bytes) -> _Answer:
        """Run the FastAPI app on the buffered body and hold its answer."""
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return {"type": "http.disconnect"}

        held = _Answer(500, [], b"")

        async def hold(message: Message) -> None:
            if message["type"] == "http.response.start":
                held.status = message["status"]
                held.headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                held.body += message.get("body", b"")

        await self.app(scope, replay, hold)
        return held
