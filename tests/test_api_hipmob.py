"""The Hipmob client against the sandbox: what each call sends and returns.

Calls run against both body variants of the sandbox: outcome texts in body, reason
phrase and `X-Hipmob-Reason`, and (as Hipmob may answer) without a body.
"""

import base64
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from aiohttp.test_utils import TestServer
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import pytest

from custom_components.commhub.api import (
    CommHubAuthError,
    CommHubNotFoundError,
    CommHubPaymentRequiredError,
    CommHubPermissionError,
    CommHubRequestError,
    CommHubResponseError,
)
from custom_components.commhub.api.hipmob import (
    HipmobApp,
    HipmobAppNotFoundError,
    HipmobClient,
    HipmobDevice,
    HipmobUser,
)
from sandbox import Fault, Sandbox

from .conftest import API_KEY, APP, FRIEND_1, FRIEND_2, JACK
from .test_api_http import Answers, serve

APP_2 = "1234567890abcdef1234567890abcdef"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR fake picture"


def _client(hass: HomeAssistant, url: str, api_key: str = API_KEY) -> HipmobClient:
    return HipmobClient(async_get_clientsession(hass), "femi", api_key, url)


@pytest.fixture(params=[False, True], ids=["body", "empty_body"])
def empty_body(request: pytest.FixtureRequest, sandbox: Sandbox) -> bool:
    """Both ways Hipmob answers: outcome texts with and without a body."""
    sandbox.hipmob.empty_body = request.param
    return bool(request.param)


@pytest.fixture
async def client(
    hass: HomeAssistant, sandbox_url: str, empty_body: bool
) -> HipmobClient:
    """A client of the seeded account `femi`, in each body variant."""
    return _client(hass, f"{sandbox_url}/hipmob")


def _messages(sandbox: Sandbox, device: str, app: str = APP) -> list[tuple[str, bytes]]:
    return [
        (m.content_type, m.body) for m in sandbox.hipmob.device(app, device).messages
    ]


async def test_requests_carry_basic_auth(
    client: HipmobClient, sandbox: Sandbox
) -> None:
    """Every request authenticates with the account name and its API key."""
    await client.list_apps()
    await client.get_user("femi")
    expected = "Basic " + base64.b64encode(f"femi:{API_KEY}".encode()).decode()
    assert [r.headers["Authorization"] for r in sandbox.hipmob.requests] == [
        expected,
        expected,
    ]


async def test_list_apps(
    hass: HomeAssistant, client: HipmobClient, sandbox_url: str
) -> None:
    """The vendor JSON content type is parsed; an account may have no apps."""
    assert await client.list_apps() == [
        HipmobApp(APP, "Hipmob Testing", "hipmobtest.com"),
        HipmobApp(APP_2, "Testing 3", "https://manage.hipmob.com/"),
    ]
    ade = HipmobClient(
        async_get_clientsession(hass),
        "ade",
        "ade-sandbox-key",
        f"{sandbox_url}/hipmob",
    )
    assert await ade.list_apps() == []


async def test_wrong_key_is_auth_error(
    hass: HomeAssistant, sandbox_url: str, empty_body: bool
) -> None:
    """A refused key raises CommHubAuthError with the API's reason."""
    client = _client(hass, f"{sandbox_url}/hipmob", api_key="wrong")
    with pytest.raises(CommHubAuthError, match=r"^Unauthorized$"):
        await client.list_apps()


async def test_payment_required(client: HipmobClient, sandbox: Sandbox) -> None:
    """A 402 is its own error, not an authentication failure."""
    sandbox.hipmob.set_payment_required("femi", True)
    with pytest.raises(CommHubPaymentRequiredError) as err:
        await client.list_apps()
    assert not isinstance(err.value, CommHubAuthError)
    assert str(err.value) == "The request failed despite valid authentication."


