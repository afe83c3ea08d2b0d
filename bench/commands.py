"""``apptoto-import validate`` and ``run`` as whole processes, started as a user starts them.

``validate`` of each file: wall time from the start of the process to its exit (Python's
start-up and imports included) and the process's peak memory, best of the repeats (see
``bench.processes``). It exits 1 when the file has invalid rows, as the clinic files do.

``run`` of a clean file into a sandbox without rate limit or latency (in its own process, so
the two never share one GIL), the client told a rate no file reaches (``--rate``), the state
folder a fresh temporary one (``APPTOTO_IMPORT_HOME``). The sandbox then holds what the run
reports created, and nothing twice.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.pipeline import MAPPING
from bench.processes import ProcessFigures, best_of, console_script
from bench.upload import sandbox_process
from importer.sandbox import SandboxHandle, SandboxSettings

UNLIMITED_RATE = "1000000"  # requests per minute: the client's pacing out of the way
_VALIDATE_LINE = re.compile(r"^(\d+) valid, (\d+) invalid rows", re.MULTILINE)


@dataclass(frozen=True)
class CommandFigures:
    """One command on one file: the process's figures and what it said it did."""

    command: str  # "validate" or "run"
    file: str
    rows: int
    process: ProcessFigures
    counts: dict[str, int]  # validate: valid/invalid rows; run: the summary's counts

    def as_json(self) -> dict[str, Any]:
        """The figures, JSON-ready."""
        return {
            "command": self.command,
            "file": self.file,
            "rows": self.rows,
            **self.process.as_json(),
            "counts": self.counts,
        }


def sandbox_env(sandbox: SandboxHandle, home: str) -> dict[str, str]:
    """The environment that points the commands at ``sandbox``, with ``home`` as data folder."""
    return {
        "APPTOTO_BASE_URL": sandbox.base_url,
        "APPTOTO_USER": sandbox.user,
        "APPTOTO_API_KEY": sandbox.api_key,
        "APPTOTO_IMPORT_HOME": home,
    }


def validate_command(path: Path, rows: int, *options: str) -> list[str]:
    """What a user types to check ``path`` (``--max-rows`` when it is over the default cap)."""
    return [
        console_script(),
        "validate",
        str(path),
        "--mapping",
        str(MAPPING),
        "--max-rows",
        str(rows),
        *options,
    ]


def measure_validate(
    path: Path, rows: int, *options: str, repeats: int, out: Path
) -> CommandFigures:
    """``apptoto-import validate`` of ``path`` (with ``options``): best wall time of
    ``repeats``, their peak."""
    said = out / f"{path.name}.validate.txt"
    figures = best_of(
        validate_command(path, rows, *options),
        repeats=repeats,
        output=said,
        allowed_exit_codes=(0, 1),
    )
    found = _VALIDATE_LINE.findall(said.read_text(encoding="utf-8", errors="replace"))
    if not found:
        raise RuntimeError(f"validate of {path} printed no summary line: see {said}")
    valid, invalid = (int(n) for n in found[-1])
    counts = {"valid": valid, "invalid": invalid}
    return CommandFigures("validate", path.name, rows, figures, counts)


def measure_run(path: Path, rows: int, *, out: Path) -> CommandFigures:
    """``apptoto-import run`` of ``path`` into a fresh sandbox without limit, in a fresh folder.

    Raises RuntimeError unless the run ends with its rows accounted for (exit 0, or 1 for the
    file's invalid rows) and the sandbox holds each created event once.
    """
    settings = SandboxSettings(rate_limit_requests=0, latency_seconds=0.0)
    with sandbox_process(settings) as sandbox, tempfile.TemporaryDirectory() as home:
        summary = Path(home) / "summary.json"
        command = [
            console_script(),
            "run",
            str(path),
            "--mapping",
            str(MAPPING),
            "--max-rows",
            str(rows),
            "--rate",
            UNLIMITED_RATE,
            "--report",
            str(Path(home) / "report.csv"),
            "--summary-json",
            str(summary),
            "--quiet",
        ]
        env = sandbox_env(sandbox, home)
        said = out / f"{path.name}.run.txt"
        figures = best_of(command, repeats=1, output=said, env=env, allowed_exit_codes=(0, 1))
        counts = {k: int(v) for k, v in json.loads(summary.read_text("utf-8"))["counts"].items()}
        stats = sandbox.stats()
    stored, duplicates = int(stats["events_stored"]), len(stats["duplicates"])
    if stored != counts.get("created", 0) or duplicates:
        raise RuntimeError(
            f"run of {path}: {counts} but the sandbox holds {stored} events, "
            f"{duplicates} stored twice; see {said}"
        )
    counts |= {"stored": stored, "duplicates": duplicates}
    return CommandFigures("run", path.name, rows, figures, counts)
