"""Learning Apptoto's real rate limit: from its 429 answers, and from rate-limit headers.

The configured rate (``--rate``, 100 a minute by default) is only what is known of Apptoto; a
real account may allow fewer. Told too high a rate, a client that only obeys each 429 keeps
running into the limit (about 4% of its requests refused at three times the real limit). So:

- **Headers**: ``RateLimit-Policy: 100;w=60`` (the IETF draft), or ``RateLimit-Limit`` /
  ``X-RateLimit-Limit`` (per minute unless a policy says otherwise), give the limit outright;
  ``RateLimit-Remaining: 0`` with ``RateLimit-Reset`` pauses until the window frees.
- **A 429 with Retry-After**: the server admitted the requests answered since the start of the
  current window, and frees the next place after Retry-After seconds, so the window holds about
  ``answered / (elapsed + retry_after)`` requests a second. Without Retry-After, the window is
  taken to be a minute, and every request waits until the oldest one of it leaves.

The pace only ever slows (never below what was learnt, never above ``--rate``).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping

from importer.client.config import DEFAULT_LIMIT_WINDOW_SECONDS as DEFAULT_WINDOW_SECONDS

_POLICY = re.compile(r"^\s*(\d+)\s*;\s*w\s*=\s*(\d+(?:\.\d+)?)")


class RateLearner:
    """Remembers when answered requests started; estimates the server's rate (per second)."""

    def __init__(self, window_seconds: float = DEFAULT_WINDOW_SECONDS) -> None:
        self.window = window_seconds  # the window assumed when the server does not say
        self._starts: deque[float] = deque()  # monotonic start times of requests not refused
        self._first: float | None = None

    def answered(self, started: float) -> None:
        """A request that started at ``started`` was admitted (any answer but 429)."""
        self.started(started)
        self._starts.append(started)
        while self._starts and self._starts[0] < started - self.window:
            self._starts.popleft()

    def started(self, when: float) -> None:
        """A request started (admitted or not): the clock of the first window starts here."""
        self._first = when if self._first is None else min(self._first, when)

    def from_429(self, now: float, retry_after: float | None) -> float | None:
        """Requests a second the server allows, judged from a 429 at ``now``; None: no idea."""
        if self._first is None:
            return None
        since = max(self._first, now - self.window)
        admitted = sum(1 for start in self._starts if start >= since)
        if admitted == 0:
            return None
        if retry_after is None:
            return admitted / self.window
        window = (now - since) + retry_after
        return admitted / window if window > 0 else None

    def frees_in(self, now: float) -> float:
        """Seconds until the oldest request of the last minute leaves a minute's window."""
        recent = [start for start in self._starts if start > now - self.window]
        return max(0.0, recent[0] + self.window - now) if recent else 0.0


def rate_from_headers(headers: Mapping[str, str]) -> tuple[float | None, float | None]:
    """(requests a second the headers allow, seconds to pause now); each None when not said."""
    rate = None
    policy = _POLICY.match(headers.get("RateLimit-Policy", "") or "")
    limit = headers.get("RateLimit-Limit") or headers.get("X-RateLimit-Limit")
    if policy is not None and float(policy.group(2)) > 0:
        rate = int(policy.group(1)) / float(policy.group(2))
    elif limit is not None and limit.strip().isdigit():
        rate = int(limit) / DEFAULT_WINDOW_SECONDS
    pause = None
    remaining = headers.get("RateLimit-Remaining") or headers.get("X-RateLimit-Remaining")
    reset = headers.get("RateLimit-Reset") or headers.get("X-RateLimit-Reset")
    if remaining is not None and remaining.strip() == "0" and reset and reset.strip().isdigit():
        seconds = float(reset)
        pause = seconds if seconds <= DEFAULT_WINDOW_SECONDS else None  # not an epoch time
    if rate is not None and rate <= 0:
        rate = None
    return rate, pause
