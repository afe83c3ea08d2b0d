"""The column-matching step: each Apptoto field with a drop-down of the sheet's columns.

The assistant (:func:`importer.assist.propose_mapping`) fills the drop-downs in and says how sure
it is; the person changes what is wrong, answers what the values cannot tell (the day/month order
of dates, a 24-hour clock, the time zone), previews the first rows as events and saves the result
as a named mapping. Nothing is guessed for them: until every such question has an answer the
mapping cannot be saved, and the page says what is still open.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping as AbstractMapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from importer.assist import (
    FIELD_KEYS,
    Confidence,
    FormatGuess,
    Proposal,
    proposal_from_choices,
    spec,
)
from importer.assist.event import choice_texts
from importer.assist.sheet_values import (
    is_sheet_value,
    shown_column,
    with_heading_date,
    with_headings,
    with_sheet_date,
)
from importer.errors import MappingError
from importer.load import load_table, sheets_like, strip_report_columns
from importer.values import apply_filter, countries, format_in_words, zone_problem
from importer.web.choosing import MappingKnowledge
from importer.web.uploads import Upload

MAX_NAME_CHARACTERS = 80
EXAMPLE_CHARACTERS = 28
ZONE_FIELD = "default_time_zone"  # the zone of rows without one ("time_zone" is a drop-down)
COUNTRY_FIELD = "phone_country"  # the country of phone numbers written without +country
# The drop-downs in three groups, in the order a person reads an appointment.
FIELD_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "The appointment",
        ("external_id", "calendar", "calendar_id", "title", "location", "content", "show_as"),
    ),
    (
        "When",
        ("start_date", "start_time", "start_datetime", "end_date", "end_time", "end_datetime")
        + ("duration_minutes", "all_day", "time_zone"),
    ),
    (
        "Who",
        ("participant_name", "participant_first_name", "participant_last_name")
        + ("participant_email", "participant_phone", "participant_other_phone")
        + ("contact_id", "contact_external_id"),
    ),
)
FIELD_HINTS = {
    "external_id": "Each appointment's own number: a second import then updates, never doubles.",
    "calendar": "Whose calendar the appointment goes to.",
    "start_datetime": "Only when the date and the time are in one cell.",
    "end_datetime": "Only when the end's date and time are in one cell.",
    "duration_minutes": "Instead of an end time.",
    "time_zone": "Only when the sheet has a column of zones like America/New_York.",
    "participant_other_phone": "Sent only where the first phone is blank or not a number.",
    "contact_id": "Only for appointments of contacts already in Apptoto.",
    "contact_external_id": "Only for appointments of contacts already in Apptoto.",
}
CONFIDENCE_WORDS = {
    Confidence.HIGH: "high",
    Confidence.MEDIUM: "medium",
    Confidence.LOW: "low",
    Confidence.CHOSEN: "your choice",
}


@dataclass
class Matching:
    """The matching step of one upload: the sheet, the assistant's proposal, the choices so far."""

    sheet: str | None  # the workbook's sheet read; None for CSV
    sheets: list[str]  # every sheet of a workbook ([] for CSV), to choose another
    frame: pd.DataFrame = field(repr=False)  # text cells, index = spreadsheet rows
    assistant: Proposal = field(repr=False)  # what the assistant proposed: confidences, reasons
    choices: dict[str, str]  # field key -> column ("" or absent: not used)
    name: str  # the mapping's name; its file name is a slug of it
    date_format: str = ""  # the day/month order chosen when the values cannot tell
    time_format: str = ""  # "%H:%M" when the person says the clock is a 24-hour one
    time_zone: str = ""  # IANA zone of rows without one
    phone_region: str = ""  # country of numbers without +country; "": the time zone's
    replace: str = ""  # the mapping file the person agreed to overwrite (ticked for that file)
    second_mapping: bool = False  # the person agreed to save beside saved mappings that fit
    saved_fits: list[MappingKnowledge] | None = None  # saved mappings that fit, once looked for
    messages: list[str] = field(default_factory=list)  # what the last form did wrong
    header_row: int = 1  # the spreadsheet row read as the column names (found, or chosen)
    # the sheets with this sheet's columns (a sheet per day), this one included; [] for one
    alike: list[str] = field(default_factory=list)
    # the sheet's title, name and the file's name (importer.load.Sheet.own_values)
    values: dict[str, str] = field(default_factory=dict)


