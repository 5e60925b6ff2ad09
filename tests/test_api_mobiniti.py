"""The Mobiniti client: auth, scopes, paging, sends, chunking, errors, throttling."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone
import json
import time
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from multidict import CIMultiDict, CIMultiDictProxy
import pytest

from custom_components.commhub.api import (
    CommHubAuthError,
    CommHubPaymentRequiredError,
    CommHubRateLimitedError,
    CommHubRequestError,
    CommHubResponseError,
    mobiniti as mobiniti_api,
)
from custom_components.commhub.api.http import RawResponse
from custom_components.commhub.api.mobiniti import (
    MAX_BATCH,
    MAX_LOOKUP,
    MAX_UNSUBSCRIBE,
    SCOPES,
    MobinitiClient,
    MobinitiScheduled,
    MobinitiSent,
    RouteThrottle,
    format_mobiniti_time,
    is_e164,
    parse_mobiniti_time,
)
from custom_components.commhub.api.records import MalformedRecord
from sandbox import Fault, Sandbox
from sandbox.core import RecordedRequest
from sandbox.mobiniti import (
    SCOPES as ALL_SCOPES,
    SEED_JANE,
    SEED_JOHN,
    SEED_LEE,
    SEED_TOKEN,
    SEED_UNSUBSCRIBED,
)

type MakeClient = Callable[..., MobinitiClient]


class FakeClock:
    """A monotonic clock that only moves when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def make(hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str) -> MakeClient:
    """Make a client of the sandbox's account (no throttle, no sandbox limit).

    Tests of the rate limit turn both back on.
    """
    sandbox.mobiniti.rate_limit_enabled = False
    session = async_get_clientsession(hass)

    def make(token: Any = SEED_TOKEN, **kwargs: Any) -> MobinitiClient:
        kwargs.setdefault("route_interval", 0.0)
        return MobinitiClient(session, token, f"{sandbox_url}/mobiniti", **kwargs)

    return make


def api_requests(sandbox: Sandbox) -> list[RecordedRequest]:
    """The requests that reached the API (not the OAuth endpoints)."""
    return [r for r in sandbox.mobiniti.requests if r.path.startswith("/v1/")]


def body_of(request: RecordedRequest) -> Any:
    """A recorded request's JSON body."""
    assert request.headers["Content-Type"].startswith("application/json")
    return json.loads(request.body)


def numbers(count: int, area: str = "303") -> list[str]:
    """`count` distinct E.164 numbers of the fictional 555 range."""
    return [f"+1{area}555{n:04d}" for n in range(count)]


# -- authentication and scopes ---------------------------------------------------


async def test_bearer_token_and_accept_are_sent(
    sandbox: Sandbox, make: MakeClient
) -> None:
    """check_token is a cheap GET /v1/messages?limit=1 with the token as Bearer."""
    await make().check_token()
    [request] = api_requests(sandbox)
    assert (request.method, request.path) == ("GET", "/v1/messages")
    assert dict(request.query) == {"limit": "1"}
    assert request.headers["Authorization"] == f"Bearer {SEED_TOKEN}"
    assert request.headers["Accept"] == "application/json"
    assert request.status == 200


async def test_token_callable_is_asked_before_every_request(
    sandbox: Sandbox, make: MakeClient
) -> None:
    """An OAuth token source is awaited per request and its answer used."""
    issued = [sandbox.mobiniti.issue_token()["access_token"] for _ in range(3)]
    handed: list[str] = []

    async def token() -> str:
        handed.append(issued[len(handed)])
        return handed[-1]

    client = make(token)
    await client.check_token()
    await client.contacts_by_update()
    await client.send_message(SEED_JOHN, "Hi")
    assert handed == issued
    sent = [r.headers["Authorization"] for r in api_requests(sandbox)]
    assert sent == [f"Bearer {t}" for t in issued]


async def test_token_callable_errors_reach_the_caller(
    sandbox: Sandbox, make: MakeClient
) -> None:
    """A failed token refresh is the caller's to handle; nothing is sent."""

    async def token() -> str:
        raise RuntimeError("refresh failed")

    with pytest.raises(RuntimeError, match="refresh failed"):
        await make(token).check_token()
    assert api_requests(sandbox) == []


