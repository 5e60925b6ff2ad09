"""The shared HTTP layer: status mapping, timeouts, Retry-After, concurrency bound."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from email.utils import formatdate
import time

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer, unused_port
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import pytest

from custom_components.commhub.api import (
    CommHubApiError,
    CommHubAuthError,
    CommHubConnectionError,
    CommHubNotFoundError,
    CommHubPaymentRequiredError,
    CommHubRateLimitedError,
    CommHubRequestError,
    CommHubResponseError,
)
from custom_components.commhub.api.hipmob import HipmobClient
from custom_components.commhub.api.http import HttpClient, parse_retry_after
from sandbox import Fault, Sandbox

from .conftest import API_KEY

type Answers = dict[str, tuple[int, dict[str, str], bytes]]


@asynccontextmanager
async def serve(answers: Answers) -> AsyncIterator[tuple[str, list[str]]]:
    """Serve `answers` (path -> status, headers, body) on 127.0.0.1.

    Yields the base URL and the list of paths requested so far.
    """
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.path)
        status, headers, body = answers[request.path]
        return web.Response(status=status, headers=headers, body=body)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/"), seen
    finally:
        await server.close()


class FakeClock:
    """A monotonic clock that only moves when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def canned(socket_enabled: None) -> AsyncIterator[tuple[str, Answers, list[str]]]:
    """A server answering each path with what the test put in `answers`."""
    answers: Answers = {}
    async with serve(answers) as (url, seen):
        yield url, answers, seen


@pytest.fixture
async def hipmob(hass: HomeAssistant, sandbox_url: str) -> Callable[..., HipmobClient]:
    """Make a client of the sandbox's `femi` (keyword arguments go to the client)."""
    session = async_get_clientsession(hass)

    def make(**kwargs: object) -> HipmobClient:
        return HipmobClient(session, "femi", API_KEY, f"{sandbox_url}/hipmob", **kwargs)

    return make


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (301, CommHubConnectionError),
        (302, CommHubConnectionError),
        (307, CommHubConnectionError),
        (400, CommHubRequestError),
        (401, CommHubAuthError),
        (402, CommHubPaymentRequiredError),
        (403, CommHubRequestError),
        (404, CommHubNotFoundError),
        (409, CommHubRequestError),
        (415, CommHubRequestError),
        (500, CommHubConnectionError),
        (502, CommHubConnectionError),
        (503, CommHubConnectionError),
    ],
)
async def test_status_mapping(
    hass: HomeAssistant,
    canned: tuple[str, Answers, list[str]],
    status: int,
    error: type[CommHubApiError],
) -> None:
    """Each error status raises its own exception, never anything looser."""
    url, answers, seen = canned
    answers["/thing"] = (status, {"Location": f"{url}/elsewhere"}, b"The reason.")
    answers["/elsewhere"] = (200, {}, b"{}")
    client = HttpClient(async_get_clientsession(hass), url)
    with pytest.raises(CommHubApiError) as err:
        await client.request("GET", "/thing")
    assert type(err.value) is error
    if isinstance(err.value, CommHubRequestError):
        assert (err.value.status, err.value.message) == (status, "The reason.")
    assert seen == ["/thing"]  # a redirect is never followed


async def test_redirect_tells_to_use_https(
    hass: HomeAssistant, canned: tuple[str, Answers, list[str]]
) -> None:
    """The API redirects plain HTTP: say what to do instead of following it."""
    url, answers, _ = canned
    answers["/apps"] = (301, {"Location": "https://api.hipmob.com/apps"}, b"")
    client = HttpClient(async_get_clientsession(hass), url)
    with pytest.raises(CommHubConnectionError, match="HTTP 301: use an https base URL"):
        await client.request("GET", "/apps")


