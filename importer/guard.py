"""The guards of the plan: a new event is held back when the same visit is already there; an
update, when its id is another file's event for another person (:func:`other_people`).

External ids say which rows are the same event only when every file and mapping writes them the
same way. Before a row creates an event, the plan (:mod:`importer.plan`) asks this module whether
an event in the same calendar, at the same instant, for the same participant (phone, email, name
or Apptoto contact) is already live: in the ledger, under any mapping, or in an earlier row of the
same file. Such a row would give a patient two reminders for one visit; it is not sent unless the
user says so. Keys: :mod:`importer.ledger.appointments`.

A file read in parts is judged a part at a time; the rows an earlier part sends are known to a
later part's guard by the ledger once recorded, and by :class:`EarlierRows` before that (rows
waiting for the next part's batch, and every earlier part of a plan, which records nothing). It
keeps 64-bit digests, 12 bytes per contact detail of a row sent and 32 per person (about 70
bytes a row with a phone, an email and a name), never the payloads.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from pathlib import PurePath
from typing import Any

import numpy as np
import pandas as pd

from importer.ledger import (
    Ledger,
    LedgerEntry,
    appointment_keys,
    names_of,
    payload_names,
    same_person,
)
from importer.values.distinct import collector_paused

WHY = "same calendar, start and participant"


def sent_as(entry: LedgerEntry) -> str:
    """``event 812 (row 4 of export.xlsx, 2026-04-13)``: what an earlier run sent."""
    event = f"event {entry.apptoto_id}" if entry.apptoto_id is not None else entry.external_id
    where = [f"row {entry.source_row} of " if entry.source_row is not None else ""]
    where.append(PurePath(entry.source_file).name or entry.source_file)
    return f"{event} ({''.join(where)}, {entry.updated_at[:10]})"


# Who a key of a row sent is for (importer.ledger.appointments): the person's name, phone and
# email as 64-bit digests (0 where blank), and the row.
_WHO = np.dtype(
    [
        ("name", np.uint64),
        ("phone", np.uint64),
        ("email", np.uint64),
        ("sheet", np.int32),  # EarlierRows.sheets index: 0 for a file of one sheet
        ("row", np.int32),
    ]
)
_PERSON = ["name", "phone", "email"]
_BLANK = "0" * 16

Keys = frozenset[tuple[str, str]]  # (key, person) pairs of one payload


def _hex_digests(texts: list[str]) -> np.ndarray:
    """The first 64 bits of each hex digest (of SHA-256: as good as any 64 of its bits)."""
    return np.frombuffer(bytes.fromhex("".join(t[:16] for t in texts)), ">u8").astype(np.uint64)


def _person_digests(persons: list[str]) -> list[np.ndarray]:
    """The name, phone and email digests of each ``name|phone|email`` person (0 where blank)."""
    codes, distinct = pd.factorize(np.asarray(persons, dtype=object))  # a person per row
    parts = [(str(person).split("|") + ["", ""])[:3] for person in distinct]
    return [
        _hex_digests([p[i] or _BLANK for p in parts])[codes] if parts else np.empty(0, np.uint64)
        for i in range(len(_PERSON))
    ]


def _person_text(name: int, phone: int, email: int) -> str:
    return "|".join(f"{d:016x}" if d else "" for d in (name, phone, email))


def _id_digests(ids: list[str]) -> np.ndarray:
    """64-bit digests of ``ids``."""
    return pd.util.hash_array(np.asarray(ids, dtype=object), categorize=False)


class _Chunk:
    """The keys of some rows: sorted key digests, each with the place of who it is for in a
    table of the rows' people (a row's keys are mostly one person's: a phone, an email and a
    name; the person is kept once, 12 bytes a key and 32 a person instead of 40 a key)."""

    def __init__(self, pairs: list[tuple[int, tuple[str, str]]], sheet: int) -> None:
        keys = _hex_digests([key for _, (key, _) in pairs])
        order = np.argsort(keys, kind="stable")
        owners, distinct = pd.factorize(
            np.asarray([f"{row}|{person}" for row, (_, person) in pairs], dtype=object)
        )
        people = [str(owner).split("|", 1) for owner in distinct]
        who = np.empty(len(people), dtype=_WHO)
        for name, digests in zip(
            _PERSON, _person_digests([person for _, person in people]), strict=True
        ):
            who[name] = digests
        who["sheet"] = sheet
        who["row"] = [int(row) for row, _ in people]
        self.keys, self.owners, self.who = keys[order], owners[order].astype(np.uint32), who

    def met(
        self, digests: np.ndarray
    ) -> Iterator[tuple[int, list[tuple[int, int, int, int, int]]]]:
        """For each of ``digests`` (sorted: the search then walks the keys once) found here: its
        index, and who it is for (name, phone and email digests, sheet, row)."""
        at = np.searchsorted(self.keys, digests)
        found = at < len(self.keys)
        found[found] = self.keys[at[found]] == digests[found]
        for i in np.flatnonzero(found).tolist():
            end = int(np.searchsorted(self.keys, digests[i], side="right"))
            yield i, self.who[self.owners[at[i] : end]].tolist()


Place = tuple[int, int]  # (sheet, row): where a row is; earlier sheets sort first


class EarlierRows:
    """The appointments of the rows earlier parts of a file send (see the module), under the
    mapping's ``scope``, as digests: a sorted chunk per part. The keys the guard makes for a
    part's rows are kept (as digests) until the part is added, so that they are made once.

    A run of several sheets of a workbook (:mod:`importer.several_sheets`) passes one object
    from sheet to sheet, saying :meth:`next_sheet` before each: rows are then placed by sheet
    and row, and the guard names the sheet of a row on another one."""

    def __init__(self, scope: str) -> None:
        self.scope = scope
        self.sheets = [""]  # names of the sheets met; 0: the file's only one
        self._chunks: list[_Chunk] = []
        self._ids: list[np.ndarray] = []  # the rows' external_id digests, each sorted
        self._made: dict[int, Keys] = {}  # row -> keys, of the part being planned

    @property
    def sheet(self) -> int:
        """The index of the sheet being planned or sent."""
        return len(self.sheets) - 1

    def next_sheet(self, name: str) -> None:
        """The rows from now on are of the sheet ``name`` (those remembered are of earlier ones)."""
        self.sheets.append(name)
        self._made = {}

    def where(self, place: Place) -> str:
        """``row 4 of this file``, or ``row 4 of the sheet 'Mon'`` for a row of another sheet."""
        sheet, row = place
        if sheet == self.sheet or not self.sheets[sheet]:
            return f"row {row} of this file"
        return f"row {row} of the sheet {self.sheets[sheet]!r}"

    def keys_of(self, row: int, payload: Mapping[str, Any]) -> Keys:
        """:func:`appointment_keys` of ``row``'s payload, kept for :meth:`add`."""
        keys = self._made.get(row)
        if keys is None:
            keys = self._made[row] = appointment_keys(payload)
        return keys

    def add(self, sent: Mapping[int, Mapping[str, Any]]) -> None:
        """Remember ``sent``: row -> payload of rows created or updated (keys made for other
        rows are dropped)."""
        with collector_paused():  # a tuple per key, acyclic: collections found nothing
            pairs = [(row, pair) for row, p in sent.items() for pair in self.keys_of(row, p)]
            self._made = {}
            if pairs:
                self._chunks = [*self._chunks, _Chunk(pairs, self.sheet)]
            if sent:
                ids = _id_digests([str(p.get("external_id", "")) for p in sent.values()])
                self._ids = [*self._ids, np.sort(ids)]

    def with_rows(self, sent: Mapping[int, Mapping[str, Any]]) -> EarlierRows:
        """These rows and ``sent`` (this object unchanged; the arrays are shared)."""
        both = EarlierRows(self.scope)
        both.sheets = self.sheets
        both._chunks, both._ids = self._chunks, self._ids  # add() makes new lists
        both.add(sent)
        return both

    def first_rows(self, keys: Iterable[str]) -> dict[str, dict[str, Place]]:
        """key -> person -> the first row remembered with them, for those of ``keys`` met."""
        if not self._chunks:
            return {}
        wanted = sorted(set(keys))  # hex digests: sorted as their 64-bit digests are
        digests = _hex_digests(wanted)
        found: dict[str, dict[str, Place]] = {}
        for chunk in self._chunks:
            for i, met in chunk.met(digests):
                first = found.setdefault(wanted[i], {})
                for name, phone, email, sheet, row in met:
                    person = _person_text(name, phone, email)
                    place = (sheet, row)
                    first[person] = min(place, first.get(person, place))
        return found

    def has(self, entry: LedgerEntry) -> bool:
        """Whether ``entry`` is the event of a row remembered: judged by that row, not by what
        the ledger last recorded of it."""
        if entry.mapping != self.scope or not self._ids:
            return False
        [digest] = _id_digests([entry.external_id]).tolist()
        for ids in self._ids:
            at = int(np.searchsorted(ids, digest))
            if at < len(ids) and int(ids[at]) == digest:
                return True
        return False


