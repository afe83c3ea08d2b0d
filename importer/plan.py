"""Decide, row by row, what a run will do: create, update, leave unchanged, refuse or cancel.

The ledger (what earlier runs sent) turns a re-run into a patch: a row whose payload hash equals the
ledger's is unchanged and not sent; a changed row is an update of the event Apptoto already has.
Rows are matched to the ledger by ``external_id`` only, never by their position in the file, so
reordered, inserted or deleted rows change nothing. Nothing here touches the network, so ``plan``
and ``run --dry-run`` show exactly what ``run`` does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from importer.cancels import Missing, sheet_cancels, sheet_missing, sheet_renamed
from importer.guard import (
    EarlierRows,
    other_people,
    other_person_message,
    same_appointments,
    sent_as,
)
from importer.ledger import (
    Ledger,
    LedgerEntry,
    TryBudget,
    changed_words,
    field_hashes,
    payload_hash,
    zeros_put_back,
)
from importer.outcomes import PlanAction, RowIssue, SkipReason
from importer.plan_options import CALENDAR_MOVE, PlanOptions
from importer.prepare import Prepared
from importer.reschedules import moved_warnings
from importer.still_live import still_live
from importer.zeros_dropped import with_ids_as_sent

# Why a create may in fact update: said on every create when the ledger knows nothing of the
# mapping (a first run, or a lost or moved state file); the client cannot tell the two apart.
NO_RECORD_MESSAGE = (
    "the first import of these appointments recorded here: if Apptoto already has this "
    "appointment, it is updated, never added twice"
)
# Payload fields in the words of the page and the report ("changes: start, notes").


@dataclass(frozen=True)
class PlannedRow:
    """What will happen to one input row."""

    row: int
    action: PlanAction
    external_id: str
    payload: dict[str, Any] | None = None  # what will be sent (with "id" for an update)
    apptoto_id: int | None = None  # the event this row updates, when known
    payload_hash: str = ""  # of the payload, when the ledger had its event ("": hashed when sent)
    message: str = ""
    recreate_from: LedgerEntry | None = None  # the old event to delete first (calendar change)
    reason: SkipReason | None = None  # why a SKIP row is not sent
    warnings: tuple[RowIssue, ...] = ()  # what staff should look at; never stops the row


@dataclass(frozen=True)
class Plan:
    """The whole run, decided before anything is sent."""

    rows: list[PlannedRow]
    cancels: list[LedgerEntry]
    new_calendars: tuple[str, ...] = ()  # calendars Apptoto would create (importer.calendars)
    # The ids of ``cancels`` whose rows the file holds marked called off (not left out).
    called_off: frozenset[str] = frozenset()

    def why_cancelled(self, entry: LedgerEntry) -> str:
        """Why ``entry`` (one of ``cancels``) is cancelled, in the report's words."""
        if entry.external_id in self.called_off:
            return "marked called off in the file"
        return "no longer in the file"

    def count(self, action: PlanAction) -> int:
        """How many rows (or cancellations) get ``action``."""
        if action is PlanAction.CANCEL:
            return len(self.cancels)
        return sum(1 for r in self.rows if r.action is action)

    @property
    def to_send(self) -> list[PlannedRow]:
        """Rows that will be sent, in sheet order."""
        return [r for r in self.rows if r.action in (PlanAction.CREATE, PlanAction.UPDATE)]


def calendar_of(payload: dict[str, Any]) -> str:
    """The calendar a payload names (name, else id), as the ledger stores it."""
    value = payload.get("calendar", payload.get("calendar_id", ""))
    return "" if value is None else str(value)


def _issues_message(prepared: Prepared, row: int) -> str:
    return "; ".join(str(issue) for issue in prepared.issues.get(row, []))


