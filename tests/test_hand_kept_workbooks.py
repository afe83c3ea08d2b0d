"""A workbook kept by hand goes through ``init`` + ``run`` with every appointment exact on the
sandbox and no other row sent, as .xlsx, .ods and .xls (all written by the tests).

The workbook (tests/hand_kept.py): a "Notes" sheet first; then one sheet per day, each with a
title row and a blank row above the header, the date merged over each provider's block, a blank
row between the blocks, a TOTAL row and a note below the table; patients written "Last, First",
with a cell and a home phone (one patient has no cell phone).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from typer.testing import Result

from importer.load import load_table, sheet_names
from importer.mapping import load_mapping
from importer.pipeline import RunRequest
from importer.prepare import prepare
from importer.sandbox.server import SandboxHandle
from importer.several_sheets import run_sheets
from tests.hand_kept import (
    HEADER,
    NO_CELL,
    NOTES,
    PATIENTS,
    TITLED,
    WORKBOOK,
    SheetSpec,
    cell_phone,
    day_sheet,
    home_phone,
    write_workbook,
)
from tests.helpers import env_for, fast_client_config, invoke_cli, live_events, read_report

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
        13: "not an appointment: a heading or a note, only one cell filled "
        '("Confirm tomorrow\'s patients by 4 PM")',
    }
    appointments = loaded.appointments
    assert appointments.index.tolist() == [4, 5, 6, 8, 9]
    assert appointments["Date"].tolist() == ["2026-12-14"] * 3 + ["2026-12-14"] * 2
    assert appointments["Appt ID"].tolist() == list(MONDAY)


TUESDAY = {f"A2{ext[2:]}": start.replace("12-14", "12-15") for ext, start in MONDAY.items()}


def patients_of(first_id: int) -> dict[str, tuple[str, str]]:
    """Each appointment's patient as Apptoto must greet and text them: first name first; the
    cell phone, or the home phone when there is no cell phone."""
    found = {}
    for i, written in enumerate(PATIENTS):
        number = first_id + i
        last, first = written.split(", ")
        phone = home_phone(number) if written == NO_CELL else cell_phone(number)
        found[f"A{number}"] = (f"{first} {last}", "+1" + "".join(filter(str.isdigit, phone)))
    return found


def patients(sandbox: SandboxHandle) -> dict[str, tuple[str, str]]:
    """What Apptoto holds: each event's one participant, name and phone."""
    found = {}
    for event in live_events(sandbox).values():
        (participant,) = event["participants"]
        ext = event["external_id"].rsplit("-", 1)[-1]
        found[ext] = (participant["name"], participant["phone"])
    return found


def run_cli(
    path: Path, mapping: Path, tmp_path: Path, sandbox: SandboxHandle, *more: str
) -> Result:
    return invoke_cli(
        ["run", str(path), "-m", str(mapping), "--report", str(tmp_path / "report.csv")]
        + ["--state", str(tmp_path / "state.sqlite"), *more],
        env_for(sandbox),
    )


def starts(sandbox: SandboxHandle) -> dict[str, str]:
    """What Apptoto holds: each event's appointment id and start."""
    return {
        e["external_id"].rsplit("-", 1)[-1]: e["start_time"] for e in live_events(sandbox).values()
    }


def initialised(tmp_path: Path, name: str, sheets: list[SheetSpec]) -> tuple[Path, Path]:
    """The workbook written as ``name``, and the mapping ``init`` proposed for it."""
    path = write_workbook(tmp_path / name, sheets)
    mapping = tmp_path / "week.yaml"
    made = invoke_cli(["init", str(path), "-o", str(mapping), "--time-zone", "America/New_York"])
    assert made.exit_code == 0, made.output
    return path, mapping


def with_sheets(mapping: Path, sheets: str | list[str]) -> None:
    """Set the ``sheets:`` key of the mapping file ``init`` wrote."""
    spec = yaml.safe_load(mapping.read_text(encoding="utf-8"))
    spec["sheets"] = sheets
    mapping.write_text(yaml.safe_dump(spec), encoding="utf-8")