async def test_error_message_from_body(
    hass: HomeAssistant, canned: tuple[str, Answers, list[str]]
) -> None:
    """The body explains an error (trimmed, at most 300 characters), or the status."""
    url, answers, _ = canned
    answers["/long"] = (400, {}, b"  " + b"x" * 400 + b"\n")
    answers["/empty"] = (418, {}, b"")
    client = HttpClient(async_get_clientsession(hass), url)
    with pytest.raises(CommHubRequestError) as err:
        await client.request("GET", "/long")
    assert err.value.message == "x" * 300
    with pytest.raises(CommHubRequestError) as err:
        await client.request("GET", "/empty")
    assert (err.value.status, str(err.value)) == (418, "HTTP 418")


async def test_success_and_json(
    hass: HomeAssistant, canned: tuple[str, Answers, list[str]]
) -> None:
    """A 2xx returns status, headers and body; JSON must be an object."""
    url, answers, seen = canned
    answers["/obj"] = (200, {"Content-Type": "application/vnd.x+json"}, b'{"a": 1}')
    answers["/list"] = (200, {}, b"[1, 2]")
    answers["/text"] = (201, {"X-Thing": "yes"}, "Café \xff".encode("latin-1"))
    client = HttpClient(async_get_clientsession(hass), f"{url}/")
    response = await client.request("GET", "/obj")
    assert response.json_object() == {"a": 1}
    assert seen == ["/obj"]  # the base URL's trailing slash is not doubled
    with pytest.raises(CommHubResponseError, match="not a JSON object"):
        (await client.request("GET", "/list")).json_object()
    response = await client.request("GET", "/text")
    assert (response.status, response.headers["X-Thing"]) == (201, "yes")
    assert response.text == "Caf\ufffd \ufffd"
    with pytest.raises(CommHubResponseError, match="not JSON"):
        response.json_object()


async def test_server_errors_are_connection_errors(
    sandbox: Sandbox, hipmob: Callable[..., HipmobClient]
) -> None:
    """5xx from the service means it cannot be used right now."""
    client = hipmob()
    for status in (500, 503):
        sandbox.hipmob.add_fault(Fault(kind="error", status=status))
        with pytest.raises(CommHubConnectionError, match=f"^HTTP {status}$") as err:
            await client.list_apps()
        assert not isinstance(err.value, CommHubRateLimitedError)
    assert len(await client.list_apps()) == 2


async def test_timeout_is_connection_error(
    sandbox: Sandbox, hipmob: Callable[..., HipmobClient]
) -> None:
    """A service that holds the request past the timeout is a connection error."""
    sandbox.hipmob.add_fault(Fault(kind="timeout", delay=5))
    client = hipmob(timeout=0.2)
    loop = asyncio.get_running_loop()
    start = loop.time()
    with pytest.raises(CommHubConnectionError, match="timed out"):
        await client.list_apps()
    assert loop.time() - start < 4
    sandbox.hipmob.release_held()
    assert len(await client.list_apps()) == 2


@pytest.mark.usefixtures("socket_enabled")
async def test_connection_refused_is_connection_error(hass: HomeAssistant) -> None:
    """Nothing listening is a connection error, with aiohttp's error as the cause."""
    client = HttpClient(
        async_get_clientsession(hass), f"http://127.0.0.1:{unused_port()}"
    )
    with pytest.raises(CommHubConnectionError) as err:
        await client.request("GET", "/apps")
    assert isinstance(err.value.__cause__, aiohttp.ClientConnectionError)


async def test_rate_limit_blocks_until_retry_after(
    sandbox: Sandbox, hipmob: Callable[..., HipmobClient]
) -> None:
    """After a 429 with Retry-After: 30 nothing is sent for 30 seconds."""
    clock = FakeClock()
    client = hipmob(clock=clock)
    sandbox.hipmob.add_fault(Fault(kind="rate_limit", retry_after=30))
    with pytest.raises(CommHubRateLimitedError) as err:
        await client.list_apps()
    assert err.value.retry_after == 30
    assert [r.status for r in sandbox.hipmob.requests] == [429]

    clock.now += 29.5
    with pytest.raises(CommHubRateLimitedError) as err:
        await client.get_user("femi")  # every call, not only the one refused
    assert err.value.retry_after == pytest.approx(0.5)
    assert len(sandbox.hipmob.requests) == 1  # nothing reached the service

    clock.now += 0.5
    assert (await client.get_user("femi")).status == "online"
    assert [r.status for r in sandbox.hipmob.requests] == [429, 200]


