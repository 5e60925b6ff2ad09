"""The sandbox as Hipmob's own libraries see it.

The `hipmob` package (0.5.0) is Python 2 only, so its requests are replayed here as it
builds them: `Authorization: Basic`, paths concatenated onto the base URL, forms
url-encoded with repeated fields (`friend=`, `devices=`), raw bodies with their content
type, `X-Hipmob-Autocreate` and `Content-Length` headers. The answers are read the way
the vendor's code reads them, never from the body: the Python and node libraries match
their patterns against `X-Hipmob-Reason`, the PHP library against the status line
(`HTTP/1.1 404 Application not found.`); JSON documents are recognised by their exact
content type. Every check runs with and without a body.
"""

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
import json
import re
from typing import Any

import aiohttp
import pytest

from sandbox import Sandbox

from .conftest import API_KEY, APP, FRIEND_1, FRIEND_2, JACK

# The error texts the libraries look for, with the status the PHP library expects.
ERRORS = {
    "app": (r"Application not found\.", 404),
    "device": (r"Device not found\.", 404),
    "user": (r"User not found\.", 404),
    "own_status": (r"You can only change your own status\.", 400),
}
MESSAGE_SENT = r"Message sent\."
MESSAGES_SENT = r"(\d*) messages sent\."
FRIEND_REMOVED = r"Friend removed\."
NO_CHANGES = r"No changes made\."
FRIENDS_CLEARED = r"Friend list cleared \((\d*) friends removed\)\."
FRIENDS_ADDED = r"Friend list updated \((\d*) friends added\)\."
STATUS_UPDATED = r'\[(\w*)\] status updated to "(\w*)"'


def vendor(kind: str) -> str:
    """The exact content type the libraries compare a JSON answer's against."""
    return f"application/vnd.com.hipmob.{kind}+json; version=1.0"


@dataclass(frozen=True)
class Answer:
    """What the libraries can see of an answer (the body only for JSON)."""

    status_line: str  # "HTTP/1.1 200 Message sent." (PHP)
    status: int
    reason_header: str | None  # X-Hipmob-Reason (Python, node)
    content_type: str
    body: bytes

    def error(self) -> str | None:
        """The library error the answer raises (each library must see the same)."""
        header = self.reason_header or ""
        python = {n for n, (phrase, _) in ERRORS.items() if re.match(phrase, header)}
        node = {n for n, (phrase, _) in ERRORS.items() if re.search(phrase, header)}
        php = {
            name
            for name, (phrase, status) in ERRORS.items()
            if re.search(rf"HTTP/1\.1 {status} {phrase}", self.status_line)
        }
        assert python == node, self
        # The PHP library knows the own-status refusal only as a 400.
        assert php == python - ({"own_status"} if self.status == 401 else set()), self
        return next(iter(python), None)

    def outcome(self, pattern: str) -> re.Match[str]:
        """A success the way the libraries read it: a 200 whose outcome matches."""
        assert self.status == 200, self
        assert self.error() is None
        header = re.match(pattern, self.reason_header or "")
        line = re.search(rf"HTTP/1\.1 200 {pattern}", self.status_line)
        assert header is not None, f"the Python library refuses {self}"
        assert line is not None, f"the PHP library refuses {self}"
        assert header.groups() == line.groups()
        return header

    def document(self, kind: str) -> Any:
        """A JSON answer, recognised only by its exact content type."""
        assert self.status == 200, self
        assert self.error() is None
        assert self.content_type == vendor(kind)
        return json.loads(self.body)


