"""One paced, retried request to Apptoto: the layer under :class:`~importer.client.ApptotoClient`.

Each try waits for a place among ``max_in_flight`` requests, then for a start slot from the shared
pacer, then sends. Connection failures and 408/429/5xx become
:class:`~importer.client.retry.RetryableFailure`; 401/403 raise ``CredentialsRefused`` and make
every later request of this session raise it too, without sending.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx

from importer._version import __version__
from importer.client.answers import status_text
from importer.client.clock import Clock
from importer.client.config import ENV_API_KEY, ENV_USER, ClientConfig
from importer.client.learning import RateLearner, rate_from_headers
from importer.client.pacing import DeadlinePassed, Pacer
from importer.client.redact import redact, secret_forms
from importer.client.retry import (
    RETRIED_ERRORS,
    RETRIED_STATUSES,
    GaveUp,
    RetryableFailure,
    RetryPolicy,
    call_with_retries,
    parse_retry_after,
)
from importer.errors import CredentialsRefused, SendError

logger = logging.getLogger("importer.client")

# Connecting should never take as long as an answer may; a dead host is found out sooner.
CONNECT_TIMEOUT_SECONDS = 30.0

Params = Mapping[str, str | int]


class PacedSession:
    """An httpx client plus the pacer, the in-flight limit, the deadline and the retry policy."""

    def __init__(
        self,
        config: ClientConfig,
        *,
        transport: httpx.AsyncBaseTransport | None,
        clock: Clock,
        rng: random.Random,
    ) -> None:
        self.config = config
        self.clock = clock
        self.secrets = secret_forms(config.api_key, config.user)
        self.base_path = httpx.URL(config.base_url).path.rstrip("/")
        self._rng = rng
        self._http = httpx.AsyncClient(
            base_url=config.base_url,
            auth=httpx.BasicAuth(config.user, config.api_key),
            transport=transport,
            timeout=_timeout(config.timeout_seconds),
            headers={"Accept": "application/json", "User-Agent": f"apptoto-importer/{__version__}"},
        )
        self._pacer = Pacer(config.start_interval, clock)
        self._learner = RateLearner(config.limit_window_seconds)
        self._in_flight = asyncio.Semaphore(config.max_in_flight)
        self._started_at: float | None = None  # the deadline counts from the first request
        self._refused: str | None = None  # the CredentialsRefused message, once refused
        # A 403 may refuse one calendar or event, not the credentials: one harmless read tells.
        self._credentials_checked = False
        self._checking_credentials = asyncio.Lock()

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    def begin(self) -> None:
        """Mark the start of work: the deadline counts from the first call; refused -> raise."""
        self._raise_if_refused()
        if self._started_at is None:
            self._started_at = self.clock.monotonic()

    async def call(
        self,
        method: str,
        path: str,
        what: str,
        *,
        params: Params,
        on_sending: Callable[[], None] | None = None,
    ) -> httpx.Response:
        """One request, retried on retryable failures; the final response, whatever its status.

        ``on_sending`` is called just before each try goes out. Raises ``GaveUp`` when tries or
        the deadline run out.
        """

        async def attempt(try_number: int) -> httpx.Response:
            tried = f"{what}, try {try_number}"
            response = await self.send_once(
                method, path, tried, params=params, on_sending=on_sending
            )
            self.raise_if_retryable(response)
            return response

        result: httpx.Response = await self.retrying(attempt, what)
        return result

    async def retrying(self, attempt: Callable[[int], Awaitable[Any]], what: str) -> Any:
        """Run ``attempt(try_number)`` under this session's retry policy and deadline."""
        return await call_with_retries(
            attempt,
            policy=RetryPolicy.from_config(self.config, deadline=self._deadline()),
            clock=self.clock,
            rng=self._rng,
            what=what,
            on_pause=self._pause_everyone,
        )

    async def send_once(
        self,
        method: str,
        path: str,
        what: str,
        *,
        json: Any = None,
        params: Params | None = None,
        checking_credentials: bool = False,
        on_sending: Callable[[], None] | None = None,
    ) -> httpx.Response:
        """One paced try; connection failures become ``RetryableFailure``; refusals may raise.

        ``on_sending`` is called once the try has its slot, just before the request goes out.

        ``path`` is relative to the base URL. A deadline that leaves no time raises
        ``DeadlinePassed`` before sending; an unusable address raises ``SendError``. A 401
        raises ``CredentialsRefused``; so does a 403 when a harmless read is refused too (the
        first 403 of the session sends one): otherwise a 403 is this request's refusal (a
        calendar or event the user may not touch), returned like any other answer.
        """
        self._raise_if_refused()
        deadline = self._deadline()
        async with self._in_flight:
            await self._pacer.wait_for_slot(deadline)
            started = self.clock.monotonic()
            seconds = self.config.timeout_seconds
            if deadline is not None:
                seconds = min(seconds, deadline - started)
                if seconds <= 0:
                    raise DeadlinePassed
            if on_sending is not None:
                on_sending()
            try:
                response = await self._http.request(
                    method, path, json=json, params=params, timeout=_timeout(seconds)
                )
            except RETRIED_ERRORS as exc:
                failure = self._describe(exc, seconds)
                elapsed = self.clock.monotonic() - started
                logger.debug("%s: %s after %.2f s", what, failure, elapsed)
                raise RetryableFailure(failure) from None
            except httpx.HTTPError as exc:
                raise SendError(
                    f"cannot talk to Apptoto at {self.config.base_url}: "
                    f"{redact(str(exc), self.secrets)}"
                ) from None
        elapsed = self.clock.monotonic() - started
        logger.debug("%s: %s in %.2f s", what, status_text(response), elapsed)
        self._learn_the_pace(response, started)
        if response.status_code == 401 or (response.status_code == 403 and checking_credentials):
            self._refuse(response.status_code)
        if response.status_code == 403:
            await self._check_credentials()
        return response

    def _refuse(self, status: int) -> None:
        self._refused = (
            f"Apptoto refused the credentials for user {self.config.user} "
            f"(HTTP {status}); check {ENV_USER} and {ENV_API_KEY}"
        )
        self._raise_if_refused()

    async def _check_credentials(self) -> None:
        """After a 403: read one event; refused too -> ``CredentialsRefused``, else carry on."""
        async with self._checking_credentials:
            self._raise_if_refused()
            if self._credentials_checked:
                return
            what = f"GET {self.base_path}/events?page_size=1 (are the credentials refused?)"

            async def attempt(try_number: int) -> httpx.Response:
                tried = f"{what}, try {try_number}"
                answer = await self.send_once(
                    "GET", "/events", tried, params={"page_size": 1}, checking_credentials=True
                )
                self.raise_if_retryable(answer)
                return answer

            try:
                await self.retrying(attempt, what)
            except GaveUp:
                return  # unknown yet: the next 403 asks again
            self._credentials_checked = True
            logger.info("a 403 refused one request, but the credentials work: carrying on")

    def raise_if_retryable(self, response: httpx.Response) -> None:
        """Raise ``RetryableFailure`` for 408/429/5xx, with the server's Retry-After (capped)."""
        if response.status_code not in RETRIED_STATUSES:
            return
        raise RetryableFailure(
            status_text(response),
            status=response.status_code,
            retry_after=self._retry_after(response),
            pause_everyone=response.status_code == 429,
        )

    def _retry_after(self, response: httpx.Response) -> float | None:
        """The seconds ``response``'s Retry-After asks for, at most ``retry_after_cap``: a wait
        past the cap is neither obeyed nor learnt from as the pace. None when it says nothing."""
        retry_after = parse_retry_after(
            response.headers.get("Retry-After"),
            now_wall=self.clock.wall_time(),
            server_date=response.headers.get("Date"),
        )
        return None if retry_after is None else min(retry_after, self.config.retry_after_cap)

    def _learn_the_pace(self, response: httpx.Response, started: float) -> None:
        """Slow to the rate Apptoto's headers or 429s show (:mod:`importer.client.learning`)."""
        rate, pause = rate_from_headers(response.headers)
        if response.status_code != 429:
            self._learner.answered(started)
        else:
            self._learner.started(started)
            retry_after = self._retry_after(response)
            learnt = self._learner.from_429(self.clock.monotonic(), retry_after)
            if retry_after is None:  # no word on when: wait for a place of a minute's window
                pause = max(pause or 0.0, self._learner.frees_in(self.clock.monotonic()))
            if learnt is not None:
                rate = learnt if rate is None else min(rate, learnt)
        if rate is not None:
            interval = 1.0 / rate * (1.0 + self.config.pacing_margin)
            if self._pacer.slow_to(interval):
                logger.info(
                    "Apptoto allows about %.0f requests a minute: pacing to that", 60.0 * rate
                )
        if pause is not None:
            self._pacer.pause_until(self.clock.monotonic() + pause)

    def _pause_everyone(self, seconds: float) -> None:
        logger.info("Apptoto asked to slow down (429): no request for %.1f s", seconds)
        self._pacer.pause_until(self.clock.monotonic() + seconds)

    def _describe(self, exc: Exception, timeout_seconds: float) -> str:
        if isinstance(exc, httpx.ConnectTimeout):
            return f"could not connect within {min(timeout_seconds, CONNECT_TIMEOUT_SECONDS):g} s"
        if isinstance(exc, httpx.TimeoutException):
            return f"no answer within {timeout_seconds:g} s"
        if isinstance(exc, httpx.RemoteProtocolError):
            return "the server dropped the connection"
        if isinstance(exc, httpx.ConnectError):
            return f"could not connect ({redact(str(exc), self.secrets) or 'no reason given'})"
        return f"the connection failed ({redact(str(exc), self.secrets) or type(exc).__name__})"

    def _raise_if_refused(self) -> None:
        # A fresh exception per raise: one instance raised in many tasks grows its traceback.
        if self._refused is not None:
            raise CredentialsRefused(self._refused)

    def _deadline(self) -> float | None:
        if self.config.deadline_seconds is None or self._started_at is None:
            return None
        return self._started_at + self.config.deadline_seconds


def _timeout(seconds: float) -> httpx.Timeout:
    return httpx.Timeout(seconds, connect=min(seconds, CONNECT_TIMEOUT_SECONDS))
