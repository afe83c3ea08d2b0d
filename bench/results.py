"""The results table, the machine and the versions: printed, and written as Markdown and JSON."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

VERSIONS_OF = ("pandas", "pandera", "httpx", "python-calamine", "numpy", "phonenumbers", "openpyxl")
HEADER = ("figure", "ours", "baseline", "ratio", "target", "met?")


@dataclass(frozen=True)
class Row:
    """One line of the table; ``met`` is None for figures without a target."""

    figure: str
    ours: str
    baseline: str
    ratio: str
    target: str
    met: bool | None

    def cells(self) -> tuple[str, ...]:
        """The row as text, in the order of ``HEADER``."""
        met = "" if self.met is None else ("yes" if self.met else "NO")
        return (self.figure, self.ours, self.baseline, self.ratio, self.target, met)


def _first_line_with(path: str, key: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith(key):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def machine() -> dict[str, Any]:
    """CPU count and model, memory, OS and the load average (the machine is shared)."""
    memory_kib = _first_line_with("/proc/meminfo", "MemTotal").split()[0]
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": _first_line_with("/proc/cpuinfo", "model name"),
        "memory_gib": round(int(memory_kib) / 1024 / 1024, 1) if memory_kib.isdigit() else None,
        "os": platform.platform(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def versions() -> dict[str, str]:
    """Python and the libraries the figures depend on."""
    found = {"python": platform.python_version()}
    for name in VERSIONS_OF:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def table_text(rows: Sequence[Row]) -> str:
    """The table in aligned columns, for the terminal."""
    lines = [HEADER, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]
    rule = "  ".join("-" * w for w in widths)
    text = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in lines
    ]
    return "\n".join([text[0], rule, *text[1:]])


def table_markdown(rows: Sequence[Row]) -> str:
    """The table as a Markdown table."""
    lines = [HEADER, tuple("---" for _ in HEADER), *(row.cells() for row in rows)]
    escaped = [[cell.replace("|", "\\|") for cell in line] for line in lines]
    return "\n".join("| " + " | ".join(line) + " |" for line in escaped)


def write_results(
    directory: Path,
    rows: Sequence[Row],
    *,
    notes_markdown: str,
    figures: dict[str, Any],
    started: dt.datetime,
    machine_at_start: dict[str, Any],
) -> tuple[Path, Path]:
    """Write ``results.md`` and ``results.json`` into ``directory``; return their paths."""
    finished = dt.datetime.now(dt.UTC)
    machine_at_end = machine()
    about: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "seconds": round((finished - started).total_seconds(), 1),
        "machine": {**machine_at_start, "load_average_at_end": machine_at_end["load_average"]},
        "versions": versions(),
    }
    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / "results.json"
    json_path.write_text(
        json.dumps({**about, "table": [asdict(row) for row in rows], "figures": figures}, indent=2)
        + "\n",
        encoding="utf-8",
    )
    box = about["machine"]
    lines = [
        "# Benchmarks (`make bench`)",
        "",
        f"Run {about['started']} in {about['seconds']:.0f} s on {box['cpu_count']} CPUs "
        f"({box['cpu_model']}), {box['memory_gib']} GiB memory, {box['os']}. Load average "
        f"{box['load_average']} at the start, {box['load_average_at_end']} at the end (the machine "
        "is shared: compare ratios, not absolute times).",
        "",
        "Versions: " + ", ".join(f"{name} {v}" for name, v in about["versions"].items()) + ".",
        "",
        table_markdown(rows),
        "",
        notes_markdown.strip(),
        "",
    ]
    markdown_path = directory / "results.md"
    markdown_path.write_text("\n".join(lines), encoding="utf-8")
    return markdown_path, json_path
