"""Rows a practice system marks as cancelled (a Status column): never sent, and with
``--cancel-missing`` the events sent for them earlier are deleted, as for rows no longer in the
file. Run against the sandbox."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from importer.errors import MappingError
from importer.mapping import CancelledRows, parse_mapping
from importer.pipeline import RunRequest, run_import, validate_file
from importer.plan import PlanOptions
from importer.prepare import prepare
from tests.helpers import fast_client_config, live_events, read_report, run_in_process, write_csv

HEADER = ["Appt ID", "Date", "Time", "Provider", "Patient", "Mobile", "Status"]
ROWS = [
    ["501", "12/14/2026", "9:30 AM", "Dr Ray", "Ann Lee", "541-555-0107", "Confirmed"],
    ["502", "12/14/2026", "10:30 AM", "Dr Ray", "Bo Chen", "541-555-0108", "Scheduled"],
    ["503", "12/15/2026", "2:30 PM", "Dr Ray", "Cy Diaz", "541-555-0109", " CANCELLED "],
    ["504", "12/15/2026", "3:30 PM", "Dr Ray", "Di Park", "541-555-0110", "No show"],
]
SPEC: dict[str, Any] = {
    "name": "Practice export",
    "defaults": {
        "time_zone": "America/Chicago",
        "date_format": "%m/%d/%Y",
        "time_format": "%I:%M %p",
    },
    "cancelled": {"column": "Status", "values": ["Cancelled", "No show"]},
    "event": {
        "calendar": "{Provider}",
        "external_id": "appt-{Appt ID}",
        "title": "Visit",
        "start": {"date": "{Date}", "time": "{Time}"},
        "duration_minutes": "30",
        "participants": [{"name": "{Patient}", "phone": "{Mobile}"}],
    },
}
MAPPING = parse_mapping(SPEC)


def export(path: Path, rows: list[list[str]]) -> Path:
    return write_csv(path, HEADER, [dict(zip(HEADER, row, strict=True)) for row in rows])


def run(sandbox: Any, source: Path, tmp_path: Path, **options: Any) -> list[dict[str, str]]:
    return run_in_process(sandbox, source, MAPPING, tmp_path, **options)[1]


def test_rows_marked_cancelled_are_never_sent_and_say_why(sandbox: Any, tmp_path: Path) -> None:
    lines = {
        line["Appt ID"]: line for line in run(sandbox, export(tmp_path / "day.csv", ROWS), tmp_path)
    }
    assert sorted(live_events(sandbox)) == ["appt-501", "appt-502"]
    assert [lines[i]["status"] for i in ("501", "502", "503", "504")] == [
        "created",
        "created",
        "not an appointment",
        "not an appointment",
    ]
    assert lines["503"]["message"] == (
        "not an appointment: marked 'CANCELLED' in 'Status', so no reminder is sent"
    )
    assert "marked 'No show' in 'Status'" in lines["504"]["message"]


def test_a_visit_cancelled_after_it_was_sent_is_deleted_with_cancel_missing(
    sandbox: Any, tmp_path: Path
) -> None:
    first = [row[:-1] + ["Scheduled"] for row in ROWS]
    run(sandbox, export(tmp_path / "monday.csv", first), tmp_path)
    assert len(live_events(sandbox)) == 4
    # The next export: two visits cancelled in the practice system.
    lines = run(
        sandbox,
        export(tmp_path / "tuesday.csv", ROWS),
        tmp_path,
        plan_options=PlanOptions(cancel_missing=True, force=True),
    )
    assert sorted(live_events(sandbox)) == ["appt-501", "appt-502"]
    cancelled = [line for line in lines if line["status"] == "cancelled"]
    assert sorted(line["external_id"] for line in cancelled) == ["appt-503", "appt-504"]


def test_validate_counts_them_as_not_appointments(tmp_path: Path) -> None:
    done = validate_file(RunRequest(export(tmp_path / "day.csv", ROWS), MAPPING)).done
    assert done.counts == {"skipped": 2, "not an appointment": 2}


def test_the_status_column_must_be_in_the_sheet(tmp_path: Path) -> None:
    source = export(tmp_path / "day.csv", ROWS)
    mapping = parse_mapping({**SPEC, "cancelled": {"column": "State", "values": ["Cancelled"]}})
    with pytest.raises(MappingError) as raised:
        prepare(source, mapping)
    assert "no column 'State'" in str(raised.value.problems)


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        ("Status", "cancelled: expected a column and its values"),
        ({"column": "Status"}, "cancelled.values: expected a list"),
        ({"column": "", "values": ["Cancelled"]}, "cancelled.column: expected the name"),
        ({"column": "Status", "values": ["Cancelled"], "value": "x"}, "unknown key 'value'"),
    ],
)
def test_a_wrong_cancelled_section_is_named(written: Any, problem: str) -> None:
    with pytest.raises(MappingError) as raised:
        parse_mapping({**SPEC, "cancelled": written})
    assert any(problem in p for p in raised.value.problems or [])


def test_the_values_are_kept_as_written() -> None:
    assert MAPPING.cancelled == CancelledRows("Status", ("Cancelled", "No show"))


@pytest.mark.parametrize("part_rows", [None, 1])
def test_a_visit_cancelled_after_it_was_sent_is_a_warning_until_its_event_is_deleted(
    sandbox: Any, tmp_path: Path, part_rows: int | None
) -> None:
    first = [row[:-1] + ["Scheduled"] for row in ROWS]
    run(sandbox, export(tmp_path / "monday.csv", first), tmp_path, part_rows=part_rows)
    tuesday = export(tmp_path / "tuesday.csv", ROWS)
    lines = {line["Appt ID"]: line for line in run(sandbox, tuesday, tmp_path, part_rows=part_rows)}
    assert len(live_events(sandbox)) == 4  # nothing deleted without being asked
    for appt in ("503", "504"):
        assert lines[appt]["status"] == "not an appointment"
        assert "(Apptoto event " in lines[appt]["warnings"]
        assert "is still there, and its reminders will go out" in lines[appt]["warnings"]
        assert lines[appt]["external_id"] == f"appt-{appt}"
    assert lines["501"]["warnings"] == ""
    # With the cancelling asked for, in parts or not: deleted, and no warning.
    options = PlanOptions(cancel_missing=True, force=True)
    again = run(sandbox, tuesday, tmp_path, part_rows=part_rows, plan_options=options)
    assert sorted(live_events(sandbox)) == ["appt-501", "appt-502"]
    assert not any(line["warnings"] for line in again)


def test_a_run_stopped_early_still_reports_later_cancelled_rows_as_such(
    sandbox: Any, tmp_path: Path
) -> None:
    # Enough rows that the last ones are read in a later part than the first (which holds
    # every row the header may be on).
    booked = [[str(600 + n), *ROWS[0][1:]] for n in range(60)]
    source = export(tmp_path / "day.csv", [*booked, *ROWS])
    report = tmp_path / "report.csv"
    config = replace(fast_client_config(sandbox, batch_size=1), api_key="wrong")  # run stops
    summary = run_import(
        RunRequest(source, MAPPING, client_config=config, report_path=report, part_rows=1)
    )
    assert summary.error and sandbox.events() == []
    lines = {line["Appt ID"]: line for line in read_report(report)}
    assert lines["504"]["status"] == "not an appointment"
    assert "marked 'No show' in 'Status'" in lines["504"]["message"]


@pytest.mark.parametrize(
    ("status", "held"),
    [
        ("Canceled by patient", True),  # next week's export words it another way
        ("Pt cancelled", True),
        ("No-show", False),  # "No show", written with a hyphen: set aside as listed
        ("Pt no-show", True),
        ("DNA", True),
        ("Rescheduled", True),
        ("Cancellation list", False),  # booked, waiting for an earlier slot: sent
        ("Broken", True),  # a dental system's broken appointment
        ("Missed appt", True),
        ("Missed call", False),  # the reminder call went unanswered: the visit is booked
        ("Confirmed", False),
        ("CANCELLED", False),  # listed: set aside as before
    ],
)
def test_a_cancellation_worded_another_way_is_not_sent(
    tmp_path: Path, status: str, held: bool
) -> None:
    rows = [ROWS[0], [*ROWS[1][:-1], status]]
    prepared = prepare(export(tmp_path / "next-week.csv", rows), MAPPING)
    issues = prepared.issues.get(3, [])
    assert bool(issues) == held
    if held:
        (issue,) = issues
        assert (issue.column, issue.value) == ("Status", status)
        assert issue.reason.startswith(
            "reads as a visit called off, but the mapping marks only 'Cancelled', 'No show' as "
            f"cancelled: if it is off, add {status!r} to the mapping's cancelled values"
        )
    assert 2 not in prepared.issues


def test_a_listed_value_with_a_hyphen_or_two_spaces_is_that_value(tmp_path: Path) -> None:
    rows = [ROWS[0], [*ROWS[1][:-1], "No-show"], [*ROWS[2][:-1], " no   show "]]
    prepared = prepare(export(tmp_path / "day.csv", rows), MAPPING)
    assert sorted(prepared.set_aside) == [3, 4] and prepared.issues == {}