class Library:
    """Requests shaped as the vendor's library shapes them."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session = session
        self.base = base
        # base64 of "user:key", as `base64.encodestring` without its newline.
        token = base64.b64encode(f"femi:{API_KEY}".encode()).decode()
        self.auth = {"Authorization": f"Basic {token}"}

    async def send(
        self,
        method: str,
        path: str,
        *,
        form: list[tuple[str, str]] | None = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """One request; `form` is url-encoded as `urllib.urlencode(doseq=True)`."""
        all_headers = {**self.auth, **(headers or {})}
        data: Any = body
        if form is not None:
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
            data = form
        async with self.session.request(
            method, self.base + path, data=data, headers=all_headers
        ) as response:
            version = f"{response.version.major}.{response.version.minor}"
            return Answer(
                status_line=f"HTTP/{version} {response.status} {response.reason}",
                status=response.status,
                reason_header=response.headers.get("X-Hipmob-Reason"),
                content_type=response.headers.get("Content-Type", ""),
                body=await response.read(),
            )

    # The methods of the Python library (names as there), then the node extras.

    async def get_applications(self) -> Answer:
        return await self.send("GET", "apps")

    async def get_application(self, app: str) -> Answer:
        return await self.send("GET", f"apps/{app}")

    async def verify_device(self, app: str, device: str) -> Answer:
        return await self.send("HEAD", f"apps/{app}/devices/{device}")

    async def load_device(self, app: str, device: str) -> Answer:
        return await self.send("GET", f"apps/{app}/devices/{device}")

    async def message_count(self, app: str, device: str) -> Answer:
        return await self.send("GET", f"apps/{app}/devices/{device}/messagecount")

    async def device_status(self, app: str, device: str) -> Answer:
        return await self.send("GET", f"apps/{app}/devices/{device}/status")

    async def send_text_message(
        self, app: str, device: str, text: str, *, autocreate: bool = False
    ) -> Answer:
        form = [("text", text)] + ([("autocreate", "true")] if autocreate else [])
        return await self.send(
            "POST", f"apps/{app}/devices/{device}/messages", form=form
        )

    async def send_raw_message(
        self, app: str, device: str, body: bytes, content_type: str, **headers: str
    ) -> Answer:
        """JSON, binary, picture and audio messages: the body as it is."""
        return await self.send(
            "POST",
            f"apps/{app}/devices/{device}/messages",
            body=body,
            headers={"Content-Type": content_type, **headers},
        )

    async def list_friends(self, app: str, device: str) -> Answer:
        return await self.send("GET", f"apps/{app}/devices/{device}/friends")

    async def remove_friend(self, app: str, device: str, friend: str) -> Answer:
        return await self.send(
            "DELETE", f"apps/{app}/devices/{device}/friends/{friend}"
        )

    async def remove_all_friends(self, app: str, device: str) -> Answer:
        return await self.send("DELETE", f"apps/{app}/devices/{device}/friends")

    async def change_friends(
        self, method: str, app: str, device: str, friends: list[str]
    ) -> Answer:
        """`add_friends` (POST) and `set_friends` (PUT): repeated `friend=`."""
        form = [("friend", friend) for friend in friends]
        return await self.send(
            method, f"apps/{app}/devices/{device}/friends", form=form
        )

    async def get_user(self, username: str) -> Answer:
        return await self.send("GET", f"user/{username}")

    async def set_user_status(self, username: str, status: str) -> Answer:
        return await self.send(
            "POST", f"user/{username}/status", form=[("status", status)]
        )

    async def send_text_messages(
        self, app: str, devices: list[str], text: str
    ) -> Answer:
        """The node library's bulk text: one POST with repeated `devices=`."""
        form = [("text", text), *(("devices", device) for device in devices)]
        return await self.send("POST", f"apps/{app}/devices/messages", form=form)


@pytest.fixture(params=[False, True], ids=["body", "empty_body"])
async def library(
    request: pytest.FixtureRequest, sandbox: Sandbox, sandbox_url: str
) -> AsyncIterator[Library]:
    """The vendor's requests against the sandbox, which answers with or without body."""
    sandbox.hipmob.empty_body = request.param
    async with aiohttp.ClientSession() as session:
        yield Library(session, f"{sandbox_url}/hipmob/")


# -- reading data -------------------------------------------------------------------


async def test_documents(library: Library) -> None:
    """Every JSON document carries the content type the libraries compare."""
    apps = (await library.get_applications()).document("App-list")
    assert apps["count"] == 2
    assert apps["values"][0]["id"] == APP
    assert (await library.get_application(APP)).document("App")["id"] == APP
    device = (await library.load_device(APP, JACK)).document("Device")
    assert device["platform"] == "android"
    count = (await library.message_count(APP, FRIEND_1)).document(
        "Device.pendingmessagecount"
    )
    assert count == {"count": 1}
    status = (await library.device_status(APP, JACK)).document("Device.status")
    assert status == {"online": True}
    friends = (await library.list_friends(APP, JACK)).document("DeviceFriends")
    assert friends["pagesize"] == 2
    assert friends["friends"] == [FRIEND_1, FRIEND_2]
    user = (await library.get_user("femi")).document("User")
    assert user["status"] == "online"


async def test_verify_device(library: Library) -> None:
    """HEAD: a 200 raises nothing; an unknown device is "Device not found"."""
    answer = await library.verify_device(APP, JACK)
    assert (answer.status, answer.error()) == (200, None)
    answer = await library.verify_device(APP, "never-seen")
    assert (answer.status, answer.error()) == (404, "device")


# -- messages -------------------------------------------------------------------------


