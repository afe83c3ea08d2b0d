"""The report as a workbook people open in Excel: typed where Excel shows the same, text elsewhere.

The header row is bold and frozen, with a filter on every column, and each column is as wide as
its longest cell (within limits). A column whose every cell is a plain number (no leading zero, at
most 9 digits, or 5 and 4 decimals) becomes numbers, a column of ISO dates, date-times or 24-hour
times becomes dates or times shown in that same form, so sorting and filtering work and nothing
looks different. Everything else is text, and so is any column whose name says it holds ids,
codes or phone numbers (``Patient ID``, ``ZIP``, ``apptoto_id``): ``000101`` stays ``000101`` and
a long number never turns into ``5.41555E+09``. Read back as input, every cell gives the text it
was written from (``load/xlsx_reader.py`` shows numbers, dates and times the same way).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

# Control characters that the XLSX format cannot hold (tab, LF and CR can).
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

# Words in a column name that mark ids, codes and numbers dialled or posted: always text.
_ID_WORDS = frozenset(
    "id ids # no nr num number code codes phone phones mobile cell tel telephone fax zip "
    "postcode postal mrn account acct ssn npi pin ref reference".split()
)
_WORD = re.compile(r"[a-z0-9]+|#")

MIN_WIDTH = 6  # characters; a column is never narrower (the filter button needs room)
MAX_WIDTH = 60  # characters; longer cells wrap in Excel's formula bar, not across the screen


class Kind(enum.Enum):
    """How the cells of one column are written."""

    TEXT = (r"", "@")
    # Whole numbers up to 9 digits, decimals up to 5 + 4 digits: all shown as is in General.
    NUMBER = (r"0|-?[1-9][0-9]{0,8}|-?(?:0|[1-9][0-9]{0,4})\.[0-9]{0,3}[1-9]", "General")
    DATE = (r"[12][0-9]{3}-[01][0-9]-[0-3][0-9]", "yyyy-mm-dd")
    DATETIME = (r"[12][0-9]{3}-[01][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9](?::[0-5][0-9])?", "")
    TIME = (r"[0-2][0-9]:[0-5][0-9](?::[0-5][0-9])?", "")

    @property
    def pattern(self) -> str:
        return self.value[0]

    def number_format(self, text: str) -> str:
        """Excel's format that shows ``text``'s value as ``text`` (seconds only if it has them)."""
        if self is Kind.DATETIME:
            return "yyyy-mm-dd hh:mm:ss" if text.count(":") == 2 else "yyyy-mm-dd hh:mm"
        if self is Kind.TIME:
            return "hh:mm:ss" if text.count(":") == 2 else "hh:mm"
        return str(self.value[1])


_TYPED = [kind for kind in Kind if kind is not Kind.TEXT]
_PARSE: dict[Kind, Callable[[str], Any]] = {
    Kind.NUMBER: lambda text: float(text) if "." in text else int(text),
    Kind.DATE: dt.date.fromisoformat,
    Kind.DATETIME: dt.datetime.fromisoformat,
    Kind.TIME: dt.time.fromisoformat,
}


def names_ids(column: str) -> bool:
    """True when a column's name says it holds ids, codes or phone numbers (kept as text)."""
    return any(word in _ID_WORDS for word in _WORD.findall(column.lower()))


@dataclass
class _Column:
    """What the cells of one column seen so far allow: the kinds they all have, their length."""

    name: str
    kinds: list[Kind]  # the typed kinds every non-blank cell so far has (none for id columns)
    filled: bool = False
    longest: int = 0

    def see(self, cells: pd.Series) -> None:
        if len(cells):
            self.longest = max(self.longest, int(cells.str.len().max()))
        filled = cells[cells != ""]
        if not filled.empty:
            self.filled = True
            self.kinds = [k for k in self.kinds if bool(filled.str.fullmatch(k.pattern).all())]

    @property
    def kind(self) -> Kind:
        """The first kind every non-blank cell has, else TEXT (and TEXT for id columns)."""
        return self.kinds[0] if self.filled and self.kinds else Kind.TEXT

    @property
    def width(self) -> float:
        """Characters wide enough for the header (and its filter button) and the longest cell."""
        wanted = max(len(self.name) + 3, self.longest + 1)
        return float(max(MIN_WIDTH, min(MAX_WIDTH, wanted)))


