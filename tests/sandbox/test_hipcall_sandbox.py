"""The Hipcall sandbox answers as the Hipcall API v20211124 document says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
from typing import Any

from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
import pytest

from sandbox import Fault, HipcallSandbox, Sandbox
from sandbox.hipcall import EXAMPLE_CALL_UUID, SEED_CALL_UUIDS, SEED_TOKEN

from .conftest import BearerApi

Client = TestClient[web.Request, web.Application]

# The document's example responses, verbatim (tests/sandbox/hipcall_examples.json).
EXAMPLES: dict[str, Any] = json.loads(
    (Path(__file__).parent / "hipcall_examples.json").read_text()
)
START = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
TASK_EXAMPLE_BODY = {
    "name": "Sent an email to client",
    "description": "ut",
    "due_date": "20220612 12:12:12",
    "assign_to": 1,
    "auto_assign_to_user": False,
    "priority": "low",
    "task_list": 4,
    "contact_ids": [1, 2],
    "company_ids": [1, 2],
    "deal_ids": [1, 2],
}


def example(name: str, hipcall: BearerApi) -> Any:
    """A document example with the vendor's host replaced by the sandbox's."""
    text = json.dumps(EXAMPLES[name])
    base = hipcall.base_url.removesuffix("/api/v20211124")
    return json.loads(text.replace("https://api.hipcall.com", base))


async def body(response: ClientResponse) -> Any:
    """The JSON body (content type checked)."""
    assert response.headers["Content-Type"] == "application/json"
    return json.loads(await response.read())


async def assert_error(
    response: ClientResponse, status: int, message: str, errors: Any = None
) -> None:
    """A Laravel-style JSON error."""
    assert response.status == status
    expected: dict[str, Any] = {"message": message}
    if errors is not None:
        expected["errors"] = errors
    assert await body(response) == expected


def remaining(response: ClientResponse) -> int:
    """The x-ratelimit-remaining header."""
    return int(response.headers["x-ratelimit-remaining"])


@pytest.fixture
def service(sandbox: Sandbox) -> HipcallSandbox:
    """The Hipcall service of the served sandbox."""
    return sandbox.hipcall


@pytest.fixture
def frozen(freezer: FrozenDateTimeFactory) -> FrozenDateTimeFactory:
    """The clock frozen at START."""
    freezer.move_to(START)
    return freezer


# -- authentication -------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Basic {SEED_TOKEN}"},
        {"Authorization": "Bearer"},
    ],
)
async def test_unauthenticated(hipcall: BearerApi, headers: dict[str, str]) -> None:
    response = await hipcall.request("GET", "/users", token=None, headers=headers)
    await assert_error(response, 401, "Unauthenticated.")
    assert response.headers["x-ratelimit-limit"] == "30"
    assert remaining(response) == 29


async def test_revoked_token(service: HipcallSandbox, hipcall: BearerApi) -> None:
    assert (await hipcall.request("GET", "/users")).status == 200
    service.token = "rotated"
    await assert_error(await hipcall.request("GET", "/users"), 401, "Unauthenticated.")
    assert (await hipcall.request("GET", "/users", token="rotated")).status == 200


# -- the document's examples ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("list_users", "/users"),
        ("retrieve_user", "/users/2"),
        ("list_teams", "/teams"),
        ("retrieve_team", "/teams/1"),
        ("list_extensions", "/extensions"),
        ("retrieve_extension", "/extensions/1"),
        ("list_numbers", "/numbers"),
        ("retrieve_number", "/numbers/1"),
        ("list_greetings", "/greetings"),
        ("retrieve_greeting", "/greetings/1"),
        ("list_tasks", "/tasks"),
        ("retrieve_task", "/tasks/1"),
        ("list_cdrs", "/cdrs"),
        ("retrieve_cdr", f"/cdrs/2021/11/25/{EXAMPLE_CALL_UUID}"),
    ],
)
async def test_document_examples(hipcall: BearerApi, name: str, path: str) -> None:
    response = await hipcall.request("GET", path)
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-cache, private"
    assert response.headers["Vary"] == "Origin"
    assert response.headers["x-ratelimit-limit"] == "30"
    assert await body(response) == example(name, hipcall)


@pytest.mark.parametrize(
    "path",
    [
        "/users/1",
        "/users/abc",
        "/teams/3",
        "/extensions/9",
        "/numbers/2",
        "/greetings/5",
        "/tasks/99",
        "/cdrs/2023/03/31/0000",
    ],
)
async def test_unknown_record(hipcall: BearerApi, path: str) -> None:
    response = await hipcall.request("GET", path)
    await assert_error(response, 404, "Record not found.")
    assert remaining(response) == 29  # counted like any answer


async def test_unknown_route_is_laravel_404_and_not_counted(
    service: HipcallSandbox, hipcall: BearerApi
) -> None:
    response = await hipcall.request("GET", "/calls", token=None)
    await assert_error(
        response, 404, "The route api/v20211124/calls could not be found."
    )
    assert "x-ratelimit-limit" not in response.headers
    response = await hipcall.request("DELETE", "/tasks")
    await assert_error(
        response,
        405,
        "The DELETE method is not supported for route api/v20211124/tasks. "
        "Supported methods: GET, HEAD, POST.",
    )
    assert service.requests_in_window == 0


# -- pagination -----------------------------------------------------------------------


async def test_users_follow_next_to_the_last_page(hipcall: BearerApi) -> None:
    url: str | None = f"{hipcall.base_url}/users"
    pages = []
    while url is not None:
        # The links are absolute URLs: follow them as given.
        async with hipcall.client.session.get(
            url, headers={"Authorization": f"Bearer {SEED_TOKEN}"}
        ) as response:
            pages.append(await body(response))
        url = pages[-1]["links"]["next"]
    assert [len(page["data"]) for page in pages] == [10, 10, 8]
    assert [u["id"] for page in pages for u in page["data"]] == list(range(2, 30))
    owners = [u["id"] for page in pages for u in page["data"] if u["owner"]]
    assert owners == [12]
    last = pages[-1]
    path = f"{hipcall.base_url}/users"
    assert last["links"] == {
        "first": f"{path}?page=1",
        "last": f"{path}?page=3",
        "prev": f"{path}?page=2",
        "next": None,
    }
    meta = last["meta"]
    assert (meta["current_page"], meta["from"], meta["to"], meta["total"]) == (
        3,
        21,
        28,
        28,
    )
    assert [(link["label"], link["active"]) for link in meta["links"]] == [
        ("« Previous", False),
        ("1", False),
        ("2", False),
        ("3", True),
        ("Next »", False),
    ]
    assert meta["links"][0]["url"] == f"{path}?page=2"
    assert meta["links"][-1]["url"] is None


@pytest.mark.parametrize("page", ["0", "-2", "abc", "1.5", ""])
async def test_invalid_page_is_page_one(hipcall: BearerApi, page: str) -> None:
    data = await body(await hipcall.request("GET", f"/users?page={page}"))
    assert data["meta"]["current_page"] == 1
    assert data["data"][0]["id"] == 2


async def test_page_past_the_end(hipcall: BearerApi) -> None:
    data = await body(await hipcall.request("GET", "/teams?page=4"))
    assert data["data"] == []
    assert (data["meta"]["from"], data["meta"]["to"]) == (None, None)
    assert data["links"]["prev"].endswith("/teams?page=3")
    assert data["links"]["next"] is None
    assert data["meta"]["last_page"] == 1


async def test_many_pages_use_laravels_link_window(
    service: HipcallSandbox, hipcall: BearerApi
) -> None:
    for _ in range(122):
        service.add_user()
    data = await body(await hipcall.request("GET", "/users?page=8"))
    assert data["meta"]["last_page"] == 15
    labels = [link["label"] for link in data["meta"]["links"]]
    assert labels == [
        "« Previous",
        *["1", "2", "..."],
        *[str(n) for n in range(5, 12)],
        *["...", "14", "15"],
        "Next »",
    ]


async def test_calls_are_simple_paginated(hipcall: BearerApi) -> None:
    data = await body(await hipcall.request("GET", "/cdrs?page=2"))
    path = f"{hipcall.base_url}/cdrs"
    assert [c["uuid"] for c in data["data"]] == list(SEED_CALL_UUIDS[10:])
    assert data["links"] == {
        "first": f"{path}?page=1",
        "last": None,
        "prev": f"{path}?page=1",
        "next": None,
    }
    assert data["meta"] == {
        "current_page": 2,
        "from": 11,
        "path": path,
        "per_page": "10",
        "to": 15,
    }
    missed = [(c["missing_call"], c["missing_call_reason"]) for c in data["data"]]
    assert missed.count((True, 3)) == missed.count((True, 1)) == 1
    empty = await body(await hipcall.request("GET", "/cdrs?page=3"))
    assert empty["data"] == []
    assert (empty["meta"]["from"], empty["meta"]["to"]) == (None, None)


# -- calls -----------------------------------------------------------------------------


async def test_a_call_appears_once_it_has_ended(
    service: HipcallSandbox, hipcall: BearerApi, frozen: FrozenDateTimeFactory
) -> None:
    call = service.add_call(duration=60, missing_call=True, missing_call_reason=2)
    assert call["started_at"] == "2026-05-04T09:00:00+0000"
    assert call["ended_at"] == "2026-05-04T09:01:00+0000"
    path = f"/cdrs/2026/05/04/{call['uuid']}"
    frozen.tick(timedelta(seconds=59))
    listed = await body(await hipcall.request("GET", "/cdrs"))
    assert call["uuid"] not in [c["uuid"] for c in listed["data"]]
    await assert_error(await hipcall.request("GET", path), 404, "Record not found.")
    frozen.tick(timedelta(seconds=1))
    listed = await body(await hipcall.request("GET", "/cdrs"))
    assert listed["data"][0] == call
    assert listed["links"]["next"].endswith("/cdrs?page=2")
    data = (await body(await hipcall.request("GET", path)))["data"]
    assert {k: v for k, v in data.items() if k != "call_flow"} == call
    assert [step["action"] for step in data["call_flow"]] == [
        "hangup",
        "bridge_fail",
        "bridge_attempt",
        "route",
        "init",
    ]


async def test_call_order_newest_start_first_then_latest_added(
    service: HipcallSandbox, hipcall: BearerApi
) -> None:
    first = service.add_call(started_at="2024-01-01T10:00:00+0000")
    second = service.add_call(started_at="2024-01-01T10:00:00+0000")
    later = service.add_call(started_at=datetime(2024, 1, 1, 11, tzinfo=UTC))
    data = await body(await hipcall.request("GET", "/cdrs"))
    uuids = [c["uuid"] for c in data["data"][:3]]
    assert uuids == [later["uuid"], second["uuid"], first["uuid"]]
    assert [c["uuid"] for c in service.calls[-3:]] == uuids[::-1]  # as added


def test_add_call_defaults_and_validation() -> None:
    service = HipcallSandbox()
    call = service.add_call(
        started_at="2024-02-01T08:00:00Z",
        ended_at="2024-02-01T08:00:42Z",
        missing_call=True,
        missing_call_reason="out_of_business_hours",
        direction=2,
        user_id=7,
        record_url="https://example.com/r.mp3",
    )
    assert (call["call_duration"], call["missing_call_reason"]) == (42, 1)
    assert (call["caller_type"], call["caller_id"], call["answered_at"]) == (2, 7, None)
    assert call["record_url"] == "https://example.com/r.mp3"
    answered = service.add_call(started_at="2024-02-01T09:00:00+0000")
    assert answered["ended_at"] == "2024-02-01T09:01:00+0000"
    assert answered["answered_at"] == "2024-02-01T09:00:05+0000"
    assert len(answered["uuid"]) == 36
    assert service.call(answered["uuid"])["call_flow"][0]["action"] == "hangup"
    bad: list[tuple[type[Exception], dict[str, Any]]] = [
        (ValueError, {"direction": 4}),
        (ValueError, {"missing_call_reason": 5}),
        (ValueError, {"missing_call_reason": "busy"}),
        (ValueError, {"started_at": "yesterday"}),
        (ValueError, {"started_at": "2024-01-01T10:00:00", "ended_at": "2024-01-01"}),
        (ValueError, {"uuid": answered["uuid"]}),
        (TypeError, {"duration": "60"}),
        (TypeError, {"user_id": True}),
        (TypeError, {"colour": "red"}),
    ]
    for kind, fields in bad:
        with pytest.raises(kind):
            service.add_call(**fields)


# -- tasks and comments -------------------------------------------------------------------


async def test_create_task_as_documented(
    service: HipcallSandbox, hipcall: BearerApi, frozen: FrozenDateTimeFactory
) -> None:
    response = await hipcall.request("POST", "/tasks", json=TASK_EXAMPLE_BODY)
    assert response.status == 201
    assert remaining(response) == 29
    task = (await body(response))["data"]
    assert task == {
        "resource_type": "task",
        "id": 12,
        "name": "Sent an email to client",
        "description": "ut",
        "due_date": "2022-06-12T12:12:12+0000",
        "done": False,
        "done_at": None,
        "assign_to": 1,
        "priority": "low",
        "task_list_id": 4,
        "created_at": "2026-05-04T09:00:00+0000",
        "updated_at": "2026-05-04T09:00:00+0000",
    }
    page = await body(await hipcall.request("GET", "/tasks?page=2"))
    assert page["data"][-1] == task
    assert page["meta"]["total"] == 12
    assert service.tasks[-1] == task


@pytest.mark.parametrize(
    ("payload", "message", "errors"),
    [
        ({}, "The name field is required.", {"name": ["The name field is required."]}),
        (
            {"name": "   ", "assign_to": False},
            "The name field is required.",
            {"name": ["The name field is required."]},
        ),
        (
            {"name": "x" * 256},
            "The name field must not be greater than 255 characters.",
            {"name": ["The name field must not be greater than 255 characters."]},
        ),
        (
            {
                "name": 5,
                "priority": "urgent",
                "due_date": "soon",
                "contact_ids": [1, "a"],
                "auto_assign_to_user": "yes",
            },
            "The name field must be a string. (and 4 more errors)",
            {
                "name": ["The name field must be a string."],
                "due_date": ["The due date field must be a valid date."],
                "auto_assign_to_user": [
                    "The auto assign to user field must be true or false."
                ],
                "priority": ["The selected priority is invalid."],
                "contact_ids.1": ["The contact_ids.1 field must be an integer."],
            },
        ),
        (
            {"name": "x", "assign_to": "me", "deal_ids": 3},
            "The assign to field must be an integer. (and 1 more error)",
            {
                "assign_to": ["The assign to field must be an integer."],
                "deal_ids": ["The deal ids field must be an array."],
            },
        ),
    ],
)
async def test_create_task_validation(
    service: HipcallSandbox,
    hipcall: BearerApi,
    payload: dict[str, Any],
    message: str,
    errors: dict[str, list[str]],
) -> None:
    response = await hipcall.request("POST", "/tasks", json=payload)
    await assert_error(response, 422, message, errors)
    assert remaining(response) == 29
    assert len(service.tasks) == 11


async def test_a_body_that_is_not_json_reads_as_empty(hipcall: BearerApi) -> None:
    response = await hipcall.request("POST", "/tasks", data="name=x")
    assert response.status == 422
    assert (await body(response))["errors"] == {"name": ["The name field is required."]}


async def test_comments(
    service: HipcallSandbox, hipcall: BearerApi, frozen: FrozenDateTimeFactory
) -> None:
    payload = {
        "commentable_type": "company",
        "content": "20220612 12:12:12",
        "commentable_id": 1,
    }
    response = await hipcall.request("POST", "/comments", json=payload)
    assert response.status == 201
    comment = (await body(response))["data"]
    assert comment == {
        "resource_type": "comment",
        "id": 1,
        "commentable_type": "company",
        "commentable_id": 1,
        "content": "20220612 12:12:12",
        "created_at": "2026-05-04T09:00:00+0000",
        "updated_at": "2026-05-04T09:00:00+0000",
    }
    assert service.comments == [comment]
    response = await hipcall.request(
        "POST", "/comments", json={"commentable_type": "ticket", "commentable_id": "x"}
    )
    await assert_error(
        response,
        422,
        "The selected commentable type is invalid. (and 2 more errors)",
        {
            "commentable_type": ["The selected commentable type is invalid."],
            "commentable_id": ["The commentable id field must be an integer."],
            "content": ["The content field is required."],
        },
    )


async def test_update_user_default_number(
    service: HipcallSandbox, hipcall: BearerApi
) -> None:
    response = await hipcall.request("PUT", "/users/3", json={"default_number_id": 1})
    data = (await body(response))["data"]
    assert response.status == 200
    assert (data["id"], data["default_number_id"]) == (3, 1)
    assert "status" not in data
    assert service.user(3)["default_number_id"] == 1
    response = await hipcall.request("PUT", "/users/3", json={"default_number_id": 9})
    await assert_error(
        response,
        422,
        "The selected default number id is invalid.",
        {"default_number_id": ["The selected default number id is invalid."]},
    )


# -- rate limit ------------------------------------------------------------------------


async def test_rate_limit_window(
    service: HipcallSandbox, hipcall: BearerApi, frozen: FrozenDateTimeFactory
) -> None:
    counts = []
    for _ in range(30):
        response = await hipcall.request("GET", "/numbers")
        assert response.status == 200
        counts.append(remaining(response))
        frozen.tick(timedelta(seconds=1))
    assert counts == list(range(29, -1, -1))
    assert service.requests_in_window == 30
    throttled = await hipcall.request("GET", "/numbers")
    await assert_error(throttled, 429, "Too Many Attempts.")
    assert throttled.headers["retry-after"] == "30"
    assert throttled.headers["x-ratelimit-limit"] == "30"
    assert remaining(throttled) == 0
    reset = int(throttled.headers["x-ratelimit-reset"])
    assert reset == int((START + timedelta(seconds=60)).timestamp())
    frozen.tick(timedelta(seconds=29))
    throttled = await hipcall.request("GET", "/numbers")
    assert throttled.headers["retry-after"] == "1"  # 429s do not extend the window
    assert service.throttled == 2
    frozen.tick(timedelta(seconds=1))
    response = await hipcall.request("GET", "/numbers")
    assert (response.status, remaining(response)) == (200, 29)
    assert service.requests_in_window == 1


async def test_rate_limit_is_per_token(
    service: HipcallSandbox, hipcall: BearerApi
) -> None:
    service.set_rate_limit(2)
    for _ in range(2):
        assert (await hipcall.request("GET", "/users")).status == 200
    assert (await hipcall.request("GET", "/users")).status == 429
    # Unauthenticated requests count per client, apart from the token's window.
    response = await hipcall.request("GET", "/users", token="nope")
    assert (response.status, remaining(response)) == (401, 1)
    assert service.state()["counts"]["throttled"] == 1


async def test_faults_are_json_and_not_counted(
    service: HipcallSandbox, hipcall: BearerApi
) -> None:
    service.add_fault(Fault(kind="error", path="^/api/v20211124/cdrs$"))
    service.add_fault(Fault(kind="rate_limit", retry_after=7, path="/users$"))
    response = await hipcall.request("GET", "/cdrs")
    await assert_error(response, 500, "Server Error")
    assert "x-ratelimit-remaining" not in response.headers
    response = await hipcall.request("GET", "/users")
    await assert_error(response, 429, "Too Many Attempts.")
    assert response.headers["Retry-After"] == "7"
    service.add_fault(Fault(kind="malformed", path="/teams$"))
    response = await hipcall.request("GET", "/teams")
    assert (response.status, response.content_type) == (200, "application/json")
    with pytest.raises(ValueError):  # noqa: PT011 - any JSON decode error will do
        json.loads(await response.read())
    response = await hipcall.request("GET", "/cdrs")
    assert (response.status, remaining(response)) == (200, 29)
    assert [r.status for r in service.requests] == [500, 429, 200, 200]


# -- state changes ---------------------------------------------------------------------


async def test_users_added_and_removed(
    service: HipcallSandbox, hipcall: BearerApi
) -> None:
    service.remove_user(5)
    added = service.add_user(name="Ada Lovelace", email="ada@example.com")
    service.set_user_status(3, "inactive")
    first = await body(await hipcall.request("GET", "/users"))
    assert [u["id"] for u in first["data"]] == [2, 3, 4, 6, 7, 8, 9, 10, 11, 12]
    assert first["data"][1]["status"] == "inactive"
    assert first["meta"]["total"] == 28
    last = await body(await hipcall.request("GET", "/users?page=3"))
    assert last["data"][-1] == added
    assert (added["id"], added["full_name"], added["status"]) == (
        30,
        "Ada Lovelace",
        "active",
    )
    await assert_error(
        await hipcall.request("GET", "/users/5"), 404, "Record not found."
    )
    with pytest.raises(KeyError):
        service.remove_user(5)
    with pytest.raises(ValueError, match="exists"):
        service.add_user(id=2)
    with pytest.raises(TypeError):
        service.add_user(owner="yes")


def test_demo_step() -> None:
    service = HipcallSandbox()
    statuses, added = [], []
    for step in range(1, 19):
        before = len(service.calls)
        service.demo_step(step)
        added.append(service.calls[before:])
        statuses.append(service.user(3)["status"])
    assert [len(calls) for calls in added] == [0, 0, 1, 0, 0, 1, 0, 0, 2] * 2
    missed = [c for calls in added for c in calls if c["missing_call"]]
    assert [c["missing_call_reason"] for c in missed] == [3, 1]
    assert all(c["started_at"] < c["ended_at"] for calls in added for c in calls)
    assert statuses[5] == statuses[10] == "inactive"
    assert statuses[4] == statuses[11] == "active"


async def test_control_routes(
    service: HipcallSandbox, sandbox_client: Client, hipcall: BearerApi
) -> None:
    async def control(
        method: str, path: str, data: Any = None, status: int = 200
    ) -> Any:
        response = await sandbox_client.request(
            method, f"/_control/hipcall{path}", json=data
        )
        assert response.status == status, await response.text()
        return await response.json()

    call = await control(
        "POST",
        "/calls",
        {"started_at": "2030-01-01T00:00:00+0000", "missing_call": True},
    )
    assert (await control("GET", "/calls"))[-1] == call
    state = await control("GET", "/state")
    assert state["counts"] == {
        "users": 28,
        "calls_visible": 15,
        "calls_pending": 1,
        "tasks": 11,
        "comments": 0,
        "throttled": 0,
    }
    await control("POST", "/calls", {"direction": 9}, 400)
    await control("POST", "/calls", {"bogus": 1}, 400)
    user = await control("POST", "/users", {"name": "Grace Hopper", "2fa": True})
    assert (user["id"], user["2fa"]) == (30, True)
    patched = await control("PATCH", "/users/30", {"status": "on_call"})
    assert patched["status"] == "on_call"
    await control("DELETE", "/users/4")
    await control("DELETE", "/users/4", status=404)
    await control("PATCH", "/users/x", {"status": "a"}, 400)
    assert await control("POST", "/rate_limit", {"limit": 5}) == {"rate_limit": 5}
    await control("POST", "/rate_limit", {"limit": 0}, 400)
    await control("POST", "/token", {"token": "t2"})
    response = await hipcall.request("GET", "/users", token="t2")
    assert response.headers["x-ratelimit-limit"] == "5"
    ids = [u["id"] for u in (await body(response))["data"]]
    assert 4 not in ids
    await sandbox_client.post("/_control/reset")
    assert (service.token, service.rate_limit, len(service.users)) == (
        SEED_TOKEN,
        30,
        28,
    )
    assert service.requests_in_window == 0
