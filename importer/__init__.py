"""apptoto-importer: spreadsheets of appointments into Apptoto events, as a Python library.

The pipeline, one package or module per stage: ``load`` -> ``mapping`` -> ``validate`` ->
``events`` (map) -> ``plan`` (against the ``ledger``) -> ``send`` (``client``) -> ``report``, tied
together by ``pipeline``; ``cli`` and ``web`` are its two faces. The library prints nothing
and picks no exit code. ``__all__`` is the public API (``tests/test_exported_members.py`` pins
it)::

    import importer

    mapping = importer.load_mapping("importer/examples/clinic.yaml")
    request = importer.RunRequest(source=Path("appointments.csv"), mapping=mapping)
    planned = importer.plan_import(request)  # sends nothing, writes nothing
    summary = importer.run_import(replace(request, client_config=importer.ClientConfig.from_env()))

The README's "Python API" has the whole example.

Names are imported on first use (PEP 562): ``import importer.sandbox`` stays as cheap as before.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from importer._version import __version__

if TYPE_CHECKING:
    from importer.assist import Proposal, propose_mapping
    from importer.client import ClientConfig
    from importer.errors import (
        ConfigError,
        CredentialsRefused,
        ImporterError,
        LedgerError,
        LedgerLocked,
        LoadError,
        MappingError,
        PlanRefused,
        ReportError,
        SendError,
    )
    from importer.ledger import Ledger
    from importer.load import Sheet, load_table
    from importer.mapping import Mapping, load_mapping
    from importer.outcomes import PlanAction, RowIssue, RowResult, RowStatus, SkipReason
    from importer.pipeline import (
        PlannedImport,
        RunRequest,
        RunSummary,
        plan_import,
        run_import,
        run_import_async,
        validate_rows,
    )
    from importer.plan import Plan, PlanOptions
    from importer.prepare import Prepared, prepare
    from importer.progress import NullProgress, Progress
    from importer.report import write_report

# Public name -> the module that defines it.
_HOMES = {
    "load_table": "importer.load",
    "Sheet": "importer.load",
    "load_mapping": "importer.mapping",
    "Mapping": "importer.mapping",
    "prepare": "importer.prepare",
    "Prepared": "importer.prepare",
    "plan_import": "importer.pipeline",
    "PlannedImport": "importer.pipeline",
    "validate_rows": "importer.pipeline",
    "run_import": "importer.pipeline",
    "run_import_async": "importer.pipeline",
    "RunRequest": "importer.pipeline",
    "RunSummary": "importer.pipeline",
    "Plan": "importer.plan",
    "PlanOptions": "importer.plan",
    "ClientConfig": "importer.client",
    "Ledger": "importer.ledger",
    "write_report": "importer.report",
    "Progress": "importer.progress",
    "NullProgress": "importer.progress",
    "RowResult": "importer.outcomes",
    "RowStatus": "importer.outcomes",
    "RowIssue": "importer.outcomes",
    "PlanAction": "importer.outcomes",
    "SkipReason": "importer.outcomes",
    "propose_mapping": "importer.assist",
    "Proposal": "importer.assist",
    "ImporterError": "importer.errors",
    "ConfigError": "importer.errors",
    "LoadError": "importer.errors",
    "MappingError": "importer.errors",
    "PlanRefused": "importer.errors",
    "SendError": "importer.errors",
    "CredentialsRefused": "importer.errors",
    "LedgerError": "importer.errors",
    "LedgerLocked": "importer.errors",
    "ReportError": "importer.errors",
}

__all__ = [
    "ClientConfig",
    "ConfigError",
    "CredentialsRefused",
    "ImporterError",
    "Ledger",
    "LedgerError",
    "LedgerLocked",
    "LoadError",
    "Mapping",
    "MappingError",
    "NullProgress",
    "Plan",
    "PlanAction",
    "PlanOptions",
    "PlanRefused",
    "PlannedImport",
    "Prepared",
    "Progress",
    "Proposal",
    "ReportError",
    "RowIssue",
    "RowResult",
    "RowStatus",
    "RunRequest",
    "RunSummary",
    "SendError",
    "Sheet",
    "SkipReason",
    "__version__",
    "load_mapping",
    "load_table",
    "plan_import",
    "prepare",
    "propose_mapping",
    "run_import",
    "run_import_async",
    "validate_rows",
    "write_report",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # once found, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
