"""Local pipeline: how long staff wait for ``validate``, phase by phase, and the peak memory.

Each file is measured in its own Python process (``python -m bench.pipeline ours FILE``), so the
peak resident memory (``VmHWM``, see ``_peak_mb``) is that file's alone and one size does not
inflate the next.
Inside it, the phases are timed the way ``importer.prepare.prepare`` runs them:

- load: ``load_table`` (CSV or XLSX into text cells);
- checks: the mapping's columns against the header, then ``validate_columns`` (pandera);
- map: ``build_events`` (templates, dates and zones, phones) and its payload dicts, read once;
- validate: what ``apptoto-import validate`` calls (``validate_file``, a part at a time, or
  ``validate_sheets`` for several sheets): load, checks and map of the whole file (every value
  checked and mapped; the payload dicts are not made, as ``validate`` never reads them), with
  the command line's worker processes (``--workers``' default): the peak memory is that of this
  process and its workers together (sampled, ``bench.processes.TreeSampler``).

Each figure is the best of ``repeats`` runs (the machine is shared; the best run is the one least
disturbed). Imports of pandas/pandera are done before timing.

Baselines, also one process each: pandas ``read_excel(engine="openpyxl")`` loading the same
workbook, and ``bench.naive_map`` (csv.DictReader + strptime + ZoneInfo) mapping the same CSV.
The readers alone, the floor of ``validate``: pandas ``read_csv(dtype=str)`` of the CSV and
python-calamine reading the workbook's sheet into Python values.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sized
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.processes import TreeSampler

if TYPE_CHECKING:
    from importer.pipeline import RunRequest

ROOT = Path(__file__).resolve().parents[1]
MAPPING = ROOT / "importer" / "examples" / "clinic.yaml"


def _peak_mb() -> float:
    """Peak resident memory of this process so far, in MB.

    ``VmHWM`` from /proc first: Linux keeps ``ru_maxrss`` across fork and exec, so a child of a
    process that once held a big table would report the parent's peak. ``ru_maxrss`` (KiB) where
    /proc is missing.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _best(times: list[float]) -> float:
    return round(min(times), 4)


def _validate_as_the_cli_does(request: RunRequest) -> int:
    """What ``apptoto-import validate`` calls (``importer.cli.importing.validate``): one sheet a
    part at a time (``validate_file``), several sheets with ``validate_sheets``. Invalid rows."""
    from importer.outcomes import RowStatus
    from importer.pipeline import validate_file
    from importer.several_sheets import sheets_to_read, validate_sheets

    if sheets_to_read(request) is None:
        return validate_file(request).done.counter[RowStatus.INVALID.value]
    results = [r for check in validate_sheets(request) for r in check.results]
    return sum(1 for r in results if r.status is RowStatus.INVALID)


def measure_ours(path: Path, *, repeats: int, max_rows: int) -> dict[str, Any]:
    """Phase times (best of ``repeats``), row and problem counts, peak memory: this process.

    The phases (load, checks, map) read the file whole; a file of more than ``WHOLE_ROWS`` rows
    is never read whole by a command (importer.file_facts), so it gets ``validate`` alone and
    the peak is that of ``validate``."""
    from importer.load.parts import WHOLE_ROWS
    from importer.mapping import load_mapping
    from importer.pipeline import RunRequest
    from importer.workers import default_workers

    mapping = load_mapping(MAPPING)
    phases: dict[str, list[float]] = {"load": [], "checks": [], "map": [], "validate": []}
    counts: dict[str, int] = {}
    if max_rows > WHOLE_ROWS:
        counts["rows"] = max_rows  # a bench file has as many rows as its cap
        phases = {"validate": []}
    workers = default_workers()  # as the command line's default
    tree = TreeSampler(os.getpid())  # this process and its worker processes together
    tree.start()
    for _ in range(repeats):
        if max_rows <= WHOLE_ROWS:
            counts.update(_whole_phases(path, max_rows, phases))
        started = time.perf_counter()
        request = RunRequest(path, mapping, max_rows=max_rows, workers=workers)
        counts["invalid_rows"] = _validate_as_the_cli_does(request)
        phases["validate"].append(time.perf_counter() - started)
        gc.collect()
    tree.done.set()
    tree.join()
    return {
        "file": path.name,
        **{phase: _best(times) for phase, times in phases.items()},
        **counts,
        "repeats": repeats,
        "workers": workers,
        "peak_mb": round(max(_peak_mb(), tree.peak / 2**20), 1),
    }


