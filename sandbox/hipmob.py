"""Hipmob Server API v1 sandbox (https://api.hipmob.com, mounted under /hipmob).

Every answer carries its outcome text as the status line's reason phrase and in the
`X-Hipmob-Reason` header, which is where Hipmob's own libraries read it. Two switches
(`empty_body`, `own_status_refusal`; also `PATCH /_control/hipmob/options`) serve the
variants the vendor's code shows: outcome texts without a body, and the own-status
refusal as 400 (PHP library) instead of 401 (document).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import UTC, datetime
import json
from typing import Any, NamedTuple

from aiohttp import web

from .core import (
    FORM_TYPES,
    ControlRoute,
    Handler,
    Route,
    ServiceError,
    ServiceSandbox,
    json_response,
    read_form,
    read_json_object,
    require,
    text_response,
)


def _vendor(kind: str) -> str:
    return f"application/vnd.com.hipmob.{kind}+json; version=1.0"


CT_APP_LIST = _vendor("App-list")
CT_APP = _vendor("App")
CT_DEVICE = _vendor("Device")
CT_DEVICE_STATUS = _vendor("Device.status")
CT_MESSAGE_COUNT = _vendor("Device.pendingmessagecount")
CT_FRIENDS = _vendor("DeviceFriends")
CT_USER = _vendor("User")

REASON_HEADER = "X-Hipmob-Reason"
# Messages as the API document words them, unless noted.
AUTH_REQUIRED = "Authentication Required"
UNAUTHORIZED = "Unauthorized"
PAYMENT_REQUIRED = "The request failed despite valid authentication."
NO_APP = "No application was specified in the URL."
NO_DEVICE_ID = "No host application identifier was specified in the URL."
NO_FRIEND_ID = "No friend host application identifier was specified in the URL."
NO_USER_ID = "No user was specified in the URL."
# Not-found phrases as the service answers them (the libraries match these).
APP_NOT_FOUND = "Application not found."
DEVICE_NOT_FOUND = "Device not found."
USER_NOT_FOUND = "User not found."
INVALID_MESSAGE = "Invalid message specified."
NO_CONTENT_LENGTH = "No content length specified."
NOT_SUPPORTED_ON_DEVICE = "Content-type not supported on that device."
NO_FRIENDS = "No friends were specified in the request parameters."
NO_STATUS = "No status was specified in the request body."
INVALID_STATUS = "Invalid status was specified."
OWN_STATUS_ONLY = "You can only change your own status."
MESSAGE_SENT = "Message sent."
NO_CHANGES = "No changes made."  # also removing a non-friend, as the libraries expect
FRIEND_REMOVED = "Friend removed."
# The document is silent on these two; the sandbox words them in the same style.
UNSUPPORTED_TYPE = "Content-type not supported."
NO_DEVICES = "No host application identifiers were specified in the request."

STATUSES = ("online", "offline", "hours", "usestatus")
PICTURE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif"})
MEDIA_TYPES = PICTURE_TYPES | {"audio/mp3"}
TEXT_MESSAGE_TYPE = "text/plain"
CHALLENGE = {"WWW-Authenticate": 'Basic realm="Hipmob"'}
# 401 is the document's status for the own-status refusal, 400 the PHP library's.
OWN_STATUS_REFUSALS = (401, 400)
OPTION_TYPES: dict[str, type] = {"empty_body": bool, "own_status_refusal": int}

SEED_ACCOUNT = "femi"
SEED_API_KEY = "hipmob-sandbox-key"
OTHER_ACCOUNT = "ade"
OTHER_API_KEY = "ade-sandbox-key"
SEED_APP = "fedcba0987654321fedcba0987654321"
SEED_APP_2 = "1234567890abcdef1234567890abcdef"
SEED_DEVICE = "AACA914E-B948-4d5f-BF8B-0BDB5CF77B61"
SEED_FRIEND_1 = "9d26cbc2-35d2-4b03-9a2d-3b4d8a64e611"
SEED_FRIEND_2 = "5813cd68-402f-4836-8f9e-acf1aaaf937d"
DEMO_FLIP_DEVICE = SEED_FRIEND_2
DEMO_USER = "tolu"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _check_status(status: str) -> str:
    if status not in STATUSES:
        msg = f"invalid status {status!r}; expected one of {', '.join(STATUSES)}"
        raise ValueError(msg)
    return status


class Message(NamedTuple):
    """A message sent to a device."""

    content_type: str
    body: bytes


@dataclass
class Account:
    """A Hipmob account and its API key."""

    name: str
    api_key: str
    payment_required: bool = False


@dataclass
class App:
    """An application of an account; `devices` by host application identifier."""

    id: str
    account: str
    name: str
    url: str = ""
    created: str = field(default_factory=_now)
    modified: str | None = None
    devices: dict[str, Device] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The API representation (com.hipmob.App)."""
        data = {"id": self.id, "name": self.name, "url": self.url}
        data["created"] = self.created
        if self.modified is not None:
            data["modified"] = self.modified
        return data


