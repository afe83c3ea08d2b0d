"""The first, light read of a big file (:mod:`importer.file_facts`): each part's keys (its row
numbers, a digest of each row, of its appointment id and of each unique cell, about 32 bytes a
row), gathered into what the whole file says of its rows (:class:`FileFacts`): the rows that
share an id or a unique cell with another row anywhere in the file, the rows identical to an
earlier one, and the ids in the file (for ``--cancel-missing``)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from importer.appointments import appointments_of
from importer.events import external_ids_of
from importer.load import Sheet
from importer.load.spool import part_of
from importer.mapping import Mapping
from importer.validate import blank_to_na


def id_digests(ids: Sequence[str] | np.ndarray) -> np.ndarray:
    """A 64-bit digest of each appointment id (uint64)."""
    return pd.util.hash_array(np.asarray(ids, dtype=object), categorize=False)


# A blank cell's digest: pandas hashes a missing value as the text "nan" (or "None"), which
# would make a row with a blank cell one with "nan" typed in it. Any 64-bit value will do that
# a text hashes to by chance only (as two different rows may).
_BLANK_DIGEST = np.uint64(0x9E3779B97F4A7C15)
# The texts pandas hashes a missing value as (NaN, None, NA): only cells with their digests are
# asked whether they are blank (asking every cell costs ~0.5 ms per 25,000).
_BLANK_AS_TEXT = pd.util.hash_array(np.array(["nan", "None", "<NA>"], dtype=object))
# A column whose first cells repeat (a quarter of them or more) is factorized first: its
# distinct texts are hashed once each (providers, dates, times, zones: ~0.9 against ~2 ms per
# 25,000 cells). Ids, phones and emails are hashed cell by cell (factorizing them first costs
# ~2.5x more). Either way a text has the same digest, so parts read either way agree.
_SAMPLE_CELLS = 512
_FEW_DISTINCT = 384
_TABLE_KEYS = 1 << 20  # the most keys _repeated hashes at once


def row_digests(frame: pd.DataFrame) -> np.ndarray:
    """A 64-bit digest of each row's cells (uint64): equal rows, in any part of any file read
    in this run, have equal digests; rows that differ in a cell (blank against text included)
    differ but by a 64-bit chance. pandas' own tuple-like combination of each column's digests
    (:func:`pandas.util.hash_pandas_object`), with blank cells told apart."""
    digests = [
        _cell_digests(frame.iloc[:, j].to_numpy(dtype=object)) for j in range(frame.shape[1])
    ]
    out = np.full(len(frame), 0x345678, dtype=np.uint64)
    mult = np.uint64(1000003)
    for i, column in enumerate(digests):
        inverse = len(digests) - i
        out ^= column
        out *= mult
        mult += np.uint64(82520 + inverse + inverse)
    out += np.uint64(97531)
    return out


def _cell_digests(cells: np.ndarray) -> np.ndarray:
    """Each cell's digest (text or blank: NA, None)."""
    if len(set(cells[:_SAMPLE_CELLS].tolist())) <= _FEW_DISTINCT:
        codes, distinct = pd.factorize(cells)
        digests = np.append(pd.util.hash_array(distinct, categorize=False), _BLANK_DIGEST)
        return digests.take(codes)  # code -1 (blank): the last
    digests = pd.util.hash_array(cells, categorize=False)
    maybe = np.flatnonzero(np.isin(digests, _BLANK_AS_TEXT))
    if len(maybe):
        digests[maybe[pd.isna(cells[maybe])]] = _BLANK_DIGEST
    return digests


