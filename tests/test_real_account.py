"""When a real account answers differently from the sandbox's reading of the docs (issue 15).

Each test turns on one of the sandbox's "difference" settings, runs the pipeline in process and
checks three things: the report tells the truth, the ledger records only what Apptoto confirmed
(so the next run repairs the rest without a duplicate), and the number of requests stays bounded.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from importer.exit_codes import exit_code_for
from importer.pipeline import RunRequest, RunSummary, run_import
from importer.plan import PlanOptions
from importer.sandbox.server import SandboxHandle
from tests.helpers import read_report
from tests.test_server_faults import MAPPING, fast_config, live_events, statuses, write_rows


def run(
    sandbox: SandboxHandle, source: Path, folder: Path, **plan: Any
) -> tuple[RunSummary, list[dict[str, str]]]:
    """The pipeline with a fast client, the ledger and report in ``folder``."""
    summary = run_import(
        RunRequest(
            source=source,
            mapping=MAPPING,
            client_config=fast_config(sandbox, max_tries=3),
            report_path=folder / "report.csv",
            ledger_path=folder / "state.sqlite",
            plan_options=PlanOptions(**plan),
        )
    )
    return summary, read_report(folder / "report.csv")


def ledger_deleted(folder: Path) -> dict[str, bool]:
    """external_id -> whether the ledger marks it deleted."""
    with sqlite3.connect(folder / "state.sqlite") as db:
        return {
            external_id: bool(deleted)
            for external_id, deleted in db.execute("SELECT external_id, deleted FROM events")
        }


@pytest.fixture
def faulty(sandbox: SandboxHandle) -> SandboxHandle:
    """The sandbox without its rate limit (these tests are about answers, not pace)."""
    sandbox.configure(rate_limit_requests=0)
    return sandbox


def requests_since(sandbox: SandboxHandle, before: int) -> list[str]:
    return [f"{r['method']} {r['path']}" for r in sandbox.requests()[before:]]


def cancel_row_3(
    sandbox: SandboxHandle, tmp_path: Path, **differences: Any
) -> tuple[RunSummary, list[dict[str, str]], list[str]]:
    """Create 4 rows, then run again without row 3 (id f-3) under ``differences``."""
    source = write_rows(tmp_path / "rows.csv", 4)
    summary, _ = run(sandbox, source, tmp_path)
    assert summary.counts == {"created": 4}
    lines = source.read_text().splitlines()
    source.write_text("\n".join(line for line in lines if not line.startswith("3,")) + "\n")
    sandbox.configure(**differences)
    before = len(sandbox.requests())
    summary, report = run(sandbox, source, tmp_path, cancel_missing=True, force=True)
    return summary, report, requests_since(sandbox, before)


# --- 1. a delete counts only when Apptoto confirms it -----------------------------------------


def test_a_delete_answered_by_a_404_page_is_failed_and_the_next_run_tries_again(
    faulty: SandboxHandle, tmp_path: Path
) -> None:
    summary, report, sent = cancel_row_3(faulty, tmp_path, delete_answer="404")
    [line] = [r for r in report if r["external_id"] == "f-3"]
    assert line["status"] == "failed"
    assert "Apptoto still shows the event, so its reminders were not stopped" in line["message"]
    assert live_events(faulty)["f-3"]["is_deleted"] is False
    assert ledger_deleted(tmp_path)["f-3"] is False  # the next run cancels it again
    assert exit_code_for(summary) == 1
    assert sent == ["DELETE /v1/events", "GET /v1/event"]  # the delete, then one check by id

    faulty.configure(delete_answer="normal")
    summary, report = run(faulty, tmp_path / "rows.csv", tmp_path, cancel_missing=True, force=True)
    assert summary.counts == {"unchanged": 3, "cancelled": 1}
    assert "f-3" not in live_events(faulty)


def test_a_delete_answered_without_a_word_is_checked_by_id(
    faulty: SandboxHandle, tmp_path: Path
) -> None:
    summary, report, sent = cancel_row_3(faulty, tmp_path, delete_answer="silent")
    assert summary.counts == {"unchanged": 3, "cancelled": 1}
    assert "f-3" not in live_events(faulty) and ledger_deleted(tmp_path)["f-3"] is True
    assert sent == ["DELETE /v1/events", "GET /v1/event"]


def test_a_delete_ignored_by_apptoto_is_failed(faulty: SandboxHandle, tmp_path: Path) -> None:
    summary, report, _ = cancel_row_3(faulty, tmp_path, delete_answer="ignored")
    assert statuses(report) == {"unchanged": 3, "failed": 1}
    assert "f-3" in live_events(faulty) and ledger_deleted(tmp_path)["f-3"] is False


def test_a_delete_and_its_check_both_refused_leave_the_row_failed(
    faulty: SandboxHandle, tmp_path: Path
) -> None:
    summary, report, sent = cancel_row_3(faulty, tmp_path, delete_answer="405", lookup_answer="405")
    [line] = [r for r in report if r["external_id"] == "f-3"]
    assert line["status"] == "failed" and "the event may still be live" in line["message"]
    assert ledger_deleted(tmp_path)["f-3"] is False
    assert sent == ["DELETE /v1/events", "GET /v1/event"]


# --- 8. a 403 on one calendar is that calendar's rows' failure --------------------------------


def test_a_403_on_one_calendar_fails_its_rows_only(faulty: SandboxHandle, tmp_path: Path) -> None:
    faulty.configure(forbidden_calendars=["Dr B"])  # rows 1, 4, 7, ... (write_rows: 'ABC'[n % 3])
    summary, report = run(faulty, write_rows(tmp_path / "rows.csv", 12), tmp_path)
    refused = {f"f-{n}" for n in range(1, 13) if n % 3 == 1}
    assert not summary.error and exit_code_for(summary) == 1
    assert statuses(report) == {"created": 8, "failed": 4}
    for line in report:
        if line["external_id"] in refused:
            assert line["status"] == "failed"
            assert "(403 Forbidden): You do not have access to calendar 'Dr B'" in line["message"]
    assert sorted(live_events(faulty)) == sorted(f"f-{n}" for n in range(1, 13) if n % 3 != 1)
    credential_checks = [
        r for r in faulty.requests() if r["path"] == "/v1/events" and r["method"] == "GET"
    ]
    assert len(credential_checks) == 1  # one harmless read showed the credentials work


def test_wrong_credentials_still_stop_the_run(faulty: SandboxHandle, tmp_path: Path) -> None:
    source = write_rows(tmp_path / "rows.csv", 5)  # one batch
    faulty.configure(api_key="another-key")
    faulty.api_key = "sandbox-key"  # the importer keeps sending the old one
    summary, report = run(faulty, source, tmp_path)
    assert "refused the credentials" in summary.error and exit_code_for(summary) == 2
    assert len(faulty.requests()) == 1 and live_events(faulty) == {}
