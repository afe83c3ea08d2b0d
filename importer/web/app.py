"""The page as an ASGI app: upload -> review -> send (once) -> progress -> result and reports.

:func:`create_app` only assembles: the shared services on ``app.state.web``
(:mod:`importer.web.services`), the routers of :mod:`importer.web.pages`, the guard's middleware,
the error pages and the static files. Every form is a POST carrying the session's CSRF token and
answered with a redirect (POST-redirect-GET), so a reload never posts again.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from importer.web.pages import ROUTERS
from importer.web.security import CsrfRefused
from importer.web.services import WebServices, services_of
from importer.web.settings import WebSettings

log = logging.getLogger("importer.web")
STATIC_DIR = Path(__file__).parent / "static"


def create_app(settings: WebSettings | None = None) -> FastAPI:
    """The web page as an ASGI app; its private upload folder exists until the app shuts down."""
    web = WebServices.start(settings or WebSettings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            web.close()

    app = FastAPI(
        title="Apptoto import", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.web = web
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    app.middleware("http")(web.guard.middleware)
    app.add_exception_handler(CsrfRefused, _csrf_refused)
    app.add_exception_handler(StarletteHTTPException, _http_problem)
    app.add_exception_handler(Exception, _unexpected)
    for router in ROUTERS:
        app.include_router(router)
    return app


async def _csrf_refused(request: Request, exc: Exception) -> Response:
    return services_of(request).problem_page(
        request,
        403,
        "This form has expired",
        "The page was open too long, the server was restarted, or the form came from "
        "another site. Go back, reload the page and try again.",
    )


async def _http_problem(request: Request, exc: Exception) -> Response:
    status_code = exc.status_code if isinstance(exc, StarletteHTTPException) else 500
    detail = exc.detail if isinstance(exc, StarletteHTTPException) else ""
    if status_code == 404:
        return services_of(request).problem_page(
            request,
            404,
            "Not found",
            "This upload or run is not known here any more (uploads are kept until they are "
            "sent, or for a few hours; the server may have been restarted). Upload the file "
            "again.",
        )
    return services_of(request).problem_page(request, status_code, "This did not work", str(detail))


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.error("unexpected error on %s", request.url.path, exc_info=exc)
    return services_of(request).problem_page(
        request,
        500,
        "Something went wrong",
        "The page hit an unexpected error; nothing was sent because of it. The details are "
        "in the server's log.",
    )
