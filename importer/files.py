"""Writing files atomically: a crash or a full disk never leaves half a file.

A temporary file in the same folder is written, flushed to disk, then renamed over the target.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from importer.errors import ReportError


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path``.

    The temporary file is named ``.<name>.<pid>.<random>.tmp``: a process killed mid-write leaves
    it behind, and the next successful write of ``path`` removes it once that process is gone.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "ab") as handle:  # Windows refuses to fsync a file opened read-only
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _remove_crashed_writes(path)


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
