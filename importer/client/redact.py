"""Keep the API key out of text: a function for strings and a logging filter for handlers.

The key can leak in two shapes: as itself, and inside the Basic auth header as base64 of
``user:key``. Both are replaced by ``***``. The client never logs either; the filter is defence in
depth for the CLI, which adds it to its *handlers* (a filter on a logger does not see records that
propagate up from child loggers such as ``httpx`` or ``httpcore``).
"""

from __future__ import annotations

import base64
import logging
import urllib.parse
from collections.abc import Iterable

MASK = "***"


def secret_forms(api_key: str, user: str | None = None) -> list[str]:
    """Every shape in which ``api_key`` could show up in text, longest first.

    The key itself, its percent-encoded form, and with ``user``, base64 of ``user:key`` (the Basic
    auth header) with and without padding. Empty keys give no forms.
    """
    if not api_key:
        return []
    forms = {api_key, urllib.parse.quote(api_key, safe=""), urllib.parse.quote_plus(api_key)}
    if user is not None:
        encoded = base64.b64encode(f"{user}:{api_key}".encode()).decode("ascii")
        forms.update({encoded, encoded.rstrip("=")})
    return sorted((form for form in forms if form), key=len, reverse=True)


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret replaced by ``***`` (longest secrets first)."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


class RedactSecrets(logging.Filter):
    """A logging filter that masks secrets in a record's message, arguments and traceback.

    ``RedactSecrets([api_key], user=user)`` also masks base64 of ``user:key``. Records are never
    dropped, only rewritten; a record that holds a secret is formatted once and its arguments
    cleared, since an argument's ``str()`` is where a secret usually hides.
    """

    def __init__(self, secrets: Iterable[str], *, user: str | None = None) -> None:
        super().__init__()
        forms: set[str] = set()
        for secret in secrets:
            forms.update(secret_forms(secret, user))
        self.secrets = sorted(forms, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: let logging report it as usual
            message = str(record.msg)
        clean = redact(message, self.secrets)
        if clean != message or record.args:
            record.msg = clean
            record.args = None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact(
                logging.Formatter().formatException(record.exc_info), self.secrets
            )
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True
