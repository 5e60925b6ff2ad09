"""The Hipcall sandbox's current API (v3): shapes, paging, filters, hosts, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
import pytest

from sandbox import Fault, HipcallSandbox, Sandbox
from sandbox.hipcall import SEED_TOKEN

from .conftest import BearerApi

Client = TestClient[web.Request, web.Application]
START = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)  # 12:00 in Istanbul
CALL_ITEM_KEYS = {
    "uuid",
    "started_at",
    "ended_at",
    "direction",
    "call_duration",
    "first_touch_duration",
    "missing_call",
    "answered_at",
    "bridged_at",
}


@pytest.fixture
def service(sandbox: Sandbox) -> HipcallSandbox:
    """The Hipcall service of the served sandbox."""
    return sandbox.hipcall


@pytest.fixture
def v3(sandbox_client: Client) -> BearerApi:
    """The current API on the sandbox's own host."""
    return BearerApi(sandbox_client, "/hipcall/api/v3", SEED_TOKEN)


@pytest.fixture
def frozen(freezer: FrozenDateTimeFactory) -> FrozenDateTimeFactory:
    """The clock frozen at START."""
    freezer.move_to(START)
    return freezer


def host_api(v3: BearerApi, host: str, api: str = "/api/v3") -> BearerApi:
    """The stand-in for one of Hipcall's known hosts."""
    return BearerApi(v3.client, f"/hipcall/{host}{api}", SEED_TOKEN)


async def body(response: ClientResponse, status: int = 200) -> Any:
    """The JSON body of an answer with the given status (content type checked)."""
    assert response.status == status, await response.text()
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(await response.read())


async def data(v3: BearerApi, path: str) -> Any:
    """`data` of a successful GET."""
    return (await body(await v3.request("GET", path)))["data"]


async def assert_error(response: ClientResponse, status: int, errors: Any) -> None:
    """A Phoenix-style error."""
    assert await body(response, status) == {"errors": errors}


# -- users ----------------------------------------------------------------------------


async def test_users_page_by_limit_and_offset(v3: BearerApi) -> None:
    first = await body(await v3.request("GET", "/users"))
    assert first["meta"] == {"count": 28, "limit": 10, "offset": 0}
    assert [u["id"] for u in first["data"]] == list(range(2, 12))
    last = await body(await v3.request("GET", "/users?limit=10&offset=20"))
    assert last["meta"] == {"count": 28, "limit": 10, "offset": 20}
    assert [u["id"] for u in last["data"]] == list(range(22, 30))
    everyone = await body(await v3.request("GET", "/users?limit=100"))
    assert len(everyone["data"]) == 28
    past = await body(await v3.request("GET", "/users?offset=40"))
    assert past == {"data": [], "meta": {"count": 28, "limit": 10, "offset": 40}}


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("limit=0", "limit must be between 1 and 100"),
        ("limit=101", "limit must be between 1 and 100"),
        ("limit=ten", "limit must be an integer"),
        ("offset=-1", "offset must not be negative"),
    ],
)
async def test_bad_paging_is_400(v3: BearerApi, query: str, detail: str) -> None:
    for path in ("/users", "/extensions", "/calls", "/tasks"):
        response = await v3.request("GET", f"{path}?{query}")
        await assert_error(response, 400, {"detail": detail})


async def test_user_as_the_current_api_shows_it(v3: BearerApi) -> None:
    assert await data(v3, "/users/2") == {
        "id": 2,
        "email": "satya@microsoft.com",
        "first_name": "Satya",
        "last_name": "Nadella",
        "full_name": "Satya Nadella",
        "title": "",
        "locale": "en_GB",
        "timezone": "Europe/Istanbul",
        "owner": False,
        "suspended": False,
        "state": "available",
        "state_changed_at": "2023-03-31T08:41:58Z",
        "default_number": {
            "id": 1,
            "name": "Turkey Support Number",
            "number": "+908503902777",
        },
    }
    states = {u["id"]: u["state"] for u in await data(v3, "/users?limit=100")}
    assert (states[3], states[4], states[5], states[11], states[12]) == (
        "away",
        "busy",
        "break",
        "unknown",
        "available",
    )
    owner = await data(v3, "/users/12")
    assert (owner["owner"], owner["default_number"], "status" in owner) == (
        True,
        None,
        False,
    )


