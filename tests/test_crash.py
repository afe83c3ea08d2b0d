"""Crashes and unattended runs: the real CLI as a subprocess against the in-process sandbox.

The importer is killed (SIGKILL) at random points and at the two edges of sending (as the first
request goes out; after the last answer, before the run writes it down), interrupted (SIGINT,
SIGTERM), or started while another process holds the ledger; the next run must end with the server
holding exactly what a run without trouble leaves, no duplicates, and every row once in the report.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from importer.sandbox.server import SandboxHandle
from importer.send import CANCEL_IN_FLIGHT_REASON, IN_FLIGHT_REASON, INTERRUPTED_REASON
from tests.clinic_rows import HEADER, appointment
from tests.helpers import (
    CLINIC_MAPPING,
    IMPORTER,
    SAMPLES,
    env_for,
    invoke_cli,
    read_report,
    write_csv,
)

# Kills and signals as on Linux and macOS (SIGKILL, SIGTERM to a child); the lock's behaviour on
# Windows is covered by tests/test_portable.py.
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

MAPPING = str(CLINIC_MAPPING)
ROWS = 180  # 12 batches of 15
BATCH = 15
BATCHES = ROWS // BATCH
# Seconds per request, plus up to JITTER more at random, so that answers arrive one by one:
# 12 batches, 8 in flight -> about 0.5 s of sending.
LATENCY, JITTER = 0.1, 0.3
FINISHED = {"created", "unchanged"}
Event = tuple[str, str, str, tuple[str, ...]]


def write_appointments(path: Path, order: list[int]) -> Path:
    return write_csv(path, HEADER, (appointment(n) for n in order))


def server_state(sandbox: SandboxHandle) -> set[Event]:
    """What matters of every live event: (external_id, start_time, title, participant phones)."""
    return {
        (
            e["external_id"],
            e["start_time"],
            e["title"],
            tuple(p["phone"] for p in e["participants"]),
        )
        for e in sandbox.events()
        if not e["is_deleted"]
    }


def cli(file: Path, folder: Path, *extra: str) -> list[str]:
    return [
        *IMPORTER,
        "run",
        str(file),
        "-m",
        MAPPING,
        "--quiet",
        "--state",
        str(folder / "state.sqlite"),
        "--report",
        str(folder / "report.csv"),
        "--rate",
        "100000",
        *extra,
    ]


def environment(sandbox: SandboxHandle, base_url: str | None = None) -> dict[str, str]:
    return {**os.environ, **env_for(sandbox, base_url=base_url)}


def start(
    args: list[str], sandbox: SandboxHandle, folder: Path, base_url: str | None = None
) -> subprocess.Popen[str]:
    """The CLI as a subprocess, talking to the sandbox (or to ``base_url``)."""
    return subprocess.Popen(
        args,
        env=environment(sandbox, base_url),
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def puts_answered(sandbox: SandboxHandle) -> int:
    return sum(1 for r in sandbox.requests() if r["method"] == "PUT" and r["status"] == 200)


def wait_for_puts(sandbox: SandboxHandle, process: subprocess.Popen[str], count: int) -> None:
    """Until the server answered ``count`` PUTs, or the process ended."""
    deadline = time.monotonic() + 30
    while process.poll() is None and puts_answered(sandbox) < count:
        assert time.monotonic() < deadline, "the import never got that far"
        time.sleep(0.01)


def recorded(state: Path) -> set[str]:
    """The external_ids the ledger at ``state`` holds, read only (a write would checkpoint it)."""
    with closing(sqlite3.connect(f"file:{state}?mode=ro", uri=True)) as ledger:
        return {row[0] for row in ledger.execute("SELECT external_id FROM events")}


def cancelled_in(state: Path) -> bool:
    """True once the ledger at ``state`` marks an event deleted (a cancellation confirmed)."""
    with closing(sqlite3.connect(f"file:{state}?mode=ro", uri=True)) as ledger:
        return (
            ledger.execute("SELECT 1 FROM events WHERE deleted = 1 LIMIT 1").fetchone() is not None
        )


def wait_for_ledger(state: Path, process: subprocess.Popen[str], count: int = 1) -> set[str]:
    """Until the importer's ledger records ``count`` confirmed events; returns their ids."""
    deadline = time.monotonic() + 30
    while process.poll() is None:
        assert time.monotonic() < deadline, "the import never recorded that much"
        if state.exists():
            try:
                found = recorded(state)
            except sqlite3.OperationalError:  # the tables are being created
                found = set()
            if len(found) >= count:
                return found
        time.sleep(0.005)
    raise AssertionError("the import ended before it was interrupted")


