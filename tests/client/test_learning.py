"""The client learns Apptoto's real rate limit when told too high a rate (issue 15, item 7).

A fake Apptoto with a sliding-window limit of 100 requests a minute, in virtual time; the client
is told 300 a minute. It must settle at the server's pace: at most 1% of its requests answered
429, and at least 90% of the real limit used.
"""

from __future__ import annotations

import json
import math
import random
from collections import deque
from typing import Any

import httpx
import pytest

from importer.client import ApptotoClient, ClientConfig, VirtualClock
from importer.client.learning import RateLearner, rate_from_headers

REAL_LIMIT = 100  # requests a minute
WINDOW = 60.0


class LimitedApptoto:
    """Admits REAL_LIMIT requests in any WINDOW seconds; 429 (with or without help) past it."""

    def __init__(self, clock: VirtualClock, *, retry_after: bool, headers: bool) -> None:
        self.clock = clock
        self.retry_after = retry_after
        self.headers = headers
        self.arrivals: deque[float] = deque()
        self.admitted: list[float] = []
        self.refused = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        now = self.clock.monotonic()
        while self.arrivals and self.arrivals[0] <= now - WINDOW:
            self.arrivals.popleft()
        extra: dict[str, str] = {}
        if self.headers:
            extra = {"RateLimit-Policy": f"{REAL_LIMIT};w={WINDOW:g}"}
        if len(self.arrivals) >= REAL_LIMIT:
            self.refused += 1
            if self.retry_after:
                extra["Retry-After"] = str(math.ceil(self.arrivals[0] + WINDOW - now))
            return httpx.Response(429, headers=extra)
        self.arrivals.append(now)
        self.admitted.append(now)
        events = [{**e, "id": 1} for e in json.loads(request.content)["events"]]
        return httpx.Response(200, json={"events": events}, headers=extra)


def send(server_options: dict[str, Any], count: int = 600) -> LimitedApptoto:
    clock = VirtualClock()
    server = LimitedApptoto(clock, **server_options)
    config = ClientConfig(
        user="u@example.org", api_key="k", batch_size=1, requests_per_minute=3 * REAL_LIMIT
    )

    async def main() -> None:
        async with ApptotoClient(
            config, transport=httpx.MockTransport(server), clock=clock, rng=random.Random(3)
        ) as client:
            results = await client.send_events(
                [{"external_id": f"r-{n}", "title": "t"} for n in range(count)]
            )
            assert all(result.ok for result in results)

    clock.run(main())
    return server


@pytest.mark.parametrize(
    "server_options",
    [
        {"retry_after": True, "headers": False},
        {"retry_after": False, "headers": False},
        {"retry_after": True, "headers": True},
    ],
    ids=["retry-after", "bare 429", "rate-limit headers"],
)
def test_told_three_times_the_real_limit_the_client_settles_at_the_servers_pace(
    server_options: dict[str, Any],
) -> None:
    server = send(server_options)
    total = len(server.admitted) + server.refused
    used = (len(server.admitted) - 1) / (server.admitted[-1] - server.admitted[0]) * 60.0
    assert server.refused / total <= 0.01
    assert used >= 0.9 * REAL_LIMIT


def test_headers_alone_mean_no_429_at_all() -> None:
    server = send({"retry_after": True, "headers": True})
    assert server.refused == 0


def test_a_429_after_a_burst_reads_the_window_from_retry_after() -> None:
    learner = RateLearner()
    for n in range(100):  # 100 admitted in the first 20 s
        learner.answered(n * 0.2)
    assert learner.from_429(20.0, 40.0) == pytest.approx(100 / 60)
    assert learner.from_429(20.0, None) == pytest.approx(100 / 60)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"RateLimit-Policy": "50;w=60"}, (50 / 60, None)),
        ({"X-RateLimit-Limit": "120"}, (2.0, None)),
        ({"RateLimit-Limit": "60", "RateLimit-Remaining": "0", "RateLimit-Reset": "7"}, (1.0, 7)),
        ({"RateLimit-Remaining": "0", "RateLimit-Reset": "1767225600"}, (None, None)),
        ({}, (None, None)),
    ],
)
def test_rate_from_headers(headers: dict[str, str], expected: tuple[Any, Any]) -> None:
    assert rate_from_headers(httpx.Headers(headers)) == expected
