"""Two files whose ids are alike but whose appointments are not: neither replaces the other's.

Two clinics each number their appointments from 1 in an "Appt ID" column; ``init`` gives both
mappings the source ``appt-id``, so both write ``appt-id-1``. Before, the second clinic's run
updated the first clinic's events with its own patients, and those patients lost their
reminders. End to end on the CLI against the sandbox.
"""

from __future__ import annotations

from pathlib import Path

from typer.testing import Result

from importer.sandbox.server import SandboxHandle
from tests.helpers import env_for, live_events, read_report, write_csv
from tests.helpers import invoke_cli as invoke

HEADER = ["Appt ID", "Date", "Time", "Patient", "Phone", "Provider"]
NORTH = [
    ["1", "12/14/2026", "9:00 AM", "Ann Lee", "(541) 555-0101", "Dr. Smith"],
    ["2", "12/14/2026", "9:30 AM", "Ben Ortiz", "(541) 555-0102", "Dr. Smith"],
]
SOUTH = [
    ["1", "12/14/2026", "10:00 AM", "Cara Khan", "(541) 555-0201", "Dr. Smith"],
    ["2", "12/14/2026", "9:30 AM", "Ben Ortiz", "(541) 555-0199", "Dr. Smith"],  # the same man
]
MAPPING = """\
name: {name}
source: appt-id
defaults: {{time_zone: America/Los_Angeles, date_format: "%m/%d/%Y", time_format: "%I:%M %p"}}
event:
  external_id: "appt-id-{{Appt ID}}"
  calendar: "{{Provider}}"
  title: "Visit"
  start: {{date: "{{Date}}", time: "{{Time}}"}}
  duration_minutes: "30"
  participants:
    - {{name: "{{Patient}}", phone: "{{Phone}}"}}
"""


def run(
    sandbox: SandboxHandle, tmp_path: Path, name: str, rows: list[list[str]], *extra: str
) -> tuple[Result, dict[str, dict[str, str]]]:
    source = write_csv(
        tmp_path / f"{name}.csv", HEADER, [dict(zip(HEADER, r, strict=True)) for r in rows]
    )
    mapping = tmp_path / f"{name}.yaml"
    mapping.write_text(MAPPING.format(name=name), encoding="utf-8")
    report = tmp_path / f"{name}-report.csv"
    args = ["run", str(source), "-m", str(mapping), "--report", str(report)]
    state = ["--state", str(tmp_path / "state.sqlite")]
    result = invoke([*args, *state, *extra], env_for(sandbox))
    return result, {r["row"]: r for r in read_report(report)}


def patients(sandbox: SandboxHandle) -> dict[str, str]:
    return {i: e["participants"][0]["name"] for i, e in live_events(sandbox).items()}


def test_another_file_s_id_for_another_person_is_held_back(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    first, _ = run(sandbox, tmp_path, "north", NORTH)
    assert first.exit_code == 0, first.output

    second, lines = run(sandbox, tmp_path, "south", SOUTH)

    assert patients(sandbox) == {"appt-id-1": "Ann Lee", "appt-id-2": "Ben Ortiz"}
    assert second.exit_code == 1, second.output  # a row not sent: the summary says so
    assert lines["2"]["status"] == "skipped"
    assert (
        lines["2"]["message"].startswith("not sent: it has the id of event ")
        and "(row 2 of north.csv" in lines["2"]["message"]
    )
    assert "sent for another person" in lines["2"]["message"]
    assert lines["3"]["status"] == "updated"  # the same patient: a new phone, as ever
    assert "--allow-shared-ids sends them anyway" in second.output

    anyway, lines = run(sandbox, tmp_path, "south", SOUTH, "--allow-shared-ids")
    assert anyway.exit_code == 0, anyway.output
    assert lines["2"]["status"] == "updated"
    assert patients(sandbox)["appt-id-1"] == "Cara Khan"


def test_a_file_run_again_with_a_slot_given_to_another_patient_updates_it(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """A hand-kept sheet where staff typed a new patient over a cancelled one: the same file,
    so the event becomes the new patient's, as before."""
    first, _ = run(sandbox, tmp_path, "north", NORTH)
    assert first.exit_code == 0, first.output
    retyped = [["1", "12/14/2026", "9:00 AM", "Dan Wu", "(541) 555-0301", "Dr. Smith"], NORTH[1]]

    again, lines = run(sandbox, tmp_path, "north", retyped)

    assert again.exit_code == 0, again.output
    assert lines["2"]["status"] == "updated"
    assert patients(sandbox)["appt-id-1"] == "Dan Wu"
