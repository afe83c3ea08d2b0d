"""The checks loaded before the first row needs them, where nothing else is waiting for the
processor: what they load on first use (pandera's pandas backends, a zone, phone metadata) costs
~0.15 s, once per process.

The worker processes' server does it before it forks them (:mod:`importer.worker_preload`); the
command line does it while a workbook's sheet is being parsed ahead
(:func:`importer.load.read_ahead.parsing`), time it would otherwise spend waiting.
"""

from __future__ import annotations

import logging

import pandas as pd

from importer.mapping import parse_mapping
from importer.outcomes import RowIssue
from importer.prepare import validate_and_map

logger = logging.getLogger(__name__)


def warm_up() -> dict[int, list[RowIssue]]:
    """Check and map one made-up row, so that what the checks load on first use is loaded; its
    issues (none: every check ran to its end)."""
    mapping = parse_mapping(
        {
            "defaults": {
                "time_zone": "America/New_York",
                "date_format": "%m/%d/%Y",
                "time_format": "%I:%M %p",
            },
            "columns": {
                "Id": {"required": True, "unique": True},
                "Phone": {"type": "phone"},
                "Email": {"type": "email"},
            },
            "event": {
                "calendar": "Clinic",
                "external_id": "{Id}",
                "title": "Visit",
                "start": {"date": "{Date}", "time": "{Time}"},
                "duration_minutes": "30",
                "participants": [{"name": "{Id}", "phone": "{Phone}", "email": "{Email}"}],
            },
        }
    )
    row = {
        "Id": "1",
        "Date": "12/14/2026",
        "Time": "9:30 AM",
        "Phone": "(541) 555-0104",
        "Email": "ann@example.com",
    }
    return validate_and_map(pd.DataFrame([row], index=[2], dtype="str"), mapping)[1]


def head_start() -> None:
    """:func:`warm_up`, a failure logged and let go: it is only a head start (the first rows load
    what they need anyway)."""
    try:
        warm_up()
    except Exception:  # noqa: BLE001
        logger.debug("the checks' warm-up failed", exc_info=True)
