"""``python -m bench`` (``make bench``): upload, re-run and local pipeline, each beside a baseline.

Then the commands as whole processes (``validate`` beside the reader alone, ``run`` into the
sandbox, the web review of an upload: ``bench/whole.py``). Prints one table (figure, ours,
baseline, ratio, target, met?) and writes it, with the machine, the versions and the
definitions, to ``bench/results.md`` and ``bench/results.json``. Generated
files go to ``bench/out/`` (kept between runs: a file is made again only when ``generate.py``
changes). ``--quick`` runs every code path on tiny sizes (the smoke test uses it); ``--big``
adds the run of the 1,000,000-row file into the sandbox (~15 minutes and more).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from bench import generate
from bench.notes import notes
from bench.pipeline import MAPPING, run_measurement
from bench.plan import HERE, QUICK, SEED, BenchPlan, clinic_files
from bench.rerun import APPTOTO_REQUESTS_PER_MINUTE, RerunFigures, measure_rerun
from bench.results import Row, machine, table_text, write_results
from bench.upload import (
    BATCH_SIZE,
    OVERTOLD_FACTOR,
    UploadFigures,
    measure_overtold,
    measure_upload,
)
from bench.whole import measure_whole, whole_rows
from importer.mapping import load_mapping
from importer.prepare import prepare


def _upload_events(out: Path, count: int) -> list[dict[str, Any]]:
    path = out / f"upload-{count}-seed{SEED}.csv"
    generate.write_csv(generate.clinic_table(count, SEED + 1, mistake_share=0.0), path)
    prepared = prepare(path, load_mapping(MAPPING))
    return list(prepared.events.payloads.values())


def _pct(share: float) -> str:
    return f"{share:.1%}"


def _times(ours: float, baseline: float) -> str:
    if ours <= 0 or baseline <= 0:
        return ""
    if baseline >= ours:
        return f"{baseline / ours:.1f}x faster"
    return f"{ours / baseline:.1f}x slower"


def upload_rows(figures: list[UploadFigures], plan: BenchPlan) -> list[Row]:
    """Three rows per latency: share of the ceiling, 429 answers, events stored / duplicates."""
    rows = []
    for latency in plan.latencies:
        ours = next(f for f in figures if f.latency_seconds == latency and f.client == "ours")
        naive = next(f for f in figures if f.latency_seconds == latency and f.client == "naive")
        label = f"upload, latency {latency:g} s"
        rows.append(
            Row(
                f"{label}: share of ceiling",
                _pct(ours.share_of_ceiling),
                _pct(naive.share_of_ceiling),
                f"{ours.share_of_ceiling / naive.share_of_ceiling:.1f}x",
                f">= {plan.targets['share']:.0%}",
                ours.share_of_ceiling >= plan.targets["share"],
            )
        )
        rows.append(
            Row(
                f"{label}: requests answered 429",
                f"{ours.rate_limited} of {ours.requests}",
                f"{naive.rate_limited} of {naive.requests}",
                "",
                f"<= {plan.targets['rate_limited']:.0%}",
                ours.rate_limited_share <= plan.targets["rate_limited"],
            )
        )
        rows.append(
            Row(
                f"{label}: events stored, duplicates",
                f"{ours.stored} of {ours.events}, {ours.duplicates}",
                f"{naive.stored} of {naive.events}, {naive.duplicates}",
                "",
                "all, 0",
                ours.stored == ours.events and ours.duplicates == 0,
            )
        )
    return rows


def overtold_rows(ours: UploadFigures, plan: BenchPlan) -> list[Row]:
    """Told 3x the real limit: the share of the real limit used, and the 429s it cost."""
    said = ours.client.rsplit("Retry-After ", 1)[-1]
    label = f"upload told {OVERTOLD_FACTOR}x the real limit, 429s with Retry-After {said}"
    return [
        Row(
            f"{label}: share of the real limit used",
            _pct(ours.share_of_ceiling),
            "",
            "",
            ">= 90%",
            ours.share_of_ceiling >= 0.9,
        ),
        Row(
            f"{label}: requests answered 429",
            f"{ours.rate_limited} of {ours.requests}",
            "",
            "",
            f"<= {plan.targets['rate_limited']:.0%}",
            ours.rate_limited_share <= plan.targets["rate_limited"],
        ),
    ]


def rerun_rows(figures: RerunFigures) -> list[Row]:
    """Requests and time of the re-run against a full re-send."""
    label = (
        f"re-run of {figures.rows:,} rows, {figures.changed:,} changed, {figures.removed:,} removed"
    )
    full = figures.full_resend_puts
    spent = figures.rerun_puts + figures.rerun_deletes + figures.rerun_other_requests
    return [
        Row(
            f"{label}: PUT requests",
            str(figures.rerun_puts),
            f"{full} (full re-send)",
            f"{full / max(figures.rerun_puts, 1):.0f}x fewer",
            f"= ceil({figures.changed}/{BATCH_SIZE}) = {figures.expected_puts}",
            figures.rerun_puts == figures.expected_puts,
        ),
        Row(
            f"{label}: DELETE requests",
            str(figures.rerun_deletes),
            "0 (cannot cancel)",
            "",
            f"= {figures.removed} (one per removed row)",
            figures.rerun_deletes == figures.removed,
        ),
        Row(
            f"{label}: other requests",
            str(figures.rerun_other_requests),
            "0",
            "",
            "0",
            figures.rerun_other_requests == 0,
        ),
        Row(
            f"{label}: wall time, sandbox without limit (s)",
            f"{figures.rerun_seconds:.1f}",
            f"{figures.first_seconds:.1f} (first import)",
            _times(figures.rerun_seconds, figures.first_seconds),
            "",
            None,
        ),
        Row(
            f"{label}: time at Apptoto's 100 requests/min (min)",
            f"{spent / APPTOTO_REQUESTS_PER_MINUTE:.1f}",
            f"{full / APPTOTO_REQUESTS_PER_MINUTE:.1f}",
            f"{full / max(spent, 1):.0f}x less",
            "",
            None,
        ),
    ]


def pipeline_rows(
    ours: dict[str, dict[str, Any]], baselines: dict[str, dict[str, Any]], plan: BenchPlan
) -> list[Row]:
    """``validate`` per file, the targets at the baseline size, memory at the big size."""
    targets = plan.targets
    rows = []
    for name, figures in ours.items():
        rows.append(Row(f"validate {name} (s)", f"{figures['validate']:.2f}", "", "", "", None))
    size = f"{plan.baseline_rows:,}-row"
    xlsx, csv = ours[f"{size} XLSX"], ours[f"{size} CSV"]
    openpyxl, dictreader = baselines["openpyxl"], baselines["dictreader"]
    speedup = openpyxl["load"] / xlsx["validate"]
    rows.append(
        Row(
            f"validate {size} XLSX vs openpyxl read_excel (s)",
            f"{xlsx['validate']:.2f}",
            f"{openpyxl['load']:.2f} (load only)",
            f"{speedup:.1f}x faster",
            f"<= {targets['xlsx_seconds']:g} s and >= {targets['xlsx_speedup']:g}x",
            xlsx["validate"] <= targets["xlsx_seconds"] and speedup >= targets["xlsx_speedup"],
        )
    )
    rows.append(
        Row(
            f"load+validate+map {size} CSV vs DictReader loop (s)",
            f"{csv['validate']:.2f}",
            f"{dictreader['map']:.2f} (no checks)",
            _times(csv["validate"], dictreader["map"]),
            f"<= {targets['csv_seconds']:g} s",
            csv["validate"] <= targets["csv_seconds"],
        )
    )
    big = ours[f"{plan.big_rows:,}-row CSV"]
    rows.append(
        Row(
            f"load+validate+map {plan.big_rows:,}-row CSV (s)",
            f"{big['validate']:.2f}",
            "",
            "",
            f"<= {targets['big_seconds']:g} s",
            big["validate"] <= targets["big_seconds"],
        )
    )
    rows.append(
        Row(
            f"peak memory, {plan.big_rows:,}-row CSV (MiB)",
            f"{big['peak_mb']:.0f} ({big['peak_mb'] * 2**20 / 1e9:.2f} GB)",
            "",
            "",
            f"< 2 GiB ({targets['big_mb']:g} MiB)",
            big["peak_mb"] < targets["big_mb"],
        )
    )
    return rows


def measure_pipeline(out: Path, plan: BenchPlan) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every file in its own process, then both baselines at the baseline size."""
    ours: dict[str, dict[str, Any]] = {}
    paths: dict[tuple[int, str], Path] = {}
    for rows, kinds, repeats in plan.pipeline_files:
        for kind, path in clinic_files(out, rows, kinds).items():
            paths[(rows, kind)] = path
            figures = run_measurement("ours", path, repeats=repeats, max_rows=rows)
            ours[f"{rows:,}-row {kind.upper()}"] = figures
            print(f"  {rows:,}-row {kind}: {figures}", flush=True)
    repeats = next(r for rows, _, r in plan.pipeline_files if rows == plan.baseline_rows)
    baselines = {
        "openpyxl": run_measurement(
            "openpyxl", paths[(plan.baseline_rows, "xlsx")], repeats=repeats, max_rows=0
        ),
        "dictreader": run_measurement(
            "dictreader", paths[(plan.baseline_rows, "csv")], repeats=repeats, max_rows=0
        ),
    }
    print(f"  baselines: {baselines}", flush=True)
    return ours, baselines


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and write the results; 0 once written (missed targets: see the table)."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: check the code paths")
    parser.add_argument("--out", type=Path, default=HERE / "out", help="generated files")
    parser.add_argument("--results", type=Path, default=HERE, help="where results.md/json go")
    parser.add_argument(
        "--big", action="store_true", help="also run the 1,000,000-row file into the sandbox"
    )
    options = parser.parse_args(argv)
    plan = QUICK if options.quick else BenchPlan()
    started, at_start = dt.datetime.now(dt.UTC), machine()
    out: Path = options.out
    out.mkdir(parents=True, exist_ok=True)

    print("upload ...", flush=True)
    upload = measure_upload(
        _upload_events(out, plan.upload_requests * BATCH_SIZE),
        scale=plan.scale,
        latencies=plan.latencies,
    )
    print(f"upload told {OVERTOLD_FACTOR}x the limit ...", flush=True)
    overtold_events = _upload_events(out, plan.upload_requests * BATCH_SIZE)
    overtold = [
        measure_overtold(overtold_events, scale=plan.scale, retry_after=form)
        for form in ("seconds", "none")
    ]
    print("re-run ...", flush=True)
    rerun = measure_rerun(load_mapping(MAPPING), out, rows=plan.rerun_rows, seed=SEED + 2)
    print("local pipeline ...", flush=True)
    ours, baselines = measure_pipeline(out, plan)
    print("whole processes: validate, run, the web review ...", flush=True)
    whole = measure_whole(out, plan, big=options.big or options.quick)  # quick: every path

    rows = upload_rows(upload, plan) + [r for o in overtold for r in overtold_rows(o, plan)]
    rows += rerun_rows(rerun) + pipeline_rows(ours, baselines, plan) + whole_rows(whole, plan)
    print()
    print(table_text(rows))
    markdown, json_path = write_results(
        options.results,
        rows,
        notes_markdown=notes(plan, ours, whole),
        figures={
            "scale": plan.scale,
            "upload": [f.as_json() for f in upload],
            "overtold": [o.as_json() for o in overtold],
            "rerun": rerun.as_json(),
            "pipeline": ours,
            "baselines": baselines,
            "whole": whole,
        },
        started=started,
        machine_at_start=at_start,
    )
    judged = [row for row in rows if row.met is not None]
    missed = [row.figure for row in judged if not row.met]
    print(f"\n{len(judged) - len(missed)} of {len(judged)} targets met", end="")
    print(f"; missed: {'; '.join(missed)}" if missed else "")
    print(f"written: {markdown} and {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
