"""A proposed mapping (:class:`Proposal`), and its mapping file with the reasons as comments.

Written as text, not with a YAML library, because PyYAML drops comments, and the comments are
what a person checks: each key has its confidence and reason above it. Values are written as
JSON strings, which are valid YAML double-quoted scalars, so any column name is safe.
"""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass, field

from importer.assist.cancelled import CancelledGuess
from importer.assist.columns import (
    Pick,
)
from importer.assist.event import (
    Choice,
)
from importer.assist.fields import FIELD_KEYS, spec
from importer.assist.formats import Confidence, FormatGuess
from importer.assist.sheet_values import named_by_day, shown_column
from importer.mapping import ColumnCheck, ColumnType, Mapping, parse_mapping
from importer.mapping.yaml_text import read_yaml
from importer.values import format_in_words

ZONE_PLACEHOLDER = "CHOOSE a time zone like America/New_York"


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
    id_source: str  # the mapping's ``source``: named after the id's columns, not the file's
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
    header_row: int | None = None  # the row of the column names, when not the first row
    sheets: tuple[str, ...] = ()  # several sheets with these columns, read in one run
    cancelled: CancelledGuess | None = None  # a status column marking visits not going ahead
    calendars: tuple[str, ...] = ()  # the only calendars rows may name (from provider headings)
    # A location column and its few places, when no column gives zones: time_zones, commented
    places: tuple[str, tuple[str, ...]] | None = None

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
        return render_proposal(self)

    def to_mapping(self) -> Mapping:
        """The proposal parsed as a mapping; MappingError while it still needs a choice."""
        file = f"{self.name}.yaml"
        return parse_mapping(read_yaml(self.to_yaml(), file=file), file=file)

    def summary(self) -> list[str]:
        """Short lines for people: what matched, what is unused, what needs a choice."""
        lines = [
            f"{shown_column(self.picks[key].column)} -> {spec(key).label} "
            f"({self.picks[key].confidence})"
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
        if self.cancelled is not None and self.cancelled.values:
            shown = ", ".join(repr(v) for v in self.cancelled.values)
            lines.append(f"{self.cancelled.column}: rows marked {shown} are not sent (medium)")
        if self.unmatched:
            lines.append(f"not used (offered as custom_data): {', '.join(self.unmatched)}")
        lines += [f"note: {n}" for n in self.notes]
        lines += [f"NEEDS YOUR CHOICE: {n}" for n in self.needs_choice]
        return lines


def _is_placeholder(value: str | dict[str, str] | tuple[str, ...]) -> bool:
    texts = (
        value.values() if isinstance(value, dict) else [value] if isinstance(value, str) else value
    )
    return any("{CHOOSE" in t for t in texts)


WIDTH = 100
_SHOW_AS_HELP = "free, tentative, busy, out_of_office, working_elsewhere, or a {Column}"


# What YAML reads as a line break (which would end a comment) or refuses as unprintable: every
# control character, DEL and the C1 controls (U+0085 among them), U+2028/U+2029, the BOM,
# surrogates and U+FFFE/U+FFFF. Headers come from the spreadsheet, so they may hold any of them.
_NOT_PLAIN_TEXT = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]")


def _escaped(text: str) -> str:
    """``text`` with each character YAML would not keep on one line as a ``\\uXXXX`` escape."""
    return _NOT_PLAIN_TEXT.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def _quoted(text: str) -> str:
    """A double-quoted YAML scalar of ``text`` that always stays on its line."""
    return _escaped(json.dumps(text, ensure_ascii=False))


def _cancelled(guess: CancelledGuess) -> list[str]:
    """The ``cancelled`` section: active when the column holds values that mark a row."""
    confidence = "medium" if guess.values else "low"
    lines = _comment(f"cancelled ({confidence}): {guess.reason}", 0)
    values = ", ".join(_quoted(v) for v in guess.values) or _quoted("Cancelled")
    line = f"cancelled: {{column: {_quoted(guess.column)}, values: [{values}]}}"
    return lines + [line if guess.values else f"# {line}"]


