"""Reading the upload form: the size limit while the body arrives, then the file into the store.

The limit is checked twice: against ``Content-Length`` before anything is read, and by counting
the bytes as they arrive (a client may send no length, or a false one), so an oversized upload
is refused with a message instead of filling the disk.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.types import Message

from importer.load import CSV_SUFFIXES
from importer.web.security import CSRF_FIELD
from importer.web.uploads import (
    StoreFull,
    Upload,
    UploadStore,
    accepted_suffix,
    shown_name,
)

FILE_FIELD = "spreadsheet"
MAPPING_FIELD = "mapping"
FIND_MAPPING = ""  # the mapping field's value: the saved mapping that fits the file, if one does
MATCH_COLUMNS = "match-columns"  # the mapping field's value: match the columns on the page
FORM_OVERHEAD_BYTES = 64 * 1024  # the other fields and the multipart headers
_CHUNK = 1024 * 1024


class UploadRefused(Exception):
    """The upload cannot be taken; the message is for the page."""

    def __init__(self, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.status_code = status_code


class _TooLarge(Exception):
    pass


@dataclass
class UploadForm:
    """The upload form's fields, the file still in Starlette's spooled temporary file."""

    csrf_token: str
    mapping_file: str
    file: UploadFile
    file_name: str  # shown_name() of the name the browser sent


def too_large_message(limit: int) -> str:
    """What the page says about a file over the limit (in MB, as people know file sizes)."""
    return (
        f"Files over {limit / (1024 * 1024):g} MB are not accepted here. Split the file into "
        "smaller ones (for example one month each), or ask whoever runs this page to raise the "
        "limit."
    )


async def read_upload_form(request: Request, limit: int) -> tuple[UploadForm, Any]:
    """Parse the form, refusing a body over ``limit`` bytes plus the form's overhead.

    Returns the fields and the parsed form (close it with ``await form.close()``). Raises
    UploadRefused (413 too large, 400 no file or a broken form).
    """
    body_limit = limit + FORM_OVERHEAD_BYTES
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > body_limit:
        raise UploadRefused(too_large_message(limit), 413)
    received = 0

    async def counting_receive() -> Message:
        nonlocal received
        message = await request.receive()
        if message.get("type") == "http.request":
            received += len(message.get("body", b""))
            if received > body_limit:
                raise _TooLarge
        return message

    counted = Request(request.scope, counting_receive)
    try:
        form = await counted.form(max_files=1, max_fields=5)
    except _TooLarge:
        raise UploadRefused(too_large_message(limit), 413) from None
    except MultiPartException as exc:
        raise UploadRefused(f"The upload did not arrive whole ({exc}); try again.") from exc
    file = form.get(FILE_FIELD)
    if not isinstance(file, UploadFile) or not file.filename:
        await form.close()
        raise UploadRefused("Choose a spreadsheet (.csv, .xlsx, .xls or .ods) to upload.")
    fields = UploadForm(
        csrf_token=str(form.get(CSRF_FIELD) or ""),
        mapping_file=str(form.get(MAPPING_FIELD) or ""),
        file=file,
        file_name=shown_name(file.filename),
    )
    return fields, form


async def store_upload(fields: UploadForm, store: UploadStore, limit: int) -> Upload:
    """Copy the file into the private folder under a random name; UploadRefused when unfit."""
    suffix = accepted_suffix(fields.file_name)
    if suffix is None:
        raise UploadRefused(
            f"“{fields.file_name}” is not a spreadsheet this page reads: choose a CSV file "
            f"({', '.join(CSV_SUFFIXES)}), an Excel workbook (.xlsx, .xlsm, .xlsb, .xls) or an "
            "OpenDocument spreadsheet (.ods)."
        )
    try:
        store.check_room(fields.file.size or 0)
    except StoreFull as exc:
        raise UploadRefused(str(exc), 503) from exc
    token, path = store.new_path(suffix)
    written = 0
    descriptor = store.open_private(path)
    try:
        with os.fdopen(descriptor, "wb") as target:
            while chunk := await fields.file.read(_CHUNK):
                written += len(chunk)
                if written > limit:
                    raise UploadRefused(too_large_message(limit), 413)
                target.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Upload(
        token=token, file_name=fields.file_name, path=path, mapping_file=fields.mapping_file
    )
