"""The web page without a browser: forms, CSRF, upload limits, bad input, secrets, idempotency.

Starlette's TestClient drives the app in-process; sends go to the shared sandbox on loopback.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import html
import io
import re
import sqlite3
import stat
import threading
import time
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from starlette.requests import Request
from typer.testing import CliRunner

from importer.cli import app as cli_app
from importer.errors import ConfigError
from importer.ledger import Ledger
from importer.mapping import load_mapping
from importer.prepare import prepare
from importer.web import create_app
from importer.web.preview import describe_participant, describe_when
from importer.web.runs import RUN_JSON, RunBook
from importer.web.settings import check_binding, is_loopback
from importer.web.upload_form import UploadRefused, read_upload_form
from importer.web.words import without_row
from tests.helpers import (
    CLINIC_MAPPING,
    NOT_US_PHONE,
    PAGE_URL,
    SAMPLES,
    VALID_IDS,
    env_for,
)
from tests.web.page_client import API_KEY, TestClient, settings_for


def token_of(client: TestClient, path: str = "/") -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found, "no CSRF field on the page"
    return found.group(1)


def upload(
    client: TestClient,
    content: bytes,
    name: str,
    *,
    mapping: str = "clinic.yaml",
    token: str | None = None,
) -> Any:
    return client.post(
        "/upload",
        data={"csrf_token": token_of(client) if token is None else token, "mapping": mapping},
        files={"spreadsheet": (name, content)},
        follow_redirects=False,
    )


def upload_sample(client: TestClient, sample: str = "appointments.xlsx") -> str:
    answer = upload(client, (SAMPLES / sample).read_bytes(), sample)
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"])


def wait_for_run(client: TestClient, run_url: str) -> dict[str, Any]:
    for _ in range(300):
        progress: dict[str, Any] = client.get(run_url + "/progress").json()
        if progress["finished"]:
            return progress
        time.sleep(0.02)
    raise AssertionError("the run did not finish")


def send(client: TestClient, review_url: str) -> str:
    answer = client.post(
        review_url + "/send", data={"csrf_token": token_of(client)}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    return str(answer.headers["location"])


def page_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def assert_page_says(html: str, *phrases: str) -> None:
    """Each phrase is in the page's text as a reader sees it (tags dropped, spaces folded)."""
    text = page_text(html)
    for phrase in phrases:
        assert phrase in text, phrase


# --- the whole path, and what the server holds --------------------------------------------


def test_review_then_one_send_however_often_it_is_posted(
    client: TestClient, keyed_sandbox: Any
) -> None:
    review_url = upload_sample(client)
    review = client.get(review_url)
    assert review.status_code == 200
    assert 'data-count="create"' in review.text
    assert re.search(r'data-count="create">\s*<span class="number">14<', review.text)
    assert re.search(r'data-count="invalid">\s*<span class="number">8<', review.text)
    assert keyed_sandbox.events() == []  # the review sends nothing

    first = send(client, review_url)
    second = send(client, review_url)  # a double click, or the back button and Send again
    assert first == second
    wait_for_run(client, first)
    third = send(client, review_url)  # after the run too
    assert third == first
    assert client.get(review_url, follow_redirects=False).headers["location"] == first

    stored = [e for e in keyed_sandbox.events() if not e.get("is_deleted")]
    assert sorted(e["external_id"] for e in stored) == VALID_IDS
    assert len([r for r in keyed_sandbox.requests() if r["method"] == "PUT"]) == 1
    assert_page_says(
        client.get(first).text, "Import finished", "14 created", "8 invalid (not sent)"
    )


