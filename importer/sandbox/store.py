"""What the sandbox holds: calendars, events, participants and the request log, in SQLite.

One implementation for ``:memory:`` and for a file (so a run can be inspected afterwards with the
``sqlite3`` tool). One connection guarded by a lock: safe from any thread. A write request runs in
one transaction, so it succeeds or fails as a whole. How a participant list is replaced:
:mod:`importer.sandbox.participants`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from importer.sandbox.participants import MESSAGED, participant_json, replace_participants
from importer.sandbox.request_body import (
    REQUIRED_FOR_NEW,
    EventChange,
    EventNotFound,
    EventRefused,
    utc_text,
)
from importer.sandbox.request_log import (
    REQUESTS_SCHEMA,
    LoggedRequest,
    log_request,
    logged_requests,
    stats,
)

# Ids start high so that an Apptoto id is never mistaken for a row number or another id.
_FIRST_IDS = {"calendars": 100, "events": 50_000, "participants": 900_000}
_SCHEMA = """
CREATE TABLE IF NOT EXISTS calendars (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    calendar_id INTEGER NOT NULL REFERENCES calendars(id),
    external_id TEXT, title TEXT, start_time TEXT, end_time TEXT, start_utc TEXT,
    time_zone TEXT, location TEXT, content TEXT,
    all_day INTEGER NOT NULL DEFAULT 0, show_as INTEGER, is_deleted INTEGER NOT NULL DEFAULT 0,
    custom_data TEXT NOT NULL DEFAULT '{}');
CREATE INDEX IF NOT EXISTS events_external_id ON events(external_id);
CREATE TABLE IF NOT EXISTS participants (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id INTEGER NOT NULL REFERENCES events(id), position INTEGER NOT NULL,
    name TEXT, email TEXT, phone TEXT, normalized_phone TEXT,
    contact_id INTEGER, contact_external_id TEXT, state TEXT NOT NULL DEFAULT 'pending');
