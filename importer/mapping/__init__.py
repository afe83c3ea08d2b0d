"""Stage 2, mapping: the YAML file that says how a sheet's columns become Apptoto events.

:func:`load_mapping` reads and checks a mapping file (every problem at once, as a
``MappingError``); :class:`Mapping` is the typed result; :func:`check_columns` holds it against a
sheet's header.
"""

from importer.mapping.columns import check_columns, closest_headers
from importer.mapping.model import (
    DEFAULT_PHONE_REGION,
    SHEET_VALUES,
    SHOW_AS,
    CancelledRows,
    ColumnCheck,
    ColumnRef,
    ColumnType,
    Defaults,
    EventTemplate,
    Mapping,
    ParticipantTemplate,
    Template,
    When,
    parse_template,
)
from importer.mapping.parse import format_problem, load_mapping, parse_mapping
from importer.values import DstPolicy

__all__ = [
    "DEFAULT_PHONE_REGION",
    "SHEET_VALUES",
    "SHOW_AS",
    "CancelledRows",
    "ColumnCheck",
    "ColumnRef",
    "ColumnType",
    "Defaults",
    "DstPolicy",
    "EventTemplate",
    "Mapping",
    "ParticipantTemplate",
    "Template",
    "When",
    "check_columns",
    "closest_headers",
    "format_problem",
    "load_mapping",
    "parse_mapping",
    "parse_template",
]
