"""Load stage, the files refused before any parser runs: wrong kinds, zip bombs, XML bombs, XXE;
a workbook is checked once per unchanged file, and again when it changes."""

from __future__ import annotations

import io
import os
import shutil
import struct
import threading
import zipfile
from pathlib import Path

import openpyxl
import pytest

from importer.errors import LoadError
from importer.load import load_table, sheet_names, xlsx_safety
from importer.load import table as load
from importer.load.csv_reader import MAX_COLUMNS
from importer.load.xlsx_safety import (
    MAX_TEXT_BYTES,
    MAX_UNCOMPRESSED_BYTES,
    OLE2_SIGNATURE,
    RATIO_CHECKED_ABOVE,
    MarkupScanner,
    TextRun,
    check_workbook_once,
)
from tests.helpers import CORPUS, SAMPLES

SHEET = "xl/worksheets/sheet1.xml"


def good_workbook(tmp_path: Path, name: str = "input.xlsx") -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Name", "Zip"])
    sheet.append(["Ann", "02134"])
    path = tmp_path / name
    book.save(path)
    return path


def rewrite_part(path: Path, part: str, content: bytes) -> Path:
    """A copy of the workbook at ``path`` with ``part`` replaced (or added)."""
    with zipfile.ZipFile(path) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    parts[part] = content
    out = path.with_name("changed.xlsx")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name, body in parts.items():
            target.writestr(name, body)
    return out


def declare_size(path: Path, part: str, size: int) -> None:
    """Overwrite the uncompressed size the zip's central directory declares for ``part``."""
    raw = bytearray(path.read_bytes())
    entry = raw.find(b"PK\x01\x02")
    while entry != -1:
        name_length = struct.unpack_from("<H", raw, entry + 28)[0]
        if raw[entry + 46 : entry + 46 + name_length] == part.encode():
            struct.pack_into("<I", raw, entry + 24, size)
            path.write_bytes(bytes(raw))
            return
        entry = raw.find(b"PK\x01\x02", entry + 4)
    raise AssertionError(f"{part} not in {path}")


def sheet_xml(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        return archive.read(SHEET).decode()


# --- wrong kinds of file ----------------------------------------------------------------------


def ole2(*stream_names: str) -> bytes:
    """The start of an OLE2 compound file whose directory names ``stream_names``."""
    directory = b"".join(name.encode("utf-16-le").ljust(128, b"\0") for name in stream_names)
    return OLE2_SIGNATURE + bytes(504) + directory


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        # An OLE2 file is read as an old .xls; one without a workbook inside cannot be.
        ("old.xls", ole2("Workbook", "SummaryInformation"), "not a readable Excel workbook"),
        ("old.xlsx", ole2("Workbook"), "not a readable Excel workbook"),
        ("old.csv", ole2("Book"), "not a readable Excel workbook"),
        ("locked.xlsx", ole2("EncryptionInfo", "EncryptedPackage"), "password-protected"),
        (
            "data.xlsx",
            b"Name,Phone\nAnn,02134\n",
            r"not a workbook \(it looks like text/CSV\)",
        ),
        ("data.xls", b"Name\tPhone\nAnn\t02134\n", "it looks like text/CSV"),
        ("junk.xlsx", bytes(range(256)) * 8, "neither text nor a workbook"),
        ("empty.xlsx", b"", "the file is empty"),
    ],
)
def test_wrong_files_are_refused_saying_what_they_are(
    tmp_path: Path, name: str, content: bytes, words: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LoadError, match=words) as caught:
        load_table(path)
    assert caught.value.file == str(path)
    with pytest.raises(LoadError, match=words):
        sheet_names(path)


def test_a_real_encrypted_workbook_is_refused() -> None:
    path = CORPUS / "protected.xlsx"  # encrypted by msoffcrypto-tool
    with pytest.raises(LoadError, match="password-protected"):
        load_table(path)


def test_a_real_old_excel_file_is_read_like_xlsx() -> None:
    loaded = load_table(CORPUS / "legacy.xls")  # written by xlwt
    assert loaded.sheet_name == "Appointments"
    assert list(loaded.frame.loc[2]) == [
        "000101",
        "12/14/2026",
        "8:30 AM",
        "9:00 AM",
        "Dr. Rivera",
    ]
    assert sheet_names(CORPUS / "legacy.xls") == ["Appointments"]