@dataclass(frozen=True)
class FileFacts:
    """What the whole file says of its rows (see the module)."""

    parts: int  # how many parts the file was read in
    copies: dict[int, int] = field(default_factory=dict)  # row -> the earlier identical row
    shared: dict[int, tuple[int, ...]] = field(default_factory=dict)  # row -> its id's rows
    # the digests of the ids in the file, in any order: sorted when first asked (absent)
    ids: np.ndarray = field(default_factory=lambda: np.empty(0, np.uint64))
    warnings: tuple[str, ...] = ()  # the load's warnings, every part's
    unique: dict[str, dict[int, tuple[int, ...]]] = field(default_factory=dict)  # per column

    def absent(self, external_ids: Sequence[str]) -> list[bool]:
        """For each of ``external_ids``, True when no row of the file has it."""
        if not len(external_ids):
            return []
        digests, known = id_digests(external_ids), self._known_ids
        at = np.searchsorted(known, digests).clip(max=max(len(known) - 1, 0))
        found = known[at] == digests if len(known) else np.zeros(len(digests), bool)
        return [not f for f in found.tolist()]

    @functools.cached_property
    def _known_ids(self) -> np.ndarray:
        """The distinct digests of :attr:`ids`, sorted: asked for by --cancel-missing only
        (~0.1 s per 1,000,000 rows, after the file's last part)."""
        return _distinct(self.ids)


@dataclass(frozen=True)
class PartKeys:
    """One part's row numbers, row digests, id digests (0: no id) and unique cells' digests."""

    rows: np.ndarray
    cells: np.ndarray
    ids: np.ndarray
    values: dict[str, np.ndarray]
    warnings: tuple[str, ...]


def part_keys(data: Sheet | bytes, mapping: Mapping) -> PartKeys:
    """One part's keys (MappingError for a part without the mapping's columns). Runs in a
    worker process for a big file (:class:`importer.workers.PartPool`)."""
    part = part_of(data)
    found = appointments_of(part, mapping)
    rows = found.rows
    hashed = row_digests(rows)
    ids = external_ids_of(rows, mapping.event.external_id, found.cells).to_numpy(dtype=object)
    values = {}
    for name in (c.name for c in mapping.columns if c.unique):
        if name in rows.columns:
            cells = blank_to_na(rows[name])
            digests = id_digests(cells.fillna("").to_numpy(dtype=object))
            values[name] = np.where(cells.notna(), digests, np.uint64(0))
    return PartKeys(
        rows=rows.index.to_numpy(dtype=np.int64),
        cells=hashed,
        ids=np.where(ids != "", id_digests(ids), np.uint64(0)),
        values=values,
        warnings=tuple(part.warnings),
    )


class FileKeys:
    """Each part's keys (:func:`part_keys`), gathered for :meth:`facts`."""

    def __init__(self, mapping: Mapping) -> None:
        self.unique = [c.name for c in mapping.columns if c.unique]
        self.rows: list[np.ndarray] = []
        self.cells: list[np.ndarray] = []
        self.ids: list[np.ndarray] = []  # digests; 0 where the row has no id
        self.values: dict[str, list[np.ndarray]] = {name: [] for name in self.unique}
        self.warnings: dict[str, None] = {}

    def add(self, keys: PartKeys) -> None:
        self.warnings.update(dict.fromkeys(keys.warnings))
        self.rows.append(keys.rows)
        self.cells.append(keys.cells)
        self.ids.append(keys.ids)
        for name, digests in keys.values.items():
            self.values[name].append(digests)

    def facts(self, parts: int) -> FileFacts:
        """What the keys of every part say (see the module). Asked once: each part's keys are
        let go as they are joined, so that the file's are never held twice (at 1,000,000 rows
        this step's peak was ~80 MB over the keys, the highest of a ``--workers 1`` check)."""
        counted = len(self.rows)
        rows, cells = _taken(self.rows), _taken(self.cells)
        copies = _copies(rows, cells)
        del cells
        ids = _taken(self.ids)
        copied: np.ndarray | None = None
        if copies:
            # A copy has its first row's id and cells: it is judged by that row, as if it had no
            # id or unique cell (0), the rest keeping every id of the file. In place: no array
            # of the file's keys is copied.
            copied = np.isin(rows, np.fromiter(copies, np.int64, len(copies)))
            ids[copied] = 0
        unique = {}
        for name in list(self.values):
            chunks = self.values.pop(name)
            if len(chunks) == counted:
                values = _taken(chunks)
                if copied is not None:
                    values[copied] = 0
                unique[name] = _groups(rows, values)
                del values
        return FileFacts(
            parts, copies, _groups(rows, ids), ids[ids != 0], tuple(self.warnings), unique
        )


