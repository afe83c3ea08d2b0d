"""Read a CSV (or tab-separated text) file as columns of text, streaming, never guessing silently.

Encodings are tried strictly, in this order, so no file is ever read as mojibake:

1. a byte-order mark decides: ``utf-8-sig`` (Excel's "CSV UTF-8"), ``utf-16`` (Excel's
   "Unicode Text", tab-separated), ``utf-32``;
2. otherwise strict ``utf-8``;
3. if that fails and everything before the first bad byte was plain ASCII, strict ``cp1252``
   (Excel's "CSV (Comma delimited)" on Windows: ``é`` is 0xE9, ``’`` is 0x92).

A file that fails them all is refused, naming the row, the column and the byte: bytes 0x81, 0x8D,
0x8F, 0x90 and 0x9D mean nothing in cp1252, and a file that is UTF-8 in one place and not in
another mixes two encodings (reading it either way would garble some names).

The delimiter (``,`` ``;`` or TAB) is sniffed from the first 64 KiB with :class:`csv.Sniffer`;
when the sniffer fails or names a delimiter the header line lacks, the most frequent of the
three in the first non-blank line wins (``,`` if none). A first line ``sep=;``, which Excel
obeys and hides, names the delimiter instead and is not a row. Quotes are ``"`` as Excel writes them
(``""`` inside a quoted cell); a quote never closed is refused, not swallowed. Parsing is
pandas' C reader, every cell read as text, in chunks: rows are counted as they come, so a file
over the row cap is refused before the rest is read.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from importer.errors import LoadError
from importer.load.table_bounds import HEADER_SEARCH_ROWS, find_header, header_index

SNIFF_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t")
MAX_CSV_BYTES = 1 << 30  # 1 GiB: ~40x a 200,000-row appointment file
CHUNK_ROWS = 50_000  # rows parsed between two counts against the cap
MAX_COLUMNS = 1_000  # an appointment export has a few dozen; Excel allows 16,384
MAX_WIDTH_RETRIES = 8  # re-reads allowed when a row has more cells than those before it

_BOMS = (  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8",
    "cp1252": "Windows-1252 (cp1252)",
    "utf-16": "UTF-16",
    "utf-32": "UTF-32",
}
_RESAVE = 'Open it in Excel and save it again as "CSV UTF-8 (Comma delimited)"'
_WIDER_ROW = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_SEP_LINE = re.compile(r"sep=([,;\t|])(?:\r\n|\n|\r)")
_LEADING_BLANK_LINES = re.compile(r"(?:\r\n|\n|\r)*")
_LINE_END = re.compile(r"\r\n|\n|\r")
_OPEN_QUOTE = re.compile(r"EOF inside string starting at row (\d+)")


@dataclass(frozen=True)
class CsvTable:
    """A CSV file's cells as text; blank and all-space cells are missing (NaN)."""

    header: list[str]  # the first row with text, as written (not yet stripped)
    header_row: int  # its row number (1 unless blank lines come first)
    columns: list[np.ndarray]  # one per field position, the rows below the header
    rows: pd.Index  # the row number of each body row; blank rows are still in
    encoding: str
    delimiter: str


