"""The same-appointment keys, and the ledger files of schema 1 that had none."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from importer.ledger import Ledger, LedgerEntry, appointment_keys, same_person
from importer.ledger.schema import CREATE_TABLES, OLD_PAYLOADS_TABLE, SCHEMA_VERSION

VISIT: dict[str, Any] = {
    "external_id": "clinic-000101",
    "calendar": "Dr. Rivera",
    "start_time": "2026-12-14T08:30:00-08:00",
    "participants": [{"name": "Maria Gómez", "phone": "+15415550104", "email": "m@example.com"}],
}


def keys(payload: dict[str, Any]) -> set[str]:
    return {key for key, _ in appointment_keys(payload)}


def with_person(**fields: Any) -> dict[str, Any]:
    return {**VISIT, "participants": [fields]}


@pytest.mark.parametrize(
    ("other", "same"),
    [
        ({**VISIT, "external_id": "desk-101"}, True),  # ids never count
        ({**VISIT, "start_time": "2026-12-14T16:30:00+00:00"}, True),  # the same instant
        ({**VISIT, "calendar": " dr.  RIVERA "}, True),  # case and spacing of a calendar
        (with_person(phone="+1 541 555 0104"), True),  # the phone alone, spaced
        (with_person(email="M@Example.com"), True),  # the email alone, in capitals
        (with_person(name="maria  gómez"), True),  # the name alone
        ({**VISIT, "start_time": "2026-12-14T08:45:00-08:00"}, False),  # another time
        ({**VISIT, "calendar": "Dr. Chen"}, False),  # another calendar
        ({**VISIT, "calendar": None, "calendar_id": 7}, False),  # an id is not a name
        (with_person(name="Ana Gómez", phone="+15415550199"), False),  # another person
        ({**VISIT, "participants": []}, False),  # nobody to recognise
    ],
)
def test_keys_meet_when_calendar_start_and_a_contact_detail_meet(
    other: dict[str, Any], same: bool
) -> None:
    assert bool(keys(VISIT) & keys(other)) is same


MARIA = {"name": "Maria Gómez", "phone": "+15415550104", "email": "m@example.com"}


@pytest.mark.parametrize(
    ("other", "one"),
    [
        ({"name": "Lucía Gómez", "phone": "+15415550104"}, False),  # her child, her phone
        ({"name": "Maria Gómez", "phone": "+15415550199", "email": "x@example.com"}, False),
        ({"name": "Maria Gómez", "phone": "+15415550199", "email": "m@example.com"}, True),
        ({"name": "Maria Gómez", "phone": "+15415550199"}, False),  # another phone, no email
        ({"name": "Maria Gómez", "email": "x@example.com", "phone": "+15415550104"}, True),
        ({"phone": "+15415550104"}, True),  # nothing says it is someone else
        ({"name": "maria gómez"}, True),
    ],
)
def test_participants_sharing_a_key_are_one_person_unless_their_details_say_otherwise(
    other: dict[str, str], one: bool
) -> None:
    mine = dict(appointment_keys(VISIT))
    theirs = dict(appointment_keys(with_person(**other)))
    shared = set(mine) & set(theirs)
    assert shared
    assert {same_person(mine[key], theirs[key]) for key in shared} == {one}


def test_a_person_of_schema_two_reads_as_a_name() -> None:
    [(_, person)] = appointment_keys(with_person(name="Maria Gómez"))
    written_first = hashlib.sha256("maria gómez".encode()).hexdigest()[:32]
    assert same_person(person, written_first)
    assert not same_person(person, hashlib.sha256(b"ana").hexdigest()[:32])


def schema_one_file(path: Path) -> Path:
    """A state file as the importer wrote it before the keys existed, with one live event."""
    connection = sqlite3.connect(path)
    for statement in (CREATE_TABLES[0], OLD_PAYLOADS_TABLE):  # schema 1's tables
        connection.execute(statement)
    connection.execute(
        "INSERT INTO events VALUES ('Clinic', 'clinic-000101', 812, 'Dr. Rivera', 'h', "
        "'created', '2026-04-13T12:03:05+00:00', 'appointments.csv', 2, 0)"
    )
    payload = {k: v for k, v in VISIT.items()}
    connection.execute(
        "INSERT INTO payloads VALUES ('Clinic', 'clinic-000101', ?)", (json.dumps(payload),)
    )
    connection.execute("PRAGMA user_version = 1")
    connection.commit()
    connection.close()
    return path


def user_version(path: Path) -> int:
    connection = sqlite3.connect(path)
    try:
        return int(connection.execute("PRAGMA user_version").fetchone()[0])
    finally:
        connection.close()


def found_ids(ledger: Ledger, payload: dict[str, Any]) -> set[str]:
    found = ledger.same_appointments(keys(payload))
    return {entry.external_id for pairs in found.values() for _, entry in pairs}


def test_a_schema_one_file_is_upgraded_on_open_with_keys_from_its_payloads(
    tmp_path: Path,
) -> None:
    path = schema_one_file(tmp_path / "state.sqlite")
    with Ledger.open(path) as ledger:
        assert found_ids(ledger, {**VISIT, "external_id": "desk-101"}) == {"clinic-000101"}
        assert ledger.lookup("Clinic", ["clinic-000101"])["clinic-000101"].apptoto_id == 812
    assert user_version(path) == SCHEMA_VERSION == 4


def test_a_schema_one_file_read_only_finds_the_keys_and_stays_as_it_was(tmp_path: Path) -> None:
    path = schema_one_file(tmp_path / "state.sqlite")
    before = path.read_bytes()
    with Ledger.open_read_only(path) as ledger:
        assert found_ids(ledger, VISIT) == {"clinic-000101"}
    assert user_version(path) == 1
    assert path.read_bytes() == before


def test_recorded_keys_follow_the_payload_and_cancellations(tmp_path: Path) -> None:
    def entry(payload: dict[str, Any]) -> LedgerEntry:
        return LedgerEntry(
            "Clinic", "clinic-000101", 812, "Dr. Rivera", "h", "created",
            "2026-04-13T12:03:05+00:00", "appointments.csv", 2, payload=payload,
        )  # fmt: skip

    moved = {**VISIT, "start_time": "2026-12-14T11:00:00-08:00"}
    with Ledger.open(tmp_path / "state.sqlite") as ledger:
        ledger.record([entry(VISIT)])
        assert found_ids(ledger, VISIT) == {"clinic-000101"}
        ledger.record([entry(moved)])  # rescheduled: its old slot is free
        assert found_ids(ledger, VISIT) == set()
        assert found_ids(ledger, moved) == {"clinic-000101"}
        ledger.mark_deleted("Clinic", ["clinic-000101"])
        assert found_ids(ledger, moved) == set()


def test_an_upgraded_file_knows_when_its_kept_payloads_end(tmp_path: Path) -> None:
    path = schema_one_file(tmp_path / "state.sqlite")
    connection = sqlite3.connect(path)
    ended = json.dumps({**VISIT, "end_time": "2026-12-14T09:00:00-08:00"})
    connection.execute("UPDATE payloads SET payload = ?", (ended,))
    connection.commit()
    connection.close()
    with Ledger.open(path) as ledger:
        before = ledger.live_entries("Clinic", ending_after="2026-12-14T16:59:59+00:00")
        after = ledger.live_entries("Clinic", ending_after="2026-12-14T17:00:00+00:00")
    assert ([e.external_id for e in before], after) == (["clinic-000101"], [])
