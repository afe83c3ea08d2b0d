"""importer.zeros_dropped: the ids Excel makes of an id by dropping leading zeros, and which
events of the ledger a file holds under such ids."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest

from importer.ledger import Ledger, LedgerEntry
from importer.zeros_dropped import MAX_NUMBERS, ids_without_zeros, zeros_dropped


@pytest.mark.parametrize(
    ("external_id", "made"),
    [
        ("clinic-000101", ["clinic-101"]),
        ("000101", ["101"]),
        ("clinic-101", []),  # no zeros to lose
        ("A0012", []),  # zeros inside a code, not leading a number: Excel keeps them
        ("clinic_007", ["clinic_7"]),
        (
            "c-001234-12/14/2026-08:00 AM",
            [
                "c-1234-12/14/2026-08:00 AM",
                "c-001234-12/14/2026-8:00 AM",
                "c-1234-12/14/2026-8:00 AM",
                "c-001234-12/14/2026-08:0 AM",
                "c-1234-12/14/2026-08:0 AM",
                "c-001234-12/14/2026-8:0 AM",
                "c-1234-12/14/2026-8:0 AM",
            ],
        ),
        ("d-01/05/2026", ["d-1/05/2026", "d-01/5/2026", "d-1/5/2026"]),
    ],
)
def test_the_ids_an_id_becomes_with_its_leading_zeros_dropped(
    external_id: str, made: list[str]
) -> None:
    assert zeros_dropped(external_id) == made


def test_an_id_of_many_numbers_is_varied_in_its_first_ones_only() -> None:
    many = "-".join(["01"] * 12)
    made = zeros_dropped(many)
    assert len(made) == 2**MAX_NUMBERS - 1
    assert all(m.endswith("-".join(["01"] * 4)) for m in made)


def entry(external_id: str, apptoto_id: int) -> LedgerEntry:
    return LedgerEntry("clinic", external_id, apptoto_id, "Dr A", "h", "created", "", "f.csv", 2)


def absent_from(file_ids: Iterable[str]) -> Callable[[list[str]], list[bool]]:
    ids = set(file_ids)
    return lambda asked: [i not in ids for i in asked]


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger.open(tmp_path / "state.sqlite") as opened:
        yield opened


def test_a_file_id_that_is_an_event_s_id_without_zeros_is_that_event(ledger: Ledger) -> None:
    gone = [entry("clinic-000101", 1), entry("clinic-000102", 2)]
    found = ids_without_zeros(gone, absent_from(["clinic-101"]), ledger, "clinic")
    assert found == {"clinic-101": gone[0]}


def test_an_id_two_events_could_have_become_is_neither_s(ledger: Ledger) -> None:
    gone = [entry("clinic-0101", 1), entry("clinic-00101", 2)]
    assert ids_without_zeros(gone, absent_from(["clinic-101"]), ledger, "clinic") == {}


def test_an_event_the_file_holds_under_two_ids_is_neither_row_s(ledger: Ledger) -> None:
    gone = [entry("clinic-01-01", 1)]
    absent = absent_from(["clinic-1-01", "clinic-01-1"])
    assert ids_without_zeros(gone, absent, ledger, "clinic") == {}


def test_an_id_another_event_was_sent_under_is_that_event_s(ledger: Ledger) -> None:
    ledger.record([entry("clinic-101", 7)])
    gone = [entry("clinic-000101", 1)]
    assert ids_without_zeros(gone, absent_from(["clinic-101"]), ledger, "clinic") == {}
