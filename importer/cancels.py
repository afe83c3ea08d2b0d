"""``--cancel-missing``: the events an import created whose rows have left the file, and the
guard that refuses to cancel more than a share of them (a partial file must never wipe a
calendar)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from importer.errors import PlanRefused
from importer.ledger import Ledger, LedgerEntry
from importer.mapping import Mapping
from importer.plan_options import PlanOptions
from importer.prepare import Prepared
from importer.zeros_dropped import ids_without_zeros


def present() -> datetime:
    """The moment an event must end after to be cancelled, when the plan names none."""
    return datetime.now(UTC)


def _whose(mapping: Mapping) -> str:
    """Who created the events of the mapping's ledger scope, for messages."""
    if mapping.source is None:
        return f"mapping {mapping.name!r}"
    return f"the mappings with source {mapping.source!r}"


def missing_cancels(
    mapping: Mapping,
    file: str,
    ledger: Ledger | None,
    absent: Callable[[list[str]], list[bool]],
    *,
    force: bool,
    max_share: float,
    now: datetime | None = None,
) -> list[LedgerEntry]:
    """The live events of ``mapping``'s scope whose ids are ``absent`` from ``file`` (every id
    in the file counts, invalid rows' too, and an id with leading zeros dropped counts as the
    event's: :mod:`importer.zeros_dropped`). PlanRefused when they are more than ``max_share`` of
    the live events, unless ``force``.

    An event whose visit is over (it ended before ``now``, default the present) is never
    cancelled and not counted: an export of the days ahead drops yesterday's visits every night,
    and they were not called off."""
    if ledger is None:
        return []
    live = upcoming(ledger, mapping, now)
    gone = absent([e.external_id for e in live])
    cancels = [e for e, missing in zip(live, gone, strict=True) if missing]
    # An event whose id the file holds without its leading zeros (saved in Excel) is in it.
    renamed = {
        e.external_id for e in ids_without_zeros(cancels, absent, ledger, mapping.scope).values()
    }
    cancels = [e for e in cancels if e.external_id not in renamed]
    if not force and beyond_guard(len(cancels), len(live), max_share):
        raise PlanRefused(
            f"--cancel-missing would cancel {len(cancels)} of the {len(live)} events not over "
            f"yet that {_whose(mapping)} created ({len(cancels) / len(live):.0%}, more than the "
            f"{max_share:.0%} guard); nothing was sent. Is "
            f"{file} complete? Run with --force to cancel them anyway, or raise "
            "the guard with --max-cancel-share."
        )
    return cancels


def upcoming(ledger: Ledger, mapping: Mapping, now: datetime | None = None) -> list[LedgerEntry]:
    """The live events of ``mapping``'s scope not over at ``now`` (default: the present), or
    whose end is not known: those ``--cancel-missing`` may cancel, and its guard counts."""
    moment = (now or present()).astimezone(UTC).isoformat(timespec="seconds")
    return ledger.live_entries(mapping.scope, ending_after=moment)


def beyond_guard(cancels: int, live: int, max_share: float) -> bool:
    """True when cancelling ``cancels`` of ``live`` events is more than the guard allows."""
    return cancels > 0 and cancels > max_share * live


def renamed_in_file(
    mapping: Mapping,
    ledger: Ledger | None,
    absent: Callable[[list[str]], list[bool]],
    now: datetime | None = None,
) -> dict[str, LedgerEntry]:
    """The ids of the file that are the ids of live events not over with leading zeros dropped
    -> those events (:func:`importer.zeros_dropped.ids_without_zeros`)."""
    if ledger is None:
        return {}
    live = upcoming(ledger, mapping, now)
    gone = [
        e for e, missing in zip(live, absent([e.external_id for e in live]), strict=True) if missing
    ]
    return ids_without_zeros(gone, absent, ledger, mapping.scope)


def _in_file(prepared: Prepared, options: PlanOptions) -> set[str]:
    # Every id in the file counts, invalid rows' too: a typo must not cancel an appointment.
    return set(prepared.events.external_ids.values()) | options.also_in_file


def sheet_renamed(
    prepared: Prepared, ledger: Ledger, options: PlanOptions
) -> dict[str, LedgerEntry]:
    """:func:`renamed_in_file` for a file that is ``prepared`` (one part)."""
    in_file = _in_file(prepared, options)
    return renamed_in_file(
        prepared.mapping, ledger, lambda ids: [i not in in_file for i in ids], options.now
    )


def sheet_cancels(
    prepared: Prepared, ledger: Ledger | None, options: PlanOptions
) -> list[LedgerEntry]:
    """:func:`missing_cancels` for a file that is ``prepared`` (one part), as ``options`` say."""
    in_file = _in_file(prepared, options)
    return missing_cancels(
        prepared.mapping,
        prepared.sheet.file,
        ledger,
        lambda ids: [i not in in_file for i in ids],
        force=options.force,
        max_share=options.max_cancel_share,
        now=options.now,
    )
