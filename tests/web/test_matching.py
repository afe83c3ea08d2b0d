"""The column-matching step of the web page, without a browser: pre-filled drop-downs, questions
the values cannot answer, the preview, saving a named mapping (safe file names, no silent
overwrite) and the next upload finding it; CSRF and plain messages throughout."""

from __future__ import annotations

import csv
import datetime as dt
import html
import os
import re
import shutil
import time
import warnings
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from importer.assist import FIELDS, spec
from importer.assist.fields import name_score
from importer.mapping import load_mapping
from importer.prepare import prepare
from importer.web import WebSettings, create_app
from importer.web.fitting import SheetHeaders, rank_mappings
from importer.web.mapping_store import SaveRefused, mapping_file_name
from importer.web.matching import FIELD_GROUPS
from importer.web.uploads import ALL_SHEETS
from tests.hand_kept import NOTES, TITLED, day_sheet, write_workbook
from tests.hand_kept import WORKBOOK as WEEK
from tests.helpers import CLINIC_MAPPING, PAGE_URL, SAMPLES, env_for, invoke_cli, read_report
from tests.test_hand_kept_workbooks import (
    BLOCKS,
    MONDAY,
    TUESDAY,
    WEEK_ON_ONE_SHEET,
    patients,
    patients_of,
    starts,
)
from tests.web.test_app import send, wait_for_run

with warnings.catch_warnings():  # httpx (not httpx2) behind the TestClient: still works
    from starlette.exceptions import StarletteDeprecationWarning

    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

API_KEY = "web-mapping-key-31ab"
HEADERS = ["Appt #", "Appt Date", "Time", "Doctor", "Patient Name", "Mobile", "Email"]
US_ROWS = [
    [
        "A-1",
        "12/14/2026",
        "8:30 AM",
        "Dr. Rivera",
        "Maria Gomez",
        "(541) 555-0104",
        "m@example.com",
    ],
    ["A-2", "12/15/2026", "9:00 AM", "Dr. Rivera", "James Oconnor", "541.555.0123", ""],
    ["A-3", "01/21/2027", "2:15 PM", "Dr. Chen", "Aiko Tanaka", "5415550142", "a@example.org"],
]
AMBIGUOUS_ROWS = [  # every day and month is 12 or less: 03/04 is March 4 or 3 April
    ["B-1", "03/04/2026", "9:00 AM", "Dr. Chen", "Ann Lee", "5415550101", ""],
    ["B-2", "05/06/2026", "10:00 AM", "Dr. Chen", "Bo Park", "5415550102", ""],
    ["B-3", "11/12/2026", "2:00 PM", "Dr. Chen", "Cy Diaz", "5415550103", ""],
]


def write_sheet(path: Path, rows: list[list[str]], headers: list[str] = HEADERS) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


@pytest.fixture
def mappings(tmp_path: Path) -> Path:
    folder = tmp_path / "mappings"
    folder.mkdir()
    shutil.copyfile(CLINIC_MAPPING, folder / "clinic.yaml")
    return folder


@pytest.fixture
def client(sandbox: Any, tmp_path: Path, mappings: Path) -> Iterator[TestClient]:
    sandbox.configure(api_key=API_KEY)
    settings = WebSettings(
        mappings_dir=mappings,
        ledger_path=tmp_path / "state.sqlite",
        runs_dir=tmp_path / "runs",
        environ=env_for(sandbox, api_key=API_KEY),
    )
    with TestClient(base_url=PAGE_URL, app=create_app(settings)) as test_client:
        yield test_client


def token_of(client: TestClient) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text)
    assert found
    return found.group(1)


