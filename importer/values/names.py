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


def _split(name: str) -> tuple[str, str]:
    """(given names, family name) of one name, written "Last, First" or "First Last"."""
    name = _SPACES.sub(" ", name).strip(" ,")
    if "," in name:
        family, _, given = name.partition(",")
        return given.strip(" ,"), family.strip()
    given, _, family = name.rpartition(" ")
    return (given, family) if given else (family, "")


def _first_last(name: str) -> str:
    given, family = _split(name)
    return f"{given} {family}".strip()


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