def default_name(file_name: str) -> str:
    """``"appointments_export.xlsx"`` -> ``"Appointments export"``."""
    words = re.sub(r"[\s_.\-]+", " ", Path(file_name).stem).strip()
    return (words[:1].upper() + words[1:])[:MAX_NAME_CHARACTERS] or "My appointments"


def usable_columns(frame: pd.DataFrame) -> list[str]:
    """The columns a mapping can name: a header with a brace cannot be a {Column}."""
    return [str(c) for c in frame.columns if "{" not in str(c) and "}" not in str(c)]


def start_matching(
    upload: Upload, sheet: str | None, sheets: list[str], name: str, header_row: int | None = None
) -> Matching:
    """Read ``sheet`` of the upload (its column names on ``header_row``, else where they are
    found) and let the assistant propose; LoadError when unreadable."""
    from importer.assist import propose_mapping

    loaded = load_table(upload.path, sheet=sheet, header_row=header_row)
    frame, _ = strip_report_columns(loaded.appointments)
    # Where no column holds dates, the sheet's title (or name) may: offered as a column.
    values = loaded.own_values(upload.file_name)
    frame = with_heading_date(with_headings(with_sheet_date(frame, values), loaded.headings))
    proposal = propose_mapping(
        frame,
        name=name,
        sheet=loaded.sheet_name,
        source=upload.file_name,
        sheet_values=values,
    )
    return Matching(
        sheet=loaded.sheet_name,
        sheets=sheets,
        frame=frame,
        assistant=proposal,
        choices=proposal.columns_by_field(),
        name=name,
        header_row=loaded.header_row,
        alike=sheets_like(upload.path, loaded) if len(sheets) > 1 else [],
        values=values,
    )


def read_choices(matching: Matching, form: AbstractMapping[str, object]) -> None:
    """Take the form's drop-downs, answers and name into ``matching`` (checked when used)."""
    matching.choices = {key: str(form.get(key) or "") for key in FIELD_KEYS}
    matching.choices = {k: v for k, v in matching.choices.items() if v}
    name = re.sub(r"[\x00-\x1f\x7f]", "", str(form.get("name") or "")).strip()
    matching.name = name[:MAX_NAME_CHARACTERS]
    matching.date_format = str(form.get("date_format") or "")
    matching.time_format = str(form.get("time_format") or "")
    matching.time_zone = str(form.get(ZONE_FIELD) or "").strip()
    country = str(form.get(COUNTRY_FIELD) or "").strip().upper()
    matching.phone_region = country if country in dict(countries()) else ""
    matching.replace = str(form.get("replace") or "")
    matching.second_mapping = form.get("second_mapping") == "yes"


@dataclass(frozen=True)
class Choices:
    """What the person's choices make: the proposal as guessed and with their answers."""

    guessed: Proposal | None  # None: the choices do not fit together (see problems)
    answered: Proposal | None  # with the day/month order and the clock the person chose
    problems: list[str]  # choices that rule each other out, an unknown zone, ...


