"""IANA time zones: checking names and suggesting the close valid one."""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import importlib.resources
import re
import zoneinfo
from pathlib import Path

# Short names of the zones of North America and Britain, and the generic ones ("ET": Eastern)
# with the standard name they stand for; each name's family of zones.
GENERIC_SHORT_NAMES = {"ET": "EST", "CT": "CST", "MT": "MST", "PT": "PST", "AKT": "AKST"}
GENERIC_SHORT_NAMES |= {"HT": "HST"}
SHORT_NAME_FAMILIES = {"EST": "Eastern", "EDT": "Eastern", "ET": "Eastern", "CST": "Central"}
SHORT_NAME_FAMILIES |= {"CDT": "Central", "CT": "Central", "MST": "Mountain", "MDT": "Mountain"}
SHORT_NAME_FAMILIES |= {"MT": "Mountain", "PST": "Pacific", "PDT": "Pacific", "PT": "Pacific"}
SHORT_NAME_FAMILIES |= {"AKST": "Alaska", "AKDT": "Alaska", "AKT": "Alaska", "HST": "Hawaii"}
SHORT_NAME_FAMILIES |= {"HDT": "Hawaii", "HT": "Hawaii", "AST": "Atlantic", "ADT": "Atlantic"}
SHORT_NAME_FAMILIES |= {"NST": "Newfoundland", "NDT": "Newfoundland", "GMT": "UK winter"}
SHORT_NAME_FAMILIES |= {"BST": "UK summer", "UTC": "universal"}
# The zone each family of short names most often means, for the mapping assistant to propose
# (medium confidence: MST is also Arizona's, AST Puerto Rico's).
NAMED_ZONES = {
    "Eastern": "America/New_York",
    "Central": "America/Chicago",
    "Mountain": "America/Denver",
    "Pacific": "America/Los_Angeles",
    "Alaska": "America/Anchorage",
    "Hawaii": "Pacific/Honolulu",
    "Atlantic": "America/Halifax",
    "Newfoundland": "America/St_Johns",
    "UK winter": "Europe/London",
    "UK summer": "Europe/London",
}

# tzdata's zones named like a place's winter time but one offset all year round: staff who
# write EST mean New York's time, summer included, and tzdata's EST is UTC-05:00 in July too (an
# appointment an hour off); GMT is no British summer time, MST no Denver summer time (it is
# Arizona's). Not accepted as zones: each is refused with the zones to write instead.
ONE_OFFSET_ALL_YEAR = {
    "EST": (
        "is Eastern Standard Time all year round (UTC-05:00, no summer time), so a summer "
        "appointment would be an hour off: write America/New_York for the time of New York, "
        "Toronto or Miami (America/Panama for UTC-05:00 all year)"
    ),
    "MST": (
        "is Mountain Standard Time all year round (UTC-07:00, no summer time), so a summer "
        "appointment in Denver would be an hour off: write America/Denver for the time of "
        "Denver or Calgary, America/Phoenix for Arizona's"
    ),
    "GMT": (
        "is Greenwich Mean Time all year round (no British Summer Time), so a summer "
        "appointment in the UK would be an hour off: write Europe/London for UK time (UTC for "
        "universal time)"
    ),
}


# Short names that do not tell one zone: MST is Arizona's all year and Denver's in winter, AST
# Puerto Rico's all year and Halifax's in winter, GMT the UK's winter time and universal time.
AMBIGUOUS_SHORT_NAMES = frozenset({"MST", "MT", "AST", "GMT"})


# Zone names as systems built on Windows export them: "Eastern Standard Time" is Windows' name
# for New York's time, summer time included, "GMT Standard Time" the UK's (BST included), "US
# Mountain Standard Time" Arizona's. The table is Unicode CLDR's, as tzlocal keeps it.
#
# US and Canadian zones in words, as staff and web systems write them: "Eastern", "Central
# Time", "Pacific Time (US & Canada)", Windows' "(UTC-05:00) Eastern Time (US & Canada)".
_IN_WORDS = re.compile(
    r"(?:\((?:utc|gmt)\s*(?P<offset>[+-]\s*\d{1,2}(?::?\d{2})?)?\)\s*)?"
    r"(?P<family>eastern|central|mountain|pacific|alaska|alaskan|hawaii|hawaiian|atlantic)"
    r"(?:\s+(?:standard|daylight))?(?:\s+time)?"
    r"(?:\s*\((?P<qualified>us\s*(?:&|and)\s*canada|canada)\))?",
    re.IGNORECASE,
)
_FAMILY_WORDS = {"alaskan": "alaska", "hawaiian": "hawaii"}
# Families whose name alone tells no one zone, as MST and AST: staff in Arizona write "Mountain
# Standard Time" for their time (no summer time) and in Puerto Rico "Atlantic Standard Time"
# (none either), where Windows means Denver's and Halifax's, an hour apart in summer. With
# "(US & Canada)" or "(Canada)" they are Denver's and Halifax's.
AMBIGUOUS_FAMILIES = {
    "Mountain": ("America/Denver", "America/Phoenix"),
    "Atlantic": ("America/Halifax", "America/Puerto_Rico"),
}


