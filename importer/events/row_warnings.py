"""Warnings about rows that are sent all the same: staff should look, nothing is blocked.

An appointment in the past or more than a year ahead (a year typed wrong, most often), and a
patient booked twice at the same moment (a copied row, most often). Each warning names the row,
the column and the value, and says what to check. Worked out over the whole frame at once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from importer.events.cells import IssueCollector, column_name, field_words
from importer.mapping import When
from importer.values import not_empty

FAR_AHEAD = timedelta(days=365)  # further ahead than this is most often a mistyped year


def when_column(when: When, label: str) -> str:
    """The column that holds the date of a point in time (the field in words when none does)."""
    template = when.datetime or when.date
    return column_name(template, label) if template is not None else field_words(label)


def timing_warnings(
    starts: pd.Series,
    ends: pd.Series,
    written: pd.Series,
    column: str,
    now: datetime | None,
    issues: IssueCollector,
) -> None:
    """Warn about appointments over before ``now``, or starting more than a year after it.

    ``starts`` and ``ends`` are UTC instants (``EventTimes.starts``; NaT where the row has none),
    so an all-day appointment of today is not in the past; ``written`` is the date as the row
    shows it. ``now`` None is the present moment.
    """
    moment = pd.Timestamp(now or datetime.now(UTC))
    issues.add(
        (ends < moment).fillna(False),
        column,
        written,
        "this appointment is in the past: it is sent all the same, but no reminder will go out "
        "before it; check the date if that is not what you meant",
        warning=True,
    )
    issues.add(
        (starts > moment + FAR_AHEAD).fillna(False),
        column,
        written,
        "this appointment is more than a year ahead: it is sent all the same; check the year",
        warning=True,
    )


def same_values(columns: list[pd.Series]) -> np.ndarray:
    """Per row, a number shared by the rows whose ``columns`` all hold the same text; -1 where
    every one is blank. Factorised column by column: no text is joined row by row."""
    codes = np.zeros(len(columns[0]), dtype=np.int64)
    filled = np.zeros(len(columns[0]), dtype=bool)
    for column in columns:
        column_codes, distinct = pd.factorize(column.to_numpy(dtype=object))
        codes, _ = pd.factorize(codes * (len(distinct) + 1) + column_codes)
        filled |= not_empty(column).to_numpy()
    return np.where(filled, codes, -1)


def double_booking_warnings(
    starts: pd.Series,
    written: pd.Series,
    patients: np.ndarray,
    names: pd.Series,
    column: str,
    issues: IssueCollector,
) -> None:
    """Warn on every row whose patient has another row starting at the same moment.

    ``starts`` are UTC instants (``EventTimes.starts``; NaT where the row has none); ``patients``
    numbers the patient of each row (see :func:`same_values`; -1 when the row names nobody);
    ``names`` is how to name them to staff; ``written`` the start's date cell.
    """
    known = starts.notna().to_numpy() & (patients >= 0)
    if not known.any():
        return
    moments = starts.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    keys = pd.Series(same_values([pd.Series(patients), pd.Series(moments)]), index=starts.index)
    twice = keys.duplicated(keep=False).to_numpy() & known
    if not twice.any():
        return
    rows_of = keys[twice].groupby(keys[twice], sort=False).groups
    reasons = {}
    for key, rows in rows_of.items():
        listed = [str(r) for r in rows]
        who = names.get(rows[0], "") or "the same patient"
        reasons[key] = (
            f"{who} has appointments at the same time on rows {', '.join(listed[:-1])} and "
            f"{listed[-1]}: check that one of them is not a mistake"
        )
    issues.add(twice, column, written, keys.map(reasons), warning=True)
