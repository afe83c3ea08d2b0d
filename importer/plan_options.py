"""The choices that change a plan (:mod:`importer.plan`), and words the command line matches in
its results: plain values, importable without pandas (the command line reads them before the rest
of the program loads)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importer.appointments import Coverage

DEFAULT_MAX_CANCEL_SHARE = 0.10  # --cancel-missing refuses to cancel more than this share
# Hint for whoever runs the import: a calendar move can be done by deleting and re-creating.
CALENDAR_MOVE = "Apptoto cannot move an appointment to another calendar"


@dataclass(frozen=True)
class PlanOptions:
    """Choices that change the plan (all off by default)."""

    full: bool = False  # re-send every valid row, even unchanged ones
    cancel_missing: bool = False  # delete events of this mapping whose rows left the file
    max_cancel_share: float = DEFAULT_MAX_CANCEL_SHARE  # guard for cancel_missing, 0..1
    force: bool = False  # cancel even past the guard
    recreate_on_calendar_change: bool = False  # delete + create instead of failing the row
    # Send new events even when they look like an appointment already sent (importer.guard):
    # every such row, or only these spreadsheet rows (the web page's "send anyway" boxes).
    allow_same_time_duplicates: bool = False
    allow_same_time_rows: frozenset[int] = frozenset()
    # Update an event whose id another file sent for another person
    # (:func:`importer.plan._other_people`). The web page's "send anyway" boxes
    # (allow_same_time_rows) cover such rows too.
    allow_shared_ids: bool = False
    # The run cancels the file's missing rows, decided with another sheet of it (several
    # sheets: the first): this one is planned as part of such a run, and cancels nothing itself.
    cancels_decided: bool = False
    # Ids in the file beside the rows planned (the other sheets of a several-sheet run): never
    # cancelled by cancel_missing.
    also_in_file: frozenset[str] = frozenset()
    # The moment the plan is made (None: the present): cancel_missing never cancels an event
    # that ended before it (a visit over, which an export of the days ahead leaves out).
    now: datetime | None = None
    # What the run's file says of the appointments it speaks for (its first day, its rows
    # called off), when the file is more than what is planned (several sheets: all of them);
    # None: worked out from the file planned. See importer.cancels.missing_events.
    coverage: Coverage | None = None