def current_proposal(matching: Matching) -> Choices:
    """The mapping the choices make, with the answers applied, or what is wrong with them."""

    problems = []
    zone = matching.time_zone or None
    if zone is not None and zone_problem(zone):
        problems.append(f"The time zone {zone!r} {zone_problem(zone)}.")
        zone = None
    try:
        proposal = proposal_from_choices(
            matching.frame,
            matching.choices,
            name=matching.name or "mapping",
            sheet=matching.sheet,
            source=matching.assistant.source,
            time_zone=zone,
            phone_region=matching.phone_region or None,
            sheet_values=matching.values,
        )
    except MappingError as exc:
        return Choices(None, None, problems + [_sentence(p) for p in exc.problems or [str(exc)]])
    # Sheets with these columns (a sheet per day) are read together, as init proposes.
    proposal = dataclasses.replace(
        proposal, header_row=matching.header_row, sheets=tuple(matching.alike)
    )
    return Choices(proposal, _answered(proposal, matching), problems)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _answered(proposal: Proposal, matching: Matching) -> Proposal:
    """The proposal with the person's answers to the format questions it refused to guess."""

    def answered(guess: FormatGuess, answer: str) -> FormatGuess:
        if not guess.refused or answer not in guess.choices:
            return guess
        reason = f"chosen by you, as {format_in_words(answer)}; {guess.reason}"
        return FormatGuess(answer, Confidence.CHOSEN, reason, share=guess.share)

    return dataclasses.replace(
        proposal,
        date_format=answered(proposal.date_format, matching.date_format),
        time_format=answered(proposal.time_format, matching.time_format),
    )


@dataclass(frozen=True)
class OpenQuestion:
    """Something the person must still choose, and the control where they choose it."""

    text: str  # plain words
    control: str  # the id of the control on the page

    def __str__(self) -> str:
        return self.text


def open_questions(proposal: Proposal) -> list[OpenQuestion]:
    """What the person must still choose before the mapping can be saved, in plain words.

    In the page's order: columns first, then the formats, then the time zone.
    """
    wanted = []
    for choice in proposal.event:
        if not any("{CHOOSE" in t for t in choice_texts(choice)):
            continue
        if choice.key == "start":
            text = (
                f"The column of dates: {spec('start_date').label}, or "
                f"{spec('start_datetime').label}."
            )
            wanted.append(OpenQuestion(text, "field-start_date"))
        elif choice.key == "external_id":
            text = (
                f"The {spec('external_id').label} column, or the columns that tell appointments "
                "apart (date, time, calendar, participant)."
            )
            wanted.append(OpenQuestion(text, "field-external_id"))
        else:
            wanted.append(OpenQuestion(f"{choice.key}: {choice.reason}", f"field-{choice.key}"))
    if proposal.date_format.refused:
        text = "How the dates are written: the values cannot tell day from month."
        wanted.append(OpenQuestion(text, "date_format-1"))
    if proposal.time_format.refused:
        wanted.append(OpenQuestion("Whether the times use a 24-hour clock.", "time_format-1"))
    if proposal.time_zone.placeholder:
        text = "The time zone of the appointments: no column holds one."
        wanted.append(OpenQuestion(text, "default-time-zone"))
    return wanted


@dataclass(frozen=True)
class ColumnOption:
    """A column of the sheet as a drop-down offers it."""

    name: str  # the form's value
    label: str  # the name with an example value


@dataclass(frozen=True)
class FieldRow:
    """One Apptoto field: its drop-down and what the assistant thinks of the choice."""

    key: str  # the form field's name
    label: str
    hint: str
    chosen: str  # the column selected; "" for not used
    confidence: str  # high, medium, low, chosen, or "" (nothing to say)
    confidence_words: str
    reason: str


@dataclass(frozen=True)
class Question:
    """A choice the values could not make: the day/month order, or a 24-hour clock."""

    name: str  # the form field: date_format or time_format
    legend: str
    reason: str
    options: tuple[tuple[str, str], ...]  # (value, label)
    chosen: str


def column_options(matching: Matching) -> list[ColumnOption]:
    """Each usable column with its first value as an example: ``Appt Date (12/14/2026)``."""
    options = []
    for column in usable_columns(matching.frame):
        if is_sheet_value(column) and "|" not in column and column != "@heading":
            continue  # the title itself: what its date is read from
        cells = matching.frame[column].dropna().astype("str").str.strip()
        cells = cells[cells != ""]
        example = str(cells.iloc[0]) if len(cells) else ""
        if len(example) > EXAMPLE_CHARACTERS:
            example = example[: EXAMPLE_CHARACTERS - 1] + "…"
        shown = shown_column(column)
        options.append(ColumnOption(column, f"{shown} ({example})" if example else shown))
    # A column the assistant reads through a filter: its names of zones (EST, Windows' Eastern
    # Standard Time) as their zones.
    for choice in dict.fromkeys(pick.column for pick in matching.assistant.picks.values()):
        column, _, name = choice.partition("|")
        if name == "zone" and column in matching.frame.columns:
            cells = apply_filter(matching.frame[column].fillna("").astype("str").str.strip(), name)
            example = next((c for c in cells if c), "")
            options.append(ColumnOption(choice, f"{column}, names read as zones ({example})"))
    return options


