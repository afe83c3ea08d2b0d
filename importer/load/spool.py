"""The parts of a big file kept on disk after its first read, so that it is parsed only once.

A file in parts is read twice (:mod:`importer.file_facts`): once to settle what needs all of it,
then part after part to check, plan and send. The work a part's check did during the first
read waits here too, until the whole file says it stands. Parsing a CSV part and assembling its
cells costs ~0.1 s per 25,000 rows; reading back the same part, pickled, ~0.02 s. The parts go
to one temporary file, removed when the spool is closed or dropped. Pickled parts are also what
worker processes are sent (:mod:`importer.workers`), so a part is pickled once for both.

When the temporary file cannot be written (disk full, no temporary folder), the spool gives up
quietly: the file is read again instead, as it always could be.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import tempfile
import weakref
from collections.abc import Iterable, Iterator
from typing import IO

from importer.load.sheet import Sheet


def part_bytes(part: Sheet) -> bytes:
    """``part`` as sent to a worker process or kept on disk."""
    return pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL)


def part_of(data: Sheet | bytes) -> Sheet:
    """A part as given: read back from :func:`part_bytes`, or the part itself."""
    if isinstance(data, bytes):
        part: Sheet = pickle.loads(data)  # noqa: S301 (our own temporary file, just written)
        return part
    return data


class PartSpool:
    """Pickled parts in one temporary file, read back in order (see the module).

    The file has no name (``tempfile.TemporaryFile``): the system removes it when it is closed
    or the process ends, however it ends (killed, the machine's memory full).
    """

    def __init__(self) -> None:
        self._handle: IO[bytes] | None = None
        self._spans: list[tuple[int, int]] = []  # (offset, length) of each part
        self.failed = False
        self._finalizer: weakref.finalize[[IO[bytes]], PartSpool] | None = None

    @property
    def usable(self) -> bool:
        """True when every part added is in the file, to be read back."""
        return not self.failed and bool(self._spans)

    def add(self, data: bytes) -> None:
        """Keep one part (:func:`part_bytes`); on an error the spool is given up."""
        if self.failed:
            return
        try:
            if self._handle is None:
                self._handle = tempfile.TemporaryFile(prefix="apptoto-parts-")
                # Closed (and so removed) when the spool is dropped, if not before.
                self._finalizer = weakref.finalize(self, _close, self._handle)
            offset = self._handle.seek(0, os.SEEK_END)
            self._handle.write(data)
            self._spans.append((offset, len(data)))
        except OSError:
            self.close()
            self.failed = True

    def __len__(self) -> int:
        """How many parts were added and kept (0 once the spool gave up)."""
        return 0 if self.failed else len(self._spans)

    def parts(self, which: Iterable[int] | None = None) -> Iterator[bytes]:
        """Every part kept, in order; ``which``: only those (by place, from 0), in that order."""
        if self._handle is None:
            return
        self._handle.flush()
        spans = self._spans if which is None else [self._spans[i] for i in which]
        for offset, length in spans:
            self._handle.seek(offset)
            yield self._handle.read(length)

    def close(self) -> None:
        """Remove the temporary file."""
        if self._finalizer is not None:
            self._finalizer()
        self._handle, self._spans, self._finalizer = None, [], None


def _close(handle: IO[bytes]) -> None:
    with contextlib.suppress(OSError):
        handle.close()
