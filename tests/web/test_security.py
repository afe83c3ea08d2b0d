"""The red-team findings against the page (issue 17), each reproduced: host names, sessions, CSRF.

Each test is named after the finding it reproduces and failed before the fix.
"""

from __future__ import annotations

import io
import json
import os
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from starlette.requests import Request
from typer.testing import CliRunner

from importer.cli import app as cli_app
from importer.errors import ConfigError
from importer.sandbox.server import SandboxHandle
from importer.web import WebSettings, create_app
from importer.web.runs import without_contact_details
from importer.web.security import (
    FREE_WRONG_PASSWORDS,
    SESSION_COOKIE,
    CsrfRefused,
    Guard,
    PasswordThrottle,
)
from importer.web.settings import check_binding, listening_names
from tests.helpers import PAGE_URL, SAMPLES, env_for
from tests.web.page_client import TestClient, settings_for  # the page's test client
from tests.web.test_app import send, upload_sample, wait_for_run  # its steps


def page(tmp_path: Path, base_url: str = PAGE_URL, **changes: Any) -> TestClient:
    settings = settings_for(tmp_path, changes.pop("environ", {}), **changes)
    return TestClient(base_url=base_url, app=create_app(settings))


def token_of(client: TestClient) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text)
    assert found, "no CSRF field on the page"
    return found.group(1)


def form_request(host: str, origin: str, cookie: str = "") -> Request:
    headers = [(b"host", host.encode()), (b"origin", origin.encode())]
    if cookie:
        headers.append((b"cookie", f"{SESSION_COOKIE}={cookie}".encode()))
    request = Request({"type": "http", "method": "POST", "path": "/upload", "headers": headers})
    if cookie:
        request.state.session_id = cookie  # as the middleware does for a signed cookie
    return request


@pytest.mark.parametrize("path", ["/", "/runs/nope12345", "/static/style.css"])
def test_dns_rebinding_a_foreign_host_is_refused(tmp_path: Path, path: str) -> None:
    # A web page that points its own name at 127.0.0.1 sends that name as the Host.
    with page(tmp_path, "http://rebound.attacker.example:8000") as client:
        answer = client.get(path)
        assert answer.status_code == 421
        assert "answers only at the addresses it was started for" in answer.text
        upload = client.post(
            "/upload",
            data={"csrf_token": "x", "mapping": "clinic.yaml"},
            files={"spreadsheet": ("a.csv", (SAMPLES / "appointments.csv").read_bytes())},
        )
        assert upload.status_code == 421
        assert list((tmp_path / "runs").glob("*")) == []


@pytest.mark.parametrize(
    "base_url", ["http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000"]
)
def test_dns_rebinding_this_computers_names_are_allowed(tmp_path: Path, base_url: str) -> None:
    with page(tmp_path, base_url) as client:
        assert client.get("/").status_code == 200


def test_dns_rebinding_allow_host_adds_a_name(tmp_path: Path) -> None:
    with page(tmp_path, "http://Office-PC:8000", allowed_hosts=("office-pc",)) as client:
        assert client.get("/").status_code == 200
    assert listening_names("192.168.1.20") == ("192.168.1.20",)
    assert listening_names("[::1]") == ("::1",)
    assert len(listening_names("0.0.0.0")) == 1  # this computer's name


def test_csrf_does_not_trust_the_host_header() -> None:
    guard = Guard(allowed_hosts=("office-pc",))
    session = guard.session_of(form_request("127.0.0.1", "http://127.0.0.1"))
    token = guard.csrf_token(form_request("127.0.0.1", "http://127.0.0.1", session))
    # The Origin matches the Host the sender chose: still another site.
    rebound = form_request("rebound.example", "http://rebound.example", session)
    with pytest.raises(CsrfRefused, match="another site"):
        guard.check_form(rebound, token)
    guard.check_form(form_request("office-pc", "http://office-pc", session), token)
    guard.check_form(form_request("localhost", "http://localhost", session), token)
    with pytest.raises(CsrfRefused, match="another site"):
        guard.check_form(form_request("localhost", "https://localhost", session), token)


@pytest.mark.parametrize(
    "forged",
    ["A" * 43, "a" * 64, "a" * 32 + "." + "b" * 43],  # the shapes a session cookie has
)
def test_a_session_cookie_the_server_did_not_sign_is_not_a_session(
    tmp_path: Path, forged: str
) -> None:
    with page(tmp_path) as client:
        client.cookies.set(SESSION_COOKIE, forged)
        answer = client.get("/")
        issued = answer.cookies.get(SESSION_COOKIE)
        assert issued and issued != forged  # a new session, signed by this server
        token = token_of(client)
        client.cookies.clear()
        client.cookies.set(SESSION_COOKIE, forged)
        refused = client.post(
            "/upload",
            data={"csrf_token": token, "mapping": "clinic.yaml"},
            files={"spreadsheet": ("a.csv", (SAMPLES / "appointments.csv").read_bytes())},
        )
        assert refused.status_code == 403


