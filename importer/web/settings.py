"""Settings of the web page: typed and defaulted in one place.

The API credentials are not settings: they are read from the server's environment
(``APPTOTO_USER``, ``APPTOTO_API_KEY``, ``APPTOTO_BASE_URL``) at the moment they are needed, as the
command line does, so they never pass through a form, a page or a file this page writes.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from importer.errors import ConfigError
from importer.paths import mappings_folder, state_file, web_runs_folder
from importer.serving import is_loopback

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_MAX_UPLOAD_MB = 20.0
DEFAULT_PREVIEW_EVENTS = 5
DEFAULT_MAX_ISSUE_ROWS = 200  # invalid rows shown on the review page; the rest are in the report
DEFAULT_PAST_RUNS = 20
DEFAULT_UPLOAD_TTL_SECONDS = 6 * 3600.0  # an upload never sent is removed after this long
DEFAULT_MAX_WAITING_UPLOADS = 10  # files kept at once, not yet sent or being sent
DEFAULT_MAX_UPLOADS_TOTAL_MB = 200.0  # their bytes together
# Uploads read, checked and planned at a time; more wait their turn. One review of 100,000 rows
# holds up to ~500 MB (make bench) and keeps one core busy (Python runs one thread at a time):
# three side by side held three times that, and each finished no sooner than three in a row.
DEFAULT_READS_AT_ONCE = 1
ENV_PASSWORD = "APPTOTO_WEB_PASSWORD"
MIN_PASSWORD_CHARACTERS = 12


@dataclass(frozen=True, kw_only=True)
class WebSettings:
    """How the page behaves; every field has the default ``serve`` uses."""

    # the mappings offered (*.yaml, *.yml), by file name; default: the data folder's
    mappings_dir: Path = field(default_factory=lambda: mappings_folder().path)
    # shared with the command line's runs; default: the data folder's
    ledger_path: Path = field(default_factory=lambda: state_file().path)
    # one folder per run: its reports and run.json; default: the data folder's
    runs_dir: Path = field(default_factory=web_runs_folder)
    max_upload_bytes: int = int(DEFAULT_MAX_UPLOAD_MB * 1024 * 1024)  # bigger uploads refused
    password: str = field(default="", repr=False)  # HTTP Basic password; "" = none (loopback)
    allowed_hosts: tuple[str, ...] = ()  # names the page answers to besides 127.0.0.1/localhost
    certfile: Path | None = None  # TLS certificate (PEM): the page is served over https
    keyfile: Path | None = None  # its private key (PEM); None: in the certificate file
    preview_events: int = DEFAULT_PREVIEW_EVENTS  # events shown as Apptoto will show them
    max_issue_rows: int = DEFAULT_MAX_ISSUE_ROWS  # invalid rows listed on the review page
    past_runs: int = DEFAULT_PAST_RUNS  # runs listed on the first page
    upload_ttl_seconds: float = DEFAULT_UPLOAD_TTL_SECONDS  # unsent uploads are removed after this
    max_waiting_uploads: int = DEFAULT_MAX_WAITING_UPLOADS  # more uploads at once are refused
    max_uploads_total_bytes: int = int(DEFAULT_MAX_UPLOADS_TOTAL_MB * 1024 * 1024)  # all together
    reads_at_once: int = DEFAULT_READS_AT_ONCE  # uploads read and checked at a time; more wait
    keep_reports_days: float = 30.0  # a run's folder (reports, record) is deleted after this
    uploads_parent: Path | None = None  # where the private upload folder is made; None: temp
    batch_size: int | None = None  # events per request; None: the client's default
    requests_per_minute: float | None = None  # request rate; None: the client's default
    part_rows: int | None = None  # rows of an upload reviewed and sent at a time; None: default
    environ: Mapping[str, str] | None = field(default=None, repr=False)  # None: os.environ

    def __post_init__(self) -> None:
        if self.max_upload_bytes < 1:
            raise ConfigError(
                f"the upload limit must be above 0 bytes, not {self.max_upload_bytes}"
            )
        if self.reads_at_once < 1:
            raise ConfigError(f"uploads read at a time must be 1 or more, not {self.reads_at_once}")
        if not self.keep_reports_days > 0:
            raise ConfigError(
                f"past runs must be kept more than 0 days, not {self.keep_reports_days}"
            )

    @property
    def tls(self) -> bool:
        """True when the page is served over https (cookies are then Secure)."""
        return self.certfile is not None

    @property
    def environment(self) -> Mapping[str, str]:
        """Where the Apptoto credentials come from."""
        return os.environ if self.environ is None else self.environ


def check_binding(host: str, password: str, *, tls: bool = False) -> None:
    """Refuse (ConfigError) to listen beyond this computer without a strong password and TLS.

    A password, when set, must have at least 12 characters that are not all spaces, wherever
    the page listens.
    """
    if password and (len(password) < MIN_PASSWORD_CHARACTERS or not password.strip()):
        raise ConfigError(
            f"{ENV_PASSWORD} must have at least {MIN_PASSWORD_CHARACTERS} characters (not only "
            "spaces): staff type it once per browser session, and anyone on the network may "
            "try to guess it"
        )
    if is_loopback(host):
        return
    if not password:
        raise ConfigError(
            f"listening on {host} lets other computers open the page, which can send to Apptoto "
            f"and shows patients' details: set {ENV_PASSWORD} to a password first (staff then "
            "log in with any user name and that password), or listen on 127.0.0.1"
        )
    if not tls:
        raise ConfigError(
            f"listening on {host} sends patients' details and the password over the network: "
            "give the page a TLS certificate (--certfile and --keyfile, PEM files), or listen "
            "on 127.0.0.1"
        )


def listening_names(host: str) -> tuple[str, ...]:
    """The names a browser may use for a page listening on ``host``.

    A named address is itself; every address (``0.0.0.0``, ``::``) adds this computer's name.
    Other names (a DNS alias, the computer's IP) are added with ``--allow-host``.
    """
    host = host.strip().strip("[]")
    if host in ("", "0.0.0.0", "::"):
        return (socket.gethostname(),)
    return (host,)