def upload(client: TestClient, path: Path, mapping: str = "") -> str:
    """Upload ``path``; the address the page leads to (the review or the matching step)."""
    answer = client.post(
        "/upload",
        data={"csrf_token": token_of(client), "mapping": mapping},
        files={"spreadsheet": (path.name, path.read_bytes())},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    location = str(answer.headers["location"])
    if location.endswith("/columns"):
        return location
    page = client.get(location, follow_redirects=False)
    return str(page.headers["location"]) if page.status_code == 303 else location


class FormReader(HTMLParser):
    """What a browser would submit from the matching form as it is shown."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.labelled: set[str] = set()
        self.controls: list[tuple[str, str]] = []  # (id, name) of each visible control
        self._select: str | None = None
        self._first_option: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "label" and "for" in found:
            self.labelled.add(found["for"])
        elif tag == "select":
            self._select, self._first_option = found["name"], None
            self.controls.append((found.get("id", ""), found["name"]))
        elif tag == "option" and self._select is not None:
            if self._first_option is None:
                self._first_option = found["value"]
                self.fields.setdefault(self._select, found["value"])
            if "selected" in found:
                self.fields[self._select] = found["value"]
        elif tag == "input":
            kind = found.get("type", "text")
            if kind in ("hidden", "text", "number"):
                self.fields[found["name"]] = found.get("value", "")
            elif "checked" in found:
                self.fields[found["name"]] = found["value"]
            if kind != "hidden":
                self.controls.append((found.get("id", ""), found["name"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def read_form(page: str) -> FormReader:
    form = re.search(r'<form method="post" action="[^"]*/columns".*?</form>', page, re.S)
    assert form, "no matching form on the page"
    reader = FormReader()
    reader.feed(form.group(0))
    return reader


def submit(client: TestClient, address: str, action: str, **changes: str) -> Any:
    """Submit the form as shown, with ``changes``; the page it leads to."""
    fields = read_form(client.get(address).text).fields
    fields.update(changes, action=action)
    return client.post(address, data=fields)


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def drop_down(page: str, name: str) -> str:
    """The options of the page's drop-down ``name``."""
    return page.split(f'name="{name}"')[1].split("</select>")[0]


def confidence(page: str, key: str) -> str:
    row = re.search(rf'<tr data-field="{key}">(.*?)</tr>', page, re.S)
    assert row
    tag = re.search(r'data-confidence="([^"]*)"', row.group(1))
    return tag.group(1) if tag else ""


# --- the step and its pre-filled drop-downs -------------------------------------------------


def test_a_file_no_mapping_fits_goes_to_the_matching_step_pre_filled(
    client: TestClient, tmp_path: Path
) -> None:
    address = upload(client, write_sheet(tmp_path / "export.csv", US_ROWS))
    assert address.endswith("/columns")
    page = client.get(address).text
    chosen = read_form(page).fields
    assert {k: chosen[k] for k in chosen if chosen[k] and k in {f.key for f in FIELDS}} == {
        "external_id": "Appt #",
        "calendar": "Doctor",
        "start_date": "Appt Date",
        "start_time": "Time",
        "participant_name": "Patient Name",
        "participant_phone": "Mobile",
        "participant_email": "Email",
    }
    assert confidence(page, "external_id") == "high"  # "Appt #" is an appointment number
    assert confidence(page, "start_date") == "high"
    assert confidence(page, "title") == ""
    text = text_of(page)
    assert "Still to choose" in text and "The time zone of the appointments" in text
    assert "Appt Date (12/14/2026)" in text  # each column with an example value
    assert chosen["name"] == "Export"


def test_every_control_has_a_label_and_every_field_a_drop_down(
    client: TestClient, tmp_path: Path
) -> None:
    page = client.get(upload(client, write_sheet(tmp_path / "export.csv", US_ROWS))).text
    reader = read_form(page)
    assert [c for c in reader.controls if c[0] not in reader.labelled] == []
    names = [name for _, name in reader.controls if not name.endswith("_format")]
    assert len(names) == len(set(names))  # no two controls share a form name
    grouped = [key for _, keys in FIELD_GROUPS for key in keys]
    assert sorted(grouped) == sorted(f.key for f in FIELDS)
    assert all(key in reader.fields for key in grouped)


def test_match_columns_myself_even_when_a_mapping_fits(client: TestClient) -> None:
    address = upload(client, SAMPLES / "appointments.csv", mapping="match-columns")
    assert address.endswith("/columns")
    chosen = read_form(client.get(address).text).fields
    assert chosen["external_id"] == "Appointment ID"
    assert chosen["time_zone"] == "Time Zone"
    # Without the request, the saved mapping that fits is used: straight to the review.
    review = upload(client, SAMPLES / "appointments.csv")
    assert not review.endswith("/columns")
    assert "mapping <strong>Clinic appointments</strong>" in client.get(review).text


# --- questions, preview, messages ----------------------------------------------------------


def test_ambiguous_dates_need_a_choice_before_saving(
    client: TestClient, tmp_path: Path, mappings: Path
) -> None:
    source = write_sheet(tmp_path / "ambiguous.csv", AMBIGUOUS_ROWS)
    address = upload(client, source)
    page = client.get(address).text
    assert 'id="question-date_format"' in page
    assert not re.search(r'name="date_format" value="[^"]*" checked', page)  # no guess
    assert "cannot tell March 4 (month first) from 3 April (day first)" in text_of(page)
    assert "The preview shows once everything" in text_of(page)

    # US numbers in a London sheet: the country of the numbers is chosen, not the zone's.
    zone = {"default_time_zone": "Europe/London", "phone_country": "US", "name": "Ambiguous"}
    refused = submit(client, address, "save", **zone)
    assert "Not saved yet: first choose what is listed under “Still to choose”" in text_of(
        refused.text
    )
    assert "How the dates are written: the values cannot tell" in text_of(refused.text)
    assert not (mappings / "ambiguous.yaml").exists()
    forged = submit(client, address, "save", date_format="%Y", **zone)
    assert "How the dates are written: the values cannot tell" in text_of(forged.text)
    assert not (mappings / "ambiguous.yaml").exists()

    previewed = submit(client, address, "preview", date_format="%d/%m/%Y", **zone).text
    assert "3 of 3 rows" in text_of(previewed)
    assert "Fri Apr 3, 2026, 9:00 AM – 9:30 AM BST" in text_of(previewed)
    saved = submit(client, address, "save")
    assert "Review before sending" in saved.text
    mapping = load_mapping(mappings / "ambiguous.yaml")
    assert mapping.defaults.date_format == "%d/%m/%Y"
    payload = prepare(source, mapping).events.payloads[2]
    assert payload["start_time"] == "2026-04-03T09:00:00+01:00"


def test_the_preview_shows_events_and_the_rows_that_cannot_be_sent(
    client: TestClient, tmp_path: Path
) -> None:
    rows = [*US_ROWS, ["A-4", "12/16/2026", "9:00 AM", "Dr. Chen", "Di Fox", "555-012", ""]]
    address = upload(client, write_sheet(tmp_path / "export.csv", rows))
    page = submit(client, address, "preview", default_time_zone="America/New_York").text
    text = text_of(page)
    assert "3 of 4 rows can be sent" in text
    assert "Appointment with Dr. Rivera" in text  # no title column: the calendar's name
    assert "Mon Dec 14, 2026, 8:30 AM – 9:00 AM EST (America/New_York)" in text
    assert "Maria Gomez · m@example.com · +1 541-555-0104" in text
    assert "Row 5 · cannot be sent" in text
    assert "Mobile “555-012” is not a valid phone number" in text


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        (
            {"start_datetime": "Appt Date"},
            "Choose Date or Start date and time (one cell), not both",
        ),
        ({"contact_id": "Appt #"}, "either an Apptoto contact or a name/email/phone"),
        ({"calendar": "No such column"}, "the sheet has no column 'No such column'"),
        ({"default_time_zone": "Mars/Olympus"}, "The time zone 'Mars/Olympus' is not a known"),
        ({"name": "???"}, "Give the mapping a name with some letters a-z or digits"),
        ({"name": ""}, "Give the mapping a name"),
    ],
)
def test_choices_that_do_not_fit_are_messages_not_errors(
    client: TestClient, tmp_path: Path, mappings: Path, changes: dict[str, str], words: str
) -> None:
    address = upload(client, write_sheet(tmp_path / "export.csv", US_ROWS))
    answer = submit(client, address, "save", **{"default_time_zone": "America/Chicago", **changes})
    assert answer.status_code == 200
    assert "Match the columns" in answer.text and "Traceback" not in answer.text
    assert words in text_of(answer.text)
    assert sorted(p.name for p in mappings.iterdir()) == ["clinic.yaml"]


