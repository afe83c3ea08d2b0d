"""The API key never shows: not in logs (ours, httpx's, httpcore's), errors, reprs or messages."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import random
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import httpx
import pytest

from importer.client import (
    ApptotoClient,
    ClientConfig,
    RedactSecrets,
    VirtualClock,
    redact,
    secret_forms,
)
from importer.errors import CredentialsRefused

USER = "office@clinic.example"
KEY = "Xq7-secret/key+value=="
BASIC = base64.b64encode(f"{USER}:{KEY}".encode()).decode()
FORBIDDEN = [KEY, BASIC, BASIC.rstrip("="), "Xq7-secret"]

Handler = Callable[[httpx.Request], Coroutine[Any, Any, httpx.Response]]


def assert_clean(text: str) -> None:
    for secret in FORBIDDEN:
        assert secret not in text


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    for name in ("", "httpx", "httpcore", "importer.client"):
        caplog.set_level(logging.DEBUG, logger=name or None)
    return caplog


def all_logged(caplog: pytest.LogCaptureFixture) -> str:
    parts = [caplog.text]
    for record in caplog.records:
        parts.append(record.getMessage())
        parts.append(repr(record.args))
    return "\n".join(parts)


def run(
    handler: Handler, action: Callable[[ApptotoClient], Awaitable[Any]], **settings: Any
) -> Any:
    clock = VirtualClock()

    async def main() -> Any:
        config = ClientConfig(user=USER, api_key=KEY, **settings)
        async with ApptotoClient(
            config, transport=httpx.MockTransport(handler), clock=clock, rng=random.Random(1)
        ) as client:
            assert_clean(repr(client))
            return await action(client)

    return clock.run(main())


def events(count: int) -> list[dict[str, Any]]:
    return [{"external_id": f"e{n}"} for n in range(count)]


async def echo(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=json.loads(request.content))


async def unavailable(request: httpx.Request) -> httpx.Response:
    return httpx.Response(503, text=f"upstream said: Authorization: Basic {BASIC}")


async def refuse_and_echo_the_key(request: httpx.Request) -> httpx.Response:
    echoed = request.headers["Authorization"]
    return httpx.Response(400, json={"message": f"bad request from {echoed} with key {KEY}"})


async def connection_error_naming_the_key(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError(f"cannot connect for {KEY}")


@pytest.mark.parametrize(
    "handler", [echo, unavailable, refuse_and_echo_the_key, connection_error_naming_the_key]
)
def test_no_secret_in_logs_or_results(
    handler: Handler, debug_logs: pytest.LogCaptureFixture
) -> None:
    results = run(handler, lambda c: c.send_events(events(2)), max_tries=2)
    assert len(results) == 2
    assert_clean(repr(results))
    assert_clean(all_logged(debug_logs))
    assert any(r.name == "importer.client" for r in debug_logs.records)  # the logs were captured


def test_the_failure_messages_are_still_useful_after_redaction() -> None:
    results = run(refuse_and_echo_the_key, lambda c: c.send_events(events(1)))
    assert results[0].message == (
        "Apptoto refused the event (400 Bad Request): bad request from Basic *** with key ***"
    )
    results = run(connection_error_naming_the_key, lambda c: c.send_events(events(1)), max_tries=1)
    assert results[0].message == (
        "Apptoto did not answer after 1 try (last: could not connect (cannot connect for ***))"
    )


@pytest.mark.parametrize("status", [401, 403])
def test_no_secret_in_the_credentials_error(
    status: int, debug_logs: pytest.LogCaptureFixture
) -> None:
    async def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, text=f"bad key {KEY}")

    with pytest.raises(CredentialsRefused) as caught:
        run(refuse, lambda c: c.send_events(events(3)))
    assert_clean(str(caught.value))
    assert_clean(repr(caught.value))
    assert_clean(all_logged(debug_logs))


class LoopbackApptoto:
    """A tiny HTTP/1.1 server on 127.0.0.1, so httpx and httpcore log as they do for real."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.authorizations: list[str] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        headers = dict(line.split(": ", 1) for line in head.split("\r\n")[1:] if ": " in line)
        body = await reader.readexactly(int(headers.get("Content-Length", "0")))
        self.authorizations.append(headers.get("Authorization", ""))
        answer = body if self.status == 200 else b"{}"
        writer.write(
            f"HTTP/1.1 {self.status} X\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(answer)}\r\nConnection: close\r\n\r\n".encode()
            + answer
        )
        await writer.drain()
        writer.close()


@pytest.mark.parametrize("status", [200, 401])
def test_no_secret_in_httpx_and_httpcore_debug_logs_over_a_real_socket(
    status: int, debug_logs: pytest.LogCaptureFixture
) -> None:
    server = LoopbackApptoto(status)

    async def main() -> Any:
        listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        config = ClientConfig(user=USER, api_key=KEY, base_url=f"http://127.0.0.1:{port}/v1")
        try:
            async with ApptotoClient(config) as client:
                return await client.send_events(events(1))
        except CredentialsRefused as exc:
            return exc
        finally:
            listener.close()
            await listener.wait_closed()

    outcome = asyncio.run(main())
    assert server.authorizations == [f"Basic {BASIC}"]  # the key was sent, to the server only
    assert_clean(str(outcome))
    logged = all_logged(debug_logs)
    assert "httpcore" in {r.name.split(".")[0] for r in debug_logs.records}
    assert_clean(logged)


def test_secret_forms_cover_the_key_and_the_basic_header() -> None:
    forms = secret_forms(KEY, USER)
    assert KEY in forms and BASIC in forms and BASIC.rstrip("=") in forms
    assert "Xq7-secret%2Fkey%2Bvalue%3D%3D" in forms
    assert secret_forms("", USER) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"key={KEY}", "key=***"),
        (f"Authorization: Basic {BASIC}", "Authorization: Basic ***"),
        ("nothing secret", "nothing secret"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text, secret_forms(KEY, USER)) == expected


def test_the_logging_filter_masks_messages_arguments_and_tracebacks() -> None:
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Collect()
    handler.addFilter(RedactSecrets([KEY], user=USER))
    logger = logging.getLogger("test_client_secrets.filter")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("sending with key %s", KEY)
        logger.warning("header %(auth)s", {"auth": f"Basic {BASIC}"})
        logger.warning(f"inline {KEY}")
        logger.warning("plain %d", 5)
        try:
            raise RuntimeError(f"failed with {KEY}")
        except RuntimeError:
            logger.exception("it broke")
    finally:
        logger.removeHandler(handler)
    assert records[:4] == [
        "sending with key ***",
        "header Basic ***",
        "inline ***",
        "plain 5",
    ]
    assert "RuntimeError: failed with ***" in records[4]
    assert_clean("\n".join(records))
