"""Load stage, CSV side, and the table rules shared with XLSX: text as written, Excel rows."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from importer.errors import LoadError
from importer.load import DEFAULT_MAX_ROWS, load_table, sheet_names


def write(tmp_path: Path, content: bytes | str, name: str = "input.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def cells(path: Path, **options: object) -> list[dict[str, object]]:
    """The loaded rows as dicts, the row number under "row", missing cells as None."""
    frame = load_table(path, **options).frame  # type: ignore[arg-type]
    return [
        {"row": row, **{str(k): (None if pd.isna(v) else v) for k, v in values.items()}}
        for row, values in zip(frame.index, frame.to_dict("records"), strict=True)
    ]


# --- encodings --------------------------------------------------------------------------------

ENCODED = "Name,Note\nRené,it’s 5 €\nZoë,naïve\n"


@pytest.mark.parametrize(
    ("content", "encoding", "delimiter"),
    [
        (ENCODED.encode("utf-8"), "utf-8", ","),
        (b"\xef\xbb\xbf" + ENCODED.encode("utf-8"), "utf-8-sig", ","),
        (ENCODED.encode("cp1252"), "cp1252", ","),  # é = 0xE9, ’ = 0x92, € = 0x80
        (ENCODED.replace(",", "\t").encode("utf-16"), "utf-16", "\t"),  # Excel "Unicode text"
        (ENCODED.replace(",", ";").encode("utf-16-be"), None, None),  # no BOM: refused below
    ],
    ids=["utf-8", "utf-8-bom", "cp1252", "utf-16-tab", "utf-16-no-bom"],
)
def test_encodings_are_recognised_never_garbled(
    tmp_path: Path, content: bytes, encoding: str | None, delimiter: str | None
) -> None:
    path = write(tmp_path, content)
    if encoding is None:
        with pytest.raises(LoadError, match="not a text"):
            load_table(path)
        return
    sheet = load_table(path)
    assert (sheet.encoding, sheet.delimiter) == (encoding, delimiter)
    assert list(sheet.frame.columns) == ["Name", "Note"]  # no BOM glued to the first header
    assert cells(path) == [
        {"row": 2, "Name": "René", "Note": "it’s 5 €"},
        {"row": 3, "Name": "Zoë", "Note": "naïve"},
    ]


MAC_NAMES = "Name,Note\rRenée Dubois,can’t do mornings\rJosé Muñoz,\rChloë O’Brien,naïve\r"


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        (MAC_NAMES, "mac_roman"),  # é = 0x8E, which cp1252 reads as Ž
        (MAC_NAMES.replace("\r", "\r\n"), "cp1252"),  # é = 0xE9, ’ = 0x92
        ("Name,Note\r\nAnn,can’t come\r\nBob O’Brien,don’t\r\n", "cp1252"),  # ’ only
        ("Name,Note\rAnn,can’t come\rBob O’Brien,don’t\r", "mac_roman"),  # ’ = 0xD5
    ],
    ids=["mac-names", "windows-names", "windows-apostrophes", "mac-apostrophes"],
)
def test_excel_for_mac_s_csv_is_read_as_mac_roman(tmp_path: Path, text: str, encoding: str) -> None:
    """Excel for Mac saves "Comma Separated Values" in Mac Roman; read as cp1252, "Renée" was
    "RenŽe" and "Muñoz" "Mu–oz", in every reminder, without a word."""
    path = write(tmp_path, text.encode(encoding))
    sheet = load_table(path)
    assert sheet.encoding == encoding
    decoded = text.replace("\r\n", "\n").replace("\r", "\n").splitlines()[1:]
    expected = [line.split(",") for line in decoded]
    got = sheet.frame.fillna("").astype("str").to_numpy().tolist()
    assert got == expected
    assert any("read as Mac Roman" in w for w in sheet.warnings) == (encoding == "mac_roman")


def test_cp1252_byte_far_into_an_ascii_file_rereads_the_whole_file_as_cp1252(
    tmp_path: Path,
) -> None:
    rows = "".join(f"Patient {i},{i:06d}\n" for i in range(20_000))  # ~400 KB of ASCII first
    path = write(tmp_path, ("Name,Id\n" + rows + "Chloé,000042\n").encode("cp1252"))
    sheet = load_table(path)
    assert sheet.encoding == "cp1252"
    assert sheet.frame.loc[20_002, "Name"] == "Chloé"
    assert sheet.frame.loc[2, "Id"] == "000000"
    assert len(sheet.frame) == 20_001


@pytest.mark.parametrize(
    ("content", "row", "column", "words"),
    [
        # 0x81 is undefined in cp1252 and invalid in UTF-8.
        (b"Name,Note\nAnn,ok\nBob,bad \x81 byte\n", 3, "Note", "0x81"),
        (b"Name,Note\nAnn,\x8d\n", 2, "Note", "neither in UTF-8 nor in Windows-1252"),
        # UTF-8 first, then a cp1252 byte: two encodings in one file.
        ("Name,Note\nRené,x\n".encode() + "Zoë,y\n".encode("cp1252"), 3, "Name", "mixes two"),
        # A quoted cell spanning lines before the bad byte: still the right row.
        (b'Name,Note\nAnn,"two\nlines"\nBob,\x90\n', 3, "Note", "0x90"),
        (b"\x81Name,Note\nAnn,x\n", 1, None, "0x81"),
        (b"sep=;\nName;Note\nAnn;\x81\n", 2, "Note", "0x81"),  # the sep= line is no row
    ],
    ids=[
        "undefined-0x81",
        "undefined-0x8d",
        "mixed",
        "after-multiline-cell",
        "in-header",
        "after-sep-line",
    ],
)
def test_undecodable_bytes_are_refused_naming_row_and_column(
    tmp_path: Path, content: bytes, row: int, column: str | None, words: str
) -> None:
    with pytest.raises(LoadError, match=words) as caught:
        load_table(write(tmp_path, content))
    assert (caught.value.row, caught.value.column) == (row, column)
    assert "CSV UTF-8" in str(caught.value)  # tells how to fix it


def test_damaged_utf16_is_refused_not_garbled(tmp_path: Path) -> None:
    content = "Name\tNote\nAnn\tx\n".encode("utf-16") + b"\x00\xd8" + "y\n".encode("utf-16-le")
    with pytest.raises(LoadError, match="not valid UTF-16") as caught:
        load_table(write(tmp_path, content))
    assert caught.value.row == 3


# --- delimiters and quoting -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "delimiter", "expected"),
    [
        pytest.param("Name,Note\nAnn,a; b\tc\n", ",", "a; b\tc", id="comma"),
        pytest.param("Name;Amount\nAnn;12,50\n", ";", "12,50", id="semicolon"),
        pytest.param("Name\tNote\nAnn\tx, y; z\n", "\t", "x, y; z", id="tab"),
        pytest.param(
            'Name;Note\n"Ann";"say ""hi""; bye"\n', ";", 'say "hi"; bye', id="quoted-semicolon"
        ),
        pytest.param("Name,Note\r\nAnn,crlf\r\n", ",", "crlf", id="crlf"),
        pytest.param("Name,Note\rAnn,old mac\r", ",", "old mac", id="cr"),
    ],
)
def test_delimiter_is_sniffed(tmp_path: Path, content: str, delimiter: str, expected: str) -> None:
    sheet = load_table(write(tmp_path, content))
    assert sheet.delimiter == delimiter
    assert list(sheet.frame.columns) == ["Name", "Note" if "Note" in content else "Amount"]
    assert sheet.frame.iloc[0, 1] == expected


def test_excel_sep_line_names_the_delimiter_and_is_not_a_row(tmp_path: Path) -> None:
    sheet = load_table(write(tmp_path, "sep=;\r\nName;Note\r\nAnn;a,b\r\n"))
    assert sheet.delimiter == ";"
    assert cells(write(tmp_path, "sep=;\r\nName;Note\r\nAnn;a,b\r\n")) == [
        {"row": 2, "Name": "Ann", "Note": "a,b"}
    ]


def test_a_wider_row_far_down_the_file_gets_its_own_column(tmp_path: Path) -> None:
    rows = [f"Patient {i},{i}" for i in range(60_000)]
    rows[55_000] += ",late extra"  # in the second chunk read
    sheet = load_table(write(tmp_path, "Name,Id\n" + "\n".join(rows) + "\n"))
    assert list(sheet.frame.columns) == ["Name", "Id", "Column C"]
    assert sheet.frame["Column C"].dropna().to_dict() == {55_002: "late extra"}
    assert sheet.frame.loc[60_001, "Id"] == "59999"


def test_single_column_file_falls_back_to_comma(tmp_path: Path) -> None:
    sheet = load_table(write(tmp_path, "Name\nAnn\nBob\n"))
    assert sheet.delimiter == ","
    assert sheet.frame["Name"].tolist() == ["Ann", "Bob"]


def test_quoted_cells_keep_their_line_breaks_and_rows_count_records(tmp_path: Path) -> None:
    path = write(tmp_path, 'Name,Note\r\n"Ann","line 1\r\nline 2"\r\nBob,"a\nb\nc"\r\nCid,x\r\n')
    assert cells(path) == [
        {"row": 2, "Name": "Ann", "Note": "line 1\r\nline 2"},
        {"row": 3, "Name": "Bob", "Note": "a\nb\nc"},
        {"row": 4, "Name": "Cid", "Note": "x"},
    ]


def test_a_quote_never_closed_is_refused_with_its_row(tmp_path: Path) -> None:
    path = write(tmp_path, 'Name,Note\nAnn,ok\nBob,"never closed\nCid,x\nDan,y\n')
    with pytest.raises(LoadError, match="never closed") as caught:
        load_table(path)
    assert caught.value.row == 3


# --- text kept exactly -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "02134",
        "000123",
        "0044 20 7946 0958",
        "+1 (541) 555-0104",
        "5415550104",
        "1234567890123456789",
        "1.50",
        "1E5",
        "12/01/2026",
        "TRUE",
        "NA",
        "N/A",
        "null",
        "None",
        "nan",
        "-",
        " Ann ",
        "=1+1",
    ],
)
def test_cells_are_kept_exactly_as_written(tmp_path: Path, value: str) -> None:
    path = write(tmp_path, f'Value,Other\n"{value}",x\n')
    assert load_table(path).frame.loc[2, "Value"] == value


def test_every_column_is_text_and_blank_or_space_only_cells_are_missing(tmp_path: Path) -> None:
    frame = load_table(write(tmp_path, "A,B,C\n1,,   \n\t,x, y \n")).frame
    assert all(dtype == "str" for dtype in frame.dtypes)
    assert frame.index.name == "row"
    assert frame["A"].isna().tolist() == [False, True]
    assert frame["B"].isna().tolist() == [True, False]
    assert frame["C"].tolist()[1] == " y "
    assert pd.isna(frame["C"].tolist()[0])


# --- rows and headers -------------------------------------------------------------------------


def test_row_numbers_are_those_excel_shows_with_blank_rows_dropped(tmp_path: Path) -> None:
    path = write(tmp_path, "\n,,\nName,Phone\nAnn,1\n\n\n\nBob,2\n,\n  ,  \nCid,3\n")
    sheet = load_table(path)
    assert sheet.frame.index.tolist() == [4, 8, 11]
    assert sheet.frame["Name"].tolist() == ["Ann", "Bob", "Cid"]
    assert any("column names are on row 3" in w for w in sheet.warnings)


def test_header_on_row_1_gives_first_data_row_2_and_no_warning(tmp_path: Path) -> None:
    sheet = load_table(write(tmp_path, "Name\nAnn\n"))
    assert sheet.frame.index.tolist() == [2]
    assert sheet.warnings == ()


def test_headers_are_stripped_and_blank_headers_named_by_column_letter(tmp_path: Path) -> None:
    path = write(tmp_path, " Name ,,Phone, ,\nAnn,,1,x\nBob,,2,,y\n")
    sheet = load_table(path)
    # B: no header, no data -> dropped. D and E: data without header -> named by letter.
    assert list(sheet.frame.columns) == ["Name", "Phone", "Column D", "Column E"]
    assert sheet.frame["Column E"].tolist()[1] == "y"
    assert any("D, E have data but no header" in w for w in sheet.warnings)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Phone,Name,Phone,Phone", ["Phone", "Name", "Phone (2)", "Phone (3)"]),
        ("Phone,Phone,Phone (2)", ["Phone", "Phone (3)", "Phone (2)"]),
        ("Phone, Phone ,phone", ["Phone", "Phone (2)", "phone"]),
    ],
)
def test_duplicate_headers_are_renamed_with_a_warning(
    tmp_path: Path, header: str, expected: list[str]
) -> None:
    width = header.count(",") + 1
    sheet = load_table(write(tmp_path, f"{header}\n{','.join(str(i) for i in range(width))}\n"))
    assert list(sheet.frame.columns) == expected
    assert sheet.frame.iloc[0].tolist() == [str(i) for i in range(width)]  # no cell lost
    assert any("'Phone' appears 2 times" in w or "appears 3 times" in w for w in sheet.warnings)


def test_rows_longer_than_the_header_keep_their_cells(tmp_path: Path) -> None:
    sheet = load_table(write(tmp_path, "Name,Phone\nAnn,1\nBob,2,extra\nCid\n"))
    assert list(sheet.frame.columns) == ["Name", "Phone", "Column C"]
    assert sheet.frame["Column C"].tolist()[1] == "extra"
    assert sheet.frame["Phone"].isna()[4]


def test_header_only_gives_an_empty_table(tmp_path: Path) -> None:
    sheet = load_table(write(tmp_path, "Name,Phone\n"))
    assert list(sheet.frame.columns) == ["Name", "Phone"]
    assert len(sheet.frame) == 0
    assert sheet.frame.index.name == "row"


@pytest.mark.parametrize("content", [b"", b"\n\n\r\n", b",,\n  ,\n", b"\xef\xbb\xbf"])
def test_empty_file_is_refused(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(LoadError, match="the file is empty"):
        load_table(write(tmp_path, content))


# --- the row cap ------------------------------------------------------------------------------


def test_row_cap_counts_rows_with_text_below_the_header(tmp_path: Path) -> None:
    path = write(tmp_path, "Name\nA\n\nB\n  \nC\n")
    assert len(load_table(path, max_rows=3).frame) == 3
    with pytest.raises(LoadError, match="more than 2 rows"):
        load_table(path, max_rows=2)
    assert DEFAULT_MAX_ROWS == 200_000


def test_the_default_row_cap_takes_200000_rows_and_refuses_one_more(tmp_path: Path) -> None:
    # No max_rows given: the default of 200,000 rows decides, at its exact edge.
    at_cap = write(tmp_path, "Id\n" + "".join(f"{n}\n" for n in range(200_000)), "at_cap.csv")
    sheet = load_table(at_cap)
    assert len(sheet.frame) == 200_000
    assert (sheet.frame.index[-1], sheet.frame.iloc[-1, 0]) == (200_001, "199999")
    over = write(tmp_path, "Id\n" + "".join(f"{n}\n" for n in range(200_001)), "over.csv")
    with pytest.raises(
        LoadError, match="more than 200,000 rows below the header; at most 200,000 are read"
    ) as caught:
        load_table(over)
    assert caught.value.file == str(over)


def test_row_cap_refuses_before_reading_the_rest_of_the_file(tmp_path: Path) -> None:
    # Past the cap lies a byte no encoding accepts: reading the whole file would report it
    # instead of the cap.
    rows = "".join(f"Patient {i},{i}\n" for i in range(100_000))
    path = write(tmp_path, ("Name,Id\n" + rows).encode() + b"Bad,\x81\n")
    with pytest.raises(LoadError, match="more than 10 rows"):
        load_table(path, max_rows=10)
    with pytest.raises(LoadError, match="0x81"):
        load_table(path)


# --- file names and kinds ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["input.txt", "input.tsv", "INPUT.CSV"])
def test_text_extensions_are_read_as_csv(tmp_path: Path, name: str) -> None:
    assert load_table(write(tmp_path, "Name\tPhone\nAnn\t02134\n", name)).frame.loc[2, "Phone"] == (
        "02134"
    )


@pytest.mark.parametrize("name", ["input.json", "input"])
def test_unknown_extension_is_refused_listing_what_is_read(tmp_path: Path, name: str) -> None:
    with pytest.raises(LoadError, match=r"\.csv.*\.xlsx"):
        load_table(write(tmp_path, "Name\nAnn\n", name))


def test_missing_file_and_folder_are_refused(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="does not exist") as caught:
        load_table(tmp_path / "nope.csv")
    assert caught.value.file == str(tmp_path / "nope.csv")
    with pytest.raises(LoadError, match="folder"):
        load_table(tmp_path)


@pytest.mark.skipif(
    os.name == "nt" or os.geteuid() == 0,
    reason="root reads files whatever their permissions; Windows has no such permission bits",
)
def test_unreadable_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "Name\nAnn\n")
    path.chmod(0)
    with pytest.raises(LoadError, match="permission denied"):
        load_table(path)


def test_binary_file_named_csv_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="not a text"):
        load_table(write(tmp_path, bytes(range(256)) * 4))


def test_a_csv_file_has_no_sheets(tmp_path: Path) -> None:
    assert sheet_names(write(tmp_path, "Name\nAnn\n")) == []


def test_a_sheet_named_for_a_csv_file_is_ignored_with_a_warning(tmp_path: Path) -> None:
    sheet = load_table(write(tmp_path, "Name\nAnn\n"), sheet="Appointments")
    assert sheet.frame["Name"].tolist() == ["Ann"]
    assert sheet.warnings == ("a CSV file has no sheets; the sheet 'Appointments' was not used",)


def test_sheet_reports_the_file_as_given(tmp_path: Path) -> None:
    path = write(tmp_path, "Name\nAnn\n")
    sheet = load_table(str(path))
    assert (sheet.file, sheet.sheet_name) == (str(path), None)
