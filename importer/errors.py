"""The one error tree of the importer.

Row-level problems are *values* (:class:`importer.outcomes.RowIssue`), never exceptions; these
exceptions mean a whole stage cannot go on::

    ImporterError
    ├── ConfigError              bad option, missing credentials, bad environment
    ├── LoadError                the spreadsheet cannot be read (file=, sheet=, row=, column=)
    ├── MappingError             the mapping file is invalid or does not fit the sheet (problems=)
    ├── PlanRefused              the run would do something unsafe (cancel too much) without --force
    ├── SendError                talking to Apptoto failed for the whole run
    │   └── CredentialsRefused   401/403: never retried, the run stops
    ├── LedgerError              the state file cannot be read or written
    │   └── LedgerLocked         another run holds the ledger
    └── ReportError              the report cannot be written

Third-party errors are converted at the edge with ``raise ... from exc``. No message ever holds
the API key.
"""

from __future__ import annotations


class ImporterError(Exception):
    """Root of every error the importer raises on purpose."""

    def __reduce__(self) -> tuple[object, ...]:
        # Raised in a worker process (importer.workers), an error comes back pickled: with its
        # fields (file, row, problems), not only its message.
        return (_rebuilt, (type(self), self.args, dict(self.__dict__)))


def _rebuilt(
    cls: type[ImporterError], args: tuple[object, ...], state: dict[str, object]
) -> ImporterError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class ConfigError(ImporterError):
    """An option or environment variable is missing or invalid."""


class LoadError(ImporterError):
    """The input file cannot be read as a table of text cells."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file = file
        self.sheet = sheet
        self.row = row
        self.column = column
        where = ", ".join(
            part
            for part in (
                f"file {file}" if file else "",
                f"sheet {sheet!r}" if sheet else "",
                f"row {row}" if row is not None else "",
                f"column {column!r}" if column else "",
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message)


class MappingError(ImporterError):
    """The mapping file is invalid, or names columns the sheet does not have."""

    def __init__(self, message: str, *, file: str | None = None, problems: list[str] | None = None):
        self.file = file
        self.problems = list(problems or [])
        text = f"{file}: {message}" if file else message
        if self.problems:
            text += "\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(text)


class PlanRefused(ImporterError):
    """The plan is refused as unsafe, e.g. it would cancel more events than the guard allows."""


class SendError(ImporterError):
    """Apptoto could not be reached or refused the whole run."""


class CredentialsRefused(SendError):
    """Apptoto answered 401 or 403: the user name or API key was refused."""


class LedgerError(ImporterError):
    """The state file (ledger) cannot be opened, read or written."""


class LedgerLocked(LedgerError):
    """Another run is using the same ledger."""


class ReportError(ImporterError):
    """The report file cannot be written."""
