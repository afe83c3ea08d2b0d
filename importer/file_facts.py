"""A big file checked in parts: what the whole file says of each row, kept small.

A big file is read :data:`importer.load.parts.PART_ROWS` rows at a time, so that memory does not
grow with it. What needs the whole file is settled by a first, light read
(:meth:`PreparedParts.check`, the keys in :mod:`importer.file_keys`): every appointment id,
unique cell and a digest of every row, about 32 bytes a row, give the rows that share an id with
another row anywhere in the file (each of them invalid), the rows identical to an earlier one (a
copy, sent once), and the ids in the file (for ``--cancel-missing``). Then
:meth:`PreparedParts.prepared` checks and maps part after part with those facts, exactly as if
the file were one part. A file that fits in one part is read once: checked or planned, most
files do (up to ``WHOLE_ROWS`` rows); sent, those of up to ``PART_ROWS`` rows. A bigger file is
parsed once too: its parts, as first read, wait on disk (:mod:`importer.load.spool`) for the
second pass. Given a :class:`importer.workers.PartPool`, other processes work out each part's
keys and check its rows (``validate``), while this one reads the next. ``validate`` checks each
part during the first read already (:class:`Ahead`): the second pass takes those checks, and
checks again only the parts whose rows share an id, a unique cell or every cell with rows of
other parts.

One thing is judged within a part only: a patient booked twice at the same start (a warning). A
new row that looks like one sent by an earlier part is held back by a plan as by a run
(:class:`importer.guard.EarlierRows`, the ledger).
"""

from __future__ import annotations

import bisect
import pickle
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from importer.appointments import (
    Appointments,
    Coverage,
    appointments_of,
    appointments_remembered,
    coverage_of,
)
from importer.events import external_ids_of
from importer.file_keys import FileFacts, FileKeys, PartKeys, digests_of, part_keys
from importer.load import DEFAULT_MAX_ROWS, Sheet
from importer.load.parts import PART_ROWS, WHOLE_ROWS, LayoutChanged, PartReader
from importer.load.spool import PartSpool, part_bytes, part_of
from importer.mapping import Mapping
from importer.memory import release_freed_memory
from importer.prepare import Prepared, mapping_sheet, prepare_sheet
from importer.workers import PartPool


@dataclass(frozen=True)
class PartFacts:
    """What the whole file says of the rows of one part (see :meth:`PreparedParts.facts_of`)."""

    copies: dict[int, int] = field(default_factory=dict)
    shared: dict[int, tuple[int, ...]] = field(default_factory=dict)
    unique: dict[str, dict[int, tuple[int, ...]]] = field(default_factory=dict)


def prepare_part(
    job: tuple[Sheet | bytes, PartFacts | None], mapping: Mapping, now: datetime | None
) -> Prepared:
    """One part checked and mapped with what the whole file says of its rows (None: the file
    is this one part)."""
    data, facts = job
    part = part_of(data)
    if facts is None:
        return prepare_sheet(part, mapping, now=now)
    return prepare_sheet(
        part, mapping, now=now, copies=facts.copies, shared=facts.shared, unique=facts.unique
    )


@dataclass(frozen=True)
class Ahead:
    """Work done on every part during the first read, on the guess that the rest of the file
    changes nothing of it: ``work((part, None), *args)``, as for a file of that part alone.

    Most parts are such: the rows a part shares an id, a unique cell or every cell with are
    nearly always in the part itself. For those parts the work done ahead is the work done with
    the whole file's facts (:meth:`PreparedParts.worked`), and the file is read and worked on in
    one pass; a part whose rows the rest of the file does change is worked on again, with its
    facts. ``work`` must be a module-level function (it runs in worker processes) and ``args``
    compare equal when they are the same.
    """

    work: Callable[..., Any]
    args: tuple[Any, ...]


def _first_read(
    data: Sheet | bytes, mapping: Mapping, ahead: Ahead | None
) -> tuple[PartKeys, bytes | None]:
    """One part's keys and, when asked for, its work done ahead, pickled (kept on disk until
    the whole file is read). Runs in a worker process for a big file."""
    part = part_of(data)
    with appointments_remembered():  # the keys and the work ahead read them once
        keys = part_keys(part, mapping)
        if ahead is None:
            return keys, None
        done = ahead.work((part, None), *ahead.args)
    return keys, pickle.dumps(done, protocol=pickle.HIGHEST_PROTOCOL)


