"""People's names: "Last, First" turned round for reminders, and the parts taken apart."""

from __future__ import annotations

import pandas as pd
import pytest

from importer.errors import MappingError
from importer.mapping import ColumnRef, parse_template
from importer.values import apply_filter, looks_last_first


@pytest.mark.parametrize(
    ("written", "first_last", "first", "last"),
    [
        ("Abernathy, Gail", "Gail Abernathy", "Gail", "Abernathy"),
        ("  O’Connor ,  James  ", "James O’Connor", "James", "O’Connor"),
        ("de la Cruz, Ana María", "Ana María de la Cruz", "Ana", "de la Cruz"),
        ("Gail Abernathy", "Gail Abernathy", "Gail", "Abernathy"),  # already First Last
        ("Mary Ann Smith", "Mary Ann Smith", "Mary", "Smith"),
        ("Cher", "Cher", "Cher", ""),
        # A generational suffix follows the family name, and is not it.
        ("Smith, John Jr.", "John Smith Jr.", "John", "Smith"),
        ("Smith, Jr., John", "John Smith Jr.", "John", "Smith"),
        ("Smith, John A III", "John A Smith III", "John", "Smith"),
        ("John Smith Jr.", "John Smith Jr.", "John", "Smith"),
        ("Smith, John V", "John V Smith", "John", "Smith"),  # V: a middle initial as often
        ("Jr, John", "John Jr", "John", "Jr"),  # a family name that is all there is
        ("", "", "", ""),
    ],
)
def test_name_filters(written: str, first_last: str, first: str, last: str) -> None:
    values = pd.Series([written], dtype="str")
    turned = {f: apply_filter(values, f).iloc[0] for f in ("first_last", "first", "last")}
    assert turned == {"first_last": first_last, "first": first, "last": last}


@pytest.mark.parametrize(
    ("names", "last_first"),
    [
        (["Abernathy, Gail", "Brooks, Ethan", "Kim, Grace", ""], True),
        (["Gail Abernathy", "Ethan Brooks", "Grace Kim"], False),
        (["Abernathy, Gail", "Ethan Brooks", "Grace Kim"], False),  # one in three: not the rule
        (["Smith, Jones & Co", "1, 2"], False),
        ([], False),
    ],
)
def test_a_last_first_column_is_recognised_from_its_values(
    names: list[str], last_first: bool
) -> None:
    assert looks_last_first(pd.Series(names, dtype="str")) is last_first


@pytest.mark.parametrize(
    ("source", "parts"),
    [
        ("{Patient Name|first_last}", (ColumnRef("Patient Name", "first_last"),)),
        ("Hi {Name | first}", ("Hi ", ColumnRef("Name", "first"))),
        ("{A|B}", (ColumnRef("A|B"),)),  # not a filter word: the column is called "A|B"
    ],
)
def test_templates_read_a_name_filter_after_a_bar(source: str, parts: tuple[object, ...]) -> None:
    assert parse_template(source, where="name").parts == parts


def test_an_unknown_filter_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(MappingError, match=r"unknown filter \|firstlast .*\|first_last, \|first"):
        parse_template("{Patient Name|firstlast}", where="participants[1].name")
