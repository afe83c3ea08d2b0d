"""Shared fixtures: the sandbox server that plays Apptoto on loopback, and the root logger kept.

One server runs for the whole session (starting and stopping one costs about 0.2 s); the
function-scoped ``sandbox`` fixture resets it before each test: no events, no request log, the
start-up settings (limits, faults, credentials) back in force.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from importer import cancels
from importer.paths import ENV_HOME
from importer.sandbox.server import SandboxHandle, running_sandbox
from importer.sandbox.settings import SandboxSettings


@pytest.fixture(autouse=True)
def data_folder(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's own data folder (``APPTOTO_IMPORT_HOME``): never the user's real ledger, and no
    ledger or mapping left over from another test. Processes the test starts inherit it."""
    folder = tmp_path_factory.mktemp("data-folder")
    monkeypatch.setenv(ENV_HOME, str(folder))
    return folder


# --cancel-missing leaves alone the events of visits already over. The samples' visits are on
# 14 December 2026, and the rows tests write are in December 2026: tests judge "over" against
# this moment, not the day they run, so that they pass after those dates too. Tests of that
# rule pass their own moment (PlanOptions.now).
PLAN_NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def planned_before_the_samples(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plans made in this process judge which events are over at :data:`PLAN_NOW`."""
    monkeypatch.setattr(cancels, "present", lambda: PLAN_NOW)


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxHandle]:
    """The session's sandbox server; use ``sandbox`` in tests, which resets it."""
    with running_sandbox(SandboxSettings()) as handle:
        yield handle


@pytest.fixture
def sandbox(sandbox_server: SandboxHandle) -> SandboxHandle:
    """A sandbox with nothing stored and default settings (user ``demo@clinic.example``)."""
    sandbox_server.reset(startup_settings=True)
    return sandbox_server


@pytest.fixture
def sandbox_api(sandbox: SandboxHandle) -> Iterator[httpx.Client]:
    """A plain httpx client on the sandbox's /v1 with its credentials (paths like ``events``)."""
    with httpx.Client(base_url=sandbox.base_url, auth=sandbox.auth, timeout=10.0) as client:
        yield client


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """The CLI replaces the root logger's handlers; put pytest's back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers, root.level = handlers, level