@functools.cache
def _windows_zones() -> dict[str, str]:
    """Windows' zone names (casefolded, spaces as one) and the IANA zone each stands for."""
    from tzlocal.windows_tz import win_tz  # imported when first asked: ~1 ms

    known = known_zones()
    return {_words(name): zone for name, zone in win_tz.items() if zone in known}


def _words(text: str) -> str:
    return " ".join(text.split()).casefold()


def _family_in_words(text: str) -> tuple[str, bool] | None:
    """The family a zone in words names (``Pacific Time (US & Canada)`` -> Pacific) and whether
    it says "(US & Canada)" or "(Canada)"; None when ``text`` is no such name, or when the
    offset written before it (``(UTC-08:00) Eastern Time``) is not its winter time's."""
    found = _IN_WORDS.fullmatch(_words(text))
    if found is None:
        return None
    family = _FAMILY_WORDS.get(found["family"], found["family"]).capitalize()
    if found["offset"] is not None and _minutes(found["offset"]) != _winter_minutes(family):
        return None
    return family, bool(found["qualified"])


def _minutes(offset: str) -> int:
    """``-05:00``, ``-5``, ``+0530`` as minutes east of UTC."""
    sign, digits = (-1 if offset.startswith("-") else 1), offset[1:].replace(":", "").strip()
    hours, minutes = (digits[:-2], digits[-2:]) if len(digits) > 2 else (digits, "0")
    return sign * (int(hours) * 60 + int(minutes))


