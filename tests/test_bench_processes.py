"""``bench.processes``: a command's peak memory is its own, not that of the bench that started it.

Linux counts the memory a process held when it started another program as that program's peak
(``ru_maxrss``); the bench holds big tables, so without its launcher every command measured
after them would report at least the bench's peak.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bench.processes import measure_command

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss in KiB: Linux")

MB = 10**6
TOUCH_200_MB = "b = bytearray(200 * 2**20); b[::4096] = bytes([1]) * len(b[::4096])"


def test_a_small_command_started_by_a_big_parent_reports_its_own_small_peak(
    tmp_path: Path,
) -> None:
    held = bytearray(300 * 2**20)  # the bench holding a big table when it starts the command
    held[::4096] = bytes([1]) * len(held[::4096])
    said = tmp_path / "said.txt"
    small = measure_command(
        [sys.executable, "-c", "print('checked'); raise SystemExit(3)"], output=said
    )
    del held
    assert small.exit_code == 3
    assert said.read_text(encoding="utf-8").strip() == "checked"
    assert 0 < small.peak_bytes < 100 * MB  # not the parent's 300 MiB


def test_a_big_command_reports_its_peak(tmp_path: Path) -> None:
    big = measure_command([sys.executable, "-c", TOUCH_200_MB], output=tmp_path / "said.txt")
    assert big.exit_code == 0
    assert big.peak_bytes >= 200 * 2**20
    assert big.peak_mb == big.peak_bytes / MB


def test_a_command_with_processes_of_its_own_reports_their_sum(tmp_path: Path) -> None:
    # Two processes of 150 MiB each, alive together for a second: ru_maxrss says 150.
    both = (
        "import subprocess, sys, time\n"
        f"code = {TOUCH_200_MB.replace('200', '150')!r} + '; import time; time.sleep(1)'\n"
        "child = subprocess.Popen([sys.executable, '-c', code])\n"
        f"exec(code)\n"
        "child.wait()\n"
    )
    pair = measure_command([sys.executable, "-c", both], output=tmp_path / "said.txt")
    assert pair.exit_code == 0
    assert pair.peak_bytes >= 2 * 150 * 2**20
