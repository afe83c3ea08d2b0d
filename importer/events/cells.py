"""Rendering mapping templates over a whole frame, and collecting the problems found in cells.

Every cell is text. A cell is stripped of surrounding spaces before it is used, a blank cell
(NA or only spaces) renders as ``""``, and the rendered text is stripped once more, so
``"{First Name} {Last Name}"`` with both cells blank is ``""``, not ``" "``. Rendering is pandas
string concatenation: no Python loop over rows. Problems are collected as masks over the frame
and become :class:`RowIssue` values only for the rows they hit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import repeat

import numpy as np
import pandas as pd

from importer.mapping import SHEET_VALUES, ColumnRef, Template
from importer.outcomes import RowIssue
from importer.values import apply_filter, is_empty, not_empty

_SPACES = " \u00a0"  # plain and non-breaking spaces: what surrounds a cell by accident


# Mapping keys in the words staff use, for issues about a value no single column holds.
FIELD_WORDS = {
    "external_id": "Appointment id",
    "calendar": "Calendar",
    "calendar_id": "Calendar",
    "title": "Title",
    "duration_minutes": "Duration",
    "time_zone": "Time zone",
    "all_day": "All day",
    "show_as": "Show as",
    "start": "Start",
    "end": "End",
}


def field_words(key: str) -> str:
    """``"duration_minutes"`` -> ``"Duration"``, ``"participants[1].phone"`` -> ``"Phone"``."""
    last = re.sub(r"^participants\[\d+\]\.?", "", key) or "participant"
    return FIELD_WORDS.get(last, last.replace("_", " ").capitalize())


def column_name(template: Template, key: str) -> str:
    """The column to name in an issue: the template's (first) column, else the field in words."""
    name = template.single_column or next(iter(template.columns), "") or field_words(key)
    return SHEET_VALUES.get(name, name)


class TemplateRenderer:
    """Renders templates over one frame, stripping each column and rendering each template once.

    Mappings reuse columns and templates (``start.date`` and ``end.date`` are often both
    ``"{Date}"``), so results are cached by column name and by template source.
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.index = frame.index
        self._cells: dict[str, pd.Series] = {}
        self._filtered: dict[ColumnRef, pd.Series] = {}
        self._rendered: dict[str, pd.Series] = {}

    def forget(self) -> None:
        """Drop the cached columns and renderings (Series already handed out stay valid).

        At 1,000,000 rows each cached column holds 8 MB of pointers; the map stage drops them
        before it builds the payload dicts, its moment of peak memory.
        """
        self._cells.clear()
        self._filtered.clear()
        self._rendered.clear()

    def cells(self, column: str) -> pd.Series:
        """The column's cells as stripped text; blank cells are ``""`` (never NA)."""
        cached = self._cells.get(column)
        if cached is None:
            # A plain loop over Python strings: pandas' .str.strip() costs ~5x more per cell.
            written = self.frame[column].astype("str").to_numpy(dtype=object, na_value="")
            # Only spaces are trimmed (staff add them by accident); a tab or line break that
            # starts a cell is content and reaches Apptoto as written. Whitespace-only is blank.
            stripped = [
                kept if (kept := text.strip(_SPACES)) and not kept.isspace() else ""
                for text in written
            ]
            cached = pd.Series(stripped, index=self.index, dtype="str")
            self._cells[column] = cached
        return cached

    def ref_cells(self, ref: ColumnRef) -> pd.Series:
        """A placeholder's text on every row: its column's cells, through its filter."""
        if ref.filter is None:
            return self.cells(ref.column)
        cached = self._filtered.get(ref)
        if cached is None:
            cached = apply_filter(self.cells(ref.column), ref.filter)
            self._filtered[ref] = cached
        return cached

    def render(self, template: Template) -> pd.Series:
        """The template's text on every row (stripped; ``""`` where it renders to nothing)."""
        cached = self._rendered.get(template.source)
        if cached is not None:
            return cached
        first = template.parts[0] if len(template.parts) == 1 else None
        if isinstance(first, ColumnRef):
            rendered = self.ref_cells(first)
        elif template.is_literal:
            text = template.literal_text()
            rendered = pd.Series(
                text.strip(_SPACES) if text.strip() else "", index=self.index, dtype="str"
            )
        else:
            rendered = self._join_distinct(template)
        self._rendered[template.source] = rendered
        return rendered

    def _join_distinct(self, template: Template) -> pd.Series:
        """A template of several parts, joined once per distinct combination of its cells.

        Cells repeat (providers, services, first names), so this costs less than pandas string
        concatenation over every row, and the rows of one combination share one string: at
        1,000,000 rows that saves ~0.3 s and ~70 MB per template. Templates whose combinations
        are mostly distinct (``clinic-{Appointment ID}``) are concatenated row by row.
        """
        parts = template.parts
        refs = list(dict.fromkeys(p for p in parts if isinstance(p, ColumnRef)))
        codes = np.zeros(len(self.index), dtype=np.int64)
        for ref in refs:
            column_codes, distinct = pd.factorize(self.ref_cells(ref).to_numpy(dtype=object))
            # Factorized again after each column: the codes stay below the row count.
            codes, combinations = pd.factorize(codes * len(distinct) + column_codes)
            if len(combinations) > len(codes) // 2:
                return self._concatenate(parts)
        count = int(codes.max()) + 1 if len(codes) else 0
        first = np.empty(count, dtype=np.int64)  # a row holding each combination
        first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
        cells = {r: self.ref_cells(r).to_numpy(dtype=object)[first].tolist() for r in refs}
        texts = [
            "".join(cells[p][i] if isinstance(p, ColumnRef) else p for p in parts)
            for i in range(count)
        ]
        joined = np.array([text.strip(_SPACES) for text in texts], dtype=object)
        return pd.Series(joined[codes], index=self.index, dtype="str")

    def _concatenate(self, parts: Sequence[str | ColumnRef]) -> pd.Series:
        """The parts joined row by row, then stripped of spaces.

        ``map`` over row tuples: pandas' string sums and ``.str.strip`` took ~2.5x longer.
        """
        rows = len(self.index)
        columns = [
            self.ref_cells(part).to_numpy(dtype=object)
            if isinstance(part, ColumnRef)
            else repeat(part, rows)
            for part in parts
        ]
        joined = map("".join, zip(*columns, strict=True))
        return pd.Series(
            list(map(str.strip, joined, repeat(_SPACES))), index=self.index, dtype="str"
        )

    def is_blank(self, template: Template) -> pd.Series:
        """True where the template carries nothing from the row.

        That is: it renders to ``""``, or every column it reads is blank, so ``" with "`` from
        ``"{Service} with {Provider}"`` counts as blank. A literal template is never blank unless
        its text is empty.
        """
        blank = is_empty(self.render(template))
        if template.columns:
            all_columns_blank = pd.Series(True, index=self.index)
            for column in template.columns:
                all_columns_blank &= is_empty(self.cells(column))
            blank |= all_columns_blank
        return blank

    def blank_column(self, template: Template) -> pd.Series:
        """Per row, the first column the template reads whose cell is blank (``""`` when none).

        An ``external_id`` like ``"clinic-{Appointment ID}"`` must not be sent as ``"clinic-"``.
        """
        first_blank = pd.Series("", index=self.index, dtype="str")
        for column in reversed(template.columns):
            first_blank = first_blank.mask(is_empty(self.cells(column)), column)
        return first_blank