def test_reports_download_as_csv_and_xlsx_without_the_key(
    client: TestClient, keyed_sandbox: Any
) -> None:
    run_url = send(client, upload_sample(client))
    wait_for_run(client, run_url)
    report_csv = client.get(run_url + "/report.csv")
    assert report_csv.status_code == 200
    assert 'filename="appointments-report.csv"' in report_csv.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(report_csv.content.decode("utf-8-sig"))))
    assert len(rows) == 22
    assert sorted(r["external_id"] for r in rows if r["status"] == "created") == VALID_IDS
    report_xlsx = client.get(run_url + "/report.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(report_xlsx.content), read_only=True).active
    assert sheet is not None
    lines = list(sheet.iter_rows(values_only=True))
    assert len(lines) == 23  # header + 22 rows
    header = list(lines[0])
    statuses = [line[header.index("status")] for line in lines[1:]]
    assert statuses.count("created") == 14 and statuses.count("invalid") == 8
    secret_forms = [API_KEY, base64.b64encode(f"{keyed_sandbox.user}:{API_KEY}".encode()).decode()]
    for body in (report_csv.content, report_xlsx.content, client.get(run_url).content):
        for secret in secret_forms:
            assert secret.encode() not in body
    run_json = next((client.app.state.web.runs.runs_dir).glob(f"*/{RUN_JSON}"))  # type: ignore[attr-defined]
    assert API_KEY not in run_json.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("sample", "order"),
    [("appointments.xlsx", ["xlsx", "csv"]), ("appointments.csv", ["csv", "xlsx"])],
)
def test_the_report_in_the_file_own_kind_is_offered_first(
    client: TestClient, keyed_sandbox: Any, sample: str, order: list[str]
) -> None:
    run_url = send(client, upload_sample(client, sample))
    wait_for_run(client, run_url)
    page = client.get(run_url).text
    links = re.findall(r'<a class="button( primary)?" id="download-(\w+)"', page)
    assert links == [(" primary", order[0]), ("", order[1])]


@pytest.mark.parametrize(
    ("sample", "order"),
    [("appointments.xlsx", ["xlsx", "csv"]), ("appointments.csv", ["csv", "xlsx"])],
)
def test_the_check_is_offered_in_the_file_own_kind_first(
    client: TestClient, sample: str, order: list[str]
) -> None:
    review_url = upload_sample(client, sample)
    assert re.findall(r'id="check-(\w+)"', client.get(review_url).text) == order
    check = client.get(review_url + "/check.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(check.content)).active
    assert sheet is not None
    assert sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    statuses = [line[header.index("status")].value for line in sheet.iter_rows(min_row=2)]
    assert statuses.count("create") == 14 and statuses.count("invalid") == 8


def test_while_another_run_holds_the_ledger_the_review_shows_counts_and_waits_to_send(
    client: TestClient, keyed_sandbox: Any, tmp_path: Path
) -> None:
    wait_for_run(client, send(client, upload_sample(client)))  # 14 events recorded
    changed = (SAMPLES / "appointments.csv").read_bytes().replace(b"room 2", b"room 5", 1)
    answer = upload(client, changed, "appointments.csv")  # one appointment moved to room 5
    review_url = str(answer.headers["location"])
    with Ledger.open(tmp_path / "state.sqlite"):  # a nightly run, say
        review = client.get(review_url)
        assert review.status_code == 200
        assert 'id="busy"' in review.text and "Another import is running" in review.text
        assert re.search(r'data-count="unchanged">\s*<span class="number">13<', review.text)
        one_update = (
            r'data-count="update">\s*<span class="number">1</span> <span class="count-label">'
        )
        assert re.search(one_update + "update<", review.text)  # "1 update", not "1 updates"
        assert re.search(r'<button[^>]*id="send"[^>]*disabled', review.text)
        refused = client.post(
            review_url + "/send", data={"csrf_token": token_of(client)}, follow_redirects=False
        )
        assert refused.status_code == 409
        assert "Another import is running" in page_text(refused.text)
    puts = [r for r in keyed_sandbox.requests() if r["method"] == "PUT"]
    review = client.get(review_url)  # that run has finished
    assert 'id="busy"' not in review.text
    assert not re.search(r'<button[^>]*id="send"[^>]*disabled', review.text)
    result = wait_for_run(client, send(client, review_url))  # the upload was kept for it
    assert result["finished"], result
    sent = [r for r in keyed_sandbox.requests() if r["method"] == "PUT"][len(puts) :]
    assert len(sent) == 1  # only the moved appointment, once
    moved = [e for e in keyed_sandbox.events() if e["external_id"] == "clinic-000101"]
    assert [e["location"] for e in moved] == ["Eugene clinic, room 5"]


def test_the_ledger_names_the_file_as_uploaded_not_its_temporary_copy(
    client: TestClient, keyed_sandbox: Any, tmp_path: Path
) -> None:
    wait_for_run(client, send(client, upload_sample(client)))
    with sqlite3.connect(tmp_path / "state.sqlite") as ledger:
        names = {name for (name,) in ledger.execute("SELECT DISTINCT source_file FROM events")}
    assert names == {"appointments.xlsx"}


def test_the_upload_is_private_and_removed_after_the_run(client: TestClient) -> None:
    store = client.app.state.web.uploads  # type: ignore[attr-defined]
    assert stat.S_IMODE(store.folder.stat().st_mode) == 0o700
    review_url = upload_sample(client)
    [stored] = list(store.folder.iterdir())
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert "appointments" not in stored.name  # a random name, never the uploaded one
    wait_for_run(client, send(client, review_url))
    assert list(store.folder.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("<img src=x onerror=alert(1)>.csv", "&lt;img src=x onerror=alert(1)&gt;.csv"),
        ("../../etc/passwd.csv", "passwd.csv"),
        ("C:\\Users\\front desk\\day.csv", "day.csv"),
    ],
)
def test_a_file_name_is_only_shown_escaped(client: TestClient, name: str, shown: str) -> None:
    answer = upload(client, (SAMPLES / "appointments.csv").read_bytes(), name)
    review = client.get(answer.headers["location"])
    assert "<img" not in review.text
    assert f'<strong class="file-name">{shown}</strong>' in review.text
    store = client.app.state.web.uploads  # type: ignore[attr-defined]
    [stored] = list(store.folder.iterdir())
    assert stored.name.endswith(".csv") and "passwd" not in stored.name and "day" not in stored.name


