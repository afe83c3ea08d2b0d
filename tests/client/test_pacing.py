"""Pacing: evenly spaced request starts, several in flight, 429 pauses everyone (virtual time)."""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import pytest

from importer.client import ApptotoClient, ClientConfig, VirtualClock
from importer.client.pacing import DeadlinePassed, Pacer

INTERVAL = 0.606  # 60 / 100 per minute, plus the 1% margin
EPSILON = 1e-9


def run(
    handler: Callable[[httpx.Request], Coroutine[Any, Any, httpx.Response]],
    count: int,
    clock: VirtualClock,
    **settings: Any,
) -> list[Any]:
    async def main() -> list[Any]:
        config = ClientConfig(user="u@example.org", api_key="key", batch_size=1, **settings)
        transport = httpx.MockTransport(handler)
        async with ApptotoClient(
            config, transport=transport, clock=clock, rng=random.Random(3)
        ) as client:
            events = [{"external_id": f"e{n}"} for n in range(count)]
            return await client.send_events(events)

    return clock.run(main())


class SlowServer:
    """Answers every PUT after ``latency`` virtual seconds; records starts and concurrency."""

    def __init__(self, clock: VirtualClock, latency: float) -> None:
        self.clock = clock
        self.latency = latency
        self.starts: list[float] = []
        self.in_flight = 0
        self.most_in_flight = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.starts.append(self.clock.now)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(self.latency)
        self.in_flight -= 1
        return httpx.Response(200, json=json.loads(request.content))


@pytest.mark.parametrize(("latency", "in_flight"), [(0.1, 1), (1.0, 2), (3.0, 5)])
def test_starts_are_evenly_spaced_and_enough_are_in_flight(latency: float, in_flight: int) -> None:
    clock = VirtualClock()
    server = SlowServer(clock, latency)
    results = run(server, 40, clock)
    assert all(r.ok for r in results)
    gaps = [b - a for a, b in zip(server.starts, server.starts[1:], strict=False)]
    assert min(gaps) >= INTERVAL - EPSILON
    assert max(gaps) <= INTERVAL + EPSILON  # never slower than the limit either
    assert server.most_in_flight == in_flight
    # Throughput at the limit: the run takes 39 intervals plus one answer, not 40 round trips.
    assert clock.now == pytest.approx(39 * INTERVAL + latency)


def test_max_in_flight_bounds_concurrency_when_answers_are_slow() -> None:
    clock = VirtualClock()
    server = SlowServer(clock, latency=10.0)
    run(server, 12, clock, max_in_flight=3)
    assert server.most_in_flight == 3
    assert server.starts[:4] == pytest.approx([0.0, INTERVAL, 2 * INTERVAL, 10.0])


@pytest.mark.parametrize(("margin", "expect_refusals"), [(0.01, False), (0.0, True)])
def test_a_sliding_window_limiter_of_the_same_rate_is_not_tripped(
    margin: float, expect_refusals: bool
) -> None:
    """A server allowing 100 arrivals per 60 s, with 0-50 ms of arrival jitter."""
    clock = VirtualClock()
    jitter = random.Random(11)
    arrivals: list[float] = []
    refusals = 0

    async def limited(request: httpx.Request) -> httpx.Response:
        nonlocal refusals
        await asyncio.sleep(jitter.uniform(0.0, 0.05))
        now = clock.now
        if sum(1 for t in arrivals if t > now - 60.0) >= 100:
            refusals += 1
            return httpx.Response(429)
        arrivals.append(now)
        await asyncio.sleep(jitter.uniform(0.1, 3.0))
        return httpx.Response(200, json=json.loads(request.content))

    results = run(limited, 250, clock, pacing_margin=margin)
    assert all(r.ok for r in results)
    assert (refusals > 0) is expect_refusals


def test_every_retry_takes_a_slot_from_the_pacer() -> None:
    clock = VirtualClock()
    starts: list[tuple[float, str]] = []
    failed_once: set[str] = set()

    async def flaky(request: httpx.Request) -> httpx.Response:
        external_id = json.loads(request.content)["events"][0]["external_id"]
        starts.append((clock.now, external_id))
        if external_id not in failed_once:
            failed_once.add(external_id)
            return httpx.Response(503)
        return httpx.Response(200, json=json.loads(request.content))

    results = run(flaky, 20, clock, backoff_base=0.01, backoff_cap=0.01)
    assert all(r.ok for r in results)
    times = [t for t, _ in starts]
    assert len(times) == 40
    assert min(b - a for a, b in zip(times, times[1:], strict=False)) >= INTERVAL - EPSILON


