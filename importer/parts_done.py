"""What a run over the parts of a file did: every row counted, and the results of those a
person should read kept (:mod:`importer.streaming`).

For a file of one part every row's result is kept. For a file in parts: the rows not done
(invalid, failed, held back, copies), of which the first :data:`INVALID_KEPT` invalid ones, and
the first :data:`WARNED_KEPT` rows whose only news is warnings; the others are counted
(:class:`LeftOut`). The report has every row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from importer.errors import ReportError
from importer.outcomes import PlanAction, RowResult, RowStatus
from importer.report import CsvLines, ReportWriter

VALID_MESSAGE = "valid (validate sends nothing)"
# Results not kept in memory in a file of several parts (the report has them): rows done, or
# valid, with nothing to look at.
_ROUTINE = {
    RowStatus.CREATED,
    RowStatus.UPDATED,
    RowStatus.UNCHANGED,
    PlanAction.CREATE,
    PlanAction.UPDATE,
    PlanAction.UNCHANGED,
}

# Of the rows of a file in parts whose only news is warnings (done, or valid), and of its invalid
# rows, the results kept in memory are those of the first ones: the command line prints 200 of
# each, the page 50. A file whose every row has a warning (yesterday's visits, sent after hours)
# or is invalid (a mapping that reads its dates the other way round) kept a result per row:
# 1,000,000 rows, +280 to +300 MB. The rest are counted; the report has every row.
WARNED_KEPT = 1_000
INVALID_KEPT = 1_000


def count_statuses(results: Iterable[RowResult]) -> dict[str, int]:
    """Counts per status value, in a fixed order so summaries are easy to compare."""
    counter = Counter(str(r.status) for r in results)
    return ordered_counts(counter, plan=any(c in counter for c in _PLAN_ONLY))


_PLAN_ONLY = {a.value for a in PlanAction} - {s.value for s in RowStatus}


def ordered_counts(counter: Counter[str], *, plan: bool) -> dict[str, int]:
    """``counter``'s statuses in a fixed order: a plan's in its own (create, update, unchanged,
    invalid, fail, cancel), a run's as :class:`RowStatus` lists them."""
    statuses = [s.value for s in RowStatus]
    actions = [a.value for a in PlanAction]
    order = actions + statuses if plan else statuses + actions
    return {status: counter[status] for status in dict.fromkeys(order) if counter[status]}


@dataclass
class LeftOut:
    """Rows counted whose results were not kept (:data:`WARNED_KEPT`, :data:`INVALID_KEPT`): a
    worker process sends one back for its part instead of those results."""

    statuses: Counter[str] = field(default_factory=Counter)  # how many of each status
    warned: int = 0  # of them, rows with warnings (invalid ones too)
    warnings: int = 0  # the warnings of those done or valid

    @property
    def rows(self) -> int:
        return sum(self.statuses.values())

    @property
    def invalid(self) -> int:
        return self.statuses[RowStatus.INVALID.value]

    @property
    def warned_valid(self) -> int:
        """Rows done or valid with warnings (the others left out are invalid)."""
        return self.rows - self.invalid

    def count(self, result: RowResult) -> None:
        self.statuses[str(result.status)] += 1
        self.warned += bool(result.warnings)
        if result.status != RowStatus.INVALID.value:
            self.warnings += len(result.warnings)

    def merge(self, other: LeftOut) -> None:
        self.statuses.update(other.statuses)
        self.warned += other.warned
        self.warnings += other.warnings


@dataclass
class PartsDone:
    """What a run over the parts of a file did: counts of every row, the results kept (see the
    module), and why it stopped early, if it did."""

    every: bool  # every row's result is kept (a file of one part)
    counter: Counter[str] = field(default_factory=Counter)
    results: list[RowResult] = field(default_factory=list)
    warned: int = 0  # rows with warnings
    new_calendars: dict[str, None] = field(default_factory=dict)
    error: str = ""
    stopped: str = ""
    interrupted: bool = False
    plan: bool = False  # the results are a plan's
    report_error: str = ""  # the report could not be written (the rows went on)
    left: LeftOut = field(default_factory=LeftOut)  # rows whose results were not kept
    _warned_kept: int = 0
    _invalid_kept: int = 0

    def write(self, report: ReportWriter | None, lines: pd.DataFrame | CsvLines | None) -> None:
        """Add one part's report lines (:func:`importer.report.report_frame`) to ``report``; a
        report that cannot be written is said in the summary, and the run goes on (the ledger
        knows what was sent)."""
        if report is None or lines is None or self.report_error:
            return
        try:
            report.add_lines(lines)
        except ReportError as exc:
            self.report_error = str(exc)

    def add(self, results: Sequence[RowResult]) -> None:
        """Count one part's results, keeping those to keep."""
        self.counter.update(str(r.status) for r in results)
        self.warned += sum(1 for r in results if r.warnings)
        if self.every:
            self.results.extend(results)
            return
        for r in results:
            if _routine(r):
                if not r.warnings:
                    continue
                if self._warned_kept >= WARNED_KEPT:
                    self.left.count(r)
                    continue
                self._warned_kept += 1
            elif r.status == RowStatus.INVALID.value:  # a run's or a plan's
                if self._invalid_kept >= INVALID_KEPT:
                    self.left.count(r)
                    continue
                self._invalid_kept += 1
            self.results.append(r)

    def add_left_out(self, left: LeftOut) -> None:
        """Count the rows another :class:`PartsDone` left out (a worker's, for one part)."""
        self.counter.update(left.statuses)
        self.warned += left.warned
        self.left.merge(left)

    @property
    def counts(self) -> dict[str, int]:
        """Counts per status, in the order summaries use."""
        return ordered_counts(self.counter, plan=self.plan)


def _routine(result: RowResult) -> bool:
    """Done, or valid: nothing to look at but its warnings, if any."""
    return result.status in _ROUTINE or (
        result.status is RowStatus.SKIPPED and result.message == VALID_MESSAGE
    )


def routine_valid(result: RowResult) -> bool:
    """A valid row of ``validate`` with nothing to look at: counted, not kept (the report, if
    any, has its line)."""
    return (
        result.status is RowStatus.SKIPPED
        and result.message == VALID_MESSAGE
        and not result.warnings
    )
