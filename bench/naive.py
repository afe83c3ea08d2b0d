"""The baseline client: how public Apptoto import scripts send events.

One batch at a time with plain ``httpx``: send, wait for the answer, sleep a fixed pause (0.6 s in
those scripts: 60 s / 100 requests), send the next. No concurrency. A 429 is waited out
(Retry-After) and the same batch sent again, so the baseline loses nothing; the scripts it copies
would have stopped there.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

NAIVE_PAUSE_SECONDS = 0.6  # the scripts' sleep after each answer: 60 s / 100 requests


@dataclass(frozen=True)
class NaiveRun:
    """What the naive upload did; times are ``time.perf_counter`` seconds."""

    first_request_at: float  # when the first request started
    last_answer_at: float  # when the last answer arrived (the pause after it is not counted)
    requests: int
    rate_limited: int  # answers 429


def naive_upload(
    base_url: str,
    auth: tuple[str, str],
    events: Sequence[Mapping[str, Any]],
    *,
    batch_size: int = 15,
    pause_seconds: float = NAIVE_PAUSE_SECONDS,
    timeout_seconds: float = 240.0,
) -> NaiveRun:
    """PUT ``events`` to ``base_url``/events in batches, one at a time, pausing after each answer.

    Raises ``httpx.HTTPStatusError`` on any answer other than 2xx or 429.
    """
    requests = rate_limited = 0
    with httpx.Client(base_url=base_url, auth=auth, timeout=timeout_seconds) as client:
        last_answer_at = first_request_at = time.perf_counter()
        for start in range(0, len(events), batch_size):
            batch = [dict(event) for event in events[start : start + batch_size]]
            while True:
                response = client.put("/events", json={"events": batch})
                last_answer_at = time.perf_counter()
                requests += 1
                if response.status_code != 429:
                    response.raise_for_status()
                    break
                rate_limited += 1
                time.sleep(float(response.headers.get("Retry-After", "1")))
            time.sleep(pause_seconds)
    return NaiveRun(first_request_at, last_answer_at, requests, rate_limited)
