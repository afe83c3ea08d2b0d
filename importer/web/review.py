"""The review page's content: what a run would do, every invalid row, the first events.

Everything here runs before anything is sent: the file is prepared with the chosen mapping and
sheet, planned against the ledger (read, not written), and the credentials are looked for in
the server's environment. Stage errors (unreadable file, bad mapping, damaged ledger) become a
message for the page; the uploaded file's private path never appears in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from importer.calendars import new_calendar_warning
from importer.client import ClientConfig
from importer.errors import ConfigError, ImporterError, MappingError
from importer.ledger import held_by_another
from importer.load import sheet_names
from importer.mapping import Mapping, load_mapping
from importer.outcomes import PlanAction, RowResult
from importer.pipeline import PlannedImport, RunRequest, plan_results
from importer.plan import Plan
from importer.several_sheets import plan_sheets, sheets_to_read
from importer.web.held import MAX_HELD_SHOWN, HeldRow
from importer.web.preview import EventPreview
from importer.web.review_tally import (
    KeptInvalid,
    MissingEvent,
    ReviewTally,
    ShownLimits,
    tally_review,
)
from importer.web.settings import WebSettings
from importer.web.uploads import ALL_SHEETS, Upload
from importer.web.words import for_the_page

MAPPING_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class MappingChoice:
    """A mapping file offered on the upload page."""

    file: str  # file name inside the mappings folder: the form's value
    title: str  # the mapping's name, or the file name when it cannot be read


@dataclass(frozen=True)
class Count:
    """One box of the review's counts."""

    key: str  # the plan action, for styling and tests
    label: str
    number: int


@dataclass(frozen=True)
class Cell:
    """One cell of an invalid row: its text, and why it is wrong when it is."""

    text: str
    problem: str = ""  # plain words; "" for a good cell


@dataclass(frozen=True)
class InvalidRow:
    """An invalid row: every cell, the bad ones marked, and its reasons."""

    row: int
    cells: list[Cell]
    reasons: list[tuple[str, str]]  # (column or "", what is wrong with its value)
    sheet: str = ""  # set when the review covers several sheets


@dataclass(frozen=True)
class RowWarning:
    """Something to check on a row that is sent all the same."""

    row: int
    column: str
    value: str
    reason: str
    sheet: str = ""  # set when the review covers several sheets


@dataclass
class Review:
    """What the review page shows; ``problem`` set means nothing can be sent."""

    file_name: str
    mapping_title: str = ""
    sheets: list[str] = field(default_factory=list)
    sheet: str | None = None
    problem: str = ""
    mapping_problem: bool = False  # the problem is the mapping (it does not fit the sheet, ...)
    headers: list[str] = field(default_factory=list)  # the sheet's columns, once it was read
    warnings: list[str] = field(default_factory=list)
    counts: list[Count] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    invalid_rows: list[InvalidRow] = field(default_factory=list)
    more_invalid: int = 0
    row_warnings: list[RowWarning] = field(default_factory=list)  # sent with something to check
    more_warnings: int = 0
    previews: list[EventPreview] = field(default_factory=list)
    held: list[HeldRow] = field(default_factory=list)  # looks already sent: "Send anyway" boxes
    more_held: int = 0
    to_send: int = 0
    # Sent before with this mapping, not in this file: a box cancels them when it is offered.
    missing: list[MissingEvent] = field(default_factory=list)
    missing_total: int = 0
    missing_too_many: bool = False  # more than a run may cancel (a partial file?): not offered
    missing_from: str = ""  # the file's first day, when the events of days before are left alone
    marks_cancelled: bool = False  # the mapping's status column marks rows cancelled: also missing
    credentials_problem: str = ""
    busy: str = ""  # another run holds the ledger: the plan is a snapshot, sending waits
    sends_to: str = ""  # "user at base URL" (never the key)
    # The one sheet reviewed, counted a part at a time (None for several sheets, or a problem).
    tally: ReviewTally | None = field(default=None, repr=False)
    # Several sheets reviewed at once (all with these columns, or the mapping's): each planned.
    parts: list[tuple[str, PlannedImport]] = field(default_factory=list, repr=False)
    all_sheets_choice: str = ALL_SHEETS  # the sheet drop-down's value for "all sheets"

    @property
    def several(self) -> bool:
        """True when the review (and the send) covers several sheets."""
        return bool(self.parts)

    @property
    def cancel_offered(self) -> bool:
        """True when the page offers to cancel the events no longer in the file."""
        return self.missing_total > 0 and not self.missing_too_many

    @property
    def can_send(self) -> bool:
        """True when the file is readable, planned, has something to send (or rows held back,
        or events no longer in the file, that can be ticked), credentials exist and no other run
        holds the ledger."""
        something = self.to_send > 0 or bool(self.held) or self.cancel_offered
        return not self.problem and not self.credentials_problem and not self.busy and something


