"""The page in-process (Starlette's TestClient) against the shared sandbox, with its own API key:
the ``client`` and ``keyed_sandbox`` fixtures of every page test (registered in conftest.py)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from importer.web import WebSettings, create_app
from tests.helpers import MAPPINGS, PAGE_URL, env_for

with warnings.catch_warnings():  # httpx (not httpx2) behind the TestClient: still works
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

API_KEY = "web-test-key-9d2e"


def settings_for(tmp_path: Path, environ: dict[str, str], **changes: Any) -> WebSettings:
    values: dict[str, Any] = {
        "mappings_dir": MAPPINGS,
        "ledger_path": tmp_path / "state.sqlite",
        "runs_dir": tmp_path / "runs",
        "environ": environ,
    }
    values.update(changes)
    return WebSettings(**values)


@pytest.fixture
def keyed_sandbox(sandbox: Any) -> Any:
    sandbox.configure(api_key=API_KEY)
    return sandbox


@pytest.fixture
def client(keyed_sandbox: Any, tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(
        base_url=PAGE_URL, app=create_app(settings_for(tmp_path, env_for(keyed_sandbox)))
    ) as test_client:
        yield test_client
