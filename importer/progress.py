"""Progress reporting without the library knowing about terminals: a callback protocol."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Receives progress from a long stage; the CLI shows it with tqdm, the web page as a bar."""

    def start(self, total: int, label: str) -> None:
        """A stage of ``total`` units begins."""

    def advance(self, done: int) -> None:
        """``done`` more units finished."""

    def finish(self) -> None:
        """The stage ended (normally or not)."""


class NullProgress:
    """Progress that shows nothing, for quiet runs and tests."""

    def start(self, total: int, label: str) -> None:
        """Ignore the start."""

    def advance(self, done: int) -> None:
        """Ignore the step."""

    def finish(self) -> None:
        """Ignore the end."""
