"""Re-runs against the sandbox: only changed rows are sent, cancels, calendar moves, lost ledger.

Every test runs the real CLI (in process) and checks what the SERVER holds and which requests it
received, not only what the importer says.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from typer.testing import Result

from importer.plan import NO_RECORD_MESSAGE
from importer.sandbox.server import SandboxHandle
from tests.clinic_rows import HEADER, appointment
from tests.helpers import (
    CLINIC_MAPPING,
    SAMPLES,
    env_for,
    invoke_cli,
    live_events,
    read_csv,
    write_csv,
)

MAPPING = str(CLINIC_MAPPING)
SAMPLE = SAMPLES / "appointments.csv"
VALID_IDS = {f"clinic-0001{n:02d}" for n in range(1, 15)}
INVALID_COUNT = 8


def run_cli(sandbox: SandboxHandle, file: Path, tmp_path: Path, *extra: str) -> Result:
    """``run FILE -m clinic.yaml`` with the test's state file; report at tmp_path/report.csv."""
    args = ["run", str(file), "-m", MAPPING, "--quiet", "--state", str(tmp_path / "state.sqlite")]
    if "--report" not in extra:
        args += ["--report", str(tmp_path / "report.csv")]
    if "--rate" not in extra:
        args += ["--rate", "100000"]  # no pacing: the sandbox's limit is the only one
    return invoke_cli([*args, *extra], env_for(sandbox))


def by_id(rows: list[dict[str, str]], appointment_id: str) -> dict[str, str]:
    [row] = [r for r in rows if r["Appointment ID"] == appointment_id]
    return row


def statuses(report: Path) -> dict[str, str]:
    """external_id -> status, for every report line that has an external_id."""
    _, rows = read_csv(report)
    return {r["external_id"]: r["status"] for r in rows if r["external_id"]}


def new_requests(sandbox: SandboxHandle, before: int) -> list[dict[str, Any]]:
    return sandbox.requests()[before:]


