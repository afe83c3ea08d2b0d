"""The client against the sandbox on loopback: whole runs, checked on the server's side."""

from __future__ import annotations

import asyncio
import base64
import logging
from datetime import datetime
from typing import Any

import pytest

from importer.client import ApptotoClient, ClientConfig, EventResult
from importer.errors import CredentialsRefused
from importer.sandbox.server import SandboxHandle
from tests.helpers import fast_client_config


def make_events(n: int, prefix: str = "e") -> list[dict[str, Any]]:
    return [
        {
            "external_id": f"{prefix}-{i}",
            "calendar": "Dr. Rivera",
            "title": f"Visit {i}",
            "start_time": "2026-12-14T09:00:00-08:00",
            "end_time": "2026-12-14T09:30:00-08:00",
            "participants": [{"name": f"P {i}", "phone": "+15415550104"}],
        }
        for i in range(n)
    ]


def config_for(sandbox: SandboxHandle, **changes: Any) -> ClientConfig:
    return fast_client_config(sandbox, **({"timeout_seconds": 5} | changes))


def send(config: ClientConfig, events: list[dict[str, Any]]) -> list[EventResult]:
    async def go() -> list[EventResult]:
        async with ApptotoClient(config) as client:
            return await client.send_events(events)

    return asyncio.run(go())


def stored_ids(sandbox: SandboxHandle) -> list[str]:
    """Every live event's external_id, sorted; an id stored twice shows twice."""
    return sorted(e["external_id"] for e in sandbox.events() if not e["is_deleted"])


def test_429_with_retry_after_is_honoured(sandbox: Any) -> None:
    sandbox.configure(storm_requests=2, storm_retry_after_seconds=1)
    results = send(config_for(sandbox, batch_size=5), make_events(10))
    assert all(r.ok for r in results)
    assert stored_ids(sandbox) == sorted(f"e-{i}" for i in range(10))
    log = [r for r in sandbox.requests() if r["path"] == "/v1/events"]
    refused = [datetime.fromisoformat(r["at"]) for r in log if r["status"] == 429]
    admitted = [datetime.fromisoformat(r["at"]) for r in log if r["status"] == 200]
    assert len(refused) == 2
    # No request reached the server before the Retry-After of the first 429 had passed.
    assert (min(admitted) - refused[0]).total_seconds() >= 0.95


def test_5xx_are_retried_and_nothing_is_duplicated(sandbox: Any) -> None:
    sandbox.configure(fault_rate=0.3, fault_codes=[500, 502, 503], fault_seed=7)
    results = send(config_for(sandbox, batch_size=3, max_tries=12), make_events(30))
    assert all(r.ok for r in results), [r.message for r in results if not r.ok]
    assert stored_ids(sandbox) == sorted(f"e-{i}" for i in range(30))
    stats = sandbox.stats()
    assert stats["duplicates"] == []
    assert any(code in stats["requests_by_status"] for code in ("500", "502", "503"))


def test_commit_then_drop_ends_with_exactly_one_event(sandbox: Any) -> None:
    sandbox.configure(commit_then_drop_rate=0.5, fault_seed=3)
    results = send(config_for(sandbox, batch_size=2, max_tries=12), make_events(12))
    assert all(r.ok for r in results)
    assert stored_ids(sandbox) == sorted(f"e-{i}" for i in range(12))
    assert sandbox.stats()["duplicates"] == []
    assert all(isinstance(r.apptoto_id, int) for r in results)


def test_one_bad_event_does_not_stop_the_others(sandbox: Any) -> None:
    events = make_events(7)
    del events[4]["title"]  # a new event without a title is refused by Apptoto
    results = send(config_for(sandbox, batch_size=7), events)
    by_id = {r.external_id: r for r in results}
    assert not by_id["e-4"].ok
    assert "title" in by_id["e-4"].message
    assert [r.external_id for r in results if r.ok] == [f"e-{i}" for i in range(7) if i != 4]
    assert stored_ids(sandbox) == sorted(f"e-{i}" for i in range(7) if i != 4)


def test_wrong_key_stops_at_once(sandbox: Any) -> None:
    # At Apptoto's pace (100 per minute) the 401 comes back long before a second request may start.
    config = config_for(sandbox, api_key="wrong-key-canary", requests_per_minute=100)
    with pytest.raises(CredentialsRefused) as caught:
        send(config, make_events(30))
    assert "wrong-key-canary" not in str(caught.value)
    assert len(sandbox.requests()) == 1
    assert sandbox.stats()["events_stored"] == 0


def test_the_key_never_reaches_debug_logs(sandbox: Any, caplog: pytest.LogCaptureFixture) -> None:
    key = "canary-key-5d1e9b"
    sandbox.configure(api_key=key, fault_rate=0.5, fault_seed=1)
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "importer"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    results = send(config_for(sandbox, batch_size=2, max_tries=10), make_events(6))
    assert all(r.ok for r in results)
    with pytest.raises(CredentialsRefused) as caught:
        send(config_for(sandbox, api_key=key + "x"), make_events(1))
    basic = base64.b64encode(f"{sandbox.user}:{key}".encode()).decode()
    text = caplog.text + str(caught.value) + repr(caught.value)
    assert len(caplog.records) > 6  # the logs were really captured at DEBUG
    assert key not in text
    assert basic not in text
