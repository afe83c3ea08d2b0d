"""The sandbox's /v1 API behaves as Apptoto's is known to (README, "The sandbox")."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from importer.sandbox.server import SandboxHandle


def event(external_id: str, **fields: Any) -> dict[str, Any]:
    """A complete new event in calendar "Dr Lee"; ``fields`` override or add."""
    return {
        "calendar": "Dr Lee",
        "external_id": external_id,
        "title": f"Visit {external_id}",
        "start_time": "2026-12-01T09:00:00-08:00",
        "end_time": "2026-12-01T09:30:00-08:00",
        **fields,
    }


def put(api: httpx.Client, *events: dict[str, Any]) -> list[dict[str, Any]]:
    response = api.put("events", json={"events": list(events)})
    assert response.status_code == 200, response.text
    return list(response.json()["events"])


def refused(api: httpx.Client, *events: dict[str, Any]) -> str:
    response = api.put("events", json={"events": list(events)})
    assert response.status_code == 400, response.text
    return str(response.json()["error"])


def test_put_of_two_events_returns_them_stored_with_ids(
    sandbox: SandboxHandle, sandbox_api: httpx.Client
) -> None:
    sent = [
        event("a-1", location="Room 4", time_zone="America/Los_Angeles", custom_data={"k": 1}),
        event("a-2", participants=[{"name": "Ann", "phone": "(541) 555-0104"}]),
    ]
    response = sandbox_api.put(
        "events", json={"events": sent}, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200
    first, second = response.json()["events"]
    assert isinstance(first["id"], int) and isinstance(second["id"], int)
    assert first["id"] != second["id"]
    assert first["calendar_id"] == second["calendar_id"]
    assert first["calendar_name"] == "Dr Lee"
    assert (first["external_id"], first["location"], first["custom_data"]) == (
        "a-1",
        "Room 4",
        {"k": 1},
    )
    assert (first["all_day"], first["show_as"], first["is_deleted"]) == (False, None, False)
    assert first["time_zone"] == "America/Los_Angeles"
    assert first["start_time"] == "2026-12-01T09:00:00-08:00"
    (ann,) = second["participants"]
    assert ann["name"] == "Ann" and ann["normalized_phone"] == "+15415550104"
    assert set(ann) >= {"id", "name", "email", "phone", "normalized_phone", "state"}
    assert sandbox.stats()["events_stored"] == 2


def test_put_updates_by_external_id(sandbox: SandboxHandle, sandbox_api: httpx.Client) -> None:
    (created,) = put(sandbox_api, event("x-1"))
    (updated,) = put(sandbox_api, {"external_id": "x-1", "title": "Moved"})
    assert updated["id"] == created["id"]
    assert updated["title"] == "Moved"
    assert sandbox.stats()["events_stored"] == 1


def test_put_updates_by_id_before_external_id(sandbox_api: httpx.Client) -> None:
    first, second = put(sandbox_api, event("x-1"), event("x-2"))
    (updated,) = put(sandbox_api, {"id": first["id"], "location": "Annex"})
    assert (updated["id"], updated["location"]) == (first["id"], "Annex")
    # id wins over an external_id that names another event
    (by_id,) = put(sandbox_api, {"id": second["id"], "external_id": "x-1", "content": "c"})
    assert by_id["id"] == second["id"]
    assert sandbox_api.get("event", params={"id": first["id"]}).json()["content"] is None


def test_unknown_id_creates_a_new_event(sandbox_api: httpx.Client) -> None:
    (created,) = put(sandbox_api, event("x-1", id=12345))
    assert created["id"] != 12345


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "New title"),
        ("location", "Annex"),
        ("content", "Bring forms #auto"),
        ("time_zone", "America/New_York"),
        ("all_day", True),
        ("show_as", 3),
        ("start_time", "2026-12-02T09:00:00-05:00"),
        ("end_time", "2026-12-01T10:00:00-08:00"),
    ],
)
def test_update_changes_only_the_fields_sent(
    sandbox_api: httpx.Client, field: str, value: object
) -> None:
    original = event(
        "p-1",
        location="Room 1",
        content="Hello",
        time_zone="America/Los_Angeles",
        show_as=1,
        custom_data={"clinic": "North"},
        participants=[{"name": "Ann", "email": "ann@example.com"}],
    )
    (before,) = put(sandbox_api, original)
    (after,) = put(sandbox_api, {"external_id": "p-1", field: value})
    assert after[field] == value
    unchanged = {k: v for k, v in before.items() if k != field}
    assert {k: after[k] for k in unchanged} == unchanged


def test_custom_data_and_participants_are_replaced_whole(sandbox_api: httpx.Client) -> None:
    put(
        sandbox_api,
        event(
            "r-1",
            custom_data={"a": 1, "b": 2},
            participants=[{"name": "Ann", "email": "ann@example.com"}, {"name": "Bob"}],
        ),
    )
    (after,) = put(
        sandbox_api,
        {"external_id": "r-1", "custom_data": {"c": 3}, "participants": [{"name": "Cy"}]},
    )
    assert after["custom_data"] == {"c": 3}
    assert [p["name"] for p in after["participants"]] == ["Cy"]


def test_messaged_participant_survives_an_update_that_omits_them(
    sandbox: SandboxHandle, sandbox_api: httpx.Client
) -> None:
    people = [{"name": "Ann", "phone": "541-555-0104"}, {"name": "Bob", "email": "b@example.com"}]
    (before,) = put(sandbox_api, event("m-1", participants=people))
    ann, bob = before["participants"]
    sandbox.mark_messaged(ann["id"])
    (after,) = put(sandbox_api, {"external_id": "m-1", "participants": [{"name": "Cy"}]})
    assert [p["name"] for p in after["participants"]] == ["Cy", "Ann"]
    kept = after["participants"][1]
    assert (kept["id"], kept["state"]) == (ann["id"], "messaged")
    assert bob["id"] not in {p["id"] for p in after["participants"]}


def test_a_participant_sent_again_keeps_their_id(sandbox_api: httpx.Client) -> None:
    first = [{"name": "Ann", "phone": "5415550104"}]
    (before,) = put(sandbox_api, event("m-2", participants=first))
    again = [{"name": "Ann B.", "phone": "+1 541 555 0104"}]
    (after,) = put(sandbox_api, {"external_id": "m-2", "participants": again})
    assert after["participants"][0]["id"] == before["participants"][0]["id"]
    assert after["participants"][0]["name"] == "Ann B."


@pytest.mark.parametrize(
    ("participant", "normalized"),
    [
        ({"phone": "541-555-0104"}, "+15415550104"),
        ({"phone": "+44 121 496 0000"}, "+441214960000"),
        ({"phone": "not a phone", "name": "Zed"}, None),
        ({"contact_id": 77}, None),
        ({"contact_external_id": "crm-9"}, None),
    ],
)
def test_participant_forms_and_phone_normalisation(
    sandbox_api: httpx.Client, participant: dict[str, Any], normalized: str | None
) -> None:
    (stored,) = put(sandbox_api, event("n-1", participants=[participant]))
    (person,) = stored["participants"]
    assert person["normalized_phone"] == normalized
    for key, value in participant.items():
        assert person[key] == value


def test_calendars_are_provisioned_by_name_with_stable_ids(
    sandbox: SandboxHandle, sandbox_api: httpx.Client
) -> None:
    lee, kim = put(sandbox_api, event("c-1"), event("c-2", calendar="Dr Kim"))
    assert lee["calendar_id"] != kim["calendar_id"]
    (later,) = put(sandbox_api, event("c-3"))
    assert later["calendar_id"] == lee["calendar_id"]
    by_id = {k: v for k, v in event("c-4").items() if k != "calendar"}
    (via_id,) = put(sandbox_api, {**by_id, "calendar_id": kim["calendar_id"]})
    assert via_id["calendar_name"] == "Dr Kim"
    calendars = {"Dr Lee": lee["calendar_id"], "Dr Kim": kim["calendar_id"]}
    assert sandbox.stats()["calendars"] == calendars


def test_unknown_calendar_id_is_refused(sandbox_api: httpx.Client) -> None:
    message = refused(sandbox_api, {**event("u-1"), "calendar": None, "calendar_id": 4242})
    assert "calendar_id 4242" in message and '"u-1"' in message


@pytest.mark.parametrize("target", [{"calendar": "Dr Kim"}, {"calendar": "Brand new"}, "id"])
def test_moving_an_event_to_another_calendar_is_refused(
    sandbox: SandboxHandle, sandbox_api: httpx.Client, target: Any
) -> None:
    (lee,) = put(sandbox_api, event("v-1"))
    (kim,) = put(sandbox_api, event("v-2", calendar="Dr Kim"))
    move = {"calendar_id": kim["calendar_id"]} if target == "id" else target
    message = refused(sandbox_api, {"external_id": "v-1", "title": "X", **move})
    assert "does not move events between calendars" in message and '"v-1"' in message
    assert sandbox_api.get("event", params={"id": lee["id"]}).json()["title"] == lee["title"]
    assert set(sandbox.stats()["calendars"]) == {"Dr Lee", "Dr Kim"}


def test_naming_the_same_calendar_on_update_is_fine(sandbox_api: httpx.Client) -> None:
    (lee,) = put(sandbox_api, event("w-1"))
    (again,) = put(sandbox_api, {"external_id": "w-1", "calendar_id": lee["calendar_id"]})
    assert again["calendar_id"] == lee["calendar_id"]


@pytest.mark.parametrize("field", ["calendar", "title", "start_time", "end_time"])
def test_new_event_missing_a_required_field_names_event_and_field(
    sandbox: SandboxHandle, sandbox_api: httpx.Client, field: str
) -> None:
    incomplete = {k: v for k, v in event("q-2").items() if k != field}
    message = refused(sandbox_api, event("q-1"), incomplete)
    assert "event 1" in message and '"q-2"' in message and field in message
    assert sandbox.stats()["events_stored"] == 0


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("2026-12-01T09:00:00-08:00", True),
        ("2026-12-01T17:00:00Z", True),
        ("2026-12-01T09:00:00.250+05:30", True),
        ("2026-12-01T09:00-0800", True),
        ("2026-12-01T09:00:00", False),
        ("2026-12-01", False),
        ("2026-12-01 09:00:00-08:00", False),
        ("12/01/2026 9:00 AM", False),
        ("2026-13-01T09:00:00-08:00", False),
        ("", False),
    ],
)
def test_times_need_an_iso_8601_offset(
    sandbox_api: httpx.Client, value: str, accepted: bool
) -> None:
    answer = sandbox_api.put("events", json={"events": [event("t-1", start_time=value)]})
    assert answer.status_code == (200 if accepted else 400)
    if not accepted:
        assert "start_time" in answer.json()["error"] and '"t-1"' in answer.json()["error"]


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"show_as": 5}, "show_as"),
        ({"show_as": "2"}, "show_as"),
        ({"show_as": True}, "show_as"),
        ({"all_day": "yes"}, "all_day"),
        ({"custom_data": [1]}, "custom_data"),
        ({"participants": {"name": "Ann"}}, "participants"),
        ({"participants": [{}]}, "participants[0]"),
        ({"participants": [{"phone": 5415550104}]}, "participants[0].phone"),
        ({"title": None}, "title"),
        ({"id": "12"}, "id"),
    ],
)
def test_bad_field_values_are_refused_by_name(
    sandbox_api: httpx.Client, fields: dict[str, Any], named: str
) -> None:
    assert named in refused(sandbox_api, event("b-1", **fields))


@pytest.mark.parametrize("show_as", [None, 0, 1, 2, 3, 4])
def test_show_as_values_are_kept(sandbox_api: httpx.Client, show_as: int | None) -> None:
    (stored,) = put(sandbox_api, event("s-1", show_as=show_as))
    assert stored["show_as"] == show_as


def test_one_bad_event_fails_the_whole_request(
    sandbox: SandboxHandle, sandbox_api: httpx.Client
) -> None:
    put(sandbox_api, event("k-1"))
    message = refused(
        sandbox_api,
        {"external_id": "k-1", "title": "Changed"},
        event("k-2", calendar="New calendar"),
        event("k-3", end_time="tomorrow"),
    )
    assert "event 2" in message
    events = sandbox.events()
    assert [(e["external_id"], e["title"]) for e in events] == [("k-1", "Visit k-1")]
    assert set(sandbox.stats()["calendars"]) == {"Dr Lee"}


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"events": {}}', b'{"events": [1]}'])
def test_a_malformed_body_is_refused(sandbox_api: httpx.Client, body: bytes) -> None:
    answer = sandbox_api.put("events", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and answer.json()["error"]


def test_post_only_creates_and_stats_list_duplicates(
    sandbox: SandboxHandle, sandbox_api: httpx.Client
) -> None:
    for _ in range(2):
        assert sandbox_api.post("events", json={"events": [event("d-1")]}).status_code == 200
    put(sandbox_api, event("d-2"))
    stats = sandbox.stats()
    assert stats["duplicates"] == ["d-1"]
    assert stats["events_per_external_id"] == {"d-1": 2, "d-2": 1}
    assert stats["requests_by_endpoint"] == {"POST /v1/events": 2, "PUT /v1/events": 1}
    assert stats["requests_by_status"] == {"200": 3}


@pytest.mark.parametrize(
    "auth",
    [
        ("demo@clinic.example", "wrong-key"),
        ("other@clinic.example", "sandbox-key"),
        None,
        "garbage",
    ],
)
def test_wrong_or_missing_credentials_get_401(sandbox: SandboxHandle, auth: Any) -> None:
    headers = {"Authorization": "Basic !!!"} if auth == "garbage" else {}
    with httpx.Client(auth=None if auth == "garbage" else auth) as client:
        body = {"events": [event("z-1")]}
        answer = client.put(f"{sandbox.base_url}/events", json=body, headers=headers)
    assert answer.status_code == 401
    assert "sandbox-key" not in answer.text
    assert sandbox.stats()["events_stored"] == 0
    assert sandbox.requests()[-1]["status"] == 401


def test_control_endpoints_need_no_credentials(sandbox: SandboxHandle) -> None:
    assert httpx.get(f"{sandbox.control_url}/stats").status_code == 200
    assert "sandbox-key" not in httpx.get(f"{sandbox.control_url}/config").text


def test_get_events_pages_until_an_empty_page(sandbox_api: httpx.Client) -> None:
    times = [f"2026-12-{day:02d}T09:00:00-08:00" for day in range(1, 8)]
    put(sandbox_api, *[event(f"g-{i}", start_time=t) for i, t in enumerate(times)])
    seen: list[str] = []
    sizes = []
    for page in range(1, 10):
        events = sandbox_api.get("events", params={"page": page, "page_size": 3}).json()["events"]
        sizes.append(len(events))
        if not events:
            break
        seen += [e["external_id"] for e in events]
    assert sizes == [3, 3, 1, 0]
    assert seen == [f"g-{i}" for i in range(7)]


def test_get_events_default_page_size_is_30(sandbox_api: httpx.Client) -> None:
    for batch in range(2):
        put(sandbox_api, *[event(f"h-{batch}-{i}") for i in range(20)])
    assert len(sandbox_api.get("events").json()["events"]) == 30
    assert len(sandbox_api.get("events", params={"page": 2}).json()["events"]) == 10


def test_get_events_filters(sandbox_api: httpx.Client) -> None:
    put(
        sandbox_api,
        event("f-1", start_time="2026-12-01T09:00:00-08:00"),
        event("f-2", start_time="2026-12-03T09:00:00-08:00"),
    )
    assert sandbox_api.delete("events", params={"external_id": "f-2"}).status_code == 200

    def ids(**params: str) -> list[str]:
        answer = sandbox_api.get("events", params=params)
        return [e["external_id"] for e in answer.json()["events"]]

    assert ids() == ["f-1"]
    assert ids(include_deleted="true") == ["f-1", "f-2"]
    assert ids(include_deleted="true", external_id="f-2") == ["f-2"]
    assert ids(include_deleted="true", begin="2026-12-02") == ["f-2"]
    assert ids(include_deleted="true", end="2026-12-01T17:00:01Z") == ["f-1"]
    assert sandbox_api.get("events", params={"begin": "soon"}).status_code == 400


def test_get_one_event_by_external_id_or_id_and_404(sandbox_api: httpx.Client) -> None:
    (stored,) = put(sandbox_api, event("e-1"))
    assert sandbox_api.get("event", params={"external_id": "e-1"}).json() == stored
    assert sandbox_api.get("event", params={"id": stored["id"]}).json() == stored
    assert sandbox_api.get("event", params={"external_id": "nope"}).status_code == 404
    assert sandbox_api.get("event", params={"id": 1}).status_code == 404
    assert sandbox_api.get("event").status_code == 400


def test_delete_is_a_soft_delete(sandbox: SandboxHandle, sandbox_api: httpx.Client) -> None:
    (stored,) = put(sandbox_api, event("del-1"))
    answer = sandbox_api.delete("events", params={"id": stored["id"]})
    assert answer.status_code == 200
    (deleted,) = answer.json()["events"]
    assert (deleted["id"], deleted["is_deleted"]) == (stored["id"], True)
    assert sandbox_api.get("event", params={"id": stored["id"]}).json()["is_deleted"] is True
    assert sandbox_api.get("events").json()["events"] == []
    assert sandbox.stats()["events_deleted"] == 1
    again = sandbox_api.delete("events", params={"external_id": "del-1"})
    assert again.json()["events"][0]["id"] == stored["id"]
    assert sandbox_api.delete("events", params={"external_id": "nope"}).status_code == 404
    # sending a deleted event's external_id again creates a new event
    (fresh,) = put(sandbox_api, event("del-1"))
    assert fresh["id"] != stored["id"] and sandbox.stats()["duplicates"] == []


def test_request_log_records_what_was_sent(
    sandbox: SandboxHandle, sandbox_api: httpx.Client
) -> None:
    put(sandbox_api, event("l-1"), event("l-2"))
    sandbox_api.get("event", params={"external_id": "l-9"})
    put_entry, get_entry = sandbox.requests()
    assert (put_entry["method"], put_entry["path"], put_entry["status"]) == (
        "PUT",
        "/v1/events",
        200,
    )
    assert (put_entry["event_count"], put_entry["external_ids"]) == (2, ["l-1", "l-2"])
    assert (get_entry["status"], get_entry["external_ids"]) == (404, ["l-9"])
    assert put_entry["at"].endswith("+00:00")


def test_mark_messaged_unknown_participant_is_404(sandbox: SandboxHandle) -> None:
    answer = httpx.post(f"{sandbox.control_url}/participants/1/messaged")
    assert answer.status_code == 404


def test_handle_repr_hides_the_key(sandbox: SandboxHandle) -> None:
    encoded = base64.b64encode(f"{sandbox.user}:{sandbox.api_key}".encode()).decode()
    assert sandbox.api_key not in repr(sandbox) and encoded not in repr(sandbox)
