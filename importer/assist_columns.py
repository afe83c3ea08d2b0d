"""Matching a sheet's columns to Apptoto event fields, by header name and by the values below it.

Headers are compared case- and punctuation-insensitively (``Phone #`` is ``phone``, ``apptDate``
is ``appt date``) against a table of synonyms per field. The values of a sample of rows either
confirm a name (dates under ``Date``), rule it out (no dates under ``Date``), or find a column on
their own (email addresses under ``Contact``, IANA zones under ``Where``). Each field gets at most
one column and each column serves at most one field, strongest evidence first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from importer.assist_formats import (
    Confidence,
    guess_date_format,
    guess_time_format,
    split_date_time,
)
from importer.mapping import SHOW_AS
from importer.validate import EMAIL_PATTERN
from importer.zones import is_zone, suggest_zone

SAMPLE_ROWS = 1_000  # rows read to judge a column's values
GOOD_FIT = 0.9  # share of values of the right kind that makes content evidence strong
SOME_FIT = 0.5  # below this, the values rule a name match out

# Words that qualify a header without changing its field: "Patient Phone" is a phone.
_QUALIFIERS = {"patient", "client", "customer", "appt", "appointment", "visit", "event", "booking"}
_QUALIFIERS |= {"primary", "contact", "the", "of", "s", "member", "scheduled", "session"}


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """An event field the assistant can fill from a column."""

    key: str  # e.g. "start_date"; the web page's form field names
    label: str  # for people: "Date"
    kind: str  # what its values look like: date, time, datetime, email, phone, zone, text, ...
    synonyms: tuple[str, ...] = ()  # header names, normalised (lowercase letters and digits)
    keywords: tuple[str, ...] = ()  # single words that suggest the field inside a longer header
    excluded: tuple[str, ...] = ()  # words that rule a header out ("dob" for the date)
    by_content: bool = False  # may be found by its values alone, whatever the header says


_NOT_THE_DAY: tuple[str, ...] = (
    "birth",
    "dob",
    "born",
    "created",
    "modified",
    "updated",
    "entered",
    "booked",
)
_NOT_THE_DAY += ("added", "paid", "due", "last", "next", "previous", "zone", "tz")

FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "external_id",
        "Appointment ID (unique per row)",
        "id",
        ("id", "apptid", "appointmentid", "appointmentnumber", "apptno", "apptnumber", "bookingid")
        + ("bookingref", "bookingreference", "reference", "ref", "refno", "confirmation")
        + ("confirmationnumber", "recordid", "visitid", "eventid", "externalid", "uid"),
        ("id", "ref", "reference", "confirmation", "number", "no", "code"),
    ),
    FieldSpec(
        "calendar",
        "Calendar (provider, staff)",
        "text",
        ("provider", "doctor", "staff", "calendar", "practitioner", "clinician", "therapist")
        + ("physician", "dr", "staffmember", "resource", "employee", "assignedto", "stylist")
        + ("consultant", "counselor", "counsellor", "dentist", "hygienist", "nurse", "seenby")
        + ("providername", "doctorname", "staffname", "calendarname", "with"),
        ("provider", "doctor", "staff", "calendar", "practitioner", "clinician", "therapist"),
        ("id", "number", "no", "email", "phone"),
    ),
    FieldSpec("calendar_id", "Calendar ID (Apptoto's number)", "whole", ("calendarid",)),
    FieldSpec(
        "title",
        "Title (service, appointment type)",
        "text",
        ("service", "type", "appointmenttype", "appttype", "visittype", "reason", "treatment")
        + ("reasonforvisit", "procedure", "subject", "title", "eventtitle", "servicetype")
        + ("servicename", "category", "purpose"),
        ("service", "type", "reason", "treatment", "procedure", "subject", "title"),
        ("id", "zone", "date", "time"),
    ),
    FieldSpec(
        "start_date",
        "Date",
        "date",
        ("date", "apptdate", "appointmentdate", "dateofvisit", "visitdate", "startdate", "day")
        + ("bookingdate", "servicedate", "eventdate", "dateofappointment", "scheduleddate")
        + ("sessiondate", "on"),
        ("date", "day"),
        ("end", "finish", "until", *_NOT_THE_DAY),
        by_content=True,
    ),
    FieldSpec(
        "start_time",
        "Start time",
        "time",
        ("time", "starttime", "start", "appttime", "appointmenttime", "timeofvisit", "visittime")
        + ("from", "begin", "begins", "starts", "timeofappointment", "scheduledtime", "at")
        + ("sessiontime", "startat", "startsat"),
        ("start", "time", "begin", "from"),
        ("end", "finish", "until", *_NOT_THE_DAY),
        by_content=True,
    ),
    FieldSpec(
        "start_datetime",
        "Start date and time (one cell)",
        "datetime",
        ("startdatetime", "datetime", "appointmentdatetime", "apptdatetime", "dateandtime")
        + ("dateofvisit", "when", "scheduledfor", "startsat", "start", "date", "apptdate")
        + ("appointmentdate", "appointment", "appt", "starttime", "time", "appointmenttime"),
        ("start", "date", "time", "when"),
        ("end", "finish", "until", *_NOT_THE_DAY),
        by_content=True,
    ),
    FieldSpec(
        "end_date",
        "End date",
        "date",
        ("enddate", "todate", "untildate", "finishdate"),
        ("end", "until", "finish"),
        ("time",),
    ),
    FieldSpec(
        "end_time",
        "End time",
        "time",
        ("end", "endtime", "finish", "finishtime", "to", "until", "ends", "endsat", "apptend"),
        ("end", "finish", "until"),
        ("date", "zone"),
        by_content=True,
    ),
    FieldSpec(
        "end_datetime",
        "End date and time (one cell)",
        "datetime",
        ("enddatetime", "end", "endtime", "finish", "until", "ends", "endsat"),
        ("end", "finish", "until"),
    ),
    FieldSpec(
        "duration_minutes",
        "Duration in minutes",
        "minutes",
        ("duration", "durationmin", "durationmins", "durationminutes", "minutes", "mins")
        + ("length", "lengthmin", "lengthminutes", "apptlength", "appointmentlength"),
        ("duration", "minutes", "mins", "length"),
    ),
    FieldSpec("all_day", "All day (yes/no)", "yesno", ("allday", "alldayevent", "wholeday")),
    FieldSpec(
        "time_zone",
        "Time zone",
        "zone",
        ("timezone", "tz", "zone", "timezonename", "olson", "ianazone"),
        ("zone", "tz", "timezone"),
        by_content=True,
    ),
    FieldSpec(
        "location",
        "Location",
        "text",
        ("location", "room", "clinic", "office", "site", "address", "branch", "venue", "place")
        + ("facility", "where"),
        ("location", "room", "clinic", "office", "site", "address", "branch", "venue"),
        ("id", "phone", "email", "zone"),
    ),
    FieldSpec(
        "content",
        "Notes (the event's text)",
        "text",
        ("notes", "note", "comments", "comment", "description", "details", "memo", "remarks")
        + ("instructions", "message", "body", "content"),
        ("notes", "note", "comments", "comment", "description", "memo", "remarks"),
    ),
    FieldSpec("show_as", "Show as (free, busy, ...)", "show_as", ("showas", "availability")),
    FieldSpec(
        "participant_name",
        "Participant's full name",
        "text",
        ("client", "patient", "patientname", "clientname", "customer", "customername", "name")
        + ("fullname", "contact", "contactname", "attendee", "guest", "participant", "member")
        + ("student", "attendeename", "participantname", "who"),
        ("name", "client", "patient", "customer", "attendee", "participant"),
        ("first", "last", "given", "surname", "family", "middle", "provider", "doctor", "staff")
        + ("calendar", "file", "user", "id", "number", "email", "phone", "service", "clinic"),
    ),
    FieldSpec(
        "participant_first_name",
        "First name",
        "text",
        ("firstname", "first", "givenname", "forename", "fname", "given"),
        ("first", "given", "forename"),
        ("provider", "doctor", "staff"),
    ),
    FieldSpec(
        "participant_last_name",
        "Last name",
        "text",
        ("lastname", "last", "surname", "familyname", "lname"),
        ("last", "surname", "family"),
        ("provider", "doctor", "staff", "visit", "seen"),
    ),
    FieldSpec(
        "participant_email",
        "Email",
        "email",
        ("email", "emailaddress", "mail", "email1", "emailaddr"),
        ("email", "mail"),
        ("provider", "doctor", "staff"),
        by_content=True,
    ),
    FieldSpec(
        "participant_phone",
        "Phone (mobile)",
        "phone",
        ("phone", "phonenumber", "mobile", "mobilephone", "mobilenumber", "cell", "cellphone")
        + ("cellnumber", "telephone", "tel", "phoneno", "contactnumber", "sms", "textnumber")
        + ("mobileno", "homephone", "number"),
        ("phone", "mobile", "cell", "telephone", "tel", "sms"),
        ("provider", "doctor", "staff", "office", "clinic", "fax"),
        by_content=True,
    ),
    FieldSpec("contact_id", "Apptoto contact id", "whole"),
    FieldSpec("contact_external_id", "Apptoto contact external id", "text"),
)
FIELD_KEYS = tuple(f.key for f in FIELDS)
_SPEC = {f.key: f for f in FIELDS}
# Choosing one of these rules the others out (a point in time is one cell or two; an end or a
# duration; a calendar by name or by id; one name or first + last).
EXCLUSIVE: dict[str, tuple[str, ...]] = {
    "start_datetime": ("start_date", "start_time"),
    "start_date": ("start_datetime",),
    "start_time": ("start_datetime",),
    "end_datetime": ("end_date", "end_time", "duration_minutes"),
    "end_date": ("end_datetime",),
    "end_time": ("end_datetime", "duration_minutes"),
    "duration_minutes": ("end_time", "end_datetime"),
    "calendar": ("calendar_id",),
    "calendar_id": ("calendar",),
    "participant_name": ("participant_first_name", "participant_last_name"),
    "participant_first_name": ("participant_name",),
    "participant_last_name": ("participant_name",),
}


def spec(key: str) -> FieldSpec:
    """The field called ``key`` (KeyError for an unknown one)."""
    return _SPEC[key]


def header_words(header: str) -> list[str]:
    """``"apptDate (MM/DD)"`` -> ``["appt", "date", "mm", "dd"]``: lowercase words and numbers."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", header)
    return re.findall(r"[a-z]+|[0-9]+", spaced.lower())


