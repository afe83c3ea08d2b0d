"""Decide, row by row, what a run will do: create, update, leave unchanged, refuse or cancel.

The ledger (what earlier runs sent) turns a re-run into a patch: a row whose payload hash equals the
ledger's is unchanged and not sent; a changed row is an update of the event Apptoto already has.
Nothing here touches the network, so ``plan`` and ``run --dry-run`` show exactly what ``run`` does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from importer.errors import PlanRefused
from importer.ledger import Ledger, LedgerEntry
from importer.outcomes import PlanAction
from importer.payload_hash import payload_hash
from importer.prepare import Prepared

DEFAULT_MAX_CANCEL_SHARE = 0.10  # --cancel-missing refuses to cancel more than this share


@dataclass(frozen=True)
class PlanOptions:
    """Choices that change the plan (all off by default)."""

    full: bool = False  # re-send every valid row, even unchanged ones
    cancel_missing: bool = False  # delete events of this mapping whose rows left the file
    max_cancel_share: float = DEFAULT_MAX_CANCEL_SHARE  # guard for cancel_missing
    force: bool = False  # cancel even past the guard
    recreate_on_calendar_change: bool = False  # delete + create instead of failing the row


@dataclass(frozen=True)
class PlannedRow:
    """What will happen to one input row."""

    row: int
    action: PlanAction
    external_id: str
    payload: dict[str, Any] | None = None  # what will be sent (with "id" for an update)
    apptoto_id: int | None = None  # the event this row updates, when known
    payload_hash: str = ""
    message: str = ""
    recreate_from: int | None = None  # id of an event to delete first (calendar change)


@dataclass(frozen=True)
class Plan:
    """The whole run, decided before anything is sent."""

    rows: list[PlannedRow]
    cancels: list[LedgerEntry]

    def count(self, action: PlanAction) -> int:
        """How many rows (or cancellations) get ``action``."""
        if action is PlanAction.CANCEL:
            return len(self.cancels)
        return sum(1 for r in self.rows if r.action is action)

    @property
    def to_send(self) -> list[PlannedRow]:
        """Rows that will be sent, in sheet order."""
        return [r for r in self.rows if r.action in (PlanAction.CREATE, PlanAction.UPDATE)]


def _calendar_of(payload: dict[str, Any]) -> str:
    value = payload.get("calendar", payload.get("calendar_id", ""))
    return "" if value is None else str(value)


def _issues_message(prepared: Prepared, row: int) -> str:
    return "; ".join(str(issue) for issue in prepared.issues[row])


def make_plan(prepared: Prepared, ledger: Ledger | None, options: PlanOptions) -> Plan:
    """Compare every valid row with the ledger and decide what to do with it.

    Raises PlanRefused when ``cancel_missing`` would cancel more than ``max_cancel_share`` of the
    mapping's live events and ``force`` is not set: a partial file must never wipe a calendar.
    """
    mapping_name = prepared.mapping.name
    events = prepared.events
    known: dict[str, LedgerEntry] = {}
    if ledger is not None:
        known = ledger.lookup(mapping_name, [events.external_ids[r] for r in events.payloads])
    rows: list[PlannedRow] = []
    for row in prepared.rows:
        external_id = events.external_ids.get(row, "")
        if row in prepared.issues or row not in events.payloads:
            rows.append(
                PlannedRow(
                    row, PlanAction.INVALID, external_id, message=_issues_message(prepared, row)
                )
            )
            continue
        payload = dict(events.payloads[row])
        digest = payload_hash(payload)
        entry = known.get(external_id)
        live = entry if entry is not None and not entry.deleted else None
        apptoto_id = live.apptoto_id if live is not None else prepared.report_ids.get(row)
        if live is not None and live.calendar and live.calendar != _calendar_of(payload):
            move = f"calendar changed from {live.calendar!r} to {_calendar_of(payload)!r}"
            if not options.recreate_on_calendar_change:
                rows.append(
                    PlannedRow(
                        row,
                        PlanAction.FAIL,
                        external_id,
                        apptoto_id=apptoto_id,
                        payload_hash=digest,
                        message=f"{move}: Apptoto does not move events between calendars; "
                        "run with --recreate-on-calendar-change to delete the old event and "
                        "create a new one",
                    )
                )
                continue
            rows.append(
                PlannedRow(
                    row,
                    PlanAction.CREATE,
                    external_id,
                    payload=payload,
                    payload_hash=digest,
                    message=f"{move}: the old event is deleted and a new one created",
                    recreate_from=apptoto_id,
                )
            )
            continue
        if live is not None and live.payload_hash == digest and not options.full:
            rows.append(
                PlannedRow(
                    row,
                    PlanAction.UNCHANGED,
                    external_id,
                    apptoto_id=apptoto_id,
                    payload_hash=digest,
                )
            )
            continue
        if apptoto_id is not None:
            payload["id"] = apptoto_id
            message = (
                "changed since the last run"
                if live is not None
                else "update of the event in the report's apptoto_id"
            )
            rows.append(
                PlannedRow(
                    row,
                    PlanAction.UPDATE,
                    external_id,
                    payload=payload,
                    apptoto_id=apptoto_id,
                    payload_hash=digest,
                    message=message,
                )
            )
        else:
            rows.append(
                PlannedRow(
                    row, PlanAction.CREATE, external_id, payload=payload, payload_hash=digest
                )
            )
    if ledger is not None:
        rows = _name_changed_fields(rows, ledger, mapping_name, known)
    cancels = _cancels(prepared, ledger, options) if options.cancel_missing else []
    return Plan(rows=rows, cancels=cancels)


def _name_changed_fields(
    rows: list[PlannedRow], ledger: Ledger, mapping_name: str, known: dict[str, LedgerEntry]
) -> list[PlannedRow]:
    """Say which fields each update changes, from the payloads the ledger kept."""
    updates = [
        r.external_id for r in rows if r.action is PlanAction.UPDATE and r.external_id in known
    ]
    if not updates:
        return rows
    previous = ledger.last_payloads(mapping_name, updates)
    out = []
    for r in rows:
        before = previous.get(r.external_id)
        if r.action is PlanAction.UPDATE and before is not None and r.payload is not None:
            changed = sorted(
                key
                for key in (set(before) | set(r.payload)) - {"id"}
                if before.get(key) != r.payload.get(key)
            )
            message = "changes: " + ", ".join(changed) if changed else "re-sent (--full)"
            r = replace(r, message=message)
        out.append(r)
    return out


def _cancels(prepared: Prepared, ledger: Ledger | None, options: PlanOptions) -> list[LedgerEntry]:
    if ledger is None:
        return []
    in_file = set(prepared.events.external_ids.values())
    live = ledger.live_entries(prepared.mapping.name)
    cancels = [e for e in live if e.external_id not in in_file]
    if cancels and not options.force and len(cancels) > options.max_cancel_share * len(live):
        raise PlanRefused(
            f"--cancel-missing would cancel {len(cancels)} of the {len(live)} events this mapping "
            f"created ({len(cancels) / len(live):.0%}, more than the "
            f"{options.max_cancel_share:.0%} guard): is the file complete? "
            "Run with --force to cancel them anyway."
        )
    return cancels
