"""importer.workers: parts worked on by other processes, results in order, failures survived."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import fields
from datetime import UTC, datetime
from multiprocessing import forkserver
from pathlib import Path

import pytest

from importer import workers
from importer.errors import LoadError, MappingError
from importer.mapping import load_mapping
from importer.outcomes import PlanAction, RowIssue, RowResult, SkipReason
from importer.pipeline import RunRequest, validate_file
from importer.workers import (
    MAX_WORKERS,
    PartPool,
    default_workers,
)
from tests.helpers import CLINIC_MAPPING, read_report
from tests.test_parts import big_export, request


def doubled(n: int, plus: int = 0) -> int:
    return 2 * n + plus


def refused(n: int) -> int:
    if n == 3:
        raise ValueError(f"part {n} is bad")
    return n


def dies_in_a_worker(n: int) -> tuple[int, bool]:
    """Kills the worker process running it (as the system does, out of memory), once."""
    in_worker = multiprocessing.parent_process() is not None
    if in_worker and n == 2:
        os._exit(3)
    return n, in_worker


def where(n: int) -> int:
    return os.getpid()


def text_storage(n: int) -> str:
    import pandas as pd  # noqa: PLC0415

    return str(pd.get_option("mode.string_storage"))


def test_results_come_in_the_items_order_from_other_processes() -> None:
    with PartPool(2) as pool:
        assert list(pool.map(doubled, range(20), 1)) == [2 * n + 1 for n in range(20)]
        pids = set(pool.map(where, range(8)))
    assert os.getpid() not in pids


def test_one_worker_is_this_process() -> None:
    with PartPool(1) as pool:
        assert set(pool.map(where, range(3))) == {os.getpid()}
        assert pool._executor is None


def test_an_error_in_a_worker_is_raised_at_its_item_s_turn() -> None:
    seen: list[int] = []
    with PartPool(2) as pool, pytest.raises(ValueError, match="part 3 is bad"):
        for n in pool.map(refused, range(6), ahead=1):
            seen.append(n)
    assert seen == [0, 1, 2]


def test_a_killed_worker_leaves_the_rest_to_this_process(caplog: pytest.LogCaptureFixture) -> None:
    with PartPool(2) as pool:
        done = list(pool.map(dies_in_a_worker, range(6)))
    assert [n for n, _ in done] == list(range(6))  # every item, once, in order
    assert done[2] == (2, False)  # redone here
    assert "worker processes stopped" in caplog.text


def slow_after_the_first(count: int) -> Iterator[int]:
    """Items given slowly after the first, as a process reading a big file gives parts: the
    pool has broken (its first item killed its worker) before the second is handed out."""
    yield 2
    time.sleep(1.5)
    yield from range(3, count)


def test_a_pool_broken_before_an_item_is_handed_out_leaves_it_to_this_process(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A worker killed while the next part was being read: handing that part out raised
    # BrokenProcessPool from submit(), and the check failed instead of going on here.
    with PartPool(2) as pool:
        done = list(pool.map(dies_in_a_worker, slow_after_the_first(6), ahead=4))
    assert [n for n, _ in done] == [2, 3, 4, 5]  # every item, once, in order
    assert not any(in_worker for _, in_worker in done)
    assert "worker processes stopped" in caplog.text


def test_a_script_without_a_main_guard_is_checked_in_its_own_process(tmp_path: Path) -> None:
    # Workers start by running the main script again; one that checks a file at its top level
    # (no `if __name__ == "__main__":`) makes each worker fail as it starts. The check goes on
    # in the script's own process, and the script says once what it checked.
    path = big_export(tmp_path / "export.csv")
    script = tmp_path / "check.py"
    script.write_text(
        "from pathlib import Path\n"
        "from importer import RunRequest, load_mapping\n"
        "from importer.pipeline import validate_file\n"
        f"mapping = load_mapping(Path({str(CLINIC_MAPPING)!r}))\n"
        f"asked = RunRequest(Path({str(path)!r}), mapping, part_rows=5, workers=2)\n"
        "print('rows', sum(validate_file(asked).done.counter.values()))\n",
        encoding="utf-8",
    )
    alone = validate_file(RunRequest(path, load_mapping(CLINIC_MAPPING), part_rows=5))
    ran = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert ran.stdout.splitlines() == [f"rows {sum(alone.done.counter.values())}"]
    assert "the worker processes stopped; the rest is checked here" in ran.stderr


def test_default_workers_is_one_per_core_at_most_the_maximum() -> None:
    assert 1 <= default_workers() <= MAX_WORKERS


def test_an_importer_error_from_a_worker_keeps_its_fields() -> None:
    raised = [
        LoadError("no table", file="a.csv", sheet="Mon", row=4, column="Date"),
        MappingError("columns missing", file="clinic.yaml", problems=["no column 'Date'"]),
    ]
    for error in raised:
        again = pickle.loads(pickle.dumps(error))
        assert type(again) is type(error)
        assert str(again) == str(error)
        assert again.__dict__ == error.__dict__


def test_a_row_s_result_comes_back_from_a_worker_as_it_was_made() -> None:
    # Results are pickled as their fields in order (RowResult.__reduce__): every field set to
    # something other than its default, and every field counted, so a field added is not lost.
    warning = RowIssue(4, "Date", "12/01/2025", "this appointment is in the past", "Mon")
    result = RowResult(
        4, PlanAction.SKIP, "c-1", 41, "same as row 3", SkipReason.SAME_AS_ROW, (warning,), "Mon"
    )
    for value in (warning, result):
        again = pickle.loads(pickle.dumps(value))
        assert again == value and type(again) is type(value)
        assert tuple(getattr(again, f.name) for f in fields(value)) == value.__reduce__()[1]
        assert all(getattr(value, f.name) != f.default for f in fields(value))


@pytest.mark.skipif(sys.platform == "win32", reason="os.kill(pid, 0) ends a process there")
def test_workers_end_when_the_command_line_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "killed.py"
    script.write_text(
        "import os\n"
        "from importer.workers import PartPool\n"
        "from tests.test_workers import where\n"
        "if __name__ == '__main__':\n"
        "    pids = set(PartPool(2).map(where, range(4)))\n"
        "    print(' '.join(map(str, pids)), flush=True)\n"
        "    os._exit(0)  # as if killed: no pool closed, no clean-up\n",
        encoding="utf-8",
    )
    root = Path(__file__).resolve().parents[1]
    said = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        check=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        timeout=60,
    )
    # Run returns once the workers, which share its output, have ended too.
    workers = [int(pid) for pid in said.stdout.split()]  # those that took an item
    assert workers and said.returncode == 0
    deadline = time.monotonic() + 10
    while any(_running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_running(pid) for pid in workers)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_workers_started_by_spawn_as_on_windows_check_a_file_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Windows has no forkserver: its workers import everything afresh and get every part
    # pickled. The same file, checked by spawned workers, gives the same report.
    monkeypatch.setattr(workers, "_context", lambda: multiprocessing.get_context("spawn"))
    path = big_export(tmp_path / "export.csv")
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    alone = validate_file(request(path, tmp_path / "a", 5, now=now))
    spawned = validate_file(request(path, tmp_path / "b", 5, now=now, workers=2))
    assert alone.report_path is not None and spawned.report_path is not None
    assert read_report(spawned.report_path) == read_report(alone.report_path)
    assert spawned.done.counts == alone.done.counts


def test_the_forkserver_loads_the_checks_and_freezes_them_before_forking() -> None:
    # A worker forked from the server shares what the server loaded; frozen, the collector of a
    # worker never walks it (a walk would copy each page it lies on into the worker). Checked in
    # a process of its own: the module freezes the objects of the process that imports it.
    if workers._context().get_start_method() == "forkserver":
        preloaded = forkserver._forkserver._preload_modules  # type: ignore[attr-defined]
        assert preloaded == ["importer.worker_preload"]
    probe = (
        "import gc\n"
        "import importer.worker_preload\n"
        "from pandera.backends.pandas.register import register_pandas_backends\n"
        "from importer.warm_up import warm_up\n"
        "assert gc.get_freeze_count() > 10_000, gc.get_freeze_count()\n"
        "assert register_pandas_backends.cache_info().currsize >= 1\n"
        "assert warm_up() == {}, warm_up()\n"
    )
    _passes_alone(probe)


@pytest.mark.skipif(
    "forkserver" not in multiprocessing.get_all_start_methods(), reason="no forkserver here"
)
def test_warming_a_pool_up_starts_the_server_its_workers_are_forked_from() -> None:
    # Started ahead, the server loads the pipeline while the file is read; the first part handed
    # out would otherwise wait for it. A pool of one worker starts nothing. In a process of its
    # own: this one may have a server running already.
    probe = (
        "from multiprocessing import forkserver\n"
        "from importer.workers import PartPool\n"
        "PartPool(1).warm_up()\n"
        "assert forkserver._forkserver._forkserver_pid is None\n"
        "with PartPool(2) as pool:\n"
        "    pool.warm_up()\n"
        "    assert forkserver._forkserver._forkserver_pid is not None\n"
        "    assert list(pool.map(abs, [-1, -2, 3])) == [1, 2, 3]\n"
    )
    _passes_alone(probe)


def _passes_alone(probe: str) -> None:
    """Run ``probe`` (Python source whose asserts are the test) in a process of its own."""
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.skipif(
    "forkserver" not in multiprocessing.get_all_start_methods(), reason="no forkserver here"
)
def test_workers_keep_text_as_python_strings_whatever_is_installed() -> None:
    # Where pyarrow is installed, pandas would store text in it (importer.own_process); a worker
    # forked from the server has pandas loaded, and says so whether pyarrow is there or not.
    with PartPool(2) as pool:
        assert set(pool.map(text_storage, range(4))) == {"python"}