async def test_unknown_token_is_auth_error(sandbox: Sandbox, make: MakeClient) -> None:
    """401 "Unauthenticated." is an auth error; a revoked OAuth token too."""
    with pytest.raises(CommHubAuthError, match=r"^Unauthenticated\.$"):
        await make("not-a-token").check_token()
    token = sandbox.mobiniti.issue_token()["access_token"]
    sandbox.mobiniti.revoke_token(token)
    with pytest.raises(CommHubAuthError):
        await make(token).incoming_messages(datetime.now(UTC))


async def test_missing_scope_is_request_error_403(
    sandbox: Sandbox, make: MakeClient
) -> None:
    """A token without the route's scope gets 403 "Invalid scope(s) provided."."""
    token = sandbox.mobiniti.issue_token(["messages.view"])["access_token"]
    client = make(token)
    await client.check_token()
    with pytest.raises(CommHubRequestError) as err:
        await client.contacts_by_update()
    assert err.value.status == 403
    assert err.value.message == "Invalid scope(s) provided."
    with pytest.raises(CommHubRequestError) as err:
        await client.send_message(SEED_JOHN, "Hi")
    assert err.value.status == 403
    assert [r.status for r in api_requests(sandbox)] == [200, 403, 403]


async def test_requested_scopes_cover_every_call(
    sandbox: Sandbox, make: MakeClient
) -> None:
    """SCOPES are documented scopes, and a token with just them can do it all."""
    assert set(SCOPES) <= ALL_SCOPES
    assert len(set(SCOPES)) == len(SCOPES)
    client = make(sandbox.mobiniti.issue_token(SCOPES)["access_token"])
    now = datetime.now(UTC)
    await client.check_token()
    await client.incoming_messages(now - timedelta(days=1))
    await client.contacts_by_update()
    await client.send_message(SEED_JOHN, "Hi")
    await client.send_batch([SEED_JOHN, SEED_LEE], "Hi all")
    await client.schedule_message(SEED_LEE, "Later", now + timedelta(hours=1))
    assert await client.unsubscribe([SEED_LEE]) == 1
    assert len(await client.lookup_carriers([SEED_JOHN])) == 1
    assert {r.status for r in api_requests(sandbox)} <= {200, 201}


# -- lists -----------------------------------------------------------------------


async def test_incoming_messages_filter_and_paging(
    sandbox: Sandbox, make: MakeClient
) -> None:
    """Inbound since `since` only, oldest first, 100 a page, page 2 from meta."""
    now = datetime.now(UTC)
    since = (now - timedelta(hours=1)).replace(microsecond=123456)
    before = sandbox.mobiniti.add_inbound(
        SEED_JOHN, "too old", at=since - timedelta(seconds=1)
    )
    sandbox.mobiniti.send_message(
        SEED_JOHN, "outgoing", at=since + timedelta(minutes=1)
    )
    senders = numbers(4)
    added = [
        sandbox.mobiniti.add_inbound(
            senders[k % 4], f"text {k}", at=since + timedelta(seconds=k, milliseconds=7)
        )
        for k in range(101)
    ]
    client = make()

    first = await client.incoming_messages(since)
    assert len(first.items) == 100
    assert first.malformed == []
    assert first.next_page == 2
    second = await client.incoming_messages(since, first.next_page)
    assert second.next_page is None
    received = [*first.items, *second.items]
    assert [m.id for m in received] == [m["id"] for m in added]
    assert before["id"] not in {m.id for m in received}

    message = received[5]
    assert message.message == "text 5"
    assert message.phone_number == senders[1]
    assert message.contact_id == sandbox.mobiniti.contact(senders[1]).id
    assert message.created_at == since.replace(microsecond=123000) + timedelta(
        seconds=5, milliseconds=7
    )
    assert message.created_at.tzinfo is UTC

    request = api_requests(sandbox)[0]
    assert dict(request.query) == {
        "filter[type]": "INCOMING_ALL",
        "filter[created_at_min]": format_mobiniti_time(since),
        "sort": "created_at",
        "limit": "100",
        "page": "1",
    }
    assert api_requests(sandbox)[1].query["page"] == "2"


async def test_incoming_messages_since_now_is_empty(make: MakeClient) -> None:
    """Nothing came in after now: one empty last page."""
    page = await make().incoming_messages(datetime.now(UTC) + timedelta(seconds=1))
    assert (page.items, page.malformed, page.next_page) == ([], [], None)


