"""Checks a file must pass before any parser sees it: what kind of file it is, and bombs.

* **Kind**, from the first bytes, not the name: a zip (``.xlsx``), an OLE2 compound file (an old
  ``.xls``, or an ``.xlsx`` Excel encrypted with a password), text, or something else.
* **Zip bombs**: the zip's declared sizes are checked first (at most
  :data:`MAX_UNCOMPRESSED_BYTES` in all, :data:`MAX_MEMBERS` parts, no part over
  :data:`SUSPICIOUS_RATIO`:1 once it is over :data:`RATIO_CHECKED_ABOVE` bytes). Declared sizes can
  lie, so every XML part is then inflated here, in chunks, and refused as soon as it grows past
  its declared size or the budget: memory stays at one chunk.
* **XML bombs and XXE**: while inflating, every XML part is scanned for markup declarations
  (``<!DOCTYPE``, ``<!ENTITY`` ...). Excel never writes them, and they are what entity expansion
  ("billion laughs") and external entities (``SYSTEM "file:///etc/passwd"``) need, so a workbook
  holding one is refused before any XML parser runs: no entity is expanded, no file is read.
* **Memory per upload**: no text between two tags may pass :data:`MAX_TEXT_BYTES` (Excel
  holds at most 32,767 characters in a cell; one huge shared string is how a 10 MB file asks a
  reader for gigabytes), and the shared strings together at most
  :data:`MAX_SHARED_STRINGS_BYTES`: what a reader keeps in memory for one workbook is bounded.
* **Rows**: while inflating, the number of the last row of every XML part is noted (an upper
  bound of its rows, see :class:`importer.load.xlsx_parts.LastRowNumber`), so a sheet over the row
  cap can be refused before any parser reads it; so are the rows marked hidden (a filter, rows
  hidden by hand), which the import reads and warns of.
"""

from __future__ import annotations

import enum
import os
import struct
import threading
import weakref
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from importer.errors import LoadError
from importer.load.file_types import known_document
from importer.load.xlsx_parts import HiddenRows, LastRowNumber

MAX_UNCOMPRESSED_BYTES = 1 << 30  # 1 GiB inflated in all: ~8x what a 200,000-row sheet needs
MAX_MEMBERS = 10_000  # parts in the zip; a workbook has dozens
SUSPICIOUS_RATIO = 200  # inflated/compressed; real sheets are 5:1 to 30:1
RATIO_CHECKED_ABOVE = 50 << 20  # small parts may compress very well (empty styles, themes)
XML_PART_SUFFIXES = (".xml", ".rels", ".vml")  # the parts XML parsers read
MAX_TEXT_BYTES = 1 << 20  # text between two tags; Excel's longest cell (32,767 chars) is < 200 KB
MAX_SHARED_STRINGS_BYTES = 256 << 20  # a reader keeps every shared string in memory at once
SHARED_STRINGS_PART = "sharedstrings.xml"  # its name, lower case, in whatever folder

OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")  # a part, or an empty zip
# Excel's password protection wraps the whole .xlsx in an OLE2 file holding these streams (the
# directory stores names as UTF-16LE).
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
_CHUNK = 1 << 20
_HEAD = 4096


class FileKind(enum.Enum):
    """What a file is, judged from its bytes."""

    EMPTY = "empty"
    ZIP = "zip"  # .xlsx, .xlsm (or any zip)
    OLD_EXCEL = "xls"  # OLE2 compound file: Excel 97-2003 .xls
    ENCRYPTED_EXCEL = "encrypted"  # OLE2 holding an EncryptedPackage: a password-protected .xlsx
    DOCUMENT = "document"  # a PDF, an image, a compressed archive: named by file_types
    TEXT = "text"  # looks like CSV or other text
    BINARY = "binary"  # anything else


