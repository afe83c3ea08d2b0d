"""Retries: which failures are worth another try, how long to wait, when to give up.

Waits are capped exponential backoff with *full* jitter (uniform between 0 and the cap), so clients
that failed together do not come back together; a server's ``Retry-After`` replaces the backoff.
Giving up happens after ``max_tries`` tries, or when the next try could not start before the
deadline.
"""

from __future__ import annotations

import email.utils
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import KW_ONLY, dataclass
from typing import TypeVar

import httpx
from tenacity import AsyncRetrying, RetryCallState, RetryError, retry_if_exception_type

from importer.client.clock import Clock
from importer.client.config import ClientConfig
from importer.client.pacing import DeadlinePassed

logger = logging.getLogger("importer.client")

T = TypeVar("T")

# 408 is not in the brief's list, but it means "you were too slow", the same as a timeout.
RETRIED_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# Failures of the connection itself: the server may never have seen the request, or may have
# stored it and failed to answer; PUT with external_id makes a second try safe either way.
RETRIED_ERRORS: tuple[type[Exception], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)


@dataclass(eq=False)  # eq=False: an exception compares and hashes by identity
class RetryableFailure(Exception):
    """One try failed in a way another try may fix."""

    description: str  # plain words, e.g. "503 Service Unavailable"
    _: KW_ONLY
    status: int | None = None
    retry_after: float | None = None  # seconds the server asked for, already capped
    pause_everyone: bool = False  # 429: the wait applies to every request

    def __post_init__(self) -> None:
        super().__init__(self.description)


class GaveUp(Exception):
    """Every allowed try failed, or the deadline came first; ``message`` says which, plainly."""

    def __init__(self, message: str, *, tries: int, last: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.tries = tries
        self.last = last


@dataclass(frozen=True)
class RetryPolicy:
    """The numbers that decide waits and giving up (from ``ClientConfig``)."""

    max_tries: int
    backoff_base: float  # seconds
    backoff_cap: float  # seconds
    retry_after_cap: float  # seconds
    deadline: float | None  # monotonic time, or None
    deadline_seconds: float | None  # the configured length, for messages

    @classmethod
    def from_config(cls, config: ClientConfig, *, deadline: float | None) -> RetryPolicy:
        """The policy ``config`` asks for, with ``deadline`` as a monotonic time (None: none)."""
        return cls(
            max_tries=config.max_tries,
            backoff_base=config.backoff_base,
            backoff_cap=config.backoff_cap,
            retry_after_cap=config.retry_after_cap,
            deadline=deadline,
            deadline_seconds=config.deadline_seconds,
        )


def full_jitter_backoff(tries_so_far: int, policy: RetryPolicy, rng: random.Random) -> float:
    """Seconds to wait after the n-th failed try: uniform in [0, min(cap, base * 2**(n-1))]."""
    ceiling = min(policy.backoff_cap, policy.backoff_base * 2.0 ** max(0, tries_so_far - 1))
    return rng.uniform(0.0, ceiling)


def parse_retry_after(
    value: str | None, *, now_wall: float, server_date: str | None = None
) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date; None if absent.

    A date is measured from the response's ``Date`` header when there is one (immune to our clock's
    skew), else from ``now_wall`` (epoch seconds). Dates in the past give 0; garbage gives None.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if seconds == seconds else None  # NaN is garbage
    try:
        when = email.utils.parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    reference = now_wall
    if server_date:
        try:
            reference = email.utils.parsedate_to_datetime(server_date).timestamp()
        except (TypeError, ValueError, IndexError):
            reference = now_wall
    return max(0.0, when - reference)


async def call_with_retries(
    attempt: Callable[[int], Awaitable[T]],
    *,
    policy: RetryPolicy,
    clock: Clock,
    rng: random.Random,
    what: str,
    on_pause: Callable[[float], None] | None = None,
) -> T:
    """Call ``attempt(try_number)`` until it returns, retrying on :class:`RetryableFailure`.

    ``what`` names the operation in log lines ("PUT /v1/events (15 events)"). ``on_pause`` gets
    the wait of a failure marked ``pause_everyone`` (a 429), to hold back every other request too.
    Raises :class:`GaveUp` when tries or time run out; any other exception passes through.
    """
    tries = 0  # tries that sent a request
    deadline_stop = False
    last: str | None = None

    async def counted() -> T:
        nonlocal tries
        tries += 1
        try:
            return await attempt(tries)
        except DeadlinePassed:
            tries -= 1  # no slot before the deadline: nothing was sent
            raise

    def wait(state: RetryCallState) -> float:
        nonlocal last
        failure = _failure_of(state)
        last = failure.description if failure is not None else last
        if failure is not None and failure.retry_after is not None:
            seconds = failure.retry_after
        else:
            seconds = full_jitter_backoff(state.attempt_number, policy, rng)
        if failure is not None and failure.pause_everyone and on_pause is not None:
            on_pause(seconds)
        return seconds

    def stop(state: RetryCallState) -> bool:
        nonlocal deadline_stop
        if state.attempt_number >= policy.max_tries:
            return True
        if policy.deadline is not None and clock.monotonic() + state.upcoming_sleep >= (
            policy.deadline
        ):
            deadline_stop = True
            return True
        return False

    def before_sleep(state: RetryCallState) -> None:
        failure = _failure_of(state)
        logger.info(
            "%s: %s; trying again in %.1f s (try %d of %d)",
            what,
            failure.description if failure else "failed",
            state.upcoming_sleep,
            state.attempt_number + 1,
            policy.max_tries,
        )

    retrying = AsyncRetrying(
        sleep=clock.sleep,
        stop=stop,
        wait=wait,
        retry=retry_if_exception_type(RetryableFailure),
        before_sleep=before_sleep,
    )
    try:
        return await retrying(counted)
    except RetryError:
        raise _gave_up(policy, tries, last, deadline=deadline_stop) from None
    except DeadlinePassed:
        raise _gave_up(policy, tries, last, deadline=True) from None


def _failure_of(state: RetryCallState) -> RetryableFailure | None:
    if state.outcome is None or not state.outcome.failed:
        return None
    failure = state.outcome.exception()
    return failure if isinstance(failure, RetryableFailure) else None


def _gave_up(policy: RetryPolicy, tries: int, last: str | None, *, deadline: bool) -> GaveUp:
    """The plain-words message for giving up, true to what happened."""
    plural = "try" if tries == 1 else "tries"
    if deadline:
        limit = f"the deadline of {policy.deadline_seconds:g} s"
        if tries == 0 or last is None:
            message = f"not sent: {limit} passed before this request could start"
        else:
            message = (
                f"Apptoto did not answer before {limit} (after {tries} {plural}; last: {last})"
            )
    else:
        message = f"Apptoto did not answer after {tries} {plural} (last: {last})"
    return GaveUp(message, tries=tries, last=last)