def sheets_in_report(tmp_path: Path) -> set[str]:
    """The sheets named in the last run's report."""
    return {line["sheet"] for line in read_report(tmp_path / "report.csv")}


@pytest.mark.parametrize("suffix", FORMATS)
def test_a_hand_kept_workbook_goes_through_init_and_run_exactly(
    sandbox: SandboxHandle, tmp_path: Path, restore_logging: None, suffix: str
) -> None:
    path, mapping = initialised(tmp_path, f"week{suffix}", WORKBOOK)
    written = yaml.safe_load(mapping.read_text(encoding="utf-8"))
    # The sheets are named by their days: next week's are named anew, and all of them are read.
    assert (written["header_row"], written["sheets"]) == (3, "all")
    assert "sheet" not in written

    ran = run_cli(path, mapping, tmp_path, sandbox)
    assert ran.exit_code == 0, ran.output
    assert "done: 10 created, 4 not an appointment" in ran.output
    assert starts(sandbox) == {**MONDAY, **TUESDAY}  # every appointment exact, nothing else
    assert patients(sandbox) == {**patients_of(101), **patients_of(201)}
    lines = read_report(tmp_path / "report.csv")
    by_place = {(line["sheet"], line["row"]): line for line in lines}
    assert len(lines) == 14
    for sheet in ("Mon 12-14", "Tue 12-15"):
        assert [by_place[(sheet, row)]["status"] for row in ("4", "5", "6", "8", "9")] == [
            "created"
        ] * 5
        assert by_place[(sheet, "11")]["status"] == "not an appointment"
        assert "a totals row ('TOTAL', '5 appointments')" in by_place[(sheet, "11")]["message"]
        assert by_place[(sheet, "13")]["status"] == "not an appointment"

    again = run_cli(path, mapping, tmp_path, sandbox)  # a re-run sends nothing new
    assert again.exit_code == 0 and "10 unchanged" in again.output


def test_one_sheet_of_several_is_read_when_named(
    sandbox: SandboxHandle, tmp_path: Path, restore_logging: None
) -> None:
    path, mapping = initialised(tmp_path, "week.xlsx", WORKBOOK)
    ran = run_cli(path, mapping, tmp_path, sandbox, "--sheet", "Tue 12-15")
    assert ran.exit_code == 0, ran.output
    assert starts(sandbox) == TUESDAY
    assert "sheet" not in read_report(tmp_path / "report.csv")[0]


def test_all_sheets_reads_the_day_sheets_and_passes_over_the_notes(
    sandbox: SandboxHandle, tmp_path: Path, restore_logging: None
) -> None:
    path, mapping = initialised(tmp_path, "week.ods", WORKBOOK)
    with_sheets(mapping, "all")
    ran = run_cli(path, mapping, tmp_path, sandbox, "--dry-run")
    assert ran.exit_code == 0, ran.output
    assert "plan (nothing sent): 10 create, 4 not an appointment" in ran.output
    assert sheets_in_report(tmp_path) == {"Mon 12-14", "Tue 12-15"}


def test_the_sheets_asked_for_in_the_run_come_before_the_mappings(
    sandbox: SandboxHandle, tmp_path: Path, restore_logging: None
) -> None:
    monday = day_sheet("Mon 12-14", dt.date(2026, 12, 14), 101)
    tuesday = day_sheet("Tue 12-15", dt.date(2026, 12, 15), 201)
    wednesday = day_sheet("Wed 12-16", dt.date(2026, 12, 16), 301)
    path, mapping = initialised(tmp_path, "week.xlsx", [NOTES, monday, tuesday, wednesday])
    with_sheets(mapping, ["Mon 12-14", "Tue 12-15"])
    every = run_cli(path, mapping, tmp_path, sandbox, "--dry-run", "--all-sheets")
    assert every.exit_code == 0, every.output  # the Notes sheet passed over, not an error
    assert "plan (nothing sent): 15 create" in every.output
    with_sheets(mapping, "all")
    named = run_cli(path, mapping, tmp_path, sandbox, "--dry-run", "--sheet", "Wed 12-16")
    assert named.exit_code == 0, named.output
    assert "plan (nothing sent): 5 create" in named.output
    two = ["--sheet", "Mon 12-14", "--sheet", "Wed 12-16"]
    both = run_cli(path, mapping, tmp_path, sandbox, "--dry-run", *two)
    assert both.exit_code == 0, both.output
    assert sheets_in_report(tmp_path) == {"Mon 12-14", "Wed 12-16"}


