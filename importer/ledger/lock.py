"""One run at a time per state file: an exclusive OS lock on ``<state file>.lock``.

The lock is taken through portalocker (``flock`` on Linux and macOS, ``msvcrt.locking`` on
Windows), so the operating system drops it when the process dies, however it dies: a killed run
never blocks the next one. Both need a local disk. The lock file is opened without following a
symbolic link, so a link planted at its name cannot make a run overwrite another file. Past the
bytes Windows locks (its locks are mandatory: nobody else reads them), the file holds the owner's
pid, host and start time, only for the message another run shows.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path

import portalocker

from importer.errors import LedgerError, LedgerLocked

# Where the owner's JSON starts: on Windows past the 64 KiB that portalocker locks from byte 0
# (nobody else may read them there); flock on Linux and macOS locks no bytes.
_OWNER_AT = 0x10000 if sys.platform == "win32" else 1
# Windows: no newline translation. O_NOFOLLOW (Linux, macOS): refuse a symbolic link.
_FLAGS = getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)
_EXCLUSIVE = portalocker.LockFlags.EXCLUSIVE | portalocker.LockFlags.NON_BLOCKING


def lock_path(state_path: Path) -> Path:
    """``<state file>.lock``: the file whose OS lock says a run holds ``state_path``."""
    return state_path.with_name(state_path.name + ".lock")


def _open(path: Path, flags: int) -> int:
    """Open the lock file, refusing a symbolic link (``LedgerError`` naming it)."""
    if path.is_symlink():  # Windows has no O_NOFOLLOW; elsewhere O_NOFOLLOW also refuses it
        raise LedgerError(f"the lock file {path} is a link to another file; remove the link")
    try:
        return os.open(path, flags | _FLAGS, 0o600)
    except OSError as exc:
        if path.is_symlink():  # created between the check and the open
            raise LedgerError(
                f"the lock file {path} is a link to another file; remove the link"
            ) from exc
        raise LedgerError(f"cannot open the lock file {path}: {exc.strerror or exc}") from exc


def _read_at(fd: int, offset: int, size: int) -> bytes:
    os.lseek(fd, offset, os.SEEK_SET)
    return os.read(fd, size)


class StateFileLock:
    """An exclusive, non-blocking OS lock on ``<state file>.lock``, holding the owner's pid."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, state_path: Path) -> StateFileLock:
        """Lock ``state_path`` or raise ``LedgerLocked`` naming the holder's pid and start time."""
        path = lock_path(state_path)
        fd = _open(path, os.O_RDWR | os.O_CREAT)
        try:
            portalocker.lock(fd, _EXCLUSIVE)
        except portalocker.AlreadyLocked as exc:
            holder = cls._describe_holder(fd)
            os.close(fd)
            raise LedgerLocked(
                f"another import is running with the state file {state_path} ({holder}); wait for "
                "it to finish or stop it, or give this run a different state file"
            ) from exc
        except (portalocker.LockException, OSError) as exc:
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
        try:
            os.ftruncate(fd, _OWNER_AT)
            os.lseek(fd, _OWNER_AT, os.SEEK_SET)
            os.write(fd, json.dumps(owner).encode("utf-8"))
        except OSError:
            pass  # a full disk: another run's message says "pid unknown"; the lock holds
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
    try:
        fd = _open(lock_path(state_path), os.O_RDONLY)
    except LedgerError:
        return False
    try:
        portalocker.lock(fd, _EXCLUSIVE)
        portalocker.unlock(fd)
    except portalocker.AlreadyLocked:
        return True
    except (portalocker.LockException, OSError):
        return False
    finally:
        os.close(fd)
    return False