def _time_zones(column: str, names: tuple[str, ...], default: str | None) -> list[str]:
    """The ``time_zones`` section, commented out: each place with the default zone, for the
    person to correct where a place is in another zone."""
    lines = _comment(
        f"time_zones (low): the rows come from {len(names)} places in {column!r}, each read in "
        "defaults.time_zone. If one is in another zone, write each place's zone below "
        "(like America/Denver) and remove the # of these lines",
        0,
    )
    zone = default or "America/New_York"
    body = ["time_zones:", f"  column: {_quoted(column)}", "  values:"]
    body += [f"    {_quoted(name)}: {_quoted(zone)}" for name in names]
    return lines + [f"# {line}" for line in body]


def _comment(text: str, indent: int) -> list[str]:
    """``text`` as comment lines at ``indent`` spaces, wrapped to the file's width."""
    prefix = " " * indent + "# "
    one_line = _escaped(re.sub(r"\s+", " ", text).strip())
    return textwrap.wrap(one_line, WIDTH, initial_indent=prefix, subsequent_indent=prefix) or [
        prefix.rstrip()
    ]


def _value(value: str | dict[str, str] | tuple[str, ...]) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_quoted(v)}" for k, v in value.items()) + "}"
    if isinstance(value, tuple):
        return "[" + ", ".join(_quoted(v) for v in value) + "]"
    if value in ("true", "false"):
        return value
    return _quoted(value)


def _choice(choice: Choice, indent: int, lead: str = "") -> list[str]:
    head = f"{choice.key} ({choice.confidence}): {choice.reason}"
    return [*_comment(head, indent), " " * indent + f"{lead}{choice.key}: {_value(choice.value)}"]


def _setting(key: str, setting: Setting, example: str) -> list[str]:
    lines = _comment(f"{key} ({setting.confidence}): {setting.reason}", 2)
    if setting.placeholder:
        lines += _comment("the line below is refused until you replace it", 2)
    if setting.value is None:
        return [*lines, f"  # {key}: {example}"]
    return [*lines, f"  {key}: {_quoted(setting.value)}"]


def _format(key: str, guess: FormatGuess) -> list[str]:
    if guess.refused:
        lines = _comment(f"{key} REFUSED: {guess.reason}. Replace the line below with one of:", 2)
        lines += [f"  #   {key}: {_quoted(f)}   # {format_in_words(f)}" for f in guess.choices]
        choose = " or ".join(guess.choices)
        return [*lines, f"  {key}: {_quoted(f'CHOOSE {choose}')}"]
    lines = _comment(f"{key} ({guess.confidence}): {guess.reason}", 2)
    if guess.format is None:
        return [*lines, f"  # {key}: none needed"]
    return [*lines, f"  {key}: {_quoted(guess.format)}"]


def _check(check: ColumnCheck) -> str:
    parts = []
    if check.required:
        parts.append("required: true")
    if check.unique:
        parts.append("unique: true")
    if check.type is not ColumnType.TEXT:
        parts.append(f"type: {check.type.value}")
    return f"  {_quoted(check.name)}: {{{', '.join(parts)}}}"


def _custom_key(column: str, taken: set[str]) -> str:
    key = re.sub(r"[^0-9a-z]+", "_", column.lower()).strip("_") or "column"
    if key[0].isdigit():
        key = f"c_{key}"
    unique, n = key, 1
    while unique in taken:
        n += 1
        unique = f"{key}_{n}"
    taken.add(unique)
    return unique


