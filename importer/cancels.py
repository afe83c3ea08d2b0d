"""``--cancel-missing``: the events an import created whose rows have left the file, from the
file's first day on (a file of tomorrow's visits says nothing of today's), and the guard that
refuses when the file leaves out more than a share of them (a partial file must never wipe a
calendar); rows the file marks called off are its word, cancelled and not weighed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from importer.appointments import Coverage, coverage_of
from importer.errors import PlanRefused
from importer.events import FirstDay
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


@dataclass(frozen=True)
class Missing:
    """The live events of a mapping's scope, not over, whose ids are absent from a file's
    appointments."""

    within: list[LedgerEntry]  # from the file's first day on: those --cancel-missing cancels
    counted: int  # the live events not over from the file's first day on (the guard's whole)
    # Those ending before the file's first day begins (an export of the days ahead does not
    # cover today): left alone, and not counted.
    before: list[LedgerEntry] = field(default_factory=list)
    first_day: FirstDay | None = None  # the file's first day, when it is after the present
    # The ids of ``within`` whose rows the file holds marked called off: cancelled as the file
    # says, and not weighed by the guard (which is there for rows a partial file left out).
    called_off: frozenset[str] = frozenset()

    @property
    def left_out(self) -> int:
        """How many of ``within`` the file leaves out (not marked called off): the guard's part."""
        return sum(e.external_id not in self.called_off for e in self.within)

    def beyond_guard(self, max_share: float) -> bool:
        """True when cancelling them is more than the guard allows (:func:`beyond_guard`)."""
        return beyond_guard(self.left_out, self.counted, max_share)


NONE_MISSING = Missing([], 0)


def missing_events(
    mapping: Mapping,
    ledger: Ledger | None,
    absent: Callable[[list[str]], list[bool]],
    *,
    now: datetime | None = None,
    coverage: Callable[[], Coverage],
) -> Missing:
    """The live events of ``mapping``'s scope whose ids are ``absent`` from the file's
    appointments (every id of a row counts, invalid rows' too, and an id with leading zeros
    dropped counts as the event's: :mod:`importer.zeros_dropped`).

    An event whose visit is over (it ended before ``now``, default the present) is not one:
    an export of the days ahead drops yesterday's visits every night, and they were not called
    off. Nor is one that ends before the file's first day begins: a file of tomorrow's visits
    exported at night says nothing of today's. ``coverage`` (the file's first day, its rows
    called off) is asked only when an event is absent."""
    if ledger is None:
        return NONE_MISSING
    live = upcoming(ledger, mapping, now)
    gone = [
        e for e, missing in zip(live, absent([e.external_id for e in live]), strict=True) if missing
    ]
    # An event whose id the file holds without its leading zeros (saved in Excel) is in it.
    renamed = {
        e.external_id for e in ids_without_zeros(gone, absent, ledger, mapping.scope).values()
    }
    gone = [e for e in gone if e.external_id not in renamed]
    if not gone:
        return Missing([], len(live))
    covered = coverage()
    off = covered.called_off & {e.external_id for e in gone}
    day = covered.first_day
    if day is None or day.begins <= (now or present()):
        return Missing(gone, len(live), called_off=off)
    ahead = {e.external_id for e in upcoming(ledger, mapping, day.begins)}
    within = [e for e in gone if e.external_id in ahead]
    before = [e for e in gone if e.external_id not in ahead]
    return Missing(within, len(ahead), before, day, off & ahead)


def guarded_cancels(
    missing: Missing, mapping: Mapping, file: str, *, force: bool, max_share: float
) -> list[LedgerEntry]:
    """The events ``--cancel-missing`` cancels (``missing.within``). PlanRefused when those the
    file leaves out are more than ``max_share`` of the events counted, unless ``force``: a
    partial file must never wipe a calendar. Rows marked called off are the file's word, not a
    gap in it: they are cancelled, and not weighed."""
    left_out, counted = missing.left_out, missing.counted
    if not force and missing.beyond_guard(max_share):
        whole = (
            f"events from the file's first day ({missing.first_day}) on"
            if missing.first_day is not None
            else "events not over yet"
        )
        marked = len(missing.called_off)
        besides = f", besides the {marked} whose rows it marks called off" if marked else ""
        raise PlanRefused(
            f"--cancel-missing would cancel {left_out} of the {counted} {whole} that "
            f"{_whose(mapping)} created, whose rows are not in the file{besides} "
            f"({left_out / counted:.0%}, more than the {max_share:.0%} guard); nothing was sent. "
            f"Is {file} complete? Run with --force to cancel them anyway, or raise "
            "the guard with --max-cancel-share."
        )
    return missing.within


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


def sheet_missing(prepared: Prepared, ledger: Ledger | None, options: PlanOptions) -> Missing:
    """:func:`missing_events` for a file that is ``prepared`` (one part)."""
    in_file = _in_file(prepared, options)
    return missing_events(
        prepared.mapping,
        ledger,
        lambda ids: [i not in in_file for i in ids],
        now=options.now,
        coverage=lambda: options.coverage or coverage_of(prepared.sheet, prepared.mapping),
    )


def sheet_cancels(
    prepared: Prepared, gone: Missing | None, options: PlanOptions
) -> list[LedgerEntry]:
    """:func:`guarded_cancels` of a file that is ``prepared`` (one part): [] unless
    ``options.cancel_missing``."""
    if not options.cancel_missing or gone is None:
        return []
    return guarded_cancels(
        gone,
        prepared.mapping,
        prepared.sheet.file,
        force=options.force,
        max_share=options.max_cancel_share,
    )
