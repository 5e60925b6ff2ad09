"""Client for the Hipmob Server API v1.

Hipmob states every outcome (success and error) in the `X-Hipmob-Reason` header and as
the status line's reason phrase; the body may be empty. Its libraries read the header
or the status line, so this client does too, with the body only as a fallback.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
import re
from typing import Any
from urllib.parse import quote

import aiohttp

from .errors import (
    CommHubNotFoundError,
    CommHubPermissionError,
    CommHubResponseError,
)
from .http import HttpClient, RawResponse

HIPMOB_API_URL = "https://api.hipmob.com"
REASON_HEADER = "X-Hipmob-Reason"
# The service's phrase (which the libraries match) and the document's prose.
_APP_NOT_FOUND = re.compile(
    r"Application not found|specified application could not be found", re.IGNORECASE
)
_OWN_STATUS_ONLY = re.compile(r"only change your own status", re.IGNORECASE)
USER_STATUSES = ("online", "offline", "hours", "usestatus")
PICTURE_TYPES = ("image/png", "image/jpeg", "image/gif")
AUDIO_TYPE = "audio/mp3"
JSON_TYPE = "application/json"
BINARY_TYPE = "application/octet-stream"
SENDABLE_TYPES = (*PICTURE_TYPES, AUDIO_TYPE, JSON_TYPE, BINARY_TYPE)


@dataclass(frozen=True, slots=True)
class HipmobApp:
    """An application of the account (its id is the app's mobile key)."""

    id: str
    name: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class HipmobDevice:
    """A device that has connected to the Hipmob network."""

    id: str
    platform: str | None = None
    version: str | None = None
    userdata: Mapping[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str | None:
        """The name the host application reported for its user, if any."""
        return self.userdata.get("name")


@dataclass(frozen=True, slots=True)
class HipmobUser:
    """A Hipmob operator."""

    username: str
    first_name: str | None
    last_name: str | None
    status: str

    @property
    def full_name(self) -> str:
        """First and last name, or the username when there are none."""
        names = [n for n in (self.first_name, self.last_name) if n]
        return " ".join(names) or self.username


def _segment(value: str) -> str:
    """Quote a path segment so an identifier cannot change the path."""
    return quote(value, safe="")


def _optional_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def _changed_count(outcome: str) -> int:
    """Friends added/removed according to a friend-list answer's outcome."""
    if match := re.search(r"\d+", outcome):
        return int(match.group())
    if not outcome:
        raise CommHubResponseError("friend list answer without an outcome")
    # "Friend removed." counts one; "No changes made." / "No friends removed." none.
    return 0 if outcome.lower().startswith("no ") else 1


def _stock_phrase(status: int) -> str:
    """The standard reason phrase of a status code ("" for unregistered ones)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


class HipmobAppNotFoundError(CommHubNotFoundError):
    """The entry's app is gone (deleted, or no longer the account's)."""


class HipmobClient(HttpClient):
    """One Hipmob account."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        account: str,
        api_key: str,
        base_url: str = HIPMOB_API_URL,
        **kwargs: Any,
    ) -> None:
        """Authenticate as `account` with its API key."""
        super().__init__(session, base_url, **kwargs)
        self.account = account
        self._authorization = aiohttp.encode_basic_auth(account, api_key)

    def _auth_headers(self) -> Mapping[str, str]:
        return {"Authorization": self._authorization}

    def _outcome(self, response: RawResponse) -> str:
        """Hipmob's outcome text: the header, the status line, else the body."""
        reason = response.reason
        # A stock phrase ("Bad Request") says less than a body a proxy wrote.
        if reason == _stock_phrase(response.status):
            reason = ""
        for text in (response.headers.get(REASON_HEADER, ""), reason, response.text):
            if text.strip():
                return text.strip()
        return ""

    def _error_message(self, response: RawResponse) -> str:
        return (
            self._outcome(response)[:300]
            or response.reason
            or f"HTTP {response.status}"
        )

    def _raise_for_status(self, response: RawResponse) -> None:
        if response.status in (400, 401, 404):
            message = self._error_message(response)
            if response.status != 404 and _OWN_STATUS_ONLY.search(message):
                # 401 (document) or 400 (PHP library): a refusal, the key is fine.
                raise CommHubPermissionError(response.status, message)
            if response.status == 404 and _APP_NOT_FOUND.search(message):
                raise HipmobAppNotFoundError(response.status, message)
        super()._raise_for_status(response)

    def _device_path(self, app: str, device_id: str) -> str:
        return f"/apps/{_segment(app)}/devices/{_segment(device_id)}"

    async def list_apps(self) -> list[HipmobApp]:
        """The account's applications; also proves the credentials."""
        data = (await self.request("GET", "/apps")).json_object()
        values = data.get("values")
        if not isinstance(values, list):
            raise CommHubResponseError("app list without values")
        return [
            HipmobApp(
                item["id"],
                _optional_str(item, "name") or item["id"],
                _optional_str(item, "url"),
            )
            for item in values
            if isinstance(item, dict) and isinstance(item.get("id"), str)
        ]

    async def get_device(self, app: str, device_id: str) -> HipmobDevice | None:
        """Details of a device; None if it has never connected to Hipmob."""
        try:
            response = await self.request("GET", self._device_path(app, device_id))
        except HipmobAppNotFoundError:
            raise  # the app itself is gone, not just this device
        except CommHubNotFoundError:
            return None
        data = response.json_object()
        userdata = data.get("userdata")
        return HipmobDevice(
            id=device_id,
            platform=_optional_str(data, "platform"),
            version=_optional_str(data, "version"),
            userdata={k: v for k, v in (userdata or {}).items() if isinstance(v, str)}
            if isinstance(userdata, dict)
            else {},
        )

    async def device_online(self, app: str, device_id: str) -> bool:
        """Whether the device is connected right now."""
        path = f"{self._device_path(app, device_id)}/status"
        online = (await self.request("GET", path)).json_object().get("online")
        if not isinstance(online, bool):
            raise CommHubResponseError("device status without online flag")
        return online

    async def pending_messages(self, app: str, device_id: str) -> int:
        """Messages sent to the device and not delivered yet."""
        path = f"{self._device_path(app, device_id)}/messagecount"
        count = (await self.request("GET", path)).json_object().get("count")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise CommHubResponseError("message count is not a number")
        return count

    async def get_user(self, username: str) -> HipmobUser:
        """A user's details and availability status."""
        data = (await self.request("GET", f"/user/{_segment(username)}")).json_object()
        status = data.get("status")
        if not isinstance(status, str):
            raise CommHubResponseError("user without status")
        return HipmobUser(
            username=_optional_str(data, "username") or username,
            first_name=_optional_str(data, "first_name"),
            last_name=_optional_str(data, "last_name"),
            status=status,
        )

    async def set_user_status(self, username: str, status: str) -> None:
        """Set the authenticated user's availability (another's: permission error)."""
        await self.request(
            "POST", f"/user/{_segment(username)}/status", data={"status": status}
        )

    async def send_text(
        self, app: str, device_ids: Sequence[str], text: str, *, autocreate: bool
    ) -> None:
        """Send one text to one device, or to several in a single request."""
        form: list[tuple[str, str]] = [("text", text)]
        if autocreate:
            form.append(("autocreate", "true"))
        if len(device_ids) == 1:
            path = f"{self._device_path(app, device_ids[0])}/messages"
        else:
            path = f"/apps/{_segment(app)}/devices/messages"
            form.extend(("devices", device_id) for device_id in device_ids)
        await self.request("POST", path, data=form)

    async def send_content(
        self,
        app: str,
        device_id: str,
        body: bytes,
        content_type: str,
        *,
        autocreate: bool,
    ) -> None:
        """Send a picture, audio, JSON or binary message as raw bytes."""
        headers = {"Content-Type": content_type, "Content-Length": str(len(body))}
        if autocreate:
            headers["X-Hipmob-Autocreate"] = "true"
        path = f"{self._device_path(app, device_id)}/messages"
        await self.request("POST", path, data=body, headers=headers)

    async def change_friends(
        self, app: str, device_id: str, method: str, friends: Sequence[str] = ()
    ) -> int:
        """POST adds, PUT replaces, DELETE clears; returns the count Hipmob reports."""
        path = f"{self._device_path(app, device_id)}/friends"
        form = [("friend", friend) for friend in friends]
        response = await self.request(method, path, data=form or None)
        return _changed_count(self._outcome(response))

    async def remove_friend(self, app: str, device_id: str, friend: str) -> int:
        """Remove one friend; 1 if it was in the list, else 0."""
        path = f"{self._device_path(app, device_id)}/friends/{_segment(friend)}"
        return _changed_count(self._outcome(await self.request("DELETE", path)))
