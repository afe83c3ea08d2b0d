"""The Apptoto API client: paced, retried, batched ``PUT /events`` with one result per event.

Public pieces: :class:`ApptotoClient`, :class:`ClientConfig`, :class:`EventResult`, the clocks
(:class:`Clock`, :class:`SystemClock`, :class:`VirtualClock` for tests), and the secret scrubbers
:func:`redact` and :class:`RedactSecrets` (a logging filter for the CLI's handlers).
"""

from __future__ import annotations

from importer.client.answers import EventResult
from importer.client.api import ApptotoClient
from importer.client.clock import Clock, SystemClock, VirtualClock
from importer.client.config import ClientConfig
from importer.client.redact import RedactSecrets, redact, secret_forms

__all__ = [
    "ApptotoClient",
    "ClientConfig",
    "Clock",
    "EventResult",
    "RedactSecrets",
    "SystemClock",
    "VirtualClock",
    "redact",
    "secret_forms",
]
