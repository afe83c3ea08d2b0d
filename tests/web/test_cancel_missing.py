"""The page and the appointments no longer in the file: listed on the review, cancelled in
Apptoto only when the person ticks the box, never past the guard that protects a calendar from a
partial file (as ``--cancel-missing`` on the command line)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from importer.ledger import Ledger, LedgerEntry
from importer.mapping import load_mapping
from importer.web import create_app
from tests.helpers import CLINIC_MAPPING, PAGE_URL, SAMPLES, VALID_IDS, env_for, live_events
from tests.web.page_client import TestClient, settings_for
from tests.web.test_app import (
    assert_page_says,
    page_text,
    send,
    token_of,
    upload,
    upload_sample,
    wait_for_run,
)

SAMPLE = SAMPLES / "appointments.csv"


def _without(*ids: str) -> bytes:
    """The sample CSV without the rows of the given appointment ids."""
    lines = SAMPLE.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith(ids)]
    assert len(kept) == len(lines) - len(ids)
    return "".join(kept).encode("utf-8")


def _review_without(client: TestClient, *ids: str) -> tuple[str, str]:
    answer = upload(client, _without(*ids), "appointments.csv")
    assert answer.status_code == 303, answer.text
    review_url = str(answer.headers["location"])
    return review_url, client.get(review_url).text


def _send_ticked(client: TestClient, review_url: str, **fields: str) -> Any:
    return client.post(
        review_url + "/send",
        data={"csrf_token": token_of(client), **fields},
        follow_redirects=False,
    )


def _first_import(client: TestClient) -> None:
    wait_for_run(client, send(client, upload_sample(client, "appointments.csv")))


def test_an_appointment_no_longer_in_the_file_is_cancelled_only_when_ticked(
    client: TestClient, keyed_sandbox: Any
) -> None:
    _first_import(client)
    assert sorted(live_events(keyed_sandbox)) == VALID_IDS

    review_url, review = _review_without(client, "000101")
    assert_page_says(
        review,
        "Appointments no longer in this file (1)",
        "This appointment was sent to Apptoto before with this mapping, but it is not in this "
        "file. Apptoto still has it, and its reminders still go out.",
        "Appointment clinic-000101 in Dr. Rivera (sent from appointments.csv, row 2)",
        "Cancel it in Apptoto when sending (no more reminders)",
        "Nothing else to send: the appointments no longer in this file are cancelled only when "
        "you tick the box for them.",
    )
    assert re.search(r'<input type="checkbox" form="send-form" name="cancel_missing"', review)
    assert re.search(r'id="send"[^>]*data-cancel="1"', review)

    # Sent without the box: nothing happens, and the page says how to cancel it.
    unticked = _send_ticked(client, review_url)
    assert unticked.status_code == 400
    assert "tick the box for them" in page_text(unticked.text)
    assert "clinic-000101" in live_events(keyed_sandbox)

    run_url = _send_ticked(client, review_url, cancel_missing="yes").headers["location"]
    progress = wait_for_run(client, run_url)
    assert progress["finished"]
    assert_page_says(client.get(run_url).text, "1 cancelled")
    assert sorted(live_events(keyed_sandbox)) == [i for i in VALID_IDS if i != "clinic-000101"]
    assert len([r for r in keyed_sandbox.requests() if r["method"] == "DELETE"]) == 1


def test_an_update_is_sent_without_cancelling_when_the_box_is_left(
    client: TestClient, keyed_sandbox: Any
) -> None:
    _first_import(client)
    changed = _without("000101").replace(b"Flu shot", b"Flu jab")  # row 000102
    answer = upload(client, changed, "appointments.csv")
    review_url = str(answer.headers["location"])
    review = client.get(review_url).text
    assert re.search(r'data-count="update">\s*<span class="number">1<', review)
    assert "Appointments no longer in this file (1)" in page_text(review)
    run_url = send(client, review_url)  # the box left unticked
    wait_for_run(client, run_url)
    assert "clinic-000101" in live_events(keyed_sandbox)
    assert not [r for r in keyed_sandbox.requests() if r["method"] == "DELETE"]


def test_more_than_the_guard_allows_are_listed_but_never_cancelled_from_the_page(
    client: TestClient, keyed_sandbox: Any
) -> None:
    _first_import(client)
    gone = ("000101", "000102", "000103")  # 3 of 14: more than a tenth
    review_url, review = _review_without(client, *gone)
    assert_page_says(
        review,
        "Appointments no longer in this file (3)",
        "That is more than a tenth of the appointments sent with this mapping for this file's "
        "days (from Monday 14 December 2026 on), so this page does not cancel them",
    )
    assert 'name="cancel_missing"' not in review
    # A form made by hand with the box cancels nothing either.
    answer = _send_ticked(client, review_url, cancel_missing="yes")
    if answer.status_code == 303:
        wait_for_run(client, answer.headers["location"])
    live = live_events(keyed_sandbox)
    assert all(f"clinic-{i}" in live for i in gone)
    assert not [r for r in keyed_sandbox.requests() if r["method"] == "DELETE"]


def test_a_first_upload_has_nothing_to_cancel(client: TestClient) -> None:
    review = client.get(upload_sample(client, "appointments.csv")).text
    assert "no longer in this file" not in page_text(review)
    assert 'name="cancel_missing"' not in review


def test_a_visit_the_export_marks_cancelled_is_offered_for_cancelling_too(
    keyed_sandbox: Any, tmp_path: Path
) -> None:
    """A practice system's export keeps a cancelled visit, with its status: the mapping's
    ``cancelled`` section makes the row "not an appointment", and its event is listed with the
    ones no longer in the file."""
    folder = tmp_path / "mappings"
    folder.mkdir()
    text = CLINIC_MAPPING.read_text(encoding="utf-8")
    (folder / "clinic.yaml").write_text(
        text + "cancelled: {column: Notes, values: [Cancelled by patient]}\n", encoding="utf-8"
    )
    settings = settings_for(tmp_path, env_for(keyed_sandbox), mappings_dir=folder)
    with TestClient(base_url=PAGE_URL, app=create_app(settings)) as client:
        _first_import(client)
        lines = SAMPLE.read_text(encoding="utf-8-sig").splitlines(keepends=True)
        marked = "".join(
            line.replace("Fasting since midnight", "Cancelled by patient") for line in lines
        )
        answer = upload(client, marked.encode("utf-8"), "appointments.csv")
        review_url = str(answer.headers["location"])
        review = client.get(review_url).text
        assert_page_says(
            review,
            "1 not an appointment (not sent)",
            "Appointments no longer in this file (1)",
            "but it is not in this file, or the file marks it cancelled.",
            "Appointment clinic-000101 in Dr. Rivera",
        )
        run_url = _send_ticked(client, review_url, cancel_missing="yes").headers["location"]
        wait_for_run(client, run_url)
    assert "clinic-000101" not in live_events(keyed_sandbox)


def test_the_guard_on_the_page_counts_the_events_not_over_as_the_run_does(
    client: TestClient, keyed_sandbox: Any, tmp_path: Path
) -> None:
    # Visits over since are never cancelled, nor counted by the guard: counted on the page (2 of
    # 34), the box was offered for cancellations the run then refused (2 of the 14 ahead).
    _first_import(client)
    scope = load_mapping(CLINIC_MAPPING).scope
    over = [
        LedgerEntry(
            scope,
            f"last-month-{n}",
            900 + n,
            "Dr. Rivera",
            "h",
            "created",
            "2026-11-01T18:00:00+00:00",
            "october.csv",
            n + 2,
            payload={"end_time": "2026-11-01T10:30:00-08:00"},
        )
        for n in range(20)
    ]
    with Ledger.open(tmp_path / "state.sqlite") as ledger:
        ledger.record(over)
    _, review = _review_without(client, "000101", "000102")
    assert_page_says(
        review,
        "Appointments no longer in this file (2)",
        "That is more than a tenth of the appointments sent with this mapping for this file's "
        "days (from Monday 14 December 2026 on), so this page does not cancel them",
    )
    assert "last-month" not in review