def same_appointments(
    new: Mapping[int, Mapping[str, Any]],
    staying: Mapping[int, Mapping[str, Any]],
    ledger: Ledger | None,
    *,
    ignored: Collection[tuple[str, str]] = (),
    earlier: EarlierRows | None = None,
) -> dict[int, str]:
    """Rows of ``new`` that look like an appointment already there, each with the reason.

    ``new``: row -> payload of the rows that would create an event, in sheet order.
    ``staying``: row -> payload of the file's other valid rows, whose events stay (updated or
    not). ``ignored``: (mapping, external_id) of ledger events this run updates or cancels,
    which are judged by their rows in ``staying`` (or are going away). ``earlier``: the rows
    an earlier part of the file sends, beside ``staying`` (their ledger events ignored likewise).
    A row is held back when the ledger has a live event sharing one of its keys with the same
    person, or another row of the file does (a staying row, or an earlier new row).
    """
    keys_of_row = earlier.keys_of if earlier is not None else (lambda _, p: appointment_keys(p))
    keys_of = {row: keys_of_row(row, payload) for row, payload in new.items()}
    wanted = {key for keys in keys_of.values() for key, _ in keys}
    if not wanted:
        return {}
    known = ledger.same_appointments(wanted) if ledger is not None else {}
    ignored = set(ignored)
    if earlier is not None:  # events an earlier part's rows change: judged by those rows
        ignored |= {
            (e.mapping, e.external_id)
            for pairs in known.values()
            for _, e in pairs
            if earlier.has(e)
        }
    # key -> person -> the first row of the file with them: only the first one is named, so
    # rows repeating a key and person add nothing to scan (20,000 of one slot were quadratic).
    in_file = earlier.first_rows(wanted) if earlier is not None else {}
    sheet = earlier.sheet if earlier is not None else 0

    def note(key: str, person: str, row: int) -> None:
        first = in_file.setdefault(key, {})
        first[person] = min((sheet, row), first.get(person, (sheet, row)))

    for row, payload in staying.items():
        for key, person in keys_of_row(row, payload):
            if key in wanted:
                note(key, person, row)
    held: dict[int, str] = {}
    for row, keys in keys_of.items():
        sent = [
            entry
            for key, person in sorted(keys)
            for other, entry in known.get(key, ())
            if same_person(person, other)
            and (entry.mapping, entry.external_id) not in ignored
            # The same external_id updates that event in Apptoto: no second one.
            and entry.external_id != new[row].get("external_id")
        ]
        first_place = min(
            (
                place
                for key, person in keys
                for other, place in in_file.get(key, {}).items()
                if same_person(person, other)
            ),
            default=None,
        )
        if sent:
            held[row] = f"looks like the appointment already sent as {sent_as(sent[0])}: {WHY}"
        elif first_place is not None:
            where = (
                earlier.where(first_place)
                if earlier is not None
                else f"row {first_place[1]} of this file"
            )
            held[row] = f"looks like the same appointment as {where}: {WHY}"
        for key, person in keys:
            note(key, person, row)
    return held


