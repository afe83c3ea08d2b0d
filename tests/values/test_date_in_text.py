"""The date written inside a longer text ({@title|date}): one date, or none and why."""

from __future__ import annotations

import pandas as pd
import pytest

from importer.values import apply_filter
from importer.values.date_in_text import NO_DATE, date_in, date_in_reason


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("Riverside Family Dental - Monday, December 14, 2026", "Monday, December 14, 2026"),
        ("Appointments for 12/14/2026", "12/14/2026"),
        ("appointments_2026-12-14", "2026-12-14"),  # a daily export's file name
        ("Clinic list 14.12.2026 (Leeds)", "14.12.2026"),
        ("Tuesday 15 December 2026", "Tuesday 15 December 2026"),
        ("Dec 14th 2026 schedule", "Dec 14th 2026"),
        ("Clinic 12/14/2026 (12/14/2026)", "12/14/2026"),  # one date, said twice
    ],
)
def test_the_one_date_in_a_text_is_given_as_written(text: str, date: str) -> None:
    assert date_in(text) == date
    assert date_in_reason(text) == ""


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Riverside Family Dental", NO_DATE),
        ("Mon 12-14", "has a date without its year ('Mon 12-14')"),  # never completed
        ("Version 1.2.3", NO_DATE),
        ("Room 4-12-2026B", NO_DATE),
        ("12/14/2026 - 12/18/2026", "holds 2 dates ('12/14/2026' and '12/18/2026')"),
        ("Week of December 14, 2026", "speaks of a week ('December 14, 2026')"),
        ("Printed 12/13/2026", "says when it was printed ('12/13/2026')"),  # not the rows' day
        ("Appointments from 12/14/2026", "speaks of days from '12/14/2026', not of one day"),
        ("Schedule exported on 2026-12-13", "says when it was exported ('2026-12-13')"),
    ],
)
def test_a_text_with_no_one_day_gives_no_date_and_says_why(text: str, reason: str) -> None:
    assert date_in(text) == ""
    assert date_in_reason(text).startswith(reason)


def test_the_date_filter_works_on_every_row() -> None:
    titles = pd.Series(["Clinic - 12/14/2026", "", "Clinic - 12/14/2026"], dtype="str")
    assert apply_filter(titles, "date").tolist() == ["12/14/2026", "", "12/14/2026"]
