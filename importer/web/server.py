"""Running the page: ``serve`` (blocking, for staff) and ``running_web`` (a thread, for tests)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import uvicorn

from importer.errors import ConfigError
from importer.web.app import create_app
from importer.web.settings import DEFAULT_HOST, DEFAULT_PORT, WebSettings, check_binding

STARTUP_TIMEOUT_SECONDS = 10.0


def _config(app: object, host: str, port: int, *, log_config: object = None) -> uvicorn.Config:
    return uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=host,
        port=port,
        log_level="warning",
        access_log=False,  # URLs hold upload and run tokens
        log_config=log_config,  # type: ignore[arg-type]
        lifespan="on",
        timeout_graceful_shutdown=2,
    )


def serve(
    host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, settings: WebSettings | None = None
) -> None:
    """Serve the page until Ctrl+C; refuses (ConfigError) a non-loopback host without password."""
    settings = settings or WebSettings()
    check_binding(host, settings.password)
    app = create_app(settings)
    shown = f"[{host}]" if ":" in host else host
    print(f"Apptoto import page at http://{shown}:{port}/  (Ctrl+C to stop)", flush=True)
    print(f"  mappings: {settings.mappings_dir}/", flush=True)
    print(f"  reports:  {settings.runs_dir}/", flush=True)
    if settings.password:
        print("  password: required (APPTOTO_WEB_PASSWORD)", flush=True)
    uvicorn.Server(_config(app, host, port, log_config=uvicorn.config.LOGGING_CONFIG)).run()


@dataclass(frozen=True)
class WebHandle:
    """A page running in a background thread."""

    url: str  # e.g. http://127.0.0.1:53123 (no trailing slash)
    settings: WebSettings


@contextmanager
def running_web(settings: WebSettings | None = None, *, port: int = 0) -> Iterator[WebHandle]:
    """Serve the page in a background thread on loopback (``port`` 0: a free one).

    Waits until it answers (ConfigError after 10 s); on exit stops it, letting a run in progress
    finish and deleting the uploads left.
    """
    settings = settings or WebSettings()
    app = create_app(settings)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((DEFAULT_HOST, port))
    bound_port = listener.getsockname()[1]
    server = uvicorn.Server(_config(app, DEFAULT_HOST, bound_port))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name="apptoto-web", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise ConfigError(f"the web page did not start on port {bound_port}")
            time.sleep(0.005)
        yield WebHandle(url=f"http://{DEFAULT_HOST}:{bound_port}", settings=replace(settings))
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()
