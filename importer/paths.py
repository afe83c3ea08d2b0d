"""Where the importer keeps its files when not told: one data folder per user, whatever the folder
a command starts in.

The data folder is ``APPTOTO_IMPORT_HOME`` when set, else the system's per-user data folder
(platformdirs: ``~/.local/share/apptoto-import`` on Linux, ``~/Library/Application
Support/apptoto-import`` on macOS, ``%LOCALAPPDATA%\\apptoto-import`` on Windows). It holds the
ledger (``state.sqlite``), the mappings the web page offers and ``init`` writes (``mappings/``),
and the web page's runs (``web-runs/``). The command line and the web page share it, so a nightly
job started in another folder sees the same ledger as everyone else.

Older versions kept the ledger in ``.apptoto-import/state.sqlite`` and the mappings in
``mappings/`` of the working directory: when a command starts in a folder that has them, it uses
them, so nothing sent before is forgotten, and :attr:`Place.note` says so.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import platformdirs

ENV_HOME = "APPTOTO_IMPORT_HOME"  # the data folder, instead of the system's per-user one
APP_FOLDER = "apptoto-import"
STATE_NAME = "state.sqlite"
MAPPINGS_NAME = "mappings"
WEB_RUNS_NAME = "web-runs"
OLD_STATE = Path(".apptoto-import") / STATE_NAME  # the ledger's place before the data folder
OLD_MAPPINGS = Path(MAPPINGS_NAME)


@dataclass(frozen=True)
class Place:
    """A default file or folder, and what to tell the user about it once ("" when nothing)."""

    path: Path
    note: str = ""


def data_folder(environ: Mapping[str, str] | None = None) -> Path:
    """``APPTOTO_IMPORT_HOME``, else the per-user data folder of the system (not created here)."""
    env = os.environ if environ is None else environ
    chosen = env.get(ENV_HOME, "").strip()
    if chosen:
        return Path(chosen).expanduser().absolute()
    return platformdirs.user_data_path(APP_FOLDER, appauthor=False)


def _old_or_new(old: Path, new: Path, what: str, *, is_old: bool) -> Place:
    """``new``, or ``old`` (the old place in the working folder) with a note when ``is_old``."""
    if not is_old:
        return Place(new)
    found = old.absolute()
    return Place(
        found,
        f"using the {what} found in the old place {found}; commands started in other folders "
        f"use {new}: move it there so that every run and the web page share it",
    )


def state_file(cwd: Path | None = None, environ: Mapping[str, str] | None = None) -> Place:
    """The ledger: ``.apptoto-import/state.sqlite`` of ``cwd`` when it exists, else the data
    folder's ``state.sqlite``."""
    old = (cwd or Path.cwd()) / OLD_STATE
    new = data_folder(environ) / STATE_NAME
    return _old_or_new(old, new, "state file", is_old=old.is_file())


def mappings_folder(cwd: Path | None = None, environ: Mapping[str, str] | None = None) -> Place:
    """The mappings: ``mappings/`` of ``cwd`` when it holds any, else the data folder's."""
    old = (cwd or Path.cwd()) / OLD_MAPPINGS
    has_mappings = old.is_dir() and any(old.glob("*.y*ml"))
    new = data_folder(environ) / MAPPINGS_NAME
    return _old_or_new(old, new, "mappings folder", is_old=has_mappings)


def web_runs_folder(environ: Mapping[str, str] | None = None) -> Path:
    """Where the web page keeps each run's reports and record."""
    return data_folder(environ) / WEB_RUNS_NAME


# File systems whose locks SQLite cannot trust (and where its WAL shared memory does not work).
NETWORK_FILE_SYSTEMS = frozenset(
    {"nfs", "nfs4", "cifs", "smb", "smb2", "smb3", "smbfs", "afpfs", "webdav", "davfs", "9p"}
    | {"fuse.sshfs", "sshfs", "afs", "ceph", "glusterfs", "fuse.glusterfs", "lustre", "ncpfs"}
)
_DRIVE_REMOTE = 4  # GetDriveTypeW: a network drive
_MAC_MOUNT = re.compile(r"^.+? on (?P<point>.+) \((?P<type>[^,)]+)")


def network_drive(path: Path, table: Sequence[tuple[str, str]] | None = None) -> str:
    """The kind of network drive ``path`` is on ("nfs", "smbfs", "network drive"), else "".

    Detected from the mount table on Linux (``/proc/mounts``) and macOS (``mount``), or ``table``
    when given, and from the drive on Windows; "" when it cannot be told.
    """
    target = path.resolve()
    if table is None and sys.platform == "win32":
        return _windows_drive(target)
    return mount_type(target, _mount_table() if table is None else table)


def mount_type(path: Path, table: Sequence[tuple[str, str]]) -> str:
    """The network file system of the innermost mount point (of ``table``) holding ``path``."""
    best, kind = "", ""
    for point, fs_type in table:
        inside = path == Path(point) or Path(point) in path.parents
        if inside and len(point) >= len(best):
            best, kind = point, fs_type
    return kind if kind.lower() in NETWORK_FILE_SYSTEMS else ""


def parse_proc_mounts(text: str) -> list[tuple[str, str]]:
    """(mount point, file system type) of each line of Linux's ``/proc/mounts``."""
    table = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 3:  # octal escapes: a space in a mount point is \040
            point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[1])
            table.append((point, fields[2]))
    return table


def parse_mac_mount(text: str) -> list[tuple[str, str]]:
    """(mount point, file system type) of each line macOS's ``mount`` prints."""
    found = (_MAC_MOUNT.match(line) for line in text.splitlines())
    return [(m.group("point"), m.group("type").strip()) for m in found if m]


def _mount_table() -> list[tuple[str, str]]:
    try:
        if sys.platform.startswith("linux"):
            return parse_proc_mounts(Path("/proc/mounts").read_text(encoding="utf-8"))
        if sys.platform == "darwin":
            shown = subprocess.run(
                ["/sbin/mount"], capture_output=True, text=True, timeout=10, check=False
            )
            return parse_mac_mount(shown.stdout)
    except (OSError, subprocess.SubprocessError, UnicodeDecodeError):
        pass  # cannot tell: no warning rather than a run stopped by a courtesy check
    return []


def _windows_drive(path: Path) -> str:
    if path.drive.startswith("\\\\"):  # \\server\share
        return "network drive"
    import ctypes

    kernel32 = getattr(getattr(ctypes, "windll", None), "kernel32", None)
    if kernel32 is None or not path.drive:
        return ""
    is_remote = kernel32.GetDriveTypeW(f"{path.drive}\\") == _DRIVE_REMOTE
    return "network drive" if is_remote else ""


def network_drive_warning(state: Path, table: Sequence[tuple[str, str]] | None = None) -> str:
    """A warning for a state file on a network drive (its lock is not reliable there), or ""."""
    kind = network_drive(state if state.exists() else state.parent, table)
    if not kind:
        return ""
    return (
        f"the state file {state} is on a network drive ({kind}): two computers can then run at "
        "once and the file can be damaged, which may send appointments twice; keep it on this "
        "computer's own disk (the default place does)"
    )