async def test_get_device(client: HipmobClient, sandbox: Sandbox) -> None:
    """Details of a connected device; None for one that never connected."""
    device = await client.get_device(APP, JACK)
    assert device == HipmobDevice(
        id=JACK,
        platform="android",
        version="8",
        userdata={
            "locale": "US",
            "lastcontext": "On the Carrier",
            "name": "Jack Hawksmoor",
            "email": "jack.hawksmoor@theauthority.com",
        },
    )
    assert device.name == "Jack Hawksmoor"
    assert await client.get_device(APP, "never-seen") is None
    # Messages were queued for it (autocreate), but it has never connected itself.
    sandbox.hipmob.send_message(APP, "queued-only", "hello")
    assert await client.get_device(APP, "queued-only") is None


async def test_get_device_without_userdata_name(
    client: HipmobClient, sandbox: Sandbox
) -> None:
    """A device whose host application reported no name has none."""
    sandbox.hipmob.add_device(APP, "kiosk", platform="iOS", version="17")
    device = await client.get_device(APP, "kiosk")
    assert device is not None
    assert (device.platform, device.version, device.name) == ("iOS", "17", None)


async def test_get_device_of_unknown_app(client: HipmobClient) -> None:
    """An app the account does not have is an error, not a missing device."""
    with pytest.raises(HipmobAppNotFoundError) as err:
        await client.get_device("0" * 32, JACK)
    assert err.value.status == 404
    assert err.value.message == "Application not found."


async def test_every_call_recognises_an_unknown_app(
    client: HipmobClient, sandbox: Sandbox
) -> None:
    """A deleted app is recognised whichever call meets it first."""
    del sandbox.hipmob.apps[APP]
    calls: list[Callable[[], Awaitable[object]]] = [
        lambda: client.get_device(APP, JACK),
        lambda: client.device_online(APP, JACK),
        lambda: client.pending_messages(APP, JACK),
        lambda: client.send_text(APP, [JACK], "hi", autocreate=True),
        lambda: client.send_text(APP, [JACK, FRIEND_1], "hi", autocreate=True),
        lambda: client.send_content(APP, JACK, PNG, "image/png", autocreate=True),
        lambda: client.change_friends(APP, JACK, "PUT", [FRIEND_1]),
        lambda: client.remove_friend(APP, JACK, FRIEND_1),
    ]
    for call in calls:
        with pytest.raises(HipmobAppNotFoundError, match=r"^Application not found\.$"):
            await call()


async def test_identifiers_cannot_change_the_path(
    client: HipmobClient, sandbox: Sandbox
) -> None:
    """Slashes, `?` and `#` in a device id stay inside its path segment."""
    assert await client.get_device(APP, "a/b?c=d#e") is None
    request = sandbox.hipmob.requests[-1]
    assert request.path == f"/apps/{APP}/devices/a/b?c=d#e"
    assert not request.query
    assert request.status == 404


async def test_device_online(client: HipmobClient, sandbox: Sandbox) -> None:
    """Online status; a device that never connected is offline."""
    assert await client.device_online(APP, JACK) is True
    assert await client.device_online(APP, FRIEND_1) is False
    sandbox.hipmob.set_online(APP, FRIEND_1, True)
    assert await client.device_online(APP, FRIEND_1) is True
    assert await client.device_online(APP, "never-seen") is False
    assert sandbox.hipmob.requests[-1].path == f"/apps/{APP}/devices/never-seen/status"


async def test_pending_messages(client: HipmobClient, sandbox: Sandbox) -> None:
    """Undelivered messages of a device."""
    assert await client.pending_messages(APP, FRIEND_1) == 1
    assert await client.pending_messages(APP, JACK) == 0
    sandbox.hipmob.send_message(APP, FRIEND_2, "one")
    sandbox.hipmob.send_message(APP, FRIEND_2, "two")
    assert await client.pending_messages(APP, FRIEND_2) == 2
    assert sandbox.hipmob.requests[-1].path == (
        f"/apps/{APP}/devices/{FRIEND_2}/messagecount"
    )