def test_an_appointment_on_two_sheets_is_sent_once_or_not_at_all(
    sandbox: SandboxHandle, tmp_path: Path, restore_logging: None
) -> None:
    monday = day_sheet("Mon 12-14", dt.date(2026, 12, 14), 101)
    copied = day_sheet("Tue 12-15", dt.date(2026, 12, 15), 105)  # A105 is on both sheets
    path, mapping = initialised(tmp_path, "week.xlsx", [monday, copied])
    ran = run_cli(path, mapping, tmp_path, sandbox)
    assert ran.exit_code == 1
    assert "sheet 'Mon 12-14', row 9: 'A105'" not in ran.output
    assert "the appointment id is also on sheet 'Tue 12-15' row 4" in ran.output
    assert "A105" not in starts(sandbox)
    assert len(starts(sandbox)) == 8


def test_cancelling_missing_rows_counts_every_sheet_as_in_the_file(
    sandbox: SandboxHandle, tmp_path: Path, restore_logging: None
) -> None:
    path, mapping = initialised(tmp_path, "week.xlsx", WORKBOOK)
    assert run_cli(path, mapping, tmp_path, sandbox).exit_code == 0
    # Tuesday's A205 (row 9) leaves the file: only it is cancelled, not the other sheet's.
    tuesday = day_sheet("Tue 12-15", dt.date(2026, 12, 15), 201)
    rows = [list(row) for row in tuesday.rows]
    rows[8] = [None] * 6
    write_workbook(path, [NOTES, WORKBOOK[1], SheetSpec(tuesday.name, rows, tuesday.merges)])
    ran = run_cli(path, mapping, tmp_path, sandbox, "--cancel-missing")
    assert ran.exit_code == 0, ran.output
    assert "9 unchanged" in ran.output and "1 cancelled" in ran.output
    assert starts(sandbox) == {k: v for k, v in {**MONDAY, **TUESDAY}.items() if k != "A205"}


def monday_and_tuesday(column: int, written: str) -> tuple[SheetSpec, SheetSpec]:
    """Two day sheets, row 5 of Tuesday's with ``written`` in its ``column``-th cell (from 0)."""
    monday = day_sheet("Mon 12-14", dt.date(2026, 12, 14), 101)
    tuesday = day_sheet("Tue 12-15", dt.date(2026, 12, 15), 201)
    rows = [list(row) for row in tuesday.rows]
    rows[4][column] = written
    return monday, SheetSpec(tuesday.name, rows, tuesday.merges)


def test_validate_checks_every_sheet_and_names_the_sheet_of_each_mistake(
    tmp_path: Path, restore_logging: None
) -> None:
    monday, tuesday = monday_and_tuesday(2, "half past nine")  # row 5 of Tuesday: not a time
    path, mapping = initialised(tmp_path, "week.xlsx", [NOTES, monday, tuesday])
    report = tmp_path / "check.csv"
    checked = invoke_cli(["validate", str(path), "-m", str(mapping), "--report", str(report)])
    assert checked.exit_code == 1, checked.output
    assert "week.xlsx sheet 'Tue 12-15', row 5, column 'Time': 'half past nine'" in checked.output
    assert "9 valid, 1 invalid rows, 4 not appointments in week.xlsx" in checked.output
    lines = read_report(report)
    assert [(line["sheet"], line["row"]) for line in lines if line["status"] == "invalid"] == [
        ("Tue 12-15", "5")
    ]
    one = invoke_cli(["validate", str(path), "-m", str(mapping), "--sheet", "Mon 12-14"])
    assert one.exit_code == 0 and "5 valid, 0 invalid rows, 2 not appointments" in one.output


