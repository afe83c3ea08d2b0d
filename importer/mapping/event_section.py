"""The ``event`` section of a mapping file: the Apptoto event each row becomes, with participants.

Read by :func:`importer.mapping.parse.parse_mapping`; mistakes are collected in its
:class:`~importer.mapping.problems.Problems`.
"""

from __future__ import annotations

from typing import Any

from importer.mapping.model import SHOW_AS, EventTemplate, ParticipantTemplate, Template, When
from importer.mapping.problems import Problems, read_bool, read_section, read_template

_EVENT_KEYS = {
    "calendar",
    "calendar_id",
    "external_id",
    "title",
    "start",
    "end",
    "duration_minutes",
    "time_zone",
    "location",
    "content",
    "auto_messages",
    "all_day",
    "show_as",
    "custom_data",
    "participants",
}


_WHEN_KEYS = {"date", "time", "datetime"}


_PARTICIPANT_KEYS = {"name", "email", "phone", "contact_id", "contact_external_id"}


def parse_event(raw: Any, problems: Problems) -> EventTemplate | None:
    """The ``event`` section; None when its required parts have mistakes.

    The plain templates (title, location, ...) are read only once the required parts are sound,
    so their mistakes are reported on the next try, after the structural ones are fixed.
    """
    ev = read_section(raw, "event", problems)
    problems.unknown_keys("event", ev, _EVENT_KEYS)
    external_id = read_template(ev.get("external_id"), "event.external_id", problems)
    if ev.get("external_id") is None:
        problems.add(
            "event.external_id is required: it makes every re-send an update instead of a duplicate"
        )
    if "calendar" not in ev and "calendar_id" not in ev:
        problems.add("event: needs calendar (a name) or calendar_id")
    if "calendar" in ev and "calendar_id" in ev:
        problems.add("event: give calendar or calendar_id, not both")
    if ev.get("title") is None:  # the seed: title is required for a new event
        problems.add(
            "event.title is required: Apptoto refuses to create an event without a title "
            '(e.g. title: "{Service} with {Provider}")'
        )
    start = _when(ev.get("start"), "event.start", problems)
    if ev.get("start") is None:
        problems.add("event.start is required")
    end = _when(ev.get("end"), "event.end", problems, date_optional=True)
    if "end" in ev and "duration_minutes" in ev:
        problems.add("event: give end or duration_minutes, not both")
    all_day = _all_day(ev.get("all_day", False), problems)
    if not all_day and end is None and "duration_minutes" not in ev:
        problems.add("event: needs end or duration_minutes (or all_day: true)")
    show_as = _show_as(ev.get("show_as"), problems)
    custom = _custom_data(ev.get("custom_data"), problems)
    participants = _participants(ev.get("participants"), problems)

    if problems.items:
        return None
    assert external_id is not None and start is not None  # guaranteed by the checks above
    return EventTemplate(
        external_id=external_id,
        start=start,
        calendar=read_template(ev.get("calendar"), "event.calendar", problems),
        calendar_id=read_template(ev.get("calendar_id"), "event.calendar_id", problems),
        title=read_template(ev.get("title"), "event.title", problems),
        end=end,
        duration_minutes=read_template(
            ev.get("duration_minutes"), "event.duration_minutes", problems
        ),
        time_zone=read_template(ev.get("time_zone"), "event.time_zone", problems),
        location=read_template(ev.get("location"), "event.location", problems),
        content=read_template(ev.get("content"), "event.content", problems),
        auto_messages=read_bool(ev.get("auto_messages", False), "event.auto_messages", problems),
        all_day=all_day,
        show_as=show_as,
        custom_data=custom,
        participants=participants,
    )


def _all_day(raw: Any, problems: Problems) -> bool | Template:
    """``event.all_day``: true/false, or a template whose cell says it per row."""
    if isinstance(raw, bool):
        return raw
    return read_template(raw, "event.all_day", problems) or False


