"""What the assistant reads of a sheet beyond its columns: the sheet's own values
(:data:`importer.mapping.SHEET_VALUES`) where no column holds what they give.

- The date of a day's sheet: a workbook with a sheet per day often has columns of times and
  patients only, the day written once, above the table ("Riverside Family Dental - Monday,
  December 14, 2026"), or in the sheet's name. The assistant offers that date as a
  column of its own, named by its placeholder's text (``@title|date``: the mapping reads
  ``{@title|date}``), holding the date on every row, so the same matching and format guessing
  that judge a column of dates judge it; beside it, ``@title`` holds the title, as the map stage
  has it (an id made of the date renders from it). It is proposed for the start date only when
  no column holds dates, and never as surely as a column: a person checks it.
- The heading above each row (``@heading``): a provider's name over their block is the
  calendar when no column names one and every heading names a provider; a day written over its
  rows ("Monday, December 14, 2026", a week kept on one sheet) is their date
  (``{@heading|date}``) when no column holds dates.
- Sheets named by their days ("Mon 12-14"): next week's are named anew, so ``sheets: all``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import pandas as pd

from importer.load import calls_off, headings_above
from importer.mapping import SHEET_VALUES
from importer.values.date_in_text import YEARLESS, date_in, date_in_reason

# Proposed for the rows' date: a title or a sheet's name says the day of a schedule. A file's
# name is not proposed: exports are often named by the day they were made (tonight's export of
# tomorrow's visits); a mapping may still read {@file|date}, written by a person who knows.
PROPOSED_DATES = ("@title", "@sheet")


def sheet_date_column(values: Mapping[str, str] | None) -> str | None:
    """The placeholder text (``@title|date``) of the first of the title and the sheet's name in
    ``values`` that holds one date; None when neither does."""
    for name in PROPOSED_DATES:
        text = (values or {}).get(name, "")
        if text and date_in(text):
            return f"{name}|date"
    return None


def file_date_note(values: Mapping[str, str] | None) -> str | None:
    """Where no column, title or sheet name gives the rows' date but the file's name holds one:
    how to read it, if it is the rows' day (see PROPOSED_DATES)."""
    name = (values or {}).get("@file", "")
    found = date_in(name) if name else ""
    if not found:
        return None
    return (
        f"no column holds dates; the file's name {name!r} holds {found}, which is not taken for "
        "the rows' day (an export is often named by the day it was made): if every row is on "
        'that day, write start: {date: "{@file|date}", time: ...} in the mapping'
    )


def with_sheet_date(frame: pd.DataFrame, values: Mapping[str, str] | None) -> pd.DataFrame:
    """``frame`` with the column of its sheet's date (see the module), when one is found."""
    column = sheet_date_column(values)
    if column is None or column in frame.columns:
        return frame
    name = column.removesuffix("|date")
    text = dict(values or {})[name]
    return frame.assign(
        **{
            name: pd.Series(text, index=frame.index, dtype="str"),  # what {@title|date} reads
            column: pd.Series(date_in(text), index=frame.index, dtype="str"),  # its date
        }
    )


def is_sheet_value(column: str) -> bool:
    """True for a column :func:`with_sheet_date` or :func:`with_headings` adds (not one of the
    sheet's own)."""
    return column.removesuffix("|date") in SHEET_VALUES


def sheet_date_reason(column: str, values: Mapping[str, str]) -> str:
    """Why the start's date is ``column``'s (a person checks it)."""
    name = column.removesuffix("|date")
    found = date_in(values[name])
    return (
        f"no column holds dates; {SHEET_VALUES[name].lower()} {values[name]!r} says {found}: "
        "every row of the sheet is on that day (each sheet read gives its own); check it"
    )


def shown_column(column: str) -> str:
    """A column as people read it: the sheet's values in words ("the date in Sheet title")."""
    if column.endswith("|date") and is_sheet_value(column):
        return f"the date in {SHEET_VALUES[column.removesuffix('|date')]}"
    return SHEET_VALUES.get(column, column)


def with_headings(frame: pd.DataFrame, headings: Mapping[int, str]) -> pd.DataFrame:
    """``frame`` with ``@heading``: each row's heading row above it ("Dr. Rivera" over a
    provider's block), when the sheet has such headings."""
    if not headings:
        return frame
    return frame.assign(**{"@heading": headings_above(frame.index, dict(headings))})


