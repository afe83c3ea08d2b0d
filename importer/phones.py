"""Phone numbers: parse what staff write and give E.164 (``+15415550104``), with the phonenumbers
library. Each distinct value is parsed once (sheets repeat numbers), so a column costs one parse per
unique number.
"""

from __future__ import annotations

import functools

import pandas as pd
import phonenumbers


@functools.lru_cache(maxsize=262_144)
def normalise_phone(text: str, region: str) -> tuple[str | None, str | None]:
    """Return ``(e164, None)`` for a valid number, or ``(None, reason)`` in plain words.

    Numbers without ``+country`` are read as numbers of ``region`` (ISO code such as ``US``);
    ``00`` international prefixes work for regions that use them.
    """
    value = text.strip()
    if not value:
        return None, None
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None, f"is not a phone number (region {region})"
    if not phonenumbers.is_valid_number(number):
        return None, f"is not a valid phone number for region {region}"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None


def normalise_phones(values: pd.Series, region: str) -> tuple[pd.Series, pd.Series]:
    """Normalise a column of phone text.

    Returns ``(e164, reason)``, both aligned to ``values``: ``e164`` holds the E.164 text or NA;
    ``reason`` holds a plain-words reason where a non-blank cell is not a valid number, else NA.
    Blank cells are neither valid nor invalid (NA in both).
    """
    text = values.astype("string").fillna("")
    uniques = pd.unique(text.to_numpy())
    parsed = {u: normalise_phone(str(u), region) for u in uniques}
    e164 = text.map(lambda v: parsed[v][0]).astype("string")
    reason = text.map(lambda v: parsed[v][1]).astype("string")
    return e164, reason
