"""The per-row report: every input row with its outcome and Apptoto id.

The report is the original columns, then ``row``, ``status``, ``external_id``, ``apptoto_id``,
``message`` and ``warnings`` (what to check on a row that was sent all the same). CSV (UTF-8
with BOM, so Excel shows accents right) by default, XLSX when the path ends in ``.xlsx``. It is
written atomically: a temporary file in the same folder, flushed to disk, then renamed over the
old report, so a crash or a full disk never leaves half a report. When the old report cannot be
replaced (open in Excel on Windows), the new one is written beside it as
``<name> (written HH-MM-SS).<ext>`` and the result says so.

Cells that Excel would run as a formula (beginning with ``=`` ``+`` ``-`` ``@``, tab or CR: OWASP
"CSV injection"; also LF, as a reader that trims cells drops it like the other two) are prefixed
with ``'`` in CSV reports and stored as plain text cells in XLSX reports. Only the report is
escaped; what is sent to Apptoto is never changed. A report read back as input (staff fix the
invalid rows and run it again) is recognised by its result columns, which are dropped, and the
escaping is undone.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import itertools
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from importer.errors import ReportError
from importer.files import WrittenFile, atomic_write
from importer.load.report_input import RESULT_COLUMNS
from importer.outcomes import RowResult
from importer.report.xlsx import write_xlsx, write_xlsx_parts

_FORMULA_CHARS = "=+-@\t\r\n"
_FORMULA_START = re.compile(r"^[=+\-@\t\r\n]")
# A cell of a column joined with "\0" before each: one search finds whether any needs escaping.
_FORMULA_AFTER_NUL = re.compile("\0[=+\\-@\t\r\n]")


def escape_cell(text: str) -> str:
    """Prefix a cell that a spreadsheet would run as a formula with ``'``."""
    return "'" + text if _FORMULA_START.match(text) else text


def escaped_column(cells: list[str]) -> list[str]:
    """``cells`` with :func:`escape_cell` applied: the list itself when no cell needs it (most
    columns: one search of the column joined), else cell by cell."""
    if _FORMULA_AFTER_NUL.search("\0" + "\0".join(cells)) is None:
        return cells
    return ["'" + c if c and c[0] in _FORMULA_CHARS else c for c in cells]


def csv_lines(table: pd.DataFrame, *, header: bool) -> str:
    """A report frame's lines as CSV text (cells escaped, quoted where needed, CRLF line ends),
    with the header line first when ``header``. Its cells are text or missing (blank), as
    :func:`report_frame` makes them."""
    columns = [
        escaped_column(table[c].to_numpy(dtype=object, na_value="").tolist()) for c in table.columns
    ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if header:
        writer.writerow([str(c) for c in table.columns])
    writer.writerows(zip(*columns, strict=True))
    return out.getvalue()


def header_line(names: Iterable[object]) -> str:
    """The header line of a report whose columns are ``names``, as :func:`csv_lines` writes it."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow([str(n) for n in names])
    return out.getvalue()


_SLICE = 10_000  # lines made into text at a time: a few MB, whatever the part's size


def csv_data(table: pd.DataFrame, *, header: bool) -> Iterator[bytes]:
    """:func:`csv_lines` in UTF-8, a slice of the lines at a time."""
    for start in range(0, max(len(table), 1), _SLICE):
        lines = table.iloc[start : start + _SLICE]
        yield csv_lines(lines, header=header and start == 0).encode()


@dataclass(frozen=True)
class CsvLines:
    """A part's report lines written as CSV (:func:`csv_part`) where the part was checked (a
    worker process, for a file of several parts): the command's own process only adds them to
    the file. ``columns``: the header line's; ``data``: the lines, UTF-8, in slices."""

    columns: tuple[str, ...]
    data: tuple[bytes, ...]


def csv_part(table: pd.DataFrame) -> CsvLines:
    """A report frame's lines (:func:`report_frame`) as CSV, for :meth:`ReportWriter.add_lines`."""
    return CsvLines(tuple(str(c) for c in table.columns), tuple(csv_data(table, header=False)))


def write_lines(path: Path, data: Iterable[bytes], *, first: bool) -> None:
    """Write CSV lines (UTF-8) to a report's temporary file: ``first``, a new file beginning
    with the BOM (Excel then reads UTF-8); else added at its end. Raises OSError."""
    with open(path, "wb" if first else "ab") as f:
        if first:
            f.write(codecs.BOM_UTF8)
        f.writelines(data)


