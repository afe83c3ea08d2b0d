from __future__ import annotations

import pandas as pd
import pytest

from importer.values import normalise_phone, normalise_phones


@pytest.mark.parametrize(
    ("text", "region", "e164"),
    [
        ("(541) 555-0104", "US", "+15415550104"),
        ("541.555.0123", "US", "+15415550123"),
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("0044 20 7946 0958", "GB", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
    ],
)
def test_valid_numbers_become_e164(text: str, region: str, e164: str) -> None:
    assert normalise_phone(text, region) == (e164, None)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("555-012", "is not a valid phone number for region US"),
        ("call me", "is not a phone number (region US)"),
        ("541 555 0104 ext 12", "has an extension (12)"),
        ("(541) 555-0104 x7", "has an extension (7)"),
    ],
)
def test_invalid_numbers_say_why(text: str, words: str) -> None:
    e164, reason = normalise_phone(text, "US")
    assert e164 is None
    assert reason is not None and words in reason


def test_blank_cells_are_neither_valid_nor_invalid() -> None:
    e164, reason = normalise_phones(pd.Series(["", None, "  ", "5415550104"]), "US")
    assert e164.isna().tolist() == [True, True, True, False]
    assert reason.isna().all()
