"""Pure value parsing shared by the stages: dates, times, zones, phones, names, column helpers.

Everything here works on whole columns (``pd.Series``) and knows nothing of mappings or Apptoto.
"""

from importer.values.dates import parse_dates, parse_datetimes, parse_times
from importer.values.distinct import collector_paused, is_empty, map_distinct, not_empty
from importer.values.filters import FILTERS, apply_filter
from importer.values.format_words import format_in_words
from importer.values.names import looks_last_first
from importer.values.offsets import DstPolicy, localise
from importer.values.phones import normalise_phone, normalise_phones, written_countries
from importer.values.zones import (
    countries,
    is_zone,
    known_zones,
    suggest_zone,
    zone_cell_problem,
    zone_country,
    zone_problem,
)

__all__ = [
    "FILTERS",
    "DstPolicy",
    "apply_filter",
    "collector_paused",
    "countries",
    "format_in_words",
    "is_empty",
    "is_zone",
    "known_zones",
    "localise",
    "looks_last_first",
    "map_distinct",
    "normalise_phone",
    "normalise_phones",
    "written_countries",
    "not_empty",
    "parse_dates",
    "parse_datetimes",
    "parse_times",
    "suggest_zone",
    "zone_cell_problem",
    "zone_country",
    "zone_problem",
]
