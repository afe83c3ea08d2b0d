"""A command as a user starts it: its wall time (start-up included) and its own peak memory.

``measure_command`` starts a small launcher process (``python -m bench.processes``) that starts
the command, waits for it with ``os.wait4`` and prints the figures as JSON. The launcher is
there because Linux carries the parent's high-water mark into a child's ``ru_maxrss`` (the
memory a process had when it exec'd counts as the child's): started straight from the bench,
which once held a 100,000-row table, every child would report at least the bench's peak. The
launcher holds ~10 MiB, so what ``wait4`` reports is the command's own peak. A command that
starts worker processes is measured as the sum of its processes, sampled every 50 ms.

POSIX only (``os.wait4``), like the rest of the bench's memory figures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
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


def _tree_rss(root: int) -> int:
    """The memory of ``root`` and every process under it, now (Linux /proc; 0 elsewhere)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(parents.get(pid, ()))
        total += _proportional_bytes(pid)
    return total


def _proportional_bytes(pid: int) -> int:
    """The memory of ``pid``, pages it shares with others (a forked worker and the process it
    was forked from) counted in proportion (``Pss``); its resident bytes where that is not
    known. Summed resident bytes would count shared pages once per process."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
TREE_SAMPLE_SECONDS = 0.05


class TreeSampler(threading.Thread):
    """The highest sum of the memory of a command and the processes it started (its worker
    processes, :mod:`importer.workers`), sampled: ``wait4``'s ``ru_maxrss`` is the biggest one
    process's peak, not their sum."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.peak = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(TREE_SAMPLE_SECONDS):
            self.peak = max(self.peak, _tree_rss(self.root))


def _launch(output: Path, command: list[str]) -> dict[str, Any]:
    with output.open("wb") as sink:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
        sampler = TreeSampler(process.pid)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        sampler.done.set()
        sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    return {
        "seconds": round(seconds, 4),
        # The command's own peak (exact), or all its processes' together (sampled) if higher.
        "peak_bytes": max(usage.ru_maxrss * 1024, sampler.peak),  # ru_maxrss: KiB on Linux
        "exit_code": process.returncode,
    }


if __name__ == "__main__":
    print(json.dumps(_launch(Path(sys.argv[1]), sys.argv[2:])))
