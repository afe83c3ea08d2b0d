"""Issue 17, keep less PHI: the ledger holds no patient's details, old ledgers are wiped of theirs.

The ledger needs to decide (a hash per payload), to say which fields changed (a short hash per
field) and to hold back a second booking of the same appointment (digests); names, phones,
emails, dates of birth and notes are never written to it.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from importer.ledger import Ledger, LedgerEntry, field_hashes
from importer.ledger.schema import CREATE_TABLES, KEY_TABLES, OLD_PAYLOADS_TABLE
from importer.sandbox.server import SandboxHandle
from tests.helpers import CLINIC_MAPPING, SAMPLES, env_for, invoke_cli, read_csv, write_csv

# Details of the sample's patients, as the sample and the payloads write them.
PATIENT_DETAILS = [
    "Gómez",
    "maria.gomez@example.com",
    "+15415550104",
    "5415550104",
    "Fasting since midnight",
    "O’Connor",
    "jim.oconnor@example.com",
]
VISIT: dict[str, Any] = {
    "external_id": "clinic-000101",
    "calendar": "Dr. Rivera",
    "start_time": "2026-12-14T08:30:00-08:00",
    "location": "Eugene clinic, room 2",
    "content": "Fasting since midnight",
    "participants": [
        {"name": "Maria Gómez", "email": "maria.gomez@example.com", "phone": "+15415550104"}
    ],
}


def file_bytes(path: Path) -> bytes:
    """The ledger and its journal files, as someone copying the folder would get them."""
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*") if p.is_file())


def assert_no_patient_details(path: Path) -> None:
    held = file_bytes(path)
    assert held, "no ledger written"
    found = [d for d in PATIENT_DETAILS if d.encode("utf-8") in held]
    assert found == [], f"the ledger holds {found}"


def test_the_ledger_holds_no_patient_details(sandbox: SandboxHandle, tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    common = ["-m", str(CLINIC_MAPPING), "--state", str(state), "--quiet"]
    run = invoke_cli(
        ["run", str(SAMPLES / "appointments.csv"), *common, "--report", str(tmp_path / "r.csv")],
        env_for(sandbox),
    )
    assert "14 created" in run.output, run.output
    assert_no_patient_details(state)
    # The re-run still says which fields changed.
    header, rows = read_csv(SAMPLES / "appointments.csv")
    moved = next(r for r in rows if r["Appointment ID"] == "000102")
    moved.update({"Start": "9:05 AM", "Location": "Annex"})
    edited = write_csv(tmp_path / "edited.csv", header, rows, encoding="utf-8-sig")
    plan = invoke_cli(["plan", str(edited), *common, "--report", str(tmp_path / "plan.csv")])
    assert plan.exit_code == 1, plan.output  # the sample's invalid rows
    planned = {r["external_id"]: r for r in csv_rows(tmp_path / "plan.csv")}
    assert planned["clinic-000102"]["message"] == "changes: start, location"
    assert_no_patient_details(state)


def csv_rows(path: Path) -> list[dict[str, str]]:
    return read_csv(path)[1]


def schema_two_file(path: Path) -> Path:
    """A state file as the importer wrote it before issue 17: the last payload kept whole."""
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode = WAL")
    for statement in (CREATE_TABLES[0], OLD_PAYLOADS_TABLE, *KEY_TABLES):
        connection.execute(statement)
    connection.execute(
        "INSERT INTO events VALUES ('Clinic', 'clinic-000101', 812, 'Dr. Rivera', 'h', "
        "'created', '2026-04-13T12:03:05+00:00', 'appointments.csv', 2, 0)"
    )
    payload = json.dumps(VISIT, ensure_ascii=False)
    connection.execute("INSERT INTO payloads VALUES ('Clinic', 'clinic-000101', ?)", (payload,))
    connection.execute("PRAGMA user_version = 2")
    connection.commit()
    connection.close()
    return path


def test_an_old_ledger_is_upgraded_and_its_patient_details_wiped(tmp_path: Path) -> None:
    path = schema_two_file(tmp_path / "state.sqlite")
    assert "Gómez".encode() in file_bytes(path)
    with Ledger.open(path) as ledger:
        hashes = ledger.last_field_hashes("Clinic", ["clinic-000101"])
    assert hashes == {"clinic-000101": field_hashes(VISIT)}
    assert_no_patient_details(path)


def test_an_old_ledger_read_only_gives_field_hashes_and_stays_as_it_was(tmp_path: Path) -> None:
    path = schema_two_file(tmp_path / "state.sqlite")
    before = path.read_bytes()
    with Ledger.open_read_only(path) as ledger:
        hashes = ledger.last_field_hashes("Clinic", ["clinic-000101"])
    assert hashes == {"clinic-000101": field_hashes(VISIT)}
    assert path.read_bytes() == before


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX; Windows uses access lists")
def test_the_state_file_is_0600_in_a_0700_folder(tmp_path: Path) -> None:
    path = tmp_path / "data" / "state.sqlite"
    with Ledger.open(path) as ledger:
        ledger.record([entry_with(VISIT)])
        journals = list(tmp_path.glob("data/state.sqlite-*"))
        assert journals  # WAL and its index
        assert {p.name: mode_of(p) for p in journals} == {p.name: 0o600 for p in journals}
    assert mode_of(path.parent) == 0o700
    assert mode_of(path) == 0o600


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX; Windows uses access lists")
def test_an_existing_readable_state_file_is_made_private(tmp_path: Path) -> None:
    path = schema_two_file(tmp_path / "state.sqlite")
    path.chmod(0o644)
    tmp_path.chmod(0o755)
    with Ledger.open(path):
        pass
    assert mode_of(path) == 0o600
    assert mode_of(tmp_path) == 0o755  # a folder the user chose is left as it is


def entry_with(payload: dict[str, Any]) -> LedgerEntry:
    return LedgerEntry(
        "Clinic", "clinic-000101", 812, "Dr. Rivera", "h", "created",
        "2026-04-13T12:03:05+00:00", "appointments.csv", 2, payload=payload,
    )  # fmt: skip


@contextmanager
def unwritable(folder: Path) -> Iterator[None]:
    """``folder`` as one this user cannot create files in: ``chmod 555``, or for root (which
    writes there anyway) immutable (``chattr +i``); skips where neither holds."""
    chattr = shutil.which("chattr")
    as_root = os.name != "posix" or os.geteuid() == 0
    if not as_root:
        folder.chmod(0o555)
    elif chattr is None or subprocess.run([chattr, "+i", str(folder)], check=False).returncode:
        pytest.skip("no way here to make a folder this user cannot write to")
    try:
        assert not os.access(folder, os.W_OK)
        yield
    finally:
        if as_root and chattr is not None:
            subprocess.run([chattr, "-i", str(folder)], check=False)
        folder.chmod(0o755)


def test_plan_reads_a_ledger_in_a_read_only_folder(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    with Ledger.open(folder / "state.sqlite") as ledger:
        ledger.record([entry_with(VISIT)])
    with unwritable(folder), Ledger.open_read_only(folder / "state.sqlite") as ledger:
        found = ledger.lookup("Clinic", ["clinic-000101"])
    assert found["clinic-000101"].apptoto_id == 812