class IssueCollector:
    """Every problem found in a frame, which rows have at least one, and the warnings.

    A problem makes its row invalid; a warning (``add(..., warning=True)``) is only carried to the
    report and the review page beside the row's outcome.
    """

    def __init__(self, index: pd.Index) -> None:
        self.index = index
        self._found: list[RowIssue] = []
        self._warnings: list[RowIssue] = []
        self._invalid = np.zeros(len(index), dtype=bool)

    def add(
        self,
        where: pd.Series | np.ndarray,
        column: str | pd.Series,
        value: str | pd.Series,
        reason: str | pd.Series,
        *,
        warning: bool = False,
    ) -> None:
        """Record one issue per row where ``where`` is true (a warning: the rows stay valid).

        ``column``, ``value`` and ``reason`` are the same for every row, or Series indexed by
        spreadsheet row (covering at least the rows in ``where``).
        """
        if warning:
            self._record(self._warnings, where, column, value, reason)
        else:
            self._invalid |= self._record(self._found, where, column, value, reason)

    def _record(
        self,
        found: list[RowIssue],
        where: pd.Series | np.ndarray,
        column: str | pd.Series,
        value: str | pd.Series,
        reason: str | pd.Series,
    ) -> np.ndarray:
        """Append one RowIssue per row where ``where`` is true to ``found``; the mask as bools."""
        mask = np.asarray(where, dtype=bool)
        positions = np.flatnonzero(mask)
        if len(positions) == 0:
            return mask
        rows = self.index[positions]

        def per_row(part: str | pd.Series) -> list[object]:
            if not isinstance(part, pd.Series):
                return [part] * len(rows)
            # A Series over the frame's own index (most are) is read by position: a reindex
            # by row labels costs ~0.5 ms a call, dozens of calls a part.
            if part.index is self.index:
                picked = part.to_numpy(dtype=object)[positions]
            else:
                picked = part.reindex(rows).to_numpy(dtype=object, copy=True)
            picked[pd.isna(picked)] = ""
            return picked.tolist()

        for row, col, val, why in zip(
            rows.tolist(), per_row(column), per_row(value), per_row(reason), strict=True
        ):
            found.append(RowIssue(row=int(row), column=str(col), value=str(val), reason=str(why)))
        return mask

    def invalid_rows(self) -> np.ndarray:
        """Per row (in frame order), True when the row has at least one issue."""
        return self._invalid.copy()

    def sorted(self) -> list[RowIssue]:
        """The issues by row; within a row, in the order they were found.

        An issue found twice (``start.date`` and ``end.date`` both read ``{Date}``) is kept once.
        """
        return sorted(dict.fromkeys(self._found), key=lambda issue: issue.row)

    def warnings(self) -> list[RowIssue]:
        """The warnings by row, each once; rows that are invalid keep theirs too."""
        return sorted(dict.fromkeys(self._warnings), key=lambda issue: issue.row)


WHOLE_NUMBER = r"\d{1,18}(?:\.0+)?"  # spreadsheets may show whole numbers as "12.0"


def whole_numbers(
    cells: TemplateRenderer,
    template: Template,
    key: str,
    issues: IssueCollector,
    *,
    required: bool,
) -> pd.Series:
    """Positive whole numbers (ids) as Python ints; ``None`` where the cell is blank or bad."""
    text = cells.render(template)
    good = text.str.fullmatch(WHOLE_NUMBER)
    # Straight from text to integers: a float on the way would round long ids.
    numbers = text.where(good).str.replace(r"\.0+$", "", regex=True).astype("Int64")
    good &= (numbers > 0).fillna(False)
    issues.add(
        ~good & not_empty(text),
        column_name(template, key),
        text,
        "is not a number: it must be a whole number above 0, like 1234",
    )
    if required:
        issues.add(is_empty(text), column_name(template, key), "", "is blank: fill in the number")
    return numbers.astype(object).where(good, None)
