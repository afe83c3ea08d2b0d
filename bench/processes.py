"""A command as a user starts it: its wall time (start-up included) and its own peak memory.

``measure_command`` starts a small launcher process (``python -m bench.processes``) that starts
the command, waits for it with ``os.wait4`` and prints the figures as JSON. The launcher is
there because Linux carries the parent's high-water mark into a child's ``ru_maxrss`` (the
memory a process had when it exec'd counts as the child's): started straight from the bench,
which once held a 100,000-row table, every child would report at least the bench's peak. The
launcher holds ~10 MiB, so what ``wait4`` reports is the command's own peak.

POSIX only (``os.wait4``), like the rest of the bench's memory figures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LAUNCHER_TIMEOUT_SECONDS = 3600.0


@dataclass(frozen=True)
class ProcessFigures:
    """One finished command: wall seconds from start to exit, peak resident memory, exit code."""

    seconds: float
    peak_bytes: int  # ru_maxrss of the command alone
    exit_code: int

    @property
    def peak_mb(self) -> float:
        """The peak in MB (10^6 bytes), as the issue's targets are written."""
        return self.peak_bytes / 1e6

    def as_json(self) -> dict[str, Any]:
        """The figures, JSON-ready."""
        return {**asdict(self), "peak_mb": round(self.peak_mb, 1)}


def console_script(name: str = "apptoto-import") -> str:
    """The installed command beside this Python (``.venv/bin/apptoto-import``)."""
    script = Path(sys.executable).with_name(name)
    if not script.exists():
        raise RuntimeError(f"{script} is missing: run `make install` first")
    return str(script)


def measure_command(
    command: Sequence[str], *, output: Path, env: Mapping[str, str] | None = None
) -> ProcessFigures:
    """Run ``command`` (its stdout and stderr into ``output``) through the launcher."""
    launcher = [sys.executable, "-m", "bench.processes", str(output), *command]
    finished = subprocess.run(
        launcher,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=LAUNCHER_TIMEOUT_SECONDS,
        check=False,
    )
    if finished.returncode != 0:
        raise RuntimeError(f"{' '.join(launcher)} failed:\n{finished.stderr[-3000:]}")
    result = json.loads(finished.stdout.strip().splitlines()[-1])
    return ProcessFigures(**result)


def best_of(
    command: Sequence[str],
    *,
    repeats: int,
    output: Path,
    env: Mapping[str, str] | None = None,
    allowed_exit_codes: tuple[int, ...] = (0,),
) -> ProcessFigures:
    """The fastest of ``repeats`` runs, with the highest peak of them all (a peak varies little).

    Raises RuntimeError when a run ends with an exit code not in ``allowed_exit_codes``.
    """
    runs = []
    for _ in range(repeats):
        figures = measure_command(command, output=output, env=env)
        if figures.exit_code not in allowed_exit_codes:
            said = output.read_text(encoding="utf-8", errors="replace")[-3000:]
            raise RuntimeError(f"{' '.join(command)} exited {figures.exit_code}:\n{said}")
        runs.append(figures)
    fastest = min(runs, key=lambda f: f.seconds)
    return ProcessFigures(
        seconds=fastest.seconds,
        peak_bytes=max(f.peak_bytes for f in runs),
        exit_code=fastest.exit_code,
    )


def _launch(output: Path, command: list[str]) -> dict[str, Any]:
    with output.open("wb") as sink:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    return {
        "seconds": round(seconds, 4),
        "peak_bytes": usage.ru_maxrss * 1024,  # KiB on Linux
        "exit_code": process.returncode,
    }


if __name__ == "__main__":
    print(json.dumps(_launch(Path(sys.argv[1]), sys.argv[2:])))