def name_score(field: FieldSpec, header: str) -> int:
    """3: a synonym; 2: a synonym once qualifiers like "Patient" are dropped; 1: a keyword; 0."""
    words = header_words(header)
    if not words or any(w in field.excluded for w in words):
        return 0
    if "".join(words) in field.synonyms:
        return 3
    core = [w for w in words if w not in _QUALIFIERS]
    if core and "".join(core) in field.synonyms:
        return 2
    if any(w in field.keywords for w in words):
        return 1
    return 0


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
        return self.shares.get(kind, 0.0)


_PHONE_SHAPE = r"\+?[0-9(][0-9\s().\-]{5,24}"
_DATE_SHAPE = r"[0-9]{1,4}[./\-][0-9]{1,2}[./\-][0-9]{1,4}"  # 2026-12-14 is not a phone number
_WHOLE = r"[0-9]{1,18}(?:\.0+)?"
_MINUTES = r"[0-9]{1,4}(?:\.0+)?"
_ZONE_SHAPE = r"[A-Za-z_]+(?:/[A-Za-z_\- ]+)+|UTC"
_DATE_HINT = (
    r"[0-9]{1,4}[./\-][0-9]{1,2}[./\-][0-9]{2,4}|[0-9]{1,2},? [A-Za-z]{3}|[A-Za-z]{3}[a-z]* [0-9]"
)
_TIME_HINT = r"[0-9]{1,2}(?:[:.][0-9]{2}){0,2}\s*(?:[AaPp]\.?[Mm]\.?)?"
_YES_NO = {"yes", "no", "y", "n", "true", "false", "1", "0", "x"}


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
    shares["email"] = share(distinct.str.fullmatch(EMAIL_PATTERN))
    digits = distinct.str.count(r"[0-9]")
    phone_like = distinct.str.fullmatch(_PHONE_SHAPE) & ~distinct.str.fullmatch(_DATE_SHAPE)
    shares["phone"] = share(phone_like & digits.between(7, 15))
    shares["whole"] = share(distinct.str.fullmatch(_WHOLE))
    shares["minutes"] = share(distinct.str.fullmatch(_MINUTES) & (distinct.str.strip("0.") != ""))
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
    if share(distinct.str.fullmatch(_TIME_HINT)) >= SOME_FIT:
        shares["time"] = guess_time_format(text).share
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
    names = name_score(field, profile.name)
    fit = profile.fit(field.kind)
    kind_words = _KIND_WORDS.get(field.kind, field.kind)
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
        return None
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


