"""Phone numbers: parse what staff write and give E.164 (``+15415550104``), with the phonenumbers
library. Each distinct value is parsed once (sheets repeat numbers), so a column costs one parse per
unique number.

A column of US/Canadian numbers written the usual ways (``(541) 555-0104``, ``541.555.0104``,
``+1 541-555-0104``) takes a fast path: a vectorised regex accepts the shape, and the ten digits
are checked against the same US number patterns phonenumbers uses, so the answer is exactly the
one phonenumbers gives (``tests/values/test_phones_fast_path.py`` checks that). Parsing costs
~20 us per number, the fast path ~1 us. Anything else, and any number the US patterns refuse (a
Canadian or Caribbean number, a typo), goes through phonenumbers as before.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

import numpy as np
import pandas as pd
import phonenumbers

from importer.values.numbers import SHORTENED_REASON, shortened
from importer.values.zones import country_name

# Regions whose numbers written without +country are parsed as NANP numbers exactly like US ones
# (national prefix 1, no local-number rewriting); others never take the fast path.
FAST_REGIONS = frozenset({"US", "CA"})
# An optional +1 or 1, then area code, exchange and line (3-3-4 digits, each group starting as
# NANP requires) separated by nothing, spaces, dots or hyphens; parentheses around the area code.
_NANP_SHAPE = re.compile(
    r"(?:\+?1[ .\-]*)?\(?([2-9][0-9]{2})\)?[ .\-]*([2-9][0-9]{2})[ .\-]*([0-9]{4})"
)
_NANP_DIGITS = 10
# A number of a phone's length with ".0" after it, as programs that hold a column as floats
# write it (pandas' to_csv, some report tools); Excel never does.
_WRITTEN_AS_FLOAT = re.compile(r"\+?[0-9]{6,15}\.0")


@functools.lru_cache(maxsize=65_536)  # a part's foreign numbers (importer.load.parts)
def normalise_phone(text: str, region: str) -> tuple[str | None, str | None]:
    """Return ``(e164, None)`` for a valid number, or ``(None, reason)`` in plain words.

    Numbers without ``+country`` are read as numbers of ``region`` (ISO code such as ``US``);
    ``00`` international prefixes work for regions that use them.
    """
    value = text.strip()
    if not value:
        return None, None
    if shortened(value):
        return None, SHORTENED_REASON
    if _WRITTEN_AS_FLOAT.fullmatch(value):  # 5415550104.0: a program saved the number as a float
        value = value[:-2]
    try:
        number = phonenumbers.parse(value, region, keep_raw_input=True)
    except phonenumbers.NumberParseException as exc:
        if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE and (
            value.startswith("+")
        ):
            return None, "is not a phone number: what follows the + is no country's code"
        found = _numbers_in(value, region)
        alone = _one_number(value, found)
        if alone is None:
            several = _several_reason(found)
            return None, several or "is not a phone number: it needs the digits of one"
        number = alone
    if not phonenumbers.is_valid_number(number):
        found = _numbers_in(value, region)
        alone = _one_number(value, found)
        if alone is None:
            return None, _several_reason(found) or _invalid_reason(number, region)
        number = alone
    if number.extension:
        # E.164 has no room for an extension: dropping it silently would lose what staff wrote.
        return None, (
            f"has an extension ({number.extension}), which Apptoto cannot dial or text; "
            "put the extension in the notes and keep only the number here"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None


def _numbers_in(value: str, region: str) -> list[phonenumbers.PhoneNumberMatch]:
    """The valid numbers phonenumbers' matcher finds in ``value`` (a cell that is no number)."""
    return list(phonenumbers.PhoneNumberMatcher(value, region, leniency=_VALID))


def _one_number(
    value: str, found: list[phonenumbers.PhoneNumberMatch]
) -> phonenumbers.PhoneNumber | None:
    """The one valid number in ``value`` (``found`` in it) when words around it spoil the
    parse, else None.

    phonenumbers reads letters as a keypad's digits, so "(541) 555-0104 (cell)" is a number too
    long to be one; the number in it is what staff wrote. Digits beside it (an extension, a time)
    say something more: then there is no one number to take."""
    if len(found) != 1:
        return None
    around = value[: found[0].start] + value[found[0].end :]
    return None if any(c.isdigit() for c in around) else found[0].number


_VALID = phonenumbers.Leniency.VALID


def _several_reason(found: list[phonenumbers.PhoneNumberMatch]) -> str:
    """Why a cell is not a number when it holds two or more (``found`` in it: ``541-555-0104 /
    541-555-0107``), else "". Which one gets the reminders is not the importer's to choose."""
    count = len(found)
    if count < 2:
        return ""
    return (
        f"holds {count} phone numbers: a reminder goes to one number; keep only the one to "
        "text or call"
    )


def written_countries(values: pd.Series) -> list[str]:
    """The regions (ISO codes) of the numbers written with ``+country`` among ``values``, the
    most written first (``+44 7911 123456`` -> ``GB``: the country code's main region)."""
    counts: dict[str, int] = {}
    for text in pd.unique(values.dropna().astype("str").str.strip().to_numpy(dtype=object)):
        if not str(text).startswith("+"):
            continue
        try:
            number = phonenumbers.parse(str(text), None)
        except phonenumbers.NumberParseException:
            continue
        region = phonenumbers.region_code_for_country_code(number.country_code or 0)
        if region not in ("001", phonenumbers.UNKNOWN_REGION):
            counts[region] = counts.get(region, 0) + 1
    return sorted(counts, key=lambda r: -counts[r])


