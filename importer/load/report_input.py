"""A report read back as input: staff fix the invalid rows of a report and run it again.

The report's result columns are dropped, the ``'`` that escaped formula-like cells is removed,
and each row's ``apptoto_id`` is kept so the row updates the event it already made.
"""

from __future__ import annotations

import re

import pandas as pd

RESULT_COLUMNS = ("row", "status", "external_id", "apptoto_id", "message", "warnings")
# A report has these at least: reports written before the ``warnings`` column lack it.
_REPORT_MARKS = RESULT_COLUMNS[:5]


_ESCAPED = re.compile(r"^'(?=[=+\-@\t\r\n])")


def is_report(frame: pd.DataFrame) -> bool:
    """True when ``frame`` looks like a report this program wrote (it has all result columns)."""
    return all(c in frame.columns for c in _REPORT_MARKS)


def recorded_external_ids(frame: pd.DataFrame) -> pd.Series:
    """The ``external_id`` column of a report read back, ``""`` where blank; empty for other input.

    It says which event each line was: a CSV report that Excel saved again has lost the leading
    zeros of its number-like cells (``000101`` -> ``101``), but not of ``clinic-000101``.
    """
    if not is_report(frame):
        return pd.Series([], dtype="str")
    return frame["external_id"].astype("string").fillna("").str.strip().astype("str")


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
    original = frame.drop(columns=[c for c in RESULT_COLUMNS if c in frame.columns])
    unescaped = original.apply(lambda col: col.str.replace(_ESCAPED, "", regex=True))
    return unescaped, ids