@pytest.mark.parametrize("path", ["/users/1", "/users/abc", "/tasks/99", "/tasks/x"])
async def test_unknown_record_is_404(v3: BearerApi, path: str) -> None:
    await assert_error(await v3.request("GET", path), 404, {"detail": "Not Found"})


async def test_user_overrides_reach_the_api(
    service: HipcallSandbox, v3: BearerApi
) -> None:
    service.profile(3).overrides["state"] = 7  # a record the client must survive
    assert (await data(v3, "/users/3"))["state"] == 7


async def test_set_presence(
    service: HipcallSandbox, v3: BearerApi, frozen: FrozenDateTimeFactory
) -> None:
    response = await v3.request("PATCH", "/users/3", json={"state": "busy"})
    user = (await body(response))["data"]
    assert (user["state"], user["state_changed_at"]) == ("busy", "2026-05-04T09:00:00Z")
    assert (await data(v3, "/users/3"))["state"] == "busy"
    assert service.profile(3).state == "busy"
    assert service.user(3)["status"] == "active"  # the 2021 API's status is apart


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({"state": "unknown"}, {"state": ["is invalid"]}),
        ({"state": "lunch"}, {"state": ["is invalid"]}),
        ({}, {"state": ["can't be blank"]}),
        ({"data": {"state": "away"}}, {"state": ["can't be blank"]}),
        ({"default_number": 9}, {"default_number": ["does not exist"]}),
    ],
)
async def test_set_presence_validation(
    service: HipcallSandbox, v3: BearerApi, payload: Any, errors: Any
) -> None:
    response = await v3.request("PATCH", "/users/3", json=payload)
    await assert_error(response, 422, errors)
    assert service.profile(3).state == "away"


async def test_change_default_number(service: HipcallSandbox, v3: BearerApi) -> None:
    response = await v3.request("PATCH", "/users/3", json={"default_number": 1})
    assert (await body(response))["data"]["default_number"]["id"] == 1
    assert service.user(3)["default_number_id"] == 1  # shared with the 2021 API
    await assert_error(
        await v3.request("PATCH", "/users/1", json={"state": "busy"}),
        404,
        {"detail": "Not Found"},
    )


async def test_stats_today(
    service: HipcallSandbox, v3: BearerApi, frozen: FrozenDateTimeFactory
) -> None:
    today = START - timedelta(hours=2)
    service.add_call(user_id=3, started_at=today, duration=120)
    service.add_call(user_id=3, started_at=today, duration=60, direction="outbound")
    service.add_call(user_id=3, started_at=today, duration=30, direction="outbound")
    service.add_call(user_id=3, started_at=today, duration=9, missing_call=True)
    service.add_call(user_id=3, started_at=START - timedelta(days=1), duration=50)
    service.add_call(user_id=4, started_at=today, duration=70)
    service.add_call(user_id=3, started_at=START, duration=3600)  # not ended yet
    await v3.request("PATCH", "/users/3", json={"state": "busy"})
    frozen.tick(timedelta(minutes=10))
    stats = await data(v3, "/users/3/stats/today")
    assert stats == {
        "user_id": 3,
        "date": "2026-05-04",
        "timezone": "Europe/Istanbul",
        "calls": {
            "inbound": {"count": 1, "total_duration": 120, "avg_duration": 120},
            "outbound": {"count": 2, "total_duration": 90, "avg_duration": 45},
        },
        "states": {
            "time_to_available": 0,
            "time_to_away": 12 * 3600,  # since midnight in Istanbul
            "time_to_break": 0,
            "time_to_busy": 600,
            "time_to_remain": 12 * 3600 - 600,
            "time_to_unknown": 0,
        },
    }
    service.update_profile(3, timezone="Not/A_Zone")
    assert (await data(v3, "/users/3/stats/today"))["date"] == "2026-05-04"
    owner = await data(v3, "/profile/stats/today")
    assert owner["user_id"] == 12
    assert owner["states"]["time_to_available"] == 12 * 3600 + 600
    await assert_error(
        await v3.request("GET", "/users/99/stats/today"), 404, {"detail": "Not Found"}
    )


async def test_stats_count_a_corrupted_state_as_unknown(
    service: HipcallSandbox, v3: BearerApi, frozen: FrozenDateTimeFactory
) -> None:
    service.profile(5).set_state("on_a_boat", START)
    frozen.tick(timedelta(seconds=30))
    states = (await data(v3, "/users/5/stats/today"))["states"]
    assert (states["time_to_unknown"], states["time_to_break"]) == (30, 12 * 3600)


