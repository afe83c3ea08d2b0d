"""A file read in parts of :data:`PART_ROWS` rows, so that memory does not grow with the file.

:class:`PartReader` gives the table of a file as :class:`Sheet` parts, each holding up to
``part_rows`` rows (a little more when notes below the table are carried over), every part with
the same columns, row numbers as in the file. It can be read again (a run reads the file once to
check it whole, then again to send it). A CSV file is parsed a part at a time; a workbook's sheet
is read whole (calamine holds it anyway) once, and cut into parts.

The rules that need the whole table hold across parts: the header is found in the first rows;
the columns are those with a name or with data in the first part; the rows after the table's
last full row (notes below it) are judged with the file's end in view, because a part ends at
its last full row and the rows after it go with the next part. A row count over ``max_rows``
stops the read (LoadError) before the later parts are read.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pandas as pd
from defusedxml.ElementTree import ParseError

from importer.errors import LoadError
from importer.load.csv_reader import (
    CsvLayout,
    LayoutChanged,
    RowCounter,
    blank_cells,
    body_columns,
    csv_layout,
    csv_records,
    table_head,
    title_above,
)
from importer.load.read_ahead import sheet_to_read
from importer.load.sheet import SET_ASIDE_SHOWN, Sheet, assemble_sheet, set_aside_warnings
from importer.load.table import DEFAULT_MAX_ROWS, load_table, reads_as_workbook
from importer.load.table_bounds import HEADER_SEARCH_ROWS, typical_cells

PART_ROWS = 25_000  # peak memory flat from 100,000 to 1,000,000 rows (make bench)
# A file of up to about this many rows is one part: read, checked and mapped once, as fast as a
# file can be (a file in parts is read twice, see importer.file_facts), at the peak memory of
# a bigger file's parts (make bench).
WHOLE_ROWS = 100_000
_SAMPLE_BYTES = 65_536  # the start of a CSV file that tells its lines' length (likely_several)
_MARGIN = 1.5  # how much longer than one part a file must look for that guess
# A file read in parts is read by the command line, whose --max-rows raises the cap.
CAP_ADVICE = "Split it into smaller files, or raise the limit with --max-rows"

__all__ = ["PART_ROWS", "WHOLE_ROWS", "LayoutChanged", "PartReader"]


class PartReader:
    """The parts of one sheet of ``path`` (see the module). Iterating :meth:`parts` may raise
    :class:`LayoutChanged` from a CSV file that must be read again from its start (a wider row,
    another encoding): the reader has learnt the layout, and the caller starts over.

    ``whole_rows``: a table of at most this many rows (a CSV file's: up to one part more, its
    end being known only once read) is given as one part."""

    def __init__(
        self,
        path: str | Path,
        *,
        sheet: str | None = None,
        max_rows: int = DEFAULT_MAX_ROWS,
        header_row: int | None = None,
        part_rows: int = PART_ROWS,
        whole_rows: int = 0,
    ) -> None:
        self.path = Path(path)
        self.file = str(path)
        self.sheet = sheet
        self.max_rows = max_rows
        self.header_row = header_row
        self.part_rows = max(1, part_rows)
        self.whole_rows = whole_rows
        self.layout: CsvLayout | None = None
        self._whole: Sheet | None = None  # a workbook's sheet, read once
        self._workbook: bool | None = None  # judged from the file's bytes when first read

    @property
    def is_workbook(self) -> bool:
        """True for a workbook (read whole, then cut), False for CSV text (read in parts), by
        its bytes as :func:`importer.load.table.load_table` judges them: LoadError for a file
        that is neither or cannot be read."""
        if self._workbook is None:
            self._workbook = reads_as_workbook(self.path)
        return self._workbook

    def likely_several(self) -> bool:
        """True when the table looks too long for one part: a guess made before it is read, so
        that worker processes can start meanwhile (:meth:`importer.workers.PartPool.warm_up`).
        A CSV file by its size and the lines of its first 64 KiB; a workbook by the last row
        number of its sheet, which the safety check counts before it is parsed (an .xlsx or
        .xlsm file whose sheet is named or alone). False for a file that cannot be read
        (:meth:`parts` says why)."""
        try:
            if self.is_workbook:
                return self._sheet_rows() > _MARGIN * max(self.part_rows, self.whole_rows)
            size = self.path.stat().st_size
            with self.path.open("rb") as handle:
                sample = handle.read(_SAMPLE_BYTES)
        except (OSError, LoadError):
            return False
        lines = sample.count(b"\n")
        if size <= len(sample) or not lines:
            return False
        # A margin: lines vary in length, and a file guessed a little too long would start the
        # workers' server for nothing (the bench's 100,000-row file was guessed at 100,842).
        return size * lines / len(sample) > _MARGIN * max(self.part_rows, self.whole_rows)

    def _sheet_rows(self) -> int:
        """The last row number of the workbook's sheet read, by the safety check (which reading
        makes anyway, once a process); 0 when not known: an .xls or .ods file, several sheets
        and none named, a file the check or the workbook's list of sheets cannot read."""
        try:
            found = sheet_to_read(self.path, self.sheet, file=self.file)
        except (OSError, LoadError, KeyError, ValueError, zipfile.BadZipFile, ParseError):
            return 0
        return 0 if found is None or found[1] is None else found[1]

    def parts(self) -> Iterator[Sheet]:
        """The parts, in row order; at least one (it may have no rows)."""
        if not self.is_workbook:
            try:
                yield from self._carried(self._csv_parts())
            except LayoutChanged as changed:
                self.layout = changed.layout
                raise
            return
        if self._whole is None:
            self._whole = load_table(
                self.path, sheet=self.sheet, max_rows=self.max_rows, header_row=self.header_row
            )
        whole = self._whole
        if len(whole.frame) <= max(self.part_rows, self.whole_rows):
            yield whole
            return
        for start in range(0, len(whole.frame), self.part_rows):
            frame = whole.frame.iloc[start : start + self.part_rows]
            rows = set(frame.index.tolist())
            aside = {row: why for row, why in whole.set_aside.items() if row in rows}
            warnings = whole.warnings if start == 0 else ()
            # Every part keeps the sheet's headings: its first rows may be below an earlier one.
            yield replace(whole, frame=frame, set_aside=aside, warnings=warnings)

    def _csv_parts(self) -> Iterator[Sheet]:
        """A CSV file's parts: parsed ``part_rows`` records at a time."""
        if self.layout is None:
            self.layout = csv_layout(self.path, file=self.file)
        layout = self.layout
        counter = RowCounter(self.max_rows, file=self.file, advice=CAP_ADVICE)
        head: _Head | None = None
        pending: _Records | None = None  # the records read last, judged once more come
        held: list[_Records] | None = []  # parts kept while the file may be one (whole_rows)
        aside = _SetAside()  # the rows set aside so far, said once for the file
        # No more than the cap at a time: a file over it is refused having read only its start.
        size = min(self.part_rows, self.max_rows + 2)
        records = csv_records(self.path, layout, file=self.file, chunk_rows=size)
        for chunk in _with_header_rows(records):
            blank = blank_cells(chunk)  # once per record: counted, cut and assembled with it
            counter.count(chunk, blank)
            if head is None:
                head = _Head.of(chunk, blank, file=self.file, header_row=self.header_row)
                chunk, blank = chunk.iloc[head.at + 1 :], blank.iloc[head.at + 1 :]
                head = head.seen(blank, layout.filled)
            else:
                _check_left_out(head, blank, layout)
            if pending is not None:
                part, carried = head.cut(pending)
                if held is not None and len(part[0]) + _rows(held) <= self.whole_rows:
                    held.append(part)
                    part = _none(part)
                elif held is not None:
                    for earlier in held:  # the file is more than one part after all
                        yield aside.said(head.sheet(earlier, layout, self, final=False))
                        head = head.later()
                    held = None
                if len(part[0]):
                    yield aside.said(head.sheet(part, layout, self, final=False))
                    head = head.later()
                if len(carried[0]):
                    chunk = pd.concat([carried[0], chunk])
                    blank = pd.concat([carried[1], blank])
            pending = (chunk, blank)
        if head is None or pending is None:
            raise LoadError("the file is empty (it has only blank lines)", file=self.file)
        if held:
            pending = _joined([*held, pending])
        yield aside.said(head.sheet(pending, layout, self, final=True), final=True)

    def _carried(self, parts: Iterator[Sheet]) -> Iterator[Sheet]:
        """``parts`` each with the last heading of the parts before it (for its first rows)."""
        last: dict[int, str] = {}
        for part in parts:
            if last:
                part = replace(part, headings={**last, **part.headings})
            if part.headings:
                row = max(part.headings)
                last = {row: part.headings[row]}
            yield part


