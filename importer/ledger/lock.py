"""One run at a time per state file: an exclusive ``flock`` on ``<state file>.lock``.

The operating system drops the lock when the process dies, however it dies, so a killed run never
blocks the next one. The file holds the owner's pid, host and start time, only for the message
another run shows. (``flock`` needs a POSIX system and a local disk.)
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from datetime import UTC, datetime
from pathlib import Path

from importer.errors import LedgerError, LedgerLocked


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
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise LedgerError(f"cannot create the lock file {path}: {exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
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
        # Only for the message another run shows; the lock itself is the flock.
        owner = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(owner).encode("utf-8"), 0)
        return cls(path, fd)

    @staticmethod
    def _describe_holder(fd: int) -> str:
        try:
            holder = json.loads(os.pread(fd, 4096, 0).decode("utf-8"))
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
            os.ftruncate(fd, 0)  # no stale pid for the next reader
        except OSError:
            pass  # closing below releases the lock all the same
        os.close(fd)  # closing the last descriptor releases the flock


def held_by_another(state_path: Path) -> bool:
    """True when a run holds the lock of ``state_path`` right now (checked, not taken).

    The answer can change the moment after; a run still takes the lock itself. False when the
    lock file cannot be opened: the run will then say why.
    """
    path = state_path.with_name(state_path.name + ".lock")
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # closing drops the lock taken for the check
    return False
