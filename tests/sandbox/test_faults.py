"""The sandbox's limits and injected faults: rate limit, batch size, seeded errors, dropped
answers, slow answers, 429 storms and outages; and its settings."""

from __future__ import annotations

import email.utils
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from importer.errors import ConfigError
from importer.sandbox.faults import Fault, FaultPlan
from importer.sandbox.server import SandboxHandle, running_sandbox
from importer.sandbox.settings import SandboxSettings, settings_with


def event(external_id: str) -> dict[str, Any]:
    return {
        "calendar": "Dr Lee",
        "external_id": external_id,
        "title": "Visit",
        "start_time": "2026-12-01T09:00:00-08:00",
        "end_time": "2026-12-01T09:30:00-08:00",
    }


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- the fault plan on its own, with a fake clock -------------------------------------------


def test_rate_limit_is_a_sliding_window_with_retry_after_rounded_up() -> None:
    clock = FakeClock()
    plan = FaultPlan(SandboxSettings(rate_limit_requests=3, rate_limit_window_seconds=6), clock)
    verdicts = []
    for at in (0.0, 1.0, 2.5, 3.2, 5.9, 6.0, 6.5, 7.0):
        clock.now = 1000.0 + at
        refusal = plan.admit()
        verdicts.append(None if refusal is None else refusal.retry_after_seconds)
    # 3.2 -> the oldest (0.0) leaves at 6.0: 2.8 s -> 3; 5.9 -> 0.1 s -> 1;
    # 6.0: admitted; 6.5: window holds 1.0, 2.5, 6.0 -> wait until 7.0 -> 1; 7.0: admitted
    assert verdicts == [None, None, None, 3, 1, None, 1, None]


def test_refused_requests_do_not_fill_the_window() -> None:
    clock = FakeClock()
    plan = FaultPlan(SandboxSettings(rate_limit_requests=1, rate_limit_window_seconds=10), clock)
    assert plan.admit() is None
    for step in range(1, 10):
        clock.now = 1000.0 + step
        assert plan.admit() is not None
    clock.now = 1010.0
    assert plan.admit() is None


def test_storm_by_time_span_starts_at_its_first_request() -> None:
    clock = FakeClock()
    plan = FaultPlan(SandboxSettings(storm_seconds=5, storm_after_requests=1), clock)
    outcomes = []
    for at in (0, 10, 14.9, 15, 30):
        clock.now = 1000.0 + at
        refusal = plan.admit()
        outcomes.append(None if refusal is None else refusal.fault)
    assert outcomes == [None, Fault.STORM, Fault.STORM, None, None]


def test_outage_lasts_its_span_then_ends() -> None:
    clock = FakeClock()
    plan = FaultPlan(SandboxSettings(outage_seconds=3, outage_mode="drop"), clock)
    refusal = plan.outage()
    assert refusal is not None and (refusal.fault, refusal.status) == (Fault.OUTAGE, 0)
    clock.now += 3
    assert plan.outage() is None


def rolls(settings: SandboxSettings, n: int = 200) -> list[tuple[Any, ...]]:
    plan = FaultPlan(settings)
    return [
        (d.error_code, d.after_commit, d.after_commit_code, d.latency_seconds)
        for d in (plan.draw() for _ in range(n))
    ]


def test_seeded_dice_are_reproducible_and_follow_the_rates() -> None:
    settings = SandboxSettings(fault_seed=42, fault_rate=0.3, commit_then_drop_rate=0.2)
    first = rolls(settings)
    assert first == rolls(settings)
    assert first != rolls(settings_with(settings, {"fault_seed": 43}))
    errors = [r[0] for r in first if r[0] is not None]
    assert 30 <= len(errors) <= 90 and set(errors) == {500, 502, 503}
    drops = [r for r in first if r[1] is Fault.COMMIT_THEN_DROP]
    assert 15 <= len(drops) <= 65


def test_same_seed_gives_the_same_faults_whatever_the_other_rates() -> None:
    plain = rolls(SandboxSettings(fault_seed=5, fault_rate=0.25))
    with_slow = rolls(SandboxSettings(fault_seed=5, fault_rate=0.25, slow_rate=0.5))
    assert [r[0] for r in plain] == [r[0] for r in with_slow]


