"""The event fields the mapping assistant fills, and how a header name points at one.

Headers are compared case- and punctuation-insensitively (``Phone #`` is ``phone``, ``apptDate``
is ``appt date``) against a table of synonyms per field; qualifiers such as "Patient" are dropped
(``Patient Phone`` is a phone), and a keyword inside a longer header is weaker evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Words that qualify a header without changing its field: "Patient Phone" is a phone.
_QUALIFIERS = {"patient", "client", "customer", "appt", "appointment", "visit", "event", "booking"}
_QUALIFIERS |= {"pat", "pt"}  # practice systems' short "patient": PatFirstName, Pt Phone
_QUALIFIERS |= {"owner"}  # a vet's client: Owner Name, Owner Phone
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

# Words of a header about someone other than the patient: their number or address would send
# the patient's reminders to another person ("Emergency Contact Phone", "Referring Doctor").
_SOMEONE_ELSE: tuple[str, ...] = ("emergency", "kin", "nok", "referring", "referral", "referrer")
_SOMEONE_ELSE += ("insurance", "insurer", "employer", "pharmacy", "guarantor")

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
        + ("providername", "doctorname", "staffname", "calendarname", "with", "resourcename")
        + ("organizer", "organiser", "meetingorganizer", "calendarowner", "vet", "veterinarian")
        + ("groomer", "tutor", "teacher", "instructor", "coach", "trainer", "attorney")
        + ("lawyer", "advisor", "adviser", "technician", "optometrist", "chiropractor"),
        ("provider", "doctor", "staff", "calendar", "practitioner", "clinician", "therapist")
        + ("resource",),
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
        + ("facility", "where", "facilityname", "locationname", "clinicname", "sitename")
        + ("officename", "branchname"),
        ("location", "room", "clinic", "office", "site", "address", "branch", "venue", "facility"),
        ("id", "phone", "email", "zone", "tz"),
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
        + ("calendar", "file", "user", "id", "number", "no", "email", "phone", "service")
        + ("clinic", "resource", "facility", "location", "room", "pet", "animal", *_SOMEONE_ELSE),
    ),
    FieldSpec(
        "participant_first_name",
        "First name",
        "text",
        ("firstname", "first", "givenname", "forename", "fname", "given"),
        ("first", "given", "forename"),
        ("provider", "doctor", "staff", *_SOMEONE_ELSE),
    ),
    FieldSpec(
        "participant_last_name",
        "Last name",
        "text",
        ("lastname", "last", "surname", "familyname", "lname"),
        ("last", "surname", "family"),
        ("provider", "doctor", "staff", "visit", "seen", *_SOMEONE_ELSE),
    ),
    FieldSpec(
        "participant_email",
        "Email",
        "email",
        ("email", "emailaddress", "mail", "email1", "emailaddr"),
        ("email", "mail"),
        ("provider", "doctor", "staff", *_SOMEONE_ELSE),
        by_content=True,
    ),
    FieldSpec(
        "participant_phone",
        "Phone (mobile)",
        "phone",
        ("phone", "phonenumber", "mobile", "mobilephone", "mobilenumber", "cell", "cellphone")
        + ("cellnumber", "telephone", "tel", "phoneno", "contactnumber", "sms", "textnumber")
        + ("mobileno", "homephone", "number", "phonemobile", "phonecell", "cellular", "workphone"),
        ("phone", "mobile", "cell", "telephone", "tel", "sms"),
        ("provider", "doctor", "staff", "office", "clinic", "fax", *_SOMEONE_ELSE),
        by_content=True,
    ),
    # Filled by ranking the phone columns (importer.assist.columns.rank_phones), not matched alone.
    FieldSpec(
        "participant_other_phone",
        "Other phone (when the first is blank)",
        "phone",
        ("homephone", "workphone", "home", "work", "landline", "officephone", "otherphone"),
        (),
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
    """``"apptDate (MM/DD)"`` -> ``["appt", "date", "mm", "dd"]``: lowercase words and numbers.

    A ``#`` is the word "no" (``Appt #`` is ``appt no``, an appointment number).
    """
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", header).replace("#", " no ")
    return re.findall(r"[a-z]+|[0-9]+", spaced.lower())


_HOURS = {"h", "hr", "hrs", "hour", "hours"}
_MINUTES = {"m", "mm", "min", "mins", "minute", "minutes"}


def gives_hours(header: str) -> bool:
    """True for a length column headed in hours (``Duration (hrs)``, ``Length in hours``), not
    in hours and minutes (``Duration (h:mm)``)."""
    words = set(header_words(header))
    return bool(words & _HOURS) and not words & _MINUTES


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
