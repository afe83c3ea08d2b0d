"""Rows a file sets aside as no appointment (the mapping's ``cancelled`` marks them, a heading
calls them off, the workbook crosses them out) whose event, sent while they were booked, is still
live in Apptoto: a run that does not cancel the file's missing rows leaves it, and its reminders
go out, so the row says so and names the event."""

from __future__ import annotations

from importer.appointments import cancelled_rows, with_sheet_values
from importer.events import external_ids_of
from importer.ledger import Ledger, LedgerEntry
from importer.outcomes import RowIssue
from importer.prepare import Prepared

STILL_LIVE = (
    "marks the visit called off, but the event sent for it while it was booked (Apptoto event "
    "{event}) is still there, and its reminders will go out: delete it in Apptoto, or import "
    "with the cancelling of appointments no longer in the file"
)
# The same for a row set aside otherwise (crossed out, below a CANCELLED heading): {why} is why.
STILL_LIVE_ROW = (
    "is not sent now ({why}), but the event sent for it while it was booked (Apptoto event "
    "{event}) is still there, and its reminders will go out: delete it in Apptoto, or import "
    "with the cancelling of appointments no longer in the file"
)


def still_live(prepared: Prepared, ledger: Ledger) -> dict[int, tuple[LedgerEntry, RowIssue]]:
    """Rows set aside as no appointment (the mapping's ``cancelled`` marks them, a heading calls
    them off, the workbook crosses them out) whose event, sent while they were booked, is live:
    row -> that event, and the warning to give the row when the run leaves it (its reminders
    go out)."""
    if not prepared.set_aside:
        return {}
    marked = [row for row in prepared.set_aside if row in prepared.source.index]
    marked_by = prepared.mapping.cancelled
    by_column = set(cancelled_rows(prepared.source, marked_by)) if marked_by is not None else set()
    cells = with_sheet_values(prepared.source.loc[marked], prepared.sheet, prepared.mapping)
    ids = external_ids_of(cells, prepared.mapping.event.external_id)
    known = ledger.lookup(prepared.mapping.scope, [i for i in ids.tolist() if i])
    found = {}
    for row, i in zip(marked, ids.tolist(), strict=True):
        entry = known.get(i)
        if entry is None or entry.deleted:
            continue
        if marked_by is not None and row in by_column:
            value = str(prepared.source.at[row, marked_by.column]).strip()
            warning = RowIssue(
                row, marked_by.column, value, STILL_LIVE.format(event=entry.apptoto_id)
            )
        else:
            why = prepared.set_aside[row].removeprefix("not an appointment: ")
            warning = RowIssue(row, "", "", STILL_LIVE_ROW.format(why=why, event=entry.apptoto_id))
        found[row] = (entry, warning)
    return found