def render_proposal(proposal: Proposal) -> str:
    """The mapping file's text for ``proposal`` (UTF-8, ends with a newline)."""
    source = proposal.source or "the sheet"
    lines = _comment(
        f"Mapping for {source}, proposed by the mapping assistant (`apptoto-import init` or "
        f"the web page's column matching) from its headers and {proposal.rows} rows. Every "
        "choice has a comment: its confidence (high: the header and "
        "the values agree; medium: one of them, or the values only mostly; low: a guess; "
        "chosen: yours) and why it was made. Check the medium and low ones, then try it: "
        f"apptoto-import validate {proposal.source or 'FILE'} -m THIS_FILE",
        0,
    )
    if proposal.needs_choice:
        lines += _comment(
            "BEFORE USE: replace every value starting with CHOOSE (the reason is above it); "
            "until then the importer refuses this file.",
            0,
        )
    lines.append(f"name: {_quoted(proposal.name)}")
    lines += _comment(
        "source: where the appointments come from, named after the column(s) of their id. It "
        "starts every event's id and the importer remembers the events it sent under it: keep "
        "it when you rename this mapping, and give another mapping for the same export the same "
        "source, so both update the same events. Change it only for another system's export",
        0,
    )
    lines.append(f"source: {_quoted(proposal.id_source)}")
    listed = "[" + ", ".join(_quoted(s) for s in proposal.sheets) + "]"
    if len(proposal.sheets) > 1 and named_by_day(proposal.sheets):
        lines += _comment(
            f"these sheets have the same columns and are named by their days ({listed}): each "
            "run reads every sheet with these columns, whatever its name, so next week's sheets "
            f"too (or list the sheets to read: sheets: {listed})",
            0,
        )
        lines.append("sheets: all")
    elif len(proposal.sheets) > 1:
        lines += _comment(
            "these sheets have the same columns; each run reads them all (or write: sheets: all)",
            0,
        )
        lines.append(f"sheets: {listed}")
    elif proposal.sheet is not None:
        lines.append(f"sheet: {_quoted(proposal.sheet)}")
    if proposal.header_row is not None and proposal.header_row > 1:
        lines += _comment(
            f"the column names are on row {proposal.header_row}; the rows above (a title) are "
            "not read",
            0,
        )
        lines.append(f"header_row: {proposal.header_row}")
    lines.append("defaults:")
    lines += _setting("time_zone", proposal.time_zone, "America/New_York")
    lines += _setting("phone_region", proposal.phone_region, "US")
    lines += _format("date_format", proposal.date_format)
    lines += _format("time_format", proposal.time_format)
    lines += _comment(
        "dst: a local time that happens twice (the night clocks go back) makes the row invalid; "
        "earlier or later picks one of the two",
        2,
    )
    lines.append("  dst: reject")
    if proposal.cancelled is not None:
        lines += _cancelled(proposal.cancelled)
    if proposal.places is not None:
        lines += _time_zones(*proposal.places, proposal.time_zone.value)
    if proposal.calendars:
        lines += _comment(
            "calendars (medium): the providers named by the headings above the rows; a row "
            "below any other heading (a note inside the table would become a calendar nobody "
            "set up) is invalid. Add a new provider here",
            0,
        )
        lines.append(f"calendars: [{', '.join(_quoted(c) for c in proposal.calendars)}]")
    if proposal.checks:
        lines.append("columns:")
        lines += _comment(
            "checks on the columns: every failure of every row is listed before anything is sent",
            2,
        )
        lines += [_check(c) for c in proposal.checks]
    lines.append("event:")
    for choice in proposal.event:
        lines += _choice(choice, 2)
    keys = {c.key for c in proposal.event}
    lines += _comment(
        'auto_messages: true adds "#auto" to the content, which asks Apptoto to send the '
        "account's auto messages for the event; it is needed only when Auto Messages are off "
        "for the account, and is never added twice",
        2,
    )
    lines.append("  auto_messages: false")
    if "show_as" not in keys:
        lines += _comment(f"how the time shows in the calendar: {_SHOW_AS_HELP}", 2)
        lines.append("  # show_as: busy")
    if proposal.participant:
        lines.append("  participants:")
        first, *rest = proposal.participant
        lines += _choice(first, 4, lead="- ")
        for choice in rest:
            lines += _choice(choice, 6)
    if proposal.unmatched:
        lines += _comment(
            f"Columns not used: {', '.join(proposal.unmatched)}. Apptoto receives none of them. "
            "To send one as custom data (for message templates and conditions), remove the # in "
            "front of 'custom_data:' and of its line:",
            2,
        )
        lines.append("  # custom_data:")
        taken: set[str] = set()
        for column in proposal.unmatched:
            lines.append(f"  #   {_custom_key(column, taken)}: {_quoted('{' + column + '}')}")
    return "\n".join(lines) + "\n"