async def test_profile(service: HipcallSandbox, v3: BearerApi) -> None:
    profile = await data(v3, "/profile")
    assert profile["user"]["id"] == 12
    assert profile["roles"] == [{"name": "owner"}]
    service.remove_user(12)
    await assert_error(
        await v3.request("GET", "/profile"), 404, {"detail": "Not Found"}
    )


# -- click to call --------------------------------------------------------------------


async def test_click_to_call_rings_a_live_call(
    service: HipcallSandbox, v3: BearerApi, frozen: FrozenDateTimeFactory
) -> None:
    payload = {
        "callee_number": "+905551112233",
        "ring_user_first": True,
        "call_masking": True,
        "call_masking_name": "Shop",
    }
    response = await v3.request("POST", "/users/3/call", json=payload)
    uuid = (await body(response, 201))["data"]["id"]
    live = service.live_calls[uuid].record
    assert (live["direction"], live["user_id"], live["callee_number"]) == (
        2,
        3,
        "+905551112233",
    )
    assert live["caller_number"] == "+908503902777"  # the account's number
    listed = await data(v3, "/calls?limit=100")
    assert uuid not in [c["uuid"] for c in listed]  # ringing: not a record yet
    await assert_error(
        await v3.request("GET", f"/calls/{uuid}?date=2026-05-04"),
        404,
        {"detail": "Not Found"},
    )
    service.answer_call(uuid)
    frozen.tick(timedelta(seconds=42))
    service.hangup_call(uuid)
    (item,) = await data(v3, "/calls?limit=1")
    assert (item["uuid"], item["direction"], item["missing_call"]) == (
        uuid,
        "outbound",
        False,
    )


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({}, {"callee_number": ["can't be blank"]}),
        ({"callee_number": "  "}, {"callee_number": ["can't be blank"]}),
        (
            {"callee_number": 905551112233, "ring_user_first": "yes"},
            {"callee_number": ["is invalid"], "ring_user_first": ["is invalid"]},
        ),
        (
            {"callee_number": "+90555", "call_masking_name": "x" * 31},
            {"call_masking_name": ["should be at most 30 character(s)"]},
        ),
    ],
)
async def test_click_to_call_validation(
    service: HipcallSandbox, v3: BearerApi, payload: Any, errors: Any
) -> None:
    response = await v3.request("POST", "/users/3/call", json=payload)
    await assert_error(response, 422, errors)
    assert service.live_calls == {}


async def test_click_to_call_needs_an_active_user(
    service: HipcallSandbox, v3: BearerApi
) -> None:
    payload = {"callee_number": "+905551112233"}
    await assert_error(
        await v3.request("POST", "/users/1/call", json=payload),
        404,
        {"detail": "Not Found"},
    )
    service.update_profile(3, suspended=True)
    await assert_error(
        await v3.request("POST", "/users/3/call", json=payload),
        422,
        {"user_id": ["is suspended"]},
    )


# -- extensions -------------------------------------------------------------------------


async def test_extensions(service: HipcallSandbox, v3: BearerApi) -> None:
    page = await body(await v3.request("GET", "/extensions?limit=3"))
    assert page == {
        "data": [
            {"name": "", "number": 1001, "target_id": 1, "target_type": "user"},
            {
                "name": "Satya Nadella",
                "number": 1002,
                "target_id": 2,
                "target_type": "user",
            },
            {
                "name": "Out of business hours",
                "number": 101,
                "target_id": 3,
                "target_type": "greeting",
            },
        ],
        "meta": {"count": 8, "limit": 3, "offset": 0},
    }
    service.extensions.append(
        {"id": 9, "number": "*100", "target_id": 1, "target_type": "team"}
    )
    last = (await data(v3, "/extensions?offset=8"))[0]
    assert last == {
        "name": "All users",
        "number": "*100",
        "target_id": 1,
        "target_type": "team",
    }


# -- calls -----------------------------------------------------------------------------