_KIND_WORDS = {
    "date": "dates",
    "time": "times of day",
    "datetime": "dates with times",
    "email": "email addresses",
    "phone": "phone numbers",
    "zone": "IANA time zones",
    "whole": "whole numbers",
    "minutes": "whole minutes",
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
    return picks


def id_headers(headers: list[str]) -> frozenset[str]:
    """Headers that name an appointment id outright (``Appointment ID``, ``Ref``)."""
    return frozenset(h for h in headers if name_score(spec("external_id"), h) >= 2)


_ID_SHAPE = r"[^\s]{1,40}"
_RANK = {Confidence.HIGH: 3, Confidence.MEDIUM: 2, Confidence.LOW: 1}


def pick_external_id(
    frame: pd.DataFrame, columns: list[str], profiles: dict[str, ColumnProfile]
) -> Pick | None:
    """The column whose values identify each row (an appointment id), judged on every row.

    A column named like an id may repeat a value in a few rows (those rows will be refused); a
    column found by its values alone must be unique, filled and id-shaped in every row.
    """
    best: tuple[tuple[int, int, float], Pick] | None = None
    for column in columns:
        names = name_score(spec("external_id"), column)
        text = frame[column].fillna("").astype("str").str.strip()
        blank = text == ""
        shared = text.duplicated(keep=False) & ~blank
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
    return best[1] if best else None


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