def _whole_phases(path: Path, max_rows: int, phases: dict[str, list[float]]) -> dict[str, int]:
    """The file read whole, checked and mapped, each phase's time added to ``phases``."""
    from importer.events import build_events
    from importer.load import load_table, strip_report_columns
    from importer.mapping import check_columns, load_mapping
    from importer.validate import validate_columns

    mapping = load_mapping(MAPPING)
    sheet = mapping.sheet if path.suffix.lower() == ".xlsx" else None
    started = time.perf_counter()
    loaded = load_table(path, sheet=sheet, max_rows=max_rows)
    loaded_at = time.perf_counter()
    source, _ = strip_report_columns(loaded.frame)
    check_columns(mapping, [str(c) for c in source.columns])
    column_issues = validate_columns(source, mapping)
    checked_at = time.perf_counter()
    built = build_events(source, mapping)
    payloads = len(built.payloads)  # the dicts are made when first read: timed with the map
    mapped_at = time.perf_counter()
    phases["load"].append(loaded_at - started)
    phases["checks"].append(checked_at - loaded_at)
    phases["map"].append(mapped_at - checked_at)
    counts = {
        "rows": len(source),
        "column_issues": len(column_issues),
        "payloads": payloads,
    }
    del loaded, source, column_issues, built
    gc.collect()
    return counts


def _best_read(path: Path, repeats: int, read: Callable[[], Sized]) -> dict[str, Any]:
    """Best time of ``repeats`` calls of ``read`` (rows: the length of what it returned)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        table = read()
        times.append(time.perf_counter() - started)
        rows = len(table)
        del table
        gc.collect()
    return {"file": path.name, "load": _best(times), "rows": rows, "peak_mb": round(_peak_mb(), 1)}


def measure_openpyxl(path: Path, *, repeats: int) -> dict[str, Any]:
    """pandas ``read_excel`` with openpyxl, as scripts call it (``dtype=str`` costs the same)."""
    import pandas as pd

    return _best_read(
        path, repeats, lambda: pd.read_excel(path, engine="openpyxl", sheet_name="Appointments")
    )


def measure_dictreader(path: Path, *, repeats: int) -> dict[str, Any]:
    """``bench.naive_map`` over the CSV: load and map in one loop, no checks."""
    from bench.naive_map import map_rows

    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        events, skipped = map_rows(path)
        times.append(time.perf_counter() - started)
        counts = {"payloads": len(events), "skipped_rows": skipped}
        del events
        gc.collect()
    return {"file": path.name, "map": _best(times), **counts, "peak_mb": round(_peak_mb(), 1)}


def measure_read_csv(path: Path, *, repeats: int) -> dict[str, Any]:
    """pandas ``read_csv`` of every cell as text, the C reader: the CSV's floor."""
    import pandas as pd

    return _best_read(path, repeats, lambda: pd.read_csv(path, dtype=str, keep_default_na=False))


def measure_calamine(path: Path, *, repeats: int) -> dict[str, Any]:
    """python-calamine reading the mapping's sheet into Python values: the workbook's floor."""
    from python_calamine import CalamineWorkbook

    from importer.mapping import load_mapping

    sheet = load_mapping(MAPPING).sheet or "Appointments"
    figures = _best_read(
        path,
        repeats,
        lambda: CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python(),
    )
    return figures | {"rows": figures["rows"] - 1}  # the header is not a row


MEASUREMENTS = ("ours", "openpyxl", "dictreader", "read_csv", "calamine")


def run_measurement(what: str, path: Path, *, repeats: int, max_rows: int) -> dict[str, Any]:
    """Run one of ``MEASUREMENTS`` in a fresh process."""
    command = [sys.executable, "-m", "bench.pipeline", what, str(path)]
    command += ["--repeats", str(repeats), "--max-rows", str(max_rows)]
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if finished.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{finished.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(finished.stdout.strip().splitlines()[-1])
    return result


def _main(arguments: list[str]) -> None:
    what, path = arguments[0], Path(arguments[1])
    options = dict(zip(arguments[2::2], arguments[3::2], strict=True))
    repeats = int(options.get("--repeats", "1"))
    max_rows = int(options.get("--max-rows", "200000"))
    if what == "ours":
        result = measure_ours(path, repeats=repeats, max_rows=max_rows)
    elif what == "openpyxl":
        result = measure_openpyxl(path, repeats=repeats)
    elif what == "dictreader":
        result = measure_dictreader(path, repeats=repeats)
    elif what == "read_csv":
        result = measure_read_csv(path, repeats=repeats)
    elif what == "calamine":
        result = measure_calamine(path, repeats=repeats)
    else:
        raise SystemExit(f"unknown measurement {what!r}: {', '.join(MEASUREMENTS)}")
    print(json.dumps(result))


if __name__ == "__main__":
    _main(sys.argv[1:])
