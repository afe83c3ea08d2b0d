"""A report that cannot be replaced (Windows refuses while Excel has it open) goes beside it under
a new name; the run says so, exits as it would have, and its summary names the new file.

The file "open in Excel" is made immutable (``chattr +i``: renaming over it then fails with
``PermissionError``, as on Windows) where that works; elsewhere a folder stands at its name.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from importer.report import not_replaced_note, write_report
from importer.sandbox.server import SandboxHandle
from tests.helpers import CLINIC_MAPPING, SAMPLES, env_for, invoke_cli, live_events, read_csv
from tests.test_report import RESULTS, source_frame

OLD_REPORT = b"row,status\r\n2,created\r\n"
WRITTEN_AT = re.compile(r"report \(written \d\d-\d\d-\d\d\)\.csv")


def make_in_use(path: Path) -> Iterator[Path]:
    """``path`` as a report that cannot be replaced; its old content stays readable."""
    path.write_bytes(OLD_REPORT)
    chattr = shutil.which("chattr")
    locked = chattr is not None and (
        subprocess.run([chattr, "+i", str(path)], capture_output=True, check=False).returncode == 0
    )
    if not locked:
        path.unlink()
        path.mkdir()
        (path / "kept.csv").write_bytes(OLD_REPORT)
    try:
        yield path
    finally:
        if locked and chattr is not None:
            subprocess.run([chattr, "-i", str(path)], check=False)


@pytest.fixture
def in_use(tmp_path: Path) -> Iterator[Path]:
    yield from make_in_use(tmp_path / "report.csv")


def old_content(path: Path) -> bytes:
    kept = path / "kept.csv" if path.is_dir() else path
    return kept.read_bytes()


def beside(path: Path) -> list[Path]:
    return sorted(p for p in path.parent.iterdir() if WRITTEN_AT.fullmatch(p.name))


def test_a_report_that_cannot_be_replaced_is_written_beside_it(in_use: Path) -> None:
    written = write_report(in_use, source_frame(), RESULTS)
    assert written != in_use and beside(in_use) == [written]
    assert old_content(in_use) == OLD_REPORT
    _, lines = read_csv(written)
    assert [line["status"] for line in lines] == [r.status.value for r in RESULTS]
    again = write_report(in_use, source_frame(), RESULTS)  # the same second: a second name
    assert again not in (written, in_use) and again.parent == in_use.parent
    assert not_replaced_note(written, in_use).endswith(f"this run's report is {written}")
    assert not_replaced_note(in_use, in_use) == ""
    assert [p.name for p in in_use.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_a_run_whose_report_is_open_keeps_its_exit_code_and_names_the_new_report(
    sandbox: SandboxHandle, in_use: Path, tmp_path: Path
) -> None:
    summary = tmp_path / "summary.json"
    args = ["run", str(SAMPLES / "appointments.csv"), "-m", str(CLINIC_MAPPING)]
    done = invoke_cli(
        [*args, "--report", str(in_use), "--summary-json", str(summary)], env_for(sandbox)
    )
    assert done.exit_code == 1, done.output  # the sample's invalid rows, as without the lock
    assert len(live_events(sandbox)) == 14  # what was sent is sent, once
    [written] = beside(in_use)
    assert f"the report {in_use} could not be replaced" in done.output
    assert "done: 14 created, 8 invalid" in done.output and f"report: {written}" in done.output
    document = json.loads(summary.read_text(encoding="utf-8"))
    assert document["report_path"] == str(written) and document["exit_code"] == 1
    assert document["error"] == "" and str(written) in document["report_note"]
    _, lines = read_csv(written)
    assert sum(line["status"] == "created" for line in lines) == 14
    assert old_content(in_use) == OLD_REPORT


def test_validate_writes_its_report_beside_one_that_is_open(in_use: Path) -> None:
    args = ["validate", str(SAMPLES / "appointments.csv"), "-m", str(CLINIC_MAPPING)]
    done = invoke_cli([*args, "--report", str(in_use)])
    assert done.exit_code == 1
    [written] = beside(in_use)
    assert f"the report {in_use} could not be replaced" in done.output
    assert f"report: {written}" in done.output
