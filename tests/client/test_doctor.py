"""``apptoto-import doctor`` against the sandbox, as documented and in each "different" mode."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from importer.client.doctor import TEST_TITLE, Finding, check_account
from importer.sandbox.server import SandboxHandle
from tests.helpers import env_for, fast_client_config, invoke_cli

CALENDAR = "Doctor test"


def findings(sandbox: SandboxHandle, **differences: Any) -> dict[str, Finding]:
    sandbox.configure(**differences)
    found = asyncio.run(
        check_account(fast_client_config(sandbox, max_tries=2), write_calendar=CALENDAR)
    )
    return {finding.behaviour: finding for finding in found}


def test_the_sandbox_as_documented_matches_every_expectation(sandbox: SandboxHandle) -> None:
    found = findings(sandbox)
    assert [f.behaviour for f in found.values() if f.same is False] == []
    assert found["credentials"].same and found["delete"].same
    assert found["update by external_id"].detail == "the same event was updated"
    # The test events are deleted afterwards, and named as tests.
    events = sandbox.events()
    assert events and all(e["is_deleted"] and e["title"].startswith(TEST_TITLE) for e in events)


@pytest.mark.parametrize(
    ("differences", "behaviour", "words"),
    [
        ({"put_echoes_external_id": False}, "answers name the external_id", "leaves external_id"),
        ({"lookup_answer": "404"}, "lookup by external_id", "404 Not Found (a web page)"),
        ({"lookup_answer": "405"}, "lookup by external_id", "405 Method Not Allowed"),
        ({"delete_answer": "404"}, "delete", "404 Not Found without showing it deleted"),
        ({"delete_answer": "ignored"}, "the test event after the delete", "still live"),
        (
            {"deleted_external_id_matches": True},
            "sending a deleted event's external_id again",
            "still deleted",
        ),
        (
            {"forbidden_calendars": [CALENDAR]},
            f"creating an event in calendar {CALENDAR!r}",
            "403 Forbidden",
        ),
        (
            {"refuse_every_event": "no such field"},
            f"creating an event in calendar {CALENDAR!r}",
            "no such field",
        ),
    ],
)
def test_each_difference_is_found_with_what_the_importer_does(
    sandbox: SandboxHandle, differences: dict[str, Any], behaviour: str, words: str
) -> None:
    found = findings(sandbox, **differences)
    assert found[behaviour].same is False, found[behaviour]
    assert words in found[behaviour].detail
    assert found[behaviour].importer_does
    others = [f.behaviour for f in found.values() if f.same is False and f.behaviour != behaviour]
    assert behaviour not in others


@pytest.mark.parametrize("time_echo", ["utc", "naive"])
def test_times_echoed_differently_are_the_same_instant(
    sandbox: SandboxHandle, time_echo: str
) -> None:
    finding = findings(sandbox, time_echo=time_echo)["start time in answers"]
    assert finding.same is True and "answered" in finding.detail


def test_rate_limit_headers_are_read(sandbox: SandboxHandle) -> None:
    assert findings(sandbox)["rate limit"].same is None
    found = findings(sandbox, rate_limit_headers=True)["rate limit"]
    assert found.same is True and "100 requests a minute" in found.detail


def test_the_command_reads_only_by_default_and_exits_by_what_it_found(
    sandbox: SandboxHandle,
) -> None:
    result = invoke_cli(["doctor"], env_for(sandbox))
    assert result.exit_code == 0, result.output
    assert "ok   credentials: accepted (200 OK)" in result.output
    assert [r["method"] for r in sandbox.requests()] == ["GET", "GET"]  # nothing written

    sandbox.configure(lookup_answer="405")
    result = invoke_cli(["doctor"], env_for(sandbox))
    assert result.exit_code == 1 and "DIFF lookup by external_id" in result.output

    result = invoke_cli(["doctor"], env_for(sandbox, api_key="wrong"))
    assert result.exit_code == 2 and "DIFF credentials" in result.output
    assert "wrong" not in result.output

    result = invoke_cli(["doctor", "--write"], env_for(sandbox))
    assert result.exit_code == 2 and "--write needs --calendar" in result.output
