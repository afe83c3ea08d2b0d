"""One appointment, one event across mappings, on the page. Several saved mappings fit an upload:
the page takes the one whose earlier runs sent the file's rows and says why, asks when the ledger
cannot tell, warns before another mapping would send the rows again, and warns before a second
mapping is saved for columns a saved one already reads. Rows that look like appointments sent
with another mapping are held back on the review, each with a "Send anyway" box."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from importer import RunRequest, load_mapping, run_import
from importer.ledger import utc_now
from importer.web import WebSettings, create_app
from importer.web.choosing import MappingKnowledge, better_mapping, pick_mapping
from importer.web.fitting import SheetHeaders
from importer.web.held import HeldRow, ticked_rows
from importer.web.preview import preview_event
from importer.web.runs import REPORT_CSV
from tests.helpers import (
    CLINIC_MAPPING,
    PAGE_URL,
    SAMPLES,
    env_for,
    fast_client_config,
    live_events,
    read_report,
    write_csv,
)
from tests.test_shared_ids import HEADER as SHARED_HEADER
from tests.test_shared_ids import MAPPING as SHARED_MAPPING
from tests.test_shared_ids import NORTH as SHARED_NORTH
from tests.test_shared_ids import SOUTH as SHARED_SOUTH
from tests.web.test_app import wait_for_run
from tests.web.test_matching import TestClient, submit, text_of, token_of, upload

API_KEY = "web-choosing-key-77c0"
SAMPLE = SAMPLES / "appointments.csv"
# A second mapping for the clinic's export, as written before `source:` existed: the same
# columns, another name starting its ids (so its ledger entries and event ids are its own).
COPY_NAME = "Clinic copy"


@pytest.fixture
def mappings(tmp_path: Path) -> Path:
    """clinic.yaml, and a newer mapping of the same columns (picked before, being the newest)."""
    folder = tmp_path / "mappings"
    folder.mkdir()
    shutil.copyfile(CLINIC_MAPPING, folder / "clinic.yaml")
    text = CLINIC_MAPPING.read_text(encoding="utf-8")
    copy = re.sub(r"(?m)^name: .*$", f"name: {COPY_NAME}", text)
    copy = copy.replace('"clinic-{Appointment ID}"', '"clinic-copy-{Appointment ID}"')
    (folder / "clinic-copy.yaml").write_text(copy, encoding="utf-8")
    os.utime(folder / "clinic.yaml", (1_000_000, 1_000_000))
    return folder


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    return tmp_path / "state.sqlite"


@pytest.fixture
def client(sandbox: Any, mappings: Path, ledger: Path, tmp_path: Path) -> Iterator[TestClient]:
    sandbox.configure(api_key=API_KEY)
    settings = WebSettings(
        mappings_dir=mappings,
        ledger_path=ledger,
        runs_dir=tmp_path / "runs",
        environ=env_for(sandbox, api_key=API_KEY),
    )
    with TestClient(base_url=PAGE_URL, app=create_app(settings)) as test_client:
        yield test_client


def send_with(mapping_file: Path, ledger: Path, sandbox: Any) -> None:
    """Send the clinic sample with ``mapping_file``: its 14 valid rows reach Apptoto."""
    request = RunRequest(
        source=SAMPLE,
        mapping=load_mapping(mapping_file),
        client_config=fast_client_config(sandbox),
        ledger_path=ledger,
    )
    assert run_import(request).counts["created"] == 14


def knowledge(file: str, known: int, unchanged: int) -> MappingKnowledge:
    return MappingKnowledge(file, file.removesuffix(".yaml"), 14, known, unchanged)


def test_the_mapping_that_sent_the_rows_is_chosen_and_the_page_says_why(
    client: TestClient, mappings: Path, ledger: Path, sandbox: Any
) -> None:
    send_with(mappings / "clinic.yaml", ledger, sandbox)
    review = client.get(upload(client, SAMPLE)).text
    assert "mapping <strong>Clinic appointments</strong>" in review  # not the newer copy
    assert (
        "2 saved mappings fit this file's columns; “Clinic appointments” is used because 14 of "
        "this file's 14 appointments were already sent with it."
    ) in text_of(review)
    assert re.search(r'data-count="unchanged">\s*<span class="number">14<', review)
    assert 'id="better-mapping"' not in review


def test_when_the_ledger_cannot_tell_the_page_asks(client: TestClient, sandbox: Any) -> None:
    address = upload(client, SAMPLE)
    page = client.get(address).text
    assert "Which saved mapping is this file for?" in page
    assert "Review before sending" not in page
    text = text_of(page)
    assert "Clinic copy (clinic-copy.yaml): none of this file's appointments were sent" in text
    assert "Clinic appointments (clinic.yaml): none of this file's appointments" in text
    client.post(
        address + "/mapping", data={"csrf_token": token_of(client), "mapping": "clinic.yaml"}
    )
    review = client.get(address).text
    assert "mapping <strong>Clinic appointments</strong>" in review
    assert 'id="mapping-reason"' not in review  # the person chose it: nothing to explain
    assert sandbox.events() == []


def test_another_mapping_than_the_one_that_sent_the_rows_is_warned_about(
    client: TestClient, mappings: Path, ledger: Path, sandbox: Any
) -> None:
    send_with(mappings / "clinic.yaml", ledger, sandbox)
    address = upload(client, SAMPLE, "clinic-copy.yaml")  # chosen by the person on upload
    review = client.get(address).text
    assert "mapping <strong>Clinic copy</strong>" in review
    warning = re.search(r'<div[^>]*id="better-mapping".*?</div>', review, re.S)
    assert warning, "no warning on the review"
    assert (
        "14 of this file's appointments were already sent with the mapping “Clinic "
        "appointments”, none with “Clinic copy”. Sending with “Clinic copy” can send those "
        "appointments a second time"
    ) in text_of(warning.group(0))
    assert 'name="mapping" value="clinic.yaml"' in warning.group(0)
    client.post(
        address + "/mapping", data={"csrf_token": token_of(client), "mapping": "clinic.yaml"}
    )
    switched = client.get(address).text
    assert "mapping <strong>Clinic appointments</strong>" in switched
    assert 'id="better-mapping"' not in switched
    assert re.search(r'data-count="unchanged">\s*<span class="number">14<', switched)


def test_a_second_mapping_for_columns_a_saved_one_reads_is_saved_only_when_confirmed(
    client: TestClient, mappings: Path, ledger: Path, sandbox: Any, tmp_path: Path
) -> None:
    (mappings / "clinic-copy.yaml").unlink()
    send_with(mappings / "clinic.yaml", ledger, sandbox)
    renamed = tmp_path / "appts_2026-12-14.csv"  # the same export under another name
    shutil.copyfile(SAMPLE, renamed)
    address = upload(client, renamed, "match-columns")
    page = client.get(address).text
    warning = re.search(r'<div class="alert alert-note" id="saved-fits">.*?</div>', page, re.S)
    assert warning, "no warning on the matching step"
    assert (
        "Clinic appointments (clinic.yaml): 14 of this file's 14 appointments were already "
        "sent with it."
    ) in text_of(warning.group(0))
    refused = submit(client, address, "save", name="Appts export")
    assert "Not saved yet: the saved mapping “Clinic appointments” already reads these columns" in (
        text_of(refused.text)
    )
    assert sorted(p.name for p in mappings.iterdir()) == ["clinic.yaml"]
    saved = submit(client, address, "save", name="Appts export", second_mapping="yes")
    assert "Review before sending" in saved.text
    assert (mappings / "appts-export.yaml").is_file()


def test_the_warning_button_reviews_the_file_with_the_saved_mapping(
    client: TestClient, mappings: Path, ledger: Path, sandbox: Any
) -> None:
    (mappings / "clinic-copy.yaml").unlink()
    send_with(mappings / "clinic.yaml", ledger, sandbox)
    address = upload(client, SAMPLE, "match-columns")
    page = client.get(address).text
    button = re.search(
        r'<form[^>]*action="([^"]+)">\s*<input type="hidden" name="csrf_token" value="([^"]+)">'
        r'\s*<input type="hidden" name="mapping" value="([^"]+)">',
        page,
    )
    assert button, "no button to use the saved mapping"
    action, token, mapping = button.groups()
    client.post(action, data={"csrf_token": token, "mapping": mapping})
    review = client.get(address.removesuffix("/columns")).text
    assert "mapping <strong>Clinic appointments</strong>" in review
    assert "Send 0 events" in text_of(review)
    assert len(sandbox.events()) == 14  # the first run's, and no more


@pytest.mark.parametrize(
    ("second", "chosen"),
    [
        ("", "clinic.yaml"),  # another name: other ids, none of them sent
        ("title: other", "clinic.yaml"),  # the same ids, but its events would all change
        ("same", None),  # the same mapping twice: both sent the rows as they are, so ask
    ],
)
def test_the_mapping_knowing_more_rows_wins_and_ties_are_asked(
    tmp_path: Path, sandbox: Any, second: str, chosen: str | None
) -> None:
    folder = tmp_path / "mappings"
    folder.mkdir()
    shutil.copyfile(CLINIC_MAPPING, folder / "clinic.yaml")
    text = CLINIC_MAPPING.read_text(encoding="utf-8")
    if second == "":
        text = re.sub(r"(?m)^name: .*$", "name: Other", text)
    elif second.startswith("title:"):
        text = re.sub(r"(?m)^(\s+)title: .*$", r'\1title: "Visit"', text)
    (folder / "second.yaml").write_text(text, encoding="utf-8")  # the newer: first on a tie
    os.utime(folder / "clinic.yaml", (1_000_000, 1_000_000))
    ledger = tmp_path / "state.sqlite"
    send_with(folder / "clinic.yaml", ledger, sandbox)
    pick = pick_mapping(folder, SheetHeaders(SAMPLE), ledger)
    assert pick.file == chosen
    assert pick.must_ask is (chosen is None)


def test_better_mapping_only_when_another_knows_more_rows() -> None:
    candidates = [knowledge("a.yaml", 14, 14), knowledge("b.yaml", 2, 2)]
    assert better_mapping("a.yaml", candidates) is None
    found = better_mapping("b.yaml", candidates)
    assert found is not None and found[0].file == "a.yaml"
    assert "14 of this file's appointments were already sent" in found[1]
    same = [knowledge("a.yaml", 5, 5), knowledge("b.yaml", 5, 5)]
    assert better_mapping("b.yaml", same) is None


# --- the same-appointment guard on the review ------------------------------------------------


def held_rows_of(page: str) -> dict[int, str]:
    """Row -> what the review says of each row held back as looking already sent."""
    table = re.search(r'<table class="held" id="held-rows">.*?</table>', page, re.S)
    if table is None:
        return {}
    found = re.findall(r'<tr data-row="(\d+)">(.*?)</tr>', table.group(0), re.S)
    return {int(row): text_of(cells) for row, cells in found}


def test_rows_sent_with_another_mapping_are_held_back_and_sent_only_when_ticked(
    client: TestClient, mappings: Path, ledger: Path, sandbox: Any, tmp_path: Path
) -> None:
    send_with(mappings / "clinic.yaml", ledger, sandbox)
    first = live_events(sandbox)["clinic-000101"]  # row 2 of the sample
    address = upload(client, SAMPLE, "clinic-copy.yaml")  # other ids: the guard must see them
    page = client.get(address).text
    held = held_rows_of(page)
    assert sorted(held) == list(range(2, 16))
    sent_on = utc_now()[:10]
    assert (
        f"Looks like the appointment already sent as event {first['id']} (row 2 of "
        f"appointments.csv, {sent_on}): same calendar, start and participant."
    ) in held[2]
    assert "Send anyway" in held[2]
    assert re.search(r'data-count="held">\s*<span class="number">14<', page)
    assert re.search(r'data-count="create">\s*<span class="number">0<', page)

    nothing = client.post(address + "/send", data={"csrf_token": token_of(client)})
    assert nothing.status_code == 400
    assert "tick “Send anyway” beside it" in text_of(nothing.text)
    assert len(sandbox.events()) == 14

    form = {"csrf_token": token_of(client), "send_anyway": ["3", "99", "x"]}  # 99, x: not held
    answer = client.post(address + "/send", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    run_url = str(answer.headers["location"])
    wait_for_run(client, run_url)
    stored = live_events(sandbox)
    assert len(stored) == 15 and "clinic-copy-000102" in stored  # row 3 only, as ticked
    report = read_report(tmp_path / "runs" / run_url.rsplit("/", 1)[1] / REPORT_CSV)
    by_row = {int(r["row"]): r for r in report}
    assert by_row[3]["status"] == "created"
    assert "sent as you chose" in by_row[3]["message"]
    assert by_row[2]["status"] == "skipped"
    assert "looks like the appointment already sent as event" in by_row[2]["message"]
    assert sandbox.stats()["duplicates"] == []  # by external id: the sandbox kept them apart


def test_only_held_rows_can_be_ticked() -> None:
    event = preview_event(2, "held", {"title": "t", "participants": []})
    held = [HeldRow(2, "why", event), HeldRow(5, "why", event)]
    assert ticked_rows(["2", "3", "5", "-5", "x", "02"], held) == frozenset({2, 5})
    assert ticked_rows([], held) == frozenset()
    # Reviewing several sheets, row numbers repeat from sheet to sheet: no box to tick.
    several = [HeldRow(2, "why", event, sheet="Mon"), HeldRow(5, "why", event, sheet="Tue")]
    assert ticked_rows(["2", "5"], several) == frozenset()


def test_a_row_exported_twice_is_counted_as_a_copy_on_the_review(
    client: TestClient, tmp_path: Path
) -> None:
    lines = SAMPLE.read_text(encoding="utf-8-sig").splitlines()
    twice = tmp_path / "twice.csv"
    twice.write_text("\n".join([*lines[:3], lines[1]]) + "\n", encoding="utf-8")
    review = client.get(upload(client, twice, "clinic.yaml")).text
    assert re.search(r'data-count="copy">\s*<span class="number">1<', review)
    assert "1 copy of an earlier row (not sent)" in text_of(review)
    assert re.search(r'data-count="create">\s*<span class="number">2<', review)


def test_a_damaged_ledger_asks_and_the_review_says_what_is_wrong(
    client: TestClient, ledger: Path
) -> None:
    ledger.write_bytes(b"not a database, and long enough to be read as one" * 100)
    address = upload(client, SAMPLE)
    page = client.get(address).text
    assert "Which saved mapping is this file for?" in page  # not the column matching
    client.post(
        address + "/mapping", data={"csrf_token": token_of(client), "mapping": "clinic.yaml"}
    )
    review = text_of(client.get(address).text)
    assert "This file cannot be imported as it is" in review
    assert "is not a readable importer record of earlier imports" in review


def test_rows_with_another_file_s_ids_for_other_people_are_held_back_on_the_page(
    client: TestClient, mappings: Path, ledger: Path, sandbox: Any, tmp_path: Path
) -> None:
    """Two clinics numbering their visits alike (tests/test_shared_ids.py): the second file's
    row for another patient under the first file's id is listed with "Send anyway"."""
    header, north, south = SHARED_HEADER, SHARED_NORTH, SHARED_SOUTH
    for name in ("north", "south"):
        (mappings / f"{name}.yaml").write_text(SHARED_MAPPING.format(name=name), "utf-8")
    first = write_csv(
        tmp_path / "north.csv", header, [dict(zip(header, r, strict=True)) for r in north]
    )
    request = RunRequest(
        source=first,
        mapping=load_mapping(mappings / "north.yaml"),
        client_config=fast_client_config(sandbox),
        ledger_path=ledger,
    )
    assert run_import(request).counts["created"] == 2
    second = write_csv(
        tmp_path / "south.csv", header, [dict(zip(header, r, strict=True)) for r in south]
    )

    address = upload(client, second, "south.yaml")
    page = client.get(address).text
    held = held_rows_of(page)
    assert sorted(held) == [2]
    assert "Has the id of event" in held[2] and "(row 2 of north.csv" in held[2]
    assert "sent for another person" in held[2] and "Send anyway" in held[2]
    assert "Rows held back (1)" in text_of(page)

    form = {"csrf_token": token_of(client), "send_anyway": ["2"]}
    answer = client.post(address + "/send", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    wait_for_run(client, str(answer.headers["location"]))
    assert live_events(sandbox)["appt-id-1"]["participants"][0]["name"] == "Cara Khan"
