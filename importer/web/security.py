"""Who may use the page and which forms it accepts: sessions, CSRF tokens, password, headers.

Every request must name, in its ``Host`` header, an address the page was started for (this
computer's loopback names, the address it listens on, ``--allow-host`` names); any other is
answered 421, so a web page that points its own name at 127.0.0.1 (DNS rebinding) reaches
nothing. Every page visit gets a session cookie (random, signed with an HMAC keyed by a secret
made when the server starts, HttpOnly, SameSite=Strict): a cookie the server did not sign starts a
new session. Every form carries a CSRF token derived from that session with the same secret, and
a form whose ``Origin`` is not one of the allowed addresses is refused, so a page from another site
cannot post a form here; a restart simply asks for a reload. When a password is set (always when
listening beyond loopback), every request needs HTTP Basic with that password (any user name);
after a few wrong passwords from one address, that address must wait longer and longer (up to a
minute) before its next try is even checked. Served over TLS, the cookie is ``Secure``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import re
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

SESSION_COOKIE = "apptoto_import_session"
CSRF_FIELD = "csrf_token"
_SESSION_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32}\.[A-Za-z0-9_-]{43}$")
# The names of this computer's loopback addresses: always allowed in the Host header.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
FOREIGN_HOST_PAGE = (
    "This page answers only at the addresses it was started for. Open it with the address "
    "you were given (on this computer: http://127.0.0.1 and its port)."
)
# Pages hold patients' details: never cached, never framed, scripts and styles from here only.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


FREE_WRONG_PASSWORDS = 5  # wrong passwords from one address before it must wait
FIRST_WAIT_SECONDS = 1.0  # then 1 s, 2 s, 4 s ... between tries
LONGEST_WAIT_SECONDS = 60.0
MAX_ADDRESSES_REMEMBERED = 10_000  # wrong-password counts kept; the oldest are forgotten


class CsrfRefused(Exception):
    """A form arrived without the token of the session it came from."""


class Guard:
    """Sessions, CSRF tokens and the password check of one running server."""

    def __init__(
        self,
        password: str = "",
        secret: bytes | None = None,
        allowed_hosts: Iterable[str] = (),
        *,
        secure_cookies: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._password = password
        self._secret = secret or secrets.token_bytes(32)
        self._secure_cookies = secure_cookies
        self.throttle = PasswordThrottle(clock)
        self.allowed_hosts = frozenset(
            _host_name(host) for host in (*LOOPBACK_HOSTS, *allowed_hosts)
        )

    def __repr__(self) -> str:
        return f"Guard(password={'set' if self._password else 'none'})"

    def session_of(self, request: Request) -> str:
        """The session id of ``request`` (set by the middleware; made here when missing)."""
        session = getattr(request.state, "session_id", None)
        if isinstance(session, str):
            return session
        session = self._signed(secrets.token_urlsafe(24))
        request.state.session_id = session
        request.state.new_session = True
        return session

    def csrf_token(self, request: Request) -> str:
        """The token every form of this session must send back in ``csrf_token``."""
        return self._csrf_of(self.session_of(request))

    def check_form(self, request: Request, submitted: object) -> None:
        """Raise CsrfRefused unless ``submitted`` is this session's token and the origin is ours.

        The origin is held against the allowed addresses and the port the server listens on,
        never against the request's own ``Host`` header, which the sender chooses.
        """
        origin = request.headers.get("origin")
        if origin and origin != "null" and not self._origin_allowed(request, origin):
            raise CsrfRefused("the form came from another site")
        cookie = request.cookies.get(SESSION_COOKIE, "")
        if not self._valid_session(cookie):
            raise CsrfRefused("the form came without a session")
        expected = self._csrf_of(cookie)
        if not isinstance(submitted, str) or not hmac.compare_digest(submitted, expected):
            raise CsrfRefused("the form's token does not match the session")

    def host_allowed(self, request: Request) -> bool:
        """True when the request's ``Host`` header names an address this page was started for."""
        return _host_name(request.headers.get("host", "")) in self.allowed_hosts

    def _origin_allowed(self, request: Request, origin: str) -> bool:
        try:
            parts = urlsplit(origin)
            port = parts.port
        except ValueError:
            return False
        if parts.scheme != request.url.scheme or (parts.hostname or "") not in self.allowed_hosts:
            return False
        listening = request.scope.get("server")
        if not listening or listening[1] is None:
            return True  # not served from a socket (in-process tests): no port to compare
        default = 443 if parts.scheme == "https" else 80
        return (port or default) == int(listening[1])

    def _mac(self, purpose: str, value: str) -> bytes:
        return hmac.new(self._secret, f"{purpose}:{value}".encode(), hashlib.sha256).digest()

    def _signed(self, session: str) -> str:
        signature = base64.urlsafe_b64encode(self._mac("session", session)).decode().rstrip("=")
        return f"{session}.{signature}"

    def _valid_session(self, cookie: str) -> bool:
        if not _SESSION_SHAPE.match(cookie):
            return False
        return hmac.compare_digest(cookie, self._signed(cookie.partition(".")[0]))

    def _csrf_of(self, session: str) -> str:
        return self._mac("csrf", session).hex()

    def password_ok(self, request: Request) -> bool:
        """True when no password is set, or the request's HTTP Basic password is the one."""
        if not self._password:
            return True
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        _, _, password = decoded.partition(":")
        return hmac.compare_digest(password.encode(), self._password.encode())

    async def middleware(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Refuse foreign hosts, ask for the password, attach the session, add the headers."""
        if not self.host_allowed(request):
            return PlainTextResponse(FOREIGN_HOST_PAGE, status_code=421, headers=SECURITY_HEADERS)
        if self._password:
            refused = self._password_refusal(request)
            if refused is not None:
                return refused
        cookie = request.cookies.get(SESSION_COOKIE, "")
        if self._valid_session(cookie):
            request.state.session_id = cookie
        response = await call_next(request)
        if getattr(request.state, "new_session", False):
            response.set_cookie(
                SESSION_COOKIE,
                request.state.session_id,
                httponly=True,
                samesite="strict",
                secure=self._secure_cookies,
                path="/",
            )
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    def _password_refusal(self, request: Request) -> Response | None:
        """None when the request may go on; else the 429 (too soon) or 401 (wrong) answer."""
        address = request.client.host if request.client else ""
        wait = self.throttle.wait_left(address)
        if wait > 0:
            return PlainTextResponse(
                "Too many wrong passwords were tried from this computer. Wait "
                f"{math.ceil(wait)} seconds, then try again.",
                status_code=429,
                headers={"Retry-After": str(math.ceil(wait))},
            )
        if self.password_ok(request):
            self.throttle.succeeded(address)
            return None
        if "authorization" in request.headers:
            self.throttle.failed(address)
        return PlainTextResponse(
            "This page needs the password you were given for it.",
            status_code=401,
            headers={"WWW-Authenticate": 'Basic realm="Apptoto import", charset="UTF-8"'},
        )


class PasswordThrottle:
    """Wrong passwords per address: after a few, each next try must wait twice as long as the last.

    The wait is enforced by refusing tries that come too early (without checking them), not by
    holding the connection, so guessing costs the guesser time and the server nothing.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._wrong: dict[str, tuple[int, float]] = {}  # address -> (wrong tries, last one)
        self._lock = threading.Lock()

    def wait_left(self, address: str) -> float:
        """Seconds ``address`` must still wait before its next password is checked (0: none)."""
        with self._lock:
            count, last = self._wrong.get(address, (0, 0.0))
        if count < FREE_WRONG_PASSWORDS:
            return 0.0
        wait = min(FIRST_WAIT_SECONDS * 2 ** (count - FREE_WRONG_PASSWORDS), LONGEST_WAIT_SECONDS)
        return max(0.0, last + wait - self._clock())

    def failed(self, address: str) -> None:
        """Count a wrong password from ``address``."""
        with self._lock:
            count, _ = self._wrong.pop(address, (0, 0.0))
            self._wrong[address] = (count + 1, self._clock())
            while len(self._wrong) > MAX_ADDRESSES_REMEMBERED:
                del self._wrong[next(iter(self._wrong))]

    def succeeded(self, address: str) -> None:
        """Forget the wrong passwords of ``address``."""
        with self._lock:
            self._wrong.pop(address, None)


def _host_name(host: str) -> str:
    """``host`` as compared: lower case, without its port or IPv6 brackets."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    if host.count(":") == 1:
        return host.partition(":")[0]
    return host