async def test_get_user(client: HipmobClient, sandbox: Sandbox) -> None:
    """A user's names and availability; the full name falls back to the username."""
    femi = await client.get_user("femi")
    assert femi == HipmobUser("femi", "Femi", "Omojola", "online")
    assert femi.full_name == "Femi Omojola"
    assert (await client.get_user("tolu")).status == "offline"
    sandbox.hipmob.add_user("femi", "bot", "", "", status="hours")
    bot = await client.get_user("bot")
    assert (bot.full_name, bot.status) == ("bot", "hours")
    with pytest.raises(CommHubNotFoundError, match=r"^User not found\.$") as err:
        await client.get_user("nobody")
    assert not isinstance(err.value, HipmobAppNotFoundError)


async def test_set_own_status(client: HipmobClient, sandbox: Sandbox) -> None:
    """The account's own user can change its availability."""
    await client.set_user_status("femi", "hours")
    assert sandbox.hipmob.user("femi").status == "hours"
    request = sandbox.hipmob.requests[-1]
    assert (request.method, request.path) == ("POST", "/user/femi/status")
    assert request.form == {"status": "hours"}


@pytest.mark.parametrize("refusal", [401, 400])
async def test_set_other_users_status_is_permission_error(
    client: HipmobClient, sandbox: Sandbox, refusal: int
) -> None:
    """401 (document) or 400 (PHP library) for another's status: not bad keys."""
    sandbox.hipmob.own_status_refusal = refusal
    with pytest.raises(CommHubPermissionError) as err:
        await client.set_user_status("tolu", "online")
    assert not isinstance(err.value, CommHubAuthError)
    assert err.value.status == refusal
    assert err.value.message == "You can only change your own status."
    assert sandbox.hipmob.user("tolu").status == "offline"


async def test_set_status_with_wrong_key_is_auth_error(
    hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str
) -> None:
    """A refused key stays an authentication error, for any user."""
    client = _client(hass, f"{sandbox_url}/hipmob", api_key="wrong")
    for username in ("femi", "tolu"):
        with pytest.raises(CommHubAuthError):
            await client.set_user_status(username, "offline")
    assert sandbox.hipmob.user("femi").status == "online"


async def test_set_invalid_status(client: HipmobClient) -> None:
    """A status Hipmob does not know is refused with its explanation."""
    with pytest.raises(CommHubRequestError) as err:
        await client.set_user_status("femi", "away")
    assert (err.value.status, err.value.message) == (
        400,
        "Invalid status was specified.",
    )


async def test_send_text_to_one_device(client: HipmobClient, sandbox: Sandbox) -> None:
    """A form with `text`, and no autocreate field unless asked."""
    await client.send_text(APP, [JACK], "Hello Jack", autocreate=False)
    request = sandbox.hipmob.requests[-1]
    assert (request.method, request.path) == (
        "POST",
        f"/apps/{APP}/devices/{JACK}/messages",
    )
    assert list(request.form.items()) == [("text", "Hello Jack")]
    assert _messages(sandbox, JACK)[-1] == ("text/plain", b"Hello Jack")


async def test_send_text_autocreate(client: HipmobClient, sandbox: Sandbox) -> None:
    """Without autocreate an unseen device is refused; with it the text is queued."""
    with pytest.raises(CommHubNotFoundError, match=r"^Device not found\.$"):
        await client.send_text(APP, ["new-phone"], "Welcome", autocreate=False)
    assert "new-phone" not in sandbox.hipmob.apps[APP].devices

    await client.send_text(APP, ["new-phone"], "Welcome", autocreate=True)
    request = sandbox.hipmob.requests[-1]
    assert list(request.form.items()) == [("text", "Welcome"), ("autocreate", "true")]
    assert sandbox.hipmob.device(APP, "new-phone").pending == 1


