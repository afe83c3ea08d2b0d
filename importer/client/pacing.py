"""Pacing: evenly spaced request starts shared by every task of one client.

Apptoto allows about 100 requests a minute. Waiting after each answer reaches only a fraction of
that when answers take a second or more, so the client keeps several requests in flight and spaces
their *starts*: each start takes the next free slot on a grid of ``interval`` seconds. Slots are
handed out in call order without awaiting in between, so tasks never race for the same slot.

A 429 with Retry-After pauses the whole pacer: no slot is given before the pause ends, also to
tasks that already hold a later slot (they check again when they wake).
"""

from __future__ import annotations

import logging

from importer.client.clock import Clock

logger = logging.getLogger("importer.client")


class DeadlinePassed(Exception):
    """The next free start slot is after the caller's deadline; nothing was sent."""


class Pacer:
    """Hands out request starts at least ``interval`` seconds apart."""

    def __init__(self, interval: float, clock: Clock) -> None:
        if interval < 0:
            raise ValueError(f"pacing interval must be 0 or more seconds, not {interval!r}")
        self.interval = interval
        self._clock = clock
        self._next_slot = float("-inf")  # earliest time the next start may happen
        self._paused_until = float("-inf")  # no request starts before it (-inf: not paused)

    def slow_to(self, interval: float) -> bool:
        """Space starts at least ``interval`` seconds apart from now on; True if that is slower."""
        if interval <= self.interval:
            return False
        self.interval = interval
        return True

    def pause_until(self, when: float) -> None:
        """Let no request start before monotonic time ``when`` (a later pause wins)."""
        if when > self._paused_until:
            self._paused_until = when
            # Slots already promised before the pause end are void; queue after it.
            self._next_slot = max(self._next_slot, when)

    async def wait_for_slot(self, deadline: float | None = None) -> float:
        """Wait for this caller's start slot and return its time (monotonic seconds).

        Raises :class:`DeadlinePassed`, without taking a slot, when the slot would come at or
        after ``deadline``.
        """
        while True:
            now = self._clock.monotonic()
            slot = max(now, self._next_slot, self._paused_until)
            if deadline is not None and slot >= deadline:
                raise DeadlinePassed
            # Reserve before awaiting: the next caller gets the slot after this one.
            self._next_slot = slot + self.interval
            if slot > now:
                await self._clock.sleep(slot - now)
            if self._clock.monotonic() >= self._paused_until:
                return slot
            logger.debug("a pause began while waiting for a start slot; waiting again")
