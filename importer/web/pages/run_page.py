"""Steps 4 and 5, a run: its page, its progress (JSON, polled by the page) and its reports.

``GET /runs/{run_id}`` shows the progress while the run goes and the result once it is done;
``GET /runs/{run_id}/progress`` answers the page's script; ``GET /runs/{run_id}/report.csv`` and
``report.xlsx`` download the finished run's reports.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from importer.web.runs import REPORT_CSV, REPORT_XLSX
from importer.web.services import Services, safe_stem
from importer.web.words import report_kinds

REPORT_TYPES = {
    "csv": (REPORT_CSV, "text/csv; charset=utf-8"),
    "xlsx": (
        REPORT_XLSX,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
}

router = APIRouter()


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, run_id: str, web: Services) -> Response:
    found = web.runs.get(run_id)
    if found is None:
        raise StarletteHTTPException(404, "run")
    record, progress = found
    done, total, label = progress.snapshot() if progress else (0, 0, "")
    folder = web.runs.folder(run_id)
    reports = [
        kind
        for kind in report_kinds(record.file_name)
        if folder is not None and (folder / REPORT_TYPES[kind][0]).is_file()
    ]
    return web.page(
        request,
        "run.html",
        step=5 if record.finished else 4,
        run=record,
        done=done,
        total=total,
        label=label,
        reports=reports if record.finished else [],
        past_runs=web.runs.past(web.settings.past_runs),
    )


@router.get("/runs/{run_id}/progress")
def run_progress(run_id: str, web: Services) -> Response:
    found = web.runs.get(run_id)
    if found is None:
        return JSONResponse({"error": "unknown run"}, status_code=404)
    record, progress = found
    done, total, label = progress.snapshot() if progress else (0, 0, "")
    return JSONResponse(
        {
            "state": record.state,
            "finished": record.finished,
            "done": done,
            "total": total,
            "label": label,
        }
    )


@router.get("/runs/{run_id}/report.{kind}")
def run_report(run_id: str, kind: str, web: Services) -> Response:
    found = web.runs.get(run_id)
    folder = web.runs.folder(run_id)
    if found is None or folder is None or kind not in REPORT_TYPES or not found[0].finished:
        raise StarletteHTTPException(404, "report")
    name, media_type = REPORT_TYPES[kind]
    if not (folder / name).is_file():
        raise StarletteHTTPException(404, "report")
    stem = safe_stem(found[0].file_name)
    return FileResponse(folder / name, media_type=media_type, filename=f"{stem}-report.{kind}")