async def test_send_text_to_several_devices(
    client: HipmobClient, sandbox: Sandbox
) -> None:
    """Several devices get the text in ONE request with repeated `devices`."""
    await client.send_text(
        APP, [JACK, FRIEND_1, "new-phone"], "Closing at 6", autocreate=True
    )
    assert len(sandbox.hipmob.requests) == 1
    request = sandbox.hipmob.requests[0]
    assert (request.method, request.path) == ("POST", f"/apps/{APP}/devices/messages")
    assert request.form.getall("devices") == [JACK, FRIEND_1, "new-phone"]
    assert request.form["text"] == "Closing at 6"
    assert request.form["autocreate"] == "true"
    for device in (JACK, FRIEND_1, "new-phone"):
        assert _messages(sandbox, device)[-1] == ("text/plain", b"Closing at 6")


async def test_send_text_to_several_without_autocreate(
    client: HipmobClient, sandbox: Sandbox
) -> None:
    """One unseen device among several: nothing is sent to anyone."""
    before = _messages(sandbox, JACK)
    with pytest.raises(CommHubNotFoundError):
        await client.send_text(APP, [JACK, "new-phone"], "Hi", autocreate=False)
    assert "autocreate" not in sandbox.hipmob.requests[-1].form
    assert _messages(sandbox, JACK) == before


async def test_send_empty_text_is_request_error(client: HipmobClient) -> None:
    """A 400 carries the API's explanation."""
    with pytest.raises(CommHubRequestError) as err:
        await client.send_text(APP, [JACK], "", autocreate=False)
    assert not isinstance(err.value, CommHubNotFoundError | CommHubPermissionError)
    assert (err.value.status, err.value.message) == (400, "Invalid message specified.")


async def test_send_content(client: HipmobClient, sandbox: Sandbox) -> None:
    """Raw bytes with their type and length; the autocreate header only if asked."""
    await client.send_content(APP, JACK, PNG, "image/png", autocreate=False)
    request = sandbox.hipmob.requests[-1]
    assert (request.method, request.path) == (
        "POST",
        f"/apps/{APP}/devices/{JACK}/messages",
    )
    assert request.body == PNG
    assert request.headers["Content-Type"] == "image/png"
    assert request.headers["Content-Length"] == str(len(PNG))
    assert "X-Hipmob-Autocreate" not in request.headers
    assert _messages(sandbox, JACK)[-1] == ("image/png", PNG)

    await client.send_content(
        APP, "new-speaker", b"ID3 mp3", "audio/mp3", autocreate=True
    )
    request = sandbox.hipmob.requests[-1]
    assert request.headers["X-Hipmob-Autocreate"] == "true"
    assert request.headers["Content-Type"] == "audio/mp3"
    assert _messages(sandbox, "new-speaker") == [("audio/mp3", b"ID3 mp3")]


async def test_send_content_refused(client: HipmobClient, sandbox: Sandbox) -> None:
    """415 and 400 answers are request errors with the API's message."""
    sandbox.hipmob.add_device(APP, "pager", accepts=set())
    with pytest.raises(CommHubRequestError) as err:
        await client.send_content(APP, "pager", PNG, "image/png", autocreate=False)
    assert (err.value.status, err.value.message) == (
        415,
        "Content-type not supported on that device.",
    )
    with pytest.raises(CommHubRequestError) as err:
        await client.send_content(APP, JACK, b"<p>", "text/html", autocreate=False)
    assert (err.value.status, err.value.message) == (415, "Content-type not supported.")
    with pytest.raises(CommHubRequestError) as err:
        await client.send_content(
            APP, JACK, b"{nope", "application/json", autocreate=False
        )
    assert (err.value.status, err.value.message) == (400, "Invalid message specified.")
    with pytest.raises(CommHubNotFoundError):
        await client.send_content(APP, "unseen", PNG, "image/png", autocreate=False)


