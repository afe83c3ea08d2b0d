"""Issue 18's figures: the commands as whole processes beside the reader alone, and the page.

- ``apptoto-import validate`` of each file (``bench.commands``) beside the reader alone in its
  own process (pandas ``read_csv`` for a CSV, python-calamine for a workbook: the floor);
- ``apptoto-import run`` into the sandbox without limit (the big file only with ``--big``);
- the web review of an upload (``bench.web_review``), alone and with several people uploading it
  at once.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bench.commands import measure_run, measure_validate
from bench.pipeline import run_measurement
from bench.plan import HERE, QUICK, BenchPlan, clinic_files
from bench.results import Row, table_text
from bench.web_review import measure_review, measure_together

ONE_PROCESS = ("--workers", "1")
ALONE = ", --workers 1"
REPORTED = ", with its report"
READERS = {"csv": ("read_csv", "pandas read_csv"), "xlsx": ("calamine", "calamine")}


def _name(rows: int, kind: str) -> str:
    return f"{rows:,}-row {kind.upper()}"


def measure_whole(out: Path, plan: BenchPlan, *, big: bool) -> dict[str, Any]:
    """Every figure of this module, JSON-ready; each command and reader in its own process."""
    validate: dict[str, Any] = {}
    for rows, kind, repeats in plan.process_files:
        path = clinic_files(out, rows, (kind,))[kind]
        ours = measure_validate(path, rows, repeats=repeats, out=out).as_json()
        reader = run_measurement(READERS[kind][0], path, repeats=plan.reader_repeats, max_rows=rows)
        validate[_name(rows, kind)] = {**ours, "reader": reader}
        print(f"  validate {_name(rows, kind)}: {ours}; reader alone: {reader}", flush=True)
        if rows == plan.big_rows and kind == "csv":
            # A file in parts is checked by worker processes by default: the same in one.
            alone = measure_validate(path, rows, *ONE_PROCESS, repeats=1, out=out).as_json()
            validate[_name(rows, kind) + ALONE] = {**alone, "reader": reader}
            print(f"  validate {_name(rows, kind)}{ALONE}: {alone}", flush=True)
            # Staff keep the report (every row, its outcome): writing it is part of the job.
            report = ("--report", str(out / f"{path.name}.report.csv"))
            kept = measure_validate(path, rows, *report, repeats=1, out=out).as_json()
            validate[_name(rows, kind) + REPORTED] = {**kept, "reader": reader}
            print(f"  validate {_name(rows, kind)}{REPORTED}: {kept}", flush=True)
    runs: dict[str, Any] = {}
    for rows in (*plan.run_rows, *((plan.big_run_rows,) if big else ())):
        path = clinic_files(out, rows, ("csv",))["csv"]
        runs[_name(rows, "csv")] = measure_run(path, rows, out=out).as_json()
        print(f"  run {_name(rows, 'csv')}: {runs[_name(rows, 'csv')]}", flush=True)
    path = clinic_files(out, plan.review_rows, ("csv",))["csv"]
    review = measure_review(path, plan.review_rows, out=out).as_json()
    print(f"  web review {_name(plan.review_rows, 'csv')}: {review}", flush=True)
    people = plan.review_people
    together = measure_together(path, plan.review_rows, people=people, out=out).as_json()
    print(f"  web review, {people} at once: {together}", flush=True)
    return {"validate": validate, "run": runs, "review": review, "together": together}


def _validate_rows(validate: dict[str, Any], plan: BenchPlan) -> list[Row]:
    targets = plan.targets
    rows = []
    for name, f in validate.items():
        reader, seconds = f["reader"]["load"], f["seconds"]
        label = READERS[Path(f["file"]).suffix.lstrip(".").lower()][1]
        target, met = "", None
        if name == _name(plan.big_rows, "csv"):
            limit = targets["csv_fixed_seconds"] + targets["csv_reader_times"] * reader
            fixed, times = targets["csv_fixed_seconds"], targets["csv_reader_times"]
            target, met = f"<= {fixed:g} s + {times:g}x {label} = {limit:.2f} s", seconds <= limit
        elif name == _name(plan.baseline_rows, "xlsx"):
            limit = targets["xlsx_reader_times"] * reader
            target = f"<= {targets['xlsx_reader_times']:g}x {label} = {limit:.2f} s"
            met = seconds <= limit
        figure = f"validate {name}, whole process (s)"
        alone = f"{reader:.2f} ({label} alone)"
        rows.append(Row(figure, f"{seconds:.2f}", alone, f"{seconds / reader:.1f}x", target, met))
    for name, f in validate.items():
        rows.append(
            Row(
                f"validate {name}, whole process: peak memory (MB)",
                f"{f['peak_mb']:.0f}",
                "",
                "",
                f"<= {targets['validate_mb']:g} MB",
                f["peak_mb"] <= targets["validate_mb"],
            )
        )
    small = _name(plan.baseline_rows, "csv")
    # The file of 100,000 rows is one part, checked in one process; the big one in parts, by
    # default with worker processes (a fixed cost, whatever the file's length), and alone.
    for big in (_name(plan.big_rows, "csv"), _name(plan.big_rows, "csv") + ALONE):
        if small not in validate or big not in validate:
            continue
        ratio = validate[big]["peak_mb"] / validate[small]["peak_mb"]
        flat = targets["flat_memory"]
        rows.append(
            Row(
                f"validate peak memory, {big} against {small} (MB)",
                f"{validate[big]['peak_mb']:.0f}",
                f"{validate[small]['peak_mb']:.0f}",
                f"{ratio:.2f}x",
                f"within +-{flat:.0%}",
                abs(ratio - 1) <= flat,
            )
        )
    return rows


def _run_rows(runs: dict[str, Any], plan: BenchPlan) -> list[Row]:
    limit = plan.targets["run_mb"]
    rows = []
    for name, f in runs.items():
        label = f"run {name}, sandbox without limit"
        counts = f"{f['counts']['stored']:,} events stored, {f['counts']['duplicates']} twice"
        rows.append(Row(f"{label}: wall time (s)", f"{f['seconds']:.1f}", counts, "", "", None))
        is_big = f["rows"] == plan.big_run_rows
        rows.append(
            Row(
                f"{label}: peak memory (MB)",
                f"{f['peak_mb']:.0f}",
                "",
                "",
                f"<= {limit:g} MB" if is_big else "",
                f["peak_mb"] <= limit if is_big else None,
            )
        )
    big = _name(plan.big_run_rows, "csv")
    if big not in runs:
        label = f"run {big}, sandbox without limit: peak memory (MB)"
        rows.append(Row(label, "not run (--big)", "", "", f"<= {limit:g} MB", None))
    return rows


def _review_rows(review: dict[str, Any], plan: BenchPlan) -> list[Row]:
    targets = plan.targets
    label = f"web review of a {review['rows']:,}-row CSV upload"
    return [
        Row(
            f"{label}: upload to review page (s)",
            f"{review['seconds']:.2f}",
            f"{review['to_send']:,} events to send",
            f"upload {review['upload_seconds']:.2f} s",
            f"<= {targets['review_seconds']:g} s",
            review["seconds"] <= targets["review_seconds"],
        ),
        Row(
            f"{label}: server's resident memory growth (MB)",
            f"{review['growth_mb']:.0f}",
            f"{review['rss_before_bytes'] / 1e6:.0f} before",
            "",
            f"<= {targets['review_mb']:g} MB",
            review["growth_mb"] <= targets["review_mb"],
        ),
    ]


def _together_rows(together: dict[str, Any], alone: dict[str, Any], plan: BenchPlan) -> list[Row]:
    """Several reviews at once: their memory is within ``flat_memory`` of one review's."""
    flat = plan.targets["flat_memory"]
    limit = (1 + flat) * alone["growth_mb"]
    label = f"web review, {together['people']} uploads of a {together['rows']:,}-row CSV at once"
    waits = ", ".join(f"{s:.1f}" for s in together["seconds"])
    return [
        Row(f"{label}: each review page after (s)", waits, "", "in turn", "", None),
        Row(
            f"{label}: server's resident memory growth (MB)",
            f"{together['growth_mb']:.0f}",
            f"{alone['growth_mb']:.0f} (one review)",
            f"{together['growth_mb'] / alone['growth_mb']:.2f}x",
            f"<= {1 + flat:g}x one review's = {limit:.0f} MB",
            together["growth_mb"] <= limit,
        ),
    ]


def whole_rows(figures: dict[str, Any], plan: BenchPlan) -> list[Row]:
    """The table's rows for :func:`measure_whole`'s figures."""
    return (
        _validate_rows(figures["validate"], plan)
        + _run_rows(figures["run"], plan)
        + _review_rows(figures["review"], plan)
        + (
            _together_rows(figures["together"], figures["review"], plan)
            if "together" in figures
            else []
        )
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.whole``: these figures alone, printed (no results file is written)."""
    parser = argparse.ArgumentParser(prog="python -m bench.whole", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: check the code paths")
    parser.add_argument("--big", action="store_true", help="also run the 1,000,000-row file")
    parser.add_argument("--out", type=Path, default=HERE / "out", help="generated files")
    options = parser.parse_args(argv)
    plan = QUICK if options.quick else BenchPlan()
    figures = measure_whole(options.out, plan, big=options.big)
    print()
    print(table_text(whole_rows(figures, plan)))
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