class _SetAside:
    """The rows a CSV file's parts set aside (not appointments), said as a file read whole says
    them: the first :data:`SET_ASIDE_SHOWN` named, and how many more in one line, with the last
    part. A part's own warnings do not name them (``name_set_aside=False``): each part's list
    would name a heading of every part and count the rest part by part."""

    def __init__(self) -> None:
        self.named: list[tuple[int, str]] = []
        self.count = 0

    def said(self, part: Sheet, *, final: bool = False) -> Sheet:
        """``part`` counted; given the file's lines of rows set aside, if ``final``."""
        own = part.set_aside
        self.named += list(own.items())[: max(0, SET_ASIDE_SHOWN - len(self.named))]
        self.count += len(own)
        if not final:
            return part
        said = set_aside_warnings(self.named, self.count)
        return replace(part, warnings=(*part.warnings, *said)) if said else part


def _check_left_out(head: _Head, blank: pd.DataFrame, layout: CsvLayout) -> None:
    """Raise :class:`LayoutChanged` when records after the first part's hold text in a column
    the first part left out (no header, and blank there): the file is read again keeping it,
    as a file read in one part keeps it, rather than its cells being lost from the report."""
    if head.keep is None or all(head.keep):
        return
    found = [
        j
        for j, kept in enumerate(head.keep)
        if not kept and j in blank.columns and not bool(blank[j].all())
    ]
    if found:
        raise LayoutChanged(replace(layout, filled=layout.filled | frozenset(found)))


