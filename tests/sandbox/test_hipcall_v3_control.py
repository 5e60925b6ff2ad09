"""The Hipcall sandbox's control additions for the current API, and its demo."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
import pytest

from sandbox import HipcallSandbox, Sandbox
from sandbox.hipcall import SEED_TOKEN

from .conftest import BearerApi

Client = TestClient[web.Request, web.Application]


@pytest.fixture
def service(sandbox: Sandbox) -> HipcallSandbox:
    """The Hipcall service of the served sandbox."""
    return sandbox.hipcall


@pytest.fixture
def v3(sandbox_client: Client) -> BearerApi:
    """The current API on the sandbox's own host."""
    return BearerApi(sandbox_client, "/hipcall/api/v3", SEED_TOKEN)


async def control(
    client: Client, method: str, path: str, data: Any = None, status: int = 200
) -> Any:
    """A control call; its JSON answer."""
    response = await client.request(method, f"/_control/hipcall{path}", json=data)
    assert response.status == status, await response.text()
    return await response.json()


async def test_add_a_hundred_users(
    service: HipcallSandbox, sandbox_client: Client, v3: BearerApi
) -> None:
    added = await control(
        sandbox_client, "POST", "/users/bulk", {"count": 100, "state": "busy"}
    )
    assert added["ids"] == list(range(30, 130))
    first = await v3.request("GET", "/users?limit=100")
    page = await first.json()
    assert page["meta"] == {"count": 128, "limit": 100, "offset": 0}
    rest = await (await v3.request("GET", "/users?limit=100&offset=100")).json()
    assert [u["id"] for u in rest["data"]] == list(range(102, 130))
    assert rest["data"][-1]["state"] == "busy"
    assert rest["data"][-1]["email"] == "user129@example.com"
    legacy = BearerApi(sandbox_client, "/hipcall/api/v20211124", SEED_TOKEN)
    pages = await (await legacy.request("GET", "/users")).json()
    assert pages["meta"]["total"] == 128  # the same account on the 2021 API
    for body in ({"count": 0}, {"count": 1001}, {"count": 2, "id": 500}, {}):
        await control(sandbox_client, "POST", "/users/bulk", body, 400)
    assert len(service.users) == 128


async def test_set_presence_timezone_and_suspension(
    service: HipcallSandbox, sandbox_client: Client
) -> None:
    user = await control(
        sandbox_client,
        "PUT",
        "/users/3/presence",
        {"state": "unknown", "timezone": "Europe/London", "suspended": True},
    )
    assert (user["state"], user["timezone"], user["suspended"]) == (
        "unknown",
        "Europe/London",
        True,
    )
    await control(sandbox_client, "PUT", "/users/3/presence", {"state": "lunch"}, 400)
    await control(sandbox_client, "PUT", "/users/3/presence", {"suspended": 1}, 400)
    await control(sandbox_client, "PUT", "/users/x/presence", {}, 400)
    await control(sandbox_client, "PUT", "/users/99/presence", {}, 404)
    with pytest.raises(ValueError, match="unknown state"):
        service.add_user(state="lunch")
    with pytest.raises(TypeError):
        service.add_user(suspended="no")


async def test_add_calls_by_the_current_apis_names(
    service: HipcallSandbox, sandbox_client: Client, v3: BearerApi
) -> None:
    call = await control(
        sandbox_client,
        "POST",
        "/calls",
        {
            "started_at": "2024-11-17T10:41:00Z",
            "direction": "outbound",
            "missing_call": True,
            "missing_call_reason": "callback",
            "hangup_by": "system",
        },
    )
    assert (call["direction"], call["missing_call_reason"], call["hangup_by"]) == (
        2,
        4,
        3,
    )
    detail = await v3.request("GET", f"/calls/{call['uuid']}?date=2024-11-17")
    data = (await detail.json())["data"]
    assert (data["direction"], data["missing_call_reason"], data["hangup_by"]) == (
        "outbound",
        "callback",
        "system",
    )
    await control(sandbox_client, "POST", "/calls", {"hangup_by": 7}, 400)
    await control(sandbox_client, "POST", "/calls", {"direction": "sideways"}, 400)


async def test_hosts(service: HipcallSandbox, sandbox_client: Client) -> None:
    known = [
        "use.hipcall.com.tr",
        "use.hipcall.co.uk",
        "use.hipcall.com",
        "api.hipcall.com",
    ]
    assert await control(sandbox_client, "GET", "/hosts") == {
        "hosts": ["api.hipcall.com", "use.hipcall.com.tr"],
        "known": known,
    }
    answer = await control(
        sandbox_client, "PUT", "/hosts", {"hosts": ["use.hipcall.com"]}
    )
    assert answer == {"hosts": ["use.hipcall.com"], "known": known}
    await control(sandbox_client, "PUT", "/hosts", {"hosts": ["example.com"]}, 400)
    await control(sandbox_client, "PUT", "/hosts", {"hosts": "use.hipcall.com"}, 400)
    assert service.hosts == {"use.hipcall.com"}


async def test_state_summary_and_reset(
    service: HipcallSandbox, sandbox_client: Client
) -> None:
    service.set_hosts([])
    service.webhooks.configure(url="http://127.0.0.1:9/hook", enabled=False)
    uuid = service.ring_call()["uuid"]
    state = await control(sandbox_client, "GET", "/state")
    assert (state["hosts"], state["live_calls"], state["deliveries"]) == (
        [],
        [uuid],
        0,
    )
    assert state["webhook"]["url"] == "http://127.0.0.1:9/hook"
    assert state["users"][1] == {
        "id": 3,
        "name": "Holly James",
        "status": "active",
        "state": "away",
    }
    lines = service.summary()
    assert any("+ /api/v3 (current API)" in line for line in lines)
    assert lines[-1] == "webhook (call_init, call_hangup): http://127.0.0.1:9/hook"
    await sandbox_client.post("/_control/reset")
    assert (service.live_calls, service.webhooks.url) == ({}, None)
    assert service.hosts == {"use.hipcall.com.tr", "api.hipcall.com"}
    assert service.summary()[-1].endswith("not set (PUT /_control/hipcall/webhook)")


def test_demo_misses_nothing_when_the_call_is_gone() -> None:
    service = HipcallSandbox()
    service.demo_step(8)
    service.reset()
    before = len(service.calls)
    service.demo_step(9)
    assert len(service.calls) == before + 1  # the answered call only
    assert service.profile(3).state == "break"
    service.remove_user(2)
    service.demo_step(12)  # user 2's turn passes quietly
    assert [service.profile(u).state for u in (3, 4, 5)] == ["break", "busy", "break"]
