"""A time written with its zone's short name, as some practice systems export it: ``9:30 AM EST``,
``14:00 (PST)``, ``9:30 AM ET``.

The name is taken off before the time is read, then checked against the row's time zone (its
cell, or the mapping's default): ``EST`` and ``EDT`` fit America/New_York, ``PT`` fits
America/Los_Angeles. A name that does not fit (``PST`` on a row in America/New_York) makes the
row invalid: the time or the zone is wrong, and a reminder at the wrong hour is worse than none.
The time stays the local time of the row's zone: staff write ``EST`` all year, and in July
``9:30 AM EST`` means 9:30 in New York, not 10:30.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import zoneinfo

import numpy as np
import pandas as pd

from importer.values.distinct import map_distinct
from importer.values.zones import GENERIC_SHORT_NAMES, NAMED_ZONES, SHORT_NAME_FAMILIES

_GENERIC = GENERIC_SHORT_NAMES
_NAMES = (
    "EST EDT CST CDT MST MDT PST PDT AKST AKDT HST HDT AST ADT NST NDT GMT BST UTC".split()
    + list(_GENERIC)
)
_WORDS = SHORT_NAME_FAMILIES
# After a time: a space, then the name, bare or in brackets.
_AFTER_TIME = re.compile(
    r"(?<=[0-9APMapm.])\s+\(?(?P<name>" + "|".join(_NAMES) + r")\)?$", re.IGNORECASE
)


def split_zone_names(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Each cell (text, "" for blank) without a zone's short name after its time, and that name
    (upper case; "" where there is none), looked for once per distinct cell."""
    codes, distinct = pd.factorize(text.to_numpy(dtype=object, na_value=""))
    found = [_AFTER_TIME.search(t) for t in distinct.tolist()]
    if not any(found):
        return text, pd.Series("", index=text.index, dtype="str")
    rests = np.array([t[: f.start()] if f else t for t, f in zip(distinct, found, strict=True)])
    names = np.array([f["name"].upper() if f else "" for f in found], dtype=object)
    return (
        pd.Series(rests.astype(object)[codes], index=text.index, dtype="str"),
        pd.Series(names[codes], index=text.index, dtype="str"),
    )


def zone_of_names(names: pd.Series) -> tuple[str, str] | None:
    """The zone the short names of a column (``said`` of :func:`split_zone_names`) point to, and
    the names, when every name is of one family (EST, EDT, ET); else None."""
    written = sorted(set(names[names != ""].tolist()))
    zones = {NAMED_ZONES.get(_WORDS[n]) for n in written}
    if not written or len(zones) != 1 or None in zones:
        return None
    return str(zones.pop()), ", ".join(written)


def zone_name_problems(said: pd.Series, zones: pd.Series) -> pd.Series:
    """Per row, why the zone's short name written with its time (``said``) does not fit its
    time zone (``zones``, IANA; "" where unknown); "" where it fits or none is written."""
    pairs = said.str.cat(zones, sep="|")
    return map_distinct(
        pairs.where(said != "", ""),
        lambda distinct: pd.Series([_problem(*p.split("|")) if p else "" for p in distinct]),
    )


def _problem(name: str, zone: str) -> str:
    if not zone or name in _used_by(zone) or _GENERIC.get(name, "") in _used_by(zone):
        return ""
    return (
        f"says {name} ({_WORDS[name]} time), but the row's time zone is {zone}: is the time or "
        "the zone wrong? Fix the one that is"
    )


@functools.cache
def _used_by(zone: str) -> frozenset[str]:
    """The short names ``zone`` goes by in winter and summer (America/New_York: EST, EDT)."""
    try:
        info = zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return frozenset()
    names = {dt.datetime(2026, month, 15, 12, tzinfo=info).tzname() for month in (1, 7)}
    found = frozenset(n.upper() for n in names if n)
    return found | ({"UTC", "GMT"} if found <= {"UTC", "GMT"} else frozenset())
