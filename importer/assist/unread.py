"""Columns the assistant cannot read as they stand, and what it makes of them.

A sheet of tables side by side (its headers repeated: ``Time (2)``), an appointment book (a
column per provider, the patients written in its cells), a start time column of Excel's
fractions of a day (``0.375``), dates as moments in UTC or as Excel's serial numbers: none of
these is read as it stands. Each is said (a note of the proposal), and a time column
headed as the start is still taken, with low confidence, so that every row says what is wrong
rather than becoming an all-day event.
"""

from __future__ import annotations

import re

import pandas as pd

from importer.assist.columns import SAMPLE_ROWS, SOME_FIT, Pick, profile_columns
from importer.assist.fields import name_score, spec
from importer.assist.formats import Confidence
from importer.values.date_words import day_fraction_reason, is_moment, serial_date_reason


def sampled(frame: pd.DataFrame, column: str) -> pd.Series:
    """The column's first ``SAMPLE_ROWS`` cells that hold text, stripped."""
    cells = frame[column].head(SAMPLE_ROWS).dropna().astype("str").str.strip()
    return cells[cells != ""]


# A header repeated on the same row is numbered by the load: "Time (2)" right of "Time".
_REPEATED = re.compile(r"(.+) \(([0-9]+)\)")


def side_by_side(columns: list[str]) -> list[str]:
    """The columns repeating the headers of others (``Time (2)`` right of ``Time``) when two or
    more headers repeat: a sheet of tables side by side (a doctor's day in each), whose second
    table is no second phone or end time of the first's patients. [] otherwise: two "Phone"
    columns alone are two phones of one patient."""
    present = set(columns)
    repeats = {
        column: found.group(1)
        for column in columns
        if (found := _REPEATED.fullmatch(column)) is not None and found.group(1) in present
    }
    return list(repeats) if len(set(repeats.values())) >= 2 else []


def side_by_side_note(beside: list[str]) -> str:
    """What the proposal says of tables side by side (``beside``: :func:`side_by_side`)."""
    names = ", ".join(repr(c) for c in beside)
    return (
        f"the column names repeat to the right ({names}): the sheet looks like tables side "
        "by side, and only the first table is read, so the appointments of the others would "
        "get no reminder; put each table below the first (or on a sheet of its own)"
    )


_WHO_FIELDS = ("participant_", "contact_id", "contact_external_id")  # key prefixes


def nobody_note(frame: pd.DataFrame, picks: dict[str, Pick], columns: list[str]) -> str | None:
    """The note for a sheet where no column says who an appointment is for: its events would
    have nobody to remind. Where two or more of the ``columns`` left hold text, the sheet may be
    an appointment book: times down the side, a column per provider, and the patients written in
    its cells (``Dr Rivera``, ``Dr Chen`` over ``Maria Gomez 541-555-0104``); read as a table,
    each time slot would be one event for nobody. None where a column is the patient's."""
    if any(key.startswith(_WHO_FIELDS) for key in picks):
        return None
    note = (
        "no column holds the patients' names, phones or emails, so these events would have "
        "nobody to remind"
    )
    taken = {p.column for p in picks.values()}
    left = [c for c in columns if c not in taken]
    profiles = profile_columns(frame[left]) if left else {}
    texts = [c for c in left if (profiles[c].fit("text") or 0.0) >= SOME_FIT]
    if len(texts) < 2 or not {"start_time", "start_datetime"} & picks.keys():
        return note
    names = ", ".join(repr(c) for c in texts)
    return (
        f"{note}. If the columns {names} are an appointment book's (a column per provider, "
        "the patients written in its cells): the importer reads one appointment per row; "
        "rearrange the sheet to a row per appointment, with its date, time, provider, patient "
        "and phone (or email) in columns of their own"
    )


def unread_times(frame: pd.DataFrame, columns: list[str], taken: set[str]) -> dict[str, Pick]:
    """The start (and end) time from a column whose header names it although its cells are no
    times (``0.375``: Excel's times in a column of General format, saved as CSV), with low
    confidence and why. Without it, the dates alone would make all-day events of timed visits,
    every row valid; with it, each row says what is wrong with its time."""
    found: dict[str, Pick] = {}
    for key in ("start_time", "end_time"):
        field = spec(key)
        column = next((c for c in columns if c not in taken and name_score(field, c) >= 2), None)
        if column is None:
            continue
        cells = sampled(frame, column)
        if cells.empty:
            continue
        text = cells.iloc[0]
        why = day_fraction_reason(text) or "matches no way of writing a time that is read"
        found[key] = Pick(
            column,
            Confidence.LOW,
            f"the header {column!r} names this field, but its cells are no times: {text!r} {why}",
        )
        taken.add(column)
    return found


def moments_notes(frame: pd.DataFrame, columns: list[str]) -> list[str]:
    """Why a column of moments (``2026-12-14T00:00:00Z``, as web systems export dates) is no
    column of dates: which day a moment falls on depends on the zone, so it is not guessed."""
    notes = []
    for column in columns:
        cells = sampled(frame, column)
        if len(cells) and sum(is_moment(c) for c in cells) * 2 >= len(cells):
            notes.append(
                f"the column {column!r} holds moments in UTC time or at an offset "
                f"({cells.iloc[0]!r}), not dates: which day each is depends on the time zone, so "
                "it is not read as the appointments' dates; export the dates alone (like "
                "2026-12-14), or the start as a date and time in the clinic's own zone"
            )
    return notes


def serial_dates_notes(frame: pd.DataFrame, columns: list[str]) -> list[str]:
    """Why a column named for the appointments' dates whose cells are Excel's numbers for dates
    (``46370``: a column formatted General, saved as CSV) is no column of dates: such numbers
    are not read as dates (:func:`importer.values.date_words.serial_date_reason`). Only a
    header that names the date counts: ZIP codes look like such numbers too."""
    dated = [spec("start_date"), spec("start_datetime")]
    notes = []
    for column in columns:
        if not any(name_score(field, column) for field in dated):
            continue
        cells = sampled(frame, column)
        serial = [(text, why) for text in cells.tolist() if (why := serial_date_reason(text))]
        if serial and len(serial) * 2 >= len(cells):
            text, why = serial[0]
            notes.append(f"the column {column!r} holds {text!r}, which {why}")
    return notes