def make_plan(
    prepared: Prepared,
    ledger: Ledger | None,
    options: PlanOptions,
    *,
    no_record: bool | None = None,
    cancels: list[LedgerEntry] | None = None,
    earlier: EarlierRows | None = None,
    cancelling_missing: bool | None = None,
    gone: Missing | None = None,
    renamed: dict[str, LedgerEntry] | None = None,
) -> Plan:
    """Compare every valid row with the ledger and decide what to do with it.

    ``ledger`` None plans as if nothing was ever sent. Raises PlanRefused when ``cancel_missing``
    would cancel more than ``max_cancel_share`` of the live events it counts and ``force`` is not
    set (:func:`importer.cancels.guarded_cancels`). A part of a big file is planned with what
    was decided for the whole file before its first part was sent: ``no_record`` (the ledger
    knew no event of the mapping), ``cancels``, and ``earlier``: the rows earlier parts send that
    the ledger does not show yet (the same-appointment guard sees them).
    ``cancelling_missing``: whether the run cancels the events of the rows not in the file
    (default: ``options.cancel_missing``; a part is planned with its file's). ``gone``: the
    live events not over whose rows are not in the file (default: worked out from ``prepared``,
    the whole file); a new row that looks like one of them moved says so, unless the run
    cancels it (:mod:`importer.reschedules`). ``renamed``: the ids of the file that are live
    events' ids with leading zeros dropped -> those events (default: worked out from
    ``prepared``); such rows are planned as those events (:mod:`importer.zeros_dropped`).
    """
    mapping_name = prepared.mapping.scope
    events = prepared.events
    known: dict[str, LedgerEntry] = {}
    if ledger is not None:
        known = ledger.lookup(mapping_name, [events.external_ids[r] for r in events.payloads])
        if renamed is None:
            renamed = sheet_renamed(prepared, ledger, options)
        if renamed:
            # Rows whose ids lost their leading zeros in Excel are their events, under their ids.
            prepared = with_ids_as_sent(prepared, renamed, ledger, known)
            events = prepared.events
            taken = set(events.external_ids.values())
            known.update({e.external_id: e for e in renamed.values() if e.external_id in taken})
    if no_record is None:
        no_record = not known and (ledger is None or ledger.count_live(mapping_name) == 0)
    hashes = _live_hashes(prepared, known)
    zeros_back = _zeros_put_back(prepared, ledger, known, hashes) if ledger is not None else {}
    rows: list[PlannedRow] = []
    for row in prepared.rows:
        if row in prepared.set_aside:
            action = PlanAction.NOT_APPOINTMENT
            rows.append(PlannedRow(row, action, "", message=prepared.set_aside[row]))
            continue
        external_id = events.external_ids.get(row, "")
        if row in prepared.copies:
            rows.append(_copy_row(row, prepared.copies[row], external_id))
            continue
        if row in prepared.issues or row not in events.payloads:
            message = _issues_message(prepared, row) or f"row {row}: could not be mapped"
            rows.append(PlannedRow(row, PlanAction.INVALID, external_id, message=message))
            continue
        entry = known.get(external_id)
        rows.append(
            _plan_row(
                row,
                external_id,
                zeros_back.get(row) or events.payloads[row],  # not changed: not copied
                entry,
                prepared.report_ids.get(row),
                options,
                no_record=no_record,
                digest=None if row in zeros_back else hashes.get(row),
            )
        )
    if ledger is not None:
        rows = _name_changed_fields(rows, ledger, mapping_name, known)
        rows = _other_people(rows, prepared, ledger, known, options)
    rows = [
        replace(r, warnings=tuple(prepared.warnings[r.row])) if r.row in prepared.warnings else r
        for r in rows
    ]
    cancelling = cancelling_missing
    if cancelling is None:
        cancelling = options.cancel_missing or options.cancels_decided
    if ledger is not None and gone is None:
        gone = sheet_missing(prepared, ledger, options)
    if cancels is None:
        cancels = sheet_cancels(prepared, gone, options)
    if not cancelling:
        rows = _cancelled_yet_live(rows, prepared, ledger)
    if ledger is not None and gone is not None:
        rows = _moved(rows, prepared, ledger, gone, cancelling)
    rows = _hold_back_same_appointments(rows, prepared, ledger, cancels, options, earlier)
    off = gone.called_off & {e.external_id for e in cancels} if gone else frozenset()
    return Plan(rows=rows, cancels=cancels, called_off=off)


def _cancelled_yet_live(
    rows: list[PlannedRow], prepared: Prepared, ledger: Ledger | None
) -> list[PlannedRow]:
    """Rows set aside whose event is live and stays so (this run does not cancel missing rows),
    with a warning naming it (:mod:`importer.still_live`)."""
    live = still_live(prepared, ledger) if ledger is not None else {}
    if not live:
        return rows
    out = []
    for planned in rows:
        if planned.row is None or planned.row not in live:
            out.append(planned)
            continue
        entry, warning = live[planned.row]
        warnings = (*planned.warnings, warning)
        out.append(
            replace(
                planned,
                external_id=entry.external_id,
                apptoto_id=entry.apptoto_id,
                warnings=warnings,
            )
        )
    return out