def _surveyed(columns: list[str], parts: Iterable[pd.DataFrame]) -> tuple[list[_Column], int]:
    """Each column's kind and width over every part, and the number of rows."""
    found = [_Column(name, [] if names_ids(name) else list(_TYPED)) for name in columns]
    rows = 0
    for part in parts:
        rows += len(part)
        for i, column in enumerate(found):
            column.see(part.iloc[:, i])
    return found, rows


def _typed(kind: Kind, text: str) -> Any:
    """The value Excel stores for ``text``, or None when it is not one (``2026-02-30``)."""
    try:
        value = _PARSE[kind](text)
    except ValueError:
        return None
    # Excel's calendar starts in 1900 and counts a 29 February 1900 that never was: stay after.
    if isinstance(value, dt.date) and value.year < 1901:
        return None
    return value


def write_xlsx(path: Path, table: pd.DataFrame) -> None:
    """Write ``table`` (text cells, ``""`` for blank) as one sheet named ``Report``."""
    write_xlsx_parts(path, [str(c) for c in table.columns], lambda: [table])


def write_xlsx_parts(
    path: Path, columns: list[str], parts: Callable[[], Iterable[pd.DataFrame]]
) -> None:
    """Write the table whose rows ``parts()`` gives, part by part, as one sheet named ``Report``.

    ``parts`` is called twice: the kinds and widths of the columns need every cell before the
    first row is written. XlsxWriter in constant-memory mode: rows go to disk as they are
    written, and no text is ever read as a number, a formula or a link.
    """
    import xlsxwriter

    surveyed, rows = _surveyed(columns, parts())
    kinds = [column.kind for column in surveyed]
    options = {
        "constant_memory": True,
        "strings_to_numbers": False,
        "strings_to_formulas": False,
        "strings_to_urls": False,
    }
    with xlsxwriter.Workbook(str(path), options) as workbook:
        sheet = workbook.add_worksheet("Report")
        # What staff type in a text cell stays text too: 000105 keeps its zeros.
        text = workbook.add_format({"num_format": "@"})
        formats: dict[str, Any] = {}
        for i, (column, kind) in enumerate(zip(surveyed, kinds, strict=True)):
            sheet.set_column(i, i, column.width, text if kind is Kind.TEXT else None)
        sheet.write_row(0, 0, columns, workbook.add_format({"bold": True}))
        sheet.freeze_panes(1, 0)
        if columns:
            sheet.autofilter(0, 0, rows, len(columns) - 1)
        r = 0
        for part in parts():
            for values in part.itertuples(index=False, name=None):
                r += 1
                _write_row(sheet, r, kinds, values, text, formats, workbook)


def _write_row(
    sheet: Any,
    r: int,
    kinds: list[Kind],
    values: tuple[str, ...],
    text: Any,
    formats: dict[str, Any],
    workbook: Any,
) -> None:
    """One row of the report: each cell typed as its column's kind says, or as text."""
    for c, (kind, cell) in enumerate(zip(kinds, values, strict=True)):
        if cell == "":
            continue
        value = None if kind is Kind.TEXT else _typed(kind, cell)
        if value is None:
            sheet.write_string(r, c, _ILLEGAL.sub("\ufffd", cell), text)
        elif kind is Kind.NUMBER:
            sheet.write_number(r, c, value)
        else:
            code = kind.number_format(cell)
            if code not in formats:
                formats[code] = workbook.add_format({"num_format": code})
            sheet.write_datetime(r, c, value, formats[code])
