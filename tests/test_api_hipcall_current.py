"""The Hipcall client on the current API (v3): pages, answers it cannot use, forms."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
import json
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import pytest

from custom_components.commhub.api import CommHubResponseError
from custom_components.commhub.api.hipcall import (
    HipcallCall,
    HipcallClient,
    UnsupportedError,
    api_generation,
)
from custom_components.commhub.api.ratelimit import RequestBudget
from sandbox import Sandbox
from sandbox.hipcall import SEED_TOKEN

type Answers = dict[str, Any]  # "METHOD path" -> JSON body

CALL = HipcallCall(
    uuid="u-1",
    started_at=datetime(2026, 11, 23, 23, 30, tzinfo=UTC),
    ended_at=None,
    missing_call=True,
    reason="abandoned",
    direction="inbound",
    user_id=None,
    caller_number=None,
    callee_number=None,
    call_duration=None,
)


@pytest.fixture
async def canned(
    hass: HomeAssistant, socket_enabled: None
) -> AsyncIterator[tuple[Answers, HipcallClient, list[tuple[str, Any]]]]:
    """A server answering "METHOD path" with canned JSON; a v3 client of it."""
    answers: Answers = {}
    seen: list[tuple[str, Any]] = []

    async def handler(request: web.Request) -> web.Response:
        key = f"{request.method} {request.path}"
        seen.append(
            (request.path_qs, await request.json() if request.can_read_body else None)
        )
        return web.json_response(answers[key])

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    server = TestServer(app, host="127.0.0.1", access_log=None)
    await server.start_server()
    client = HipcallClient(
        async_get_clientsession(hass),
        "token",
        str(server.make_url("/api/v3")),
        budget=RequestBudget(1000, 60),
    )
    yield answers, client, seen
    await server.close()


def test_the_generation_is_the_last_path_segment() -> None:
    """`v3` is the current API; anything else the 2021 one."""
    assert api_generation("https://use.hipcall.co.uk/api/v3/") == "v3"
    assert api_generation("https://api.hipcall.com/api/v20211124") == "v20211124"


async def test_a_hundred_and_fifty_users_are_two_pages(
    hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str
) -> None:
    """limit=100 and offset until meta.count is reached."""
    sandbox.hipcall.add_users(150)
    client = HipcallClient(
        async_get_clientsession(hass), SEED_TOKEN, f"{sandbox_url}/hipcall/api/v3"
    )
    page = await client.list_users()
    assert len(page.items) == len(sandbox.hipcall.users)
    offsets = [r.query["offset"] for r in sandbox.hipcall.requests]
    assert offsets == [str(n) for n in range(0, len(page.items), 100)]


@pytest.mark.parametrize(
    "body",
    [{"data": {}}, {"data": [], "meta": {}}, {"data": [], "meta": {"count": True}}],
    ids=["data not a list", "no count", "count not a number"],
)
async def test_a_list_it_cannot_page_is_a_response_error(
    canned: tuple[Answers, HipcallClient, list[tuple[str, Any]]], body: Any
) -> None:
    """Without data or meta.count the pages cannot be followed."""
    answers, client, _ = canned
    answers["GET /api/v3/users"] = body
    with pytest.raises(CommHubResponseError):
        await client.list_users()


async def test_a_list_that_never_ends_is_a_response_error(
    canned: tuple[Answers, HipcallClient, list[tuple[str, Any]]],
) -> None:
    """A count the pages never reach stops after the page bound."""
    answers, client, seen = canned
    user = {"id": 1, "email": "a@example.com", "state": "available"}
    answers["GET /api/v3/users"] = {"data": [user], "meta": {"count": 10_000}}
    with pytest.raises(CommHubResponseError, match="more than"):
        await client.list_users()
    assert len(seen) == 50


async def test_answers_without_what_was_asked_are_response_errors(
    canned: tuple[Answers, HipcallClient, list[tuple[str, Any]]],
) -> None:
    """A call detail that is no call, or malformed; click to call without an id."""
    answers, client, seen = canned
    answers["GET /api/v3/calls/u-1"] = {"data": ["not a call"]}
    with pytest.raises(CommHubResponseError):
        await client.get_call("u-1", CALL.started_at)
    answers["GET /api/v3/calls/u-1"] = {"data": {"uuid": "u-1", "started_at": 5}}
    with pytest.raises(CommHubResponseError, match="started_at"):
        await client.call_detail(CALL)
    # The UTC day of the start finds the call (23:30 UTC, whatever the local day).
    assert seen[-1][0] == "/api/v3/calls/u-1?date=2026-11-23"
    answers["POST /api/v3/users/2/call"] = {"data": {"id": True}}
    with pytest.raises(CommHubResponseError):
        await client.call(2, "+441234567890", ring_user_first=False)


async def test_extensions_are_matched_to_their_users(
    canned: tuple[Answers, HipcallClient, list[tuple[str, Any]]],
) -> None:
    """Current API: no ids, the target names the user; malformed ones are skipped."""
    answers, client, _ = canned
    answers["GET /api/v3/users"] = {
        "data": [
            {"id": 1, "email": "a@example.com", "first_name": "Ada", "last_name": "L"},
            {"id": 2, "email": "b@example.com"},
        ],
        "meta": {"count": 2},
    }
    answers["GET /api/v3/extensions"] = {
        "data": [
            {"name": "Ada", "number": 1001, "target_id": 1, "target_type": "User"},
            {"name": "Sales", "number": "300", "target_id": 2, "target_type": "team"},
            {"name": "Broken", "number": True, "target_id": 2, "target_type": "user"},
        ],
        "meta": {"count": 3},
    }
    users = (await client.list_users()).items
    assert [(u.name, u.status) for u in users] == [
        ("Ada L", "unknown"),
        ("User 2", "unknown"),
    ]
    assert await client.extensions_by_user(users) == {1: "1001"}


async def test_the_2021_api_has_no_presence_filters_or_click_to_call(
    hass: HomeAssistant,
) -> None:
    """What only the current API has is refused before any request."""
    client = HipcallClient(
        async_get_clientsession(hass), "token", "https://api.hipcall.com/api/v20211124"
    )
    with pytest.raises(UnsupportedError):
        await client.set_presence(1, "away")
    with pytest.raises(UnsupportedError):
        await client.missed_calls(CALL.started_at)
    with pytest.raises(UnsupportedError):
        await client.call(1, "+441234567890", ring_user_first=True)


async def test_a_2021_task_keeps_the_documents_due_date_form(
    hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str
) -> None:
    """`due_date` as "YYYYMMDD HH:MM:SS" and the flat fields of the document."""
    client = HipcallClient(
        async_get_clientsession(hass),
        SEED_TOKEN,
        f"{sandbox_url}/hipcall/api/v20211124",
    )
    due = datetime(2026, 12, 24, 9, 30)
    await client.create_task({"name": "Call back", "due_date": due, "assign_to": 2})
    [post] = [r for r in sandbox.hipcall.requests if r.method == "POST"]
    assert post.path == "/api/v20211124/tasks"
    assert json.loads(post.body) == {
        "name": "Call back",
        "assign_to": 2,
        "due_date": "20261224 09:30:00",
    }
