"""The mapping assistant: propose a mapping from a sheet, so nobody has to write YAML.

:func:`propose_mapping` matches columns to event fields (:mod:`importer.assist_columns`), guesses
date and time formats (:mod:`importer.assist_formats`) and picks an ``external_id``;
:func:`proposal_from_choices` builds the same from a person's own choices (the web page's
drop-downs). Either gives a :class:`Proposal`: every choice with a confidence and a reason,
rendered as a commented mapping file by :meth:`Proposal.to_yaml`.

What the assistant will not guess, it leaves for the user in a way that cannot go unnoticed: a
day/month order the values cannot tell, a 12/24-hour clock, a missing time zone. The mapping then
holds a placeholder that the mapping parser refuses, with the reason in a comment above it.
Columns it does not use are never sent: they are offered as ``custom_data`` lines to uncomment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping as AbstractMapping
from dataclasses import dataclass, field

import pandas as pd
import yaml

from importer.assist_columns import (
    EXCLUSIVE,
    FIELD_KEYS,
    Pick,
    id_headers,
    match_columns,
    pick_external_id,
    profile_columns,
    spec,
)
from importer.assist_formats import Confidence, FormatGuess, guess_date_format, guess_time_format
from importer.assist_formats import split_date_time as _split
from importer.errors import MappingError
from importer.mapping import DEFAULT_PHONE_REGION, ColumnCheck, ColumnType, Mapping, parse_mapping
from importer.phones import normalise_phones
from importer.templates import TemplateRenderer
from importer.zones import zone_problem

__all__ = [
    "Choice",
    "Confidence",
    "FormatGuess",
    "Proposal",
    "Setting",
    "propose_mapping",
    "proposal_from_choices",
]

DEFAULT_DURATION_MINUTES = 30  # when a sheet has neither an end nor a duration column
ZONE_PLACEHOLDER = "CHOOSE a time zone like America/New_York"


@dataclass(frozen=True, slots=True)
class Choice:
    """One key of the mapping's ``event`` section, what it is set to, how sure, and why."""

    key: str  # mapping key: "external_id", "start", "participants.phone", ...
    value: str | dict[str, str]  # a template, or {date: ..., time: ...} for start and end
    confidence: Confidence
    reason: str


@dataclass(frozen=True, slots=True)
class Setting:
    """A ``defaults`` value (time zone, phone region), or a placeholder the user must replace."""

    value: str | None  # None: left out of the mapping
    confidence: Confidence
    reason: str
    placeholder: bool = False  # the value is a request to the user; the parser refuses it


@dataclass(frozen=True)
class Proposal:
    """A proposed mapping for one sheet; :meth:`to_yaml` writes it with its reasons."""

    name: str
    sheet: str | None  # the XLSX sheet; None for CSV
    source: str | None  # the file name, for the header comment
    rows: int
    picks: dict[str, Pick]  # field key -> column (the web page's drop-downs, pre-filled)
    event: tuple[Choice, ...]
    participant: tuple[Choice, ...]
    checks: tuple[ColumnCheck, ...]
    time_zone: Setting
    phone_region: Setting
    date_format: FormatGuess
    time_format: FormatGuess
    unmatched: tuple[str, ...]  # columns no field uses: offered as custom_data
    notes: tuple[str, ...] = field(default=())

    @property
    def needs_choice(self) -> list[str]:
        """What the user must decide before the mapping loads (empty: it is ready)."""
        wanted = []
        for key, guess in (("date_format", self.date_format), ("time_format", self.time_format)):
            if guess.refused:
                wanted.append(f"defaults.{key}: {guess.reason}")
        if self.time_zone.placeholder:
            wanted.append(f"defaults.time_zone: {self.time_zone.reason}")
        wanted += [f"event.{c.key}: {c.reason}" for c in self.event if _is_placeholder(c.value)]
        return wanted

    def columns_by_field(self) -> dict[str, str]:
        """Field key -> chosen column, for the drop-downs."""
        return {key: pick.column for key, pick in self.picks.items()}

    def to_yaml(self) -> str:
        """The mapping file's text, each choice with its confidence and reason in a comment."""
        from importer.assist_yaml import render_proposal

        return render_proposal(self)

    def to_mapping(self) -> Mapping:
        """The proposal parsed as a mapping; MappingError while it still needs a choice."""
        return parse_mapping(yaml.safe_load(self.to_yaml()), file=f"{self.name}.yaml")

    def summary(self) -> list[str]:
        """Short lines for people: what matched, what is unused, what needs a choice."""
        lines = [
            f"{self.picks[key].column} -> {spec(key).label} ({self.picks[key].confidence})"
            for key in FIELD_KEYS
            if key in self.picks
        ]
        ids = next(c for c in self.event if c.key == "external_id")
        lines.append(f"external_id {ids.value} ({ids.confidence})")
        for key, guess in (("date format", self.date_format), ("time format", self.time_format)):
            shown = guess.format or ("refused" if guess.refused else "ISO")
            lines.append(f"{key}: {shown} ({guess.confidence})")
        zone = self.time_zone
        if not zone.placeholder:
            lines.append(
                f"default time zone: {zone.value or 'none'} ({zone.confidence}): {zone.reason}"
            )
        if self.unmatched:
            lines.append(f"not used (offered as custom_data): {', '.join(self.unmatched)}")
        lines += [f"note: {n}" for n in self.notes]
        lines += [f"NEEDS YOUR CHOICE: {n}" for n in self.needs_choice]
        return lines


