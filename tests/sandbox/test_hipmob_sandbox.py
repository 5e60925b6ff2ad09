"""The Hipmob sandbox answers as the Hipmob Server API v1 document says, with the
phrases, headers and status lines Hipmob's own libraries read."""

from __future__ import annotations

from collections.abc import AsyncIterator
import json
import time
from typing import Any

from aiohttp import ClientResponse, ClientTimeout, FormData, encode_basic_auth, web
from aiohttp.test_utils import TestClient
import pytest

from sandbox import Fault, HipmobSandbox, RecordedRequest, Sandbox

from .conftest import FEMI, Credentials, HipmobApi

Client = TestClient[web.Request, web.Application]

APP = "fedcba0987654321fedcba0987654321"
APP_2 = "1234567890abcdef1234567890abcdef"
DEVICE = "AACA914E-B948-4d5f-BF8B-0BDB5CF77B61"
FRIEND_1 = "9d26cbc2-35d2-4b03-9a2d-3b4d8a64e611"
FRIEND_2 = "5813cd68-402f-4836-8f9e-acf1aaaf937d"
ADE: Credentials = ("ade", "ade-sandbox-key")
DEV = f"/apps/{APP}/devices"
TEXT = "text/plain"
# The not-found phrases the service answers (and the vendor libraries match).
APP_NOT_FOUND = "Application not found."
DEVICE_NOT_FOUND = "Device not found."
USER_NOT_FOUND = "User not found."

APP_LIST_EXAMPLE = {
    "count": 2,
    "values": [
        {
            "id": APP,
            "name": "Hipmob Testing",
            "url": "hipmobtest.com",
            "created": "2012-06-26T18:06:27.893Z",
            "modified": "2012-07-31T18:39:07.476Z",
        },
        {
            "id": APP_2,
            "name": "Testing 3",
            "url": "https://manage.hipmob.com/",
            "created": "2012-07-31T06:41:26.985Z",
            "modified": "2012-07-31T06:41:26.985Z",
        },
    ],
}
DEVICE_EXAMPLE = {
    "id": DEVICE,
    "platform": "android",
    "version": "8",
    "created": "2012-07-29T18:44:44.300Z",
    "modified": "2012-07-29T23:43:49.952Z",
    "userdata": {
        "locale": "US",
        "lastcontext": "On the Carrier",
        "name": "Jack Hawksmoor",
        "email": "jack.hawksmoor@theauthority.com",
    },
}


def vendor(kind: str) -> str:
    """The full vendor content type of a Hipmob JSON document."""
    return f"application/vnd.com.hipmob.{kind}+json; version=1.0"


async def assert_json(response: ClientResponse, kind: str, expected: Any) -> None:
    """200 with the exact vendor content type and the expected document."""
    assert response.status == 200
    assert response.headers["Content-Type"] == vendor(kind)
    assert response.headers["X-Hipmob-Reason"] == response.reason == "OK"
    assert json.loads(await response.read()) == expected


def assert_outcome(response: ClientResponse, status: int, message: str) -> None:
    """The outcome where the libraries read it: status line and X-Hipmob-Reason."""
    assert response.status == status
    assert response.reason == message
    assert response.headers["X-Hipmob-Reason"] == message


async def assert_text(response: ClientResponse, status: int, message: str) -> None:
    """A text/plain answer carrying its message in body, reason and header."""
    assert_outcome(response, status, message)
    assert response.content_type == "text/plain"
    assert await response.text() == message


def form(**fields: str | list[str]) -> list[tuple[str, str]]:
    """Form fields, repeating list values."""
    return [
        (key, item)
        for key, value in fields.items()
        for item in (value if isinstance(value, list) else [value])
    ]


async def chunked(data: bytes) -> AsyncIterator[bytes]:
    """A streamed body: aiohttp sends it without Content-Length."""
    yield data


# -- authentication -------------------------------------------------------------


async def test_no_credentials_is_authentication_required(hipmob: HipmobApi) -> None:
    response = await hipmob.request("GET", "/apps", auth=None)
    await assert_text(response, 401, "Authentication Required")
    assert response.headers["WWW-Authenticate"] == 'Basic realm="Hipmob"'


async def test_non_basic_credentials_are_not_basic_auth(hipmob: HipmobApi) -> None:
    response = await hipmob.request(
        "GET", "/apps", auth=None, headers={"Authorization": "Bearer x"}
    )
    await assert_text(response, 401, "Authentication Required")


@pytest.mark.parametrize(
    "auth",
    [
        ("femi", "wrong-key"),
        ("nobody", "hipmob-sandbox-key"),
        ("femi", ""),
    ],
)
async def test_bad_credentials_are_unauthorized(
    hipmob: HipmobApi, auth: Credentials
) -> None:
    response = await hipmob.request("GET", "/apps", auth=auth)
    await assert_text(response, 401, "Unauthorized")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/apps"),
        ("GET", f"/apps/{APP}"),
        ("HEAD", f"{DEV}/{DEVICE}"),
        ("GET", f"{DEV}/{DEVICE}/status"),
        ("POST", f"{DEV}/{DEVICE}/messages"),
        ("GET", "/user/femi"),
        ("POST", "/user/femi/status"),
    ],
)
async def test_payment_required_on_every_endpoint(
    sandbox: Sandbox, hipmob: HipmobApi, method: str, path: str
) -> None:
    sandbox.hipmob.set_payment_required("femi", True)
    response = await hipmob.request(method, path)
    assert response.status == 402
    assert response.reason == "The request failed despite valid authentication."
    assert response.headers["X-Hipmob-Reason"] == response.reason
    sandbox.hipmob.set_payment_required("femi", False)
    assert (await hipmob.request("GET", "/apps")).status == 200


