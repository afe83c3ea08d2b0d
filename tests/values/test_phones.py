"""Phone numbers to E.164: one cell at a time (``normalise_phone``) and by column
(``normalise_phones``), whose fast path for US/Canadian numbers gives exactly what phonenumbers
gives, cell for cell."""

from __future__ import annotations

import pandas as pd
import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.values import normalise_phone, normalise_phones
from tests.helpers import NOT_US_PHONE


@pytest.mark.parametrize(
    ("text", "region", "words"),
    [
        ("555-012", "US", NOT_US_PHONE),
        ("call me", "US", "is not a phone number: it needs the digits of one"),
        ("541 555 0104 ext 12", "US", "has an extension (12)"),
        ("(541) 555-0104 x7", "US", "has an extension (7)"),
        # Drama numbers (Ofcom's 07700 900xxx) are no one's. Written with +44 or 0044, the
        # reason is about the UK's digits, not a missing country code.
        ("+44 7700 900456", "GB", "with the country code +44 (Britain (UK)): check its digits"),
        ("0044 7700 900456", "GB", "with the country code +44 (Britain (UK)): check its digits"),
        ("+44 7700 900456", "US", "with the country code +44 (Britain (UK)): check its digits"),
        ("+1 555 0100", "GB", "with the country code +1 (the United States (US))"),
        ("+999 1234567", "US", "what follows the + is no country's code"),
        ("07700 900123", "GB", "in Britain (UK); a number from another country needs +"),
        # A number cell Excel saved to CSV as it shows it: 447911123456 as 4.47911E+11.
        ("4.47911E+11", "GB", "a long number Excel shortened when the file was saved"),
        ("5.41555E+09", "US", "its last digits are lost"),
        # Two numbers in one cell: which one gets the reminders is not the importer's to choose.
        ("541.555.0106 / 541.555.0107", "US", "holds 2 phone numbers: a reminder goes to one"),
        ("cell (541) 555-0104 home (541) 555-0107", "US", "holds 2 phone numbers"),
        ("5415550104/5415550107", "US", "holds 2 phone numbers"),
        ("+44 7911 123456 or +44 20 7946 0018", "US", "holds 2 phone numbers"),
    ],
)
def test_invalid_numbers_say_why(text: str, region: str, words: str) -> None:
    e164, reason = normalise_phone(text, region)
    assert e164 is None
    assert reason is not None and words in reason
    if text.startswith(("+", "00")):  # its country code written: no advice to write one
        assert "needs + and its country code" not in reason


def test_blank_cells_are_neither_valid_nor_invalid() -> None:
    e164, reason = normalise_phones(pd.Series(["", None, "  ", "5415550104"]), "US")
    assert e164.isna().tolist() == [True, True, True, False]
    assert reason.isna().all()


# --- by column: the fast path for US/Canadian numbers ----------------------------------------


def by_phonenumbers(text: str, region: str) -> tuple[str | None, str | None]:
    """The slow path, straight from phonenumbers (no cache shared with the code under test)."""
    return normalise_phone.__wrapped__(text, region)


def by_column(texts: list[str], region: str) -> list[tuple[str | None, str | None]]:
    e164, reason = normalise_phones(pd.Series(texts, dtype="str"), region)
    return [
        (None if pd.isna(e) else str(e), None if pd.isna(r) else str(r))
        for e, r in zip(e164, reason, strict=True)
    ]


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        ("(541) 555-0104", "US", "+15415550104"),
        ("541.555.0123", "US", "+15415550123"),
        ("5415550142", "US", "+15415550142"),
        ("+1 541-555-0177", "US", "+15415550177"),
        ("1-541-555-0177", "US", "+15415550177"),
        ("+1 (208) 555-0111", "CA", "+12085550111"),
        ("(604) 555-0199", "US", "+16045550199"),  # Canadian: refused by the US patterns, slow path
        ("(604) 555-0199", "CA", "+16045550199"),
        ("800-555-0199", "US", "+18005550199"),  # toll free
        ("+39 06 6982 0000", "US", "+390669820000"),
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("0044 20 7946 0958", "GB", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("(541) 555-0104", "GB", None),  # not a UK number: the slow path says so
        ("555-012", "US", None),
        ("01 541 555 0104", "US", None),  # a 0 before the country code: invalid, not +1
        ("(555) 555-0104", "US", None),  # 555 is no area code
        ("(141) 555-0104", "US", None),
        ("", "US", None),
        # A word beside the number: phonenumbers reads letters as keypad digits, which made
        # "(cell)" part of a number too long to be one.
        ("(541) 555-0104 (cell)", "US", "+15415550104"),
        ("541-555-0104 - mobile", "US", "+15415550104"),
        ("+44 7911 123456 (mob)", "GB", "+447911123456"),
        ("541-555-0104 cell x23", "US", None),  # more digits beside it: not taken
        ("call 541-555-0104 after 5pm", "US", None),
        # A column a program held as floats (pandas' to_csv): the ".0" is no digit.
        ("5415550104.0", "US", "+15415550104"),
        ("447911123456.0", "GB", "+447911123456"),
        ("541555.0", "US", None),  # still no phone number
    ],
)
def test_known_numbers(text: str, region: str, expected: str | None) -> None:
    """By column and cell by cell, the same E.164 number; a number that has one has no reason."""
    [(e164, reason)] = by_column([text], region)
    assert e164 == expected
    assert expected is None or reason is None
    assert (e164, reason) == by_phonenumbers(text, region) == normalise_phone(text, region)