def assert_every_row_once(report: Path, statuses: set[str]) -> dict[str, str]:
    """Each of the ROWS data rows (2 .. ROWS+1) once, with one of ``statuses``; id -> status."""
    lines = read_report(report)
    assert sorted(int(line["row"]) for line in lines) == list(range(2, ROWS + 2))
    assert {line["status"] for line in lines} <= statuses, {line["status"] for line in lines}
    found = {line["external_id"]: line["status"] for line in lines}
    assert len(found) == ROWS
    return found


def in_process(args: list[str], sandbox: SandboxHandle) -> Result:
    """The same command through typer's test runner: no interpreter start-up."""
    return invoke_cli(args[args.index("importer") + 1 :], environment(sandbox))


@pytest.fixture(scope="module")
def expected(sandbox_server: SandboxHandle, tmp_path_factory: pytest.TempPathFactory) -> set[Event]:
    """The server state after a run without trouble."""
    folder = tmp_path_factory.mktemp("baseline")
    sandbox_server.reset(startup_settings=True)
    file = write_appointments(folder / "appointments.csv", list(range(ROWS)))
    done = in_process(cli(file, folder), sandbox_server)
    assert done.exit_code == 0, done.output
    state = server_state(sandbox_server)
    assert len(state) == ROWS
    sandbox_server.reset(startup_settings=True)
    return state


@pytest.fixture
def slow_sandbox(sandbox: SandboxHandle) -> Iterator[SandboxHandle]:
    sandbox.configure(latency_seconds=LATENCY, latency_jitter_seconds=JITTER, rate_limit_requests=0)
    yield sandbox


def sigkill(victim: subprocess.Popen[str]) -> None:
    victim.kill()
    victim.communicate(timeout=30)
    assert victim.returncode == -signal.SIGKILL


def kill_after_answers(
    rng: random.Random, sandbox: SandboxHandle, file: Path, folder: Path
) -> None:
    """After a random number of the 12 batches were answered (0: while starting up)."""
    victim = start(cli(file, folder), sandbox, folder)
    wait_for_puts(sandbox, victim, rng.randrange(0, BATCHES))
    time.sleep(rng.uniform(0, LATENCY))  # then a little more at random
    sigkill(victim)


def kill_before_first_send(
    rng: random.Random, sandbox: SandboxHandle, file: Path, folder: Path
) -> None:
    """With the file read, the ledger open and the plan made, as the first request goes out.

    The run is pointed at a listener that takes its first request and never answers: the kill
    finds it with everything done but sending, and nothing has reached Apptoto (the sandbox).
    """
    with socket.create_server(("127.0.0.1", 0)) as nowhere:
        nowhere.settimeout(30)
        base_url = f"http://127.0.0.1:{nowhere.getsockname()[1]}/v1"
        victim = start(cli(file, folder), sandbox, folder, base_url=base_url)
        connection, _ = nowhere.accept()
        with connection:
            connection.settimeout(30)
            head = b""
            while b"\r\n\r\n" not in head:
                received = connection.recv(4096)
                assert received, "the import closed the connection before sending a request"
                head += received
            assert head.startswith(b"PUT /v1/events"), head[:40]
            time.sleep(rng.uniform(0, LATENCY))
            sigkill(victim)
    assert sandbox.requests() == []
    assert recorded(folder / "state.sqlite") == set()  # the ledger was made, and is empty


def kill_after_last_answer(
    rng: random.Random, sandbox: SandboxHandle, file: Path, folder: Path
) -> None:
    """After Apptoto answered the last batch, before the run records it and writes its report.

    The last request to go out meets a 429 (Retry-After 1 s), so its batch is answered well
    after the other 11 are recorded. Once they are, the test takes the ledger's write lock: the
    run, given the last answer, waits for it in SQLite's busy loop, and the kill finds it there.
    """
    sandbox.configure(
        storm_after_requests=BATCHES - 1, storm_requests=1, storm_retry_after_seconds=1
    )
    state = folder / "state.sqlite"
    victim = start(cli(file, folder), sandbox, folder)
    wait_for_ledger(state, victim, count=ROWS - BATCH)
    with closing(sqlite3.connect(state, isolation_level=None)) as holder:
        holder.execute("BEGIN IMMEDIATE")
        wait_for_puts(sandbox, victim, BATCHES)
        time.sleep(rng.uniform(LATENCY, 2 * LATENCY))  # it reads the answer, waits for the lock
        sigkill(victim)
        holder.execute("ROLLBACK")
    storms = [r for r in sandbox.requests() if r["fault"] == "storm"]
    assert [r["status"] for r in storms] == [429]
    assert len(recorded(state)) == ROWS - BATCH  # the last batch was answered, not recorded
    assert not (folder / "report.csv").exists()


KillPoint = Callable[[random.Random, SandboxHandle, Path, Path], None]


