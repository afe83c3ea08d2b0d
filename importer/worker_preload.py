"""What the forkserver loads before it forks the worker processes (:mod:`importer.workers`).

A worker forked from the server shares the server's memory until one of them writes to it. Here
the server loads the pipeline, checks one made-up row with it (which loads what the checks only
load on first use: pandera's pandas backends, a zone, phone metadata), and then freezes its
objects for the cycle collector:

- each worker no longer loads those on its first part (~0.15 s of each worker's time);
- a worker's collector never walks the frozen objects. A walk writes to every object it visits,
  so each page they lie on would be copied into the worker. Measured on 1,000,000 rows with 2
  workers: ~20 MB less memory per worker, ~0.5 s less processor time in all.

Imported by the forkserver only. Imported elsewhere it freezes that process's objects too, which
does no harm beyond keeping what is garbage now from ever being collected. Windows starts workers
with ``spawn``, where nothing is shared and this module is not used.
"""

from __future__ import annotations

import gc
import logging

from importer.own_process import leave_out_test_only_modules

leave_out_test_only_modules()  # before pandera is imported

import pandas as pd  # noqa: E402

import importer.streaming  # noqa: E402, F401 (the pipeline each worker runs)
from importer.mapping import parse_mapping  # noqa: E402
from importer.outcomes import RowIssue  # noqa: E402
from importer.prepare import validate_and_map  # noqa: E402

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


try:
    warm_up()
except Exception:  # noqa: BLE001 (only a head start: a worker loads what it needs anyway)
    logger.debug("the worker processes' warm-up failed", exc_info=True)
gc.collect()
gc.freeze()
