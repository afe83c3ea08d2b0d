"""The per-row report: every input row with its outcome and Apptoto id.

The report is the original columns, then ``row``, ``status``, ``external_id``, ``apptoto_id`` and
``message``. CSV (UTF-8 with BOM, so Excel shows accents right) by default, XLSX when the path
ends in ``.xlsx``. It is written atomically: a temporary file in the same folder, flushed to disk,
then renamed over the old report, so a crash or a full disk never leaves half a report.

Cells that Excel would run as a formula (beginning with ``=`` ``+`` ``-`` ``@``, tab or CR: OWASP
"CSV injection"; also LF, as a reader that trims cells drops it like the other two) are prefixed
with ``'`` in CSV reports and stored as plain text cells in XLSX reports. Only the report is
escaped; what is sent to Apptoto is never changed. A report read back as input (staff fix the
invalid rows and run it again) is recognised by its result columns, which are dropped, and the
escaping is undone.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import pandas as pd

from importer.errors import ReportError
from importer.outcomes import RowResult

RESULT_COLUMNS = ("row", "status", "external_id", "apptoto_id", "message")
_FORMULA_START = re.compile(r"^[=+\-@\t\r\n]")
_ESCAPED = re.compile(r"^'(?=[=+\-@\t\r\n])")
# Control characters that the XLSX format cannot hold (tab, LF and CR can).
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def escape_cell(text: str) -> str:
    """Prefix a cell that a spreadsheet would run as a formula with ``'``."""
    return "'" + text if _FORMULA_START.match(text) else text


def is_report(frame: pd.DataFrame) -> bool:
    """True when ``frame`` looks like a report this program wrote (it has all result columns)."""
    return all(c in frame.columns for c in RESULT_COLUMNS)


def strip_report_columns(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[int, int]]:
    """Turn a report read back as input into plain input.

    Returns the frame without the result columns (escaping undone), and the ``apptoto_id`` of each
    row that has one (the row then updates that event). A frame that is not a report comes back
    unchanged with no ids.
    """
    if not is_report(frame):
        return frame, {}
    # Lines for events that were not rows of the file (cancelled ones) are not input.
    frame = frame[frame["row"].fillna("").astype("string").str.strip() != ""]
    ids: dict[int, int] = {}
    for row, value in frame["apptoto_id"].items():
        text = "" if pd.isna(value) else str(value).strip()
        if text.isdigit():
            ids[int(str(row))] = int(text)
    original = frame.drop(columns=list(RESULT_COLUMNS))
    unescaped = original.apply(lambda col: col.str.replace(_ESCAPED, "", regex=True))
    return unescaped, ids


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
    return table


@contextlib.contextmanager
def _atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path``.

    The temporary file is named ``.<name>.<pid>.<random>.tmp``: a process killed mid-write leaves
    it behind, and the next successful write of ``path`` removes it once that process is gone.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _remove_crashed_writes(path)


def _remove_crashed_writes(path: Path) -> None:
    """Delete the half-written temporary files of ``path`` whose writing process has died."""
    if os.name != "posix":  # no safe way to ask whether a process lives
        return
    own = re.compile(rf"\.{re.escape(path.name)}\.(\d+)\.[^.]+\.tmp")
    try:
        names = [entry.name for entry in os.scandir(path.parent)]
    except OSError:
        return  # tidying is a courtesy: never fail a report that was written
    for name in names:
        found = own.fullmatch(name)
        if found is None or int(found.group(1)) == os.getpid() or _alive(int(found.group(1))):
            continue
        with contextlib.suppress(OSError):
            (path.parent / name).unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; the old file stays whole on failure."""
    target = Path(path)
    try:
        with _atomic_path(target) as tmp:
            tmp.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"cannot write {target}: {exc.strerror or exc}") from exc
    return target


def write_report(path: str | Path, source: pd.DataFrame, results: Sequence[RowResult]) -> Path:
    """Write the report atomically as CSV, or XLSX when ``path`` ends in ``.xlsx``.

    Raises ReportError (the previous report, if any, is left as it was) when it cannot be written.
    """
    target = Path(path)
    table = report_frame(source, results)
    try:
        with _atomic_path(target) as tmp:
            if target.suffix.lower() == ".xlsx":
                _write_xlsx(tmp, table)
            else:
                escaped = table.apply(lambda col: col.map(escape_cell))
                escaped.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    except OSError as exc:
        raise ReportError(f"cannot write the report {target}: {exc.strerror or exc}") from exc
    return target


def _write_xlsx(path: Path, table: pd.DataFrame) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Report")
    bold = Font(bold=True)
    header = []
    for name in table.columns:
        cell = WriteOnlyCell(sheet, value=str(name))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for values in table.itertuples(index=False, name=None):
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=_XLSX_ILLEGAL.sub("\ufffd", value))
            cell.data_type = "s"  # text, never a formula, whatever the first character
            cells.append(cell)
        sheet.append(cells)
    workbook.save(path)