def offered_mappings(folder: Path) -> list[MappingChoice]:
    """The mapping files of ``folder`` (``*.yaml``, ``*.yml``) by file name; [] when missing."""
    try:
        files = sorted(
            p for p in folder.iterdir() if p.suffix.lower() in MAPPING_SUFFIXES and p.is_file()
        )
    except OSError:
        return []
    choices = []
    for path in files:
        try:
            title = f"{load_mapping(path).name} ({path.name})"
        except ImporterError:
            title = f"{path.name} (has problems: choose it to see them)"
        choices.append(MappingChoice(path.name, title))
    return choices


def plain_message(exc: BaseException, upload: Upload) -> str:
    """The error in plain words, naming the file as the person knows it (not its private path)."""
    return for_the_page(str(exc).replace(str(upload.path), upload.file_name))


def client_config(settings: WebSettings) -> ClientConfig:
    """The Apptoto client settings from the server's environment; ConfigError when missing."""
    return ClientConfig.from_env(
        settings.environment,
        batch_size=settings.batch_size,
        requests_per_minute=settings.requests_per_minute,
    )


def mapping_of(upload: Upload, settings: WebSettings) -> Mapping:
    """The upload's mapping, read now from the mappings folder (MappingError when invalid)."""
    if not upload.mapping_file:
        raise MappingError("no mapping is chosen for this file yet: match its columns first")
    return load_mapping(settings.mappings_dir / upload.mapping_file)


def review_request(upload: Upload, mapping: Mapping, settings: WebSettings) -> RunRequest:
    """What the review plans (and its check download writes): the upload, as a dry run."""
    return RunRequest(
        source=upload.path,
        mapping=mapping,
        sheet=upload.sheet,
        all_sheets=upload.all_sheets,
        ledger_path=settings.ledger_path,
        dry_run=True,
        part_rows=settings.part_rows,
        source_name=upload.file_name,  # as the run names it (messages, {@file})
    )


def build_review(
    upload: Upload, settings: WebSettings, planned: ReviewTally | None = None
) -> Review:
    """Plan the upload a part at a time and describe the outcome; never raises for bad input.

    ``planned``: the upload already planned with its mapping, sheet and ledger (the choice of
    the mapping did it), used when it kept as much as this page shows.
    """
    review = Review(file_name=upload.file_name, sheet=upload.sheet)
    try:
        mapping = mapping_of(upload, settings)
        review.mapping_title = mapping.name
        review.marks_cancelled = mapping.cancelled is not None
        review.sheets = sheet_names(upload.path)
        request = review_request(upload, mapping, settings)
        if sheets_to_read(request) is not None:
            _review_sheets(review, plan_sheets(request), settings)
            return _with_credentials(review, settings)
        # The same planning as ``plan``: the ledger is read without its lock (SQLite's WAL shows
        # the last committed state while a run holds it and writes), and with no ledger yet every
        # valid row is new: a review leaves no state file behind.
        limits = ShownLimits.of(settings)
        if planned is None or planned.limits != limits:
            planned = tally_review(request, limits)
        review.sheet = planned.sheet_name
        review.headers = list(planned.columns)
        review.tally = planned
        if settings.ledger_path.exists() and held_by_another(settings.ledger_path):
            review.busy = (
                "Another import is running right now. This page counts what earlier runs "
                "had recorded when it was loaded; reload it once that import has finished, "
                "then send."
            )
    except MappingError as exc:
        review.problem = plain_message(exc, upload)
        review.mapping_problem = True
        return review
    except ImporterError as exc:
        review.problem = plain_message(exc, upload)
        return review
    _describe(review, planned, settings)
    return _with_credentials(review, settings)