def digests_of(ids: Sequence[str] | np.ndarray) -> np.ndarray:
    """The sorted distinct digests of ``ids`` (the ids in a file)."""
    return _distinct(id_digests(ids)) if len(ids) else np.empty(0, np.uint64)


def _distinct(digests: np.ndarray) -> np.ndarray:
    """The distinct values of ``digests``, sorted. Not ``np.unique``: numpy 2.4's takes 0.65 s
    for 1,000,000 digests, a sort and a comparison ~10 ms."""
    ordered = np.sort(digests)
    if len(ordered) < 2:
        return ordered
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]]


def _taken(chunks: list[np.ndarray]) -> np.ndarray:
    """``chunks`` joined, and let go of (``chunks`` is emptied)."""
    joined = np.concatenate(chunks) if chunks else np.empty(0, np.uint64)
    chunks.clear()
    return joined


def _repeated(keys: np.ndarray) -> np.ndarray:
    """True where a key is also found elsewhere in ``keys``: a hash table's pass (~50 ms per
    1,000,000 keys, against ~90 ms for a sort), so that only the few keys that repeat are sorted
    (the whole file's facts are worked out after its last part, while the workers are idle).

    The keys are digests, spread evenly over their 64 bits: past :data:`_TABLE_KEYS` keys they
    are taken a range of values at a time, equal keys always in the same range, so that the
    table stays that of ~1,000,000 keys (~28 MB). Whole, a 5,000,000-row file's took ~135 MB,
    the biggest step of its memory's growth with the file."""
    ranges = 1
    while ranges * _TABLE_KEYS < len(keys):
        ranges *= 2
    if ranges == 1:
        return pd.Series(keys, copy=False).duplicated(keep=False).to_numpy()
    found = np.zeros(len(keys), dtype=bool)
    width = (1 << 64) // ranges
    for i in range(ranges):
        inside = keys >= np.uint64(i * width)
        if i + 1 < ranges:
            inside &= keys < np.uint64((i + 1) * width)
        some = keys[inside]
        found[inside] = pd.Series(some, copy=False).duplicated(keep=False).to_numpy()
    return found


def _copies(rows: np.ndarray, cells: np.ndarray) -> dict[int, int]:
    """row -> the first row with the same cells (digest ``cells``), for every later row."""
    repeated = _repeated(cells)
    rows, cells = rows[repeated], cells[repeated]
    order = np.lexsort((rows, cells))
    rows, cells = rows[order], cells[order]
    again = np.flatnonzero(cells[1:] == cells[:-1]) + 1
    if not len(again):
        return {}
    starts = np.where(np.r_[True, cells[1:] != cells[:-1]], np.arange(len(cells)), 0)
    first = np.maximum.accumulate(starts)
    return dict(zip(rows[again].tolist(), rows[first[again]].tolist(), strict=True))


def _groups(rows: np.ndarray, keys: np.ndarray) -> dict[int, tuple[int, ...]]:
    """row -> every row with its key, for the keys (non-zero) that two rows or more share."""
    present = (keys != 0) & _repeated(keys)
    rows, keys = rows[present], keys[present]
    order = np.lexsort((rows, keys))
    rows, keys = rows[order], keys[order]
    repeated = np.zeros(len(keys), dtype=bool)
    if len(keys) > 1:
        same = keys[1:] == keys[:-1]
        repeated[1:] |= same
        repeated[:-1] |= same
    picked = np.flatnonzero(repeated)
    if not len(picked):
        return {}
    found: dict[int, tuple[int, ...]] = {}
    for group in np.split(picked, np.flatnonzero(np.diff(keys[picked]) != 0) + 1):
        together = tuple(rows[group].tolist())
        found.update(dict.fromkeys(together, together))
    return found
