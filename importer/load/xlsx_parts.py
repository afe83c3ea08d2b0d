"""Where a workbook keeps its sheets, and how many rows a sheet holds, read without calamine.

An ``.xlsx`` is a zip of XML parts: ``xl/workbook.xml`` lists the sheets by name, its
relationships part says which worksheet part holds each one (``xl/worksheets/sheet1.xml``), and a
worksheet part holds one ``<row>`` element per row that has cells or formatting. Reading these
directly is cheap (calamine, opening a workbook, first reads its whole shared-strings table) and
lets a sheet over the row cap be refused before any parser builds it.

Call the readers only after :func:`importer.load.xlsx_safety.check_workbook_zip` has passed the
file: the parts are read with defusedxml, but their sizes are trusted.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from defusedxml import ElementTree

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
DOC_RELS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"

_PREFIX = rb"(?:[A-Za-z_][\w.-]*:)?"
_ROW_START = re.compile(rb"<" + _PREFIX + rb"row[\s/>]")
# A cell value (<v>) or the text of an inline string (<is><t>), not empty.
_VALUE = re.compile(rb"<" + _PREFIX + rb"[vt](?:\s[^>]*)?>[^<]")
_SHEET_DATA_END = re.compile(rb"</" + _PREFIX + rb"sheetData\s*>")
_ROW_NUMBER = re.compile(rb'<row\s[^>]*?(?<=\s)r\s*=\s*["\'](\d+)["\']')
# zipfile reads as many compressed bytes as the inflated bytes asked for: small reads keep a
# count that stops at the cap from reading far past it.
_CHUNK = 64 << 10
_CARRIED = 64  # bytes kept between chunks: longer than any tag looked for


@dataclass(frozen=True)
class Worksheet:
    """One worksheet as the workbook part lists it."""

    name: str
    part: str  # the zip member holding its cells, e.g. "xl/worksheets/sheet1.xml"
    visible: bool  # False for Excel's "hidden" and "very hidden"


def listed_worksheets(path: Path) -> list[Worksheet] | None:
    """The worksheets in workbook order, with their parts; chart sheets are left out.

    None when a sheet's relationship is missing or no sheet is listed (a strict-namespace or odd
    workbook): calamine decides then. Raises KeyError, ValueError, zipfile.BadZipFile or
    defusedxml's ParseError for parts that cannot be read.
    """
    with zipfile.ZipFile(path) as archive:
        workbook_part = office_document(archive)
        folder = part_folder(workbook_part)
        targets = relationships(archive, relationships_part(workbook_part))
        root = ElementTree.fromstring(archive.read(workbook_part))
    sheets = list(root.iter(f"{MAIN}sheet"))
    found = []
    for node in sheets:
        kind, target = targets.get(node.get(f"{DOC_RELS}id", ""), ("", ""))
        name = node.get("name")
        if not kind or name is None:
            return None
        if kind.endswith("/worksheet"):
            visible = node.get("state", "visible") == "visible"
            found.append(Worksheet(str(name), resolve(folder, target), visible))
    return found if sheets else None


def chosen_worksheet(path: Path, wanted: str | None) -> Worksheet | None:
    """The worksheet read for ``wanted`` (None: the workbook's only visible worksheet), as the
    workbook part lists it; None when it does not list it, or lists several and none is named.
    Raises as :func:`listed_worksheets`."""
    listed = listed_worksheets(path)
    if listed is None:
        return None
    if wanted is None:
        visible = [w for w in listed if w.visible]
        return visible[0] if len(visible) == 1 else None
    return next((w for w in listed if w.name == wanted), None)


def office_document(archive: zipfile.ZipFile) -> str:
    """The workbook part's name, as the package relationships say (``xl/workbook.xml``)."""
    if "_rels/.rels" in archive.namelist():
        for kind, target in relationships(archive, "_rels/.rels").values():
            if kind.endswith("/officeDocument"):
                return target.lstrip("/")
    return "xl/workbook.xml"


def relationships(archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type, target) of one .rels part ({} when it is missing)."""
    try:
        root = ElementTree.fromstring(archive.read(part))
    except KeyError:
        return {}
    return {
        node.get("Id", ""): (node.get("Type", ""), node.get("Target", ""))
        for node in root.iter(f"{RELS}Relationship")
    }


def part_folder(part: str) -> str:
    """The folder of a part, with its slash (``xl/`` for ``xl/workbook.xml``), or ``""``."""
    folder, _, _ = part.rpartition("/")
    return f"{folder}/" if folder else ""


def relationships_part(part: str) -> str:
    """The .rels part describing ``part``: ``xl/_rels/workbook.xml.rels``."""
    return f"{part_folder(part)}_rels/{part.rpartition('/')[2]}.rels"


def resolve(folder: str, target: str) -> str:
    """A relationship target as a part name: relative to ``folder``, or absolute from ``/``."""
    return target.lstrip("/") if target.startswith("/") else folder + target


class LastRowNumber:
    """The row number (``r="..."``) of the last row tag in an XML part fed in chunks.

    A sheet's row numbers only grow, so the last one bounds how many rows the sheet holds, at
    the cost of one short backward search per chunk (counting row tags would read every byte
    again: 40 ms per 100,000 rows). :attr:`number` is None when the part has no row tag, or its
    last one has no ``r`` or a namespace prefix (rare writers): the rows must be counted then.
    """

    _TAG_BYTES = 256  # enough for "<row r="1048576" spans="1:16384" ...": r comes first
    _AFTER_NAME = frozenset(b" \t\r\n/>")

    def __init__(self) -> None:
        self._seam = b""  # the last bytes of the previous chunk: a tag cut in two is found
        self._tag = b""  # the start of the last row tag found so far

    def feed(self, chunk: bytes) -> None:
        """Follow the next chunk of the part."""
        if 0 < len(self._tag) < self._TAG_BYTES:  # the last tag went on past its chunk
            self._tag += chunk[: self._TAG_BYTES - len(self._tag)]
        text = self._seam + chunk
        at = text.rfind(b"<row")
        # Not "<rowBreaks"; a "<row" ending the chunk is judged with the next one (in the seam).
        while at != -1 and (at + 4 == len(text) or text[at + 4] not in self._AFTER_NAME):
            at = text.rfind(b"<row", 0, at)
        if at != -1:
            self._tag = text[at : at + self._TAG_BYTES]
        self._seam = text[-4:]

    @property
    def number(self) -> int | None:
        found = _ROW_NUMBER.match(self._tag)
        return int(found.group(1)) if found else None


class HiddenRows:
    """The row numbers of the row tags marked hidden (``<row r="12" ... hidden="1">``) in an XML
    part fed in chunks: rows Excel does not show, hidden by hand or by a filter.

    ``hidden`` is searched for alone (rare in a sheet), then the tag around it: the search is
    the cost, ~0.5 ms per MiB of XML (27 ms for the 55 MB of a 100,000-row sheet), when no row
    is hidden. A tag cut between two chunks is judged with
    the next one; one longer than :attr:`_SEAM` bytes is no row tag Excel writes, and is passed
    over.
    """

    _SEAM = 512  # longer than any row tag Excel writes
    _WORD = b"hidden"
    _ATTRIBUTE = re.compile(rb'\shidden\s*=\s*["\'](?:1|true)["\']')

    def __init__(self) -> None:
        self._seam = b""
        self._from = 0  # where in the seam the search goes on
        self.rows: list[int] = []

    def feed(self, chunk: bytes) -> None:
        """Follow the next chunk of the part."""
        text = self._seam + chunk
        at = text.find(self._WORD, self._from)
        while at != -1:
            start = text.rfind(b"<", 0, at)
            end = text.find(b">", at)
            if end == -1 and len(text) - max(start, 0) <= self._SEAM:
                kept = max(start, 0)  # the tag goes on in the next chunk: judge it then
                self._seam, self._from = text[kept:], at - kept
                return
            if start != -1 and end != -1 and text.find(b">", start, at) == -1:
                tag = text[start : end + 1]
                found = _ROW_NUMBER.match(tag)
                if found is not None and self._ATTRIBUTE.search(tag) is not None:
                    self.rows.append(int(found.group(1)))
            at = text.find(self._WORD, at + len(self._WORD))
        self._seam = text[-self._SEAM :]
        # A word cut by the chunk's end starts in the seam's last bytes.
        self._from = max(len(self._seam) - len(self._WORD) + 1, 0)


def rows_with_values(path: Path, part: str, *, stop_after: int) -> int:
    """Rows of a worksheet part that hold at least one value, counted up to ``stop_after + 1``.

    A row holds a value when one of its cells has a non-empty ``<v>`` (numbers, dates, shared
    strings, saved formula results) or inline text. Rows with only formatting, empty cells, or
    formulas without a saved result do not count, as calamine does not count them. Reads the
    part in 64 KiB chunks, keeping a few bytes between them, and stops as soon as the count
    passes ``stop_after``.
    """
    with zipfile.ZipFile(path) as archive, archive.open(part) as stream:
        return count_rows_with_values(stream, stop_after=stop_after)


def count_rows_with_values(stream: IO[bytes], *, stop_after: int, chunk_size: int = _CHUNK) -> int:
    """:func:`rows_with_values` of an open worksheet part; ``chunk_size`` bytes read at a time."""
    counted = 0
    pending = False  # the last row seen has no value yet: its cells may go on in the next chunk
    carry = b""  # the last bytes read, for a tag cut in two; if a row is undecided, only its own
    while True:
        chunk = stream.read(chunk_size)
        text = carry + chunk
        final = not chunk
        if b"sheetData" in text:  # cheap test first: the closing tag is met once
            data_end = _SHEET_DATA_END.search(text)
            if data_end:  # the rows end here; what follows (merged cells, page setup) is no row
                text, final = text[: data_end.start()], True
        # Row tags already whole in the carry were seen with the previous chunk.
        starts = [row.start() for row in _ROW_START.finditer(text) if row.end() > len(carry)]
        rows = list(zip(starts, [*starts[1:], len(text)][: len(starts)], strict=True))
        if pending:  # the bytes up to the first new row belong to the undecided row
            rows.insert(0, (0, starts[0] if starts else len(text)))
        pending = False
        for number, (start, end) in enumerate(rows, 1):
            if _VALUE.search(text, start, end):
                counted += 1
                if counted > stop_after:
                    return counted
            elif number == len(rows):
                pending = True
        if final:
            return counted
        keep = len(text) - _CARRIED
        if pending:
            keep = max(keep, rows[-1][0])  # nothing of the rows before it
        carry = text[max(keep, 0) :]
