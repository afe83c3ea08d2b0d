"""Retries: backoff bounds, Retry-After parsing, dropped connections, try budget and deadline."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import httpx
import pytest

from importer.client import ApptotoClient, ClientConfig, VirtualClock
from importer.client.retry import RetryPolicy, full_jitter_backoff, parse_retry_after

Handler = Callable[[httpx.Request], Coroutine[Any, Any, httpx.Response]]


def send(
    handler: Handler, count: int = 1, clock: VirtualClock | None = None, **settings: Any
) -> Any:
    clock = clock or VirtualClock()

    async def main() -> Any:
        config = ClientConfig(user="u@example.org", api_key="key", **settings)
        transport = httpx.MockTransport(handler)
        async with ApptotoClient(
            config, transport=transport, clock=clock, rng=random.Random(5)
        ) as client:
            return await client.send_events([{"external_id": f"e{n}"} for n in range(count)])

    return clock.run(main())


def echo(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=json.loads(request.content))


def scripted(*answers: Callable[[httpx.Request], httpx.Response]) -> tuple[Handler, list[float]]:
    """A handler giving each answer in turn (the last one forever); records start times."""
    starts: list[float] = []
    queue = list(answers)

    async def handler(request: httpx.Request) -> httpx.Response:
        starts.append(asyncio.get_running_loop().time())
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        return answer(request)

    return handler, starts


def status(code: int, **headers: str) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(code, headers=headers)


POLICY = RetryPolicy(
    max_tries=10,
    backoff_base=0.5,
    backoff_cap=8.0,
    retry_after_cap=300.0,
    deadline=None,
    deadline_seconds=None,
)


@pytest.mark.parametrize(
    ("failed_tries", "ceiling"), [(1, 0.5), (2, 1.0), (4, 4.0), (5, 8.0), (9, 8.0)]
)
def test_backoff_is_capped_exponential_with_full_jitter(failed_tries: int, ceiling: float) -> None:
    rng = random.Random(1)
    draws = [full_jitter_backoff(failed_tries, POLICY, rng) for _ in range(2000)]
    assert all(0.0 <= d <= ceiling for d in draws)
    # Full jitter spreads over the whole range, down to near 0 (not "half fixed, half random").
    assert min(draws) < 0.02 * ceiling
    assert max(draws) > 0.98 * ceiling
    assert sum(draws) / len(draws) == pytest.approx(ceiling / 2, rel=0.06)


@pytest.mark.parametrize(
    ("value", "date", "expected"),
    [
        (None, None, None),
        ("", None, None),
        ("120", None, 120.0),
        (" 7 ", None, 7.0),
        ("1.5", None, 1.5),
        ("-3", None, 0.0),
        ("soon", None, None),
        ("nan", None, None),
        ("Thu, 01 Jan 2026 00:01:00 GMT", None, 60.0),
        ("Thu, 01 Jan 2026 00:01:00 GMT", "Thu, 01 Jan 2026 00:00:50 GMT", 10.0),
        ("Wed, 31 Dec 2025 23:00:00 GMT", None, 0.0),
        ("Thu, 01 Jan 2026 00:01:00 GMT", "not a date", 60.0),
    ],
)
def test_parse_retry_after(value: str | None, date: str | None, expected: float | None) -> None:
    now_wall = 1_767_225_600.0  # 2026-01-01T00:00:00Z
    assert parse_retry_after(value, now_wall=now_wall, server_date=date) == expected


@pytest.mark.parametrize("code", [500, 502, 503, 504, 408, 429])
def test_server_errors_are_retried_until_success(code: int) -> None:
    handler, starts = scripted(status(code), status(code), echo)
    results = send(handler, backoff_base=1.0, backoff_cap=60.0)
    assert results[0].ok
    assert len(starts) == 3
    # Waits before try 2 and 3 are at most 1 s and 2 s of backoff (plus pacing, far less here).
    assert 0 <= starts[1] - starts[0] <= 1.0 + 0.61
    assert 0 <= starts[2] - starts[1] <= 2.0 + 0.61


@pytest.mark.parametrize(
    "error",
    [
        httpx.ConnectError("connection refused"),
        httpx.ReadTimeout("timed out"),
        httpx.ConnectTimeout("timed out"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ReadError("connection reset by peer"),
    ],
)
def test_connection_failures_are_retried(error: Exception) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise error

    handler, starts = scripted(fail, echo)
    assert send(handler)[0].ok
    assert len(starts) == 2


class DropAfterHeaders(httpx.AsyncByteStream):
    """A body that starts and then breaks off: the server committed, then dropped us."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'{"events": ['
        raise httpx.RemoteProtocolError("peer closed connection without sending complete body")