async def test_contacts_newest_update_first(sandbox: Sandbox, make: MakeClient) -> None:
    """sort=-updated_at puts a contact unsubscribed just now first, with its time."""
    now = datetime.now(UTC).replace(microsecond=0)
    sandbox.mobiniti.unsubscribe_contact(SEED_JANE, at=now)
    page = await make().contacts_by_update()
    assert page.next_page is None
    assert page.malformed == []
    updated = [c.updated_at for c in page.items]
    assert updated == sorted(updated, reverse=True)
    jane = page.items[0]
    assert jane.phone_number == SEED_JANE
    assert (jane.first_name, jane.last_name) == ("Jane", "Doe")
    assert jane.email == "jane.doe@example.com"
    assert jane.unsubscribed_at == now
    assert jane.updated_at == now
    by_number = {c.phone_number: c for c in page.items}
    assert by_number[SEED_UNSUBSCRIBED].unsubscribed_at is not None
    assert by_number[SEED_UNSUBSCRIBED].first_name is None
    assert by_number[SEED_JOHN].unsubscribed_at is None
    [request] = api_requests(sandbox)
    assert dict(request.query) == {"sort": "-updated_at", "limit": "100", "page": "1"}


async def test_contacts_page_two(sandbox: Sandbox, make: MakeClient) -> None:
    """More than 100 contacts: the next page number comes from links.next."""
    for number in numbers(100):
        sandbox.mobiniti.add_contact(number)
    client = make()
    first = await client.contacts_by_update()
    assert (len(first.items), first.next_page) == (100, 2)
    second = await client.contacts_by_update(2)
    assert (len(second.items), second.next_page) == (5, None)


async def test_malformed_records_are_skipped(
    sandbox: Sandbox, make: MakeClient
) -> None:
    """A record with a field of the wrong type lands in `malformed`, not an error."""
    now = datetime.now(UTC)
    good = sandbox.mobiniti.add_inbound(SEED_JOHN, "fine", at=now)
    bad = sandbox.mobiniti.add_inbound(SEED_JOHN, "broken", at=now)
    sandbox.mobiniti.messages[bad["id"]].message = 42  # type: ignore[assignment]
    page = await make().incoming_messages(now - timedelta(seconds=1))
    assert [m.id for m in page.items] == [good["id"]]
    assert page.malformed == [MalformedRecord(bad["id"], "message")]

    contact = sandbox.mobiniti.contact(SEED_LEE)
    contact.email = ["not", "an", "email"]  # type: ignore[assignment]
    contacts = await make().contacts_by_update()
    assert contacts.malformed == [MalformedRecord(contact.id, "email")]
    assert SEED_LEE not in {c.phone_number for c in contacts.items}
    assert len(contacts.items) == len(sandbox.mobiniti.contacts) - 1


@pytest.mark.parametrize(
    ("pagination", "page", "expected"),
    [
        ({"links": {"next": "https://x/v1/groups?limit=2&page=3"}}, 2, 3),
        ({"current_page": 1, "total_pages": 3, "links": {}}, 1, 2),
        ({"current_page": 3, "total_pages": 3, "links": {}}, 3, None),
        ({"current_page": 4, "total_pages": 3, "links": {"previous": "x"}}, 4, None),
        ({}, 1, None),
        (None, 1, None),
    ],
)
def test_next_page_from_pagination(
    pagination: dict[str, Any] | None, page: int, expected: int | None
) -> None:
    """links.next's page number, else current_page + 1 below total_pages."""
    body: dict[str, Any] = {"data": []}
    if pagination is not None:
        body["meta"] = {"pagination": pagination}
    assert mobiniti_api._next_page(body) == expected


@pytest.mark.parametrize(
    "links", [{"next": 5}, {"next": "https://x/v1/groups?limit=2"}, {"next": "?page=x"}]
)
def test_bad_next_links_are_response_errors(links: dict[str, Any]) -> None:
    """A next link that is not a URL with a page number is not guessed at."""
    with pytest.raises(CommHubResponseError):
        mobiniti_api._next_page({"meta": {"pagination": {"links": links}}})


# -- sending ---------------------------------------------------------------------