def test_a_warning_on_one_of_several_sheets_names_its_sheet(
    tmp_path: Path, restore_logging: None
) -> None:
    # Row numbers repeat from sheet to sheet: "row 5" alone would not say which day to check.
    # Row 5 of Tuesday: no cell phone; its home phone is sent instead.
    monday, tuesday = monday_and_tuesday(5, "555-01")
    path, mapping = initialised(tmp_path, "week.xlsx", [monday, tuesday])
    checked = invoke_cli(["validate", str(path), "-m", str(mapping)])
    assert checked.exit_code == 0, checked.output
    assert "week.xlsx sheet 'Tue 12-15', row 5, column 'Cell Phone': '555-01'" in checked.output
    assert "1 valid row has warnings to check" in checked.output


def test_the_first_day_sheet_is_read_when_none_is_named_though_a_later_one_is_longer(
    tmp_path: Path,
) -> None:
    longer = day_sheet("Tue 12-15", dt.date(2026, 12, 15), 201)
    rows = [*longer.rows[:10], *longer.rows[4:9], *longer.rows[10:]]  # Tuesday: 10 rows
    sheets = [NOTES, WORKBOOK[1], SheetSpec(longer.name, rows, longer.merges)]
    assert load_table(write_workbook(tmp_path / "week.xlsx", sheets)).sheet_name == "Mon 12-14"


def with_new_ids(day: SheetSpec) -> SheetSpec:
    """``day``'s sheet copied as "<name> (2)", its appointment ids typed anew (A1.. -> A2..)."""
    rows = [
        [f"A2{c[2:]}" if isinstance(c, str) and c.startswith("A1") else c for c in row]
        for row in day.rows
    ]
    return SheetSpec(f"{day.name} (2)", rows, day.merges)


def test_a_visit_repeated_on_a_later_sheet_under_new_ids_is_held_back_by_plan_and_run(
    sandbox: SandboxHandle, tmp_path: Path, restore_logging: None
) -> None:
    # Monday's sheet copied into a second sheet and the ids typed anew: the same patients, same
    # provider, same times. Two reminders per visit unless the second sheet's rows are held
    # back, and the plan (and the page's review) must say what the run then does.
    monday = day_sheet("Mon 12-14", dt.date(2026, 12, 14), 101)
    path, mapping = initialised(tmp_path, "week.xlsx", [monday, with_new_ids(monday)])

    planned = run_cli(path, mapping, tmp_path, sandbox, "--dry-run")
    assert planned.exit_code == 1, planned.output  # rows not sent: exit code 1
    plan_lines = read_report(tmp_path / "report.csv")
    ran = run_cli(path, mapping, tmp_path, sandbox)
    assert ran.exit_code == 1, ran.output
    run_lines = read_report(tmp_path / "report.csv")

    assert sorted(starts(sandbox)) == ["A101", "A102", "A103", "A104", "A105"]
    held = [line for line in run_lines if line["sheet"] == "Mon 12-14 (2)" and line["external_id"]]
    assert [line["status"] for line in held] == ["skipped"] * 5
    # The plan says of each row what the run did; the run names the event Monday sent, the
    # plan (nothing sent yet) the row of the other sheet.
    done = {"created": "create", "skipped": "skip"}
    assert [(p["sheet"], p["row"], p["status"]) for p in plan_lines] == [
        (r["sheet"], r["row"], done.get(r["status"], r["status"])) for r in run_lines
    ]
    plan_held = [p for p in plan_lines if p["sheet"] == "Mon 12-14 (2)" and p["external_id"]]
    assert "the same appointment as row 4 of the sheet 'Mon 12-14'" in plan_held[0]["message"]