def _with_credentials(review: Review, settings: WebSettings) -> Review:
    try:
        config = client_config(settings)
        review.sends_to = f"{config.user} at {config.base_url}"
    except ConfigError as exc:
        review.credentials_problem = str(exc)
    return review


def _review_sheets(
    review: Review, parts: list[tuple[str, PlannedImport]], settings: WebSettings
) -> None:
    """Describe several sheets planned at once as one review, each row naming its sheet."""
    review.parts, review.sheet = parts, None
    totals: dict[str, Count] = {}
    invalid: list[tuple[InvalidRow, list[str]]] = []
    warnings: list[RowWarning] = []
    held: list[HeldRow] = []
    everything = replace(settings, max_issue_rows=10**9)  # cut once, over every sheet
    each = max(1, settings.preview_events // len(parts))  # the first events of every sheet
    limits = ShownLimits.of(everything)
    for sheet, planned in parts:
        one = Review(file_name=review.file_name)
        tally = ReviewTally(limits, sheet_warnings=list(planned.prepared.sheet.warnings))
        tally.add(planned.prepared, planned.plan)
        _describe(one, tally, everything)
        review.warnings += [f"sheet {sheet!r}: {w}" for w in planned.prepared.sheet.warnings]
        review.warnings += [w for w in one.warnings if w not in review.warnings]
        for count in one.counts:
            had = totals.get(count.key)
            totals[count.key] = replace(count, number=count.number + (had.number if had else 0))
        invalid += [(replace(r, sheet=sheet), one.columns) for r in one.invalid_rows]
        warnings += [replace(w, sheet=sheet) for w in one.row_warnings]
        held += [replace(h, sheet=sheet, event=replace(h.event, sheet=sheet)) for h in one.held]
        review.previews += [replace(e, sheet=sheet) for e in one.previews[:each]]
        review.to_send += one.to_send
        review.headers += [c for c in _columns(planned) if c not in review.headers]
    review.counts = list(totals.values())
    shown = invalid[: settings.max_issue_rows]
    review.columns = list(dict.fromkeys(c for _, columns in shown for c in columns))
    review.invalid_rows = [_cells_in(row, columns, review.columns) for row, columns in shown]
    review.more_invalid = len(invalid) - len(shown)
    review.row_warnings = [
        RowWarning(w.row, w.column, str(w.value), w.reason)
        for w in warnings[: settings.max_issue_rows]
    ]
    review.more_warnings = len(warnings) - len(review.row_warnings)
    review.held = held[: min(settings.max_issue_rows, MAX_HELD_SHOWN)]
    review.more_held = len(held) - len(review.held)


def _columns(planned: PlannedImport) -> list[str]:
    """The columns of a planned sheet, as the review names them."""
    return [str(c) for c in planned.prepared.source.columns]


def _cells_in(row: InvalidRow, had: list[str], columns: list[str]) -> InvalidRow:
    """``row`` (its cells in the order ``had``) with its cells in the order ``columns``."""
    cells = dict(zip(had, row.cells, strict=True))
    return replace(row, cells=[cells.get(c, Cell("")) for c in columns])


def _count(key: str, number: int, one: str, many: str = "", after: str = "") -> Count:
    """A box of the counts, its words agreeing with its number ("1 new event", "2 new events")."""
    words = one if number == 1 or not many else many
    return Count(key, f"{words} {after}".strip(), number)


def _describe(review: Review, tally: ReviewTally, settings: WebSettings) -> None:
    review.warnings = list(tally.sheet_warnings)
    if tally.several_sheets_mapping:
        review.warnings.append(
            f"this mapping reads several sheets; here only the sheet {tally.sheet_name!r}"
            " is checked and sent, as chosen. To check and send them all at once, choose "
            "“All sheets with these columns” as the sheet to import"
        )
    review.warnings += [new_calendar_warning(calendar) for calendar in tally.new_calendars]
    review.counts = [
        _count("create", tally.count(PlanAction.CREATE), "new event", "new events"),
        _count("update", tally.count(PlanAction.UPDATE), "update", "updates"),
        _count("unchanged", tally.count(PlanAction.UNCHANGED), "unchanged (not sent)"),
        _count(
            "invalid", tally.count(PlanAction.INVALID), "invalid row", "invalid rows", "(not sent)"
        ),
        _count("cancel", tally.count(PlanAction.CANCEL), "cancellation", "cancellations"),
    ]
    optional = [
        (
            "not-appointment",
            tally.count(PlanAction.NOT_APPOINTMENT),
            "not an appointment",
            "not appointments",
            "(not sent)",
        ),
        ("fail", tally.count(PlanAction.FAIL), "cannot be sent", "cannot be sent", ""),
        ("held", tally.held_total, "row held back", "rows held back", "(not sent)"),
        ("copy", tally.copies, "copy of an earlier row", "copies of an earlier row", "(not sent)"),
    ]
    review.counts += [_count(*words) for words in optional if words[1]]
    review.missing = list(tally.missing)
    review.missing_total = tally.missing_total
    review.missing_too_many = tally.missing_too_many
    review.missing_from = tally.missing_from
    review.held = list(tally.held)
    review.more_held = tally.held_total - len(review.held)
    review.to_send = tally.to_send
    shown = tally.invalid[: settings.max_issue_rows]
    review.columns = _columns_faults_first(tally.columns, shown)
    review.invalid_rows = [_invalid_row(kept, review.columns) for kept in shown]
    review.more_invalid = max(0, tally.invalid_total - settings.max_issue_rows)
    review.row_warnings = [
        RowWarning(w.row, w.column, str(w.value), w.reason)
        for w in tally.warnings[: settings.max_issue_rows]
    ]
    review.more_warnings = max(0, tally.warnings_total - settings.max_issue_rows)
    review.previews = tally.shown_previews[: settings.preview_events]


def _columns_faults_first(columns: list[str], rows: list[KeptInvalid]) -> list[str]:
    """The sheet's columns, those with a fault in ``rows`` first: on a laptop screen the marked
    cells are then in view without scrolling sideways. Each group keeps the sheet's order."""
    faulty = {issue.column for row in rows for issue in row.issues}
    return [c for c in columns if c in faulty] + [c for c in columns if c not in faulty]


def _invalid_row(kept: KeptInvalid, columns: list[str]) -> InvalidRow:
    problems: dict[str, list[str]] = {}
    reasons = []
    for issue in kept.issues:
        shown = f"“{issue.value}” {issue.reason}" if issue.value != "" else issue.reason
        reasons.append((issue.column, shown))
        problems.setdefault(issue.column, []).append(shown)
    cells = [
        Cell(kept.cells.get(column, ""), "; ".join(problems.get(column, []))) for column in columns
    ]
    return InvalidRow(kept.row, cells, reasons)


def check_results(plan: Plan) -> list[RowResult]:
    """The check report's lines: the action each row would get (as ``plan`` writes them)."""
    return plan_results(plan)