def _winter_minutes(family: str) -> int:
    """The offset of the family's zone in January, in minutes east of UTC."""
    january = dt.datetime(2026, 1, 15, 12, tzinfo=zoneinfo.ZoneInfo(NAMED_ZONES[family]))
    offset = january.utcoffset()
    return int(offset.total_seconds() // 60) if offset is not None else 0


def _ambiguous_family(text: str) -> tuple[str, str] | None:
    """The two zones a name of :data:`AMBIGUOUS_FAMILIES` may mean, else None."""
    named = _family_in_words(text)
    if named is None or named[1]:
        return None
    return AMBIGUOUS_FAMILIES.get(named[0])


def zone_in_words(text: str) -> tuple[str, str] | None:
    """The IANA zone a zone written as Windows or in words names (``Eastern Standard Time``,
    ``Pacific Time (US & Canada)``) and how it is written ("Windows' name for", "a name in words
    of"); None for anything else, and for names that tell no one zone (``Mountain Standard
    Time``: :data:`AMBIGUOUS_FAMILIES`)."""
    named = _family_in_words(text)
    if named is not None and not named[1] and named[0] in AMBIGUOUS_FAMILIES:
        return None
    windows = _windows_zones().get(_words(text))
    if windows is not None:
        return windows, "Windows' name for"
    return None if named is None else (NAMED_ZONES[named[0]], "a name in words of")


def tells_no_one_zone(text: str) -> bool:
    """True for a zone's name that may mean two zones an hour apart in summer: MST, AST, GMT
    (:data:`AMBIGUOUS_SHORT_NAMES`), ``Mountain Standard Time`` (:data:`AMBIGUOUS_FAMILIES`)."""
    return text.strip().upper() in AMBIGUOUS_SHORT_NAMES or _ambiguous_family(text) is not None


def zone_of_short_name(text: str) -> str:
    """The ``|zone`` filter: a short name (EST, EDT, ET, PST, CT, BST) as the zone of its family
    (America/New_York: winter and summer time alike, as staff who write EST in July mean it),
    and a zone as Windows or staff write it in words (``Eastern Standard Time``, ``Pacific Time
    (US & Canada)``: :func:`zone_in_words`) as its zone; any other text, an IANA name or a name
    that tells no one zone (:data:`AMBIGUOUS_SHORT_NAMES`, :data:`AMBIGUOUS_FAMILIES`), as written
    (the zone check then judges it)."""
    short = text.strip().upper()
    family = SHORT_NAME_FAMILIES.get(short)
    if family is None:
        if is_zone(text.strip()):
            return text
        named = zone_in_words(text)
        return text if named is None else named[0]
    if short in AMBIGUOUS_SHORT_NAMES:
        return text
    return NAMED_ZONES.get(family, text)


ZONE_FILTERS = {"zone": zone_of_short_name}


@functools.cache
def known_zones() -> frozenset[str]:
    """The IANA zone names on this machine that are accepted (read from disk once: it takes
    milliseconds); not those of :data:`ONE_OFFSET_ALL_YEAR`."""
    return frozenset(zoneinfo.available_timezones()) - ONE_OFFSET_ALL_YEAR.keys()


@functools.cache
def _known() -> dict[str, str]:
    """Known zone names keyed by a loose form (case, spaces and dashes folded)."""
    return {_fold(z): z for z in known_zones()}


def _fold(name: str) -> str:
    return re.sub(r"[\s_\-]+", "_", name.strip()).lower()


def is_zone(name: str) -> bool:
    """True when ``name`` is exactly a known IANA zone name, e.g. ``America/New_York``."""
    return name in known_zones()


@functools.cache
def suggest_zone(name: str) -> str | None:
    """The zone a person most likely meant: ``America/Los Angeles`` -> ``America/Los_Angeles``."""
    known = _known()
    folded = _fold(name)
    if folded in known:
        return known[folded]
    close = difflib.get_close_matches(folded, list(known), n=1, cutoff=0.8)
    return known[close[0]] if close else None


def zone_problem(name: str) -> str | None:
    """A plain-words reason when ``name`` is not an IANA zone (or one of
    :data:`ONE_OFFSET_ALL_YEAR`), else None. A short name (PST, CT) names its family's zone."""
    if is_zone(name):
        return None
    short = name.strip().upper()
    if short in ONE_OFFSET_ALL_YEAR:
        return ONE_OFFSET_ALL_YEAR[short]
    family = SHORT_NAME_FAMILIES.get(short)
    if family is not None and family in NAMED_ZONES:
        return (
            f"is a short name of {family} time, not a time zone: write the zone of the place, "
            f"like {NAMED_ZONES[family]} (its winter and summer time alike)"
        )
    named = zone_in_words(name)
    if named is not None:
        zone, how = named
        return (
            f"is {how} the time of {zone} (its winter and summer time alike), not a time zone: "
            f"write {zone}"
        )
    either = _ambiguous_family(name)
    if either is not None:
        return (
            f"may mean the time of {either[0]} (with summer time) or of {either[1]} (none), an "
            "hour apart in summer: write the zone of the place"
        )
    hint = suggest_zone(name)
    suffix = f"; did you mean {hint!r}?" if hint else " (write it like America/New_York)"
    return f"is not a known time zone{suffix}"


def zone_cell_problem(name: str, column: str | None) -> str | None:
    """:func:`zone_problem` for a cell of the zone ``column`` (None: not one column as written):
    where the ``|zone`` filter reads the cell (EST, PT), the reason also names that one-line mend
    of the mapping, as an export writes the same short names on every row."""
    problem = zone_problem(name)
    if problem is None or column is None or zone_of_short_name(name) == name:
        return problem
    return (
        f"{problem}; or have the mapping read the column's names as their zones: {{{column}|zone}}"
    )


def _tzdata_table(name: str) -> list[list[str]]:
    """A table of tzdata (``zone.tab``, ``iso3166.tab``) as tab-separated fields, comments out.

    From the tzdata package, else from the system's zone folders; [] when neither has it.
    """
    text = ""
    try:
        text = (importlib.resources.files("tzdata") / "zoneinfo" / name).read_text("utf-8")
    except (ModuleNotFoundError, OSError):
        for folder in zoneinfo.TZPATH:
            try:
                text = (Path(folder) / name).read_text(encoding="utf-8")
                break
            except OSError:
                continue
    return [line.split("\t") for line in text.splitlines() if line[:1] not in "#"]


@functools.cache
def _zone_countries() -> dict[str, str]:
    return {row[2]: row[0] for row in _tzdata_table("zone.tab") if len(row) >= 3}


def zone_country(zone: str | None) -> str | None:
    """The two-letter country a zone is in (``Europe/London`` -> ``GB``), None when unknown."""
    return _zone_countries().get(zone or "")


@functools.cache
def countries() -> tuple[tuple[str, str], ...]:
    """(code, name) of every country tzdata knows, by name: ``("GB", "Britain (UK)")``."""
    rows = [(row[0], row[1]) for row in _tzdata_table("iso3166.tab") if len(row) >= 2]
    return tuple(sorted(rows, key=lambda row: row[1]))


def country_name(code: str) -> str:
    """``"US"`` -> ``"the United States (US)"``, ``"GB"`` -> ``"Britain (UK)"`` (tzdata's names)."""
    name = dict(countries()).get(code.upper())
    if name is None:
        return f"the country {code}"
    named = name if "(" in name else f"{name} ({code})"
    return f"the {named}" if name.startswith("United") else named
