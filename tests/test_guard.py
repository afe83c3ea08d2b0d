"""The same-appointment guard: one visit never reaches Apptoto twice, whatever the ids say.

End to end on the CLI against the sandbox: a second mapping (other ids) on a second file, rows of
one file repeating a visit under another id, and the choices that send them anyway.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from importer import guard
from importer.ledger import LedgerEntry, appointment_keys
from importer.mapping import load_mapping
from importer.outcomes import PlanAction
from importer.pipeline import RunRequest, plan_import
from importer.plan import PlanOptions
from importer.sandbox.server import SandboxHandle
from tests.helpers import (
    CLINIC_MAPPING,
    SAMPLES,
    VALID_IDS,
    env_for,
    live_events,
    reachable,
    read_csv,
    read_report,
    write_csv,
)
from tests.helpers import invoke_cli as invoke

SAMPLE = SAMPLES / "appointments.csv"
SENT_AS = re.compile(
    r"not sent: it looks like the appointment already sent as event (\d+) "
    r"\(row (\d+) of appointments\.csv, \d{4}-\d{2}-\d{2}\): same calendar, start and participant"
)


def front_desk_mapping(tmp_path: Path) -> Path:
    """The clinic mapping saved again by someone else: another name, ids with another prefix."""
    text = CLINIC_MAPPING.read_text(encoding="utf-8")
    text = text.replace("name: Clinic appointments", "name: Front desk")
    text = text.replace('"clinic-{Appointment ID}"', '"desk-{Appointment ID}"')
    path = tmp_path / "front-desk.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def run(sandbox: SandboxHandle, file: Path, mapping: Path, report: Path, *extra: str) -> str:
    result = invoke(
        ["run", str(file), "-m", str(mapping), "--report", str(report), *extra],
        env_for(sandbox),
    )
    assert result.exit_code in (0, 1), result.output
    return result.output


def test_a_second_mapping_on_a_renamed_file_sends_no_visit_twice(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    state = ("--state", str(tmp_path / "state.sqlite"))
    first = run(sandbox, SAMPLE, CLINIC_MAPPING, tmp_path / "first.csv", *state)
    assert "14 created" in first, first
    sent = {r["row"]: r["apptoto_id"] for r in read_report(tmp_path / "first.csv")}
    renamed = tmp_path / "appts_2026-12-14.csv"
    renamed.write_bytes(SAMPLE.read_bytes())

    second = run(sandbox, renamed, front_desk_mapping(tmp_path), tmp_path / "second.csv", *state)

    assert "0 created" not in second and "14 skipped" in second, second
    assert "--allow-same-time-duplicates sends them anyway" in second
    assert sorted(live_events(sandbox)) == sorted(VALID_IDS)
    held = [r for r in read_report(tmp_path / "second.csv") if r["status"] == "skipped"]
    assert len(held) == 14
    for line in held:
        match = SENT_AS.fullmatch(line["message"])
        assert match, line["message"]
        assert match.groups() == (sent[line["row"]], line["row"])

    third = run(
        sandbox,
        renamed,
        front_desk_mapping(tmp_path),
        tmp_path / "third.csv",
        *state,
        "--allow-same-time-duplicates",
    )
    assert "14 created" in third, third
    assert len(live_events(sandbox)) == 28  # sent anyway, as asked


def test_a_visit_repeated_under_another_id_in_one_file_is_sent_once(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    header, rows = read_csv(SAMPLE)
    first = rows[0]
    # Row 16: 000101's visit again under a new id; row 17: the same slot and phone for
    # another child of the family, a visit of its own.
    rows.append({**first, "Appointment ID": "000140"})
    rows.append({**first, "Appointment ID": "000141", "First Name": "Lucía"})
    file = write_csv(tmp_path / "appointments.csv", header, rows)
    state = ("--state", str(tmp_path / "state.sqlite"))

    output = run(sandbox, file, CLINIC_MAPPING, tmp_path / "report.csv", *state)

    assert "15 created" in output and "1 skipped" in output, output
    by_id = {r["Appointment ID"]: r for r in read_report(tmp_path / "report.csv")}
    assert by_id["000140"]["status"] == "skipped"
    assert by_id["000140"]["message"] == (
        "not sent: it looks like the same appointment as row 2 of this file: "
        "same calendar, start and participant"
    )
    assert by_id["000141"]["status"] == "created"
    assert "clinic-000140" not in live_events(sandbox)


def test_the_page_can_send_chosen_rows_anyway(sandbox: SandboxHandle, tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    run(sandbox, SAMPLE, CLINIC_MAPPING, tmp_path / "first.csv", "--state", str(state))
    request = RunRequest(
        source=SAMPLE,
        mapping=load_mapping(front_desk_mapping(tmp_path)),
        ledger_path=state,
        plan_options=PlanOptions(allow_same_time_rows=frozenset({2, 3})),
    )

    plan = plan_import(request).plan

    actions = {r.row: r.action for r in plan.rows if r.action is not PlanAction.INVALID}
    assert {row for row, action in actions.items() if action is PlanAction.CREATE} == {2, 3}
    assert sum(action is PlanAction.SKIP for action in actions.values()) == 12
    chosen = next(r for r in plan.rows if r.row == 2)
    assert chosen.message.startswith("sent as you chose, although it looks like the appointment")


def test_a_rescheduled_visit_frees_its_old_slot(sandbox: SandboxHandle, tmp_path: Path) -> None:
    """An update that moves a visit away, or a cancellation, is not a visit already there."""
    state = ("--state", str(tmp_path / "state.sqlite"))
    run(sandbox, SAMPLE, CLINIC_MAPPING, tmp_path / "first.csv", *state)
    header, rows = read_csv(SAMPLE)
    first = dict(rows[0])
    rows[0].update({"Start": "11:00 AM", "End": "11:30 AM"})  # 000101 moved to 11:00
    rows.append({**first, "Appointment ID": "000150"})  # its old slot, booked anew
    moved = write_csv(tmp_path / "appointments.csv", header, rows)

    output = run(sandbox, moved, CLINIC_MAPPING, tmp_path / "second.csv", *state)

    assert "1 created, 1 updated" in output, output
    assert "clinic-000150" in live_events(sandbox)


def test_a_visit_whose_id_changed_is_sent_when_its_old_event_is_cancelled(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """With --cancel-missing the old event goes away, so the visit under its new id is no
    duplicate: holding it back would leave the patient without any reminder."""
    state = ("--state", str(tmp_path / "state.sqlite"))
    run(sandbox, SAMPLE, CLINIC_MAPPING, tmp_path / "first.csv", *state)
    header, rows = read_csv(SAMPLE)
    rows[0]["Appointment ID"] = "000199"  # 000101 renumbered by the clinic's system
    renumbered = write_csv(tmp_path / "appointments.csv", header, rows)

    output = run(
        sandbox, renumbered, CLINIC_MAPPING, tmp_path / "second.csv", *state, "--cancel-missing"
    )

    assert "1 created" in output and "1 cancelled" in output and "skipped" not in output, output
    live = live_events(sandbox)
    assert "clinic-000199" in live and "clinic-000101" not in live


def test_many_rows_of_one_slot_are_each_checked_against_the_first_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """20,000 rows of one calendar, start and person took over ten minutes: every row compared
    itself with every earlier row. Each is now compared once per key and person already seen."""
    visit = {
        "calendar": "Main",
        "start_time": "2026-05-04T09:00:00-04:00",
        "participants": [{"name": "Ana Diaz", "phone": "555-0100"}],
    }
    rows = 300
    new = {row: {**visit, "external_id": f"x-{row}"} for row in range(2, rows + 2)}
    calls = 0
    compare = guard.same_person

    def counted(person: str, other: str) -> bool:
        nonlocal calls
        calls += 1
        return compare(person, other)

    monkeypatch.setattr(guard, "same_person", counted)
    held = guard.same_appointments(new, {}, None)
    assert sorted(held) == list(range(3, rows + 2))
    assert {why.split(":")[0] for why in held.values()} == {
        "looks like the same appointment as row 2 of this file"
    }
    keys = len(appointment_keys(visit))
    assert calls <= keys * rows  # one comparison per key of each row, not one per earlier row


def visit_at(start: str, name: str, phone: str, external_id: str) -> dict[str, Any]:
    return {
        "calendar": "Main",
        "start_time": start,
        "external_id": external_id,
        "participants": [{"name": name, "phone": phone, "email": f"{phone}@example.com"}],
    }


def test_earlier_rows_are_kept_as_digests_and_found_by_key_and_person() -> None:
    earlier = guard.EarlierRows("clinic")
    ana = visit_at("2026-05-04T09:00:00-04:00", "Ana Diaz", "555-0100", "x-1")
    earlier.add({7: ana, 9: {**ana, "external_id": "x-2"}, 8: visit_at(
        "2026-05-04T10:00:00-04:00", "Bo Li", "555-0101", "x-3")})  # fmt: skip
    again = visit_at("2026-05-04T13:00:00Z", "ana  DIAZ", "5550100", "y-1")  # 09:00 at -04:00
    sibling = visit_at("2026-05-04T09:00:00-04:00", "Lu Diaz", "555-0100", "y-2")
    later = {20: again, 21: sibling, 22: visit_at("2026-05-05T09:00:00Z", "Ana", "1", "y-3")}
    held = guard.same_appointments(later, {}, None, earlier=earlier)
    assert held == {20: "looks like the same appointment as row 7 of this file: " + guard.WHY}
    # What is kept: digests of keys, people and ids, nothing to read a patient's details from.
    kept = reachable(earlier)
    assert not [o for o in kept if isinstance(o, dict) and "start_time" in o]
    assert not [o for o in kept if isinstance(o, str) and ("Diaz" in o or "555" in o)]


def test_earlier_rows_name_the_events_judged_by_their_rows() -> None:
    earlier = guard.EarlierRows("clinic")
    earlier.add({3: visit_at("2026-05-04T09:00:00Z", "Ana", "555-0100", "x-1")})
    both = earlier.with_rows({5: visit_at("2026-05-04T10:00:00Z", "Bo", "555-0101", "x-2")})

    def entry(mapping: str, external_id: str) -> LedgerEntry:
        return LedgerEntry(
            mapping, external_id, 1, "Main", "h", "created", "2026-05-01", "f.csv", 3
        )

    assert earlier.has(entry("clinic", "x-1")) and both.has(entry("clinic", "x-2"))
    assert not earlier.has(entry("clinic", "x-2"))  # with_rows left it as it was
    assert not both.has(entry("desk", "x-1")) and not both.has(entry("clinic", "x-9"))


def test_earlier_rows_keep_a_person_once_for_all_their_keys() -> None:
    # A plan of a big file remembers every row it sends (the run's ledger does it there): each
    # key is 12 bytes and each row's person 32, about 70 bytes a row with a phone, an email and
    # a name (40 a key, 120 a row, before).
    earlier = guard.EarlierRows("clinic")
    rows = {
        row: visit_at(f"2026-05-04T{9 + row % 8:02d}:00:00Z", f"P {row}", f"555-{row:04d}", "x")
        for row in range(2, 1_002)
    }
    earlier.add(rows)
    [chunk] = earlier._chunks
    assert len(chunk.keys) == 3 * len(rows)
    held = chunk.keys.nbytes + chunk.owners.nbytes + chunk.who.nbytes
    assert held <= 70 * len(rows)
    later = {5_000: visit_at("2026-05-04T11:00:00Z", "P 2", "555-0002", "y")}  # row 2's visit
    assert guard.same_appointments(later, {}, None, earlier=earlier) == {
        5_000: "looks like the same appointment as row 2 of this file: " + guard.WHY
    }
