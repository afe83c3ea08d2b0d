"""The ledger's file: its SQLite schema, and opening a file as a ledger or refusing it.

One SQLite file (standard library) with two tables, ``events`` and ``payloads``, stamped with
``PRAGMA user_version`` = :data:`SCHEMA_VERSION`. A new (empty) file gets the tables; a file
written by a newer importer, another program's database or a damaged file is refused with a
``LedgerError`` that names the path and says what to do.

Safety: WAL journal with ``synchronous=FULL`` (and ``fullfsync`` where the system has it: macOS),
and every write is one transaction (see
:class:`importer.ledger.Ledger`), so a ``kill -9`` or a power cut leaves the state of the last
committed batch, never a torn file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from importer.errors import LedgerError

SCHEMA_VERSION = 1  # PRAGMA user_version of the files this code writes
COLUMNS = (
    "mapping, external_id, apptoto_id, calendar, payload_hash, status, updated_at, "
    "source_file, source_row, deleted"
)
# Payloads (about 0.5 kB, with names and phone numbers) live in their own table so that the
# lookups of every run read only the small rows of "events".
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
    """
    CREATE TABLE payloads (
        mapping      TEXT NOT NULL,
        external_id  TEXT NOT NULL,
        payload      TEXT NOT NULL,  -- canonical JSON of the last payload sent, without "id"
        UNIQUE (mapping, external_id)
    )
    """,
)
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
            is_new = check_schema(connection, path)
            connection.execute("PRAGMA journal_mode = WAL")
            # FULL: a commit survives a power cut too. It costs one fsync per batch, which is
            # nothing next to one HTTP request per batch.
            connection.execute("PRAGMA synchronous = FULL")
            # macOS: a plain fsync leaves the data in the drive's cache; F_FULLFSYNC does not.
            # SQLite ignores both pragmas on systems without it.
            connection.execute("PRAGMA fullfsync = ON")
            connection.execute("PRAGMA checkpoint_fullfsync = ON")
            if is_new:
                connection.execute("BEGIN IMMEDIATE")
                for statement in CREATE_TABLES:
                    connection.execute(statement)
                connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                connection.execute("COMMIT")
    except BaseException:
        connection.close()
        raise
    return connection


def check_schema(connection: sqlite3.Connection, path: Path) -> bool:
    """True for an empty file (a new ledger); raises ``LedgerError`` for a foreign one."""
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
        return True
    if not {"events", "payloads"} <= tables:
        raise LedgerError(
            f"{path} is an SQLite database, but not an importer state file (it lacks the "
            "importer's tables); give the importer another state file path, or "
            + move_aside_advice(path)
        )
    return False


def connect_read_only(path: Path) -> sqlite3.Connection:
    """Open an existing ledger file read-only; it must already hold the importer's tables."""
    with converted_errors(path, "open"):
        connection = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro",
            uri=True,
            timeout=10.0,
            isolation_level=None,
            check_same_thread=False,
        )
    try:
        with converted_errors(path, "open"):
            if check_schema(connection, path):
                raise LedgerError(f"{path} is empty, not an importer state file")
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