def _invalid_reason(number: phonenumbers.PhoneNumber, region: str) -> str:
    """Why a parsed number is not valid, in the words of how it was written.

    A number written with its country code (``+44 ...``, ``0044 ...``) is judged as a number of
    that country: telling staff to add a code it has would send them looking for the wrong
    mistake. Any other number is judged as a number of ``region``.
    """
    if number.country_code_source != phonenumbers.CountryCodeSource.FROM_DEFAULT_COUNTRY:
        calling = number.country_code or 0
        code = phonenumbers.region_code_for_country_code(calling)
        named = "" if code in ("001", phonenumbers.UNKNOWN_REGION) else f" ({country_name(code)})"
        return (
            f"is not a valid phone number with the country code +{calling}{named}: check its digits"
        )
    return (
        f"is not a valid phone number in {country_name(region)}; a number from another "
        "country needs + and its country code"
    )


@functools.cache
def _valid_in_us() -> Callable[[str], bool]:
    """Whether ten digits are a valid US number, by phonenumbers' own US metadata.

    phonenumbers calls a +1 number valid when its national number matches the region's general
    pattern and the pattern of at least one number type (``_number_type_helper``); the US is the
    first region it tries for +1, so a number valid for the US is valid, whatever the region.
    """
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("US")
    assert metadata is not None
    kinds = (
        metadata.premium_rate,
        metadata.toll_free,
        metadata.shared_cost,
        metadata.voip,
        metadata.personal_number,
        metadata.pager,
        metadata.uan,
        metadata.voicemail,
        metadata.fixed_line,
        metadata.mobile,
    )

    def pattern(desc: phonenumbers.PhoneNumberDesc | None) -> str | None:
        # As phonenumbers' _is_number_matching_desc: listed lengths must include ours.
        if desc is None or not desc.national_number_pattern:
            return None
        if desc.possible_length and _NANP_DIGITS not in desc.possible_length:
            return None
        return desc.national_number_pattern

    general = pattern(metadata.general_desc)
    typed = [p for p in (pattern(kind) for kind in kinds) if p is not None]
    if general is None or not typed:
        return lambda digits: False
    general_re = re.compile(general)
    typed_re = re.compile("|".join(f"(?:{p})" for p in typed))
    return lambda digits: bool(general_re.fullmatch(digits) and typed_re.fullmatch(digits))


# Fast-path answers by stripped text: the column checks and the map stage both normalise the
# same phone column, and the second pass then costs a dict lookup per number. Forgotten once a
# part is checked and mapped (importer.prepare.validate_and_map; numbers rarely repeat across
# parts, and a web server would keep ~20 MB for nothing). Bounded to a bit more than the biggest
# part (importer.load.parts.WHOLE_ROWS, 100,000 rows): cleared when an answer would not fit, so
# a pass over known numbers never clears it; a column with more distinct numbers than the bound
# is not remembered at all.
_fast_answers: dict[str, str | None] = {}
FAST_MEMO_SIZE = 120_000


def forget_fast_answers() -> None:
    """Empty the memo of fast-path answers (see above)."""
    _fast_answers.clear()


def _fast_nanp(stripped: list[str]) -> list[str | None]:
    """E.164 of the cells the fast path settles (already stripped), None for every other cell.

    A plain loop: one regex match and one pattern check per distinct cell beats pandas' string
    methods, which loop in Python too (no pyarrow) and take several passes.
    """
    known: dict[str, str | None] = _fast_answers if len(stripped) <= FAST_MEMO_SIZE else {}
    shape, valid = _NANP_SHAPE.fullmatch, _valid_in_us()
    settled: list[str | None] = []
    for text in stripped:
        answer = known.get(text, "")  # "" = not seen yet; None = seen, not settled here
        if answer == "":
            if len(known) >= FAST_MEMO_SIZE:
                known.clear()
            match = shape(text)
            digits = "".join(match.groups()) if match else ""
            answer = known[text] = "+1" + digits if match and valid(digits) else None
        settled.append(answer)
    return settled


def normalise_phones(values: pd.Series, region: str) -> tuple[pd.Series, pd.Series]:
    """Normalise a column of phone text.

    Returns ``(e164, reason)``, both aligned to ``values``: ``e164`` holds the E.164 text or NA;
    ``reason`` holds a plain-words reason where a non-blank cell is not a valid number, else NA.
    Blank cells are neither valid nor invalid (NA in both).
    """
    text = values.astype("string").fillna("")
    codes, uniques = pd.factorize(text.to_numpy(dtype=object))
    e164 = np.full(len(uniques), None, dtype=object)
    reason = np.full(len(uniques), None, dtype=object)
    if region in FAST_REGIONS:
        e164[:] = _fast_nanp([str(u).strip() for u in uniques])
    for i in np.flatnonzero(pd.isna(e164)).tolist():
        e164[i], reason[i] = normalise_phone(str(uniques[i]), region)
    return (
        pd.Series(e164.take(codes), index=values.index, dtype="string"),
        pd.Series(reason.take(codes), index=values.index, dtype="string"),
    )
