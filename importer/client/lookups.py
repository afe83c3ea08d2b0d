"""Reading one event back (``GET /event``) and deleting one (``DELETE /events``), confirmed.

Neither endpoint is in the seed (``../shared/apptoto-api.md``), so both are used with care:

- A lookup that answers 404 as a JSON error means "no such event"; a 404 or 405 that is a web
  page, or any other refusal, means looking events up does not work on this account. That is
  found out once: later lookups are not sent and say why.
- A delete counts only when Apptoto confirms it: its answer shows the event ``is_deleted``, or a
  lookup by id afterwards shows it deleted or gone. Anything else is a failure with what Apptoto
  said (a DELETE answered 404 by a router page leaves the event, and its reminders, live).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from importer.client.answers import (
    EventResult,
    apptoto_id_of,
    body_json,
    events_in_answer,
    refusal_text,
    single_event,
    status_text,
)
from importer.client.retry import GaveUp
from importer.client.session import PacedSession

Params = dict[str, str | int]


class Lookups:
    """``GET /event`` and ``DELETE /events`` for one client; knows when lookups cannot work."""

    def __init__(self, session: PacedSession) -> None:
        self._session = session
        self.unusable: str | None = None  # why lookups do not work here, once found out

    def give_up_on_lookups(self, why: str) -> None:
        """Send no more lookups in this run (the first reason is kept)."""
        self.unusable = self.unusable or why

    async def find(
        self, *, external_id: str | None = None, apptoto_id: int | None = None
    ) -> dict[str, Any] | None:
        """The event Apptoto holds (by id when given), or None when Apptoto says there is none.

        Raises ``GaveUp`` when the lookup failed or lookups do not work on this account.
        """
        if self.unusable is not None:
            raise GaveUp(self.unusable, tries=0, last=None)
        params: Params = {"id": apptoto_id} if apptoto_id is not None else {}
        if not params:
            params = {"external_id": str(external_id)}
        what = f"GET {self._session.base_path}/event?{urllib.parse.urlencode(params)}"
        response = await self._session.call("GET", "/event", what, params=params)
        body = body_json(response)
        if response.status_code == 404 and isinstance(body, Mapping):
            return None
        if response.status_code in (404, 405):
            self.give_up_on_lookups(
                f"looking an event up does not work on this account ({status_text(response)}"
                f"{' page' if body is None else ''})"
            )
            raise GaveUp(str(self.unusable), tries=1, last=status_text(response))
        if not response.is_success:
            message = refusal_text("Apptoto refused the lookup", response, self._session.secrets)
            raise GaveUp(message, tries=1, last=status_text(response))
        if events_in_answer(body) is None and not isinstance(body, Mapping):
            raise GaveUp("Apptoto's answer to the lookup was not an event", tries=1, last=None)
        return single_event(body, external_id if apptoto_id is None else None)

    async def delete(
        self,
        *,
        apptoto_id: int | None,
        external_id: str | None,
        on_sending: Callable[[], None] | None = None,
    ) -> EventResult:
        """Delete one event; ``ok`` only when Apptoto confirmed it deleted (or gone).

        ``on_sending`` is called just before each try of the DELETE goes out."""
        params: Params = {"id": apptoto_id} if apptoto_id is not None else {}
        if not params:
            params = {"external_id": str(external_id)}
        shown_id = str(external_id or "")
        what = f"DELETE {self._session.base_path}/events?{urllib.parse.urlencode(params)}"
        try:
            response = await self._session.call(
                "DELETE", "/events", what, params=params, on_sending=on_sending
            )
        except GaveUp as exc:
            return EventResult(shown_id, False, apptoto_id, None, exc.message)
        stored = single_event(body_json(response), external_id) if response.is_success else None
        if stored is not None:
            apptoto_id = apptoto_id_of(stored) or apptoto_id
            shown_id = shown_id or str(stored.get("external_id") or "")
            if stored.get("is_deleted") is True:
                return EventResult(shown_id, True, apptoto_id, stored, "deleted in Apptoto")
        said = _what_the_delete_said(response, self._session.secrets)
        if said is None:
            message = refusal_text(
                "Apptoto refused to delete the event", response, self._session.secrets
            )
            return EventResult(shown_id, False, apptoto_id, stored, message)
        return await self._check_deleted(shown_id, apptoto_id, external_id, said)

    async def _check_deleted(
        self, shown_id: str, apptoto_id: int | None, external_id: str | None, said: str
    ) -> EventResult:
        """Ask Apptoto whether the event is deleted after a delete it did not confirm."""
        try:
            found = await self.find(apptoto_id=apptoto_id, external_id=external_id)
        except GaveUp as exc:
            return EventResult(
                shown_id,
                False,
                apptoto_id,
                None,
                f"{said}, and checking it failed ({exc.message}): the event may still be live",
            )
        if found is None:
            return EventResult(shown_id, True, apptoto_id, None, "gone from Apptoto (checked)")
        if found.get("is_deleted") is True:
            return EventResult(shown_id, True, apptoto_id, found, "deleted in Apptoto (checked)")
        return EventResult(
            shown_id,
            False,
            apptoto_id,
            found,
            f"{said}; Apptoto still shows the event, so its reminders were not stopped",
        )


def _what_the_delete_said(response: httpx.Response, secrets: Sequence[str]) -> str | None:
    """Plain words for a delete answer that needs checking; None for a plain refusal."""
    if response.is_success:
        return f"Apptoto answered the delete ({status_text(response)}) without saying it deleted"
    if response.status_code in (404, 405, 410):
        return refusal_text("Apptoto answered the delete with", response, secrets)
    return None
