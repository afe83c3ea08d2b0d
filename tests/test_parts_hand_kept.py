"""A hand-kept export read in parts reads as it does whole, wherever the parts begin and end.

Apart from tests/test_parts.py: worker processes refuse test-only packages (hypothesis), and the
worker tests send functions of modules that import that one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importer.pipeline import validate_file
from tests.test_parts import ONE_PART, export_records, lines, request, write_records

# What staff leave in an export kept by hand, typed between its appointments: a note, a heading,
# a blank line, a subtotal, the header again (two exports pasted), cells past the last header.
_MESS = st.sampled_from(
    [
        ["Patient called - will reschedule"],
        ["Dr. Patel - Tuesday"],
        [],
        ["Dr. Kim total", *[""] * 13, "12"],
        ["Count", "12"],
        ["", "", "", "", "", "see front desk"],
        "header",
        "extra cells",
    ]
)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    mess=st.lists(st.tuples(st.integers(4, 120), _MESS), max_size=12),
    part_rows=st.integers(8, 40),
)
def test_a_hand_kept_export_read_in_parts_is_read_as_whole(
    tmp_path: Path, mess: list[tuple[int, Any]], part_rows: int
) -> None:
    # The rows set aside, the columns kept, the warnings and every report line are the file's,
    # wherever its parts begin and end.
    records = export_records(tmp_path / "export.csv")
    for at, what in sorted(mess, key=lambda m: -m[0]):
        at = min(at, len(records) - 1)
        if what == "header":
            records.insert(at, records[2])
        elif what == "extra cells":
            # Not on the copy of the first row near the end (records[118]): no longer a copy, it
            # is the same patient booked twice far apart, a warning judged within a part only
            # (importer.file_facts).
            records[min(at, 117)] = [*records[min(at, 117)], "call her mother"]
        else:
            records.insert(at, what)
    path = write_records(tmp_path / "export.csv", records)
    whole = validate_file(request(path, tmp_path, ONE_PART))
    parted = validate_file(request(path, tmp_path, part_rows))
    assert whole.report_path is not None and parted.report_path is not None
    assert lines(parted.report_path) == lines(whole.report_path)
    assert parted.warnings == whole.warnings
    assert parted.done.counter == whole.done.counter
