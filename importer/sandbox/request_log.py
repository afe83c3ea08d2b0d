"""The sandbox's request log and the counts built from it and from the stored events.

Functions on an open SQLite connection; :class:`~importer.sandbox.store.EventStore` holds the
connection and the lock and calls them.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

REQUESTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, method TEXT NOT NULL,
    path TEXT NOT NULL, query TEXT NOT NULL, status INTEGER, fault TEXT,
    event_count INTEGER NOT NULL, external_ids TEXT NOT NULL);
"""


@dataclass(frozen=True)
class LoggedRequest:
    """One /v1 request as the sandbox saw it; ``status`` None means the connection was dropped."""

    at: str  # wall-clock time of arrival, ISO 8601 UTC
    method: str
    path: str
    query: str
    status: int | None
    fault: str | None  # which injected fault answered, if any
    event_count: int  # events in a PUT/POST body
    external_ids: list[str]  # from the body's events and the external_id= query parameter


def log_request(db: sqlite3.Connection, entry: LoggedRequest) -> None:
    """Append one request to the log."""
    db.execute(
        "INSERT INTO requests (at, method, path, query, status, fault, event_count, "
        "external_ids) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            entry.at,
            entry.method,
            entry.path,
            entry.query,
            entry.status,
            entry.fault,
            entry.event_count,
            json.dumps(entry.external_ids),
        ),
    )


def logged_requests(db: sqlite3.Connection) -> list[dict[str, Any]]:
    """The request log, oldest first, as JSON-ready dicts."""
    rows = db.execute("SELECT * FROM requests ORDER BY id").fetchall()
    return [{**dict(row), "external_ids": json.loads(row["external_ids"])} for row in rows]


def _counts(db: sqlite3.Connection, sql: str) -> dict[str, int]:
    return {str(row[0]): int(row[1]) for row in db.execute(sql)}


def stats(db: sqlite3.Connection) -> dict[str, Any]:
    """Counts of requests and events; ``duplicates`` lists external_ids stored twice or more.

    Requests are counted by status (``dropped`` for connections cut without an answer), by
    ``METHOD /path`` and by injected fault. Per-external_id counts and duplicates look at events
    not deleted: a deleted event sent again is created anew, which is not a duplicate.
    """
    per_external_id = _counts(
        db,
        "SELECT external_id, COUNT(*) FROM events WHERE external_id IS NOT NULL "
        "AND is_deleted = 0 GROUP BY external_id ORDER BY external_id",
    )
    stored, deleted = db.execute(
        "SELECT COUNT(*), COALESCE(SUM(is_deleted), 0) FROM events"
    ).fetchone()
    return {
        "requests": db.execute("SELECT COUNT(*) FROM requests").fetchone()[0],
        "requests_by_status": _counts(
            db,
            "SELECT COALESCE(CAST(status AS TEXT), 'dropped') AS k, COUNT(*) FROM requests "
            "GROUP BY k ORDER BY k",
        ),
        "requests_by_endpoint": _counts(
            db,
            "SELECT method || ' ' || path AS k, COUNT(*) FROM requests GROUP BY k ORDER BY k",
        ),
        "requests_by_fault": _counts(
            db,
            "SELECT fault, COUNT(*) FROM requests WHERE fault IS NOT NULL "
            "GROUP BY fault ORDER BY fault",
        ),
        "events_stored": stored,
        "events_deleted": deleted,
        "calendars": {
            row[1]: row[0] for row in db.execute("SELECT id, name FROM calendars ORDER BY id")
        },
        "events_per_external_id": per_external_id,
        "duplicates": sorted(k for k, n in per_external_id.items() if n > 1),
    }
