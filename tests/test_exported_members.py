"""The public Python API: ``import importer`` exports exactly these names, each one real."""

from __future__ import annotations

import importlib

import pytest

import importer

# By stage, in the order data flows; ``__all__`` itself is sorted.
EXPORTED = {
    "loading": "load_table Sheet",
    "mapping": "load_mapping Mapping Proposal propose_mapping",
    "checking and mapping": "prepare Prepared validate_rows RowIssue",
    "planning": "plan_import PlannedImport Plan PlanOptions PlanAction Ledger",
    "sending": (
        "run_import run_import_async RunRequest RunSummary RowResult RowStatus SkipReason "
        "ClientConfig"
    ),
    "reporting": "write_report Progress NullProgress",
    "errors": (
        "ImporterError ConfigError CredentialsRefused LedgerError LedgerLocked LoadError "
        "MappingError PlanRefused ReportError SendError"
    ),
    "version": "__version__",
}


def test_all_is_the_pinned_list() -> None:
    pinned = [name for names in EXPORTED.values() for name in names.split()]
    assert importer.__all__ == sorted(pinned)


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


@pytest.mark.parametrize("package", ["importer.load", "importer.mapping"])
def test_a_package_that_looks_its_names_up_lists_each_once_and_each_is_real(package: str) -> None:
    # __all__ must stay a literal list (ruff and mypy read only that) beside _HOMES, which says
    # where each name looked up when first used is (the light constants are imported at once):
    # every name of _HOMES is exported, and every exported name is found.
    module = importlib.import_module(package)
    assert set(module._HOMES) <= set(module.__all__)
    for name in module.__all__:
        assert getattr(module, name) is not None, name