async def test_call_list_items_and_order(
    service: HipcallSandbox, v3: BearerApi, frozen: FrozenDateTimeFactory
) -> None:
    first = service.add_call(started_at="2026-05-04T08:00:00Z", duration=30)
    second = service.add_call(started_at="2026-05-04T08:00:00Z", duration=30)
    page = await body(await v3.request("GET", "/calls?sort=started_at.desc&limit=3"))
    assert page["meta"] == {"count": 17, "limit": 3, "offset": 0}
    items = page["data"]
    assert all(set(item) == CALL_ITEM_KEYS for item in items)
    assert [c["uuid"] for c in items[:2]] == [second["uuid"], first["uuid"]]
    assert items[0] == {
        "uuid": second["uuid"],
        "started_at": "2026-05-04T08:00:00Z",
        "ended_at": "2026-05-04T08:00:30Z",
        "direction": "inbound",
        "call_duration": 30,
        "first_touch_duration": 5,
        "missing_call": False,
        "answered_at": "2026-05-04T08:00:05Z",
        "bridged_at": "2026-05-04T08:00:05Z",
    }
    oldest = await data(v3, "/calls?sort=started_at.asc&limit=100")
    assert oldest[0]["started_at"] == "2023-03-31T06:31:27Z"
    assert [c["uuid"] for c in oldest[-2:]] == [first["uuid"], second["uuid"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("missing_call[eq]=true", ["missed-today", "missed-old"]),
        ("missing_call[eq]=false", ["today", "outbound"]),
        ("started_at[gte]=2026-05-04T00:00:00Z", ["missed-today", "today"]),
        (
            "started_at[gte]=2026-05-03T00:00:00%2B03:00&missing_call[eq]=true",
            ["missed-today"],
        ),
        ("started_at[lte]=2026-05-01T00:00:00Z", ["outbound", "missed-old"]),
        ("direction[eq]=outbound", ["outbound"]),
        ("user_id[eq]=7", ["missed-today"]),
        ("call_duration[gte]=100", ["today"]),
        ("call_duration[lte]=10", ["missed-today", "missed-old"]),
        ("q=5551234", ["missed-old"]),
        ("q=%2B90%20555%20123", ["missed-old"]),
    ],
)
async def test_call_filters(
    service: HipcallSandbox,
    v3: BearerApi,
    frozen: FrozenDateTimeFactory,
    query: str,
    expected: list[str],
) -> None:
    service.add_call(
        uuid="missed-old",
        started_at="2026-04-01T10:00:00Z",
        duration=8,
        missing_call=True,
        caller_number="+905551234567",
    )
    service.add_call(
        uuid="outbound",
        started_at="2026-04-02T10:00:00Z",
        duration=60,
        direction=2,
        user_id=4,
    )
    service.add_call(
        uuid="today", started_at="2026-05-04T07:00:00Z", duration=200, user_id=5
    )
    service.add_call(
        uuid="missed-today",
        started_at="2026-05-04T08:00:00Z",
        duration=9,
        missing_call=True,
        missing_call_reason="abandoned",
        user_id=7,
    )
    since_april = "started_at[gte]=2026-04-01T00:00:00Z"
    page = await body(await v3.request("GET", f"/calls?{query}&{since_april}"))
    assert [c["uuid"] for c in page["data"]] == expected
    assert page["meta"]["count"] == len(expected)


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("sort=id.asc", "sort must be one of started_at.desc, started_at.asc"),
        ("missing_call[eq]=yes", "missing_call[eq] must be one of true, false"),
        (
            "direction[eq]=1",
            "direction[eq] must be one of inbound, outbound, internal",
        ),
        ("started_at[gte]=yesterday", "started_at[gte] must be an ISO 8601 time"),
        ("user_id[eq]=me", "user_id[eq] must be an integer"),
    ],
)
async def test_bad_call_filters_are_400(v3: BearerApi, query: str, detail: str) -> None:
    response = await v3.request("GET", f"/calls?{query}")
    await assert_error(response, 400, {"detail": detail})


async def test_a_corrupted_missing_call_matches_no_filter(
    service: HipcallSandbox, v3: BearerApi
) -> None:
    service.calls[0]["missing_call"] = "yes"
    missed = await data(v3, "/calls?missing_call[eq]=true&limit=100")
    answered = await data(v3, "/calls?missing_call[eq]=false&limit=100")
    assert len(missed) + len(answered) == 14


