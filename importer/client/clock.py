"""Time for the client: a small protocol, the system clock, and a virtual clock for tests.

The client never calls ``time`` or ``asyncio.sleep`` itself; it asks its :class:`Clock`. Under
:class:`VirtualClock`, time moves only when every task is waiting, straight to the next wake-up, so
minutes of pacing and backoff run in milliseconds and always in the same order (deterministic).
"""

from __future__ import annotations

import asyncio
import selectors
import time
from collections.abc import Coroutine, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from _typeshed import FileDescriptorLike

T = TypeVar("T")

# A loop with nothing scheduled and nothing ready waits for real I/O; with in-memory transports
# there is none, so after this many real seconds the virtual loop reports a deadlock.
_DEADLOCK_AFTER_SECONDS = 10.0


class Clock(Protocol):
    """Where the client reads the time and how it waits."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (origin arbitrary)."""
        ...

    def wall_time(self) -> float:
        """Seconds since the Unix epoch (UTC), to read Retry-After dates."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (0 or less: just yield to other tasks)."""
        ...


class SystemClock:
    """The real clocks of the machine and ``asyncio.sleep``."""

    def monotonic(self) -> float:
        """Seconds from ``time.monotonic``."""
        return time.monotonic()

    def wall_time(self) -> float:
        """Seconds since the epoch from ``time.time``."""
        return time.time()

    async def sleep(self, seconds: float) -> None:
        """Wait with ``asyncio.sleep``."""
        await asyncio.sleep(max(0.0, seconds))


class VirtualClock:
    """A clock whose time jumps to the next wake-up when every task waits (tests, simulations).

    Run coroutines with :meth:`run`; inside, ``asyncio.sleep`` and the loop's timers are virtual
    too, so a fake server can ``await asyncio.sleep(latency)``. ``sleeps`` records every duration
    passed to :meth:`sleep` (the client's backoffs and pacing waits), in call order.

    Only for in-memory transports (``httpx.MockTransport``): with real sockets, a wait for I/O
    while a timer is set would jump virtual time to that timer (e.g. a read timeout).
    """

    def __init__(self, *, wall_start: float = 1_767_225_600.0) -> None:
        self.now = 0.0  # virtual monotonic seconds
        self.wall_start = wall_start  # wall time at virtual 0 (default 2026-01-01T00:00:00Z)
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        """Virtual seconds since the clock was made."""
        return self.now

    def wall_time(self) -> float:
        """``wall_start`` plus the virtual seconds elapsed."""
        return self.wall_start + self.now

    async def sleep(self, seconds: float) -> None:
        """Record ``seconds`` and wait that long in virtual time."""
        self.sleeps.append(seconds)
        await asyncio.sleep(max(0.0, seconds))

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` to the end on a fresh event loop that keeps this virtual time."""
        loop = _VirtualTimeLoop(self)
        try:
            return loop.run_until_complete(coroutine)
        finally:
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()


class _VirtualSelector(selectors.BaseSelector):
    """Polls real I/O without blocking; a wait for a timer advances virtual time instead."""

    def __init__(self, clock: VirtualClock) -> None:
        self._clock = clock
        self._real = selectors.DefaultSelector()

    def register(
        self, fileobj: FileDescriptorLike, events: int, data: Any = None
    ) -> selectors.SelectorKey:
        return self._real.register(fileobj, events, data)

    def unregister(self, fileobj: FileDescriptorLike) -> selectors.SelectorKey:
        return self._real.unregister(fileobj)

    def modify(
        self, fileobj: FileDescriptorLike, events: int, data: Any = None
    ) -> selectors.SelectorKey:
        return self._real.modify(fileobj, events, data)

    def get_map(self) -> Mapping[FileDescriptorLike, selectors.SelectorKey]:
        return self._real.get_map()

    def close(self) -> None:
        self._real.close()

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = self._real.select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:
            # Nothing scheduled: only another thread could wake us (e.g. an executor).
            ready = self._real.select(_DEADLOCK_AFTER_SECONDS)
            if not ready:
                raise RuntimeError("virtual clock: every task waits and no timer is set (deadlock)")
            return ready
        self._clock.now += timeout
        return []


class _VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An asyncio loop whose ``time()`` is the virtual clock's."""

    def __init__(self, clock: VirtualClock) -> None:
        self._virtual_clock = clock
        super().__init__(selector=_VirtualSelector(clock))

    def time(self) -> float:
        return self._virtual_clock.now
