"""What is wrong with a CSV file that cannot be read, in plain words naming the row and column:
broken quoting, and bytes that are not text in the file's encoding."""

from __future__ import annotations

import codecs
import csv
import io
import re
from pathlib import Path

from importer.errors import LoadError

RESAVE = 'Open it in Excel and save it again as "CSV UTF-8 (Comma delimited)"'
ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8",
    "cp1252": "Windows-1252 (cp1252)",
    "mac_roman": "Mac Roman",
    "utf-16": "UTF-16",
    "utf-32": "UTF-32",
}
_OPEN_QUOTE = re.compile(r"EOF inside string starting at row (\d+)")


def open_quote_row(exc: Exception) -> int | None:
    found = _OPEN_QUOTE.search(str(exc))
    return int(found.group(1)) + 1 if found else None


def parser_problem(message: str) -> str:
    if _OPEN_QUOTE.search(message):
        return (
            'a quote mark (") opened in this row is never closed, so the rest of the file would '
            "become one cell; fix the quotes in this row"
        )
    return f"the file cannot be read as CSV ({message})"


def _has_text(record: list[str]) -> bool:
    joined = "".join(record)
    return bool(joined) and not joined.isspace()


def first_bad_byte(path: Path, encoding: str) -> tuple[int, bytes, bool]:
    """Offset and bytes of the first undecodable sequence, and whether all before it was ASCII."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = 0
    ascii_so_far = True
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            buffered = len(decoder.getstate()[0])  # bytes of a character cut by the last chunk
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                # The decoder saw buffered + chunk; a buffered byte is never ASCII.
                before = chunk[: max(exc.start - buffered, 0)]
                ascii_so_far = ascii_so_far and not buffered and before.isascii()
                return offset - buffered + exc.start, exc.object[exc.start : exc.end], ascii_so_far
            ascii_so_far = ascii_so_far and chunk.isascii()
            offset += len(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:  # the file ends inside a character
        return offset - len(exc.object) + exc.start, exc.object[exc.start :], False
    raise AssertionError("no undecodable byte found")  # pragma: no cover - the caller saw one


# A run of non-ASCII bytes inside a word: after a letter, before a letter or the word's end.
_IN_WORD = re.compile(rb"(?<=[A-Za-z])([\x80-\xff]{1,3})(?=([A-Za-z]?))")
_APOSTROPHES = {"\u2019", "\u2018", "'"}
SINGLE_BYTE = ("cp1252", "mac_roman")


def single_byte_encoding(path: Path) -> str:
    """``cp1252`` or ``mac_roman`` (Excel for Mac's "Comma Separated Values"), for a file that
    is not UTF-8: the one that reads more of its non-ASCII bytes inside words as what names and
    notes hold there, a small letter (``Renée``: 0xE9 in cp1252, 0x8E in Mac Roman, where cp1252
    reads 0x8E as ``Ž``) or an apostrophe between letters (``O’Brien``). Ties go to cp1252, what
    Excel on Windows writes."""
    scores = dict.fromkeys(SINGLE_BYTE, 0)
    tail = b""
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 23):
            text = tail + chunk
            for found in _IN_WORD.finditer(text):
                after = found.group(2)
                for encoding in SINGLE_BYTE:
                    scores[encoding] += _plausible(found.group(1), after, encoding)
            tail = text[-4:]  # a run cut by the chunk's end is judged again whole
    return "mac_roman" if scores["mac_roman"] > scores["cp1252"] else "cp1252"


def _plausible(run: bytes, after: bytes, encoding: str) -> int:
    """1 when ``run`` (after a letter, before ``after``) reads in ``encoding`` as what a word
    holds there, else 0."""
    try:
        text = run.decode(encoding)
    except UnicodeDecodeError:
        return 0
    if text in _APOSTROPHES:
        return int(bool(after))  # "O’Brien", "can’t"; an apostrophe ends no word
    lower_after = not after or after.islower()
    return int(lower_after and all(c.isalpha() and c.islower() for c in text))


def undecodable(
    path: Path,
    encoding: str,
    delimiter: str,
    offset: int,
    bad: bytes,
    ascii_before: bool,
    file: str,
    *,
    hidden: int = 0,
) -> LoadError:
    """The LoadError for the undecodable ``bad`` bytes at ``offset``, naming row and column."""
    with path.open("rb") as stream:
        before = stream.read(offset).decode(encoding, errors="replace")
    # Parse what precedes the bad byte plus a marker: the record holding the marker is the row
    # of the bad byte, its last cell the column (a quoted cell may span lines, so count records).
    marker = "\ue000"
    records = list(
        csv.reader(io.StringIO(before + marker, newline=""), delimiter=delimiter, strict=False)
    )
    row = len(records) - hidden
    header = next((r for r in records[hidden:-1] if _has_text(r)), None)
    index = len(records[-1]) - 1
    column = header[index].strip() if header and index < len(header) else ""
    shown = " ".join(f"0x{b:02X}" for b in bad[:4])
    if encoding == "utf-8" and not ascii_before:
        reason = (
            f"byte {shown} is not UTF-8 text, but earlier rows are UTF-8: the file mixes two "
            f"text encodings, and reading it either way would garble some names. {RESAVE}"
        )
    elif encoding in ("utf-8", *SINGLE_BYTE):
        reason = (
            f"byte {shown} is text neither in UTF-8 nor in Windows-1252 (cp1252), the "
            f"encodings Excel writes CSV in; the file is damaged or in another encoding. {RESAVE}"
        )
    else:
        name = ENCODING_NAMES[encoding]
        reason = (
            f"bytes {shown} are not valid {name} text, although the file starts with the "
            f"{name} mark; the file is damaged. {RESAVE}"
        )
    return LoadError(reason, file=file, row=row, column=column or None)
