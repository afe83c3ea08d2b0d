"""Running the page: ``serve`` (blocking, for staff) and ``running_web`` (a thread, for tests)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import uvicorn

from importer.errors import ConfigError
from importer.serving import serving_in_thread, uvicorn_config
from importer.web.app import create_app
from importer.web.settings import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    WebSettings,
    check_binding,
    listening_names,
)

GRACEFUL_SHUTDOWN_SECONDS = 2
STOP_TIMEOUT_SECONDS = 30.0  # a run in progress finishes first


def serve(
    host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, settings: WebSettings | None = None
) -> None:
    """Serve the page until Ctrl+C.

    Refuses (ConfigError) a non-loopback host without a password and a TLS certificate, a
    password under 12 characters, and a certificate or key that cannot be loaded.
    """
    settings = settings or WebSettings()
    check_binding(host, settings.password, tls=settings.tls)
    check_certificate(settings)
    names = tuple(dict.fromkeys((*listening_names(host), *settings.allowed_hosts)))
    settings = replace(settings, allowed_hosts=names)
    app = create_app(settings)
    shown = f"[{host}]" if ":" in host else host
    scheme = "https" if settings.tls else "http"
    print(f"Apptoto import page at {scheme}://{shown}:{port}/  (Ctrl+C to stop)", flush=True)
    answers = dict.fromkeys(("127.0.0.1", "localhost", *names))
    print(f"  answers at: {', '.join(answers)} (others: --allow-host)", flush=True)
    print(f"  mappings: {settings.mappings_dir}/", flush=True)
    print(f"  reports:  {settings.runs_dir}/", flush=True)
    if settings.password:
        print("  password: required (APPTOTO_WEB_PASSWORD)", flush=True)
    config = uvicorn_config(
        app,
        host,
        port,
        lifespan="on",
        graceful_shutdown_seconds=GRACEFUL_SHUTDOWN_SECONDS,
        log_config=uvicorn.config.LOGGING_CONFIG,
        certfile=settings.certfile,
        keyfile=settings.keyfile,
    )
    uvicorn.Server(config).run()


def check_certificate(settings: WebSettings) -> None:
    """Load the TLS certificate and key now, so a wrong file is said before the page starts."""
    if settings.certfile is None:
        if settings.keyfile is not None:
            raise ConfigError("a TLS key was given without its certificate (--certfile)")
        return
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(
            settings.certfile, settings.keyfile
        )
    except (OSError, ssl.SSLError) as exc:
        key = settings.keyfile or "in the same file"
        reason = getattr(exc, "strerror", None) or exc
        raise ConfigError(
            f"the TLS certificate {settings.certfile} (key: {key}) cannot be used: {reason}"
        ) from exc


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
    with serving_in_thread(
        app,
        what="web page",
        lifespan="on",
        graceful_shutdown_seconds=GRACEFUL_SHUTDOWN_SECONDS,
        stop_timeout_seconds=STOP_TIMEOUT_SECONDS,
        port=port,
    ) as bound_port:
        yield WebHandle(url=f"http://{DEFAULT_HOST}:{bound_port}", settings=replace(settings))