def read_csv_table(
    path: Path, *, file: str, max_rows: int, header_row: int | None = None
) -> CsvTable:
    """Decode, sniff and parse ``path``; refuse it once it has more than ``max_rows`` data rows.

    The header is the row ``header_row`` when given, else the one
    :func:`importer.load.table_bounds.find_header` finds (a title line above it is skipped); data
    rows are the rows below it. Raises LoadError
    for an empty or oversized file, undecodable bytes, broken quoting or too many rows.
    """
    size = path.stat().st_size
    if size > MAX_CSV_BYTES:
        raise LoadError(
            f"the file is {size / (1 << 30):.1f} GiB; at most {MAX_CSV_BYTES >> 30} GiB is read. "
            "Split it into smaller files",
            file=file,
        )
    with path.open("rb") as stream:
        head = stream.read(SNIFF_BYTES)
    encoding = next((name for bom, name in _BOMS if head.startswith(bom)), None)
    for candidate in [encoding] if encoding else ["utf-8", "cp1252"]:
        sample = _decode_sample(head, candidate)
        # Excel reads a first line "sep=;" as the delimiter to use, and does not show it.
        hint = _SEP_LINE.match(sample)
        delimiter = hint.group(1) if hint else sniff_delimiter(sample)
        # pandas cannot start on an empty line; skip those and count them as rows.
        blank_lines = _LEADING_BLANK_LINES.match(sample, hint.end() if hint else 0)
        blank = len(_LINE_END.findall(blank_lines.group() if blank_lines else ""))
        skip = blank + (1 if hint else 0)
        check_width(_widest_record(sample, delimiter), file=file)  # before pandas reads it all
        try:
            cells = _parse(path, candidate, delimiter, skip, file=file, max_rows=max_rows)
        except UnicodeDecodeError:
            offset, bad, ascii_before = _first_bad_byte(path, candidate)
            if candidate == "utf-8" and ascii_before:
                continue  # plain ASCII so far, nothing misread yet: try cp1252 from the start
            hidden = 1 if hint else 0  # Excel does not show the sep= line as a row
            raise _undecodable(
                path, candidate, delimiter, offset, bad, ascii_before, file, hidden=hidden
            ) from None
        return _table(
            cells, candidate, delimiter, first_row=blank + 1, file=file, header_row=header_row
        )
    raise AssertionError("unreachable: cp1252 either decodes or raises")  # pragma: no cover


def check_width(columns: int, *, file: str) -> None:
    """Refuse (LoadError) a table of more than :data:`MAX_COLUMNS` columns."""
    if columns > MAX_COLUMNS:
        raise LoadError(
            f"the file has {columns:,} columns or more; at most {MAX_COLUMNS:,} are read. Save "
            "only the columns the import needs in a new file",
            file=file,
        )


def _widest_record(sample: str, delimiter: str) -> int:
    """The most cells in a record of ``sample`` (a record cut by the sample's end counts too)."""
    widest = 0
    try:
        for record in csv.reader(io.StringIO(sample), delimiter=delimiter):
            widest = max(widest, len(record))
    except csv.Error:
        pass  # broken quoting is said, with its row, by the parser
    return widest


def _decode_sample(head: bytes, encoding: str) -> str:
    # Incremental: a character cut at the end of the sample is left out, not garbled.
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head)
    cut = max(text.rfind("\n"), text.rfind("\r"))
    return text[: cut + 1] if cut > 0 else text


def sniff_delimiter(sample: str) -> str:
    """``,`` ``;`` or TAB: csv.Sniffer's answer if the header line has it, else the commonest."""
    header = next((line for line in sample.splitlines() if line.strip()), "")
    counts = {d: header.count(d) for d in DELIMITERS}
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        sniffed = ""
    if sniffed in counts and counts[sniffed] > 0:
        return sniffed
    best = max(DELIMITERS, key=lambda d: counts[d])  # ties: the earlier in DELIMITERS
    return best if counts[best] > 0 else ","


def _parse(
    path: Path, encoding: str, delimiter: str, skip: int, *, file: str, max_rows: int
) -> pd.DataFrame:
    """Every record as text ("" for empty), one row per spreadsheet row, blank lines included."""
    width: int | None = None  # None: as many fields as the first row has
    for _ in range(MAX_WIDTH_RETRIES):
        try:
            return _parse_chunks(
                path, encoding, delimiter, skip, width, file=file, max_rows=max_rows
            )
        except pd.errors.EmptyDataError as exc:
            raise LoadError("the file is empty (it has only blank lines)", file=file) from exc
        except pd.errors.ParserError as exc:
            wider = _WIDER_ROW.search(str(exc))
            if wider is None:
                # pandas counts the skipped blank lines in this row number.
                row = _open_quote_row(exc)
                raise LoadError(_parser_problem(str(exc)), file=file, row=row) from exc
            # A row with more cells than those before it (Excel shows them as more columns):
            # read again with room for them.
            width = int(wider.group(3))
    raise LoadError(
        f"the rows have too many different numbers of cells (one has {width}); {_RESAVE}",
        file=file,
    )


