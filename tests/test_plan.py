"""Plans: ``plan`` and ``run --dry-run`` say what a run would do, and send nothing.

The end-to-end tests check the sandbox's request log stays empty; the unit tests check
``make_plan`` on the sample with a real ledger in a temporary folder.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from importer import plan as plan_module
from importer.appointments import restore_lost_zeros
from importer.errors import PlanRefused
from importer.ledger import Ledger, LedgerEntry, changed_fields, field_hashes, payload_hash
from importer.ledger.lost_zeros import TryBudget, zeros_put_back
from importer.mapping import load_mapping, parse_template
from importer.outcomes import PlanAction
from importer.plan import (
    NO_RECORD_MESSAGE,
    PlanOptions,
    make_plan,
)
from importer.prepare import Prepared, prepare
from importer.sandbox.server import SandboxHandle
from tests.helpers import CLINIC_MAPPING, SAMPLES, env_for, read_csv, read_report, write_csv
from tests.helpers import invoke_cli as invoke

MAPPING = CLINIC_MAPPING
SAMPLE = SAMPLES / "appointments.csv"
NO_CREDENTIALS = {"APPTOTO_USER": "", "APPTOTO_API_KEY": "", "APPTOTO_BASE_URL": ""}


def edited_sample(tmp_path: Path) -> Path:
    """The sample with 000102 moved and relocated, 000109's phone changed, 000111 gone, and
    000130: a second visit of 000101's patient."""
    header, rows = read_csv(SAMPLE)
    by_id = {r["Appointment ID"]: r for r in rows}
    by_id["000102"].update({"Start": "9:05 AM", "Location": "Annex"})
    by_id["000109"]["Phone"] = "+39 06 6982 0001"
    rows.remove(by_id["000111"])
    rows.append(
        {**by_id["000101"], "Appointment ID": "000130", "Start": "11:00 AM", "End": "11:30 AM"}
    )
    return write_csv(tmp_path / "edited.csv", header, rows, encoding="utf-8-sig")


def test_plan_and_dry_run_write_the_same_report_and_send_nothing(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    state = ["--state", str(tmp_path / "state.sqlite"), "--quiet"]
    first = invoke(
        ["run", str(SAMPLE), "-m", str(MAPPING), "--report", str(tmp_path / "run.csv"), *state],
        env_for(sandbox),
    )
    assert "14 created" in first.output, first.output
    logged = sandbox.requests()
    edited = edited_sample(tmp_path)

    plan = invoke(
        ["plan", str(edited), "-m", str(MAPPING), "--cancel-missing"]
        + ["--report", str(tmp_path / "plan.csv"), *state],
        NO_CREDENTIALS,  # a plan needs no credentials
    )
    dry = invoke(
        ["run", str(edited), "-m", str(MAPPING), "--cancel-missing", "--dry-run"]
        + ["--report", str(tmp_path / "dry.csv"), *state],
        env_for(sandbox),
    )

    assert plan.exit_code == dry.exit_code == 1  # invalid rows
    line = "1 create, 2 update, 11 unchanged, 8 invalid, 1 cancel"
    assert f"plan (nothing sent): {line}" in plan.output, plan.output
    assert f"plan (nothing sent): {line}" in dry.output, dry.output
    assert sandbox.requests() == logged
    planned = read_report(tmp_path / "plan.csv")
    assert planned == read_report(tmp_path / "dry.csv")
    by_external_id = {r["external_id"]: r for r in planned}
    assert by_external_id["clinic-000102"]["status"] == "update"
    assert by_external_id["clinic-000102"]["message"] == "changes: start, location"
    assert by_external_id["clinic-000109"]["message"] == "changes: patient details"
    assert by_external_id["clinic-000130"]["status"] == "create"
    assert (by_external_id["clinic-000111"]["status"], by_external_id["clinic-000111"]["row"]) == (
        "cancel",
        "",
    )
    assert by_external_id["clinic-000101"]["status"] == "unchanged"
    assert sum(r["status"] == "invalid" for r in planned) == 8
    stored = {e["external_id"]: e for e in sandbox.events()}
    assert by_external_id["clinic-000102"]["apptoto_id"] == str(stored["clinic-000102"]["id"])

    # The plan was only a plan: the ledger still sees the same changes. A plan only reads, so it
    # works while a run holds the ledger; a run waits its turn.
    with Ledger.open(tmp_path / "state.sqlite"):
        again = invoke(
            ["plan", str(edited), "-m", str(MAPPING), "--report", str(tmp_path / "p2.csv"), *state],
            NO_CREDENTIALS,
        )
        held = invoke(
            ["run", str(edited), "-m", str(MAPPING), "--report", str(tmp_path / "r2.csv"), *state],
            env_for(sandbox),
        )
    assert "2 update" in again.output
    assert held.exit_code == 2 and "another import is running" in held.output
    assert sandbox.requests() == logged


def test_plan_without_a_state_file_plans_creates_and_leaves_no_state_file(
    tmp_path: Path,
) -> None:
    state = tmp_path / "nowhere" / "state.sqlite"
    result = invoke(
        ["plan", str(SAMPLE), "-m", str(MAPPING), "--state", str(state)]
        + ["--report", str(tmp_path / "plan.csv"), "--quiet"],
        NO_CREDENTIALS,
    )
    assert result.exit_code == 1
    assert "14 create, 8 invalid" in result.output
    assert not state.parent.exists()
    report = read_report(tmp_path / "plan.csv")
    assert {r["message"] for r in report if r["status"] == "create"} == {NO_RECORD_MESSAGE}


@pytest.mark.parametrize(
    ("sample", "report"),
    [
        ("appointments.csv", "appointments-report.csv"),
        ("appointments.xlsx", "appointments-report.xlsx"),
    ],
)
def test_the_report_is_a_workbook_when_the_file_was_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sample: str, report: str
) -> None:
    monkeypatch.chdir(tmp_path)
    state = ["--state", str(tmp_path / "state.sqlite"), "--quiet"]
    result = invoke(["plan", str(SAMPLES / sample), "-m", str(MAPPING), *state], NO_CREDENTIALS)
    assert "14 create, 8 invalid" in result.output, result.output
    assert [p.name for p in (tmp_path / "reports").iterdir()] == [report]
    assert len(read_report(tmp_path / "reports" / report)) == 22


