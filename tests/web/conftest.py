"""Fixtures of the browser tests: a Chromium page, and the page served with a mappings folder of
its own that holds the clinic's mapping."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from importer.web.server import WebHandle, running_web
from importer.web.settings import WebSettings
from tests.helpers import CLINIC_MAPPING, env_for
from tests.web.browsing import API_KEY, chromium_page
from tests.web.page_client import client, keyed_sandbox  # noqa: F401 (fixtures of the page tests)


@pytest.fixture
def browser_page() -> Iterator[Any]:
    with chromium_page() as page:
        yield page


@pytest.fixture
def matching_web(sandbox: Any, tmp_path: Path) -> Iterator[WebHandle]:
    sandbox.configure(api_key=API_KEY)
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    shutil.copyfile(CLINIC_MAPPING, mappings / "clinic.yaml")
    settings = WebSettings(
        mappings_dir=mappings,
        ledger_path=tmp_path / "state.sqlite",
        runs_dir=tmp_path / "runs",
        environ=env_for(sandbox, api_key=API_KEY),
    )
    with running_web(settings) as handle:
        yield handle
