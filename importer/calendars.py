"""New calendars are a choice: rows that would make Apptoto create a calendar say so.

Apptoto creates a calendar the first time an event names it, so a typo ("Dr Chen " with a
trailing space) silently makes a new calendar whose reminders nobody set up. A row to be created
in a calendar that no event recorded in the ledger was ever sent to carries a warning; the plan
lists those calendars once. (The ledger is all the importer knows of Apptoto's calendars.) On a
first run the ledger knows no calendar: every calendar is new, so only the plan's list names them
(a warning on every row would hide the warnings that matter).
"""

from __future__ import annotations

from dataclasses import replace

from importer.ledger import Ledger
from importer.mapping import Mapping
from importer.outcomes import PlanAction, RowIssue
from importer.plan import Plan, PlannedRow, calendar_of

# Said before a run and after it alike (a plan, a run's report, the page), so in no tense.
NEW_CALENDAR = "is a new calendar: no appointment was sent to it before, so Apptoto creates it"


def new_calendar_warning(calendar: str) -> str:
    """The plan's line (and the page's note) for one calendar."""
    return f"{calendar!r} {NEW_CALENDAR}"


def warn_of_new_calendars(
    rows: list[PlannedRow], mapping: Mapping, ledger: Ledger | None
) -> tuple[list[PlannedRow], list[str]]:
    """``rows`` with a warning on each create into an unknown calendar (unless the ledger knows
    no calendar at all); those calendars, sorted."""
    template = mapping.event.calendar
    if template is None:  # calendar_id: ids name calendars that exist
        return rows, []
    known = ledger.known_calendars() if ledger is not None else set()
    column = template.columns[0] if len(template.columns) == 1 else ""
    new: set[str] = set()
    out = []
    for planned in rows:
        calendar = calendar_of(planned.payload or {})
        if planned.action is not PlanAction.CREATE or not calendar or calendar in known:
            out.append(planned)
            continue
        new.add(calendar)
        if not known:
            out.append(planned)
            continue
        warning = RowIssue(planned.row, column, calendar, NEW_CALENDAR)
        out.append(replace(planned, warnings=(*planned.warnings, warning)))
    return out, sorted(new)


def with_new_calendars(plan: Plan, mapping: Mapping, ledger: Ledger | None) -> Plan:
    """``plan`` with its new calendars listed and their rows warned (see the module)."""
    rows, new = warn_of_new_calendars(plan.rows, mapping, ledger)
    return replace(plan, rows=rows, new_calendars=tuple(new))