def test_the_review_shows_each_invalid_cell_and_the_first_events(client: TestClient) -> None:
    review = client.get(upload_sample(client, "appointments.csv")).text
    row16 = re.search(r'<tr data-row="16">(.*?)</tr>', review, re.S)
    assert row16 is not None
    marked = re.findall(r'<td class="bad"[^>]*data-column="([^"]+)"', row16.group(1))
    assert marked == ["Phone"]
    assert NOT_US_PHONE in row16.group(1)
    blank = re.search(r'<tr data-row="19">(.*?)</tr>', review, re.S)
    assert blank is not None and "(blank)" in blank.group(1)
    assert_page_says(
        review,
        "Annual physical with Dr. Rivera",
        "Mon Dec 14, 2026, 8:30 AM – 9:00 AM PST (America/Los_Angeles)",
        "Send 14 events to Apptoto",
    )


def test_the_review_lists_rows_sent_with_a_warning(client: TestClient) -> None:
    lines = (SAMPLES / "appointments.csv").read_text(encoding="utf-8-sig").splitlines()
    # Row 2 with a mistyped email (its phone works) and in the past; the rest as they are.
    lines[1] = (
        lines[1]
        .replace("maria.gomez@example.com", "maria.gomez@example")
        .replace("12/14/2026", "12/14/2020")
    )
    review = client.get(upload(client, "\n".join(lines).encode(), "week.csv").headers["location"])
    warned = re.search(r'<ul class="row-warnings"[^>]*>(.*?)</ul>', review.text, re.S)
    assert warned is not None
    assert re.findall(r'<li data-row="(\d+)"', warned.group(1)) == ["2", "2"]
    assert_page_says(
        review.text,
        "Rows sent with something to check (2)",
        "Row 2, Date “12/14/2020”: this appointment is in the past",
        "Row 2, Email “maria.gomez@example”: is not an email address: check it for a typo",
        "Send 14 events to Apptoto",
    )
    run_url = send(client, str(review.url))
    wait_for_run(client, run_url)
    result = client.get(run_url).text
    not_sent = re.search(r'<h2 id="problems-title">Rows not sent</h2>(.*?)</table>', result, re.S)
    assert not_sent is not None and not_sent.group(1).count('<th scope="row">') == 8
    shown = re.search(r'<table class="problems" id="run-warnings">(.*?)</table>', result, re.S)
    assert shown is not None
    assert_page_says(
        html.unescape(shown.group(1)),
        "2 created",
        "'12/14/2020' this appointment is in the past",
        "'[an email address]' is not an email address: check it for a typo",
        "this email is left out",
    )