def test_an_old_excel_file_over_the_size_cap_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.xls"
    shutil.copy(CORPUS / "legacy.xls", path)
    with path.open("ab") as out:
        out.truncate(load.MAX_XLS_BYTES + 1)
    with pytest.raises(LoadError, match=r"old Excel \(.xls\) file is over 200 MB"):
        load_table(path)


def zip_of(*members: tuple[str, bytes]) -> bytes:
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w") as archive:
        for name, content in members:
            archive.writestr(name, content)
    return stream.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "what"),
    [
        ("schedule.xlsx", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "a PDF document"),
        ("schedule.csv", b"%PDF-1.7\nAppointment ID,Date\n", "a PDF document"),
        ("scan.xlsx", b"\x89PNG\r\n\x1a\n" + bytes(64), "a PNG image"),
        ("photo.csv", b"\xff\xd8\xff\xe0" + bytes(64), "a JPEG image (a photo or a scan)"),
        ("scan.xls", b"II*\x00" + bytes(64), "a TIFF image (a scan)"),
        ("letter.xlsx", zip_of(("word/document.xml", b"<w/>")), "a Word document"),
        ("slides.ods", zip_of(("ppt/presentation.xml", b"<p/>")), "a PowerPoint presentation"),
        ("backup.xlsx", zip_of(("a.txt", b"hello")), "a zip archive"),
        (
            "letter.ods",
            zip_of(("mimetype", b"application/vnd.oasis.opendocument.text")),
            "an OpenDocument text document",
        ),
    ],
)
def test_a_document_that_is_not_a_spreadsheet_says_what_it_is(
    tmp_path: Path, name: str, content: bytes, what: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    for read in (load_table, sheet_names):
        with pytest.raises(LoadError) as caught:
            read(path)
        message = str(caught.value)
        assert f"this is {what}" in message and "not a spreadsheet" in message
        assert "rename" not in message and "CSV" not in message.split(";")[0]


def test_password_protected_message_says_how_to_fix_it(tmp_path: Path) -> None:
    path = tmp_path / "locked.xlsx"
    path.write_bytes(ole2("EncryptedPackage"))
    with pytest.raises(LoadError, match="remove the password in Excel and save again"):
        load_table(path)


def test_zip_that_is_not_a_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(LoadError, match="this is a zip archive, not a spreadsheet"):
        load_table(path)


def test_damaged_workbook_is_refused(tmp_path: Path) -> None:
    path = good_workbook(tmp_path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(LoadError, match="not a readable Excel workbook"):
        load_table(path)


# --- zip bombs --------------------------------------------------------------------------------


def test_a_part_inflating_far_beyond_its_stored_size_is_refused(tmp_path: Path) -> None:
    # 60 MiB of one repeated byte stores in ~60 KB: a ratio of about 1000:1.
    size = RATIO_CHECKED_ABOVE + (10 << 20)
    path = rewrite_part(good_workbook(tmp_path), "xl/media/padding.xml", b" " * size)
    with pytest.raises(LoadError, match="zip bomb") as caught:
        load_table(path)
    assert "xl/media/padding.xml" in str(caught.value)


def test_a_workbook_declaring_more_than_the_limit_is_refused(tmp_path: Path) -> None:
    path = good_workbook(tmp_path)
    declare_size(path, "xl/styles.xml", MAX_UNCOMPRESSED_BYTES + 1)
    with pytest.raises(LoadError, match="would unpack to 1.0 GiB"):
        load_table(path)


def test_a_part_larger_than_it_declares_is_refused_while_inflating(tmp_path: Path) -> None:
    path = good_workbook(tmp_path)
    declare_size(path, SHEET, 100)  # a lie: the sheet inflates to more
    with pytest.raises(LoadError, match="more than it declares"):
        load_table(path)


# --- XML bombs and external entities ----------------------------------------------------------

XXE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
)
LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{i} "{("&lol" + str(i - 1 if i > 1 else "") + ";") * 10}">\n'
        for i in range(1, 10)
    )
    + "]>\n"
)