def test_edit_three_delete_one_add_one_sends_only_those(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    first = run_cli(sandbox, SAMPLE, tmp_path)
    assert first.exit_code == 1 and "14 created, 8 invalid" in first.output, first.output
    before = live_events(sandbox)
    logged = len(sandbox.requests())

    header, rows = read_csv(SAMPLE)
    by_id(rows, "000102")["Start"] = "9:05 AM"
    by_id(rows, "000106")["Location"] = "Boise clinic, room 7"
    by_id(rows, "000109")["Phone"] = "+39 06 6982 0001"
    rows.remove(by_id(rows, "000111"))
    rows.append({**by_id(rows, "000101"), "Appointment ID": "000130", "Start": "11:00 AM"})
    rows[-1]["End"] = "11:30 AM"
    edited = write_csv(tmp_path / "edited.csv", header, rows, encoding="utf-8-sig")

    again = run_cli(sandbox, edited, tmp_path, "--cancel-missing")

    assert again.exit_code == 1, again.output  # the invalid rows are still invalid
    assert "1 created, 3 updated, 10 unchanged, 8 invalid, 1 cancelled" in again.output
    expected_ids = VALID_IDS - {"clinic-000111"} | {"clinic-000130"}
    after = live_events(sandbox)
    assert set(after) == expected_ids
    assert sandbox.stats()["duplicates"] == []
    [gone] = [e for e in sandbox.events() if e["external_id"] == "clinic-000111"]
    assert gone["is_deleted"] is True and gone["id"] == before["clinic-000111"]["id"]
    assert after["clinic-000102"]["start_time"] == "2026-12-14T09:05:00-08:00"
    assert after["clinic-000106"]["location"] == "Boise clinic, room 7"
    assert after["clinic-000109"]["participants"][0]["phone"] == "+390669820001"
    assert after["clinic-000130"]["start_time"] == "2026-12-14T11:00:00-08:00"
    for external_id in expected_ids - {"clinic-000130"}:
        assert after[external_id]["id"] == before[external_id]["id"]  # updated, not re-created
    untouched = expected_ids - {"clinic-000102", "clinic-000106", "clinic-000109", "clinic-000130"}
    assert all(after[k] == before[k] for k in untouched)

    sent = new_requests(sandbox, logged)
    puts = [r for r in sent if r["method"] == "PUT"]
    assert sorted(i for r in puts for i in r["external_ids"]) == [
        "clinic-000102",
        "clinic-000106",
        "clinic-000109",
        "clinic-000130",
    ]
    deletes = [r for r in sent if r["method"] == "DELETE"]
    assert [r["query"] for r in deletes] == [f"id={before['clinic-000111']['id']}"]
    assert len(sent) == len(puts) + 1  # no lookups, nothing else

    report = statuses(tmp_path / "report.csv")
    assert {k for k, s in report.items() if s == "updated"} == {
        "clinic-000102",
        "clinic-000106",
        "clinic-000109",
    }
    assert {k for k, s in report.items() if s == "created"} == {"clinic-000130"}
    assert {k for k, s in report.items() if s == "cancelled"} == {"clinic-000111"}
    assert list(report.values()).count("unchanged") == 10
    _, lines = read_csv(tmp_path / "report.csv")
    messages = {r["external_id"]: r["message"] for r in lines}
    assert messages["clinic-000102"] == "changes: start"
    assert messages["clinic-000106"] == "changes: location"
    assert messages["clinic-000109"] == "changes: patient details"
    assert messages["clinic-000130"] == ""  # the ledger knows the mapping: a plain create
    cancelled_line = next(r for r in lines if r["status"] == "cancelled")
    assert cancelled_line["row"] == "" and cancelled_line["apptoto_id"] == str(gone["id"])


def test_nightly_run_of_ten_thousand_rows_sends_only_the_thirty_changed(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    sandbox.configure(rate_limit_requests=0, max_events_per_request=50)
    header = HEADER
    rows = [appointment(n) for n in range(10_000)]
    file = write_csv(tmp_path / "nightly.csv", header, rows, encoding="utf-8-sig")
    first = run_cli(sandbox, file, tmp_path, "--batch-size", "50")
    assert first.exit_code == 0, first.output
    assert "10000 created" in first.output
    logged = len(sandbox.requests())

    changed = sorted({n * 331 % 10_000 for n in range(30)})
    assert len(changed) == 30
    for n in changed:
        rows[n]["Location"] = "Eugene, annex"
    write_csv(file, header, rows, encoding="utf-8-sig")
    nightly = run_cli(sandbox, file, tmp_path)

    assert nightly.exit_code == 0, nightly.output
    assert "30 updated, 9970 unchanged" in nightly.output
    sent = new_requests(sandbox, logged)
    assert [(r["method"], r["event_count"]) for r in sent] == [("PUT", 15), ("PUT", 15)]
    assert sorted(i for r in sent for i in r["external_ids"]) == [
        f"clinic-{n:06d}" for n in changed
    ]
    assert sandbox.stats()["events_stored"] == 10_000


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_report_is_input_fixed_row_is_created_others_unchanged(
    suffix: str, sandbox: SandboxHandle, tmp_path: Path
) -> None:
    report = tmp_path / f"first-report{suffix}"
    run_cli(sandbox, SAMPLE, tmp_path, "--report", str(report))
    logged = len(sandbox.requests())

    # Staff fix the short phone number of row 16 in the report itself.
    if suffix == ".csv":
        header, lines = read_csv(report)
        assert by_id(lines, "000115")["status"] == "invalid"
        by_id(lines, "000115")["Phone"] = "(541) 555-0115"
        write_csv(report, header, lines, encoding="utf-8-sig")
    else:
        book = load_workbook(report)
        sheet = book.active
        assert sheet is not None
        names = [cell.value for cell in sheet[1]]
        for line in sheet.iter_rows(min_row=2):
            if line[names.index("Appointment ID")].value == "000115":
                assert line[names.index("status")].value == "invalid"
                line[names.index("Phone")].value = "(541) 555-0115"
        book.save(report)

    again = run_cli(sandbox, report, tmp_path, "--report", str(tmp_path / f"second{suffix}"))

    assert again.exit_code == 1, again.output
    assert "1 created, 14 unchanged, 7 invalid" in again.output
    sent = new_requests(sandbox, logged)
    assert [(r["method"], r["external_ids"]) for r in sent] == [("PUT", ["clinic-000115"])]
    stored = live_events(sandbox)
    assert stored["clinic-000115"]["participants"][0]["phone"] == "+15415550115"
    # The report's escaped formula cell was read back unescaped: row 13 stayed unchanged.
    assert stored["clinic-000112"]["content"] == "=Bring referral letter #auto"
    assert sandbox.stats()["duplicates"] == []


def test_report_apptoto_id_makes_a_row_an_update_with_an_empty_ledger(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    run_cli(sandbox, SAMPLE, tmp_path, "--report", str(tmp_path / "first.csv"))
    ids = {k: e["id"] for k, e in live_events(sandbox).items()}
    header, lines = read_csv(tmp_path / "first.csv")
    by_id(lines, "000101")["Location"] = "Eugene clinic, room 9"
    write_csv(tmp_path / "first.csv", header, lines, encoding="utf-8-sig")
    fresh = tmp_path / "fresh"
    fresh.mkdir()

    again = run_cli(sandbox, tmp_path / "first.csv", fresh)

    assert again.exit_code == 1, again.output
    assert "14 updated, 8 invalid" in again.output
    _, report = read_csv(fresh / "report.csv")
    updated = [r for r in report if r["status"] == "updated"]
    assert {r["message"] for r in updated} == {
        "updates the appointment the report names (its Apptoto id)"
    }
    assert {r["external_id"]: int(r["apptoto_id"]) for r in updated} == ids
    stored = live_events(sandbox)
    assert stored["clinic-000101"]["location"] == "Eugene clinic, room 9"
    assert {k: e["id"] for k, e in stored.items()} == ids
    assert sandbox.stats()["events_stored"] == 14  # nothing created


def saved_again_by_excel(report: Path) -> None:
    """What Excel does to a CSV report opened and saved: number-like cells lose leading zeros."""
    header, lines = read_csv(report)
    for line in lines:
        for column, text in line.items():
            if text.isdigit():
                line[column] = str(int(text))
    write_csv(report, header, lines, encoding="utf-8-sig")


def test_a_report_excel_saved_again_updates_the_same_events_keeping_their_ids(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    run_cli(sandbox, SAMPLE, tmp_path, "--report", str(tmp_path / "first.csv"))
    before = live_events(sandbox)
    saved_again_by_excel(tmp_path / "first.csv")
    header, lines = read_csv(tmp_path / "first.csv")
    assert by_id(lines, "101")["external_id"] == "clinic-000101"  # the zeros survive there
    by_id(lines, "101")["Location"] = "Eugene clinic, room 9"
    write_csv(tmp_path / "first.csv", header, lines, encoding="utf-8-sig")
    logged = len(sandbox.requests())

    again = run_cli(sandbox, tmp_path / "first.csv", tmp_path)

    assert again.exit_code == 1, again.output
    assert "1 updated, 13 unchanged, 8 invalid" in again.output
    sent = new_requests(sandbox, logged)
    assert [(r["method"], r["external_ids"]) for r in sent] == [("PUT", ["clinic-000101"])]
    stored = live_events(sandbox)
    assert set(stored) == VALID_IDS  # no event's external_id rewritten to clinic-101
    assert {k: e["id"] for k, e in stored.items()} == {k: e["id"] for k, e in before.items()}
    assert stored["clinic-000101"]["location"] == "Eugene clinic, room 9"
    assert sandbox.stats()["duplicates"] == []


def test_a_report_excel_saved_again_keeps_its_zeros_under_a_mapping_with_a_source(
    sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mapping with ``source:`` keeps its events under the source: the zeros Excel dropped are
    looked up there too, so only the edited row is sent (not a second one with its zeros lost)."""
    scoped = tmp_path / "scoped.yaml"
    text = CLINIC_MAPPING.read_text(encoding="utf-8")
    scoped.write_text(
        text.replace("name: Clinic appointments", "name: Clinic appointments\nsource: clinic", 1),
        encoding="utf-8",
    )
    monkeypatch.setitem(globals(), "MAPPING", str(scoped))
    test_a_report_excel_saved_again_updates_the_same_events_keeping_their_ids(sandbox, tmp_path)


def sample_sent_then_saved_by_excel(
    sandbox: SandboxHandle, tmp_path: Path
) -> tuple[dict[str, dict[str, Any]], Path, list[str], list[dict[str, str]]]:
    """The sample imported (its events as stored), then a copy of it as Excel saves it (ids
    without their leading zeros): the copy's path, header and rows, to edit and write back."""
    first = run_cli(sandbox, SAMPLE, tmp_path, "--report", str(tmp_path / "first.csv"))
    assert "14 created, 8 invalid" in first.output, first.output
    export = tmp_path / "saved.csv"
    export.write_bytes(SAMPLE.read_bytes())
    saved_again_by_excel(export)
    header, rows = read_csv(export)
    return live_events(sandbox), export, header, rows


def test_an_export_saved_in_excel_updates_its_events_though_its_ids_lost_their_zeros(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    # The export itself opened and saved in Excel: 000102 comes back 102, so every row's id
    # (clinic-{Appointment ID}) is not the one its event was sent under. Before, every row was
    # held back as looking already sent, the row whose start was also changed was sent as a
    # second event, and --cancel-missing found every event gone.
    before, export, header, rows = sample_sent_then_saved_by_excel(sandbox, tmp_path)
    by_id(rows, "102")["Start"] = "9:05 AM"
    by_id(rows, "106")["Location"] = "Boise clinic, room 7"
    write_csv(export, header, rows, encoding="utf-8-sig")
    logged = len(sandbox.requests())

    again = run_cli(sandbox, export, tmp_path, "--cancel-missing")

    assert again.exit_code == 1, again.output  # the invalid rows are still invalid
    assert "2 updated, 12 unchanged, 8 invalid" in again.output
    sent = new_requests(sandbox, logged)
    assert sorted(i for r in sent for i in r.get("external_ids", [])) == [
        "clinic-000102",
        "clinic-000106",
    ]
    assert [r["method"] for r in sent] == ["PUT"] * len(sent)  # nothing cancelled
    stored = live_events(sandbox)
    assert {k: e["id"] for k, e in stored.items()} == {k: e["id"] for k, e in before.items()}
    assert stored["clinic-000102"]["start_time"] == "2026-12-14T09:05:00-08:00"
    assert sandbox.stats()["duplicates"] == []
    _, lines = read_csv(tmp_path / "report.csv")
    done = [line for line in lines if line["status"] in ("updated", "unchanged")]
    assert {line["external_id"] for line in done} == VALID_IDS
    line = by_id(lines, "102")
    assert "is the id 'clinic-000102' with its leading zeros lost" in line["warnings"]
    assert f"(event {before['clinic-000102']['id']})" in line["warnings"]


def test_an_id_without_its_zeros_for_another_person_is_not_taken_as_the_event(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    before, export, header, rows = sample_sent_then_saved_by_excel(sandbox, tmp_path)
    other = by_id(rows, "102")
    other.update({"First Name": "Ada", "Last Name": "Byron", "Email": "ada@example.com"})
    other["Phone"] = "(541) 555-0199"
    write_csv(export, header, rows, encoding="utf-8-sig")

    again = run_cli(sandbox, export, tmp_path)

    assert "1 created, 13 unchanged, 8 invalid" in again.output, again.output
    stored = live_events(sandbox)
    assert stored["clinic-000102"]["id"] == before["clinic-000102"]["id"]  # not overwritten
    assert stored["clinic-102"]["participants"][0]["name"] == "Ada Byron"
    _, lines = read_csv(tmp_path / "report.csv")
    warned = by_id(lines, "102")["warnings"]
    assert "is the id 'clinic-000102' with its leading zeros lost, but the row is for" in warned


def test_calendar_change_fails_or_recreates_on_request(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    run_cli(sandbox, SAMPLE, tmp_path)
    old_id = live_events(sandbox)["clinic-000103"]["id"]
    header, rows = read_csv(SAMPLE)
    by_id(rows, "000103")["Provider"] = "Dr. Chen"
    moved = write_csv(tmp_path / "moved.csv", header, rows, encoding="utf-8-sig")
    logged = len(sandbox.requests())

    refused = run_cli(sandbox, moved, tmp_path)

    assert refused.exit_code == 1
    assert "13 unchanged, 8 invalid, 1 failed" in refused.output
    _, lines = read_csv(tmp_path / "report.csv")
    [line] = [r for r in lines if r["external_id"] == "clinic-000103"]
    assert line["status"] == "failed"
    assert "calendar changed from 'Dr. Rivera' to 'Dr. Chen'" in line["message"]
    assert "Apptoto cannot move an appointment to another calendar" in line["message"]
    assert "--" not in line["message"]  # the report is for staff; the option is in the output
    assert "run again with --recreate-on-calendar-change" in refused.output
    assert new_requests(sandbox, logged) == []
    assert live_events(sandbox)["clinic-000103"]["calendar_name"] == "Dr. Rivera"

    recreated = run_cli(sandbox, moved, tmp_path, "--recreate-on-calendar-change")

    assert recreated.exit_code == 1 and "1 created" in recreated.output, recreated.output
    events = [e for e in sandbox.events() if e["external_id"] == "clinic-000103"]
    old = next(e for e in events if e["id"] == old_id)
    new = next(e for e in events if e["id"] != old_id)
    assert old["is_deleted"] and old["calendar_name"] == "Dr. Rivera"
    assert not new["is_deleted"] and new["calendar_name"] == "Dr. Chen"
    assert new["title"] == "Follow-up with Dr. Chen"
    assert sandbox.stats()["duplicates"] == []
    _, lines = read_csv(tmp_path / "report.csv")
    [line] = [r for r in lines if r["external_id"] == "clinic-000103"]
    assert (line["status"], line["apptoto_id"]) == ("created", str(new["id"]))
    assert "the old event is deleted and a new one created" in line["message"]

    settled = run_cli(sandbox, moved, tmp_path)  # the ledger now knows the new calendar
    assert "14 unchanged" in settled.output


def test_lost_ledger_resends_by_external_id_without_duplicates(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    run_cli(sandbox, SAMPLE, tmp_path)
    ids = {k: e["id"] for k, e in live_events(sandbox).items()}
    for path in tmp_path.glob("state.sqlite*"):
        path.unlink()

    again = run_cli(sandbox, SAMPLE, tmp_path)

    assert again.exit_code == 1 and "14 created, 8 invalid" in again.output, again.output
    _, lines = read_csv(tmp_path / "report.csv")
    created = [r for r in lines if r["status"] == "created"]
    # The client cannot tell created from updated here, and the message says so.
    assert {r["message"] for r in created} == {NO_RECORD_MESSAGE}
    assert {r["external_id"]: int(r["apptoto_id"]) for r in created} == ids
    assert sandbox.stats()["events_stored"] == 14
    assert sandbox.stats()["duplicates"] == []
    assert "14 unchanged" in run_cli(sandbox, SAMPLE, tmp_path).output  # ledger rebuilt


def test_full_resends_every_valid_row_as_an_update(sandbox: SandboxHandle, tmp_path: Path) -> None:
    run_cli(sandbox, SAMPLE, tmp_path)
    logged = len(sandbox.requests())

    full = run_cli(sandbox, SAMPLE, tmp_path, "--full")

    assert "14 updated, 8 invalid" in full.output, full.output
    sent = new_requests(sandbox, logged)
    assert sorted(i for r in sent for i in r["external_ids"]) == sorted(VALID_IDS)
    _, lines = read_csv(tmp_path / "report.csv")
    assert {r["message"] for r in lines if r["status"] == "updated"} == {
        "sent again: this import sends every row, changed or not"
    }
    assert sandbox.stats()["events_stored"] == 14


@pytest.mark.parametrize(
    ("removed", "options", "exit_code", "cancelled"),
    [
        (1, [], 1, 1),  # 1 of 14 is 7%: under the 10% guard
        (2, [], 2, 0),  # 2 of 14 is 14%: refused
        (2, ["--force"], 1, 2),
        (2, ["--max-cancel-share", "0.15"], 1, 2),
        (14, ["--max-cancel-share", "0.5"], 2, 0),
    ],
)
def test_cancel_guard(
    removed: int,
    options: list[str],
    exit_code: int,
    cancelled: int,
    sandbox: SandboxHandle,
    tmp_path: Path,
) -> None:
    run_cli(sandbox, SAMPLE, tmp_path)
    header, rows = read_csv(SAMPLE)
    gone = [f"0001{n:02d}" for n in range(1, removed + 1)]
    kept = write_csv(
        tmp_path / "partial.csv",
        header,
        [r for r in rows if r["Appointment ID"] not in gone],
        encoding="utf-8-sig",
    )
    logged = len(sandbox.requests())
    summary = tmp_path / "summary.json"

    result = run_cli(
        sandbox, kept, tmp_path, "--cancel-missing", "--summary-json", str(summary), *options
    )

    assert result.exit_code == exit_code, result.output
    assert sandbox.stats()["events_deleted"] == cancelled
    assert json.loads(summary.read_text(encoding="utf-8"))["exit_code"] == exit_code
    if exit_code == 2:
        assert f"would cancel {removed} of the 14 events" in result.output
        assert "--force" in result.output
        assert new_requests(sandbox, logged) == []
    else:
        deletes = [r for r in new_requests(sandbox, logged) if r["method"] == "DELETE"]
        assert len(deletes) == cancelled
        assert list(statuses(tmp_path / "report.csv").values()).count("cancelled") == cancelled


def test_max_cancel_share_out_of_range_is_refused(sandbox: SandboxHandle, tmp_path: Path) -> None:
    result = run_cli(sandbox, SAMPLE, tmp_path, "--cancel-missing", "--max-cancel-share", "10")
    assert result.exit_code == 2
    assert "--max-cancel-share" in result.output
    assert sandbox.requests() == []
