"""Settings of the Apptoto client: one frozen dataclass, defaulted and checked in one place.

The defaults come from what is known of the real service (README, "The sandbox"): about 100
requests a minute, 502 answers to batches larger than ~15 events, answers that can take minutes.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from importer.errors import ConfigError

DEFAULT_BASE_URL = "https://api.apptoto.com/v1"
DEFAULT_BATCH_SIZE = 15
MAX_BATCH_SIZE = 50
DEFAULT_REQUESTS_PER_MINUTE = 100.0
DEFAULT_MAX_IN_FLIGHT = 8
DEFAULT_TIMEOUT_SECONDS = 240.0
DEFAULT_MAX_TRIES = 6
DEFAULT_BACKOFF_BASE = 1.0
DEFAULT_BACKOFF_CAP = 60.0
DEFAULT_RETRY_AFTER_CAP = 300.0
# Starts are spaced 1% wider than 60/rate: 100 starts then span 60.0 s + 0.6 s, so a server's
# sliding 60 s window of the same nominal rate tolerates up to 0.6 s of arrival jitter.
DEFAULT_PACING_MARGIN = 0.01
DEFAULT_LIMIT_WINDOW_SECONDS = 60.0

ENV_BASE_URL = "APPTOTO_BASE_URL"
ENV_USER = "APPTOTO_USER"
ENV_API_KEY = "APPTOTO_API_KEY"


@dataclass(frozen=True, kw_only=True)
class ClientConfig:
    """How to reach Apptoto and how hard to push it; invalid values raise ``ConfigError``."""

    user: str  # account user name (login email): the Basic auth user name
    api_key: str = field(repr=False)  # the Basic auth password; never shown anywhere
    base_url: str = DEFAULT_BASE_URL  # API root, without the trailing /events
    batch_size: int = DEFAULT_BATCH_SIZE  # events per PUT request, 1..50
    requests_per_minute: float = DEFAULT_REQUESTS_PER_MINUTE  # limit on request starts, all tries
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT  # requests waiting for an answer at the same time
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS  # one request's limit; Apptoto can be slow
    max_tries: int = DEFAULT_MAX_TRIES  # tries per batch (first try included) before giving up
    deadline_seconds: float | None = None  # whole-client budget from the first request; None: none
    backoff_base: float = DEFAULT_BACKOFF_BASE  # seconds; backoff before try n is <= base*2**(n-2)
    backoff_cap: float = DEFAULT_BACKOFF_CAP  # seconds; no single backoff exceeds this
    retry_after_cap: float = DEFAULT_RETRY_AFTER_CAP  # seconds; longest Retry-After obeyed
    pacing_margin: float = DEFAULT_PACING_MARGIN  # fraction added to the spacing of starts
    # The window Apptoto counts its limit over when it does not say (a minute); a 429 without
    # Retry-After pauses until a place of it frees (importer.client.learning).
    limit_window_seconds: float = DEFAULT_LIMIT_WINDOW_SECONDS

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise ConfigError("invalid Apptoto client settings: " + "; ".join(problems))

    @property
    def start_interval(self) -> float:
        """Seconds between two request starts: ``60 / requests_per_minute`` plus the margin."""
        return 60.0 / self.requests_per_minute * (1.0 + self.pacing_margin)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> ClientConfig:
        """Read APPTOTO_USER, APPTOTO_API_KEY and APPTOTO_BASE_URL, then apply ``overrides``.

        ``environ`` defaults to ``os.environ``. Overrides whose value is None are ignored, so a
        command line can pass its options through unchanged. Missing user or key, an unknown
        override, or a value out of range raise ``ConfigError`` (never quoting the key).
        """
        env = os.environ if environ is None else environ
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ConfigError(f"unknown Apptoto client setting(s): {', '.join(unknown)}")
        values: dict[str, Any] = {}
        base_url = env.get(ENV_BASE_URL, "").strip()
        if base_url:
            values["base_url"] = base_url
        values["user"] = env.get(ENV_USER, "").strip()
        values["api_key"] = env.get(ENV_API_KEY, "").strip()
        values.update({name: value for name, value in overrides.items() if value is not None})
        missing = [
            variable
            for variable, name in ((ENV_USER, "user"), (ENV_API_KEY, "api_key"))
            if not str(values.get(name) or "").strip()
        ]
        if missing:
            raise ConfigError(
                f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set: "
                f"set {ENV_USER} to the Apptoto user name (login email) and {ENV_API_KEY} to an "
                "API key (Settings > Integrations > Developer Tools > API Keys)"
            )
        return cls(**values)


def _problems(config: ClientConfig) -> list[str]:
    """Every out-of-range setting, in plain words; the API key's value is never quoted."""
    problems: list[str] = []
    if not isinstance(config.user, str) or not config.user.strip():
        problems.append(f"user is empty (set {ENV_USER})")
    if not isinstance(config.api_key, str) or not config.api_key.strip():
        problems.append(f"api_key is empty (set {ENV_API_KEY})")
    if not isinstance(config.base_url, str) or not config.base_url.startswith(
        ("http://", "https://")
    ):
        problems.append(f"base_url {config.base_url!r} does not start with http:// or https://")
    else:
        problems += _address_problems(config.base_url)
    _check_int(problems, "batch_size", config.batch_size, 1, MAX_BATCH_SIZE)
    _check_int(problems, "max_in_flight", config.max_in_flight, 1, 1000)
    _check_int(problems, "max_tries", config.max_tries, 1, 100)
    _check_positive(problems, "requests_per_minute", config.requests_per_minute)
    _check_positive(problems, "timeout_seconds", config.timeout_seconds)
    _check_positive(problems, "backoff_base", config.backoff_base)
    _check_positive(problems, "backoff_cap", config.backoff_cap)
    _check_positive(problems, "limit_window_seconds", config.limit_window_seconds)
    if config.deadline_seconds is not None:
        _check_positive(problems, "deadline_seconds", config.deadline_seconds)
    if not _is_number(config.retry_after_cap) or config.retry_after_cap < 0:
        problems.append(
            f"retry_after_cap must be 0 or more seconds, not {config.retry_after_cap!r}"
        )
    if not _is_number(config.pacing_margin) or not 0 <= config.pacing_margin <= 0.5:
        problems.append(f"pacing_margin must be between 0 and 0.5, not {config.pacing_margin!r}")
    if (
        _is_number(config.backoff_base)
        and _is_number(config.backoff_cap)
        and config.backoff_cap < config.backoff_base
    ):
        problems.append(
            f"backoff_cap ({config.backoff_cap:g} s) is below backoff_base "
            f"({config.backoff_base:g} s)"
        )
    return problems


def _address_problems(base_url: str) -> list[str]:
    """Why ``base_url`` cannot be connected to (no host, a port out of range), checked up front.

    Otherwise the first request would fail deep inside the socket layer with a traceback.
    """
    try:
        url = httpx.URL(base_url)
    except httpx.InvalidURL as exc:
        return [f"base_url {base_url!r} is not a valid address ({exc})"]
    if not url.host:
        return [f"base_url {base_url!r} names no host"]
    if url.port is not None and not 0 < url.port < 65536:
        return [f"base_url {base_url!r} has port {url.port}; ports run from 1 to 65535"]
    return []


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_int(problems: list[str], name: str, value: object, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        problems.append(f"{name} must be a whole number from {low} to {high}, not {value!r}")


def _check_positive(problems: list[str], name: str, value: object) -> None:
    if not _is_number(value) or not value > 0:  # type: ignore[operator]
        problems.append(f"{name} must be a number above 0, not {value!r}")
