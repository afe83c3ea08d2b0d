"""Deciding, request by request, which limit or injected fault answers instead of the sandbox.

Pure logic with an injectable clock (seconds, monotonic), no HTTP: the ASGI gate in
``importer.sandbox.gate`` asks and acts. Random faults draw a fixed number of values from
``random.Random(fault_seed)`` per admitted request, so the same seed and the same order of
requests give the same faults whatever the rates are.
"""

from __future__ import annotations

import enum
import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass

from importer.sandbox.settings import SandboxSettings

_STORM_FIELDS = {"storm_requests", "storm_seconds", "storm_after_requests"}
_OUTAGE_FIELDS = {"outage_seconds", "outage_after_requests", "outage_mode"}


class Fault(enum.StrEnum):
    """Which fault answered a request, as written in the request log."""

    OUTAGE = "outage"
    STORM = "storm"
    RATE_LIMIT = "rate_limit"
    ERROR = "error"  # refused with a fault code; nothing stored
    COMMIT_THEN_ERROR = "commit_then_error"  # stored, then answered with a fault code
    COMMIT_THEN_DROP = "commit_then_drop"  # stored, then the connection dropped mid-answer
    SLOW = "slow"  # stored, then answered late
    MALFORMED = "malformed"  # stored, then answered 200 with a body that is not valid JSON
    TOO_MANY_EVENTS = "too_many_events"  # more events than the gateway takes: 502


@dataclass(frozen=True)
class Refusal:
    """The request is answered without reaching the sandbox's events."""

    fault: Fault
    status: int  # 0 for a connection dropped without an answer
    retry_after_seconds: int | None = None


@dataclass(frozen=True)
class Draws:
    """What the seeded dice said for one admitted request."""

    error_code: int | None  # refuse before storing with this code
    after_commit: Fault | None  # COMMIT_THEN_ERROR, COMMIT_THEN_DROP, SLOW, MALFORMED or None
    after_commit_code: int  # the code for COMMIT_THEN_ERROR
    latency_seconds: float  # wait this long before handling


class _Span:
    """A fault that starts after N requests and lasts M requests and/or S seconds."""

    def __init__(self, after_requests: int, requests: int, seconds: float) -> None:
        self.skip = after_requests
        self.remaining = requests
        self.seconds = seconds
        self.started: float | None = None

    def hits(self, now: float) -> bool:
        if self.remaining <= 0 and self.seconds <= 0:
            return False
        if self.skip > 0:
            self.skip -= 1
            return False
        if self.started is None:
            self.started = now
        if self.remaining > 0:
            self.remaining -= 1
            return True
        return now - self.started < self.seconds


class FaultPlan:
    """Limits and faults of one sandbox: outage, 429 storm, rate limit and the seeded dice."""

    def __init__(
        self, settings: SandboxSettings, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.settings = settings
        self._arrivals: deque[float] = deque()
        self._dice = random.Random(settings.fault_seed)
        self._storm = self._arm_storm(settings)
        self._outage = self._arm_outage(settings)

    @staticmethod
    def _arm_storm(settings: SandboxSettings) -> _Span:
        return _Span(settings.storm_after_requests, settings.storm_requests, settings.storm_seconds)

    @staticmethod
    def _arm_outage(settings: SandboxSettings) -> _Span:
        return _Span(settings.outage_after_requests, 0, settings.outage_seconds)

    def update(self, settings: SandboxSettings, changed: Collection[str]) -> None:
        """Take new settings; re-arm the storm/outage and re-seed only when their fields changed."""
        with self._lock:
            self.settings = settings
            if "fault_seed" in changed:
                self._dice = random.Random(settings.fault_seed)
            if _STORM_FIELDS & set(changed):
                self._storm = self._arm_storm(settings)
            if _OUTAGE_FIELDS & set(changed):
                self._outage = self._arm_outage(settings)

    def restart(self) -> None:
        """Forget past arrivals, re-seed the dice and re-arm storm and outage (a reset)."""
        with self._lock:
            self._arrivals.clear()
            self._dice = random.Random(self.settings.fault_seed)
            self._storm = self._arm_storm(self.settings)
            self._outage = self._arm_outage(self.settings)

    def outage(self) -> Refusal | None:
        """Refusal when the sandbox is in an outage (asked before credentials are checked)."""
        with self._lock:
            if not self._outage.hits(self._clock()):
                return None
            status = 503 if self.settings.outage_mode == "503" else 0
            return Refusal(Fault.OUTAGE, status)

    def admit(self) -> Refusal | None:
        """Refusal during a 429 storm or past the rate limit; None admits the request.

        The rate limit is a sliding window over the arrival times of admitted requests; its
        Retry-After is the whole seconds (rounded up) until the oldest one leaves the window.
        """
        with self._lock:
            now = self._clock()
            settings = self.settings
            if self._storm.hits(now):
                return Refusal(Fault.STORM, 429, settings.storm_retry_after_seconds)
            if settings.rate_limit_requests > 0:
                window = settings.rate_limit_window_seconds
                while self._arrivals and self._arrivals[0] <= now - window:
                    self._arrivals.popleft()
                if len(self._arrivals) >= settings.rate_limit_requests:
                    wait = self._arrivals[0] + window - now
                    return Refusal(Fault.RATE_LIMIT, 429, max(1, math.ceil(wait)))
                self._arrivals.append(now)
            return None

    def quota(self) -> tuple[int, int, int] | None:
        """The rate limit now: (limit, places left, whole seconds until one frees); None if off."""
        with self._lock:
            settings = self.settings
            if settings.rate_limit_requests <= 0:
                return None
            now = self._clock()
            window = settings.rate_limit_window_seconds
            recent = [t for t in self._arrivals if t > now - window]
            left = max(0, settings.rate_limit_requests - len(recent))
            reset = math.ceil(recent[0] + window - now) if recent else 0
            return settings.rate_limit_requests, left, max(0, reset)

    def draw(self) -> Draws:
        """Roll the seeded dice for one admitted request (always six values)."""
        with self._lock:
            settings = self.settings
            error, late_error, drop, slow, jitter, malformed = (
                self._dice.random() for _ in range(6)
            )
        codes = settings.fault_codes

        def pick(roll: float, rate: float) -> int:
            return codes[min(len(codes) - 1, int(roll / rate * len(codes)))]

        after_commit = None
        if late_error < settings.commit_then_error_rate:
            after_commit = Fault.COMMIT_THEN_ERROR
        elif drop < settings.commit_then_drop_rate:
            after_commit = Fault.COMMIT_THEN_DROP
        elif slow < settings.slow_rate:
            after_commit = Fault.SLOW
        elif malformed < settings.malformed_rate:
            after_commit = Fault.MALFORMED
        return Draws(
            error_code=pick(error, settings.fault_rate) if error < settings.fault_rate else None,
            after_commit=after_commit,
            after_commit_code=(
                pick(late_error, settings.commit_then_error_rate)
                if after_commit is Fault.COMMIT_THEN_ERROR
                else codes[0]
            ),
            latency_seconds=settings.latency_seconds + jitter * settings.latency_jitter_seconds,
        )