# -- applications -----------------------------------------------------------------


async def test_list_apps_is_the_documented_example(hipmob: HipmobApi) -> None:
    await assert_json(
        await hipmob.request("GET", "/apps"), "App-list", APP_LIST_EXAMPLE
    )


async def test_list_apps_only_shows_own_apps(hipmob: HipmobApi) -> None:
    response = await hipmob.request("GET", "/apps", auth=ADE)
    await assert_json(response, "App-list", {"count": 0, "values": []})


async def test_get_app(hipmob: HipmobApi) -> None:
    response = await hipmob.request("GET", f"/apps/{APP}")
    await assert_json(response, "App", APP_LIST_EXAMPLE["values"][0])  # type: ignore[index]


@pytest.mark.parametrize(
    ("path", "auth", "status", "message"),
    [
        ("/apps/0000", FEMI, 404, APP_NOT_FOUND),
        (f"/apps/{APP}", ADE, 404, APP_NOT_FOUND),
        ("/apps/", FEMI, 400, "No application was specified in the URL."),
    ],
)
async def test_get_app_errors(
    hipmob: HipmobApi, path: str, auth: Credentials, status: int, message: str
) -> None:
    await assert_text(await hipmob.request("GET", path, auth=auth), status, message)


async def test_added_app_is_listed(sandbox: Sandbox, hipmob: HipmobApi) -> None:
    sandbox.hipmob.add_app("ade", "abc", "Ade's app", url="https://ade.example")
    response = await hipmob.request("GET", "/apps", auth=ADE)
    data = json.loads(await response.read())
    assert data["count"] == 1
    assert data["values"][0]["id"] == "abc"
    assert data["values"][0]["url"] == "https://ade.example"


# -- devices ----------------------------------------------------------------------


async def test_device_exists(hipmob: HipmobApi) -> None:
    assert (await hipmob.request("HEAD", f"{DEV}/{DEVICE}")).status == 200
    assert (await hipmob.request("HEAD", f"{DEV}/{FRIEND_2}")).status == 200
    response = await hipmob.request("HEAD", f"{DEV}/unknown")
    assert_outcome(response, 404, DEVICE_NOT_FOUND)


async def test_get_device_is_the_documented_example(hipmob: HipmobApi) -> None:
    response = await hipmob.request("GET", f"{DEV}/{DEVICE}")
    await assert_json(response, "Device", DEVICE_EXAMPLE)


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        (
            f"{DEV}/unknown",
            404,
            DEVICE_NOT_FOUND,
        ),
        (f"{DEV}/", 400, "No host application identifier was specified in the URL."),
        (
            f"/apps/0000/devices/{DEVICE}",
            404,
            APP_NOT_FOUND,
        ),
        (f"/apps//devices/{DEVICE}", 400, "No application was specified in the URL."),
    ],
)
async def test_get_device_errors(
    hipmob: HipmobApi, path: str, status: int, message: str
) -> None:
    await assert_text(await hipmob.request("GET", path), status, message)


@pytest.mark.parametrize(
    ("device", "online"), [(DEVICE, True), (FRIEND_1, False), ("never-seen", False)]
)
async def test_device_status(hipmob: HipmobApi, device: str, online: bool) -> None:
    response = await hipmob.request("GET", f"{DEV}/{device}/status")
    await assert_json(response, "Device.status", {"online": online})


async def test_device_status_follows_set_online(
    sandbox: Sandbox, hipmob: HipmobApi
) -> None:
    sandbox.hipmob.set_online(APP, DEVICE, False)
    response = await hipmob.request("GET", f"{DEV}/{DEVICE}/status")
    await assert_json(response, "Device.status", {"online": False})


@pytest.mark.parametrize(
    ("device", "count"), [(DEVICE, 0), (FRIEND_1, 1), (FRIEND_2, 0), ("never", 0)]
)
async def test_message_count(hipmob: HipmobApi, device: str, count: int) -> None:
    response = await hipmob.request("GET", f"{DEV}/{device}/messagecount")
    await assert_json(response, "Device.pendingmessagecount", {"count": count})


async def test_going_online_delivers_the_queue(
    sandbox: Sandbox, hipmob: HipmobApi
) -> None:
    device = sandbox.hipmob.device(APP, FRIEND_1)
    assert device.pending == 1
    sandbox.hipmob.set_online(APP, FRIEND_1, True)
    assert device.pending == 0
    assert len(device.messages) == 1
    response = await hipmob.request("GET", f"{DEV}/{FRIEND_1}/messagecount")
    await assert_json(response, "Device.pendingmessagecount", {"count": 0})


# -- messages ---------------------------------------------------------------------


async def test_text_to_online_device_is_delivered(
    sandbox: Sandbox, hipmob: HipmobApi
) -> None:
    response = await hipmob.request(
        "POST", f"{DEV}/{DEVICE}/messages", data={"text": "hello"}
    )
    await assert_text(response, 200, "Message sent.")
    device = sandbox.hipmob.device(APP, DEVICE)
    assert device.messages == [(TEXT, b"hello")]
    assert device.pending == 0


