"""A hand-kept export read in parts reads as it does whole, wherever the parts begin and end.

Apart from tests/test_parts.py: worker processes refuse test-only packages (hypothesis), and the
worker tests send functions of modules that import that one.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importer.pipeline import validate_file
from tests.test_parts import ONE_PART, big_export, lines, request

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
    path = tmp_path / "export.csv"
    records = list(csv.reader(io.StringIO(big_export(path).read_text(encoding="utf-8"))))
    for at, what in sorted(mess, key=lambda m: -m[0]):
        at = min(at, len(records) - 1)
        if what == "header":
            records.insert(at, records[2])
        elif what == "extra cells":
            records[at] = [*records[at], "call her mother"]
        else:
            records.insert(at, what)
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(records)
    whole = validate_file(request(path, tmp_path, ONE_PART))
    parted = validate_file(request(path, tmp_path, part_rows))
    assert whole.report_path is not None and parted.report_path is not None
    assert lines(parted.report_path) == lines(whole.report_path)
    assert parted.warnings == whole.warnings
    assert parted.done.counter == whole.done.counter
