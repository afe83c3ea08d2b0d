"""One ledger wherever a command starts: the per-user data folder, the old places still used, the
network-drive warning, and a cron-style run from another folder sharing the project's ledger."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import platformdirs
import pytest

from importer.paths import (
    ENV_HOME,
    data_folder,
    mappings_folder,
    mount_type,
    network_drive_warning,
    parse_mac_mount,
    parse_proc_mounts,
    state_file,
)
from importer.sandbox.server import SandboxHandle
from importer.web.settings import WebSettings
from tests.helpers import (
    CLINIC_MAPPING,
    IMPORTER,
    SAMPLES,
    env_for,
    invoke_cli,
    live_events,
    run_process,
)

SAMPLE = str(SAMPLES / "appointments.csv")


def test_the_data_folder_is_the_variable_else_the_systems_per_user_folder(tmp_path: Path) -> None:
    assert data_folder({ENV_HOME: str(tmp_path)}) == tmp_path
    system = platformdirs.user_data_path("apptoto-import", appauthor=False)
    assert data_folder({}) == system
    assert data_folder({ENV_HOME: "  "}) == system


def test_the_default_places_do_not_depend_on_the_working_folder(
    tmp_path: Path, data_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for folder in (tmp_path, Path(tmp_path.anchor)):
        assert state_file(folder) == state_file(tmp_path)
        assert state_file(folder).path == data_folder / "state.sqlite"
        assert mappings_folder(folder).path == data_folder / "mappings"
    settings = WebSettings()  # the page's defaults are the command line's
    assert settings.ledger_path == data_folder / "state.sqlite"
    assert settings.mappings_dir == data_folder / "mappings"
    assert settings.runs_dir == data_folder / "web-runs"


def test_a_folder_holding_the_old_ledger_and_mappings_keeps_using_them(tmp_path: Path) -> None:
    (tmp_path / ".apptoto-import").mkdir()
    (tmp_path / ".apptoto-import" / "state.sqlite").write_bytes(b"")
    (tmp_path / "mappings").mkdir()
    assert mappings_folder(tmp_path).note == ""  # an empty folder is not a place in use
    shutil.copy(CLINIC_MAPPING, tmp_path / "mappings")
    state, mappings = state_file(tmp_path), mappings_folder(tmp_path)
    assert state.path == tmp_path / ".apptoto-import" / "state.sqlite"
    assert mappings.path == tmp_path / "mappings"
    assert "using the state file found in the old place" in state.note
    assert "using the mappings folder found in the old place" in mappings.note


PROC_MOUNTS = """\
/dev/sda1 / ext4 rw,relatime 0 0
server:/export /mnt/office nfs4 rw,relatime 0 0
/dev/sdb1 /mnt/office/local ext4 rw 0 0
//nas/share /mnt/my\\040share cifs rw 0 0
"""
MAC_MOUNT = """\
/dev/disk3s1s1 on / (apfs, sealed, local, read-only, journaled)
//staff@nas._smb._tcp.local/Office on /Volumes/Office (smbfs, nodev, nosuid, mounted by staff)
"""


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/home/staff/state.sqlite", ""),
        ("/mnt/office/state.sqlite", "nfs4"),
        ("/mnt/office/local/state.sqlite", ""),  # a local disk mounted inside the share
        ("/mnt/my share/state.sqlite", "cifs"),
        ("/mnt/officer/state.sqlite", ""),  # a name that starts like the share is not in it
    ],
)
def test_a_network_mount_is_told_from_linux_mounts(path: str, kind: str) -> None:
    assert mount_type(Path(path), parse_proc_mounts(PROC_MOUNTS)) == kind


def test_a_network_mount_is_told_from_macos_mounts() -> None:
    table = parse_mac_mount(MAC_MOUNT)
    assert mount_type(Path("/Volumes/Office/ledger/state.sqlite"), table) == "smbfs"
    assert mount_type(Path("/Users/staff/state.sqlite"), table) == ""


def test_no_warning_for_a_state_file_on_this_computers_disk(tmp_path: Path) -> None:
    assert network_drive_warning(tmp_path / "state.sqlite") == ""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX mount points (Windows: its drive type)")
def test_a_state_file_on_a_network_mount_is_warned_about_in_everyday_words() -> None:
    table = parse_proc_mounts(PROC_MOUNTS)
    warning = network_drive_warning(Path("/mnt/office/apptoto/state.sqlite"), table)
    assert warning.startswith(
        "the state file /mnt/office/apptoto/state.sqlite is on a network drive (nfs4)"
    )
    assert "may send appointments twice" in warning and "own disk" in warning
    assert network_drive_warning(Path("/mnt/office/local/state.sqlite"), table) == ""


def test_a_cron_style_run_from_another_folder_sees_the_project_folders_ledger(
    sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data_folder: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    report = str(tmp_path / "report.csv")
    first = invoke_cli(
        ["run", SAMPLE, "-m", str(CLINIC_MAPPING), "--report", report, "-q"], env_for(sandbox)
    )
    assert first.exit_code == 1, first.output  # the sample's 8 invalid rows
    assert "14 created, 8 invalid" in first.output
    requests = len(sandbox.requests())

    # cron starts in / (or the home folder), not in the project folder
    again = [*IMPORTER, "run", SAMPLE, "-m", str(CLINIC_MAPPING), "--report", report, "-q"]
    nightly = run_process(again, env_for(sandbox), cwd=Path(tmp_path.anchor))
    assert nightly.returncode == 1, nightly.stderr
    assert "14 unchanged, 8 invalid" in nightly.stdout
    assert len(sandbox.requests()) == requests and len(live_events(sandbox)) == 14

    planned = run_process(
        [*IMPORTER, "plan", SAMPLE, "-m", str(CLINIC_MAPPING), "-q", "--report", report],
        env_for(sandbox),
        cwd=Path(tmp_path.anchor),
    )
    assert f"state file: {data_folder / 'state.sqlite'}" in planned.stdout
    assert "14 unchanged, 8 invalid" in planned.stdout
    assert not (project / ".apptoto-import").exists()


def test_a_run_beside_an_old_ledger_uses_it_and_says_so(
    sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data_folder: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    report = str(tmp_path / "report.csv")
    old = tmp_path / ".apptoto-import" / "state.sqlite"
    args = ["run", SAMPLE, "-m", str(CLINIC_MAPPING), "--report", report, "-q"]
    first = invoke_cli([*args, "--state", str(old)], env_for(sandbox))
    assert "14 created" in first.output

    again = invoke_cli(args, env_for(sandbox))
    assert "14 unchanged, 8 invalid" in again.output
    assert again.output.count("using the state file found in the old place") == 1
    assert str(old) in again.output
    assert not (data_folder / "state.sqlite").exists()
