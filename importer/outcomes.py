"""Row outcomes as values: what happened to each spreadsheet row, stable and greppable."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace


class RowStatus(enum.StrEnum):
    """Final status of one input row, as written in the report's ``status`` column."""

    CREATED = "created"  # Apptoto stored a new event
    UPDATED = "updated"  # an existing event was changed
    UNCHANGED = "unchanged"  # identical to what the ledger says was last sent; not sent
    INVALID = "invalid"  # the row has mistakes; not sent
    FAILED = "failed"  # valid, but Apptoto did not confirm it
    SKIPPED = "skipped"  # not attempted (run stopped early, dry run)
    CANCELLED = "cancelled"  # the event was deleted because the row left the file
    NOT_APPOINTMENT = "not an appointment"  # a totals row, a note, a heading: never sent


class PlanAction(enum.StrEnum):
    """What a run *would* do with a row (``plan`` and ``run --dry-run``)."""

    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    INVALID = "invalid"
    FAIL = "fail"  # valid, but cannot be sent as it is (e.g. a calendar move)
    SKIP = "skip"  # valid, but not sent: the same appointment is already there (SkipReason)
    CANCEL = "cancel"
    NOT_APPOINTMENT = "not an appointment"  # a totals row, a note, a heading: never sent


class SkipReason(enum.StrEnum):
    """Why a valid row is not sent although nothing went wrong (a ``skip``/``skipped`` row)."""

    SAME_AS_ROW = "same_as_row"  # identical in every cell to an earlier row of the file
    SAME_APPOINTMENT = "same_appointment"  # same calendar, start and participant as another event
    OTHER_PERSON = "other_person"  # its id is that of another file's event for another person


@dataclass(frozen=True, slots=True)
class RowIssue:
    """One mistake in one cell (or in a row as a whole when ``column`` is empty).

    The same shape serves warnings: something staff should look at that does not stop the row
    (an appointment in the past, a contact detail left out); a warning never blocks a row.

    ``row`` is the spreadsheet row number as the person sees it (header = row 1).
    ``reason`` is plain words for office staff, e.g. "date '13/04/2026' does not match 04/13/2026".
    ``sheet``: the row's sheet, named where a run reads several (their row numbers repeat).
    """

    row: int
    column: str
    value: str
    reason: str
    sheet: str = ""

    def __reduce__(self) -> tuple[type[RowIssue], tuple[int, str, str, str, str]]:
        # Pickled (to and from worker processes) as its fields in order: the dataclass' own
        # way looks the fields up for every object, ~4x slower for a part's thousands.
        return RowIssue, (self.row, self.column, self.value, self.reason, self.sheet)

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column {self.column!r}" if self.column else "")
        if self.sheet:
            where = f"sheet {self.sheet!r}, {where}"
        shown = f" {self.value!r}" if self.value != "" else ""
        return f"{where}:{shown} {self.reason}"


@dataclass(frozen=True, slots=True)
class RowResult:
    """The outcome of one input row, one line of the report."""

    row: int | None  # spreadsheet row; None for an event that is no longer in the file (cancelled)
    status: RowStatus | PlanAction  # PlanAction in the report of a plan or a dry run
    external_id: str = ""
    apptoto_id: int | None = None
    message: str = ""
    reason: SkipReason | None = None  # why a valid row was skipped by choice, not by a failure
    warnings: tuple[RowIssue, ...] = ()  # never block the row; shown beside its status
    sheet: str = ""  # the row's sheet where a run reads several (see on_sheet)

    def __reduce__(self) -> tuple[type[RowResult], tuple[object, ...]]:
        # As RowIssue's: its fields in order.
        return RowResult, (
            self.row,
            self.status,
            self.external_id,
            self.apptoto_id,
            self.message,
            self.reason,
            self.warnings,
            self.sheet,
        )

    @property
    def warning_text(self) -> str:
        """The row's warnings as one line of the report ("" when it has none)."""
        return "; ".join(str(w) for w in self.warnings)

    @property
    def sheet_message(self) -> str:
        """The message, beginning with the row's sheet on one of several sheets."""
        if self.sheet and self.message:
            return f"sheet {self.sheet!r}, {self.message}"
        return self.message

    def line(self) -> str:
        """The result as one line for a person, naming its sheet and row: an invalid row's
        message names its row already ("row 4, column 'Date': ...")."""
        if self.status == RowStatus.INVALID or self.row is None:
            return self.sheet_message
        sheet = f"sheet {self.sheet!r}, " if self.sheet else ""
        return f"{sheet}row {self.row}: {self.message}"

    def on_sheet(self, sheet: str | None) -> RowResult:
        """This result as one of several sheets' (their row numbers repeat): it and its warnings
        name ``sheet`` (None: the one sheet read, named nowhere)."""
        if sheet is None:
            return self
        return replace(
            self,
            sheet=sheet,
            warnings=tuple(replace(w, sheet=sheet) for w in self.warnings),
        )