async def test_text_to_offline_device_is_queued(
    sandbox: Sandbox, hipmob: HipmobApi
) -> None:
    response = await hipmob.request(
        "POST", f"{DEV}/{FRIEND_1}/messages", data={"text": "hi"}
    )
    await assert_text(response, 200, "Message sent.")
    assert sandbox.hipmob.device(APP, FRIEND_1).queued[-1] == (TEXT, b"hi")
    response = await hipmob.request("GET", f"{DEV}/{FRIEND_1}/messagecount")
    await assert_json(response, "Device.pendingmessagecount", {"count": 2})


async def test_text_as_multipart_form(sandbox: Sandbox, hipmob: HipmobApi) -> None:
    data = FormData({"text": "multi"}, default_to_multipart=True)
    response = await hipmob.request("POST", f"{DEV}/{DEVICE}/messages", data=data)
    await assert_text(response, 200, "Message sent.")
    assert sandbox.hipmob.device(APP, DEVICE).messages == [(TEXT, b"multi")]


@pytest.mark.parametrize("data", [{}, {"text": ""}, {"autocreate": "true"}])
async def test_text_without_text_is_invalid(
    hipmob: HipmobApi, data: dict[str, str]
) -> None:
    response = await hipmob.request("POST", f"{DEV}/{DEVICE}/messages", data=data)
    await assert_text(response, 400, "Invalid message specified.")


async def test_text_to_unknown_device_needs_autocreate(
    sandbox: Sandbox, hipmob: HipmobApi
) -> None:
    path = f"{DEV}/new-device/messages"
    for data in ({"text": "x"}, {"text": "x", "autocreate": "True"}):
        response = await hipmob.request("POST", path, data=data)
        await assert_text(
            response,
            404,
            DEVICE_NOT_FOUND,
        )
    assert "new-device" not in sandbox.hipmob.apps[APP].devices


async def test_autocreate_queues_for_a_device_not_yet_seen(
    sandbox: Sandbox, hipmob: HipmobApi
) -> None:
    response = await hipmob.request(
        "POST", f"{DEV}/new-device/messages", data={"text": "x", "autocreate": "true"}
    )
    await assert_text(response, 200, "Message sent.")
    count = await hipmob.request("GET", f"{DEV}/new-device/messagecount")
    await assert_json(count, "Device.pendingmessagecount", {"count": 1})
    # Only autocreated: it has not connected, so it does not "exist" yet.
    assert (await hipmob.request("HEAD", f"{DEV}/new-device")).status == 404
    assert (await hipmob.request("GET", f"{DEV}/new-device")).status == 404
    status = await hipmob.request("GET", f"{DEV}/new-device/status")
    await assert_json(status, "Device.status", {"online": False})
    # Connecting delivers the queue.
    sandbox.hipmob.set_online(APP, "new-device", True)
    assert (await hipmob.request("HEAD", f"{DEV}/new-device")).status == 200
    assert sandbox.hipmob.device(APP, "new-device").pending == 0


async def test_message_errors_for_the_url(hipmob: HipmobApi) -> None:
    response = await hipmob.request(
        "POST", f"/apps/0000/devices/{DEVICE}/messages", data={"text": "x"}
    )
    await assert_text(response, 404, APP_NOT_FOUND)
    response = await hipmob.request("POST", f"{DEV}//messages", data={"text": "x"})
    await assert_text(
        response, 400, "No host application identifier was specified in the URL."
    )


async def test_json_message(sandbox: Sandbox, hipmob: HipmobApi) -> None:
    response = await hipmob.request(
        "POST", f"{DEV}/{FRIEND_2}/messages", json={"order": 7}
    )
    await assert_text(response, 200, "Message sent.")
    assert sandbox.hipmob.device(APP, FRIEND_2).queued == [
        ("application/json", b'{"order": 7}')
    ]


