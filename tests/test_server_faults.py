"""Server faults: the pipeline against a misbehaving sandbox (429 storms, 5xx, outages, broken
answers) and a disk that fills or a crash while the report or the ledger is written.

Each test checks the SERVER's final state (one event per row, nothing duplicated) and the report
(every row once, each status true to what Apptoto confirmed). The pipeline runs in-process with a
fast client (short backoffs, no pacing to speak of) so the faults, not the waits, are tested; the
sandbox's rate limit is off unless a test is about 429s.
"""

from __future__ import annotations

import csv
import email.utils
import json
import signal
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from importer.client import ClientConfig
from importer.exit_codes import exit_code_for
from importer.mapping import Mapping, parse_mapping
from importer.pipeline import RunRequest, RunSummary, run_import
from importer.sandbox.server import SandboxHandle
from tests.helpers import IMPORTER, env_for, fast_client_config, read_report, run_process

MAPPING_SPEC: dict[str, Any] = {
    "name": "Faults",
    "defaults": {"time_zone": "America/Chicago"},
    "columns": {"Id": {"required": True, "unique": True}},
    "event": {
        "calendar": "{Provider}",
        "external_id": "f-{Id}",
        "title": "{Title}",
        "start": {"datetime": "{When}"},
        "duration_minutes": "20",
        "content": "{Notes}",
    },
}
MAPPING: Mapping = parse_mapping(MAPPING_SPEC)


