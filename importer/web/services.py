"""What every page shares, and the FastAPI dependencies that hand it to the routes.

``create_app`` makes one :class:`WebServices` per app and keeps it on ``app.state.web``; a route
asks for it with a ``web: Services`` parameter, for the upload of its ``{token}`` with
``upload: KnownUpload`` (404 when unknown), and for a POSTed form with ``form: CheckedForm`` (CSRF
checked: 403 page when the token does not match). A route taking both lists the form first, so a
form without its token is refused before anything else is looked at.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from importer.web.runs import RunBook
from importer.web.security import CSRF_FIELD, Guard
from importer.web.settings import WebSettings
from importer.web.uploads import Upload, UploadStore
from importer.web.words import (
    count_words,
    local_time,
    report_kinds,
    status_words,
    without_row,
)

TEMPLATES_DIR = Path(__file__).parent / "templates"
DEFAULT_MAX_FORM_FIELDS = 10  # the CSRF token, a choice and the buttons


def page_templates() -> Jinja2Templates:
    """The page's Jinja templates with the filters they use for words, counts and times."""
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    templates.env.filters.update(
        local_time=local_time,
        count_words=count_words,
        report_kinds=report_kinds,
        status_words=status_words,
        without_row=without_row,
    )
    return templates


@dataclass
class WebServices:
    """What the routes share: settings, the guard, uploads, runs and the templates."""

    settings: WebSettings
    guard: Guard
    uploads: UploadStore
    runs: RunBook
    templates: Jinja2Templates
    _reads: threading.BoundedSemaphore = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._reads = threading.BoundedSemaphore(self.settings.reads_at_once)

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Hold one of the ``settings.reads_at_once`` turns to read, check or plan a whole
        upload: a request that would be one more waits (in its worker thread) until one ends,
        so the memory of many people's uploads at once is that of one (see the setting)."""
        with self._reads:
            yield

    @classmethod
    def start(cls, settings: WebSettings) -> WebServices:
        """Fresh services for ``settings``: a new private upload folder, a new CSRF secret."""
        return cls(
            settings=settings,
            guard=Guard(
                settings.password,
                allowed_hosts=settings.allowed_hosts,
                secure_cookies=settings.tls,
            ),
            uploads=UploadStore(
                settings.upload_ttl_seconds,
                max_waiting=settings.max_waiting_uploads,
                max_total_bytes=settings.max_uploads_total_bytes,
                parent=settings.uploads_parent,
            ),
            runs=RunBook(settings.runs_dir, settings.keep_reports_days),
            templates=page_templates(),
        )

    def close(self) -> None:
        """Let a run in progress finish, then delete every upload left."""
        self.runs.close()
        self.uploads.close()

    def page(self, request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
        """The template ``name`` filled with ``context``, the upload limit and the CSRF token."""
        context.setdefault("max_upload_mb", self.settings.max_upload_bytes / (1024 * 1024))
        context[CSRF_FIELD] = self.guard.csrf_token(request)
        return self.templates.TemplateResponse(request, name, context, status_code=status_code)

    def problem_page(
        self, request: Request, status_code: int, title: str, message: str
    ) -> Response:
        """A page saying what went wrong, in words for the person using the page."""
        return self.page(request, "problem.html", status_code, title=title, message=message)

    def upload_or_404(self, token: str) -> Upload:
        """The upload of ``token``; HTTP 404 (the "not found" page) when it is not known."""
        upload = self.uploads.get(token)
        if upload is None:
            raise StarletteHTTPException(404, "upload")
        return upload


def services_of(request: Request) -> WebServices:
    """The services of the app serving ``request`` (kept on ``app.state.web``)."""
    services: WebServices = request.app.state.web
    return services


async def web_services(request: Request) -> WebServices:
    """The dependency behind :data:`Services`."""
    return services_of(request)


Services = Annotated[WebServices, Depends(web_services)]


async def known_upload(token: str, web: Services) -> Upload:
    """The upload named by the route's ``{token}``; 404 when unknown or expired."""
    return web.upload_or_404(token)


KnownUpload = Annotated[Upload, Depends(known_upload)]


class FormChecker:
    """A dependency reading a POSTed form (no files) and checking its CSRF token.

    Raises CsrfRefused (the "form has expired" page) when the token is not the session's.
    """

    def __init__(self, max_fields: int = DEFAULT_MAX_FORM_FIELDS) -> None:
        self.max_fields = max_fields

    async def __call__(self, request: Request, web: Services) -> FormData:
        form = await request.form(max_files=0, max_fields=self.max_fields)
        web.guard.check_form(request, form.get(CSRF_FIELD))
        return form


CheckedForm = Annotated[FormData, Depends(FormChecker())]


def safe_stem(file_name: str) -> str:
    """The stem of ``file_name`` fit for a download's name: letters, digits, ``-_.``, 60 at most."""
    stem = Path(file_name).stem
    kept = "".join(c if c.isalnum() or c in "-_." else "-" for c in stem).strip("-.")
    return kept[:60] or "import"
