"""The circuit breaker for systematic refusals: the same 4xx for every event, batch after batch.

A refused batch is split in halves to find the refused events; when the account refuses every
event for the same reason (a field it does not accept), that costs ``2n - 1`` requests a batch
and finds nothing. Once every event of ``SYSTEMATIC_BATCHES`` batches came back refused with the
same words, batches refused with those words are no longer split, and batches not yet sent are
not sent: their rows fail with that refusal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from importer.client.answers import EventResult

# Whole batches refused the same way before the breaker opens.
SYSTEMATIC_BATCHES = 2
# Events of one calendar refused the same way (none stored) before its other events are held back.
SYSTEMATIC_EVENTS_PER_CALENDAR = 3


class RefusalBreaker:
    """Counts batches refused whole with one message; opens after ``SYSTEMATIC_BATCHES``."""

    def __init__(self, batches: int = SYSTEMATIC_BATCHES) -> None:
        self._batches = batches
        self._seen: Counter[str] = Counter()
        self.opened_by: str | None = None  # the refusal that opened it
        self._calendar_refusals: dict[str, Counter[str]] = {}
        self._calendars_stored: set[str] = set()
        self.closed_calendars: dict[str, str] = {}  # calendar -> the refusal of all its events

    def note_calendars(
        self, events: Sequence[Mapping[str, Any]], results: Sequence[EventResult]
    ) -> None:
        """Learn which calendars refuse every event the same way (a 403 on one calendar)."""
        for event, result in zip(events, results, strict=True):
            calendar = _calendar(event)
            if result.ok:
                self._calendars_stored.add(calendar)
                self.closed_calendars.pop(calendar, None)
            elif (
                result.message.startswith(REFUSED_EVENT) and calendar not in self._calendars_stored
            ):
                seen = self._calendar_refusals.setdefault(calendar, Counter())
                seen[result.message] += 1
                if seen[result.message] >= SYSTEMATIC_EVENTS_PER_CALENDAR:
                    self.closed_calendars.setdefault(calendar, result.message)

    def held_back(self, event: Mapping[str, Any]) -> str | None:
        """Why ``event`` is not sent (its calendar refuses every event), or None to send it."""
        refusal = self.closed_calendars.get(_calendar(event))
        if refusal is None:
            return None
        return (
            f"not sent: Apptoto refused the earlier events of calendar {_calendar(event)!r} "
            f"the same way ({refusal})"
        )

    def note(self, results: Sequence[EventResult]) -> None:
        """Take one settled batch's results into account."""
        messages = {result.message for result in results if not result.ok}
        if len(messages) != 1 or any(result.ok for result in results):
            return
        [message] = messages
        if not message.startswith(REFUSED_EVENT):
            return
        self._seen[message] += 1
        if self._seen[message] >= self._batches and self.opened_by is None:
            self.opened_by = message

    def stops(self, message: str) -> bool:
        """Whether a refusal with ``message`` is the systematic one (no splitting)."""
        return self.opened_by is not None and message == self.opened_by

    def not_sent(self) -> str:
        """The failure of an event not sent once the breaker is open."""
        return (
            f"not sent: Apptoto refused every event of {self._batches} batches the same way, "
            f"so the rest were not sent ({self.opened_by})"
        )


REFUSED_EVENT = "Apptoto refused the event"


def _calendar(event: Mapping[str, Any]) -> str:
    return str(event.get("calendar", event.get("calendar_id", "")))