def file_kind(path: Path) -> FileKind:
    """Classify ``path`` by its first bytes (and, for OLE2 files, their stream names).

    Raises OSError if the file cannot be read; the caller turns it into a LoadError.
    """
    with path.open("rb") as stream:
        head = stream.read(_HEAD)
        if not head:
            return FileKind.EMPTY
        if head.startswith(ZIP_SIGNATURES):
            return FileKind.ZIP
        if head.startswith(OLE2_SIGNATURE):
            return FileKind.ENCRYPTED_EXCEL if _holds(stream, head) else FileKind.OLD_EXCEL
        if known_document(head) is not None:
            return FileKind.DOCUMENT
    return FileKind.TEXT if _looks_like_text(head) else FileKind.BINARY


def _holds(stream: BinaryIO, head: bytes, needle: bytes = _ENCRYPTED_STREAM) -> bool:
    """True if ``needle`` occurs anywhere in the file (read in chunks)."""
    previous = head
    if needle in previous:
        return True
    while chunk := stream.read(_CHUNK):
        if needle in previous[-len(needle) :] + chunk:
            return True
        previous = chunk
    return False


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return True
    if b"\x00" in head:
        return False
    controls = sum(1 for byte in head if byte < 32 and byte not in (9, 10, 13))
    return controls <= len(head) // 100


FileIdentity = tuple[str, int, int, int]


def file_identity(path: Path) -> FileIdentity | None:
    """(path, size, modified ns, inode): another value once the file is changed or replaced;
    None when it cannot be read."""
    try:
        status = path.stat()
        return (str(path.resolve()), status.st_size, status.st_mtime_ns, status.st_ino)
    except OSError:
        return None


# Workbooks that passed the zip/XML bomb checks, by file identity: `validate` lists the sheets and
# then loads one, the command line's read-ahead (importer.load.read_ahead) checks the file it
# reads too, and the check inflates every XML part (0.1 s per 100,000 rows). A changed or
# replaced file has another identity and is checked again. Each keeps the last row number the
# check noted per part. One check of a file at a time: a second caller of the same file waits,
# then finds the first's; other files are checked meanwhile (two uploads to the page at once).
_SAFE_WORKBOOKS: dict[FileIdentity, WorkbookScan] = {}
_SAFE_WORKBOOKS_KEPT = 16
_GUARD = threading.Lock()  # held briefly: the cache above and the table below


class _FileLock:
    """The lock of one file's check, kept while a caller holds it (weakly listed)."""

    __slots__ = ("__weakref__", "lock")

    def __init__(self) -> None:
        self.lock = threading.Lock()


_CHECKING: weakref.WeakValueDictionary[str, _FileLock] = weakref.WeakValueDictionary()


def _file_lock(path: Path) -> _FileLock:
    """The lock of ``path``'s check (by its absolute name: no file system call)."""
    name = os.path.abspath(path)
    with _GUARD:
        found = _CHECKING.get(name)
        if found is None:
            found = _CHECKING[name] = _FileLock()
        return found


def check_workbook_once(path: Path, *, file: str) -> WorkbookScan:
    """:func:`check_workbook_zip`, skipped for a file that passed it unchanged in this process
    (its scan kept)."""
    held = _file_lock(path)
    with held.lock:
        key = file_identity(path)
        with _GUARD:
            if key is not None and key in _SAFE_WORKBOOKS:
                return _SAFE_WORKBOOKS[key]
        scan = check_workbook_zip(path, file=file)
        if key is not None:
            with _GUARD:
                if len(_SAFE_WORKBOOKS) >= _SAFE_WORKBOOKS_KEPT:
                    _SAFE_WORKBOOKS.pop(next(iter(_SAFE_WORKBOOKS)))
                _SAFE_WORKBOOKS[key] = scan
        return scan


@dataclass(frozen=True)
class WorkbookScan:
    """What the safety check noted of each XML part on its way (see :func:`check_workbook_zip`)."""

    # The number of the last row of each part that has numbered rows: an upper bound of the rows
    # of each worksheet part.
    last_rows: dict[str, int] = field(default_factory=dict)
    # The rows each worksheet part marks hidden (by hand or by a filter), in sheet order.
    hidden_rows: dict[str, tuple[int, ...]] = field(default_factory=dict)


