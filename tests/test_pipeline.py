"""The pipeline with a fake Apptoto (httpx.MockTransport): interruption, refusals, mismatches.

The fake answers PUT /events like Apptoto (each event back with an id, matched by external_id)
and lets a test hold, refuse or alter chosen requests.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from importer.client import ClientConfig
from importer.exit_codes import exit_code_for, summary_document
from importer.ledger import Ledger
from importer.mapping import load_mapping
from importer.outcomes import PlanAction, RowResult, RowStatus, SkipReason
from importer.pipeline import (
    RunRequest,
    RunSummary,
    count_statuses,
    plan_import,
    run_import,
    run_import_async,
    stopped_summary,
    validate_rows,
)
from importer.plan import PlanOptions
from importer.prepare import prepare, repeated_rows
from importer.send import CANCEL_IN_FLIGHT_REASON, IN_FLIGHT_REASON, INTERRUPTED_REASON
from tests.helpers import CLINIC_MAPPING, SAMPLES, read_report

MAPPING = load_mapping(CLINIC_MAPPING)
SAMPLE = SAMPLES / "appointments.csv"
VALID = 14
Answer = Callable[[httpx.Request, int], Awaitable[httpx.Response | None]]


class FakeApptoto:
    """Stores events by external_id; ``hook(request, number)`` may answer a request instead."""

    def __init__(self, hook: Answer | None = None) -> None:
        self.events: dict[str, dict[str, Any]] = {}
        self.requests: list[httpx.Request] = []
        self.hook = hook

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.hook is not None:
            answer = await self.hook(request, len(self.requests))
            if answer is not None:
                return answer
        if request.method == "PUT":
            stored = []
            for event in json.loads(request.content)["events"]:
                known = self.events.setdefault(
                    event["external_id"], {"id": 50_000 + len(self.events)}
                )
                known.update({k: v for k, v in event.items() if k != "id"})
                stored.append(dict(known))
            return httpx.Response(200, json={"events": stored})
        if request.method == "DELETE":
            wanted = int(request.url.params["id"])
            [event] = [e for e in self.events.values() if e["id"] == wanted]
            event["is_deleted"] = True
            return httpx.Response(200, json={"events": [event]})
        return httpx.Response(404, json={"error": "no such event"})


def request_for(tmp_path: Path, source: Path = SAMPLE, **changes: Any) -> RunRequest:
    config = ClientConfig(
        user="demo@clinic.example",
        api_key="test-key",
        base_url="http://apptoto.test/v1",
        batch_size=5,
        max_in_flight=1,  # one batch at a time: "the second request" is well defined
        requests_per_minute=1_000_000,
        max_tries=1,
    )
    fields: dict[str, Any] = {
        "source": source,
        "mapping": MAPPING,
        "client_config": config,
        "report_path": tmp_path / "report.csv",
        "ledger_path": tmp_path / "state.sqlite",
    }
    return RunRequest(**(fields | changes))


def report_lines(tmp_path: Path) -> list[dict[str, str]]:
    return read_report(tmp_path / "report.csv")


def ledger_ids(tmp_path: Path) -> set[str]:
    with Ledger.open(tmp_path / "state.sqlite") as ledger:
        return {e.external_id for e in ledger.live_entries(MAPPING.name)}


def test_cancelled_run_writes_its_report_and_keeps_what_was_confirmed(tmp_path: Path) -> None:
    second_sent = asyncio.Event()
    in_flight: list[str] = []

    async def hold_the_second(request: httpx.Request, number: int) -> httpx.Response | None:
        if number == 2:
            in_flight.extend(e["external_id"] for e in json.loads(request.content)["events"])
            second_sent.set()
            await asyncio.Event().wait()  # never answered
        return None

    fake = FakeApptoto(hold_the_second)

    async def interrupt() -> None:
        task = asyncio.create_task(
            run_import_async(request_for(tmp_path), transport=httpx.MockTransport(fake))
        )
        await second_sent.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(interrupt())

    lines = report_lines(tmp_path)
    created = [r["external_id"] for r in lines if r["status"] == "created"]
    skipped = [r for r in lines if r["status"] == "skipped"]
    unsure = [r for r in lines if r["status"] == "failed"]
    # The batch sent but never answered may be in Apptoto: not "not sent", which the rest are.
    assert [r["external_id"] for r in unsure] == in_flight and len(in_flight) > 0
    assert {r["message"] for r in unsure} == {IN_FLIGHT_REASON}
    assert len(created) == 5 and len(skipped) == VALID - 5 - len(in_flight)
    assert {r["message"] for r in skipped} == {INTERRUPTED_REASON}
    assert ledger_ids(tmp_path) == set(created)


def test_refused_credentials_mid_run_stop_with_exit_2_and_skip_the_rest(tmp_path: Path) -> None:
    async def refuse_the_second(request: httpx.Request, number: int) -> httpx.Response | None:
        return httpx.Response(401, json={"error": "bad key"}) if number == 2 else None

    summary = run_import(
        request_for(tmp_path), transport=httpx.MockTransport(FakeApptoto(refuse_the_second))
    )

    assert exit_code_for(summary) == 2
    assert "credentials" in summary.error
    assert summary.counts == {"created": 5, "invalid": 8, "skipped": VALID - 5}
    assert len(ledger_ids(tmp_path)) == 5


def test_start_time_apptoto_did_not_keep_is_failed_and_sent_again_next_run(
    tmp_path: Path,
) -> None:
    async def keep_old_start(request: httpx.Request, number: int) -> httpx.Response | None:
        if request.method != "PUT" or number != 1:
            return None
        events = json.loads(request.content)["events"]
        stored = [dict(e, id=60_000 + i) for i, e in enumerate(events)]
        stored[0]["start_time"] = "2020-01-01T00:00:00+00:00"
        return httpx.Response(200, json={"events": stored})

    fake = FakeApptoto(keep_old_start)
    first = run_import(request_for(tmp_path), transport=httpx.MockTransport(fake))
    [failed] = [r for r in first.results if r.status is RowStatus.FAILED]
    assert "Apptoto kept start 2020-01-01T00:00:00+00:00" in failed.message
    assert failed.external_id not in ledger_ids(tmp_path)

    second = run_import(request_for(tmp_path), transport=httpx.MockTransport(fake))
    assert second.counts == {"created": 1, "unchanged": VALID - 1, "invalid": 8}
    assert [r.external_id for r in second.results if r.status is RowStatus.CREATED] == [
        failed.external_id
    ]


def test_an_interrupted_cancellation_whose_delete_went_out_is_not_confirmed(
    tmp_path: Path,
) -> None:
    # The DELETE reached Apptoto unanswered: it may be done, so "not cancelled" would be untrue.
    fake = FakeApptoto()
    run_import(request_for(tmp_path), transport=httpx.MockTransport(fake))
    with SAMPLE.open(encoding="utf-8-sig", newline="") as handle:
        lines = handle.read().splitlines()
    shorter = tmp_path / "shorter.csv"
    shorter.write_text("\n".join(line for line in lines if "000101" not in line), "utf-8")
    delete_sent = asyncio.Event()

    async def hold_deletes(request: httpx.Request, number: int) -> httpx.Response | None:
        if request.method == "DELETE":
            delete_sent.set()
            await asyncio.Event().wait()
        return None

    fake.hook = hold_deletes

    async def interrupt() -> None:
        task = asyncio.create_task(
            run_import_async(
                request_for(
                    tmp_path, shorter, plan_options=PlanOptions(cancel_missing=True, force=True)
                ),
                transport=httpx.MockTransport(fake),
            )
        )
        await delete_sent.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(interrupt())

    [line] = [r for r in report_lines(tmp_path) if r["external_id"] == "clinic-000101"]
    assert (line["row"], line["status"], line["message"]) == ("", "failed", CANCEL_IN_FLIGHT_REASON)
    assert "clinic-000101" in ledger_ids(tmp_path)  # not confirmed: the next run cancels it


def test_recreate_whose_old_event_cannot_be_deleted_is_failed_and_not_sent(
    tmp_path: Path,
) -> None:
    fake = FakeApptoto()
    run_import(request_for(tmp_path), transport=httpx.MockTransport(fake))
    moved = tmp_path / "moved.csv"
    text = SAMPLE.read_text(encoding="utf-8-sig")
    row = "000103,12/14/2026,9:30 AM,10:15 AM,Dr. "
    moved.write_text(text.replace(row + "Rivera", row + "Chen"), "utf-8")

    async def refuse_deletes(request: httpx.Request, number: int) -> httpx.Response | None:
        return httpx.Response(500, json={"error": "down"}) if request.method == "DELETE" else None

    fake.hook = refuse_deletes
    fake.requests.clear()
    summary = run_import(
        request_for(tmp_path, moved, plan_options=PlanOptions(recreate_on_calendar_change=True)),
        transport=httpx.MockTransport(fake),
    )
    assert [r.method for r in fake.requests] == ["DELETE"]  # and no PUT
    assert exit_code_for(summary) == 1
    [line] = [r for r in summary.results if r.external_id == "clinic-000103"]
    assert line.status is RowStatus.FAILED
    assert line.message.startswith("could not delete the event in the old calendar 'Dr. Rivera'")
    assert fake.events["clinic-000103"]["calendar"] == "Dr. Rivera"


def test_dry_run_sends_nothing_and_needs_no_client(tmp_path: Path) -> None:
    summary = run_import(request_for(tmp_path, client_config=None, dry_run=True))
    assert summary.counts == {"create": VALID, "invalid": 8}
    assert exit_code_for(summary) == 1
    assert not (tmp_path / "state.sqlite").exists()
    assert summary.to_json()["dry_run"] is True


def test_a_run_without_report_path_writes_no_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # where the CLI's default reports/ folder would go
    summary = run_import(
        request_for(tmp_path, report_path=None), transport=httpx.MockTransport(FakeApptoto())
    )
    assert summary.counts == {"created": VALID, "invalid": 8}
    assert summary.report_path is None and "report" not in summary.line()
    assert {p.name for p in tmp_path.iterdir()} <= {"state.sqlite", "state.sqlite.lock"}


def test_plan_import_is_what_a_dry_run_reports(tmp_path: Path) -> None:
    first = run_import(request_for(tmp_path), transport=httpx.MockTransport(FakeApptoto()))
    assert first.counts == {"created": VALID, "invalid": 8}
    planned = plan_import(request_for(tmp_path, client_config=None))
    dry = run_import(request_for(tmp_path, client_config=None, dry_run=True, report_path=None))
    assert planned.results() == dry.results
    assert count_statuses(planned.results()) == {"unchanged": VALID, "invalid": 8}
    assert planned.prepared.rows == [r.row for r in dry.results]


def test_plan_import_without_a_ledger_file_plans_creates_and_leaves_none(tmp_path: Path) -> None:
    planned = plan_import(request_for(tmp_path))
    assert count_statuses(planned.results()) == {"create": VALID, "invalid": 8}
    assert list(tmp_path.iterdir()) == []


def test_validate_rows_marks_each_row_valid_or_invalid() -> None:
    results = validate_rows(prepare(SAMPLE, MAPPING))
    assert count_statuses(results) == {"invalid": 8, "skipped": VALID}
    invalid = [r for r in results if r.status is RowStatus.INVALID]
    assert all(r.message for r in invalid)
    assert {r.message for r in results if r.status is RowStatus.SKIPPED} == {
        "valid (validate sends nothing)"
    }


@pytest.mark.parametrize(
    ("statuses", "counts", "code"),
    [
        ([RowStatus.CREATED, RowStatus.UNCHANGED], {"created": 1, "unchanged": 1}, 0),
        ([RowStatus.UNCHANGED, RowStatus.INVALID], {"unchanged": 1, "invalid": 1}, 1),
        ([RowStatus.SKIPPED], {"skipped": 1}, 1),
        ([PlanAction.UNCHANGED, PlanAction.CREATE], {"create": 1, "unchanged": 1}, 0),
        ([PlanAction.CANCEL, PlanAction.FAIL], {"fail": 1, "cancel": 1}, 1),
    ],
)
def test_counts_and_exit_codes(
    statuses: list[RowStatus | PlanAction], counts: dict[str, int], code: int
) -> None:
    results = [RowResult(n, status) for n, status in enumerate(statuses)]
    assert count_statuses(results) == counts
    assert list(count_statuses(results)) == list(counts)  # in a fixed, readable order
    summary = RunSummary("m", "x.csv", count_statuses(results), 0.0, None, False, results=results)
    assert exit_code_for(summary) == code


@pytest.mark.parametrize(
    ("status", "reason", "code"),
    [
        (RowStatus.SKIPPED, SkipReason.SAME_AS_ROW, 0),  # a row exported twice: sent once
        (PlanAction.SKIP, SkipReason.SAME_AS_ROW, 0),
        (RowStatus.SKIPPED, SkipReason.SAME_APPOINTMENT, 1),  # held back: a person decides
        (PlanAction.SKIP, SkipReason.SAME_APPOINTMENT, 1),
        (RowStatus.SKIPPED, None, 1),  # not sent for want of an answer
    ],
)
def test_a_copy_of_an_earlier_row_keeps_exit_0_a_held_back_appointment_gives_1(
    status: RowStatus | PlanAction, reason: SkipReason | None, code: int
) -> None:
    results = [RowResult(2, RowStatus.CREATED), RowResult(3, status, reason=reason)]
    summary = RunSummary("m", "x.csv", count_statuses(results), 0.0, None, False, results=results)
    assert exit_code_for(summary) == code


def test_stopped_summary_has_the_same_keys_as_a_full_one(tmp_path: Path) -> None:
    full = summary_document(run_import(request_for(tmp_path, client_config=None, dry_run=True)))
    stopped = summary_document(
        stopped_summary("x.csv", "Clinic appointments", error="locked", duration_seconds=0.25)
    )
    assert list(stopped) == list(full)
    assert (stopped["exit_code"], stopped["counts"], stopped["error"]) == (2, {}, "locked")
    interrupted = stopped_summary("x.csv", "m", error="", duration_seconds=0, interrupted=True)
    assert exit_code_for(interrupted) == 130


def test_report_that_cannot_be_written_is_in_the_summary_not_lost(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the report's folder should be", "utf-8")
    summary = run_import(
        request_for(tmp_path, report_path=blocker / "report.csv"),
        transport=httpx.MockTransport(FakeApptoto()),
    )
    assert exit_code_for(summary) == 2
    assert summary.report_path is None
    assert "cannot write the report" in summary.error
    assert summary.counts == {"created": VALID, "invalid": 8}
    assert len(ledger_ids(tmp_path)) == VALID  # sent and remembered all the same


@pytest.mark.parametrize("key_columns", [(), ("Id",), ("Id", "Name")])
@pytest.mark.parametrize(
    ("rows", "copies"),
    [
        ([("1", "Ann"), ("2", "Bo"), ("1", "Ann"), ("1", "Ann")], {4: 2, 5: 2}),
        ([("1", "Ann"), ("1", "Bo"), ("2", "Bo")], {}),  # one id, two people: not copies
        ([("1", "Ann"), ("2", None), ("2", None)], {4: 3}),  # blank cells are alike
        ([("1", "Ann"), ("2", "Bo")], {}),
    ],
)
def test_repeated_rows_are_the_rows_identical_in_every_cell(
    rows: list[tuple[str, str | None]], copies: dict[int, int], key_columns: tuple[str, ...]
) -> None:
    frame = pd.DataFrame(rows, columns=["Id", "Name"], dtype="str")
    frame.index = pd.RangeIndex(2, len(rows) + 2)
    assert repeated_rows(frame, key_columns) == copies
