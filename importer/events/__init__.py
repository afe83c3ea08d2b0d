"""Stage 4, events: each valid row turned by the mapping into an Apptoto event payload.

:func:`build_events` renders the mapping's ``{Column}`` templates over the whole frame
(:mod:`importer.events.cells`), reads each event's start and end in its zone
(:mod:`importer.events.times`), its participants (:mod:`importer.events.participants`) and the
warnings that do not stop a row (:mod:`importer.events.row_warnings`), and assembles the payloads
(:mod:`importer.events.build`).
"""

from importer.events.build import (
    AUTO_TAG,
    BuiltEvents,
    FirstDay,
    build_events,
    external_ids_of,
    first_day,
)
from importer.events.cells import IssueCollector, TemplateRenderer
from importer.events.times import event_times

__all__ = [
    "AUTO_TAG",
    "BuiltEvents",
    "FirstDay",
    "IssueCollector",
    "TemplateRenderer",
    "build_events",
    "external_ids_of",
    "first_day",
    "event_times",
]