@pytest.mark.parametrize(
    ("form", "pause_end"),
    [("seconds", 7.5), ("date with Date header", 7.5), ("date without Date header", 8.0)],
)
def test_a_429_retry_after_pauses_every_request(form: str, pause_end: float) -> None:
    clock = VirtualClock()
    starts: list[float] = []
    answered_429_at: list[float] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        starts.append(clock.now)
        await asyncio.sleep(0.5)
        if not answered_429_at:
            answered_429_at.append(clock.now)
            if form == "seconds":
                headers = {"Retry-After": "7"}
            elif form == "date with Date header":
                # The server's clock is 100 s behind ours: its own Date is the reference.
                headers = {
                    "Retry-After": email.utils.formatdate(clock.wall_start - 93, usegmt=True),
                    "Date": email.utils.formatdate(clock.wall_start - 100, usegmt=True),
                }
            else:  # measured from our wall clock, which reads wall_start + 0.5 now
                headers = {"Retry-After": email.utils.formatdate(clock.wall_start + 8, usegmt=True)}
            return httpx.Response(429, headers=headers)
        return httpx.Response(200, json=json.loads(request.content))

    results = run(handler, 6, clock)
    assert all(r.ok for r in results)
    assert answered_429_at == [0.5]
    after = starts[1:]
    assert len(after) == 6  # the refused event once more, and the five others
    assert min(after) == pytest.approx(pause_end)
    assert starts[0] == 0.0


def a_days_wait_asked_by_request(
    refused: int, clock: VirtualClock, starts: list[float]
) -> Callable[[httpx.Request], Coroutine[Any, Any, httpx.Response]]:
    """A server recording each request's start in ``starts`` that answers the ``refused``-th
    (from 1) 429 with a Retry-After of a day, and every other one 200."""

    async def handler(request: httpx.Request) -> httpx.Response:
        starts.append(clock.now)
        if len(starts) == refused:
            return httpx.Response(429, headers={"Retry-After": "86400"})
        return httpx.Response(200, json=json.loads(request.content))

    return handler


def test_retry_after_is_capped() -> None:
    clock = VirtualClock()
    starts: list[float] = []
    run(a_days_wait_asked_by_request(1, clock, starts), 1, clock, retry_after_cap=30.0)
    assert starts == [0.0, 30.0]


def test_a_retry_after_past_the_cap_is_not_learnt_as_the_rate_either() -> None:
    """Four admitted, then a day's Retry-After: the pace learnt is four per capped wait."""
    clock = VirtualClock()
    starts: list[float] = []
    handler = a_days_wait_asked_by_request(5, clock, starts)
    results = run(handler, 8, clock, retry_after_cap=30.0)
    assert all(r.ok for r in results)
    assert len(starts) == 9
    assert starts[5] == pytest.approx(starts[4] + 30.0)
    # Four requests in the ~2.4 s before the 429 plus the 30 s waited: ~8 s apart, not a day / 4.
    gaps = [later - earlier for earlier, later in zip(starts[5:], starts[6:], strict=False)]
    assert all(7.0 < gap < 9.0 for gap in gaps), gaps


def test_pacer_hands_out_slots_in_call_order_and_respects_a_pause() -> None:
    clock = VirtualClock()
    pacer = Pacer(0.5, clock)

    async def main() -> list[float]:
        first = await asyncio.gather(*(pacer.wait_for_slot() for _ in range(3)))
        pacer.pause_until(clock.now + 10.0)
        second = await asyncio.gather(*(pacer.wait_for_slot() for _ in range(2)))
        return [*first, *second]

    assert clock.run(main()) == pytest.approx([0.0, 0.5, 1.0, 11.0, 11.5])


def test_a_pause_during_a_wait_moves_the_waiting_slot() -> None:
    clock = VirtualClock()
    pacer = Pacer(1.0, clock)

    async def main() -> list[float]:
        async def pause_later() -> float:
            await asyncio.sleep(0.5)
            pacer.pause_until(clock.now + 5.0)
            return -1.0

        slots = await asyncio.gather(
            pacer.wait_for_slot(), pacer.wait_for_slot(), pacer.wait_for_slot(), pause_later()
        )
        return [slot for slot in slots if slot >= 0]

    # Slots 1.0 and 2.0 were promised before the pause (0.5 -> 5.5): both move after it.
    assert clock.run(main()) == pytest.approx([0.0, 5.5, 6.5])


def test_a_slot_after_the_deadline_is_refused_without_being_taken() -> None:
    clock = VirtualClock()
    pacer = Pacer(1.0, clock)

    async def main() -> list[float]:
        slots = [await pacer.wait_for_slot(deadline=1.5), await pacer.wait_for_slot(deadline=1.5)]
        with pytest.raises(DeadlinePassed):
            await pacer.wait_for_slot(deadline=1.5)
        slots.append(await pacer.wait_for_slot())
        return slots

    assert clock.run(main()) == pytest.approx([0.0, 1.0, 2.0])
