"""The web page in a real browser: Debian's Chromium, headless, driven by Playwright.

Upload the clinic sample, see the invalid rows marked with their reasons, send, watch the
progress finish, download the report, and check what the sandbox (playing Apptoto) holds.
A screenshot of each page goes to ``tests/screenshots/`` (git-ignored) for a person to look at;
``APPTOTO_UPDATE_DOCS=1`` also refreshes ``docs/review-page.png`` for the README.
"""

from __future__ import annotations

import csv
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from importer.web.server import WebHandle, running_web
from importer.web.settings import WebSettings
from tests.helpers import INVALID_ROWS, MAPPINGS, ROOT, SAMPLES, VALID_IDS, env_for, live_events
from tests.web.browsing import API_KEY, UNLABELLED, needs_chromium, shoot

DOCS_SHOT = ROOT / "docs" / "review-page.png"
pytestmark = needs_chromium


@pytest.fixture
def web(sandbox: Any, tmp_path: Path) -> Iterator[WebHandle]:
    sandbox.configure(api_key=API_KEY, latency_seconds=0.3)
    settings = WebSettings(
        mappings_dir=MAPPINGS,
        ledger_path=tmp_path / "state.sqlite",
        runs_dir=tmp_path / "runs",
        batch_size=5,  # 3 requests for the 14 events, so the bar has steps to show
        requests_per_minute=120.0,  # a batch every 0.5 s: the bar moves in steps
        environ=env_for(sandbox, api_key=API_KEY),
    )
    with running_web(settings) as handle:
        yield handle