async def test_send_message(sandbox: Sandbox, make: MakeClient) -> None:
    """POST /v1/message {"phone_number", "message"} → the message's id and number."""
    sent = await make().send_message(SEED_JOHN, "Your order is ready")
    [request] = api_requests(sandbox)
    assert (request.method, request.path, request.status) == (
        "POST",
        "/v1/message",
        201,
    )
    assert body_of(request) == {
        "phone_number": SEED_JOHN,
        "message": "Your order is ready",
    }
    assert sent.phone_number == SEED_JOHN
    assert sent.id is not None
    assert sandbox.mobiniti.messages[sent.id].message == "Your order is ready"


async def test_send_batch(sandbox: Sandbox, make: MakeClient) -> None:
    """POST /v1/message/batch {"phone_numbers", "message"} → one result a number."""
    to = [SEED_JOHN, SEED_LEE, "+13035550199"]
    sent = await make().send_batch(to, "Sale today")
    [request] = api_requests(sandbox)
    assert (request.path, request.status) == ("/v1/message/batch", 201)
    assert body_of(request) == {"phone_numbers": to, "message": "Sale today"}
    assert [s.phone_number for s in sent] == to
    assert all(s.id in sandbox.mobiniti.messages for s in sent)
    assert MAX_BATCH == 100


async def test_empty_lists_send_nothing(sandbox: Sandbox, make: MakeClient) -> None:
    """No numbers, no request."""
    client = make()
    assert await client.send_batch([], "x") == []
    assert await client.unsubscribe([]) == 0
    assert await client.lookup_carriers([]) == []
    assert api_requests(sandbox) == []


async def test_schedule_message(sandbox: Sandbox, make: MakeClient) -> None:
    """send_at goes out as UTC with milliseconds and "Z"; the answer is parsed."""
    send_at = datetime(
        2031, 5, 17, 20, 30, 15, 987654, tzinfo=timezone(timedelta(hours=2))
    )
    scheduled = await make().schedule_message(SEED_LEE, "Reminder", send_at)
    [request] = api_requests(sandbox)
    assert (request.path, request.status) == ("/v1/message/schedule", 201)
    assert body_of(request) == {
        "phone_number": SEED_LEE,
        "message": "Reminder",
        "send_at": "2031-05-17T18:30:15.987Z",
    }
    assert scheduled.phone_number == SEED_LEE
    assert scheduled.send_at == datetime(2031, 5, 17, 18, 30, 15, 987000, tzinfo=UTC)
    assert sandbox.mobiniti.scheduled[scheduled.id].message == "Reminder"


async def test_schedule_naive_time_is_refused_before_sending(
    sandbox: Sandbox, make: MakeClient
) -> None:
    """A naive send_at has no zone to convert from: ValueError, nothing sent."""
    with pytest.raises(ValueError, match="time zone"):
        await make().schedule_message(SEED_LEE, "x", datetime(2031, 1, 1, 12, 0))
    assert api_requests(sandbox) == []


async def test_validation_error_names_the_field(
    sandbox: Sandbox, make: MakeClient
) -> None:
    """422: the message, then each field's messages."""
    client = make()
    with pytest.raises(CommHubRequestError) as err:
        await client.send_message(SEED_UNSUBSCRIBED, "Flash sale")
    assert err.value.status == 422
    assert err.value.message == (
        "A validation error occurred: phone_number: The contact has unsubscribed."
    )
    with pytest.raises(CommHubRequestError) as err:
        await client.send_batch([SEED_JOHN, "12345"], "")
    assert err.value.message == (
        "A validation error occurred: "
        "phone_numbers.1: The phone_numbers.1 must be a valid E.164 phone number.; "
        "message: The message field is required."
    )


