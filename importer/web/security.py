"""Who may use the page and which forms it accepts: sessions, CSRF tokens, password, headers.

Every page visit gets a session cookie (random, HttpOnly, SameSite=Strict). Every form carries a
CSRF token derived from that session with an HMAC keyed by a secret made when the server starts,
so a page from another site cannot post a form here, and a restart simply asks for a reload.
When a password is set (always when listening beyond loopback), every request needs HTTP Basic
with that password (any user name).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

SESSION_COOKIE = "apptoto_import_session"
CSRF_FIELD = "csrf_token"
_SESSION_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
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


class CsrfRefused(Exception):
    """A form arrived without the token of the session it came from."""


class Guard:
    """Sessions, CSRF tokens and the password check of one running server."""

    def __init__(self, password: str = "", secret: bytes | None = None) -> None:
        self._password = password
        self._secret = secret or secrets.token_bytes(32)

    def __repr__(self) -> str:
        return f"Guard(password={'set' if self._password else 'none'})"

    def session_of(self, request: Request) -> str:
        """The session id of ``request`` (set by the middleware; made here when missing)."""
        session = getattr(request.state, "session_id", None)
        if isinstance(session, str):
            return session
        session = secrets.token_urlsafe(32)
        request.state.session_id = session
        request.state.new_session = True
        return session

    def csrf_token(self, request: Request) -> str:
        """The token every form of this session must send back in ``csrf_token``."""
        session = self.session_of(request)
        return hmac.new(self._secret, session.encode(), hashlib.sha256).hexdigest()

    def check_form(self, request: Request, submitted: object) -> None:
        """Raise CsrfRefused unless ``submitted`` is this session's token and the origin is ours."""
        origin = request.headers.get("origin")
        if origin and origin != "null" and origin != _own_origin(request):
            raise CsrfRefused("the form came from another site")
        cookie = request.cookies.get(SESSION_COOKIE, "")
        if not _SESSION_SHAPE.match(cookie):
            raise CsrfRefused("the form came without a session")
        expected = hmac.new(self._secret, cookie.encode(), hashlib.sha256).hexdigest()
        if not isinstance(submitted, str) or not hmac.compare_digest(submitted, expected):
            raise CsrfRefused("the form's token does not match the session")

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
        """Ask for the password, attach the session, add the security headers."""
        if not self.password_ok(request):
            return PlainTextResponse(
                "This page needs the password that was set in APPTOTO_WEB_PASSWORD.",
                status_code=401,
                headers={"WWW-Authenticate": 'Basic realm="Apptoto import", charset="UTF-8"'},
            )
        cookie = request.cookies.get(SESSION_COOKIE, "")
        if _SESSION_SHAPE.match(cookie):
            request.state.session_id = cookie
        response = await call_next(request)
        if getattr(request.state, "new_session", False):
            response.set_cookie(
                SESSION_COOKIE,
                request.state.session_id,
                httponly=True,
                samesite="strict",
                path="/",
            )
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def _own_origin(request: Request) -> str:
    host = request.headers.get("host", "")
    return f"{request.url.scheme}://{host}"