def report_frame(source: pd.DataFrame, results: Sequence[RowResult]) -> pd.DataFrame:
    """The report as a frame: the source columns, then the result columns, one line per row.

    ``source`` is indexed by spreadsheet row number; ``results`` has one entry per row.
    """
    by_row = {r.row: r for r in results if r.row is not None}
    rows = list(source.index)
    missing = [row for row in rows if row not in by_row]
    if missing:
        raise ReportError(f"internal error: no outcome for rows {missing[:10]}")
    # Events no longer in the file (cancelled) follow the rows, with blank source cells.
    extra = [r for r in results if r.row is None]
    table = source.astype("string").fillna("").reset_index(drop=True)
    if extra:
        blank = pd.DataFrame("", index=range(len(extra)), columns=table.columns, dtype="string")
        table = pd.concat([table, blank], ignore_index=True)
    # Result column names win over same-named source columns: rename those source columns.
    table.columns = pd.Index(
        [f"{c} (source)" if c in RESULT_COLUMNS else str(c) for c in table.columns]
    )
    ordered = [by_row[row] for row in rows] + extra
    table["row"] = ["" if r.row is None else str(r.row) for r in ordered]
    table["status"] = [r.status.value for r in ordered]
    table["external_id"] = [r.external_id for r in ordered]
    table["apptoto_id"] = ["" if r.apptoto_id is None else str(r.apptoto_id) for r in ordered]
    table["message"] = [r.message for r in ordered]
    table["warnings"] = [r.warning_text for r in ordered]
    return table


def write_report(path: str | Path, source: pd.DataFrame, results: Sequence[RowResult]) -> Path:
    """Write the report atomically as CSV, or XLSX when ``path`` ends in ``.xlsx``.

    Returns where it went: ``path``, or beside it under a new name when the old report cannot be
    replaced (:func:`not_replaced_note` then says so). Raises ReportError (the previous report,
    if any, is left as it was) when it cannot be written at all.
    """
    return write_report_table(path, report_frame(source, results))


def write_report_parts(
    path: str | Path, columns: list[str], parts: Callable[[], Iterable[pd.DataFrame]]
) -> Path:
    """Write an XLSX report whose lines ``parts()`` gives (called twice), atomically; returns
    where it went, as :func:`write_report` does."""
    target = Path(path)
    try:
        with atomic_write(target, beside_if_locked=True) as written:
            write_xlsx_parts(written.tmp, columns, parts)
    except OSError as exc:
        raise ReportError(f"cannot write the report {target}: {exc.strerror or exc}") from exc
    return written.path


def write_report_table(path: str | Path, table: pd.DataFrame) -> Path:
    """Write a report frame (:func:`report_frame`, or several joined) as :func:`write_report`
    does: atomically, CSV or XLSX by ``path``'s suffix; returns where it went."""
    target = Path(path)
    try:
        with atomic_write(target, beside_if_locked=True) as written:
            if target.suffix.lower() == ".xlsx":
                write_xlsx(written.tmp, table)
            else:
                write_lines(written.tmp, csv_data(table, header=True), first=True)
    except OSError as exc:
        raise ReportError(f"cannot write the report {target}: {exc.strerror or exc}") from exc
    return written.path