@pytest.mark.parametrize(
    ("part", "declaration"),
    [
        (SHEET, XXE),
        ("xl/sharedStrings.xml", LAUGHS),
        ("xl/workbook.xml", LAUGHS),
        ("[Content_Types].xml", '<!doctype x SYSTEM "http://attacker.example/x.dtd">'),
        ("xl/_rels/workbook.xml.rels", '<?xml version="1.0"?><!ENTITY x "y">'),
    ],
    ids=["xxe-in-sheet", "laughs-in-shared-strings", "laughs-in-workbook", "doctype", "entity"],
)
def test_xml_declarations_are_refused_before_parsing(
    tmp_path: Path, part: str, declaration: str
) -> None:
    original = good_workbook(tmp_path)
    with zipfile.ZipFile(original) as archive:
        names = archive.namelist()
        body = archive.read(part).decode() if part in names else "<sst/>"
    body = body.split("?>", 1)[-1] if body.startswith("<?xml") else body
    if part == SHEET:
        body = body.replace("<v>", "<v>&xxe;", 1)
    path = rewrite_part(original, part, (declaration + body).encode())
    with pytest.raises(LoadError, match="XML declaration") as caught:
        load_table(path)
    assert part in str(caught.value)
    assert "root:" not in str(caught.value)
    with pytest.raises(LoadError, match="XML declaration"):
        sheet_names(path)


def test_comments_and_cdata_are_allowed(tmp_path: Path) -> None:
    original = good_workbook(tmp_path)
    xml = sheet_xml(original).replace("<sheetData>", "<!-- made by hand --><sheetData>", 1)
    assert "<!--" in xml
    path = rewrite_part(original, SHEET, xml.encode())
    assert load_table(path).frame.loc[2, "Zip"] == "02134"


def test_a_utf16_part_is_refused(tmp_path: Path) -> None:
    original = good_workbook(tmp_path)
    xml = sheet_xml(original)
    path = rewrite_part(original, SHEET, xml.encode("utf-16"))
    with pytest.raises(LoadError, match="not in UTF-8"):
        load_table(path)


def scan(chunks: list[bytes]) -> MarkupScanner:
    """A part's bytes fed to a scanner ``chunks`` at a time, then the end; the scanner."""
    scanner = MarkupScanner("part.xml", file="f.xlsx")
    for chunk in chunks:
        scanner.feed(chunk)
    scanner.feed(b"", final=True)
    return scanner


def ways_to_feed(text: bytes) -> list[list[bytes]]:
    """``text`` whole, cut in two at every byte, and one byte at a time."""
    halves = [[text[:cut], text[cut:]] for cut in range(1, len(text))]
    return [[text], *halves, [bytes([byte]) for byte in text]]


@pytest.mark.parametrize("text", [b"<a><!DOCTYPE a>", b"<!ENTITY x 'y'>", b"<a><!ENTITY"])
def test_scanner_finds_declarations_however_the_part_is_cut(text: bytes) -> None:
    for chunks in ways_to_feed(text):
        with pytest.raises(LoadError, match="XML declaration"):
            scan(chunks)


@pytest.mark.parametrize(
    "text", [b"<a><!-- note --></a>", b"<a><![CDATA[x]]></a>", b"<a>Hello!</a><b>!!</b>", b"!<a/>"]
)
def test_scanner_lets_comments_cdata_and_text_pass_however_the_part_is_cut(text: bytes) -> None:
    for chunks in ways_to_feed(text):
        assert scan(chunks).carry == text[-9:], chunks  # it kept the tail, to join the next chunk


# --- checked once per unchanged file ---------------------------------------------------------


def with_entity(good: Path, target: Path) -> None:
    """``good`` plus an XML part declaring an entity: what the bomb check refuses."""
    shutil.copy(good, target)
    with zipfile.ZipFile(target, "a") as archive:
        archive.writestr("xl/extra.xml", '<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')


def test_sheet_names_then_load_checks_the_file_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "appointments.xlsx"
    shutil.copy(SAMPLES / "appointments.xlsx", path)
    checked: list[Path] = []
    real_check = xlsx_safety.check_workbook_zip

    def counting_check(source: Path, *, file: str) -> xlsx_safety.WorkbookScan:
        checked.append(source)
        return real_check(source, file=file)

    monkeypatch.setattr(xlsx_safety, "check_workbook_zip", counting_check)
    assert sheet_names(path) == ["Appointments", "Read me"]
    assert len(load_table(path, sheet="Appointments").frame) == 22
    assert checked == [path]


def test_a_file_replaced_after_its_check_is_checked_again(tmp_path: Path) -> None:
    path = tmp_path / "appointments.xlsx"
    shutil.copy(SAMPLES / "appointments.xlsx", path)
    assert sheet_names(path) == ["Appointments", "Read me"]
    bad = tmp_path / "bad.xlsx"
    with_entity(path, bad)
    os.replace(bad, path)  # same path, new content
    with pytest.raises(LoadError, match="(?i)declar|entit|doctype"):
        load_table(path, sheet="Appointments")


# --- memory per upload ------------------------------------------------------------------------