class PreparedParts:
    """One sheet of a file, checked and mapped a part at a time (see the module)."""

    def __init__(
        self,
        path: str | Path,
        mapping: Mapping,
        *,
        sheet: str | None = None,
        max_rows: int = DEFAULT_MAX_ROWS,
        now: datetime | None = None,
        part_rows: int | None = None,
        sending: bool = False,
        file_name: str | None = None,
        prepared: Prepared | None = None,
    ) -> None:
        self.mapping = mapping
        self.now = now
        self.file_name = file_name  # the name the ledger and messages give the file
        self._given = prepared  # a sheet read and checked already: the one part
        self.reader = PartReader(
            path,
            sheet=sheet or mapping_sheet(path, mapping),
            max_rows=max_rows,
            header_row=mapping.header_row,
            # By default a file of up to WHOLE_ROWS rows is checked as one part (fast), unless it
            # is sent: a run holds each part's payloads, so its memory stays that of one
            # PART_ROWS part. Asked for, parts of exactly that size.
            part_rows=PART_ROWS if part_rows is None else part_rows,
            whole_rows=WHOLE_ROWS if part_rows is None and not sending else 0,
        )
        self._only: Sheet | None = None  # the one part of a file that fits in one
        self._spool = PartSpool()  # a file of several parts: each as first read
        self._bounds: list[tuple[int, int]] = []  # the first and last row of each part
        self._ahead: Ahead | None = None  # the work done during the first read, if any
        self._done_ahead = PartSpool()  # its result for each part, pickled
        self.facts: FileFacts | None = None
        self._coverage: Coverage | None = None  # worked out when first asked
        self._read: dict[int, tuple[Sheet, Mapping, Appointments]] = {}  # one part: read once

    @property
    def given(self) -> bool:
        """True when the sheet came read and checked already (its one part is at hand)."""
        return self._given is not None

    @property
    def file_label(self) -> str:
        """The file as messages and the ledger name it."""
        return self.file_name or self.reader.file

    def check(self, pool: PartPool | None = None, ahead: Ahead | None = None) -> FileFacts:
        """Read the whole file once (LoadError, MappingError before anything is done with it)
        and settle what needs all of it; ``pool``: works out each part's keys. ``ahead``: work
        done on every part of a file of several parts meanwhile (see :class:`Ahead`), taken by
        :meth:`worked`."""
        if self._given is not None:
            # Every id of the sheet counts as in the file, invalid rows' too (--cancel-missing).
            ids = list(self._given.events.external_ids.values())
            self.facts = FileFacts(1, ids=digests_of(ids), warnings=self._given.sheet.warnings)
            return self.facts
        pool = pool or PartPool(1)
        if self.reader.likely_several():
            pool.warm_up()  # the workers' server loads while this process reads the first parts
        while True:
            self._spool.close()
            self._done_ahead.close()
            self._spool, self._bounds, self._done_ahead = PartSpool(), [], PartSpool()
            self._ahead = ahead
            reading = _FirstKept(self._named(self.reader.parts()))
            keys = FileKeys(self.mapping)
            try:
                kept = self._kept(reading.after_first(), bytes_out=pool.workers > 1)
                for part_found, done in pool.map(_first_read, kept, self.mapping, ahead):
                    keys.add(part_found)
                    if done is not None:
                        self._done_ahead.add(done)
            except LayoutChanged:
                continue  # the reader learnt how to read the file: from its start again
            break
        parts, first = reading.count, reading.only
        if first is not None:
            # One part: its ids alone (--cancel-missing keeps them); the rest needs no digest.
            with appointments_remembered(self._read):  # read again by prepare(): kept
                read = appointments_of(first, self.mapping)  # MappingError now, as for more
            found = external_ids_of(read.rows, self.mapping.event.external_id, read.cells)
            rendered = found[found != ""].to_numpy(dtype=object)
            self._only, self._ahead = first, None
            self.facts = FileFacts(1, ids=digests_of(rendered), warnings=first.warnings)
            return self.facts
        self.facts = keys.facts(parts)
        return self.facts

    def _kept(self, parts: Iterator[Sheet], *, bytes_out: bool) -> Iterator[Sheet | bytes]:
        """``parts`` as read the first time, each kept on disk with its rows' bounds; given on
        pickled (``bytes_out``, for worker processes) or as they are."""
        for part in parts:
            data = part_bytes(part)
            self._spool.add(data)
            self._bounds.append(_bounds(part))
            yield data if bytes_out else part

    def _named(self, parts: Iterable[Sheet]) -> Iterator[Sheet]:
        for part in parts:
            yield part if self.file_name is None else _named(part, self.file_name)

    def sheets(self) -> Iterator[Sheet]:
        """The file's parts as read (named as ``file_name`` says), after :meth:`check`."""
        if self._given is not None:
            yield self._given.sheet
        elif self._only is not None:
            yield self._only  # named as read
        elif self._spool.usable:
            yield from map(part_of, self._spool.parts())
        else:
            yield from self._named(self.reader.parts())

    def facts_of(self, part: Sheet) -> PartFacts | None:
        """What the whole file says of ``part``'s rows (after :meth:`check`); None for a file
        of one part (the part says it all)."""
        return self._facts_within(_bounds(part))

    def _facts_within(self, bounds: tuple[int, int]) -> PartFacts | None:
        """What the whole file says of the rows from ``bounds[0]`` to ``bounds[1]`` (the rows
        of one part: a part is a run of rows no other part has rows in)."""
        facts = self.facts or self.check()
        if facts.parts == 1:
            return None
        low, high = bounds
        return PartFacts(
            copies={r: first for r, first in facts.copies.items() if low <= r <= high},
            shared={r: all_ for r, all_ in facts.shared.items() if low <= r <= high},
            unique={
                name: {r: all_ for r, all_ in of.items() if low <= r <= high}
                for name, of in facts.unique.items()
            },
        )

    def jobs(
        self, *, bytes_out: bool = False, skip: frozenset[int] = frozenset()
    ) -> Iterator[tuple[Sheet | bytes, PartFacts | None]]:
        """Every part with what the whole file says of it, for :func:`prepare_part`;
        ``bytes_out``: parts kept on disk are given on pickled, for worker processes. ``skip``:
        the parts (by place, from 0) left out."""
        if bytes_out and self._spool.usable and self._given is None and self._only is None:
            kept = [i for i in range(len(self._bounds)) if i not in skip]
            for i, data in zip(kept, self._spool.parts(kept), strict=True):
                release_freed_memory()  # this process holds little: results of the part before
                yield data, self._facts_within(self._bounds[i])
            return
        for i, part in enumerate(self.sheets()):
            if i in skip:
                continue
            release_freed_memory()  # the part before's cells and payloads are gone
            yield part, self.facts_of(part)

    def worked(self, ahead: Ahead, pool: PartPool) -> Iterator[Any]:
        """``ahead.work(job, *ahead.args)`` for every part's job (:meth:`jobs`), in order, after
        :meth:`check`: the work :meth:`check` did ahead for the parts the rest of the file
        changes nothing of, and the work done now, by ``pool``, for the others (every part,
        when nothing was done ahead)."""
        facts = self.facts or self.check()
        count = len(self._bounds) or facts.parts
        usable = count > 1 and self._ahead == ahead and len(self._done_ahead) == count
        alone = self._parts_alone(facts) if usable else frozenset()
        again = pool.map(ahead.work, self.jobs(bytes_out=pool.workers > 1, skip=alone), *ahead.args)
        kept = self._done_ahead.parts(sorted(alone))
        for i in range(count):
            if i in alone:
                yield pickle.loads(next(kept))  # noqa: S301 (our own temporary file)
            else:
                yield next(again)

    def _parts_alone(self, facts: FileFacts) -> frozenset[int]:
        """The parts (by place) whose rows share nothing with the rows of other parts: no row
        is a copy of one elsewhere, and no id or unique cell is shared with a row elsewhere."""
        places = [(low, i) for i, (low, high) in enumerate(self._bounds) if low <= high]
        lows = [low for low, _ in places]

        def place(row: int) -> int:
            return places[bisect.bisect_right(lows, row) - 1][1]

        mixed: set[int] = set()
        for row, first in facts.copies.items():
            if place(row) != place(first):
                mixed.add(place(row))
        groups = [facts.shared, *facts.unique.values()]
        for rows in {together for of in groups for together in of.values()}:
            where = {place(row) for row in rows}
            if len(where) > 1:
                mixed.update(where)
        return frozenset(range(len(self._bounds))) - mixed

    def prepare(self, part: Sheet) -> Prepared:
        """One part checked and mapped with what the whole file says (after :meth:`check`)."""
        if self._given is not None:
            return replace(self._given, sheet=part)
        release_freed_memory()  # the part before's cells and payloads are gone
        with appointments_remembered(self._read if part is self._only else None):
            return prepare_part((part, self.facts_of(part)), self.mapping, self.now)

    def prepared(self) -> Iterator[Prepared]:
        """Every part, checked and mapped."""
        for part in self.sheets():
            yield self.prepare(part)

    def coverage(self) -> Coverage:
        """What the file says of the appointments it speaks for (:class:`Coverage`), over every
        part (after :meth:`check`); read again when first asked."""
        if self._coverage is None:
            self._coverage = Coverage.of_all(coverage_of(p, self.mapping) for p in self.sheets())
        return self._coverage

    def unchecked(self, part: Sheet) -> Appointments:
        """A part's input columns as its report lines show them, and its rows set aside (the
        mapping's cancelled rows too), without checking its rows."""
        return appointments_of(part, self.mapping)


class _FirstKept:
    """The parts of a file, the first held back until a second comes: a file of one part
    needs no keys (:attr:`only`, read once)."""

    def __init__(self, parts: Iterator[Sheet]) -> None:
        self.parts = parts
        self.count = 0
        self.only: Sheet | None = None

    def after_first(self) -> Iterator[Sheet]:
        for part in self.parts:
            self.count += 1
            if self.count == 1:
                self.only = part
                continue
            if self.only is not None:
                yield self.only
                self.only = None
            yield part
            release_freed_memory()


def _bounds(part: Sheet) -> tuple[int, int]:
    """The first and last row number of ``part`` ((0, -1): no rows)."""
    index = part.frame.index
    return (int(index[0]), int(index[-1])) if len(index) else (0, -1)


def _named(part: Sheet, name: str) -> Sheet:
    return replace(part, file=name)