async def test_call_detail(service: HipcallSandbox, v3: BearerApi) -> None:
    uuid = "e2f4a6b8-c0d2-4e6f-8a1b-3c5d7e9f1a2b"  # a seeded missed call
    detail = await data(v3, f"/calls/{uuid}?date=2023-03-31")
    assert {k: v for k, v in detail.items() if k != "call_flow"} == {
        "uuid": uuid,
        "started_at": "2023-03-31T07:42:05Z",
        "ended_at": "2023-03-31T07:42:32Z",
        "direction": "inbound",
        "call_duration": 27,
        "first_touch_duration": 0,
        "missing_call": True,
        "answered_at": None,
        "bridged_at": None,
        "user_id": 4,
        "contact_id": None,
        "channel_type": "number",
        "channel_id": 1,
        "number_id": 1,
        "missing_call_reason": "abandoned",
        "caller_id": 1,
        "caller_type": "contact",
        "caller_number": "+905339876543",
        "callee_id": 2,
        "callee_type": "greeting",
        "callee_number": "101",
        "hangup_by": "contact",
        "voicemail_type": None,
        "voicemail_id": None,
        "voicemail_url": None,
        "record_url": None,
        "credited": False,
        "related_id": None,
        "related_type": None,
        "callback_time": None,
        "callback_cdr_uuid": None,
        "callback_user_id": None,
    }
    assert detail["call_flow"][0] == {
        "action": "hangup",
        "detail": {"hangup_by": "contact"},
        "timestamp": "2023-03-31T07:42:32Z",
    }
    answered = service.calls[0]["uuid"]
    assert (await data(v3, f"/calls/{answered}?date=2023-03-31"))[
        "missing_call_reason"
    ] is None


@pytest.mark.parametrize(
    ("query", "status", "errors"),
    [
        ("", 400, {"detail": "date must be a date (YYYY-MM-DD)"}),
        ("?date=31.03.2023", 400, {"detail": "date must be a date (YYYY-MM-DD)"}),
        ("?date=2023-03-30", 404, {"detail": "Not Found"}),
    ],
)
async def test_call_detail_needs_the_calls_date(
    v3: BearerApi, query: str, status: int, errors: Any
) -> None:
    uuid = "e2f4a6b8-c0d2-4e6f-8a1b-3c5d7e9f1a2b"
    await assert_error(await v3.request("GET", f"/calls/{uuid}{query}"), status, errors)


async def test_record_urls_are_signed_per_answer(
    service: HipcallSandbox, v3: BearerApi, frozen: FrozenDateTimeFactory
) -> None:
    call = service.add_call(
        started_at="2026-05-04T08:00:00Z",
        record_url="https://records.example/r.mp3",
        voicemail_url="https://records.example/v.mp3?v=1",
        voicemail_type=2,
        voicemail_id=1,
    )
    path = f"/calls/{call['uuid']}?date=2026-05-04"
    detail = await data(v3, path)
    url = urlsplit(detail["record_url"])
    assert (url.netloc, url.path) == ("records.example", "/r.mp3")
    query = parse_qs(url.query)
    assert query["X-Amz-Date"] == ["20260504T090000Z"]
    assert query["X-Amz-Expires"] == ["3600"]
    assert detail["voicemail_url"].startswith("https://records.example/v.mp3?v=1&")
    assert detail["voicemail_type"] == "account"
    frozen.tick(timedelta(minutes=1))
    again = await data(v3, path)
    assert again["record_url"] != detail["record_url"]
    assert service.call(call["uuid"])["record_url"] == "https://records.example/r.mp3"


async def test_unknown_names_pass_through(
    service: HipcallSandbox, v3: BearerApi
) -> None:
    record = service.calls[0]
    record["missing_call_reason"] = 9
    record["started_at"] = "not a time"
    record["direction"] = "sideways"
    (item,) = [
        c for c in await data(v3, "/calls?limit=100") if c["uuid"] == record["uuid"]
    ]
    assert (item["started_at"], item["direction"]) == ("not a time", "sideways")


# -- tasks and comments -----------------------------------------------------------------


