"""The Apptoto client: paced, retried batches of events, one result per event.

Every request (first tries, retries, lookups, deletes) waits for a start slot from one shared
:class:`~importer.client.pacing.Pacer` and for a place among ``max_in_flight`` requests. Batches are
sent by ``max_in_flight`` workers; a worker owns its batch until every event in it has a result:

- 2xx: events are matched to the answer by ``external_id`` (never by position); one missing from
  the answer is looked up with ``GET /event?external_id=``.
- 401/403: :class:`~importer.errors.CredentialsRefused` at once; every other request is cancelled.
- other 4xx: a batch of several events is split in halves until each refused event stands alone,
  so the good ones still land and each refused one carries the server's explanation.
- 408/429/5xx and broken connections: retried (:mod:`importer.client.retry`); two 502 in a row
  split the batch, since Apptoto answers 502 to batches it finds too large.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Coroutine, Mapping, Sequence
from types import TracebackType
from typing import Any

import httpx

from importer.client.answers import (
    EventResult,
    apptoto_id_of,
    body_json,
    events_in_answer,
    refusal_text,
    status_text,
)
from importer.client.breaker import REFUSED_EVENT, RefusalBreaker
from importer.client.clock import Clock, SystemClock
from importer.client.config import ClientConfig
from importer.client.lookups import Lookups
from importer.client.matching import pair_events
from importer.client.retry import GaveUp
from importer.client.session import PacedSession
from importer.errors import SendError

_OnSending = Callable[[Sequence[str]], None] | None  # told the external_ids of a request going out

logger = logging.getLogger("importer.client")

UNNAMED = "sent; Apptoto stored it but did not say which of its events it is"
_SPLIT = object()  # an attempt's verdict: stop retrying this batch, send it in halves


class ApptotoClient:
    """Talks to the Apptoto API; use as ``async with ApptotoClient(config) as client``.

    ``transport`` replaces httpx's network transport (tests pass ``httpx.MockTransport``);
    ``clock`` and ``rng`` replace real time and the jitter's randomness.
    """

    def __init__(
        self,
        config: ClientConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self._session = PacedSession(
            config,
            transport=transport,
            clock=clock or SystemClock(),
            rng=rng or random.Random(),
        )
        self._lookups = Lookups(self._session)
        self._breaker = RefusalBreaker()

    def __repr__(self) -> str:
        return f"ApptotoClient(user={self.config.user!r}, base_url={self.config.base_url!r})"

    async def __aenter__(self) -> ApptotoClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections; the client cannot be used afterwards."""
        await self._session.aclose()

    async def send_events(
        self,
        events: Sequence[Mapping[str, Any]],
        *,
        on_batch: Callable[[Sequence[EventResult]], None] | None = None,
        on_sending: Callable[[Sequence[str]], None] | None = None,
    ) -> list[EventResult]:
        """Create or update ``events`` with ``PUT /events`` in batches; one result per event.

        Every event needs a unique, non-empty string ``external_id`` (else ``ValueError``, nothing
        sent): it makes retries safe and matches answers to events. Results come back in input
        order; ``on_batch`` gets each batch's results as soon as the batch is settled, and
        ``on_sending`` the external_ids of each request about to go out (every try: an event
        named there may be in Apptoto even if no answer comes). Failures
        of single events or batches are results with ``ok=False``; only refused credentials
        (``CredentialsRefused``) or an unusable address (``SendError``) raise.
        """
        external_ids = _external_ids(events)
        self._session.begin()
        size = self.config.batch_size
        batches = iter([list(events[i : i + size]) for i in range(0, len(events), size)])
        results: dict[str, EventResult] = {}

        async def worker() -> None:
            for batch in batches:  # one iterator shared by all workers: each batch taken once
                if self._breaker.opened_by is not None:
                    settled = [_failed(event, self._breaker.not_sent()) for event in batch]
                else:
                    settled = await self._send_or_hold_back(batch, on_sending)
                results.update((result.external_id, result) for result in settled)
                if on_batch is not None:
                    on_batch(settled)

        workers = min(self.config.max_in_flight, -(-len(events) // size))
        await _all_or_first_error([worker() for _ in range(workers)])
        return [results[external_id] for external_id in external_ids]

    async def get_event(self, external_id: str) -> dict[str, Any] | None:
        """The event Apptoto holds under ``external_id``, or None when there is none.

        Paced and retried like every request; raises ``SendError`` when Apptoto does not answer
        within the tries or the deadline, ``CredentialsRefused`` when the credentials are refused.
        """
        self._session.begin()
        try:
            return await self._lookups.find(external_id=external_id)
        except GaveUp as exc:
            raise SendError(f"looking up event {external_id!r}: {exc.message}") from None

    async def delete_event(
        self,
        *,
        apptoto_id: int | None = None,
        external_id: str | None = None,
        on_sending: Callable[[], None] | None = None,
    ) -> EventResult:
        """Delete one event by Apptoto id (preferred) or external_id: ``DELETE /events?id=``.

        ``ok`` only when Apptoto confirms it: its answer shows the event deleted, or a lookup
        afterwards shows it deleted or gone (:mod:`importer.client.lookups`). Failures are
        results with ``ok=False``; only refused credentials raise. Passing neither id raises
        ``ValueError``. ``on_sending`` is called just before each try of the DELETE goes out
        (a run stopped then cannot say the event was not deleted).
        """
        if apptoto_id is None and not external_id:
            raise ValueError("delete_event needs apptoto_id or external_id")
        self._session.begin()
        return await self._lookups.delete(
            apptoto_id=apptoto_id, external_id=external_id, on_sending=on_sending
        )

    async def _send_or_hold_back(
        self, batch: list[Mapping[str, Any]], on_sending: _OnSending
    ) -> list[EventResult]:
        """Send ``batch`` but the events of calendars that refuse every event; batch order."""
        held = {i: self._breaker.held_back(event) for i, event in enumerate(batch)}
        to_send = [event for i, event in enumerate(batch) if held[i] is None]
        sent = iter(await self._put_batch(to_send, on_sending) if to_send else [])
        settled = [
            _failed(event, why) if (why := held[i]) is not None else next(sent)
            for i, event in enumerate(batch)
        ]
        if to_send:
            results = {r.external_id: r for r in settled}
            sent_results = [results[str(e["external_id"])] for e in to_send]
            self._breaker.note(sent_results)
            self._breaker.note_calendars(to_send, sent_results)
        return settled

    # --- one batch -------------------------------------------------------------------------

    async def _put_batch(
        self, events: list[Mapping[str, Any]], on_sending: _OnSending = None
    ) -> list[EventResult]:
        """Settle one batch: send it (retried), split it if needed; results in batch order."""
        count = len(events)
        ids = [str(event["external_id"]) for event in events]
        sending = None if on_sending is None else (lambda: on_sending(ids))
        what = f"PUT {self._session.base_path}/events ({count} event{'s' if count != 1 else ''})"
        body = {"events": [dict(event) for event in events]}
        last_was_502 = False

        async def attempt(try_number: int) -> httpx.Response | object:
            nonlocal last_was_502
            after_502, last_was_502 = last_was_502, False
            response = await self._session.send_once(
                "PUT",
                "/events",
                f"{what}, try {try_number}",
                json=body,
                on_sending=sending,
            )
            if response.status_code == 502:
                if after_502 and count > 1:
                    return _SPLIT
                last_was_502 = True
            self._session.raise_if_retryable(response)
            return response

        try:
            outcome = await self._session.retrying(attempt, what)
        except GaveUp as exc:
            return [_failed(event, exc.message) for event in events]
        if not isinstance(outcome, httpx.Response):
            logger.info("%s: 502 Bad Gateway twice in a row; sending it in halves", what)
            return await self._in_halves(events, on_sending)
        if outcome.is_success:
            return await self._match(events, outcome)
        if outcome.status_code == 404 and count == 1 and "id" in events[0]:
            # Apptoto no longer has that id (deleted there): the external_id decides instead.
            logger.info("%s: 404 for the event's id; sending it by external_id", what)
            by_external_id = {k: v for k, v in events[0].items() if k != "id"}
            return await self._put_batch([by_external_id], on_sending)
        as_one = refusal_text(REFUSED_EVENT, outcome, self._session.secrets)
        if outcome.is_client_error and self._breaker.stops(as_one):
            return [_failed(event, as_one) for event in events]  # systematic: no splitting
        if outcome.is_client_error and count > 1:
            logger.info(
                "%s: refused (%s); sending it in halves to find the refused events",
                what,
                status_text(outcome),
            )
            return await self._in_halves(events, on_sending)
        reason = "Apptoto refused the event" if count == 1 else "Apptoto refused the batch"
        message = refusal_text(reason, outcome, self._session.secrets)
        return [_failed(event, message) for event in events]

    async def _in_halves(
        self, events: list[Mapping[str, Any]], on_sending: _OnSending
    ) -> list[EventResult]:
        # Each half gets its own try budget; the deadline still bounds the whole run.
        middle = len(events) // 2
        first = await self._put_batch(events[:middle], on_sending)
        return first + await self._put_batch(events[middle:], on_sending)

    async def _match(
        self, events: list[Mapping[str, Any]], response: httpx.Response
    ) -> list[EventResult]:
        """Pair events with the stored events of the answer (:mod:`.matching`); look up others."""
        returned = events_in_answer(body_json(response))
        if returned is None:
            why = "Apptoto's answer was not the expected list of events"
            logger.info("%s (%s); looking up %d events", why, status_text(response), len(events))
            returned = []
        else:
            why = "Apptoto's answer did not list this event"
        paired, unclaimed = pair_events(events, returned)
        missing = [str(e["external_id"]) for e in events if str(e["external_id"]) not in paired]
        # The answer listed one unnamed event for each event left: all stored, only not named.
        stored_unnamed = (
            bool(missing)
            and len(unclaimed) == len(missing)
            and all(answered.get("external_id") is None for answered in unclaimed)
        )
        lookups = [self._confirm(external_id, why, stored_unnamed) for external_id in missing]
        if stored_unnamed:  # one at a time: the first may show lookups do not work here
            confirmed = [await lookup for lookup in lookups]
        else:
            confirmed = await _all_or_first_error(lookups)
        found = dict(zip(missing, confirmed, strict=True))
        return [
            found.get(external_id)
            or EventResult(
                external_id, True, apptoto_id_of(paired[external_id]), paired[external_id]
            )
            for external_id in (str(event["external_id"]) for event in events)
        ]

    async def _confirm(self, external_id: str, why: str, stored_unnamed: bool) -> EventResult:
        """Look up an event the answer did not name: stored after all, or failed with the reason.

        ``stored_unnamed``: the answer listed it without its external_id; if the lookup cannot
        tell which it is, it counts as sent with its Apptoto id unknown (and lookups stop).
        """
        try:
            stored = await self._lookups.find(external_id=external_id)
        except GaveUp as exc:
            if stored_unnamed:
                return EventResult(external_id, True, message=f"{UNNAMED}: {exc.message}")
            return EventResult(
                external_id, False, message=f"{why}, and the lookup failed: {exc.message}"
            )
        if stored is None and stored_unnamed:
            self._lookups.give_up_on_lookups(
                "Apptoto's lookup did not find an event it had just stored"
            )
            return EventResult(external_id, True, message=f"{UNNAMED}: {self._lookups.unusable}")
        if stored is None:
            return EventResult(
                external_id,
                False,
                message=f"{why}, and Apptoto has no event with its id: not stored",
            )
        return EventResult(
            external_id, True, apptoto_id_of(stored), stored, f"{why}; a lookup found it stored"
        )


def _external_ids(events: Sequence[Mapping[str, Any]]) -> list[str]:
    """Each event's external_id, checked: present, a non-empty string, unique."""
    seen: dict[str, int] = {}
    for number, event in enumerate(events, start=1):
        external_id = event.get("external_id") if isinstance(event, Mapping) else None
        if not isinstance(external_id, str) or not external_id.strip():
            raise ValueError(
                f"event {number} of {len(events)} has no external_id (got {external_id!r}): "
                "every event needs one so that a retry updates instead of duplicating"
            )
        if external_id in seen:
            raise ValueError(
                f"external_id {external_id!r} is used by events {seen[external_id]} and {number}: "
                "each event needs its own"
            )
        seen[external_id] = number
    return list(seen)


def _failed(event: Mapping[str, Any], message: str) -> EventResult:
    return EventResult(str(event["external_id"]), False, message=message)


async def _all_or_first_error(coroutines: Sequence[Coroutine[Any, Any, Any]]) -> list[Any]:
    """Run ``coroutines`` together; on the first error cancel the rest and raise that error."""
    tasks = [asyncio.ensure_future(coroutine) for coroutine in coroutines]
    if not tasks:
        return []
    try:
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    # Every error is retrieved (two workers refused at once must not leave one unread).
    errors = [t.exception() for t in tasks if t in done and not t.cancelled()]
    for error in errors:
        if error is not None:
            raise error
    return [task.result() for task in tasks]