def field_groups(matching: Matching) -> list[tuple[str, list[FieldRow]]]:
    """The drop-downs by group, each with the assistant's confidence in its choice."""
    picks = matching.assistant.picks
    groups = []
    for title, keys in FIELD_GROUPS:
        rows = []
        for key in keys:
            chosen = matching.choices.get(key, "")
            pick = picks.get(key)
            if pick is not None and chosen == pick.column:
                confidence, reason = pick.confidence, pick.reason
            elif chosen:
                confidence = Confidence.CHOSEN
                reason = f"the assistant suggested {pick.column!r}" if pick else ""
            else:
                confidence = None
                reason = f"not used; the assistant suggested {pick.column!r}" if pick else ""
            rows.append(
                FieldRow(
                    key=key,
                    label=spec(key).label,
                    hint=FIELD_HINTS.get(key, ""),
                    chosen=chosen,
                    confidence=confidence.value if confidence else "",
                    confidence_words=CONFIDENCE_WORDS[confidence] if confidence else "",
                    reason=reason,
                )
            )
        groups.append((title, rows))
    return groups


def _date_order(fmt: str) -> str:
    return f"{format_in_words(fmt)}: " + (
        "month first" if fmt.index("%m") < fmt.index("%d") else "day first"
    )


def _clock(fmt: str) -> str:
    return f"The times use a 24-hour clock, as {format_in_words(fmt)}"


def questions(guessed: Proposal, matching: Matching) -> list[Question]:
    """The format questions the values could not answer (none when every guess was sure).

    ``guessed`` is the proposal before the answers (:attr:`Choices.guessed`).
    """
    asked = [
        ("date_format", "How are the dates written?", guessed.date_format, _date_order),
        ("time_format", "Which clock do the times use?", guessed.time_format, _clock),
    ]
    return [
        Question(
            key,
            title,
            _sentence(guess.reason),
            tuple((fmt, words(fmt)) for fmt in guess.choices),
            answer if (answer := getattr(matching, key)) in guess.choices else "",
        )
        for key, title, guess, words in asked
        if guess.refused
    ]


def known_formats(proposal: Proposal) -> list[tuple[str, str, str]]:
    """The formats the values settled, for the columns chosen: (what, confidence, reason)."""
    chosen = set(proposal.picks)
    lines = []
    for what, guess, keys, iso in (
        ("Dates", proposal.date_format, _DATE_KEYS, "ISO, like 2026-12-31"),
        ("Times", proposal.time_format, _TIME_KEYS, "24-hour, like 14:30"),
    ):
        if guess.refused or guess.confidence is Confidence.CHOSEN or not chosen & keys:
            continue
        shown = format_in_words(guess.format) if guess.format else iso
        lines.append((f"{what}: {shown}", CONFIDENCE_WORDS[guess.confidence], guess.reason))
    return lines


_DATE_KEYS = {"start_date", "end_date", "start_datetime", "end_datetime"}
_TIME_KEYS = {"start_time", "end_time", "start_datetime", "end_datetime"}


def zone_question(matching: Matching) -> tuple[bool, bool, str]:
    """(shown, required, why) for the time zone drop-down."""
    column = matching.choices.get("time_zone", "")
    if column not in matching.frame.columns:
        return True, True, "No column holds time zones, and times mean nothing without one."
    cells = matching.frame[column].fillna("").astype("str").str.strip()
    blank = int((cells == "").sum())
    if blank:
        rows = "1 row leaves" if blank == 1 else f"{blank} rows leave"
        return True, False, f"{rows} {column!r} blank: choose the zone of those rows."
    return bool(matching.time_zone), False, f"Every row has its zone in {column!r}."