# Seeds picked so that the kills after answers fall after 2, 9, 5 and 7 of the 12 batches; the
# edges: nothing sent yet, and every batch answered but the last not yet recorded.
@pytest.mark.parametrize(
    ("seed", "reorder", "kill"),
    [
        (1, False, kill_after_answers),
        (5, False, kill_after_answers),
        (7, True, kill_after_answers),
        (9, True, kill_after_answers),
        (3, False, kill_before_first_send),
        (4, True, kill_after_last_answer),
    ],
    ids=["answers-1", "answers-5", "answers-7", "answers-9", "before-first-send", "after-last"],
)
def test_sigkill_at_a_random_point_then_rerun_ends_right(
    seed: int,
    reorder: bool,
    kill: KillPoint,
    slow_sandbox: SandboxHandle,
    expected: set[Event],
    tmp_path: Path,
) -> None:
    rng = random.Random(seed)
    order = list(range(ROWS))
    file = write_appointments(tmp_path / "appointments.csv", order)
    kill(rng, slow_sandbox, file, tmp_path)
    state = tmp_path / "state.sqlite"
    confirmed = recorded(state) if state.exists() else set()
    if reorder:  # resume by external_id, never by offset
        rng.shuffle(order)
        write_appointments(file, order)
    # The killed run's last requests may still be on their way: the re-run races them.
    slow_sandbox.configure(latency_seconds=0, latency_jitter_seconds=0)

    again = in_process(cli(file, tmp_path), slow_sandbox)

    assert again.exit_code == 0, again.output
    found = assert_every_row_once(tmp_path / "report.csv", FINISHED)
    # What the ledger held is trusted; everything else is sent again.
    assert {k for k, status in found.items() if status == "unchanged"} == confirmed
    assert slow_sandbox.stats()["duplicates"] == []
    assert server_state(slow_sandbox) == expected


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_writes_the_report_and_keeps_what_apptoto_confirmed(
    stop: signal.Signals, slow_sandbox: SandboxHandle, expected: set[Event], tmp_path: Path
) -> None:
    file = write_appointments(tmp_path / "appointments.csv", list(range(ROWS)))
    summary = tmp_path / "summary.json"
    running = start(cli(file, tmp_path, "--summary-json", str(summary)), slow_sandbox, tmp_path)
    recorded = wait_for_ledger(tmp_path / "state.sqlite", running)
    running.send_signal(stop)
    _, stderr = running.communicate(timeout=30)

    assert running.returncode == 130, stderr
    assert "interrupted" in stderr and "run the same command again" in stderr
    first = assert_every_row_once(tmp_path / "report.csv", {"created", "skipped", "failed"})
    created = {k for k, status in first.items() if status == "created"}
    assert created >= recorded
    assert len(created) < ROWS  # it really stopped early
    lines = read_report(tmp_path / "report.csv")
    skipped = {line["external_id"] for line in lines if line["status"] == "skipped"}
    unsure = {line["external_id"] for line in lines if line["status"] == "failed"}
    assert {line["message"] for line in lines if line["status"] == "skipped"} <= {
        INTERRUPTED_REASON
    }
    assert {line["message"] for line in lines if line["status"] == "failed"} <= {IN_FLIGHT_REASON}
    # "Not sent" is true: no such row reached the sandbox (requests in flight when the run stopped
    # are logged within the latency). Those that did, unanswered, are "perhaps in Apptoto".
    time.sleep(LATENCY + JITTER + 0.5)
    received = {
        i for r in slow_sandbox.requests() if r["method"] == "PUT" for i in r["external_ids"]
    }
    assert not skipped & received
    assert received - created <= unsure
    written = json.loads(summary.read_text(encoding="utf-8"))
    assert (written["exit_code"], written["interrupted"]) == (130, True)
    counts = {"created": len(created), "skipped": len(skipped), "failed": len(unsure)}
    assert written["counts"] == {status: n for status, n in counts.items() if n}

    slow_sandbox.configure(latency_seconds=0, latency_jitter_seconds=0)
    again = in_process(cli(file, tmp_path), slow_sandbox)

    assert again.exit_code == 0, again.output
    second = assert_every_row_once(tmp_path / "report.csv", FINISHED)
    # Everything confirmed before the interruption was in the ledger: not sent again.
    assert {k for k, status in second.items() if status == "unchanged"} >= created
    assert slow_sandbox.stats()["duplicates"] == []
    assert server_state(slow_sandbox) == expected