def test_a_signed_session_cookie_is_kept(tmp_path: Path) -> None:
    with page(tmp_path) as client:
        client.get("/")
        first = client.cookies.get(SESSION_COOKIE)
        again = client.get("/")
        assert SESSION_COOKIE not in again.cookies
        assert client.cookies.get(SESSION_COOKIE) == first


# --- uploads: how many, how large together, how long kept -------------------------------------


def upload_file(client: TestClient, content: bytes, name: str = "a.csv") -> Any:
    return client.post(
        "/upload",
        data={"csrf_token": token_of(client), "mapping": "clinic.yaml"},
        files={"spreadsheet": (name, content)},
        follow_redirects=False,
    )


def test_uploads_are_capped_in_count(tmp_path: Path) -> None:
    content = (SAMPLES / "appointments.csv").read_bytes()
    with page(tmp_path, max_waiting_uploads=3, uploads_parent=tmp_path) as client:
        assert [upload_file(client, content).status_code for _ in range(3)] == [303] * 3
        refused = upload_file(client, content)
        assert refused.status_code == 503
        assert "3 files that were not sent yet" in refused.text
        folder = client.app.state.web.uploads.folder  # type: ignore[attr-defined]
        assert len(list(folder.iterdir())) == 3


def test_uploads_are_capped_in_total_bytes(tmp_path: Path) -> None:
    content = (SAMPLES / "appointments.csv").read_bytes()
    total = int(len(content) * 2.5)
    with page(tmp_path, max_uploads_total_bytes=total, uploads_parent=tmp_path) as client:
        assert [upload_file(client, content).status_code for _ in range(2)] == [303] * 2
        refused = upload_file(client, content)
        assert refused.status_code == 503
        assert "take all the room this page keeps" in refused.text
        folder = client.app.state.web.uploads.folder  # type: ignore[attr-defined]
        assert sum(p.stat().st_size for p in folder.iterdir()) <= total


def test_upload_folders_left_by_a_crash_are_swept_at_start(tmp_path: Path) -> None:
    abandoned = tmp_path / "apptoto-web-crashed"
    recent = tmp_path / "apptoto-web-running"
    for folder in (abandoned, recent):
        folder.mkdir()
        (folder / "upload.xlsx").write_bytes(b"patients")
    long_ago = time.time() - 7 * 3600
    for path in (abandoned / "upload.xlsx", abandoned):
        os.utime(path, (long_ago, long_ago))
    with page(tmp_path, uploads_parent=tmp_path) as client:
        own = client.app.state.web.uploads.folder  # type: ignore[attr-defined]
        assert not abandoned.exists()
        assert recent.exists() and own.exists()
    assert not own.exists()


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_the_check_is_purged_once_downloaded(tmp_path: Path, kind: str) -> None:
    with page(tmp_path, uploads_parent=tmp_path) as client:
        review_url = upload_file(client, (SAMPLES / "appointments.csv").read_bytes())
        review_url = review_url.headers["location"]
        assert client.get(review_url).status_code == 200
        check = client.get(review_url + f"/check.{kind}")
        assert check.status_code == 200
        if kind == "csv":
            assert check.text.lstrip("\ufeff").startswith("Appointment ID,")
        else:
            sheet = openpyxl.load_workbook(io.BytesIO(check.content)).active
            assert sheet is not None and sheet["A1"].value == "Appointment ID"
        folder = client.app.state.web.uploads.folder  # type: ignore[attr-defined]
        assert [p.name for p in folder.iterdir() if "-check." in p.name] == []
        assert client.get(review_url + "/check.exe").status_code == 404


# --- beyond this computer: TLS, a real password, slow guessing ---------------------------------

LONG_PASSWORD = "front-desk-2026-spring"


@pytest.mark.parametrize("password", [" ", "short", " " * 20, "elevenchars"])
def test_a_weak_password_is_refused(password: str) -> None:
    with pytest.raises(ConfigError, match="at least 12 characters"):
        check_binding("127.0.0.1", password)
    with pytest.raises(ConfigError, match="at least 12 characters"):
        check_binding("0.0.0.0", password, tls=True)
    check_binding("0.0.0.0", LONG_PASSWORD, tls=True)


def test_beyond_loopback_needs_a_tls_certificate() -> None:
    with pytest.raises(ConfigError, match="TLS certificate"):
        check_binding("0.0.0.0", LONG_PASSWORD)
    check_binding("127.0.0.1", LONG_PASSWORD)  # this computer only: TLS is not needed
    result = CliRunner().invoke(
        cli_app, ["serve", "--host", "0.0.0.0"], env={"APPTOTO_WEB_PASSWORD": LONG_PASSWORD}
    )
    assert result.exit_code == 2
    assert "--certfile" in result.output