def check_workbook_zip(path: Path, *, file: str) -> WorkbookScan:
    """Refuse a zip that could exhaust memory or smuggle XML declarations; return if it is safe.

    Reads every XML part once, in 1 MiB chunks. Raises LoadError naming the part and the limit.
    Returns what it noted of the parts on the way (:class:`WorkbookScan`).
    """
    scan = WorkbookScan()
    try:
        with zipfile.ZipFile(path) as archive, path.open("rb") as stream:
            members = archive.infolist()
            _check_declared_sizes(members, file=file)
            budget = MAX_UNCOMPRESSED_BYTES
            for member in members:
                if member.filename.lower().endswith(XML_PART_SUFFIXES):
                    size, last_row, hidden = _inflate_and_scan(stream, member, budget, file=file)
                    budget -= size
                    if last_row is not None:
                        scan.last_rows[member.filename] = last_row
                    if hidden:
                        scan.hidden_rows[member.filename] = hidden
    except zipfile.BadZipFile as exc:
        raise LoadError(
            f"this is not a readable Excel workbook (the zip inside is damaged: {exc})", file=file
        ) from exc
    return scan


def _check_declared_sizes(members: list[zipfile.ZipInfo], *, file: str) -> None:
    if len(members) > MAX_MEMBERS:
        raise LoadError(
            f"the workbook holds {len(members):,} parts (at most {MAX_MEMBERS:,} are accepted); "
            "it is not a normal Excel file",
            file=file,
        )
    total = sum(member.file_size for member in members)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise LoadError(
            f"the workbook would unpack to {total / (1 << 30):.1f} GiB, more than the "
            f"{MAX_UNCOMPRESSED_BYTES >> 30} GiB accepted; split the data into smaller files",
            file=file,
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > RATIO_CHECKED_ABOVE and ratio > SUSPICIOUS_RATIO:
            raise LoadError(
                f"the workbook part {member.filename!r} unpacks {ratio:,.0f} times larger than it "
                f"is stored (at most {SUSPICIOUS_RATIO}:1 is accepted for large parts); the file "
                "looks built to exhaust memory (a zip bomb)",
                file=file,
            )


def _inflate_and_scan(
    stream: BinaryIO, member: zipfile.ZipInfo, budget: int, *, file: str
) -> tuple[int, int | None, tuple[int, ...]]:
    """Inflate one part in chunks, scanning it; return its real size, its last row number and
    its hidden rows.

    Trusts no declared size.
    """
    name = member.filename
    if member.flag_bits & 0x1:
        raise LoadError(
            "the workbook is encrypted; remove the password in Excel and save again", file=file
        )
    if member.compress_type == zipfile.ZIP_STORED:
        inflater = None
    elif member.compress_type == zipfile.ZIP_DEFLATED:
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    else:
        raise LoadError(
            f"the workbook part {name!r} uses a compression Excel does not use; save the file "
            "again from Excel",
            file=file,
        )
    stream.seek(member.header_offset)
    local = stream.read(30)
    if len(local) != 30 or not local.startswith(b"PK\x03\x04"):
        raise LoadError(f"the workbook is damaged (part {name!r} is missing)", file=file)
    name_length, extra_length = struct.unpack("<HH", local[26:30])
    stream.seek(member.header_offset + 30 + name_length + extra_length)

    scanner = MarkupScanner(name, file=file)
    text_run = TextRun(name, file=file)
    if name.lower().rsplit("/", 1)[-1] == SHARED_STRINGS_PART:
        budget = min(budget, MAX_SHARED_STRINGS_BYTES)
    stored_left = member.compress_size
    produced = 0
    last_row = LastRowNumber()
    hidden = HiddenRows()
    pending = b""
    while True:
        if inflater is not None and inflater.unconsumed_tail:
            pending = inflater.unconsumed_tail
        elif stored_left > 0:
            pending = stream.read(min(_CHUNK, stored_left))
            if not pending:
                raise LoadError(f"the workbook is damaged (part {name!r} is cut short)", file=file)
            stored_left -= len(pending)
        else:
            break
        # max_length bounds what one call may produce, whatever the compressed bytes say.
        out = pending if inflater is None else inflater.decompress(pending, _CHUNK)
        produced += len(out)
        if produced > member.file_size or produced > budget:
            raise LoadError(
                f"the workbook part {name!r} unpacks to more than "
                f"{'it declares' if produced > member.file_size else 'the limit'} "
                f"(over {min(member.file_size, budget):,} bytes); the file is damaged or "
                "built to exhaust memory (a zip bomb)",
                file=file,
            )
        scanner.feed(out)
        text_run.feed(out)
        last_row.feed(out)
        hidden.feed(out)
        if inflater is not None and inflater.eof:
            break
    scanner.feed(b"", final=True)
    if (inflater is not None and not inflater.eof) or produced != member.file_size:
        raise LoadError(f"the workbook is damaged (part {name!r} is cut short)", file=file)
    return produced, last_row.number, tuple(hidden.rows)


class TextRun:
    """Refuses an XML part with more than :data:`MAX_TEXT_BYTES` between two tags (fed in chunks).

    Inside XML text a ``<`` is always written ``&lt;``, so the longest stretch without one bounds
    the longest cell text a reader would hold.
    """

    def __init__(self, part: str, *, file: str) -> None:
        self.part = part
        self.file = file
        self.run = 0  # bytes since the last "<"

    def feed(self, chunk: bytes) -> None:
        """Take the next chunk (at most MAX_TEXT_BYTES); LoadError once a stretch is too long."""
        first = chunk.find(b"<")
        if first == -1:
            self.run += len(chunk)
            longest = self.run
        else:  # the stretch that ends at the first "<", and the one after the last
            longest = self.run + first
            self.run = len(chunk) - chunk.rfind(b"<") - 1
        if max(longest, self.run) > MAX_TEXT_BYTES:
            raise LoadError(
                f"the workbook part {self.part!r} holds a text of more than "
                f"{MAX_TEXT_BYTES >> 20} MB in one piece; Excel keeps at most 32,767 characters "
                "in a cell, so the file is refused (it would take too much memory to read)",
                file=self.file,
            )


class MarkupScanner:
    """Finds markup declarations (``<!DOCTYPE``, ``<!ENTITY`` ...) in an XML stream fed in chunks.

    Only comments (``<!--``) and CDATA (``<![CDATA[``) may start with ``<!``; anything else is
    refused. Parts in UTF-16 (which would hide the bytes ``<!``) are refused too: Excel writes
    UTF-8.
    """

    _ALLOWED = (b"<!--", b"<![CDATA[")
    _LOOKAHEAD = 9  # len(b"<![CDATA[")

    def __init__(self, part: str, *, file: str) -> None:
        self.part = part
        self.file = file
        self.carry = b""
        self.started = False

    def feed(self, chunk: bytes, *, final: bool = False) -> None:
        """Scan the next chunk; ``final`` once the part has ended. Raises LoadError on a find."""
        buffer = self.carry + chunk
        if not self.started and (len(buffer) >= 4 or final):
            self.started = True
            if buffer.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in buffer[:4]:
                raise LoadError(
                    f"the workbook part {self.part!r} is not in UTF-8; it was not written by "
                    "Excel and is refused",
                    file=self.file,
                )
        # Look for the rare "!" and check the byte before it: searching for "<!" is ten times
        # slower, "<" being everywhere in XML.
        bang = buffer.find(b"!", 1)
        while bang != -1:
            found = bang - 1
            if buffer[found] == 0x3C:  # "<"
                if not final and len(buffer) - found < self._LOOKAHEAD:
                    break  # decide when the next chunk has arrived
                if not buffer.startswith(self._ALLOWED, found):
                    shown = buffer[found : found + 12].decode("ascii", "replace")
                    raise LoadError(
                        f"the workbook part {self.part!r} holds an XML declaration ({shown}...). "
                        "Excel never writes one; it can make a reader expand entities without "
                        "end or read other files on this computer, so the file is refused",
                        file=self.file,
                    )
            bang = buffer.find(b"!", bang + 1)
        self.carry = buffer[-self._LOOKAHEAD :]
