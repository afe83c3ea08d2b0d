"""The state file's lock: a link planted at its name is refused, never followed; SQLite syncs fully.

The lock itself (one run at a time, released when a run dies) is tested with the ledger in
``test_store.py``; these are the file-system cases around it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from importer.errors import LedgerError, LedgerLocked
from importer.ledger import Ledger, held_by_another
from importer.ledger.lock import StateFileLock, lock_path
from importer.ledger.schema import connect

PRECIOUS = b"a file the user cares about\n" * 10


def plant_link(tmp_path: Path) -> tuple[Path, Path]:
    """``state.sqlite.lock`` as a symbolic link to another file; skip where links need rights."""
    state = tmp_path / "state.sqlite"
    target = tmp_path / "precious.txt"
    target.write_bytes(PRECIOUS)
    try:
        lock_path(state).symlink_to(target)
    except OSError as exc:  # Windows without the right to make links
        pytest.skip(f"cannot make a symbolic link here: {exc}")
    return state, target


def test_a_lock_file_that_is_a_link_is_refused_and_its_target_left_whole(tmp_path: Path) -> None:
    state, target = plant_link(tmp_path)
    with pytest.raises(LedgerError, match="is a link to another file") as raised:
        Ledger.open(state)
    assert not isinstance(raised.value, LedgerLocked)
    assert target.read_bytes() == PRECIOUS
    assert not held_by_another(state)
    assert target.read_bytes() == PRECIOUS


def test_the_lock_file_is_the_state_file_name_plus_lock(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    lock = StateFileLock.acquire(state)
    try:
        assert lock.path == tmp_path / "state.sqlite.lock"
        assert held_by_another(state)
        with pytest.raises(LedgerLocked, match=f"pid {os.getpid()},"):
            StateFileLock.acquire(state)
    finally:
        lock.release()
    lock.release()  # twice is harmless
    assert not held_by_another(state)


@pytest.mark.parametrize("pragma", ["fullfsync", "checkpoint_fullfsync", "synchronous"])
def test_the_ledger_asks_sqlite_for_full_syncs(tmp_path: Path, pragma: str) -> None:
    connection = connect(tmp_path / "state.sqlite")
    try:
        # synchronous: 2 is FULL; the fullfsync pragmas: 1 is on (used where the system has it)
        expected = 2 if pragma == "synchronous" else 1
        assert connection.execute(f"PRAGMA {pragma}").fetchone() == (expected,)
    finally:
        connection.close()