def test_a_certificate_that_cannot_be_loaded_is_said_before_serving(tmp_path: Path) -> None:
    garbage = tmp_path / "cert.pem"
    garbage.write_text("not a certificate")
    result = CliRunner().invoke(
        cli_app,
        ["serve", "--host", "0.0.0.0", "--certfile", str(garbage), "--port", "1"],
        env={"APPTOTO_WEB_PASSWORD": LONG_PASSWORD},
    )
    assert result.exit_code == 2
    assert "cannot be used" in result.output and "cert.pem" in result.output


def test_over_tls_the_session_cookie_is_secure(tmp_path: Path) -> None:
    with page(tmp_path, "https://127.0.0.1", certfile=tmp_path / "cert.pem") as client:
        assert "secure" in client.get("/").headers["set-cookie"].lower()
    with page(tmp_path) as client:
        assert "secure" not in client.get("/").headers["set-cookie"].lower()


def test_repeated_wrong_passwords_are_slowed_down(tmp_path: Path) -> None:
    with page(tmp_path, password=LONG_PASSWORD) as client:
        wrong = [client.get("/", auth=("x", f"guess-{n}")).status_code for n in range(5)]
        assert wrong == [401] * 5
        # The sixth try, even with the right password, is not checked yet.
        too_soon = client.get("/", auth=("x", LONG_PASSWORD))
        assert too_soon.status_code == 429
        assert int(too_soon.headers["retry-after"]) >= 1
        assert "Wait" in too_soon.text


def test_repeated_wrong_passwords_wait_twice_as_long_each_time() -> None:
    now = [1000.0]
    throttle = PasswordThrottle(lambda: now[0])
    for _ in range(FREE_WRONG_PASSWORDS):
        assert throttle.wait_left("10.0.0.9") == 0
        throttle.failed("10.0.0.9")
    waits = []
    for _ in range(8):
        waits.append(throttle.wait_left("10.0.0.9"))
        now[0] += waits[-1]
        throttle.failed("10.0.0.9")
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60]
    assert throttle.wait_left("10.0.0.10") == 0  # another computer
    now[0] += 60
    throttle.succeeded("10.0.0.9")
    assert throttle.wait_left("10.0.0.9") == 0


# --- what the page keeps, and for how long ------------------------------------------------------


def test_run_json_holds_no_phones_or_emails(sandbox: SandboxHandle, tmp_path: Path) -> None:
    with page(tmp_path, environ=env_for(sandbox)) as client:
        wait_for_run(client, send(client, upload_sample(client, "appointments.csv")))
        (record,) = (tmp_path / "runs").glob("*/run.json")
        text = record.read_text(encoding="utf-8")
        assert "555-012" not in text and "lucas.martin@gmail" not in text
        problems = {row: message for row, _, message in json.loads(text)["problems"]}
        assert "'Phone': '[a number]' is not a valid phone number" in problems[16]
        assert "'[an email address]' is not an email address" in problems[17]
        assert "'14/12/2026'" in problems[18]  # a date says which appointment, not who


def test_past_reports_are_kept_n_days(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    for run_id, started in [("old-run-0001", "2020-01-01T00:00:00+00:00"), ("new-run-0001", "")]:
        folder = runs / run_id
        folder.mkdir(parents=True)
        started = started or datetime.now(UTC).isoformat()
        record: dict[str, Any] = {"run_id": run_id, "file_name": "a", "mapping_file": "c.yaml"}
        record |= {"mapping_title": "C", "sheet": None, "started_at": started, "state": "done"}
        (folder / "run.json").write_text(json.dumps(record), encoding="utf-8")
        (folder / "report.csv").write_text("patients", encoding="utf-8")
    (runs / "unreadable-0001").mkdir()
    long_ago = time.time() - 40 * 86400
    os.utime(runs / "unreadable-0001", (long_ago, long_ago))
    with page(tmp_path, keep_reports_days=30) as client:
        assert client.get("/").status_code == 200
    assert sorted(p.name for p in runs.iterdir()) == ["new-run-0001"]
    with pytest.raises(ConfigError, match="more than 0 days"):
        WebSettings(keep_reports_days=0)


def test_contact_details_are_left_out_of_kept_messages() -> None:
    assert without_contact_details("'+1 (541) 555-0104' and 'ann@example.com'") == (
        "'[a number]' and '[an email address]'"
    )
    kept = "row 18, column 'Date': '14/12/2026'; starts 2026-12-14T08:30:00-08:00"
    assert without_contact_details(kept) == kept
