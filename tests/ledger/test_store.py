"""The ledger (state file) and the payload hash it stores.

Crash and lock tests run a second Python process that holds the ledger, signals on its stdout
once it is where the test wants it, and is then killed with SIGKILL, as a user's ``kill -9`` would.
"""

from __future__ import annotations

import hashlib
import math
import os
import random
import select
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from importer.errors import LedgerError, LedgerLocked
from importer.ledger import (
    DEFAULT_LEDGER_PATH,
    Ledger,
    LedgerEntry,
    canonical_json,
    field_hashes,
    held_by_another,
    payload_hash,
)
from importer.ledger.schema import CREATE_TABLES, SCHEMA_VERSION
from importer.outcomes import RowStatus
from tests.helpers import ROOT

WHEN = "2026-04-13T12:03:05+00:00"


# The event a test records, unless the test says otherwise.
ENTRY_FIELDS: dict[str, Any] = {
    "mapping": "clinic",
    "apptoto_id": 101,
    "calendar": "Main Street",
    "status": "created",
    "updated_at": WHEN,
    "source_file": "april.xlsx",
    "source_row": 2,
}


def entry(external_id: str, *, digest: str = "hash-1", **changes: Any) -> LedgerEntry:
    """A ledger entry for ``external_id``; ``changes`` are fields of LedgerEntry to set."""
    return LedgerEntry(external_id=external_id, payload_hash=digest, **(ENTRY_FIELDS | changes))


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger.open(tmp_path / "state.sqlite") as opened:
        yield opened


