"""Warnings end to end: rows sent all the same, each warning in the CLI output and the report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from importer.cli.console import MAX_ISSUES_PRINTED, print_issues
from importer.outcomes import RowIssue, RowResult, RowStatus
from tests.clinic_rows import HEADER, appointment
from tests.helpers import CLINIC_MAPPING, env_for, invoke_cli, live_events, read_report, write_csv


def test_rows_with_warnings_are_created_and_the_warnings_reach_output_and_report(
    sandbox: Any, tmp_path: Path
) -> None:
    bad_email = {**appointment(1), "Email": "pat1@example"}  # good phone: sent by phone
    bad_phone = {**appointment(2), "Phone": "555-12", "Email": "pat2@example.com"}
    past = {**appointment(3), "Date": "03/02/2021"}
    # Pat4 booked with two providers at the same moment.
    twin = {**appointment(4), "Appointment ID": "000044", "Provider": "Dr. Other"}
    sheet = write_csv(
        tmp_path / "week.csv", HEADER, [bad_email, bad_phone, past, appointment(4), twin]
    )
    report = tmp_path / "report.csv"
    args = ["run", str(sheet), "-m", str(CLINIC_MAPPING), "--report", str(report)]
    result = invoke_cli([*args, "--state", str(tmp_path / "state.sqlite")], env_for(sandbox))

    assert result.exit_code == 0, result.output  # warnings never fail a run
    assert "done: 5 created in" in result.output
    assert "5 rows have warnings to check" in result.output
    assert (
        "warning: week.csv row 2, column 'Email': 'pat1@example' is not an email address: check "
        "it for a typo (one looks like name@example.com): this email is left out and the "
        "reminder goes to the phone only (created)" in result.output
    )
    stored = live_events(sandbox)
    by_phone, by_email = (stored[f"clinic-00000{n}"]["participants"][0] for n in (1, 2))
    assert (by_phone["phone"], by_phone["email"]) == ("+15415550101", None)
    assert (by_email["phone"], by_email["email"]) == (None, "pat2@example.com")
    assert stored["clinic-000003"]["start_time"] == "2021-03-02T11:00:00-08:00"

    lines = read_report(report)
    assert [line["status"] for line in lines] == ["created"] * 5
    warned = [line["warnings"] for line in lines]
    assert "left out" in warned[0] and "left out" in warned[1]
    assert "row 4, column 'Date': '03/02/2021' this appointment is in the past" in warned[2]
    assert "on rows 5 and 6" in warned[3] and "on rows 5 and 6" in warned[4]


def test_validate_lists_the_warnings_of_valid_rows(tmp_path: Path) -> None:
    past = {**appointment(3), "Date": "03/02/2021"}
    sheet = write_csv(tmp_path / "week.csv", HEADER, [past, appointment(5)])
    result = invoke_cli(["validate", str(sheet), "-m", str(CLINIC_MAPPING)])
    assert result.exit_code == 0, result.output
    assert (
        "warning: week.csv row 2, column 'Date': '03/02/2021' this appointment is in the past"
        in result.output
    )
    assert "2 valid, 0 invalid rows in week.csv; 1 valid row has warnings to check" in (
        result.output
    )


def past(row: int) -> RowIssue:
    return RowIssue(row, "Date", "12/07/2026", "this appointment is in the past")


def test_the_warnings_and_invalid_rows_left_out_of_memory_are_counted_in_the_last_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A file in parts keeps the first rows with warnings (importer.parts_done.WARNED_KEPT): the
    # line after the warnings printed counts the others too.
    kept = [
        RowResult(row, RowStatus.SKIPPED, f"x-{row}", None, "valid", warnings=(past(row),))
        for row in range(2, MAX_ISSUES_PRINTED + 12)
    ]
    print_issues(kept, Path("export.csv"), report=False, more_warnings=5_000)
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == MAX_ISSUES_PRINTED + 1
    assert printed[-1] == "... and 5010 more warnings: --report FILE lists every row"
    print_issues(kept[:3], Path("export.csv"), more_warnings=0)
    assert "more warnings" not in capsys.readouterr().out
    wrong = RowResult(2, RowStatus.INVALID, "x-2", None, "row 2, column 'Date': '31/12/2026'")
    print_issues([wrong], Path("export.csv"), more_invalid=999)
    printed = capsys.readouterr().out.splitlines()
    assert printed[-1] == "... and 999 more invalid rows: see the report"
