"""Which column tells one appointment from another, and the ``source`` its ids are kept under.

An appointment id must differ for every appointment: a column whose values repeat for one person
(a patient or chart number) is never proposed as one, even when its header says "ID" or "#";
it is remembered as the person's number, to make a composite id of (person number, date, start)
when the sheet has no appointment id. Rows identical in every cell (a row exported twice) are
one appointment and do not count as repeats.

The ``source`` of a proposed mapping comes from the id's columns, never from the mapping's or the
file's name: the same export proposed again, under another file name or by another person, gets
the same ids, so its rows update the same events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from importer.assist.columns import GOOD_FIT, SOME_FIT, ColumnProfile, Pick
from importer.assist.fields import header_words, name_score, spec
from importer.assist.formats import Confidence

_ID_SHAPE = r"[^\s]{1,40}"
_RANK = {Confidence.HIGH: 3, Confidence.MEDIUM: 2, Confidence.LOW: 1}
# Header words of a person's number ("Patient ID", "Chart #", "MRN"), unless the header also
# names the appointment ("Patient Appointment ID").
# Words of a header numbering people, not visits: "Patient ID", "MRN", the UK's "NHS No", Scotland's
# "CHI", a hospital's "Hosp No".
PERSON_WORDS = frozenset(
    {"patient", "client", "customer", "member", "chart", "mrn", "account", "person", "pt"}
    | {"nhs", "chi", "hosp", "hospital", "medicare"}
)
APPOINTMENT_WORDS = frozenset(
    {"appt", "appointment", "visit", "booking", "event", "encounter", "confirmation"}
)


@dataclass(frozen=True, slots=True)
class IdPicks:
    """The appointment id column, if any, and a column numbering people, if any."""

    appointment: Pick | None
    person_number: str | None  # e.g. "Chart #": part of a composite id, never an id alone


def source_name(columns: Sequence[str]) -> str:
    """``["Appointment ID"]`` -> ``"appointment-id"``: the source of ids from these columns."""
    words = [w for column in columns for w in _id_words(column)]
    return "-".join(words) or "appointments"


def _id_words(column: str) -> list[str]:
    """A column's words in an id's source: a value of the sheet itself by what it gives (a
    title's, a name's or a heading's date: ``{@title|date}``; a heading: ``{@heading}``)."""
    if column.startswith("@"):
        return ["heading"] if column == "@heading" else ["date"]
    return header_words(column)


def _names_a_person(header: str) -> bool:
    words = set(header_words(header))
    return bool(words & PERSON_WORDS) and not words & APPOINTMENT_WORDS


def _repeats_for_one_person(
    frame: pd.DataFrame, text: pd.Series, person_columns: Sequence[str], copies: pd.Series
) -> bool:
    """Whether a value of ``text`` stands in two different rows of one person.

    Identical rows (exported twice, ``copies`` after the first) are one. Without person columns
    to tell, any repeat counts.
    """
    distinct = ~copies
    values = text[distinct & (text != "")]
    repeated = values.duplicated(keep=False)
    if not repeated.any():
        return False
    if not person_columns:
        return True
    persons = frame.loc[repeated[repeated].index, list(person_columns)].fillna("").astype("str")
    keyed = persons.assign(_value=values[repeated])
    return bool(keyed.duplicated(keep=False).any())


def pick_external_id(
    frame: pd.DataFrame,
    columns: list[str],
    profiles: dict[str, ColumnProfile],
    person_columns: Sequence[str] = (),
) -> IdPicks:
    """The column whose values identify each appointment, judged on every row.

    A column named like an id may repeat a value in a few rows of different people (those rows
    will be refused); one whose values repeat for one person (``person_columns`` tell who) is
    a person's number, as is one whose header names a person. A column found by its values
    alone must be unique, filled and id-shaped in every row.
    """
    best: tuple[tuple[int, int, float], Pick] | None = None
    person_number = None
    copies = frame.duplicated(keep="first")
    for column in columns:
        names = name_score(spec("external_id"), column)
        text = frame[column].fillna("").astype("str").str.strip()
        if _names_a_person(column) or (
            names >= 1 and _repeats_for_one_person(frame, text, person_columns, copies)
        ):
            person_number = person_number or column
            continue
        blank = text == ""
        kept = text[~copies]  # a row exported twice is one appointment, not a shared id
        shared = (kept.duplicated(keep=False) & (kept != "")).reindex(text.index, fill_value=False)
        good = float((~blank & ~shared).mean()) if len(text) else 0.0
        if names >= 1 and good >= GOOD_FIT:
            confidence = Confidence.HIGH if good == 1.0 and names >= 2 else Confidence.MEDIUM
            reason = f"the header {column!r} names an id"
        elif names == 0 and good == 1.0 and _looks_like_an_id(text, profiles[column]):
            confidence = Confidence.LOW
            reason = f"every row has its own value in {column!r}: is it the appointment's id?"
        else:
            continue
        reason += _uniqueness(text, blank, shared)
        rank = (_RANK[confidence], names, good)
        if best is None or rank > best[0]:
            best = (rank, Pick(column, confidence, reason))
    return IdPicks(best[1] if best else None, person_number)


def _looks_like_an_id(text: pd.Series, profile: ColumnProfile) -> bool:
    if not bool(text.str.fullmatch(_ID_SHAPE).all()) or not text.str.contains("[0-9]").any():
        return False
    return all((profile.fit(kind) or 0.0) < SOME_FIT for kind in ("date", "time", "email", "phone"))


def _uniqueness(text: pd.Series, blank: pd.Series, shared: pd.Series) -> str:
    """ ", and unique in every row" or where it is not (the rows that will be refused)."""
    if not blank.any() and not shared.any():
        return ", and every row has its own value"
    notes = []
    for value, rows in list(text[shared].groupby(text[shared]).groups.items())[:3]:
        notes.append(f"{value!r} is in rows {', '.join(str(r) for r in rows)}")
    if blank.any():
        blank_rows = [str(r) for r in text.index[blank][:5]]
        notes.append(f"blank in row(s) {', '.join(blank_rows)}")
    return "; but " + "; ".join(notes) + " (those rows will be refused: each needs its own id)"