async def test_payment_required(sandbox: Sandbox, make: MakeClient) -> None:
    """402 is its own error, with the document's message; nothing is sent."""
    sandbox.mobiniti.payment_required = True
    before = len(sandbox.mobiniti.messages)
    with pytest.raises(
        CommHubPaymentRequiredError,
        match=r"^You need to pay for campaign or contact messages\.$",
    ):
        await make().send_message(SEED_JOHN, "Hi")
    assert len(sandbox.mobiniti.messages) == before


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {
                "status": 422,
                "message": "A validation error occurred",
                "errors": {"phone_number": ["The contact already exists."]},
            },
            "A validation error occurred: phone_number: The contact already exists.",
        ),
        (
            {"status": 400, "message": "Bad.", "errors": {}},
            "Bad.",
        ),
        (
            {"message": "Two.", "errors": {"a": ["x", "y"], "b": "z", "c": [1]}},
            "Two.: a: x; a: y; b: z",
        ),
        ({"errors": {"a": ["x"]}}, "a: x"),
        ([1, 2], "[1, 2]"),
        ({}, "{}"),
    ],
)
def test_error_message(body: Any, message: str) -> None:
    """The body's message and field errors; raw text when neither is there."""
    client = MobinitiClient(None, "t")  # type: ignore[arg-type]
    response = RawResponse(
        422, CIMultiDictProxy(CIMultiDict()), json.dumps(body).encode()
    )
    assert client._error_message(response) == message


# -- answers the sandbox never gives -----------------------------------------------

type Call = Callable[[MobinitiClient], Awaitable[Any]]


@pytest.fixture
async def canned(
    hass: HomeAssistant, socket_enabled: None
) -> AsyncIterator[tuple[dict[str, Any], MobinitiClient]]:
    """A server answering 200 with `answers[path]` as JSON, and a client of it."""
    answers: dict[str, Any] = {}

    async def handler(request: web.Request) -> web.Response:
        return web.json_response(answers[request.path])

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    server = TestServer(app, host="127.0.0.1", access_log=None)
    await server.start_server()
    client = MobinitiClient(
        async_get_clientsession(hass), "t", str(server.make_url("")), route_interval=0
    )
    yield answers, client
    await server.close()


NOW = datetime.now(UTC)
BROKEN: list[tuple[str, Any, Call, str]] = [
    ("/v1/messages", {}, lambda c: c.incoming_messages(NOW), "list without data"),
    ("/v1/contacts", {"data": {}}, lambda c: c.contacts_by_update(), "without data"),
    (
        "/v1/contacts",
        {
            "data": [],
            "meta": {"pagination": {"links": {"next": "/v1/contacts?page=2"}}},
        },
        lambda c: c.contacts_by_update(2),
        "goes backwards",
    ),
    (
        "/v1/phone-numbers/lookup",
        {"data": ["+12"]},
        lambda c: c.lookup_carriers(["+12"]),
        "list of results",
    ),
]


@pytest.mark.parametrize(("path", "answer", "call", "error"), BROKEN)
async def test_broken_answers_are_response_errors(
    canned: tuple[dict[str, Any], MobinitiClient],
    path: str,
    answer: Any,
    call: Call,
    error: str,
) -> None:
    """An answer without the documented shape is a response error, not a crash."""
    answers, client = canned
    answers[path] = answer
    with pytest.raises(CommHubResponseError, match=error):
        await call(client)


ODD_ANSWERS: list[tuple[str, Any, Call, Any]] = [
    (
        "/v1/message",
        {},
        lambda c: c.send_message("+12", "x"),
        MobinitiSent(None, "+12"),
    ),
    (
        "/v1/message",
        {"data": {"id": 5}},
        lambda c: c.send_message("+12", "x"),
        MobinitiSent(None, "+12"),
    ),
    (
        "/v1/message",
        {"id": "m1", "phone_number": "+12"},
        lambda c: c.send_message("+12", "x"),
        MobinitiSent("m1", "+12"),
    ),
    (
        "/v1/message/batch",
        {"data": {"id": "m"}},
        lambda c: c.send_batch(["+12", "+13"], "x"),
        [MobinitiSent(None, "+12"), MobinitiSent(None, "+13")],
    ),
    (
        "/v1/message/batch",
        [{"id": "a"}],
        lambda c: c.send_batch(["+12", "+13"], "x"),
        [MobinitiSent("a", "+12"), MobinitiSent(None, "+13")],
    ),
    (
        "/v1/message/schedule",
        {"data": None},
        lambda c: c.schedule_message("+12", "x", NOW),
        MobinitiScheduled(None, "+12", None),
    ),
    (
        "/v1/message/schedule",
        {"data": {"id": "s", "send_at": "tomorrow"}},
        lambda c: c.schedule_message("+12", "x", NOW),
        MobinitiScheduled("s", "+12", None),
    ),
    (
        "/v1/contacts/unsubscribe",
        {"unsubscribed": "3"},
        lambda c: c.unsubscribe(["+12", "+13"]),
        2,
    ),
    ("/v1/contacts/unsubscribe", {"data": {}}, lambda c: c.unsubscribe(["+12"]), 1),
]


