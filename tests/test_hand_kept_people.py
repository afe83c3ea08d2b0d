"""The people of a hand-kept workbook: names written "Last, First" and a Cell and a Home phone
column go through ``init`` + ``run`` as .xlsx, .ods and .xls, and Apptoto holds each patient
greeted by first name, reached on the mobile where there is one, on the home phone where not.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from importer.sandbox.server import SandboxHandle
from tests.hand_kept import Cell, SheetSpec, write_workbook
from tests.helpers import env_for, invoke_cli, live_events, read_report

HEADER = ["Appt ID", "Date", "Time", "Provider", "Patient Name", "Home Phone", "Cell Phone"]
DAY = dt.date(2026, 12, 16)
# Appt ID -> (patient as written, home, cell) and what Apptoto must hold: (name, phone).
PATIENTS = {
    "C1": (
        ("Abernathy, Gail", "(541) 555-0101", "(541) 555-0201"),
        ("Gail Abernathy", "+15415550201"),
    ),
    "C2": (("O’Connor, James", "(541) 555-0102", ""), ("James O’Connor", "+15415550102")),
    "C3": (("de la Cruz, Ana", "", "(541) 555-0203"), ("Ana de la Cruz", "+15415550203")),
    "C4": (("Lee, Ann", "(541) 555-0104", "555-12"), ("Ann Lee", "+15415550104")),
}


def workbook() -> list[SheetSpec]:
    rows: list[list[Cell]] = [["Riverside Family Dental: Wednesday"], [], list(HEADER)]
    for i, (appt, ((name, home, cell), _)) in enumerate(PATIENTS.items()):
        date: Cell = DAY if i == 0 else None  # the date merged down the block
        rows.append([appt, date, dt.time(9 + i, 0), "Dr. Rivera", name, home, cell])
    rows.append(["TOTAL", None, None, None, f"{len(PATIENTS)} appointments"])
    return [SheetSpec("Wed 12-16", rows, [(0, 0, 0, 6), (3, 1, 2 + len(PATIENTS), 1)])]


@pytest.mark.parametrize("suffix", [".xlsx", ".ods", ".xls"])
def test_last_first_names_and_cell_and_home_phones_reach_apptoto_as_patients_expect(
    sandbox: SandboxHandle, tmp_path: Path, restore_logging: None, suffix: str
) -> None:
    path = write_workbook(tmp_path / f"wednesday{suffix}", workbook())
    mapping = tmp_path / "wednesday.yaml"
    made = invoke_cli(["init", str(path), "-o", str(mapping), "--time-zone", "America/New_York"])
    assert made.exit_code == 0, made.output
    person = yaml.safe_load(mapping.read_text(encoding="utf-8"))["event"]["participants"][0]
    assert person["name"] == "{Patient Name|first_last}"
    assert person["phone"] == ["{Cell Phone}", "{Home Phone}"]
    report = tmp_path / "report.csv"
    ran = invoke_cli(
        ["run", str(path), "-m", str(mapping), "--report", str(report)]
        + ["--state", str(tmp_path / "state.sqlite")],
        env_for(sandbox),
    )
    assert ran.exit_code == 0, ran.output
    assert "done: 4 created, 1 not an appointment" in ran.output
    held = {
        e["external_id"].rsplit("-", 1)[-1]: (
            e["participants"][0]["name"],
            e["participants"][0]["phone"],
        )
        for e in live_events(sandbox).values()
    }
    assert held == {appt: expected for appt, (_, expected) in PATIENTS.items()}
    warned = {line["Appt ID"]: line["warnings"] for line in read_report(report)}
    assert "'555-12' is not a valid phone number" in warned["C4"]
    assert "the number in Home Phone is sent instead" in warned["C4"]