@dataclass
class Device:
    """A device record.

    `connected` is false for records only autocreated by a message. `messages` holds
    every message sent to the device, `queued` those not yet delivered.
    """

    id: str
    platform: str = ""
    version: str = ""
    created: str | None = None
    modified: str | None = None
    userdata: dict[str, str] = field(default_factory=dict)
    online: bool = False
    connected: bool = False
    accepts: set[str] | None = None  # media types it can show; None: all
    friends: list[str] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    queued: list[Message] = field(default_factory=list)

    @property
    def pending(self) -> int:
        """The number of undelivered messages."""
        return len(self.queued)

    def receive(self, message: Message) -> None:
        """Deliver a message now if online, else queue it."""
        self.messages.append(message)
        if not self.online:
            self.queued.append(message)

    def set_online(self, online: bool) -> None:
        """Come online (connecting and taking the queue) or go offline."""
        self.online = online
        if online:
            if self.connected:
                self.modified = _now()
            else:
                self.connected = True
                self.created = self.created or _now()
            self.queued.clear()

    def to_json(self) -> dict[str, Any]:
        """The API representation (com.hipmob.Device)."""
        data: dict[str, Any] = {
            "id": self.id,
            "platform": self.platform,
            "version": self.version,
        }
        for key, value in (("created", self.created), ("modified", self.modified)):
            if value is not None:
                data[key] = value
        data["userdata"] = dict(self.userdata)
        return data


@dataclass
class User:
    """A Hipmob user (an operator of an account)."""

    username: str
    account: str
    first_name: str
    last_name: str
    status: str = "offline"

    def to_json(self) -> dict[str, Any]:
        """The API representation (com.hipmob.User)."""
        return {
            "username": self.username,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "status": self.status,
        }


ACCOUNT = web.RequestKey("hipmob_account", Account)
DEVICE_PATH = "/apps/{app:[^/]*}/devices/{device:[^/]*}"


