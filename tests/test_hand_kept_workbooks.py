"""A workbook kept by hand goes through ``init`` + ``run`` with every appointment exact on the
sandbox and no other row sent, as .xlsx, .ods and .xls (all written by the tests).

The workbook: a "Notes" sheet first; then one sheet per day, each with a title row and a blank
row above the header, the date merged over each provider's block, a blank row between the
blocks, a TOTAL row and a note below the table.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from importer.load import load_table, sheet_names
from importer.sandbox.server import SandboxHandle
from tests.hand_kept import Cell, SheetSpec, write_workbook
from tests.helpers import env_for, invoke_cli, live_events, read_report

HEADER = ["Appt ID", "Date", "Time", "Provider", "Patient", "Phone"]
NOTES = SheetSpec("Notes", [["Front desk notes"], ["Dr. Patel is out on Friday"]])


def day_sheet(name: str, day: dt.date, first_id: int) -> SheetSpec:
    """A day as the front desk keeps it: the date merged over each provider's block."""
    blocks = [
        ("Dr. Rivera", [(8, 30, "Gail Abernathy"), (9, 0, "Tom Baker"), (9, 30, "Ann Lee")]),
        ("Dr. Chen", [(13, 0, "Bo Diaz"), (14, 15, "Cy Evans")]),
    ]
    rows: list[list[Cell]] = [[f"Riverside Family Dental: {name}"], [], list(HEADER)]
    merges = [(0, 0, 0, 5)]  # the title over the table's width
    number = first_id
    for provider, slots in blocks:
        top = len(rows)
        for i, (hour, minute, patient) in enumerate(slots):
            date: Cell = day if i == 0 else None
            phone = f"(541) 555-{number:04d}"
            rows.append([f"A{number}", date, dt.time(hour, minute), provider, patient, phone])
            number += 1
        merges.append((top, 1, len(rows) - 1, 1))
        rows.append([])  # a blank row between the blocks
    rows.append(["TOTAL", None, None, None, f"{number - first_id} appointments"])
    rows.append([])
    rows.append(["Confirm tomorrow's patients by 4 PM"])
    return SheetSpec(name, rows, merges)


WORKBOOK = [
    NOTES,
    day_sheet("Mon 12-14", dt.date(2026, 12, 14), 101),
    day_sheet("Tue 12-15", dt.date(2026, 12, 15), 201),
]
# Every appointment of the Monday sheet and the start Apptoto must hold (New York, winter).
MONDAY = {
    "A101": "2026-12-14T08:30:00-05:00",
    "A102": "2026-12-14T09:00:00-05:00",
    "A103": "2026-12-14T09:30:00-05:00",
    "A104": "2026-12-14T13:00:00-05:00",
    "A105": "2026-12-14T14:15:00-05:00",
}
FORMATS = [".xlsx", ".ods", ".xls"]


@pytest.mark.parametrize("suffix", FORMATS)
def test_the_table_is_found_below_the_title_with_merged_dates_and_the_totals_set_aside(
    tmp_path: Path, suffix: str
) -> None:
    path = write_workbook(tmp_path / f"week{suffix}", WORKBOOK)
    assert sheet_names(path) == ["Notes", "Mon 12-14", "Tue 12-15"]
    loaded = load_table(path)  # no sheet named: the first one holding the table, not "Notes"
    assert loaded.sheet_name == "Mon 12-14"
    assert loaded.header_row == 3
    assert list(loaded.frame.columns) == HEADER
    # Row numbers are the sheet's own; the blank row between the blocks (row 7) is gone.
    assert loaded.set_aside == {
        11: "not an appointment: a totals row ('TOTAL', '5 appointments')",
        13: "not an appointment: only one cell is filled, a heading or a note "
        '("Confirm tomorrow\'s patients by 4 PM")',
    }
    appointments = loaded.appointments
    assert appointments.index.tolist() == [4, 5, 6, 8, 9]
    assert appointments["Date"].tolist() == ["2026-12-14"] * 3 + ["2026-12-14"] * 2
    assert appointments["Appt ID"].tolist() == list(MONDAY)


@pytest.mark.parametrize("suffix", FORMATS)
def test_a_hand_kept_workbook_goes_through_init_and_run_exactly(
    sandbox: SandboxHandle, tmp_path: Path, restore_logging: None, suffix: str
) -> None:
    path = write_workbook(tmp_path / f"week{suffix}", WORKBOOK)
    mapping = tmp_path / "week.yaml"
    made = invoke_cli(["init", str(path), "-o", str(mapping), "--time-zone", "America/New_York"])
    assert made.exit_code == 0, made.output
    written = yaml.safe_load(mapping.read_text(encoding="utf-8"))
    assert written["header_row"] == 3
    report = tmp_path / "report.csv"
    ran = invoke_cli(
        ["run", str(path), "-m", str(mapping), "--sheet", "Mon 12-14", "--report", str(report)]
        + ["--state", str(tmp_path / "state.sqlite")],
        env_for(sandbox),
    )
    assert ran.exit_code == 0, ran.output
    assert "done: 5 created, 2 not an appointment" in ran.output
    stored = live_events(sandbox)
    assert {e["external_id"].rsplit("-", 1)[-1]: e["start_time"] for e in stored.values()} == MONDAY
    lines = {line["row"]: line for line in read_report(report)}
    assert [lines[row]["status"] for row in ("11", "13")] == ["not an appointment"] * 2
    assert "a totals row ('TOTAL', '5 appointments')" in lines["11"]["message"]
    assert {lines[row]["status"] for row in ("4", "5", "6", "8", "9")} == {"created"}
