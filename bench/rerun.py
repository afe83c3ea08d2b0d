"""Re-run: what a nightly run costs after a few rows changed, against re-sending the whole file.

A seeded file of clean rows is imported into the sandbox (no rate limit, no added latency: the
point is counting requests, and the run stays short). Then ``changed_share`` of the rows get new
notes, location or service, ``removed_share`` of the others are deleted from the file, and the
file is imported again with ``--cancel-missing``. The sandbox's request log says what the re-run
sent. A full re-send (what scripts without a ledger do every night) costs ceil(rows / 15) PUTs;
its wall time here is that of the first import, which sent every row.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.generate import FIRST_DAY, clinic_table, write_csv
from importer.client import ClientConfig
from importer.exit_codes import EXIT_OK, exit_code_for
from importer.mapping import Mapping
from importer.pipeline import RunRequest, run_import
from importer.plan import PlanOptions
from importer.sandbox import SandboxHandle, SandboxSettings, running_sandbox

BATCH_SIZE = 15
APPTOTO_REQUESTS_PER_MINUTE = 100
UNLIMITED_REQUESTS_PER_MINUTE = 1_000_000.0  # the client's pacing out of the way
_CHANGES = (  # (column, new text): what staff edit between two nights
    ("Notes", "Moved to the new wing"),
    ("Location", "Annex, room 9"),
    ("Service", "Recall"),
)


@dataclass(frozen=True)
class RerunFigures:
    """The first import and the re-run after the edits (times in seconds)."""

    rows: int
    changed: int
    removed: int
    first_seconds: float  # first import, every row sent: the cost of a full re-send
    first_puts: int
    rerun_seconds: float
    rerun_puts: int
    rerun_deletes: int
    rerun_other_requests: int  # lookups and anything else beyond PUT and DELETE
    rerun_counts: dict[str, int]  # the re-run's row statuses

    @property
    def expected_puts(self) -> int:
        """ceil(changed / batch size): the target."""
        return math.ceil(self.changed / BATCH_SIZE)

    @property
    def full_resend_puts(self) -> int:
        """ceil(rows / batch size): what re-sending the whole file costs."""
        return math.ceil(self.rows / BATCH_SIZE)

    @property
    def met(self) -> bool:
        """Exactly the expected PUTs, one DELETE per removed row, nothing else."""
        return (
            self.rerun_puts == self.expected_puts
            and self.rerun_deletes == self.removed
            and self.rerun_other_requests == 0
        )

    def as_json(self) -> dict[str, Any]:
        """The figures and targets, JSON-ready."""
        return {
            **asdict(self),
            "expected_puts": self.expected_puts,
            "full_resend_puts": self.full_resend_puts,
            "met": self.met,
        }


def _requests_by_kind(sandbox: SandboxHandle) -> dict[str, int]:
    return {k: int(v) for k, v in sandbox.stats()["requests_by_endpoint"].items()}


def _spent(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: n - before.get(k, 0) for k, n in after.items() if n != before.get(k, 0)}


def edited_copy(
    table: pd.DataFrame, target: Path, *, seed: int, changed_share: float, removed_share: float
) -> tuple[int, int]:
    """Write ``target``: ``table`` with some rows changed and others removed.

    Returns (changed, removed). Changed and removed rows never overlap.
    """
    frame = table.copy()
    rows = len(frame)
    rng = np.random.default_rng(seed + 1)
    changed = int(rows * changed_share)
    removed = int(rows * removed_share)
    picked = rng.choice(rows, size=changed + removed, replace=False)
    for n, position in enumerate(picked[:changed].tolist()):
        column, text = _CHANGES[n % len(_CHANGES)]
        frame.iat[position, list(frame.columns).index(column)] = text
    frame = frame.drop(index=frame.index[picked[changed:]])
    write_csv(frame, target)
    return changed, removed


def measure_rerun(
    mapping: Mapping,
    out: Path,
    *,
    rows: int,
    seed: int,
    changed_share: float = 0.01,
    removed_share: float = 0.001,
) -> RerunFigures:
    """Import a fresh ``rows``-row file, edit it, import it again; figures of both runs."""
    out.mkdir(parents=True, exist_ok=True)
    first_file = out / f"rerun-{rows}-night1.csv"
    second_file = out / f"rerun-{rows}-night2.csv"
    ledger = out / f"rerun-{rows}.ledger.sqlite"
    for stale in out.glob(f"rerun-{rows}.ledger.sqlite*"):
        stale.unlink()
    table = clinic_table(rows, seed, mistake_share=0.0)
    write_csv(table, first_file)
    changed, removed = edited_copy(
        table,
        second_file,
        seed=seed,
        changed_share=changed_share,
        removed_share=removed_share,
    )
    settings = SandboxSettings(rate_limit_requests=0, latency_seconds=0.0)
    with running_sandbox(settings) as sandbox:
        config = ClientConfig(
            user=sandbox.user,
            api_key=sandbox.api_key,
            base_url=sandbox.base_url,
            batch_size=BATCH_SIZE,
            requests_per_minute=UNLIMITED_REQUESTS_PER_MINUTE,
        )

        def night(source: Path, options: PlanOptions) -> tuple[float, dict[str, int], Any]:
            before = _requests_by_kind(sandbox)
            started = time.perf_counter()
            summary = run_import(
                RunRequest(
                    source=source,
                    mapping=mapping,
                    client_config=config,
                    ledger_path=ledger,
                    report_path=out / f"{source.stem}-report.csv",
                    plan_options=options,
                    max_rows=rows,
                )
            )
            seconds = time.perf_counter() - started
            if exit_code_for(summary) != EXIT_OK:
                raise RuntimeError(f"import of {source} ended with {summary.line()}")
            return seconds, _spent(before, _requests_by_kind(sandbox)), summary

        first_seconds, first_spent, _ = night(first_file, PlanOptions())
        # The night before the file's first day: every removed row's visit is ahead (a visit
        # over by the day the bench runs is not cancelled, and the figure would drift with it).
        night_before = dt.datetime.combine(FIRST_DAY, dt.time(2, 30), dt.UTC) - dt.timedelta(days=1)
        cancelling = PlanOptions(cancel_missing=True, now=night_before)
        rerun_seconds, rerun_spent, summary = night(second_file, cancelling)
    puts = rerun_spent.pop("PUT /v1/events", 0)
    deletes = rerun_spent.pop("DELETE /v1/events", 0)
    return RerunFigures(
        rows=rows,
        changed=changed,
        removed=removed,
        first_seconds=round(first_seconds, 3),
        first_puts=first_spent.get("PUT /v1/events", 0),
        rerun_seconds=round(rerun_seconds, 3),
        rerun_puts=puts,
        rerun_deletes=deletes,
        rerun_other_requests=sum(rerun_spent.values()),
        rerun_counts=dict(summary.counts),
    )
