"""The Hipcall client: pages, records, errors and its request budget."""

from collections.abc import AsyncIterator
import json
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import pytest

from custom_components.commhub.api import CommHubRequestError, CommHubResponseError
from custom_components.commhub.api.hipcall import HipcallClient
from custom_components.commhub.api.ratelimit import RequestBudget
from custom_components.commhub.api.records import MalformedRecord
from sandbox import Sandbox

from .conftest import HIPCALL_TOKEN

type Pages = dict[str, Any]  # "path?query" -> JSON body (or (status, body))


@pytest.fixture
async def pages(
    hass: HomeAssistant, socket_enabled: None
) -> AsyncIterator[tuple[Pages, HipcallClient, list[str]]]:
    """A server answering "path?query" with canned JSON, and a client of it."""
    answers: Pages = {}
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        key = request.path_qs
        seen.append(key)
        status, body = (
            answers[key] if isinstance(answers[key], tuple) else (200, answers[key])
        )
        return web.json_response(body, status=status)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    server = TestServer(app, host="127.0.0.1", access_log=None)
    await server.start_server()
    # A budget this large never waits: these tests are about pages, not pacing.
    client = HipcallClient(
        async_get_clientsession(hass),
        "token",
        str(server.make_url("")),
        budget=RequestBudget(1000, 60),
    )
    yield answers, client, seen
    await server.close()


def call_record(**fields: Any) -> dict[str, Any]:
    """A CDR as the document shows it, with some fields changed."""
    record = {
        "resource_type": "cdr",
        "uuid": "caedfd1b-25ec-447e-ad87-3b7eb3d358ea",
        "direction": 1,
        "user_id": 2,
        "started_at": "2023-03-31T08:41:58+0000",
        "ended_at": "2023-03-31T08:45:01+0000",
        "call_duration": 183,
        "missing_call": True,
        "missing_call_reason": 3,
        "caller_number": "+905326202911",
        "callee_number": "101",
    }
    record.update(fields)
    return record


async def test_users_from_every_page_of_the_sandbox(
    hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str
) -> None:
    """28 users over three pages, parsed; the budget follows the service's count."""
    client = HipcallClient(
        async_get_clientsession(hass),
        HIPCALL_TOKEN,
        f"{sandbox_url}/hipcall/api/v20211124",
    )
    users = await client.list_users()
    assert len(users.items) == 28
    assert users.malformed == []
    assert [r.query.get("page") for r in sandbox.hipcall.requests] == ["1", "2", "3"]
    satya = users.items[0]
    assert (satya.id, satya.name, satya.email, satya.status) == (
        2,
        "Satya Nadella",
        "satya@microsoft.com",
        "active",
    )
    assert satya.default_extension_id == 5
    assert client.budget is not None
    assert client.budget.used == 3
    extensions = await client.extensions_by_user(users.items)
    assert extensions[satya.id] == "1002"


async def test_next_links_give_only_a_page_number(
    pages: tuple[Pages, HipcallClient, list[str]],
) -> None:
    """A next link on another host is never requested: the token stays home."""
    answers, client, seen = pages
    answers["/users?page=1"] = {
        "data": [{"id": 1, "status": "active", "full_name": "A"}],
        "links": {"next": "https://evil.example/users?page=2"},
    }
    answers["/users?page=2"] = {
        "data": [
            {"id": 2, "status": "away", "name": "B"},
            {"id": "x", "status": 1},
            "junk",
        ],
        "links": {"next": None},
    }
    users = await client.list_users()
    assert [(u.id, u.name, u.status) for u in users.items] == [
        (1, "A", "active"),
        (2, "B", "away"),
    ]
    assert users.malformed == [
        MalformedRecord("x", "id"),
        MalformedRecord(None, "record"),
    ]
    assert seen == ["/users?page=1", "/users?page=2"]


@pytest.mark.parametrize(
    "body",
    [
        {"data": {}, "links": {}},
        {"data": [], "links": None},
        {"data": [], "links": {"next": 2}},
        {"data": [], "links": {"next": "https://api.hipcall.com/users"}},
        {"data": [], "links": {"next": "https://api.hipcall.com/users?page=1"}},
    ],
)
async def test_broken_pages_are_response_errors(
    pages: tuple[Pages, HipcallClient, list[str]], body: dict[str, Any]
) -> None:
    """No data list, no links, a next link without a page or going backwards."""
    answers, client, _ = pages
    answers["/users?page=1"] = body
    with pytest.raises(CommHubResponseError):
        await client.list_users()