@pytest.mark.parametrize("wrapped", [False, True])
async def test_create_task(
    service: HipcallSandbox,
    v3: BearerApi,
    frozen: FrozenDateTimeFactory,
    wrapped: bool,
) -> None:
    task = {
        "name": "Call back",
        "description": "About the order",
        "assign_to_user_id": 3,
        "due_date": "2026-05-05T09:30:00+03:00",
        "priority": "high",
        "task_list_id": 4,
        "contact_ids": [1, 2],
        "auto_assign_to_user": False,
    }
    payload = {"data": task} if wrapped else task
    created = (await body(await v3.request("POST", "/tasks", json=payload), 201))[
        "data"
    ]
    assert created == {
        "id": 12,
        "name": "Call back",
        "description": "About the order",
        "done": False,
        "done_at": None,
        "assign_to_user_id": 3,
        "auto_assign_to_user": False,
        "company_ids": [],
        "contact_ids": [1, 2],
        "deal_ids": [],
        "due_date": "2026-05-05T06:30:00Z",
        "priority": "high",
        "task_list_id": 4,
    }
    assert await data(v3, "/tasks/12") == created
    legacy = service.tasks[-1]  # the same task on the 2021 API
    assert (legacy["assign_to"], legacy["due_date"], legacy["task_list_id"]) == (
        3,
        "2026-05-05T06:30:00+0000",
        4,
    )
    listed = await body(await v3.request("GET", "/tasks?offset=9"))
    assert listed["meta"] == {"count": 12, "limit": 10, "offset": 9}
    assert listed["data"][0]["priority"] is None  # the seed's task 10 has none
    assert listed["data"][-1] == created


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({}, {"name": ["can't be blank"]}),
        ({"data": {}, "name": "x", "priority": "urgent"}, {"priority": ["is invalid"]}),
        (
            {"name": "x" * 256, "description": 5},
            {
                "name": ["should be at most 255 character(s)"],
                "description": ["is invalid"],
            },
        ),
        (
            {
                "name": "x",
                "assign_to_user_id": 1,
                "due_date": "tomorrow",
                "deal_ids": [1, "2"],
                "task_list_id": True,
                "auto_assign_to_user": "no",
            },
            {
                "assign_to_user_id": ["does not exist"],
                "due_date": ["is invalid"],
                "deal_ids": ["is invalid"],
                "task_list_id": ["is invalid"],
                "auto_assign_to_user": ["is invalid"],
            },
        ),
        (
            {"name": "x", "assign_to_user_id": "3"},
            {"assign_to_user_id": ["is invalid"]},
        ),
    ],
)
async def test_create_task_validation(
    service: HipcallSandbox, v3: BearerApi, payload: Any, errors: Any
) -> None:
    await assert_error(await v3.request("POST", "/tasks", json=payload), 422, errors)
    assert len(service.tasks) == 11


async def test_a_body_that_is_not_json_reads_as_empty(v3: BearerApi) -> None:
    response = await v3.request("POST", "/tasks", data="name=x")
    await assert_error(response, 422, {"name": ["can't be blank"]})
    response = await v3.request("POST", "/tasks", json=["name"])
    await assert_error(response, 422, {"name": ["can't be blank"]})


@pytest.mark.parametrize(
    ("kind", "commentable"),
    [("contacts", "contact"), ("companies", "company"), ("deals", "deal")],
)
async def test_comments(
    service: HipcallSandbox, v3: BearerApi, kind: str, commentable: str
) -> None:
    response = await v3.request("POST", f"/{kind}/7/comments", json={"content": "Hi"})
    assert (await body(response, 201))["data"] == {
        "id": 1,
        "content": "Hi",
        "user": {
            "id": 12,
            "email": "eleanor.hughes@example.com",
            "first_name": "Eleanor",
            "last_name": "Hughes",
            "full_name": "Eleanor Hughes",
        },
    }
    stored = service.comments[0]
    assert (stored["commentable_type"], stored["commentable_id"]) == (commentable, 7)


async def test_comment_errors(service: HipcallSandbox, v3: BearerApi) -> None:
    for payload in ({}, {"content": " "}, {"data": {"content": "Hi"}}):
        response = await v3.request("POST", "/contacts/7/comments", json=payload)
        await assert_error(response, 422, {"content": ["can't be blank"]})
    response = await v3.request("POST", "/contacts/x/comments", json={"content": "a"})
    await assert_error(response, 404, {"detail": "Not Found"})
    service.remove_user(12)  # the token's user is gone: the comment has no author
    response = await v3.request("POST", "/deals/1/comments", json={"content": "a"})
    assert (await body(response, 201))["data"]["user"] is None


# -- hosts, authentication, errors, rate limit ----------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {SEED_TOKEN}"}],
)
async def test_unauthenticated(v3: BearerApi, headers: dict[str, str]) -> None:
    response = await v3.request("GET", "/users", token=None, headers=headers)
    await assert_error(response, 401, {"detail": "Unauthorized"})
    assert "x-ratelimit-limit" not in response.headers


