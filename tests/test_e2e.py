"""End to end: the real CLI on the samples against the sandbox, judged by what the SERVER holds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from importer.cli import console
from tests.helpers import (
    CLINIC_MAPPING,
    IMPORTER,
    INVALID_ROWS,
    SAMPLES,
    VALID_IDS,
    env_for,
    read_report,
    run_process,
)
from tests.helpers import invoke_cli as run_cli
from tests.helpers import live_events as stored_by_external_id

MAPPING = str(CLINIC_MAPPING)


def run_args(sample: str, report: Path, state: Path, *options: str) -> list[str]:
    """``run SAMPLE -m clinic.yaml --report REPORT --state STATE OPTIONS...``: one import."""
    return [
        "run",
        str(SAMPLES / sample),
        "-m",
        MAPPING,
        "--report",
        str(report),
        "--state",
        str(state),
        *options,
    ]


@pytest.mark.parametrize("sample", ["appointments.csv", "appointments.xlsx"])
def test_sample_import_puts_the_right_events_on_the_server(
    sample: str, sandbox: Any, tmp_path: Path
) -> None:
    report = tmp_path / "report.csv"
    result = run_cli(
        run_args(sample, report, tmp_path / "state.sqlite", "--quiet"), env_for(sandbox)
    )
    assert result.exit_code == 1, result.output  # the sample has invalid rows
    assert "14 created, 8 invalid" in result.output

    stored = stored_by_external_id(sandbox)
    assert sorted(stored) == VALID_IDS
    assert sandbox.stats()["duplicates"] == []

    first = stored["clinic-000101"]
    assert first["calendar_name"] == "Dr. Rivera"
    assert first["title"] == "Annual physical with Dr. Rivera"
    assert first["start_time"] == "2026-12-14T08:30:00-08:00"  # winter, Los Angeles
    assert first["end_time"] == "2026-12-14T09:00:00-08:00"
    assert first["time_zone"] == "America/Los_Angeles"
    assert first["content"] == "Fasting since midnight #auto"
    assert first["custom_data"] == {"patient_dob": "03/02/1985", "clinic_zip": "97401"}
    [person] = first["participants"]
    assert person["name"] == "Maria Gómez"
    assert person["phone"] == "+15415550104"
    assert person["email"] == "maria.gomez@example.com"

    # Summer offsets, and a second zone.
    assert stored["clinic-000113"]["start_time"] == "2027-07-01T09:00:00-07:00"
    assert stored["clinic-000106"]["start_time"] == "2026-12-14T08:00:00-07:00"
    assert stored["clinic-000114"]["start_time"] == "2027-07-01T10:00:00-06:00"
    # Leading zeros kept; phones in E.164 however staff wrote them.
    assert stored["clinic-000108"]["custom_data"]["clinic_zip"] == "02134"
    phones = {k: e["participants"][0]["phone"] for k, e in stored.items()}
    assert phones["clinic-000103"] == "+15415550142"
    assert phones["clinic-000104"] == "+15415550177"
    assert phones["clinic-000109"] == "+390669820000"
    # Formula-looking text reaches Apptoto unchanged.
    assert stored["clinic-000112"]["content"] == "=Bring referral letter #auto"

    rows = read_report(report)
    assert len(rows) == 22
    by_row = {int(r["row"]): r for r in rows}
    for row, (column, words) in INVALID_ROWS.items():
        line = by_row[row]
        assert line["status"] == "invalid", line
        assert f"row {row}" in line["message"]
        assert f"column {column!r}" in line["message"], line["message"]
        assert words in line["message"], line["message"]
        assert line["apptoto_id"] == ""
    created = [r for r in rows if r["status"] == "created"]
    assert {r["external_id"] for r in created} == set(VALID_IDS)
    assert all(int(r["apptoto_id"]) == stored[r["external_id"]]["id"] for r in created)
    assert by_row[13]["Notes"] == "'=Bring referral letter"  # escaped in the report only


def test_rerun_sends_nothing_and_csv_equals_xlsx(sandbox: Any, tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    env = env_for(sandbox)
    first = run_cli(run_args("appointments.xlsx", tmp_path / "a.csv", state, "--quiet"), env)
    assert "14 created" in first.output
    puts_before = [r for r in sandbox.requests() if r["method"] == "PUT"]
    again = run_cli(run_args("appointments.csv", tmp_path / "b.csv", state, "--quiet"), env)
    assert "14 unchanged, 8 invalid" in again.output
    puts_after = [r for r in sandbox.requests() if r["method"] == "PUT"]
    assert puts_after == puts_before  # the Excel and CSV files map to identical events


def test_validate_lists_every_mistake_without_network(tmp_path: Path) -> None:
    result = run_cli(
        ["validate", str(SAMPLES / "appointments.csv"), "-m", MAPPING],
        {"APPTOTO_BASE_URL": "http://127.0.0.1:9/v1"},
    )
    assert result.exit_code == 1
    assert "14 valid, 8 invalid rows in appointments.csv" in result.output
    for row in INVALID_ROWS:
        assert f"row {row}" in result.output


def test_the_mistakes_not_printed_say_where_to_find_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console, "MAX_ISSUES_PRINTED", 3)
    args = ["validate", str(SAMPLES / "appointments.csv"), "-m", MAPPING]
    printed = run_cli(args, {}).output
    assert "... and 5 more invalid rows: --report FILE lists every row" in printed
    assert "see the report" not in printed  # none was written
    reported = run_cli([*args, "--report", str(tmp_path / "r.csv")], {}).output
    assert "... and 5 more invalid rows: see the report" in reported


def test_validate_stopped_by_ctrl_c_or_sigterm_exits_130_leaving_the_old_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importer.pipeline

    report = tmp_path / "r.csv"
    report.write_text("the report of yesterday\n", encoding="utf-8")

    def stopped(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt  # what on_sigterm raises too

    monkeypatch.setattr(importer.pipeline, "validate_file", stopped)
    args = ["validate", str(SAMPLES / "appointments.csv"), "-m", MAPPING, "--report", str(report)]
    result = run_cli(args, {})
    assert result.exit_code == 130
    assert "interrupted: nothing was sent; no report was written" in result.output
    assert report.read_text(encoding="utf-8") == "the report of yesterday\n"


def test_bad_mapping_column_exits_2_with_a_hint(tmp_path: Path) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        Path(MAPPING)
        .read_text(encoding="utf-8")
        .replace('phone: "{Phone}"', 'phone: "{Phone Number}"'),
        encoding="utf-8",
    )
    result = run_cli(["validate", str(SAMPLES / "appointments.csv"), "-m", str(mapping)], {})
    assert result.exit_code == 2
    assert "no column 'Phone Number'; did you mean 'Phone'?" in result.output


def test_missing_credentials_stop_before_any_work(tmp_path: Path) -> None:
    env = {k: "" for k in ("APPTOTO_USER", "APPTOTO_API_KEY")}
    result = run_cli(run_args("appointments.csv", tmp_path / "r.csv", tmp_path / "s.sqlite"), env)
    assert result.exit_code == 2
    assert "APPTOTO_USER" in result.output
    assert not (tmp_path / "r.csv").exists()


def test_wrong_key_exits_2_and_never_shows_the_key(sandbox: Any, tmp_path: Path) -> None:
    env = env_for(sandbox) | {"APPTOTO_API_KEY": "canary-wrong-key-7f3a"}
    result = run_cli(
        run_args("appointments.csv", tmp_path / "r.csv", tmp_path / "s.sqlite", "-v"), env
    )
    assert result.exit_code == 2
    assert "refused the credentials" in result.output
    assert "canary-wrong-key-7f3a" not in result.output
    assert sandbox.stats()["events_stored"] == 0


def test_console_script_runs_as_a_subprocess(sandbox: Any, tmp_path: Path) -> None:
    args = run_args(
        "appointments.csv",
        tmp_path / "r.xlsx",
        tmp_path / "s.sqlite",
        "--summary-json",
        str(tmp_path / "summary.json"),
    )
    done = run_process([*IMPORTER, *args], env_for(sandbox))
    assert done.returncode == 1, done.stderr
    assert "14 created, 8 invalid" in done.stdout
    assert (tmp_path / "r.xlsx").exists()
    summary = (tmp_path / "summary.json").read_text(encoding="utf-8")
    assert '"created": 14' in summary and '"exit_code": 1' in summary


def test_deadline_and_try_budget_options_fail_rows_truthfully(sandbox: Any, tmp_path: Path) -> None:
    sandbox.configure(outage_seconds=60)  # Apptoto down for longer than the run may take
    report = tmp_path / "r.csv"
    options = ["--deadline", "1.5", "--max-tries", "50", "--quiet"]
    result = run_cli(
        run_args("appointments.csv", report, tmp_path / "s.sqlite", *options), env_for(sandbox)
    )
    assert result.exit_code == 1
    assert "8 invalid, 14 failed" in result.output
    failed = [r for r in read_report(report) if r["status"] == "failed"]
    assert len(failed) == 14
    assert all(r["message"] for r in failed)
    assert sandbox.stats()["events_stored"] == 0


def test_bad_client_option_exits_2(sandbox: Any, tmp_path: Path) -> None:
    args = run_args(
        "appointments.csv", tmp_path / "r.csv", tmp_path / "s.sqlite", "--batch-size", "51"
    )
    result = run_cli(args, env_for(sandbox))
    assert result.exit_code == 2
    assert "batch" in result.output.lower()
    assert sandbox.requests() == []


def test_validate_loads_no_http_client(tmp_path: Path) -> None:
    # validate sends nothing: httpx and the client are not imported (~0.1 s of its start-up).
    code = (
        "import sys\n"
        "from importer.cli.commands import app\n"  # not main(): it would end the process
        f"sys.argv = ['apptoto-import', 'validate', {str(SAMPLES / 'appointments.csv')!r}, "
        f"'--mapping', {str(CLINIC_MAPPING)!r}]\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('httpx', 'importer.client') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert "14 valid, 8 invalid rows" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("command", ["validate", "plan", "run"])
def test_a_check_ends_without_the_interpreter_s_teardown_once_all_is_written(
    command: str, sandbox: Any, tmp_path: Path
) -> None:
    # validate and plan end at once when they have printed and written everything (freeing
    # every object as Python shuts down took ~0.3 s of a 100,000-row check): the exit code,
    # every line and the report are there, and an exit hook is not run. A run ends as usual.
    report = tmp_path / "r.csv"
    args = [command, str(SAMPLES / "appointments.csv"), "--mapping", str(CLINIC_MAPPING)]
    args += ["--report", str(report)]
    if command != "validate":
        args += ["--state", str(tmp_path / "s.sqlite")]
    code = (
        "import atexit, sys\n"
        "from importer.cli import main\n"
        "atexit.register(lambda: print('torn down', sys.modules.get('hypothesis')))\n"
        f"sys.argv = ['apptoto-import', *{args!r}]\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env_for(sandbox),
        check=False,
    )
    assert done.returncode == 1, done.stderr
    lines = done.stdout.strip().splitlines()
    # pandera left hypothesis (installed for the tests) out of the command's process.
    assert (lines[-1] == "torn down None") == (command == "run")
    assert len(read_report(report)) == 22
    if command == "validate":
        assert lines[-1].startswith("14 valid, 8 invalid rows in appointments.csv")


def test_the_workers_server_leaves_out_what_only_tests_use_and_a_test_run_keeps_it() -> None:
    probe = (
        "import sys\n"
        "import importer.worker_preload\n"
        "print(sys.modules.get('hypothesis'), 'pandera' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["None", "True"]
    kept = "import sys, hypothesis\n" + probe
    done = subprocess.run([sys.executable, "-c", kept], capture_output=True, text=True, check=True)
    assert done.stdout.startswith("<module 'hypothesis'")