# --- saving -------------------------------------------------------------------------------


def test_save_writes_a_mapping_that_loads_validates_and_is_offered_next_time(
    client: TestClient, tmp_path: Path, mappings: Path, sandbox: Any
) -> None:
    source = write_sheet(tmp_path / "export.csv", US_ROWS)
    address = upload(client, source)
    saved = submit(
        client,
        address,
        "save",
        default_time_zone="America/Chicago",
        name="Front desk",
    )
    assert "Review before sending" in saved.text
    assert "mapping <strong>Front desk</strong>" in saved.text
    mapping = load_mapping(mappings / "front-desk.yaml")
    assert mapping.name == "Front desk"
    assert mapping.defaults.time_zone == "America/Chicago"
    assert mapping.defaults.date_format == "%m/%d/%Y"
    prepared = prepare(source, mapping)
    assert prepared.issues == {}
    # The ids come from the id column ("Appt #"), not from the mapping's name (issue 13).
    assert mapping.source == "appt-no"
    assert sorted(prepared.events.external_ids.values()) == [
        "appt-no-A-1",
        "appt-no-A-2",
        "appt-no-A-3",
    ]
    written = (mappings / "front-desk.yaml").read_text(encoding="utf-8")
    assert "the web page's column matching" in written.replace("\n# ", " ")
    assert "time_zone (chosen)" in written
    # The next upload with these columns: the saved mapping, offered first and chosen.
    review_address = upload(client, source)
    assert not review_address.endswith("/columns")
    review = client.get(review_address).text
    assert "mapping <strong>Front desk</strong>" in review
    first = re.search(
        r'<select id="review-mapping"[^>]*>\s*<option value="([^"]+)" selected', review
    )
    assert first and first.group(1) == "front-desk.yaml"
    assert sandbox.events() == []  # saving and reviewing send nothing


@pytest.mark.parametrize(
    ("name", "file"),
    [
        ("Front desk", "front-desk.yaml"),
        ("../../etc/passwd", "etc-passwd.yaml"),
        ("..\\..\\Windows\\x", "windows-x.yaml"),
        ("/tmp/evil.yaml", "tmp-evil-yaml.yaml"),
        ("Clínica Gómez", "clinica-gomez.yaml"),
        (".hidden", "hidden.yaml"),
        ("a" * 200, "a" * 60 + ".yaml"),
    ],
)
def test_file_names_are_safe_slugs(name: str, file: str) -> None:
    assert mapping_file_name(name) == file


@pytest.mark.parametrize("name", ["", "   ", "???", "../..", "診療所"])
def test_a_name_without_letters_is_refused(name: str) -> None:
    with pytest.raises(SaveRefused, match="some letters a-z or digits"):
        mapping_file_name(name)


def test_a_name_with_a_path_saves_inside_the_mappings_folder(
    client: TestClient, tmp_path: Path, mappings: Path
) -> None:
    address = upload(client, write_sheet(tmp_path / "export.csv", US_ROWS))
    outside = mappings.parent.parent / "outside.yaml"  # where ../../outside.yaml would go
    submit(
        client,
        address,
        "save",
        default_time_zone="America/Chicago",
        name="../../outside.yaml",
    )
    assert not outside.exists()
    [written] = [p for p in mappings.iterdir() if p.name != "clinic.yaml"]
    assert written == mappings / "outside-yaml.yaml"


def test_a_different_mapping_is_replaced_only_when_confirmed(
    client: TestClient, tmp_path: Path, mappings: Path
) -> None:
    taken = mappings / "front-desk.yaml"
    original = (mappings / "clinic.yaml").read_text(encoding="utf-8")
    taken.write_text(original, encoding="utf-8")
    address = upload(client, write_sheet(tmp_path / "export.csv", US_ROWS))
    choices = {"default_time_zone": "America/Chicago", "name": "Front desk"}
    refused = submit(client, address, "save", **choices)
    text = text_of(refused.text)
    assert "already has a different mapping in front-desk.yaml (“Clinic appointments”)" in text
    assert 'id="replace"' in refused.text
    assert taken.read_text(encoding="utf-8") == original
    other = submit(client, address, "save", replace="clinic.yaml", **choices)  # not this one
    assert "already has a different mapping in front-desk.yaml" in text_of(other.text)
    assert taken.read_text(encoding="utf-8") == original
    replaced = submit(client, address, "save", replace="front-desk.yaml", **choices)
    assert "Review before sending" in replaced.text
    assert load_mapping(taken).name == "Front desk"
    # The same mapping saved again: nothing to confirm, the file is left as it is.
    written = taken.stat().st_mtime_ns
    again = upload(client, write_sheet(tmp_path / "again.csv", US_ROWS), "match-columns")
    same = submit(client, again, "save", **choices)
    assert "Review before sending" in same.text
    assert taken.stat().st_mtime_ns == written


