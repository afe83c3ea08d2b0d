"""Issue 17, YAML injection through a column header: the assistant's file says only what it means.

A header is text the spreadsheet's author chose. Written into the proposed mapping (as a comment
offering it as custom data, or as a quoted key), it must stay on its line, whatever characters it
holds, so it cannot add or replace a key of the mapping.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from importer.assist import Proposal, propose_mapping
from importer.load import load_table
from importer.mapping import load_mapping
from tests.helpers import SAMPLES

LA = "America/Los_Angeles"
# What YAML reads as a line break besides \n and \r, which JSON escaping already covers.
LINE_BREAKS = ["\u2028", "\u2029", "\x85"]


def proposal_with_header(header: str) -> Proposal:
    frame = load_table(SAMPLES / "appointments.csv").frame
    frame[header] = "x"
    return propose_mapping(frame, name="clinic", time_zone=LA)


@pytest.mark.parametrize("line_break", LINE_BREAKS, ids=["U+2028", "U+2029", "U+0085"])
def test_yaml_injection_through_a_column_header(line_break: str) -> None:
    # The red team's header: end the comment, replace the patient with another phone number.
    header = line_break.join(
        ["Ref", "  participants:", "  - name: Mallory Injected", '    phone: "+15415550199"', "#"]
    )
    proposal = proposal_with_header(header)
    text = proposal.to_yaml()
    assert line_break not in text
    for line in text.splitlines():
        assert line.lstrip().startswith("#") or "+15415550199" not in line
    mapping = proposal.to_mapping()
    (participant,) = mapping.event.participants
    assert participant.phone is not None and "Phone" in participant.phone.columns
    assert "Mallory" not in str(mapping)


def test_yaml_injection_a_header_is_kept_whole_where_it_is_a_key(tmp_path: Path) -> None:
    # A column used by a check is a quoted key: the header comes back as it was written.
    header = "Appointment\u2028ID\x85\x07"
    frame = load_table(SAMPLES / "appointments.csv").frame.rename(
        columns={"Appointment ID": header}
    )
    proposal = propose_mapping(frame, name="clinic", time_zone=LA)
    saved = tmp_path / "clinic.yaml"
    saved.write_text(proposal.to_yaml(), encoding="utf-8")
    mapping = load_mapping(saved)
    assert header in mapping.referenced_columns()


def test_yaml_injection_a_billion_laughs_header_is_inert() -> None:
    header = "Ref\u2028  custom_data: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\u2028#"
    assert "{" not in header  # a header with braces is never used, so the attack has none
    proposal = proposal_with_header(header)
    assert proposal.to_mapping().event.custom_data == ()
