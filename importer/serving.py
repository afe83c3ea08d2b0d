"""Serving an ASGI app with uvicorn: the settings both servers share, and a background thread on
a free loopback port (for tests, ``make demo`` and benchmarks)."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import uvicorn

from importer.errors import ConfigError

LOOPBACK = "127.0.0.1"
STARTUP_TIMEOUT_SECONDS = 10.0
FORCED_STOP_SECONDS = 2.0  # after a graceful stop timed out: cancel what still runs, wait this long


def is_loopback(host: str) -> bool:
    """True when ``host`` only accepts connections from this computer (127.x, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def uvicorn_config(
    app: Any,
    host: str,
    port: int,
    *,
    lifespan: Literal["on", "off"],
    graceful_shutdown_seconds: int,
    log_config: Any = None,
    certfile: Path | None = None,
    keyfile: Path | None = None,
) -> uvicorn.Config:
    """Quiet uvicorn settings: warnings only, no access log (URLs may hold tokens).

    ``log_config`` None leaves the host process's logging alone; pass
    ``uvicorn.config.LOGGING_CONFIG`` for a server that owns its process. ``certfile`` (and
    ``keyfile``, PEM) serve over TLS.
    """
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        log_config=log_config,
        lifespan=lifespan,
        timeout_graceful_shutdown=graceful_shutdown_seconds,
        ssl_certfile=str(certfile) if certfile else None,
        ssl_keyfile=str(keyfile) if keyfile else None,
    )


@contextmanager
def serving_in_thread(
    app: Any,
    *,
    what: str,
    lifespan: Literal["on", "off"],
    graceful_shutdown_seconds: int,
    stop_timeout_seconds: float,
    port: int = 0,
) -> Iterator[int]:
    """Serve ``app`` on loopback in a daemon thread; yields the port (``port`` 0: a free one).

    Waits until uvicorn has started (ConfigError naming ``what`` after 10 s). On exit asks it to
    stop, waits ``stop_timeout_seconds``, then forces it.
    """
    # IPPROTO_TCP given explicitly: asyncio turns Nagle off (TCP_NODELAY) only on sockets that
    # say so, and with Nagle on every answer waits ~40 ms for a delayed ACK.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((LOOPBACK, port))
    bound_port = int(listener.getsockname()[1])
    config = uvicorn_config(
        app,
        LOOPBACK,
        bound_port,
        lifespan=lifespan,
        graceful_shutdown_seconds=graceful_shutdown_seconds,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name=f"apptoto-{what}", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise ConfigError(f"the {what} did not start on http://{LOOPBACK}:{bound_port}")
            time.sleep(0.005)
        yield bound_port
    finally:
        server.should_exit = True
        thread.join(timeout=stop_timeout_seconds)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout=FORCED_STOP_SECONDS)
        listener.close()
