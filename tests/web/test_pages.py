"""The page's routes: one router per step, each with the routes of its step, and no API pages."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from starlette.exceptions import StarletteDeprecationWarning
from starlette.routing import BaseRoute

from importer.web import WebSettings, create_app
from importer.web.pages import ROUTERS, columns_page, review_page, run_page, upload_page
from tests.helpers import PAGE_URL

with warnings.catch_warnings():  # httpx (not httpx2) behind the TestClient: still works
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

EXPECTED = [
    (upload_page.router, {("GET", "/"), ("POST", "/upload")}),
    (
        columns_page.router,
        {
            ("GET", "/uploads/{token}/columns"),
            ("POST", "/uploads/{token}/columns"),
        },
    ),
    (
        review_page.router,
        {
            ("GET", "/uploads/{token}"),
            ("POST", "/uploads/{token}/mapping"),
            ("POST", "/uploads/{token}/sheet"),
            ("GET", "/uploads/{token}/check.{kind}"),
            ("POST", "/uploads/{token}/send"),
        },
    ),
    (
        run_page.router,
        {
            ("GET", "/runs/{run_id}"),
            ("GET", "/runs/{run_id}/progress"),
            ("GET", "/runs/{run_id}/report.{kind}"),
        },
    ),
]


def routes_of(routes: Sequence[BaseRoute]) -> set[tuple[str, str]]:
    return {
        (method, route.path)
        for route in routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }


def test_each_step_has_its_own_router() -> None:
    assert list(ROUTERS) == [router for router, _ in EXPECTED]
    for router, expected in EXPECTED:
        assert routes_of(router.routes) == expected


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json"])
def test_the_app_serves_no_api_pages(tmp_path: Path, path: str) -> None:
    app = create_app(WebSettings(runs_dir=tmp_path / "runs", environ={}))
    try:
        answer = TestClient(base_url=PAGE_URL, app=app).get(path)
        assert answer.status_code == 404
        assert "Not found" in answer.text
    finally:
        app.state.web.close()


@pytest.mark.parametrize("step", ["mapping", "sheet", "send", "columns"])
def test_a_form_without_its_token_is_refused_before_the_upload_is_looked_up(
    tmp_path: Path, step: str
) -> None:
    app = create_app(WebSettings(runs_dir=tmp_path / "runs", environ={}))
    try:
        client = TestClient(base_url=PAGE_URL, app=app)
        client.get("/")  # a session, but the form below does not carry its token
        answer = client.post(f"/uploads/{'x' * 32}/{step}", data={"csrf_token": "0" * 64})
        assert answer.status_code == 403
        assert "This form has expired" in answer.text
        assert client.get(f"/uploads/{'x' * 32}").status_code == 404
    finally:
        app.state.web.close()
