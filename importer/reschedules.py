"""New rows that look like an appointment moved to a new time, while the event of its old time
stays in Apptoto.

An export whose appointment ids change with the time (a mapping that makes the id of the date and
time, as ``init`` does when no column holds one, or a system that gives a moved visit a new id)
creates the moved visit anew. The event of the old time is no longer in the file, but it stays
in Apptoto with its reminders unless the run cancels the appointments no longer in the file: the
patient is then reminded of both times. A new row in the calendar of such an event, for the same
participant (a phone, email or name in common, none that differs), says so and names the old
event. Participants are compared by the ledger's digests, never by their details.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from importer.events import FirstDay
from importer.guard import sent_as
from importer.ledger import Ledger, LedgerEntry, appointment_keys, same_person
from importer.ledger.appointments import person_details
from importer.outcomes import RowIssue

MOVED = (
    "looks like a new time for the appointment sent as {event}, which is no longer in the "
    "file: that event is still in Apptoto, and its reminders go out, until an import cancels "
    "the appointments no longer in the file (--cancel-missing; on the page, the box beside them)"
)
# The old event is on a day before the file's first: no import of this file cancels it.
MOVED_BEFORE = (
    "looks like a new time for the appointment sent as {event}, which is not in the file: that "
    "event is still in Apptoto, and its reminders go out. It is on a day before the file's "
    "first ({day}), which the file does not cover, so the cancelling of appointments no longer "
    "in the file leaves it alone: if the visit moved, delete that event in Apptoto"
)


def moved_warnings(
    created: Iterable[tuple[int, str, Mapping[str, Any]]],
    gone: list[LedgerEntry],
    ledger: Ledger,
    scope: str,
    before: tuple[FirstDay | None, frozenset[str]] = (None, frozenset()),
) -> dict[int, RowIssue]:
    """For each ``(row, calendar, payload)`` of a new event that looks like the moved
    appointment of one of the ``gone`` events (live, not over, not in the file, not cancelled by
    this run), the warning naming it. ``before``: the file's first day, and the ids of the
    ``gone`` events that end before it begins (no cancelling of the file's missing rows reaches
    them)."""
    rows = list(created)
    if not gone or not rows:
        return {}
    people = ledger.people_of(scope, [e.external_id for e in gone])
    # (calendar, a digest of one contact detail) -> the gone events with it, and their people
    index: dict[tuple[str, str], list[tuple[LedgerEntry, str]]] = {}
    for entry in gone:
        for person in people.get(entry.external_id, ()):
            for detail in person_details(person):
                if detail:
                    index.setdefault((entry.calendar, detail), []).append((entry, person))
    if not index:
        return {}
    found: dict[int, RowIssue] = {}
    for row, calendar, payload in rows:
        persons = {person for _, person in appointment_keys(payload)}
        match = next(
            (
                entry
                for person in persons
                for detail in person_details(person)
                if detail
                for entry, other in index.get((calendar, detail), ())
                if same_person(person, other)
            ),
            None,
        )
        if match is None:
            continue
        day, ids = before
        said = (
            MOVED_BEFORE.format(event=sent_as(match), day=day)
            if match.external_id in ids
            else MOVED.format(event=sent_as(match))
        )
        found[row] = RowIssue(row, "", "", said)
    return found