async def test_messages_are_sent(library: Library, sandbox: Sandbox) -> None:
    """Every kind of message reports "Message sent." where the libraries read it."""
    answers = [
        await library.send_text_message(APP, JACK, "hello"),
        await library.send_text_message(APP, "new-phone", "hi", autocreate=True),
        await library.send_raw_message(APP, JACK, b'{"a": 1}', "application/json"),
        await library.send_raw_message(
            APP, "new-tab", b"{}", "application/json", **{"X-Hipmob-Autocreate": "true"}
        ),
        await library.send_raw_message(
            APP, JACK, b"\x00\x01", "application/octet-stream"
        ),
        await library.send_raw_message(
            APP, JACK, b"\x89PNG", "image/png", **{"Content-Length": "4"}
        ),
        await library.send_raw_message(
            APP, JACK, b"ID3", "audio/mp3", **{"Content-Length": "3"}
        ),
    ]
    for answer in answers:
        answer.outcome(MESSAGE_SENT)
    assert len(sandbox.hipmob.device(APP, JACK).messages) == 5


@pytest.mark.parametrize("devices", [[JACK], [JACK, FRIEND_1, "new-phone"]])
async def test_bulk_text_counts_the_messages(
    library: Library, sandbox: Sandbox, devices: list[str]
) -> None:
    """The node library takes N from "N messages sent." (not "Message sent.")."""
    sandbox.hipmob.add_device(APP, "new-phone")
    answer = await library.send_text_messages(APP, devices, "Closing at 6")
    assert re.search(MESSAGE_SENT, answer.reason_header or "") is None
    assert int(answer.outcome(MESSAGES_SENT).group(1)) == len(devices)


async def test_message_to_unknown_device(library: Library) -> None:
    answer = await library.send_text_message(APP, "never-seen", "hi")
    assert (answer.status, answer.error()) == (404, "device")


# -- friends ----------------------------------------------------------------------------


async def test_friend_changes_report_their_counts(
    library: Library, sandbox: Sandbox
) -> None:
    """add, set, remove one, remove all: the counts the libraries parse."""
    add = await library.change_friends("POST", APP, JACK, [FRIEND_1, "new-1", "new-2"])
    assert add.outcome(FRIENDS_ADDED).group(1) == "2"
    (await library.change_friends("POST", APP, JACK, [FRIEND_1])).outcome(NO_CHANGES)
    put = await library.change_friends("PUT", APP, JACK, ["a", "b", "c"])
    assert put.outcome(FRIENDS_ADDED).group(1) == "3"
    (await library.remove_friend(APP, JACK, "a")).outcome(FRIEND_REMOVED)
    # Both libraries accept only this for a friend that is not in the list.
    (await library.remove_friend(APP, JACK, "a")).outcome(NO_CHANGES)
    cleared = await library.remove_all_friends(APP, JACK)
    assert cleared.outcome(FRIENDS_CLEARED).group(1) == "2"
    (await library.remove_all_friends(APP, JACK)).outcome(NO_CHANGES)
    assert sandbox.hipmob.device(APP, JACK).friends == []


# -- users ------------------------------------------------------------------------------


async def test_set_own_status(library: Library) -> None:
    answer = await library.set_user_status("femi", "hours")
    assert answer.outcome(STATUS_UPDATED).groups() == ("femi", "hours")


@pytest.mark.parametrize("refusal", [401, 400])
async def test_own_status_refusal(
    library: Library, sandbox: Sandbox, refusal: int
) -> None:
    """The PHP library recognises it only as a 400; the others by its text."""
    sandbox.hipmob.own_status_refusal = refusal
    answer = await library.set_user_status("tolu", "online")
    assert answer.status == refusal
    assert re.match(ERRORS["own_status"][0], answer.reason_header or "")
    php = re.search(rf"HTTP/1\.1 400 {ERRORS['own_status'][0]}", answer.status_line)
    assert (php is not None) == (refusal == 400)


async def test_unknown_user(library: Library) -> None:
    answer = await library.get_user("nobody")
    assert (answer.status, answer.error()) == (404, "user")


# -- a deleted app ------------------------------------------------------------------------


async def test_unknown_app_on_every_endpoint(library: Library) -> None:
    """Each request about an app the account lacks says "Application not found."."""
    gone = "0" * 32
    answers = [
        await library.get_application(gone),
        await library.verify_device(gone, JACK),
        await library.load_device(gone, JACK),
        await library.message_count(gone, JACK),
        await library.device_status(gone, JACK),
        await library.send_text_message(gone, JACK, "hi", autocreate=True),
        await library.send_text_messages(gone, [JACK, FRIEND_1], "hi"),
        await library.list_friends(gone, JACK),
        await library.change_friends("PUT", gone, JACK, [FRIEND_1]),
        await library.remove_friend(gone, JACK, FRIEND_1),
        await library.remove_all_friends(gone, JACK),
    ]
    assert [(a.status, a.error()) for a in answers] == [(404, "app")] * len(answers)