def test_xlsx_one_huge_shared_string_is_refused(tmp_path: Path) -> None:
    # The red team's workbook: one shared string far beyond Excel's 32,767 characters, which
    # compresses 100:1 or better and passes the ratio check of small parts.
    huge = b"A" * (MAX_TEXT_BYTES + 1)
    strings = b'<sst xmlns="x" count="1" uniqueCount="1"><si><t>' + huge + b"</t></si></sst>"
    path = rewrite_part(good_workbook(tmp_path), "xl/sharedStrings.xml", strings)
    assert path.stat().st_size < MAX_TEXT_BYTES // 50
    with pytest.raises(LoadError, match="text of more than 1 MB in one piece") as caught:
        load_table(path)
    assert "xl/sharedStrings.xml" in str(caught.value)


def test_xlsx_long_texts_are_measured_however_the_part_is_cut() -> None:
    part = b"<t>" + b"x" * (MAX_TEXT_BYTES - 2) + b"</t><t>" + b"y" * 10 + b"</t>"
    for size in (7, 4096, 1 << 20, len(part)):
        run = TextRun("xl/sharedStrings.xml", file="f.xlsx")
        for start in range(0, len(part), size):
            run.feed(part[start : start + size])
        assert run.run == len("/t>")  # what follows the last tag
    with pytest.raises(LoadError, match="in one piece"):
        TextRun("p", file="f.xlsx").feed(b"<t>" + b"x" * (MAX_TEXT_BYTES + 1))


# --- columns ----------------------------------------------------------------------------------


def test_a_100000_column_csv_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(100_000)) + "\n" + "x," * 99_999 + "x\n")
    with pytest.raises(LoadError, match="columns or more; at most 1,000 are read") as caught:
        load_table(path)
    assert caught.value.file == str(path)


@pytest.mark.parametrize("extra_cells_in_a_row", [False, True])
def test_a_csv_wider_than_the_column_cap_is_refused(
    tmp_path: Path, extra_cells_in_a_row: bool
) -> None:
    path = tmp_path / "wide.csv"
    header = ",".join(f"c{i}" for i in range(10 if extra_cells_in_a_row else MAX_COLUMNS + 1))
    # A row with more cells than the header, far below the sample the width is first read from.
    row = "x," * MAX_COLUMNS + "x" if extra_cells_in_a_row else "x"
    path.write_text(header + "\n" + "a\n" * 20_000 + row + "\n")
    with pytest.raises(LoadError, match="at most 1,000 are read"):
        load_table(path)


def test_a_workbook_wider_than_the_column_cap_is_refused(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([f"c{i}" for i in range(MAX_COLUMNS + 1)])
    sheet.append(["x"] * (MAX_COLUMNS + 1))
    book.save(tmp_path / "wide.xlsx")
    with pytest.raises(LoadError, match="1,001 columns or more"):
        load_table(tmp_path / "wide.xlsx")


def test_a_sheet_as_wide_as_the_column_cap_loads(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(MAX_COLUMNS)) + "\n" + "x," * 999 + "x\n")
    assert load_table(path).frame.shape == (1, MAX_COLUMNS)


def test_two_workbooks_are_checked_at_once_and_one_workbook_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two staff upload workbooks together: the second's check does not wait for the first's.
    # Two callers of one workbook (the read-ahead and the load) check it once.
    first, second = tmp_path / "first.xlsx", tmp_path / "second.xlsx"
    shutil.copy(SAMPLES / "appointments.xlsx", first)
    shutil.copy(SAMPLES / "appointments.xlsx", second)
    checking, go_on = threading.Event(), threading.Event()
    checked: list[str] = []
    real = xlsx_safety.check_workbook_zip

    def held_on_first(path: Path, *, file: str) -> xlsx_safety.WorkbookScan:
        checked.append(path.name)
        if path.name == first.name:
            checking.set()
            assert go_on.wait(10)
        return real(path, file=file)

    monkeypatch.setattr(xlsx_safety, "check_workbook_zip", held_on_first)

    def check(path: Path) -> threading.Thread:
        thread = threading.Thread(target=check_workbook_once, args=(path,), kwargs={"file": "f"})
        thread.start()
        return thread

    try:
        callers = [check(first)]
        assert checking.wait(10)
        callers.append(check(first))
        other = check(second)
        other.join(10)
        assert not other.is_alive()  # checked while the first workbook's check went on
    finally:
        go_on.set()
    for caller in callers:
        caller.join(10)
        assert not caller.is_alive()
    assert sorted(checked) == ["first.xlsx", "second.xlsx"]