def test_a_damaged_record_of_earlier_imports_is_said_in_the_page_s_words(
    keyed_sandbox: Any, tmp_path: Path
) -> None:
    (tmp_path / "state.sqlite").write_bytes(b"this is not a database, just some text" * 100)
    with TestClient(
        base_url=PAGE_URL, app=create_app(settings_for(tmp_path, env_for(keyed_sandbox)))
    ) as client:
        review = client.get(upload_sample(client)).text
    problem = re.search(r'<p class="message">(.*?)</p>', review, re.S)
    assert problem is not None
    assert "record of earlier imports" in problem.group(1)
    assert "state file" not in page_text(review)


def test_many_invalid_rows_are_cut_and_the_check_downloads(
    keyed_sandbox: Any, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, env_for(keyed_sandbox), max_issue_rows=3)
    with TestClient(base_url=PAGE_URL, app=create_app(settings)) as client:
        review_url = upload_sample(client)
        review = client.get(review_url).text
        assert review.count("<tr data-row=") == 3
        assert "5 more invalid rows are not listed here" in review
        check = client.get(review_url + "/check.csv")
        rows = list(csv.DictReader(io.StringIO(check.content.decode("utf-8-sig"))))
        assert [r["status"] for r in rows].count("invalid") == 8
        assert [r["status"] for r in rows].count("create") == 14
    assert not (tmp_path / "state.sqlite").exists()  # a review leaves no state behind


def test_choosing_another_sheet(client: TestClient) -> None:
    review_url = upload_sample(client)
    assert '<option value="Read me">' in client.get(review_url).text
    token = token_of(client)
    client.post(review_url + "/sheet", data={"csrf_token": token, "sheet": "Read me"})
    text = page_text(client.get(review_url).text)
    assert "This file cannot be imported as it is" in text
    assert "sheet Read me" in text or "Read me" in text
    client.post(review_url + "/sheet", data={"csrf_token": token, "sheet": "Appointments"})
    assert "Send 14 events to Apptoto" in page_text(client.get(review_url).text)


# --- bad input is a message on the page ---------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("empty.csv", b"", "the file is empty"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "not a readable Excel"),
        ("text.xlsx", b"a,b\n1,2\n", "this is not a workbook"),
        (
            "scan.xlsx",
            b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n",
            "this is a PDF document, not a spreadsheet",
        ),
        ("other.csv", b"Name,When\nAda,today\n", "no column"),
    ],
)
def test_an_unreadable_file_is_a_message_naming_it(
    client: TestClient, name: str, content: bytes, words: str
) -> None:
    answer = upload(client, content, name)
    assert answer.status_code == 303
    review = client.get(answer.headers["location"])
    assert review.status_code == 200
    text = page_text(review.text)
    assert "This file cannot be imported as it is" in text
    assert words in text
    assert "Traceback" not in text
    store = client.app.state.web.uploads  # type: ignore[attr-defined]
    assert str(store.folder) not in review.text  # the private path is never shown
    if words != "no column":
        assert name in text
    assert 'id="send"' not in review.text


@pytest.mark.parametrize(
    ("name", "mapping", "words"),
    [
        ("notes.pdf", "clinic.yaml", "is not a spreadsheet this page reads"),
        ("a.csv", "../clinic.yaml", "Choose one of the mappings in the list"),
        ("a.csv", "missing.yaml", "Choose one of the mappings in the list"),
    ],
)
def test_refused_uploads_say_why(client: TestClient, name: str, mapping: str, words: str) -> None:
    answer = upload(client, b"a,b\n1,2\n", name, mapping=mapping)
    assert answer.status_code == 400
    assert words in page_text(answer.text)
    assert list(client.app.state.web.uploads.folder.iterdir()) == []  # type: ignore[attr-defined]


def test_a_bad_mapping_is_a_message(keyed_sandbox: Any, tmp_path: Path) -> None:
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    (mappings / "broken.yaml").write_text("name: x\nevent: [not, a, section]\n", encoding="utf-8")
    settings = settings_for(tmp_path, env_for(keyed_sandbox), mappings_dir=mappings)
    with TestClient(base_url=PAGE_URL, app=create_app(settings)) as client:
        assert "broken.yaml (has problems: choose it to see them)" in client.get("/").text
        answer = upload(
            client, (SAMPLES / "appointments.csv").read_bytes(), "a.csv", mapping="broken.yaml"
        )
        page = client.get(answer.headers["location"]).text
        assert_page_says(page, "This file cannot be imported as it is", "broken.yaml")