@pytest.mark.parametrize("body", [b"{not json", b""])
async def test_json_message_must_parse(hipmob: HipmobApi, body: bytes) -> None:
    response = await hipmob.request(
        "POST",
        f"{DEV}/{DEVICE}/messages",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    await assert_text(response, 400, "Invalid message specified.")


@pytest.mark.parametrize(
    "content_type",
    ["image/png", "image/jpeg", "image/gif", "audio/mp3", "application/octet-stream"],
)
async def test_binary_kinds(
    sandbox: Sandbox, hipmob: HipmobApi, content_type: str
) -> None:
    response = await hipmob.request(
        "POST",
        f"{DEV}/{DEVICE}/messages",
        data=b"\x89data",
        headers={"Content-Type": content_type},
    )
    await assert_text(response, 200, "Message sent.")
    assert sandbox.hipmob.device(APP, DEVICE).messages == [(content_type, b"\x89data")]


@pytest.mark.parametrize("content_type", ["image/png", "audio/mp3"])
async def test_media_needs_content_length(hipmob: HipmobApi, content_type: str) -> None:
    response = await hipmob.request(
        "POST",
        f"{DEV}/{DEVICE}/messages",
        data=chunked(b"abc"),
        headers={"Content-Type": content_type},
    )
    await assert_text(response, 400, "No content length specified.")


@pytest.mark.parametrize("content_type", ["image/png", "application/octet-stream"])
async def test_binary_kinds_need_a_body(hipmob: HipmobApi, content_type: str) -> None:
    response = await hipmob.request(
        "POST",
        f"{DEV}/{DEVICE}/messages",
        data=b"",
        headers={"Content-Type": content_type},
    )
    await assert_text(response, 400, "Invalid message specified.")


@pytest.mark.parametrize("content_type", ["audio/mpeg", "text/plain", "image/webp"])
async def test_unsupported_content_type(hipmob: HipmobApi, content_type: str) -> None:
    response = await hipmob.request(
        "POST",
        f"{DEV}/{DEVICE}/messages",
        data=b"abc",
        headers={"Content-Type": content_type},
    )
    assert response.status == 415


async def test_device_that_cannot_show_the_media(
    sandbox: Sandbox, hipmob: HipmobApi
) -> None:
    sandbox.hipmob.add_device(APP, "old-phone", accepts={"image/png"})
    path = f"{DEV}/old-phone/messages"
    response = await hipmob.request(
        "POST", path, data=b"gif", headers={"Content-Type": "image/gif"}
    )
    await assert_text(response, 415, "Content-type not supported on that device.")
    response = await hipmob.request(
        "POST", path, data=b"png", headers={"Content-Type": "image/png"}
    )
    await assert_text(response, 200, "Message sent.")
    assert sandbox.hipmob.device(APP, "old-phone").queued == [("image/png", b"png")]


async def test_media_autocreate_is_a_header(
    sandbox: Sandbox, hipmob: HipmobApi
) -> None:
    path = f"{DEV}/new-device/messages"
    headers = {"Content-Type": "image/png"}
    response = await hipmob.request("POST", path, data=b"png", headers=headers)
    assert response.status == 404
    headers["X-Hipmob-Autocreate"] = "true"
    response = await hipmob.request("POST", path, data=b"png", headers=headers)
    await assert_text(response, 200, "Message sent.")
    assert sandbox.hipmob.device(APP, "new-device").pending == 1


# -- messages to several devices ------------------------------------------------------


async def test_text_to_several_devices(sandbox: Sandbox, hipmob: HipmobApi) -> None:
    response = await hipmob.request(
        "POST",
        f"{DEV}/messages",
        data=form(text="all", devices=[DEVICE, FRIEND_1]),
    )
    await assert_text(response, 200, "2 messages sent.")
    assert sandbox.hipmob.device(APP, DEVICE).messages == [(TEXT, b"all")]
    assert sandbox.hipmob.device(APP, FRIEND_1).pending == 2


async def test_several_devices_is_all_or_nothing(
    sandbox: Sandbox, hipmob: HipmobApi
) -> None:
    response = await hipmob.request(
        "POST",
        f"{DEV}/messages",
        data=form(text="all", devices=[DEVICE, "unknown", FRIEND_1]),
    )
    assert response.status == 404
    assert sandbox.hipmob.device(APP, DEVICE).messages == []
    assert sandbox.hipmob.device(APP, FRIEND_1).pending == 1
    assert "unknown" not in sandbox.hipmob.apps[APP].devices


async def test_several_devices_with_autocreate(
    sandbox: Sandbox, hipmob: HipmobApi
) -> None:
    response = await hipmob.request(
        "POST",
        f"{DEV}/messages",
        data=form(text="all", devices=[DEVICE, "unknown"], autocreate="true"),
    )
    await assert_text(response, 200, "2 messages sent.")
    assert sandbox.hipmob.device(APP, "unknown").queued == [(TEXT, b"all")]


@pytest.mark.parametrize(
    "data", [form(text="all"), form(devices=DEVICE), form(text="", devices=DEVICE)]
)
async def test_several_devices_needs_devices_and_text(
    hipmob: HipmobApi, data: list[tuple[str, str]]
) -> None:
    response = await hipmob.request("POST", f"{DEV}/messages", data=data)
    assert response.status == 400


# -- friends ------------------------------------------------------------------------


async def test_get_friends_is_the_documented_example(hipmob: HipmobApi) -> None:
    response = await hipmob.request("GET", f"{DEV}/{DEVICE}/friends")
    expected = {"index": 0, "pagesize": 2, "total": 2, "friends": [FRIEND_1, FRIEND_2]}
    await assert_json(response, "DeviceFriends", expected)


async def test_get_friends_of_unknown_device_is_empty(hipmob: HipmobApi) -> None:
    response = await hipmob.request("GET", f"{DEV}/never/friends")
    expected = {"index": 0, "pagesize": 0, "total": 0, "friends": []}
    await assert_json(response, "DeviceFriends", expected)


async def test_add_friends(sandbox: Sandbox, hipmob: HipmobApi) -> None:
    path = f"{DEV}/{DEVICE}/friends"
    response = await hipmob.request(
        "POST", path, data=form(friend=[FRIEND_1, "new-1", "new-2"])
    )
    await assert_text(response, 200, "Friend list updated (2 friends added).")
    assert sandbox.hipmob.device(APP, DEVICE).friends == [
        FRIEND_1,
        FRIEND_2,
        "new-1",
        "new-2",
    ]
    response = await hipmob.request("POST", path, data=form(friend=FRIEND_2))
    await assert_text(response, 200, "No changes made.")


async def test_add_friends_errors(hipmob: HipmobApi) -> None:
    response = await hipmob.request("POST", f"{DEV}/{DEVICE}/friends", data={})
    await assert_text(
        response, 400, "No friends were specified in the request parameters."
    )
    response = await hipmob.request(
        "POST", f"{DEV}/never/friends", data=form(friend=DEVICE)
    )
    await assert_text(
        response,
        404,
        DEVICE_NOT_FOUND,
    )


async def test_remove_friend(sandbox: Sandbox, hipmob: HipmobApi) -> None:
    path = f"{DEV}/{DEVICE}/friends/{FRIEND_1}"
    await assert_text(await hipmob.request("DELETE", path), 200, "Friend removed.")
    assert sandbox.hipmob.device(APP, DEVICE).friends == [FRIEND_2]
    # The document says "No friends removed."; both libraries accept only this.
    await assert_text(await hipmob.request("DELETE", path), 200, "No changes made.")
    response = await hipmob.request("DELETE", f"{DEV}/{DEVICE}/friends/")
    await assert_text(
        response, 400, "No friend host application identifier was specified in the URL."
    )


async def test_clear_friends(sandbox: Sandbox, hipmob: HipmobApi) -> None:
    path = f"{DEV}/{DEVICE}/friends"
    response = await hipmob.request("DELETE", path)
    await assert_text(response, 200, "Friend list cleared (2 friends removed).")
    assert sandbox.hipmob.device(APP, DEVICE).friends == []
    await assert_text(await hipmob.request("DELETE", path), 200, "No changes made.")


async def test_set_friends(sandbox: Sandbox, hipmob: HipmobApi) -> None:
    path = f"{DEV}/{DEVICE}/friends"
    response = await hipmob.request("PUT", path, data=form(friend=[FRIEND_2, "x"]))
    await assert_text(response, 200, "Friend list updated (2 friends added).")
    assert sandbox.hipmob.device(APP, DEVICE).friends == [FRIEND_2, "x"]
    response = await hipmob.request("PUT", path, data={})
    assert response.status == 400
    response = await hipmob.request(
        "PUT", f"{DEV}/never/friends", data=form(friend="x")
    )
    assert response.status == 404


# -- users ----------------------------------------------------------------------------


async def test_get_user_is_the_documented_example(hipmob: HipmobApi) -> None:
    response = await hipmob.request("GET", "/user/femi")
    expected = {
        "username": "femi",
        "first_name": "Femi",
        "last_name": "Omojola",
        "status": "online",
    }
    await assert_json(response, "User", expected)


async def test_get_other_user_of_the_account(hipmob: HipmobApi) -> None:
    response = await hipmob.request("GET", "/user/tolu")
    expected = {
        "username": "tolu",
        "first_name": "Tolu",
        "last_name": "Adebayo",
        "status": "offline",
    }
    await assert_json(response, "User", expected)


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/user/ade", 404, USER_NOT_FOUND),
        ("/user/nobody", 404, USER_NOT_FOUND),
        ("/user/", 400, "No user was specified in the URL."),
    ],
)
async def test_get_user_errors(
    hipmob: HipmobApi, path: str, status: int, message: str
) -> None:
    await assert_text(await hipmob.request("GET", path), status, message)