@pytest.mark.parametrize(("path", "answer", "call", "expected"), ODD_ANSWERS)
async def test_a_write_mobiniti_accepted_is_done_whatever_its_answer(
    canned: tuple[dict[str, Any], MobinitiClient],
    path: str,
    answer: Any,
    call: Call,
    expected: Any,
) -> None:
    """A 2xx to a send means sent: an answer of another shape never fails it."""
    answers, client = canned
    answers[path] = answer
    assert await call(client) == expected


async def test_records_with_bad_times_are_malformed(
    canned: tuple[dict[str, Any], MobinitiClient],
) -> None:
    """A missing, naive or unreadable time makes the record malformed."""
    answers, client = canned
    fine = {"id": "ok", "created_at": "2026-01-02T10:00:00.000Z"}
    answers["/v1/messages"] = {
        "data": [
            fine,
            {"id": "m1"},
            {"id": "m2", "created_at": "2026-01-02T10:00:00"},
            {"id": "m3", "created_at": "soon"},
            {"created_at": "2026-01-02T10:00:00.000Z"},
            "not a record",
        ],
        "meta": {"pagination": {"current_page": 1, "total_pages": 1, "links": {}}},
    }
    page = await client.incoming_messages(NOW)
    assert [m.id for m in page.items] == ["ok"]
    assert page.items[0].contact_id is None
    assert page.malformed == [
        MalformedRecord("m1", "created_at"),
        MalformedRecord("m2", "created_at"),
        MalformedRecord("m3", "created_at"),
        MalformedRecord(None, "id"),
        MalformedRecord(None, "record"),
    ]
    answers["/v1/contacts"] = {
        "data": [{"id": "c1", "updated_at": "x"}, {"id": "c2", "unsubscribed_at": 1}]
    }
    contacts = await client.contacts_by_update()
    assert contacts.malformed == [
        MalformedRecord("c1", "updated_at"),
        MalformedRecord("c2", "unsubscribed_at"),
    ]


async def test_route_throttle_forgets_free_routes() -> None:
    """Routes whose turn has passed are dropped once there are many."""
    clock = FakeClock()
    throttle = RouteThrottle(1.0, clock=clock)
    for n in range(70):
        throttle.done(f"GET /v1/contacts/{n}")
    clock.now += 5
    await throttle.wait("GET /v1/messages")
    assert list(throttle._ready) == ["GET /v1/messages"]


# -- unsubscribe and lookup ------------------------------------------------------


async def test_unsubscribe_in_chunks_of_100(sandbox: Sandbox, make: MakeClient) -> None:
    """250 numbers: three PATCHes of 100, 100 and 50; the counts add up."""
    to = numbers(250)
    for number in to[:240]:  # the last ten are no contacts: skipped, not errors
        sandbox.mobiniti.add_contact(number)
    sandbox.mobiniti.unsubscribe_contact(to[0])  # already unsubscribed: not counted
    assert await make().unsubscribe(to) == 239
    requests = api_requests(sandbox)
    assert [(r.method, r.path, r.status) for r in requests] == [
        ("PATCH", "/v1/contacts/unsubscribe", 200)
    ] * 3
    bodies = [body_of(r) for r in requests]
    assert bodies == [
        {"phone_numbers": to[:100]},
        {"phone_numbers": to[100:200]},
        {"phone_numbers": to[200:]},
    ]
    assert MAX_UNSUBSCRIBE == 100
    assert not sandbox.mobiniti.contact(to[239]).subscribed


async def test_lookup_in_chunks_of_10(sandbox: Sandbox, make: MakeClient) -> None:
    """25 numbers: three POSTs of 10, 10 and 5; results in the numbers' order."""
    to = numbers(25, "415")
    results = await make().lookup_carriers(to)
    assert [r["phone_number"] for r in results] == to
    assert all(set(r["carrier"]) == {"id", "name"} for r in results)
    requests = api_requests(sandbox)
    assert [(r.path, len(body_of(r)["phone_numbers"])) for r in requests] == [
        ("/v1/phone-numbers/lookup", 10),
        ("/v1/phone-numbers/lookup", 10),
        ("/v1/phone-numbers/lookup", 5),
    ]
    assert MAX_LOOKUP == 10