def _parse_chunks(
    path: Path,
    encoding: str,
    delimiter: str,
    skip: int,
    width: int | None,
    *,
    file: str,
    max_rows: int,
) -> pd.DataFrame:
    limit = max_rows + 1  # the header is a row with text too
    chunks: list[pd.DataFrame] = []
    filled = 0
    reader = pd.read_csv(
        path,
        sep=delimiter,
        header=None,
        names=None if width is None else range(width),
        index_col=False,
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        skip_blank_lines=False,
        quotechar='"',
        doublequote=True,
        encoding=encoding,
        encoding_errors="strict",
        engine="c",
        chunksize=max(1, min(CHUNK_ROWS, max_rows + 2)),
        skiprows=skip,
    )
    with reader:
        for chunk in reader:
            chunks.append(chunk)
            filled += int((chunk != "").any(axis=1).sum())  # all-space rows: see the exact count
            if filled > limit and (filled := _rows_with_text(chunks)) > limit:
                raise LoadError(
                    f"the file has more than {max_rows:,} rows below the header; at most "
                    f"{max_rows:,} are read in one run. Split it into smaller files",
                    file=file,
                )
    return pd.concat(chunks) if len(chunks) > 1 else chunks[0]


def _rows_with_text(chunks: list[pd.DataFrame]) -> int:
    return sum(int((~_blank_cells(chunk)).any(axis=1).sum()) for chunk in chunks)


def _blank_cells(cells: pd.DataFrame) -> pd.DataFrame:
    """True where a cell is empty or only whitespace."""
    return pd.DataFrame({j: _blank(column) for j, column in cells.items()}, index=cells.index)


def _blank(column: pd.Series) -> np.ndarray:
    values = column.to_numpy(dtype=object)
    empty = values == ""
    # Cells of spaces only are rare: look for one (fast, in C) before marking them all.
    if any(map(str.isspace, values)):
        empty |= np.fromiter(map(str.isspace, values), dtype=bool, count=len(values))
    return np.asarray(empty, dtype=bool)


def _table(
    cells: pd.DataFrame,
    encoding: str,
    delimiter: str,
    *,
    first_row: int,
    file: str,
    header_row: int | None,
) -> CsvTable:
    check_width(cells.shape[1], file=file)
    blank = _blank_cells(cells)
    with_text = ~blank.all(axis=1)
    if not with_text.any():
        raise LoadError("the file is empty (it has only blank lines)", file=file)
    if header_row is not None:
        header_at = header_index(header_row, first_row, with_text.to_numpy(), file=file)
    else:
        shown = min(len(cells), 2 * HEADER_SEARCH_ROWS)
        head = [
            [None if blank.iat[i, j] else str(cells.iat[i, j]) for j in range(cells.shape[1])]
            for i in range(shown)
        ]
        found = find_header(head)
        header_at = int(with_text.to_numpy().argmax()) if found is None else found
    header = [
        "" if blank.iat[header_at, j] else str(cells.iat[header_at, j])
        for j in range(cells.shape[1])
    ]
    body = cells.iloc[header_at + 1 :]
    body_blank = blank.iloc[header_at + 1 :]
    columns = [body[j].mask(body_blank[j]).to_numpy(dtype=object) for j in body.columns]
    header_row = first_row + header_at
    rows = pd.Index(range(header_row + 1, first_row + len(cells)), dtype="int64", name="row")
    return CsvTable(header, header_row, columns, rows, encoding, delimiter)


def _open_quote_row(exc: Exception) -> int | None:
    found = _OPEN_QUOTE.search(str(exc))
    return int(found.group(1)) + 1 if found else None


def _parser_problem(message: str) -> str:
    if _OPEN_QUOTE.search(message):
        return (
            'a quote mark (") opened in this row is never closed, so the rest of the file would '
            "become one cell; fix the quotes in this row"
        )
    return f"the file cannot be read as CSV ({message})"


def _has_text(record: list[str]) -> bool:
    joined = "".join(record)
    return bool(joined) and not joined.isspace()


def _first_bad_byte(path: Path, encoding: str) -> tuple[int, bytes, bool]:
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


def _undecodable(
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
            f"text encodings, and reading it either way would garble some names. {_RESAVE}"
        )
    elif encoding in ("utf-8", "cp1252"):
        reason = (
            f"byte {shown} is text neither in UTF-8 nor in Windows-1252 (cp1252), the "
            f"encodings Excel writes CSV in; the file is damaged or in another encoding. {_RESAVE}"
        )
    else:
        name = _ENCODING_NAMES[encoding]
        reason = (
            f"bytes {shown} are not valid {name} text, although the file starts with the "
            f"{name} mark; the file is damaged. {_RESAVE}"
        )
    return LoadError(reason, file=file, row=row, column=column or None)