def test_without_a_ledger_a_later_sheets_repeat_of_a_visit_sent_earlier_is_held_back(
    sandbox: SandboxHandle, tmp_path: Path, restore_logging: None
) -> None:
    # No ledger to find Monday's events in: the run remembers what Apptoto confirmed.
    monday = day_sheet("Mon 12-14", dt.date(2026, 12, 14), 101)
    path, mapping = initialised(tmp_path, "week.xlsx", [monday, with_new_ids(monday)])
    summary = run_sheets(
        RunRequest(
            source=path,
            mapping=load_mapping(mapping),
            client_config=fast_client_config(sandbox),
            all_sheets=True,
        )
    )
    assert sorted(starts(sandbox)) == ["A101", "A102", "A103", "A104", "A105"]
    assert summary.counts == {"created": 5, "skipped": 5, "not an appointment": 4}


@pytest.mark.parametrize("suffix", FORMATS)
def test_day_sheets_with_the_date_in_their_title_only_import_each_on_its_day(
    sandbox: SandboxHandle, tmp_path: Path, restore_logging: None, suffix: str
) -> None:
    """No Date column: each sheet's title says its day ("... - Monday, December 14, 2026"),
    and each sheet's rows are on that day, exactly."""
    path, mapping = initialised(tmp_path, f"week{suffix}", TITLED)
    written = yaml.safe_load(mapping.read_text(encoding="utf-8"))
    assert written["event"]["start"] == {"date": "{@title|date}", "time": "{Time}"}
    assert written["defaults"]["date_format"] == "%B %d, %Y"  # the day of the week checked
    assert "@title|date" not in written["columns"]  # no column of the sheet to check
    assert "start (medium): no column holds dates; sheet title" in mapping.read_text("utf-8")

    ran = run_cli(path, mapping, tmp_path, sandbox)
    assert ran.exit_code == 0, ran.output
    assert "done: 10 created, 4 not an appointment" in ran.output
    assert starts(sandbox) == {**MONDAY, **TUESDAY}
    assert "@title" not in read_report(tmp_path / "report.csv")[0]  # the sheet's own columns


def test_a_day_sheet_whose_title_lost_its_date_is_refused_with_the_title_named(
    sandbox: SandboxHandle, tmp_path: Path, restore_logging: None
) -> None:
    path, mapping = initialised(tmp_path, "week.xlsx", TITLED)
    monday, tuesday = TITLED[1], TITLED[2]
    wrong_day = [["Riverside Family Dental - Tuesday, December 14, 2026"], *monday.rows[1:]]
    no_day = [["Riverside Family Dental"], *tuesday.rows[1:]]
    write_workbook(
        path,
        [NOTES, SheetSpec(monday.name, wrong_day), SheetSpec(tuesday.name, no_day)],
    )
    ran = run_cli(path, mapping, tmp_path, sandbox)
    assert ran.exit_code != 0
    assert live_events(sandbox) == {}  # no row sent on a day that is not its own
    assert (
        "row 4, column 'Sheet title': 'Tuesday, December 14, 2026' says Tuesday, but 14 "
        "December 2026 is a Monday" in ran.output
    )
    assert "row 4, column 'Sheet title': 'Riverside Family Dental' has no date in it" in ran.output


def test_next_week_s_workbook_names_its_day_sheets_anew_and_sheets_all_reads_them(
    sandbox: SandboxHandle, tmp_path: Path, restore_logging: None
) -> None:
    _, mapping = initialised(tmp_path, "week.xlsx", TITLED)
    assert yaml.safe_load(mapping.read_text(encoding="utf-8"))["sheets"] == "all"
    with_sheets(mapping, ["Mon 12-14", "Tue 12-15"])  # as init wrote it before, or by hand
    next_week = write_workbook(
        tmp_path / "next.xlsx",
        [
            NOTES,
            day_sheet("Mon 12-21", dt.date(2026, 12, 21), 301, dated=False),
            day_sheet("Tue 12-22", dt.date(2026, 12, 22), 401, dated=False),
        ],
    )
    refused = invoke_cli(["validate", str(next_week), "-m", str(mapping)])
    assert refused.exit_code != 0
    assert "this workbook has no 'Mon 12-14' and no 'Tue 12-15'" in refused.output
    assert "write sheets: all in the mapping" in refused.output
    with_sheets(mapping, "all")
    ran = run_cli(next_week, mapping, tmp_path, sandbox)
    assert ran.exit_code == 0, ran.output
    assert set(starts(sandbox).values()) == {
        start.replace("12-14", "12-21") for start in MONDAY.values()
    } | {start.replace("12-14", "12-22") for start in MONDAY.values()}