async def test_change_friends(client: HipmobClient, sandbox: Sandbox) -> None:
    """POST adds, PUT replaces, DELETE clears: the counts Hipmob's answers give."""
    friends = sandbox.hipmob.device(APP, JACK).friends
    assert friends == [FRIEND_1, FRIEND_2]

    assert await client.change_friends(APP, JACK, "POST", [FRIEND_2, "new-1"]) == 1
    request = sandbox.hipmob.requests[-1]
    assert (request.method, request.path) == (
        "POST",
        f"/apps/{APP}/devices/{JACK}/friends",
    )
    assert request.form.getall("friend") == [FRIEND_2, "new-1"]
    assert friends == [FRIEND_1, FRIEND_2, "new-1"]

    assert await client.change_friends(APP, JACK, "POST", [FRIEND_1]) == 0

    assert await client.change_friends(APP, JACK, "PUT", ["a", "b", "c", "d"]) == 4
    assert friends == ["a", "b", "c", "d"]

    assert await client.change_friends(APP, JACK, "DELETE") == 4
    assert sandbox.hipmob.requests[-1].body == b""
    assert friends == []
    assert await client.change_friends(APP, JACK, "DELETE") == 0


async def test_change_friends_without_friends_is_request_error(
    client: HipmobClient,
) -> None:
    """Adding nobody is refused by the API with its explanation."""
    with pytest.raises(CommHubRequestError, match="No friends were specified"):
        await client.change_friends(APP, JACK, "POST", [])


async def test_remove_friend(client: HipmobClient, sandbox: Sandbox) -> None:
    """1 when the friend was in the list, 0 when it was not."""
    assert await client.remove_friend(APP, JACK, FRIEND_1) == 1
    request = sandbox.hipmob.requests[-1]
    assert (request.method, request.path) == (
        "DELETE",
        f"/apps/{APP}/devices/{JACK}/friends/{FRIEND_1}",
    )
    assert sandbox.hipmob.device(APP, JACK).friends == [FRIEND_2]
    assert await client.remove_friend(APP, JACK, FRIEND_1) == 0


async def test_malformed_answer_is_response_error(
    client: HipmobClient, sandbox: Sandbox
) -> None:
    """A 200 whose body is not JSON is a response error for every JSON call."""
    sandbox.hipmob.add_fault(Fault(kind="malformed", count=None))
    calls: list[Callable[[], Awaitable[object]]] = [
        client.list_apps,
        lambda: client.get_device(APP, JACK),
        lambda: client.device_online(APP, JACK),
        lambda: client.pending_messages(APP, JACK),
        lambda: client.get_user("femi"),
    ]
    for call in calls:
        with pytest.raises(CommHubResponseError, match="not JSON"):
            await call()
    assert len(sandbox.hipmob.requests) == len(calls)


# -- answers the sandbox never gives: a tiny stand-in serving fixed bodies --------


@pytest.fixture
async def canned(socket_enabled: None) -> AsyncIterator[tuple[str, Answers]]:
    """A server on 127.0.0.1 answering each path with what the test put in."""
    answers: Answers = {}
    async with serve(answers) as (url, _):
        yield url, answers


JSON = {"Content-Type": "application/vnd.com.hipmob.Device+json; version=1.0"}
DEV = f"/apps/{APP}/devices/{JACK}"