def test_upload_review_send_download_in_a_real_browser(
    web: WebHandle, browser_page: Any, sandbox: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect

    page = browser_page
    page.goto(web.url + "/")
    expect(page.get_by_role("heading", name="Import appointments into Apptoto")).to_be_visible()
    assert page.evaluate(UNLABELLED) == []
    page.get_by_label("Mapping").select_option("clinic.yaml")
    page.get_by_label("Spreadsheet").set_input_files(str(SAMPLES / "appointments.xlsx"))
    shoot(page, "1-upload")
    page.get_by_role("button", name="Check the file").click()

    # Review: counts, every invalid row with its bad cell marked and its reason, the preview.
    expect(page.get_by_role("heading", name="Review before sending")).to_be_visible()
    assert page.evaluate(UNLABELLED) == []
    expect(page.locator("[data-count=create] .number")).to_have_text("14")
    expect(page.locator("[data-count=invalid] .number")).to_have_text("8")
    expect(page.locator("[data-count=unchanged] .number")).to_have_text("0")
    rows = page.locator("#invalid-rows tbody tr")
    expect(rows).to_have_count(len(INVALID_ROWS))
    for row, (column, words) in INVALID_ROWS.items():
        line = page.locator(f"#invalid-rows tr[data-row='{row}']")
        marked = line.locator("td.bad")
        expect(marked).to_have_count(1)
        assert marked.get_attribute("data-column") == column
        expect(line.locator("td.reasons")).to_contain_text(words)
    phone_cell = page.locator("#invalid-rows tr[data-row='16'] td.bad")
    expect(phone_cell).to_contain_text("555-012")
    # The mark is visible, not only in the markup: a tinted background.
    background = phone_cell.evaluate("el => getComputedStyle(el).backgroundColor")
    plain = page.locator("#invalid-rows tr[data-row='16'] td").last
    assert background != plain.evaluate("el => getComputedStyle(el).backgroundColor")
    first_event = page.locator(".previews .event").first
    expect(first_event).to_contain_text("Annual physical with Dr. Rivera")
    expect(first_event).to_contain_text("Mon Dec 14, 2026, 8:30 AM – 9:00 AM PST")
    expect(first_event).to_contain_text("America/Los_Angeles")
    expect(first_event).to_contain_text("Maria Gómez · maria.gomez@example.com · +1 541-555-0104")
    assert API_KEY not in page.content()
    review_url = page.url
    review_shot = shoot(page, "2-review")
    if os.environ.get("APPTOTO_UPDATE_DOCS") == "1":
        shutil.copyfile(review_shot, DOCS_SHOT)
    assert sandbox.events() == []  # nothing is sent before Send

    # Send from the keyboard, then watch the bar until the result page replaces it.
    send = page.get_by_role("button", name="Send 14 events to Apptoto")
    send.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/runs/*")
    run_url = page.url
    expect(page.get_by_role("heading", name="Sending appointments.xlsx")).to_be_visible()
    try:  # a picture of the bar part-way, when the page polls before the last batch
        page.wait_for_function(
            "() => { const bar = document.getElementById('bar'); return bar && bar.value > 0; }",
            timeout=5_000,
        )
        shoot(page, "3-progress")
    except PlaywrightTimeout:
        pass  # the run finished between two polls
    expect(page.get_by_role("heading", name="Import finished")).to_be_visible()
    expect(page.locator("[data-count=created] .number")).to_have_text("14")
    expect(page.locator("[data-count=invalid] .number")).to_have_text("8")
    assert API_KEY not in page.content()
    shoot(page, "4-result")

    # The report, as downloaded.
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the report (CSV)").click()
    assert download.value.suggested_filename == "appointments-report.csv"
    saved = tmp_path / "report.csv"
    download.value.save_as(str(saved))
    text = saved.read_text(encoding="utf-8-sig")
    assert API_KEY not in text
    report = list(csv.DictReader(text.splitlines()))
    assert len(report) == 22
    assert sorted(r["external_id"] for r in report if r["status"] == "created") == VALID_IDS
    assert {int(r["row"]) for r in report if r["status"] == "invalid"} == set(INVALID_ROWS)

    # The sandbox holds the 14 events, once each.
    stored = live_events(sandbox)
    assert sorted(stored) == VALID_IDS
    assert sandbox.stats()["duplicates"] == []
    by_id = {r["external_id"]: r for r in report}
    assert all(int(by_id[k]["apptoto_id"]) == stored[k]["id"] for k in VALID_IDS)

    # Back to the review and send again: the same run, nothing sent twice.
    puts = [r for r in sandbox.requests() if r["method"] == "PUT"]
    page.goto(review_url)
    assert page.url == run_url
    page.goto(web.url + "/")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    again = page.request.post(review_url + "/send", form={"csrf_token": token or ""})
    assert again.url == run_url
    assert [r for r in sandbox.requests() if r["method"] == "PUT"] == puts
    expect(page.get_by_role("link", name="Open the run of appointments.xlsx")).to_have_count(1)


# --- the column-matching step ----------------------------------------------------------------

SYNONYM_HEADERS = ["Appt #", "Appt Date", "Time", "Doctor", "Patient Name", "Mobile", "Email"]
SYNONYM_ROWS = [  # US dates, some days above 12: the order is clear, no question asked
    ["A-1001", "12/14/2026", "8:30 AM", "Dr. Rivera", "Maria Gomez", "(541) 555-0104"],
    ["A-1002", "12/14/2026", "9:00 AM", "Dr. Rivera", "James Oconnor", "541.555.0123"],
    ["A-1003", "12/15/2026", "2:15 PM", "Dr. Chen", "Aiko Tanaka", "5415550142"],
    ["A-1004", "01/05/2027", "10:00 AM", "Dr. Chen", "Noah Becker", "+1 541-555-0177"],
    ["A-1005", "01/21/2027", "3:45 PM", "Dr. Rivera", "Lena Ortiz", "541-555-0199"],
]
SYNONYM_VISITS = ["Annual physical", "Flu shot", "Follow-up", "Consultation", "Annual physical"]


def write_synonym_sheet(path: Path) -> Path:
    """A front desk's export: synonym headers, no zone column, a column the assistant cannot
    place ("Visit", which a person knows is the title)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*SYNONYM_HEADERS, "Visit"])
        for cells, visit in zip(SYNONYM_ROWS, SYNONYM_VISITS, strict=True):
            email = cells[4].split()[0].lower() + "@example.com"
            writer.writerow([*cells, email, visit])
    return path


def test_match_columns_save_the_mapping_and_import_in_a_real_browser(
    matching_web: WebHandle, browser_page: Any, sandbox: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page = browser_page
    sheet = write_synonym_sheet(tmp_path / "front-desk-export.csv")
    page.goto(matching_web.url + "/")
    # The default: the saved mapping that fits; none does (clinic.yaml reads other columns).
    expect(page.get_by_label("Mapping")).to_have_value("")
    page.get_by_label("Spreadsheet").set_input_files(str(sheet))
    page.get_by_role("button", name="Check the file").click()

    # The matching step, pre-filled by the assistant with its confidence.
    expect(page.get_by_role("heading", name="Match the columns")).to_be_visible()
    assert page.evaluate(UNLABELLED) == []
    prefilled = {
        "Appointment ID (unique per row)": "Appt #",
        "Date": "Appt Date",
        "Start time": "Time",
        "Calendar (provider, staff)": "Doctor",
        "Participant's full name": "Patient Name",
        "Phone (mobile)": "Mobile",
        "Email": "Email",
        "Title (service, appointment type)": "",
    }
    for label, column in prefilled.items():
        expect(page.get_by_label(label, exact=True)).to_have_value(column)
    expect(page.locator("tr[data-field=start_date] [data-confidence]")).to_have_text("high")
    expect(page.locator("#still-open")).to_contain_text("time zone")
    expect(page.locator("#preview-blocked")).to_be_visible()
    shoot(page, "5-matching")

    # Change one choice and answer the open question, from the keyboard, then preview.
    page.get_by_label("Title (service, appointment type)", exact=True).select_option("Visit")
    page.get_by_label("Time zone of the appointments").select_option("America/Chicago")
    name = page.get_by_label("Name of the mapping")
    name.fill("Front desk export")
    name.press("Enter")  # the form's first button: Preview
    expect(page.locator("#preview-count")).to_contain_text("5 of 5 rows")
    expect(page.get_by_label("Title (service, appointment type)", exact=True)).to_have_value(
        "Visit"
    )
    expect(page.locator("tr[data-field=title] [data-confidence]")).to_have_text("your choice")
    first = page.locator("#preview-events .event").first
    expect(first).to_contain_text("Annual physical with Dr. Rivera")
    expect(first).to_contain_text("Mon Dec 14, 2026, 8:30 AM – 9:00 AM CST")
    expect(first).to_contain_text("America/Chicago")
    expect(first).to_contain_text("Maria Gomez · maria@example.com · +1 541-555-0104")
    expect(page.locator("#still-open")).to_have_count(0)
    assert page.evaluate(UNLABELLED) == []
    shoot(page, "6-matching-preview")

    # Save: the mapping file is written, and the review uses it.
    page.get_by_role("button", name="Save the mapping and review the file").click()
    expect(page.get_by_role("heading", name="Review before sending")).to_be_visible()
    saved = Path(matching_web.settings.mappings_dir) / "front-desk-export.yaml"
    assert saved.is_file()
    expect(page.locator(".lead")).to_contain_text("mapping Front desk export")
    expect(page.locator("[data-count=create] .number")).to_have_text("5")
    expect(page.locator("[data-count=invalid] .number")).to_have_text("0")
    shoot(page, "7-review-after-matching")
    page.get_by_role("button", name="Send 5 events to Apptoto").click()
    expect(page.get_by_role("heading", name="Import finished")).to_be_visible()
    expect(page.locator("[data-count=created] .number")).to_have_text("5")

    stored = live_events(sandbox)
    # Ids named after the id column "Appt #", not after the mapping (issue 13).
    assert sorted(stored) == [f"appt-no-A-100{n}" for n in range(1, 6)]
    first_event = stored["appt-no-A-1001"]
    assert first_event["title"] == "Annual physical with Dr. Rivera"
    assert first_event["calendar_name"] == "Dr. Rivera"
    assert first_event["start_time"].startswith("2026-12-14T08:30:00-06:00")
    assert first_event["participants"][0]["phone"] == "+15415550104"
    assert sandbox.stats()["duplicates"] == []

    # The next file with these columns gets the saved mapping by itself, offered first.
    page.goto(matching_web.url + "/")
    page.get_by_label("Spreadsheet").set_input_files(str(sheet))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", name="Review before sending")).to_be_visible()
    expect(page.get_by_label("Mapping")).to_have_value("front-desk-export.yaml")
    options = page.locator("#review-mapping option")
    expect(options.first).to_have_attribute("value", "front-desk-export.yaml")
    expect(options.first).to_contain_text("fits this file")
    expect(page.locator("[data-count=unchanged] .number")).to_have_text("5")
    shoot(page, "8-next-upload")
