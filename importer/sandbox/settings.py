"""Settings of the sandbox server: credentials, the limits the real Apptoto has, and faults.

Every field has a default close to what is known of the real service (see the README, "The
sandbox"). Times are in seconds (float unless said otherwise). Faults are off by
default; the random ones draw from ``random.Random(fault_seed)`` so a run can be replayed.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, get_type_hints

from importer.errors import ConfigError

DEFAULT_USER = "demo@clinic.example"
DEFAULT_API_KEY = "sandbox-key"
DEFAULT_RATE_LIMIT_REQUESTS = 100
DEFAULT_RATE_LIMIT_WINDOW_SECONDS = 60.0
DEFAULT_MAX_EVENTS_PER_REQUEST = 20
DEFAULT_PHONE_REGION = "US"
DEFAULT_FAULT_CODES = (500, 502, 503)
DEFAULT_STORM_RETRY_AFTER_SECONDS = 2
RETRY_AFTER_FORMS = ("seconds", "http-date", "none")
OUTAGE_MODES = ("503", "drop")
# How a real account might answer differently (../shared/apptoto-api.md, "Not confirmed").
LOOKUP_ANSWERS = ("normal", "404", "405")  # GET /v1/event: as documented, or no such route
# DELETE: as documented; a router's 404 page or a 405 (nothing deleted); 200 with an empty body,
# the event deleted ("silent") or left live ("ignored").
DELETE_ANSWERS = ("normal", "404", "405", "silent", "ignored")
TIME_ECHOES = ("as-sent", "utc", "naive")  # how start/end come back in answers


@dataclass(frozen=True)
class SandboxSettings:
    """How the sandbox behaves; change at run time with ``PUT /_sandbox/config``."""

    user: str = DEFAULT_USER  # Basic auth user name (the account's login email)
    api_key: str = field(default=DEFAULT_API_KEY, repr=False)  # Basic auth password
    rate_limit_requests: int = DEFAULT_RATE_LIMIT_REQUESTS  # admitted requests per window; 0 = off
    rate_limit_window_seconds: float = DEFAULT_RATE_LIMIT_WINDOW_SECONDS  # sliding window length
    max_events_per_request: int = DEFAULT_MAX_EVENTS_PER_REQUEST  # more -> 502 Bad Gateway
    latency_seconds: float = 0.0  # added before every admitted /v1 request is handled
    latency_jitter_seconds: float = 0.0  # plus a seeded uniform draw in [0, jitter)
    phone_region: str = DEFAULT_PHONE_REGION  # the account's country, for phones without +
    fault_seed: int = 0  # seed of the random faults; setting it at run time re-seeds
    fault_rate: float = 0.0  # share of admitted requests refused with a fault code, nothing stored
    fault_codes: tuple[int, ...] = DEFAULT_FAULT_CODES  # codes for fault_rate and commit_then_error
    commit_then_error_rate: float = 0.0  # share stored, then answered with a fault code
    commit_then_drop_rate: float = 0.0  # share stored, then the connection dropped mid-answer
    slow_rate: float = 0.0  # share stored, then answered only after slow_seconds
    slow_seconds: float = 0.0  # how long a slow answer waits (make it beat the client timeout)
    malformed_rate: float = 0.0  # share stored, then answered 200 with its JSON body cut in half
    storm_requests: int = 0  # the next N requests (after storm_after_requests) answered 429
    storm_seconds: float = 0.0  # or: 429 for this long, from the first request of the storm
    storm_after_requests: int = 0  # requests let through before the storm begins
    storm_retry_after_seconds: int = DEFAULT_STORM_RETRY_AFTER_SECONDS  # Retry-After in a storm
    retry_after_form: str = "seconds"  # Retry-After as "seconds", "http-date" or "none" (left out)
    outage_seconds: float = 0.0  # an outage of this long, from its first request; 0 = none
    outage_after_requests: int = 0  # requests let through before the outage begins
    outage_mode: str = "503"  # "503": answered 503; "drop": connection closed without an answer
    # Differences a real account may show; the defaults are the sandbox's reading of the docs.
    put_echoes_external_id: bool = True  # False: PUT answers leave each event's external_id out
    lookup_answer: str = "normal"  # GET /v1/event: "normal", or "404"/"405" for every lookup
    delete_answer: str = "normal"  # DELETE: "normal", "404", "405", "silent" or "ignored"
    refuse_every_event: str = ""  # non-empty: every PUT/POST answered 400 with this message
    deleted_external_id_matches: bool = False  # a deleted event's external_id still updates it
    external_id_across_calendars: bool = False  # an external_id in another calendar updates there
    time_echo: str = "as-sent"  # start/end in answers: "as-sent", "utc" (Z) or "naive" (local)
    all_day_as_dates: bool = False  # all-day events answered with dates only (2026-12-01)
    forbidden_calendars: tuple[str, ...] = ()  # PUT/POST naming one of these answers 403
    rate_limit_headers: bool = False  # answers carry RateLimit-Limit/-Remaining/-Reset/-Policy
    unknown_id_404: bool = False  # a PUT naming an id the account does not have answers 404

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise ConfigError("invalid sandbox settings: " + "; ".join(problems))


_RATES = (
    "fault_rate",
    "commit_then_error_rate",
    "commit_then_drop_rate",
    "slow_rate",
    "malformed_rate",
)
_NON_NEGATIVE = (
    "rate_limit_requests",
    "latency_seconds",
    "latency_jitter_seconds",
    "slow_seconds",
    "storm_requests",
    "storm_seconds",
    "storm_after_requests",
    "storm_retry_after_seconds",
    "outage_seconds",
    "outage_after_requests",
)


def _problems(settings: SandboxSettings) -> list[str]:
    problems = [f"{n} must be in [0, 1]" for n in _RATES if not 0 <= getattr(settings, n) <= 1]
    problems += [f"{name} must be >= 0" for name in _NON_NEGATIVE if getattr(settings, name) < 0]
    if settings.rate_limit_window_seconds <= 0:
        problems.append("rate_limit_window_seconds must be > 0")
    if settings.max_events_per_request < 1:
        problems.append("max_events_per_request must be >= 1")
    if not settings.fault_codes or any(not 400 <= c <= 599 for c in settings.fault_codes):
        problems.append("fault_codes must be a non-empty list of HTTP error codes (400-599)")
    if settings.retry_after_form not in RETRY_AFTER_FORMS:
        problems.append(f"retry_after_form must be one of {', '.join(RETRY_AFTER_FORMS)}")
    if settings.outage_mode not in OUTAGE_MODES:
        problems.append(f"outage_mode must be one of {', '.join(OUTAGE_MODES)}")
    for name, allowed in (
        ("lookup_answer", LOOKUP_ANSWERS),
        ("delete_answer", DELETE_ANSWERS),
        ("time_echo", TIME_ECHOES),
    ):
        if getattr(settings, name) not in allowed:
            problems.append(f"{name} must be one of {', '.join(allowed)}")
    if not settings.user:
        problems.append("user must not be empty")
    return problems


def settings_fields() -> dict[str, Any]:
    """Field name -> annotated type of :class:`SandboxSettings`."""
    return get_type_hints(SandboxSettings)


def _coerce(name: str, kind: Any, value: Any) -> Any:
    """One JSON value as the field's type; raise ConfigError naming the field when it cannot be."""
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind is str and isinstance(value, str):
        return value
    if kind is bool and isinstance(value, bool):
        return value
    if isinstance(kind, types.GenericAlias) and kind.__origin__ is tuple:
        item = kind.__args__[0]
        if isinstance(value, list | tuple) and all(
            isinstance(v, item) and not isinstance(v, bool) for v in value
        ):
            return tuple(value)
    raise ConfigError(f"sandbox setting {name}: {value!r} is not a valid {kind}")


def settings_with(settings: SandboxSettings, changes: Mapping[str, Any]) -> SandboxSettings:
    """A copy of ``settings`` with ``changes`` applied; values may come straight from JSON.

    Unknown names, wrong types and out-of-range values raise ConfigError naming the field.
    """
    known = settings_fields()
    unknown = sorted(set(changes) - set(known))
    if unknown:
        raise ConfigError(f"unknown sandbox setting(s): {', '.join(unknown)}")
    coerced = {name: _coerce(name, known[name], value) for name, value in changes.items()}
    return dataclasses.replace(settings, **coerced)


def settings_as_json(settings: SandboxSettings) -> dict[str, Any]:
    """The settings as a JSON-ready dict, the API key left out."""
    fields = dataclasses.asdict(settings)
    fields.pop("api_key")
    fields["fault_codes"] = list(settings.fault_codes)
    fields["forbidden_calendars"] = list(settings.forbidden_calendars)
    return fields