def start_holder(state: Path, script: str) -> subprocess.Popen[str]:
    """Run ``script`` in another Python with ``ledger`` open on ``state``; wait for its "ready"."""
    if sys.platform == "win32":  # select() takes sockets only there; tests/test_portable.py
        pytest.skip("waits on a pipe with select(), which Windows does not allow")
    program = "import sys, time\nfrom importer.ledger import Ledger, LedgerEntry\n"
    program += f"ledger = Ledger.open({str(state)!r})\n" + textwrap.dedent(script)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    holder = subprocess.Popen(
        [sys.executable, "-c", program], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    assert holder.stdout is not None
    readable, _, _ = select.select([holder.stdout], [], [], 30)
    line = holder.stdout.readline() if readable else ""
    if line.strip() != "ready":
        holder.kill()
        holder.wait()
        pytest.fail(f"the holder process did not get ready (said {line!r})")
    return holder


def kill_hard(process: subprocess.Popen[str]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    if process.stdout is not None:
        process.stdout.close()


# --- opening, schema -------------------------------------------------------------------------


def test_open_creates_the_file_and_its_folder_with_the_schema(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "folder" / "state.sqlite"
    with Ledger.open(path) as ledger:
        assert ledger.path == path
        assert ledger.count_live("clinic") == 0
    with sqlite3.connect(path) as plain:
        assert plain.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert plain.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    plain.close()


def test_default_path_is_in_the_data_folder_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data_folder: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    with Ledger.open() as ledger:
        ledger.record([entry("A-1")])
    assert (data_folder / "state.sqlite").is_file()
    assert not (tmp_path / DEFAULT_LEDGER_PATH).exists()


def test_a_ledger_in_the_old_place_is_still_the_default_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data_folder: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    assert DEFAULT_LEDGER_PATH == Path(".apptoto-import/state.sqlite")
    with Ledger.open(DEFAULT_LEDGER_PATH) as ledger:
        ledger.record([entry("A-1")])
    with Ledger.open() as ledger:
        assert ledger.path == tmp_path / DEFAULT_LEDGER_PATH
        assert ledger.count_live("clinic") == 1
    assert not (data_folder / "state.sqlite").exists()


def test_an_empty_file_is_a_new_ledger(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    path.write_bytes(b"")
    with Ledger.open(path) as ledger:
        ledger.record([entry("A-1")])
        assert set(ledger.lookup("clinic", ["A-1"])) == {"A-1"}


def write_other_database(path: Path) -> None:
    with sqlite3.connect(path) as other:
        other.execute("CREATE TABLE invoices (number TEXT)")
    other.close()


def write_newer_ledger(path: Path) -> None:
    with sqlite3.connect(path) as newer:
        newer.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    newer.close()


@pytest.mark.parametrize(
    ("make_file", "expected"),
    [
        (lambda p: p.write_text("external_id,status\nA-1,created\n" * 50), "not a readable"),
        (lambda p: p.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000), "not a readable"),
        (write_other_database, "not an importer state file"),
        (write_newer_ledger, "newer version of the importer"),
    ],
    ids=["csv-text", "damaged-header", "another-programs-database", "newer-schema"],
)
def test_a_file_that_is_not_a_ledger_is_refused_with_advice(
    tmp_path: Path, make_file: Any, expected: str
) -> None:
    path = tmp_path / "state.sqlite"
    make_file(path)
    before = path.read_bytes()
    with pytest.raises(LedgerError) as raised:
        Ledger.open(path)
    message = str(raised.value)
    assert not isinstance(raised.value, LedgerLocked)
    assert str(path) in message and expected in message
    assert "Move" in message and "no duplicates" in message
    assert path.read_bytes() == before  # the user's file is left as it was
    # The failed open released the lock: the same error again, not "another import is running".
    with pytest.raises(LedgerError, match=expected):
        Ledger.open(path)


def test_a_closed_ledger_refuses_work_with_a_ledger_error(tmp_path: Path) -> None:
    ledger = Ledger.open(tmp_path / "state.sqlite")
    ledger.close()
    ledger.close()  # twice is fine
    assert "closed" in repr(ledger)
    with pytest.raises(LedgerError, match="closed"):
        ledger.lookup("clinic", ["A-1"])


# --- record and lookup -----------------------------------------------------------------------


def test_record_then_lookup_round_trips_every_field(ledger: Ledger) -> None:
    stored = [
        entry("A-1", apptoto_id=101),
        LedgerEntry("clinic", "B-2", None, "7", "hash-2", "updated", WHEN, "may.csv", None),
    ]
    assert ledger.record(stored) == 2
    found = ledger.lookup("clinic", ["B-2", "A-1", "unknown", "A-1"])
    assert found == {"A-1": stored[0], "B-2": stored[1]}
    assert ledger.lookup("clinic", []) == {}


def test_lookup_spans_many_chunks(ledger: Ledger) -> None:
    ids = [f"E-{number:05d}" for number in range(2_345)]
    ledger.record(entry(external_id, apptoto_id=n) for n, external_id in enumerate(ids))
    found = ledger.lookup("clinic", [*reversed(ids), "missing"])
    assert len(found) == 2_345
    assert found["E-01234"].apptoto_id == 1234


def test_record_replaces_what_was_known(ledger: Ledger) -> None:
    ledger.record([entry("A-1", digest="hash-1", apptoto_id=101)])
    later = entry("A-1", digest="hash-2", apptoto_id=101, status="updated")
    ledger.record([later])
    assert ledger.lookup("clinic", ["A-1"]) == {"A-1": later}
    assert ledger.count_live("clinic") == 1


def test_a_confirmation_without_an_id_keeps_the_known_id(ledger: Ledger) -> None:
    ledger.record([entry("A-1", apptoto_id=101)])
    ledger.record([entry("A-1", apptoto_id=None, digest="hash-2", status="updated")])
    kept = ledger.lookup("clinic", ["A-1"])["A-1"]
    assert (kept.apptoto_id, kept.payload_hash) == (101, "hash-2")


def test_a_row_status_enum_is_stored_as_its_text(ledger: Ledger) -> None:
    ledger.record([entry("A-1", status=RowStatus.UPDATED)])
    assert ledger.lookup("clinic", ["A-1"])["A-1"].status == "updated"


@pytest.mark.parametrize(
    ("external_id", "status"), [("", "created"), ("A-1", "failed"), ("A-1", "unchanged")]
)
def test_an_entry_must_have_an_id_and_a_ledger_status(external_id: str, status: str) -> None:
    with pytest.raises(ValueError):
        entry(external_id, status=status)


def test_an_exception_midway_through_a_batch_keeps_nothing_of_it(ledger: Ledger) -> None:
    before = entry("A-1", digest="hash-1")
    ledger.record([before])

    def batch() -> Iterator[LedgerEntry]:
        yield entry("A-1", digest="hash-2", status="updated")
        yield entry("B-2")
        raise RuntimeError("the batch broke")

    with pytest.raises(RuntimeError, match="the batch broke"):
        ledger.record(batch())
    assert ledger.lookup("clinic", ["A-1", "B-2"]) == {"A-1": before}
    ledger.record([entry("C-3")])  # the ledger is still usable
    assert ledger.count_live("clinic") == 2


def test_a_bad_payload_late_in_a_batch_rolls_back_the_whole_batch(ledger: Ledger) -> None:
    before = entry("A-1", digest="hash-1")
    ledger.record([before])
    batch = [entry("A-1", digest="hash-2"), entry("B-2", payload={"title": math.nan})]
    with pytest.raises(ValueError):
        ledger.record(batch)
    assert ledger.lookup("clinic", ["A-1", "B-2"]) == {"A-1": before}


def test_a_kill_during_a_transaction_leaves_the_previous_state(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    # Thousands of rows so that uncommitted pages spill into the WAL before the kill.
    holder = start_holder(
        state,
        """
        from collections.abc import Mapping
        def make(external_id, digest, payload=None):
            return LedgerEntry("clinic", external_id, 1, "Main", digest, "created",
                               "2026-04-13T12:00:00+00:00", "april.xlsx", 2, payload=payload)
        class Stalls(Mapping):
            def __getitem__(self, key): raise KeyError(key)
            def __iter__(self): return iter(())
            def __len__(self): return 0
            def items(self):
                print("ready", flush=True)
                time.sleep(60)
                return {}.items()
        ledger.record([make("KEPT", "old")])
        batch = [make("KEPT", "new")] + [make(f"N-{n}", "x" * 60) for n in range(20_000)]
        ledger.record(batch + [make("LAST", "new", payload=Stalls())])
        """,
    )
    kill_hard(holder)
    with Ledger.open(state) as ledger:
        assert ledger.count_live("clinic") == 1
        assert ledger.lookup("clinic", ["KEPT"])["KEPT"].payload_hash == "old"


# --- stored payloads -------------------------------------------------------------------------


def test_last_field_hashes_hash_each_field_sent_but_the_apptoto_id(ledger: Ledger) -> None:
    sent = {"id": 101, "title": "Cleaning", "participants": [{"name": "Zoë", "phone": "+1212"}]}
    ledger.record([entry("A-1", payload=sent), entry("B-2")])
    assert ledger.last_field_hashes("clinic", ["A-1", "B-2", "C-3"]) == {
        "A-1": field_hashes({"title": "Cleaning", "participants": sent["participants"]})
    }
    assert set(field_hashes(sent)) == {"title", "participants"}
    looked_up = ledger.lookup("clinic", ["A-1"])["A-1"]
    assert looked_up.payload is None
    assert "Zoë" not in repr(entry("A-1", payload=sent))  # names stay out of logs


def test_a_record_without_payload_forgets_the_older_field_hashes(ledger: Ledger) -> None:
    ledger.record([entry("A-1", payload={"title": "Cleaning"})])
    ledger.record([entry("A-1", digest="hash-2")])
    assert ledger.last_field_hashes("clinic", ["A-1"]) == {}


# --- cancellation ----------------------------------------------------------------------------


def test_mark_deleted_leaves_the_entry_but_not_among_the_live_ones(ledger: Ledger) -> None:
    ledger.record([entry("A-1"), entry("B-2"), entry("C-3")])
    assert ledger.mark_deleted("clinic", ["B-2", "unknown"], when="2026-05-01T08:00:00+00:00") == 1
    assert [e.external_id for e in ledger.live_entries("clinic")] == ["A-1", "C-3"]
    assert ledger.count_live("clinic") == 2
    gone = ledger.lookup("clinic", ["B-2"])["B-2"]
    assert (gone.deleted, gone.status, gone.updated_at) == (
        True,
        "cancelled",
        "2026-05-01T08:00:00+00:00",
    )
    # Marking again changes nothing: the first cancellation time stays.
    assert ledger.mark_deleted("clinic", ["B-2"]) == 0
    assert ledger.lookup("clinic", ["B-2"])["B-2"].updated_at == "2026-05-01T08:00:00+00:00"


def test_mark_deleted_stamps_the_current_utc_time_by_default(ledger: Ledger) -> None:
    ledger.record([entry("A-1")])
    ledger.mark_deleted("clinic", ["A-1"])
    stamp = datetime.fromisoformat(ledger.lookup("clinic", ["A-1"])["A-1"].updated_at)
    assert stamp.utcoffset() == timedelta(0)
    assert stamp.year >= 2026


def test_a_row_back_in_the_file_is_live_again_once_recorded(ledger: Ledger) -> None:
    ledger.record([entry("A-1")])
    ledger.mark_deleted("clinic", ["A-1"])
    ledger.record([entry("A-1", apptoto_id=202)])
    assert [(e.external_id, e.apptoto_id) for e in ledger.live_entries("clinic")] == [("A-1", 202)]


def test_mappings_keep_their_own_events(ledger: Ledger) -> None:
    ledger.record([entry("A-1", mapping="north", digest="n"), entry("A-1", mapping="south")])
    ledger.record([entry("B-2", mapping="south")])
    assert ledger.lookup("north", ["A-1", "B-2"])["A-1"].payload_hash == "n"
    assert set(ledger.lookup("north", ["A-1", "B-2"])) == {"A-1"}
    assert ledger.mark_deleted("north", ["A-1", "B-2"]) == 1
    assert (ledger.count_live("north"), ledger.count_live("south")) == (0, 2)
    assert [e.external_id for e in ledger.live_entries("south")] == ["A-1", "B-2"]
    assert ledger.live_entries("nobody") == []


# --- one run at a time -----------------------------------------------------------------------


def test_a_second_open_in_the_same_process_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    with Ledger.open(path):
        with pytest.raises(LedgerLocked, match=f"pid {os.getpid()}"):
            Ledger.open(path)
    with Ledger.open(path) as again:  # closing released it
        assert again.count_live("clinic") == 0


def test_a_read_only_opening_reads_beside_the_run_that_holds_the_ledger(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    assert not held_by_another(state)
    with Ledger.open(state) as held:
        held.record([entry("A-1"), entry("A-2", apptoto_id=102)])
        assert held_by_another(state)
        with Ledger.open_read_only(state) as beside:
            assert sorted(beside.lookup("clinic", ["A-1", "A-2", "A-3"])) == ["A-1", "A-2"]
            held.record([entry("A-3", apptoto_id=103)])  # the run goes on writing
            assert sorted(beside.lookup("clinic", ["A-3"])) == ["A-3"]
            with pytest.raises(LedgerError, match="readonly"):
                beside.record([entry("A-4")])
        assert held_by_another(state)  # the read-only opening took no lock, so dropped none
    assert not held_by_another(state)


def test_a_read_only_opening_refuses_what_is_not_a_ledger(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="no state file"):
        Ledger.open_read_only(tmp_path / "missing.sqlite")
    assert not (tmp_path / "missing.sqlite").exists()
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE patients (name TEXT)")
    with pytest.raises(LedgerError, match="not an importer state file"):
        Ledger.open_read_only(other)


def test_a_run_in_another_process_holds_the_ledger_until_it_is_killed(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    holder = start_holder(state, 'print("ready", flush=True)\ntime.sleep(60)\n')
    try:
        with pytest.raises(LedgerLocked) as raised:
            Ledger.open(state)
        message = str(raised.value)
        assert f"pid {holder.pid}," in message and "started 20" in message
        assert str(state) in message and "another import is running" in message
    finally:
        kill_hard(holder)
    with Ledger.open(state) as ledger:  # the killed run's lock did not outlive it
        ledger.record([entry("A-1")])
        assert ledger.count_live("clinic") == 1


# --- payload hash ----------------------------------------------------------------------------

APPOINTMENT: dict[str, Any] = {
    "external_id": "A-1",
    "calendar": "Main Street",
    "title": "Cleaning with Dr. Ng",
    "start_time": "2026-04-13T09:00:00-04:00",
    "custom_data": {"Provider": "Ng", "Room": "2"},
    "participants": [{"name": "Zoë Brontë", "phone": "+12125550123", "email": "z@example.com"}],
}


@pytest.mark.parametrize(
    "same",
    [
        dict(reversed(list(APPOINTMENT.items()))),
        {**APPOINTMENT, "id": 987},
        {**APPOINTMENT, "custom_data": {"Room": "2", "Provider": "Ng"}},
        {
            **APPOINTMENT,
            "participants": [
                {"email": "z@example.com", "phone": "+12125550123", "name": "Zoë Brontë"}
            ],
        },
    ],
    ids=["key-order", "apptoto-id-added", "custom-data-order", "participant-key-order"],
)
def test_the_hash_ignores_key_order_and_the_apptoto_id(same: dict[str, Any]) -> None:
    assert payload_hash(same) == payload_hash(APPOINTMENT)


@pytest.mark.parametrize(
    "different",
    [
        {**APPOINTMENT, "title": "Cleaning with Dr. Ng "},
        {**APPOINTMENT, "custom_data": {"Provider": "Ng", "Room": 2}},
        {**APPOINTMENT, "participants": [{"name": "Zoe Bronte", "phone": "+12125550123"}]},
        {**APPOINTMENT, "participants": [*APPOINTMENT["participants"], {"name": "Al"}]},
        {**APPOINTMENT, "location": None},
        {k: v for k, v in APPOINTMENT.items() if k != "custom_data"},
    ],
    ids=["trailing-space", "number-not-text", "accents", "participant-added", "null", "key-gone"],
)
def test_the_hash_changes_with_any_content(different: dict[str, Any]) -> None:
    assert payload_hash(different) != payload_hash(APPOINTMENT)


def test_the_hash_is_sha256_of_compact_sorted_utf8_json() -> None:
    payload = {"title": "Café", "id": 5, "all_day": False, "a": [1, 2]}
    assert canonical_json(payload) == '{"a":[1,2],"all_day":false,"title":"Café"}'
    expected = hashlib.sha256('{"a":[1,2],"all_day":false,"title":"Café"}'.encode()).hexdigest()
    assert payload_hash(payload) == expected


@pytest.mark.parametrize(
    ("payload", "error"),
    [({"start_time": datetime(2026, 4, 13)}, TypeError), ({"show_as": math.inf}, ValueError)],
)
def test_a_value_json_cannot_hold_is_an_error_not_a_hash(
    payload: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        payload_hash(payload)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=15,
)
payloads = st.dictionaries(st.text(max_size=10), json_values, max_size=8)


def shuffled(value: Any, rnd: random.Random) -> Any:
    """The same JSON value with the keys of every object in another order."""
    if isinstance(value, dict):
        keys = list(value)
        rnd.shuffle(keys)
        return {key: shuffled(value[key], rnd) for key in keys}
    if isinstance(value, list):
        return [shuffled(item, rnd) for item in value]
    return value


@given(payload=payloads, rnd=st.randoms(use_true_random=False))
def test_property_permuting_keys_keeps_the_hash(
    payload: dict[str, Any], rnd: random.Random
) -> None:
    assert payload_hash(shuffled(payload, rnd)) == payload_hash(payload)


@given(payload=payloads, key=st.text(max_size=10), old=json_values, new=json_values)
def test_property_changing_one_value_changes_the_hash(
    payload: dict[str, Any], key: str, old: Any, new: Any
) -> None:
    assume(key != "id")
    assume(canonical_json({"v": old}) != canonical_json({"v": new}))
    assert payload_hash({**payload, key: old}) != payload_hash({**payload, key: new})


# --- when events end: --cancel-missing leaves the visits already over alone ------------------


def ending(external_id: str, end_time: str | None, **changes: Any) -> LedgerEntry:
    payload = {"external_id": external_id, "end_time": end_time} if end_time else None
    return entry(external_id, payload=payload, **changes)


def test_live_entries_ending_after_a_moment_keep_those_whose_end_is_not_known(
    ledger: Ledger,
) -> None:
    ledger.record(
        [
            ending("over", "2026-12-01T10:00:00-08:00"),  # 18:00 UTC
            ending("later", "2026-12-01T11:00:00-08:00"),  # 19:00 UTC
            ending("unknown", None),  # recorded without its payload: when it ends is unknown
        ]
    )
    after = "2026-12-01T18:30:00+00:00"
    assert [e.external_id for e in ledger.live_entries("clinic", ending_after=after)] == [
        "later",
        "unknown",
    ]
    assert len(ledger.live_entries("clinic")) == 3
    # A confirmation without a payload keeps the end known before.
    ledger.record([ending("over", None)])
    assert "over" not in {e.external_id for e in ledger.live_entries("clinic", ending_after=after)}


def test_a_schema_three_file_is_upgraded_and_its_events_ends_are_unknown(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    connection = sqlite3.connect(path)
    for statement in CREATE_TABLES:  # schema 3: no ends_at
        connection.execute(statement)
    connection.execute(
        "INSERT INTO events VALUES ('clinic', 'A-1', 101, 'Main Street', 'h', 'created', "
        f"'{WHEN}', 'april.xlsx', 2, 0)"
    )
    connection.execute("PRAGMA user_version = 3")
    connection.commit()
    connection.close()
    later = "2030-01-01T00:00:00+00:00"
    with Ledger.open_read_only(path) as reading:  # a plan: the file stays as it is
        assert [e.external_id for e in reading.live_entries("clinic", ending_after=later)] == [
            "A-1"
        ]
    with Ledger.open(path) as ledger:
        assert [e.external_id for e in ledger.live_entries("clinic", ending_after=later)] == ["A-1"]
        ledger.record([ending("B-2", "2026-12-14T09:00:00-08:00")])
        assert [e.external_id for e in ledger.live_entries("clinic", ending_after=later)] == ["A-1"]
    check = sqlite3.connect(path)
    try:
        assert check.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
    finally:
        check.close()