def _headings_over_rows(frame: pd.DataFrame) -> list[str]:
    """The headings over the rows sent (those under a heading that calls them off are not), in
    sheet order; none unless nearly every such row (90%) has a heading."""
    if "@heading" not in frame.columns:
        return []
    texts = frame["@heading"].fillna("").astype("str")
    texts = texts[[not calls_off(t) for t in texts]]
    if not len(texts) or (texts != "").mean() < 0.9:
        return []
    return list(dict.fromkeys(t for t in texts if t))


# A heading naming a provider: "Dr. Rivera", "Doctor Chen", "Ann Lee, NP", "J. Smith DDS".
_PROVIDER = re.compile(
    r"(?i)^(?:dr\.?|doctor|nurse)\s+\S|[\s,](?:md|dds|dmd|np|pa|pa-c|rn|lcsw|phd)\.?$"
)


def heading_calendar(frame: pd.DataFrame) -> str | None:
    """Why the calendar is each row's heading (a provider's name over their block), when
    nearly every row has one and every heading names a provider; None otherwise."""
    named = sorted(_headings_over_rows(frame))
    if not named or not all(_PROVIDER.search(text) for text in named):
        return None
    shown = ", ".join(repr(t) for t in named[:3]) + (" ..." if len(named) > 3 else "")
    return (
        f"no column names a calendar; the rows are in blocks under headings naming providers "
        f"({shown}): each row goes to the calendar of the heading above it; check it"
    )


def heading_calendars(frame: pd.DataFrame) -> tuple[str, ...]:
    """The calendars of a sheet kept in provider blocks: its headings over the rows, sorted.
    Listed in the mapping (``calendars:``), they make a row below any other heading invalid: a
    note inside the table ("Mrs. Lee will be late") would otherwise become a calendar."""
    return tuple(sorted(_headings_over_rows(frame)))


def heading_date(frame: pd.DataFrame) -> str | None:
    """Why each row's date is the one in the heading above it (a week kept on one sheet, each
    day's rows under "Monday, December 14, 2026"), when nearly every row sent has a heading and
    every such heading holds one date; None otherwise."""
    named = _headings_over_rows(frame)
    if not named or not all(date_in(t) for t in named):
        return None
    shown = ", ".join(repr(t) for t in named[:2]) + (" ..." if len(named) > 2 else "")
    return (
        f"no column holds dates; the rows are under headings with their day ({shown}): each "
        "row is on the day of the heading above it; check it"
    )


def with_heading_date(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``@heading|date``, the date in each row's heading, when :func:`heading_date`
    finds the rows dated by their headings."""
    if "@heading|date" in frame.columns or heading_date(frame) is None:
        return frame
    dates = frame["@heading"].fillna("").astype("str").map(date_in)
    return frame.assign(**{"@heading|date": dates.astype("str")})


def yearless_note(values: Mapping[str, str] | None) -> str | None:
    """Where a sheet's title or name has a day without its year ("Monday 14th December"): what
    to write so that its date can be read; None otherwise."""
    for name, text in (values or {}).items():
        reason = date_in_reason(text) if name in SHEET_VALUES and text else ""
        if reason.startswith(YEARLESS):
            return (
                f"no column holds dates; {SHEET_VALUES[name].lower()} {text!r} has a day without "
                "its year, which is not guessed: write the date there in full (like December 14, "
                "2026), and each sheet's rows are read on its day"
            )
    return None


# A sheet named by its day: "Mon 12-14", "Tuesday", "14.12.", "Dec 14", "2026-12-14".
_DAY_NAME = re.compile(
    r"(?i)(?<![a-z])(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|sday|nesday|rsday"
    r"|urday)?(?![a-z])|[0-9]{1,4}[\-/.][0-9]{1,2}|(?<![a-z])(?:jan|feb|mar|apr|may|jun|jul|aug"
    r"|sep|oct|nov|dec)[a-z]*\.?\s*[0-9]{1,2}(?![0-9])"
)


def named_by_day(sheets: Sequence[str]) -> bool:
    """True when every one of ``sheets`` is named by its day: next week's will be named anew."""
    return all(_DAY_NAME.search(name) is not None for name in sheets)
