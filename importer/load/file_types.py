"""What a file really is, from its bytes: which workbook format, or which kind of non-spreadsheet.

A file's name can lie (a PDF saved as ``appointments.xlsx``, an ``.ods`` renamed ``.xlsx``): the
loader asks here first. A zip is a workbook when it holds a workbook part (``xl/workbook.xml``,
``xl/workbook.bin``) or says it is an OpenDocument spreadsheet (its ``mimetype`` member); a Word
document, a presentation or any other zip is named as what it is. PDFs, images and compressed
archives are known by their first bytes, so a renamed one is never read as text.
"""

from __future__ import annotations

import enum
import zipfile
from pathlib import Path

# First bytes of files people upload by mistake, and how to name them to a person.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image (a photo or a scan)"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image (a scan)"),
    (b"MM\x00*", "a TIFF image (a scan)"),
    (b"\x1f\x8b", "a compressed (gzip) archive"),
    (b"7z\xbc\xaf\x27\x1c", "a compressed (7-Zip) archive"),
    (b"Rar!\x1a\x07", "a compressed (RAR) archive"),
    (b"{\\rtf", "a Rich Text (RTF) document"),
)

ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


class ZipFlavour(enum.Enum):
    """Which workbook format a zip holds."""

    XLSX = "xlsx"  # Office Open XML workbook (.xlsx, .xlsm)
    XLSB = "xlsb"  # Excel binary workbook
    ODS = "ods"  # OpenDocument spreadsheet (LibreOffice, Google Sheets export)


def known_document(head: bytes) -> str | None:
    """The kind of a non-spreadsheet file from its first bytes ("a PDF document"), else None."""
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "a WebP image"
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1"):
        return "a HEIC photo"
    return next((words for magic, words in _SIGNATURES if head.startswith(magic)), None)


def zip_flavour(path: Path) -> ZipFlavour | str:
    """The workbook format of a zip file, or what it is instead ("a Word document").

    Reads only the zip's directory (and the few bytes of an OpenDocument ``mimetype``), so it is
    safe before the bomb checks. Raises OSError or zipfile.BadZipFile.
    """
    with zipfile.ZipFile(path) as archive:
        names = {name.lower() for name in archive.namelist()}
        if "mimetype" in names:
            member = next(i for i in archive.infolist() if i.filename.lower() == "mimetype")
            if member.file_size <= 200:
                mimetype = archive.read(member).strip()
                if mimetype == ODS_MIMETYPE:
                    return ZipFlavour.ODS
                if mimetype.startswith(b"application/vnd.oasis.opendocument.text"):
                    return "an OpenDocument text document, not a spreadsheet"
    if "xl/workbook.bin" in names:
        return ZipFlavour.XLSB
    if any(name.startswith("xl/") for name in names):
        return ZipFlavour.XLSX
    if "word/document.xml" in names:
        return "a Word document, not a spreadsheet"
    if any(name.startswith("ppt/") for name in names):
        return "a PowerPoint presentation, not a spreadsheet"
    return "a zip archive, not a spreadsheet"
