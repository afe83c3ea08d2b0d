"""IANA time zones: checking names and suggesting the close valid one."""

from __future__ import annotations

import difflib
import functools
import re
import zoneinfo


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
