"""Step 2, matching the columns on the page: its routes, and what its template shows.

``GET /uploads/{token}/columns`` shows the drop-downs (pre-filled by the assistant), the questions
the values could not answer, a preview of the first rows as events and the mapping's name.
``POST`` the same address with ``action=preview`` (the form's default button) or ``action=save``;
every POST carries the CSRF token and is answered with a redirect. Saving writes the mapping into
the mappings folder and continues to the review with it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from importer.assist import Proposal
from importer.errors import ImporterError, MappingError
from importer.load import sheet_names
from importer.values import countries, known_zones
from importer.web.choosing import MappingKnowledge, fitting_knowledge
from importer.web.fitting import SheetHeaders, rank_mappings
from importer.web.mapping_store import (
    Existing,
    SaveRefused,
    existing_mapping,
    mapping_file_name,
    save_mapping,
)
from importer.web.matching import (
    ColumnOption,
    FieldRow,
    Matching,
    OpenQuestion,
    Question,
    column_options,
    current_proposal,
    default_name,
    field_groups,
    known_formats,
    open_questions,
    questions,
    read_choices,
    start_matching,
    zone_question,
)
from importer.web.preview import SheetPreview, preview_sheet
from importer.web.review import plain_message
from importer.web.services import FormChecker, KnownUpload, Services, WebServices
from importer.web.settings import WebSettings
from importer.web.uploads import Upload

MAX_FORM_FIELDS = 64  # the drop-downs, the answers, the name and the buttons
COMMON_ZONES = (
    ("Eastern (New York)", "America/New_York"),
    ("Central (Chicago)", "America/Chicago"),
    ("Mountain (Denver)", "America/Denver"),
    ("Mountain, no daylight saving (Phoenix)", "America/Phoenix"),
    ("Pacific (Los Angeles)", "America/Los_Angeles"),
    ("Alaska (Anchorage)", "America/Anchorage"),
    ("Hawaii (Honolulu)", "Pacific/Honolulu"),
    ("Atlantic (Puerto Rico)", "America/Puerto_Rico"),
    ("UK (London)", "Europe/London"),
)
MatchingForm = Annotated[FormData, Depends(FormChecker(MAX_FORM_FIELDS))]

router = APIRouter()


@functools.cache
def other_zones() -> tuple[str, ...]:
    """Every IANA zone named Area/City, sorted, but the common ones (listed first)."""
    common = {zone for _, zone in COMMON_ZONES}
    return tuple(
        sorted(z for z in known_zones() if "/" in z and z[0].isupper() and z not in common)
    )


@dataclass
class MatchingView:
    """What the matching template shows."""

    file_name: str
    sheet: str | None
    sheets: list[str]
    header_row: int  # the row read as the column names
    columns: list[ColumnOption]
    groups: list[tuple[str, list[FieldRow]]]
    questions: list[Question]
    known_formats: list[tuple[str, str, str]]
    zone_shown: bool
    zone_required: bool
    zone_reason: str
    time_zone: str
    phone_shown: bool  # a phone column is chosen: ask the country of its numbers
    phone_country: str  # the country chosen on the page; "": the time zone's
    phone_reason: str  # which country the numbers are read in, and why
    name: str
    file: str  # the file the mapping would be saved as ("" when the name cannot make one)
    existing: Existing | None  # a different mapping already under that file name
    replace: bool  # the box to replace ``existing`` is ticked
    saved_fits: list[MappingKnowledge]  # saved mappings (not ``file``) that fit these columns
    second_mapping: bool  # the box to save beside ``saved_fits`` is ticked
    problems: list[str]  # what the last form did wrong, choices that rule each other out
    still_open: list[OpenQuestion]  # what must be chosen before saving
    notes: list[str]  # the assistant's notes (no appointment id, ...)
    unused: list[str]  # columns no field uses
    cancelled: str  # which rows the export marks as not going ahead ("" none): never sent
    preview: SheetPreview | None
    preview_blocked: str  # why there is no preview
    common_zones: tuple[tuple[str, str], ...] = COMMON_ZONES
    zones: tuple[str, ...] = field(default_factory=other_zones)
    countries: tuple[tuple[str, str], ...] = field(default_factory=countries)


def build_view(upload: Upload, matching: Matching, settings: WebSettings) -> MatchingView:
    """The page for ``matching`` as its choices stand; never raises for bad choices."""
    made = current_proposal(matching)
    proposal = made.answered
    problems = list(matching.messages) + [p for p in made.problems if p not in matching.messages]
    still_open = open_questions(proposal) if proposal is not None else []
    preview, blocked, mapping = None, "", None
    if proposal is None:
        blocked = "The preview shows once the choices above fit together."
    elif still_open:
        blocked = "The preview shows once everything listed as still to choose is chosen."
    else:
        try:
            mapping = proposal.to_mapping()
            preview = preview_sheet(matching.frame, mapping, settings.preview_events)
        except MappingError as exc:
            problems += exc.problems or [str(exc)]
            blocked = "The preview shows once the choices make a valid mapping."
    try:
        file = mapping_file_name(matching.name)
    except SaveRefused:
        file = ""
    existing = existing_mapping(settings.mappings_dir, file, mapping) if file else None
    zone_shown, zone_required, zone_reason = zone_question(matching)
    return MatchingView(
        file_name=upload.file_name,
        sheet=matching.sheet,
        sheets=matching.sheets,
        header_row=matching.header_row,
        columns=column_options(matching),
        groups=field_groups(matching),
        questions=questions(made.guessed, matching) if made.guessed else [],
        known_formats=known_formats(made.guessed) if made.guessed else [],
        zone_shown=zone_shown,
        zone_required=zone_required,
        zone_reason=zone_reason,
        time_zone=matching.time_zone,
        phone_shown="participant_phone" in matching.choices,
        phone_country=matching.phone_region,
        phone_reason=proposal.phone_region.reason if proposal is not None else "",
        name=matching.name,
        file=file,
        existing=existing if existing is not None and not existing.same else None,
        replace=bool(file) and matching.replace == file,
        saved_fits=[k for k in matching.saved_fits or [] if k.file != file],
        second_mapping=matching.second_mapping,
        problems=problems,
        still_open=still_open,
        notes=list(proposal.notes) if proposal else [],
        unused=list(proposal.unmatched) if proposal else [],
        cancelled=_cancelled_words(proposal),
        preview=preview,
        preview_blocked=blocked,
    )


def _start(
    upload: Upload, sheet: str | None, name: str = "", header_row: int | None = None
) -> Matching:
    name = name or default_name(upload.file_name)
    return start_matching(upload, sheet, sheet_names(upload.path), name, header_row)


async def _start_in_turn(
    web: WebServices,
    upload: Upload,
    sheet: str | None,
    name: str = "",
    header_row: int | None = None,
) -> Matching:
    """:func:`_start` in a worker thread and in its turn (the sheet is read whole): the page
    goes on answering everyone else meanwhile."""

    def start() -> Matching:
        with web.reading():
            return _start(upload, sheet, name, header_row)

    return await run_in_threadpool(start)


def _headers(upload: Upload, matching: Matching) -> SheetHeaders:
    """The sheet being matched, its headers already read."""
    known = {matching.sheet: [str(c) for c in matching.frame.columns]}
    return SheetHeaders(upload.path, matching.sheet, known)


def _saved_fits(upload: Upload, matching: Matching, settings: WebSettings) -> None:
    """Look once for the saved mappings that fit the sheet, and what they already sent of it."""
    if matching.saved_fits is None:
        sheets = _headers(upload, matching)
        try:
            found = fitting_knowledge(settings.mappings_dir, sheets, settings.ledger_path)
        except ImporterError:
            found = []
        matching.saved_fits = found


def _second_mapping_refused(
    upload: Upload, matching: Matching, file: str, settings: WebSettings
) -> str:
    """Why the mapping is not saved yet: saved mappings fit these columns and the person has
    not said to save another one beside them ("" when nothing stops it)."""
    if matching.second_mapping:
        return ""
    ranked = rank_mappings(settings.mappings_dir, _headers(upload, matching))
    fits = [f.title for f in ranked if f.fits and f.file != file]
    if not fits:
        return ""
    named = ", ".join(f"“{title}”" for title in fits)
    which = f"mapping {named} already reads" if len(fits) == 1 else f"mappings {named} already read"
    return (
        f"Not saved yet: the saved {which} these columns, and a second "
        "mapping for the same export can send the same appointments again. Review the file "
        "with the saved one, or tick “Save a second mapping anyway”."
    )


def _save(upload: Upload, matching: Matching, settings: WebSettings) -> str | None:
    """Save the mapping the choices make: its file name, or None with the reasons in messages."""
    made = current_proposal(matching)
    problems = list(made.problems)
    if not matching.name:
        problems.append("Give the mapping a name: it is saved under that name.")
    if made.answered is not None and open_questions(made.answered):
        problems.append("Not saved yet: first choose what is listed under “Still to choose”.")
    try:
        file = mapping_file_name(matching.name) if matching.name else ""
    except SaveRefused:
        file = ""  # said below, when the proposal is saved
    if file and (refused := _second_mapping_refused(upload, matching, file, settings)):
        problems.append(refused)
    if problems or made.answered is None:
        matching.messages = problems
        return None
    try:
        file = mapping_file_name(made.answered.name)
        return save_mapping(settings.mappings_dir, made.answered, replace=matching.replace == file)
    except SaveRefused as exc:
        matching.messages = [str(exc)]
    except MappingError as exc:
        matching.messages = exc.problems or [str(exc)]
    return None


@router.get("/uploads/{token}/columns")
def columns_page(request: Request, upload: KnownUpload, web: Services) -> Response:
    if upload.run_id is not None:
        return RedirectResponse(f"/runs/{upload.run_id}", status_code=303)
    with web.reading():  # the sheet is read whole, and previewed: one upload at a time
        if upload.matching is None:
            try:
                upload.matching = _start(upload, upload.sheet)
            except ImporterError as exc:
                return web.problem_page(
                    request, 400, "This file cannot be read", plain_message(exc, upload)
                )
        _saved_fits(upload, upload.matching, web.settings)
        view = build_view(upload, upload.matching, web.settings)
    return web.page(request, "matching.html", step=2, upload=upload, view=view)


@router.post("/uploads/{token}/columns")
async def match_columns(
    token: str, form: MatchingForm, upload: KnownUpload, web: Services
) -> Response:
    here = f"/uploads/{token}/columns"
    if upload.run_id is not None:
        return RedirectResponse(f"/runs/{upload.run_id}", status_code=303)
    matching: Matching | None = upload.matching
    if matching is None:  # the server forgot (restart): start again from the assistant
        return RedirectResponse(here, status_code=303)
    sheet = str(form.get("sheet") or "")
    if sheet and sheet != matching.sheet and sheet in matching.sheets:
        try:  # another sheet: other columns, so the assistant starts again
            upload.matching = await _start_in_turn(web, upload, sheet, str(form.get("name") or ""))
        except ImporterError as exc:
            matching.messages = [plain_message(exc, upload)]
        return RedirectResponse(here, status_code=303)
    header_row = str(form.get("header_row") or "").strip()
    if header_row and header_row != str(matching.header_row):
        # Other column names: the assistant starts again from the row the person chose.
        if not header_row.isdigit() or int(header_row) < 1:
            matching.messages = [f"“{header_row}” is not a row number: write 1 or more."]
            return RedirectResponse(here + "#problems", status_code=303)
        try:
            name = str(form.get("name") or "")
            upload.matching = await _start_in_turn(
                web, upload, matching.sheet, name, int(header_row)
            )
        except ImporterError as exc:
            matching.messages = [plain_message(exc, upload)]
        return RedirectResponse(here, status_code=303)
    read_choices(matching, form)
    matching.messages = []
    if form.get("action") != "save":
        return RedirectResponse(here + "#preview", status_code=303)
    saved = _save(upload, matching, web.settings)
    if saved is None:
        return RedirectResponse(here + "#problems", status_code=303)
    upload.mapping_file = saved
    # A sheet per day: the mapping reads every sheet of these columns (its ``sheets:``), and so
    # does the review, so that no day's patients are left out unseen (one sheet is a choice there).
    upload.sheet = None if matching.alike else matching.sheet
    upload.review = None
    return RedirectResponse(f"/uploads/{token}", status_code=303)


def _cancelled_words(proposal: Proposal | None) -> str:
    """The rows a status column marks as not going ahead, in words ("" when none)."""
    guess = proposal.cancelled if proposal is not None else None
    if guess is None or not guess.values:
        return ""
    shown = ", ".join(repr(v) for v in guess.values)
    return (
        f"Rows marked {shown} in {guess.column!r} are not sent: those appointments do not go "
        "ahead, so they get no reminder."
    )