CREATE INDEX IF NOT EXISTS participants_event ON participants(event_id);
"""
_PLAIN_COLUMNS = ("title", "start_time", "end_time", "time_zone", "location", "content")


class EventStore:
    """Calendars, events and the request log in one SQLite database."""

    def __init__(self, db_path: str | None = None) -> None:
        self.db_path = db_path or ":memory:"
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.db_path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        with self._lock:
            self._db.executescript(_SCHEMA + REQUESTS_SCHEMA)
            self._seed_ids()

    def close(self) -> None:
        """Close the database; the store cannot be used afterwards."""
        with self._lock:
            self._db.close()

    def _seed_ids(self) -> None:
        for table, first in _FIRST_IDS.items():
            known = self._db.execute("SELECT 1 FROM sqlite_sequence WHERE name = ?", (table,))
            if known.fetchone() is None:
                self._db.execute(
                    "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, first)
                )

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def reset(self) -> None:
        """Forget every calendar, event, participant and logged request; ids start over."""
        with self._transaction() as db:
            for table in ("participants", "events", "calendars", "requests"):
                db.execute(f"DELETE FROM {table}")
            db.execute("DELETE FROM sqlite_sequence")
            self._seed_ids()

    # --- writing events -------------------------------------------------------------------

    def store_events(
        self,
        changes: list[EventChange],
        *,
        create_only: bool,
        match_deleted: bool = False,
        any_calendar: bool = False,
        unknown_id_404: bool = False,
    ) -> list[dict[str, Any]]:
        """Create or update events (PUT; ``create_only`` for POST) as one transaction.

        Raise EventRefused (nothing stored) when any event is refused. ``match_deleted``: a
        deleted event's external_id still matches (it is updated, and stays deleted);
        ``any_calendar``: an event matched in another calendar is updated there, not refused;
        ``unknown_id_404``: an ``id`` the store does not have raises EventNotFound.
        """
        with self._transaction() as db:
            if unknown_id_404:
                for change in changes:
                    if change.id is not None and self._find_id(change.id, None) is None:
                        raise EventNotFound(f"{change.label}: no event with id {change.id}")
            ids = [
                self._store_one(db, change, create_only, match_deleted, any_calendar)
                for change in changes
            ]
            return [self._event(db, event_id) for event_id in ids]

    def _store_one(
        self,
        db: sqlite3.Connection,
        change: EventChange,
        create_only: bool,
        match_deleted: bool,
        any_calendar: bool,
    ) -> int:
        existing = None if create_only else self._match(db, change, match_deleted)
        if existing is None:
            return self._create(db, change)
        if not any_calendar:
            self._check_same_calendar(db, change, existing)
        self._patch(db, change, existing["id"])
        return int(existing["id"])

    def _match(
        self, db: sqlite3.Connection, change: EventChange, match_deleted: bool
    ) -> sqlite3.Row | None:
        # Apptoto's id first, then external_id. A deleted event is out of play for external_id
        # (sending it again creates a new event) unless ``match_deleted``.
        if change.id is not None:
            row = db.execute("SELECT * FROM events WHERE id = ?", (change.id,)).fetchone()
            if row is not None:
                return row
        if change.external_id is not None:
            live_only = "" if match_deleted else "AND is_deleted = 0 "
            return db.execute(
                f"SELECT * FROM events WHERE external_id = ? {live_only}"
                "ORDER BY is_deleted, id DESC LIMIT 1",
                (change.external_id,),
            ).fetchone()
        return None

    def _calendar_id(self, db: sqlite3.Connection, change: EventChange, *, provision: bool) -> int:
        """The calendar an event names; provision a calendar by name on first use."""
        if change.calendar_id is not None:
            row = db.execute("SELECT name FROM calendars WHERE id = ?", (change.calendar_id,))
            found = row.fetchone()
            if found is None:
                raise EventRefused(f"{change.label}: calendar_id {change.calendar_id} is unknown")
            if change.calendar is not None and found["name"] != change.calendar:
                raise EventRefused(
                    f"{change.label}: calendar {change.calendar!r} and calendar_id "
                    f"{change.calendar_id} name different calendars"
                )
            return change.calendar_id
        if change.calendar is None:
            raise EventRefused(
                f"{change.label}: calendar or calendar_id is required for a new event"
            )
        row = db.execute("SELECT id FROM calendars WHERE name = ?", (change.calendar,)).fetchone()
        if row is not None:
            return int(row["id"])
        if not provision:
            return -1
        return int(
            db.execute("INSERT INTO calendars (name) VALUES (?)", (change.calendar,)).lastrowid or 0
        )

    def _check_same_calendar(
        self, db: sqlite3.Connection, change: EventChange, existing: sqlite3.Row
    ) -> None:
        if change.calendar is None and change.calendar_id is None:
            return
        wanted = self._calendar_id(db, change, provision=False)
        if wanted != existing["calendar_id"]:
            raise EventRefused(
                f"{change.label}: calendar cannot change: Apptoto does not move events between "
                f"calendars (event {existing['id']} is in calendar {existing['calendar_id']})"
            )

    def _create(self, db: sqlite3.Connection, change: EventChange) -> int:
        for field in REQUIRED_FOR_NEW:
            if change.plain.get(field) is None:
                raise EventRefused(f"{change.label}: {field} is required for a new event")
        calendar_id = self._calendar_id(db, change, provision=True)
        cursor = db.execute(
            "INSERT INTO events (calendar_id, external_id, title, start_time, end_time, start_utc)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                calendar_id,
                change.external_id,
                change.plain["title"],
                change.plain["start_time"],
                change.plain["end_time"],
                utc_text(change.plain["start_time"]),
            ),
        )
        event_id = int(cursor.lastrowid or 0)
        self._patch(db, change, event_id)
        return event_id

    def _patch(self, db: sqlite3.Connection, change: EventChange, event_id: int) -> None:
        columns: dict[str, Any] = {k: v for k, v in change.plain.items() if k in _PLAIN_COLUMNS}
        if "start_time" in columns:
            columns["start_utc"] = utc_text(columns["start_time"])
        if "all_day" in change.plain:
            columns["all_day"] = int(change.plain["all_day"])
        if "show_as" in change.plain:
            columns["show_as"] = change.plain["show_as"]
        if change.external_id is not None:
            columns["external_id"] = change.external_id
        if change.custom_data is not None:
            columns["custom_data"] = json.dumps(change.custom_data)
        if columns:
            assignments = ", ".join(f"{name} = ?" for name in columns)
            db.execute(
                f"UPDATE events SET {assignments} WHERE id = ?", (*columns.values(), event_id)
            )
        if change.participants is not None:
            replace_participants(db, event_id, change.participants)

    # --- reading, deleting ----------------------------------------------------------------

    def _event(self, db: sqlite3.Connection, event_id: int) -> dict[str, Any]:
        row = db.execute(
            "SELECT events.*, calendars.name AS calendar_name FROM events "
            "JOIN calendars ON calendars.id = events.calendar_id WHERE events.id = ?",
            (event_id,),
        ).fetchone()
        people = db.execute(
            "SELECT * FROM participants WHERE event_id = ? ORDER BY position", (event_id,)
        ).fetchall()
        return _event_json(row, people)

    def find_event(
        self, *, event_id: int | None = None, external_id: str | None = None
    ) -> dict[str, Any] | None:
        """One event by Apptoto id or external_id (a live one before a deleted one), or None."""
        with self._lock:
            found = self._find_id(event_id, external_id)
            return None if found is None else self._event(self._db, found)

    def _find_id(self, event_id: int | None, external_id: str | None) -> int | None:
        if event_id is not None:
            row = self._db.execute("SELECT id FROM events WHERE id = ?", (event_id,)).fetchone()
        else:
            row = self._db.execute(
                "SELECT id FROM events WHERE external_id = ? ORDER BY is_deleted, id DESC LIMIT 1",
                (external_id,),
            ).fetchone()
        return None if row is None else int(row["id"])

    def list_events(
        self,
        *,
        begin_utc: str | None = None,
        end_utc: str | None = None,
        include_deleted: bool = False,
        external_id: str | None = None,
        page: int = 1,
        page_size: int | None = None,
    ) -> list[dict[str, Any]]:
        """Events starting in ``[begin, end)`` (UTC text), by start time; one page, or all."""
        where, params = ["1 = 1"], []
        if begin_utc is not None:
            where.append("start_utc >= ?")
            params.append(begin_utc)
        if end_utc is not None:
            where.append("start_utc < ?")
            params.append(end_utc)
        if not include_deleted:
            where.append("is_deleted = 0")
        if external_id is not None:
            where.append("external_id = ?")
            params.append(external_id)
        sql = f"SELECT id FROM events WHERE {' AND '.join(where)} ORDER BY start_utc, id"
        if page_size is not None:
            sql += f" LIMIT {int(page_size)} OFFSET {int((page - 1) * page_size)}"
        with self._lock:
            ids = [int(row["id"]) for row in self._db.execute(sql, params)]
            return [self._event(self._db, event_id) for event_id in ids]

    def delete_event(
        self, *, event_id: int | None = None, external_id: str | None = None
    ) -> dict[str, Any] | None:
        """Soft-delete one event (``is_deleted`` true) and return it; None when there is none.

        Deleting an event that is already deleted answers it again (a retried DELETE is harmless).
        """
        with self._transaction() as db:
            found = self._find_id(event_id, external_id)
            if found is None:
                return None
            db.execute("UPDATE events SET is_deleted = 1 WHERE id = ?", (found,))
            return self._event(db, found)

    def mark_messaged(self, participant_id: int) -> bool:
        """Mark a participant as already sent messages; False when there is no such participant."""
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE participants SET state = ? WHERE id = ?", (MESSAGED, participant_id)
            )
            return cursor.rowcount == 1

    # --- request log and stats ------------------------------------------------------------

    def log_request(self, entry: LoggedRequest) -> None:
        """Append one request to the log."""
        with self._lock:
            log_request(self._db, entry)

    def logged_requests(self) -> list[dict[str, Any]]:
        """The request log, oldest first."""
        with self._lock:
            return logged_requests(self._db)

    def stats(self) -> dict[str, Any]:
        """Counts of requests and events (see :func:`~importer.sandbox.request_log.stats`)."""
        with self._lock:
            return stats(self._db)


def _event_json(row: sqlite3.Row, people: list[sqlite3.Row]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "calendar_id": row["calendar_id"],
        "calendar_name": row["calendar_name"],
        "external_id": row["external_id"],
        "title": row["title"],
        "start_time": row["start_time"],
        "end_time": row["end_time"],
        "time_zone": row["time_zone"],
        "location": row["location"],
        "content": row["content"],
        "all_day": bool(row["all_day"]),
        "show_as": row["show_as"],
        "is_deleted": bool(row["is_deleted"]),
        "custom_data": json.loads(row["custom_data"]),
        "participants": [participant_json(p) for p in people],
    }