def _is_placeholder(value: str | dict[str, str]) -> bool:
    texts = value.values() if isinstance(value, dict) else [value]
    return any("{CHOOSE" in t for t in texts)


def slug(name: str) -> str:
    """``"Clinic Appointments"`` -> ``"clinic-appointments"`` (for ids and file names)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _usable(frame: pd.DataFrame) -> list[str]:
    # A header with a brace cannot be written as a {Column} placeholder.
    return [str(c) for c in frame.columns if "{" not in str(c) and "}" not in str(c)]


def propose_mapping(
    frame: pd.DataFrame,
    *,
    name: str,
    sheet: str | None = None,
    source: str | None = None,
    time_zone: str | None = None,
    phone_region: str = DEFAULT_PHONE_REGION,
) -> Proposal:
    """Propose a mapping for ``frame`` (text cells as loaded, index = spreadsheet rows).

    Headers and a sample of values decide each field; ``external_id`` comes from a column whose
    values are unique over every row. ``time_zone`` (IANA) is the default for rows without one,
    ``phone_region`` the country of numbers written without +country. Raises MappingError for a
    ``time_zone`` that is not an IANA zone; never for anything in the sheet.
    """
    usable = _usable(frame)
    profiles = {k: v for k, v in profile_columns(frame[usable]).items()}
    reserved = id_headers(usable)
    picks = match_columns(profiles, reserved=reserved)
    taken = {p.column for p in picks.values()}
    external_id = pick_external_id(frame, [c for c in usable if c not in taken], profiles)
    if external_id is not None:
        picks = {"external_id": external_id, **picks}
    return _build(frame, picks, name, sheet, source, time_zone, phone_region)


def proposal_from_choices(
    frame: pd.DataFrame,
    choices: AbstractMapping[str, str],
    *,
    name: str,
    sheet: str | None = None,
    source: str | None = None,
    time_zone: str | None = None,
    phone_region: str = DEFAULT_PHONE_REGION,
) -> Proposal:
    """A proposal from a person's choices: field key (see FIELDS) -> column; "" for none.

    Formats, time zone and checks are worked out as in :func:`propose_mapping`. Raises
    MappingError, listing every problem, for an unknown field or column and for choices that
    exclude each other (a start in one cell and in two; a contact id with name/email/phone).
    """
    problems = []
    chosen = {k: v for k, v in choices.items() if v}
    for key, column in chosen.items():
        if key not in FIELD_KEYS:
            problems.append(f"unknown field {key!r} (known: {', '.join(FIELD_KEYS)})")
        elif column not in frame.columns:
            problems.append(f"{spec(key).label}: the sheet has no column {column!r}")
    for key in chosen:
        for other in EXCLUSIVE.get(key, ()):
            if other in chosen and key < other:
                problems.append(f"choose {spec(key).label} or {spec(other).label}, not both")
    contacts = [k for k in ("contact_id", "contact_external_id") if k in chosen]
    details = [k for k in chosen if k.startswith("participant_")]
    if contacts and details:
        problems.append(
            "a participant is either an Apptoto contact or a name/email/phone, not both: "
            f"clear {spec(contacts[0]).label} or {spec(details[0]).label}"
        )
    if problems:
        raise MappingError("the column choices do not fit together", problems=problems)
    picks = {k: Pick(c, Confidence.CHOSEN, "chosen by you") for k, c in chosen.items()}
    return _build(frame, picks, name, sheet, source, time_zone, phone_region)


def _ref(column: str) -> str:
    return "{" + column + "}"


def _literal(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _build(
    frame: pd.DataFrame,
    picks: dict[str, Pick],
    name: str,
    sheet: str | None,
    source: str | None,
    time_zone: str | None,
    phone_region: str,
) -> Proposal:
    region = phone_region.upper()
    notes: list[str] = []
    event = _event_choices(frame, picks, name, notes)
    participant = _participant_choices(picks)
    texts = [t for choice in (*event, *participant) for t in _texts(choice)]
    used = {str(c) for c in frame.columns if any(_ref(str(c)) in t for t in texts)}
    unmatched = tuple(str(c) for c in frame.columns if c not in used)
    skipped = [str(c) for c in frame.columns if str(c) not in _usable(frame)]
    if skipped:
        notes.append(f"columns with braces in their header cannot be used: {', '.join(skipped)}")
    return Proposal(
        name=name,
        sheet=sheet,
        source=source,
        rows=len(frame),
        picks=picks,
        event=event,
        participant=participant,
        checks=_checks(picks),
        time_zone=_time_zone(frame, picks, time_zone),
        phone_region=_phone_region(frame, picks, region),
        date_format=guess_date_format(_date_values(frame, picks)),
        time_format=guess_time_format(_time_values(frame, picks)),
        unmatched=tuple(c for c in unmatched if c not in skipped),
        notes=tuple(notes),
    )


def _texts(choice: Choice) -> list[str]:
    return list(choice.value.values()) if isinstance(choice.value, dict) else [choice.value]


def _column(picks: dict[str, Pick], key: str) -> str | None:
    pick = picks.get(key)
    return pick.column if pick else None


def _event_choices(
    frame: pd.DataFrame, picks: dict[str, Pick], name: str, notes: list[str]
) -> tuple[Choice, ...]:
    """The event section's keys in mapping order, each with its reason."""
    out: list[Choice] = []

    def add(key: str, value: str | dict[str, str], pick: Pick | None, default: str = "") -> None:
        if pick is not None:
            out.append(Choice(key, value, pick.confidence, pick.reason))
        else:
            out.append(Choice(key, value, Confidence.LOW, default))

    prefix = f"{slug(name)}-" if slug(name) else ""
    if "external_id" in picks:
        add(
            "external_id",
            _literal(prefix) + _ref(picks["external_id"].column),
            picks["external_id"],
        )
    else:
        out.append(_composite_id(frame, picks, prefix, notes))
    calendar = _column(picks, "calendar")
    if "calendar_id" in picks:
        add("calendar_id", _ref(picks["calendar_id"].column), picks["calendar_id"])
    elif calendar:
        add("calendar", _ref(calendar), picks["calendar"])
    else:
        add(
            "calendar",
            _literal(name),
            None,
            f"no column names a calendar: every event goes to "
            f"the calendar {name!r} (Apptoto creates it if it does not exist); change it if needed",
        )
    service = _column(picks, "title")
    with_whom = f" with {_ref(calendar)}" if calendar else ""
    if service:
        reason = picks["title"].reason + ("; the calendar's name is added" if calendar else "")
        out.append(Choice("title", _ref(service) + with_whom, picks["title"].confidence, reason))
    else:
        add("title", "Appointment" + with_whom, None, "no column names a service or type")

    start_date = _column(picks, "start_date")
    if "start_datetime" in picks:
        add("start", _ref(picks["start_datetime"].column), picks["start_datetime"])
    elif start_date:
        start = {"date": _ref(start_date)}
        if "start_time" in picks:
            start["time"] = _ref(picks["start_time"].column)
        add("start", start, _joined([picks[k] for k in ("start_date", "start_time") if k in picks]))
    else:
        add("start", {"date": "{CHOOSE the date column}"}, None, "no column of dates was found")
    timed = "start_datetime" in picks or "start_time" in picks
    end_day = _column(picks, "end_date") or start_date
    if "end_datetime" in picks:
        add("end", _ref(picks["end_datetime"].column), picks["end_datetime"])
    elif "end_time" in picks:
        end = (
            {"date": _ref(end_day), "time": _ref(picks["end_time"].column)}
            if end_day
            else {"time": _ref(picks["end_time"].column)}
        )
        add("end", end, picks["end_time"])
    elif "duration_minutes" in picks:
        add("duration_minutes", _ref(picks["duration_minutes"].column), picks["duration_minutes"])
    elif "end_date" in picks and not timed:
        add("end", {"date": _ref(picks["end_date"].column)}, picks["end_date"])
    elif timed:
        add(
            "duration_minutes",
            str(DEFAULT_DURATION_MINUTES),
            None,
            f"no end or duration column: every appointment is taken to last "
            f"{DEFAULT_DURATION_MINUTES} minutes; change it if needed",
        )
    if "all_day" in picks:
        add("all_day", _ref(picks["all_day"].column), picks["all_day"])
    elif not timed and start_date:
        out.append(
            Choice("all_day", "true", Confidence.MEDIUM, "the dates have no times: all-day events")
        )
    for key in ("time_zone", "location", "content", "show_as"):
        if key in picks:
            add(key, _ref(picks[key].column), picks[key])
    return tuple(out)


