"""The review of one sheet, planned a part of the file at a time, keeping only what the page shows.

The upload is planned as a dry run plans it (:func:`importer.streaming.plan_parts`: the file
checked whole first, then each part (:mod:`importer.file_facts`: a file of up to
:data:`importer.load.parts.WHOLE_ROWS` rows is one part) checked,
mapped and planned against the ledger, read without its lock). Each part is handed to a
:class:`ReviewTally`, which counts every row and keeps the first invalid rows (their cells and
issues), the first warnings, the first events to show and the first rows held back; the part's
frame and payloads are dropped before the next part is read. The send that follows reads the
file in parts of :data:`importer.load.parts.PART_ROWS` rows and does what the review said (a row
repeating an earlier part's appointment is held back there by the state file, here by the plan).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from importer.file_facts import PreparedParts
from importer.ledger import Ledger, LedgerEntry
from importer.outcomes import PlanAction, RowIssue, SkipReason
from importer.pipeline import RunRequest, parts_of
from importer.plan import Plan
from importer.prepare import Prepared
from importer.streaming import decide_cancels, events_gone, plan_parts
from importer.web.held import MAX_HELD_SHOWN, HeldRow, held_row, is_held
from importer.web.preview import EventPreview, preview_event
from importer.web.settings import DEFAULT_MAX_ISSUE_ROWS, DEFAULT_PREVIEW_EVENTS, WebSettings

_ACTION_WORDS = {PlanAction.CREATE: "new", PlanAction.UPDATE: "update"}


@dataclass(frozen=True)
class ShownLimits:
    """How much of each list the review keeps (the page's settings), and the part size."""

    issue_rows: int  # invalid rows, warnings, held rows listed
    previews: int  # events shown as Apptoto will show them
    held: int  # rows held back listed with a "Send anyway" box
    part_rows: int | None = None  # rows planned at a time (as the run sends); None: default

    @classmethod
    def of(cls, settings: WebSettings) -> ShownLimits:
        """What the page of ``settings`` shows."""
        issue_rows, previews = settings.max_issue_rows, settings.preview_events
        return cls(issue_rows, previews, min(issue_rows, MAX_HELD_SHOWN), settings.part_rows)


DEFAULT_LIMITS = ShownLimits(
    DEFAULT_MAX_ISSUE_ROWS,
    DEFAULT_PREVIEW_EVENTS,
    min(DEFAULT_MAX_ISSUE_ROWS, MAX_HELD_SHOWN),
)


@dataclass(frozen=True)
class KeptInvalid:
    """An invalid row the page lists: its cells as text and its issues."""

    row: int
    cells: dict[str, str]  # column -> the cell's text ("" when blank)
    issues: tuple[RowIssue, ...]


@dataclass(frozen=True)
class MissingEvent:
    """An event an earlier import sent with this mapping whose appointment the upload no longer
    has: cancelled only when the person ticks the box for it."""

    external_id: str
    calendar: str
    sent_from: str  # "clinic.csv, row 7"

    @classmethod
    def of(cls, entry: LedgerEntry) -> MissingEvent:
        row = f", row {entry.source_row}" if entry.source_row is not None else ""
        return cls(entry.external_id, entry.calendar, f"{entry.source_file}{row}")


@dataclass
class ReviewTally:
    """Every row of one sheet counted, and the first of each list the page shows."""

    limits: ShownLimits
    sheet_name: str | None = None
    sheet_warnings: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)  # the sheet's input columns
    several_sheets_mapping: bool = False  # the mapping names several sheets
    counts: Counter[str] = field(default_factory=Counter)  # plan action -> rows
    held_total: int = 0
    copies: int = 0  # rows identical to an earlier one (sent once)
    to_send: int = 0  # events created or updated, and cancellations
    invalid: list[KeptInvalid] = field(default_factory=list)
    invalid_total: int = 0
    warnings: list[RowIssue] = field(default_factory=list)  # of rows that are not invalid
    warnings_total: int = 0
    previews: list[EventPreview] = field(default_factory=list)  # events to send
    unchanged: list[EventPreview] = field(default_factory=list)  # shown when none is sent
    held: list[HeldRow] = field(default_factory=list)
    new_calendars: dict[str, None] = field(default_factory=dict)
    sendable: int = 0  # rows that are not invalid (for choosing a mapping)
    known: int = 0  # of those, rows whose event an earlier run sent with this mapping
    known_unchanged: int = 0  # of those, rows whose event is exactly as sent
    missing: list[MissingEvent] = field(default_factory=list)  # not in the upload: the first
    missing_total: int = 0
    missing_too_many: bool = False  # more than the guard lets a run cancel: not offered
    missing_from: str = ""  # the file's first day, when those of earlier days are left alone

    def add(self, prepared: Prepared, plan: Plan) -> None:
        """Count one part and keep what the page shows of it."""
        if self.sheet_name is None:
            self.sheet_name = prepared.sheet.sheet_name
            self.columns = [str(c) for c in prepared.source.columns]
            mapping = prepared.mapping
            self.several_sheets_mapping = bool(mapping.sheets or mapping.all_sheets)
        self.new_calendars.update(dict.fromkeys(plan.new_calendars))
        self.to_send += len(plan.cancels)
        self._add_invalid(prepared)
        payloads = prepared.events.payloads
        for r in plan.rows:
            self.counts[r.action.value] += 1
            self.copies += r.reason is SkipReason.SAME_AS_ROW
            self._add_known(r.action, r.apptoto_id)
            if r.action is not PlanAction.INVALID and r.warnings:
                self.warnings_total += len(r.warnings)
                room = self.limits.issue_rows - len(self.warnings)
                self.warnings += r.warnings[: max(0, room)]
            if r.action in (PlanAction.CREATE, PlanAction.UPDATE):
                self.to_send += 1
            if r.payload is not None and len(self.previews) < self.limits.previews:
                action = _ACTION_WORDS.get(r.action, str(r.action))
                self.previews.append(preview_event(r.row, action, r.payload))
            elif (
                r.action is PlanAction.UNCHANGED
                and not self.previews
                and len(self.unchanged) < self.limits.previews
                and r.row in payloads
            ):
                self.unchanged.append(preview_event(r.row, "unchanged", payloads[r.row]))
            if is_held(r) and r.row in payloads:
                self.held_total += 1
                if len(self.held) < self.limits.held:
                    self.held.append(held_row(r, payloads[r.row]))
        self.counts[PlanAction.CANCEL.value] += len(plan.cancels)

    def _add_invalid(self, prepared: Prepared) -> None:
        """Count the part's rows with issues; keep the cells of the first ones."""
        self.invalid_total += len(prepared.issues)
        room = self.limits.issue_rows - len(self.invalid)
        for row in sorted(prepared.issues)[: max(0, room)]:
            values = prepared.source.loc[row]
            cells = {str(k): "" if v is None or pd.isna(v) else str(v) for k, v in values.items()}
            self.invalid.append(KeptInvalid(row, cells, tuple(prepared.issues[row])))

    def _add_known(self, action: PlanAction, apptoto_id: int | None) -> None:
        if action is PlanAction.INVALID:
            return
        self.sendable += 1
        if action is PlanAction.UNCHANGED:
            self.known += 1
            self.known_unchanged += 1
        elif action is PlanAction.UPDATE or apptoto_id is not None:
            self.known += 1

    def count(self, action: PlanAction) -> int:
        """Rows (or cancellations) planned with ``action``."""
        return self.counts[action.value]

    @property
    def shown_previews(self) -> list[EventPreview]:
        """The events to show: the first sent, else (nothing to send) the first unchanged."""
        return self.previews or self.unchanged