@pytest.mark.parametrize("status", ["online", "offline", "hours", "usestatus"])
async def test_set_own_status(sandbox: Sandbox, hipmob: HipmobApi, status: str) -> None:
    response = await hipmob.request(
        "POST", "/user/femi/status", data={"status": status}
    )
    await assert_text(response, 200, f'[femi] status updated to "{status}"')
    assert sandbox.hipmob.user("femi").status == status
    user = await hipmob.request("GET", "/user/femi")
    assert json.loads(await user.read())["status"] == status


async def test_set_status_of_someone_else(sandbox: Sandbox, hipmob: HipmobApi) -> None:
    for username in ("tolu", "ade"):
        response = await hipmob.request(
            "POST", f"/user/{username}/status", data={"status": "online"}
        )
        await assert_text(response, 401, "You can only change your own status.")
        # A permission answer, not an authentication challenge.
        assert "WWW-Authenticate" not in response.headers
    assert sandbox.hipmob.user("tolu").status == "offline"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "No status was specified in the request body."),
        ({"status": ""}, "No status was specified in the request body."),
        ({"status": "away"}, "Invalid status was specified."),
        ({"status": "Online"}, "Invalid status was specified."),
    ],
)
async def test_set_status_errors(
    hipmob: HipmobApi, data: dict[str, str], message: str
) -> None:
    response = await hipmob.request("POST", "/user/femi/status", data=data)
    await assert_text(response, 400, message)


async def test_user_status_helper(sandbox: Sandbox, hipmob: HipmobApi) -> None:
    sandbox.hipmob.set_user_status("tolu", "hours")
    response = await hipmob.request("GET", "/user/tolu")
    assert json.loads(await response.read())["status"] == "hours"
    with pytest.raises(ValueError, match="invalid status"):
        sandbox.hipmob.set_user_status("tolu", "away")


async def test_added_account_and_user(sandbox: Sandbox, hipmob: HipmobApi) -> None:
    sandbox.hipmob.add_account("kemi", "kemi-key")
    sandbox.hipmob.add_user("kemi", "bayo", "Bayo", "Ola", status="hours")
    kemi = ("kemi", "kemi-key")
    assert (await hipmob.request("GET", "/user/kemi", auth=kemi)).status == 200
    response = await hipmob.request("GET", "/user/bayo", auth=kemi)
    assert json.loads(await response.read())["status"] == "hours"


# -- answer variants (the vendor's code) -------------------------------------------


async def test_every_answer_names_its_outcome(hipmob: HipmobApi) -> None:
    """Data answers too carry their reason phrase in X-Hipmob-Reason."""
    for method, path in (("HEAD", f"{DEV}/{DEVICE}"), ("GET", "/apps")):
        response = await hipmob.request(method, path)
        assert_outcome(response, 200, "OK")


@pytest.mark.parametrize("devices", [[DEVICE], [DEVICE, FRIEND_1, FRIEND_2]])
async def test_several_devices_count_the_messages(
    hipmob: HipmobApi, devices: list[str]
) -> None:
    """The node library reads the count from `N messages sent.` (N = 1 too)."""
    response = await hipmob.request(
        "POST", f"{DEV}/messages", data=form(text="hi", devices=devices)
    )
    await assert_text(response, 200, f"{len(devices)} messages sent.")