# -- rate limit ------------------------------------------------------------------


async def test_tight_loop_is_spaced_and_never_refused(
    sandbox: Sandbox, make: MakeClient
) -> None:
    """With the sandbox's 1 request per interval per route on, a loop of calls to
    one route is spaced by the interval and gets no 429."""
    interval = 0.05
    sandbox.mobiniti.rate_limit_enabled = True
    sandbox.mobiniti.per_route_interval = interval
    client = make(route_interval=interval)
    calls = 6
    start = time.monotonic()
    for _ in range(calls):
        await client.check_token()
    elapsed = time.monotonic() - start
    assert [r.status for r in api_requests(sandbox)] == [200] * calls
    assert sandbox.mobiniti.throttled == 0
    assert (calls - 1) * interval <= elapsed < (calls - 1) * interval + 0.2


async def test_concurrent_calls_queue_in_order(
    sandbox: Sandbox, make: MakeClient
) -> None:
    """Calls to one route made at once go one per interval, in call order."""
    interval = 0.05
    sandbox.mobiniti.rate_limit_enabled = True
    sandbox.mobiniti.per_route_interval = interval
    client = make(route_interval=interval)
    to = numbers(5, "212")
    start = time.monotonic()
    await asyncio.gather(*(client.send_message(n, "Hi") for n in to))
    elapsed = time.monotonic() - start
    requests = api_requests(sandbox)
    assert [r.status for r in requests] == [201] * 5
    assert [body_of(r)["phone_number"] for r in requests] == to
    assert elapsed >= 4 * interval
    assert sandbox.mobiniti.throttled == 0


async def test_routes_do_not_wait_for_each_other(
    sandbox: Sandbox, make: MakeClient
) -> None:
    """Different routes (method + path) have their own turns; the same path with
    another query is the same route."""
    sandbox.mobiniti.rate_limit_enabled = True
    sandbox.mobiniti.per_route_interval = 30.0
    client = make(route_interval=30.0)
    start = time.monotonic()
    await client.check_token()  # GET /v1/messages
    await client.contacts_by_update()  # GET /v1/contacts
    await client.send_message(SEED_JOHN, "Hi")  # POST /v1/message
    await client.send_batch([SEED_JOHN], "Hi")  # POST /v1/message/batch
    await client.lookup_carriers([SEED_JOHN])  # POST /v1/phone-numbers/lookup
    assert time.monotonic() - start < 1.0
    assert sandbox.mobiniti.throttled == 0
    sent = len(api_requests(sandbox))
    with pytest.raises(TimeoutError):  # GET /v1/messages again: its turn is 30 s away
        await asyncio.wait_for(client.incoming_messages(datetime.now(UTC)), 0.1)
    assert len(api_requests(sandbox)) == sent


