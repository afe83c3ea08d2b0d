"""People's names as offices write them: "Abernathy, Gail" turned into "Gail Abernathy".

The filters of a template placeholder (``{Patient Name|first_last}``): ``first_last`` puts a
"Last, First" name in the order a reminder greets people; ``first`` and ``last`` keep one part.
A name without a comma is taken as already "First Last" (so a column that mixes both forms
works). Worked out once per distinct name.
"""

from __future__ import annotations

import re

import pandas as pd

_SPACES = re.compile(r"\s+")
# A generational suffix, which follows the family name when the name is said: "Smith, John Jr."
# is John Smith Jr. (not John Jr. Smith), and Mr. Smith's family name is Smith. Not a lone "V"
# (a middle initial as often as "the fifth").
_SUFFIX = re.compile(r"(?i)[ ,]+((?:jr|sr)\.?|ii|iii|iv)$")
_SUFFIX_FIRST = re.compile(r"(?i)^((?:jr|sr)\.?|ii|iii|iv)\s*,\s*")


def _split(name: str) -> tuple[str, str, str]:
    """(given names, family name, suffix) of one name, written "Last, First" or "First Last"."""
    name = _SPACES.sub(" ", name).strip(" ,")
    suffix = ""
    if "," in name:
        family, _, given = name.partition(",")
        given = given.strip(" ,")
        if (before := _SUFFIX_FIRST.match(given)) is not None:  # "Smith, Jr., John"
            suffix, given = before.group(1), given[before.end() :]
        elif (after := _SUFFIX.search(given)) is not None and after.start() > 0:
            # "Smith, John Jr."
            suffix, given = after.group(1), given[: after.start()]
        return given.strip(" ,"), family.strip(), suffix
    if (after := _SUFFIX.search(name)) is not None and " " in name[: after.start()]:
        suffix, name = after.group(1), name[: after.start()]  # "John Smith Jr."
    given, _, family = name.rpartition(" ")
    return (given, family, suffix) if given else (family, "", suffix)


def _first_last(name: str) -> str:
    given, family, suffix = _split(name)
    return " ".join(part for part in (given, family, suffix) if part)


def _first(name: str) -> str:
    return _split(name)[0].split(" ")[0]


def _last(name: str) -> str:
    return _split(name)[1]


NAME_FILTERS = {"first_last": _first_last, "first": _first, "last": _last}


def looks_last_first(values: pd.Series) -> bool:
    """True when most non-blank names are written "Last, First" (one comma between two words)."""
    filled = values[values.fillna("").astype(str).str.strip() != ""].astype(str)
    if filled.empty:
        return False
    pattern = r"[^\W\d_][\w'’.\- ]*,\s*[^\W\d_][\w'’.\- ]*"
    return bool(filled.str.fullmatch(pattern).mean() >= 0.8)
