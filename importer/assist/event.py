"""The ``event`` section a mapping assistant proposes: each key's template, confidence and reason.

From the columns picked for each field (:mod:`importer.assist.columns`) to mapping keys:
``external_id`` (with the mapping's ``source``, named after the id's columns, as a prefix; made of
the appointment's own columns, with a warning, when the sheet has no id), ``calendar``, ``title``
(``{Service} with {Provider}``), ``start``/``end`` or ``duration_minutes``, ``all_day`` for dates
without times, the participant, and the column checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from importer.assist.columns import Pick
from importer.assist.fields import gives_hours
from importer.assist.formats import Confidence, time_range_halves
from importer.assist.identity import source_name
from importer.assist.sheet_values import is_sheet_value, shown_column
from importer.events import TemplateRenderer
from importer.mapping import ColumnCheck, ColumnType, parse_template
from importer.values import apply_filter, looks_last_first

DEFAULT_DURATION_MINUTES = 30  # when a sheet has neither an end nor a duration column
# The fields that say who an appointment is for.
PERSON_KEYS = (
    "participant_name",
    "participant_first_name",
    "participant_last_name",
    "participant_phone",
    "participant_email",
)


@dataclass(frozen=True, slots=True)
class Choice:
    """One key of the mapping's ``event`` section, what it is set to, how sure, and why."""

    key: str  # mapping key: "external_id", "start", "participants.phone", ...
    # A template, {date: ..., time: ...} for start and end, or phones in order of preference.
    value: str | dict[str, str] | tuple[str, ...]
    confidence: Confidence
    reason: str


def slug(name: str) -> str:
    """``"Clinic Appointments"`` -> ``"clinic-appointments"`` (for ids and file names)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def column_ref(column: str) -> str:
    """``"Date"`` -> ``"{Date}"``, a template's placeholder."""
    return "{" + column + "}"