async def test_token_works_only_on_the_accounts_hosts(
    service: HipcallSandbox, v3: BearerApi
) -> None:
    async def status(host: str, api: str = "/api/v3") -> int:
        response = await host_api(v3, host, api).request("GET", "/users")
        return response.status

    hosts = ("use.hipcall.com.tr", "use.hipcall.co.uk", "use.hipcall.com")
    assert [await status(h) for h in hosts] == [200, 401, 401]
    assert await status("api.hipcall.com", "/api/v20211124") == 200
    service.set_hosts(["use.hipcall.co.uk"])
    assert [await status(h) for h in hosts] == [401, 200, 401]
    assert await status("api.hipcall.com", "/api/v20211124") == 401
    assert (await v3.request("GET", "/users")).status == 200  # the sandbox's own
    response = await host_api(v3, "use.hipcall.com").request("GET", "/users")
    await assert_error(response, 401, {"detail": "Unauthorized"})
    with pytest.raises(ValueError, match="unknown host"):
        service.set_hosts(["use.hipcall.de"])


async def test_2021_api_on_its_hosts_stand_in(v3: BearerApi) -> None:
    legacy = host_api(v3, "api.hipcall.com", "/api/v20211124")
    response = await legacy.request("GET", "/users?page=2")
    page = json.loads(await response.read())
    assert page["links"]["next"] == f"{legacy.base_url}/users?page=3"
    assert response.headers["x-ratelimit-limit"] == "30"
    response = await legacy.request("GET", "/calls")
    assert json.loads(await response.read()) == {
        "message": "The route api/v20211124/calls could not be found."
    }


async def test_unknown_route_and_method(v3: BearerApi) -> None:
    response = await v3.request("GET", "/cdrs")
    await assert_error(response, 404, {"detail": "Not Found"})
    response = await v3.request("DELETE", "/users")
    await assert_error(response, 405, {"detail": "Method Not Allowed"})
    assert response.headers["Allow"] == "GET"


async def test_rate_limit_is_shared_and_says_retry_after(
    service: HipcallSandbox, v3: BearerApi, sandbox_client: Client
) -> None:
    service.set_rate_limit(2)
    first = await v3.request("GET", "/users")
    assert "x-ratelimit-remaining" not in first.headers
    legacy = BearerApi(sandbox_client, "/hipcall/api/v20211124", SEED_TOKEN)
    assert (await legacy.request("GET", "/users")).status == 200
    throttled = await v3.request("GET", "/users")
    await assert_error(throttled, 429, {"detail": "Too Many Requests"})
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60
    assert "x-ratelimit-limit" not in throttled.headers
    assert service.throttled == 1


async def test_faults_answer_in_the_current_apis_shape(
    service: HipcallSandbox, v3: BearerApi
) -> None:
    service.add_fault(Fault(kind="error", status=503, path="/api/v3/calls$"))
    service.add_fault(Fault(kind="rate_limit", retry_after=7, path="/api/v3/users$"))
    service.add_fault(Fault(kind="malformed", path="/api/v3/extensions$"))
    await assert_error(
        await v3.request("GET", "/calls"), 503, {"detail": "Service Unavailable"}
    )
    response = await v3.request("GET", "/users")
    await assert_error(response, 429, {"detail": "Too Many Requests"})
    assert response.headers["Retry-After"] == "7"
    response = await v3.request("GET", "/extensions")
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    with pytest.raises(ValueError):  # noqa: PT011 - any JSON decode error will do
        json.loads(await response.read())
    service.add_fault(Fault(kind="error", status=599, path="/api/v3/tasks$"))
    await assert_error(
        await v3.request("GET", "/tasks"), 599, {"detail": "Sandbox Fault"}
    )


async def test_outside_both_apis_is_laravels_404(sandbox_client: Client) -> None:
    response = await sandbox_client.get("/hipcall/elsewhere")
    assert response.status == 404
    assert await response.json() == {
        "message": "The route elsewhere could not be found."
    }


async def test_a_user_without_a_name(service: HipcallSandbox, v3: BearerApi) -> None:
    service.user(3)["name"] = None  # a record the client must survive
    user = await data(v3, "/users/3")
    assert (user["first_name"], user["last_name"]) == (None, None)
