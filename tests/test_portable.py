"""The importer on Windows: no POSIX-only module or function in ``importer/``, and the command
line working in a process where they are missing (``tests/no_posix.py``).

The static check reads every module's syntax tree; the process check runs validate, run against
the sandbox, plan, and a second run that the first one's lock refuses, as Windows would.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from importer.sandbox.server import SandboxHandle
from tests.helpers import CLINIC_MAPPING, ROOT, SAMPLES, env_for, live_events, run_process
from tests.no_posix import POSIX_ONLY_MODULES, POSIX_ONLY_OS

NO_POSIX = (sys.executable, str(ROOT / "tests" / "no_posix.py"))
# Names that Windows' ``os`` and ``signal`` lack (beyond what no_posix.py removes at run time).
POSIX_ONLY_ATTRIBUTES = {
    "os": set(POSIX_ONLY_OS)
    | {"forkpty", "getuid", "geteuid", "getgid", "getegid", "killpg", "setsid", "getpgid"}
    | {"chown", "fchown", "lchown", "mkfifo", "sync", "getloadavg", "nice", "statvfs"}
    | {"wait3", "wait4", "sysconf", "O_NOFOLLOW", "O_CLOEXEC", "pipe2", "sched_getaffinity"},
    "signal": {"SIGKILL", "SIGHUP", "SIGALRM", "SIGUSR1", "SIGUSR2", "SIGCHLD", "SIGPIPE"}
    | {"SIGQUIT", "alarm", "setitimer", "pthread_kill", "pthread_sigmask", "siginterrupt"},
}


def posix_only_uses(path: Path) -> list[str]:
    """``file:line what`` for each POSIX-only import or attribute that ``path`` uses."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
            if node.module in POSIX_ONLY_ATTRIBUTES:
                names += [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            names = [f"{node.value.id}.{node.attr}"]
        for name in names:
            module, _, attribute = name.partition(".")
            whole_module = module in POSIX_ONLY_MODULES and not attribute
            if whole_module or attribute in POSIX_ONLY_ATTRIBUTES.get(module, ()):
                found.append(f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)} {name}")
    return found


def test_the_importer_uses_no_posix_only_module_or_function() -> None:
    modules = sorted((ROOT / "importer").rglob("*.py"))
    assert len(modules) > 50
    assert [use for path in modules for use in posix_only_uses(path)] == []


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("import fcntl\n", "fcntl"),
        ("import os\nos.pread(3, 1, 0)\n", "os.pread"),
        ("from pwd import getpwnam\n", "pwd"),
        ("from os import pwrite\n", "os.pwrite"),
        ("import signal\nsignal.alarm(3)\n", "signal.alarm"),
    ],
)
def test_the_static_check_finds_each_kind_of_use(tmp_path: Path, source: str, found: str) -> None:
    module = ROOT / "tests" / f"_probe_{tmp_path.name}.py"  # under ROOT for its relative name
    module.write_text(source, encoding="utf-8")
    try:
        uses = posix_only_uses(module)
    finally:
        module.unlink()
    assert [use.rpartition(" ")[2] for use in uses] == [found]


def test_no_posix_makes_them_unavailable_to_the_importer() -> None:
    probe = (
        "import os\n"
        "for name in ('fcntl', 'pwd'):\n"
        "    try:\n"
        "        exec(f'import {name}', {'__name__': 'importer.probe'})\n"
        "    except ModuleNotFoundError:\n"
        "        print(name, 'missing')\n"
        "print('pread' in dir(os), 'pwrite' in dir(os))\n"
    )
    done = run_process([*NO_POSIX, "-c", probe], {})
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["fcntl missing", "pwd missing", "False False"]


HOLD_LEDGER = (
    "import time\n"
    "from importer.ledger import Ledger\n"
    "ledger = Ledger.open({state!r})\n"
    "print('holding', flush=True)\n"
    "time.sleep(60)\n"
)


def test_the_command_line_works_without_posix_only_parts(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    sample = str(SAMPLES / "appointments.csv")
    mapping = str(CLINIC_MAPPING)
    state = str(tmp_path / "state.sqlite")
    env = {**env_for(sandbox), "APPTOTO_IMPORT_HOME": str(tmp_path / "home")}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return run_process([*NO_POSIX, *args], env, cwd=tmp_path)

    assert cli("--help").returncode == 0
    checked = cli("validate", sample, "-m", mapping)
    assert checked.returncode == 1, checked.stderr  # the sample's 8 deliberate mistakes
    assert "14 valid, 8 invalid rows" in checked.stdout

    sent = cli("run", sample, "-m", mapping, "--state", state, "--quiet")
    assert sent.returncode == 1, sent.stderr
    assert "done: 14 created, 8 invalid" in sent.stdout
    assert len(live_events(sandbox)) == 14

    planned = cli("plan", sample, "-m", mapping, "--state", state, "--quiet")
    assert planned.returncode == 1, planned.stderr
    assert "14 unchanged, 8 invalid" in planned.stdout
    requests_before = len(sandbox.requests())

    holder = subprocess.Popen(
        [*NO_POSIX, "-c", HOLD_LEDGER.format(state=state)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "holding\n"
        blocked = cli("run", sample, "-m", mapping, "--state", state, "--quiet")
    finally:
        holder.kill()
        holder.communicate(timeout=30)
    assert blocked.returncode == 2
    assert f"another import is running with the state file {state} (pid {holder.pid}," in (
        blocked.stderr + blocked.stdout
    )
    assert len(sandbox.requests()) == requests_before  # the refused run sent nothing
