"""The ledger: a state file remembering what each run sent to Apptoto.

It lets a re-run send only rows whose payload changed, resume after a crash, and cancel events
whose rows left the file. One SQLite file (standard library), by default ``state.sqlite`` in the
user's data folder (:mod:`importer.paths`), one row per (mapping, external_id), where "mapping"
is the mapping's scope (its ``source``, else its name): the same external id under two scopes is
two entries, so two clinics' sheets never cancel each other's events.

Safety: WAL journal with ``synchronous=FULL``, and every write is one transaction, so a
``kill -9`` or a power cut leaves the state of the last committed batch, never a torn file. The
caller records only what Apptoto confirmed; an event confirmed but not yet recorded when the run
died is simply sent again next time, as an update by ``external_id``. The file's tables, and
how a file is opened or refused, are in :mod:`importer.ledger.schema`.

One run at a time per ledger: :meth:`Ledger.open` takes an exclusive ``flock`` on the side file
``state.sqlite.lock``. The operating system drops that lock when the process dies, however it
dies, so a killed run never blocks the next one. (``flock`` needs a POSIX system; on network file
systems both ``flock`` and WAL are unreliable: keep the state file on a local disk.)
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from importer.errors import LedgerError
from importer.files import create_private, make_private
from importer.ledger.hashing import canonical_json, field_hashes
from importer.ledger.lock import StateFileLock
from importer.ledger.schema import (
    COLUMNS,
    connect,
    connect_read_only,
    converted_errors,
    ends_at,
    move_aside_advice,
    replace_appointment_keys,
)
from importer.paths import OLD_STATE, data_folder, state_file

# Where the ledger was before the data folder: still used when a command starts beside one.
DEFAULT_LEDGER_PATH = OLD_STATE
LEDGER_STATUSES = frozenset({"created", "updated", "cancelled"})  # RowStatus values kept here

# Ids per "IN (...)" query: well under SQLite's smallest variable limit (999 before 3.32).
_LOOKUP_CHUNK = 500
# A NULL apptoto_id keeps the known one: a confirmation without an id must not forget it.
_UPSERT_EVENT = f"""
INSERT INTO events ({COLUMNS}, ends_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (mapping, external_id) DO UPDATE SET
    ends_at = coalesce(excluded.ends_at, events.ends_at),
    apptoto_id = coalesce(excluded.apptoto_id, events.apptoto_id),
    calendar = excluded.calendar,
    payload_hash = excluded.payload_hash,
    status = excluded.status,
    updated_at = excluded.updated_at,
    source_file = excluded.source_file,
    source_row = excluded.source_row,
    deleted = excluded.deleted
"""
_UPSERT_FIELD_HASHES = """
INSERT INTO field_hashes (mapping, external_id, hashes) VALUES (?, ?, ?)
ON CONFLICT (mapping, external_id) DO UPDATE SET hashes = excluded.hashes
"""


def utc_now() -> str:
    """The current time as UTC ISO 8601 text to the second, e.g. ``2026-04-13T12:03:05+00:00``."""
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """What the ledger knows about one event: the last payload Apptoto confirmed for it.

    ``status`` is ``created``, ``updated`` or ``cancelled`` (a ``RowStatus`` works too);
    ``updated_at`` is UTC ISO 8601 text (see :func:`utc_now`). ``payload``, optional, is the
    payload sent: the ledger stores only a hash of each of its fields (so a later run can say
    which fields changed, see :meth:`Ledger.last_field_hashes`) and the same-appointment keys
    made from it, never the payload; lookups leave it ``None``. It holds names and phone
    numbers, so it stays out of ``repr`` and out of comparisons (``payload_hash`` stands for it).
    Raises ``ValueError`` for an empty ``external_id`` or another status: caller bugs.
    """

    mapping: str
    external_id: str
    apptoto_id: int | None
    calendar: str
    payload_hash: str
    status: str
    updated_at: str
    source_file: str
    source_row: int | None
    deleted: bool = False
    payload: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.external_id:
            raise ValueError("a ledger entry needs a non-empty external_id")
        if self.status not in LEDGER_STATUSES:
            raise ValueError(
                f"ledger status must be one of {sorted(LEDGER_STATUSES)}, not {self.status!r}"
            )


def _entry_from_row(row: tuple[Any, ...]) -> LedgerEntry:
    # Positional, in the order of COLUMNS; SQLite stores the flag as 0/1.
    mapping, external_id, apptoto_id, calendar, digest, status, when, file, line, gone = row
    return LedgerEntry(
        mapping, external_id, apptoto_id, calendar, digest, status, when, file, line, gone == 1
    )


def _has_ends(connection: sqlite3.Connection) -> bool:
    """True when the file records when events end (schema 4; a file opened read-only may be
    older)."""
    return any(row[1] == "ends_at" for row in connection.execute("PRAGMA table_info(events)"))


def _row_from_entry(entry: LedgerEntry) -> tuple[Any, ...]:
    return (
        entry.mapping,
        entry.external_id,
        entry.apptoto_id,
        entry.calendar,
        entry.payload_hash,
        str(entry.status),  # a RowStatus is stored as its plain text value
        entry.updated_at,
        entry.source_file,
        entry.source_row,
        int(entry.deleted),
    )


def _private_folder(folder: Path) -> None:
    """Create the ledger's folder 0700; tighten it when it is the importer's own data folder."""
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    own = {data_folder().absolute(), (Path.cwd() / OLD_STATE).parent.absolute()}
    if created or folder.absolute() in own:
        make_private(folder, folder=True)


def _private_files(path: Path) -> None:
    """The state file (made 0600 before SQLite creates it) and its journals: this user's only."""
    try:
        create_private(path)
    except OSError as exc:
        raise LedgerError(f"cannot create the state file {path}: {exc.strerror or exc}") from exc
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists():
            make_private(file)


class Ledger:
    """An open, locked ledger. Get one with :meth:`Ledger.open`; use it as a context manager.

    Every method is safe to call from several threads (one SQLite connection behind a lock).
    """

    def __init__(
        self, path: Path, connection: sqlite3.Connection, lock: StateFileLock | None
    ) -> None:
        self.path = path
        self._connection: sqlite3.Connection | None = connection
        self._lock = lock  # None: opened read-only, beside the run that may hold the lock
        self._guard = threading.Lock()

    @classmethod
    def open(cls, path: str | Path | None = None) -> Ledger:
        """Lock and open the ledger at ``path``, creating it and its folder if missing.

        ``path`` defaults to the state file every command shares
        (:func:`importer.paths.state_file`).

        Raises ``LedgerLocked`` at once (no waiting) when another process holds it, and
        ``LedgerError`` naming the path when the file is not a ledger (not SQLite, damaged,
        another program's database, or written by a newer importer).
        """
        path = state_file().path if path is None else Path(path)
        try:
            _private_folder(path.parent)
        except OSError as exc:
            raise LedgerError(f"cannot create the folder of the state file {path}: {exc}") from exc
        lock = StateFileLock.acquire(path)
        try:
            _private_files(path)
            connection = connect(path)
        except BaseException:
            lock.release()
            raise
        return cls(path, connection, lock)

    @classmethod
    def open_read_only(cls, path: str | Path) -> Ledger:
        """Open an existing ledger to read what earlier runs recorded, without taking the lock.

        For a look (the web page's review) while another run may hold the ledger: SQLite's WAL
        lets it read the last committed state while that run writes. Every write raises
        ``LedgerError``. Raises ``LedgerError`` as :meth:`open` does for a file that is not a
        ledger, and for a missing file.
        """
        path = Path(path)
        if not path.is_file():
            raise LedgerError(f"{path}: no state file to read")
        connection = connect_read_only(path)
        return cls(path, connection, None)

    def close(self) -> None:
        """Close the file and release the lock; safe to call twice."""
        with self._guard:
            connection, self._connection = self._connection, None
            try:
                if connection is not None:
                    with converted_errors(self.path, "close"):
                        connection.close()
            finally:
                if self._lock is not None:
                    self._lock.release()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "open" if self._connection is not None else "closed"
        return f"Ledger(path={str(self.path)!r}, {state})"

    @contextmanager
    def _reading(self, doing: str) -> Iterator[sqlite3.Connection]:
        with self._guard, converted_errors(self.path, doing):
            if self._connection is None:
                raise LedgerError(f"{self.path}: cannot {doing}: the ledger is closed")
            yield self._connection

    @contextmanager
    def _transaction(self, doing: str) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed whole, or rolled back whole on any exception."""
        with self._reading(doing) as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:  # SQLite may already have rolled back
                    connection.rollback()
                raise

    def lookup(self, mapping: str, external_ids: Iterable[str]) -> dict[str, LedgerEntry]:
        """The entries of these external ids under ``mapping``, keyed by external id.

        Ids the ledger does not know are absent from the result. Deleted (cancelled) entries are
        included: check ``entry.deleted``. Repeated ids are looked up once.
        """
        rows = self._select_by_ids("look up events", "events", COLUMNS, mapping, external_ids)
        return {row[1]: _entry_from_row(row) for row in rows}

    def _select_by_ids(
        self, doing: str, table: str, columns: str, mapping: str, external_ids: Iterable[str]
    ) -> list[tuple[Any, ...]]:
        # Chunked IN queries: one query per id would be 100,000 round trips through sqlite3.
        wanted = list(dict.fromkeys(external_ids))
        rows: list[tuple[Any, ...]] = []
        with self._reading(doing) as connection:
            for start in range(0, len(wanted), _LOOKUP_CHUNK):
                chunk = wanted[start : start + _LOOKUP_CHUNK]
                marks = ",".join("?" * len(chunk))
                rows += connection.execute(
                    f"SELECT {columns} FROM {table} WHERE mapping = ? AND external_id IN ({marks})",
                    [mapping, *chunk],
                ).fetchall()
        return rows

    def people_of(self, mapping: str, external_ids: Iterable[str]) -> dict[str, set[str]]:
        """Who the events of these external ids were last sent for: external id -> the
        ``person`` of each participant (:func:`importer.ledger.appointments.appointment_keys`).
        Ids recorded without a payload are absent."""
        found: dict[str, set[str]] = {}
        for external_id, person in self._select_by_ids(
            "look up participants", "appointment_keys", "external_id, person", mapping, external_ids
        ):
            found.setdefault(external_id, set()).add(person)
        return found

    def last_field_hashes(
        self, mapping: str, external_ids: Iterable[str]
    ) -> dict[str, dict[str, str]]:
        """The field hashes of the payloads last sent for these external ids, keyed by external id.

        For saying which fields of a changed row differ (:func:`importer.ledger.field_hashes` of
        the new payload against these); ask only for the rows whose hash changed. Ids recorded
        without a payload are absent. Raises ``LedgerError`` if a stored value is not a JSON
        object of texts (the file was edited by hand).
        """
        found: dict[str, dict[str, str]] = {}
        for external_id, text in self._select_by_ids(
            "read field hashes", "field_hashes", "external_id, hashes", mapping, external_ids
        ):
            try:
                hashes = json.loads(text)
            except ValueError:
                hashes = None
            if not isinstance(hashes, dict) or not all(isinstance(h, str) for h in hashes.values()):
                raise LedgerError(
                    f"{self.path}: the stored field hashes of {external_id!r} are damaged. "
                    + move_aside_advice(self.path)
                )
            found[external_id] = hashes
        return found

    def record(self, entries: Iterable[LedgerEntry]) -> int:
        """Insert or replace these entries in one transaction; returns how many were written.

        Pass only what Apptoto confirmed. If ``entries`` raises midway (or the disk fails),
        nothing of this call is kept. An entry without ``apptoto_id`` keeps the id already known.
        """
        with self._transaction("record confirmed events") as connection:
            rows = [(_row_from_entry(entry), entry.payload) for entry in entries]
            connection.executemany(
                _UPSERT_EVENT, ((*event, ends_at(payload)) for event, payload in rows)
            )
            connection.executemany(
                _UPSERT_FIELD_HASHES,
                (
                    (event[0], event[1], canonical_json(field_hashes(payload)))
                    for event, payload in rows
                    if payload is not None
                ),
            )
            # No payload this time: older field hashes would no longer match the hash.
            connection.executemany(
                "DELETE FROM field_hashes WHERE mapping = ? AND external_id = ?",
                ((event[0], event[1]) for event, payload in rows if payload is None),
            )
            replace_appointment_keys(connection, rows)
            return len(rows)

    def mark_deleted(
        self, mapping: str, external_ids: Iterable[str], *, when: str | None = None
    ) -> int:
        """Mark these events cancelled (``deleted``, status ``cancelled``) in one transaction.

        ``when`` is UTC ISO 8601 text, default now. Ids the ledger does not know, or already
        marks deleted, are left alone; returns how many entries were newly marked.
        """
        stamp = when or utc_now()
        with self._transaction("mark events cancelled") as connection:
            before = connection.total_changes
            connection.executemany(
                "UPDATE events SET deleted = 1, status = 'cancelled', updated_at = ? "
                "WHERE mapping = ? AND external_id = ? AND deleted = 0",
                ((stamp, mapping, external_id) for external_id in external_ids),
            )
            return connection.total_changes - before

    def live_entries(self, mapping: str, *, ending_after: str | None = None) -> list[LedgerEntry]:
        """Entries of ``mapping`` not marked deleted, ordered by external id (--cancel-missing).

        ``ending_after`` (UTC ISO 8601 text): only the events that end after it, and those whose
        end is not known (recorded by an importer before schema 4, or read from such a file).
        """
        with self._reading("list live events") as connection:
            ends = ending_after is not None and _has_ends(connection)
            rows = connection.execute(
                f"SELECT {COLUMNS} FROM events WHERE mapping = ? AND deleted = 0 "
                + ("AND (ends_at IS NULL OR ends_at > ?) " if ends else "")
                + "ORDER BY external_id",
                (mapping, ending_after) if ends else (mapping,),
            ).fetchall()
        return [_entry_from_row(row) for row in rows]

    def same_appointments(self, keys: Iterable[str]) -> dict[str, list[tuple[str, LedgerEntry]]]:
        """Live events (any mapping) with these appointment keys: key -> (person, event) pairs.

        The keys are those of :func:`importer.ledger.appointments.appointment_keys`; an event
        is found when it was recorded with a payload sharing one of them. Cancelled events are
        left out. Each key's events are ordered by when they were last sent.
        """
        wanted = list(dict.fromkeys(keys))
        found: dict[str, list[tuple[str, LedgerEntry]]] = {}
        columns = ", ".join(f"e.{c.strip()}" for c in COLUMNS.split(","))
        with self._reading("look up same appointments") as connection:
            for start in range(0, len(wanted), _LOOKUP_CHUNK):
                chunk = wanted[start : start + _LOOKUP_CHUNK]
                marks = ",".join("?" * len(chunk))
                for key, person, *row in connection.execute(
                    f"SELECT k.key, k.person, {columns} FROM appointment_keys AS k "
                    "JOIN events AS e ON e.mapping = k.mapping AND e.external_id = k.external_id "
                    f"WHERE e.deleted = 0 AND k.key IN ({marks}) ORDER BY e.updated_at",
                    chunk,
                ):
                    found.setdefault(key, []).append((person, _entry_from_row(tuple(row))))
        return found

    def count_live(self, mapping: str) -> int:
        """How many entries of ``mapping`` are not marked deleted."""
        with self._reading("count live events") as connection:
            row = connection.execute(
                "SELECT count(*) FROM events WHERE mapping = ? AND deleted = 0", (mapping,)
            ).fetchone()
        return int(row[0])

    def known_calendars(self) -> set[str]:
        """Every calendar (name, or id as text) an event was ever sent to, by any mapping."""
        with self._reading("list calendars") as connection:
            return {
                str(row[0]) for row in connection.execute("SELECT DISTINCT calendar FROM events")
            }
