"""ClientConfig: defaults, environment, overrides and range checks."""

from __future__ import annotations

from typing import Any

import pytest

from importer.client import ClientConfig
from importer.client.config import DEFAULT_BASE_URL
from importer.errors import ConfigError

KEY = "zz-secret-key-zz"
ENV = {"APPTOTO_USER": "office@clinic.example", "APPTOTO_API_KEY": KEY}


def test_defaults_follow_what_is_known_of_apptoto() -> None:
    config = ClientConfig.from_env(ENV)
    assert (config.user, config.api_key, config.base_url) == (
        "office@clinic.example",
        KEY,
        "https://api.apptoto.com/v1",
    )
    assert (config.batch_size, config.requests_per_minute, config.max_in_flight) == (15, 100, 8)
    assert (config.timeout_seconds, config.max_tries, config.deadline_seconds) == (240, 6, None)
    assert config.retry_after_cap == 300
    assert config.start_interval == pytest.approx(0.606)


def test_environment_values_are_trimmed_and_overrides_win() -> None:
    env = {
        "APPTOTO_USER": " office@clinic.example\n",
        "APPTOTO_API_KEY": f"{KEY}\n",
        "APPTOTO_BASE_URL": "http://127.0.0.1:8080/v1",
    }
    config = ClientConfig.from_env(env, batch_size=20, requests_per_minute=None, max_tries=3)
    assert (config.user, config.api_key, config.base_url) == (
        "office@clinic.example",
        KEY,
        "http://127.0.0.1:8080/v1",
    )
    assert (config.batch_size, config.requests_per_minute, config.max_tries) == (20, 100, 3)


def test_from_env_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APPTOTO_USER", "me@example.org")
    monkeypatch.setenv("APPTOTO_API_KEY", KEY)
    monkeypatch.delenv("APPTOTO_BASE_URL", raising=False)
    assert ClientConfig.from_env().base_url == DEFAULT_BASE_URL


@pytest.mark.parametrize(
    ("env", "named", "not_named"),
    [
        ({}, "APPTOTO_USER and APPTOTO_API_KEY are not set", None),
        ({"APPTOTO_USER": "me@example.org"}, "APPTOTO_API_KEY is not set", "APPTOTO_USER is"),
        ({"APPTOTO_API_KEY": KEY}, "APPTOTO_USER is not set", "APPTOTO_API_KEY is"),
        ({"APPTOTO_USER": "  ", "APPTOTO_API_KEY": KEY}, "APPTOTO_USER is not set", None),
    ],
)
def test_missing_credentials_name_the_variables(
    env: dict[str, str], named: str, not_named: str | None
) -> None:
    with pytest.raises(ConfigError) as caught:
        ClientConfig.from_env(env)
    message = str(caught.value)
    assert named in message
    assert KEY not in message
    if not_named:
        assert not_named not in message


def test_credentials_can_come_from_overrides() -> None:
    config = ClientConfig.from_env({}, user="me@example.org", api_key=KEY)
    assert (config.user, config.api_key) == ("me@example.org", KEY)


def test_unknown_override_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown Apptoto client setting"):
        ClientConfig.from_env(ENV, batchsize=10)


@pytest.mark.parametrize(
    ("setting", "value", "complaint"),
    [
        ("batch_size", 0, "batch_size must be a whole number from 1 to 50, not 0"),
        ("batch_size", 51, "batch_size must be a whole number from 1 to 50, not 51"),
        ("batch_size", 2.5, "batch_size must be a whole number"),
        ("batch_size", True, "batch_size must be a whole number"),
        ("max_in_flight", 0, "max_in_flight must be a whole number"),
        ("max_tries", 0, "max_tries must be a whole number"),
        ("requests_per_minute", 0, "requests_per_minute must be a number above 0"),
        ("requests_per_minute", float("nan"), "requests_per_minute must be a number above 0"),
        ("timeout_seconds", -1, "timeout_seconds must be a number above 0"),
        ("deadline_seconds", 0, "deadline_seconds must be a number above 0"),
        ("backoff_cap", 0.5, "backoff_cap (0.5 s) is below backoff_base (1 s)"),
        ("retry_after_cap", -1, "retry_after_cap must be 0 or more seconds"),
        ("pacing_margin", 0.9, "pacing_margin must be between 0 and 0.5"),
        ("base_url", "api.apptoto.com/v1", "does not start with http:// or https://"),
    ],
)
def test_out_of_range_settings_are_config_errors(setting: str, value: Any, complaint: str) -> None:
    with pytest.raises(ConfigError) as caught:
        ClientConfig.from_env(ENV, **{setting: value})
    assert complaint in str(caught.value)
    assert KEY not in str(caught.value)


@pytest.mark.parametrize("size", [1, 15, 50])
def test_batch_sizes_in_range_are_accepted(size: int) -> None:
    assert ClientConfig.from_env(ENV, batch_size=size).batch_size == size


def test_the_key_is_not_in_the_repr() -> None:
    config = ClientConfig.from_env(ENV)
    assert KEY not in repr(config)
    assert KEY not in str(config)
    assert "office@clinic.example" in repr(config)


def test_the_config_is_frozen() -> None:
    config = ClientConfig.from_env(ENV)
    with pytest.raises(AttributeError):
        config.batch_size = 3  # type: ignore[misc]