def _open_read_only(path: Path | None) -> Ledger | None:
    # As a dry run: no lock (a review works beside a run that holds the ledger), and no state
    # file left behind when there is none yet (then every valid row is new).
    if path is None or not path.exists():
        return None
    return Ledger.open_read_only(path)


def tally_review(request: RunRequest, limits: ShownLimits) -> ReviewTally:
    """Plan ``request``'s sheet a part at a time, as a dry run does, into a tally; send nothing,
    write nothing. Raises what the dry run raises (LoadError, MappingError, LedgerError,
    PlanRefused)."""
    parts = parts_of(request)
    facts = parts.check()
    tally = ReviewTally(limits, sheet_warnings=list(facts.warnings))
    ledger = _open_read_only(request.ledger_path)
    try:
        cancels = decide_cancels(parts, ledger, request.plan_options)
        plan_parts(parts, ledger, request.plan_options, cancels, None, each=tally.add)
        if ledger is not None and not request.plan_options.cancel_missing:
            _add_missing(tally, parts, ledger, request)
    finally:
        if ledger is not None:
            ledger.close()
    return tally


def _add_missing(
    tally: ReviewTally, parts: PreparedParts, ledger: Ledger, request: RunRequest
) -> None:
    """The events sent before with this mapping whose appointments the upload does not have,
    and whether a run may cancel them all (the guard of ``--cancel-missing``)."""
    missing = events_gone(parts, ledger, request.plan_options)
    tally.missing_total = len(missing.within)
    tally.missing = [MissingEvent.of(e) for e in missing.within[: tally.limits.issue_rows]]
    tally.missing_too_many = missing.beyond_guard(request.plan_options.max_cancel_share)
    tally.missing_from = str(missing.first_day or "")