def _moved(
    rows: list[PlannedRow], prepared: Prepared, ledger: Ledger, gone: Missing, cancelling: bool
) -> list[PlannedRow]:
    """New rows that look like an appointment moved from one of the ``gone`` events the run
    does not cancel, with a warning naming it (:mod:`importer.reschedules`)."""
    events = gone.before if cancelling else [*gone.within, *gone.before]
    if not events:
        return rows
    created = [
        (r.row, calendar_of(r.payload), r.payload)
        for r in rows
        if r.action is PlanAction.CREATE
        and r.row is not None
        and r.payload is not None
        and r.recreate_from is None
    ]
    before = frozenset(e.external_id for e in gone.before)
    found = moved_warnings(
        created, events, ledger, prepared.mapping.scope, before=(gone.first_day, before)
    )
    if not found:
        return rows
    return [replace(r, warnings=(*r.warnings, found[r.row])) if r.row in found else r for r in rows]


_STAYING = (PlanAction.UPDATE, PlanAction.UNCHANGED)  # rows whose events stay


def _hold_back_same_appointments(
    rows: list[PlannedRow],
    prepared: Prepared,
    ledger: Ledger | None,
    cancels: list[LedgerEntry],
    options: PlanOptions,
    earlier: EarlierRows | None,
) -> list[PlannedRow]:
    """New events that look like an appointment already there become SKIP rows (importer.guard),
    unless the options allow them; allowed ones are created, their message says why."""
    payloads = prepared.events.payloads
    new = {r.row: payloads[r.row] for r in rows if r.action is PlanAction.CREATE}
    staying = {r.row: payloads[r.row] for r in rows if r.action in _STAYING}
    # This file's events are judged by their rows (an update may move one away, a calendar
    # change re-creates one); cancelled events are going away.
    scope = prepared.mapping.scope
    ignored = {(scope, r.external_id) for r in rows if r.row in new or r.row in staying}
    ignored |= {(e.mapping, e.external_id) for e in cancels}
    held = same_appointments(new, staying, ledger, ignored=ignored, earlier=earlier)
    out = []
    for r in rows:
        why = held.get(r.row)
        if why is None:
            out.append(r)
        elif options.allow_same_time_duplicates or r.row in options.allow_same_time_rows:
            out.append(replace(r, message=f"sent as you chose, although it {why}"))
        else:
            skipped = PlannedRow(
                r.row,
                PlanAction.SKIP,
                r.external_id,
                payload_hash=r.payload_hash,
                message=f"not sent: it {why}",
                reason=SkipReason.SAME_APPOINTMENT,
            )
            out.append(skipped)
    return out


def same_as_row_message(first: int) -> str:
    """Why a row identical to an earlier one is not sent."""
    return f"same as row {first} (identical in every cell): one appointment, sent once"


def _copy_row(row: int, first: int, external_id: str) -> PlannedRow:
    return PlannedRow(
        row,
        PlanAction.SKIP,
        external_id,
        message=same_as_row_message(first),
        reason=SkipReason.SAME_AS_ROW,
    )


def _live_hashes(prepared: Prepared, known: dict[str, LedgerEntry]) -> dict[int, str]:
    """row -> payload hash of the valid rows with a live ledger event (for zeros and the plan)."""
    events = prepared.events
    return {
        row: payload_hash(payload)
        for row, payload in events.payloads.items()
        if row not in prepared.issues
        and (entry := known.get(events.external_ids[row])) is not None
        and not entry.deleted
    }


def _zeros_put_back(
    prepared: Prepared, ledger: Ledger, known: dict[str, LedgerEntry], hashes: dict[int, str]
) -> dict[int, dict[str, Any]]:
    """Changed rows' payloads with the leading zeros a spreadsheet program dropped put back.

    A file (or report) opened and saved in Excel comes back with ``02134`` as ``2134``: a field
    that hashes as the one sent last once zeros are put back is that one, not a change
    (:func:`importer.ledger.zeros_put_back`). Only rows whose payload hash changed are looked at.
    """
    events = prepared.events
    changed = {
        events.external_ids[row]: row
        for row, digest in hashes.items()
        if known[events.external_ids[row]].payload_hash != digest
    }
    if not changed:
        return {}
    previous = ledger.last_field_hashes(prepared.mapping.scope, list(changed))
    budget = TryBudget()
    restored: dict[int, dict[str, Any]] = {}
    for external_id, row in changed.items():
        payload = dict(events.payloads[row])
        before = previous.get(external_id, {})
        for field, digest in field_hashes(payload).items():
            if field in before and before[field] != digest:
                value = zeros_put_back(field, payload[field], before[field], budget)
                if value is not None:
                    payload[field] = value
                    restored[row] = payload
    return restored