def test_no_mappings_folder_is_said_plainly(keyed_sandbox: Any, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, env_for(keyed_sandbox), mappings_dir=tmp_path / "none")
    with TestClient(base_url=PAGE_URL, app=create_app(settings)) as client:
        page = page_text(client.get("/").text)
    assert "There is no mapping in the folder" in page


def test_missing_credentials_are_said_before_send_and_nothing_is_sent(
    sandbox: Any, tmp_path: Path
) -> None:
    with TestClient(base_url=PAGE_URL, app=create_app(settings_for(tmp_path, {}))) as client:
        review_url = upload_sample(client)
        review = client.get(review_url).text
        assert "this server has no Apptoto credentials" in review
        assert re.search(r'id="send"\s+disabled', review)
        answer = client.post(review_url + "/send", data={"csrf_token": token_of(client)})
        assert answer.status_code == 400
        assert "APPTOTO_USER and APPTOTO_API_KEY are not set" in page_text(answer.text)
    assert sandbox.requests() == []


def test_refused_credentials_stop_the_run_with_a_message(
    keyed_sandbox: Any, tmp_path: Path
) -> None:
    environ = {**env_for(keyed_sandbox), "APPTOTO_API_KEY": "wrong-key-1234"}
    with TestClient(base_url=PAGE_URL, app=create_app(settings_for(tmp_path, environ))) as client:
        run_url = send(client, upload_sample(client))
        wait_for_run(client, run_url)
        text = page_text(client.get(run_url).text)
    assert "Import stopped" in text
    assert "wrong-key-1234" not in text
    assert keyed_sandbox.events() == []


def test_an_unexpected_error_is_a_calm_page(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    review_url = upload_sample(client)

    def broken(*args: Any) -> None:
        raise RuntimeError("a bug with /secret/paths in it")

    monkeypatch.setattr("importer.web.pages.review_page.build_review", broken)
    with TestClient(base_url=PAGE_URL, app=client.app, raise_server_exceptions=False) as other:
        other.cookies = client.cookies
        answer = other.get(review_url)
    assert answer.status_code == 500
    assert "Something went wrong" in answer.text
    assert "/secret/paths" not in answer.text and "Traceback" not in answer.text


@pytest.mark.parametrize("path", ["/uploads/" + "x" * 32, "/runs/nope12345", "/runs/..%2Fetc"])
def test_unknown_uploads_and_runs_are_not_found(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 404
    assert "Upload the file again" in answer.text


# --- CSRF, size limit, password, binding -------------------------------------------------


def test_forms_without_the_session_token_are_refused(client: TestClient) -> None:
    content = (SAMPLES / "appointments.csv").read_bytes()
    assert upload(client, content, "a.csv", token="").status_code == 403
    assert upload(client, content, "a.csv", token="0" * 64).status_code == 403
    review_url = upload_sample(client)
    with TestClient(
        base_url=PAGE_URL, app=client.app
    ) as stranger:  # another browser: its own session
        stolen = token_of(client)
        stranger.get("/")
        answer = stranger.post(review_url + "/send", data={"csrf_token": stolen})
        assert answer.status_code == 403
        assert "This form has expired" in answer.text
    answer = client.post(
        review_url + "/send",
        data={"csrf_token": token_of(client)},
        headers={"Origin": "http://evil.example"},
    )
    assert answer.status_code == 403
    assert client.app.state.web.uploads.get(review_url.rsplit("/", 1)[1]).run_id is None  # type: ignore[attr-defined]


def test_the_session_cookie_is_http_only_and_same_site(client: TestClient) -> None:
    client.cookies.clear()
    cookie = client.get("/").headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_pages_carry_protective_headers(client: TestClient) -> None:
    headers = client.get("/").headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store"
    assert headers["x-content-type-options"] == "nosniff"


def test_an_upload_over_the_limit_is_a_message(keyed_sandbox: Any, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, env_for(keyed_sandbox), max_upload_bytes=100_000)
    with TestClient(base_url=PAGE_URL, app=create_app(settings)) as client:
        answer = upload(client, b"x" * 300_000, "big.csv")
        assert answer.status_code == 413
        assert "Files over 0.0953674 MB are not accepted here" in page_text(answer.text)
        # Just over the limit but within the form's overhead: caught while copying.
        answer = upload(client, b"a,b\n" + b"x" * 100_000, "big.csv")
        assert answer.status_code == 413
        assert list(client.app.state.web.uploads.folder.iterdir()) == []  # type: ignore[attr-defined]


def test_an_upload_without_a_length_is_counted_as_it_arrives() -> None:
    boundary = "b0undary"
    chunks = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="spreadsheet"; '
        f'filename="a.csv"\r\nContent-Type: text/csv\r\n\r\n'.encode(),
        *([b"y" * 50_000] * 10),
        f"\r\n--{boundary}--\r\n".encode(),
    ]
    messages = iter(
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    )

    async def receive() -> Any:
        return next(messages)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/upload",
        "headers": [(b"content-type", f"multipart/form-data; boundary={boundary}".encode())],
    }
    with pytest.raises(UploadRefused) as refused:
        asyncio.run(read_upload_form(Request(scope, receive), 10_000))
    assert refused.value.status_code == 413