async def test_rate_limit_without_retry_after_waits_a_minute(
    sandbox: Sandbox, hipmob: Callable[..., HipmobClient]
) -> None:
    """A 429 without Retry-After holds requests back for 60 seconds."""
    clock = FakeClock()
    client = hipmob(clock=clock)
    sandbox.hipmob.add_fault(Fault(kind="rate_limit", retry_after=None))
    with pytest.raises(CommHubRateLimitedError) as err:
        await client.list_apps()
    assert err.value.retry_after == 60
    clock.now += 59
    with pytest.raises(CommHubRateLimitedError):
        await client.list_apps()
    clock.now += 1
    assert len(await client.list_apps()) == 2
    assert len(sandbox.hipmob.requests) == 2


async def test_rate_limit_with_http_date(
    hass: HomeAssistant, canned: tuple[str, Answers, list[str]]
) -> None:
    """Retry-After as an HTTP date holds requests back until that time."""
    url, answers, seen = canned
    answers["/x"] = (
        429,
        {"Retry-After": formatdate(time.time() + 90, usegmt=True)},
        b"",
    )
    clock = FakeClock()
    client = HttpClient(async_get_clientsession(hass), url, clock=clock)
    with pytest.raises(CommHubRateLimitedError) as err:
        await client.request("GET", "/x")
    assert err.value.retry_after == pytest.approx(90, abs=2)
    clock.now += 85
    with pytest.raises(CommHubRateLimitedError):
        await client.request("GET", "/x")
    assert seen == ["/x"]


async def test_requests_queued_behind_a_429_are_not_sent(
    sandbox: Sandbox, hipmob: Callable[..., HipmobClient]
) -> None:
    """A request still waiting for a free slot when the 429 came is held back too."""
    sandbox.hipmob.latency = 0.05
    sandbox.hipmob.add_fault(Fault(kind="rate_limit", retry_after=30))
    client = hipmob(max_concurrency=1, clock=FakeClock())
    results = await asyncio.gather(
        client.get_user("femi"), client.get_user("tolu"), return_exceptions=True
    )
    assert [type(r) for r in results] == [CommHubRateLimitedError] * 2
    assert [r.status for r in sandbox.hipmob.requests] == [429]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("30", 30),
        (" 120 ", 120),
        ("0", 0),
        ("-5", 0),
        (formatdate(10_000 + 45, usegmt=True), 45),
        (formatdate(10_000 - 45, usegmt=True), 0),  # already past
        (None, 60),
        ("", 60),
        ("soon", 60),
        ("Wed, 99 Foo 2015 07:28:00 GMT", 60),
        ("inf", 60),
        ("nan", 60),
        ("1e999", 60),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float) -> None:
    """Delta-seconds or an HTTP date; anything unusable means 60 seconds."""
    assert parse_retry_after(value, now=10_000) == pytest.approx(seconds)


async def test_concurrency_bound(
    sandbox: Sandbox, hipmob: Callable[..., HipmobClient]
) -> None:
    """With max_concurrency=2 the service never sees more than 2 at once."""
    sandbox.hipmob.latency = 0.05
    in_flight = peak = 0
    handle = sandbox.hipmob.handle

    async def counting(
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            return await handle(request, handler)
        finally:
            in_flight -= 1

    sandbox.hipmob.handle = counting  # type: ignore[method-assign]
    client = hipmob(max_concurrency=2)
    loop = asyncio.get_running_loop()
    start = loop.time()
    users = await asyncio.gather(*(client.get_user("femi") for _ in range(6)))
    elapsed = loop.time() - start
    assert [u.status for u in users] == ["online"] * 6
    assert len(sandbox.hipmob.requests) == 6
    assert peak == 2
    assert elapsed >= 3 * 0.05 - 0.001