class ReportWriter:
    """A report written a part of the file at a time (:func:`add`), then :func:`finish`: as
    :func:`write_report`, atomically. A CSV report's lines go to disk as each part is added; an
    XLSX report is built at the end (its column widths and kinds need every cell), from a
    temporary CSV file of its lines when the file came in more than one part, so that memory
    holds one part. ``copies``: more paths the same report goes to (a CSV report kept as XLSX
    too)."""

    def __init__(self, path: str | Path, copies: Sequence[str | Path] = ()) -> None:
        self.target = Path(path)
        self._stack = contextlib.ExitStack()
        self._written: WrittenFile | None = None
        self._tables: list[pd.DataFrame] = []
        self._lines: _Lines | None = None  # an XLSX report's lines kept on disk (several parts)
        self._copies = [ReportWriter(copy) for copy in copies]

    def add(self, source: pd.DataFrame, results: Sequence[RowResult]) -> None:
        """The report lines of one part (its source rows, its results; cancellations last)."""
        self.add_lines(report_frame(source, results))

    @property
    def takes_csv(self) -> bool:
        """The report is one CSV file: it takes a part's lines written as CSV already
        (:class:`CsvLines`), not only as a frame."""
        return self.target.suffix.lower() != ".xlsx" and not self._copies

    def add_lines(self, lines: pd.DataFrame | CsvLines) -> None:
        """The report lines of one part as :func:`report_frame` made them, here and in the
        copies (made once for all); or as :func:`csv_part` wrote them, when :attr:`takes_csv`."""
        if isinstance(lines, CsvLines):
            if not self.takes_csv:
                raise ValueError(f"the report {self.target} takes its lines as a frame")
            self._add_csv(lines.data, header=lines.columns)
            return
        for copy in self._copies:
            copy.add_table(lines)
        self.add_table(lines)

    def add_table(self, table: pd.DataFrame) -> None:
        """One part's lines as :func:`report_frame` made them."""
        if self.target.suffix.lower() == ".xlsx":
            if self._lines is None and not self._tables:
                self._tables.append(table)  # a file of one part: no temporary file
                return
            try:
                if self._lines is None:
                    self._lines = _Lines([str(c) for c in table.columns])
                    self._lines.add(self._tables.pop())
                self._lines.add(table)
            except OSError as exc:
                self.abandon()
                raise ReportError(
                    f"cannot write the report {self.target}: {exc.strerror or exc}"
                ) from exc
            return
        self._add_csv(csv_data(table, header=False), header=table.columns)

    def _add_csv(self, data: Iterable[bytes], header: Iterable[object]) -> None:
        """Lines written as CSV added to a CSV report; ``header``: its columns, written first."""
        try:
            first = self._written is None
            if self._written is None:
                self._written = self._stack.enter_context(
                    atomic_write(self.target, beside_if_locked=True)
                )
                data = itertools.chain([header_line(header).encode()], data)
            write_lines(self._written.tmp, data, first=first)
        except OSError as exc:
            self.abandon()
            raise ReportError(
                f"cannot write the report {self.target}: {exc.strerror or exc}"
            ) from exc

    def finish(self) -> Path:
        """Put the report (then its copies) in place; where it went (see :func:`write_report`)."""
        written = self._finish()
        for copy in self._copies:
            copy.finish()
        return written

    def _finish(self) -> Path:
        if self._lines is not None:
            try:
                return write_report_parts(self.target, self._lines.columns, self._lines.parts)
            finally:
                self._lines.remove()
        if self.target.suffix.lower() == ".xlsx" or self._written is None:
            tables = self._tables or [report_frame(pd.DataFrame(), [])]
            return write_report_table(self.target, pd.concat(tables, ignore_index=True))
        try:
            self._stack.close()
        except OSError as exc:
            raise ReportError(
                f"cannot write the report {self.target}: {exc.strerror or exc}"
            ) from exc
        return self._written.path

    def abandon(self) -> None:
        """Leave the old report as it was (the new one's temporary file is removed)."""
        for copy in self._copies:
            copy.abandon()
        failed = ReportError("the report was not finished")
        self._stack.__exit__(ReportError, failed, None)
        if self._lines is not None:
            self._lines.remove()


class _Lines:
    """An XLSX report's lines in a temporary CSV file (no header: ``columns`` are kept here),
    read back a part at a time."""

    PART = 50_000  # lines read back at a time

    def __init__(self, columns: list[str]) -> None:
        self.columns = columns
        handle, name = tempfile.mkstemp(prefix="apptoto-report-", suffix=".csv")
        os.close(handle)
        self.path = Path(name)

    def add(self, table: pd.DataFrame) -> None:
        # Every cell quoted: a lone CR in a cell is then read back as written, not as a line end.
        table.to_csv(
            self.path, mode="a", header=False, index=False, encoding="utf-8", quoting=csv.QUOTE_ALL
        )

    def parts(self) -> Iterator[pd.DataFrame]:
        names = list(range(len(self.columns)))
        read = pd.read_csv(
            self.path,
            header=None,
            names=names,
            dtype=str,
            na_filter=False,
            encoding="utf-8",
            chunksize=self.PART,
        )
        with read as chunks:
            for chunk in chunks:
                yield chunk.set_axis(self.columns, axis=1)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def not_replaced_note(written: Path, wanted: str | Path) -> str:
    """What to tell the user when the report went beside ``wanted``; "" when it did not."""
    if written == Path(wanted):
        return ""
    return (
        f"the report {wanted} could not be replaced (is it open in another program?): this "
        f"run's report is {written}"
    )


def check_report_path(report: str | Path, *, source: Path, ledger: Path | None = None) -> None:
    """Raise ReportError when writing ``report`` would replace the input file or the ledger.

    Compared as the files they are (links, ``..``, letter case where the system ignores it),
    the ledger with its journal and lock files.
    """
    target = Path(report)
    guarded = [("the file being imported", source)]
    if ledger is not None:
        guarded += [
            (f"the state file {ledger}", ledger.with_name(ledger.name + ending))
            for ending in ("", "-wal", "-shm", "-journal", ".lock")
        ]
    for what, path in guarded:
        if _same_file(target, path):
            raise ReportError(
                f"the report {target} would replace {what}; choose another report path (--report)"
            )


def _same_file(one: Path, other: Path) -> bool:
    try:
        if one.exists() and other.exists():
            return one.samefile(other)
        return one.resolve() == other.resolve()
    except OSError:
        return False
