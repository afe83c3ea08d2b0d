"""Rows the same-appointment guard holds back (:mod:`importer.guard`), as the review shows them.

A row that would create an event in the same calendar, at the same start, for the same person as
an event already sent (by any mapping, from any file) is not sent: the review lists it with the
event it looks like and a "Send anyway" box. Ticked rows travel with the Send form and are sent
(``PlanOptions.allow_same_time_rows``); nothing else can be added that way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from importer.outcomes import PlanAction, SkipReason
from importer.plan import PlannedRow
from importer.web.preview import EventPreview, preview_event

SEND_ANYWAY_FIELD = "send_anyway"  # the Send form's boxes: one spreadsheet row number each
MAX_HELD_SHOWN = 500  # rows listed with a box at most (the rest are in the check download)
_PLAN_WORDS = "not sent: it "  # how the plan's message starts; the page says the rest
_HELD = (SkipReason.SAME_APPOINTMENT, SkipReason.OTHER_PERSON)


@dataclass(frozen=True)
class HeldRow:
    """A row held back as the same appointment as an event already there."""

    row: int  # spreadsheet row
    reason: str  # "Looks like the appointment already sent as event 812 (row 2 of ..., date)..."
    event: EventPreview  # the event it would create
    sheet: str = ""  # set when the review covers several sheets: then it has no "Send anyway" box


def _sentence(message: str) -> str:
    text = message.removeprefix(_PLAN_WORDS)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def is_held(row: PlannedRow) -> bool:
    """True for a row of a plan held back as an appointment already there, or as another
    person's under the same id (:func:`importer.plan.other_person_message`)."""
    return row.action is PlanAction.SKIP and row.reason in _HELD


def held_row(row: PlannedRow, payload: dict[str, Any]) -> HeldRow:
    """A row held back (:func:`is_held`) as the review lists it, with the event it would be."""
    return HeldRow(row.row, _sentence(row.message), preview_event(row.row, "held back", payload))


def ticked_rows(values: Iterable[object], held: Iterable[HeldRow]) -> frozenset[int]:
    """The rows ticked "Send anyway" among those held back; anything else in the form is dropped."""
    may = {h.row for h in held if not h.sheet}  # row numbers repeat across sheets
    rows = {int(v) for v in map(str, values) if v.isdigit()}
    return frozenset(rows & may)