def _show_as(raw: Any, problems: Problems) -> Template | None:
    """``event.show_as``: a literal must be one of Apptoto's values; a {Column} is read per row."""
    show_as = read_template(raw, "event.show_as", problems)
    if show_as is not None and show_as.is_literal:
        if show_as.literal_text().strip().lower() not in SHOW_AS:
            problems.add(
                f"event.show_as: {show_as.source!r} must be one of {', '.join(SHOW_AS)} "
                "or a {Column}"
            )
    return show_as


def _custom_data(raw: Any, problems: Problems) -> tuple[tuple[str, Template], ...]:
    """``event.custom_data``: key -> template pairs, in the file's order."""
    custom: list[tuple[str, Template]] = []
    for key, value in read_section(raw, "event.custom_data", problems).items():
        tpl = read_template(value, f"event.custom_data.{key}", problems)
        if tpl is not None:
            custom.append((str(key), tpl))
    return tuple(custom)


def _participants(raw: Any, problems: Problems) -> tuple[ParticipantTemplate, ...]:
    """``event.participants``: a list (or a single section) of participants."""
    raw_participants = raw or []
    if isinstance(raw_participants, dict):
        raw_participants = [raw_participants]
    if not isinstance(raw_participants, list):
        problems.add("event.participants: expected a list of participants")
        raw_participants = []
    return tuple(
        _participant(raw_p, f"event.participants[{i}]", problems)
        for i, raw_p in enumerate(raw_participants, start=1)
    )


def _participant(raw: Any, where: str, problems: Problems) -> ParticipantTemplate:
    """One participant: either a contact (id or external id) or name/email/phone."""
    p = read_section(raw, where, problems)
    problems.unknown_keys(where, p, _PARTICIPANT_KEYS)
    single = _PARTICIPANT_KEYS - {"phone"}
    phones = _phones(p.get("phone"), f"{where}.phone", problems)
    participant = ParticipantTemplate(
        **{key: read_template(p.get(key), f"{where}.{key}", problems) for key in single},
        phone=phones[0] if phones else None,
        other_phones=phones[1:],
    )
    has_contact = participant.contact_id is not None or participant.contact_external_id is not None
    has_details = any(getattr(participant, k) is not None for k in ("name", "email", "phone"))
    if has_contact and has_details:
        problems.add(
            f"{where}: a participant is either a contact (contact_id or contact_external_id) "
            "or name/email/phone, not both (Apptoto's rule)"
        )
    return participant


def _phones(raw: Any, where: str, problems: Problems) -> tuple[Template, ...]:
    """``phone``: one template, or a list of them in order of preference (mobile first)."""
    if not isinstance(raw, list):
        one = read_template(raw, where, problems)
        return (one,) if one is not None else ()
    if not raw:
        problems.add(f'{where}: the list of phone columns is empty; write "{{Mobile}}" or a list')
    found = [
        read_template(value, f"{where}[{i}]", problems) for i, value in enumerate(raw, start=1)
    ]
    return tuple(t for t in found if t is not None)


def _when(raw: Any, where: str, problems: Problems, *, date_optional: bool = False) -> When | None:
    """Parse start/end; an end may give only a time (the start's date is used)."""
    if raw is None:
        return None
    if isinstance(raw, str):
        return When(datetime=read_template(raw, where, problems))
    section = read_section(raw, where, problems)
    problems.unknown_keys(where, section, _WHEN_KEYS)
    when = When(
        date=read_template(section.get("date"), f"{where}.date", problems),
        time=read_template(section.get("time"), f"{where}.time", problems),
        datetime=read_template(section.get("datetime"), f"{where}.datetime", problems),
    )
    if when.datetime is not None and (when.date is not None or when.time is not None):
        problems.add(f"{where}: give either datetime, or date (and time), not both")
    elif when.datetime is None and when.date is None and not (date_optional and when.time):
        problems.add(f"{where}: needs a date (and a time), or a datetime")
    return when
