"""The filters of a template placeholder: ``{Patient Name|first_last}`` (people's names, see
:mod:`importer.values.names`) and ``{Time|start}``, ``{Time|end}`` (a time range in one cell, see
:mod:`importer.values.time_ranges`), ``{@title|date}`` (the date in a longer text, see
:mod:`importer.values.date_in_text`) and ``{Time Zone|zone}`` (a zone's short name as its zone,
see :func:`importer.values.zones.zone_of_short_name`), ``{Duration (hrs)|hours}`` (a column of
hours, see :mod:`importer.values.durations`). Each works on a cell's text, once per
distinct cell."""

from __future__ import annotations

import pandas as pd

from importer.values.date_in_text import DATE_FILTERS
from importer.values.distinct import map_distinct
from importer.values.durations import DURATION_FILTERS
from importer.values.names import NAME_FILTERS
from importer.values.time_ranges import TIME_RANGE_FILTERS
from importer.values.zones import ZONE_FILTERS

FILTERS = {
    **NAME_FILTERS,
    **TIME_RANGE_FILTERS,
    **DATE_FILTERS,
    **ZONE_FILTERS,
    **DURATION_FILTERS,
}


def apply_filter(values: pd.Series, name: str) -> pd.Series:
    """``values`` (text, "" for blank) through the filter ``name`` (a key of FILTERS)."""
    convert = FILTERS[name]
    return map_distinct(
        values, lambda distinct: pd.Series([convert(v) if v else "" for v in distinct], dtype="str")
    )
