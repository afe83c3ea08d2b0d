"""Running the sandbox: ``serve`` (blocking, for staff) and ``running_sandbox`` (a background
thread on a free loopback port, for tests, ``make demo`` and benchmarks).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn

from importer.errors import ConfigError
from importer.sandbox.app import create_app
from importer.sandbox.gate import quiet_dropped_answers
from importer.sandbox.settings import SandboxSettings
from importer.serving import LOOPBACK, is_loopback, serving_in_thread, uvicorn_config

DEFAULT_HOST = LOOPBACK
DEFAULT_PORT = 8765
# Requests still running at shutdown (slow faults) are cancelled after this long.
GRACEFUL_SHUTDOWN_SECONDS = 1


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
    config = uvicorn_config(
        app,
        host,
        port,
        lifespan="off",
        graceful_shutdown_seconds=GRACEFUL_SHUTDOWN_SECONDS,
        log_config=uvicorn.config.LOGGING_CONFIG,
    )
    quiet_dropped_answers()  # after uvicorn.Config, which sets up logging
    print(f"Apptoto sandbox at http://{host}:{port}/v1", flush=True)
    print(f"  user:    {settings.user}", flush=True)
    print(f"  API key: {settings.api_key}", flush=True)
    print(f"  events:  {db_path or 'in memory (gone when the sandbox stops)'}", flush=True)
    print(f"  control: http://{host}:{port}/_sandbox/stats  (Ctrl+C to stop)", flush=True)
    if not is_loopback(host):
        print(
            f"warning: the sandbox listens on {host}: other computers can use it with the key "
            "above and see every event sent to it; its controls answer only on this computer. "
            "Send it made-up data only.",
            file=sys.stderr,
            flush=True,
        )
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

    @classmethod
    def at(cls, root: str, settings: SandboxSettings, control: httpx.Client) -> SandboxHandle:
        """The handle of a sandbox served at ``root`` (``http://127.0.0.1:PORT``)."""
        return cls(
            base_url=f"{root}/v1",
            control_url=f"{root}/_sandbox",
            user=settings.user,
            api_key=settings.api_key,
            control=control,
            startup_settings=settings,
        )

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
    quiet_dropped_answers()
    try:
        with serving_in_thread(
            app,
            what="sandbox",
            lifespan="off",
            graceful_shutdown_seconds=GRACEFUL_SHUTDOWN_SECONDS,
            stop_timeout_seconds=GRACEFUL_SHUTDOWN_SECONDS + 2,
            port=port,
        ) as bound_port:
            root = f"http://{LOOPBACK}:{bound_port}"
            control = httpx.Client(timeout=30.0)
            try:
                yield SandboxHandle.at(root, settings, control)
            finally:
                control.close()
                app.state.sandbox.stopping.set()  # held answers let go before the server stops
    finally:
        app.state.sandbox.store.close()


if __name__ == "__main__":
    serve()