_STRENGTH = (Confidence.LOW, Confidence.MEDIUM, Confidence.HIGH, Confidence.CHOSEN)


def _joined(picks: list[Pick]) -> Pick:
    """Several columns behind one key: as sure as the least sure, with every reason."""
    weakest = min(picks, key=lambda p: _STRENGTH.index(p.confidence))
    reasons = list(dict.fromkeys(p.reason for p in picks))
    return Pick(weakest.column, weakest.confidence, "; ".join(reasons))


def _composite_id(
    frame: pd.DataFrame, picks: dict[str, Pick], prefix: str, notes: list[str]
) -> Choice:
    """An external_id made of the columns that describe an appointment, when no id exists."""
    parts = [
        picks[key].column
        for key in ("start_datetime", "start_date", "start_time", "calendar", "calendar_id")
        + ("participant_name", "participant_first_name", "participant_last_name")
        if key in picks
    ]
    if not any(k in picks for k in ("participant_name", "participant_first_name")):
        parts += [picks[k].column for k in ("participant_phone", "participant_email") if k in picks]
    template = _literal(prefix) + "-".join(_ref(c) for c in parts) if parts else "{CHOOSE an id}"
    warning = (
        "no column holds an appointment id, so re-runs cannot update safely: this id is made of "
        f"{', '.join(parts) or 'nothing'}; when one of them changes (a rescheduled appointment), "
        "the next run creates a NEW event and the old one stays in Apptoto with its reminders "
        "(unless the run uses --cancel-missing). Add an appointment id column to the sheet "
        "if you can"
    )
    notes.append(warning)
    if parts:
        from importer.mapping import parse_template

        rendered = TemplateRenderer(frame[parts]).render(parse_template(template, where="id"))
        shared = rendered.duplicated(keep=False) & (rendered != "")
        if shared.any():
            rows = ", ".join(str(r) for r in rendered.index[shared][:6])
            warning += f"; rows {rows} get the same id and will be refused"
    return Choice("external_id", template, Confidence.LOW, warning)


