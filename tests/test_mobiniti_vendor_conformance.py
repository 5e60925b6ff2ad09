"""Mobiniti's own PHP client (`mobiniti/api-php-client`) against the sandbox.

The client's requests are replayed as its `Http` and `Auth` classes send them
through Guzzle 6: `{api_url}/v1/{uri}`, `Authorization: Bearer`, every request
(GET and DELETE too) with the option `json` (so `Content-Type: application/json`
and a body, `[]` when there is nothing to send), no `Accept` of its own (curl's
`*/*`), lists paged with `limit=100&page=1`; scheduled messages under
`messages/schedule`; the token request as a form. Answers are read as that code reads them: 200-299 decoded as
JSON (an empty body is null), errors by status with `$json->message`,
`$json->status` and `$json->errors` where it reads them, the token answer only
with status 200 exactly. The client has no unsubscribe and no lookup: those two
are replayed in the document's shape through the same `Http` code.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
import json
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import pytest

from custom_components.commhub.api.mobiniti import SCOPES
from sandbox import Sandbox
from sandbox.mobiniti import (
    CLIENT_ID,
    CLIENT_SECRET,
    SEED_JANE,
    SEED_JOHN,
    SEED_LEE,
    SEED_TOKEN,
    SEED_UNSUBSCRIBED,
    SchedulePaths,
)

# Guzzle 6 names itself; the service must not care.
USER_AGENT = "GuzzleHttp/6.5.5 curl/7.68.0 PHP/7.4.3"
REDIRECT_URI = "https://example.com/mobiniti/callback"
# The statuses `Http::request` turns into exceptions, and what it reads for each.
READS_BODY = {400, 401, 402, 405, 422}
FIXED_MESSAGES = {
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
    504: "Service Unavailable",
}


class VendorError(Exception):
    """An exception of the vendor's client: its message, code and errors."""

    def __init__(self, message: str, status: int, errors: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.errors = errors if errors is not None else []


def php_json_encode(value: Any) -> str:
    """PHP's `json_encode` defaults: compact, `/` escaped, non-ASCII as \\uXXXX."""
    return json.dumps(value, separators=(",", ":")).replace("/", "\\/")


def php_property(data: Any, key: str) -> Any:
    """`$json->key`: the body must be an object that has it."""
    assert isinstance(data, dict), f"{data!r} is no object: ->{key} fails"
    assert key in data, f"->{key} is missing in {data!r}"
    return data[key]


def vendor_error(status: int, body: bytes) -> VendorError:
    """The exception `Http::request` throws for an error answer."""
    if status in FIXED_MESSAGES:  # these branches never read the body
        return VendorError(FIXED_MESSAGES[status], status)
    assert status in READS_BODY, f"{status} would be 'Not Implemented'"
    data = json.loads(body)  # json_decode: anything else is null, then ->message fails
    if status == 401 and data.get("error") == "access_denied":
        return VendorError("The server denied the request.", 403, data.get("errors"))
    message = php_property(data, "message")
    assert isinstance(message, str)
    assert message
    if status in {400, 422}:
        return VendorError(message, php_property(data, "status"), data.get("errors"))
    return VendorError(message, status, data.get("errors"))


@dataclass
class PhpClient:
    """`Mobiniti\\Api\\Client` with its `Http`, as far as CommHub's endpoints go."""

    session: aiohttp.ClientSession
    api_url: str
    access_token: str
    last_request_id: str | None = None

    async def request(
        self,
        uri: str,
        method: str,
        body: Any = None,
        query: dict[str, int] | None = None,
    ) -> Any:
        """`Http::request`: the decoded answer, or the exception it throws."""
        url = f"{self.api_url}/v1/{uri}"
        if query:
            url += "?" + urlencode(query)
        headers = {
            "User-Agent": USER_AGENT,
            "Content-Type": "application/json",
            "Authorization": f"Bearer {self.access_token}",
        }
        payload = php_json_encode([] if body is None else body)
        async with self.session.request(
            method, url, data=payload.encode(), headers=headers
        ) as response:
            raw = await response.read()
            # The client keeps X-Request-Id for support (`setDebug`).
            self.last_request_id = response.headers.get("X-Request-Id")
            assert self.last_request_id
            if 200 <= response.status <= 299:
                return json.loads(raw) if raw else None
            raise vendor_error(response.status, raw)

    # The resources' methods, with their default paging.
    async def messages_all(self) -> Any:
        return await self.request("messages", "GET", query={"limit": 100, "page": 1})

    async def contacts_all(self) -> Any:
        return await self.request("contacts", "GET", query={"limit": 100, "page": 1})

    async def message_send(self, data: dict[str, Any]) -> Any:
        return await self.request("message", "POST", data)

    async def message_batch(self, data: dict[str, Any]) -> Any:
        return await self.request("message/batch", "POST", data)

    async def schedule_all(self) -> Any:
        return await self.request(
            "messages/schedule", "GET", query={"limit": 100, "page": 1}
        )

    async def schedule_create(self, data: dict[str, Any]) -> Any:
        return await self.request("messages/schedule", "POST", data)

    async def schedule_retrieve(self, scheduled_id: str) -> Any:
        return await self.request(f"messages/schedule/{scheduled_id}", "GET")

    async def schedule_update(self, scheduled_id: str, data: dict[str, Any]) -> Any:
        return await self.request(f"messages/schedule/{scheduled_id}", "PUT", data)

    async def schedule_delete(self, scheduled_id: str) -> Any:
        return await self.request(f"messages/schedule/{scheduled_id}", "DELETE")


@dataclass
class PhpAuth:
    """`Mobiniti\\Api\\Auth`: the authorization URL and the code exchange."""

    session: aiohttp.ClientSession
    oauth_url: str  # where the sandbox serves app.mobiniti.com/oauth

    def authorization_url(self, scopes: list[str]) -> str:
        """`getAuthorizationUrl`: http_build_query, scopes joined by spaces."""
        params = {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
        }
        if scopes:
            params["scope"] = " ".join(scopes)
        return f"{self.oauth_url}/authorize?{urlencode(params)}"

    async def access_token(self, code: str) -> dict[str, Any]:
        """`getAccessToken`: a form post; only a 200 is a token."""
        form = {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uri": REDIRECT_URI,
            "grant_type": "authorization_code",
            "code": code,
        }
        async with self.session.post(
            f"{self.oauth_url}/token",
            data=urlencode(form),
            headers={
                "User-Agent": USER_AGENT,
                "Content-Type": "application/x-www-form-urlencoded",
            },
        ) as response:
            data = json.loads(await response.read())
            if response.status == 200:
                assert isinstance(data, dict)
                return data
            raise VendorError(
                f"{data['error']} - {data['error_description']}", response.status
            )


@pytest.fixture
async def session(socket_enabled: None) -> AsyncIterator[aiohttp.ClientSession]:
    """A plain HTTP session, as Guzzle is."""
    async with aiohttp.ClientSession() as plain:
        yield plain


@pytest.fixture
def php(
    sandbox: Sandbox, sandbox_url: str, session: aiohttp.ClientSession
) -> PhpClient:
    """The vendor's client with the sandbox's personal access token.

    The client does not throttle itself: the sandbox's 1 request/s per route is off.
    """
    sandbox.mobiniti.rate_limit_enabled = False
    return PhpClient(session, f"{sandbox_url}/mobiniti", SEED_TOKEN)


def assert_page(answer: Any) -> list[dict[str, Any]]:
    """A list answer as a caller of `all()` reads it: data and meta.pagination."""
    data = php_property(answer, "data")
    pagination = php_property(php_property(answer, "meta"), "pagination")
    for key in ("total", "count", "per_page", "current_page", "total_pages"):
        assert isinstance(php_property(pagination, key), int)
    assert pagination["per_page"] == 100
    assert pagination["current_page"] == 1
    assert isinstance(php_property(pagination, "links"), dict)
    assert isinstance(data, list)
    for item in data:
        assert isinstance(php_property(item, "id"), str)
    return data


def later() -> str:
    """A `send_at` the sandbox takes as the future (its clock is real time)."""
    return "2099-01-01T09:00:00.000Z"


# -- reading ---------------------------------------------------------------------


async def test_messages_all(sandbox: Sandbox, php: PhpClient) -> None:
    data = assert_page(await php.messages_all())
    assert {m["id"] for m in data} == set(sandbox.mobiniti.messages)
    [request] = sandbox.mobiniti.requests
    assert request.query == {"limit": "100", "page": "1"}
    assert (request.headers["Content-Type"], request.body) == (
        "application/json",
        b"[]",
    )
    assert request.headers["Accept"] == "*/*"  # curl's, under Guzzle: none of its own


async def test_contacts_all(sandbox: Sandbox, php: PhpClient) -> None:
    data = assert_page(await php.contacts_all())
    assert {c["phone_number"] for c in data} >= {SEED_JANE, SEED_UNSUBSCRIBED}


# -- sending ---------------------------------------------------------------------


async def test_message_send(sandbox: Sandbox, php: PhpClient) -> None:
    answer = await php.message_send(
        {"phone_number": SEED_JANE, "message": "Café open 9/10"}
    )
    sent = php_property(answer, "data")
    message = sandbox.mobiniti.messages[php_property(sent, "id")]
    assert message.message == "Café open 9/10"  # PHP's escapes read back as text


async def test_message_batch(sandbox: Sandbox, php: PhpClient) -> None:
    answer = await php.message_batch(
        {"phone_numbers": [SEED_JANE, SEED_LEE], "message": "Sale"}
    )
    sent = php_property(answer, "data")
    assert [php_property(m, "phone_number") for m in sent] == [SEED_JANE, SEED_LEE]


async def test_a_refused_send_is_an_unprocessable_entity(php: PhpClient) -> None:
    with pytest.raises(VendorError) as err:
        await php.message_send({"phone_number": SEED_UNSUBSCRIBED, "message": "Hi"})
    assert err.value.status == 422
    assert "phone_number" in err.value.errors


async def test_payment_required_is_read(sandbox: Sandbox, php: PhpClient) -> None:
    sandbox.mobiniti.payment_required = True
    with pytest.raises(VendorError) as err:
        await php.message_send({"phone_number": SEED_JANE, "message": "Hi"})
    assert err.value.status == 402


async def test_a_bad_token_is_unauthorized(php: PhpClient) -> None:
    php.access_token = "revoked"
    with pytest.raises(VendorError) as err:
        await php.messages_all()
    assert (err.value.status, err.value.message) == (401, "Unauthenticated.")


# -- scheduled messages at the vendor's path ---------------------------------------


async def test_schedule_create_all_retrieve_update_delete(
    sandbox: Sandbox, php: PhpClient
) -> None:
    """The vendor's `messages/schedule` resource works end to end."""
    answer = await php.schedule_create(
        {"phone_number": SEED_JOHN, "message": "Doors at 9", "send_at": later()}
    )
    created = php_property(answer, "data")
    scheduled_id = php_property(created, "id")
    assert sandbox.mobiniti.scheduled[scheduled_id].message == "Doors at 9"
    listed = assert_page(await php.schedule_all())
    assert scheduled_id in [s["id"] for s in listed]
    retrieved = php_property(await php.schedule_retrieve(scheduled_id), "data")
    assert retrieved == created
    updated = await php.schedule_update(scheduled_id, {"message": "Doors at 10"})
    assert php_property(php_property(updated, "data"), "message") == "Doors at 10"
    assert await php.schedule_delete(scheduled_id) is None  # 204: json_decode('')
    with pytest.raises(VendorError) as err:
        await php.schedule_retrieve(scheduled_id)
    assert (err.value.status, err.value.message) == (404, "Not Found")


@pytest.mark.parametrize("refusal", [404, 405])
async def test_schedule_where_only_the_document_s_path_is_served(
    sandbox: Sandbox, php: PhpClient, refusal: int
) -> None:
    """The vendor's client then gets an error it can read, and nothing is made."""
    sandbox.mobiniti.schedule_paths = "document"
    sandbox.mobiniti.schedule_refusal = refusal
    before = dict(sandbox.mobiniti.scheduled)
    with pytest.raises(VendorError) as err:
        await php.schedule_create(
            {"phone_number": SEED_JOHN, "message": "x", "send_at": later()}
        )
    assert err.value.status == refusal
    assert sandbox.mobiniti.scheduled == before


@pytest.mark.parametrize("paths", ["vendor", "both"])
async def test_schedule_where_the_vendor_s_path_is_served(
    sandbox: Sandbox, php: PhpClient, paths: SchedulePaths
) -> None:
    sandbox.mobiniti.schedule_paths = paths
    answer = await php.schedule_create(
        {"phone_number": SEED_JOHN, "message": "x", "send_at": later()}
    )
    assert php_property(php_property(answer, "data"), "id") in (
        sandbox.mobiniti.scheduled
    )


# -- the document's shapes through the vendor's Http --------------------------------


async def test_lookup_in_the_document_s_shape(php: PhpClient) -> None:
    answer = await php.request(
        "phone-numbers/lookup", "POST", {"phone_numbers": [SEED_JANE]}
    )
    [result] = php_property(answer, "data")
    assert php_property(result, "phone_number") == SEED_JANE
    assert php_property(php_property(result, "carrier"), "name")


async def test_unsubscribe_in_the_document_s_shape(
    sandbox: Sandbox, php: PhpClient
) -> None:
    answer = await php.request(
        "contacts/unsubscribe", "PATCH", {"phone_numbers": [SEED_LEE]}
    )
    assert php_property(answer, "unsubscribed") == 1
    contact = sandbox.mobiniti.find_contact(SEED_LEE)
    assert contact is not None
    assert contact.unsubscribed_at is not None


# -- OAuth ---------------------------------------------------------------------------


async def test_authorization_code_and_token(
    sandbox: Sandbox, sandbox_url: str, session: aiohttp.ClientSession
) -> None:
    """The authorize URL it builds (CommHub's scopes), its token request, the token."""
    sandbox.mobiniti.rate_limit_enabled = False
    auth = PhpAuth(session, f"{sandbox_url}/mobiniti/oauth")
    url = auth.authorization_url(list(SCOPES))
    assert "scope=messages.view+messages.create+" in url  # spaces as `+`
    async with session.get(url, allow_redirects=False) as response:
        assert response.status == 302
        location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    [code] = parse_qs(location.query)["code"]
    token = await auth.access_token(code)
    assert token["token_type"] == "Bearer"
    assert isinstance(token["expires_in"], int)
    php = PhpClient(session, f"{sandbox_url}/mobiniti", token["access_token"])
    assert_page(await php.messages_all())
    # A code is single use: the error is read from `error` and `error_description`.
    with pytest.raises(VendorError) as err:
        await auth.access_token(code)
    assert err.value.status == 400
    assert err.value.message.startswith("invalid_grant - ")