@pytest.mark.parametrize(
    ("method", "path", "data", "status", "message"),
    [
        ("POST", f"{DEV}/{DEVICE}/messages", {"text": "x"}, 200, "Message sent."),
        (
            "PUT",
            f"{DEV}/{DEVICE}/friends",
            form(friend=["a", "b"]),
            200,
            "Friend list updated (2 friends added).",
        ),
        ("DELETE", f"{DEV}/{DEVICE}/friends/nope", None, 200, "No changes made."),
        (
            "POST",
            "/user/femi/status",
            {"status": "x"},
            400,
            "Invalid status was specified.",
        ),
        ("GET", f"{DEV}/unknown", None, 404, DEVICE_NOT_FOUND),
    ],
)
async def test_empty_body_switch(
    sandbox: Sandbox,
    hipmob: HipmobApi,
    method: str,
    path: str,
    data: Any,
    status: int,
    message: str,
) -> None:
    """Switched on, outcome texts come only in the status line and the header."""
    sandbox.hipmob.empty_body = True
    response = await hipmob.request(method, path, data=data)
    assert_outcome(response, status, message)
    assert await response.read() == b""


async def test_empty_body_keeps_data(sandbox: Sandbox, hipmob: HipmobApi) -> None:
    """JSON documents are data, not outcome texts: they keep their bodies."""
    sandbox.hipmob.empty_body = True
    await assert_json(
        await hipmob.request("GET", f"{DEV}/{DEVICE}/status"),
        "Device.status",
        {"online": True},
    )


async def test_own_status_refusal_switch(sandbox: Sandbox, hipmob: HipmobApi) -> None:
    """401 as the document says, or 400 as the PHP library expects."""
    sandbox.hipmob.own_status_refusal = 400
    response = await hipmob.request(
        "POST", "/user/tolu/status", data={"status": "online"}
    )
    await assert_text(response, 400, "You can only change your own status.")
    assert sandbox.hipmob.user("tolu").status == "offline"


def test_options_python_api() -> None:
    hipmob = HipmobSandbox()
    assert hipmob.options() == {"empty_body": False, "own_status_refusal": 401}
    assert hipmob.set_options(own_status_refusal=400) == {
        "empty_body": False,
        "own_status_refusal": 400,
    }
    assert hipmob.set_options(empty_body=True)["empty_body"] is True
    with pytest.raises(ValueError, match="own_status_refusal"):
        hipmob.set_options(own_status_refusal=403)
    hipmob.reset()
    assert hipmob.options() == {"empty_body": False, "own_status_refusal": 401}


# -- unknown routes -------------------------------------------------------------------


async def test_unknown_route_and_method(hipmob: HipmobApi) -> None:
    response = await hipmob.request("GET", "/nothing/here")
    assert response.status == 404
    assert "X-Hipmob-Reason" in response.headers
    response = await hipmob.request("PATCH", f"/apps/{APP}")
    assert response.status == 405
    assert "GET" in response.headers["Allow"]


# -- recording, latency, faults ----------------------------------------------------------


async def test_requests_are_recorded(sandbox: Sandbox, hipmob: HipmobApi) -> None:
    await hipmob.request("GET", "/apps", params={"a": "1"})
    await hipmob.request(
        "POST", f"{DEV}/{DEVICE}/messages", data={"text": "hi", "autocreate": "true"}
    )
    await hipmob.request("GET", "/apps", auth=None)
    first, second, third = sandbox.hipmob.requests
    assert isinstance(first, RecordedRequest)
    assert (first.method, first.path, first.status) == ("GET", "/apps", 200)
    assert first.query["a"] == "1"
    assert first.headers["Authorization"].startswith("Basic ")
    assert (second.method, second.path) == ("POST", f"{DEV}/{DEVICE}/messages")
    assert second.form["text"] == "hi"
    assert second.body == b"text=hi&autocreate=true"
    assert third.status == 401
    sandbox.hipmob.requests.clear()
    assert sandbox.hipmob.requests == []


async def test_latency(sandbox: Sandbox, hipmob: HipmobApi) -> None:
    sandbox.hipmob.latency = 0.05
    start = time.monotonic()
    assert (await hipmob.request("GET", "/apps")).status == 200
    assert time.monotonic() - start >= 0.05


async def test_error_fault(sandbox: Sandbox, hipmob: HipmobApi) -> None:
    sandbox.hipmob.add_fault(Fault(kind="error"))
    response = await hipmob.request("GET", "/apps")
    assert response.status == 500
    assert response.content_type == "text/plain"
    assert await response.text()
    assert (await hipmob.request("GET", "/apps")).status == 200  # count=1 used up
    assert sandbox.hipmob.faults == []
    assert [r.status for r in sandbox.hipmob.requests] == [500, 200]


async def test_faults_come_before_authentication(
    sandbox: Sandbox, hipmob: HipmobApi
) -> None:
    sandbox.hipmob.add_fault(Fault(kind="error", status=503))
    assert (await hipmob.request("GET", "/apps", auth=None)).status == 503


async def test_fault_matching_and_count(sandbox: Sandbox, hipmob: HipmobApi) -> None:
    sandbox.hipmob.add_fault(
        Fault(kind="error", status=502, count=2, path=r"/status$", method="get")
    )
    status_path = f"{DEV}/{DEVICE}/status"
    assert (await hipmob.request("GET", "/apps")).status == 200
    assert (await hipmob.request("GET", status_path)).status == 502
    assert (await hipmob.request("GET", status_path)).status == 502
    assert (await hipmob.request("GET", status_path)).status == 200


