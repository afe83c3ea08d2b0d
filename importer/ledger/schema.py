"""The ledger's file: its SQLite schema, and opening a file as a ledger or refusing it.

One SQLite file (standard library) with three tables, ``events``, ``field_hashes`` and
``appointment_keys``, stamped with ``PRAGMA user_version`` = :data:`SCHEMA_VERSION`. It keeps no
patient's details: per event a hash of the payload, a short hash per field (to say which fields
an update changes), the same-appointment guard's digests, and when the event ends (schema 4: so
that ``--cancel-missing`` leaves the visits already over alone). A new (empty) file gets the
tables; an older file is upgraded when it is opened: schema 1 (no ``appointment_keys``) gets its
keys computed from the payloads it kept, schemas 1 and 2 have those payloads (names, phones,
emails, notes) replaced by their field hashes and wiped from the file (``secure_delete``, the
journal emptied), and their events' ends taken from them; a schema 3 file's ends are not known
(NULL). A read-only open computes what is missing into temporary tables and leaves the file as
it was. A file written by a newer importer, another program's database or a damaged file is
refused with a ``LedgerError`` that names the path and says what to do.

Safety: WAL journal with ``synchronous=FULL`` (and ``fullfsync`` where the system has it: macOS),
and every write is one transaction (see
:class:`importer.ledger.Ledger`), so a ``kill -9`` or a power cut leaves the state of the last
committed batch, never a torn file.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from importer.errors import LedgerError
from importer.ledger.appointments import appointment_keys
from importer.ledger.hashing import canonical_json, field_hashes

SCHEMA_VERSION = 4  # PRAGMA user_version of the files this code writes
COLUMNS = (
    "mapping, external_id, apptoto_id, calendar, payload_hash, status, updated_at, "
    "source_file, source_row, deleted"
)
# Schema 2: what the same-appointment guard looks up (importer.ledger.appointments).
KEY_TABLES = (
    """
    CREATE TABLE IF NOT EXISTS appointment_keys (
        key          TEXT NOT NULL,  -- digest of calendar + start instant + one contact detail
        person       TEXT NOT NULL,  -- name|phone|email digests ('' where missing)
        mapping      TEXT NOT NULL,
        external_id  TEXT NOT NULL,
        PRIMARY KEY (key, mapping, external_id, person)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX IF NOT EXISTS appointment_keys_of_event "
    "ON appointment_keys (mapping, external_id)",
)
KEY_INSERT = (
    "INSERT OR IGNORE INTO appointment_keys (key, person, mapping, external_id) VALUES (?, ?, ?, ?)"
)
# Schema 3: a short hash per field of the last payload sent, never the values; in their own
# table so that the lookups of every run read only the small rows of "events".
FIELD_HASHES_TABLE = """
    CREATE TABLE IF NOT EXISTS field_hashes (
        mapping      TEXT NOT NULL,
        external_id  TEXT NOT NULL,
        hashes       TEXT NOT NULL,  -- JSON object: field -> importer.ledger.hashing.field_hashes
        UNIQUE (mapping, external_id)
    )
    """
FIELD_HASHES_INSERT = "INSERT OR REPLACE INTO field_hashes VALUES (?, ?, ?)"
# Schemas 1 and 2 kept the last payload itself (names, phones, emails, notes): read to upgrade.
OLD_PAYLOADS_TABLE = """
    CREATE TABLE payloads (
        mapping      TEXT NOT NULL,
        external_id  TEXT NOT NULL,
        payload      TEXT NOT NULL,  -- canonical JSON of the last payload sent, without "id"
        UNIQUE (mapping, external_id)
    )
    """
CREATE_TABLES = (
    """
    CREATE TABLE events (
        mapping      TEXT    NOT NULL,  -- mapping name: scopes external ids
        external_id  TEXT    NOT NULL,
        apptoto_id   INTEGER,           -- Apptoto's event id, when the server returned it
        calendar     TEXT    NOT NULL,  -- calendar name or id, as sent
        payload_hash TEXT    NOT NULL,  -- importer.ledger.hashing of the last payload sent
        -- ORs, not IN (...): SQLite evaluates an IN list in a CHECK at twice the insert's cost
        status       TEXT    NOT NULL
                     CHECK (status = 'created' OR status = 'updated' OR status = 'cancelled'),
        updated_at   TEXT    NOT NULL,  -- UTC ISO 8601 time of the last confirmed change
        source_file  TEXT    NOT NULL,
        source_row   INTEGER,           -- spreadsheet row as the person sees it (header = 1)
        deleted      INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
        PRIMARY KEY (mapping, external_id)
    ) WITHOUT ROWID
    """,
    FIELD_HASHES_TABLE,
    *KEY_TABLES,
)
# Schema 4: when each event ends (UTC ISO 8601 text, NULL when not known: recorded before), so
# that --cancel-missing leaves alone the events of visits already over, which a rolling export
# (the next 7 days) drops every night.
ENDS_COLUMN = "ALTER TABLE events ADD COLUMN ends_at TEXT"
# SQLite primary result codes that mean "this file is damaged or not a database".
_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26


