"""Matching a sheet's columns to Apptoto event fields, by header name and by the values below it.

Headers are scored against each field's synonyms (:mod:`importer.assist.fields`). The values of
a sample of rows either confirm a name (dates under ``Date``), rule it out (no dates under
``Date``), or find a column on their own (email addresses under ``Contact``, IANA zones under
``Region``). Each field gets at most one column and each column serves at most one field,
strongest evidence first.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from importer.assist.fields import (
    EXCLUSIVE,
    FIELDS,
    FieldSpec,
    gives_hours,
    header_words,
    name_score,
    spec,
)
from importer.assist.formats import (
    Confidence,
    guess_date_format,
    guess_time_format,
    split_date_time,
    time_range_halves,
    without_zone_names,
)
from importer.mapping import SHOW_AS
from importer.validate import email_addresses
from importer.values import is_zone, suggest_zone
from importer.values.date_words import is_moment
from importer.values.durations import in_hours, lengths_in_minutes

SAMPLE_ROWS = 1_000  # rows read to judge a column's values
GOOD_FIT = 0.9  # share of values of the right kind that makes content evidence strong
SOME_FIT = 0.5  # below this, the values rule a name match out


@dataclass(frozen=True, slots=True)
class ColumnProfile:
    """What the values of one column look like, as shares (0..1) of its non-blank sample cells."""

    name: str
    filled: int  # non-blank cells in the sample
    shares: dict[str, float]  # kind -> share of values of that kind

    def fit(self, kind: str) -> float | None:
        """Share of the values that are of ``kind``; None when the sample has no values."""
        if self.filled == 0:
            return None
        if kind == "id":  # judged on the whole column by the external_id choice
            return 1.0
        if kind == "time":  # a column of time ranges gives the start time (and the end)
            return max(self.shares.get("time", 0.0), self.shares.get("timerange", 0.0))
        return self.shares.get(kind, 0.0)

    @property
    def ranged(self) -> bool:
        """True for a column of time ranges (``9:00 AM - 9:30 AM``)."""
        return self.shares.get("timerange", 0.0) > self.shares.get("time", 0.0)


_PHONE_SHAPE = r"\+?[0-9(][0-9\s().\-]{5,24}"
_DATE_SHAPE = r"[0-9]{1,4}[./\-][0-9]{1,2}[./\-][0-9]{1,4}"  # 2026-12-14 is not a phone number
_WHOLE = r"[0-9]{1,18}(?:\.0+)?"
_ZONE_SHAPE = r"[A-Za-z_]+(?:/[A-Za-z_\- ]+)+|UTC"
# 12/14/2026, 14.12.2026; 14 Dec, 14-Dec-26 (Excel's dd-mmm-yy); Dec 14
_DATE_HINT = (
    r"[0-9]{1,4}[./\-][0-9]{1,2}[./\-][0-9]{2,4}"
    r"|[0-9]{1,2}(?:,? |-)[A-Za-z]{3}"
    r"|[A-Za-z]{3}[a-z]* [0-9]"
)
_TIME_HINT = (
    r"[0-9]{1,2}(?:[:.][0-9]{2}){0,2}\s*(?:[AaPp]\.?(?:[Mm]\.?)?)?|(?:12(?:[:.]00)?\s*)?[Nn]oon"
)
_YES_NO = {"yes", "no", "y", "n", "true", "false", "1", "0", "x"}


MOMENT_TIMES = 3  # times of day among a column's moments that make it a column of starts


def profile_column(name: str, values: pd.Series) -> ColumnProfile:
    """Shares of each kind of value in ``values`` (one column's sample, index = rows)."""
    text = values.dropna().astype("str").str.strip()
    text = text[text != ""]
    if text.empty:
        return ColumnProfile(name, 0, {})
    shares: dict[str, float] = {}
    distinct = pd.Series(text.unique(), dtype="str")

    def share(mask: pd.Series) -> float:
        good = set(distinct[mask.fillna(False).astype(bool).to_numpy()].tolist())
        return float(text.isin(good).mean())

    letters = distinct.str.contains(r"[^\W\d_]", regex=True)
    shaped = distinct.str.fullmatch(_ZONE_SHAPE).fillna(False).astype(bool).tolist()
    zones = pd.Series(
        [
            ok and (is_zone(z) or suggest_zone(z) is not None)
            for z, ok in zip(distinct, shaped, strict=True)
        ],
        dtype=bool,
    )
    # A zone, an email address: text, but not what a name, title or location looks like.
    shares["text"] = share(letters & ~distinct.str.contains("@") & ~zones)
    # What the import sends to: addresses as mail programs copy them too ("Ann <ann@x.org>")
    shares["email"] = share(email_addresses(distinct)[1].isna())
    digits = distinct.str.count(r"[0-9]")
    phone_like = distinct.str.fullmatch(_PHONE_SHAPE) & ~distinct.str.fullmatch(_DATE_SHAPE)
    shares["phone"] = share(phone_like & digits.between(7, 15))
    shares["whole"] = share(distinct.str.fullmatch(_WHOLE))
    # How long, as staff write it: 30, 30 min, 1 hr, 1:30 (importer.values.durations)
    lengths = lengths_in_minutes(distinct.map(in_hours) if gives_hours(name) else distinct)
    shares["minutes"] = share(lengths > 0)
    shares["yesno"] = share(distinct.str.lower().isin(_YES_NO))
    show_as = set(SHOW_AS) | {str(n) for n in SHOW_AS.values()}
    shares["show_as"] = share(
        distinct.str.lower().str.replace(r"[\s\-]+", "_", regex=True).isin(show_as)
    )
    shares["zone"] = share(zones)
    # Parsing tries many formats: only for columns whose values are shaped like dates or times.
    if share(distinct.str.contains(_DATE_HINT, regex=True)) >= SOME_FIT:
        shares["date"] = guess_date_format(text).share
        date_part, time_part = split_date_time(text)
        has_both = time_part != ""
        if has_both.mean() >= SOME_FIT:
            parts = guess_date_format(date_part[has_both]).share
            shares["datetime"] = float(has_both.mean()) * parts
    # Moments with their offset (2026-12-14T17:00:00Z, as web systems export a start) are
    # starts, kept as written, when their times vary; at one time of day they are dates written
    # as moments (UTC midnight), which no zone-free reading can place on a day.
    moments = distinct[[is_moment(v) for v in distinct]]
    if len(moments) and moments.str.slice(11, 16).nunique() >= MOMENT_TIMES:
        shares["datetime"] = max(shares.get("datetime", 0.0), share(distinct.isin(moments)))
    if share(without_zone_names(distinct).str.fullmatch(_TIME_HINT)) >= SOME_FIT:
        shares["time"] = guess_time_format(text).share
    elif (halves := time_range_halves(text)) is not None:  # "9:00 AM - 9:30 AM"
        starts, ends = halves
        read = guess_time_format(pd.concat([starts, ends])).share
        shares["timerange"] = float(len(ends) / len(text)) * read
    return ColumnProfile(name, len(text), shares)


def profile_columns(frame: pd.DataFrame) -> dict[str, ColumnProfile]:
    """A profile of every column, from the first :data:`SAMPLE_ROWS` rows."""
    sample = frame.head(SAMPLE_ROWS)
    return {str(c): profile_column(str(c), sample[c]) for c in sample.columns}


@dataclass(frozen=True, slots=True)
class Pick:
    """A column chosen for a field, how sure the choice is, and why."""

    column: str
    confidence: Confidence
    reason: str


def _judge(field: FieldSpec, profile: ColumnProfile) -> tuple[float, Pick] | None:
    """Score and pick for one field and one column; None when the column cannot be the field."""
    if any(word in field.excluded for word in header_words(profile.name)):
        return None  # "DOB" is no start date, "Emergency Contact Phone" no patient's phone
    names = name_score(field, profile.name)
    fit = profile.fit(field.kind)
    kind_words = _KIND_WORDS.get(field.kind, field.kind)
    if field.kind == "time" and profile.ranged:
        kind_words = "time ranges (like 9:00 AM - 9:30 AM: the start and the end)"
    if names == 0:
        if not field.by_content or fit is None or fit < GOOD_FIT:
            return None
        if field.kind in ("email", "zone"):
            confidence = Confidence.MEDIUM
        else:
            confidence = Confidence.LOW
        reason = f"the header does not say, but {fit:.0%} of the values are {kind_words}"
        return 2 * fit, Pick(profile.name, confidence, reason)
    if fit is not None and fit < SOME_FIT:
        if not (field.kind in _CONTACT_KINDS and names >= 2 and fit > 0):
            return None
        # A column headed "Phone" of numbers written with words ("Cell: 541-555-0106") or two
        # to a cell: left out, its patients would get no reminder; taken, each row that has no
        # usable number says why.
        reason = (
            f"the header {profile.name!r} names this field, but only {fit:.0%} of the values "
            f"are {_KIND_WORDS[field.kind]} as they stand: each row whose cell cannot be used "
            "says why"
        )
        return 2 * min(names, 3) + 2 * fit, Pick(profile.name, Confidence.LOW, reason)
    said = "names" if names >= 2 else "suggests"
    reason = f"the header {profile.name!r} {said} this field"
    if fit is None:
        confidence = Confidence.MEDIUM if names >= 2 else Confidence.LOW
        reason += "; no values to check it against"
        fit = SOME_FIT
    elif field.kind == "text" or field.kind == "id":
        confidence = Confidence.HIGH if names >= 2 else Confidence.MEDIUM
    else:
        reason += f", and {fit:.0%} of the values are {kind_words}"
        if names >= 2:
            confidence = Confidence.HIGH if fit >= GOOD_FIT else Confidence.MEDIUM
        else:
            confidence = Confidence.MEDIUM if fit >= GOOD_FIT else Confidence.LOW
    return 2 * min(names, 3) + 2 * fit, Pick(profile.name, confidence, reason)


_CONTACT_KINDS = ("phone", "email")  # what a reminder goes to
_KIND_WORDS = {
    "date": "dates",
    "time": "times of day",
    "datetime": "dates with times",
    "email": "email addresses",
    "phone": "phone numbers",
    "zone": "IANA time zones",
    "whole": "whole numbers",
    "minutes": "lengths in minutes",
    "yesno": "yes/no",
    "show_as": "free/tentative/busy/out_of_office/working_elsewhere",
}


def match_columns(
    profiles: dict[str, ColumnProfile], *, reserved: frozenset[str] = frozenset()
) -> dict[str, Pick]:
    """The best column for each auto-matched field: strongest evidence first, one column each.

    Columns in ``reserved`` (the appointment id) are left for the caller.
    """
    candidates: list[tuple[float, int, int, str, Pick]] = []
    columns = [c for c in profiles if c not in reserved]
    for f_index, field in enumerate(FIELDS):
        if field.key in ("external_id", "contact_id", "contact_external_id"):
            continue
        if field.key == "participant_other_phone":  # rank_phones fills it
            continue
        for c_index, column in enumerate(columns):
            judged = _judge(field, profiles[column])
            if judged is not None:
                candidates.append((judged[0], f_index, c_index, field.key, judged[1]))
    candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
    picks: dict[str, Pick] = {}
    used: set[str] = set()
    blocked: set[str] = set()
    for _, _, _, key, pick in candidates:
        if key in picks or key in blocked or pick.column in used:
            continue
        picks[key] = pick
        used.add(pick.column)
        blocked.update(EXCLUSIVE.get(key, ()))
    return rank_phones(profiles, picks, columns)


_MOBILE_WORDS = {"mobile", "cell", "cellphone", "sms", "text", "mob", "wireless"}
_LANDLINE_WORDS = {"home", "work", "office", "business", "landline", "day", "evening", "fax"}


def _phone_rank(column: str) -> int:
    """0 for a mobile's header, 2 for a landline's (home, work), 1 for a plain "Phone"."""
    words = set(header_words(column))
    if words & _MOBILE_WORDS:
        return 0
    return 2 if words & _LANDLINE_WORDS else 1


def rank_phones(
    profiles: dict[str, ColumnProfile], picks: dict[str, Pick], columns: list[str]
) -> dict[str, Pick]:
    """With several phone columns, the mobile first and the next as the other phone.

    Text reminders reach mobiles only, so a column named mobile or cell comes before a plain
    "Phone", which comes before home or work numbers. Only columns whose header says phone are
    ranked; a single phone column is left as it was matched.
    """
    field = spec("participant_phone")
    taken = {p.column for k, p in picks.items() if k != "participant_phone"}
    phones = []
    for position, column in enumerate(columns):
        judged = _judge(field, profiles[column])
        if column not in taken and judged is not None and name_score(field, column) > 0:
            phones.append((_phone_rank(column), position, judged[1]))
    if len(phones) < 2:
        return picks
    (rank, _, first), (_, _, second) = sorted(phones, key=lambda p: (p[0], p[1]))[:2]
    why = "a mobile number" if rank == 0 else "the first phone column"
    ranked = dict(picks)
    ranked["participant_phone"] = Pick(
        first.column,
        first.confidence,
        f"{first.reason}; {why} comes first, as text reminders reach mobiles only",
    )
    ranked["participant_other_phone"] = Pick(
        second.column,
        second.confidence,
        f"{second.reason}; used only where {first.column!r} is blank or not a valid number",
    )
    return ranked


def id_headers(headers: list[str]) -> frozenset[str]:
    """Headers that name an appointment id outright (``Appointment ID``, ``Ref``)."""
    return frozenset(h for h in headers if name_score(spec("external_id"), h) >= 2)
