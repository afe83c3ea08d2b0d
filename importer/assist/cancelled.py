"""The column of a practice system's export that marks appointments not going ahead (a Status of
"Cancelled", "No show"): the assistant proposes the mapping's ``cancelled`` section, so such rows
are never sent and a later run with ``--cancel-missing`` deletes what was sent for them."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

# A header that names a status; a cell that says the appointment does not go ahead.
_STATUS_HEADER = re.compile(r"(?i)status|cancel")  # not "state": an address has one
_CANCEL_WORDS = re.compile(
    r"(?i)(?:cancel|no[\s\-]?show|did not attend|dna$|deleted$|void$|rescheduled$|broken\b"
    r"|missed\s+(?:appt|appointment|visit))"
)


@dataclass(frozen=True, slots=True)
class CancelledGuess:
    """A status column and the values in it that mark rows not to send."""

    column: str
    values: tuple[str, ...]  # as written in the sheet, first seen first (none yet: empty)
    reason: str


def guess_cancelled(frame: pd.DataFrame, unused: tuple[str, ...]) -> CancelledGuess | None:
    """The first of ``unused`` columns whose header names a status, with the values in it that
    mark an appointment as not going ahead (none found: the column is still named, with no
    values, for the person to fill in); None when no header names a status."""
    for column in unused:
        if not _STATUS_HEADER.search(column):
            continue
        cells = frame[column].dropna().astype("str").str.strip()
        marked = cells[cells.map(lambda text: _CANCEL_WORDS.match(text) is not None)]
        values = tuple(dict.fromkeys(marked.tolist()))
        if values:
            shown = ", ".join(repr(v) for v in values)
            reason = (
                f"the column {column!r} marks {len(marked)} row(s) as {shown}: such rows are "
                "never sent, and a run with --cancel-missing deletes the events sent for them "
                "earlier. Add any other value your system uses for visits that do not go ahead"
            )
        else:
            reason = (
                f"the column {column!r} may mark visits that do not go ahead, but none of its "
                "values says so yet; write the values your system uses (like Cancelled)"
            )
        return CancelledGuess(column, values, reason)
    return None