def connect(path: Path) -> sqlite3.Connection:
    """Open ``path`` read-write in WAL mode, creating the tables in a new (empty) file."""
    # isolation_level=None: transactions are only the explicit BEGIN/COMMIT (here and in
    # Ledger._transaction), never sqlite3's implicit ones.
    with converted_errors(path, "open"):
        connection = sqlite3.connect(
            path, timeout=10.0, isolation_level=None, check_same_thread=False
        )
    try:
        with converted_errors(path, "open"):
            # Check before switching to WAL: that switch rewrites the header of a database
            # this function is about to refuse, and the user's file must stay as it was.
            version = check_schema(connection, path)
            connection.execute("PRAGMA journal_mode = WAL")
            # FULL: a commit survives a power cut too. It costs one fsync per batch, which is
            # nothing next to one HTTP request per batch.
            connection.execute("PRAGMA synchronous = FULL")
            # macOS: a plain fsync leaves the data in the drive's cache; F_FULLFSYNC does not.
            # SQLite ignores both pragmas on systems without it.
            connection.execute("PRAGMA fullfsync = ON")
            connection.execute("PRAGMA checkpoint_fullfsync = ON")
            # What is deleted (an upgraded file's payloads) is overwritten, not left in free pages.
            connection.execute("PRAGMA secure_delete = ON")
            if version < SCHEMA_VERSION:
                connection.execute("BEGIN IMMEDIATE")
                try:
                    _create_or_upgrade(connection, version)
                    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                    connection.execute("COMMIT")
                except BaseException:
                    if connection.in_transaction:
                        connection.rollback()
                    raise
                # The journal still holds the pages the upgrade rewrote: empty it.
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except BaseException:
        connection.close()
        raise
    return connection


def _create_or_upgrade(connection: sqlite3.Connection, version: int) -> None:
    """Bring a file of schema ``version`` (0: empty) to :data:`SCHEMA_VERSION`, in the caller's
    transaction."""
    if version == 0:
        for statement in (*CREATE_TABLES, ENDS_COLUMN):
            connection.execute(statement)
        return
    if version < 2:
        for statement in KEY_TABLES:
            connection.execute(statement)
        fill_appointment_keys(connection)
    if version < 4:
        connection.execute(ENDS_COLUMN)
    if version < 3:
        connection.execute(FIELD_HASHES_TABLE)
        fill_field_hashes(connection)
        fill_ends(connection)
        connection.execute("DROP TABLE payloads")


def ends_at(payload: Mapping[str, Any] | None) -> str | None:
    """When the event of ``payload`` ends, as UTC ISO 8601 text (comparable as text); None when
    the payload has no end that reads as a moment."""
    end = payload.get("end_time") if payload is not None else None
    if not isinstance(end, str):
        return None
    try:
        moment = datetime.fromisoformat(end)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def fill_ends(connection: sqlite3.Connection) -> None:
    """When each event ends, from the payload the ledger kept for it (schemas 1 and 2)."""
    rows = connection.execute("SELECT mapping, external_id, payload FROM payloads")
    connection.executemany(
        "UPDATE events SET ends_at = ? WHERE mapping = ? AND external_id = ?",
        (
            (end, mapping, external_id)
            for mapping, external_id, text in rows.fetchall()
            if (end := ends_at(_payload_of_text(text))) is not None
        ),
    )


def fill_field_hashes(connection: sqlite3.Connection) -> None:
    """Hash each field of every payload the ledger kept (schemas 1 and 2) into ``field_hashes``."""
    rows = connection.execute("SELECT mapping, external_id, payload FROM payloads")
    connection.executemany(
        FIELD_HASHES_INSERT,
        (
            (mapping, external_id, canonical_json(field_hashes(payload)))
            for mapping, external_id, text in rows.fetchall()
            if (payload := _payload_of_text(text)) is not None
        ),
    )