@pytest.mark.parametrize(
    ("path", "body", "match"),
    [
        ("/apps", b"[]", "not a JSON object"),
        ("/apps", b'{"count": 0}', "without values"),
        ("/apps", b'{"values": {}}', "without values"),
        (f"{DEV}/status", b"{}", "without online"),
        (f"{DEV}/status", b'{"online": "true"}', "without online"),
        (f"{DEV}/messagecount", b'{"count": "3"}', "not a number"),
        (f"{DEV}/messagecount", b'{"count": true}', "not a number"),
        (f"{DEV}/messagecount", b'{"count": -1}', "not a number"),
        (f"{DEV}/messagecount", b'{"count": 2.5}', "not a number"),
        ("/user/femi", b'{"username": "femi"}', "without status"),
        ("/user/femi", b'"online"', "not a JSON object"),
    ],
)
async def test_unexpected_shapes_are_response_errors(
    hass: HomeAssistant,
    canned: tuple[str, Answers],
    path: str,
    body: bytes,
    match: str,
) -> None:
    """JSON that is not an object, or lacks the fields a call needs, is refused."""
    url, answers = canned
    answers[path] = (200, JSON, body)
    client = _client(hass, url)
    call = {
        "/apps": client.list_apps,
        f"{DEV}/status": lambda: client.device_online(APP, JACK),
        f"{DEV}/messagecount": lambda: client.pending_messages(APP, JACK),
        "/user/femi": lambda: client.get_user("femi"),
    }[path]
    with pytest.raises(CommHubResponseError, match=match):
        await call()


async def test_lenient_parsing_of_optional_fields(
    hass: HomeAssistant, canned: tuple[str, Answers]
) -> None:
    """Apps without an id are skipped, a missing name is the id; odd userdata goes."""
    url, answers = canned
    answers["/apps"] = (
        200,
        JSON,
        b'{"values": [{"id": "a1"}, {"name": "no id"}, "junk",'
        b' {"id": "a2", "name": 7, "url": null}]}',
    )
    answers[DEV] = (
        200,
        JSON,
        b'{"platform": 1, "userdata": {"name": "Kim", "age": 40}}',
    )
    answers[f"{DEV}/x"] = (200, JSON, b'{"userdata": ["not", "a", "dict"]}')
    client = _client(hass, url)
    assert await client.list_apps() == [
        HipmobApp("a1", "a1", None),
        HipmobApp("a2", "a2", None),
    ]
    assert await client.get_device(APP, JACK) == HipmobDevice(
        JACK, platform=None, version=None, userdata={"name": "Kim"}
    )
    assert await client.get_device(APP, f"{JACK}/x") is not None


async def test_error_message_prefers_hipmob_reason_header(
    hass: HomeAssistant, canned: tuple[str, Answers]
) -> None:
    """Hipmob repeats its reason in X-Hipmob-Reason; the body is the fallback."""
    url, answers = canned
    answers["/apps"] = (400, {"X-Hipmob-Reason": "From the header"}, b"from the body")
    answers["/user/femi"] = (400, {}, b"  from the body\n")
    client = _client(hass, url)
    with pytest.raises(CommHubRequestError, match=r"^From the header$"):
        await client.list_apps()
    with pytest.raises(CommHubRequestError, match=r"^from the body$"):
        await client.get_user("femi")


# -- outcomes only in the status line: a stand-in that sets the reason phrase -------

# path -> status, reason phrase, headers, body
type StatusLines = dict[str, tuple[int, str, dict[str, str], bytes]]


@pytest.fixture
async def status_lines(
    hass: HomeAssistant, socket_enabled: None
) -> AsyncIterator[tuple[HipmobClient, StatusLines]]:
    """A client of a server answering each path with the status line put in."""
    answers: StatusLines = {}

    async def handler(request: web.Request) -> web.Response:
        status, reason, headers, body = answers[request.path]
        return web.Response(status=status, reason=reason, headers=headers, body=body)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield _client(hass, str(server.make_url("")).rstrip("/")), answers
    await server.close()


FRIENDS = f"{DEV}/friends"


