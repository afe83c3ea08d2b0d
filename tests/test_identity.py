"""One appointment, one event, whatever the mapping or the file is called (issue 13).

End to end on the CLI against the sandbox: mappings written by ``init`` keep their events under a
``source`` named after the id column, so a renamed mapping, a second mapping for the same export
and a renamed file update the same events; older mappings without ``source`` keep theirs.
"""

from __future__ import annotations

from pathlib import Path

from importer.sandbox.server import SandboxHandle
from tests.helpers import CLINIC_MAPPING, SAMPLES, env_for, read_csv, read_report, write_csv
from tests.helpers import invoke_cli as invoke

SAMPLE = SAMPLES / "appointments.csv"
LA = "America/Los_Angeles"


def init(file: Path, mapping: Path) -> str:
    made = invoke(["init", str(file), "-o", str(mapping), "--time-zone", LA])
    assert made.exit_code == 0, made.output
    return mapping.read_text(encoding="utf-8")


def run(sandbox: SandboxHandle, file: Path, mapping: Path, tmp_path: Path, *extra: str) -> str:
    result = invoke(
        ["run", str(file), "-m", str(mapping), "--state", str(tmp_path / "state.sqlite")]
        + ["--report", str(tmp_path / "report.csv"), *extra],
        env_for(sandbox),
    )
    assert result.exit_code in (0, 1), result.output
    return result.output


def external_id_line(text: str) -> str:
    [line] = [line for line in text.splitlines() if line.startswith("  external_id:")]
    return line


def test_init_on_a_renamed_export_proposes_the_same_ids(tmp_path: Path) -> None:
    renamed = tmp_path / "appts_2026-12-14.csv"
    renamed.write_bytes(SAMPLE.read_bytes())
    first = init(SAMPLE, tmp_path / "appointments.yaml")
    second = init(renamed, tmp_path / "appts.yaml")
    assert 'name: "appointments"' in first and 'name: "appts"' in second
    assert external_id_line(first) == external_id_line(second)
    assert external_id_line(first) == '  external_id: "appointment-id-{Appointment ID}"'
    assert 'source: "appointment-id"' in first and 'source: "appointment-id"' in second


def test_a_second_mapping_for_a_renamed_export_updates_the_same_events(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    original = init(SAMPLE, tmp_path / "appointments.yaml")
    assert "14 created" in run(sandbox, SAMPLE, tmp_path / "appointments.yaml", tmp_path)
    renamed = tmp_path / "appts_2026-12-14.csv"
    renamed.write_bytes(SAMPLE.read_bytes())
    assert init(renamed, tmp_path / "appts.yaml") != original  # another name

    output = run(sandbox, renamed, tmp_path / "appts.yaml", tmp_path)

    assert "14 unchanged" in output and "created" not in output, output
    assert len(sandbox.events()) == 14  # deleted ones included: nothing re-created


def test_renaming_a_mapping_after_a_run_leaves_its_rows_unchanged(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    mapping = tmp_path / "appointments.yaml"
    text = init(SAMPLE, mapping)
    run(sandbox, SAMPLE, mapping, tmp_path)
    mapping.write_text(text.replace('name: "appointments"', 'name: "Eugene clinic"'), "utf-8")

    output = run(sandbox, SAMPLE, mapping, tmp_path, "--cancel-missing")

    assert "14 unchanged" in output and "created" not in output, output
    assert {r["status"] for r in read_report(tmp_path / "report.csv")} == {"unchanged", "invalid"}
    assert len(sandbox.events()) == 14


def test_a_mapping_without_source_keeps_its_ledger_under_its_name(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """Mappings written before ``source`` existed: their events are found as before, and adding
    ``source: <the old name>`` lets them be renamed."""
    mapping = tmp_path / "clinic.yaml"
    text = CLINIC_MAPPING.read_text(encoding="utf-8")
    mapping.write_text(text, encoding="utf-8")
    assert "14 created" in run(sandbox, SAMPLE, mapping, tmp_path)
    assert "14 unchanged" in run(sandbox, SAMPLE, mapping, tmp_path)
    renamed = text.replace(
        "name: Clinic appointments", "name: Eugene clinic\nsource: Clinic appointments"
    )
    mapping.write_text(renamed, encoding="utf-8")

    output = run(sandbox, SAMPLE, mapping, tmp_path, "--cancel-missing")

    assert "14 unchanged" in output and "cancelled" not in output, output


def test_a_row_exported_twice_is_sent_once_and_the_run_succeeds(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    header, rows = read_csv(SAMPLE)
    valid = rows[:14]  # 000101 to 000114, the sample's valid rows
    file = write_csv(tmp_path / "twice.csv", header, [*valid, valid[2]])  # row 16 = row 4
    result = invoke(
        ["run", str(file), "-m", str(CLINIC_MAPPING), "--state", str(tmp_path / "s.sqlite")]
        + ["--report", str(tmp_path / "report.csv")],
        env_for(sandbox),
    )
    assert result.exit_code == 0, result.output
    assert "14 created, 1 skipped" in result.output
    copy = read_report(tmp_path / "report.csv")[-1]
    assert (copy["row"], copy["status"], copy["external_id"]) == ("16", "skipped", "clinic-000103")
    assert copy["message"] == "same as row 4 (identical in every cell): one appointment, sent once"
    assert len(sandbox.events()) == 14


def test_init_after_runs_of_a_hand_written_mapping_sends_nothing_twice(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """Issue 13's third path: the same file run with clinic.yaml, then with what ``init``
    proposes (other ids): the guard recognises every appointment."""
    assert "14 created" in run(sandbox, SAMPLE, CLINIC_MAPPING, tmp_path)
    init(SAMPLE, tmp_path / "appointments.yaml")

    output = run(sandbox, SAMPLE, tmp_path / "appointments.yaml", tmp_path)

    assert "14 skipped" in output and "created" not in output, output
    assert len(sandbox.events()) == 14
