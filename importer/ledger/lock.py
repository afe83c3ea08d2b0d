"""One run at a time per state file: an exclusive OS lock on ``<state file>.lock``.

The operating system drops the lock when the process dies, however it dies, so a killed run never
blocks the next one: ``flock`` on Linux and macOS, ``msvcrt.locking`` of the file's first byte on
Windows (both need a local disk). After that byte the file holds the owner's pid, host and start
time, only for the message another run shows; Windows locks are mandatory, so a reader never
reads the locked byte.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path

from importer.errors import LedgerError, LedgerLocked

_OWNER_AT = 1  # the owner's JSON starts after the locked byte
_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation


if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> None:
        """Lock the file's first byte, or raise BlockingIOError when another process holds it."""
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError as exc:  # a non-blocking lock fails only when another process holds it
            raise BlockingIOError(str(exc)) from exc

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> None:
        """Lock the whole file, or raise BlockingIOError when another process holds it."""
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _read_at(fd: int, offset: int, size: int) -> bytes:
    os.lseek(fd, offset, os.SEEK_SET)
    return os.read(fd, size)


def _write_at(fd: int, offset: int, data: bytes) -> None:
    os.lseek(fd, offset, os.SEEK_SET)
    os.write(fd, data)


class StateFileLock:
    """An exclusive, non-blocking ``flock`` on ``<state file>.lock``, holding the owner's pid."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, state_path: Path) -> StateFileLock:
        """Lock ``state_path`` or raise ``LedgerLocked`` naming the holder's pid and start time."""
        path = state_path.with_name(state_path.name + ".lock")
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | _BINARY, 0o644)
        except OSError as exc:
            raise LedgerError(f"cannot create the lock file {path}: {exc}") from exc
        try:
            _try_lock(fd)
        except BlockingIOError as exc:
            holder = cls._describe_holder(fd)
            os.close(fd)
            raise LedgerLocked(
                f"another import is running with the state file {state_path} ({holder}); wait for "
                "it to finish or stop it, or give this run a different state file"
            ) from exc
        except OSError as exc:
            os.close(fd)
            raise LedgerError(
                f"cannot lock {path}: {exc}; keep the state file on a local disk"
            ) from exc
        # Only for the message another run shows; the lock itself is the OS lock.
        owner = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, _OWNER_AT)
        _write_at(fd, _OWNER_AT, json.dumps(owner).encode("utf-8"))
        return cls(path, fd)

    @staticmethod
    def _describe_holder(fd: int) -> str:
        try:
            holder = json.loads(_read_at(fd, _OWNER_AT, 4096).decode("utf-8"))
            pid, host = int(holder["pid"]), str(holder["host"])
            started = datetime.fromisoformat(holder["started"]).astimezone()
        except (OSError, ValueError, KeyError, TypeError):
            # The holder has locked but not yet written its pid, or the file was edited.
            return "pid unknown"
        where = "" if host == socket.gethostname() else f" on host {host}"
        return f"pid {pid}{where}, started {started:%Y-%m-%d %H:%M:%S %Z}"

    def release(self) -> None:
        """Drop the lock; safe to call twice."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, _OWNER_AT)  # no stale pid for the next reader
        except OSError:
            pass  # closing below releases the lock all the same
        os.close(fd)  # closing the last descriptor releases the lock


def held_by_another(state_path: Path) -> bool:
    """True when a run holds the lock of ``state_path`` right now (checked, not taken).

    The answer can change the moment after; a run still takes the lock itself. False when the
    lock file cannot be opened: the run will then say why.
    """
    path = state_path.with_name(state_path.name + ".lock")
    try:
        fd = os.open(path, os.O_RDONLY | _BINARY)
    except OSError:
        return False
    try:
        _try_lock(fd)
        _unlock(fd)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
    return False
