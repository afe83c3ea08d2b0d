"""What office staff read: every message of the page and the report in everyday words.

One sheet with a mistake of every kind goes through the CLI (the report) and the web page (the
review); no message may carry an option name, a mapping key or another internal term, and the
impossible date, the missing time and the missing duration each get their own diagnosis.
"""

from __future__ import annotations

import html
import re
import warnings
from pathlib import Path
from typing import Any

from importer.web import WebSettings, create_app
from tests.helpers import PAGE_URL, env_for, invoke_cli, read_report, write_csv

with warnings.catch_warnings():  # httpx (not httpx2) behind the TestClient: still works
    from starlette.exceptions import StarletteDeprecationWarning

    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

INTERNAL_WORDS = ("defaults.", "--", "state file", "YAML", "external_id", "duration_minutes")
COMMAND_WORDS = ("apptoto-import", "max-upload", "max_upload")  # the command and its options

MAPPING = """
name: Words
defaults: {time_zone: America/New_York, date_format: "%m/%d/%Y", time_format: "%I:%M %p"}
columns:
  Id: {required: true, unique: true}
  Email: {type: email}
  Phone: {type: phone}
event:
  calendar: "{Provider}"
  external_id: "w-{Id}"
  title: "{Service} with {Provider}"
  start: "{When}"
  duration_minutes: "{Minutes}"
  time_zone: "{Zone}"
  all_day: "{All day}"
  show_as: "{Show as}"
  participants:
    - name: "{Name|first_last}"
      email: "{Email}"
      phone: "{Phone}"
"""
HEADER = ["Id", "When", "Minutes", "Provider", "Service", "Zone", "All day", "Show as", "Name"]
HEADER += ["Email", "Phone"]
GOOD = {
    "When": "12/16/2027 9:00 AM",
    "Minutes": "30",
    "Provider": "Dr. Chen",
    "Service": "Check-up",
    "Zone": "",
    "All day": "",
    "Show as": "",
    "Name": "Abernathy, Gail",
    "Email": "gail@example.com",
    "Phone": "(541) 555-0104",
}
# Id -> the cells that differ from GOOD, and the words its message must hold.
ROWS: dict[str, tuple[dict[str, str], str]] = {
    "1": ({}, ""),
    "2": ({"When": "12/32/2026 9:00 AM"}, "there is no 32 December"),
    "3": ({"When": "12/16/2026"}, "has a date but no time"),
    "4": ({"Minutes": ""}, "the length of the appointment is missing"),
    "5": ({"Service": "", "Provider": ""}, "the appointment has no title"),
    "6": ({"Zone": "Mars/Base"}, "is not a known time zone"),
    "": ({}, "is required but blank"),
    "8": ({"Minutes": "45"}, "appears in more than one row"),
    "8 ": ({"Minutes": "50"}, ""),
    "10": ({"All day": "maybe"}, "must be yes or no"),
    "11": ({"Show as": "asleep"}, "must be one of"),
    "12": ({"When": "11/01/2026 1:30 AM"}, "happens twice in America/New_York"),
    "13": ({"Phone": "555-12", "Email": ""}, "is not a valid phone number"),
    "14": ({"Email": "gail@example", "Phone": ""}, "is not an email address"),
    "15": ({"Minutes": "an hour"}, "is not a length in minutes"),
    "16": ({"When": "14/12/2027 9:00 AM"}, "there is no month 14"),
    "18": ({"When": "46370.395833"}, "is a number, not a date: Excel shows dates as numbers"),
}


def write_sheet(folder: Path) -> Path:
    rows = [{**GOOD, "Id": key.strip(), **changes} for key, (changes, _) in ROWS.items()]
    rows.append({**GOOD, "Id": "17", "Email": "gail@example", "When": "03/02/2021 9:00 AM"})
    return write_csv(folder / "week.csv", HEADER, rows)


def assert_in_everyday_words(messages: list[str]) -> None:
    for message in messages:
        for word in INTERNAL_WORDS + COMMAND_WORDS:
            assert word not in message, f"{word!r} in: {message}"


def test_report_messages_name_the_problem_in_everyday_words(sandbox: Any, tmp_path: Path) -> None:
    sheet = write_sheet(tmp_path)
    mapping = tmp_path / "words.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    report = tmp_path / "report.csv"
    args = ["run", str(sheet), "-m", str(mapping), "--report", str(report)]
    state = ["--state", str(tmp_path / "state.sqlite")]
    first = invoke_cli([*args, *state], env_for(sandbox))
    assert first.exit_code == 1, first.output
    lines = read_report(report)
    by_id = {line["Id"]: line for line in lines}
    for key, (_, words) in ROWS.items():
        assert words in by_id[key.strip()]["message"], (key, by_id[key.strip()]["message"])
    assert by_id["17"]["status"] == "created"
    assert "this appointment is in the past" in by_id["17"]["warnings"]
    assert "this email is left out" in by_id["17"]["warnings"]
    again = invoke_cli([*args, *state, "--full"], env_for(sandbox))
    assert again.exit_code == 1, again.output
    lines += read_report(report)
    assert_in_everyday_words([line[c] for line in lines for c in ("message", "warnings")])


def test_the_review_page_names_the_problem_in_everyday_words(sandbox: Any, tmp_path: Path) -> None:
    settings = page_settings(sandbox, tmp_path)
    sheet = write_sheet(tmp_path)
    with TestClient(base_url=PAGE_URL, app=create_app(settings)) as client:
        page = upload(client, sheet.name, sheet.read_bytes()).text
    assert "Review before sending" in page
    sections = re.findall(
        r'<td class="reasons">(.*?)</td>|<ul class="row-warnings"[^>]*>(.*?)</ul>', page, re.S
    )
    messages = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", a or b)) for a, b in sections]
    assert len(messages) >= 15
    text = " ".join(messages)
    for words in ("there is no 32 December", "has a date but no time", "length of the appointment"):
        assert words in text
    assert_in_everyday_words(messages)


def page_settings(sandbox: Any, tmp_path: Path, **changes: Any) -> WebSettings:
    """The page's settings with the words.yaml mapping offered, talking to the sandbox."""
    folder = tmp_path / "mappings"
    folder.mkdir()
    (folder / "words.yaml").write_text(MAPPING, encoding="utf-8")
    return WebSettings(
        mappings_dir=folder,
        ledger_path=tmp_path / "state.sqlite",
        runs_dir=tmp_path / "runs",
        environ=env_for(sandbox),
        **changes,
    )


def upload(client: TestClient, name: str, content: bytes) -> Any:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text)
    assert token is not None
    return client.post(
        "/upload",
        data={"csrf_token": token.group(1), "mapping": "words.yaml"},
        files={"spreadsheet": (name, content)},
    )


def test_the_upload_limit_message_is_in_everyday_words(sandbox: Any, tmp_path: Path) -> None:
    settings = page_settings(sandbox, tmp_path, max_upload_bytes=1024 * 1024)
    with TestClient(base_url=PAGE_URL, app=create_app(settings)) as client:
        answer = upload(client, "week.csv", b"x" * (3 * 1024 * 1024))
    assert answer.status_code == 413
    found = re.search(r'id="upload-problem"><p class="message">(.*?)</p>', answer.text, re.S)
    assert found is not None, answer.text
    message = html.unescape(found.group(1))
    assert "Files over 1 MB are not accepted here" in message
    assert "raise the limit" in message
    assert_in_everyday_words([message])
