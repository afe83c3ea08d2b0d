"""Warnings about rows that are sent all the same: staff should look, nothing is blocked.

An appointment in the past or more than a year ahead (a year typed wrong, most often), and a
patient booked twice at the same moment (a copied row, most often). Each warning names the row,
the column and the value, and says what to check. Worked out over the whole frame at once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from importer.events.cells import IssueCollector
from importer.mapping import When
from importer.values import map_distinct

FAR_AHEAD = timedelta(days=365)  # further ahead than this is most often a mistyped year


def when_column(when: When, label: str) -> str:
    """The column that holds the date of a point in time (``label`` when there is none)."""
    template = when.datetime or when.date
    return (template.single_column if template is not None else None) or label


def timing_warnings(
    starts: pd.Series,
    written: pd.Series,
    column: str,
    now: datetime | None,
    issues: IssueCollector,
) -> None:
    """Warn about starts before ``now`` or more than a year after it.

    ``starts`` holds ISO 8601 times with offsets ("" where the row has none); ``written`` the
    date as the row shows it. ``now`` None is the present moment.
    """
    moment = pd.Timestamp(now or datetime.now(UTC))
    instants = _instants(starts)
    issues.add(
        (instants < moment).fillna(False),
        column,
        written,
        "this appointment is in the past: it is sent all the same, but no reminder will go out "
        "before it; check the date if that is not what you meant",
        warning=True,
    )
    issues.add(
        (instants > moment + FAR_AHEAD).fillna(False),
        column,
        written,
        "this appointment is more than a year ahead: it is sent all the same; check the year",
        warning=True,
    )


def double_booking_warnings(
    starts: pd.Series,
    written: pd.Series,
    patients: pd.Series,
    names: pd.Series,
    column: str,
    issues: IssueCollector,
) -> None:
    """Warn on every row whose patient has another row starting at the same moment.

    ``patients`` identifies the patient of a row (name and contact details; "" when the row
    names nobody); ``names`` is how to name them to staff; ``written`` the start's date cell.
    """
    known = (starts != "") & (patients != "")
    if not known.any():
        return
    instants = _instants(starts.where(known, ""))
    keys = patients.where(known, "") + "\x00" + instants.astype("string").fillna("")
    twice = keys.duplicated(keep=False) & known
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


def _instants(starts: pd.Series) -> pd.Series:
    """ISO 8601 texts with offsets as UTC timestamps (NaT for ""), parsed once per distinct text."""

    def parse(distinct: pd.Series) -> pd.Series:
        return pd.to_datetime(distinct.where(distinct != ""), utc=True, format="ISO8601")

    return map_distinct(starts, parse)