async def test_fault_until_cleared(sandbox: Sandbox, hipmob: HipmobApi) -> None:
    fault = Fault(kind="error", count=None)
    sandbox.hipmob.add_fault(fault)
    for _ in range(3):
        assert (await hipmob.request("GET", "/apps")).status == 500
    sandbox.hipmob.clear_faults()
    assert (await hipmob.request("GET", "/apps")).status == 200
    assert fault.count is None  # the caller's object is not consumed


async def test_rate_limit_fault(sandbox: Sandbox, hipmob: HipmobApi) -> None:
    sandbox.hipmob.add_fault(Fault(kind="rate_limit", retry_after=7))
    sandbox.hipmob.add_fault(Fault(kind="rate_limit"))
    response = await hipmob.request("GET", "/apps")
    assert response.status == 429
    assert response.headers["Retry-After"] == "7"
    response = await hipmob.request("GET", "/apps")
    assert response.status == 429
    assert "Retry-After" not in response.headers


async def test_timeout_fault_outlasts_the_client(
    sandbox: Sandbox, sandbox_client: Client
) -> None:
    sandbox.hipmob.add_fault(Fault(kind="timeout", delay=30))
    with pytest.raises(TimeoutError):
        await sandbox_client.get(
            "/hipmob/apps",
            headers={"Authorization": encode_basic_auth(*FEMI)},
            timeout=ClientTimeout(total=0.2),
        )
    # The held request is released when the server shuts down (fixture teardown).


async def test_timeout_fault_answers_after_the_delay(
    sandbox: Sandbox, hipmob: HipmobApi
) -> None:
    sandbox.hipmob.add_fault(Fault(kind="timeout", delay=0.1))
    start = time.monotonic()
    response = await hipmob.request("GET", "/apps")
    assert time.monotonic() - start >= 0.1
    await assert_json(response, "App-list", APP_LIST_EXAMPLE)


async def test_malformed_fault(sandbox: Sandbox, hipmob: HipmobApi) -> None:
    sandbox.hipmob.add_fault(Fault(kind="malformed", path="^/apps$"))
    response = await hipmob.request("GET", "/apps")
    assert response.status == 200
    assert response.headers["Content-Type"] == vendor("App-list")
    with pytest.raises(ValueError):  # noqa: PT011 - any JSON decode error will do
        json.loads(await response.read())


def test_fault_validation() -> None:
    with pytest.raises(ValueError, match="kind"):
        Fault(kind="explode")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="regex"):
        Fault(kind="error", path="(")
    with pytest.raises(ValueError, match="count"):
        Fault(kind="error", count=0)
    with pytest.raises(ValueError, match="status"):
        Fault(kind="error", status=42)


async def test_reset(sandbox: Sandbox, hipmob: HipmobApi) -> None:
    await hipmob.request("DELETE", f"{DEV}/{DEVICE}/friends")
    sandbox.hipmob.add_fault(Fault(kind="error", count=None, path="^/user"))
    sandbox.hipmob.latency = 1.0
    sandbox.reset()
    assert sandbox.hipmob.requests == []
    assert sandbox.hipmob.faults == []
    assert sandbox.hipmob.latency == 0
    assert sandbox.hipmob.device(APP, DEVICE).friends == [FRIEND_1, FRIEND_2]
    assert (await hipmob.request("GET", "/user/femi")).status == 200


def test_seed_state() -> None:
    hipmob = HipmobSandbox()
    assert set(hipmob.apps) == {APP, APP_2}
    assert set(hipmob.apps[APP].devices) == {DEVICE, FRIEND_1, FRIEND_2}
    for device_id in (FRIEND_1, FRIEND_2):
        device = hipmob.device(APP, device_id)
        assert (device.platform, device.online, device.connected) == (
            "iOS",
            False,
            True,
        )
    assert hipmob.device(APP, FRIEND_1).pending == 1
    assert hipmob.user("tolu").status == "offline"
    assert hipmob.user("ade").account == "ade"
    assert hipmob.apps[APP].account == "femi"


def test_demo_step_changes_the_data() -> None:
    hipmob = HipmobSandbox()
    before = hipmob.state()
    hipmob.demo_step(1)
    assert hipmob.state() != before
    assert hipmob.device(APP, FRIEND_2).online
    assert hipmob.user("tolu").status != "offline"


# -- control interface -----------------------------------------------------------------


async def control(
    client: Client, method: str, path: str, body: object = None, status: int = 200
) -> Any:
    """Call a control route and return its JSON answer."""
    response = await client.request(method, f"/_control{path}", json=body)
    assert response.status == status, await response.text()
    return await response.json()


async def test_control_is_not_recorded_or_faulted(
    sandbox: Sandbox, sandbox_client: Client
) -> None:
    sandbox.hipmob.add_fault(Fault(kind="error", count=None))
    state = await control(sandbox_client, "GET", "/hipmob/state")
    assert state["service"] == "hipmob"
    assert sandbox.hipmob.requests == []


async def test_control_state(sandbox_client: Client) -> None:
    state = await control(sandbox_client, "GET", "/hipmob/state")
    assert [a["account"] for a in state["accounts"]] == ["femi", "ade"]
    assert [app["id"] for app in state["apps"]] == [APP, APP_2]
    devices = {d["id"]: d for d in state["apps"][0]["devices"]}
    assert devices[FRIEND_1]["pending"] == 1
    assert devices[DEVICE]["online"] is True
    assert {u["username"]: u["status"] for u in state["users"]} == {
        "femi": "online",
        "tolu": "offline",
        "ade": "offline",
    }