async def test_route_throttle_reserves_slots_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each caller of a key takes the next free slot; other keys are free."""
    clock = FakeClock()
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    throttle = RouteThrottle(2.0, clock=clock)
    await throttle.wait("GET /v1/messages")
    await throttle.wait("GET /v1/messages")
    await throttle.wait("GET /v1/messages")
    await throttle.wait("GET /v1/contacts")
    assert slept == [2.0, 4.0]  # at 1002 and 1004; /v1/contacts at once

    clock.now += 10  # the reserved slots have passed
    await throttle.wait("GET /v1/messages")
    assert slept == [2.0, 4.0]
    clock.now += 0.5
    throttle.done("GET /v1/messages")  # answered at 1010.5: next not before 1012.5
    await throttle.wait("GET /v1/messages")
    assert slept == [2.0, 4.0, 2.0]


async def test_route_throttle_uses_monotonic_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without a clock it reads time.monotonic at call time."""
    now = [500.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    throttle = RouteThrottle()
    assert throttle.interval == 1.0
    await throttle.wait("k")
    now[0] += 1.0
    start = time.perf_counter()
    await throttle.wait("k")  # exactly one interval later: no wait
    assert time.perf_counter() - start < 0.5


async def test_429_holds_every_request_until_retry_after(
    sandbox: Sandbox, make: MakeClient
) -> None:
    """A 429 with Retry-After: 30 is a rate-limited error; nothing goes out (on any
    route) until the 30 seconds have passed."""
    clock = FakeClock()
    client = make(clock=clock)
    sandbox.mobiniti.add_fault(Fault(kind="rate_limit", retry_after=30))
    with pytest.raises(CommHubRateLimitedError) as err:
        await client.check_token()
    assert err.value.retry_after == 30
    clock.now += 29.5
    with pytest.raises(CommHubRateLimitedError) as err:
        await client.send_message(SEED_JOHN, "Hi")
    assert err.value.retry_after == pytest.approx(0.5)
    assert [r.status for r in api_requests(sandbox)] == [429]
    clock.now += 0.5
    await client.send_message(SEED_JOHN, "Hi")
    assert [r.status for r in api_requests(sandbox)] == [429, 201]


async def test_unthrottled_client_meets_the_sandbox_limit(
    sandbox: Sandbox, make: MakeClient
) -> None:
    """Without the throttle the second call in a second is refused with
    Retry-After: 1, and the client then holds back every route."""
    sandbox.mobiniti.rate_limit_enabled = True
    clock = FakeClock()
    client = make(route_interval=0.0, clock=clock)
    await client.check_token()
    with pytest.raises(CommHubRateLimitedError) as err:
        await client.check_token()
    assert err.value.retry_after == 1
    with pytest.raises(CommHubRateLimitedError):
        await client.contacts_by_update()
    assert [r.status for r in api_requests(sandbox)] == [200, 429]
    assert sandbox.mobiniti.requests[-1].status == 429


# -- helpers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "2016-07-01T15:11:09.553Z",
            datetime(2016, 7, 1, 15, 11, 9, 553000, tzinfo=UTC),
        ),
        ("2014-07-10T00:01:01+0000", datetime(2014, 7, 10, 0, 1, 1, tzinfo=UTC)),
        ("2015-06-29T12:40:05+00:00", datetime(2015, 6, 29, 12, 40, 5, tzinfo=UTC)),
        ("2020-01-01T02:00:00+0200", datetime(2020, 1, 1, 0, 0, tzinfo=UTC)),
        ("2020-01-01T00:00:00-05:30", datetime(2020, 1, 1, 5, 30, tzinfo=UTC)),
    ],
)
def test_parse_mobiniti_time(value: str, expected: datetime) -> None:
    """ "Z", "+0000" and "+00:00" forms, always returned in UTC."""
    parsed = parse_mobiniti_time(value)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "value", ["2016-07-01T15:11:09", "2016-07-01", "yesterday", "", None, 1467385869]
)
def test_parse_mobiniti_time_refuses(value: Any) -> None:
    """Naive times and anything not ISO 8601 are ValueErrors."""
    with pytest.raises(ValueError):  # noqa: PT011
        parse_mobiniti_time(value)


def test_format_mobiniti_time() -> None:
    """UTC, milliseconds (truncated), "Z"; round trips through the parser."""
    moment = datetime(
        2016, 7, 1, 17, 11, 9, 553999, tzinfo=timezone(timedelta(hours=2))
    )
    assert format_mobiniti_time(moment) == "2016-07-01T15:11:09.553Z"
    assert format_mobiniti_time(datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)) == (
        "2030-01-02T03:04:05.000Z"
    )
    assert parse_mobiniti_time(format_mobiniti_time(moment)) == moment.replace(
        microsecond=553000
    )
    with pytest.raises(ValueError, match="time zone"):
        format_mobiniti_time(datetime(2016, 7, 1, 15, 11, 9))


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("+12025550101", True),
        ("+4670123456789", True),
        ("+12", True),
        ("+123456789012345", True),
        ("+1234567890123456", False),  # 16 digits
        ("+1", False),
        ("+02025550101", False),
        ("12025550101", False),
        ("+1 202 555 0101", False),
        ("+12025550101\n", False),
        ("", False),
    ],
)
def test_is_e164(number: str, valid: bool) -> None:
    """`+`, a non-zero digit, 2-15 digits in all; nothing else."""
    assert is_e164(number) is valid
