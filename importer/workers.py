"""The parts of a big file worked on by other processes, a few at a time, results in order.

Checking and mapping a part is Python work on one core; a file of 1,000,000 rows is 40 parts.
:class:`PartPool` hands parts to worker processes while this one reads the next, and gives the
results back in the parts' order, so everything after it (counts, the report, the first
results kept) is exactly what one process would make. At most ``ahead`` parts are out at once:
memory stays that of a few parts, however long the file is.

Workers start with ``forkserver`` where there is one (Linux, macOS), else ``spawn`` (Windows):
never a plain fork of a process that may run threads. Their Ctrl-C is ignored: the command line
stops them when it stops. With one worker (one core, or ``--workers 1``) nothing is started and
the work is done here, in order, as before. A worker ends when the command line is gone, however
it ended.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import multiprocessing
import os
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from importer.own_process import keep_text_as_python_strings

T = TypeVar("T")
R = TypeVar("R")

logger = logging.getLogger(__name__)

# The process reading the file does about a fifth of the work of a big one (read, pickle, keep
# results; measured on 2 cores): more workers than this would mostly wait for it.
MAX_WORKERS = 4


def default_workers() -> int:
    """Worker processes for a big file: one per core, at most :data:`MAX_WORKERS`; 1 (no other
    process) on a machine of one core."""
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


def _worker_start(alive: Connection) -> None:
    """A worker leaves Ctrl-C to the command line (which stops the pool), printing nothing, and
    ends when the command line is gone, however it ended (killed by a scheduler, say): left
    alone, a worker would wait for work forever."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_end_with, args=(alive,), daemon=True).start()
    keep_text_as_python_strings()  # a spawned worker (Windows) has no server that did it


def _end_with(alive: Connection) -> None:
    """Wait for the end of the pipe the command line holds (nothing is ever sent on it: it
    ends when the command line closes it or the system closes it for a process that ended)."""
    with contextlib.suppress(EOFError, OSError):
        alive.recv_bytes()
    os._exit(0)


def _context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        # The server loads the pipeline once (importer.worker_preload); each worker forked
        # from it starts at once, sharing what the server loaded.
        context.set_forkserver_preload(["importer.worker_preload"])
        return context
    return multiprocessing.get_context("spawn")


class PartPool:
    """Runs one function over items in ``workers`` processes; results in the items' order.

    Used as a context manager: leaving it (Ctrl-C, an error, the end) stops the workers and
    drops the work not yet taken.
    """

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._executor: ProcessPoolExecutor | None = None
        self._broken = False
        self._alive: Connection | None = None

    def __enter__(self) -> PartPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        if self._alive is not None:
            self._alive.close()
            self._alive = None

    def warm_up(self) -> None:
        """Start the process the workers are forked from (the forkserver, which loads the
        pipeline first: ~0.8 s) now, while this process reads the file: handing out the first
        part would otherwise wait for it, doing nothing. Nothing to do with one worker, or where
        workers are spawned (Windows: a spawned worker loads on its own, nobody waits)."""
        if self.workers == 1 or self._broken or self._executor is not None:
            return
        if _context().get_start_method() != "forkserver":
            return
        from multiprocessing import forkserver  # noqa: PLC0415 (POSIX only, like the method)

        try:
            forkserver.ensure_running()
        except OSError:  # the pool starts it when first used, and says so if it cannot
            logger.debug("the forkserver did not start ahead", exc_info=True)

    def _started(self) -> ProcessPoolExecutor:
        if self._executor is None:
            context = _context()
            # The workers hold the reading end, this process alone the other (see _end_with).
            reading, self._alive = context.Pipe(duplex=False)
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=context,
                initializer=_worker_start,
                initargs=(reading,),
            )
        return self._executor

    def map(
        self, work: Callable[..., R], items: Iterable[T], *args: Any, ahead: int | None = None
    ) -> Iterator[R]:
        """``work(item, *args)`` for each item, in order. ``work`` must be a module-level
        function and items, ``args`` and results picklable. An error in a worker is raised here,
        at its item's turn. ``ahead``: items out at once (default: two per worker)."""
        if self.workers == 1 or self._broken:
            for item in items:
                yield work(item, *args)
            return
        limit = ahead or 2 * self.workers
        pending: deque[tuple[T, Future[R]]] = deque()
        items = iter(items)
        for item in items:
            try:
                pending.append((item, self._started().submit(work, item, *args)))
            except BrokenProcessPool:
                # The pool broke before this item was handed out (a worker killed while this
                # process read on): this item is done here, after those handed out, as the rest.
                self._gone()
                items = itertools.chain([item], items)
                break
            while len(pending) >= limit or (pending and pending[0][1].done()):
                yield self._result(*pending.popleft(), work, args)
            if self._broken:
                break
        while pending:
            yield self._result(*pending.popleft(), work, args)
        for item in items:  # the pool broke: the rest here
            yield work(item, *args)

    def _result(self, item: T, future: Future[R], work: Callable[..., R], args: tuple) -> R:
        """``future``'s result; its work done here if the worker processes are gone."""
        if not self._broken:
            try:
                return future.result()
            except BrokenProcessPool:
                self._gone()
        return work(item, *args)

    def _gone(self) -> None:
        """A worker was killed (out of memory, the system), or none could start: the work goes
        on here, slower, rather than failing the file."""
        logger.warning("the worker processes stopped; the rest is checked here")
        self._broken = True
        self.close()