# A day kept in provider blocks: each provider's name on a row of its own above their patients,
# and the visits called off moved under a CANCELLED heading at the bottom.
BLOCKS = [
    SheetSpec(
        "Mon 12-14",
        [
            ["Date", "Time", "Patient", "Cell Phone", "Reason"],
            ["Dr. Rivera"],
            [dt.date(2026, 12, 14), dt.time(9, 0), "Gail Abernathy", cell_phone(1), "Cleaning"],
            [dt.date(2026, 12, 14), dt.time(9, 30), "Tom Baker", cell_phone(2), "Filling"],
            ["Dr. Chen"],
            [dt.date(2026, 12, 14), dt.time(9, 0), "Ann Lee", cell_phone(3), "Exam"],
            [dt.date(2026, 12, 14), dt.time(10, 0), "Bo Diaz", cell_phone(4), "Exam"],
            ["CANCELLED"],
            [dt.date(2026, 12, 14), dt.time(11, 0), "Cy Evans", cell_phone(5), "Exam"],
        ],
    )
]


def test_provider_blocks_go_to_their_provider_s_calendar_and_cancelled_ones_are_not_sent(
    sandbox: SandboxHandle, tmp_path: Path, restore_logging: None
) -> None:
    path, mapping = initialised(tmp_path, "blocks.xlsx", BLOCKS)
    written = yaml.safe_load(mapping.read_text(encoding="utf-8"))
    assert written["event"]["calendar"] == "{@heading}"
    assert "headings naming providers ('Dr. Chen', 'Dr. Rivera')" in " ".join(
        mapping.read_text("utf-8").replace("#", " ").split()
    )

    ran = run_cli(path, mapping, tmp_path, sandbox)
    assert ran.exit_code == 0, ran.output
    calendars = {
        e["participants"][0]["name"]: e["calendar_name"] for e in live_events(sandbox).values()
    }
    assert calendars == {
        "Gail Abernathy": "Dr. Rivera",
        "Tom Baker": "Dr. Rivera",
        "Ann Lee": "Dr. Chen",
        "Bo Diaz": "Dr. Chen",
    }
    (cy,) = [line for line in read_report(tmp_path / "report.csv") if line["Patient"] == "Cy Evans"]
    assert cy["status"] == "not an appointment"
    assert cy["message"] == (
        "not an appointment: below the heading 'CANCELLED', so no reminder is sent"
    )


def test_a_note_in_a_later_file_of_provider_blocks_is_no_calendar(tmp_path: Path) -> None:
    """A mapping made from a sheet in provider blocks lists their calendars: a note written
    into a later day's sheet was the calendar of the rows below it (a calendar of that name
    created in Apptoto, with no reminders set up); those rows are now invalid, saying why."""
    path, mapping = initialised(tmp_path, "blocks.xlsx", BLOCKS)
    written = yaml.safe_load(mapping.read_text(encoding="utf-8"))
    assert written["calendars"] == ["Dr. Chen", "Dr. Rivera"]
    rows = [list(r) for r in BLOCKS[0].rows]
    rows.insert(6, ["Mrs. Lee will be 10 minutes late"])
    later = write_workbook(tmp_path / "later.xlsx", [SheetSpec("Mon 12-14", rows)])
    prepared = prepare(later, load_mapping(mapping))
    [issue] = prepared.issues[8]  # Bo Diaz, below the note
    assert (issue.value, issue.reason) == (
        "Mrs. Lee will be 10 minutes late",
        "is not one of the calendars this mapping allows (Dr. Chen, Dr. Rivera): sending it "
        "would create a new calendar in Apptoto",
    )
    assert {p["calendar"] for p in prepared.events.payloads.values() if p} <= {
        "Dr. Chen",
        "Dr. Rivera",
    }


