"""The circuit breaker for systematic refusals: the same 4xx for every event, batch after batch.

A refused batch is split in halves to find the refused events; when the account refuses every
event for the same reason (a field it does not accept), that costs ``2n - 1`` requests a batch
and finds nothing. Once every event of ``SYSTEMATIC_BATCHES`` batches came back refused with the
same words, batches refused with those words are no longer split, and batches not yet sent are
not sent: their rows fail with that refusal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from importer.client.answers import EventResult

# Whole batches refused the same way before the breaker opens.
SYSTEMATIC_BATCHES = 2


class RefusalBreaker:
    """Counts batches refused whole with one message; opens after ``SYSTEMATIC_BATCHES``."""

    def __init__(self, batches: int = SYSTEMATIC_BATCHES) -> None:
        self._batches = batches
        self._seen: Counter[str] = Counter()
        self.opened_by: str | None = None  # the refusal that opened it

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