@pytest.mark.parametrize(
    ("reason", "headers", "body", "count"),
    [
        ("Friend list updated (3 friends added).", {}, b"", 3),
        ("Friend list cleared (4 friends removed).", {}, b"", 4),
        ("No changes made.", {}, b"", 0),
        # The header comes first, then the status line; the body is the fallback.
        (
            "Friend list updated (5 friends added).",
            {"X-Hipmob-Reason": "Friend list updated (2 friends added)."},
            b"Friend list updated (7 friends added).",
            2,
        ),
        ("Friend list updated (5 friends added).", {}, b"(7 friends added)", 5),
        ("OK", {}, b"Friend list updated (7 friends added).", 7),
    ],
)
async def test_friend_counts_from_the_outcome(
    status_lines: tuple[HipmobClient, StatusLines],
    reason: str,
    headers: dict[str, str],
    body: bytes,
    count: int,
) -> None:
    """Counts come from where Hipmob states the outcome, body or not."""
    client, answers = status_lines
    answers[FRIENDS] = (200, reason, headers, body)
    assert await client.change_friends(APP, JACK, "PUT", ["a"]) == count


@pytest.mark.parametrize(
    ("reason", "count"),
    [("Friend removed.", 1), ("No changes made.", 0), ("No friends removed.", 0)],
)
async def test_removed_friend_from_the_status_line(
    status_lines: tuple[HipmobClient, StatusLines], reason: str, count: int
) -> None:
    """The libraries' "No changes made." and the document's "No friends removed."."""
    client, answers = status_lines
    answers[f"{FRIENDS}/a"] = (200, reason, {}, b"")
    assert await client.remove_friend(APP, JACK, "a") == count


async def test_friend_answer_without_outcome_is_response_error(
    status_lines: tuple[HipmobClient, StatusLines],
) -> None:
    """An answer that states no outcome at all cannot be counted."""
    client, answers = status_lines
    answers[FRIENDS] = (200, "OK", {}, b"")
    with pytest.raises(CommHubResponseError, match="without an outcome"):
        await client.change_friends(APP, JACK, "DELETE")


@pytest.mark.parametrize(
    "reason",
    ["Application not found.", "The specified application could not be found."],
)
async def test_unknown_app_from_the_status_line(
    status_lines: tuple[HipmobClient, StatusLines], reason: str
) -> None:
    """The service's phrase and the document's prose both mean the app is gone."""
    client, answers = status_lines
    answers[DEV] = (404, reason, {}, b"")
    with pytest.raises(HipmobAppNotFoundError) as err:
        await client.get_device(APP, JACK)
    assert err.value.message == reason


@pytest.mark.parametrize("status", [400, 401])
async def test_own_status_refusal_from_the_status_line(
    status_lines: tuple[HipmobClient, StatusLines], status: int
) -> None:
    """Recognised by its phrase in the status line, whichever the status code."""
    client, answers = status_lines
    answers["/user/tolu/status"] = (
        status,
        "You can only change your own status.",
        {},
        b"",
    )
    with pytest.raises(CommHubPermissionError) as err:
        await client.set_user_status("tolu", "online")
    assert err.value.status == status


@pytest.mark.parametrize(
    ("status", "reason", "error"),
    [(401, "Unauthorized", CommHubAuthError), (404, "Not Found", CommHubNotFoundError)],
)
async def test_stock_status_line_without_body(
    status_lines: tuple[HipmobClient, StatusLines],
    status: int,
    reason: str,
    error: type[Exception],
) -> None:
    """Nothing but a stock phrase: that phrase is the message."""
    client, answers = status_lines
    answers["/user/femi"] = (status, reason, {}, b"")
    with pytest.raises(error, match=f"^{reason}$"):
        await client.get_user("femi")


async def test_unregistered_status_keeps_its_phrase(
    status_lines: tuple[HipmobClient, StatusLines],
) -> None:
    """A status code without a stock phrase: its reason phrase is the message."""
    client, answers = status_lines
    answers["/user/femi"] = (499, "Request withdrawn", {}, b"")
    with pytest.raises(CommHubRequestError, match=r"^Request withdrawn$") as err:
        await client.get_user("femi")
    assert err.value.status == 499