class HipmobSandbox(ServiceSandbox):
    """The Hipmob Server API v1, seeded with the document's example data."""

    name = "hipmob"

    accounts: dict[str, Account]
    apps: dict[str, App]
    users: dict[str, User]
    empty_body: bool  # outcome texts only in the reason phrase and the header
    own_status_refusal: int  # 401 (document) or 400 (PHP library)

    # -- state helpers ---------------------------------------------------------

    def seed(self) -> None:
        """Load the document's example data (see the module constants)."""
        self.accounts, self.apps, self.users = {}, {}, {}
        self.empty_body, self.own_status_refusal = False, OWN_STATUS_REFUSALS[0]
        self.add_account(SEED_ACCOUNT, SEED_API_KEY, "Femi", "Omojola")
        self.set_user_status(SEED_ACCOUNT, "online")
        self.add_user(SEED_ACCOUNT, DEMO_USER, "Tolu", "Adebayo")
        self.add_app(
            SEED_ACCOUNT,
            SEED_APP,
            "Hipmob Testing",
            "hipmobtest.com",
            created="2012-06-26T18:06:27.893Z",
            modified="2012-07-31T18:39:07.476Z",
        )
        self.add_app(
            SEED_ACCOUNT,
            SEED_APP_2,
            "Testing 3",
            "https://manage.hipmob.com/",
            created="2012-07-31T06:41:26.985Z",
            modified="2012-07-31T06:41:26.985Z",
        )
        main = self.add_device(
            SEED_APP,
            SEED_DEVICE,
            online=True,
            userdata={
                "locale": "US",
                "lastcontext": "On the Carrier",
                "name": "Jack Hawksmoor",
                "email": "jack.hawksmoor@theauthority.com",
            },
            created="2012-07-29T18:44:44.300Z",
            modified="2012-07-29T23:43:49.952Z",
        )
        for device_id, user, created in (
            (SEED_FRIEND_1, "Jenny Sparks", "2012-07-30T09:12:03.118Z"),
            (SEED_FRIEND_2, "Angela Spica", "2012-07-30T11:27:45.602Z"),
        ):
            self.add_device(
                SEED_APP,
                device_id,
                platform="iOS",
                version="6.0",
                userdata={"locale": "UK", "name": user},
                created=created,
            )
            main.friends.append(device_id)
        self.send_message(SEED_APP, SEED_FRIEND_1, "Welcome back! Tap to continue.")
        self.add_account(OTHER_ACCOUNT, OTHER_API_KEY, "Ade", "Okafor")

    def add_account(
        self,
        account: str,
        api_key: str,
        first_name: str | None = None,
        last_name: str = "",
    ) -> Account:
        """Add (or re-key) an account, creating its own user `account` if needed."""
        record = self.accounts.get(account)
        if record is None:
            record = self.accounts[account] = Account(account, api_key)
        record.api_key = api_key
        if account not in self.users:
            self.add_user(account, account, first_name or account.title(), last_name)
        return record

    def set_payment_required(self, account: str, required: bool) -> None:
        """Make every request of the account answer 402 (or stop doing so)."""
        self.accounts[account].payment_required = required

    def add_app(
        self,
        account: str,
        app_id: str,
        name: str,
        url: str = "",
        *,
        created: str | None = None,
        modified: str | None = None,
    ) -> App:
        """Add (or update) an application of an existing account."""
        if account not in self.accounts:
            raise KeyError(account)
        app = self.apps.get(app_id)
        if app is None:
            app = self.apps[app_id] = App(app_id, account, name, url)
        app.account, app.name, app.url = account, name, url
        app.created = created or app.created
        app.modified = modified or app.modified
        return app

    def add_device(  # noqa: PLR0917 - positional order is the documented helper API
        self,
        app_id: str,
        device_id: str,
        online: bool = False,
        connected: bool = True,
        platform: str = "android",
        version: str = "8",
        userdata: dict[str, str] | None = None,
        accepts: set[str] | None = None,
        *,
        created: str | None = None,
        modified: str | None = None,
    ) -> Device:
        """Add (or update, keeping its friends and messages) a device of an app."""
        devices = self.apps[app_id].devices
        device = devices.get(device_id)
        if device is None:
            device = devices[device_id] = Device(device_id)
        device.platform, device.version = platform, version
        device.userdata = dict(userdata or {})
        device.accepts = set(accepts) if accepts is not None else None
        device.connected = connected or online or device.connected
        if device.connected:
            device.created = created or device.created or _now()
        device.modified = modified or device.modified
        device.online = online
        if online:
            device.queued.clear()
        return device

    def device(self, app_id: str, device_id: str) -> Device:
        """A device record (KeyError if unknown)."""
        return self.apps[app_id].devices[device_id]

    def set_online(self, app_id: str, device_id: str, online: bool) -> None:
        """Bring a device online (delivering its queue) or offline."""
        self.device(app_id, device_id).set_online(online)

    def send_message(
        self,
        app_id: str,
        device_id: str,
        body: str | bytes,
        content_type: str = TEXT_MESSAGE_TYPE,
    ) -> Device:
        """Send a message to a device as the API would, autocreating it."""
        devices = self.apps[app_id].devices
        device = devices.setdefault(device_id, Device(device_id))
        data = body.encode() if isinstance(body, str) else body
        device.receive(Message(content_type, data))
        return device

    def add_user(
        self,
        account: str,
        username: str,
        first_name: str,
        last_name: str,
        status: str = "offline",
    ) -> User:
        """Add (or update) a user of an existing account."""
        if account not in self.accounts:
            raise KeyError(account)
        user = User(username, account, first_name, last_name, _check_status(status))
        self.users[username] = user
        return user

    def user(self, username: str) -> User:
        """A user record (KeyError if unknown)."""
        return self.users[username]

    def set_user_status(self, username: str, status: str) -> None:
        """Change a user's availability status."""
        self.users[username].status = _check_status(status)

    # -- service hooks -----------------------------------------------------------

    def routes(self) -> list[Route]:
        """The API routes, as the document lists them."""
        friends = DEVICE_PATH + "/friends"
        return [
            Route("GET", "/apps", self._list_apps, CT_APP_LIST),
            Route("GET", "/apps/{app:[^/]*}", self._get_app, CT_APP),
            Route("POST", "/apps/{app:[^/]*}/devices/messages", self._send_to_many),
            Route("HEAD", DEVICE_PATH, self._device_exists),
            Route("GET", DEVICE_PATH, self._get_device, CT_DEVICE),
            Route("GET", DEVICE_PATH + "/status", self._status, CT_DEVICE_STATUS),
            Route("GET", DEVICE_PATH + "/messagecount", self._count, CT_MESSAGE_COUNT),
            Route("POST", DEVICE_PATH + "/messages", self._send),
            Route("GET", friends, self._get_friends, CT_FRIENDS),
            Route("POST", friends, self._add_friends),
            Route("PUT", friends, self._set_friends),
            Route("DELETE", friends, self._clear_friends),
            Route("DELETE", friends + "/{friend:[^/]*}", self._remove_friend),
            Route("GET", "/user/{username:[^/]*}", self._get_user, CT_USER),
            Route("POST", "/user/{username:[^/]*}/status", self._set_status),
        ]

    async def before_handler(self, request: web.Request) -> None:
        """Authenticate with HTTP basic auth (account:api_key)."""
        request[ACCOUNT] = self._authenticate(request.headers.get("Authorization"))

    async def handle(
        self, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        """Every answer names its outcome in the header (JSON ones their phrase)."""
        response = await super().handle(request, handler)
        response.headers.setdefault(REASON_HEADER, response.reason)
        return response

    def error_response(self, error: ServiceError) -> web.Response:
        """The message as reason phrase, header and (unless switched off) body."""
        response = self._outcome(error.message, error.status)
        response.headers.update(error.headers)
        return response

    def _outcome(self, text: str, status: int = 200) -> web.Response:
        """A plain-text outcome, as Hipmob answers every change and every error."""
        response = text_response("" if self.empty_body else text, status, reason=text)
        response.headers[REASON_HEADER] = text
        return response

    def set_options(
        self, *, empty_body: bool | None = None, own_status_refusal: int | None = None
    ) -> dict[str, Any]:
        """Switch the answer variants the vendor's code shows; returns them all."""
        if own_status_refusal is not None:
            if own_status_refusal not in OWN_STATUS_REFUSALS:
                msg = f"own_status_refusal must be one of {OWN_STATUS_REFUSALS}"
                raise ValueError(msg)
            self.own_status_refusal = own_status_refusal
        if empty_body is not None:
            self.empty_body = empty_body
        return self.options()

    def options(self) -> dict[str, Any]:
        """The answer variants in effect."""
        return {
            "empty_body": self.empty_body,
            "own_status_refusal": self.own_status_refusal,
        }

    def control_routes(self) -> list[ControlRoute]:
        """State changes for scripts and the demo, mirroring the Python helpers."""
        return [
            ControlRoute("POST", "/accounts", self._control_add_account),
            ControlRoute("PATCH", "/accounts/{account}", self._control_patch_account),
            ControlRoute("POST", "/apps", self._control_add_app),
            ControlRoute("POST", "/devices", self._control_add_device),
            ControlRoute(
                "PATCH", "/devices/{app}/{device}", self._control_patch_device
            ),
            ControlRoute("POST", "/users", self._control_add_user),
            ControlRoute("PATCH", "/users/{username}", self._control_patch_user),
            ControlRoute("GET", "/options", self._control_options),
            ControlRoute("PATCH", "/options", self._control_patch_options),
        ]

    def state(self) -> dict[str, Any]:
        """Accounts, apps with their devices, and users."""
        return {
            "options": self.options(),
            "accounts": [
                {
                    "account": a.name,
                    "api_key": a.api_key,
                    "payment_required": a.payment_required,
                }
                for a in self.accounts.values()
            ],
            "apps": [
                {
                    **app.to_json(),
                    "account": app.account,
                    "devices": [_device_state(d) for d in app.devices.values()],
                }
                for app in self.apps.values()
            ],
            "users": [
                {**user.to_json(), "account": user.account}
                for user in self.users.values()
            ],
        }

    def summary(self) -> list[str]:
        """Credentials and ids worth knowing when pointing a client here."""
        lines = [
            f"account {a.name!r} api_key {a.api_key!r}" for a in self.accounts.values()
        ]
        lines += [
            f"app {app.id} ({app.name}, account {app.account}): "
            f"devices {', '.join(app.devices) or '-'}"
            for app in self.apps.values()
        ]
        lines.append(f"users: {', '.join(self.users)}")
        return lines

    def demo_step(self, step: int) -> None:
        """Flip a device, queue a message for an offline one, cycle a user status."""
        app = self.apps.get(SEED_APP)
        if app is not None:
            # Three 20 s steps per 60 s poll: a flip every step shows at each poll.
            for device_id, period in ((DEMO_FLIP_DEVICE, 1), (SEED_FRIEND_1, 4)):
                device = app.devices.get(device_id)
                if device is not None and step % period == 0:
                    device.set_online(not device.online)
            offline = [d for d in app.devices.values() if not d.online]
            if offline:
                target = offline[step % len(offline)]
                target.receive(Message(TEXT_MESSAGE_TYPE, f"Demo #{step}".encode()))
        user = self.users.get(DEMO_USER)
        if user is not None:
            user.status = STATUSES[(STATUSES.index(user.status) + 1) % len(STATUSES)]

    # -- request helpers -----------------------------------------------------------

    def _authenticate(self, header: str | None) -> Account:
        scheme, _, credentials = (header or "").partition(" ")
        if scheme.lower() != "basic":
            raise ServiceError(401, AUTH_REQUIRED, CHALLENGE)
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
        except binascii.Error, UnicodeDecodeError:
            raise ServiceError(401, UNAUTHORIZED, CHALLENGE) from None
        name, _, key = decoded.partition(":")
        account = self.accounts.get(name)
        if account is None or account.api_key != key:
            raise ServiceError(401, UNAUTHORIZED, CHALLENGE)
        if account.payment_required:
            raise ServiceError(402, PAYMENT_REQUIRED)
        return account

    def _app(self, request: web.Request) -> App:
        app_id = request.match_info["app"]
        if not app_id:
            raise ServiceError(400, NO_APP)
        app = self.apps.get(app_id)
        if app is None or app.account != request[ACCOUNT].name:
            raise ServiceError(404, APP_NOT_FOUND)
        return app

    def _target(self, request: web.Request) -> tuple[App, str]:
        """The app and the (non-empty) device id named in the URL."""
        device_id = request.match_info["device"]
        if request.match_info["app"] and not device_id:
            raise ServiceError(400, NO_DEVICE_ID)
        return self._app(request), device_id

    def _connected_device(self, request: web.Request) -> Device:
        app, device_id = self._target(request)
        device = app.devices.get(device_id)
        if device is None or not device.connected:
            raise ServiceError(404, DEVICE_NOT_FOUND)
        return device

    @staticmethod
    def _recipients(app: App, device_ids: list[str], autocreate: bool) -> list[Device]:
        """All recipients, or a 404 before anything is created or sent."""
        if not autocreate and any(d not in app.devices for d in device_ids):
            raise ServiceError(404, DEVICE_NOT_FOUND)
        return [app.devices.setdefault(d, Device(d)) for d in device_ids]

    @staticmethod
    async def _read_message(request: web.Request) -> tuple[Message, bool]:
        """The message in the body and whether autocreate was asked for."""
        content_type = request.content_type
        if content_type in FORM_TYPES:
            form = await read_form(request)
            text = form.get("text", "")
            if not text:
                raise ServiceError(400, INVALID_MESSAGE)
            message = Message(TEXT_MESSAGE_TYPE, text.encode())
            return message, form.get("autocreate") == "true"
        body = await request.read()
        if content_type == "application/json":
            try:
                json.loads(body)
            except ValueError:
                raise ServiceError(400, INVALID_MESSAGE) from None
        elif content_type in MEDIA_TYPES:
            if request.content_length is None:
                raise ServiceError(400, NO_CONTENT_LENGTH)
            if not body:
                raise ServiceError(400, INVALID_MESSAGE)
        elif content_type == "application/octet-stream":
            if not body:
                raise ServiceError(400, INVALID_MESSAGE)
        else:
            raise ServiceError(415, UNSUPPORTED_TYPE)
        autocreate = request.headers.get("X-Hipmob-Autocreate") == "true"
        return Message(content_type, body), autocreate

    @staticmethod
    async def _friend_fields(request: web.Request) -> list[str]:
        form = await read_form(request)
        friends = list(dict.fromkeys(f for f in form.getall("friend", []) if f))
        if not friends:
            raise ServiceError(400, NO_FRIENDS)
        return friends

    # -- API handlers ------------------------------------------------------------

    async def _list_apps(self, request: web.Request) -> web.Response:
        account = request[ACCOUNT].name
        apps = [a.to_json() for a in self.apps.values() if a.account == account]
        return json_response({"count": len(apps), "values": apps}, CT_APP_LIST)

    async def _get_app(self, request: web.Request) -> web.Response:
        return json_response(self._app(request).to_json(), CT_APP)

    async def _device_exists(self, request: web.Request) -> web.Response:
        self._connected_device(request)
        return web.Response()

    async def _get_device(self, request: web.Request) -> web.Response:
        return json_response(self._connected_device(request).to_json(), CT_DEVICE)

    async def _status(self, request: web.Request) -> web.Response:
        app, device_id = self._target(request)
        device = app.devices.get(device_id)
        online = device is not None and device.online
        return json_response({"online": online}, CT_DEVICE_STATUS)

    async def _count(self, request: web.Request) -> web.Response:
        app, device_id = self._target(request)
        device = app.devices.get(device_id)
        count = device.pending if device is not None else 0
        return json_response({"count": count}, CT_MESSAGE_COUNT)

    async def _send(self, request: web.Request) -> web.Response:
        app, device_id = self._target(request)
        message, autocreate = await self._read_message(request)
        device = self._recipients(app, [device_id], autocreate)[0]
        kind, accepts = message.content_type, device.accepts
        if kind in MEDIA_TYPES and accepts is not None and kind not in accepts:
            raise ServiceError(415, NOT_SUPPORTED_ON_DEVICE)
        device.receive(message)
        return self._outcome(MESSAGE_SENT)

    async def _send_to_many(self, request: web.Request) -> web.Response:
        app = self._app(request)
        form = await read_form(request)
        device_ids = list(dict.fromkeys(d for d in form.getall("devices", []) if d))
        if not device_ids:
            raise ServiceError(400, NO_DEVICES)
        text = form.get("text", "")
        if not text:
            raise ServiceError(400, INVALID_MESSAGE)
        autocreate = form.get("autocreate") == "true"
        for device in self._recipients(app, device_ids, autocreate):
            device.receive(Message(TEXT_MESSAGE_TYPE, text.encode()))
        # The node library reads the count from this (also "1 messages sent.").
        return self._outcome(f"{len(device_ids)} messages sent.")

    async def _get_friends(self, request: web.Request) -> web.Response:
        app, device_id = self._target(request)
        device = app.devices.get(device_id)
        friends = list(device.friends) if device is not None else []
        data = {
            "index": 0,
            "pagesize": len(friends),
            "total": len(friends),
            "friends": friends,
        }
        return json_response(data, CT_FRIENDS)

    async def _add_friends(self, request: web.Request) -> web.Response:
        added = await self._update_friends(request, replace=False)
        if not added:
            return self._outcome(NO_CHANGES)
        return self._outcome(f"Friend list updated ({added} friends added).")

    async def _set_friends(self, request: web.Request) -> web.Response:
        added = await self._update_friends(request, replace=True)
        return self._outcome(f"Friend list updated ({added} friends added).")

    async def _update_friends(self, request: web.Request, *, replace: bool) -> int:
        app, device_id = self._target(request)
        friends = await self._friend_fields(request)
        device = app.devices.get(device_id)
        if device is None:
            raise ServiceError(404, DEVICE_NOT_FOUND)
        if replace:
            device.friends.clear()
        added = [f for f in friends if f not in device.friends]
        device.friends.extend(added)
        return len(added)

    async def _clear_friends(self, request: web.Request) -> web.Response:
        app, device_id = self._target(request)
        device = app.devices.get(device_id)
        if device is None or not device.friends:
            return self._outcome(NO_CHANGES)
        removed = len(device.friends)
        device.friends.clear()
        return self._outcome(f"Friend list cleared ({removed} friends removed).")

    async def _remove_friend(self, request: web.Request) -> web.Response:
        app, device_id = self._target(request)
        friend = request.match_info["friend"]
        if not friend:
            raise ServiceError(400, NO_FRIEND_ID)
        device = app.devices.get(device_id)
        if device is None or friend not in device.friends:
            # The document says "No friends removed."; the libraries accept only this.
            return self._outcome(NO_CHANGES)
        device.friends.remove(friend)
        return self._outcome(FRIEND_REMOVED)

    async def _get_user(self, request: web.Request) -> web.Response:
        username = request.match_info["username"]
        if not username:
            raise ServiceError(400, NO_USER_ID)
        user = self.users.get(username)
        if user is None or user.account != request[ACCOUNT].name:
            raise ServiceError(404, USER_NOT_FOUND)
        return json_response(user.to_json(), CT_USER)

    async def _set_status(self, request: web.Request) -> web.Response:
        username = request.match_info["username"]
        if not username:
            raise ServiceError(400, NO_USER_ID)
        if username != request[ACCOUNT].name:  # a permission answer, not an auth one
            raise ServiceError(self.own_status_refusal, OWN_STATUS_ONLY)
        status = (await read_form(request)).get("status", "")
        if not status:
            raise ServiceError(400, NO_STATUS)
        if status not in STATUSES:
            raise ServiceError(400, INVALID_STATUS)
        self.set_user_status(username, status)
        return self._outcome(f'[{username}] status updated to "{status}"')

    # -- control handlers ------------------------------------------------------------

    async def _control_add_account(self, request: web.Request) -> object:
        body = await read_json_object(request)
        payment_required = bool(body.pop("payment_required", False))
        account = self.add_account(**body)
        account.payment_required = payment_required
        return {"account": account.name, "payment_required": payment_required}

    async def _control_patch_account(self, request: web.Request) -> object:
        name = request.match_info["account"]
        required = require(await read_json_object(request), "payment_required", bool)
        self.set_payment_required(name, required)
        return {"account": name, "payment_required": required}

    async def _control_add_app(self, request: web.Request) -> object:
        return self.add_app(**await read_json_object(request)).to_json()

    async def _control_add_device(self, request: web.Request) -> object:
        body = await read_json_object(request)
        accepts = body.pop("accepts", None)
        if accepts is not None and not isinstance(accepts, list):
            msg = "field 'accepts' must be a list of content types"
            raise TypeError(msg)
        accepted = set(accepts) if accepts is not None else None
        return _device_state(self.add_device(**body, accepts=accepted))

    async def _control_patch_device(self, request: web.Request) -> object:
        app_id, device_id = request.match_info["app"], request.match_info["device"]
        online = require(await read_json_object(request), "online", bool)
        self.set_online(app_id, device_id, online)
        return _device_state(self.device(app_id, device_id))

    async def _control_add_user(self, request: web.Request) -> object:
        user = self.add_user(**await read_json_object(request))
        return {**user.to_json(), "account": user.account}

    async def _control_patch_user(self, request: web.Request) -> object:
        username = request.match_info["username"]
        status = require(await read_json_object(request), "status", str)
        self.set_user_status(username, status)
        return self.user(username).to_json()

    async def _control_options(self, _request: web.Request) -> object:
        return self.options()

    async def _control_patch_options(self, request: web.Request) -> object:
        body = await read_json_object(request)
        if unknown := sorted(set(body) - set(OPTION_TYPES)):
            msg = f"unknown options: {', '.join(unknown)}"
            raise ValueError(msg)
        return self.set_options(**{k: require(body, k, OPTION_TYPES[k]) for k in body})


def _device_state(device: Device) -> dict[str, Any]:
    return {
        **device.to_json(),
        "online": device.online,
        "connected": device.connected,
        "pending": device.pending,
        "messages": len(device.messages),
        "friends": list(device.friends),
        "accepts": sorted(device.accepts) if device.accepts is not None else None,
    }
