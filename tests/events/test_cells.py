"""Multi-part templates render the same whether joined per distinct combination or per row."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importer.events import TemplateRenderer
from importer.mapping import parse_template


def row_by_row(frame: pd.DataFrame, source: str) -> list[str]:
    """Per row: cells stripped of (no-break) spaces, whitespace-only = blank; joined, stripped."""
    template = parse_template(source, where="test")

    def cell(value: str | float | None) -> str:
        text = "" if pd.isna(value) else str(value)
        return text.strip(" \u00a0") if text.strip() else ""

    out = []
    for _, row in frame.iterrows():
        text = "".join(p if isinstance(p, str) else cell(row[p.column]) for p in template.parts)
        out.append(text.strip(" \u00a0"))
    return out


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{Service} with {Provider}", ["Flu shot with Dr. Chen", "with Dr. Chen", "Flu shot with"]),
        ("{First} {Last}", ["Ana Li", "Li", "Ana"]),
        ("id-{First}-{First}", ["id-Ana-Ana", "id--", "id-Ana-Ana"]),
    ],
)
def test_templates_render_per_row(source: str, expected: list[str]) -> None:
    frame = pd.DataFrame(
        {
            "Service": ["Flu shot", None, " Flu shot "],
            "Provider": ["Dr. Chen", "Dr. Chen", "  "],
            "First": ["Ana", "", "Ana"],
            "Last": ["Li", "Li ", None],
        },
        index=pd.Index([2, 3, 4], name="row"),
        dtype="str",
    )
    rendered = TemplateRenderer(frame).render(parse_template(source, where="test"))
    assert rendered.tolist() == expected
    assert rendered.index.tolist() == [2, 3, 4]


cells = st.one_of(st.none(), st.sampled_from(["", " ", "a", " a", "b ", "a b", "Dr. X"]), st.text())


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(st.tuples(cells, cells), min_size=0, max_size=30),
    source=st.sampled_from(["{A} with {B}", "{A}{B}", " {B} - {A} ", "x{A}y{A}z{B}"]),
)
def test_joined_per_combination_equals_row_by_row(
    rows: list[tuple[str | None, str | None]], source: str
) -> None:
    frame = pd.DataFrame(rows, columns=["A", "B"], dtype="str")
    frame.index = pd.RangeIndex(2, 2 + len(frame), name="row")
    rendered = TemplateRenderer(frame).render(parse_template(source, where="test"))
    assert rendered.tolist() == row_by_row(frame, source)
