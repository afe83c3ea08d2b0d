"""Where the table is in a sheet kept by hand: its header row, merged cells, the rows that are not
appointments.

Offices put a title and a blank row above the header, merge the date over each provider's block,
and add a totals row and notes below the table. Here, on rows of text cells (None = blank):

* :func:`find_header`: the header is the first row (of the first :data:`HEADER_SEARCH_ROWS`)
  with at least two cells and at least half as many as the widest row, all of them words (no
  numbers, dates or times). A title (one cell), a "printed on" line or a blank
  row above it is skipped. A table whose first row has text and fits is read from it, as before.
* :func:`fill_merged`: a cell merged over several rows holds its value on every row it spans
  (in its first column: a title merged across columns stays one cell).
* :func:`rows_set_aside`: rows below the header that are not appointments, with the reason: a
  totals row, the header repeated, a row with one cell (a heading or a note), and the sparse rows
  of words only after the table's last full row (notes below it; a sparse row with a date, time
  or number may be an appointment missing cells, so it is checked like the others). They are
  never sent; the report lists them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from importer.errors import LoadError

HEADER_SEARCH_ROWS = 30  # a header further down than this is named in the mapping (header_row)
Cells = Sequence[str | None]

# A cell that is data, not a column name: numbers, dates, times, amounts.
_DATA_LIKE = re.compile(r"^[\s\d.,:/\-+()$€£%]*\d[\s\d.,:/\-+()$€£%apmAPM]*$")
_TOTALS = re.compile(
    r"^\s*(grand\s+|sub-?\s*)?totals?\b|^\s*(count|sum|summary)\s*[:\s]*$|^\s*total\s*:",
    re.IGNORECASE,
)


def _filled(row: Cells) -> list[str]:
    return [cell for cell in row if cell is not None]


def _blank(value: object) -> bool:
    """A blank cell: None (text cells) or empty/all-space text (calamine's ``""``)."""
    return value is None or (isinstance(value, str) and not value.strip())


HEADING_REASON = "not an appointment: a heading or a note, only one cell filled"
TITLE_LENGTH = 500  # characters of a title kept: a title is a line or two


def title_of(rows: Sequence[Cells]) -> str:
    """The text above a table's header (its title: "Riverside Family Dental - Monday, December
    14, 2026"): the cells with text, in reading order, joined by spaces; "" when there is none."""
    text = " ".join(" ".join(str(c).split()) for row in rows for c in _filled(row) if not _blank(c))
    return text[:TITLE_LENGTH]


def _is_header_like(row: Cells, width: int) -> bool:
    cells = _filled(row)
    if len(cells) < 2 or 2 * len(cells) < width:
        return False
    return not any(_DATA_LIKE.match(cell) or _TOTALS.match(cell) for cell in cells)


def find_header(rows: Sequence[Cells]) -> int | None:
    """The index in ``rows`` of the header row; None when no row has text."""
    first = next((i for i, row in enumerate(rows) if _filled(row)), None)
    if first is None:
        return None
    searched = rows[first : first + HEADER_SEARCH_ROWS]
    width = max(len(_filled(row)) for row in rows[first : first + 2 * HEADER_SEARCH_ROWS])
    return next(
        (
            first + i
            for i, row in enumerate(searched)
            if _is_header_like(row, width) and _rows_below(rows, first + i)
        ),
        first,
    )


def _rows_below(rows: Sequence[Cells], at: int) -> bool:
    """Some row with text follows row ``at`` (a header has a table under it)."""
    return any(_filled(row) for row in rows[at + 1 : at + 1 + HEADER_SEARCH_ROWS])


def header_index(
    header_row: int, first_row: int, with_text: Sequence[bool] | np.ndarray, *, file: str
) -> int:
    """The index (in rows starting at sheet row ``first_row``) of the header row a mapping names.

    Raises LoadError when that row is past the end of the sheet or blank.
    """
    at = header_row - first_row
    last = first_row + len(with_text) - 1
    if not 0 <= at < len(with_text):
        raise LoadError(
            f"the header should be on row {header_row}, but the table is on rows {first_row} to "
            f"{last}; choose the row that holds the column names",
            file=file,
        )
    if not with_text[at]:
        raise LoadError(
            f"the header should be on row {header_row}, but that row is blank; choose the row "
            "that holds the column names",
            file=file,
        )
    return at


def table_rows(rows: Sequence[Cells]) -> int:
    """How many rows with two or more cells lie under a header-like row (0 without one)."""
    at = find_header(rows)
    if at is None:
        return 0
    width = max(len(_filled(row)) for row in rows)
    if not _is_header_like(rows[at], width):
        return 0
    return sum(1 for row in rows[at + 1 :] if len(_filled(row)) >= 2)


def fill_merged(
    rows: list[list[Any]],
    ranges: Iterable[tuple[tuple[int, int], tuple[int, int]]],
    *,
    first_row: int,
    first_column: int,
) -> int:
    """Copy each merged cell's value down the rows it spans; return how many cells were filled.

    ``ranges`` are 0-based sheet coordinates ((top, left), (bottom, right)); ``rows[i][j]`` is the
    cell at row ``first_row + i``, column ``first_column + j`` (both 0-based). A row blank apart
    from the merge stays blank, so a merge running over a spacer row does not make it a row.
    """
    spans = list(ranges)
    if not spans:  # most sheets: no pass over every cell to find the blank rows
        return 0
    blank = [all(map(_blank, row)) for row in rows]
    filled = 0
    for (top, left), (bottom, _right) in spans:
        i, j = top - first_row, left - first_column
        if not (0 <= i < len(rows) and 0 <= j < len(rows[i])) or _blank(rows[i][j]):
            continue
        for below in range(i + 1, min(bottom - first_row + 1, len(rows))):
            if not blank[below] and _blank(rows[below][j]):
                rows[below][j] = rows[i][j]
                filled += 1
    return filled


def _shown(cells: Sequence[str]) -> str:
    return ", ".join(repr(cell) for cell in cells[:3]) + (", ..." if len(cells) > 3 else "")


def rows_set_aside(
    frame: pd.DataFrame,
    *,
    final: bool = True,
    typical: float | None = None,
    present: np.ndarray | None = None,
) -> dict[int, str]:
    """Rows of ``frame`` (text cells, index = row number) that are not appointments -> why.

    ``final`` False: the table goes on below ``frame`` (a part of a big file), so no row of it
    is "after the table's last full row"; ``typical``: the cells of a full row, when the whole
    table's count is known (default: ``frame``'s own, :func:`typical_cells`); ``present``: True
    where a cell holds text, when the caller knows it (default: asked of ``frame``, ~7 ms per
    25,000 rows).

    Vectorised over the frame: the totals words are looked for in the first two columns of every
    row, and in every cell of the rows with fewer cells than usual (a totals row rarely fills
    them all).
    """
    if frame.empty:
        return {}
    present = frame.notna().to_numpy() if present is None else present
    counts = pd.Series(present.sum(axis=1), index=frame.index)
    typical = typical_cells(counts) if typical is None else typical
    said_total = np.zeros(len(frame), dtype=bool)
    sparse = (counts < typical).to_numpy()
    first = _Distinct(frame.iloc[:, 0].to_numpy(dtype=object))  # for both tests below, if any
    first_folded = _folded(frame.iloc[:, 0], present[:, 0])
    for j, column in enumerate(frame.columns):
        # Only the rows the test below reads: all in the first two columns, sparse ones after.
        looked_at = present[:, j] if j < 2 else present[:, j] & sparse
        folded = first_folded if j == 0 else _folded(frame.iloc[:, j], looked_at)
        if not any(word in folded for word in _TOTALS_WORDS):
            continue
        if j == 0:
            said_total |= first.each(_said_total)
            continue
        at = np.ones(len(frame), dtype=bool) if j < 2 else sparse
        said_total[at] |= _Distinct(frame[column].to_numpy(dtype=object)[at]).each(_said_total)
    totals = pd.Series(said_total, index=frame.index)
    repeated = _header_again(frame, counts, first, first_folded)
    single = (counts == 1) & (typical >= 3)
    full = (counts * 2 >= typical) & ~totals & ~repeated & ~single
    after_last_full = frame.index > (frame.index[full.to_numpy()].max() if full.any() else -1)
    after_last_full &= final
    reasons: dict[int, str] = {}
    for row in frame.index[(totals | repeated | single | after_last_full) & (counts > 0)]:
        shown = [c for c in frame.loc[row] if isinstance(c, str)]
        if totals[row]:
            reasons[int(row)] = f"not an appointment: a totals row ({_shown(shown)})"
        elif repeated[row]:
            reasons[int(row)] = "not an appointment: the header row again"
        elif single[row]:
            reasons[int(row)] = f"{HEADING_REASON} ({_shown(shown)})"
        elif not any(_DATA_LIKE.match(cell) for cell in shown):
            # A row with a date, a time or a number may be an appointment missing cells: it
            # is checked (and refused, naming what is missing), never passed over.
            reasons[int(row)] = f"not an appointment: a note below the table ({_shown(shown)})"
    return reasons


def headings_of(frame: pd.DataFrame, set_aside: dict[int, str]) -> dict[int, str]:
    """The rows of ``frame`` set aside as a heading (one cell filled: "Dr. Rivera",
    "CANCELLED") -> the heading's text, for the rows below it."""
    found = {}
    for row, why in set_aside.items():
        if why.startswith(HEADING_REASON):
            cells = [c for c in frame.loc[row] if isinstance(c, str) and c.strip()]
            found[row] = " ".join(cells[0].split()) if cells else ""
    return found


def headings_above(rows: pd.Index, headings: dict[int, str]) -> pd.Series:
    """For each of ``rows``, the text of the last heading row above it ("" when none)."""
    at = sorted(headings)
    texts = np.array(["", *(headings[row] for row in at)], dtype=object)
    found = np.searchsorted(np.array(at, dtype=np.int64), rows.to_numpy(dtype=np.int64))
    return pd.Series(texts[found], index=rows, dtype="str")


# A heading over called-off visits: the word alone, or with "appointments" ("Cancelled
# appointments", "No-shows", "Broken appointments"); not "Cancellation list" (patients waiting
# for an earlier slot).
_CANCELLED_HEADING = re.compile(
    r"(?i)\W*(?:cancell?ed|cancellations?|cancels|no[\s\-]?shows?|did not attend|dna"
    r"|rescheduled|broken|missed)(?:\s+(?:appointments?|appts?|visits?|patients?))?\W*"
)


def calls_off(heading: str) -> bool:
    """True for a heading over called-off visits ("CANCELLED", "No shows")."""
    return _CANCELLED_HEADING.fullmatch(heading) is not None


def typical_cells(counts: pd.Series) -> float:
    """The cells of a full row, from the cells filled per row (``counts``): the 90th percentile
    of the rows with any (0.0 when none has)."""
    filled = counts[counts > 0]
    return float(filled.quantile(0.9)) if len(filled) else 0.0


# Every text _TOTALS matches holds one of these once casefolded (re's IGNORECASE pairs "ſ" with
# "s", and casefold() does too).
_TOTALS_WORDS = ("total", "count", "sum")


def _folded(cells: pd.Series, rows: np.ndarray) -> str:
    """The column's cells in ``rows`` (where it has one) joined and casefolded: searched once for
    a word instead of a test per distinct cell. Most columns (ids, names, emails, phones) hold
    no totals word and the first column rarely the header's name (~60 ms per 50,000 rows)."""
    return "\n".join(cells.to_numpy(dtype=object)[rows]).casefold()


def _said_total(texts: list[str]) -> Iterable[bool]:
    return (match is not None for match in map(_TOTALS.match, texts))


class _Distinct:
    """A column's cells factorized once, when first tested (the first column rarely is: ~3 ms
    per 25,000 ids saved): a test runs once per distinct text (blank: False). A column of
    200,000 cells holds a few thousand distinct ones at most, ids aside."""

    def __init__(self, cells: np.ndarray) -> None:
        self.cells = cells
        self._factorized: tuple[np.ndarray, list[str]] | None = None

    def each(self, test: Callable[[list[str]], Iterable[bool]]) -> np.ndarray:
        """``test`` (of every distinct text, in order) spread back over the cells."""
        if self._factorized is None:
            codes, uniques = pd.factorize(self.cells)
            self._factorized = codes, [str(u) for u in uniques]
        codes, texts = self._factorized
        if not texts:
            return np.zeros(len(codes), dtype=bool)
        said = np.fromiter(test(texts), bool, len(texts))
        return np.where(codes >= 0, said[codes], False)


def _header_again(
    frame: pd.DataFrame, counts: pd.Series, first: _Distinct, first_folded: str
) -> pd.Series:
    """Rows that repeat the header (a block pasted with its header): True where they do.

    ``first`` is the frame's first column, factorized; ``first_folded`` its text (:func:`_folded`).
    """
    names = [str(name).strip().casefold() for name in frame.columns]
    if names[0] not in first_folded:  # a cell equal to the name, casefolded, would be in it
        return pd.Series(False, index=frame.index)
    candidates = frame.index[
        first.each(lambda texts: (t.strip().casefold() == names[0] for t in texts))
    ]
    again = pd.Series(False, index=frame.index)
    for row in candidates:
        cells = list(frame.loc[row])
        same = sum(
            isinstance(c, str) and c.strip().casefold() == n
            for c, n in zip(cells, names, strict=True)
        )
        again[row] = same == counts[row] and 2 * same >= len(names)
    return again
