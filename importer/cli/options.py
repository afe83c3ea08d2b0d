"""Options of the commands, declared once: the shared ones as types, ``run`` and ``plan``'s as
one dataclass (:class:`PlanArgs`) that :func:`plan_options` turns into typer parameters."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from importer.load.limits import CSV_SUFFIXES, STREAMED_MAX_ROWS
from importer.plan_options import DEFAULT_MAX_CANCEL_SHARE, PlanOptions

DEFAULT_REPORT_DIR = Path("reports")

FileArg = Annotated[
    Path,
    typer.Argument(
        help="The spreadsheet: CSV (.csv, .tsv, .txt), Excel (.xlsx, .xlsm, .xlsb, .xls) or "
        "OpenDocument (.ods).",
        show_default=False,
    ),
]
MappingOpt = Annotated[Path, typer.Option("--mapping", "-m", help="The mapping file (YAML).")]
ReportOpt = Annotated[
    Path | None,
    typer.Option("--report", help="Where to write the per-row report (.csv or .xlsx)."),
]
SheetOpt = Annotated[
    str | None, typer.Option("--sheet", help="Sheet of a workbook (default: the table's sheet).")
]
SheetsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--sheet",
        help="Sheet of a workbook; repeat it to read several in one run (default: the mapping's "
        "sheets, else the one with the table).",
    ),
]
AllSheetsOpt = Annotated[
    bool,
    typer.Option("--all-sheets", help="Read every sheet of the workbook that has the columns."),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar, summary only.")]
StateOpt = Annotated[
    Path | None,
    typer.Option(
        "--state",
        help="The ledger of what earlier runs sent (SQLite; default: state.sqlite in the "
        "data folder, APPTOTO_IMPORT_HOME).",
        show_default=False,
    ),
]
MaxRowsOpt = Annotated[
    int | None, typer.Option("--max-rows", help="Refuse files with more rows (default 5,000,000).")
]
WorkersOpt = Annotated[
    int | None,
    typer.Option(
        "--workers",
        min=1,
        help="Processes that share a big file's per-row work (default: one per core, at most "
        "4; 1: this process alone). A file read in one part starts none (up to 100,000 rows "
        "checked, 25,000 sent).",
        show_default=False,
    ),
]


def workers_or_default(workers: int | None) -> int:
    """``--workers``, else one per core (:func:`importer.workers.default_workers`)."""
    from importer.workers import default_workers

    return workers if workers is not None else default_workers()


def sheet_choice(names: list[str] | None, all_sheets: bool) -> dict[str, Any]:
    """A RunRequest's ``sheet``, ``sheets`` and ``all_sheets`` from --sheet (repeated) and
    --all-sheets: one name is ``sheet``, several are ``sheets``."""
    chosen = tuple(names or ())
    return {
        "sheet": chosen[0] if len(chosen) == 1 else None,
        "sheets": chosen if len(chosen) > 1 else (),
        "all_sheets": all_sheets,
    }


def read_ahead_of(
    file: Path,
    mapping: Path,
    names: list[str] | None,
    all_sheets: bool,
    max_rows: int | None,
) -> None:
    """Start parsing the workbook's sheet to be read (the one --sheet or the mapping names, else
    its only one) while the rest of the program loads (:mod:`importer.load.read_ahead`). Call it
    before importing the pipeline: that import is what the parse overlaps."""
    if all_sheets or (names is not None and len(names) > 1):
        return
    from importer.load.read_ahead import read_ahead
    from importer.mapping.yaml_text import named_sheet

    cap = STREAMED_MAX_ROWS if max_rows is None else max_rows
    read_ahead(file, names[0] if names else named_sheet(mapping), max_rows=cap)


def meanwhile() -> None:
    """While a workbook's sheet is parsed ahead (:func:`read_ahead_of`), load what the checks
    load on first use (:mod:`importer.warm_up`): time the command would spend waiting. Call it
    once the pipeline is imported."""
    from importer.load.read_ahead import parsing

    if parsing():
        from importer.warm_up import head_start

        head_start()


def default_report_path(source: Path) -> Path:
    """``reports/<file name>-report.csv`` in the working directory: where ``run`` reports.

    ``.xlsx`` instead when the source is a workbook: people open it in Excel, which keeps the
    zeros of ``000101`` only in a workbook.
    """
    suffix = ".csv" if source.suffix.lower() in CSV_SUFFIXES else ".xlsx"
    return DEFAULT_REPORT_DIR / f"{source.stem}-report{suffix}"


@dataclasses.dataclass(frozen=True)
class PlanArgs:
    """The options ``run`` and ``plan`` share: the file, the ledger and how to plan against it."""

    file: FileArg
    mapping: MappingOpt
    report: ReportOpt = None  # default: reports/<file name>-report.csv (.xlsx for a workbook)
    sheet: SheetsOpt = None
    all_sheets: AllSheetsOpt = False
    quiet: QuietOpt = False
    state: StateOpt = None  # default: the data folder's, shared with the web page
    full: Annotated[
        bool, typer.Option("--full", help="Re-send every row, even unchanged ones.")
    ] = False
    cancel_missing: Annotated[
        bool,
        typer.Option(
            "--cancel-missing",
            help="Delete events this mapping created whose rows are no longer in the file.",
        ),
    ] = False
    force: Annotated[
        bool, typer.Option("--force", help="With --cancel-missing: cancel past the guard.")
    ] = False
    max_cancel_share: Annotated[
        float,
        typer.Option(
            "--max-cancel-share",
            min=0.0,
            max=1.0,
            help="With --cancel-missing: refuse to cancel more than this share (0 to 1) of the "
            "mapping's events.",
        ),
    ] = DEFAULT_MAX_CANCEL_SHARE
    recreate_on_calendar_change: Annotated[
        bool,
        typer.Option(
            "--recreate-on-calendar-change",
            help="Delete and re-create an event whose calendar changed (Apptoto cannot move it).",
        ),
    ] = False
    allow_same_time_duplicates: Annotated[
        bool,
        typer.Option(
            "--allow-same-time-duplicates",
            help="Send new events even when one in the same calendar, at the same start, for the "
            "same person was already sent (by any mapping).",
        ),
    ] = False
    allow_shared_ids: Annotated[
        bool,
        typer.Option(
            "--allow-shared-ids",
            help="Update events even when another file sent their id for another person (two "
            "files numbering their appointments alike).",
        ),
    ] = False
    summary_json: Annotated[
        Path | None,
        typer.Option("--summary-json", help="Write counts and exit code as JSON here."),
    ] = None
    max_rows: MaxRowsOpt = None
    workers: WorkersOpt = None

    @property
    def report_path(self) -> Path:
        """``--report``, else ``reports/<file name>-report.csv`` (``.xlsx`` for a workbook)."""
        return self.report if self.report is not None else default_report_path(self.file)

    def sheet_choice(self) -> dict[str, Any]:
        """A RunRequest's ``sheet``, ``sheets`` and ``all_sheets`` from --sheet and --all-sheets."""
        return sheet_choice(self.sheet, self.all_sheets)

    def plan_options(self) -> PlanOptions:
        """How to plan against the ledger: every PlanOptions field these options share."""
        shared = [f.name for f in dataclasses.fields(PlanOptions) if hasattr(self, f.name)]
        return PlanOptions(**{name: getattr(self, name) for name in shared})


def _plan_parameters() -> list[inspect.Parameter]:
    hints = typing.get_type_hints(PlanArgs, include_extras=True)
    return [
        inspect.Parameter(
            f.name,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            annotation=hints[f.name],
            default=inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default,
        )
        for f in dataclasses.fields(PlanArgs)
    ]


def plan_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give ``command(args: PlanArgs, **own)`` the options of :class:`PlanArgs` as its own.

    Typer reads the signature: the shared options come first, then the command's own (after
    ``args``). Like sqlite-utils' ``insert_upsert_options``, without a second copy of them.
    """
    shared = _plan_parameters()
    own = list(inspect.signature(command, eval_str=True).parameters.values())[1:]
    names = [p.name for p in shared]

    @functools.wraps(command)
    def with_options(**kwargs: Any) -> None:
        args = PlanArgs(**{name: kwargs.pop(name) for name in names})
        command(args, **kwargs)

    del with_options.__wrapped__  # typer must see the signature below, not the command's
    parameters = shared + own
    with_options.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    with_options.__annotations__ = {p.name: p.annotation for p in parameters}
    return with_options
