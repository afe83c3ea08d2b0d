"""Appointment ids the assistant proposes: never a number that repeats for one person, a
composite of (person number, date, start) when the sheet has no appointment id, and a row
exported twice counted once."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from importer.assist import propose_mapping
from importer.load import load_table
from importer.outcomes import PlanAction, SkipReason
from importer.plan import PlanOptions, make_plan
from importer.prepare import prepare
from tests.helpers import write_csv

LA = "America/Los_Angeles"
HEADER = ["Chart #", "Date", "Start", "End", "Provider", "Patient Name", "Phone"]
# Rows 2 and 4: two visits of chart 1001; row 5: another patient.
VISITS = [
    ["1001", "12/14/2026", "8:30 AM", "9:00 AM", "Dr. Rivera", "Maria Gómez", "(541) 555-0104"],
    ["1002", "12/14/2026", "9:00 AM", "9:20 AM", "Dr. Rivera", "James O'Connor", "541.555.0123"],
    ["1001", "12/21/2026", "8:30 AM", "9:00 AM", "Dr. Rivera", "Maria Gómez", "(541) 555-0104"],
    ["1003", "12/14/2026", "10:00 AM", "10:30 AM", "Dr. Chen", "Ana Silva", "(541) 555-0150"],
]


def sheet(tmp_path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    lines = [dict(zip(header, row, strict=True)) for row in rows]
    return write_csv(tmp_path / "visits.csv", header, lines)


def id_choice(path: Path) -> str:
    proposal = propose_mapping(load_table(path).frame, name="visits", time_zone=LA)
    value = next(c.value for c in proposal.event if c.key == "external_id")
    assert isinstance(value, str)
    return value


def test_a_patient_number_is_not_an_appointment_id_but_part_of_one(tmp_path: Path) -> None:
    path = sheet(tmp_path, VISITS)
    proposal = propose_mapping(load_table(path).frame, name="visits", time_zone=LA)

    assert "external_id" not in proposal.columns_by_field()
    assert proposal.id_source == "chart-no-date-start"
    [choice] = [c for c in proposal.event if c.key == "external_id"]
    assert choice.value == "chart-no-date-start-{Chart #}-{Date}-{Start}"
    assert "'Chart #' repeats for each visit of a person" in choice.reason
    assert "a rescheduled appointment" in choice.reason and "NEW event" in choice.reason
    assert 'source: "chart-no-date-start"' in proposal.to_yaml()
    prepared = prepare(path, proposal.to_mapping())
    assert prepared.issues == {}  # both visits of chart 1001 are sent
    assert prepared.events.external_ids[2] == "chart-no-date-start-1001-12/14/2026-8:30 AM"
    assert prepared.events.external_ids[4] == "chart-no-date-start-1001-12/21/2026-8:30 AM"


@pytest.mark.parametrize(
    "header", ["Patient ID", "Client Number", "MRN", "NHS No", "NHS Number", "CHI", "Hosp No"]
)
def test_a_header_naming_a_person_is_never_the_appointment_id(header: str, tmp_path: Path) -> None:
    unique = [[f"{n}", *row[1:]] for n, row in enumerate(VISITS, start=7001)]
    path = sheet(tmp_path, unique, [header, *HEADER[1:]])
    assert id_choice(path).endswith(f"{{{header}}}-{{Date}}-{{Start}}")


def test_an_appointment_id_with_a_row_exported_twice_is_still_the_id(tmp_path: Path) -> None:
    header = ["Appointment ID", *HEADER[1:]]
    rows = [[f"A{n}", *row[1:]] for n, row in enumerate(VISITS, start=1)]
    path = sheet(tmp_path, [*rows, rows[1]], header)  # row 6 repeats row 3 in every cell
    proposal = propose_mapping(load_table(path).frame, name="visits", time_zone=LA)

    assert proposal.columns_by_field()["external_id"] == "Appointment ID"
    assert proposal.id_source == "appointment-id"
    prepared = prepare(path, proposal.to_mapping())
    plan = make_plan(prepared, None, PlanOptions())

    actions = {r.row: (r.action, r.reason, r.message) for r in plan.rows}
    assert [actions[row][0] for row in (2, 3, 4, 5)] == [PlanAction.CREATE] * 4
    assert actions[6] == (
        PlanAction.SKIP,
        SkipReason.SAME_AS_ROW,
        "same as row 3 (identical in every cell): one appointment, sent once",
    )


def test_two_different_rows_with_one_id_stay_invalid(tmp_path: Path) -> None:
    header = ["Appointment ID", *HEADER[1:]]
    rows = [[f"A{n}", *row[1:]] for n, row in enumerate(VISITS, start=1)]
    clash = ["A2", *VISITS[1][1:4], "Dr. Chen", *VISITS[1][5:]]  # A2 again, another provider
    path = sheet(tmp_path, [*rows, rows[1], clash], header)
    proposal = propose_mapping(load_table(path).frame, name="visits", time_zone=LA)
    prepared = prepare(path, proposal.to_mapping())

    assert prepared.copies == {6: 3}
    assert sorted(prepared.issues) == [3, 7]  # the two rows that differ; not the copy
    plan = make_plan(prepared, None, PlanOptions())
    assert [r.action for r in plan.rows if r.row in (3, 6, 7)] == [
        PlanAction.INVALID,
        PlanAction.SKIP,
        PlanAction.INVALID,
    ]


def test_repeats_of_different_people_under_an_id_header_keep_it_as_the_id() -> None:
    """A typing slip in a real appointment id column: the id stays, its two rows are refused."""
    rows = [
        [f"A{n}", f"12/{n:02d}/2026", "9:00 AM", "9:30 AM", "Dr. Chen", f"Pat {n}", ""]
        for n in range(1, 31)
    ]
    rows[1][0] = "A1"  # rows 2 and 3: two people under one id
    frame = pd.DataFrame(rows, columns=["Appointment ID", *HEADER[1:]], dtype="str")
    frame.index = pd.RangeIndex(2, len(rows) + 2)
    proposal = propose_mapping(frame, name="visits", time_zone=LA)
    pick = proposal.picks["external_id"]
    assert pick.column == "Appointment ID"
    assert "'A1' is in rows 2, 3" in pick.reason