def test_a_dropped_answer_after_a_commit_is_retried_and_ends_ok() -> None:
    stored: dict[str, dict[str, Any]] = {}

    async def commit_then_drop(request: httpx.Request) -> httpx.Response:
        batch = json.loads(request.content)["events"]
        first_time = not stored
        for event in batch:
            stored[event["external_id"]] = {**event, "id": 77}
        if first_time:
            return httpx.Response(200, stream=DropAfterHeaders())
        return httpx.Response(200, json={"events": list(stored.values())})

    results = send(commit_then_drop)
    assert (results[0].ok, results[0].apptoto_id) == (True, 77)
    assert list(stored) == ["e0"]  # the second PUT updated the same event, no duplicate


@pytest.mark.parametrize(
    ("failure", "last"),
    [
        (status(503), "503 Service Unavailable"),
        (status(429), "429 Too Many Requests"),
        (lambda r: (_ for _ in ()).throw(httpx.ReadTimeout("t")), "no answer within 240 s"),
        (
            lambda r: (_ for _ in ()).throw(httpx.RemoteProtocolError("gone")),
            "the server dropped the connection",
        ),
    ],
)
def test_an_exhausted_try_budget_gives_failed_results_not_an_error(
    failure: Callable[[httpx.Request], httpx.Response], last: str
) -> None:
    handler, starts = scripted(failure)
    results = send(handler, count=3, batch_size=3)
    assert len(starts) == 6
    assert [r.ok for r in results] == [False, False, False]
    assert {r.message for r in results} == {f"Apptoto did not answer after 6 tries (last: {last})"}


def test_a_batch_that_always_gets_502_is_split_and_each_event_gives_up_alone() -> None:
    handler, starts = scripted(status(502))
    results = send(handler, count=3, batch_size=3)
    # 3 events: 502 twice, halves of 1 and 2; the 1 tries 6 times, the 2 splits after 2 tries.
    assert len(starts) == 2 + 6 + 2 + 6 + 6
    assert {r.message for r in results} == {
        "Apptoto did not answer after 6 tries (last: 502 Bad Gateway)"
    }


def test_max_tries_one_means_no_retry() -> None:
    handler, starts = scripted(status(500))
    results = send(handler, max_tries=1)
    assert len(starts) == 1
    assert (
        results[0].message == "Apptoto did not answer after 1 try (last: 500 Internal Server Error)"
    )


def test_the_deadline_stops_retries() -> None:
    handler, starts = scripted(status(503, **{"Retry-After": "4"}))
    results = send(handler, count=2, batch_size=1, max_in_flight=1, deadline_seconds=10)
    # Tries at 0, 4, 8; a fourth would start at 12, after the deadline. The second batch gets
    # the next start slot and one try.
    assert starts == pytest.approx([0.0, 4.0, 8.0, 8.606])
    assert results[0].message == (
        "Apptoto did not answer before the deadline of 10 s "
        "(after 3 tries; last: 503 Service Unavailable)"
    )
    assert results[1].message == (
        "Apptoto did not answer before the deadline of 10 s "
        "(after 1 try; last: 503 Service Unavailable)"
    )
    assert not results[0].ok and not results[1].ok


def test_the_deadline_lets_finished_batches_keep_their_results() -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(2.0)
        return echo(request)

    results = send(slow, count=3, batch_size=1, max_in_flight=1, deadline_seconds=3)
    assert [r.ok for r in results] == [True, True, False]
    assert results[2].message.startswith("not sent: the deadline of 3 s passed")
