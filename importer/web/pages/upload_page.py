"""Step 1, the upload page: ``GET /`` shows the form and the past runs, ``POST /upload`` takes it.

A good upload is answered with a redirect to its review (or to matching its columns, when the
person chose to do that); a refused one shows the form again with the reason.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from importer.web.review import offered_mappings
from importer.web.services import Services, WebServices
from importer.web.upload_form import (
    FIND_MAPPING,
    MATCH_COLUMNS,
    UploadRefused,
    read_upload_form,
    store_upload,
)
from importer.web.uploads import ACCEPT_ATTRIBUTE, StoreFull

router = APIRouter()


def upload_page(
    web: WebServices, request: Request, status_code: int = 200, problem: str = ""
) -> Response:
    """The upload form, the saved mappings to choose from and the past runs."""
    settings = web.settings
    return web.page(
        request,
        "upload.html",
        status_code,
        step=1,
        mappings=offered_mappings(settings.mappings_dir),
        mappings_dir=str(settings.mappings_dir),
        accept=ACCEPT_ATTRIBUTE,
        max_upload_bytes=settings.max_upload_bytes,
        past_runs=web.runs.past(settings.past_runs),
        problem=problem,
    )


@router.get("/", response_class=HTMLResponse)
def home(request: Request, web: Services) -> Response:
    return upload_page(web, request)


@router.post("/upload")
async def upload(request: Request, web: Services) -> Response:
    settings = web.settings
    limit = settings.max_upload_bytes
    try:
        web.uploads.check_room()  # before the body is read: a full store takes no more bytes
    except StoreFull as exc:
        return upload_page(web, request, 503, problem=str(exc))
    try:
        fields, form = await read_upload_form(request, limit)
    except UploadRefused as exc:
        return upload_page(web, request, exc.status_code, problem=str(exc))
    try:
        web.guard.check_form(request, fields.csrf_token)
        offered = {m.file for m in offered_mappings(settings.mappings_dir)}
        if fields.mapping_file not in offered | {FIND_MAPPING, MATCH_COLUMNS}:
            return upload_page(web, request, 400, problem="Choose one of the mappings in the list.")
        received = await store_upload(fields, web.uploads, limit)
    except UploadRefused as exc:
        return upload_page(web, request, exc.status_code, problem=str(exc))
    finally:
        await form.close()
    if received.mapping_file == MATCH_COLUMNS:
        received.mapping_file = ""
        web.uploads.add(received)
        return RedirectResponse(f"/uploads/{received.token}/columns", status_code=303)
    web.uploads.add(received)
    return RedirectResponse(f"/uploads/{received.token}", status_code=303)
