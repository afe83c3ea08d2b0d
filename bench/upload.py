"""Upload: how close a full import gets to Apptoto's ceiling, against the naive client.

The sandbox enforces Apptoto's limit (100 requests in any sliding window of 60 s) and adds a fixed
latency to every answer. Every duration is divided by ``scale`` (window 60/scale s, latency
L/scale s, the naive pause 0.6/scale s, the client's rate 100*scale a minute): shares of the
ceiling do not change, and the run is ``scale`` times shorter.

Definitions (per run, both clients):
- ceiling = limit x batch size / window (events per second);
- achieved = events sent / (time of the last answer - time the first request started);
- share = achieved / ceiling;
- 429 = answers "429 Too Many Requests" in the sandbox's request log;
- stored, duplicates = events the sandbox holds afterwards, and external_ids it holds twice.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import queue
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from typing import Any

import httpx

from bench.naive import NAIVE_PAUSE_SECONDS, naive_upload
from importer.client import ApptotoClient, ClientConfig
from importer.sandbox import SandboxHandle, SandboxSettings, running_sandbox

APPTOTO_LIMIT = 100  # requests per window
APPTOTO_WINDOW_SECONDS = 60.0
BATCH_SIZE = 15
LATENCIES_SECONDS = (0.1, 1.0, 3.0)  # unscaled: what Apptoto's answers take


@dataclass(frozen=True)
class UploadFigures:
    """One client's upload at one latency (durations in scaled seconds)."""

    client: str  # "ours" or "naive"
    latency_seconds: float  # unscaled, as in the issue
    events: int
    seconds: float  # first request start -> last answer
    ceiling_events_per_second: float
    requests: int  # every request the sandbox saw
    rate_limited: int  # of them answered 429
    stored: int
    duplicates: int

    @property
    def share_of_ceiling(self) -> float:
        """Achieved events/s divided by the ceiling."""
        return self.events / self.seconds / self.ceiling_events_per_second

    @property
    def rate_limited_share(self) -> float:
        """Share of requests answered 429."""
        return self.rate_limited / self.requests if self.requests else 0.0

    def as_json(self) -> dict[str, Any]:
        """The figures and the derived shares, JSON-ready."""
        return {
            **asdict(self),
            "share_of_ceiling": round(self.share_of_ceiling, 4),
            "rate_limited_share": round(self.rate_limited_share, 4),
        }


def _sandbox_counts(sandbox: SandboxHandle) -> tuple[int, int, int, int]:
    stats = sandbox.stats()
    requests = int(stats["requests"])
    rate_limited = int(stats["requests_by_status"].get("429", 0))
    return requests, rate_limited, int(stats["events_stored"]), len(stats["duplicates"])


SANDBOX_START_SECONDS = 60.0


def _serve(settings: SandboxSettings, ready: Queue[str], stop: Event) -> None:
    """The sandbox process: serve until ``stop`` is set."""
    with running_sandbox(settings) as sandbox:
        ready.put(sandbox.base_url)
        stop.wait()


def _wait_for_start(process: BaseProcess, ready: Queue[str]) -> str:
    deadline = time.monotonic() + SANDBOX_START_SECONDS
    while time.monotonic() < deadline and process.is_alive():
        try:
            return ready.get(timeout=0.5)
        except queue.Empty:
            continue
    raise RuntimeError(f"the sandbox process did not start (exit code {process.exitcode})")


@contextmanager
def sandbox_process(settings: SandboxSettings) -> Iterator[SandboxHandle]:
    """A sandbox in its own process, so the client and the server never share one GIL.

    In one process a busy client delays the server's clock of arrivals by tens of milliseconds,
    as much as the pacing margin leaves at a tenth of Apptoto's window. Stopped on exit.
    """
    context = multiprocessing.get_context("spawn")
    ready: Queue[str] = context.Queue()
    stop = context.Event()
    process = context.Process(target=_serve, args=(settings, ready, stop), name="bench-sandbox")
    process.start()
    try:
        base_url = _wait_for_start(process, ready)
        root = base_url.removesuffix("/v1")
        with httpx.Client(timeout=30.0) as control:
            yield SandboxHandle.at(root, settings, control)
    finally:
        stop.set()
        process.join(timeout=10)
        if process.is_alive():
            process.terminate()
            process.join(timeout=5)