def _participant_choices(picks: dict[str, Pick]) -> tuple[Choice, ...]:
    out: list[Choice] = []
    if "participant_name" in picks:
        pick = picks["participant_name"]
        out.append(Choice("name", _ref(pick.column), pick.confidence, pick.reason))
    else:
        names = [
            picks[k] for k in ("participant_first_name", "participant_last_name") if k in picks
        ]
        if names:
            joined = _joined(names)
            value = " ".join(_ref(p.column) for p in names)
            out.append(Choice("name", value, joined.confidence, joined.reason))
    for key in ("email", "phone", "contact_id", "contact_external_id"):
        found = picks.get(f"participant_{key}") or picks.get(key)
        if found is not None:
            out.append(Choice(key, _ref(found.column), found.confidence, found.reason))
    return tuple(out)


def _checks(picks: dict[str, Pick]) -> tuple[ColumnCheck, ...]:
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
        if key in picks:
            checks.setdefault(picks[key].column, ColumnCheck(picks[key].column, required=True))
    typed = {
        "participant_email": ColumnType.EMAIL,
        "participant_phone": ColumnType.PHONE,
        "time_zone": ColumnType.TIMEZONE,
    }
    for key, kind in typed.items():
        if key in picks:
            column = picks[key].column
            checks.setdefault(column, ColumnCheck(column, type=kind))
    return tuple(checks.values())