def fill_appointment_keys(connection: sqlite3.Connection) -> None:
    """Compute the guard's keys of every event from the payload the ledger kept for it.

    Events recorded without a payload get no keys (the guard cannot recognise them).
    """
    rows = connection.execute("SELECT mapping, external_id, payload FROM payloads")
    connection.executemany(
        KEY_INSERT,
        (
            (key, person, mapping, external_id)
            for mapping, external_id, text in rows.fetchall()
            for key, person in _keys_of_text(text)
        ),
    )


def _payload_of_text(text: str) -> dict[str, object] | None:
    try:
        payload = json.loads(text)
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def _keys_of_text(text: str) -> frozenset[tuple[str, str]]:
    payload = _payload_of_text(text)
    return appointment_keys(payload) if payload is not None else frozenset()


def check_schema(connection: sqlite3.Connection, path: Path) -> int:
    """The file's schema version, 0 for an empty file (a new ledger); raises ``LedgerError``
    for a foreign one."""
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    tables = {
        name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
    }
    if version > SCHEMA_VERSION:
        raise LedgerError(
            f"{path} was written by a newer version of the importer (schema {version}, this "
            f"version reads up to {SCHEMA_VERSION}); upgrade the importer, or "
            + move_aside_advice(path)
        )
    if version == 0 and not tables:
        return 0
    if not {"events", "field_hashes" if version >= 3 else "payloads"} <= tables:
        raise LedgerError(
            f"{path} is an SQLite database, but not an importer state file (it lacks the "
            "importer's tables); give the importer another state file path, or "
            + move_aside_advice(path)
        )
    return max(version, 1)


def _open_read_only(path: Path, *, immutable: bool) -> sqlite3.Connection:
    query = "mode=ro&immutable=1" if immutable else "mode=ro"
    with converted_errors(path, "open"):
        return sqlite3.connect(
            f"{path.resolve().as_uri()}?{query}",
            uri=True,
            timeout=10.0,
            isolation_level=None,
            check_same_thread=False,
        )


def connect_read_only(path: Path) -> sqlite3.Connection:
    """Open an existing ledger file read-only; it must already hold the importer's tables.

    In a folder this user cannot write to, SQLite cannot make the journal's index (``-shm``)
    that reading a WAL file needs: the file is then read as it is on disk (``immutable``), which
    is what it is, since no one running as this user can change it there.
    """
    connection = _open_read_only(path, immutable=False)
    if not os.access(path.parent, os.W_OK):
        try:
            connection.execute("PRAGMA user_version").fetchone()
        except sqlite3.OperationalError:
            connection.close()
            connection = _open_read_only(path, immutable=True)
    try:
        with converted_errors(path, "open"):
            version = check_schema(connection, path)
            if version == 0:
                raise LedgerError(f"{path} is empty, not an importer state file")
            # The file stays as it was; what an older schema lacks is computed into this
            # connection's temporary tables, which stand in for the missing ones by their name.
            if version < 2:
                connection.execute(KEY_TABLES[0].replace("CREATE TABLE", "CREATE TEMP TABLE"))
                fill_appointment_keys(connection)
            if version < 3:
                connection.execute(FIELD_HASHES_TABLE.replace("CREATE TABLE", "CREATE TEMP TABLE"))
                fill_field_hashes(connection)
    except BaseException:
        connection.close()
        raise
    return connection


def move_aside_advice(path: Path) -> str:
    """What to tell the user about a state file the importer cannot use."""
    return (
        f"Move {path} aside (with its -wal and -shm files, if any) and run again: the next run "
        "re-sends every row as an update by external_id, which creates no duplicates."
    )


@contextmanager
def converted_errors(path: Path, doing: str) -> Iterator[None]:
    """Turn SQLite errors into ``LedgerError`` naming the file and what to do about it."""
    try:
        yield
    except sqlite3.Error as exc:
        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
        if code in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
            raise LedgerError(
                f"{path} is not a readable importer state file ({exc}). " + move_aside_advice(path)
            ) from exc
        raise LedgerError(f"{path}: cannot {doing}: {exc}") from exc


def replace_appointment_keys(
    connection: sqlite3.Connection, rows: list[tuple[tuple[Any, ...], Mapping[str, Any] | None]]
) -> None:
    """The same-appointment keys of these events, from their new payloads (none without one).

    ``rows`` pairs each event's row (mapping and external_id first) with the payload recorded.
    """
    connection.executemany(
        "DELETE FROM appointment_keys WHERE mapping = ? AND external_id = ?",
        ((event[0], event[1]) for event, _ in rows),
    )
    connection.executemany(
        KEY_INSERT,
        (
            (key, person, event[0], event[1])
            for event, payload in rows
            if payload is not None
            for key, person in appointment_keys(payload)
        ),
    )
