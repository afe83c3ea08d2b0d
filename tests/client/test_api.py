"""The Apptoto client against in-memory fake servers (httpx.MockTransport) in virtual time."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import httpx
import pytest

from importer.client import ApptotoClient, ClientConfig, EventResult, VirtualClock
from importer.errors import CredentialsRefused, SendError

USER = "office@clinic.example"
KEY = "k3y-Very-Secret-123"

Handler = Callable[[httpx.Request], Coroutine[Any, Any, httpx.Response]]
# Apptoto's answer to a lookup of an event it does not have: a JSON error, not a web page.
NOT_FOUND = httpx.Response(404, json={"error": "no such event"})


def run(
    handler: Handler,
    action: Callable[[ApptotoClient], Awaitable[Any]],
    clock: VirtualClock | None = None,
    **settings: Any,
) -> Any:
    """Run ``action(client)`` against ``handler`` in virtual time; return what it returns."""
    clock = clock or VirtualClock()

    async def main() -> Any:
        config = ClientConfig(user=USER, api_key=KEY, **settings)
        transport = httpx.MockTransport(handler)
        async with ApptotoClient(
            config, transport=transport, clock=clock, rng=random.Random(7)
        ) as client:
            return await action(client)

    return clock.run(main())


def events(count: int, prefix: str = "row") -> list[dict[str, Any]]:
    return [{"external_id": f"{prefix}-{n}", "title": f"Visit {n}"} for n in range(count)]


def sent_events(request: httpx.Request) -> list[dict[str, Any]]:
    return list(json.loads(request.content)["events"])


def apptoto_id(external_id: str) -> int:
    """The id the fake server gives an event: derived from its external_id, to check matching."""
    return 1000 + int(external_id.rsplit("-", 1)[1])


def stored(event: dict[str, Any]) -> dict[str, Any]:
    return {**event, "id": apptoto_id(event["external_id"])}


class FakeApptoto:
    """Stores what is PUT, answers GET /event and DELETE; ``refuse`` decides per-batch refusals."""

    def __init__(
        self, refuse: Callable[[list[dict[str, Any]]], httpx.Response | None] | None = None
    ) -> None:
        self.refuse = refuse
        self.events: dict[str, dict[str, Any]] = {}
        self.requests: list[httpx.Request] = []
        self.hide: set[str] = set()  # stored but left out of the PUT answer
        self.reverse = False

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.method == "PUT":
            batch = sent_events(request)
            refusal = self.refuse(batch) if self.refuse else None
            if refusal is not None:
                return refusal
            answer = []
            for event in batch:
                self.events[event["external_id"]] = stored(event)
                if event["external_id"] not in self.hide:
                    answer.append(stored(event))
            return httpx.Response(200, json={"events": answer[::-1] if self.reverse else answer})
        if request.method == "GET":
            found = self.events.get(request.url.params["external_id"])
            return httpx.Response(200, json=found) if found else NOT_FOUND
        raise AssertionError(f"unexpected {request.method}")

    def puts(self) -> list[list[dict[str, Any]]]:
        return [sent_events(r) for r in self.requests if r.method == "PUT"]


def test_batches_are_sent_with_basic_auth_and_results_follow_input_order() -> None:
    server = FakeApptoto()
    results = run(server, lambda c: c.send_events(events(40)), batch_size=15)
    assert [len(batch) for batch in server.puts()] == [15, 15, 10]
    assert [r.external_id for r in results] == [f"row-{n}" for n in range(40)]
    assert all(r.ok and r.apptoto_id == apptoto_id(r.external_id) for r in results)
    first = server.requests[0]
    assert first.url == "https://api.apptoto.com/v1/events"
    assert first.headers["Authorization"] == httpx.BasicAuth(USER, KEY)._auth_header
    assert results[0].stored == {"external_id": "row-0", "title": "Visit 0", "id": 1000}


def test_nothing_to_send_sends_nothing() -> None:
    server = FakeApptoto()
    assert run(server, lambda c: c.send_events([])) == []
    assert server.requests == []


def test_events_may_be_any_mapping() -> None:
    from types import MappingProxyType

    server = FakeApptoto()
    results = run(server, lambda c: c.send_events([MappingProxyType({"external_id": "row-4"})]))
    assert results[0].apptoto_id == 1004
    assert server.puts() == [[{"external_id": "row-4"}]]


def test_a_reordered_answer_is_matched_by_external_id() -> None:
    server = FakeApptoto()
    server.reverse = True
    results = run(server, lambda c: c.send_events(events(5)))
    assert [(r.external_id, r.apptoto_id) for r in results] == [
        (f"row-{n}", 1000 + n) for n in range(5)
    ]


def test_on_batch_gets_each_batch_once_as_it_settles() -> None:
    seen: list[list[str]] = []

    def on_batch(batch: Any) -> None:
        seen.append([r.external_id for r in batch])

    results = run(
        FakeApptoto(), lambda c: c.send_events(events(7), on_batch=on_batch), batch_size=3
    )
    assert sorted(seen) == [["row-0", "row-1", "row-2"], ["row-3", "row-4", "row-5"], ["row-6"]]
    assert len(results) == 7


def test_on_sending_names_each_request_before_its_answer_is_settled() -> None:
    order: list[tuple[str, list[str]]] = []

    def on_sending(ids: Any) -> None:
        order.append(("sending", list(ids)))

    def on_batch(batch: Any) -> None:
        order.append(("settled", [r.external_id for r in batch]))

    run(
        FakeApptoto(),
        lambda c: c.send_events(events(5), on_batch=on_batch, on_sending=on_sending),
        batch_size=3,
    )
    for ids in (["row-0", "row-1", "row-2"], ["row-3", "row-4"]):
        assert order.index(("sending", ids)) < order.index(("settled", ids))
    assert len(order) == 4


def test_an_event_missing_from_the_answer_is_looked_up() -> None:
    server = FakeApptoto()
    server.hide = {"row-1"}
    results = run(server, lambda c: c.send_events(events(3)))
    lookups = [r for r in server.requests if r.method == "GET"]
    assert [str(r.url) for r in lookups] == ["https://api.apptoto.com/v1/event?external_id=row-1"]
    assert results[1] == EventResult(
        "row-1",
        True,
        1001,
        {"external_id": "row-1", "title": "Visit 1", "id": 1001},
        "Apptoto's answer did not list this event; a lookup found it stored",
    )
    assert results[0].ok and results[2].ok


def test_an_event_neither_answered_nor_found_fails() -> None:
    server = FakeApptoto(
        refuse=lambda batch: httpx.Response(200, json={"events": [stored(batch[0])]})
    )
    results = run(server, lambda c: c.send_events(events(2)))
    assert results[0].ok
    assert results[1] == EventResult(
        "row-1",
        False,
        message="Apptoto's answer did not list this event, and Apptoto has no event with its id: "
        "not stored",
    )


def test_a_200_that_is_not_json_leads_to_lookups_of_every_event() -> None:
    server = FakeApptoto(refuse=lambda batch: httpx.Response(200, text="<html>Gateway</html>"))
    server.events = {f"row-{n}": stored(events(3)[n]) for n in (0, 2)}
    results = run(server, lambda c: c.send_events(events(3)))
    assert [r.ok for r in results] == [True, False, True]
    assert sum(r.method == "GET" for r in server.requests) == 3
    assert results[1].message.startswith("Apptoto's answer was not the expected list of events")


@pytest.mark.parametrize(
    ("bad", "body", "expected"),
    [
        ({"row-3"}, {"message": "title is required"}, "title is required"),
        (
            {"row-0", "row-6"},
            {"errors": ["start_time: bad", "calendar: missing"]},
            "start_time: bad; calendar: missing",
        ),
        ({"row-5"}, {"error": {"start_time": "not ISO 8601"}}, "start_time: not ISO 8601"),
        ({"row-2"}, "plain text reason", "plain text reason"),
        ({"row-4"}, "<html><body><h1>Invalid</h1> " + "x" * 500 + "</body></html>", "Invalid x"),
    ],
)
def test_a_refused_batch_is_split_so_every_good_event_lands(
    bad: set[str], body: Any, expected: str
) -> None:
    def refuse(batch: list[dict[str, Any]]) -> httpx.Response | None:
        if not bad & {e["external_id"] for e in batch}:
            return None
        if isinstance(body, str):
            return httpx.Response(400, text=body)
        return httpx.Response(400, json=body)

    server = FakeApptoto(refuse=refuse)
    results = run(server, lambda c: c.send_events(events(7)), batch_size=7)
    for result in results:
        if result.external_id in bad:
            assert not result.ok
            assert result.message.startswith("Apptoto refused the event (400 Bad Request): ")
            assert expected in result.message
            assert len(result.message) < 400
        else:
            assert result.ok and result.apptoto_id == apptoto_id(result.external_id)
    assert set(server.events) == {e["external_id"] for e in events(7)} - bad
    # Halving finds each bad event in about 2*log2(7) requests per bad event, not one per event.
    assert len(server.requests) <= 1 + 2 * 3 * len(bad)


def test_two_502_in_a_row_split_a_large_batch() -> None:
    def too_large(batch: list[dict[str, Any]]) -> httpx.Response | None:
        return httpx.Response(502) if len(batch) > 4 else None

    server = FakeApptoto(refuse=too_large)
    results = run(server, lambda c: c.send_events(events(15)), batch_size=15)
    assert all(r.ok for r in results)
    sizes = [len(batch) for batch in server.puts()]
    assert sizes == [15, 15, 7, 7, 3, 4, 8, 8, 4, 4]


def test_a_single_event_with_502_is_retried_not_split() -> None:
    answers = iter([httpx.Response(502), httpx.Response(502), None])
    server = FakeApptoto(refuse=lambda batch: next(answers))
    results = run(server, lambda c: c.send_events(events(1)))
    assert results[0].ok
    assert [len(b) for b in server.puts()] == [1, 1, 1]


@pytest.mark.parametrize(("status", "requests"), [(401, ["PUT"]), (403, ["PUT", "GET"])])
def test_refused_credentials_stop_at_once(status: int, requests: list[str]) -> None:
    # A 403 may refuse one calendar only: one harmless read, refused too, says it is the key.
    async def refuse_everything(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status)

    seen: list[httpx.Request] = []
    with pytest.raises(CredentialsRefused) as caught:
        run(refuse_everything, lambda c: c.send_events(events(30)), batch_size=1)
    assert [r.method for r in seen] == requests
    assert str(caught.value) == (
        f"Apptoto refused the credentials for user {USER} (HTTP {status}); "
        "check APPTOTO_USER and APPTOTO_API_KEY"
    )


def test_refused_credentials_cancel_requests_in_flight_and_later_calls() -> None:
    started: list[str] = []
    finished: list[str] = []

    async def slow_refusal(request: httpx.Request) -> httpx.Response:
        external_id = sent_events(request)[0]["external_id"]
        started.append(external_id)
        await asyncio.sleep(1.0)
        finished.append(external_id)
        return httpx.Response(401)

    async def action(client: ApptotoClient) -> list[str]:
        with pytest.raises(CredentialsRefused):
            await client.send_events(events(30), on_batch=lambda b: None)
        with pytest.raises(CredentialsRefused):
            await client.delete_event(apptoto_id=5)
        return started

    assert run(slow_refusal, action, batch_size=1) == ["row-0", "row-1"]
    assert finished == ["row-0"]  # the second request was cancelled while in flight


@pytest.mark.parametrize(
    "bad_events",
    [
        [{"title": "no id"}],
        [{"external_id": ""}],
        [{"external_id": 17}],
        [{"external_id": "a"}, {"external_id": "a"}],
    ],
)
def test_events_without_a_unique_external_id_are_refused_before_sending(
    bad_events: list[dict[str, Any]],
) -> None:
    server = FakeApptoto()
    with pytest.raises(ValueError, match="external_id"):
        run(server, lambda c: c.send_events(bad_events))
    assert server.requests == []


LIVE = httpx.Response(200, json={"id": 5, "external_id": "row-5", "is_deleted": False})
DELETED = httpx.Response(200, json={"id": 5, "external_id": "row-5", "is_deleted": True})
ROUTER_404 = httpx.Response(404, html="<html><h1>404 Not Found</h1></html>")
CHECKED = ["DELETE /v1/events?id=5", "GET /v1/event?id=5"]


@pytest.mark.parametrize(
    ("delete_answer", "lookup_answer", "ok", "message", "requests"),
    [
        (
            httpx.Response(
                200, json={"events": [{"id": 5, "external_id": "row-5", "is_deleted": True}]}
            ),
            None,
            True,
            "deleted in Apptoto",
            CHECKED[:1],
        ),
        (DELETED, None, True, "deleted in Apptoto", CHECKED[:1]),
        # Not confirmed by the answer: a lookup by id decides.
        (httpx.Response(200, json={}), DELETED, True, "deleted in Apptoto (checked)", CHECKED),
        (NOT_FOUND, NOT_FOUND, True, "gone from Apptoto (checked)", CHECKED),
        (
            ROUTER_404,
            LIVE,
            False,
            "Apptoto answered the delete with (404 Not Found): 404 Not Found; Apptoto still "
            "shows the event, so its reminders were not stopped",
            CHECKED,
        ),
        (
            httpx.Response(200, json={"ok": True}),
            LIVE,
            False,
            "Apptoto answered the delete (200 OK) without saying it deleted; Apptoto still "
            "shows the event, so its reminders were not stopped",
            CHECKED,
        ),
        (
            ROUTER_404,
            ROUTER_404,
            False,
            "Apptoto answered the delete with (404 Not Found): 404 Not Found, and checking it "
            "failed (looking an event up does not work on this account (404 Not Found page)): "
            "the event may still be live",
            CHECKED,
        ),
        (
            httpx.Response(409, json={"message": "locked"}),
            None,
            False,
            "Apptoto refused to delete the event (409 Conflict): locked",
            CHECKED[:1],
        ),
    ],
)
def test_a_delete_counts_only_when_apptoto_confirms_it(
    delete_answer: httpx.Response,
    lookup_answer: httpx.Response | None,
    ok: bool,
    message: str,
    requests: list[str],
) -> None:
    seen: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}?{request.url.query.decode()}")
        answer = delete_answer if request.method == "DELETE" else lookup_answer
        assert answer is not None, "no lookup expected"
        return answer

    result = run(handler, lambda c: c.delete_event(apptoto_id=5))
    assert (result.ok, result.message, result.apptoto_id) == (ok, message, 5)
    assert seen == requests


def test_delete_by_external_id_is_retried_like_a_put() -> None:
    deleted = {"id": 9, "external_id": "x", "is_deleted": True}
    answers = iter([httpx.Response(503), httpx.Response(200, json=deleted)])
    seen: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return next(answers)

    result = run(handler, lambda c: c.delete_event(external_id="x"))
    assert result == EventResult("x", True, 9, deleted, "deleted in Apptoto")
    assert seen == ["https://api.apptoto.com/v1/events?external_id=x"] * 2


def test_delete_needs_an_id() -> None:
    with pytest.raises(ValueError, match="apptoto_id or external_id"):
        run(FakeApptoto(), lambda c: c.delete_event())


def test_get_event_found_missing_and_unreachable() -> None:
    server = FakeApptoto()
    server.events["row-1"] = {"id": 1001, "external_id": "row-1"}
    assert run(server, lambda c: c.get_event("row-1")) == {"id": 1001, "external_id": "row-1"}
    assert run(server, lambda c: c.get_event("row-2")) is None

    async def down(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503)

    with pytest.raises(SendError, match=r"row-1.*did not answer after 2 tries"):
        run(down, lambda c: c.get_event("row-1"), max_tries=2)


def test_a_custom_base_url_keeps_its_path() -> None:
    server = FakeApptoto()
    run(server, lambda c: c.send_events(events(1)), base_url="http://127.0.0.1:8099/api/v1/")
    assert str(server.requests[0].url) == "http://127.0.0.1:8099/api/v1/events"
