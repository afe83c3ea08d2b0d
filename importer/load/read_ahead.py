"""Parse a workbook's sheet ahead, while the rest of the program loads.

calamine parses a sheet (the longest step of reading a workbook, ~1.3 s per 100,000 rows) without
holding Python's lock. The command line starts that parse in a thread as soon as it knows the
file, before it imports pandas and the checks (~1 s); :func:`importer.load.xlsx_reader.read_sheet`
then takes the parsed sheet instead of parsing it again. Only a parse ``read_sheet`` would make
is made ahead, after the same safety checks:

- a zip workbook (.xlsx, .xlsm, .ods...) whose worksheets its workbook part lists;
- the sheet named, or the workbook's only worksheet when none is named (of several, the one
  holding the table is chosen later, by looking at them);
- a sheet whose rows, by the safety check's count, are within the run's cap.

Anything else (a CSV file, a refused or unreadable workbook, a file changed since) is read by
``read_sheet`` as before, with its own messages: a read-ahead that fails leaves no trace. This
module imports neither pandas nor the checks, so that importing it costs nothing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import python_calamine as calamine

from importer.load.xlsx_parts import Worksheet, chosen_worksheet
from importer.load.xlsx_safety import FileIdentity, FileKind, check_workbook_once, file_identity
from importer.load.xlsx_safety import file_kind as kind_of


@dataclass
class _Ahead:
    """One read-ahead: filled in by its thread, then ``done``."""

    path: Path  # resolved
    done: threading.Event = field(default_factory=threading.Event)
    identity: FileIdentity | None = None  # the file as it was when the thread began
    sheet: str | None = None
    cells: calamine.CalamineSheet | None = None


_LOCK = threading.Lock()
_ahead: _Ahead | None = None  # at most one: a command reads one file


def read_ahead(path: Path, sheet: str | None, *, max_rows: int) -> None:
    """Start parsing ``sheet`` of the workbook at ``path`` (None: its only worksheet) in a
    thread, and return: the safety checks are made first, here. Made alone they take ~0.2 s per
    100,000 rows; made in the thread, they took twice that, sharing Python's lock with the
    imports the parse overlaps, and the parse began that much later. A read-ahead not taken by
    :func:`taken_sheet` before another starts is dropped."""
    global _ahead
    ahead = _Ahead(path.resolve())
    with _LOCK:
        _ahead = ahead
    chosen = _checked(ahead, sheet, max_rows)
    if chosen is None:
        ahead.done.set()
        return
    thread = threading.Thread(target=_parse, args=(ahead, chosen), name="read-ahead", daemon=True)
    thread.start()


def parsing() -> bool:
    """A read-ahead is under way: the command's own thread would wait for it (and may use the
    time, :mod:`importer.warm_up`)."""
    ahead = _ahead
    return ahead is not None and not ahead.done.is_set()


def taken_sheet(path: Path, sheet: str) -> calamine.CalamineSheet | None:
    """The read-ahead's parse of ``sheet`` of the file at ``path``, once it is done, if it is of
    that sheet of the file as it is now; else None. Either way the read-ahead is let go (its
    memory with it): it is taken once."""
    global _ahead
    with _LOCK:
        ahead, _ahead = _ahead, None
    if ahead is None or ahead.path != path.resolve():
        return None
    ahead.done.wait()
    same = ahead.identity is not None and ahead.identity == file_identity(path)
    return ahead.cells if same and ahead.sheet == sheet else None


def sheet_to_read(
    path: Path, wanted: str | None, *, file: str
) -> tuple[Worksheet, int | None] | None:
    """The worksheet of a zip workbook read for ``wanted`` (None: its only visible one) and its
    last row number as the safety check counts it (None: not counted), the check made first;
    None for another kind of file, or a sheet the workbook's list does not settle. Raises
    OSError, LoadError (an unsafe file) or what :func:`listed_worksheets` raises."""
    if kind_of(path) is not FileKind.ZIP:
        return None
    last_rows = check_workbook_once(path, file=file).last_rows
    chosen = chosen_worksheet(path, wanted)
    return None if chosen is None else (chosen, last_rows.get(chosen.part))


def _checked(ahead: _Ahead, wanted: str | None, max_rows: int) -> Worksheet | None:
    """The worksheet to parse ahead, the file checked; None when there is none to parse (see
    the module)."""
    try:
        ahead.identity = file_identity(ahead.path)
        if ahead.identity is None:
            return None
        found = sheet_to_read(ahead.path, wanted, file=str(ahead.path))
    except Exception:  # noqa: BLE001 - read_sheet reads the file again and says what is wrong
        return None
    if found is None:
        return None
    chosen, last_row = found
    return None if last_row is None or last_row - 1 > max_rows else chosen


def _parse(ahead: _Ahead, chosen: Worksheet) -> None:
    try:
        workbook = calamine.CalamineWorkbook.from_path(str(ahead.path))
        try:
            ahead.cells = workbook.get_sheet_by_name(chosen.name)
        finally:
            workbook.close()
        ahead.sheet = chosen.name
    except Exception:  # noqa: BLE001 - read_sheet reads the file again and says what is wrong
        ahead.cells = None
    finally:
        ahead.done.set()
