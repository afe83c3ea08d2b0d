"""The API key never leaves the importer: a canary key on every path, with DEBUG logging on.

Paths: a clean run, refused credentials (401), a server that answers 5xx, a proxy that echoes the
request headers back in its error pages, connection errors that quote them, invalid settings,
and the CLI with ``-v`` (in-process and as a real subprocess). Everywhere a person or a program
could read text afterwards is searched for the key, its URL-encoded forms and base64 of
``user:key`` (what the Basic auth header carries): logs, console output, reports, the ledger's
bytes, summary JSON, tracebacks and reprs.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import json
import logging
import subprocess
import sys
import traceback
import urllib.parse
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
import yaml

from importer.client import ApptotoClient, ClientConfig
from importer.errors import ConfigError, CredentialsRefused
from importer.exit_codes import exit_code_for
from importer.mapping import parse_mapping
from importer.pipeline import RunRequest, RunSummary, run_import
from importer.sandbox.server import SandboxHandle
from tests.helpers import IMPORTER, env_for, invoke_cli, run_process

# "/", "+" and "=" change under URL encoding; the user makes base64 of "user:key" its own string.
KEY = "canary/K3y+9f=zQ7"
MAPPING_SPEC: dict[str, Any] = {
    "name": "Secrets",
    "defaults": {"time_zone": "Europe/Berlin"},
    "event": {
        "calendar": "Front desk",
        "external_id": "s-{Id}",
        "title": "{Title}",
        "start": {"datetime": "{When}"},
        "duration_minutes": "15",
    },
}
MAPPING = parse_mapping(MAPPING_SPEC)


def leaked_forms(user: str) -> list[str]:
    basic = base64.b64encode(f"{user}:{KEY}".encode()).decode()
    return [
        KEY,
        urllib.parse.quote(KEY, safe=""),
        urllib.parse.quote_plus(KEY),
        basic,
        basic.rstrip("="),
        base64.b64encode(KEY.encode()).decode().rstrip("="),
    ]


def assert_no_secret(user: str, *texts: str | bytes) -> None:
    for text in texts:
        found = text if isinstance(text, str) else text.decode("utf-8", "replace")
        for form in leaked_forms(user):
            assert form not in found, f"{form!r} leaked into: {found[:300]!r}"


def files_text(folder: Path) -> list[bytes]:
    """The bytes of every file under ``folder``: reports, ledger, its -wal, summaries.

    A zip (an .xlsx report) is compressed, so its raw bytes could never show the key: each of its
    members is inflated and searched too.
    """
    found: list[bytes] = []
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            found.append(path.read_bytes())
            if zipfile.is_zipfile(path):
                with zipfile.ZipFile(path) as archive:
                    found.extend(archive.read(member) for member in archive.infolist())
    return found


def test_the_file_scan_looks_inside_an_xlsx_report(tmp_path: Path) -> None:
    # The scan itself can fail: a key in an .xlsx cell is found although the zip hides it.
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet["A1"] = f"note {KEY}"
    book.save(tmp_path / "report.xlsx")
    assert KEY.encode() not in (tmp_path / "report.xlsx").read_bytes()
    with pytest.raises(AssertionError, match="leaked"):
        assert_no_secret("staff@clinic.example", *files_text(tmp_path))


def write_rows(path: Path, count: int = 6) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Id", "Title", "When"])
        for n in range(1, count + 1):
            writer.writerow([n, f"Visit {n}", f"2026-12-0{n} 09:00"])
    return path


def canary_config(
    base_url: str, user: str = "staff@clinic.example", **overrides: Any
) -> ClientConfig:
    settings: dict[str, Any] = {
        "user": user,
        "api_key": KEY,
        "base_url": base_url,
        "requests_per_minute": 60_000,
        "batch_size": 2,
        "max_tries": 3,
        "backoff_base": 0.01,
        "backoff_cap": 0.02,
    }
    return ClientConfig(**(settings | overrides))


@pytest.fixture
def keyed(sandbox: SandboxHandle) -> SandboxHandle:
    """The sandbox accepting the canary key, without its rate limit."""
    sandbox.configure(api_key=KEY, rate_limit_requests=0)
    return sandbox


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every logger at DEBUG (httpx, httpcore, the importer, the sandbox's uvicorn)."""
    caplog.set_level(logging.DEBUG)
    return caplog


