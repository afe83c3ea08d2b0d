"""IANA time zones: checking names and suggesting the close valid one."""

from __future__ import annotations

import difflib
import functools
import importlib.resources
import re
import zoneinfo
from pathlib import Path


@functools.cache
def known_zones() -> frozenset[str]:
    """The IANA zone names on this machine (read from disk once: it takes milliseconds)."""
    return frozenset(zoneinfo.available_timezones())


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
    """A plain-words reason when ``name`` is not an IANA zone, else None."""
    if is_zone(name):
        return None
    hint = suggest_zone(name)
    suffix = f"; did you mean {hint!r}?" if hint else " (write it like America/New_York)"
    return f"is not a known time zone{suffix}"


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