def test_a_note_between_the_rows_is_no_provider_and_calls_nothing_off(tmp_path: Path) -> None:
    """A one-cell row may be a note: the rows below it are sent, and the assistant does not
    take the rows' headings for their calendars when one of them names no provider."""
    rows = [list(r) for r in BLOCKS[0].rows]
    rows.insert(6, ["Mrs. Lee cancelled her 2nd visit, call back"])
    path, mapping = initialised(tmp_path, "blocks.xlsx", [SheetSpec("Mon 12-14", rows)])
    written = yaml.safe_load(mapping.read_text(encoding="utf-8"))
    assert written["event"]["calendar"] == "week"  # the mapping's name, as without headings
    prepared = prepare(path, load_mapping(mapping))
    assert sorted(prepared.set_aside) == [2, 5, 7, 9, 10]  # 4 headings, Cy Evans under CANCELLED
    assert 8 in prepared.events.payloads  # Bo Diaz, below the note


# A week kept on one sheet: each day's date on a row of its own above that day's rows.
WEEK_ON_ONE_SHEET = [
    SheetSpec(
        "Week 51",
        [
            ["Riverside Family Dental - Week of December 14, 2026"],  # a week: no one day
            [],
            ["Appt ID", "Time", "Provider", "Patient", "Cell Phone"],
            ["Monday, December 14, 2026"],
            ["A101", dt.time(8, 30), "Dr. Rivera", "Gail Abernathy", cell_phone(101)],
            ["A102", dt.time(9, 0), "Dr. Rivera", "Tom Baker", cell_phone(102)],
            ["Tuesday, December 15, 2026"],
            ["A201", dt.time(8, 30), "Dr. Rivera", "Ann Lee", cell_phone(201)],
            ["CANCELLED"],
            ["A202", dt.time(9, 0), "Dr. Chen", "Bo Diaz", cell_phone(202)],
        ],
    )
]


def test_a_week_on_one_sheet_puts_each_row_on_the_day_written_above_it(
    sandbox: SandboxHandle, tmp_path: Path, restore_logging: None
) -> None:
    path, mapping = initialised(tmp_path, "week.xlsx", WEEK_ON_ONE_SHEET)
    written = yaml.safe_load(mapping.read_text(encoding="utf-8"))
    assert written["event"]["start"] == {"date": "{@heading|date}", "time": "{Time}"}
    ran = run_cli(path, mapping, tmp_path, sandbox)
    assert ran.exit_code == 0, ran.output
    assert starts(sandbox) == {
        "A101": MONDAY["A101"],
        "A102": MONDAY["A102"],
        "A201": TUESDAY["A201"],
    }  # A202 is under CANCELLED: not sent

    # A day heading retyped without its year: those rows are refused, the heading named.
    rows = [list(r) for r in WEEK_ON_ONE_SHEET[0].rows]
    rows[6] = ["Tuesday 15th December"]
    write_workbook(path, [SheetSpec("Week 51", rows)])
    again = run_cli(path, mapping, tmp_path, sandbox)
    assert again.exit_code != 0
    assert (
        "row 8, column 'Heading above': 'Tuesday 15th December' has a date without its year"
        in again.output
    )


def test_rows_a_filter_hides_are_read_and_sent_each_with_a_warning(
    sandbox: SandboxHandle, tmp_path: Path, restore_logging: None
) -> None:
    # Staff filter a list to look at one doctor and save it so: the rows filtered out are still
    # in the file. They are read like the rest (a filter is no cancellation), each saying so.
    import openpyxl

    from tests.helpers import CLINIC_MAPPING, SAMPLES

    book = openpyxl.load_workbook(SAMPLES / "appointments.xlsx")
    sheet = book["Appointments"]
    sheet.auto_filter.ref = sheet.dimensions
    for row in (3, 5):
        sheet.row_dimensions[row].hidden = True
    path = tmp_path / "filtered.xlsx"
    book.save(path)
    report = tmp_path / "report.csv"
    args = [str(path), "-m", str(CLINIC_MAPPING), "--report", str(report)]
    ran = invoke_cli(["run", *args, "--state", str(tmp_path / "state.sqlite")], env_for(sandbox))
    hidden = "is hidden in Excel (by a filter or by hand) and is read like the rows shown"
    assert f"warning: filtered.xlsx row 3: {hidden}" in ran.output, ran.output
    assert f"warning: filtered.xlsx row 5: {hidden}" in ran.output
    assert "14 created, 8 invalid" in ran.output
    lines = {line["row"]: line for line in read_report(report)}
    assert lines["3"]["status"] == "created" and hidden in lines["3"]["warnings"]
    assert not any(hidden in lines[row]["warnings"] for row in lines if row not in ("3", "5"))