async def _ours(config: ClientConfig, events: Sequence[Mapping[str, Any]]) -> float:
    async with ApptotoClient(config) as client:
        started = time.perf_counter()
        results = await client.send_events(events)
        seconds = time.perf_counter() - started
    failed = [r for r in results if not r.ok]
    if failed:
        raise RuntimeError(f"{len(failed)} events failed, first: {failed[0].message}")
    return seconds


def measure_upload(
    events: Sequence[Mapping[str, Any]],
    *,
    scale: float,
    latencies: Sequence[float] = LATENCIES_SECONDS,
    max_in_flight: int | None = None,
) -> list[UploadFigures]:
    """Send ``events`` with our client and the naive one at each latency; figures per run.

    ``events`` need distinct external_ids. Each run starts from an empty sandbox.
    """
    window = APPTOTO_WINDOW_SECONDS / scale
    ceiling = APPTOTO_LIMIT * BATCH_SIZE / window
    settings = SandboxSettings(rate_limit_requests=APPTOTO_LIMIT, rate_limit_window_seconds=window)
    figures: list[UploadFigures] = []
    with sandbox_process(settings) as sandbox:
        for latency in latencies:
            for client in ("ours", "naive"):
                sandbox.reset()
                sandbox.configure(latency_seconds=latency / scale)
                if client == "ours":
                    config = ClientConfig(
                        user=sandbox.user,
                        api_key=sandbox.api_key,
                        base_url=sandbox.base_url,
                        batch_size=BATCH_SIZE,
                        requests_per_minute=APPTOTO_LIMIT * scale,
                        **({"max_in_flight": max_in_flight} if max_in_flight else {}),
                    )
                    seconds = asyncio.run(_ours(config, events))
                else:
                    run = naive_upload(
                        sandbox.base_url,
                        sandbox.auth,
                        events,
                        batch_size=BATCH_SIZE,
                        pause_seconds=NAIVE_PAUSE_SECONDS / scale,
                    )
                    seconds = run.last_answer_at - run.first_request_at
                requests, rate_limited, stored, duplicates = _sandbox_counts(sandbox)
                figures.append(
                    UploadFigures(
                        client=client,
                        latency_seconds=latency,
                        events=len(events),
                        seconds=round(seconds, 4),
                        ceiling_events_per_second=ceiling,
                        requests=requests,
                        rate_limited=rate_limited,
                        stored=stored,
                        duplicates=duplicates,
                    )
                )
    return figures


OVERTOLD_FACTOR = 3  # the client is told this many times the real limit


def measure_overtold(
    events: Sequence[Mapping[str, Any]],
    *,
    scale: float,
    retry_after: str = "seconds",
    latency: float = LATENCIES_SECONDS[0],
) -> UploadFigures:
    """Our client told ``OVERTOLD_FACTOR`` times Apptoto's limit: it must learn the real one.

    Same sandbox and definitions as :func:`measure_upload`; the share of the ceiling is the
    share of the real limit used, and 429s are what learning it cost. ``retry_after``: the
    sandbox's Retry-After form ("none": 429s say nothing, as Apptoto documents none); the client
    then takes the window to be a minute (scaled).
    """
    window = APPTOTO_WINDOW_SECONDS / scale
    settings = SandboxSettings(
        rate_limit_requests=APPTOTO_LIMIT,
        rate_limit_window_seconds=window,
        retry_after_form=retry_after,
    )
    with sandbox_process(settings) as sandbox:
        sandbox.configure(latency_seconds=latency / scale)
        config = ClientConfig(
            user=sandbox.user,
            api_key=sandbox.api_key,
            base_url=sandbox.base_url,
            batch_size=BATCH_SIZE,
            requests_per_minute=OVERTOLD_FACTOR * APPTOTO_LIMIT * scale,
            limit_window_seconds=window,
        )
        seconds = asyncio.run(_ours(config, events))
        requests, rate_limited, stored, duplicates = _sandbox_counts(sandbox)
    return UploadFigures(
        client=f"ours, told {OVERTOLD_FACTOR}x the limit, Retry-After {retry_after}",
        latency_seconds=latency,
        events=len(events),
        seconds=round(seconds, 4),
        ceiling_events_per_second=APPTOTO_LIMIT * BATCH_SIZE / window,
        requests=requests,
        rate_limited=rate_limited,
        stored=stored,
        duplicates=duplicates,
    )
