"""The assistant and the people of a sheet: names written last name first, several phones."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import Result

from importer.mapping import load_mapping
from importer.prepare import prepare
from tests.helpers import invoke_cli, write_csv

HEADER = ["Appt ID", "Date", "Time", "Provider", "Patient Name", "Email"]
ROWS = [
    ["A-1", "12/16/2026", "9:00 AM", "Dr. Chen", "Abernathy, Gail", "gail@example.com"],
    ["A-2", "12/16/2026", "9:30 AM", "Dr. Chen", "O’Connor, James", "jim@example.com"],
    ["A-3", "12/16/2026", "10:00 AM", "Dr. Chen", "de la Cruz, Ana María", "ana@example.com"],
]


def initialised(
    folder: Path, name: str, header: list[str], rows: list[list[str]], zone: str
) -> tuple[Path, Path, Result]:
    """The sheet ``name``.csv of ``rows``, and ``init``'s mapping of it with ``zone``: the
    sheet, the mapping and what ``init`` said."""
    sheet = write_csv(
        folder / f"{name}.csv", header, [dict(zip(header, r, strict=True)) for r in rows]
    )
    target = folder / f"{name}.yaml"
    made = invoke_cli(["init", str(sheet), "-o", str(target), "--time-zone", zone])
    assert made.exit_code == 0, made.output
    return sheet, target, made


def test_init_turns_last_first_names_round_and_says_why(tmp_path: Path) -> None:
    sheet, target, _ = initialised(tmp_path, "day", HEADER, ROWS, "America/Boise")
    written = yaml.safe_load(target.read_text(encoding="utf-8"))
    assert written["event"]["participants"][0]["name"] == "{Patient Name|first_last}"
    comments = " ".join(
        line.strip().lstrip("#").strip() for line in target.read_text(encoding="utf-8").splitlines()
    )
    assert "last name first (“Abernathy, Gail”), so reminders greet “Gail Abernathy”" in comments
    prepared = prepare(sheet, load_mapping(target))
    names = [p["participants"][0]["name"] for p in prepared.events.payloads.values()]
    assert names == ["Gail Abernathy", "James O’Connor", "Ana María de la Cruz"]


PHONE_HEADER = [
    "Appt ID",
    "Date",
    "Time",
    "Provider",
    "Patient Name",
    "Home Phone",
    "Phone (mobile)",
]
PHONE_ROWS = [
    ["B-1", "12/16/2026", "9:00 AM", "Dr. Shah", "Gail Abernathy", "020 7946 0958", "07911 123201"],
    ["B-2", "12/16/2026", "9:30 AM", "Dr. Shah", "Tom Hale", "0161 496 0123", ""],
    ["B-3", "12/16/2026", "9:45 AM", "Dr. Shah", "Ann Lee", "0161 496 0124", "07911 12"],
]


def test_init_for_a_london_sheet_reads_uk_numbers_mobile_first(tmp_path: Path) -> None:
    sheet, target, made = initialised(tmp_path, "london", PHONE_HEADER, PHONE_ROWS, "Europe/London")
    assert "Phone (mobile) -> Phone (mobile) (high)" in made.output
    assert "Home Phone -> Other phone (when the first is blank) (high)" in made.output
    written = yaml.safe_load(target.read_text(encoding="utf-8"))
    assert written["defaults"]["phone_region"] == "GB"
    assert written["event"]["participants"][0]["phone"] == ["{Phone (mobile)}", "{Home Phone}"]
    comments = " ".join(
        line.strip().lstrip("#").strip() for line in target.read_text(encoding="utf-8").splitlines()
    )
    assert "a mobile number comes first, as text reminders reach mobiles only" in comments
    assert "the country of the time zone Europe/London" in comments

    prepared = prepare(sheet, load_mapping(target))
    phones = {r: p["participants"][0]["phone"] for r, p in prepared.events.payloads.items()}
    assert phones == {2: "+447911123201", 3: "+441614960123", 4: "+441614960124"}
    [warning] = prepared.warnings[4]
    assert (warning.column, warning.value) == ("Phone (mobile)", "07911 12")
    assert warning.reason.endswith(": the number in Home Phone is sent instead")


def test_an_emergency_contact_s_phone_is_never_the_patient_s(tmp_path: Path) -> None:
    # "Emergency Contact Phone" was ranked as the patient's other phone: a patient without a
    # mobile was reminded through their emergency contact, who learns of the visit. The
    # patient's own work phone is the other phone; the contact's columns are left unused.
    header = ["Appt ID", "Date", "Time", "Provider", "Patient", "Mobile"]
    header += ["Emergency Contact", "Emergency Contact Phone", "Work Phone"]
    rows = [
        ["1", "12/14/2026", "9:00 AM", "Dr A", "Ann Lee", "541-555-0104", "Bob Lee"]
        + ["541-555-0199", "541-555-0111"],
        ["2", "12/14/2026", "9:30 AM", "Dr A", "Cy Dunn", "", "Di Dunn", "541-555-0198", ""],
    ]
    sheet, target, _ = initialised(tmp_path, "day", header, rows, "America/Boise")
    written = yaml.safe_load(target.read_text(encoding="utf-8"))
    assert written["event"]["participants"][0]["phone"] == ["{Mobile}", "{Work Phone}"]
    phones = [
        p["participants"][0].get("phone")
        for p in prepare(sheet, load_mapping(target)).events.payloads.values()
    ]
    assert phones == ["+15415550104", None]


def test_a_sheet_whose_only_number_is_the_emergency_contact_s_sends_none() -> None:
    # Found by its values alone ("the header does not say, but 100% are phone numbers"), the
    # contact's number was the patient's: excluded words now rule a column out whatever it holds.
    import pandas as pd

    from importer.assist import propose_mapping

    frame = pd.DataFrame(
        {
            "Appt ID": ["1", "2"],
            "Date": ["12/14/2026", "12/14/2026"],
            "Time": ["9:00 AM", "9:30 AM"],
            "Patient": ["Ann Lee", "Cy Dunn"],
            "Emergency Contact Phone": ["541-555-0199", "541-555-0198"],
            "DOB": ["03/02/1985", "11/23/1972"],
        }
    )
    proposal = propose_mapping(frame, name="day", time_zone="America/Boise")
    used = {pick.column for pick in proposal.picks.values()}
    assert "Emergency Contact Phone" not in used
    assert proposal.picks["start_date"].column == "Date"