def test_latency_jitter_is_seeded_and_bounded() -> None:
    settings = SandboxSettings(fault_seed=1, latency_seconds=0.5, latency_jitter_seconds=0.25)
    latencies = [r[3] for r in rolls(settings)]
    assert all(0.5 <= x < 0.75 for x in latencies) and len(set(latencies)) > 100


# --- settings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"fault_rate": 1.5},
        {"rate_limit_window_seconds": 0},
        {"max_events_per_request": 0},
        {"fault_codes": []},
        {"fault_codes": [200]},
        {"retry_after_form": "minutes"},
        {"outage_mode": "maybe"},
        {"latency_seconds": -1},
        {"latency_seconds": "1"},
        {"storm_requests": True},
        {"no_such_setting": 1},
    ],
)
def test_bad_settings_are_refused_by_name(changes: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match=next(iter(changes))):
        settings_with(SandboxSettings(), changes)


def test_settings_repr_hides_the_key() -> None:
    assert "sandbox-key" not in repr(SandboxSettings())


def test_config_endpoint_changes_settings_and_refuses_bad_ones(sandbox: SandboxHandle) -> None:
    changed = sandbox.configure(rate_limit_requests=7, fault_codes=[503])
    assert (changed["rate_limit_requests"], changed["fault_codes"]) == (7, [503])
    assert "api_key" not in changed
    answer = httpx.put(f"{sandbox.control_url}/config", json={"fault_rate": 9})
    assert answer.status_code == 400 and "fault_rate" in answer.json()["error"]
    assert httpx.get(f"{sandbox.control_url}/config").json()["fault_rate"] == 0.0


# --- over HTTP ------------------------------------------------------------------------------


def test_rate_limit_answers_429_with_retry_after(
    sandbox: SandboxHandle, sandbox_api: httpx.Client
) -> None:
    sandbox.configure(rate_limit_requests=3, rate_limit_window_seconds=6)
    statuses = [sandbox_api.get("events").status_code for _ in range(3)]
    refused = sandbox_api.get("events")
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 6
    assert sandbox.stats()["requests_by_fault"] == {"rate_limit": 1}


@pytest.mark.parametrize(("limit", "count", "status"), [(20, 20, 200), (20, 21, 502), (5, 6, 502)])
def test_too_many_events_in_one_request_is_a_502(
    sandbox: SandboxHandle, sandbox_api: httpx.Client, limit: int, count: int, status: int
) -> None:
    sandbox.configure(max_events_per_request=limit)
    answer = sandbox_api.put("events", json={"events": [event(f"e-{i}") for i in range(count)]})
    assert answer.status_code == status
    assert sandbox.stats()["events_stored"] == (count if status == 200 else 0)
    if status == 502:
        assert "Bad Gateway" in answer.text


def statuses_for_seed(sandbox: SandboxHandle, api: httpx.Client, seed: int) -> list[int]:
    sandbox.reset()
    sandbox.configure(fault_seed=seed, fault_rate=0.5, fault_codes=[500, 503])
    return [api.put("events", json={"events": [event("s-1")]}).status_code for _ in range(24)]


def test_seeded_faults_are_reproducible_over_http(
    sandbox: SandboxHandle, sandbox_api: httpx.Client
) -> None:
    first = statuses_for_seed(sandbox, sandbox_api, 3)
    assert first == statuses_for_seed(sandbox, sandbox_api, 3)
    assert first != statuses_for_seed(sandbox, sandbox_api, 4)
    assert set(first) == {200, 500, 503}
    # a refused request stored nothing; a PUT repeated by external_id never duplicates
    assert sandbox.stats()["events_per_external_id"] == {"s-1": 1}