def test_interrupted_cancellations_say_which_deletes_went_out_unanswered(
    slow_sandbox: SandboxHandle, tmp_path: Path
) -> None:
    # A cancellation whose DELETE went out unanswered may be done in Apptoto: "not cancelled"
    # would be a promise the run cannot keep. It is failed ("not confirmed"), and the next run
    # finishes it; one never sent stays skipped.
    slow_sandbox.configure(latency_seconds=0, latency_jitter_seconds=0)
    file = write_appointments(tmp_path / "appointments.csv", list(range(ROWS)))
    first = in_process(cli(file, tmp_path), slow_sandbox)
    assert first.exit_code == 0, first.output
    ids_by_number = {e["id"]: e["external_id"] for e in slow_sandbox.events()}
    kept = ROWS - ROWS // 3
    removed = set(ids_by_number.values()) - {
        line["external_id"] for line in read_report(tmp_path / "report.csv")[:kept]
    }
    shorter = write_appointments(tmp_path / "appointments.csv", list(range(kept)))

    slow_sandbox.configure(latency_seconds=LATENCY, latency_jitter_seconds=JITTER)
    running = start(cli(shorter, tmp_path, "--cancel-missing", "--force"), slow_sandbox, tmp_path)
    # Interrupted once the importer has recorded a cancellation Apptoto confirmed (the sandbox
    # answering one is not enough: on a loaded machine the answer may not be read yet).
    deadline = time.monotonic() + 30
    while running.poll() is None and not cancelled_in(tmp_path / "state.sqlite"):
        assert time.monotonic() < deadline, "no cancellation was ever recorded"
        time.sleep(0.005)
    running.send_signal(signal.SIGINT)
    _, stderr = running.communicate(timeout=30)
    assert running.returncode == 130, stderr

    cancels = [line for line in read_report(tmp_path / "report.csv") if not line["row"]]
    assert {line["external_id"] for line in cancels} == removed
    by_status: dict[str, set[str]] = {}
    for line in cancels:
        by_status.setdefault(line["status"], set()).add(line["external_id"])
    assert set(by_status) <= {"cancelled", "skipped", "failed"}, by_status
    assert "cancelled" in by_status and len(by_status["cancelled"]) < len(removed)
    assert {line["message"] for line in cancels if line["status"] == "failed"} <= {
        CANCEL_IN_FLIGHT_REASON
    }
    time.sleep(LATENCY + JITTER + 0.5)  # requests in flight are logged once answered
    deletes = [r for r in slow_sandbox.requests() if r["method"] == "DELETE"]
    received = {ids_by_number[int(r["query"].split("id=")[1].split("&")[0])] for r in deletes}
    assert not received & by_status.get("skipped", set())  # "skipped": surely never sent
    assert received - by_status["cancelled"] <= by_status.get("failed", set())
    live = {e["external_id"] for e in slow_sandbox.events() if not e["is_deleted"]}
    assert not live & by_status["cancelled"]

    slow_sandbox.configure(latency_seconds=0, latency_jitter_seconds=0)
    again = in_process(cli(shorter, tmp_path, "--cancel-missing", "--force"), slow_sandbox)
    assert again.exit_code == 0, again.output
    live = {e["external_id"] for e in slow_sandbox.events() if not e["is_deleted"]}
    assert live == set(ids_by_number.values()) - removed


HOLD_LEDGER = """
import sys, time
from importer.ledger import Ledger
ledger = Ledger.open(sys.argv[1])
print("holding", flush=True)
time.sleep(60)
"""


def test_second_run_on_a_held_ledger_exits_2_and_a_killed_holder_does_not_block(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    sample = SAMPLES / "appointments.csv"
    summary = tmp_path / "summary.json"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LEDGER, str(tmp_path / "state.sqlite")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "holding\n"

        blocked = in_process(cli(sample, tmp_path, "--summary-json", str(summary)), sandbox)

        assert blocked.exit_code == 2
        assert "another import is running with the state file" in blocked.output
        assert f"pid {holder.pid}" in blocked.output
        assert sandbox.requests() == []
        refused: dict[str, Any] = json.loads(summary.read_text(encoding="utf-8"))
        assert refused["exit_code"] == 2 and "another import is running" in refused["error"]
        assert refused["counts"] == {} and refused["report_path"] is None
    finally:
        holder.kill()
        holder.communicate(timeout=30)

    done = in_process(cli(sample, tmp_path, "--summary-json", str(summary)), sandbox)

    assert done.exit_code == 1, done.output  # the sample's invalid rows
    written = json.loads(summary.read_text(encoding="utf-8"))
    assert written["counts"] == {"created": 14, "invalid": 8}
    assert written["exit_code"] == 1
    assert written["report_path"] == str(tmp_path / "report.csv")
    assert isinstance(written["duration_seconds"], float) and written["duration_seconds"] > 0
    assert (written["interrupted"], written["dry_run"], written["error"]) == (False, False, "")
