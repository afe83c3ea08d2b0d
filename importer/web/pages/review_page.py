"""Step 3, the review of an upload, and the send that starts its run (once).

``GET /uploads/{token}`` shows what would be sent with the mapping that fits (or sends the person
on to match the columns when none fits); ``POST .../mapping`` and ``.../sheet`` change the choice;
``GET .../check.csv`` (or ``.xlsx``) downloads the review as a report; ``POST .../send`` starts
the run and redirects to it. Sending again (double click, back button, another tab) leads to the
same run.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.background import BackgroundTask
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from importer.client import ClientConfig
from importer.errors import ConfigError, ImporterError
from importer.ledger import held_by_another, utc_now
from importer.mapping import Mapping
from importer.pipeline import RunRequest, run_import
from importer.plan import PlanOptions
from importer.report import write_report_table
from importer.several_sheets import sheets_report
from importer.web.choosing import (
    MappingKnowledge,
    better_mapping,
    fitting_knowledge,
    pick_mapping,
)
from importer.web.fitting import SheetHeaders, rank_mappings
from importer.web.held import MAX_HELD_SHOWN, SEND_ANYWAY_FIELD, ticked_rows
from importer.web.review import (
    Review,
    build_review,
    check_results,
    client_config,
    mapping_of,
    offered_mappings,
    plain_message,
    review_request,
)
from importer.web.review_tally import ShownLimits
from importer.web.runs import REPORT_CSV, RunRecord, xlsx_of
from importer.web.services import (
    CheckedForm,
    FormChecker,
    KnownUpload,
    Services,
    WebServices,
    safe_stem,
)
from importer.web.settings import WebSettings
from importer.web.uploads import ALL_SHEETS, Upload

CHECK_TYPES = {  # the review's check, as a download
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

router = APIRouter()


@router.get("/uploads/{token}", response_class=HTMLResponse)
def review_page(request: Request, token: str, upload: KnownUpload, web: Services) -> Response:
    if upload.run_id is not None:
        return RedirectResponse(f"/runs/{upload.run_id}", status_code=303)
    with web.reading():  # the upload is read and planned whole: one at a time
        return _review_page(request, token, upload, web)


def _review_page(request: Request, token: str, upload: Upload, web: WebServices) -> Response:
    settings = web.settings
    candidates: list[MappingKnowledge] | None = None
    limits = ShownLimits.of(settings)  # what a mapping's plan keeps, for the review to reuse
    sheets = SheetHeaders(upload.path, upload.sheet)  # each sheet read once, for every ranking
    if not upload.mapping_file:  # the saved mapping that fits, else the matching step
        try:
            pick = pick_mapping(settings.mappings_dir, sheets, settings.ledger_path, limits)
        except ImporterError as exc:
            review = Review(file_name=upload.file_name, problem=plain_message(exc, upload))
            return web.page(request, "review.html", step=3, upload=upload, review=review)
        if pick.must_ask:
            return web.page(
                request, "choose.html", step=3, upload=upload, candidates=pick.candidates
            )
        if pick.file is None:
            return RedirectResponse(f"/uploads/{token}/columns", status_code=303)
        upload.mapping_file, upload.chosen_because = pick.file, pick.reason
        candidates = pick.candidates
    chosen = next((c.planned for c in candidates or [] if c.file == upload.mapping_file), None)
    review = build_review(upload, settings, chosen)
    upload.review = review
    if review.tally is not None:
        sheets.know(review.sheet, review.headers)
    try:
        ranked = rank_mappings(settings.mappings_dir, sheets)
        if candidates is None and sum(f.fits for f in ranked) > 1:
            fits = [f for f in ranked if f.fits]
            plans = {}  # the review planned the chosen mapping already
            if review.tally is not None:
                plans[upload.mapping_file] = review.tally
            candidates = fitting_knowledge(
                settings.mappings_dir, sheets, settings.ledger_path, fits, plans, limits
            )
    except ImporterError:
        ranked = []
    better = better_mapping(upload.mapping_file, candidates or [])
    return web.page(
        request, "review.html", step=3, upload=upload, review=review, mappings=ranked, better=better
    )


@router.post("/uploads/{token}/mapping")
async def choose_mapping(
    token: str, form: CheckedForm, upload: KnownUpload, web: Services
) -> Response:
    chosen = str(form.get("mapping") or "")
    offered = {m.file for m in offered_mappings(web.settings.mappings_dir)}
    if upload.run_id is None and chosen in offered:
        upload.mapping_file = chosen
        upload.chosen_because = ""  # the person chose it
        upload.review = None
    return RedirectResponse(f"/uploads/{token}", status_code=303)


@router.post("/uploads/{token}/sheet")
async def choose_sheet(token: str, form: CheckedForm, upload: KnownUpload) -> Response:
    sheet = str(form.get("sheet") or "")
    every = sheet == ALL_SHEETS  # every sheet with the mapping's columns
    chosen = None if every else sheet or None
    if upload.run_id is None and (chosen, every) != (upload.sheet, upload.all_sheets):
        upload.sheet, upload.all_sheets = chosen, every
        upload.matching = None  # another sheet has other columns to match
    return RedirectResponse(f"/uploads/{token}", status_code=303)


@router.get("/uploads/{token}/check.{kind}")
def check_report(kind: str, upload: KnownUpload, web: Services) -> Response:
    review: Review | None = upload.review
    if review is None or kind not in CHECK_TYPES:
        raise StarletteHTTPException(404, "review")
    target = web.uploads.check_path(upload, kind)
    if review.several:
        parts = [(s, p.prepared.source, check_results(p.plan)) for s, p in review.parts]
        write_report_table(target, sheets_report(parts))
    elif review.tally is not None:
        with web.reading():  # the upload is planned again, whole
            _write_check(upload, web.settings, target)
    else:
        raise StarletteHTTPException(404, "review")
    return FileResponse(
        target,
        media_type=CHECK_TYPES[kind],
        filename=f"{safe_stem(upload.file_name)}-check.{kind}",
        background=BackgroundTask(target.unlink, missing_ok=True),  # patients' details: not kept
    )


def _write_check(upload: Upload, settings: WebSettings, target: Path) -> None:
    """The review as a report at ``target``: the upload planned again a part at a time, as a
    dry run writes its report (the review kept only what the page shows)."""
    try:
        request = review_request(upload, mapping_of(upload, settings), settings)
        summary = run_import(replace(request, report_path=target))
    except ImporterError as exc:  # the mapping or the ledger changed since the review
        raise StarletteHTTPException(409, plain_message(exc, upload)) from exc
    if summary.report_path is None:  # the uploads folder could not be written
        raise StarletteHTTPException(500, "the check could not be written")


# The Send form: its token, its button, a "Send anyway" box per row held back, and the box that
# cancels the events no longer in the file.
CANCEL_FIELD = "cancel_missing"
SendForm = Annotated[FormData, Depends(FormChecker(MAX_HELD_SHOWN + 10))]


@router.post("/uploads/{token}/send")
async def send(request: Request, form: SendForm, upload: KnownUpload, web: Services) -> Response:
    if upload.run_id is not None:  # sent already: show that run, never a second one
        return RedirectResponse(f"/runs/{upload.run_id}", status_code=303)
    settings = web.settings
    review: Review | None = upload.review
    held = review.held if review is not None else []
    anyway = ticked_rows(form.getlist(SEND_ANYWAY_FIELD), held)
    # Only where the review offered it: a box sent with another upload's form cancels nothing.
    cancel = review is not None and review.cancel_offered and form.get(CANCEL_FIELD) == "yes"
    if review is not None and review.to_send == 0 and not anyway and not cancel:
        if held:
            return web.problem_page(
                request,
                400,
                "Nothing was sent",
                "Every row to send looks like an appointment already sent. To send one all the "
                "same, go back and tick “Send anyway” beside it.",
            )
        if review.cancel_offered:
            return web.problem_page(
                request,
                400,
                "Nothing was sent",
                "Every appointment of this file is already in Apptoto as it is here. To cancel "
                "the appointments no longer in the file, go back and tick the box for them.",
            )
    try:
        mapping = mapping_of(upload, settings)
        config = client_config(settings)
    except ConfigError as exc:
        return web.problem_page(request, 400, "Nothing was sent", str(exc))
    except ImporterError as exc:
        return web.problem_page(request, 400, "Nothing was sent", plain_message(exc, upload))
    if held_by_another(settings.ledger_path):  # the upload stays, to be sent later
        return web.problem_page(
            request,
            409,
            "Nothing was sent",
            "Another import is running right now. Go back, wait until it has finished, "
            "reload the review and send again.",
        )
    run_id, first = web.uploads.claim_run(upload, web.runs.new_id())
    if not first:
        return RedirectResponse(f"/runs/{run_id}", status_code=303)
    try:
        _start_run(web, upload, run_id, mapping, config, anyway, cancel=cancel)
    except (ImporterError, OSError) as exc:
        web.uploads.release_run(upload)
        return web.problem_page(
            request, 500, "Nothing was sent", f"The run could not be started: {exc}"
        )
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


def _start_run(
    web: WebServices,
    upload: Upload,
    run_id: str,
    mapping: Mapping,
    config: ClientConfig,
    anyway: frozenset[int],
    *,
    cancel: bool = False,
) -> None:
    """Start the run ``run_id`` of ``upload`` in the background; the file goes once it is done.

    ``anyway``: the rows held back as looking already sent that the person ticked to send;
    ``cancel``: the person ticked to cancel the events no longer in the file (the run decides
    which, and its guard still applies).
    """
    settings = web.settings
    review: Review | None = upload.review
    several = review is not None and review.several
    sheet = upload.sheet or (review.sheet if review else None)
    record = RunRecord(
        run_id=run_id,
        file_name=upload.file_name,
        mapping_file=upload.mapping_file,
        mapping_title=mapping.name,
        sheet=", ".join(s for s, _ in review.parts) if review and several else sheet,
        started_at=utc_now(),
    )
    report = web.runs.runs_dir / run_id / REPORT_CSV
    run_request = RunRequest(
        source=upload.path,
        mapping=mapping,
        client_config=config,
        sheet=None if several else sheet,
        all_sheets=upload.all_sheets,
        report_path=report,
        report_copies=(xlsx_of(report),),
        ledger_path=settings.ledger_path,
        plan_options=PlanOptions(allow_same_time_rows=anyway, cancel_missing=cancel),
        source_name=upload.file_name,
        part_rows=settings.part_rows,
    )
    web.runs.start(record, run_request, cleanup=lambda: web.uploads.remove_file(upload))
