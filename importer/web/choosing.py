"""Which saved mapping an upload belongs to, when several fit: the one that already sent its rows.

Each fitting mapping (:mod:`importer.web.fitting`) is planned against the ledger, as the review
plans the chosen one, and counts how many of the file's appointments earlier runs already sent
with it. The mapping that knows the most rows (then the most rows sent exactly as they are now)
is chosen, with a reason in plain words; when no mapping knows more rows than another (a file
never sent, or two mappings that know the same rows), nothing is guessed: the person chooses.
Sending with a mapping that does not know the rows would send them again as new events, so the
review warns when another mapping knows more of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from importer.errors import ImporterError
from importer.mapping import load_mapping
from importer.pipeline import RunRequest
from importer.web.fitting import MappingFit, SheetHeaders, rank_mappings
from importer.web.review_tally import DEFAULT_LIMITS, ReviewTally, ShownLimits, tally_review


@dataclass(frozen=True)
class MappingKnowledge:
    """A mapping that fits the upload, and what the ledger knows of the file's rows with it."""

    file: str  # file name inside the mappings folder
    title: str  # the mapping's name
    rows: int  # rows that can be sent with it (not invalid)
    known: int  # rows whose events earlier runs sent with this mapping
    unchanged: int  # of those, rows whose event is exactly as sent
    # The file planned with it (as the review plans it): the review reuses the chosen one's.
    planned: ReviewTally | None = field(default=None, compare=False, repr=False)

    @property
    def standing(self) -> tuple[int, int]:
        """What orders mappings: more known rows first, then more rows unchanged."""
        return (self.known, self.unchanged)

    def in_words(self) -> str:
        """``"12 of this file's 14 appointments were already sent with it"``."""
        if not self.known:
            return "none of this file's appointments were sent with it yet"
        were = "was" if self.known == 1 else "were"
        appointments = "appointment" if self.rows == 1 else "appointments"
        return f"{self.known} of this file's {self.rows} {appointments} {were} already sent with it"


@dataclass(frozen=True)
class MappingPick:
    """The mapping an upload gets without asking, or the candidates to ask about."""

    file: str | None  # the chosen mapping; None: none fits, or the person must choose
    reason: str  # why it was chosen among others, in plain words ("" when only one fits)
    candidates: list[MappingKnowledge]  # every mapping that fits, best first

    @property
    def must_ask(self) -> bool:
        """Several mappings fit and the ledger does not single one out."""
        return self.file is None and len(self.candidates) > 1


def knowledge_of(
    folder: Path,
    fit: MappingFit,
    source: Path,
    sheet: str | None,
    ledger_path: Path,
    planned: ReviewTally | None = None,
    limits: ShownLimits = DEFAULT_LIMITS,
) -> MappingKnowledge:
    """Plan ``source`` with the mapping ``fit`` against the ledger, a part at a time, keeping
    ``limits`` of each list for the review (unless ``planned`` is that plan already). One that
    cannot be planned (a damaged ledger, say) knows nothing: the review then says what is
    wrong."""
    if planned is None:
        try:
            mapping = load_mapping(folder / fit.file)
            request = RunRequest(
                source=source,
                mapping=mapping,
                sheet=sheet,
                ledger_path=ledger_path,
                dry_run=True,
                part_rows=limits.part_rows,
            )
            planned = tally_review(request, limits)
        except ImporterError:
            return MappingKnowledge(fit.file, fit.title, 0, 0, 0)
    known = planned.known
    return MappingKnowledge(
        fit.file, fit.title, planned.sendable, known, planned.known_unchanged, planned
    )


def fitting_knowledge(
    folder: Path,
    sheets: SheetHeaders,
    ledger_path: Path,
    fits: list[MappingFit] | None = None,
    plans: dict[str, ReviewTally] | None = None,
    limits: ShownLimits = DEFAULT_LIMITS,
) -> list[MappingKnowledge]:
    """Every mapping of ``folder`` that fits the upload (or of ``fits``, already ranked), the
    one knowing most of its rows first; mappings that know as much keep the fitting order
    (closest fit, then newest). ``plans``: file -> the upload already planned with it;
    ``limits``: what each plan keeps for the review. Raises LoadError only when the uploaded file
    cannot be read."""
    if fits is None:
        fits = [f for f in rank_mappings(folder, sheets) if f.fits]
    plans = plans or {}
    found = [
        knowledge_of(folder, f, sheets.path, sheets.chosen, ledger_path, plans.get(f.file), limits)
        for f in fits
    ]
    return sorted(found, key=lambda k: (-k.known, -k.unchanged))


def pick_mapping(
    folder: Path, sheets: SheetHeaders, ledger_path: Path, limits: ShownLimits = DEFAULT_LIMITS
) -> MappingPick:
    """The mapping an upload gets: the only one that fits, or the one that sent its rows.

    ``limits``: what each plan keeps for the review. Raises LoadError only when the uploaded
    file itself cannot be read.
    """
    fits = [f for f in rank_mappings(folder, sheets) if f.fits]
    if len(fits) <= 1:
        return MappingPick(fits[0].file if fits else None, "", [])
    candidates = fitting_knowledge(folder, sheets, ledger_path, fits, limits=limits)
    if len(candidates) <= 1:
        return MappingPick(candidates[0].file if candidates else None, "", candidates)
    best, runner_up = candidates[0], candidates[1]
    if best.known == 0 or best.standing == runner_up.standing:
        return MappingPick(None, "", candidates)
    reason = (
        f"{len(candidates)} saved mappings fit this file's columns; “{best.title}” is used "
        f"because {best.in_words()}."
    )
    return MappingPick(best.file, reason, candidates)


def better_mapping(
    chosen: str, candidates: list[MappingKnowledge]
) -> tuple[MappingKnowledge, str] | None:
    """Another fitting mapping that already sent more of the file's rows than ``chosen``, and
    the warning to show; None when ``chosen`` is as good as any."""
    mine = next((k for k in candidates if k.file == chosen), None)
    if mine is None or not candidates:
        return None
    best = candidates[0]
    if best.file == chosen or best.known <= mine.known:
        return None
    warning = (
        f"{best.known} of this file's appointments were already sent with the mapping "
        f"“{best.title}”, {mine.known or 'none'} with “{mine.title}”. Sending with "
        f"“{mine.title}” can send those appointments a second time: use “{best.title}”."
    )
    return best, warning