def write_rows(path: Path, count: int, *, title: str = "Visit", comment: str = "") -> Path:
    """``count`` valid rows, ids 1..count; ``comment`` fills a column the mapping does not use."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Id", "Provider", "Title", "When", "Notes", "Comment"])
        for n in range(1, count + 1):
            when = f"2026-12-{1 + n % 28:02d} {8 + n % 9:02d}:{(n * 7) % 60:02d}"
            writer.writerow([n, f"Dr {'ABC'[n % 3]}", f"{title} {n}", when, f"note {n}", comment])
    return path


def fast_config(sandbox: SandboxHandle, **overrides: Any) -> ClientConfig:
    settings: dict[str, Any] = {
        "batch_size": 5,
        "max_in_flight": 4,
        "timeout_seconds": 5.0,
        "max_tries": 12,
    }
    return fast_client_config(sandbox, **(settings | overrides))


def run(
    sandbox: SandboxHandle,
    source: Path,
    folder: Path,
    *,
    report: str = "report.csv",
    transport: httpx.AsyncBaseTransport | None = None,
    **overrides: Any,
) -> tuple[RunSummary, list[dict[str, str]]]:
    summary = run_import(
        RunRequest(
            source=source,
            mapping=MAPPING,
            client_config=fast_config(sandbox, **overrides),
            report_path=folder / report,
            ledger_path=folder / "state.sqlite",
        ),
        transport=transport,
    )
    return summary, read_report(folder / report)


def live_events(sandbox: SandboxHandle) -> dict[str, dict[str, Any]]:
    events = [e for e in sandbox.events() if not e["is_deleted"]]
    by_id = {e["external_id"]: e for e in events}
    assert len(by_id) == len(events), "an external_id is stored twice"
    return by_id


def assert_one_event_per_row(sandbox: SandboxHandle, count: int) -> dict[str, dict[str, Any]]:
    events = live_events(sandbox)
    assert sorted(events) == sorted(f"f-{n}" for n in range(1, count + 1))
    stats = sandbox.stats()
    assert stats["duplicates"] == [] and stats["events_stored"] == count
    for n in range(1, count + 1):  # the content is the row's, however often it was sent
        assert events[f"f-{n}"]["title"] == f"Visit {n}"
    return events


def assert_truthful(report: list[dict[str, str]], sandbox: SandboxHandle, count: int) -> None:
    """Every row once; a row said created/updated/unchanged is on the server under that id."""
    assert sorted(int(line["row"]) for line in report) == list(range(2, count + 2))
    events = live_events(sandbox)
    for line in report:
        if line["status"] in ("created", "updated", "unchanged"):
            assert int(line["apptoto_id"]) == events[line["external_id"]]["id"], line
        else:
            assert line["status"] == "failed" and line["message"], line


def assert_all_created(
    summary: RunSummary, report: list[dict[str, str]], sandbox: SandboxHandle, count: int
) -> None:
    """All ``count`` rows created, each once on the server, and the report says so truthfully."""
    assert summary.counts == {"created": count}
    assert_one_event_per_row(sandbox, count)
    assert_truthful(report, sandbox, count)


def statuses(report: list[dict[str, str]]) -> dict[str, int]:
    counted: dict[str, int] = {}
    for line in report:
        counted[line["status"]] = counted.get(line["status"], 0) + 1
    return counted


@pytest.fixture
def faulty(sandbox: SandboxHandle) -> SandboxHandle:
    """The sandbox without its rate limit (the tests below are about other faults)."""
    sandbox.configure(rate_limit_requests=0)
    return sandbox


# --- 429 storms ---------------------------------------------------------------------------------

# Wall clocks of client and sandbox are the same clock, but the log keeps milliseconds and the
# client pauses on the monotonic clock: a request may arrive this much before the told time.
CLOCK_TOLERANCE = timedelta(milliseconds=50)


@dataclass
class SentRequest:
    """One request as the client sent it, with wall-clock times (UTC)."""

    method: str
    path: str
    external_ids: list[str]  # from the body's events and the external_id= query parameter
    sent: datetime  # when the client handed it to the transport
    answered: datetime | None = None  # when the whole answer had been read
    status: int | None = None
    told: datetime | None = None  # a 429's Retry-After: no request may arrive before this


class Witness(httpx.AsyncBaseTransport):
    """Forwards every request and notes when the client sent it and when the client knew the answer.

    Between the moment this transport hands an answer back and the moment the client acts on it
    (a 429 pauses every request), the client does not await; and between a request being given
    its start slot and reaching this transport it does not await either. So a request sent after
    a 429 was ``answered`` was started by a client that knew the 429.
    """

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.requests: list[SentRequest] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        external_ids = request.url.params.get_list("external_id")
        if request.content:
            external_ids += [e["external_id"] for e in json.loads(request.content)["events"]]
        sent = SentRequest(request.method, request.url.path, external_ids, datetime.now(UTC))
        self.requests.append(sent)
        response = await self.inner.handle_async_request(request)
        await response.aread()
        sent.answered = datetime.now(UTC)
        sent.status = response.status_code
        if response.status_code == 429:
            sent.told = told_by(response.headers["Retry-After"], sent.answered)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def told_by(retry_after: str, answered: datetime) -> datetime:
    """The time a Retry-After names: seconds from when the answer was read, or an HTTP date."""
    if retry_after.isdigit():
        return answered + timedelta(seconds=int(retry_after))
    return email.utils.parsedate_to_datetime(retry_after)


def arrival(entry: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(entry["at"])


def arrivals_at_the_server(log: list[dict[str, Any]], sent: list[SentRequest]) -> list[datetime]:
    """The sandbox's arrival time of each request the client sent, in the client's order.

    Requests carrying the same external_ids (tries of one batch) are sent one after the other,
    so the n-th of them in the log is the n-th the client sent.
    """
    logged: dict[tuple[str, str, tuple[str, ...]], list[datetime]] = {}
    for entry in sorted(log, key=arrival):
        key = (entry["method"], entry["path"], tuple(entry["external_ids"]))
        logged.setdefault(key, []).append(arrival(entry))
    arrivals = [logged[(s.method, s.path, tuple(s.external_ids))].pop(0) for s in sent]
    assert all(not left for left in logged.values()), "the sandbox saw a request nobody sent"
    return arrivals


def most_in_flight(sent: list[SentRequest]) -> int:
    """The most requests the client had sent and not yet seen answered, at any one time."""
    return max(
        sum(1 for other in sent if other.sent <= request.sent < (other.answered or request.sent))
        for request in sent
    )


@pytest.mark.parametrize(
    ("form", "before_storm", "storm"),
    [
        # The first request is accepted, the other three of the first wave refused, then the
        # whole second wave: two pauses.
        ("seconds", 1, 7),
        # A date is whole seconds, measured from the server's Date header (itself up to a second
        # old): a wait of 1-4 s, so one pause only.
        ("http-date", 1, 3),
    ],
)
def test_a_429_storm_with_requests_in_flight_is_waited_out_as_told_then_the_run_finishes(
    faulty: SandboxHandle, tmp_path: Path, form: str, before_storm: int, storm: int
) -> None:
    # Accepted requests take 0.1 s, 429s none: the client reads the 429s first, so a worker
    # whose batch was accepted must hold its next batch back until the others' wait is over.
    faulty.configure(
        storm_after_requests=before_storm,
        storm_requests=storm,
        storm_retry_after_seconds=1,
        retry_after_form=form,
        latency_seconds=0.1,
    )
    source = write_rows(tmp_path / "in.csv", 24)
    witness = Witness()
    # Four requests in flight, started together (no pacing to speak of); eight batches, so a
    # worker whose batch was accepted takes the next while others wait out their 429.
    summary, report = run(
        faulty,
        source,
        tmp_path,
        transport=witness,
        batch_size=3,
        max_in_flight=4,
        requests_per_minute=6_000_000,
    )
    assert_all_created(summary, report, faulty, 24)

    log = faulty.requests()
    assert [entry["status"] for entry in log if entry["fault"] == "storm"] == [429] * storm
    assert most_in_flight(witness.requests) == 4
    # (sent, answered, told, external_ids) of each 429 the client read
    refused = [
        (r.sent, r.answered, r.told, r.external_ids)
        for r in witness.requests
        if r.answered is not None and r.told is not None
    ]
    assert len(refused) == storm
    arrivals = arrivals_at_the_server(log, witness.requests)
    for request, arrived in zip(witness.requests, arrivals, strict=True):
        # Every 429 the client had read before sending this request bounds its arrival.
        known = [told for _, answered, told, _ in refused if answered < request.sent]
        if known:
            assert arrived >= max(known) - CLOCK_TOLERANCE, (form, request, arrived, max(known))
    for sent, _, told, external_ids in refused:  # each refused batch was sent again, later
        again = [
            arrived
            for request, arrived in zip(witness.requests, arrivals, strict=True)
            if request.external_ids == external_ids and request.sent > sent
        ]
        assert again and min(again) >= told - CLOCK_TOLERANCE, (form, external_ids, told, again)


# --- faults that pass: 5xx, commit-then-drop, short outages, slow answers ------------------------


# Each fault below passes: the client retries until every row is created once, and the fault
# was really met (a stats counter of the sandbox, at least so often).
SHORT_OUTAGE_RUN = {
    "deadline_seconds": 30.0,
    "max_tries": 40,
    "backoff_base": 0.05,
    "backoff_cap": 0.2,
}


@pytest.mark.parametrize(
    ("fault", "rows", "options", "met"),
    [
        pytest.param(
            {"fault_rate": 0.3, "fault_codes": [503], "fault_seed": 11},
            40,
            {"batch_size": 4},
            ("requests_by_status", "503", 3),
            id="30-percent-of-requests-answered-503",
        ),
        pytest.param(
            {"commit_then_drop_rate": 0.4, "fault_seed": 5},
            30,
            {"batch_size": 3},
            ("requests_by_status", "dropped", 3),
            id="commit-then-drop",
        ),
        *[
            pytest.param(
                {"outage_seconds": 0.6, "outage_after_requests": 1, "outage_mode": mode},
                15,
                SHORT_OUTAGE_RUN,
                ("requests_by_fault", "outage", 2),
                id=f"short-outage-answered-{mode}-waited-out-within-the-deadline",
            )
            for mode in ("503", "drop")
        ],
        pytest.param(
            {"slow_rate": 0.3, "slow_seconds": 1.0, "fault_seed": 4},
            20,
            {"timeout_seconds": 0.3},
            ("requests_by_fault", "slow", 2),
            id="answers-slower-than-the-timeout",
        ),
    ],
)
def test_a_passing_fault_is_retried_until_every_row_is_created_once(
    faulty: SandboxHandle,
    tmp_path: Path,
    fault: dict[str, Any],
    rows: int,
    options: dict[str, Any],
    met: tuple[str, str, int],
) -> None:
    faulty.configure(**fault)
    summary, report = run(faulty, write_rows(tmp_path / "in.csv", rows), tmp_path, **options)
    assert_all_created(summary, report, faulty, rows)
    assert exit_code_for(summary) == 0
    stats = faulty.stats()
    counter, name, at_least = met
    assert stats[counter][name] >= at_least  # the fault really happened
    # A batch stored but not confirmed was sent again: the retry updated, never duplicated.
    assert max(stats["events_per_external_id"].values()) == 1


# --- an outage past the deadline -----------------------------------------------------------------


def test_an_outage_past_the_deadline_marks_the_rest_failed_and_a_rerun_finishes(
    faulty: SandboxHandle, tmp_path: Path
) -> None:
    faulty.configure(outage_seconds=60, outage_after_requests=1)
    source = write_rows(tmp_path / "in.csv", 15)
    summary, report = run(
        faulty,
        source,
        tmp_path,
        deadline_seconds=0.5,
        max_tries=100,  # the deadline, not the tries, ends the waiting
        max_in_flight=1,
        backoff_cap=0.1,
    )
    assert summary.counts == {"created": 5, "failed": 10}
    assert exit_code_for(summary) == 1
    assert_truthful(report, faulty, 15)
    failed = [line for line in report if line["status"] == "failed"]
    assert all("deadline of 0.5 s" in line["message"] for line in failed), failed
    assert sorted(live_events(faulty)) == sorted(f"f-{n}" for n in range(1, 6))

    faulty.configure(outage_seconds=0)  # Apptoto is back
    summary, report = run(faulty, source, tmp_path)
    assert summary.counts == {"created": 10, "unchanged": 5}
    assert exit_code_for(summary) == 0
    assert_one_event_per_row(faulty, 15)
    assert_truthful(report, faulty, 15)


# --- broken answers: reset, malformed, too slow -------------------------------------------------


class ResetAfterSending(httpx.AsyncBaseTransport):
    """Forwards every request; every ``every``-th PUT is answered, then the connection resets."""

    def __init__(self, every: int) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.every = every
        self.puts = 0
        self.resets = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "PUT":
            self.puts += 1
            if self.puts % self.every == 0:
                await response.aread()
                await response.aclose()
                self.resets += 1
                raise httpx.ReadError("[Errno 104] Connection reset by peer", request=request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_a_connection_reset_after_the_server_stored_the_batch_duplicates_nothing(
    faulty: SandboxHandle, tmp_path: Path
) -> None:
    transport = ResetAfterSending(every=2)
    summary, report = run(
        faulty, write_rows(tmp_path / "in.csv", 20), tmp_path, transport=transport
    )
    assert transport.resets >= 2
    assert_all_created(summary, report, faulty, 20)


def test_the_sandbox_can_answer_200_with_a_body_cut_in_half(
    faulty: SandboxHandle, sandbox_api: httpx.Client
) -> None:
    faulty.configure(malformed_rate=1.0)
    event = {
        "calendar": "Dr A",
        "external_id": "m-1",
        "title": "Visit",
        "start_time": "2026-12-01T09:00:00-06:00",
        "end_time": "2026-12-01T09:20:00-06:00",
    }
    answer = sandbox_api.put("events", json={"events": [event]})
    assert answer.status_code == 200
    with pytest.raises(ValueError):
        answer.json()
    assert answer.text.startswith('{"events":[{"id":') and answer.text.endswith('"end_time":"2026')
    assert [e["external_id"] for e in faulty.events()] == ["m-1"]  # stored all the same
    assert faulty.requests()[0]["fault"] == "malformed"


def test_malformed_200_answers_are_confirmed_by_lookup_without_duplicates(
    faulty: SandboxHandle, tmp_path: Path
) -> None:
    faulty.configure(malformed_rate=0.3, fault_seed=2)
    summary, report = run(faulty, write_rows(tmp_path / "in.csv", 20), tmp_path)
    log = faulty.requests()
    assert any(entry["fault"] == "malformed" for entry in log)
    lookups = [entry for entry in log if entry["path"] == "/v1/event"]
    assert lookups, "an answer that is not a list of events is checked by looking the events up"
    assert_one_event_per_row(faulty, 20)
    assert_truthful(report, faulty, 20)
    # A lookup may itself get a malformed answer: that row is marked failed, honestly.
    assert set(statuses(report)) <= {"created", "failed"}
    assert statuses(report).get("created", 0) >= 10


def test_when_every_answer_is_malformed_rows_say_failed_and_a_rerun_confirms_them(
    faulty: SandboxHandle, tmp_path: Path
) -> None:
    faulty.configure(malformed_rate=1.0)
    source = write_rows(tmp_path / "in.csv", 8)
    summary, report = run(faulty, source, tmp_path)
    assert summary.counts == {"failed": 8}
    assert all("not the expected list of events" in line["message"] for line in report)
    assert all(line["apptoto_id"] == "" for line in report)
    assert_one_event_per_row(faulty, 8)  # stored, but never confirmed: not claimed as created

    faulty.configure(malformed_rate=0.0)
    summary, report = run(faulty, source, tmp_path)
    assert_all_created(summary, report, faulty, 8)  # the re-send updated the stored events


class ResetAfterSomePuts(httpx.AsyncBaseTransport):
    """Answers the first ``answered`` PUTs; after that every request, PUT or GET, is reset.

    ``stored``: the request reaches the server, which stores the batch, and only the answer is
    lost; otherwise the connection resets before the server sees anything.
    """

    def __init__(self, answered: int, *, stored: bool) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.answered = answered
        self.stored = stored
        self.puts = 0
        self.resets = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PUT" and self.puts < self.answered:
            self.puts += 1
            return await self.inner.handle_async_request(request)
        if self.stored:
            response = await self.inner.handle_async_request(request)
            await response.aread()
            await response.aclose()
        self.resets += 1
        raise httpx.ReadError("[Errno 104] Connection reset by peer", request=request)

    async def aclose(self) -> None:
        await self.inner.aclose()


RESET = "the connection failed ([Errno 104] Connection reset by peer)"
DROPPED = "the server dropped the connection"


def nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {status: count for status, count in counts.items() if count}


@pytest.mark.parametrize(
    ("fault", "answered_puts", "last_failure"),
    [
        ("reset before the server saw it", 2, RESET),
        ("reset after the server stored it", 2, RESET),
        ("sandbox drops every answer after commit", 0, DROPPED),
    ],
    ids=["reset-before-sending", "reset-after-storing", "dropped-after-commit"],
)
def test_when_every_connection_resets_rows_say_failed_and_a_rerun_finishes_them(
    faulty: SandboxHandle, tmp_path: Path, fault: str, answered_puts: int, last_failure: str
) -> None:
    # After the first batches, every try of every batch is cut, for longer than the 3 tries.
    transport: ResetAfterSomePuts | None = None
    if fault.startswith("reset"):
        transport = ResetAfterSomePuts(answered_puts, stored="stored" in fault)
    else:
        faulty.configure(commit_then_drop_rate=1.0)
    source = write_rows(tmp_path / "in.csv", 20)
    summary, report = run(faulty, source, tmp_path, transport=transport, max_tries=3)
    confirmed = 5 * answered_puts
    assert summary.counts == nonzero({"created": confirmed, "failed": 20 - confirmed})
    assert exit_code_for(summary) == 1
    assert_truthful(report, faulty, 20)
    failed = [line for line in report if line["status"] == "failed"]
    for line in failed:
        assert line["message"] == f"Apptoto did not answer after 3 tries (last: {last_failure})"
        assert line["apptoto_id"] == "", line
    events = live_events(faulty)
    assert faulty.stats()["duplicates"] == []
    if transport is not None:
        assert transport.resets == 3 * 2  # two batches, three tries each
    else:
        assert faulty.stats()["requests_by_fault"] == {"commit_then_drop": 3 * 4}
    stored_unconfirmed = {line["external_id"] for line in failed} & set(events)
    if transport is not None and not transport.stored:
        assert stored_unconfirmed == set()  # nothing of the failed rows reached Apptoto
    else:  # stored at each try, never confirmed: on the server once, not claimed in the report
        assert stored_unconfirmed == {line["external_id"] for line in failed}
        assert faulty.stats()["events_stored"] == 20
    first_ids = {external_id: events[external_id]["id"] for external_id in stored_unconfirmed}

    faulty.configure(commit_then_drop_rate=0.0)  # the network is fine again
    summary, report = run(faulty, source, tmp_path)
    assert summary.counts == nonzero({"created": 20 - confirmed, "unchanged": confirmed})
    assert exit_code_for(summary) == 0
    assert_one_event_per_row(faulty, 20)
    assert_truthful(report, faulty, 20)
    # A row Apptoto had stored unconfirmed is updated in place, not created a second time.
    apptoto_ids = {line["external_id"]: int(line["apptoto_id"]) for line in report}
    assert {external_id: apptoto_ids[external_id] for external_id in first_ids} == first_ids


def test_when_every_answer_is_slower_than_the_timeout_rows_say_failed_and_a_rerun_finishes(
    faulty: SandboxHandle, tmp_path: Path
) -> None:
    # Each try is stored, then answered only after 1 s: past the 0.2 s timeout, every time.
    faulty.configure(slow_rate=1.0, slow_seconds=1.0)
    source = write_rows(tmp_path / "in.csv", 8)
    summary, report = run(faulty, source, tmp_path, timeout_seconds=0.2, max_tries=2)
    assert summary.counts == {"failed": 8}
    assert exit_code_for(summary) == 1
    for line in report:
        assert (
            line["message"] == "Apptoto did not answer after 2 tries (last: no answer within 0.2 s)"
        )
        assert line["apptoto_id"] == "", line
    assert faulty.stats()["requests_by_fault"] == {"slow": 2 * 2}  # two batches, two tries each
    stored = assert_one_event_per_row(faulty, 8)  # stored, but never confirmed: not claimed
    first_ids = {external_id: event["id"] for external_id, event in stored.items()}

    faulty.configure(slow_rate=0.0)
    summary, report = run(faulty, source, tmp_path)
    assert_all_created(summary, report, faulty, 8)
    # The re-send updated the events the slow tries had stored.
    assert {line["external_id"]: int(line["apptoto_id"]) for line in report} == first_ids


def test_a_server_that_never_answers_well_gives_failed_rows_and_no_events(
    faulty: SandboxHandle, tmp_path: Path
) -> None:
    faulty.configure(fault_rate=1.0, fault_codes=[502, 503])
    summary, report = run(faulty, write_rows(tmp_path / "in.csv", 6), tmp_path, max_tries=3)
    assert summary.counts == {"failed": 6}
    assert exit_code_for(summary) == 1
    for line in report:
        assert line["message"].startswith("Apptoto did not answer after 3 tries (last: 50")
    assert faulty.events() == []


# --- disk full, or a crash, while writing the report or the ledger -----------------------------


def ledger_rows(path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = connection.execute(
            "SELECT external_id, apptoto_id, payload_hash, status FROM events ORDER BY external_id"
        ).fetchall()
    connection.close()
    return rows


# Python ignores SIGXFSZ from start-up on (a write past the limit then fails with EFBIG); for a
# crash, the child restores the default action (death) before running the CLI.
CRASH_ON_LIMIT = (
    "import runpy, signal; signal.signal(signal.SIGXFSZ, signal.SIG_DFL); "
    "runpy.run_module('importer', run_name='__main__', alter_sys=True)"
)


def run_cli_with_file_size_limit(
    sandbox: SandboxHandle, source: Path, folder: Path, limit: int, *, crash: bool
) -> subprocess.CompletedProcess[str]:
    """The CLI in a child process that may not write files past ``limit`` bytes.

    ``crash``: the kernel kills the child (SIGXFSZ) at its first write past the limit, as a
    crash mid-write would. Otherwise that write fails with EFBIG, as a full disk fails with
    ENOSPC: the same OSError path through the importer.
    """

    resource = pytest.importorskip("resource", reason="file size limits are POSIX-only")

    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = {**env_for(sandbox), "PYTHONDONTWRITEBYTECODE": "1"}
    command = (sys.executable, "-c", CRASH_ON_LIMIT) if crash else IMPORTER
    return run_process(
        [
            *command,
            "run",
            str(source),
            "-m",
            str(folder / "mapping.yaml"),
            "--report",
            str(folder / "report.csv"),
            "--state",
            str(folder / "state.sqlite"),
            "--rate",
            "60000",
            "--batch-size",
            "5",
            "--quiet",
        ],
        env,
        preexec_fn=limit_file_size,
    )


def assert_stopped_by_the_limit(
    done: subprocess.CompletedProcess[str], crash: bool, *words: str
) -> None:
    """A crash dies of SIGXFSZ; a run told the disk is full exits 2 with ``words`` in its error."""
    if crash:
        assert done.returncode == -signal.SIGXFSZ
    else:
        assert done.returncode == 2, done.stderr
        for word in words:
            assert word in done.stderr, done.stderr


def first_run(sandbox: SandboxHandle, folder: Path, rows: int, comment: str) -> tuple[Path, bytes]:
    """A good run: its report bytes are what must survive the failed run after it."""
    (folder / "mapping.yaml").write_text(yaml.safe_dump(MAPPING_SPEC), encoding="utf-8")
    source = write_rows(folder / "in.csv", rows, comment=comment)
    summary, _ = run(sandbox, source, folder)
    assert summary.counts == {"created": rows}
    return source, (folder / "report.csv").read_bytes()


def leftovers(folder: Path) -> list[str]:
    """Files that are neither inputs nor the report nor the ledger (and its SQLite companions)."""
    known = {"in.csv", "mapping.yaml", "report.csv", "state.sqlite", "state.sqlite.lock"}
    return sorted(
        p.name
        for p in folder.iterdir()
        if p.name not in known and not p.name.startswith("state.sqlite-")
    )


@pytest.mark.parametrize("crash", [False, True], ids=["disk-full", "crash"])
def test_a_failure_while_writing_the_report_keeps_the_previous_report_whole(
    faulty: SandboxHandle, tmp_path: Path, crash: bool
) -> None:
    # The big unmapped column makes the report ~300 kB while the ledger stays small.
    source, previous = first_run(faulty, tmp_path, 20, comment="x" * 15_000)
    write_rows(source, 20, title="Visit", comment="y" * 15_000)  # a new report is due
    ledger_before = ledger_rows(tmp_path / "state.sqlite")

    done = run_cli_with_file_size_limit(faulty, source, tmp_path, 200_000, crash=crash)
    assert_stopped_by_the_limit(done, crash, "cannot write the report", "File too large")
    assert (tmp_path / "report.csv").read_bytes() == previous  # whole, and the old one
    assert ledger_rows(tmp_path / "state.sqlite") == ledger_before  # nothing changed: no send
    if not crash:
        assert leftovers(tmp_path) == []  # no half-written temporary file

    summary, report = run(faulty, source, tmp_path)  # room again: the next run writes it
    assert summary.counts == {"unchanged": 20}
    assert report[0]["Comment"] == "y" * 15_000
    assert leftovers(tmp_path) == []  # a crashed run's temporary file is gone too
    assert_one_event_per_row(faulty, 20)


@pytest.mark.parametrize("crash", [False, True], ids=["disk-full", "crash"])
def test_a_full_disk_under_the_ledger_mid_run_keeps_it_whole_reports_what_was_sent(
    faulty: SandboxHandle, tmp_path: Path, crash: bool
) -> None:
    """Issue 17: a full disk no longer ends in "nothing could be done" after events were made."""
    source, previous = first_run(faulty, tmp_path, 40, comment="")
    write_rows(source, 40, title="Visit", comment="")
    # Every row changes: 8 batches, each recorded in the ledger as Apptoto confirms it.
    with source.open("r+", encoding="utf-8") as handle:
        text = handle.read().replace("note ", "changed note ")
        handle.seek(0)
        handle.write(text)
    before = dict((row[0], row) for row in ledger_rows(tmp_path / "state.sqlite"))

    # Past 40 kB the ledger's write-ahead log cannot grow: a batch or two fit, then none.
    done = run_cli_with_file_size_limit(faulty, source, tmp_path, 40_000, crash=crash)
    after = {row[0]: row for row in ledger_rows(tmp_path / "state.sqlite")}  # integrity ok
    assert sorted(after) == sorted(before)
    changed = [key for key in after if after[key] != before[key]]
    # Mid-run: some batches were recorded, then the ledger could not grow. Whole batches only.
    assert len(changed) % 5 == 0 and 0 < len(changed) < 40, len(changed)
    if crash:
        assert done.returncode == -signal.SIGXFSZ
        assert (tmp_path / "report.csv").read_bytes() == previous  # no report from a crash
    else:
        # An honest exit: what Apptoto confirmed is reported, the rest failed, exit 1.
        assert done.returncode == 1, (done.returncode, done.stderr[-3000:])
        assert "error: the state file could not be written" in done.stderr
        statuses = [r["status"] for r in read_report(tmp_path / "report.csv")]
        assert set(statuses) <= {"updated", "failed"}, statuses
        assert len(changed) <= statuses.count("updated") <= 40
        assert leftovers(tmp_path) == []

    summary, report = run(faulty, source, tmp_path)
    assert summary.counts.get("updated", 0) == 40 - len(changed)
    assert summary.counts.get("unchanged", 0) == len(changed)
    events = live_events(faulty)
    assert len(events) == 40 and faulty.stats()["duplicates"] == []
    assert all(e["content"].startswith("changed note ") for e in events.values())
    assert_truthful(report, faulty, 40)