# --- make_plan on the sample, with a real ledger -----------------------------------------------


@pytest.fixture
def prepared() -> Prepared:
    return prepare(SAMPLE, load_mapping(MAPPING))


def entry_for(prepared: Prepared, row: int, apptoto_id: int | None, **changes: Any) -> LedgerEntry:
    """The ledger entry a run would have recorded for ``row`` (payload sent as is)."""
    payload = dict(prepared.events.payloads[row])
    entry = LedgerEntry(
        mapping=prepared.mapping.name,
        external_id=prepared.events.external_ids[row],
        apptoto_id=apptoto_id,
        calendar=str(payload["calendar"]),
        payload_hash=payload_hash(payload),
        status="created",
        updated_at="2026-01-01T00:00:00+00:00",
        source_file=str(SAMPLE),
        source_row=row,
        payload=payload,
    )
    return replace(entry, **changes)


def valid_rows(prepared: Prepared) -> list[int]:
    return [r for r in prepared.rows if r not in prepared.issues]


@pytest.fixture
def ledger(tmp_path: Path) -> Any:
    with Ledger.open(tmp_path / "state.sqlite") as opened:
        yield opened


def test_rows_match_the_ledger_by_external_id_not_by_position(
    prepared: Prepared, ledger: Ledger
) -> None:
    rows = valid_rows(prepared)
    # Recorded from another file where every row sat elsewhere: positions must not matter.
    ledger.record(
        replace(entry_for(prepared, row, 50_000 + row), source_row=999 - row) for row in rows
    )
    plan = make_plan(prepared, ledger, PlanOptions())
    assert {r.row for r in plan.rows if r.action is PlanAction.UNCHANGED} == set(rows)
    assert plan.to_send == []


def count_hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The external_id of every payload the plan hashes from now on, in order."""
    hashed: list[str] = []

    def counted(payload: Any) -> str:
        hashed.append(str(payload.get("external_id")))
        return payload_hash(payload)

    monkeypatch.setattr(plan_module, "payload_hash", counted)
    return hashed


def test_a_rerun_hashes_each_row_once(
    prepared: Prepared, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lost-zeros check and the plan of a row share one hash of its payload."""
    rows = valid_rows(prepared)
    ledger.record(entry_for(prepared, row, 50_000 + row) for row in rows)
    hashed = count_hashes(monkeypatch)
    plan = make_plan(prepared, ledger, PlanOptions())
    assert {r.row for r in plan.rows if r.action is PlanAction.UNCHANGED} == set(rows)
    assert len(hashed) == len(set(hashed)) == len(rows)