async def test_control_requests(sandbox_client: Client, hipmob: HipmobApi) -> None:
    await hipmob.request("GET", "/apps")
    recorded = await control(sandbox_client, "GET", "/hipmob/requests")
    assert [(r["method"], r["path"], r["status"]) for r in recorded] == [
        ("GET", "/apps", 200)
    ]
    await control(sandbox_client, "DELETE", "/hipmob/requests")
    assert await control(sandbox_client, "GET", "/hipmob/requests") == []


async def test_control_faults_and_latency(
    sandbox: Sandbox, sandbox_client: Client, hipmob: HipmobApi
) -> None:
    faults = await control(
        sandbox_client,
        "POST",
        "/hipmob/faults",
        {"kind": "rate_limit", "retry_after": 3, "count": None},
    )
    assert faults[0]["kind"] == "rate_limit"
    assert (await hipmob.request("GET", "/apps")).status == 429
    await control(sandbox_client, "DELETE", "/hipmob/faults")
    assert (await hipmob.request("GET", "/apps")).status == 200
    await control(sandbox_client, "POST", "/hipmob/faults", {"kind": "bad"}, 400)
    await control(sandbox_client, "POST", "/hipmob/faults", {"nope": 1}, 400)
    await control(sandbox_client, "POST", "/hipmob/latency", {"ms": 50})
    assert sandbox.hipmob.latency == 0.05
    await control(sandbox_client, "POST", "/hipmob/latency", {"ms": "x"}, 400)


async def test_control_devices(
    sandbox: Sandbox, sandbox_client: Client, hipmob: HipmobApi
) -> None:
    device = await control(
        sandbox_client,
        "POST",
        "/hipmob/devices",
        {"app_id": APP, "device_id": "tablet", "platform": "iOS", "accepts": []},
    )
    assert device["connected"] is True
    assert sandbox.hipmob.device(APP, "tablet").accepts == set()
    assert (await hipmob.request("HEAD", f"{DEV}/tablet")).status == 200
    await control(
        sandbox_client, "PATCH", f"/hipmob/devices/{APP}/{FRIEND_1}", {"online": True}
    )
    assert sandbox.hipmob.device(APP, FRIEND_1).pending == 0
    await control(
        sandbox_client, "PATCH", f"/hipmob/devices/{APP}/nope", {"online": True}, 404
    )
    await control(
        sandbox_client, "PATCH", f"/hipmob/devices/{APP}/{DEVICE}", {"online": 1}, 400
    )
    await control(
        sandbox_client,
        "POST",
        "/hipmob/devices",
        {"app_id": "x", "device_id": "y"},
        404,
    )


async def test_control_users_and_accounts(
    sandbox: Sandbox, sandbox_client: Client, hipmob: HipmobApi
) -> None:
    await control(
        sandbox_client, "POST", "/hipmob/accounts", {"account": "kemi", "api_key": "k"}
    )
    await control(
        sandbox_client,
        "POST",
        "/hipmob/users",
        {"account": "kemi", "username": "bayo", "first_name": "B", "last_name": "O"},
    )
    await control(sandbox_client, "PATCH", "/hipmob/users/bayo", {"status": "hours"})
    assert sandbox.hipmob.user("bayo").status == "hours"
    await control(sandbox_client, "PATCH", "/hipmob/users/bayo", {"status": "x"}, 400)
    await control(
        sandbox_client, "PATCH", "/hipmob/users/nobody", {"status": "hours"}, 404
    )
    await control(
        sandbox_client, "PATCH", "/hipmob/accounts/femi", {"payment_required": True}
    )
    assert (await hipmob.request("GET", "/apps")).status == 402
    await control(
        sandbox_client, "PATCH", "/hipmob/accounts/femi", {"payment_required": False}
    )
    assert (await hipmob.request("GET", "/apps")).status == 200


async def test_control_options(
    sandbox: Sandbox, sandbox_client: Client, hipmob: HipmobApi
) -> None:
    options = await control(sandbox_client, "GET", "/hipmob/options")
    assert options == {"empty_body": False, "own_status_refusal": 401}
    options = await control(
        sandbox_client,
        "PATCH",
        "/hipmob/options",
        {"empty_body": True, "own_status_refusal": 400},
    )
    assert options == {"empty_body": True, "own_status_refusal": 400}
    assert sandbox.hipmob.empty_body is True
    state = await control(sandbox_client, "GET", "/hipmob/state")
    assert state["options"] == options
    response = await hipmob.request(
        "POST", "/user/tolu/status", data={"status": "online"}
    )
    assert_outcome(response, 400, "You can only change your own status.")
    assert await response.read() == b""
    for bad in (
        {"own_status_refusal": 403},
        {"own_status_refusal": "400"},
        {"empty_body": 1},
        {"empty_body": None},
        {"verbose": True},
    ):
        await control(sandbox_client, "PATCH", "/hipmob/options", bad, 400)
    await control(sandbox_client, "POST", "/reset")
    assert await control(sandbox_client, "GET", "/hipmob/options") == {
        "empty_body": False,
        "own_status_refusal": 401,
    }


async def test_control_reset(sandbox: Sandbox, sandbox_client: Client) -> None:
    sandbox.hipmob.set_user_status("tolu", "online")
    await control(sandbox_client, "POST", "/reset")
    assert sandbox.hipmob.user("tolu").status == "offline"