async def test_endless_paging_stops(
    pages: tuple[Pages, HipcallClient, list[str]],
) -> None:
    """A service that always has a next page cannot keep the client forever."""
    answers, client, seen = pages
    for page in range(1, 52):
        answers[f"/users?page={page}"] = {
            "data": [],
            "links": {"next": f"https://api.hipcall.com/users?page={page + 1}"},
        }
    with pytest.raises(CommHubResponseError, match="more than 50 pages"):
        await client.list_users()
    assert len(seen) == 50


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"uuid": None}, "uuid"),
        ({"uuid": 5}, "uuid"),
        ({"missing_call": "true"}, "missing_call"),
        ({"started_at": None}, "started_at"),
        ({"started_at": "yesterday"}, "started_at"),
        ({"started_at": "2023-03-31T08:41:58"}, "started_at"),
        ({"ended_at": 1680252301}, "ended_at"),
        ({"user_id": True}, "user_id"),
        ({"direction": "1"}, "direction"),
        ({"call_duration": 1.5}, "call_duration"),
        ({"caller_number": 905326202911}, "caller_number"),
    ],
)
async def test_malformed_calls_are_skipped_not_fatal(
    pages: tuple[Pages, HipcallClient, list[str]], change: dict[str, Any], field: str
) -> None:
    """One bad record names its field; the good one next to it is parsed."""
    answers, client, _ = pages
    answers["/cdrs?page=1"] = {
        "data": [call_record(**change), call_record(uuid="good")],
        "links": {"next": None},
    }
    page = await client.calls_page(1)
    assert [c.uuid for c in page.items] == ["good"]
    assert [m.field for m in page.malformed] == [field]


async def test_call_fields(pages: tuple[Pages, HipcallClient, list[str]]) -> None:
    """Reasons and directions by name; answered calls have no reason."""
    answers, client, _ = pages
    answers["/cdrs?page=3"] = {
        "data": [
            call_record(uuid="a", direction=2, missing_call_reason=4),
            call_record(
                uuid="b", direction=7, missing_call=False, missing_call_reason=0
            ),
            call_record(uuid="c", ended_at=None, missing_call_reason=None),
        ],
        "links": {"next": "https://api.hipcall.com/api/v20211124/cdrs?page=4"},
    }
    page = await client.calls_page(3)
    assert page.next_page == 4
    a, b, c = page.items
    assert (a.reason, a.direction) == ("callback", "outbound")
    assert (b.reason, b.direction) == (None, None)
    assert (c.reason, c.finished_at) == ("unknown", c.started_at)


async def test_validation_errors_carry_the_field_messages(
    pages: tuple[Pages, HipcallClient, list[str]],
) -> None:
    """A 422 explains itself with every field's message; other errors with message."""
    answers, client, _ = pages
    answers["/tasks"] = (
        422,
        {
            "message": "The name field is required. (and 1 more error)",
            "errors": {
                "name": ["The name field is required."],
                "priority": ["The selected priority is invalid."],
            },
        },
    )
    with pytest.raises(CommHubRequestError) as err:
        await client.create_task({"priority": "urgent"})
    assert err.value.status == 422
    assert err.value.message == (
        "The name field is required. The selected priority is invalid."
    )
    answers["/comments"] = (403, {"message": "This action is unauthorized."})
    with pytest.raises(CommHubRequestError, match=r"This action is unauthorized\."):
        await client.add_comment("deal", 1, "x")


async def test_created_records_are_returned(
    pages: tuple[Pages, HipcallClient, list[str]],
) -> None:
    """The record inside `data`; an answer without one is a response error."""
    answers, client, seen = pages
    answers["/tasks"] = (201, {"data": {"id": 12, "name": "x"}})
    assert await client.create_task({"name": "x"}) == {"id": 12, "name": "x"}
    answers["/comments"] = (201, {"data": "created"})
    with pytest.raises(CommHubResponseError):
        await client.add_comment("contact", 1, "x")
    assert json.dumps(seen) == json.dumps(["/tasks", "/comments"])
