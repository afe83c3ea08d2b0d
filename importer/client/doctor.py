"""``apptoto-import doctor``: does this Apptoto account answer as the importer expects?

Read-only by default: one harmless read (credentials, latency, the shape of a list, rate-limit
headers) and one lookup of an event that does not exist. With ``write_calendar`` it also creates
one clearly named test event in that calendar, updates it by external_id, looks it up, deletes
it, and sends it once more after the delete (then deletes that too). Each finding says whether
the account behaves like the sandbox and what the importer does about it when it does not.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from importer.client.answers import (
    apptoto_id_of,
    body_json,
    events_in_answer,
    single_event,
    status_text,
)
from importer.client.clock import SystemClock
from importer.client.config import ClientConfig
from importer.client.learning import rate_from_headers
from importer.client.matching import same_start
from importer.client.retry import GaveUp
from importer.client.session import PacedSession
from importer.errors import CredentialsRefused, SendError

TEST_TITLE = "apptoto-import doctor: test event (safe to delete)"


@dataclass(frozen=True)
class Finding:
    """One behaviour checked: as the sandbox (``same``), different, or not known (None)."""

    behaviour: str  # what was checked, in plain words
    same: bool | None  # True: as the importer expects; False: different; None: not checked
    detail: str  # what Apptoto answered
    importer_does: str = ""  # what the importer does about a difference

    def line(self) -> str:
        """``ok   credentials: ...`` / ``DIFF ...`` / ``??   ...``, one or two lines."""
        mark = {True: "ok  ", False: "DIFF", None: "??  "}[self.same]
        text = f"{mark} {self.behaviour}: {self.detail}"
        return text + (f"\n     -> {self.importer_does}" if self.importer_does else "")


class _Doctor:
    def __init__(self, session: PacedSession) -> None:
        self.session = session
        self.findings: list[Finding] = []

    def note(self, behaviour: str, same: bool | None, detail: str, does: str = "") -> None:
        self.findings.append(Finding(behaviour, same, detail, does if same is False else ""))

    async def ask(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        what = f"{method} {self.session.base_path}{path} (doctor)"

        async def attempt(try_number: int) -> httpx.Response:
            answer = await self.session.send_once(
                method, path, f"{what}, try {try_number}", json=json, params=params
            )
            self.session.raise_if_retryable(answer)
            return answer

        response: httpx.Response = await self.session.retrying(attempt, what)
        return response

    async def read_only(self) -> None:
        started = time.perf_counter()
        response = await self.ask("GET", "/events", params={"page_size": 1})
        seconds = time.perf_counter() - started
        self.note("credentials", True, f"accepted ({status_text(response)})")
        self.note("latency", True, f"{seconds:.2f} s for one read")
        listed = events_in_answer(body_json(response))
        self.note(
            "list of events",
            listed is not None,
            'answered as {"events": [...]}' if listed is not None else "another shape",
            "the importer does not rely on listing events",
        )
        rate, _ = rate_from_headers(response.headers)
        self.note(
            "rate limit",
            None if rate is None else True,
            f"the answer says {rate * 60:.0f} requests a minute"
            if rate is not None
            else "not said in the answers: the importer learns it from the first 429s",
        )
        await self.lookup_missing()

    async def lookup_missing(self) -> None:
        response = await self.ask(
            "GET", "/event", params={"external_id": f"apptoto-import-doctor-none-{random.random()}"}
        )
        if response.status_code == 404 and isinstance(body_json(response), Mapping):
            self.note("lookup by external_id", True, "an unknown event is answered 404 (JSON)")
        else:
            self.note(
                "lookup by external_id",
                False,
                f"an unknown event is answered {status_text(response)}"
                f"{'' if isinstance(body_json(response), Mapping) else ' (a web page)'}",
                "lookups are not used: answers are paired by id and content; rows Apptoto "
                "stored without naming them are recorded as sent, without an Apptoto id",
            )

    async def put(self, event: dict[str, Any]) -> dict[str, Any] | None:
        response = await self.ask("PUT", "/events", json={"events": [event]})
        if not response.is_success:
            self.note(
                f"creating an event in calendar {event.get('calendar')!r}",
                False,
                f"refused ({status_text(response)}): {response.text[:200]}",
                "rows for this calendar fail with Apptoto's words; the others are sent",
            )
            return None
        listed = events_in_answer(body_json(response)) or []
        return listed[0] if len(listed) == 1 else None

    async def write(self, calendar: str) -> None:
        external_id = f"apptoto-import-doctor-{int(time.time())}"
        start = (datetime.now(UTC) + timedelta(days=30)).replace(hour=3, minute=0, second=0)
        start = start.replace(microsecond=0).astimezone(UTC)
        event = {
            "calendar": calendar,
            "external_id": external_id,
            "title": TEST_TITLE,
            "start_time": start.isoformat(),
            "end_time": (start + timedelta(minutes=15)).isoformat(),
        }
        stored = await self.put(event)
        if stored is None:
            return
        self.check_created(event, stored)
        event_id = apptoto_id_of(stored)
        updated = await self.put({**event, "title": TEST_TITLE + " [updated]"})
        same_event = updated is not None and apptoto_id_of(updated) == event_id
        self.note(
            "update by external_id",
            same_event,
            "the same event was updated" if same_event else "another event was made",
            "every row is sent with Apptoto's id once known; check for duplicates in Apptoto",
        )
        found = await self.ask("GET", "/event", params={"external_id": external_id})
        self.note(
            "lookup of the test event",
            found.is_success,
            f"answered {status_text(found)}",
            "lookups are not used (see above)",
        )
        await self.delete_and_check(event_id, external_id)
        again = await self.put(event)
        if again is None:
            return
        fresh = again.get("is_deleted") is not True
        self.note(
            "sending a deleted event's external_id again",
            fresh,
            "a new event was made" if fresh else "the deleted event was updated (still deleted)",
            "such rows fail with 'answered with this event deleted': nothing is reported sent",
        )
        if fresh and apptoto_id_of(again) is not None:
            await self.ask("DELETE", "/events", params={"id": apptoto_id_of(again) or 0})

    def check_created(self, event: Mapping[str, Any], stored: Mapping[str, Any]) -> None:
        names = stored.get("external_id") == event["external_id"]
        self.note(
            "answers name the external_id",
            names,
            "yes" if names else "the answer leaves external_id out",
            "answers are paired with rows by id and by content within each request, "
            "with no request per row",
        )
        echoed = str(stored.get("start_time"))
        exact = echoed == event["start_time"]
        self.note(
            "start time in answers",
            True if exact else same_start(event["start_time"], echoed),
            f"sent {event['start_time']}, answered {echoed}",
            "times are compared as instants",
        )

    async def delete_and_check(self, event_id: int | None, external_id: str) -> None:
        params: dict[str, str | int] = (
            {"id": event_id} if event_id is not None else {"external_id": external_id}
        )
        response = await self.ask("DELETE", "/events", params=params)
        shown = single_event(body_json(response), None) or {}
        confirmed = response.is_success and shown.get("is_deleted") is True
        self.note(
            "delete",
            confirmed,
            f"answered {status_text(response)}"
            + (" showing the event deleted" if confirmed else " without showing it deleted"),
            "a cancellation counts only when a lookup by id then shows the event deleted; "
            "otherwise the row is failed and tried again next run",
        )
        if not confirmed:
            check = await self.ask("GET", "/event", params=params)
            after = body_json(check)
            gone = check.status_code == 404 and isinstance(after, Mapping)
            deleted = isinstance(after, Mapping) and after.get("is_deleted") is True
            live = check.is_success and not deleted
            state = "deleted" if deleted or gone else ("still live" if live else "unknown")
            self.note(
                "the test event after the delete",
                deleted or gone,
                state,
                f"delete it by hand in Apptoto (title {TEST_TITLE!r})",
            )


async def check_account(
    config: ClientConfig,
    *,
    write_calendar: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[Finding]:
    """Check an account read-only (and, given ``write_calendar``, with one test event).

    Refused credentials and no answer are findings too (the first finding, then it stops).
    """
    session = PacedSession(config, transport=transport, clock=SystemClock(), rng=random.Random())
    doctor = _Doctor(session)
    session.begin()
    try:
        await doctor.read_only()
        if write_calendar:
            await doctor.write(write_calendar)
    except CredentialsRefused as exc:
        doctor.note("credentials", False, str(exc), "nothing can be sent: fix the user or key")
    except (GaveUp, SendError) as exc:
        doctor.note("answers", None, f"Apptoto did not answer: {exc}")
    finally:
        await session.aclose()
    return doctor.findings
