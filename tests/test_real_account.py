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
import yaml

from importer.errors import MappingError
from importer.exit_codes import exit_code_for
from importer.mapping import parse_mapping
from importer.pipeline import RunRequest, RunSummary, plan_import, run_import
from importer.plan import PlanOptions
from importer.sandbox.server import SandboxHandle
from tests.helpers import env_for, invoke_cli, read_report
from tests.test_server_faults import (
    MAPPING,
    MAPPING_SPEC,
    assert_all_created,
    assert_truthful,
    fast_config,
    live_events,
    statuses,
    write_rows,
)

# The client's defaults that bound request counts: 15 events a request, 8 in flight.
DEFAULT_SIZES = {"batch_size": 15, "max_in_flight": 8}


def run(
    sandbox: SandboxHandle,
    source: Path,
    folder: Path,
    *,
    client: dict[str, Any] | None = None,
    **plan: Any,
) -> tuple[RunSummary, list[dict[str, str]]]:
    """The pipeline with a fast client (``client`` changes it), ledger and report in ``folder``."""
    summary = run_import(
        RunRequest(
            source=source,
            mapping=MAPPING,
            client_config=fast_config(sandbox, **({"max_tries": 3} | (client or {}))),
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


# --- 2. answers without external_id are paired without a request per row ----------------------


def endpoints(sandbox: SandboxHandle) -> dict[str, int]:
    return dict(sandbox.stats()["requests_by_endpoint"])


@pytest.mark.parametrize("lookup_answer", ["normal", "404"])
def test_answers_without_external_id_are_paired_by_content_with_no_lookup(
    faulty: SandboxHandle, tmp_path: Path, lookup_answer: str
) -> None:
    faulty.configure(put_echoes_external_id=False, lookup_answer=lookup_answer)
    summary, report = run(faulty, write_rows(tmp_path / "rows.csv", 40), tmp_path)
    assert_all_created(summary, report, faulty, 40)  # each row has its own event's id
    assert endpoints(faulty) == {"PUT /v1/events": 8}  # 40 rows / 5 a batch, no lookup

    # Updates carry Apptoto's id: paired by it.
    summary, report = run(faulty, write_rows(tmp_path / "rows.csv", 40, comment="x"), tmp_path)
    assert summary.counts == {"unchanged": 40}
    source = write_rows(tmp_path / "rows.csv", 40, title="Check-up")
    summary, report = run(faulty, source, tmp_path)
    assert summary.counts == {"updated": 40}
    assert_truthful(report, faulty, 40)
    assert endpoints(faulty) == {"PUT /v1/events": 16}


TWIN = "Dr A,Visit,2026-12-01 09:00,"
TWINS = f"Id,Provider,Title,When,Notes\n1,{TWIN}\n2,{TWIN}\n"


def test_twins_apptoto_does_not_name_are_sent_once_and_recorded(
    faulty: SandboxHandle, tmp_path: Path
) -> None:
    # Two rows with the same calendar, start and title: their answers cannot be told apart.
    faulty.configure(put_echoes_external_id=False, lookup_answer="404")
    source = tmp_path / "twins.csv"
    source.write_text(TWINS)
    summary, report = run(faulty, source, tmp_path)
    assert summary.counts == {"created": 2} and exit_code_for(summary) == 0
    for line in report:
        assert line["apptoto_id"] == ""
        assert "Apptoto stored it but did not say which of its events it is" in line["message"]
    # One lookup showed lookups do not work here; the second row did not try again.
    assert endpoints(faulty) == {"PUT /v1/events": 1, "GET /v1/event": 1}
    assert sorted(live_events(faulty)) == ["f-1", "f-2"]

    summary, _ = run(faulty, source, tmp_path)  # recorded: the next run sends nothing again
    assert summary.counts == {"unchanged": 2}
    assert endpoints(faulty) == {"PUT /v1/events": 1, "GET /v1/event": 1}


def test_twins_are_told_apart_by_a_lookup_when_lookups_work(
    faulty: SandboxHandle, tmp_path: Path
) -> None:
    faulty.configure(put_echoes_external_id=False)
    source = tmp_path / "twins.csv"
    source.write_text(TWINS)
    summary, report = run(faulty, source, tmp_path)
    assert_truthful(report, faulty, 2)
    assert summary.counts == {"created": 2}
    assert endpoints(faulty) == {"PUT /v1/events": 1, "GET /v1/event": 2}


# --- 3. the same refusal for every event: the circuit breaker ---------------------------------

REFUSAL = "Field 'content' is not enabled for this account"


def test_the_same_refusal_for_every_event_stops_within_a_bounded_number_of_requests(
    faulty: SandboxHandle, tmp_path: Path
) -> None:
    faulty.configure(refuse_every_event=REFUSAL)
    source = write_rows(tmp_path / "rows.csv", 1000)
    summary, report = run(faulty, source, tmp_path, client=DEFAULT_SIZES)
    assert summary.counts == {"failed": 1000} and exit_code_for(summary) == 1
    assert all(REFUSAL in line["message"] for line in report)
    # Splitting 67 batches to single events would take 67 * 29 = 1943 requests.
    assert faulty.stats()["requests"] <= (8 + 2) * (2 * 15 - 1)  # the README's bound
    assert live_events(faulty) == {}


# --- 4. answers that say the event is not what was sent ----------------------------------------


def test_an_answer_with_the_event_deleted_is_a_failure(
    faulty: SandboxHandle, tmp_path: Path
) -> None:
    faulty.configure(deleted_external_id_matches=True)
    cancel_row_3(faulty, tmp_path)  # f-3 cancelled, deleted in Apptoto
    source = write_rows(tmp_path / "rows.csv", 4)  # row 3 is back
    summary, report = run(faulty, source, tmp_path)
    [line] = [r for r in report if r["external_id"] == "f-3"]
    assert line["status"] == "failed"
    assert "Apptoto answered with this event deleted, so it sends no reminders" in line["message"]


def test_an_answer_with_the_event_in_another_calendar_is_a_failure(
    faulty: SandboxHandle, tmp_path: Path
) -> None:
    faulty.configure(external_id_across_calendars=True)
    source = write_rows(tmp_path / "rows.csv", 3)
    (tmp_path / "first").mkdir()
    run(faulty, source, tmp_path / "first")
    moved = source.read_text().replace("1,Dr B,", "1,Dr C,")
    source.write_text(moved)
    summary, report = run(faulty, source, tmp_path)  # a new ledger: nothing known
    [line] = [r for r in report if r["external_id"] == "f-1"]
    assert line["status"] == "failed"
    assert "in calendar 'Dr B', not 'Dr C'" in line["message"]
    assert statuses(report) == {"created": 2, "failed": 1}


@pytest.mark.parametrize("time_echo", ["utc", "naive"])
def test_times_echoed_in_utc_or_without_offset_are_the_same_instant(
    faulty: SandboxHandle, tmp_path: Path, time_echo: str
) -> None:
    faulty.configure(time_echo=time_echo)
    summary, report = run(faulty, write_rows(tmp_path / "rows.csv", 10), tmp_path)
    assert_all_created(summary, report, faulty, 10)


# --- 5. new calendars are a choice -------------------------------------------------------------


def test_a_calendar_the_ledger_never_saw_is_a_warning_on_its_rows_and_in_plan(
    faulty: SandboxHandle, tmp_path: Path
) -> None:
    source = write_rows(tmp_path / "rows.csv", 6)
    summary, report = run(faulty, source, tmp_path)  # first run: Dr A, Dr B, Dr C
    assert summary.new_calendars == ("Dr A", "Dr B", "Dr C")
    # A first run: every calendar is new, so only the plan lists them, no row warns.
    assert not any("new calendar" in line["warnings"] for line in report)
    with source.open("a", encoding="utf-8") as handle:
        handle.write("7,Dr Chen ,Visit 7,2026-12-08 10:00,,\n8,Dr A,Visit 8,2026-12-09 10:00,,\n")
    mapping_file = tmp_path / "faults.yaml"
    mapping_file.write_text(yaml.safe_dump(MAPPING_SPEC), encoding="utf-8")
    state = str(tmp_path / "state.sqlite")
    result = invoke_cli(
        [
            "plan",
            str(source),
            "-m",
            str(mapping_file),
            "--state",
            state,
            "--report",
            str(tmp_path / "p.csv"),
        ],
        env_for(faulty),
    )
    assert "'Dr Chen' is a new calendar: no appointment was sent to it before" in result.output
    planned = plan_import(
        RunRequest(source=source, mapping=MAPPING, ledger_path=tmp_path / "state.sqlite")
    )
    assert planned.plan.new_calendars == ("Dr Chen",)
    warned = {
        r.row: [str(w) for w in r.warnings if "calendar" in w.reason]
        for r in planned.plan.rows
        if any("calendar" in w.reason for w in r.warnings)
    }
    assert warned == {
        8: [
            "row 8, column 'Provider': 'Dr Chen' is a new calendar: no appointment was sent to "
            "it before, so Apptoto creates it"
        ]
    }


def test_a_mapping_listing_its_calendars_makes_a_typo_an_invalid_row(
    faulty: SandboxHandle, tmp_path: Path
) -> None:
    mapping = parse_mapping({**MAPPING_SPEC, "calendars": ["Dr A", "Dr B", "Dr C"]})
    source = write_rows(tmp_path / "rows.csv", 3)
    with source.open("a", encoding="utf-8") as handle:
        handle.write("4,dr b,Visit 4,2026-12-08 10:00,,\n5,Dr Chen,Visit 5,2026-12-09 10:00,,\n")
    summary = run_import(
        RunRequest(
            source=source,
            mapping=mapping,
            client_config=fast_config(faulty),
            report_path=tmp_path / "report.csv",
        )
    )
    report = {line["row"]: line for line in read_report(tmp_path / "report.csv")}
    assert summary.counts == {"created": 3, "invalid": 2}
    assert report["5"]["status"] == "invalid"
    assert (
        "column 'Provider': 'dr b' is not one of the calendars this mapping allows"
        in (report["5"]["message"])
    )
    assert "did you mean 'Dr B'?" in report["5"]["message"]
    assert "'Dr Chen' is not one of the calendars" in report["6"]["message"]
    assert sorted(faulty.stats()["calendars"]) == ["Dr A", "Dr B", "Dr C"]


def test_calendars_must_be_a_list_of_names() -> None:
    with pytest.raises(MappingError, match="calendars: expected a list of calendar names"):
        parse_mapping({**MAPPING_SPEC, "calendars": "Dr A"})


def test_an_id_apptoto_no_longer_has_is_sent_again_by_external_id(
    faulty: SandboxHandle, tmp_path: Path
) -> None:
    run(faulty, write_rows(tmp_path / "rows.csv", 7), tmp_path)
    with sqlite3.connect(tmp_path / "state.sqlite") as db:  # ids Apptoto never gave out
        db.execute("UPDATE events SET apptoto_id = apptoto_id + 1000000")
    faulty.configure(unknown_id_404=True)
    summary, report = run(faulty, write_rows(tmp_path / "rows.csv", 7, title="Check-up"), tmp_path)
    assert summary.counts == {"updated": 7}
    assert_truthful(report, faulty, 7)  # the report and the ledger carry the real ids
    assert sorted(live_events(faulty)) == [f"f-{n}" for n in range(1, 8)]
    assert faulty.stats()["requests_by_status"]["404"] >= 1
    assert faulty.stats()["duplicates"] == [] and faulty.stats()["events_stored"] == 7
    summary, _ = run(faulty, write_rows(tmp_path / "rows.csv", 7, title="Check-up"), tmp_path)
    assert summary.counts == {"unchanged": 7}


def test_once_a_calendar_refuses_every_event_its_other_rows_are_not_sent(
    faulty: SandboxHandle, tmp_path: Path
) -> None:
    faulty.configure(forbidden_calendars=["Dr B"])  # a third of the rows, in every batch
    source = write_rows(tmp_path / "rows.csv", 600)
    summary, report = run(faulty, source, tmp_path, client=DEFAULT_SIZES)
    assert summary.counts == {"created": 400, "failed": 200}
    held = [r for r in report if r["message"].startswith("not sent: Apptoto refused the earlier")]
    assert held and all("calendar 'Dr B'" in r["message"] for r in held)
    # Splitting every batch down to its Dr B events would take over 900 requests.
    batches = 600 // 15
    assert faulty.stats()["requests"] <= (8 + 1) * (2 * 15 - 1) + batches
    assert len(live_events(faulty)) == 400