def _time_zone(frame: pd.DataFrame, picks: dict[str, Pick], given: str | None) -> Setting:
    if given is not None:
        problem = zone_problem(given)
        if problem:
            raise MappingError(f"the time zone {given!r} {problem}")
        return Setting(
            given, Confidence.CHOSEN, "chosen by you: for rows without a zone of their own"
        )
    if "time_zone" not in picks:
        return Setting(
            ZONE_PLACEHOLDER,
            Confidence.LOW,
            "no column holds time zones: set the zone the appointments are in (an IANA name "
            "like America/New_York); appointment times mean nothing without one",
            placeholder=True,
        )
    column = picks["time_zone"].column
    cells = frame[column].fillna("").astype("str").str.strip()
    blank = cells == ""
    if not blank.any():
        return Setting(None, Confidence.HIGH, f"every row has its zone in {column!r}")
    rows = ", ".join(str(r) for r in cells.index[blank][:5])
    more = " and more" if int(blank.sum()) > 5 else ""
    return Setting(
        None,
        Confidence.MEDIUM,
        f"{int(blank.sum())} rows leave {column!r} blank (rows {rows}{more}): they will be "
        "refused until you set time_zone here to the zone of those rows (like America/New_York)",
    )


def _phone_region(frame: pd.DataFrame, picks: dict[str, Pick], region: str) -> Setting:
    reason = f"numbers written without +country are read as {region} numbers"
    if "participant_phone" in picks:
        cells = frame[picks["participant_phone"].column].dropna().astype("str")
        if len(cells):
            e164, _ = normalise_phones(cells, region)
            valid = int(e164.notna().sum())
            reason += f"; {valid} of {len(cells)} numbers are valid that way"
            if valid < 0.5 * len(cells):
                return Setting(region, Confidence.LOW, reason + ": is the country right?")
    return Setting(region, Confidence.MEDIUM, reason)


def _date_values(frame: pd.DataFrame, picks: dict[str, Pick]) -> pd.Series:
    parts = [frame[picks[k].column] for k in ("start_date", "end_date") if k in picks]
    parts += [
        _split(frame[picks[k].column])[0] for k in ("start_datetime", "end_datetime") if k in picks
    ]
    return _stacked(parts)


def _time_values(frame: pd.DataFrame, picks: dict[str, Pick]) -> pd.Series:
    parts = [frame[picks[k].column] for k in ("start_time", "end_time") if k in picks]
    parts += [
        _split(frame[picks[k].column])[1] for k in ("start_datetime", "end_datetime") if k in picks
    ]
    return _stacked(parts)


def _stacked(parts: list[pd.Series]) -> pd.Series:
    if not parts:
        return pd.Series([], dtype="str")
    return pd.concat([p.astype("str") for p in parts])
