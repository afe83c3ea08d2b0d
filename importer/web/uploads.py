"""Uploaded spreadsheets: kept in a private folder under random names, removed after the run.

The folder is made with ``tempfile.mkdtemp`` (mode 0700, only this user can list or read it);
each file is written with mode 0600 under a random token plus a suffix taken from a fixed list.
The name the person's computer gave the file is only ever shown (escaped by the templates),
never used as a path. The folder holds at most ``max_waiting`` files and ``max_total_bytes`` at
once (uploads not yet sent or being sent), and a file's check download is deleted with it. At
start the folders of servers that stopped without cleaning up (a crash, a power cut) are deleted
once nothing in them has changed for longer than an upload is kept.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from importer.load import CSV_SUFFIXES, WORKBOOK_SUFFIXES

ACCEPTED_SUFFIXES = (*CSV_SUFFIXES, *WORKBOOK_SUFFIXES)
ACCEPT_ATTRIBUTE = ",".join(ACCEPTED_SUFFIXES)
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_SHOWN_NAME = 120
FOLDER_PREFIX = "apptoto-web-"
CHECK_SUFFIX = "-check"  # the review's check download (.csv or .xlsx), next to its upload
# The sheet choice "all sheets with these columns" (brackets: no Excel sheet is named so).
ALL_SHEETS = "[all sheets]"


class StoreFull(Exception):
    """The folder holds as many uploads (or bytes) as it may; the message is for the page."""


@dataclass
class Upload:
    """One uploaded file waiting to be reviewed and sent (at most once)."""

    token: str  # random; names the file and the page of this upload
    file_name: str  # as the person's computer named it: shown, never a path
    path: Path  # inside the private folder
    mapping_file: str  # a file name listed in the mappings folder; "" until one fits or is saved
    created: float = field(default_factory=time.monotonic)
    sheet: str | None = None  # the sheet chosen on the review page; None: the mapping's
    all_sheets: bool = False  # chosen on the review page: every sheet with the mapping's columns
    run_id: str | None = None  # set once, when the upload is sent
    review: Any = field(default=None, repr=False)  # the last review, kept for send and downloads
    matching: Any = field(default=None, repr=False)  # the column-matching step, when there is one
    chosen_because: str = ""  # why the page chose the mapping among several that fit


def shown_name(raw: str | None) -> str:
    """The file name to show: last path part, no control characters, at most 120 characters."""
    name = PurePosixPath((raw or "").replace("\\", "/")).name
    name = _CONTROL.sub("", name).strip() or "spreadsheet"
    if len(name) > MAX_SHOWN_NAME:
        name = name[: MAX_SHOWN_NAME - 1] + "…"
    return name


def accepted_suffix(file_name: str) -> str | None:
    """The file's suffix when it is one the importer reads (lower case), else None."""
    suffix = PurePosixPath(file_name).suffix.lower()
    return suffix if suffix in ACCEPTED_SUFFIXES else None


