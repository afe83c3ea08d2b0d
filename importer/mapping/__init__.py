"""Stage 2, mapping: the YAML file that says how a sheet's columns become Apptoto events.

:func:`load_mapping` reads and checks a mapping file (every problem at once, as a
``MappingError``); :class:`Mapping` is the typed result; :func:`check_columns` holds it against a
sheet's header.

The names below are looked up when first used (PEP 562): importing this package, or its light
module :mod:`importer.mapping.yaml_text`, does not import pandas (see :mod:`importer.load`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from importer.lazy import lazy_names

if TYPE_CHECKING:
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
        ZonesByColumn,
        parse_template,
    )
    from importer.mapping.parse import format_problem, load_mapping, parse_mapping
    from importer.values import DstPolicy

# Public name -> the module that defines it.
_HOMES = {
    **dict.fromkeys(("check_columns", "closest_headers"), "importer.mapping.columns"),
    **dict.fromkeys(
        (
            "DEFAULT_PHONE_REGION",
            "SHEET_VALUES",
            "SHOW_AS",
            "CancelledRows",
            "ColumnCheck",
            "ColumnRef",
            "ColumnType",
            "Defaults",
            "EventTemplate",
            "Mapping",
            "ParticipantTemplate",
            "Template",
            "When",
            "ZonesByColumn",
            "parse_template",
        ),
        "importer.mapping.model",
    ),
    **dict.fromkeys(("format_problem", "load_mapping", "parse_mapping"), "importer.mapping.parse"),
    "DstPolicy": "importer.values",
}


__getattr__ = lazy_names(__name__, _HOMES, globals())  # names of _HOMES, imported when first used

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
    "ZonesByColumn",
    "check_columns",
    "closest_headers",
    "format_problem",
    "load_mapping",
    "parse_mapping",
    "parse_template",
]
