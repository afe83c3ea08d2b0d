"""The participants of a sandbox event: replacing the list as Apptoto does, and their JSON.

Apptoto replaces an event's participants whole on update, except people it already sent
messages to: those stay, after the new list. A wanted person is the same as a stored one when
they share a key (contact id or external id, phone, email; see
:meth:`~importer.sandbox.request_body.ParticipantIn.keys`).
"""

from __future__ import annotations

import dataclasses
import sqlite3
from typing import Any

from importer.sandbox.request_body import ParticipantIn

MESSAGED = "messaged"  # participant state once messages went out: updates keep such people
# A participant's columns of the table, named as the fields of ParticipantIn.
_PERSON_FIELDS = tuple(field.name for field in dataclasses.fields(ParticipantIn))


def replace_participants(
    db: sqlite3.Connection, event_id: int, wanted: tuple[ParticipantIn, ...]
) -> None:
    """Replace the list whole; people already messaged stay, after the new list."""
    stored = db.execute(
        "SELECT * FROM participants WHERE event_id = ? ORDER BY position", (event_id,)
    ).fetchall()
    unmatched = list(stored)
    for position, person in enumerate(wanted):
        same = next((row for row in unmatched if _keys(row) & person.keys()), None)
        if same is not None:
            unmatched.remove(same)
            db.execute(
                "UPDATE participants SET position = ?, name = ?, email = ?, phone = ?, "
                "normalized_phone = ?, contact_id = ?, contact_external_id = ? WHERE id = ?",
                (position, *_person_columns(person), same["id"]),
            )
        else:
            db.execute(
                "INSERT INTO participants (event_id, position, name, email, phone, "
                "normalized_phone, contact_id, contact_external_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (event_id, position, *_person_columns(person)),
            )
    kept_position = len(wanted)
    for row in unmatched:
        if row["state"] == MESSAGED:
            db.execute(
                "UPDATE participants SET position = ? WHERE id = ?", (kept_position, row["id"])
            )
            kept_position += 1
        else:
            db.execute("DELETE FROM participants WHERE id = ?", (row["id"],))


def participant_json(p: sqlite3.Row) -> dict[str, Any]:
    """One stored participant as the API answers it."""
    return {
        "id": p["id"],
        "name": p["name"],
        "email": p["email"],
        "phone": p["phone"],
        "normalized_phone": p["normalized_phone"],
        "state": p["state"],
        "contact_id": p["contact_id"],
        "contact_external_id": p["contact_external_id"],
    }


def _keys(row: sqlite3.Row) -> set[tuple[str, str]]:
    return ParticipantIn(*(row[name] for name in _PERSON_FIELDS)).keys()


def _person_columns(person: ParticipantIn) -> tuple[Any, ...]:
    # The fields in their declared order: the order the SQL above lists the columns in.
    return dataclasses.astuple(person)