def test_rows_new_to_the_ledger_are_not_hashed_until_sent(
    prepared: Prepared, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plan (the web review, ``plan``) of rows the ledger does not know hashes nothing: there
    is nothing to compare them with; the send hashes what it records."""
    hashed = count_hashes(monkeypatch)
    plan = make_plan(prepared, None, PlanOptions())
    assert len(plan.to_send) == 14 and hashed == []
    assert {r.payload_hash for r in plan.to_send} == {""}


def test_changed_row_is_an_update_with_its_apptoto_id(prepared: Prepared, ledger: Ledger) -> None:
    row = valid_rows(prepared)[0]
    old = dict(prepared.events.payloads[row], location="Old room", title="Old title")
    ledger.record([entry_for(prepared, row, 50_123, payload=old, payload_hash="stale")])
    [planned] = [r for r in make_plan(prepared, ledger, PlanOptions()).rows if r.row == row]
    assert planned.action is PlanAction.UPDATE
    assert planned.payload is not None and planned.payload["id"] == 50_123
    assert planned.message == "changes: title, location"
    # The plan's payload is its own: the row's, as mapped, has no id (another plan of the same
    # rows, the web review's then the send's, must not see this one's).
    assert "id" not in prepared.events.payloads[row]
    assert {**prepared.events.payloads[row], "id": 50_123} == planned.payload


def test_a_new_rows_payload_is_planned_as_mapped_without_a_copy(prepared: Prepared) -> None:
    # Copies would double the memory a plan of 100,000 rows holds (~46 MB).
    plan = make_plan(prepared, None, PlanOptions())
    assert plan.to_send and all(r.payload is prepared.events.payloads[r.row] for r in plan.to_send)


def test_cancelled_event_back_in_the_file_is_created_anew_even_with_an_old_report_id(
    prepared: Prepared, ledger: Ledger
) -> None:
    row = valid_rows(prepared)[0]
    ledger.record([entry_for(prepared, row, 50_001)])
    ledger.mark_deleted(prepared.mapping.name, [prepared.events.external_ids[row]])
    from_report = replace(prepared, report_ids={row: 50_001})
    [planned] = [r for r in make_plan(from_report, ledger, PlanOptions()).rows if r.row == row]
    assert planned.action is PlanAction.CREATE
    assert planned.payload is not None and "id" not in planned.payload
    assert "cancelled" in planned.message


def test_calendar_change_without_a_known_id_still_deletes_the_old_event_first(
    prepared: Prepared, ledger: Ledger
) -> None:
    row = valid_rows(prepared)[0]
    ledger.record([entry_for(prepared, row, None, calendar="Dr. Somebody")])
    options = PlanOptions(recreate_on_calendar_change=True)
    [planned] = [r for r in make_plan(prepared, ledger, options).rows if r.row == row]
    assert planned.action is PlanAction.CREATE
    assert planned.recreate_from is not None
    assert planned.recreate_from.external_id == prepared.events.external_ids[row]


@pytest.mark.parametrize(
    ("live_extra", "share", "refused"),
    [
        (9, 0.10, False),  # 1 of 10 missing: exactly the guard, allowed
        (8, 0.10, True),  # 1 of 9: 11%
        (8, 0.12, False),
        (0, 1.0, False),  # everything, when the guard is off
    ],
)
def test_cancel_guard_boundary(
    live_extra: int, share: float, refused: bool, prepared: Prepared, ledger: Ledger
) -> None:
    rows = valid_rows(prepared)[:live_extra]
    ledger.record(entry_for(prepared, row, 50_000 + row) for row in rows)
    some_row = valid_rows(prepared)[0]
    ledger.record([replace(entry_for(prepared, some_row, 1), external_id="gone-1")])
    options = PlanOptions(cancel_missing=True, max_cancel_share=share)
    if refused:
        with pytest.raises(PlanRefused, match="would cancel 1 of the 9 events"):
            make_plan(prepared, ledger, options)
    else:
        assert [e.external_id for e in make_plan(prepared, ledger, options).cancels] == ["gone-1"]


def test_cancel_missing_leaves_alone_the_events_of_visits_already_over(
    prepared: Prepared, ledger: Ledger
) -> None:
    # An export of the days ahead drops yesterday's visits every night: they were not called
    # off. Counted, they also tripped the guard (3 of 17 is 18%) and nothing was sent.
    rows = valid_rows(prepared)
    ledger.record(entry_for(prepared, row, 50_000 + row) for row in rows)
    some = entry_for(prepared, rows[0], 1)
    over = [
        replace(
            some,
            external_id=f"yesterday-{n}",
            payload={**(some.payload or {}), "end_time": "2026-12-06T09:00:00-08:00"},
        )
        for n in range(3)
    ]
    ledger.record([*over, replace(some, external_id="moved-away")])  # ends on 12/14: ahead
    options = PlanOptions(cancel_missing=True, now=datetime(2026, 12, 7, 12, 0, tzinfo=UTC))
    assert [e.external_id for e in make_plan(prepared, ledger, options).cancels] == ["moved-away"]
    # Once every visit is over, nothing is cancelled.
    after = replace(options, now=datetime(2026, 12, 15, tzinfo=UTC))
    assert make_plan(prepared, ledger, after).cancels == []


def test_a_new_row_for_the_patient_of_an_event_no_longer_in_the_file_says_it_looks_moved(
    prepared: Prepared, ledger: Ledger
) -> None:
    # Ids made of the date and time: a moved visit is a new event, and the old one stays with
    # its reminders unless the run cancels it. The patient was reminded of both times.
    rows = valid_rows(prepared)
    moved, other = rows[0], rows[1]
    new = (moved, other)  # the other: a new visit of another patient in that calendar
    ledger.record(entry_for(prepared, row, 50_000 + row) for row in rows if row not in new)
    # The old time is on the file's first day (14 December), which the file speaks for.
    old_time = {"start_time": "2026-12-14T07:00:00-08:00", "end_time": "2026-12-14T07:30:00-08:00"}
    before = {**prepared.events.payloads[moved], **old_time}
    ledger.record(
        [entry_for(prepared, moved, 812, external_id="clinic-at-old-time", payload=before)]
    )
    plan = make_plan(prepared, ledger, PlanOptions())
    by_row = {r.row: r for r in plan.rows}
    assert by_row[moved].action is PlanAction.CREATE
    [warning] = by_row[moved].warnings
    assert warning.reason.startswith(
        "looks like a new time for the appointment sent as event 812 (row 2 of "
        "appointments.csv, 2026-01-01), which is no longer in the file: that event is still in "
        "Apptoto"
    )
    assert by_row[other].action is PlanAction.CREATE
    assert not any("new time" in w.reason for w in by_row[other].warnings)
    # A run that cancels the old event says nothing of it on the new row.
    cancelling = make_plan(prepared, ledger, PlanOptions(cancel_missing=True))
    assert [e.external_id for e in cancelling.cancels] == ["clinic-at-old-time"]
    assert not [r for r in cancelling.rows if any("new time" in w.reason for w in r.warnings)]


@pytest.mark.parametrize("cancel_missing", [False, True])
def test_a_visit_moved_from_a_day_before_the_files_first_says_no_import_cancels_it(
    prepared: Prepared, ledger: Ledger, cancel_missing: bool
) -> None:
    # The file's first day is 14 December; the old event, on the 13th, is on a day the file
    # does not cover (an export of the days ahead): cancelling the missing rows leaves it alone,
    # so the warning must not promise that an import would cancel it.
    rows = valid_rows(prepared)
    moved = rows[0]
    ledger.record(entry_for(prepared, row, 50_000 + row) for row in rows if row != moved)
    old_time = {"start_time": "2026-12-13T08:30:00-08:00", "end_time": "2026-12-13T09:00:00-08:00"}
    before = {**prepared.events.payloads[moved], **old_time}
    ledger.record(
        [entry_for(prepared, moved, 812, external_id="clinic-at-old-time", payload=before)]
    )
    options = PlanOptions(
        cancel_missing=cancel_missing, now=datetime(2026, 12, 12, 8, 0, tzinfo=UTC)
    )
    plan = make_plan(prepared, ledger, options)
    assert plan.cancels == []
    [warning] = next(r for r in plan.rows if r.row == moved).warnings
    assert warning.reason == (
        "looks like a new time for the appointment sent as event 812 (row 2 of "
        "appointments.csv, 2026-01-01), which is not in the file: that event is still in "
        "Apptoto, and its reminders go out. It is on a day before the file's first (Monday 14 "
        "December 2026), which the file does not cover, so the cancelling of appointments no "
        "longer in the file leaves it alone: if the visit moved, delete that event in Apptoto"
    )


@pytest.mark.parametrize(
    ("before", "after", "changed"),
    [
        ({"a": 1, "b": 2}, {"a": 1, "b": 2}, []),
        ({"a": 1, "b": 2}, {"b": 3, "a": 2}, ["b", "a"]),  # the new payload's order
        ({"a": 1, "gone": 2}, {"a": 1, "new": 3}, ["new", "gone"]),
        ({"a": 1}, {"a": 1, "id": 5}, []),  # an update's id is not a change
        ({"p": [{"phone": "1"}]}, {"p": [{"phone": "2"}]}, ["p"]),
    ],
)
def test_changed_fields(before: dict[str, Any], after: dict[str, Any], changed: list[str]) -> None:
    assert changed_fields(field_hashes(before), after) == changed


def test_changed_row_whose_id_apptoto_never_gave_is_an_update_by_external_id(
    prepared: Prepared, ledger: Ledger
) -> None:
    row = valid_rows(prepared)[0]
    ledger.record([entry_for(prepared, row, None, payload_hash="stale")])
    [planned] = [r for r in make_plan(prepared, ledger, PlanOptions()).rows if r.row == row]
    assert planned.action is PlanAction.UPDATE
    assert planned.payload is not None and "id" not in planned.payload
    assert planned.payload["external_id"] == prepared.events.external_ids[row]


# --- a file that Excel saved again: leading zeros dropped from number-like cells --------------


@pytest.mark.parametrize(
    ("new", "sent", "found"),
    [
        ("2134", "02134", "02134"),  # only the zeros went: the value sent before
        ({"zip": "2134", "dob": "1985-03-02"}, {"zip": "02134", "dob": "1985-03-02"}, "sent"),
        ([{"id": "5", "ext": "12"}], [{"id": "005", "ext": "0012"}], "sent"),
        ("2135", "02134", None),  # another number: a real change
        ({"zip": "2134", "n": "7"}, {"zip": "02134", "n": "8"}, None),  # and another field too
        ("12:05", "012:05", None),  # only whole numbers lose zeros
        ("２１３４", "０２１３４", None),  # not ASCII digits
        ("5", "00000005", None),  # more zeros than a spreadsheet drops from one value
    ],
)
def test_zeros_put_back_finds_the_value_sent_by_its_hash(new: Any, sent: Any, found: Any) -> None:
    sent_hash = field_hashes({"custom_data": sent})["custom_data"]
    back = zeros_put_back("custom_data", new, sent_hash, TryBudget())
    assert back == (sent if found == "sent" else found)


def test_zeros_put_back_stops_when_the_budget_is_spent() -> None:
    sent_hash = field_hashes({"zip": "000002134"})["zip"]
    assert zeros_put_back("zip", "0002134", sent_hash, TryBudget()) == "000002134"
    assert zeros_put_back("zip", "0002134", sent_hash, TryBudget(tries=1)) is None


@pytest.mark.parametrize(
    ("template", "cells", "recorded", "restored"),
    [
        ("clinic-{Id}", ["101", "7"], ["clinic-000101", "clinic-007"], ["000101", "007"]),
        ("clinic-{Id}", ["102"], ["clinic-000101"], ["102"]),  # edited: stays
        ("clinic-{Id}", ["101"], [""], ["101"]),  # no id recorded (a new line)
        ("{Id}", ["101"], ["101"], ["101"]),  # the id lost its zeros too: nothing to go by
        ("c-{Id}-{Day}", ["5"], ["c-05-2026-12-14"], ["05"]),
        ("{Id}{Day}", ["5"], ["0512"], ["5"]),  # no way to tell where Id ends: stays
    ],
)
def test_restore_lost_zeros_from_the_report_external_id(
    template: str, cells: list[str], recorded: list[str], restored: list[str]
) -> None:
    rows = pd.Index(range(2, 2 + len(cells)))
    source = pd.DataFrame({"Id": cells, "Day": "2026-12-14"}, index=rows, dtype="string")
    parsed = parse_template(template, where="external_id")
    back = restore_lost_zeros(source, pd.Series(recorded, index=rows, dtype="str"), parsed)
    assert list(back["Id"]) == restored
    assert list(back["Day"]) == ["2026-12-14"] * len(cells)


def test_plan_prints_each_invalid_row_and_each_row_that_would_fail(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    # A plan's results are PlanActions ("invalid", "fail"), a run's RowStatuses: the lines
    # printed must not depend on which (a plan printed none of its invalid rows' reasons).
    state = ["--state", str(tmp_path / "state.sqlite")]
    invoke(["run", str(SAMPLE), "-m", str(MAPPING), "--quiet", *state], env_for(sandbox))
    header, rows = read_csv(SAMPLE)
    [moved] = [r for r in rows if r["Appointment ID"] == "000103"]
    moved["Provider"] = "Dr. Chen"
    edited = write_csv(tmp_path / "edited.csv", header, rows, encoding="utf-8-sig")

    plan = invoke(["plan", str(edited), "-m", str(MAPPING), *state], NO_CREDENTIALS)
    run = invoke(["run", str(edited), "-m", str(MAPPING), *state], env_for(sandbox))

    assert "13 unchanged, 8 invalid, 1 fail " in plan.output, plan.output
    for output in (plan.output, run.output):
        lines = output.splitlines()
        assert sum(line.startswith("edited.csv row ") for line in lines) == 9, output
        assert "edited.csv row 18, column 'Date': '14/12/2026' there is no month 14" in output
        assert "edited.csv row 4: calendar changed from 'Dr. Rivera' to 'Dr. Chen'" in output, (
            output
        )


def test_rows_failed_for_one_reason_are_one_line_naming_the_first_rows(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from importer.cli.console import print_failed
    from importer.outcomes import RowResult, RowStatus

    down = "Apptoto did not answer"
    results = [RowResult(row, RowStatus.FAILED, message=down) for row in range(2, 30)]
    results.append(RowResult(40, RowStatus.FAILED, message="refused").on_sheet("Tue"))
    results.append(RowResult(41, RowStatus.CREATED))
    print_failed(results, Path("week.xlsx"))
    assert capsys.readouterr().out.splitlines() == [
        f"week.xlsx rows 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 18 more: {down}",
        "week.xlsx sheet 'Tue', row 40: refused",
    ]


def test_a_row_held_back_on_one_of_several_sheets_is_named_sheet_first(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from importer.cli.console import print_held_back
    from importer.outcomes import RowResult, RowStatus, SkipReason

    held = RowResult(4, RowStatus.SKIPPED, message="not sent: the same appointment as row 9")
    print_held_back([replace(held, reason=SkipReason.SAME_APPOINTMENT).on_sheet("Mon")], Path("w"))
    assert capsys.readouterr().out.splitlines()[0] == (
        "w sheet 'Mon', row 4: not sent: the same appointment as row 9"
    )


def test_plan_and_run_print_what_the_load_said_of_the_file(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    # validate printed a title skipped, rows set aside or an encoding guessed; plan and run
    # said nothing of them (a file read as Mac Roman went out with no word of it).
    text = SAMPLE.read_text(encoding="utf-8-sig")
    titled = tmp_path / "titled.csv"
    titled.write_text("Riverside clinic, week 51\n\n" + text, encoding="utf-8")
    state = ["--state", str(tmp_path / "state.sqlite")]
    said = (
        "warning: titled.csv: the column names are on row 3; the rows above them (a title or "
        "blank rows) were skipped"
    )
    for command, env in (("plan", NO_CREDENTIALS), ("run", env_for(sandbox))):
        result = invoke([command, str(titled), "-m", str(MAPPING), *state], env)
        assert said in result.output, result.output
        quiet = invoke([command, str(titled), "-m", str(MAPPING), *state, "--quiet"], env)
        assert said not in quiet.output
