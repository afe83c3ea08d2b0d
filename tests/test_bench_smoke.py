"""``python -m bench --quick``: every code path of the benchmarks on tiny sizes, no timing checked.

The figures are counts the sandbox and the pipeline report; speed targets live in bench/results.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from importer.load import parts
from tests.helpers import ROOT, read_report


def test_quick_bench_runs_every_part_and_writes_results(tmp_path: Path) -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(tmp_path / "out")]
        + ["--results", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert finished.returncode in (0, 1), finished.stderr[-2000:]  # 1: a target missed
    assert "figure" in finished.stdout and "met?" in finished.stdout
    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    markdown = (tmp_path / "results.md").read_text(encoding="utf-8")
    assert results["machine"]["cpu_count"] >= 1
    assert set(results["versions"]) >= {"python", "pandas", "pandera", "httpx", "python-calamine"}
    figures = [row["figure"] for row in results["table"]]
    assert all(figure in markdown for figure in figures)
    # 3 latencies x 3 figures, and 2 for each run told 3x the real limit (Retry-After or not)
    assert len([f for f in figures if f.startswith("upload")]) == 9 + 4

    upload = results["figures"]["upload"]
    assert {(u["client"], u["latency_seconds"]) for u in upload} == {
        (client, latency) for client in ("ours", "naive") for latency in (0.1, 1.0, 3.0)
    }
    for run in upload:
        assert (run["events"], run["stored"], run["duplicates"], run["requests"]) == (60, 60, 0, 4)

    for overtold in results["figures"]["overtold"]:
        assert (overtold["events"], overtold["stored"], overtold["duplicates"]) == (60, 60, 0)

    rerun = results["figures"]["rerun"]
    assert (rerun["rows"], rerun["changed"], rerun["removed"]) == (300, 3, 0)
    assert (rerun["rerun_puts"], rerun["rerun_deletes"], rerun["rerun_other_requests"]) == (1, 0, 0)
    assert rerun["first_puts"] == rerun["full_resend_puts"] == 20
    assert rerun["met"] is True

    pipeline = results["figures"]["pipeline"]
    assert set(pipeline) == {"200-row CSV", "200-row XLSX", "400-row CSV"}
    csv, xlsx = pipeline["200-row CSV"], pipeline["200-row XLSX"]
    # The same table as CSV and as a workbook: the same rows, problems and payloads.
    assert (csv["rows"], csv["column_issues"], csv["payloads"]) == (
        xlsx["rows"],
        xlsx["column_issues"],
        xlsx["payloads"],
    )
    assert csv["rows"] == 200 and 0 < csv["invalid_rows"] < 10
    baselines = results["figures"]["baselines"]
    assert baselines["openpyxl"]["rows"] == 200
    assert baselines["dictreader"]["payloads"] + baselines["dictreader"]["skipped_rows"] == 200

    # The commands as whole processes, each file's counts agreeing across validate, run, review.
    whole = results["figures"]["whole"]
    assert set(whole["validate"]) == {
        "200-row CSV",
        "200-row XLSX",
        "400-row CSV",
        "400-row CSV, --workers 1",  # the big file in one process too
        "400-row CSV, with its report",  # and writing its report
    }
    for name, checked in whole["validate"].items():
        counts = checked["counts"]
        assert counts["valid"] + counts["invalid"] == checked["rows"] == checked["reader"]["rows"]
        assert checked["exit_code"] == 1 and checked["peak_mb"] > 0, name  # 1: invalid rows
    assert whole["validate"]["200-row CSV"]["counts"] == whole["validate"]["200-row XLSX"]["counts"]
    alone = whole["validate"]["400-row CSV, --workers 1"]
    assert alone["counts"] == whole["validate"]["400-row CSV"]["counts"]
    reported = whole["validate"]["400-row CSV, with its report"]
    assert reported["counts"] == whole["validate"]["400-row CSV"]["counts"]
    assert len(read_report(tmp_path / "out" / f"{reported['file']}.report.csv")) == 400
    assert set(whole["run"]) == {"200-row CSV", "400-row CSV"}  # --quick runs the big one too
    for name, run in whole["run"].items():
        valid = whole["validate"][name]["counts"]["valid"]
        assert run["counts"]["created"] == run["counts"]["stored"] == valid, name
        assert run["counts"]["duplicates"] == 0 and run["peak_mb"] > 0
    review = whole["review"]
    assert review["to_send"] == whole["validate"]["200-row CSV"]["counts"]["valid"]
    assert review["hwm_after_bytes"] >= review["rss_before_bytes"] > 0
    assert any(f.startswith("web review of a 200-row CSV upload") for f in figures)
    together = whole["together"]
    assert together["people"] == 2 and len(together["seconds"]) == 2
    assert together["hwm_after_bytes"] >= together["rss_before_bytes"] > 0
    assert any(f.startswith("web review, 2 uploads of a 200-row CSV at once") for f in figures)
    assert "**Whole processes.**" in markdown and "**Web review.**" in markdown


def test_a_file_no_command_reads_whole_is_measured_by_validate_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bench.pipeline import measure_ours
    from bench.plan import clinic_files

    path = clinic_files(tmp_path, 30, ("csv",))["csv"]
    whole = measure_ours(path, repeats=1, max_rows=30)
    monkeypatch.setattr(parts, "WHOLE_ROWS", 10)  # 30 rows: read in parts, never whole
    parted = measure_ours(path, repeats=1, max_rows=30)
    assert {"load", "checks", "map", "validate"} <= set(whole)
    assert "validate" in parted and not {"load", "checks", "map"} & set(parted)
    assert (parted["rows"], parted["invalid_rows"]) == (whole["rows"], whole["invalid_rows"])