def logged_text(caplog: pytest.LogCaptureFixture) -> str:
    """The captured records as a handler would write them, tracebacks included."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records)


def run_with_canary(
    folder: Path, config: ClientConfig, transport: httpx.AsyncBaseTransport | None = None
) -> tuple[RunSummary, RunRequest]:
    folder.mkdir(parents=True, exist_ok=True)
    request = RunRequest(
        source=write_rows(folder / "in.csv"),
        mapping=MAPPING,
        client_config=config,
        report_path=folder / "report.csv",
        ledger_path=folder / "state.sqlite",
    )
    return run_import(request, transport=transport), request


def everything_said(summary: RunSummary, request: RunRequest, folder: Path) -> list[str | bytes]:
    return [
        repr(summary),
        str(summary.results),
        json.dumps(summary.to_json()),
        summary.line(),
        repr(request),
        repr(request.client_config),
        *files_text(folder),
    ]


# --- the pipeline, in-process ------------------------------------------------------------------


def test_a_clean_run_leaves_no_trace_of_the_key(
    keyed: SandboxHandle, tmp_path: Path, debug_logs: pytest.LogCaptureFixture
) -> None:
    config = canary_config(keyed.base_url, keyed.user)
    summary, request = run_with_canary(tmp_path, config)
    assert summary.counts == {"created": 6}
    assert len(debug_logs.records) > 20  # httpx and httpcore really logged at DEBUG
    assert_no_secret(
        keyed.user, logged_text(debug_logs), *everything_said(summary, request, tmp_path)
    )
    assert_no_secret(keyed.user, repr(ApptotoClient(config)))


def test_refused_credentials_leave_no_trace_of_the_key(
    keyed: SandboxHandle, tmp_path: Path, debug_logs: pytest.LogCaptureFixture
) -> None:
    keyed.configure(api_key="the-right-key")  # the canary is now a wrong key
    summary, request = run_with_canary(tmp_path, canary_config(keyed.base_url, keyed.user))
    assert exit_code_for(summary) == 2
    assert "refused the credentials" in summary.error
    assert summary.counts == {"skipped": 6}
    assert_no_secret(
        keyed.user, logged_text(debug_logs), *everything_said(summary, request, tmp_path)
    )


def test_server_errors_leave_no_trace_of_the_key(
    keyed: SandboxHandle, tmp_path: Path, debug_logs: pytest.LogCaptureFixture
) -> None:
    keyed.configure(fault_rate=1.0, fault_codes=[500, 503])
    summary, request = run_with_canary(tmp_path, canary_config(keyed.base_url, keyed.user))
    assert summary.counts == {"failed": 6}
    assert any("trying again" in record.getMessage() for record in debug_logs.records)
    assert_no_secret(
        keyed.user, logged_text(debug_logs), *everything_said(summary, request, tmp_path)
    )


def echoing_proxy(request: httpx.Request) -> httpx.Response:
    """A badly behaved proxy whose error pages and exceptions quote the request's credentials.

    A batch gets a 400 page quoting the Authorization header (so it is split); of the single
    events, odd ids are "stored" but left out of the answer (so they are looked up, and the
    lookup's connection error quotes the header), even ids are refused quoting ``user:key``.
    """
    authorization = request.headers["authorization"]
    plain = base64.b64decode(authorization.removeprefix("Basic ")).decode()
    if request.method == "GET":
        raise httpx.ConnectError(f"proxy refused {request.url} ({authorization}; {plain})")
    events = json.loads(request.content)["events"]
    if len(events) > 1:
        page = f"<html><body><h1>400</h1><pre>Authorization: {authorization}</pre></body></html>"
        return httpx.Response(400, text=page, headers={"content-type": "text/html"})
    if int(events[0]["external_id"].removeprefix("s-")) % 2:
        return httpx.Response(200, json={"events": []})
    return httpx.Response(422, json={"error": f"bad credentials {plain}", "header": authorization})


def test_error_pages_and_exceptions_that_quote_the_key_are_redacted(
    tmp_path: Path, debug_logs: pytest.LogCaptureFixture
) -> None:
    user = "staff@clinic.example"
    config = canary_config("https://api.example.test/v1", user)
    summary, request = run_with_canary(tmp_path, config, httpx.MockTransport(echoing_proxy))
    assert summary.counts == {"failed": 6}
    messages = {result.external_id: result.message for result in summary.results}
    # Still useful to a person, with the secret masked where the server quoted it.
    assert messages["s-2"].startswith("Apptoto refused the event (422 Unprocessable Entity)")
    assert "bad credentials staff@clinic.example:***" in messages["s-2"]
    assert "the lookup failed" in messages["s-1"] and "proxy refused" in messages["s-1"]
    assert "Basic ***" in messages["s-1"]
    assert_no_secret(user, logged_text(debug_logs), *everything_said(summary, request, tmp_path))


@pytest.mark.parametrize(
    "overrides",
    [
        {"batch_size": 0},
        {"base_url": "ftp://api.example.test/v1"},
        {"base_url": "http://127.0.0.1:99999/v1"},
        {"backoff_cap": 0.001, "backoff_base": 1.0},
    ],
    ids=["batch-size", "scheme", "port", "backoff"],
)
def test_invalid_settings_are_refused_in_words_without_the_key(overrides: dict[str, Any]) -> None:
    with pytest.raises(ConfigError) as caught:
        canary_config(**({"base_url": "https://api.example.test/v1"} | overrides))
    shown = "".join(traceback.format_exception(caught.value)) + repr(caught.value)
    assert "invalid Apptoto client settings" in shown
    assert_no_secret("staff@clinic.example", shown)


def test_an_exception_raised_through_the_run_carries_no_key(
    keyed: SandboxHandle, tmp_path: Path
) -> None:
    keyed.configure(api_key="the-right-key")
    config = canary_config(keyed.base_url, keyed.user)

    async def refused() -> None:
        async with ApptotoClient(config) as client:
            await client.send_events([{"external_id": "s-1", "title": "x"}])

    with pytest.raises(CredentialsRefused) as caught:
        asyncio.run(refused())
    shown = "".join(traceback.format_exception(caught.value)) + repr(caught.value)
    assert "refused the credentials for user demo@clinic.example" in shown
    assert_no_secret(keyed.user, shown)


# --- the CLI with -v --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["success", "401", "5xx"])
def test_the_cli_with_verbose_logging_never_shows_the_key(
    keyed: SandboxHandle, tmp_path: Path, restore_logging: None, path: str
) -> None:
    if path == "401":
        keyed.configure(api_key="the-right-key")
    if path == "5xx":  # 503 until the sandbox is back: the CLI's real backoff is ~1 s a try
        keyed.configure(outage_seconds=0.2, outage_mode="503")
    (tmp_path / "mapping.yaml").write_text(yaml.safe_dump(MAPPING_SPEC), encoding="utf-8")
    env = env_for(keyed, api_key=KEY)
    result = invoke_cli(
        [
            "run",
            str(write_rows(tmp_path / "in.csv")),
            "-m",
            str(tmp_path / "mapping.yaml"),
            "-v",
            "--rate",
            "60000",
            "--batch-size",
            "2",
            "--report",
            str(tmp_path / "report.xlsx"),
            "--state",
            str(tmp_path / "state.sqlite"),
            "--summary-json",
            str(tmp_path / "summary.json"),
        ],
        env,
    )
    assert result.exit_code == {"success": 0, "401": 2, "5xx": 0}[path], result.output
    if path == "5xx":
        assert "503 Service Unavailable; trying again" in result.stderr
    assert " DEBUG " in result.stderr  # -v really logged every request
    assert (tmp_path / "summary.json").exists()
    assert_no_secret(keyed.user, result.output, result.stderr, *files_text(tmp_path))


def run_in_a_process(
    launcher: Sequence[str], tmp_path: Path, env: dict[str, str], *options: str
) -> subprocess.CompletedProcess[str]:
    """``<launcher> run <rows> -m <mapping> <options>`` in a real process, output captured.

    The state file and summary go to ``tmp_path``, where ``files_text`` looks.
    """
    (tmp_path / "mapping.yaml").write_text(yaml.safe_dump(MAPPING_SPEC), encoding="utf-8")
    return run_process(
        [
            *launcher,
            "run",
            str(write_rows(tmp_path / "in.csv")),
            "-m",
            str(tmp_path / "mapping.yaml"),
            *options,
            "--state",
            str(tmp_path / "state.sqlite"),
            "--summary-json",
            str(tmp_path / "summary.json"),
        ],
        env,
    )


def test_the_console_script_with_verbose_logging_never_shows_the_key(
    keyed: SandboxHandle, tmp_path: Path
) -> None:
    keyed.configure(api_key="the-right-key")
    env = env_for(keyed, api_key=KEY)
    done = run_in_a_process(
        IMPORTER,
        tmp_path,
        env,
        "--verbose",
        "--report",
        str(tmp_path / "report.csv"),
    )
    assert done.returncode == 2
    assert "refused the credentials" in done.stderr and " DEBUG " in done.stderr
    assert_no_secret(keyed.user, done.stdout, done.stderr, *files_text(tmp_path))


# Run as `python -m importer`, in a real process, after replacing the client's batch sender:
# its second batch reaches Apptoto, then breaks with an error the importer does not expect, which
# quotes the key and the Basic header (so do the frame's locals, as a careless debug line would).
CRASHING_RUN = """
import base64, runpy, sys
from importer.client import api

real_put_batch = api.ApptotoClient._put_batch
batches = []

async def put_batch_then_break(self, events, *rest):
    batches.append(len(events))
    settled = await real_put_batch(self, events, *rest)
    if len(batches) == 1:
        return settled
    api_key = self.config.api_key
    authorization = "Basic " + base64.b64encode(f"{self.config.user}:{api_key}".encode()).decode()
    raise RuntimeError(f"unexpected answer to {authorization} (key {api_key})")

api.ApptotoClient._put_batch = put_batch_then_break
sys.argv[0] = "apptoto-import"
runpy.run_module("importer", run_name="__main__", alter_sys=True)
"""


@pytest.mark.parametrize("padding", ["", " \n"], ids=["as-set", "with-spaces"])
def test_an_unexpected_error_in_a_real_process_shows_no_key_in_its_traceback(
    keyed: SandboxHandle, tmp_path: Path, padding: str
) -> None:
    env = {
        "APPTOTO_BASE_URL": keyed.base_url,
        # The client strips what it reads; the masking must find the key it really used.
        "APPTOTO_USER": keyed.user + padding,
        "APPTOTO_API_KEY": padding + KEY + padding,
    }
    done = run_in_a_process(
        [sys.executable, "-c", CRASHING_RUN],
        tmp_path,
        env,
        "-v",
        "--batch-size",
        "2",
        "--rate",
        "60000",
        "--report",
        str(tmp_path / "report.xlsx"),
    )
    assert done.returncode == 3, done.stderr[-3000:]
    # The traceback is still there for a bug report, the error and the frame where it happened
    # with it; only the secrets are masked.
    assert "Traceback (most recent call last)" in done.stderr
    assert "in put_batch_then_break" in done.stderr
    assert "RuntimeError: unexpected answer to Basic *** (key ***)" in done.stderr
    assert "an unexpected error stopped the importer" in done.stderr
    assert " DEBUG " in done.stderr  # -v really logged the requests
    assert len(keyed.events()) >= 2  # the run was deep in sending: a batch reached Apptoto
    assert (tmp_path / "state.sqlite").exists()
    assert_no_secret(keyed.user, done.stdout, done.stderr, *files_text(tmp_path))
