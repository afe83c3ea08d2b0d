"""Read a CSV (or tab-separated text) file as columns of text, streaming, never guessing silently.

Encodings are tried strictly, in this order, so no file is ever read as mojibake:

1. a byte-order mark decides: ``utf-8-sig`` (Excel's "CSV UTF-8"), ``utf-16`` (Excel's
   "Unicode Text", tab-separated), ``utf-32``;
2. otherwise strict ``utf-8``;
3. if that fails and everything before the first bad byte was plain ASCII, strict ``cp1252``
   (Excel's "CSV (Comma delimited)" on Windows: ``é`` is 0xE9, ``’`` is 0x92), or Mac Roman
   (Excel for Mac's "Comma Separated Values": ``é`` is 0x8E) when the file's accented bytes read
   as letters inside words that way and not in cp1252
   (:func:`importer.load.csv_problems.single_byte_encoding`); the file is then said to be read
   as Mac Roman.

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
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from importer.errors import LoadError
from importer.load.csv_problems import (
    RESAVE,
    first_bad_byte,
    open_quote_row,
    parser_problem,
    single_byte_encoding,
    undecodable,
)
from importer.load.table_bounds import HEADER_SEARCH_ROWS, find_header, header_index, title_of

SNIFF_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t")
MAX_CSV_BYTES = 4 << 30  # 4 GiB: ~4x a 5,000,000-row appointment file (read in parts)
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
_WIDER_ROW = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_SEP_LINE = re.compile(r"sep=([,;\t|])(?:\r\n|\n|\r)")
_LEADING_BLANK_LINES = re.compile(r"(?:\r\n|\n|\r)*")
_LINE_END = re.compile(r"\r\n|\n|\r")


@dataclass(frozen=True)
class CsvTable:
    """A CSV file's cells as text; blank and all-space cells are missing (NaN)."""

    header: list[str]  # the first row with text, as written (not yet stripped)
    header_row: int  # its row number (1 unless blank lines come first)
    columns: list[np.ndarray]  # one per field position, the rows below the header
    rows: pd.Index  # the row number of each body row; blank rows are still in
    encoding: str
    delimiter: str
    title: str = ""  # the text above the header (title_of)


@dataclass(frozen=True)
class CsvLayout:
    """How a CSV file is read: what the sniffing found, and the width its widest row needs."""

    encoding: str
    delimiter: str
    skip: int  # lines before the first record pandas reads (leading blank lines, ``sep=``)
    first_row: int  # the spreadsheet row of that first record
    hidden: int = 0  # 1 when a ``sep=`` line, which Excel hides, comes first
    marked: bool = False  # the encoding comes from a byte-order mark
    width: int | None = None  # None: as many fields as the first record has
    widened: int = 0  # times a wider row made the file be read again
    # Columns with no header whose first cells are blank but that hold text further down: a
    # file read in parts keeps them in every part (its first part alone decides the others).
    filled: frozenset[int] = frozenset()


class LayoutChanged(Exception):  # noqa: N818 - a signal to read again, not a failure
    """Raised when the file must be read again from its start with ``layout``: by
    :func:`csv_records` for a row wider than those before it, or cp1252 after ASCII that is not
    UTF-8; by :class:`importer.load.parts.PartReader` for text in a column its first part left
    out (no header, no text until then)."""

    def __init__(self, layout: CsvLayout) -> None:
        super().__init__(f"read again as {layout}")
        self.layout = layout


def read_csv_table(
    path: Path, *, file: str, max_rows: int, header_row: int | None = None
) -> CsvTable:
    """Decode, sniff and parse ``path``; refuse it once it has more than ``max_rows`` data rows.

    The header is the row ``header_row`` when given, else the one
    :func:`importer.load.table_bounds.find_header` finds (a title line above it is skipped); data
    rows are the rows below it. Raises LoadError
    for an empty or oversized file, undecodable bytes, broken quoting or too many rows.
    """
    layout = csv_layout(path, file=file)
    while True:
        counter = RowCounter(max_rows, file=file)
        try:
            records = csv_records(path, layout, file=file, chunk_rows=min(CHUNK_ROWS, max_rows + 2))
            chunks = [counter.count(chunk) for chunk in records]
        except LayoutChanged as changed:
            layout = changed.layout
            continue
        cells = pd.concat(chunks) if len(chunks) > 1 else chunks[0]
        return _table(cells, layout, file=file, header_row=header_row)


def csv_layout(path: Path, *, file: str, encoding: str | None = None) -> CsvLayout:
    """Encoding (a byte-order mark, else ``encoding``, else UTF-8), delimiter and the lines to
    skip, from the first 64 KiB. LoadError for a file over :data:`MAX_CSV_BYTES` or too wide."""
    size = path.stat().st_size
    if size > MAX_CSV_BYTES:
        raise LoadError(
            f"the file is {size / (1 << 30):.1f} GiB; at most {MAX_CSV_BYTES >> 30} GiB is read. "
            "Split it into smaller files",
            file=file,
        )
    with path.open("rb") as stream:
        head = stream.read(SNIFF_BYTES)
    marked = next((name for bom, name in _BOMS if head.startswith(bom)), None)
    chosen = marked or encoding or "utf-8"
    sample = _decode_sample(head, chosen)
    # Excel reads a first line "sep=;" as the delimiter to use, and does not show it.
    hint = _SEP_LINE.match(sample)
    delimiter = hint.group(1) if hint else sniff_delimiter(sample)
    # pandas cannot start on an empty line; skip those and count them as rows.
    blank_lines = _LEADING_BLANK_LINES.match(sample, hint.end() if hint else 0)
    blank = len(_LINE_END.findall(blank_lines.group() if blank_lines else ""))
    widest = _widest_record(sample, delimiter)
    check_width(widest, file=file)  # before pandas reads it all
    hidden = 1 if hint else 0
    # Room for the widest record of the sample: a title line of one cell above the header does
    # not make the whole file be read again.
    return CsvLayout(
        chosen, delimiter, blank + hidden, blank + 1, hidden, marked is not None, widest or None
    )


