"""Writing files atomically: a crash or a full disk never leaves half a file.

A temporary file in the same folder is written, flushed to disk, then renamed over the target.
When the target cannot be replaced (Windows refuses while Excel has it open), the file can go
beside it under a new name instead, ``<name> (written HH-MM-SS).<ext>``.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from importer.errors import ReportError


@dataclass
class WrittenFile:
    """A file written atomically: the caller writes ``tmp``; ``path`` is where it ended up."""

    tmp: Path
    path: Path
    not_replaced: str = ""  # why the target could not be replaced, when it went beside it


@contextlib.contextmanager
def atomic_write(path: Path, *, beside_if_locked: bool = False) -> Iterator[WrittenFile]:
    """Yield a :class:`WrittenFile` whose ``tmp`` is beside ``path``; on success rename it over
    ``path``, or, with ``beside_if_locked``, beside it when ``path`` cannot be replaced.

    The temporary file is named ``.<name>.<pid>.<random>.tmp``: a process killed mid-write leaves
    it behind, and the next successful write of ``path`` removes it once that process is gone.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent
    )
    os.close(fd)
    written = WrittenFile(Path(tmp_name), path)
    try:
        yield written
        with open(written.tmp, "ab") as handle:  # Windows refuses to fsync a read-only handle
            os.fsync(handle.fileno())
        try:
            os.replace(written.tmp, path)
        except OSError as exc:  # the new file is whole: only the old one is in the way
            if not beside_if_locked:
                raise
            written.path = beside_name(path, datetime.now())
            written.not_replaced = exc.strerror or str(exc)
            os.replace(written.tmp, written.path)
    finally:
        written.tmp.unlink(missing_ok=True)
    _remove_crashed_writes(path)


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path``."""
    with atomic_write(path) as written:
        yield written.tmp


def beside_name(path: Path, now: datetime) -> Path:
    """``<name> (written HH-MM-SS).<ext>`` beside ``path``, numbered if that exists too."""
    candidate = path.with_name(f"{path.stem} (written {now:%H-%M-%S}){path.suffix}")
    number = 2
    while candidate.exists():
        candidate = path.with_name(f"{path.stem} (written {now:%H-%M-%S} {number}){path.suffix}")
        number += 1
    return candidate


def _remove_crashed_writes(path: Path) -> None:
    """Delete the half-written temporary files of ``path`` whose writing process has died."""
    if os.name != "posix":  # no safe way to ask whether a process lives
        return
    own = re.compile(rf"\.{re.escape(path.name)}\.(\d+)\.[^.]+\.tmp")
    try:
        names = [entry.name for entry in os.scandir(path.parent)]
    except OSError:
        return  # tidying is a courtesy: never fail a report that was written
    for name in names:
        found = own.fullmatch(name)
        if found is None or int(found.group(1)) == os.getpid() or _alive(int(found.group(1))):
            continue
        with contextlib.suppress(OSError):
            (path.parent / name).unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; the old file stays whole on failure."""
    target = Path(path)
    try:
        with atomic_path(target) as tmp:
            tmp.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"cannot write {target}: {exc.strerror or exc}") from exc
    return target


def make_private(path: Path, *, folder: bool = False) -> None:
    """Let only this user read ``path`` (0600; a folder 0700), where the system has such modes.

    Windows keeps access in lists that a new file inherits from its folder (the user's own
    profile folders are private already); there nothing is changed. A path that cannot be
    changed (another user's) is left as it is.
    """
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        os.chmod(path, 0o700 if folder else 0o600)


def create_private(path: Path) -> None:
    """Create an empty file at ``path`` readable by this user only, unless it exists."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