def test_commit_then_drop_stores_once_and_the_client_sees_an_error(
    sandbox: SandboxHandle, sandbox_api: httpx.Client
) -> None:
    sandbox.configure(commit_then_drop_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        sandbox_api.put("events", json={"events": [event("cd-1"), event("cd-2")]})
    assert sorted(e["external_id"] for e in sandbox.events()) == ["cd-1", "cd-2"]
    sandbox.configure(commit_then_drop_rate=0.0)
    retried = sandbox_api.put("events", json={"events": [event("cd-1"), event("cd-2")]})
    assert retried.status_code == 200
    stats = sandbox.stats()
    assert (stats["events_stored"], stats["duplicates"]) == (2, [])
    assert stats["requests_by_status"] == {"200": 1, "dropped": 1}


def test_commit_then_error_stores_and_answers_a_fault_code(
    sandbox: SandboxHandle, sandbox_api: httpx.Client
) -> None:
    sandbox.configure(commit_then_error_rate=1.0, fault_codes=[502])
    answer = sandbox_api.put("events", json={"events": [event("ce-1")]})
    assert answer.status_code == 502
    assert [e["external_id"] for e in sandbox.events()] == ["ce-1"]


def test_slow_answer_stores_then_outlasts_the_client_timeout(
    sandbox: SandboxHandle, sandbox_api: httpx.Client
) -> None:
    sandbox.configure(slow_rate=1.0, slow_seconds=5)
    with pytest.raises(httpx.ReadTimeout):
        sandbox_api.put("events", json={"events": [event("sl-1")]}, timeout=0.3)
    assert [e["external_id"] for e in sandbox.events()] == ["sl-1"]
    assert sandbox.requests()[0]["fault"] == "slow"


def test_429_storm_in_seconds_form(sandbox: SandboxHandle, sandbox_api: httpx.Client) -> None:
    sandbox.configure(storm_requests=2, storm_retry_after_seconds=7, storm_after_requests=1)
    answers = [sandbox_api.get("events") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 429, 429, 200]
    assert [a.headers.get("Retry-After") for a in answers] == [None, "7", "7", None]


def test_429_storm_in_http_date_form(sandbox: SandboxHandle, sandbox_api: httpx.Client) -> None:
    sandbox.configure(storm_requests=1, storm_retry_after_seconds=30, retry_after_form="http-date")
    before = datetime.now(UTC)
    answer = sandbox_api.get("events")
    assert answer.status_code == 429
    when = email.utils.parsedate_to_datetime(answer.headers["Retry-After"])
    assert before + timedelta(seconds=29) <= when <= before + timedelta(seconds=32)


def test_429_without_retry_after(sandbox: SandboxHandle, sandbox_api: httpx.Client) -> None:
    sandbox.configure(storm_requests=1, retry_after_form="none")
    answer = sandbox_api.get("events")
    assert answer.status_code == 429 and "Retry-After" not in answer.headers


def test_outage_answers_503_before_checking_credentials(
    sandbox: SandboxHandle, sandbox_api: httpx.Client
) -> None:
    sandbox.configure(outage_seconds=60)
    assert sandbox_api.get("events").status_code == 503
    assert httpx.get(f"{sandbox.base_url}/events").status_code == 503
    sandbox.configure(outage_seconds=0)
    assert sandbox_api.get("events").status_code == 200


def test_outage_can_drop_connections(sandbox: SandboxHandle, sandbox_api: httpx.Client) -> None:
    sandbox.configure(outage_seconds=60, outage_mode="drop")
    with pytest.raises(httpx.RemoteProtocolError):
        sandbox_api.put("events", json={"events": [event("o-1")]})
    assert sandbox.events() == []
    assert sandbox.stats()["requests_by_fault"] == {"outage": 1}


def test_changed_credentials_take_effect(sandbox: SandboxHandle) -> None:
    old = sandbox.auth
    sandbox.configure(api_key="rotated-key")
    assert httpx.get(f"{sandbox.base_url}/events", auth=old).status_code == 401
    assert httpx.get(f"{sandbox.base_url}/events", auth=sandbox.auth).status_code == 200


def test_file_database_keeps_events_for_inspection_and_restart(tmp_path: Path) -> None:
    db_path = tmp_path / "sandbox.sqlite"
    with running_sandbox(db_path=str(db_path)) as first:
        answer = httpx.put(
            f"{first.base_url}/events", json={"events": [event("db-1")]}, auth=first.auth
        )
        first_id = answer.json()["events"][0]["id"]
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT external_id FROM events").fetchall() == [("db-1",)]
        assert db.execute("SELECT method, status FROM requests").fetchall() == [("PUT", 200)]
    with running_sandbox(db_path=str(db_path)) as second:
        answer = httpx.put(
            f"{second.base_url}/events", json={"events": [event("db-2")]}, auth=second.auth
        )
        assert answer.json()["events"][0]["id"] == first_id + 1
        assert [e["external_id"] for e in second.events()] == ["db-1", "db-2"]