def _literal(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def choice_texts(choice: Choice) -> list[str]:
    """The templates a choice writes (two for ``{date: ..., time: ...}``, one per phone)."""
    if isinstance(choice.value, dict):
        return list(choice.value.values())
    return list(choice.value) if isinstance(choice.value, tuple) else [choice.value]


def _column(picks: dict[str, Pick], key: str) -> str | None:
    pick = picks.get(key)
    return pick.column if pick else None


def event_choices(
    frame: pd.DataFrame,
    picks: dict[str, Pick],
    name: str,
    notes: list[str],
    *,
    person_number: str | None = None,
) -> tuple[Choice, ...]:
    """The event section's keys in mapping order, each with its reason.

    ``person_number``: a column numbering people (``Chart #``), for an id made of it, the date
    and the start when no column holds an appointment id.
    """
    ranged = ranged_start(frame, picks)
    out = _identity_choices(frame, picks, name, notes, person_number) + _time_choices(picks, ranged)
    for key in ("time_zone", "location", "content", "show_as"):
        if key in picks:
            out.append(_choice(key, column_ref(picks[key].column), picks[key]))
    return tuple(out)


def _choice(key: str, value: str | dict[str, str], pick: Pick | None, default: str = "") -> Choice:
    """A key taken from a picked column (with the pick's reason), or a default (low confidence)."""
    if pick is not None:
        return Choice(key, value, pick.confidence, pick.reason)
    return Choice(key, value, Confidence.LOW, default)


def id_source(event: tuple[Choice, ...]) -> str:
    """The ``source`` of a proposed event section: named after the columns of its id."""
    value = next(c.value for c in event if c.key == "external_id")
    columns = parse_template(value, where="external_id").columns if isinstance(value, str) else ()
    return source_name(columns)


def _identity_choices(
    frame: pd.DataFrame,
    picks: dict[str, Pick],
    name: str,
    notes: list[str],
    person_number: str | None,
) -> list[Choice]:
    """Which event a row is: external_id, the calendar, the title."""
    out: list[Choice] = []
    if "external_id" in picks:
        column = picks["external_id"].column
        prefix = _literal(source_name([column])) + "-"
        out.append(_choice("external_id", prefix + column_ref(column), picks["external_id"]))
    else:
        out.append(_composite_id(frame, picks, notes, person_number))
    calendar = _column(picks, "calendar")
    if "calendar_id" in picks:
        out.append(
            _choice("calendar_id", column_ref(picks["calendar_id"].column), picks["calendar_id"])
        )
    elif calendar:
        out.append(_choice("calendar", column_ref(calendar), picks["calendar"]))
    else:
        out.append(
            _choice(
                "calendar",
                _literal(name),
                None,
                f"no column names a calendar: every event goes to "
                f"the calendar {name!r} (Apptoto creates it if it does not exist); "
                "change it if needed",
            )
        )
    service = _column(picks, "title")
    with_whom = f" with {column_ref(calendar)}" if calendar else ""
    if service:
        reason = picks["title"].reason + ("; the calendar's name is added" if calendar else "")
        out.append(
            Choice("title", column_ref(service) + with_whom, picks["title"].confidence, reason)
        )
    else:
        out.append(
            _choice("title", "Appointment" + with_whom, None, "no column names a service or type")
        )
    return out


def ranged_start(frame: pd.DataFrame, picks: dict[str, Pick]) -> bool:
    """True when the start time's column holds time ranges (``9:00 AM - 9:30 AM``) and no
    column gives the end time: the range gives both (``{Time|start}``, ``{Time|end}``)."""
    if "start_time" not in picks or "end_time" in picks:
        return False
    return time_range_halves(frame[picks["start_time"].column]) is not None


def _time_choices(picks: dict[str, Pick], ranged: bool = False) -> list[Choice]:
    """When the event is: start, then end or duration, then all_day. ``ranged``: the start
    time's column holds time ranges (:func:`ranged_start`)."""
    out: list[Choice] = []
    start_date = _column(picks, "start_date")
    if "start_datetime" in picks:
        out.append(
            _choice("start", column_ref(picks["start_datetime"].column), picks["start_datetime"])
        )
    elif start_date:
        start = {"date": column_ref(start_date)}
        if "start_time" in picks:
            time_column = picks["start_time"].column
            start["time"] = column_ref(f"{time_column}|start" if ranged else time_column)
        parts = [picks[k] for k in ("start_date", "start_time") if k in picks]
        out.append(_choice("start", start, _joined(parts)))
    else:
        out.append(
            _choice(
                "start", {"date": "{CHOOSE the date column}"}, None, "no column of dates was found"
            )
        )
    timed = "start_datetime" in picks or "start_time" in picks
    end_day = _column(picks, "end_date") or start_date
    end = _range_end_choice(picks, end_day) if ranged else _end_choice(picks, end_day, timed)
    if end is not None:
        out.append(end)
    if "all_day" in picks:
        out.append(_choice("all_day", column_ref(picks["all_day"].column), picks["all_day"]))
    elif not timed and start_date:
        out.append(
            Choice("all_day", "true", Confidence.MEDIUM, "the dates have no times: all-day events")
        )
    return out


def _range_end_choice(picks: dict[str, Pick], end_day: str | None) -> Choice:
    """The end of an event whose start time's column holds time ranges: each range's end."""
    end = {"time": column_ref(f"{picks['start_time'].column}|end")}
    if end_day:
        end = {"date": column_ref(end_day), **end}
    return _choice("end", end, picks["start_time"])


def _end_choice(picks: dict[str, Pick], end_day: str | None, timed: bool) -> Choice | None:
    """The end (or duration) of an event; None for a date-only start without an end column."""
    if "end_datetime" in picks:
        return _choice("end", column_ref(picks["end_datetime"].column), picks["end_datetime"])
    if "end_time" in picks:
        end = (
            {"date": column_ref(end_day), "time": column_ref(picks["end_time"].column)}
            if end_day
            else {"time": column_ref(picks["end_time"].column)}
        )
        return _choice("end", end, picks["end_time"])
    if "duration_minutes" in picks:
        pick = picks["duration_minutes"]
        if not gives_hours(pick.column):
            return _choice("duration_minutes", column_ref(pick.column), pick)
        return Choice(
            "duration_minutes",
            column_ref(f"{pick.column}|hours"),
            pick.confidence,
            f"{pick.reason}; the header gives hours, so a bare 1.5 is read as 90 minutes",
        )
    if "end_date" in picks and not timed:
        return _choice("end", {"date": column_ref(picks["end_date"].column)}, picks["end_date"])
    if timed:
        return _choice(
            "duration_minutes",
            str(DEFAULT_DURATION_MINUTES),
            None,
            f"no end or duration column: every appointment is taken to last "
            f"{DEFAULT_DURATION_MINUTES} minutes; change it if needed",
        )
    return None


_STRENGTH = (Confidence.LOW, Confidence.MEDIUM, Confidence.HIGH, Confidence.CHOSEN)


def _joined(picks: list[Pick]) -> Pick:
    """Several columns behind one key: as sure as the least sure, with every reason."""
    weakest = min(picks, key=lambda p: _STRENGTH.index(p.confidence))
    reasons = list(dict.fromkeys(p.reason for p in picks))
    return Pick(weakest.column, weakest.confidence, "; ".join(reasons))


def _composite_parts(picks: dict[str, Pick], person_number: str | None) -> list[str]:
    """The columns of an id made of the appointment: who, when (and where, when who is only a
    name or a phone: two people may share those)."""
    when = [picks[k].column for k in ("start_datetime", "start_date", "start_time") if k in picks]
    if person_number is not None:
        return [person_number, *when]
    where = [picks[k].column for k in ("calendar", "calendar_id") if k in picks]
    who = [
        picks[k].column
        for k in ("participant_name", "participant_first_name", "participant_last_name")
        if k in picks
    ]
    if not who:
        who = [picks[k].column for k in ("participant_phone", "participant_email") if k in picks]
    return [*when, *where, *who]


def _composite_id(
    frame: pd.DataFrame, picks: dict[str, Pick], notes: list[str], person_number: str | None
) -> Choice:
    """An external_id made of the columns that describe an appointment, when no id exists."""
    parts = _composite_parts(picks, person_number)
    prefix = _literal(source_name(parts)) + "-"
    template = prefix + "-".join(column_ref(c) for c in parts) if parts else "{CHOOSE an id}"
    repeats = f" ({person_number!r} repeats for each visit of a person)" if person_number else ""
    warning = (
        f"no column holds an appointment id{repeats}, so this id is made of "
        f"{', '.join(shown_column(p) for p in parts) or 'nothing'}. When one of them changes "
        "(a rescheduled appointment), the id changes: the next run creates a NEW event and the "
        "old one stays in Apptoto with its reminders, unless that run also cancels the "
        "appointments no longer in the file. Add an appointment id column to the sheet if you can"
    )
    notes.append(warning)
    if parts:
        rendered = TemplateRenderer(frame).render(parse_template(template, where="id"))
        copies = frame.duplicated(keep="first")
        kept = rendered[~copies]
        shared = kept.duplicated(keep=False) & (kept != "")
        if shared.any():
            rows = ", ".join(str(r) for r in kept.index[shared][:6])
            warning += f"; rows {rows} get the same id and will be refused"
    return Choice("external_id", template, Confidence.LOW, warning)


def _name_choice(frame: pd.DataFrame, pick: Pick) -> Choice:
    """The participant's name from one column; names written "Last, First" are turned round."""
    values = frame[pick.column].astype("str").fillna("")
    if not looks_last_first(values):
        return Choice("name", column_ref(pick.column), pick.confidence, pick.reason)
    example = next(v for v in values if "," in v).strip()
    turned = apply_filter(pd.Series([example], dtype="str"), "first_last").iloc[0]
    reason = (
        f"{pick.reason}; the names are written last name first (“{example}”), so reminders "
        f"greet “{turned}”"
    )
    template = "{" + pick.column + "|first_last}"
    return Choice("name", template, pick.confidence, reason)


def participant_choices(frame: pd.DataFrame, picks: dict[str, Pick]) -> tuple[Choice, ...]:
    """The participant's name, email, phone (or Apptoto contact) from the picked columns."""
    out: list[Choice] = []
    if "participant_name" in picks:
        out.append(_name_choice(frame, picks["participant_name"]))
    else:
        names = [
            picks[k] for k in ("participant_first_name", "participant_last_name") if k in picks
        ]
        if names:
            joined = _joined(names)
            value = " ".join(column_ref(p.column) for p in names)
            out.append(Choice("name", value, joined.confidence, joined.reason))
    for key in ("email", "phone", "contact_id", "contact_external_id"):
        found = picks.get(f"participant_{key}") or picks.get(key)
        other = picks.get("participant_other_phone") if key == "phone" else None
        if found is not None and other is not None:
            phones = (column_ref(found.column), column_ref(other.column))
            reason = f"{found.reason}; then {other.column!r}: {other.reason}"
            out.append(Choice(key, phones, found.confidence, reason))
        elif found is not None:
            out.append(Choice(key, column_ref(found.column), found.confidence, found.reason))
    return tuple(out)


def column_checks(picks: dict[str, Pick]) -> tuple[ColumnCheck, ...]:
    """Column checks: the id unique and filled, the start and calendar filled, typed contacts."""
    checks: dict[str, ColumnCheck] = {}
    if "external_id" in picks:
        column = picks["external_id"].column
        checks[column] = ColumnCheck(column, required=True, unique=True)
    timed = "start_time" in picks or "start_datetime" in picks
    required = ["start_datetime", "start_date", "start_time", "calendar", "calendar_id"]
    if timed:
        required += ["end_datetime", "end_time"]
    for key in required:
        # The sheet's date is no column to check: the map stage says when it has no date.
        if key in picks and not is_sheet_value(picks[key].column):
            checks.setdefault(picks[key].column, ColumnCheck(picks[key].column, required=True))
    typed = {
        "participant_email": ColumnType.EMAIL,
        "participant_phone": ColumnType.PHONE,
        "time_zone": ColumnType.TIMEZONE,
    }
    for key, kind in typed.items():
        # A column read through a filter ({Time Zone|zone}: EST as America/New_York) is checked
        # by the map stage, after its filter: its cells as written are no zones.
        if key in picks and "|" not in picks[key].column:
            column = picks[key].column
            checks.setdefault(column, ColumnCheck(column, type=kind))
    return tuple(checks.values())