def _plan_row(
    row: int,
    external_id: str,
    payload: dict[str, Any],
    entry: LedgerEntry | None,
    report_id: int | None,
    options: PlanOptions,
    *,
    no_record: bool,
    digest: str | None = None,
) -> PlannedRow:
    """The action for one valid row, given its ledger entry and the report's apptoto_id
    (``digest``: the payload's hash, when already made). A row without a live event is not
    hashed here: nothing to compare it with (the send hashes what it records)."""
    live = entry if entry is not None and not entry.deleted else None
    digest = digest or (payload_hash(payload) if live is not None else "")
    if entry is not None and entry.deleted and report_id == entry.apptoto_id:
        report_id = None  # a report older than the cancellation: that event is gone
    apptoto_id = live.apptoto_id if live is not None else report_id
    if live is not None and live.calendar and live.calendar != calendar_of(payload):
        move = f"calendar changed from {live.calendar!r} to {calendar_of(payload)!r}"
        if not options.recreate_on_calendar_change:
            return PlannedRow(
                row,
                PlanAction.FAIL,
                external_id,
                apptoto_id=apptoto_id,
                payload_hash=digest,
                message=f"{move}: {CALENDAR_MOVE}, so it was not sent; move it in Apptoto, or "
                "have the import delete the old one and create it in the new calendar",
            )
        return PlannedRow(
            row,
            PlanAction.CREATE,
            external_id,
            payload=payload,
            payload_hash=digest,
            message=f"{move}: the old event is deleted and a new one created",
            recreate_from=live,
        )
    if live is not None and live.payload_hash == digest and not options.full:
        return PlannedRow(
            row, PlanAction.UNCHANGED, external_id, apptoto_id=apptoto_id, payload_hash=digest
        )
    if apptoto_id is not None or live is not None:
        if apptoto_id is not None:
            payload = {**payload, "id": apptoto_id}  # the row's own payload stays as mapped
        # else: Apptoto's answer lacked the id; the update goes by external_id
        message = (
            "sent again: this import sends every row, changed or not"
            if live is not None and live.payload_hash == digest
            else "changed since the last run"
            if live is not None
            else "updates the appointment the report names (its Apptoto id)"
        )
        return PlannedRow(
            row,
            PlanAction.UPDATE,
            external_id,
            payload=payload,
            apptoto_id=apptoto_id,
            payload_hash=digest,
            message=message,
        )
    if entry is not None and entry.deleted:
        message = "back in the file after its event was cancelled: a new event is created"
    else:
        message = NO_RECORD_MESSAGE if no_record else ""
    return PlannedRow(
        row, PlanAction.CREATE, external_id, payload=payload, payload_hash=digest, message=message
    )


def _other_people(
    rows: list[PlannedRow],
    prepared: Prepared,
    ledger: Ledger,
    known: dict[str, LedgerEntry],
    options: PlanOptions,
) -> list[PlannedRow]:
    """Updates whose id another file sent for another person become SKIP rows
    (:func:`importer.guard.other_people`), unless the options allow them."""
    updates = {
        r.row: (entry, r.payload)
        for r in rows
        if r.action is PlanAction.UPDATE
        and r.payload is not None
        and r.row not in options.allow_same_time_rows
        and (entry := known.get(r.external_id)) is not None
    }
    held = other_people(updates, prepared.sheet.file, ledger, prepared.mapping.scope)
    out = []
    for r in rows:
        entry = held.get(r.row)
        if entry is None:
            out.append(r)
        elif options.allow_shared_ids:
            why = f"; sent as you chose, though {sent_as(entry)} was for another person"
            out.append(replace(r, message=r.message + why))
        else:
            out.append(
                PlannedRow(
                    r.row,
                    PlanAction.SKIP,
                    r.external_id,
                    apptoto_id=r.apptoto_id,
                    payload_hash=r.payload_hash,
                    message=other_person_message(entry),
                    reason=SkipReason.OTHER_PERSON,
                )
            )
    return out


def _name_changed_fields(
    rows: list[PlannedRow], ledger: Ledger, mapping_name: str, known: dict[str, LedgerEntry]
) -> list[PlannedRow]:
    """Say which fields each update changes, from the field hashes the ledger kept."""
    updates = [
        r.external_id for r in rows if r.action is PlanAction.UPDATE and r.external_id in known
    ]
    if not updates:
        return rows
    previous = ledger.last_field_hashes(mapping_name, updates)
    out = []
    for r in rows:
        before = previous.get(r.external_id)
        if r.action is PlanAction.UPDATE and before is not None and r.payload is not None:
            changed = changed_words(before, r.payload)
            if changed:
                r = replace(r, message="changes: " + ", ".join(changed))
        out.append(r)
    return out
