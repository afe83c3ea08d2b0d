"""Exit codes of the ``apptoto-import`` command, and the one rule that picks them from a summary.

The library returns a :class:`~importer.pipeline.RunSummary` and no exit code; the CLI and the web
page's run records ask this module for one.

0 every row succeeded (or needs nothing, a row repeating an earlier one cell for cell included);
1 some rows invalid, failed or held back as the same appointment as an event already sent (a
person decides: see the report), or the sending stopped early after rows were sent (the state
file could not be written); 2 nothing
could be done (bad mapping, unreadable file, credentials refused, another run holds the ledger, a
report that cannot be written); 3 an unexpected error (a bug); 130 interrupted (Ctrl-C, SIGTERM).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from importer.outcomes import PlanAction, RowResult, RowStatus, SkipReason

if TYPE_CHECKING:
    from importer.pipeline import RunSummary

EXIT_OK, EXIT_ROWS, EXIT_NOTHING, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_UNEXPECTED = 3  # a bug: not 1, which tells a monitor "see the report", when none is written

_OK_STATUSES = {
    RowStatus.CREATED,
    RowStatus.UPDATED,
    RowStatus.UNCHANGED,
    RowStatus.CANCELLED,
    RowStatus.NOT_APPOINTMENT,
    PlanAction.CREATE,
    PlanAction.UPDATE,
    PlanAction.UNCHANGED,
    PlanAction.CANCEL,
    PlanAction.NOT_APPOINTMENT,
}


def exit_code_for(summary: RunSummary) -> int:
    """130 when interrupted, 2 when the run stopped on an error, else 0 or 1 by the rows."""
    if summary.interrupted:
        return EXIT_INTERRUPTED
    if summary.error:
        return EXIT_NOTHING
    if summary.stopped:  # rows were sent, but the ledger missed some: a person should look
        return EXIT_ROWS
    return EXIT_OK if all(_succeeded(r) for r in summary.results) else EXIT_ROWS


def _succeeded(result: RowResult) -> bool:
    # A copy of an earlier row is that row's appointment: failing every night for it would
    # teach people to ignore the exit code.
    return result.status in _OK_STATUSES or result.reason is SkipReason.SAME_AS_ROW


def summary_document(summary: RunSummary, exit_code: int | None = None) -> dict[str, Any]:
    """``--summary-json``: the summary's keys with ``exit_code`` after ``dry_run``, as always.

    ``exit_code`` defaults to :func:`exit_code_for`; a run stopped by an error passes its own.
    """
    code = exit_code_for(summary) if exit_code is None else exit_code
    document: dict[str, Any] = {}
    for key, value in summary.to_json().items():
        document[key] = value
        if key == "dry_run":
            document["exit_code"] = code
    return document
