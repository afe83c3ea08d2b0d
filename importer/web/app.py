"""The page's routes: upload -> review -> send (once) -> progress -> result and reports.

Every form is a POST carrying the session's CSRF token and answered with a redirect
(POST-redirect-GET), so a reload never posts again; sending an upload a second time (double
click, back button, another tab) leads to the run the first POST started.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from importer.errors import ConfigError, ImporterError
from importer.ledger import held_by_another, utc_now
from importer.pipeline import RunRequest
from importer.report import write_report
from importer.web.fitting import SheetHeaders, best_fit, rank_mappings
from importer.web.matching_page import PageTools, add_matching_routes
from importer.web.review import (
    Review,
    build_review,
    check_results,
    client_config,
    mapping_of,
    offered_mappings,
    plain_message,
)
from importer.web.runs import REPORT_CSV, REPORT_XLSX, RunBook, RunRecord
from importer.web.security import CSRF_FIELD, CsrfRefused, Guard
from importer.web.settings import WebSettings
from importer.web.upload_form import (
    FIND_MAPPING,
    MATCH_COLUMNS,
    UploadRefused,
    read_upload_form,
    store_upload,
)
from importer.web.uploads import ACCEPT_ATTRIBUTE, Upload, UploadStore
from importer.web.words import count_words, local_time, status_words, without_row

log = logging.getLogger("importer.web")
HERE = Path(__file__).parent
REPORT_TYPES = {
    "csv": (REPORT_CSV, "text/csv; charset=utf-8"),
    "xlsx": (
        REPORT_XLSX,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
}


@dataclass
class WebState:
    """What the routes share: settings, the guard, uploads and runs."""

    settings: WebSettings
    guard: Guard
    uploads: UploadStore
    runs: RunBook

    def close(self) -> None:
        """Let a run in progress finish, then delete every upload left."""
        self.runs.close()
        self.uploads.close()


def create_app(settings: WebSettings | None = None) -> FastAPI:
    """The web page as an ASGI app; its private upload folder exists until the app shuts down."""
    settings = settings or WebSettings()
    state = WebState(
        settings=settings,
        guard=Guard(settings.password),
        uploads=UploadStore(settings.upload_ttl_seconds),
        runs=RunBook(settings.runs_dir),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            state.close()

    app = FastAPI(
        title="Apptoto import", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.web = state
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters.update(
        local_time=local_time,
        count_words=count_words,
        status_words=status_words,
        without_row=without_row,
    )
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.middleware("http")(state.guard.middleware)

    def page(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
        context.setdefault("max_upload_mb", settings.max_upload_bytes / (1024 * 1024))
        context[CSRF_FIELD] = state.guard.csrf_token(request)
        return templates.TemplateResponse(request, name, context, status_code=status_code)

    def problem_page(request: Request, status_code: int, title: str, message: str) -> Response:
        return page(request, "problem.html", status_code, title=title, message=message)

    async def checked_form(request: Request, max_fields: int = 10) -> Any:
        form = await request.form(max_files=0, max_fields=max_fields)
        state.guard.check_form(request, form.get(CSRF_FIELD))
        return form

    def upload_or_404(token: str) -> Upload:
        upload = state.uploads.get(token)
        if upload is None:
            raise StarletteHTTPException(404, "upload")
        return upload

    def upload_page(request: Request, status_code: int = 200, problem: str = "") -> Response:
        return page(
            request,
            "upload.html",
            status_code,
            step=1,
            mappings=offered_mappings(settings.mappings_dir),
            mappings_dir=str(settings.mappings_dir),
            accept=ACCEPT_ATTRIBUTE,
            max_upload_bytes=settings.max_upload_bytes,
            past_runs=state.runs.past(settings.past_runs),
            problem=problem,
        )

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, exc: CsrfRefused) -> Response:
        return problem_page(
            request,
            403,
            "This form has expired",
            "The page was open too long, the server was restarted, or the form came from "
            "another site. Go back, reload the page and try again.",
        )

    @app.exception_handler(StarletteHTTPException)
    async def not_found(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return problem_page(
                request,
                404,
                "Not found",
                "This upload or run is not known here any more (uploads are kept until they are "
                "sent, or for a few hours; the server may have been restarted). Upload the file "
                "again.",
            )
        return problem_page(request, exc.status_code, "This did not work", str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.error("unexpected error on %s", request.url.path, exc_info=exc)
        return problem_page(
            request,
            500,
            "Something went wrong",
            "The page hit an unexpected error; nothing was sent because of it. The details are "
            "in the server's log.",
        )

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        return upload_page(request)

    @app.post("/upload")
    async def upload(request: Request) -> Response:
        limit = settings.max_upload_bytes
        try:
            fields, form = await read_upload_form(request, limit)
        except UploadRefused as exc:
            return upload_page(request, exc.status_code, problem=str(exc))
        try:
            state.guard.check_form(request, fields.csrf_token)
            offered = {m.file for m in offered_mappings(settings.mappings_dir)}
            if fields.mapping_file not in offered | {FIND_MAPPING, MATCH_COLUMNS}:
                return upload_page(request, 400, problem="Choose one of the mappings in the list.")
            received = await store_upload(fields, state.uploads, limit)
        except UploadRefused as exc:
            return upload_page(request, exc.status_code, problem=str(exc))
        finally:
            await form.close()
        if received.mapping_file == MATCH_COLUMNS:
            received.mapping_file = ""
            state.uploads.add(received)
            return RedirectResponse(f"/uploads/{received.token}/columns", status_code=303)
        state.uploads.add(received)
        return RedirectResponse(f"/uploads/{received.token}", status_code=303)

    @app.get("/uploads/{token}", response_class=HTMLResponse)
    def review_page(request: Request, token: str) -> Response:
        upload = upload_or_404(token)
        if upload.run_id is not None:
            return RedirectResponse(f"/runs/{upload.run_id}", status_code=303)
        if not upload.mapping_file:  # the saved mapping that fits, else the matching step
            try:
                found = best_fit(settings.mappings_dir, SheetHeaders(upload.path, upload.sheet))
            except ImporterError as exc:
                review = Review(file_name=upload.file_name, problem=plain_message(exc, upload))
                return page(request, "review.html", step=3, upload=upload, review=review)
            if found is None:
                return RedirectResponse(f"/uploads/{token}/columns", status_code=303)
            upload.mapping_file = found
        review = build_review(upload, settings)
        upload.review = review
        known = {review.sheet: review.headers} if review.prepared is not None else {}
        try:
            ranked = rank_mappings(
                settings.mappings_dir, SheetHeaders(upload.path, upload.sheet, known)
            )
        except ImporterError:
            ranked = []
        return page(request, "review.html", step=3, upload=upload, review=review, mappings=ranked)

    @app.post("/uploads/{token}/mapping")
    async def choose_mapping(request: Request, token: str) -> Response:
        form = await checked_form(request)
        upload = upload_or_404(token)
        chosen = str(form.get("mapping") or "")
        offered = {m.file for m in offered_mappings(settings.mappings_dir)}
        if upload.run_id is None and chosen in offered:
            upload.mapping_file = chosen
            upload.review = None
        return RedirectResponse(f"/uploads/{token}", status_code=303)

    @app.post("/uploads/{token}/sheet")
    async def choose_sheet(request: Request, token: str) -> Response:
        form = await checked_form(request)
        upload = upload_or_404(token)
        sheet = str(form.get("sheet") or "")
        if upload.run_id is None and (sheet or None) != upload.sheet:
            upload.sheet = sheet or None
            upload.matching = None  # another sheet has other columns to match
        return RedirectResponse(f"/uploads/{token}", status_code=303)

    @app.get("/uploads/{token}/check.csv")
    def check_report(request: Request, token: str) -> Response:
        upload = upload_or_404(token)
        review: Review | None = upload.review
        if review is None or review.prepared is None or review.plan is None:
            raise StarletteHTTPException(404, "review")
        target = state.uploads.folder / f"{upload.token}-check.csv"
        write_report(target, review.prepared.source, check_results(review.plan))
        return FileResponse(
            target, media_type="text/csv; charset=utf-8", filename=_download_name(upload, "check")
        )

    @app.post("/uploads/{token}/send")
    async def send(request: Request, token: str) -> Response:
        await checked_form(request)
        upload = upload_or_404(token)
        if upload.run_id is not None:  # sent already: show that run, never a second one
            return RedirectResponse(f"/runs/{upload.run_id}", status_code=303)
        try:
            mapping = mapping_of(upload, settings)
            config = client_config(settings)
        except ConfigError as exc:
            return problem_page(request, 400, "Nothing was sent", str(exc))
        except ImporterError as exc:
            return problem_page(request, 400, "Nothing was sent", plain_message(exc, upload))
        if held_by_another(settings.ledger_path):  # the upload stays, to be sent later
            return problem_page(
                request,
                409,
                "Nothing was sent",
                "Another import is running right now. Go back, wait until it has finished, "
                "reload the review and send again.",
            )
        run_id, first = state.uploads.claim_run(upload, state.runs.new_id())
        if not first:
            return RedirectResponse(f"/runs/{run_id}", status_code=303)
        review: Review | None = upload.review
        folder = state.runs.runs_dir / run_id
        record = RunRecord(
            run_id=run_id,
            file_name=upload.file_name,
            mapping_file=upload.mapping_file,
            mapping_title=mapping.name,
            sheet=upload.sheet or (review.sheet if review else None),
            started_at=utc_now(),
        )
        request_ = RunRequest(
            source=upload.path,
            mapping=mapping,
            client_config=config,
            sheet=record.sheet,
            report_path=folder / REPORT_CSV,
            ledger_path=settings.ledger_path,
            source_name=upload.file_name,
        )
        try:
            state.runs.start(
                record,
                request_,
                source=lambda: _source_frame(upload, settings),
                cleanup=lambda: state.uploads.remove_file(upload),
            )
        except (ImporterError, OSError) as exc:
            state.uploads.release_run(upload)
            return problem_page(
                request, 500, "Nothing was sent", f"The run could not be started: {exc}"
            )
        return RedirectResponse(f"/runs/{run_id}", status_code=303)

    @app.get("/runs/{run_id}", response_class=HTMLResponse)
    def run_page(request: Request, run_id: str) -> Response:
        found = state.runs.get(run_id)
        if found is None:
            raise StarletteHTTPException(404, "run")
        record, progress = found
        done, total, label = progress.snapshot() if progress else (0, 0, "")
        folder = state.runs.folder(run_id)
        reports = [
            kind
            for kind, (name, _) in REPORT_TYPES.items()
            if folder is not None and (folder / name).is_file()
        ]
        return page(
            request,
            "run.html",
            step=5 if record.finished else 4,
            run=record,
            done=done,
            total=total,
            label=label,
            reports=reports if record.finished else [],
            past_runs=state.runs.past(settings.past_runs),
        )

    @app.get("/runs/{run_id}/progress")
    def run_progress(run_id: str) -> Response:
        found = state.runs.get(run_id)
        if found is None:
            return JSONResponse({"error": "unknown run"}, status_code=404)
        record, progress = found
        done, total, label = progress.snapshot() if progress else (0, 0, "")
        return JSONResponse(
            {
                "state": record.state,
                "finished": record.finished,
                "done": done,
                "total": total,
                "label": label,
            }
        )

    @app.get("/runs/{run_id}/report.{kind}")
    def run_report(run_id: str, kind: str) -> Response:
        found = state.runs.get(run_id)
        folder = state.runs.folder(run_id)
        if found is None or folder is None or kind not in REPORT_TYPES or not found[0].finished:
            raise StarletteHTTPException(404, "report")
        name, media_type = REPORT_TYPES[kind]
        if not (folder / name).is_file():
            raise StarletteHTTPException(404, "report")
        stem = _safe_stem(found[0].file_name)
        return FileResponse(folder / name, media_type=media_type, filename=f"{stem}-report.{kind}")

    add_matching_routes(
        app,
        PageTools(
            settings=settings,
            page=page,
            problem_page=problem_page,
            checked_form=checked_form,
            upload_or_404=upload_or_404,
        ),
    )
    return app


def _safe_stem(file_name: str) -> str:
    stem = Path(file_name).stem
    kept = "".join(c if c.isalnum() or c in "-_." else "-" for c in stem).strip("-.")
    return kept[:60] or "import"


def _download_name(upload: Upload, what: str) -> str:
    return f"{_safe_stem(upload.file_name)}-{what}.csv"


def _source_frame(upload: Upload, settings: WebSettings) -> Any:
    """The sheet's input columns for the XLSX report: from the review, else read again."""
    review: Review | None = upload.review
    if review is not None and review.prepared is not None:
        return review.prepared.source
    from importer.prepare import prepare

    return prepare(upload.path, mapping_of(upload, settings), sheet=upload.sheet).source