def _crossed_out_sample(path: Path, *, whole: int, partly: int) -> Path:
    """The sample workbook with row ``whole`` struck through (every cell) and one cell of row
    ``partly``, as staff cross out a visit called off."""
    import openpyxl
    from openpyxl.styles import Font

    from tests.helpers import SAMPLES

    book = openpyxl.load_workbook(SAMPLES / "appointments.xlsx")
    sheet = book["Appointments"]
    for cell in sheet[whole]:
        cell.font = Font(strike=True)
    sheet.cell(row=partly, column=7).font = Font(strike=True)
    book.save(path)
    return path


def test_a_row_crossed_out_in_excel_is_no_appointment_and_a_cell_crossed_out_is_said(
    tmp_path: Path,
) -> None:
    path = _crossed_out_sample(tmp_path / "crossed.xlsx", whole=4, partly=6)
    loaded = load_table(path)
    assert loaded.set_aside == {
        4: "not an appointment: crossed out in Excel (its text struck through), as visits "
        "called off are"
    }
    assert (
        "row 6 has cells struck through in Excel, not the whole row: read as written; check "
        "what the crossing out meant"
    ) in loaded.warnings
    assert 6 in loaded.appointments.index


def test_a_row_crossed_out_after_it_was_sent_says_its_event_is_still_there(
    sandbox: SandboxHandle, tmp_path: Path, restore_logging: None
) -> None:
    # Sent while booked, then crossed out: the run sends nothing for it, and says its event
    # (and its reminders) are still in Apptoto, where before it said nothing at all.
    import shutil

    from tests.helpers import CLINIC_MAPPING, SAMPLES

    path = tmp_path / "day.xlsx"
    shutil.copy(SAMPLES / "appointments.xlsx", path)
    args = [str(path), "-m", str(CLINIC_MAPPING), "--state", str(tmp_path / "state.sqlite")]
    assert "14 created" in invoke_cli(["run", *args], env_for(sandbox)).output
    _crossed_out_sample(path, whole=4, partly=6)
    ran = invoke_cli(["run", *args], env_for(sandbox))
    assert "13 unchanged, 8 invalid, 1 not an appointment" in ran.output, ran.output
    assert "warning: day.xlsx: row 4 is crossed out in Excel" in ran.output  # the sheet's words
    event = live_events(sandbox)["clinic-000103"]["id"]
    assert (
        "warning: day.xlsx row 4: is not sent now (crossed out in Excel (its text struck "
        f"through), as visits called off are), but the event sent for it while it was booked "
        f"(Apptoto event {event}) is still there"
    ) in ran.output


def test_tables_side_by_side_are_said_in_one_warning(tmp_path: Path) -> None:
    # Two doctors' days side by side on one sheet: the mapping reads one set of columns, so
    # the other table's patients would get no reminder; the load says so plainly, once.
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Time", "Patient", "Phone", None, "Time", "Patient", "Phone"])
    sheet.append(["09:00", "Ann Lee", "541-555-0104", None, "09:00", "Cy Dunn", "541-555-0106"])
    path = tmp_path / "side.xlsx"
    book.save(path)
    [warning] = load_table(path).warnings
    assert warning.startswith(
        "the column names 'Time', 'Patient', 'Phone' appear more than once on the header row: "
        "the sheet looks like tables side by side. The later ones are read as Time (2), "
        "Patient (2), Phone (2)"
    )
    assert warning.endswith("or its appointments get no reminder")