def other_person_message(entry: LedgerEntry) -> str:
    """Why an update is held back when its id is that of another file's event for another
    person (see :func:`other_people`)."""
    return (
        f"not sent: it has the id of {sent_as(entry)}, sent for another person. Two files seem "
        "to number their appointments alike, and this row would replace that appointment; if "
        "they come from different places, give this mapping a source of its own (see its "
        "comment) so their ids differ; if it is the same appointment, send it anyway"
    )


def other_people(
    updates: Mapping[int, tuple[LedgerEntry, Mapping[str, Any]]],
    file: str,
    ledger: Ledger,
    scope: str,
) -> dict[int, LedgerEntry]:
    """Rows of ``updates`` (row -> the event it updates and its payload) whose event came from
    another file than ``file`` and was for another person (no participant's name in common),
    each with that event.

    Two files whose mappings share a source (two clinics numbering their appointments from 1,
    each mapping made by init from an "Appt ID" column) write the same ids for different
    appointments: each run would replace the other file's events, and their patients would lose
    their reminders. A file run again (a hand-kept sheet where a slot changed patient) updates as
    ever; so does a row whose patient's phone or email changed."""
    here = PurePath(file).name
    elsewhere = {
        row: (entry, payload)
        for row, (entry, payload) in updates.items()
        if PurePath(entry.source_file).name != here
    }
    if not elsewhere:
        return {}
    before = ledger.people_of(scope, [entry.external_id for entry, _ in elsewhere.values()])
    held = {}
    for row, (entry, payload) in elsewhere.items():
        old, new = names_of(before.get(entry.external_id, ())), payload_names(payload)
        if old and new and not old & new:
            held[row] = entry
    return held