def _with_header_rows(records: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """``records`` with the first chunk holding every row the header may be on."""
    first: list[pd.DataFrame] = []
    for chunk in records:
        if first and sum(map(len, first)) >= 2 * HEADER_SEARCH_ROWS:
            yield pd.concat(first) if len(first) > 1 else first[0]
            yield chunk
            yield from records
            return
        first.append(chunk)
    if first:
        yield pd.concat(first) if len(first) > 1 else first[0]


_Records = tuple[pd.DataFrame, pd.DataFrame]  # records, and True where their cells are blank


def _rows(held: list[_Records]) -> int:
    return sum(len(cells) for cells, _ in held)


def _none(records: _Records) -> _Records:
    """No records, with the columns of ``records``."""
    return records[0].iloc[:0], records[1].iloc[:0]


def _joined(parts: list[_Records]) -> _Records:
    """The records of ``parts`` as one."""
    return pd.concat([c for c, _ in parts]), pd.concat([b for _, b in parts])


class _Head:
    """What the first part of a CSV file decides for every part: the header and its row, the
    columns kept, and how many cells a full row has."""

    def __init__(
        self,
        at: int,
        header: list[str],
        header_row: int,
        keep: list[bool] | None = None,
        typical: float = 0.0,
        first: bool = True,
        title: str = "",
    ) -> None:
        self.at = at
        self.header = header
        self.header_row = header_row
        self.keep = keep
        self.typical = typical
        self.first = first
        self.title = title

    @property
    def width(self) -> int:
        """The fields of a record."""
        return len(self.header)

    @classmethod
    def of(
        cls, chunk: pd.DataFrame, blank: pd.DataFrame, *, file: str, header_row: int | None
    ) -> _Head:
        """The header of the file whose first records are ``chunk`` (``blank``: its blanks)."""
        at, header = table_head(chunk, blank, file=file, header_row=header_row)
        return cls(at, header, int(chunk.index[at]), title=title_above(chunk, blank, at))

    def seen(self, blank: pd.DataFrame, later: frozenset[int] = frozenset()) -> _Head:
        """This head with the columns and the full-row count of the first part (its blank
        cells: ``blank``). A column is kept when it has a header or text in the first part, or
        is one of ``later``: columns with text further down (:func:`_check_left_out`)."""
        filled = ~blank
        keep = [
            bool(name.strip()) or j in later or bool(filled[j].any())
            for j, name in enumerate(self.header)
        ]
        typical = typical_cells(filled.sum(axis=1))
        return _Head(self.at, self.header, self.header_row, keep, typical, title=self.title)

    def later(self) -> _Head:
        """This head for the parts after the first (its notes are not said again)."""
        return _Head(
            self.at,
            self.header,
            self.header_row,
            self.keep,
            self.typical,
            first=False,
            title=self.title,
        )

    def cut(self, records: _Records) -> tuple[_Records, _Records]:
        """``records`` up to their last full row, and the rows after it (carried over)."""
        cells, blank = records
        counts = (~blank).sum(axis=1).to_numpy()
        full = (counts * 2 >= self.typical) & (counts > 1)
        last = int(full.nonzero()[0][-1]) + 1 if full.any() else 0
        return (cells.iloc[:last], blank.iloc[:last]), (cells.iloc[last:], blank.iloc[last:])

    def sheet(
        self, records: _Records, layout: CsvLayout, reader: PartReader, *, final: bool
    ) -> Sheet:
        """The Sheet of one part's ``records`` (cells, and where they are blank)."""
        cells, blank = records
        notes = []
        if self.first and reader.sheet:
            notes.append(f"a CSV file has no sheets; the sheet {reader.sheet!r} was not used")
        loaded = assemble_sheet(
            self.header,
            body_columns(cells, blank),
            cells.index,
            file=reader.file,
            max_rows=len(cells) + reader.max_rows,  # counted for the whole file as it is read
            header_row=self.header_row,
            encoding=layout.encoding,
            delimiter=layout.delimiter,
            notes=notes,
            keep=self.keep,
            final=final,
            typical=self.typical,
            present=~blank.to_numpy(),
            title=self.title,
            name_set_aside=False,  # named once for the file (_SetAside)
        )
        if not self.first:
            loaded = replace(loaded, warnings=_later_warnings(loaded))
        return loaded


def _later_warnings(part: Sheet) -> tuple[str, ...]:
    """A later part's warnings: its rows' own, not the header's said with the first part."""
    return tuple(w for w in part.warnings if w.startswith("row "))
