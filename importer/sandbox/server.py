"""Running the sandbox: ``serve`` (blocking, for staff) and ``running_sandbox`` (a background
thread on a free loopback port, for tests, ``make demo`` and benchmarks).
"""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn

from importer.errors import ConfigError
from importer.sandbox.app import create_app
from importer.sandbox.gate import quiet_dropped_answers
from importer.sandbox.settings import SandboxSettings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
STARTUP_TIMEOUT_SECONDS = 10.0
# Requests still running at shutdown (slow faults) are cancelled after this long.
GRACEFUL_SHUTDOWN_SECONDS = 1


def _config(
    app: Any, host: str, port: int, *, log_config: Any = uvicorn.config.LOGGING_CONFIG
) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        log_config=log_config,
        lifespan="off",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )


def serve(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    db_path: str | None = None,
    settings: SandboxSettings | None = None,
) -> None:
    """Run the sandbox until Ctrl+C, printing its base URL, user name and API key first.

    Events are kept in SQLite at ``db_path`` (kept between runs) or in memory (None).
    """
    settings = settings or SandboxSettings()
    app = create_app(settings, db_path=db_path)
    config = _config(app, host, port)
    quiet_dropped_answers()  # after uvicorn.Config, which sets up logging
    print(f"Apptoto sandbox at http://{host}:{port}/v1", flush=True)
    print(f"  user:    {settings.user}", flush=True)
    print(f"  API key: {settings.api_key}", flush=True)
    print(f"  events:  {db_path or 'in memory (gone when the sandbox stops)'}", flush=True)
    print(f"  control: http://{host}:{port}/_sandbox/stats  (Ctrl+C to stop)", flush=True)
    uvicorn.Server(config).run()


@dataclasses.dataclass
class SandboxHandle:
    """A running sandbox: where it is, its credentials, and shortcuts to its control endpoints."""

    base_url: str  # the API base, ending in /v1
    control_url: str  # ending in /_sandbox
    user: str
    api_key: str = dataclasses.field(repr=False)
    control: httpx.Client = dataclasses.field(repr=False)
    startup_settings: SandboxSettings = dataclasses.field(repr=False)

    @property
    def auth(self) -> tuple[str, str]:
        """(user, api_key), for ``httpx.Client(auth=...)``."""
        return self.user, self.api_key

    def _ask(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.control.request(method, f"{self.control_url}{path}", **kwargs)
        if response.status_code >= 400:
            raise ConfigError(f"sandbox control {method} {path}: {response.text}")
        return response.json()

    def stats(self) -> dict[str, Any]:
        """Request and event counts, ``duplicates`` (see ``GET /_sandbox/stats``)."""
        return dict(self._ask("GET", "/stats"))

    def events(self) -> list[dict[str, Any]]:
        """Every stored event, deleted ones included, by start time."""
        return list(self._ask("GET", "/events")["events"])

    def requests(self) -> list[dict[str, Any]]:
        """The request log, oldest first."""
        return list(self._ask("GET", "/requests")["requests"])

    def configure(self, **fields: Any) -> dict[str, Any]:
        """Change settings at run time; returns the settings now in force (without the key)."""
        if "api_key" in fields:
            self.api_key = str(fields["api_key"])
        if "user" in fields:
            self.user = str(fields["user"])
        return dict(self._ask("PUT", "/config", json=fields))

    def reset(self, *, startup_settings: bool = False) -> None:
        """Forget all events and requests; ``startup_settings`` also restores the first settings."""
        params = {"settings": "startup"} if startup_settings else {}
        self._ask("POST", "/reset", params=params)
        if startup_settings:
            self.user = self.startup_settings.user
            self.api_key = self.startup_settings.api_key

    def mark_messaged(self, participant_id: int) -> None:
        """Mark a participant as already messaged: updates will not remove them."""
        self._ask("POST", f"/participants/{participant_id}/messaged")


@contextmanager
def running_sandbox(
    settings: SandboxSettings | None = None, *, db_path: str | None = None, port: int = 0
) -> Iterator[SandboxHandle]:
    """Run the sandbox in a background thread on loopback (``port`` 0: a free one).

    Waits until it answers (ConfigError after 10 s), stops it on exit within about a second.
    """
    settings = settings or SandboxSettings()
    app = create_app(settings, db_path=db_path)
    # IPPROTO_TCP given explicitly: asyncio turns Nagle off (TCP_NODELAY) only on sockets that
    # say so, and with Nagle on every answer waits ~40 ms for a delayed ACK.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((DEFAULT_HOST, port))
    bound_port = listener.getsockname()[1]
    # log_config=None: leave the host process's logging alone (pytest captures uvicorn's lines).
    server = uvicorn.Server(_config(app, DEFAULT_HOST, bound_port, log_config=None))
    quiet_dropped_answers()
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name="apptoto-sandbox", daemon=True
    )
    thread.start()
    root = f"http://{DEFAULT_HOST}:{bound_port}"
    control = httpx.Client(timeout=30.0)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise ConfigError(f"the sandbox did not start on {root}")
            time.sleep(0.005)
        yield SandboxHandle(
            base_url=f"{root}/v1",
            control_url=f"{root}/_sandbox",
            user=settings.user,
            api_key=settings.api_key,
            control=control,
            startup_settings=settings,
        )
    finally:
        control.close()
        app.state.sandbox.stopping.set()
        server.should_exit = True
        thread.join(timeout=GRACEFUL_SHUTDOWN_SECONDS + 2)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout=2)
        listener.close()
        app.state.sandbox.store.close()


if __name__ == "__main__":
    serve()
