"""Issue 17 (red team): the page served over TLS, with a real handshake.

The page is started as staff start it (``apptoto-import serve --certfile --keyfile``) with a
certificate made here by ``openssl``; the test's client trusts only that certificate, logs in
and finds its session cookie marked Secure. Named after the finding; failed before the fix.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from importer.web.security import SESSION_COOKIE
from importer.web.settings import ENV_PASSWORD

PASSWORD = "front-desk-2026-spring"
STARTUP_LIMIT_SECONDS = 60  # a safety bound only, not a timed assertion


def self_signed(folder: Path) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not on PATH")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def tls_page(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The page over TLS on 127.0.0.1, started by the CLI: its https URL and its certificate."""
    cert, key = self_signed(tmp_path)
    port = free_port()
    command = [
        sys.executable, "-m", "importer", "serve", "--host", "127.0.0.1", "--port", str(port),
        "--certfile", str(cert), "--keyfile", str(key), "--mappings", str(tmp_path),
        "--state", str(tmp_path / "state.sqlite"),
    ]  # fmt: skip
    env = {**os.environ, ENV_PASSWORD: PASSWORD, "APPTOTO_IMPORT_HOME": str(tmp_path)}
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    stopper = threading.Timer(STARTUP_LIMIT_SECONDS, process.kill)  # a hung start cannot hang
    stopper.start()
    try:
        while process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        assert process.poll() is None, process.communicate()[1]
        yield f"https://127.0.0.1:{port}", cert
    finally:
        stopper.cancel()
        process.terminate()
        process.communicate(timeout=60)


def test_over_tls_a_real_handshake_and_the_session_cookie_is_secure(
    tls_page: tuple[str, Path],
) -> None:
    url, cert = tls_page
    trusted = ssl.create_default_context(cafile=str(cert))  # this certificate only
    with httpx.Client(base_url=url, verify=trusted) as client:
        assert client.get("/").status_code == 401  # the password is asked for, over TLS
        answer = client.get("/", auth=("staff", PASSWORD))
        assert answer.status_code == 200
        assert answer.url.scheme == "https"
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith(f"{SESSION_COOKIE}=")
        assert "secure" in [part.strip().lower() for part in cookie.split(";")]
    with pytest.raises(httpx.HTTPError), httpx.Client(base_url=url) as unknown:
        unknown.get("/")  # a client that does not trust the certificate: the handshake fails
