"""The "How the figures are measured" and "What limits the figures" text of ``bench/results.md``."""

from __future__ import annotations

from typing import Any

from bench.plan import BenchPlan
from bench.upload import BATCH_SIZE


def whole_notes(plan: BenchPlan, whole: dict[str, Any]) -> str:
    """How the whole-process figures (``bench/whole.py``) are measured."""
    sizes = ", ".join(
        f"{rows:,}-row {kind.upper()} (best of {n})" for rows, kind, n in plan.process_files
    )
    runs = ", ".join(f"{name}: {f['seconds']:.0f} s" for name, f in whole["run"].items())
    requests = -(-plan.big_run_rows // BATCH_SIZE)
    big_run = f"The {plan.big_run_rows:,}-row run ({requests:,} requests) takes ~10x as long as "
    big_run += f"the {plan.run_rows[0]:,}-row one: it runs with `python -m bench --big` only"
    big_run += " (and in this run)." if len(whole["run"]) > len(plan.run_rows) else "."
    return f"""**Whole processes.** `apptoto-import validate FILE --mapping clinic.yaml --max-rows
N` started as a user starts it, one process per run, stdout to a file: {sizes}. Time = wall time
from the start of the process to its exit (Python's start-up and imports included); exit 1 is
expected (the files have invalid rows). Peak memory = the process's `ru_maxrss` from
`os.wait4`, or, if higher, the sum of the memory of the process and every process it started
(its worker processes; `Pss` from `/proc/PID/smaps_rollup`, pages shared after a fork counted
once, sampled every 50 ms), in MB of 10^6 bytes, the highest of the repeats; the command is
started from a small launcher process (`bench/processes.py`) because Linux counts the memory a
process held when it started another program as that program's peak. A file in parts is
checked by worker processes by default (`--workers`: one per core, at most 4); the
{plan.big_rows:,}-row CSV is also checked with `--workers 1`, one process, and with its
report written (`--report`, a CSV file: every row and its outcome). Beside each, the
reader alone in its own process, the best of {plan.reader_repeats} runs (the floor, at its
least disturbed): pandas `read_csv(path, dtype=str, keep_default_na=False)` for a CSV; for a
workbook python-calamine reading the sheet into Python values,
`CalamineWorkbook.from_path(p).get_sheet_by_name("Appointments").to_python()`. That is the
floor of `validate`. Ratio = ours / reader alone. Targets (issue 18): the
{plan.big_rows:,}-row CSV within {plan.targets["csv_fixed_seconds"]:g} s +
{plan.targets["csv_reader_times"]:g}x read_csv, the {plan.baseline_rows:,}-row XLSX within
{plan.targets["xlsx_reader_times"]:g}x calamine, each peak <= {plan.targets["validate_mb"]:g} MB
and the {plan.big_rows:,}-row peak within +-{plan.targets["flat_memory"]:.0%} of the
{plan.baseline_rows:,}-row one (a file of that size is one part, checked in one process; the
workers of a file in parts are a fixed cost: measured once on 2026-12-06 with the launcher
above, the default `validate` peaked at 431 MB for the {plan.big_rows:,}-row file and 512 MB
for one of 2,000,000 rows, the file's digests growing, ~32 bytes a row and more while sorted).

**Run.** `apptoto-import run FILE --mapping clinic.yaml --max-rows N --rate 1000000 --report R
--summary-json S --quiet` of the clinic CSV into a fresh sandbox without rate limit or latency
(its own process), `APPTOTO_BASE_URL`/`APPTOTO_USER`/`APPTOTO_API_KEY` pointing at it and
`APPTOTO_IMPORT_HOME` a fresh folder (no ledger yet: every valid row is created). Time and
peak as for `validate`; the run counts only if the sandbox then holds each created event once.
Wall times this run: {runs}. {big_run}

**Web review.** `apptoto-import serve` started as a user starts it (a fresh data folder whose
mappings folder holds `clinic.yaml`, the sandbox's address and key in its environment), then
the requests the page makes, with httpx: `GET /` (the form and its CSRF token), `POST /upload`
of the {plan.review_rows:,}-row CSV with the clinic mapping, following the redirect to the
review page. Time = from the start of the upload to the review page received whole. Memory =
the server's `VmHWM` after the review minus its `VmRSS` before the upload (`/proc/PID/status`):
the first review, with whatever it imports. Then, in a new server, {plan.review_people} people
(threads) load the form, wait for each other and upload the same file at the same moment, each
following its redirect: when each review page came, and the server's memory growth as above
(the page reads and reviews one upload at a time: `WebSettings.reads_at_once`).

The whole-process figures can be measured alone: `python -m bench.whole [--quick] [--big]`
(prints their rows; writes no results file)."""


def notes(plan: BenchPlan, ours: dict[str, dict[str, Any]], whole: dict[str, Any]) -> str:
    """Definitions, the scale factor, the phase table and what limits each figure."""
    phase_lines = [
        "| file | load | checks | map | validate (whole) | rows | invalid rows | peak MiB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, f in ours.items():
        load, checks, mapped = (f"{f[k]:.2f}" if k in f else "-" for k in ("load", "checks", "map"))
        phase_lines.append(
            f"| {name} | {load} | {checks} | {mapped} | "
            f"{f['validate']:.2f} | {f['rows']:,} | {f['invalid_rows']:,} | {f['peak_mb']:.0f} |"
        )
    big = ours[f"{plan.big_rows:,}-row CSV"]
    scaled = ", ".join(f"{x / plan.scale:g}" for x in plan.latencies)
    unscaled = ", ".join(f"{x:g}" for x in plan.latencies)
    requests = plan.upload_requests
    return f"""
## How the figures are measured

**Upload.** The sandbox enforces Apptoto's limit (100 requests in any sliding window) and adds a
fixed latency to each answer. Every duration is divided by **{plan.scale:g}**: the window is
{60 / plan.scale:g} s instead of 60 s, the latencies {scaled} s stand for {unscaled} s, the naive
client pauses {0.6 / plan.scale:g} s instead of 0.6 s, and our client is set to
{100 * plan.scale:g} requests/min. Shares of the ceiling do not change with the factor. Each
client sends {requests * BATCH_SIZE:,} clinic events ({requests} requests of {BATCH_SIZE}) into
an empty sandbox. Ceiling = limit x batch size / window. Achieved rate = events / (time of the
last answer - time the first request started), measured by the client; share = achieved /
ceiling. The last request's latency is inside that interval, so a latency of L costs about
L / ({requests} x 0.6 s) of the share: that, not pacing, is the gap to 100% at 3 s. 429 answers,
stored events and duplicates come from the sandbox. The naive client (`bench/naive.py`) sends
one batch, waits for the answer, sleeps 0.6 s (scaled) and sends the next, as public Apptoto
scripts do.

**Re-run.** A clean {plan.rerun_rows:,}-row file is imported (sandbox without rate limit or
latency, ledger on), then 1% of its rows get new notes, location or service, 0.1% of the others
are removed, and the file is imported again with `cancel_missing` (`--cancel-missing`). Requests
are counted from the sandbox's request log. The baseline is a full re-send, ceil(rows / 15)
PUTs, whose wall time is that of the first import (which sent every row). Minutes at Apptoto's
limit = requests / 100.

**Local pipeline.** Seeded files like the clinic sample (`bench/generate.py`: the columns of
`mappings/clinic.yaml`, phones in ten US shapes plus foreign and blank ones, eight zones or blank,
US and ISO dates, 12- and 24-hour times, 0.5% rows with staff mistakes; workbooks with date and
time cells, digit-only phones as numbers and a shared-strings table as Excel writes them), each
file measured in its own process: load (`load_table`), checks (header check +
`validate_columns`), map (`build_events` and its payload dicts), each of the file read whole,
and validate (`validate_file()`, what `apptoto-import validate` calls: a file of up to 100,000
rows read, checked and mapped as one part, a bigger one in parts of 25,000 rows after a first
light read of the whole file; see `importer/file_facts.py`; every value checked and mapped, the
payload dicts not made, as `validate` never reads them). No command reads a bigger file whole, so it
gets validate alone (`-` in the table). Best of the repeats (3, or 2 at 1,000,000 rows), in one
process: the phone and email memos of a repeat may serve the next. Peak memory is the
process's high-water mark in MiB (`VmHWM`; `ru_maxrss` would carry over the parent's peak on
Linux). Baselines, same repeats: pandas
`read_excel(engine="openpyxl")` loading the same workbook (load only), and `bench/naive_map.py`
(csv.DictReader, strptime per cell, ZoneInfo per row; no checks, phones as written) mapping the
same CSV.

Seconds per phase:

{chr(10).join(phase_lines)}

{whole_notes(plan, whole)}

## What limits the figures (profiles: pyinstrument and cProfile)

- **Upload** is paced at the limit; the share lost is the first request's start-up and the last
  answer's latency, both fixed costs that shrink as the import grows. The sandbox runs in its own
  process: sharing one GIL with the client delayed its clock of arrivals by tens of
  milliseconds, enough for a 429 once the window is scaled down (the 1% pacing margin leaves
  0.6 s of jitter per 60 s window, {0.6 / plan.scale:g} s here).
- **XLSX validate**: about a third is calamine parsing the sheet XML (Rust, one core), a
  sixth turning 1.5 million cells into Python text; the rest is the checks and the map as for
  CSV, slower by ~20% because workbook cells are allocated row by row. Fixed on the way: phone
  parsing (a fast exact path for US/Canadian numbers, ~20x less per number), a quadratic
  shared-id report, per-row string building for titles/names/times (now once per distinct
  value), the cycle collector walking every live object while rows and payloads are made, sheet
  names read through calamine (which parses all shared strings first), the bomb check run twice.
  The command line now starts calamine's parse in a thread before it imports pandas and the
  checks (`importer/load/read_ahead.py`): measured on 2026-12-06 with a throwaway trace, the
  parse ran from 0.9 s to 2.7 s of the process while the imports ended at 1.6 s, and the
  rest (turning cells into text, checks, map, report) took the next 3.6 s on that loaded machine.
- **{plan.big_rows:,}-row CSV** ({big["validate"]:.1f} s, {big["peak_mb"]:.0f} MiB): parsed
  once in parts of 25,000 rows, the parts kept in a temporary file for the second pass, and
  checked by worker processes. Measured on 2026-12-06 (perf_counter around the two passes of
  `validate_file()`, throwaway script, this 2-core machine): one process, the first pass ~8.9 s
  and the second ~15.8 s; with two workers ~7.4 s and ~8.2 s. The first pass is bound by the one
  process that reads the file (pandas' C reader, finding the table in each part, pickling each
  part for the workers and the temporary file, ~5.5 s) while the workers work out the keys; the
  second by the workers' checks and map (~16 s of one core's time: `build_events`, pandera, one
  result per row). Every stage is a Python pass over a million rows of Python strings (no
  pyarrow), ~10-15 us per row per stage at best: on 2 cores the 8 s target and 1 s + 4x
  `read_csv` would need fewer passes. Checking each part in the first pass, beside its keys,
  was tried on 2026-12-06 (a part's check taken where every row the file ties to its rows is in
  the part, the others checked again; whole `validate` process, one run each against the code
  without it): this file (its shared ids all within a part) 13.0 s against 14.4 s; the same
  file with one id in each of its later 20 parts shared with a row 500,000 rows above, 20.2 s
  against 14.4 s; checking ahead only when a worker was free, 13.5 s and 16.9 s against 14.6 s
  and 14.5 s. On 2 cores the first pass leaves less than one core idle, and a part checked
  twice costs its check again: not kept. Memory no longer grows with the file: one part's
  table and payloads per process, plus the digests (~32 bytes a row).
"""
