"""An appointment id that lost its leading zeros in Excel is still the id of the event it was.

Excel reads a CSV cell ``000101`` as the number 101, and a file opened and saved in Excel comes
back with ``101``; a time ``08:00 AM`` comes back ``8:00 AM``, a date ``01/05/2026``
``1/5/2026``. An id made of such cells (``appt-id-{Appt ID}``, ``{Chart #}-{Date}-{Time}``) is
then not the id its event was sent under, and every row of a re-saved file looked new: each was
held back as looking like the appointment already sent (a row whose time was also changed was
sent as a second event, the first one left with its reminders), and ``--cancel-missing`` counted
every event as gone.

Here, a live event whose id is not in the file, while the file has that id with the leading
zeros of some of its numbers dropped, is taken to be in the file under that id: it is not
cancelled, and the row is planned as that event, under the id it was sent with (a warning says
so). Only zeros that lead a number starting the id or following a separator (``-``, ``:``, ``/``,
a space) count, as a cell's value starts there: ``A0012`` is not ``A12``. An id two events could
have become, or that another event of the ledger has, is none of them; a row for another person
than its event's is not that event (it is planned as any new row).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from importer.events.cells import column_name
from importer.ledger import Ledger, LedgerEntry, appointment_keys, same_person
from importer.outcomes import RowIssue
from importer.prepare import Prepared

# Zeros leading a number that starts the id or follows a character that is not a letter or digit.
_LEADING_ZEROS = re.compile(r"(?<![^\W_])0+(?=[0-9])")
MAX_NUMBERS = 8  # numbers with leading zeros looked at in one id (2**8 ids made of it at most)


def zeros_dropped(external_id: str) -> list[str]:
    """The other ids ``external_id`` becomes when the leading zeros of some of its numbers are
    dropped (every choice of them), as Excel drops them: ``id-007`` -> ``["id-7"]``."""
    spans = [m.span() for m in _LEADING_ZEROS.finditer(external_id)][:MAX_NUMBERS]
    made = []
    for choice in range(1, 2 ** len(spans)):
        pieces, at = [], 0
        for i, (start, end) in enumerate(spans):
            if choice >> i & 1:
                pieces.append(external_id[at:start])
                at = end
        pieces.append(external_id[at:])
        made.append("".join(pieces))
    return made


def ids_without_zeros(
    entries: Iterable[LedgerEntry],
    absent: Callable[[list[str]], list[bool]],
    ledger: Ledger,
    scope: str,
) -> dict[str, LedgerEntry]:
    """Of ``entries`` (live events whose ids are not in the file), those the file holds under
    their id with leading zeros dropped: that id in the file -> the event (see the module).
    ``absent``: for each id, True when no row of the file has it."""
    claims: dict[str, list[LedgerEntry]] = {}
    for entry in entries:
        for made in zeros_dropped(entry.external_id):
            claims.setdefault(made, []).append(entry)
    if not claims:
        return {}
    candidates = list(claims)
    present = [i for i, gone in zip(candidates, absent(candidates), strict=True) if not gone]
    taken = ledger.lookup(scope, present)  # an id of its own event is that event
    found = {i: claims[i][0] for i in present if len(claims[i]) == 1 and i not in taken}
    # An event whose id the file holds twice over (id-01 and id-1 for id-001) is neither row's.
    times = [e.external_id for e in found.values()]
    return {i: e for i, e in found.items() if times.count(e.external_id) == 1}


def _same_people(payload: dict[str, Any], sent_for: set[str]) -> bool:
    """False when the row is for other people than its event was sent for (by the ledger's
    digests: some participant of each side may be the other's)."""
    persons = {person for _, person in appointment_keys(payload)}
    if not persons or not sent_for:
        return True
    return any(same_person(person, other) for person in persons for other in sent_for)


def sent_under(entry: LedgerEntry) -> str:
    """The warning of a row planned as ``entry``'s event under the id it was sent with."""
    event = f" (event {entry.apptoto_id})" if entry.apptoto_id is not None else ""
    return (
        f"is the id {entry.external_id!r} with its leading zeros lost (Excel drops them when it "
        f"saves a file): the row is taken as that appointment{event} and keeps the id it was "
        "sent under"
    )


def for_another(entry: LedgerEntry) -> str:
    """The warning of a row whose id is ``entry``'s without leading zeros, for another person."""
    event = f"event {entry.apptoto_id}" if entry.apptoto_id is not None else "that event"
    return (
        f"is the id {entry.external_id!r} with its leading zeros lost, but the row is for "
        f"another person than {event} was sent for: it is not taken as that appointment, and "
        f"{event} stays in Apptoto with its reminders"
    )


def with_ids_as_sent(
    prepared: Prepared,
    renamed: dict[str, LedgerEntry],
    ledger: Ledger,
    known: Iterable[str] = (),
) -> Prepared:
    """``prepared`` with each row whose id is a key of ``renamed`` (and not in ``known``, the
    ids the ledger has) given its event's id, with a warning that says so. Not a row for
    another person than its event was sent for (a file saved in Excel keeps its people)."""
    events = prepared.events
    skip = set(known)
    moved = {
        row: renamed[external_id]
        for row, external_id in events.external_ids.items()
        if external_id in renamed and external_id not in skip and row in events.payloads
    }
    if not moved:
        return prepared
    payloads = events.payloads
    people = ledger.people_of(prepared.mapping.scope, [e.external_id for e in moved.values()])
    others = {
        row: entry
        for row, entry in moved.items()
        if not _same_people(payloads[row], people.get(entry.external_id, set()))
    }
    moved = {row: entry for row, entry in moved.items() if row not in others}
    changed: dict[int, dict[str, Any]] = {
        row: {**payloads[row], "external_id": entry.external_id} for row, entry in moved.items()
    }
    ids = {**events.external_ids, **{row: e.external_id for row, e in moved.items()}}
    built = replace(events, external_ids=ids, assemble=lambda: {**payloads, **changed})
    column = column_name(prepared.mapping.event.external_id, "external_id")
    warnings = {row: list(found) for row, found in prepared.warnings.items()}
    said = [(row, sent_under(entry)) for row, entry in moved.items()]
    said += [(row, for_another(entry)) for row, entry in others.items()]
    for row, reason in said:
        warnings.setdefault(row, []).append(RowIssue(row, column, events.external_ids[row], reason))
    return replace(prepared, events=built, warnings=warnings)
