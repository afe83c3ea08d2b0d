"""One appointment, one event, in a real browser: the ways a person could send the clinic's export
twice from the page (issue 13) end with each appointment once in the sandbox.

- The same export under another file name, with "match the columns myself": the page says a
  saved mapping already sent these appointments and reviews the file with it.
- The original file again while two saved mappings fit: the page asks the first time (nothing
  tells them apart), then takes the one that sent the rows and says why.
- The next day's export (the same appointments and a new one) with another mapping whose ids are
  its own: the guard holds back the appointments already sent, each with a "Send anyway" box;
  only the new one is sent.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

from importer.web.server import WebHandle
from tests.helpers import SAMPLES, VALID_IDS, live_events
from tests.web.browsing import UNLABELLED, needs_chromium, shoot
from tests.web.test_accessibility import blocking_findings

SAMPLE = SAMPLES / "appointments.csv"
pytestmark = needs_chromium


def send_and_finish(page: Any, count: int) -> None:
    from playwright.sync_api import expect

    events = "event" if count == 1 else "events"
    page.get_by_role("button", name=f"Send {count} {events} to Apptoto").click()
    expect(page.get_by_role("heading", name="Import finished")).to_be_visible()
    expect(page.locator("[data-count=created] .number")).to_have_text(str(count))


def upload_file(page: Any, url: str, sheet: Path, mapping: str = "") -> None:
    page.goto(url + "/")
    page.get_by_label("Mapping").select_option(mapping)
    page.get_by_label("Spreadsheet").set_input_files(str(sheet))
    page.get_by_role("button", name="Check the file").click()


def legacy_copy(folder: Path) -> None:
    """A second mapping of the clinic's columns written before `source:`: its name starts its
    ids, and it is the newest."""
    text = (folder / "clinic.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^name: .*$", "name: Clinic copy", text)
    text = text.replace('"clinic-{Appointment ID}"', '"clinic-copy-{Appointment ID}"')
    (folder / "clinic-copy.yaml").write_text(text, encoding="utf-8")
    os.utime(folder / "clinic.yaml", (1_000_000, 1_000_000))


def assert_each_appointment_once(sandbox: Any) -> None:
    assert sorted(live_events(sandbox)) == VALID_IDS
    assert len(sandbox.events()) == len(VALID_IDS)
    assert sandbox.stats()["duplicates"] == []


def test_the_same_export_under_another_name_is_not_sent_again(
    matching_web: WebHandle, browser_page: Any, sandbox: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page = browser_page
    upload_file(page, matching_web.url, SAMPLE)
    expect(page.locator(".lead")).to_contain_text("mapping Clinic appointments")
    send_and_finish(page, 14)

    renamed = tmp_path / "appts_2026-12-14.csv"
    shutil.copyfile(SAMPLE, renamed)
    upload_file(page, matching_web.url, renamed, "match-columns")
    expect(page.get_by_role("heading", name="Match the columns")).to_be_visible()
    warning = page.locator("#saved-fits")
    expect(warning).to_contain_text("A saved mapping already fits this file")
    expect(warning).to_contain_text("14 of this file's 14 appointments were already sent with it")
    assert page.evaluate(UNLABELLED) == []
    shoot(page, "9-saved-mapping-fits")
    page.get_by_label("Name of the mapping").fill("Appts export")
    page.get_by_role("button", name="Save the mapping and review the file").click()
    expect(page.locator("#problems")).to_contain_text(
        "Not saved yet: the saved mapping “Clinic appointments” already reads these columns"
    )
    assert not (Path(matching_web.settings.mappings_dir) / "appts-export.yaml").exists()

    page.get_by_role("button", name="Review the file with “Clinic appointments”").click()
    expect(page.get_by_role("heading", name="Review before sending")).to_be_visible()
    expect(page.locator(".lead")).to_contain_text("appts_2026-12-14.csv")
    expect(page.locator(".lead")).to_contain_text("mapping Clinic appointments")
    expect(page.locator("[data-count=unchanged] .number")).to_have_text("14")
    expect(page.locator("#send")).to_be_disabled()
    assert_each_appointment_once(sandbox)


def test_two_fitting_mappings_ask_then_take_the_one_that_sent_the_rows(
    matching_web: WebHandle, browser_page: Any, sandbox: Any
) -> None:
    from playwright.sync_api import expect

    legacy_copy(Path(matching_web.settings.mappings_dir))

    page = browser_page
    upload_file(page, matching_web.url, SAMPLE)
    asked = page.get_by_role("heading", name="Which saved mapping is this file for?")
    expect(asked).to_be_visible()
    assert page.evaluate(UNLABELLED) == []
    shoot(page, "10-choose-mapping")
    page.get_by_label(re.compile("^Clinic appointments")).check()
    page.get_by_role("button", name="Review the file with this mapping").click()
    expect(page.locator(".lead")).to_contain_text("mapping Clinic appointments")
    send_and_finish(page, 14)

    upload_file(page, matching_web.url, SAMPLE)  # the original file again
    expect(page.get_by_role("heading", name="Review before sending")).to_be_visible()
    expect(page.locator(".lead")).to_contain_text("mapping Clinic appointments")
    expect(page.locator("#mapping-reason")).to_contain_text(
        "“Clinic appointments” is used because 14 of this file's 14 appointments were already "
        "sent with it"
    )
    expect(page.locator("[data-count=unchanged] .number")).to_have_text("14")
    expect(page.locator("#send")).to_be_disabled()
    shoot(page, "11-mapping-that-sent-the-rows")

    # Choosing the other mapping by hand: the page warns and offers the one that sent them.
    page.get_by_label("Mapping").select_option("clinic-copy.yaml")
    page.get_by_role("button", name="Use this mapping").click()
    expect(page.locator("#better-mapping")).to_contain_text(
        "14 of this file's appointments were already sent with the mapping “Clinic appointments”"
    )
    page.get_by_role("button", name="Use “Clinic appointments”").click()
    expect(page.locator("[data-count=unchanged] .number")).to_have_text("14")
    assert_each_appointment_once(sandbox)


def test_the_guard_holds_back_appointments_sent_with_another_mapping(
    matching_web: WebHandle, browser_page: Any, sandbox: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page = browser_page
    upload_file(page, matching_web.url, SAMPLE, "clinic.yaml")
    send_and_finish(page, 14)
    first = live_events(sandbox)["clinic-000101"]
    legacy_copy(Path(matching_web.settings.mappings_dir))
    lines = SAMPLE.read_text(encoding="utf-8-sig").splitlines()
    new = lines[1].replace("000101,12/14/2026,8:30 AM,9:00 AM", "000301,12/18/2026,1:00 PM,1:30 PM")
    next_day = tmp_path / "appointments-next-day.csv"
    next_day.write_text("\n".join([*lines, new]) + "\n", encoding="utf-8")

    upload_file(page, matching_web.url, next_day, "clinic-copy.yaml")
    expect(page.locator(".lead")).to_contain_text("mapping Clinic copy")
    expect(page.locator("[data-count=held] .number")).to_have_text("14")
    expect(page.locator("[data-count=create] .number")).to_have_text("1")
    row = page.locator("#held-rows tr[data-row='2']")
    expect(row).to_contain_text(
        f"Looks like the appointment already sent as event {first['id']} (row 2 of "
        "appointments.csv, "
    )
    assert page.evaluate(UNLABELLED) == []
    shoot(page, "12-held-back")
    box = page.get_by_label("Send anyway row 2")
    box.check()  # the button counts a ticked row in
    expect(page.locator("#send")).to_have_text("Send 2 events to Apptoto")
    box.uncheck()
    send_and_finish(page, 1)
    expect(page.locator("[data-count=skipped] .number")).to_have_text("14")
    shoot(page, "13-held-back-result")

    stored = live_events(sandbox)
    assert sorted(stored) == sorted([*VALID_IDS, "clinic-copy-000301"])
    visits = {
        (e["calendar_name"], e["start_time"], e["participants"][0]["phone"])
        for e in stored.values()
    }
    assert len(visits) == len(stored)  # no appointment twice, whatever the ids
    assert sandbox.stats()["duplicates"] == []


def test_an_appointment_taken_out_of_the_file_is_cancelled_when_ticked(
    matching_web: WebHandle, browser_page: Any, sandbox: Any, tmp_path: Path
) -> None:
    """The next export without a visit (cancelled by phone): the review lists it with a box; the
    Send button counts it in when ticked, and only then is its event cancelled."""
    from playwright.sync_api import expect

    page = browser_page
    upload_file(page, matching_web.url, SAMPLE, "clinic.yaml")
    send_and_finish(page, 14)
    lines = SAMPLE.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    smaller = tmp_path / "appointments.csv"
    smaller.write_text("".join(line for line in lines if not line.startswith("000105")), "utf-8")
    upload_file(page, matching_web.url, smaller, "clinic.yaml")
    section = page.locator("#missing")
    expect(section).to_contain_text("Appointments no longer in this file (1)")
    expect(section).to_contain_text("Appointment clinic-000105 in Dr. Rivera")
    button = page.locator("#send")
    expect(button).to_be_disabled()  # nothing to send until the box is ticked
    box = page.get_by_label("Cancel it in Apptoto when sending (no more reminders)")
    box.check()
    expect(button).to_have_text("Cancel 1 appointment in Apptoto")
    expect(button).to_be_enabled()
    expect(page.locator("[data-count=cancel] .number")).to_have_text("1")
    assert page.evaluate(UNLABELLED) == []
    assert blocking_findings(page) == []  # axe-core: the list and its box, serious or worse
    shoot(page, "12-no-longer-in-the-file")
    box.uncheck()
    expect(button).to_be_disabled()
    expect(page.locator("[data-count=cancel] .number")).to_have_text("0")
    box.check()
    button.click()
    expect(page.get_by_role("heading", name="Import finished")).to_be_visible()
    expect(page.locator("[data-count=cancelled] .number")).to_have_text("1")
    assert sorted(live_events(sandbox)) == [i for i in VALID_IDS if i != "clinic-000105"]
