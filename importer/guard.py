"""The same-appointment guard: a new event is held back when the same visit is already there.

External ids say which rows are the same event only when every file and mapping writes them the
same way. Before a row creates an event, the plan (:mod:`importer.plan`) asks this module whether
an event in the same calendar, at the same instant, for the same participant (phone, email, name
or Apptoto contact) is already live: in the ledger, under any mapping, or in an earlier row of the
same file. Such a row would give a patient two reminders for one visit; it is not sent unless the
user says so. Keys: :mod:`importer.ledger.appointments`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import PurePath
from typing import Any

from importer.ledger import Ledger, LedgerEntry, appointment_keys, same_person

WHY = "same calendar, start and participant"


def _sent_as(entry: LedgerEntry) -> str:
    """``event 812 (row 4 of export.xlsx, 2026-04-13)``: what an earlier run sent."""
    event = f"event {entry.apptoto_id}" if entry.apptoto_id is not None else entry.external_id
    where = [f"row {entry.source_row} of " if entry.source_row is not None else ""]
    where.append(PurePath(entry.source_file).name or entry.source_file)
    return f"{event} ({''.join(where)}, {entry.updated_at[:10]})"


def same_appointments(
    new: Mapping[int, Mapping[str, Any]],
    staying: Mapping[int, Mapping[str, Any]],
    ledger: Ledger | None,
    *,
    ignored: Collection[tuple[str, str]] = (),
) -> dict[int, str]:
    """Rows of ``new`` that look like an appointment already there, each with the reason.

    ``new``: row -> payload of the rows that would create an event, in sheet order.
    ``staying``: row -> payload of the file's other valid rows, whose events stay (updated or
    not). ``ignored``: (mapping, external_id) of ledger events this run updates or cancels,
    which are judged by their rows in ``staying`` (or are going away). A row is held back when
    the ledger has a live event sharing one of its keys with the same person, or another row of
    the file does (a staying row, or an earlier new row).
    """
    keys_of = {row: appointment_keys(payload) for row, payload in new.items()}
    wanted = {key for keys in keys_of.values() for key, _ in keys}
    if not wanted:
        return {}
    known = ledger.same_appointments(wanted) if ledger is not None else {}
    ignored = set(ignored)
    # key -> person -> the first row of the file with them: only the first one is named, so
    # rows repeating a key and person add nothing to scan (20,000 of one slot were quadratic).
    in_file: dict[str, dict[str, int]] = {}

    def note(key: str, person: str, row: int) -> None:
        first = in_file.setdefault(key, {})
        first[person] = min(row, first.get(person, row))

    for row, payload in staying.items():
        for key, person in appointment_keys(payload):
            if key in wanted:
                note(key, person, row)
    held: dict[int, str] = {}
    for row, keys in keys_of.items():
        sent = [
            entry
            for key, person in sorted(keys)
            for other, entry in known.get(key, ())
            if same_person(person, other)
            and (entry.mapping, entry.external_id) not in ignored
            # The same external_id updates that event in Apptoto: no second one.
            and entry.external_id != new[row].get("external_id")
        ]
        earlier = min(
            (
                other_row
                for key, person in keys
                for other, other_row in in_file.get(key, {}).items()
                if same_person(person, other)
            ),
            default=None,
        )
        if sent:
            held[row] = f"looks like the appointment already sent as {_sent_as(sent[0])}: {WHY}"
        elif earlier is not None:
            held[row] = f"looks like the same appointment as row {earlier} of this file: {WHY}"
        for key, person in keys:
            note(key, person, row)
    return held