class UploadStore:
    """The private folder and the uploads in it; safe to use from several threads."""

    def __init__(
        self,
        ttl_seconds: float,
        *,
        max_waiting: int,
        max_total_bytes: int,
        parent: Path | None = None,
    ) -> None:
        parent = Path(parent or tempfile.gettempdir())
        sweep_abandoned(parent, ttl_seconds)
        self.folder = Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX, dir=parent))
        self._ttl = ttl_seconds
        self._max_waiting = max_waiting
        self._max_total_bytes = max_total_bytes
        self._uploads: dict[str, Upload] = {}
        self._lock = threading.Lock()

    def check_room(self, size: int = 0) -> None:
        """Raise StoreFull unless one more file of ``size`` bytes fits (count and bytes)."""
        self.expire()
        with self._lock:
            held = [u.path for u in self._uploads.values() if u.path.exists()]
        if len(held) >= self._max_waiting:
            raise StoreFull(
                f"The page already holds {len(held)} files that were not sent yet, as many as it "
                "keeps. Send or leave the ones open (they are removed a few hours after upload), "
                "then upload again."
            )
        total = sum(_size_of(path) for path in held)
        if total + size > self._max_total_bytes:
            raise StoreFull(
                "The files waiting to be sent already take all the room this page keeps for "
                "uploads. Send the ones open, or wait a few hours, then upload again."
            )

    def new_path(self, suffix: str) -> tuple[str, Path]:
        """A fresh token and the private path its file goes to (suffix from the fixed list)."""
        if suffix not in ACCEPTED_SUFFIXES:
            raise ValueError(f"not an accepted suffix: {suffix!r}")
        token = secrets.token_urlsafe(24)
        self.folder.mkdir(mode=0o700, exist_ok=True)  # swept by another server after a long idle
        return token, self.folder / f"{token}{suffix}"

    def open_private(self, path: Path) -> int:
        """Create ``path`` for writing, readable by this user only (fails if it exists)."""
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)

    def add(self, upload: Upload) -> None:
        """Keep ``upload``; first remove uploads older than the time limit that were never sent."""
        self.expire()
        with self._lock:
            self._uploads[upload.token] = upload

    def get(self, token: str) -> Upload | None:
        """The upload of ``token``, or None (unknown, malformed or expired)."""
        if not _TOKEN_SHAPE.match(token):
            return None
        with self._lock:
            return self._uploads.get(token)

    def claim_run(self, upload: Upload, new_run_id: str) -> tuple[str, bool]:
        """The run of ``upload``: ``(new_run_id, True)`` the first time, else ``(its run, False)``.

        This is what makes a double click or a repeated POST send only once.
        """
        with self._lock:
            if upload.run_id is not None:
                return upload.run_id, False
            upload.run_id = new_run_id
            return new_run_id, True

    def release_run(self, upload: Upload) -> None:
        """Undo :meth:`claim_run` when the run could not even be started."""
        with self._lock:
            upload.run_id = None

    def remove_file(self, upload: Upload) -> None:
        """Delete the uploaded file (after its run); the record stays so its run can be found."""
        upload.path.unlink(missing_ok=True)
        self.check_path(upload).unlink(missing_ok=True)
        upload.review = None
        upload.matching = None

    def expire(self) -> None:
        """Forget uploads never sent within the time limit, and delete their files."""
        now = time.monotonic()
        with self._lock:
            old = [
                u
                for u in self._uploads.values()
                if u.run_id is None and now - u.created > self._ttl
            ]
            for upload in old:
                del self._uploads[upload.token]
        for upload in old:
            self.remove_file(upload)

    def check_path(self, upload: Upload, kind: str = "csv") -> Path:
        """Where the review's check download of ``upload`` is written (deleted with the upload);
        ``kind`` is ``csv`` or ``xlsx``."""
        return self.folder / f"{upload.token}{CHECK_SUFFIX}.{kind}"

    def close(self) -> None:
        """Delete the private folder and everything in it (server shutdown)."""
        shutil.rmtree(self.folder, ignore_errors=True)


def _size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def sweep_abandoned(parent: Path, idle_seconds: float) -> list[Path]:
    """Delete upload folders in ``parent`` unchanged for ``idle_seconds``; returns those deleted.

    A running server's folder changes with every upload, and an upload is never kept longer than
    ``idle_seconds``, so only folders of servers that stopped without cleaning up are old enough.
    """
    cutoff = time.time() - idle_seconds
    swept = []
    for folder in parent.glob(f"{FOLDER_PREFIX}*"):
        try:
            if folder.is_symlink() or not folder.is_dir():
                continue
            newest = max([folder.stat().st_mtime, *(p.stat().st_mtime for p in folder.iterdir())])
        except OSError:
            continue  # another user's folder, or gone meanwhile
        if newest < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
            swept.append(folder)
    return swept
