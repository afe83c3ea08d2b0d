"""The sizes and targets of one bench run, and the seeded clinic files it measures."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from bench import generate
from bench.upload import LATENCIES_SECONDS

HERE = Path(__file__).resolve().parent
SEED = 6


@dataclass(frozen=True)
class BenchPlan:
    """Sizes of one bench run."""

    scale: float = 5.0  # every duration of the upload divided by this
    upload_requests: int = 200  # per client and latency: enough that start-up does not dominate
    rerun_rows: int = 100_000
    # (rows, kinds, repeats): each file's figures are the best of `repeats` runs
    pipeline_files: tuple[tuple[int, tuple[str, ...], int], ...] = (
        (10_000, ("csv", "xlsx"), 3),
        (100_000, ("csv", "xlsx"), 3),
        (1_000_000, ("csv",), 2),
    )
    # (rows, kind, repeats): `apptoto-import validate` as a whole process, and the reader alone
    process_files: tuple[tuple[int, str, int], ...] = (
        (100_000, "csv", 3),
        (100_000, "xlsx", 3),
        (1_000_000, "csv", 2),
    )
    reader_repeats: int = 5  # the reader alone is the floor: best of more runs, it costs little
    run_rows: tuple[int, ...] = (100_000,)  # `apptoto-import run` into the sandbox
    big_run_rows: int = 1_000_000  # the run of `--big` (~15 min and more)
    review_rows: int = 100_000  # the web review of an upload
    review_people: int = 3  # as many uploads of that file at once (their reviews wait in turn)
    baseline_rows: int = 100_000  # the size the baselines and targets are measured at
    big_rows: int = 1_000_000  # the size of the memory and 8 s targets
    latencies: tuple[float, ...] = LATENCIES_SECONDS
    targets: dict[str, float] = field(
        default_factory=lambda: {
            "share": 0.95,
            "rate_limited": 0.01,
            "xlsx_seconds": 3.0,
            "xlsx_speedup": 4.0,
            "csv_seconds": 2.0,
            "big_seconds": 8.0,
            "big_mb": 2048.0,
            # the whole processes (issue 18), in MB of 10^6 bytes
            "csv_fixed_seconds": 1.0,  # validate <= this + csv_reader_times x read_csv
            "csv_reader_times": 4.0,
            "xlsx_reader_times": 1.6,  # validate <= this x calamine alone
            "validate_mb": 600.0,
            "flat_memory": 0.2,  # the big file's peak within this share of the baseline's
            "run_mb": 800.0,
            "review_seconds": 6.0,
            "review_mb": 500.0,
        }
    )


QUICK = BenchPlan(
    scale=100.0,
    upload_requests=4,
    rerun_rows=300,
    pipeline_files=((200, ("csv", "xlsx"), 1), (400, ("csv",), 1)),
    process_files=((200, "csv", 1), (200, "xlsx", 1), (400, "csv", 1)),
    reader_repeats=1,
    run_rows=(200,),
    big_run_rows=400,
    review_rows=200,
    review_people=2,
    baseline_rows=200,
    big_rows=400,
)


def _source_tag() -> str:
    """Short hash of the generator: files made by an older generator are not reused."""
    return hashlib.sha1((HERE / "generate.py").read_bytes()).hexdigest()[:8]


def clinic_files(out: Path, rows: int, kinds: tuple[str, ...]) -> dict[str, Path]:
    """The seeded clinic file of ``rows`` rows in each kind, made unless already there."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {kind: out / f"clinic-{rows}-seed{SEED}-{_source_tag()}.{kind}" for kind in kinds}
    missing = {kind: path for kind, path in paths.items() if not path.exists()}
    if missing:
        table = generate.clinic_table(rows, SEED)
        for kind, path in missing.items():
            partial = path.with_suffix(f".partial.{kind}")
            (generate.write_csv if kind == "csv" else generate.write_xlsx)(table, partial)
            partial.rename(path)
    return paths
