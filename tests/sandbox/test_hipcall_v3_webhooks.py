"""The Hipcall sandbox's live calls and webhooks (`call_init`, `call_hangup`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
import json
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from freezegun.api import FrozenDateTimeFactory
import pytest

from sandbox import HipcallSandbox, Sandbox
from sandbox.hipcall import SEED_TOKEN

from .conftest import BearerApi

Client = TestClient[web.Request, web.Application]
START = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
RINGING = {
    "ended_at": None,
    "call_duration": None,
    "first_touch_duration": None,
    "missing_call": None,
    "answered_at": None,
    "bridged_at": None,
    "missing_call_reason": None,
    "hangup_by": None,
    "record_url": None,
    "voicemail_url": None,
}


@dataclass
class Receiver:
    """A local HTTP server taking webhooks; `answers` are its next statuses."""

    url: str
    posts: list[dict[str, Any]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)

    @property
    def events(self) -> list[str]:
        """The events received, in order."""
        return [post["event"] for post in self.posts]


@pytest.fixture
async def receiver(socket_enabled: None) -> AsyncIterator[Receiver]:
    """A second real server on 127.0.0.1 that records what is posted to it."""
    holder: list[Receiver] = []

    async def handle(request: web.Request) -> web.Response:
        target = holder[0]
        assert request.content_type == "application/json"
        target.posts.append(await request.json())
        return web.Response(status=target.answers.pop(0) if target.answers else 200)

    app = web.Application()
    app.router.add_post("/{tail:.*}", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    holder.append(Receiver(str(server.make_url("/api/webhook/hipcall-id"))))
    yield holder[0]
    await server.close()


@pytest.fixture
def service(sandbox: Sandbox) -> HipcallSandbox:
    """The Hipcall service of the served sandbox."""
    return sandbox.hipcall


@pytest.fixture
def frozen(freezer: FrozenDateTimeFactory) -> FrozenDateTimeFactory:
    """The clock frozen at START."""
    freezer.move_to(START)
    return freezer


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


async def test_a_missed_call_end_to_end(
    service: HipcallSandbox,
    sandbox_client: Client,
    v3: BearerApi,
    receiver: Receiver,
    frozen: FrozenDateTimeFactory,
) -> None:
    await control(sandbox_client, "PUT", "/webhook", {"url": receiver.url})
    ringing = await control(
        sandbox_client,
        "POST",
        "/calls/ring",
        {"caller_number": "+905551112233", "user_id": 4},
    )
    (init,) = receiver.posts
    assert init == {"event": "call_init", "data": ringing}
    assert {key: ringing[key] for key in RINGING} == RINGING
    assert ringing["call_flow"] == [
        {
            "action": "init",
            "detail": {"id": 4, "type": "user"},
            "timestamp": "2026-05-04T09:00:00Z",
        }
    ]
    assert (
        ringing["started_at"],
        ringing["direction"],
        ringing["caller_number"],
        ringing["callee_number"],
        ringing["user_id"],
        ringing["caller_type"],
        ringing["callee_type"],
    ) == (
        "2026-05-04T09:00:00Z",
        "inbound",
        "+905551112233",
        "+908503902777",
        4,
        "contact",
        "greeting",
    )
    assert [c["uuid"] for c in await control(sandbox_client, "GET", "/calls/live")] == [
        ringing["uuid"]
    ]
    frozen.tick(timedelta(seconds=3))
    ended = await control(
        sandbox_client,
        "POST",
        f"/calls/{ringing['uuid']}/hangup",
        {"reason": "short_abandoned"},
    )
    assert receiver.events == ["call_init", "call_hangup"]
    hangup = receiver.posts[1]["data"]
    assert hangup == ended
    assert (
        hangup["ended_at"],
        hangup["call_duration"],
        hangup["missing_call"],
        hangup["missing_call_reason"],
        hangup["hangup_by"],
        hangup["record_url"],
    ) == ("2026-05-04T09:00:03Z", 3, True, "short_abandoned", "contact", None)
    assert service.live_calls == {}
    response = await v3.request("GET", "/calls?missing_call[eq]=true&limit=1")
    (item,) = json.loads(await response.read())["data"]
    assert item["uuid"] == ringing["uuid"]
    response = await v3.request("GET", f"/calls/{item['uuid']}?date=2026-05-04")
    assert json.loads(await response.read())["data"] == hangup
    assert service.call(item["uuid"])["missing_call_reason"] == 2  # 2021: a code


async def test_an_answered_recorded_call(
    service: HipcallSandbox, receiver: Receiver, frozen: FrozenDateTimeFactory
) -> None:
    service.webhooks.configure(url=receiver.url)
    uuid = service.ring_call(user_id=3)["uuid"]
    frozen.tick(timedelta(seconds=4))
    answered = service.answer_call(uuid, user_id=5)
    assert answered["answered_at"] == "2026-05-04T09:00:04Z"
    assert answered["call_flow"][0]["action"] == "bridge"
    frozen.tick(timedelta(seconds=60))
    ended = service.hangup_call(uuid, recorded=True, hangup_by="user")
    await service.webhooks.wait()
    assert receiver.events == ["call_init", "call_hangup"]  # answering is no event
    assert (
        ended["missing_call"],
        ended["missing_call_reason"],
        ended["user_id"],
        ended["first_touch_duration"],
        ended["call_duration"],
        ended["hangup_by"],
    ) == (False, None, 5, 4, 64, "user")
    assert ended["record_url"].startswith(
        f"https://hipcall-records.s3.eu-central-1.amazonaws.com/sandbox/2026/05/04/{uuid}.mp3?"
    )
    assert "X-Amz-Signature=" in ended["record_url"]
    assert service.call(uuid)["record_url"].endswith(f"/{uuid}.mp3")


async def test_a_missed_call_with_voicemail(
    service: HipcallSandbox, receiver: Receiver
) -> None:
    service.webhooks.configure(url=receiver.url, events=["call_hangup"])
    uuid = service.ring_call()["uuid"]
    ended = service.hangup_call(uuid, voicemail=True, reason=4)
    await service.webhooks.wait()
    assert receiver.events == ["call_hangup"]
    assert (ended["missing_call_reason"], ended["voicemail_type"]) == (
        "callback",
        "user",
    )
    assert ended["voicemail_url"].startswith(
        "https://hipcall-records.s3.eu-central-1.amazonaws.com/sandbox/voicemail/"
    )
    assert ended["ended_at"] > ended["started_at"]  # a call lasts at least a second


async def test_out_of_hours_is_hung_up_by_the_system(service: HipcallSandbox) -> None:
    uuid = service.ring_call()["uuid"]
    ended = service.hangup_call(uuid, reason="out_of_business_hours")
    assert (ended["hangup_by"], ended["missing_call_reason"]) == (
        "system",
        "out_of_business_hours",
    )
    assert service.webhooks.deliveries == []  # no target: nothing is sent


async def test_click_to_call_pushes_call_init(
    service: HipcallSandbox, v3: BearerApi, receiver: Receiver
) -> None:
    service.webhooks.configure(url=receiver.url)
    response = await v3.request(
        "POST", "/users/3/call", json={"callee_number": "+905551112233"}
    )
    uuid = json.loads(await response.read())["data"]["id"]
    await service.webhooks.wait()
    (init,) = receiver.posts
    assert (init["data"]["uuid"], init["data"]["direction"]) == (uuid, "outbound")
    assert (init["data"]["caller_type"], init["data"]["callee_type"]) == (
        "user",
        "contact",
    )


async def test_pushing_switched_off(
    service: HipcallSandbox, sandbox_client: Client, receiver: Receiver
) -> None:
    answer = await control(
        sandbox_client, "PUT", "/webhook", {"url": receiver.url, "enabled": False}
    )
    assert answer == {
        "url": receiver.url,
        "enabled": False,
        "events": ["call_hangup", "call_init"],
    }
    uuid = (await control(sandbox_client, "POST", "/calls/ring", {}))["uuid"]
    await control(sandbox_client, "POST", f"/calls/{uuid}/hangup", {})
    assert receiver.posts == []
    assert await control(sandbox_client, "GET", "/deliveries") == []
    await control(sandbox_client, "PUT", "/webhook", {"url": None, "enabled": True})
    assert await control(sandbox_client, "GET", "/webhook") == {
        "url": None,
        "enabled": True,
        "events": ["call_hangup", "call_init"],
    }


async def test_what_the_receiver_answered_is_recorded(
    service: HipcallSandbox, sandbox_client: Client, receiver: Receiver
) -> None:
    receiver.answers = [500]
    service.webhooks.configure(url=receiver.url)
    uuid = service.ring_call()["uuid"]
    closed = TestServer(web.Application(), host="127.0.0.1")
    await closed.start_server()
    unreachable = str(closed.make_url("/hook"))
    await closed.close()
    service.webhooks.configure(url=unreachable)
    service.hangup_call(uuid)
    deliveries = await control(sandbox_client, "GET", "/deliveries")
    assert [(d["event"], d["status"], d["attempted"]) for d in deliveries] == [
        ("call_init", 500, True),
        ("call_hangup", None, True),
    ]
    assert deliveries[1]["error"].startswith("ClientConnectorError")
    assert len(receiver.posts) == 1  # one attempt: no retries


async def test_a_push_without_a_running_loop_is_sent_later(
    service: HipcallSandbox, receiver: Receiver
) -> None:
    service.webhooks.configure(url=receiver.url)
    await asyncio.to_thread(service.ring_call)
    (delivery,) = service.webhooks.deliveries
    assert not delivery.attempted
    await service.webhooks.wait()
    assert (delivery.attempted, delivery.status, receiver.events) == (
        True,
        200,
        ["call_init"],
    )


async def test_live_call_control_errors(
    service: HipcallSandbox, sandbox_client: Client
) -> None:
    await control(sandbox_client, "PUT", "/webhook", {"url": "ftp://x"}, 400)
    await control(sandbox_client, "PUT", "/webhook", {}, 400)
    await control(
        sandbox_client, "PUT", "/webhook", {"url": None, "events": ["x"]}, 400
    )
    await control(sandbox_client, "PUT", "/webhook", {"url": None, "enabled": 1}, 400)
    await control(sandbox_client, "POST", "/calls/ring", {"direction": "up"}, 400)
    await control(sandbox_client, "POST", "/calls/ring", {"colour": "red"}, 400)
    await control(sandbox_client, "POST", "/calls/nope/answer", {}, 404)
    await control(sandbox_client, "POST", "/calls/nope/hangup", {}, 404)
    uuid = (await control(sandbox_client, "POST", "/calls/ring", {}))["uuid"]
    await control(sandbox_client, "POST", "/calls/ring", {"uuid": uuid}, 400)
    await control(
        sandbox_client, "POST", f"/calls/{uuid}/hangup", {"recorded": True}, 400
    )
    await control(sandbox_client, "POST", f"/calls/{uuid}/hangup", {"reason": 0}, 400)
    await control(
        sandbox_client, "POST", f"/calls/{uuid}/hangup", {"hangup_by": "cat"}, 400
    )
    await control(sandbox_client, "POST", f"/calls/{uuid}/answer", {"user_id": 3})
    await control(sandbox_client, "POST", f"/calls/{uuid}/answer", {}, 400)
    await control(
        sandbox_client, "POST", f"/calls/{uuid}/hangup", {"reason": "abandoned"}, 400
    )
    await control(
        sandbox_client, "POST", f"/calls/{uuid}/hangup", {"voicemail": True}, 400
    )
    assert uuid in service.live_calls  # nothing above ended it
    ended = await control(sandbox_client, "POST", f"/calls/{uuid}/hangup", {})
    assert (ended["missing_call"], ended["user_id"]) == (False, 3)
    with pytest.raises(ValueError, match="already exists"):
        service.ring_call(uuid=uuid)


async def test_demo_rings_misses_and_moves_presence(
    service: HipcallSandbox,
    receiver: Receiver,
) -> None:
    service.webhooks.configure(url=receiver.url)
    states: list[dict[int, str]] = []
    for step in range(1, 19):
        service.demo_step(step)
        states.append({u: service.profile(u).state for u in (2, 3, 4, 5)})
    await service.webhooks.wait()
    assert receiver.events == ["call_init", "call_hangup"] * 2
    hangups = [post["data"] for post in receiver.posts[1::2]]
    assert [h["missing_call_reason"] for h in hangups] == [
        "abandoned",
        "out_of_business_hours",
    ]
    assert [h["missing_call"] for h in hangups] == [True, True]
    assert receiver.posts[0]["data"]["caller_number"] == "+905440000009"
    # Each step moves one of users 2-5 to their next state.
    assert (states[0][3], states[4][3]) == ("break", "busy")
    assert (states[1][4], states[3][2]) == ("available", "away")
    changed = [
        sum(before[u] != after[u] for u in before) for before, after in pairwise(states)
    ]
    assert changed == [1] * 17


def test_a_push_is_kept_when_nothing_runs() -> None:
    service = HipcallSandbox()
    service.webhooks.configure(url="http://127.0.0.1:9/hook")
    service.ring_call()
    assert [d.attempted for d in service.webhooks.deliveries] == [False]
    service.reset()
    assert (service.webhooks.deliveries, service.webhooks.url) == ([], None)
