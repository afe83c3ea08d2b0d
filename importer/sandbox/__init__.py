"""A local stand-in for the Apptoto API, for tests, demos, rehearsals and benchmarks.

``create_app`` builds the FastAPI app; ``serve`` runs it until Ctrl+C; ``running_sandbox`` runs it
in a background thread. Behaviour (credentials, limits, faults) comes from ``SandboxSettings``.
"""

from __future__ import annotations

from importer.sandbox.app import create_app
from importer.sandbox.server import SandboxHandle, running_sandbox, serve
from importer.sandbox.settings import SandboxSettings

__all__ = ["SandboxHandle", "SandboxSettings", "create_app", "running_sandbox", "serve"]