# --- CSRF, bad files, the review's way back -------------------------------------------------


def test_the_matching_forms_need_the_session_token(
    client: TestClient, tmp_path: Path, mappings: Path
) -> None:
    address = upload(client, write_sheet(tmp_path / "export.csv", US_ROWS))
    fields = read_form(client.get(address).text).fields
    fields.update(default_time_zone="America/Chicago", action="save", name="Stolen")
    for token in ("", "0" * 64):
        assert client.post(address, data={**fields, "csrf_token": token}).status_code == 403
    with TestClient(
        base_url=PAGE_URL, app=client.app
    ) as stranger:  # another browser, its own session
        stranger.get("/")
        answer = stranger.post(address, data=fields)
        assert answer.status_code == 403 and "This form has expired" in answer.text
    answer = client.post(address, data=fields, headers={"Origin": "http://evil.example"})
    assert answer.status_code == 403
    review = address.removesuffix("/columns")
    mapping_switch = client.post(review + "/mapping", data={"mapping": "clinic.yaml"})
    assert mapping_switch.status_code == 403
    assert sorted(p.name for p in mappings.iterdir()) == ["clinic.yaml"]


def test_an_unreadable_file_is_a_message_on_the_matching_step(
    client: TestClient, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    address = upload(client, empty, "match-columns")
    answer = client.get(address)
    assert answer.status_code == 400
    assert "the file is empty" in text_of(answer.text)
    assert str(client.app.state.web.uploads.folder) not in answer.text  # type: ignore[attr-defined]
    # Found for a mapping: the review says it the same way.
    review = upload(client, empty)
    assert "the file is empty" in text_of(client.get(review).text)


def test_the_review_leads_back_to_the_matching_step(client: TestClient, tmp_path: Path) -> None:
    address = upload(client, write_sheet(tmp_path / "export.csv", US_ROWS), "clinic.yaml")
    review = client.get(address).text
    assert "This file cannot be imported as it is" in review
    assert f'href="{address}/columns">match the columns of this file' in review
    assert f'id="match-columns" href="{address}/columns"' in review


def test_the_review_can_switch_to_another_mapping(
    client: TestClient, tmp_path: Path, mappings: Path
) -> None:
    source = write_sheet(tmp_path / "export.csv", US_ROWS)
    submit(client, upload(client, source), "save", default_time_zone="America/Chicago")
    review = upload(client, source)
    client.post(
        review + "/mapping", data={"csrf_token": token_of(client), "mapping": "clinic.yaml"}
    )
    page = client.get(review).text
    assert "mapping <strong>Clinic appointments</strong>" in page
    assert "This file cannot be imported as it is" in page
    client.post(review + "/mapping", data={"csrf_token": token_of(client), "mapping": "../x"})
    assert "mapping <strong>Clinic appointments</strong>" in client.get(review).text


def test_mappings_that_fit_come_first_the_closest_then_the_newest(
    tmp_path: Path, mappings: Path
) -> None:
    source = write_sheet(tmp_path / "export.csv", US_ROWS)
    few = (
        "name: Few\ndefaults: {time_zone: UTC}\nevent:\n  all_day: true\n"
        '  external_id: "{Appt #}"\n  start: {date: "{Appt Date}"}\n  calendar: "{Doctor}"\n'
        '  title: "Visit"\n'  # every event needs a title; a literal one reads no column
    )
    more = few.replace("Few", "More") + '  location: "{Patient Name}"\n'
    (mappings / "b-few.yaml").write_text(few, encoding="utf-8")
    (mappings / "a-few-older.yaml").write_text(few.replace("Few", "Older"), encoding="utf-8")
    (mappings / "c-more.yaml").write_text(more, encoding="utf-8")
    (mappings / "broken.yaml").write_text("event: [", encoding="utf-8")
    os.utime(mappings / "a-few-older.yaml", (1_000_000, 1_000_000))
    ranked = rank_mappings(mappings, SheetHeaders(source))
    assert [(r.file, r.fits) for r in ranked] == [
        ("c-more.yaml", True),
        ("b-few.yaml", True),
        ("a-few-older.yaml", True),
        ("clinic.yaml", False),
        ("broken.yaml", False),
    ]


@pytest.mark.parametrize(
    ("header", "field", "score"),
    [
        ("Appt #", "external_id", 3),  # an appointment number, as "Appt No"
        ("Phone #", "participant_phone", 3),
        ("Patient #", "participant_name", 0),  # a patient number is not a name
        ("Patient Name", "participant_name", 3),
    ],
)
def test_a_hash_in_a_header_reads_as_number(header: str, field: str, score: int) -> None:
    assert name_score(spec(field), header) == score


def test_another_sheet_of_a_workbook_starts_the_matching_again(client: TestClient) -> None:
    address = upload(client, SAMPLES / "appointments.xlsx", "match-columns")
    page = client.get(address).text
    assert '<option value="Read me">' in page
    assert read_form(page).fields["external_id"] == "Appointment ID"
    token = token_of(client)
    other = client.post(address, data={"csrf_token": token, "sheet": "Read me", "name": "Kept"})
    assert "sheet <strong>Read me</strong>" in other.text
    fields = read_form(other.text).fields
    assert fields["external_id"] == "" and fields["name"] == "Kept"
    assert '<option value="Appointment ID">' not in other.text  # the other sheet's columns
    back = client.post(address, data={"csrf_token": token, "sheet": "Appointments"})
    assert read_form(back.text).fields["start_date"] == "Date"
    zone = {"default_time_zone": "America/Los_Angeles"}
    saved = submit(client, address, "save", name="Clinic workbook", second_mapping="yes", **zone)
    assert "Review before sending" in saved.text
    # 15: among the workbook's date cells, the typed '14/12/2026' can only be 14 December.
    assert "Send 15 events to Apptoto" in text_of(saved.text)


def test_the_first_mapping_of_a_new_installation_makes_the_folder(
    sandbox: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "not-yet" / "mappings"
    settings = WebSettings(
        mappings_dir=folder,
        ledger_path=tmp_path / "state.sqlite",
        runs_dir=tmp_path / "runs",
        environ={},
    )
    with TestClient(base_url=PAGE_URL, app=create_app(settings)) as client:
        assert "There is no mapping in the folder" in text_of(client.get("/").text)
        address = upload(client, write_sheet(tmp_path / "first.csv", US_ROWS))
        assert address.endswith("/columns")
        saved = submit(client, address, "save", default_time_zone="America/Denver")
        assert "Review before sending" in saved.text
        assert "this server has no Apptoto credentials" in saved.text
    assert [p.name for p in folder.iterdir()] == ["first.yaml"]
    assert load_mapping(folder / "first.yaml").defaults.time_zone == "America/Denver"


UK_HEADERS = ["Appt #", "Appt Date", "Time", "Doctor", "Patient Name", "Home Phone", "Cell Phone"]
UK_ROWS = [
    ["U-1", "12/16/2026", "9:00 AM", "Dr. Shah", "Gail Abernathy", "020 7946 0958", "07911 123201"],
    ["U-2", "12/16/2026", "9:30 AM", "Dr. Shah", "Tom Hale", "0161 496 0123", ""],
    ["U-3", "12/16/2026", "10:00 AM", "Dr. Shah", "Ann Lee", "", "07911 123456"],
]


def test_a_uk_file_imports_from_the_page_with_its_country_and_the_mobile_first(
    client: TestClient, tmp_path: Path, mappings: Path, sandbox: Any
) -> None:
    source = write_sheet(tmp_path / "london.csv", UK_ROWS, UK_HEADERS)
    address = upload(client, source)
    page = client.get(address).text
    assert re.search(
        r'<option value="Cell Phone" selected', page.split('name="participant_phone"')[1]
    )
    preview = submit(client, address, "preview", default_time_zone="Europe/London").text
    assert (
        "The country of the time zone Europe/London: numbers written without +country are read "
        "as GB numbers" in text_of(preview)
    )
    assert "3 of 3 rows can be sent" in text_of(preview)
    as_us = submit(client, address, "preview", phone_country="US").text
    assert "0 of 3 rows can be sent" in text_of(as_us)  # London numbers are not US numbers
    saved = submit(
        client,
        address,
        "save",
        default_time_zone="Europe/London",
        phone_country="GB",
        name="London",
    )
    assert "Review before sending" in saved.text
    mapping = load_mapping(mappings / "london.yaml")
    assert mapping.defaults.phone_region == "GB"
    phones = [
        p["participants"][0]["phone"] for p in prepare(source, mapping).events.payloads.values()
    ]
    assert phones == ["+447911123201", "+441614960123", "+447911123456"]  # mobile, else home
    review_url = str(saved.url)
    sent = client.post(
        review_url + "/send", data={"csrf_token": token_of(client)}, follow_redirects=False
    )
    assert sent.status_code == 303, sent.text
    run_url = str(sent.headers["location"])
    for _ in range(300):
        if client.get(run_url + "/progress").json()["finished"]:
            break
        time.sleep(0.02)
    held = {e["participants"][0]["phone"] for e in sandbox.events() if not e["is_deleted"]}
    assert held == set(phones)


# --- a workbook kept by hand ----------------------------------------------------------------


def test_a_hand_kept_workbook_opens_on_its_table_with_the_header_row_to_correct(
    client: TestClient, tmp_path: Path, mappings: Path
) -> None:
    address = upload(client, write_workbook(tmp_path / "week.xlsx", WEEK))
    fields = read_form(client.get(address).text).fields
    assert fields["sheet"] == "Mon 12-14"  # not the Notes sheet in front of it
    assert fields["header_row"] == "3"  # below the title and the blank row
    assert fields["external_id"] == "Appt ID"

    wrong = submit(client, address, "preview", header_row="1")  # the title row, by mistake
    assert read_form(wrong.text).fields["header_row"] == "1"
    assert "Riverside Family Dental: Mon 12-14" in text_of(wrong.text)
    not_a_row = submit(client, address, "preview", header_row="three")
    assert "“three” is not a row number: write 1 or more." in text_of(not_a_row.text)
    submit(client, address, "preview", header_row="3")

    zone = {"default_time_zone": "America/New_York", "name": "Week"}
    saved = submit(client, address, "save", **zone)
    assert "Review before sending" in saved.text
    assert "Send 10 events to Apptoto" in text_of(saved.text)  # both day sheets
    mapping = load_mapping(mappings / "week.yaml")
    assert mapping.header_row == 3
    assert sorted(prepare(tmp_path / "week.xlsx", mapping).set_aside) == [11, 13]


def send_and_wait(client: TestClient, review_url: str) -> dict[str, Any]:
    """Press Send on the review at ``review_url``; the run's progress once it has finished."""
    return wait_for_run(client, send(client, review_url))


def sent_exactly_the_week(sandbox: Any) -> None:
    """Both day sheets' appointments on the sandbox, each once, at its exact start; nothing else."""
    events = sandbox.events()
    assert len(events) == 10  # no duplicate, no notes or totals row
    assert starts(sandbox) == {**MONDAY, **TUESDAY}
    assert patients(sandbox) == {**patients_of(101), **patients_of(201)}


def test_a_mapping_of_several_sheets_reviews_and_sends_every_sheet_in_one_go(
    client: TestClient, sandbox: Any, tmp_path: Path, mappings: Path, restore_logging: None
) -> None:
    source = write_workbook(tmp_path / "week.ods", WEEK)
    target = str(mappings / "week.yaml")
    made = invoke_cli(["init", str(source), "-o", target, "--time-zone", "America/New_York"])
    assert made.exit_code == 0, made.output
    review_url = upload(client, source, mapping="week.yaml")
    page = client.get(review_url).text
    review = text_of(page)
    assert "sheets Mon 12-14 , Tue 12-15" in review
    assert "Send 10 events to Apptoto" in review
    assert "Sheet Tue 12-15, row 4" in review  # a preview names its row's sheet
    assert "selected>All sheets with these columns</option>" in page
    check = client.get(review_url + "/check.csv").text.splitlines()
    assert check[0].lstrip("\ufeff").startswith("sheet,") and len(check) == 15  # 2 x 7 rows
    one = {"csrf_token": token_of(client), "sheet": "Tue 12-15"}  # one sheet, chosen
    alone = text_of(client.post(review_url + "/sheet", data=one).text)
    assert "here only the sheet 'Tue 12-15' is checked and sent, as chosen." in alone
    assert "Send 5 events to Apptoto" in alone
    every = {"csrf_token": token_of(client), "sheet": ALL_SHEETS}
    assert "Send 10 events" in text_of(client.post(review_url + "/sheet", data=every).text)

    assert send_and_wait(client, review_url)["finished"]
    sent_exactly_the_week(sandbox)
    again = text_of(client.get(upload(client, source, mapping="week.yaml")).text)
    assert "10 unchanged (not sent)" in again
    assert "Send 0 events to Apptoto" in again


def test_all_sheets_with_these_columns_is_a_choice_on_the_page(
    client: TestClient, sandbox: Any, tmp_path: Path, mappings: Path
) -> None:
    path = write_workbook(tmp_path / "week.xlsx", WEEK)
    address = upload(client, path)
    submit(client, address, "preview", header_row="3")
    saved = submit(client, address, "save", default_time_zone="America/New_York", name="Week")
    # The mapping reads every sheet of these columns, as init's does, and so does the review:
    # Tuesday's patients are not left out unseen.
    first = text_of(saved.text)
    assert "sheets Mon 12-14 , Tue 12-15" in first and "Send 10 events to Apptoto" in first
    assert load_mapping(mappings / "week.yaml").all_sheets  # named by their days: sheets: all
    review_url = str(saved.url)

    def choose(sheet: str) -> str:
        data = {"csrf_token": token_of(client), "sheet": sheet}
        return client.post(review_url + "/sheet", data=data).text

    review = text_of(choose(ALL_SHEETS))
    assert "sheets Mon 12-14 , Tue 12-15" in review  # the Notes sheet is passed over
    assert "Send 10 events to Apptoto" in review
    assert "4 not appointments (not sent)" in review
    assert "Send 5 events to Apptoto" in text_of(choose("Tue 12-15"))  # back to one sheet
    assert "Send 10 events to Apptoto" in text_of(choose(ALL_SHEETS))
    progress = send_and_wait(client, review_url)
    assert progress["finished"]
    sent_exactly_the_week(sandbox)
    (report,) = (tmp_path / "runs").glob("*/report.csv")
    lines = read_report(report)
    assert {(line["sheet"], line["status"]) for line in lines} >= {
        ("Mon 12-14", "created"),
        ("Tue 12-15", "created"),
    }
    assert sum(line["status"] == "created" for line in lines) == 10

    review_url = upload(client, path)
    review = text_of(choose(ALL_SHEETS))
    assert "10 unchanged (not sent)" in review
    assert "Send 0 events to Apptoto" in review
    sent_exactly_the_week(sandbox)


def test_a_status_column_of_cancelled_visits_is_said_and_saved(
    client: TestClient, tmp_path: Path, mappings: Path
) -> None:
    rows = [
        [*row, status] for row, status in zip(US_ROWS, ["Confirmed", "Cancelled", ""], strict=True)
    ]
    source = write_sheet(tmp_path / "export.csv", rows, [*HEADERS, "Status"])
    address = upload(client, source)
    page = client.get(address).text
    assert (
        "Rows marked 'Cancelled' in 'Status' are not sent: those appointments do not go ahead"
        in text_of(page)
    )
    # The preview said the cancelled visit was an event to send (validate_and_map alone).
    previewed = text_of(
        submit(client, address, "preview", default_time_zone="America/Chicago").text
    )
    assert "2 of 3 rows can be sent with these choices (1 marked as not going ahead)." in previewed
    assert (
        "Row 3 · not sent not an appointment: marked 'Cancelled' in 'Status', so no reminder"
        in previewed
    )
    review = submit(client, address, "save", default_time_zone="America/Chicago", name="Desk")
    assert "Review before sending" in review.text
    mapping = load_mapping(mappings / "desk.yaml")
    assert mapping.cancelled is not None and mapping.cancelled.values == ("Cancelled",)
    shown = text_of(review.text)
    assert "2 new events" in shown and "1 not an appointment (not sent)" in shown


def test_a_schedule_of_time_ranges_imports_from_the_page_with_its_ends(
    client: TestClient, tmp_path: Path, mappings: Path
) -> None:
    """A Time column of ranges ("10:00-10:45 AM"): the page's matching takes it as the start
    time, and the saved mapping reads each end of the range."""
    source = write_sheet(
        tmp_path / "schedule.csv",
        [
            ["T-1", "12/14/2026", "9:00 AM - 9:30 AM", "Dr. Rivera", "Maria Gomez", "5415550104"],
            ["T-2", "12/14/2026", "10:00-10:45 AM", "Dr. Rivera", "James Oconnor", "5415550123"],
            ["T-3", "12/15/2026", "11:30-12:15 PM", "Dr. Chen", "Aiko Tanaka", "5415550142"],
        ],
        ["Appt #", "Appt Date", "Time", "Doctor", "Patient Name", "Mobile"],
    )
    address = upload(client, source)
    page = client.get(address).text
    assert re.search(r'<option value="Time" selected', page.split('name="start_time"')[1])
    preview = submit(client, address, "preview", default_time_zone="America/Los_Angeles").text
    assert "3 of 3 rows can be sent" in text_of(preview)
    saved = submit(
        client, address, "save", default_time_zone="America/Los_Angeles", name="Schedule"
    )
    assert "Review before sending" in saved.text
    mapping = load_mapping(mappings / "schedule.yaml")
    payloads = prepare(source, mapping).events.payloads.values()
    assert [(p["start_time"], p["end_time"]) for p in payloads] == [
        ("2026-12-14T09:00:00-08:00", "2026-12-14T09:30:00-08:00"),
        ("2026-12-14T10:00:00-08:00", "2026-12-14T10:45:00-08:00"),
        ("2026-12-15T11:30:00-08:00", "2026-12-15T12:15:00-08:00"),
    ]


def test_day_sheets_dated_in_their_titles_import_from_the_page(
    client: TestClient, sandbox: Any, tmp_path: Path, mappings: Path
) -> None:
    """No Date column, each day's date in its sheet's title: the page offers that date as the
    start's date, and every sheet's rows go to Apptoto on their own day."""
    path = write_workbook(tmp_path / "week.xlsx", TITLED)
    address = upload(client, path)
    page = client.get(address).text
    start_date = drop_down(page, "start_date")
    assert re.search(r'<option value="@title\|date" selected', start_date)
    assert "the date in Sheet title (Monday, December 14, 2026)" in text_of(start_date)
    assert "@title (" not in text_of(page)  # the title itself is no column to choose
    preview = submit(client, address, "preview", default_time_zone="America/New_York").text
    assert "5 of 5 rows can be sent" in text_of(preview)
    saved = submit(client, address, "save", default_time_zone="America/New_York", name="Week")
    review_url = str(saved.url)
    review = text_of(saved.text)  # every day's sheet, without a choice to make
    assert "sheets Mon 12-14 , Tue 12-15" in review
    assert "Send 10 events to Apptoto" in review
    assert send_and_wait(client, review_url)["finished"]
    sent_exactly_the_week(sandbox)
    again = text_of(client.get(upload(client, path)).text)  # the saved mapping fits it again
    assert "sheets Mon 12-14 , Tue 12-15" in again and "10 unchanged (not sent)" in again
    next_week = [
        NOTES,
        day_sheet("Mon 12-21", dt.date(2026, 12, 21), 301, dated=False),
        day_sheet("Tue 12-22", dt.date(2026, 12, 22), 401, dated=False),
    ]
    later = upload(client, write_workbook(tmp_path / "next.xlsx", next_week))
    shown = text_of(client.get(later).text)  # its sheets named anew: the same mapping reads them
    assert "mapping Week" in shown and "sheets Mon 12-21 , Tue 12-22" in shown
    assert "Send 10 events to Apptoto" in shown and "Mon Dec 21, 2026, 8:30 AM" in shown


def test_a_daily_export_dated_in_its_file_name_imports_from_the_page(
    client: TestClient, sandbox: Any, tmp_path: Path, mappings: Path
) -> None:
    """No Date column, the day in the file's name, read by a mapping that says so: the page
    keeps the name the file was uploaded as (the upload itself is stored under a random one),
    in the review and the run. The assistant does not propose a file name's date: exports are
    often named by the day they were made."""
    source = write_sheet(
        tmp_path / "appointments_2026-12-14.csv",
        [
            ["T-1", "9:00 AM", "Dr. Rivera", "Maria Gomez", "5415550104"],
            ["T-2", "10:15 AM", "Dr. Chen", "Aiko Tanaka", "5415550142"],
        ],
        ["Appt #", "Time", "Doctor", "Patient Name", "Mobile"],
    )
    page = client.get(upload(client, source)).text
    assert "@file" not in drop_down(page, "start_date")
    assert "the file's name 'appointments_2026-12-14' holds 2026-12-14" in text_of(page)
    (mappings / "daily.yaml").write_text(
        """
name: Daily
defaults: {time_zone: America/Los_Angeles, time_format: "%I:%M %p"}
event:
  external_id: "daily-{Appt #}"
  calendar: "{Doctor}"
  title: Visit
  start: {date: "{@file|date}", time: "{Time}"}
  duration_minutes: 30
  participants:
    - {name: "{Patient Name}", phone: "{Mobile}"}
""",
        encoding="utf-8",
    )
    review_url = upload(client, source, mapping="daily.yaml")
    review = text_of(client.get(review_url).text)
    assert "Send 2 events to Apptoto" in review and "Mon Dec 14, 2026, 9:00 AM" in review
    assert send_and_wait(client, review_url)["finished"]
    assert sorted(e["start_time"] for e in sandbox.events()) == [
        "2026-12-14T09:00:00-08:00",
        "2026-12-14T10:15:00-08:00",
    ]


def test_provider_blocks_go_to_their_calendars_from_the_page(
    client: TestClient, sandbox: Any, tmp_path: Path, mappings: Path
) -> None:
    """Each provider's name on a row above their patients: the page offers the heading above
    each row as its calendar, and the visits under CANCELLED are not sent."""
    path = write_workbook(tmp_path / "blocks.xlsx", BLOCKS)
    address = upload(client, path)
    page = client.get(address).text
    calendar = drop_down(page, "calendar")
    assert re.search(r'<option value="@heading" selected', calendar)
    assert "Heading above (Dr. Rivera)" in text_of(calendar)
    saved = submit(client, address, "save", default_time_zone="America/New_York", name="Blocks")
    review = text_of(saved.text)
    assert "Send 4 events to Apptoto" in review and "4 not appointments (not sent)" in review
    assert send_and_wait(client, str(saved.url))["finished"]
    calendars = sorted((e["calendar_name"], e["participants"][0]["name"]) for e in sandbox.events())
    assert calendars == [
        ("Dr. Chen", "Ann Lee"),
        ("Dr. Chen", "Bo Diaz"),
        ("Dr. Rivera", "Gail Abernathy"),
        ("Dr. Rivera", "Tom Baker"),
    ]


def test_a_week_on_one_sheet_dated_by_its_headings_imports_from_the_page(
    client: TestClient, tmp_path: Path
) -> None:
    path = write_workbook(tmp_path / "week.xlsx", WEEK_ON_ONE_SHEET)
    address = upload(client, path)
    page = client.get(address).text
    start_date = drop_down(page, "start_date")
    assert re.search(r'<option value="@heading\|date" selected', start_date)
    assert "the date in Heading above (Monday, December 14, 2026)" in text_of(start_date)
    saved = submit(client, address, "save", default_time_zone="America/New_York", name="Week")
    review = text_of(saved.text)
    assert "Send 3 events to Apptoto" in review
    assert "Mon Dec 14, 2026, 8:30 AM" in review and "Tue Dec 15, 2026, 8:30 AM" in review


def test_a_zone_column_of_short_names_is_offered_read_as_zones_and_saved_so(
    client: TestClient, tmp_path: Path, mappings: Path
) -> None:
    """EST and PT are no time zones (EST is UTC-05:00 all year round): the page offers the
    column read through |zone, each name as its family's zone, and the saved mapping says so."""
    rows = [[*row, zone] for row, zone in zip(US_ROWS, ["EST", "PT", "est"], strict=True)]
    path = write_sheet(tmp_path / "zones.csv", rows, [*HEADERS, "Time Zone"])
    address = upload(client, path)
    page = client.get(address).text
    zone = drop_down(page, "time_zone")
    assert re.search(r'<option value="Time Zone\|zone" selected', zone)
    assert "Time Zone, names read as zones (America/New_York)" in text_of(zone)
    assert confidence(page, "time_zone") == "medium"
    saved = submit(client, address, "save", name="Zones")
    assert "Send 3 events to Apptoto" in text_of(saved.text)
    mapping = load_mapping(mappings / mapping_file_name("Zones"))
    assert mapping.event.time_zone is not None
    assert mapping.event.time_zone.source == "{Time Zone|zone}"


def test_an_appointment_book_and_tables_side_by_side_are_said_on_the_page(
    client: TestClient, tmp_path: Path
) -> None:
    # The page shows the proposal of the person's choices: the assistant's notes about what it
    # cannot read were in init's output only, and the page let such a sheet through unsaid.
    book = write_sheet(
        tmp_path / "book.csv",
        [["8:00", "Maria Gomez 541-555-0104", ""], ["8:30", "", "James O'Connor"]],
        headers=["Time", "Dr Rivera", "Dr Chen"],
    )
    text = text_of(client.get(upload(client, book)).text)
    assert "so these events would have nobody to remind" in text
    assert "If the columns 'Dr Rivera', 'Dr Chen' are an appointment book's" in text
    beside = write_sheet(
        tmp_path / "beside.csv",
        [["12/14/2026", "9:00", "Ann Lee", "07911 123001", "9:00", "Cy Dunn", "07911 123101"]],
        headers=["Date", "Time", "Patient", "Phone", "Time", "Patient", "Phone"],
    )
    text = text_of(client.get(upload(client, beside)).text)
    assert "the sheet looks like tables side by side" in text
    assert "nobody to remind" not in text
