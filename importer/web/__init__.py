"""The web page for office staff: upload a spreadsheet, review it, send it, get the report.

``apptoto-import serve`` starts it (:func:`importer.web.server.serve`); tests use
:func:`importer.web.server.running_web` or :func:`importer.web.app.create_app` with a TestClient.
"""

from __future__ import annotations

from importer.web.app import create_app
from importer.web.settings import WebSettings

__all__ = ["WebSettings", "create_app"]