def test_a_password_guards_every_page(keyed_sandbox: Any, tmp_path: Path) -> None:
    settings = settings_for(tmp_path, env_for(keyed_sandbox), password="clinic-pass-2026")
    with TestClient(base_url=PAGE_URL, app=create_app(settings)) as client:
        assert client.get("/").status_code == 401
        assert client.get("/static/style.css").status_code == 401
        assert client.get("/", auth=("anyone", "wrong")).status_code == 401
        assert client.get("/", auth=("anyone", "clinic-pass-2026")).status_code == 200


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("localhost", True),
        ("::1", True),
        ("0.0.0.0", False),
        ("192.168.1.20", False),
        ("office-pc", False),
        ("::", False),
    ],
)
def test_only_loopback_is_open_without_a_password(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
    if loopback:
        check_binding(host, "")
    else:
        with pytest.raises(ConfigError, match="APPTOTO_WEB_PASSWORD"):
            check_binding(host, "")
    check_binding(host, "a long password", tls=True)


def test_serve_refuses_to_listen_beyond_loopback_without_a_password() -> None:
    result = CliRunner().invoke(
        cli_app, ["serve", "--host", "0.0.0.0"], env={"APPTOTO_WEB_PASSWORD": ""}
    )
    assert result.exit_code == 2
    assert "set APPTOTO_WEB_PASSWORD" in result.output


# --- past runs, and the words of the page --------------------------------------------------


def test_past_runs_outlive_the_server(client: TestClient, tmp_path: Path) -> None:
    wait_for_run(client, send(client, upload_sample(client)))
    runs = tmp_path / "runs"
    stuck = runs / "stuck-run-0001"
    stuck.mkdir()
    (stuck / RUN_JSON).write_text(
        '{"run_id": "stuck-run-0001", "file_name": "old.csv", "mapping_file": "clinic.yaml", '
        '"mapping_title": "Clinic", "sheet": null, "started_at": "2020-01-01T00:00:00+00:00", '
        '"state": "sending"}',
        encoding="utf-8",
    )
    book = RunBook(runs, keep_days=365 * 100)  # kept past 30 days on purpose
    try:
        past = book.past(10)
    finally:
        book.close()
    assert [r.file_name for r in past] == ["appointments.xlsx", "old.csv"]
    assert past[0].counts == {"created": 14, "invalid": 8}
    assert past[1].state == "interrupted"
    assert "upload the file again" in past[1].error


@pytest.mark.parametrize(
    ("payload", "shown"),
    [
        (
            {
                "start_time": "2026-12-14T08:30:00-08:00",
                "end_time": "2026-12-14T09:00:00-08:00",
                "time_zone": "America/Los_Angeles",
            },
            "Mon Dec 14, 2026, 8:30 AM – 9:00 AM PST",
        ),
        (
            {
                "start_time": "2027-07-01T10:00:00-06:00",
                "end_time": "2027-07-01T10:30:00-06:00",
                "time_zone": "America/Boise",
            },
            "Thu Jul 1, 2027, 10:00 AM – 10:30 AM MDT",
        ),
        (
            {
                "start_time": "2026-12-14T23:30:00+00:00",
                "end_time": "2026-12-15T00:30:00+00:00",
                "time_zone": "Europe/London",
            },
            "Mon Dec 14, 2026, 11:30 PM – Tue Dec 15, 2026, 12:30 AM GMT",
        ),
        (
            {
                "start_time": "2026-12-14T00:00:00-08:00",
                "end_time": "2026-12-15T00:00:00-08:00",
                "time_zone": "America/Los_Angeles",
                "all_day": True,
            },
            "Mon Dec 14, 2026 – Tue Dec 15, 2026 (all day)",
        ),
        (
            {"start_time": "2026-12-14T12:00:00+01:00", "end_time": "", "time_zone": "Nowhere/X"},
            "Mon Dec 14, 2026, 12:00 PM UTC+01:00",
        ),
        ({"start_time": "soon", "end_time": "later"}, "soon – later"),
    ],
)
def test_event_times_read_as_apptoto_shows_them(payload: dict[str, Any], shown: str) -> None:
    assert describe_when(payload) == shown


@pytest.mark.parametrize(
    ("participant", "shown"),
    [
        (
            {"name": "Maria Gómez", "email": "m@example.com", "phone": "+15415550104"},
            "Maria Gómez · m@example.com · +1 541-555-0104",
        ),
        ({"name": "Noah", "email": "", "phone": "+390669820000"}, "Noah · +39 06 6982 0000"),
        ({"contact_external_id": "p-7"}, "contact p-7"),
        ({}, "(no details)"),
    ],
)
def test_participants_read_as_apptoto_shows_them(participant: dict[str, Any], shown: str) -> None:
    assert describe_participant(participant) == shown


@pytest.mark.parametrize(
    ("message", "row", "shown"),
    [
        ("row 16, column 'Phone': bad", 16, "column 'Phone': bad"),
        ("row 20: ends early; row 20, column 'End': x", 20, "ends early; column 'End': x"),
        ("no longer in the file", None, "no longer in the file"),
    ],
)
def test_messages_lose_their_row_prefix_in_a_table(
    message: str, row: int | None, shown: str
) -> None:
    assert without_row(message, row) == shown


def test_the_review_names_each_calendar_apptoto_would_create(client: TestClient) -> None:
    # A first run: the ledger knows no calendar, so every calendar of the file is new.
    review = client.get(upload_sample(client, "appointments.csv"))
    notes = re.findall(r"Note: '([^']+)' is a new calendar", html.unescape(review.text))
    assert notes and notes == sorted(set(notes))
    prepared = prepare(SAMPLES / "appointments.csv", load_mapping(CLINIC_MAPPING))
    assert set(notes) == {event["calendar"] for event in prepared.events.payloads.values()}


@pytest.mark.parametrize("reads_at_once", [1, 2])
def test_uploads_are_read_and_planned_in_turns(
    keyed_sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reads_at_once: int
) -> None:
    """Three people opening their reviews at once: no more plans side by side than the setting
    allows (each holds a whole part of its file), and every one of them is answered."""
    from importer.web.pages import review_page

    planning, most, lock = 0, 0, threading.Lock()
    real = review_page.build_review

    def watched(*args: Any, **kwargs: Any) -> Any:
        nonlocal planning, most
        with lock:
            planning += 1
            most = max(most, planning)
        try:
            time.sleep(0.3)  # long enough for the other requests to arrive meanwhile
            return real(*args, **kwargs)
        finally:
            with lock:
                planning -= 1

    monkeypatch.setattr(review_page, "build_review", watched)
    settings = settings_for(tmp_path, env_for(keyed_sandbox), reads_at_once=reads_at_once)
    with TestClient(base_url=PAGE_URL, app=create_app(settings)) as client:
        reviews = [upload_sample(client, "appointments.csv") for _ in range(3)]
        answers: list[Any] = []
        threads = [
            threading.Thread(target=lambda url=url: answers.append(client.get(url)))
            for url in reviews
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert all('id="counts-title"' in a.text for a in answers)
    assert most == reads_at_once


def test_uploads_read_at_once_must_be_one_or_more(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="1 or more"):
        settings_for(tmp_path, {}, reads_at_once=0)