def test_blank_and_repeated_cells_keep_their_rows() -> None:
    texts = ["(541) 555-0104", "", "  ", "541.555.0104", "(541) 555-0104", "nope", "(604) 555-0199"]
    results = by_column(texts, "US")
    assert [e for e, _ in results] == [
        "+15415550104",
        None,
        None,
        "+15415550104",
        "+15415550104",
        None,
        "+16045550199",
    ]
    assert [r is not None for _, r in results] == [False, False, False, False, False, True, False]


_PREFIXES = ["", "1", "+1", "1 ", "+1 ", "+1-", "1-", "+ 1 ", "11", "0", "01", "01 ", "+01", "(1)"]
_PREFIXES += ["+", "+2", "001 ", "011 1 ", "+1 1 "]
_SEPARATORS = ["", " ", "-", ".", " - ", "  ", "/", "--"]


@st.composite
def nanp_like(draw: st.DrawFn) -> str:
    """Ten digits (valid or not) written the ways staff do, and some ways they should not."""
    area = f"{draw(st.integers(0, 999)):03d}"
    exchange = f"{draw(st.integers(0, 999)):03d}"
    line = f"{draw(st.integers(0, 9999)):04d}" + draw(st.sampled_from(["", "", "", "", "5"]))
    if draw(st.booleans()):
        area = f"({area})"
    first, second = draw(st.sampled_from(_SEPARATORS)), draw(st.sampled_from(_SEPARATORS))
    prefix = draw(st.sampled_from(_PREFIXES))
    suffix = draw(st.sampled_from(["", "", "", " ", " x12", "#", ")"]))
    return f"{prefix}{area}{first}{exchange}{second}{line}{suffix}"


@settings(max_examples=400, deadline=None)
@given(texts=st.lists(nanp_like(), min_size=1, max_size=20), region=st.sampled_from(["US", "CA"]))
def test_fast_path_equals_phonenumbers_on_nanp_shapes(texts: list[str], region: str) -> None:
    assert by_column(texts, region) == [by_phonenumbers(t, region) for t in texts]


@settings(max_examples=300, deadline=None)
@given(
    texts=st.lists(st.text(alphabet="0123456789 ()+-.x", max_size=18), min_size=1, max_size=20),
    region=st.sampled_from(["US", "CA", "GB"]),
)
def test_fast_path_equals_phonenumbers_on_any_text(texts: list[str], region: str) -> None:
    assert by_column(texts, region) == [by_phonenumbers(t, region) for t in texts]


@settings(max_examples=200, deadline=None)
@given(
    area=st.integers(200, 999),
    exchange=st.integers(200, 999),
    line=st.integers(0, 9999),
    region=st.sampled_from(["US", "CA"]),
)
def test_every_area_code_agrees(area: int, exchange: int, line: int, region: str) -> None:
    text = f"({area}) {exchange}-{line:04d}"
    [(e164, _)] = by_column([text], region)
    number = phonenumbers.parse(text, region)
    expected = (
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if phonenumbers.is_valid_number(number)
        else None
    )
    assert e164 == expected


def test_the_second_pass_over_a_whole_part_reads_remembered_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The column checks and the map stage both normalise the phone column of a part; a part
    # checked at once holds up to WHOLE_ROWS rows, so the memo must hold all their numbers or
    # the second pass runs every pattern again (the 100,000-row figure of make bench did).
    import importer.values.phones as phones
    from importer.load.parts import WHOLE_ROWS

    numbers = pd.Series(
        [f"(541) {n // 10_000 + 200:03d}-{n % 10_000:04d}" for n in range(WHOLE_ROWS)]
    )
    monkeypatch.setattr(phones, "_fast_answers", {})
    first, _ = normalise_phones(numbers, "US")
    shapes = 0
    shape = phones._NANP_SHAPE

    class Counting:
        def fullmatch(self, text: str) -> object:
            nonlocal shapes
            shapes += 1
            return shape.fullmatch(text)

    monkeypatch.setattr(phones, "_NANP_SHAPE", Counting())
    again, _ = normalise_phones(numbers, "US")
    assert shapes == 0
    assert again.tolist() == first.tolist()
    assert first.iloc[0] == "+15412000000"