def csv_records(
    path: Path, layout: CsvLayout, *, file: str, chunk_rows: int = CHUNK_ROWS
) -> Iterator[pd.DataFrame]:
    """Every record as text ("" for empty), ``chunk_rows`` at a time, indexed by spreadsheet row
    (blank lines included). Raises :class:`LayoutChanged` when the file must be read again with
    another layout, and LoadError for an empty file, broken quoting or undecodable bytes."""
    width = layout.width
    first = layout.first_row
    try:
        reader = pd.read_csv(
            path,
            sep=layout.delimiter,
            header=None,
            names=None if width is None else range(width),
            index_col=False,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            quotechar='"',
            doublequote=True,
            encoding=layout.encoding,
            encoding_errors="strict",
            engine="c",
            chunksize=max(1, chunk_rows),
            skiprows=layout.skip,
        )
        with reader:
            for chunk in reader:
                chunk.index = pd.RangeIndex(first, first + len(chunk), name="row")
                first += len(chunk)
                yield chunk
    except pd.errors.EmptyDataError as exc:
        raise LoadError("the file is empty (it has only blank lines)", file=file) from exc
    except pd.errors.ParserError as exc:
        wider = _WIDER_ROW.search(str(exc))
        if wider is None:
            # pandas counts the skipped blank lines in this row number.
            raise LoadError(parser_problem(str(exc)), file=file, row=open_quote_row(exc)) from exc
        # A row with more cells than those before it (Excel shows them as more columns): read
        # again with room for them.
        width = int(wider.group(3))
        if layout.widened >= MAX_WIDTH_RETRIES:
            raise LoadError(
                f"the rows have too many different numbers of cells (one has {width}); {RESAVE}",
                file=file,
            ) from exc
        raise LayoutChanged(replace(layout, width=width, widened=layout.widened + 1)) from exc
    except UnicodeDecodeError:
        offset, bad, ascii_before = first_bad_byte(path, layout.encoding)
        if layout.encoding == "utf-8" and not layout.marked and ascii_before:
            # plain ASCII so far, nothing misread yet: cp1252 (or Mac Roman) from the start
            single = single_byte_encoding(path)
            raise LayoutChanged(csv_layout(path, file=file, encoding=single)) from None
        raise undecodable(
            path,
            layout.encoding,
            layout.delimiter,
            offset,
            bad,
            ascii_before,
            file,
            hidden=layout.hidden,
        ) from None


class RowCounter:
    """Counts the rows with text as chunks come, refusing a file over ``max_rows`` data rows
    before the rest is read (the header is a row with text too)."""

    def __init__(
        self, max_rows: int, *, file: str, advice: str = "Split it into smaller files"
    ) -> None:
        self.max_rows = max_rows
        self.file = file
        self.advice = advice
        self.filled = 0

    def count(self, chunk: pd.DataFrame, blank: pd.DataFrame | None = None) -> pd.DataFrame:
        """``chunk``, counted (``blank``: where its cells are blank, when known); LoadError once
        the rows with text pass the cap."""
        blank = blank_cells(chunk) if blank is None else blank
        self.filled += int((~blank).any(axis=1).sum())
        if self.filled > self.max_rows + 1:
            raise LoadError(
                f"the file has more than {self.max_rows:,} rows below the header; at most "
                f"{self.max_rows:,} are read in one run. {self.advice}",
                file=self.file,
            )
        return chunk


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


def blank_cells(cells: pd.DataFrame) -> pd.DataFrame:
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
    cells: pd.DataFrame, layout: CsvLayout, *, file: str, header_row: int | None
) -> CsvTable:
    blank = blank_cells(cells)
    header_at, header = table_head(cells, blank, file=file, header_row=header_row)
    body = cells.iloc[header_at + 1 :]
    columns = body_columns(body, blank.iloc[header_at + 1 :])
    return CsvTable(
        header,
        int(cells.index[header_at]),
        columns,
        body.index,
        layout.encoding,
        layout.delimiter,
        title_above(cells, blank, header_at),
    )


def title_above(cells: pd.DataFrame, blank: pd.DataFrame, header_at: int) -> str:
    """The text of the records above the header (at ``header_at`` in ``cells``): its title."""
    above = cells.iloc[:header_at].mask(blank.iloc[:header_at])
    return title_of(
        [[c if isinstance(c, str) else None for c in row] for row in above.itertuples(index=False)]
    )


def table_head(
    cells: pd.DataFrame, blank: pd.DataFrame, *, file: str, header_row: int | None
) -> tuple[int, list[str]]:
    """The position in ``cells`` (records indexed by row) of the header, and its names: the row
    ``header_row`` when given, else the one :func:`find_header` finds among the first rows."""
    check_width(cells.shape[1], file=file)
    with_text = ~blank.all(axis=1)
    if not with_text.any():
        raise LoadError("the file is empty (it has only blank lines)", file=file)
    first_row = int(cells.index[0])
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
    return header_at, header


def body_columns(body: pd.DataFrame, blank: pd.DataFrame) -> list[np.ndarray]:
    """The columns of records ``body``, blank and all-space cells missing (None)."""
    return [body[j].mask(blank[j]).to_numpy(dtype=object) for j in body.columns]
