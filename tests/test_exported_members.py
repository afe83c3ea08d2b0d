"""The public Python API: ``import importer`` exports exactly these names, each one real."""

from __future__ import annotations

import importer

EXPORTED = [
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


def test_all_is_the_pinned_list() -> None:
    assert importer.__all__ == EXPORTED


def test_every_exported_name_is_an_attribute() -> None:
    for name in importer.__all__:
        assert hasattr(importer, name), name
    assert set(importer.__all__) <= set(dir(importer))


def test_errors_share_one_root() -> None:
    errors = [n for n in importer.__all__ if n.endswith(("Error", "Refused", "Locked"))]
    assert len(errors) == 10
    for name in errors:
        assert issubclass(getattr(importer, name), importer.ImporterError), name


def test_an_unknown_name_is_an_attribute_error() -> None:
    assert not hasattr(importer, "no_such_name")
