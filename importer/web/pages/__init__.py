"""The page's routes, one FastAPI router per step, in the order a person goes through them.

``upload_page`` (1: upload), ``columns_page`` (2: match the columns, when no saved mapping fits),
``review_page`` (3: review, then send) and ``run_page`` (4 and 5: progress, result, reports).
Each route gets what it shares with the others through the dependencies of
:mod:`importer.web.services`.
"""

from __future__ import annotations

from fastapi import APIRouter

from importer.web.pages import columns_page, review_page, run_page, upload_page

ROUTERS: tuple[APIRouter, ...] = (
    upload_page.router,
    columns_page.router,
    review_page.router,
    run_page.router,
)

__all__ = ["ROUTERS"]
