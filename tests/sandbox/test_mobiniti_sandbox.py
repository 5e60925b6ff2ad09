"""The Mobiniti sandbox answers as the Mobiniti API v1 seed and the contract say."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiohttp import ClientResponse, encode_basic_auth, web
from aiohttp.test_utils import TestClient, TestServer
from freezegun.api import FrozenDateTimeFactory
import pytest

from sandbox import Fault, Sandbox
from sandbox.mobiniti import (
    CLIENT_ID,
    CLIENT_SECRET,
    FROM_NUMBER,
    SEED_GROUP_IDS,
    SEED_JANE,
    SEED_JOHN,
    SEED_LEE,
    SEED_MARIA,
    SEED_TOKEN,
    SEED_UNSUBSCRIBED,
    SHORT_CODE,
    TOKEN_LIFETIME,
    WEBHOOK_KINDS,
    MobinitiSandbox,
    SchedulePaths,
)

from .conftest import BearerApi

Client = TestClient[web.Request, web.Application]

TIME_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
REDIRECT_URI = "https://example.com/auth/external/callback"
CONTACT_KEYS = [
    "id",
    "first_name",
    "last_name",
    "email",
    "phone_number",
    "reward_points",
    "unsubscribed_at",
    "created_at",
    "updated_at",
]
MESSAGE_KEYS = [
    "id",
    "contact_id",
    "phone_number",
    "short_code",
    "message",
    "created_at",
    "updated_at",
]
SCHEDULED_KEYS = [
    "id",
    "phone_number",
    "message",
    "send_at",
    "created_at",
    "updated_at",
]

# The document's example of `GET /v1/groups?limit=2`, verbatim.
GROUPS_EXAMPLE: dict[str, Any] = json.loads("""
{
    "data": [
        {
            "id": "8075886f-5f3e-486a-97ba-9e91829732e1",
            "name": "My test group",
            "join_message": "My new message",
            "one_time_message": false,
            "always_send_join": false,
            "social_profiling": false,
            "email_new_contact": false,
            "created_at": "2014-07-10T00:01:01+0000",
            "updated_at": "2015-06-29T12:40:05+0000",
            "optin": {
                "id": "4e4b3bda-e68b-4981-a5c6-2ddffd52d059",
                "name": "Email",
                "description": "Text Email Address to confirm",
                "enabled": true
            }
        },
        {
            "id": "6d9265cc-a310-406d-8f7a-abe015ee561a",
            "name": "My test group 2",
            "join_message": "My new message 2",
            "one_time_message": false,
            "always_send_join": false,
            "social_profiling": false,
            "email_new_contact": false,
            "created_at": "2015-03-16T17:01:43+0000",
            "updated_at": "2015-06-18T14:09:52+0000",
            "optin": {
                "name": "Email",
                "description": "Text Email Address to confirm",
                "enabled": true
            }
        }
    ],
    "meta": {
        "pagination": {
            "total": 6,
            "count": 2,
            "per_page": 2,
            "current_page": 1,
            "total_pages": 2,
            "links": {
                "next": "https://api.mobiniti.com/v1/groups?limit=2&page=2"
            }
        }
    }
}
""")
# The document's webhook examples (trailing commas removed).
WEBHOOK_EXAMPLES: dict[str, dict[str, Any]] = {
    "inbound_message": {
        "id": "f82e541a-a4b1-11e8-a85f-127fd0971098",
        "first_name": None,
        "last_name": None,
        "email": None,
        "short_code": "64600",
        "phone_number": "+19999999999",
        "message": "This is an example message",
        "unsubscribed_at": None,
        "created_at": "2016-07-01T15:11:09.553Z",
        "updated_at": "2016-07-01T15:11:09.553Z",
        "received_at": "2016-07-01T15:11:09.553Z",
    },
    "unsubscribe": {
        "id": "f82e541a-a4b1-11e8-a85f-127fd0971098",
        "first_name": None,
        "last_name": None,
        "email": None,
        "phone_number": "+19999999999",
        "to": "64600",
        "unsubscribed_at": "2016-07-01T15:11:09.553Z",
        "created_at": "2016-07-01T15:11:09.553Z",
        "updated_at": "2016-07-01T15:11:09.553Z",
    },
    "delivery_report": {
        "total_messages": 1,
        "statuses": [
            {
                "code": "100",
                "status": "The message delivered successfully.",
                "count": 1,
                "recipients": ["19999999999"],
                "success": True,
                "bounce": False,
            }
        ],
        "messages": [
            {
                "id": "a8a2b40a-86ae-4a91-a61d-7b7ccfc4b148",
                "from": "+15555555555",
                "message": "This is an example message",
                "phone_number": "9999999999",
                "metadata": [],
            }
        ],
    },
    "contact_status": {
        "id": "f82e541a-a4b1-11e8-a85f-127fd0971098",
        "first_name": None,
        "last_name": None,
        "email": None,
        "phone_number": "+19999999999",
        "status": "deactivated",
        "created_at": "2016-07-01T15:11:09.553Z",
        "updated_at": "2016-07-01T15:11:09.553Z",
    },
    "bounce": {
        "id": "f82e541a-a4b1-11e8-a85f-127fd0971098",
        "first_name": None,
        "last_name": None,
        "email": None,
        "phone_number": "+19999999999",
        "unsubscribed_at": "2016-07-01T15:11:09.553Z",
        "bounces": 2,
        "created_at": "2016-07-01T15:11:09.553Z",
        "updated_at": "2016-07-01T15:11:09.553Z",
    },
    "rejection": {"code": "", "message": "", "description": "Unsubscribed"},
}


def assert_shape(actual: Any, example: Any, where: str = "$") -> None:
    """Same keys (in the same order) and value types as the example; None in
    either is nullable."""
    if example is None or actual is None:
        return
    if isinstance(example, dict):
        assert isinstance(actual, dict), where
        assert list(actual) == list(example), where
        for key, value in example.items():
            assert_shape(actual[key], value, f"{where}.{key}")
    elif isinstance(example, list):
        assert isinstance(actual, list), where
        for index, item in enumerate(actual):
            if example:
                assert_shape(item, example[0], f"{where}[{index}]")
    else:
        assert type(actual) is type(example), where


async def body_of(response: ClientResponse) -> Any:
    """The JSON body, whatever the content type says."""
    return json.loads(await response.read())


async def ok(response: ClientResponse, status: int = 200) -> Any:
    """The JSON body of a successful answer."""
    assert response.status == status, await response.text()
    assert response.headers["Content-Type"] == "application/json"
    return await body_of(response)


async def assert_error(
    response: ClientResponse, status: int, errors: list[str] | None = None
) -> dict[str, Any]:
    """The document's error shape; `errors` lists the fields (sorted)."""
    assert response.status == status, await response.text()
    assert response.headers["Content-Type"] == "application/json"
    body: dict[str, Any] = await body_of(response)
    assert list(body) == ["status", "message", "errors"]
    assert body["status"] == status
    assert isinstance(body["message"], str)
    assert body["message"]
    assert isinstance(body["errors"], dict)
    if errors is not None:
        assert sorted(body["errors"]) == sorted(errors)
    return body


class Clock:
    """An injectable clock for `MobinitiSandbox.clock`."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(sandbox: Sandbox) -> Clock:
    """The Mobiniti sandbox's clock, frozen until ticked (seeded by it)."""
    frozen = Clock()
    service = sandbox.mobiniti
    enabled = service.rate_limit_enabled  # as the `mobiniti` fixture may have set it
    service.clock = frozen
    service.reset()
    service.rate_limit_enabled = enabled
    return frozen


@pytest.fixture
def service(sandbox: Sandbox) -> MobinitiSandbox:
    """The Mobiniti service sandbox."""
    return sandbox.mobiniti


# -- webhook receiver ----------------------------------------------------------------


@dataclass
class Received:
    """One webhook as the receiver saw it (the body must be valid JSON)."""

    path_qs: str
    content_type: str
    payload: Any


@dataclass
class Receiver:
    """A local HTTP server taking webhooks; `answers` are its next statuses."""

    base: str
    calls: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)

    def url(self, kind: str) -> str:
        """The URL for a kind, as the contract builds it."""
        return f"{self.base}?kind={kind}"

    def of(self, kind: str) -> list[Any]:
        """The payloads received for a kind."""
        return [c.payload for c in self.calls if c.path_qs.endswith(f"kind={kind}")]


@pytest.fixture
async def receiver(socket_enabled: None) -> AsyncIterator[Receiver]:
    """A second real server on 127.0.0.1 recording what is posted to it."""
    holder: list[Receiver] = []

    async def handle(request: web.Request) -> web.Response:
        target = holder[0]
        payload = json.loads(await request.read())
        target.calls.append(Received(request.path_qs, request.content_type, payload))
        return web.Response(status=target.answers.pop(0) if target.answers else 200)

    app = web.Application()
    app.router.add_post("/{tail:.*}", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    holder.append(Receiver(str(server.make_url("/api/webhook/abc"))))
    yield holder[0]
    await server.close()


def hook_all(service: MobinitiSandbox, receiver: Receiver) -> None:
    """Configure every webhook kind to post to the receiver."""
    service.webhook_urls = {kind: receiver.url(kind) for kind in WEBHOOK_KINDS}


# -- authentication ---------------------------------------------------------------------

API_ROUTES = [
    ("GET", "/v1/contacts"),
    ("POST", "/v1/contacts"),
    ("PATCH", "/v1/contacts/unsubscribe"),
    ("GET", "/v1/groups"),
    ("GET", "/v1/messages"),
    ("POST", "/v1/message"),
    ("POST", "/v1/message/batch"),
    ("GET", "/v1/message/schedule"),
    ("POST", "/v1/messages/schedule"),
    ("POST", "/v1/phone-numbers/lookup"),
]


@pytest.mark.parametrize(("method", "path"), API_ROUTES)
@pytest.mark.parametrize("token", [None, "wrong-token", f"{SEED_TOKEN}x"])
async def test_missing_or_bad_token_is_401(
    mobiniti: BearerApi, method: str, path: str, token: str | None
) -> None:
    response = await mobiniti.request(method, path, token=token, json={})
    body = await assert_error(response, 401)
    assert body == {"status": 401, "message": "Unauthenticated.", "errors": {}}
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.headers["X-RateLimit-Limit"] == "60"
    assert "X-RateLimit-Remaining" in response.headers
    assert UUID_RE.fullmatch(response.headers["X-Request-Id"])


@pytest.mark.parametrize(
    "authorization", [f"Basic {SEED_TOKEN}", SEED_TOKEN, "Bearer", "Bearer  "]
)
async def test_not_a_bearer_token_is_401(
    mobiniti: BearerApi, authorization: str
) -> None:
    response = await mobiniti.request(
        "GET", "/v1/contacts", token=None, headers={"Authorization": authorization}
    )
    await assert_error(response, 401)


async def test_tokens_can_be_added_and_revoked(
    service: MobinitiSandbox, mobiniti: BearerApi
) -> None:
    headers = {"Authorization": f"bearer {SEED_TOKEN}"}  # scheme case-insensitive
    assert (await mobiniti.request("GET", "/v1/groups", headers=headers)).status == 200
    service.tokens.add("another")
    service.tokens.discard(SEED_TOKEN)
    await assert_error(await mobiniti.request("GET", "/v1/groups"), 401)
    assert (await mobiniti.request("GET", "/v1/groups", token="another")).status == 200


async def test_scopes_are_enforced(
    service: MobinitiSandbox, mobiniti: BearerApi
) -> None:
    token = service.issue_token(["messages.view"])["access_token"]
    assert (await mobiniti.request("GET", "/v1/messages", token=token)).status == 200
    body = await assert_error(
        await mobiniti.request("GET", "/v1/contacts", token=token), 403
    )
    assert body["errors"] == {}
    response = await mobiniti.request(
        "PATCH", "/v1/contacts/unsubscribe", token=token, json={}
    )
    await assert_error(response, 403)
    with pytest.raises(ValueError, match="unknown scope"):
        service.issue_token(["everything"])


async def test_expired_token_is_401(
    service: MobinitiSandbox, mobiniti: BearerApi, clock: Clock
) -> None:
    issued = service.issue_token(lifetime=60)
    assert issued["expires_in"] == 60
    token = issued["access_token"]
    assert (await mobiniti.request("GET", "/v1/groups", token=token)).status == 200
    clock.tick(60)
    await assert_error(await mobiniti.request("GET", "/v1/groups", token=token), 401)


# -- OAuth 2.0 --------------------------------------------------------------------------


async def authorize(client: Client, **params: str) -> tuple[int, str, dict[str, str]]:
    """GET /oauth/authorize; the status, Location and its query."""
    query = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": "messages.view contacts.view contacts.update",
        "state": "xyz-state",
        **params,
    }
    query = {key: value for key, value in query.items() if value != "-"}
    response = await client.get(
        "/mobiniti/oauth/authorize", params=query, allow_redirects=False
    )
    await response.read()
    location = response.headers.get("Location", "")
    found = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    return response.status, location, found


async def token_request(
    client: Client, data: dict[str, str], **kwargs: Any
) -> ClientResponse:
    """POST /oauth/token with a form."""
    response = await client.post("/mobiniti/oauth/token", data=data, **kwargs)
    await response.read()
    return response


def code_form(code: str, **extra: str) -> dict[str, str]:
    """An authorization code exchange with the sandbox's client credentials."""
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        **extra,
    }


async def assert_oauth_error(response: ClientResponse, status: int, error: str) -> None:
    """An RFC 6749 error answer."""
    assert response.status == status, await response.text()
    body = await body_of(response)
    assert body["error"] == error
    assert isinstance(body["error_description"], str)


async def test_oauth_round_trip(
    service: MobinitiSandbox, sandbox_client: Client, mobiniti: BearerApi
) -> None:
    status, location, query = await authorize(sandbox_client)
    assert status == 302
    assert location.startswith(REDIRECT_URI + "?")
    assert query["state"] == "xyz-state"
    code = query["code"]
    assert re.fullmatch(r"[A-Za-z0-9]{27}", code)

    response = await token_request(sandbox_client, code_form(code))
    tokens = await ok(response)
    assert list(tokens) == ["token_type", "expires_in", "access_token", "refresh_token"]
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == TOKEN_LIFETIME == 315359999
    assert UUID_RE.fullmatch(tokens["access_token"])
    assert response.headers["Cache-Control"] == "no-store"
    access = tokens["access_token"]
    response = await mobiniti.request("GET", "/v1/messages?limit=1", token=access)
    assert (await ok(response))["meta"]["pagination"]["per_page"] == 1
    # The granted scopes only.
    response = await mobiniti.request("POST", "/v1/message", token=access, json={})
    await assert_error(response, 403)

    # A code is used once.
    response = await token_request(sandbox_client, code_form(code))
    await assert_oauth_error(response, 400, "invalid_grant")

    refresh_form = {
        "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"],
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    renewed = await ok(await token_request(sandbox_client, refresh_form))
    assert renewed["access_token"] != access
    assert renewed["refresh_token"] != tokens["refresh_token"]
    await assert_error(await mobiniti.request("GET", "/v1/groups", token=access), 401)
    response = await mobiniti.request(
        "GET", "/v1/contacts", token=renewed["access_token"]
    )
    assert response.status == 200
    response = await token_request(sandbox_client, refresh_form)
    await assert_oauth_error(response, 400, "invalid_grant")
    assert renewed["access_token"] in service.tokens


async def test_oauth_client_credentials_by_basic_auth(sandbox_client: Client) -> None:
    _, _, query = await authorize(sandbox_client)
    form = code_form(query["code"])
    del form["client_id"], form["client_secret"]
    response = await token_request(
        sandbox_client,
        form,
        headers={"Authorization": encode_basic_auth(CLIENT_ID, "wrong")},
    )
    await assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    response = await token_request(
        sandbox_client,
        form,
        headers={"Authorization": encode_basic_auth(CLIENT_ID, CLIENT_SECRET)},
    )
    assert response.status == 200
    # Two methods at once is a malformed request.
    response = await token_request(
        sandbox_client,
        code_form("x"),
        headers={"Authorization": encode_basic_auth(CLIENT_ID, CLIENT_SECRET)},
    )
    await assert_oauth_error(response, 400, "invalid_request")


@pytest.mark.parametrize(
    ("change", "status", "error"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"client_id": "someone-else"}, 401, "invalid_client"),
        ({"client_id": "", "client_secret": ""}, 401, "invalid_client"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"grant_type": ""}, 400, "invalid_request"),
        ({"code": ""}, 400, "invalid_request"),
        ({"code": "A" * 27}, 400, "invalid_grant"),
        ({"redirect_uri": REDIRECT_URI + "?x=1"}, 400, "invalid_grant"),
        ({"redirect_uri": ""}, 400, "invalid_grant"),
    ],
)
async def test_oauth_token_errors(
    sandbox_client: Client, change: dict[str, str], status: int, error: str
) -> None:
    _, _, query = await authorize(sandbox_client)
    form = {k: v for k, v in {**code_form(query["code"]), **change}.items() if v}
    await assert_oauth_error(await token_request(sandbox_client, form), status, error)


async def test_oauth_token_needs_a_form(sandbox_client: Client) -> None:
    response = await sandbox_client.post("/mobiniti/oauth/token", json=code_form("x"))
    await assert_oauth_error(response, 400, "invalid_request")


async def test_oauth_refresh_errors(sandbox_client: Client) -> None:
    form = {
        "grant_type": "refresh_token",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    await assert_oauth_error(
        await token_request(sandbox_client, form), 400, "invalid_request"
    )
    form["refresh_token"] = "nope"
    await assert_oauth_error(
        await token_request(sandbox_client, form), 400, "invalid_grant"
    )


async def test_oauth_code_expires_after_ten_minutes(
    sandbox_client: Client, clock: Clock
) -> None:
    _, _, query = await authorize(sandbox_client)
    clock.tick(600)
    response = await token_request(sandbox_client, code_form(query["code"]))
    await assert_oauth_error(response, 400, "invalid_grant")


async def test_authorize_errors_without_redirect(
    service: MobinitiSandbox, sandbox_client: Client
) -> None:
    status, location, _ = await authorize(sandbox_client, client_id="other")
    assert (status, location) == (401, "")
    status, location, _ = await authorize(sandbox_client, client_id="-")
    assert (status, location) == (400, "")
    for uri in ("-", "not a url", "ftp://example.com/cb"):
        status, location, _ = await authorize(sandbox_client, redirect_uri=uri)
        assert (status, location) == (400, "")
    service.redirect_uris = {"https://other.example.com/cb"}
    status, _, _ = await authorize(sandbox_client)
    assert status == 400


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": "-"}, "unsupported_response_type"),
        ({"scope": "-"}, "invalid_scope"),
        ({"scope": "contacts.view everything"}, "invalid_scope"),
    ],
)
async def test_authorize_errors_redirect(
    sandbox_client: Client, params: dict[str, str], error: str
) -> None:
    status, location, query = await authorize(sandbox_client, **params)
    assert status == 302
    assert location.startswith(REDIRECT_URI)
    assert (query["error"], query["state"]) == (error, "xyz-state")
    assert "code" not in query


async def test_authorize_denied(
    service: MobinitiSandbox, sandbox_client: Client
) -> None:
    service.oauth_approve = False
    status, _, query = await authorize(sandbox_client, state="-")
    assert status == 302
    assert query == {
        "error": "access_denied",
        "error_description": "The user denied the request.",
    }


# -- groups and pagination ----------------------------------------------------------------


async def test_groups_answer_the_document_example(
    sandbox_client: Client, mobiniti: BearerApi
) -> None:
    body = await ok(await mobiniti.request("GET", "/v1/groups?limit=2"))
    expected = json.loads(
        json.dumps(GROUPS_EXAMPLE).replace(
            "https://api.mobiniti.com", str(sandbox_client.make_url("/mobiniti"))
        )
    )
    # The example's "total_pages": 2 contradicts its own total 6 and per_page 2.
    expected["meta"]["pagination"]["total_pages"] = 3
    assert body == expected


async def test_group_pages(sandbox_client: Client, mobiniti: BearerApi) -> None:
    base = str(sandbox_client.make_url("/mobiniti/v1/groups"))
    body = await ok(await mobiniti.request("GET", "/v1/groups?limit=2&page=2"))
    assert body["meta"]["pagination"] == {
        "total": 6,
        "count": 2,
        "per_page": 2,
        "current_page": 2,
        "total_pages": 3,
        "links": {
            "previous": f"{base}?limit=2&page=1",
            "next": f"{base}?limit=2&page=3",
        },
    }
    body = await ok(await mobiniti.request("GET", "/v1/groups?page=3&limit=2"))
    assert [g["id"] for g in body["data"]] == list(SEED_GROUP_IDS[4:])
    assert list(body["meta"]["pagination"]["links"]) == ["previous"]
    body = await ok(await mobiniti.request("GET", "/v1/groups?limit=2&page=9"))
    assert body["data"] == []
    assert body["meta"]["pagination"]["count"] == 0
    body = await ok(await mobiniti.request("GET", "/v1/groups"))
    assert body["meta"]["pagination"] == {
        "total": 6,
        "count": 6,
        "per_page": 100,
        "current_page": 1,
        "total_pages": 1,
        "links": {},
    }
    for group in [body["data"][0], *body["data"][2:]]:  # the 2nd opt-in has no id
        assert_shape(group, GROUPS_EXAMPLE["data"][0])


async def test_group_retrieve_keyword_and_contacts(mobiniti: BearerApi) -> None:
    group_id = SEED_GROUP_IDS[0]
    body = await ok(await mobiniti.request("GET", f"/v1/groups/{group_id}"))
    assert body == {"data": GROUPS_EXAMPLE["data"][0]}
    body = await ok(
        await mobiniti.request("GET", f"/v1/groups/{group_id}?include=keyword")
    )
    assert body["data"]["keyword"]["keyword"] == "JOIN"
    body = await ok(
        await mobiniti.request("GET", f"/v1/groups/{SEED_GROUP_IDS[1]}?include=keyword")
    )
    assert body["data"]["keyword"] is None
    await assert_error(await mobiniti.request("GET", "/v1/groups/nope"), 404)
    # The document's own example of includes.
    body = await ok(
        await mobiniti.request(
            "GET",
            f"/v1/groups/{SEED_GROUP_IDS[1]}/contacts?include[]=status&include[]=fields",
        )
    )
    phones = [c["phone_number"] for c in body["data"]]
    assert phones == [SEED_JOHN, SEED_UNSUBSCRIBED, SEED_MARIA]
    statuses = [c["status"] for c in body["data"]]
    assert statuses == ["active", "unsubscribed", "deactivated"]
    assert all(list(c)[: len(CONTACT_KEYS)] == CONTACT_KEYS for c in body["data"])
    body = await ok(
        await mobiniti.request(
            "GET", f"/v1/groups/{group_id}/contacts?include=groups,fields"
        )
    )
    jane = body["data"][0]
    assert jane["groups"] == [{"id": group_id, "name": "My test group"}]
    assert jane["fields"] == {"favorite_store": "Downtown"}
    response = await mobiniti.request(
        "GET", f"/v1/groups/{group_id}/contacts?include=carrier"
    )
    await assert_error(response, 400)


# -- contacts ---------------------------------------------------------------------------


async def contacts(mobiniti: BearerApi, query: str = "") -> list[dict[str, Any]]:
    """One page of contacts."""
    body = await ok(await mobiniti.request("GET", f"/v1/contacts{query}"))
    data: list[dict[str, Any]] = body["data"]
    return data


async def test_contact_list(mobiniti: BearerApi) -> None:
    body = await ok(await mobiniti.request("GET", "/v1/contacts"))
    assert [c["phone_number"] for c in body["data"]] == [
        SEED_JANE,
        SEED_JOHN,
        SEED_UNSUBSCRIBED,
        SEED_MARIA,
        SEED_LEE,
    ]
    example = GROUPS_EXAMPLE["meta"]["pagination"]
    assert list(body["meta"]["pagination"]) == list(example)
    for contact in body["data"]:
        assert list(contact) == CONTACT_KEYS
        assert UUID_RE.fullmatch(contact["id"])
        assert TIME_RE.fullmatch(contact["created_at"])
        assert TIME_RE.fullmatch(contact["updated_at"])
    unsubscribed = body["data"][2]
    assert TIME_RE.fullmatch(unsubscribed["unsubscribed_at"])
    assert [c["unsubscribed_at"] is None for c in body["data"]] == [
        True,
        True,
        False,
        True,
        True,
    ]
    assert body["data"][0]["reward_points"] == 10


async def test_contacts_sorted_by_newest_update(
    service: MobinitiSandbox, mobiniti: BearerApi
) -> None:
    service.unsubscribe_contact(SEED_JOHN)
    newest = await contacts(mobiniti, "?sort=-updated_at&limit=1")
    assert newest[0]["phone_number"] == SEED_JOHN
    assert newest[0]["unsubscribed_at"] == newest[0]["updated_at"]
    everything = await contacts(mobiniti, "?sort=-updated_at")
    times = [c["updated_at"] for c in everything]
    assert times == sorted(times, reverse=True)
    by_name = await contacts(mobiniti, "?sort=last_name,-created_at")
    assert by_name[0]["last_name"] is None  # nulls first ascending
    assert [c["last_name"] for c in by_name[1:]] == ["Doe", "Garcia", "Smith", "Wong"]


async def test_contact_filters_and_includes(mobiniti: BearerApi) -> None:
    (jane,) = await contacts(mobiniti, "?filter[phone_number]=%2B12025550101")
    assert jane["first_name"] == "Jane"
    (maria,) = await contacts(mobiniti, "?filter[reward_points]=25")
    assert maria["phone_number"] == SEED_MARIA
    assert await contacts(mobiniti, "?filter[phone_number]=2025550101") == []
    # Not the document's syntax: ignored.
    assert len(await contacts(mobiniti, "?phone_number=%2B12025550101")) == 5
    (carried, *_) = await contacts(mobiniti, "?include=carrier")
    assert set(carried["carrier"]) == {"id", "name"}
    for bad in ("?filter[email]=x", "?sort=email", "?include=status", "?sort=-x"):
        body = await assert_error(
            await mobiniti.request("GET", f"/v1/contacts{bad}"), 400
        )
        assert body["errors"] == {}


async def test_contact_limit_is_clamped(
    service: MobinitiSandbox, mobiniti: BearerApi
) -> None:
    for index in range(120):
        service.add_contact(f"+1303555{index:04d}")
    body = await ok(await mobiniti.request("GET", "/v1/contacts?limit=500&page=2"))
    assert body["meta"]["pagination"]["per_page"] == 100
    assert body["meta"]["pagination"]["count"] == 25
    assert body["meta"]["pagination"]["total_pages"] == 2
    body = await ok(await mobiniti.request("GET", "/v1/contacts?limit=x&page=0"))
    pagination = body["meta"]["pagination"]
    assert (pagination["per_page"], pagination["current_page"]) == (100, 1)
    assert pagination["links"]["next"].endswith("?limit=x&page=2")


async def test_contact_create_retrieve_update_delete(
    service: MobinitiSandbox, mobiniti: BearerApi
) -> None:
    data = {
        "phone_number": "+14155550199",
        "first_name": "Ann",
        "email": "ann@example.com",
        "reward_points": 3,
        "groups": [SEED_GROUP_IDS[2]],
    }
    created = (
        await ok(await mobiniti.request("POST", "/v1/contacts", json=data), 201)
    )["data"]
    assert list(created) == CONTACT_KEYS
    assert (created["first_name"], created["last_name"]) == ("Ann", None)
    assert created["created_at"] == created["updated_at"]
    path = f"/v1/contacts/{created['id']}"
    assert (await ok(await mobiniti.request("GET", path)))["data"] == created
    body = await ok(await mobiniti.request("GET", f"{path}?include=carrier"))
    assert body["data"]["carrier"]["name"]
    updated = await ok(
        await mobiniti.request(
            "PUT",
            path,
            json={"last_name": "Lee", "phone_number": "+14155550100", "groups": []},
        )
    )
    assert updated["data"]["last_name"] == "Lee"
    assert updated["data"]["phone_number"] == "+14155550199"  # cannot change
    assert service.contact(created["id"]).groups == []
    response = await mobiniti.request("PUT", path, json={"email": "nope"})
    await assert_error(response, 422, ["email"])
    response = await mobiniti.request("DELETE", path)
    assert response.status == 204
    assert await response.read() == b""
    await assert_error(await mobiniti.request("GET", path), 404)
    await assert_error(await mobiniti.request("DELETE", path), 404)


async def test_existing_contact_is_the_document_validation_error(
    mobiniti: BearerApi,
) -> None:
    response = await mobiniti.request(
        "POST", "/v1/contacts", json={"phone_number": SEED_JANE}
    )
    assert await body_of(response) == {
        "status": 422,
        "message": "A validation error occurred",
        "errors": {"phone_number": ["The contact already exists."]},
    }


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({}, ["phone_number"]),
        ({"phone_number": "12025550111"}, ["phone_number"]),
        ({"phone_number": "+1 202 555 0111"}, ["phone_number"]),
        ({"phone_number": "+0123456"}, ["phone_number"]),
        ({"phone_number": 12025550111}, ["phone_number"]),
        ({"phone_number": "+12025550111", "email": "x@"}, ["email"]),
        ({"phone_number": "+12025550111", "reward_points": -1}, ["reward_points"]),
        ({"phone_number": "+12025550111", "first_name": 5}, ["first_name"]),
        ({"phone_number": "+12025550111", "groups": ["nope"]}, ["groups.0"]),
        ({"phone_number": "+12025550111", "groups": "x"}, ["groups"]),
        ({"first_name": "x" * 256}, ["first_name", "phone_number"]),
    ],
)
async def test_contact_validation(
    mobiniti: BearerApi, data: dict[str, Any], fields: list[str]
) -> None:
    response = await mobiniti.request("POST", "/v1/contacts", json=data)
    await assert_error(response, 422, fields)


# -- unsubscribe ------------------------------------------------------------------------


async def test_unsubscribe(
    service: MobinitiSandbox, mobiniti: BearerApi, receiver: Receiver, clock: Clock
) -> None:
    hook_all(service, receiver)
    clock.tick(3600)
    numbers = [SEED_JANE, SEED_JANE, SEED_UNSUBSCRIBED, "+19999999999", SEED_LEE]
    response = await mobiniti.request(
        "PATCH", "/v1/contacts/unsubscribe", json={"phone_numbers": numbers}
    )
    assert await ok(response) == {"unsubscribed": 2}
    await service.wait_deliveries()
    jane = service.contact(SEED_JANE)
    assert (jane.status, jane.unsubscribed_at, jane.updated_at) == (
        "unsubscribed",
        clock.now,
        clock.now,
    )
    sent = receiver.of("unsubscribe")
    assert [p["phone_number"] for p in sent] == [SEED_JANE, SEED_LEE]
    assert sent[0]["id"] == jane.id
    assert sent[0]["to"] == SHORT_CODE
    assert sent[0]["unsubscribed_at"] == "2026-03-04T13:00:00.000Z"
    for payload in sent:
        assert_shape(payload, WEBHOOK_EXAMPLES["unsubscribe"])
    (listed,) = await contacts(mobiniti, "?filter[phone_number]=%2B12025550101")
    assert listed["unsubscribed_at"] == "2026-03-04T13:00:00.000Z"


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({}, ["phone_numbers"]),
        ({"phone_numbers": []}, ["phone_numbers"]),
        ({"phone_numbers": SEED_JANE}, ["phone_numbers"]),
        ({"phone_numbers": [SEED_JANE, "2025550102"]}, ["phone_numbers.1"]),
        (
            {"phone_numbers": [f"+1202555{i:04d}" for i in range(101)]},
            ["phone_numbers"],
        ),
    ],
)
async def test_unsubscribe_validation(
    service: MobinitiSandbox,
    mobiniti: BearerApi,
    data: dict[str, Any],
    fields: list[str],
) -> None:
    response = await mobiniti.request("PATCH", "/v1/contacts/unsubscribe", json=data)
    await assert_error(response, 422, fields)
    assert service.contact(SEED_JANE).subscribed


async def test_unsubscribe_accepts_one_hundred(mobiniti: BearerApi) -> None:
    numbers = [f"+1202555{i:04d}" for i in range(99)] + [SEED_JOHN]
    response = await mobiniti.request(
        "PATCH", "/v1/contacts/unsubscribe", json={"phone_numbers": numbers}
    )
    assert await ok(response) == {"unsubscribed": 1}


# -- messages ---------------------------------------------------------------------------


async def messages(mobiniti: BearerApi, query: str = "") -> list[dict[str, Any]]:
    """One page of messages."""
    body = await ok(await mobiniti.request("GET", f"/v1/messages{query}"))
    data: list[dict[str, Any]] = body["data"]
    return data


async def test_message_list_and_type_filter(mobiniti: BearerApi) -> None:
    everything = await messages(mobiniti, "?include=type")
    assert [m["type"] for m in everything] == [
        "INCOMING",
        "OUTGOING",
        "INCOMING",
        "OUTGOING",
        "INCOMING",
    ]
    for message in everything:
        assert list(message) == [*MESSAGE_KEYS, "type"]
        assert message["short_code"] == SHORT_CODE
    incoming = await messages(mobiniti, "?filter[type]=INCOMING_ALL")
    assert [m["message"] for m in incoming] == [
        "Is the store open on Sunday?",
        "Do you sell gift cards?",
        "Thanks!",
    ]
    assert [m["phone_number"] for m in incoming] == [SEED_JANE, SEED_JOHN, SEED_LEE]
    assert len(await messages(mobiniti, "?filter[type]=OUTGOING_ALL")) == 2
    assert len(await messages(mobiniti, "?filter[type]=INCOMING")) == 3
    assert await messages(mobiniti, "?filter[type]=unknown") == []
    assert len(await messages(mobiniti, "?type=INCOMING_ALL")) == 5  # ignored
    assert len(await messages(mobiniti, "?filter[phone_number]=0101")) == 2


async def test_inbound_messages_for_a_polling_client(
    service: MobinitiSandbox, mobiniti: BearerApi, clock: Clock
) -> None:
    since = clock.now
    clock.tick(5)
    added = service.add_inbound(SEED_JOHN, "Still open?")
    clock.tick(1)
    new_number = service.add_inbound("+13125550123", "Hello?")
    query = "?filter[type]=INCOMING_ALL&filter[created_at_min]=" + since.strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    found = await messages(mobiniti, query + "&sort=-created_at")
    assert [m["id"] for m in found] == [new_number["id"], added["id"]]
    assert found[1]["created_at"] == "2026-03-04T12:00:05.000Z"
    assert found[1]["contact_id"] == service.contact(SEED_JOHN).id
    # A number that texted in became a contact.
    assert found[0]["contact_id"] == service.contact("+13125550123").id
    before = await messages(
        mobiniti, "?filter[created_at_max]=2026-03-04T11:59:59.999Z&sort=-created_at"
    )
    assert len(before) == 5
    response = await mobiniti.request(
        "GET", "/v1/messages?filter[created_at_min]=yesterday"
    )
    await assert_error(response, 422, ["filter.created_at_min"])


async def test_message_includes_and_retrieve(mobiniti: BearerApi) -> None:
    listed = await messages(
        mobiniti, "?include=receipt,contact.carrier, type&filter[type]=OUTGOING_ALL"
    )
    receipt = listed[0]["receipt"]
    assert receipt == {
        "code": "100",
        "status": "The message delivered successfully",
        "success": True,
        "bounce": False,
    }
    assert list(listed[0]["contact"]) == [*CONTACT_KEYS, "carrier"]
    incoming = await messages(
        mobiniti, "?include=receipt&include=contact&filter[type]=INCOMING_ALL"
    )
    assert incoming[0]["receipt"] is None
    assert "carrier" not in incoming[0]["contact"]
    path = f"/v1/messages/{listed[0]['id']}"
    body = await ok(await mobiniti.request("GET", path + "?include=type"))
    assert body["data"]["type"] == "OUTGOING"
    await assert_error(await mobiniti.request("GET", "/v1/messages/nope"), 404)
    await assert_error(await mobiniti.request("GET", "/v1/messages?include=x"), 400)


# -- sending -----------------------------------------------------------------------------


async def test_send_message(
    service: MobinitiSandbox, mobiniti: BearerApi, receiver: Receiver
) -> None:
    hook_all(service, receiver)
    response = await mobiniti.request(
        "POST", "/v1/message", json={"phone_number": SEED_LEE, "message": "Hi Lee"}
    )
    sent = (await ok(response, 201))["data"]
    assert list(sent) == MESSAGE_KEYS
    assert (sent["phone_number"], sent["message"]) == (SEED_LEE, "Hi Lee")
    assert sent["contact_id"] == service.contact(SEED_LEE).id
    outgoing = await messages(mobiniti, "?filter[type]=OUTGOING_ALL&sort=-created_at")
    assert outgoing[0] == sent
    await service.wait_deliveries()
    (report,) = receiver.of("delivery_report")
    assert_shape(report, WEBHOOK_EXAMPLES["delivery_report"])
    assert report["total_messages"] == 1
    assert report["statuses"][0]["recipients"] == ["12025550105"]
    assert report["messages"] == [
        {
            "id": sent["id"],
            "from": FROM_NUMBER,
            "message": "Hi Lee",
            "phone_number": "2025550105",
            "metadata": [],
        }
    ]
    # A number that is no contact.
    response = await mobiniti.request(
        "POST", "/v1/message", json={"phone_number": "+447700900123", "message": "Hi"}
    )
    assert (await ok(response, 201))["data"]["contact_id"] is None


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({}, ["message", "phone_number"]),
        ({"phone_number": "2025550105", "message": "x"}, ["phone_number"]),
        ({"phone_number": "+1-202-555-0105", "message": "x"}, ["phone_number"]),
        ({"phone_number": SEED_LEE}, ["message"]),
        ({"phone_number": SEED_LEE, "message": ""}, ["message"]),
        ({"phone_number": SEED_LEE, "message": 5}, ["message"]),
        ({"phone_number": SEED_LEE, "message": "x" * 1601}, ["message"]),
    ],
)
async def test_send_validation(
    service: MobinitiSandbox,
    mobiniti: BearerApi,
    data: dict[str, Any],
    fields: list[str],
) -> None:
    before = len(service.messages)
    await assert_error(
        await mobiniti.request("POST", "/v1/message", json=data), 422, fields
    )
    assert len(service.messages) == before


async def test_send_to_an_unsubscribed_contact(
    service: MobinitiSandbox, mobiniti: BearerApi, receiver: Receiver
) -> None:
    hook_all(service, receiver)
    before = len(service.messages)
    response = await mobiniti.request(
        "POST",
        "/v1/message",
        json={"phone_number": SEED_UNSUBSCRIBED, "message": "Come back!"},
    )
    body = await assert_error(response, 422, ["phone_number"])
    assert body["errors"]["phone_number"] == ["The contact has unsubscribed."]
    assert len(service.messages) == before
    await service.wait_deliveries()
    assert receiver.of("rejection") == [
        {"code": "", "message": "Come back!", "description": "Unsubscribed"}
    ]


async def test_payment_required(service: MobinitiSandbox, mobiniti: BearerApi) -> None:
    service.payment_required = True
    send_at = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    requests = [
        ("/v1/message", {"phone_number": SEED_LEE, "message": "x"}),
        ("/v1/message/batch", {"phone_numbers": [SEED_LEE], "message": "x"}),
        (
            "/v1/message/schedule",
            {"phone_number": SEED_LEE, "message": "x", "send_at": send_at},
        ),
    ]
    before = (len(service.messages), len(service.scheduled))
    for path, data in requests:
        body = await assert_error(await mobiniti.request("POST", path, json=data), 402)
        assert body["message"] == "You need to pay for campaign or contact messages."
        # Validation comes first.
        await assert_error(await mobiniti.request("POST", path, json={}), 422)
    assert (len(service.messages), len(service.scheduled)) == before
    service.payment_required = False
    path, data = requests[0]
    assert (await mobiniti.request("POST", path, json=data)).status == 201


async def test_request_bodies_and_accept(mobiniti: BearerApi) -> None:
    response = await mobiniti.request(
        "POST", "/v1/message", data="phone_number=%2B12025550105&message=x"
    )
    await assert_error(response, 415)
    json_headers = {"Content-Type": "application/json"}
    for raw in (b"{oops", b"[1, 2]"):
        response = await mobiniti.request(
            "POST", "/v1/message", data=raw, headers=json_headers
        )
        body = await assert_error(response, 400)
        assert body["message"] == (
            "An error has occurred with your request and is unable to be processed."
        )
    response = await mobiniti.request(
        "GET", "/v1/groups", headers={"Accept": "text/html"}
    )
    await assert_error(response, 406)
    response = await mobiniti.request(
        "GET", "/v1/groups", headers={"Accept": "application/json;q=0.9, text/html"}
    )
    assert response.status == 200


async def test_batch(
    service: MobinitiSandbox, mobiniti: BearerApi, receiver: Receiver
) -> None:
    hook_all(service, receiver)
    numbers = [SEED_JANE, "+447700900123", SEED_JOHN]
    response = await mobiniti.request(
        "POST", "/v1/message/batch", json={"phone_numbers": numbers, "message": "Sale!"}
    )
    sent = (await ok(response, 201))["data"]
    assert [m["phone_number"] for m in sent] == numbers
    assert all(list(m) == MESSAGE_KEYS for m in sent)
    await service.wait_deliveries()
    (report,) = receiver.of("delivery_report")
    assert_shape(report, WEBHOOK_EXAMPLES["delivery_report"])
    assert report["total_messages"] == 3
    assert report["statuses"][0]["count"] == 3
    assert report["statuses"][0]["recipients"] == [
        "12025550101",
        "447700900123",
        "12025550102",
    ]
    assert [m["phone_number"] for m in report["messages"]] == [
        "2025550101",
        "447700900123",
        "2025550102",
    ]


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({"message": "x"}, ["phone_numbers"]),
        ({"phone_numbers": [SEED_JANE, "x"], "message": "x"}, ["phone_numbers.1"]),
        (
            {"phone_numbers": [SEED_JANE, SEED_UNSUBSCRIBED], "message": "x"},
            ["phone_numbers.1"],
        ),
        (
            {"phone_numbers": [f"+1202555{i:04d}" for i in range(101)], "message": "x"},
            ["phone_numbers"],
        ),
        ({"phone_numbers": [SEED_JANE]}, ["message"]),
    ],
)
async def test_batch_validation(
    service: MobinitiSandbox,
    mobiniti: BearerApi,
    data: dict[str, Any],
    fields: list[str],
) -> None:
    before = len(service.messages)
    response = await mobiniti.request("POST", "/v1/message/batch", json=data)
    await assert_error(response, 422, fields)
    assert len(service.messages) == before


async def test_failed_delivery_reports_bounces_and_rejections(
    service: MobinitiSandbox, mobiniti: BearerApi, receiver: Receiver
) -> None:
    hook_all(service, receiver)
    service.delivery_codes = {SEED_LEE: "101", SEED_JOHN: "120"}
    response = await mobiniti.request(
        "POST",
        "/v1/message/batch",
        json={"phone_numbers": [SEED_LEE, SEED_JOHN, SEED_JANE], "message": "Hey"},
    )
    await ok(response, 201)
    await service.wait_deliveries()
    (report,) = receiver.of("delivery_report")
    assert [(s["code"], s["success"], s["bounce"]) for s in report["statuses"]] == [
        ("101", False, True),
        ("120", False, False),
        ("100", True, False),
    ]
    (bounce,) = receiver.of("bounce")
    assert (bounce["phone_number"], bounce["bounces"]) == (SEED_LEE, 1)
    assert_shape(bounce, WEBHOOK_EXAMPLES["bounce"])
    assert receiver.of("rejection") == [
        {
            "code": "101",
            "message": "Hey",
            "description": "The MSISDN is inactive or no longer active.",
        },
        {"code": "120", "message": "Hey", "description": "Generic delivery failure"},
    ]
    listed = await messages(mobiniti, "?include=receipt&sort=-created_at&limit=3")
    assert {m["receipt"]["code"] for m in listed} == {"100", "101", "120"}


# -- scheduled messages -------------------------------------------------------------------


async def test_scheduled_message_crud(mobiniti: BearerApi, clock: Clock) -> None:
    body = await ok(await mobiniti.request("GET", "/v1/message/schedule"))
    (seeded,) = body["data"]
    assert list(seeded) == SCHEDULED_KEYS
    assert body["meta"]["pagination"]["total"] == 1
    data = {
        "phone_number": SEED_JOHN,
        "message": "Tomorrow 9am",
        "send_at": "2026-03-05T09:00:00Z",
    }
    created = (
        await ok(await mobiniti.request("POST", "/v1/message/schedule", json=data), 201)
    )["data"]
    assert list(created) == SCHEDULED_KEYS
    assert created["send_at"] == "2026-03-05T09:00:00.000Z"
    path = f"/v1/message/schedule/{created['id']}"
    assert (await ok(await mobiniti.request("GET", path)))["data"] == created
    clock.tick(60)
    updated = (
        await ok(
            await mobiniti.request(
                "PUT", path, json={"send_at": "2026-03-05T10:30:00-05:00"}
            )
        )
    )["data"]
    assert updated["send_at"] == "2026-03-05T15:30:00.000Z"
    assert updated["message"] == "Tomorrow 9am"
    assert updated["updated_at"] == "2026-03-04T12:01:00.000Z"
    listed = await ok(
        await mobiniti.request("GET", "/v1/message/schedule?sort=-send_at")
    )
    assert listed["data"][0]["id"] == created["id"]
    response = await mobiniti.request("PUT", path, json={"message": ""})
    await assert_error(response, 422, ["message"])
    response = await mobiniti.request(
        "PUT", path, json={"phone_number": SEED_UNSUBSCRIBED}
    )
    await assert_error(response, 422, ["phone_number"])
    response = await mobiniti.request("DELETE", path)
    assert response.status == 204
    await assert_error(await mobiniti.request("GET", path), 404)
    await assert_error(await mobiniti.request("PUT", path, json={}), 404)


@pytest.mark.parametrize(
    ("send_at", "message"),
    [
        (None, "The send at field is required."),
        ("tomorrow", "The send at is not a valid date."),
        (5, "The send at is not a valid date."),
        ("2026-03-04T11:00:00Z", "The send at must be a date after now."),
        ("2026-03-04T12:00:00Z", "The send at must be a date after now."),
    ],
)
async def test_scheduled_message_validation(
    mobiniti: BearerApi, clock: Clock, send_at: object, message: str
) -> None:
    data = {"phone_number": SEED_JOHN, "message": "x", "send_at": send_at}
    response = await mobiniti.request("POST", "/v1/message/schedule", json=data)
    body = await assert_error(response, 422, ["send_at"])
    assert body["errors"]["send_at"] == [message]


async def test_due_scheduled_messages_are_sent(
    service: MobinitiSandbox, mobiniti: BearerApi, clock: Clock
) -> None:
    data = {
        "phone_number": SEED_LEE,
        "message": "Later",
        "send_at": "2026-03-04T12:10Z",
    }
    response = await mobiniti.request("POST", "/v1/message/schedule", json=data)
    scheduled = (await ok(response, 201))["data"]
    clock.tick(600)
    outgoing = await messages(mobiniti, "?filter[type]=OUTGOING_ALL&sort=-created_at")
    assert (outgoing[0]["message"], outgoing[0]["created_at"]) == (
        "Later",
        "2026-03-04T12:10:00.000Z",
    )
    path = f"/v1/message/schedule/{scheduled['id']}"
    await assert_error(await mobiniti.request("GET", path), 404)
    assert len(service.scheduled) == 1  # the seeded one is for tomorrow


# -- the two scheduled message paths -------------------------------------------------------

# The document's path and the one Mobiniti's PHP client uses.
SCHEDULE_PATHS = {"document": "/v1/message/schedule", "vendor": "/v1/messages/schedule"}


def schedule_body(text: str = "Doors open at 9") -> dict[str, str]:
    """A scheduled message for tomorrow morning (the `clock` fixture's time)."""
    return {
        "phone_number": SEED_JOHN,
        "message": text,
        "send_at": "2026-03-05T09:00:00Z",
    }


async def test_both_schedule_paths_are_one_resource_by_default(
    service: MobinitiSandbox, mobiniti: BearerApi, clock: Clock
) -> None:
    assert (service.schedule_paths, service.schedule_refusal) == ("both", 404)
    document, vendor = SCHEDULE_PATHS["document"], SCHEDULE_PATHS["vendor"]
    response = await mobiniti.request("POST", vendor, json=schedule_body())
    created = (await ok(response, 201))["data"]
    assert list(created) == SCHEDULED_KEYS
    for path in (document, vendor):
        listed = (await ok(await mobiniti.request("GET", path)))["data"]
        assert created["id"] in [s["id"] for s in listed]
        one = await ok(await mobiniti.request("GET", f"{path}/{created['id']}"))
        assert one["data"] == created
    change = {"message": "Doors open at 10"}
    await ok(await mobiniti.request("PUT", f"{vendor}/{created['id']}", json=change))
    one = await ok(await mobiniti.request("GET", f"{document}/{created['id']}"))
    assert one["data"]["message"] == "Doors open at 10"
    response = await mobiniti.request("DELETE", f"{vendor}/{created['id']}")
    assert response.status == 204
    await assert_error(
        await mobiniti.request("GET", f"{document}/{created['id']}"), 404
    )
    # A message is still a message: the literal path does not shadow /messages/{id}.
    message_id = next(iter(service.messages))
    assert (await mobiniti.request("GET", f"/v1/messages/{message_id}")).status == 200


async def test_the_vendor_schedule_path_needs_the_schedule_scope(
    service: MobinitiSandbox, mobiniti: BearerApi, clock: Clock
) -> None:
    token = service.issue_token(["messages.view"])["access_token"]
    path = SCHEDULE_PATHS["vendor"]
    response = await mobiniti.request("POST", path, token=token, json=schedule_body())
    await assert_error(response, 403)


@pytest.mark.parametrize("refusal", [404, 405])
@pytest.mark.parametrize("served", ["document", "vendor"])
async def test_the_schedule_path_not_served_is_an_unknown_route(
    service: MobinitiSandbox,
    mobiniti: BearerApi,
    clock: Clock,
    served: SchedulePaths,
    refusal: int,
) -> None:
    """Before authentication and the rate limit, nothing scheduled or changed."""
    service.schedule_paths = served
    service.schedule_refusal = refusal
    service.rate_limit_enabled = True
    (other,) = set(SCHEDULE_PATHS) - {served}
    path = SCHEDULE_PATHS[other]
    seeded = dict(service.scheduled)
    one = f"{path}/{next(iter(seeded))}"
    calls = [("POST", path), ("GET", path), ("GET", one), ("PUT", one)]
    for method, target in [*calls, ("DELETE", one)]:
        for token in ("default", None, "default"):
            response = await mobiniti.request(
                method, target, token=token, json=schedule_body("Twice?")
            )
            await assert_error(response, refusal)
            assert response.headers.get("Allow") == ("" if refusal == 405 else None)
            assert "X-RateLimit-Remaining" not in response.headers
    assert service.scheduled == seeded
    response = await mobiniti.request(
        "POST", SCHEDULE_PATHS[served], json=schedule_body()
    )
    created = (await ok(response, 201))["data"]
    assert set(service.scheduled) == {*seeded, created["id"]}


async def test_control_schedule_path_switch(
    sandbox: Sandbox, sandbox_client: Client, mobiniti: BearerApi
) -> None:
    settings = await control(
        sandbox_client,
        "PUT",
        "/settings",
        {"schedule_paths": "vendor", "schedule_refusal": 405},
    )
    assert (settings["schedule_paths"], settings["schedule_refusal"]) == (
        "vendor",
        405,
    )
    service = sandbox.mobiniti
    assert (service.schedule_paths, service.schedule_refusal) == ("vendor", 405)
    response = await mobiniti.request("POST", SCHEDULE_PATHS["document"], json={})
    await assert_error(response, 405)
    response = await mobiniti.request("POST", SCHEDULE_PATHS["vendor"], json={})
    await assert_error(response, 422, ["phone_number", "message", "send_at"])
    for bad in (
        {"schedule_paths": "neither"},
        {"schedule_paths": None},
        {"schedule_refusal": 400},
        {"schedule_refusal": "404"},
        {"schedule_refusal": 404.0},
        {"schedule_refusal": True},
    ):
        await control(sandbox_client, "PUT", "/settings", bad, 400)
    assert await control(sandbox_client, "GET", "/settings") == settings
    await control(sandbox_client, "PUT", "/settings", {"schedule_paths": "document"})
    assert (service.schedule_paths, service.schedule_refusal) == ("document", 405)
    assert (await sandbox_client.post("/_control/reset")).status == 200
    assert (service.schedule_paths, service.schedule_refusal) == ("both", 404)


# -- phone number lookup -------------------------------------------------------------------


async def test_lookup(mobiniti: BearerApi) -> None:
    numbers = [SEED_JANE, "+447700900123"]
    response = await mobiniti.request(
        "POST", "/v1/phone-numbers/lookup", json={"phone_numbers": numbers}
    )
    body = await ok(response)
    assert [r["phone_number"] for r in body["data"]] == numbers
    for result in body["data"]:
        assert list(result) == ["phone_number", "carrier"]
        assert list(result["carrier"]) == ["id", "name"]
    ten = [f"+1202555{i:04d}" for i in range(10)]
    response = await mobiniti.request(
        "POST", "/v1/phone-numbers/lookup", json={"phone_numbers": ten}
    )
    assert len((await ok(response))["data"]) == 10
    response = await mobiniti.request(
        "POST", "/v1/phone-numbers/lookup", json={"phone_numbers": [*ten, SEED_JANE]}
    )
    await assert_error(response, 422, ["phone_numbers"])
    response = await mobiniti.request(
        "POST", "/v1/phone-numbers/lookup", json={"phone_numbers": ["12025550101"]}
    )
    await assert_error(response, 422, ["phone_numbers.0"])


# -- rate limit ---------------------------------------------------------------------------


async def test_one_request_per_second_per_route(
    service: MobinitiSandbox, mobiniti: BearerApi, clock: Clock
) -> None:
    service.rate_limit_enabled = True
    first = await mobiniti.request("GET", "/v1/contacts")
    assert first.status == 200
    assert first.headers["X-RateLimit-Limit"] == "60"
    assert first.headers["X-RateLimit-Remaining"] == "59"
    clock.tick(0.5)
    throttled = await mobiniti.request("GET", "/v1/contacts")
    body = await assert_error(throttled, 429)
    assert body["message"] == "Too Many Attempts."
    assert throttled.headers["Retry-After"] == "1"
    assert throttled.headers["X-RateLimit-Limit"] == "60"
    assert throttled.headers["X-RateLimit-Remaining"] == "59"  # not counted
    # Other routes are independent; one route is one template, whatever the id.
    assert (await mobiniti.request("GET", "/v1/messages")).status == 200
    assert (await mobiniti.request("GET", "/v1/groups")).status == 200
    jane, john = (service.contact(n).id for n in (SEED_JANE, SEED_JOHN))
    assert (await mobiniti.request("GET", f"/v1/contacts/{jane}")).status == 200
    await assert_error(await mobiniti.request("GET", f"/v1/contacts/{john}"), 429)
    response = await mobiniti.request(
        "POST", "/v1/contacts", json={"phone_number": "+12125550100"}
    )
    assert response.status == 201  # same path, another method
    clock.tick(0.5)
    again = await mobiniti.request("GET", "/v1/contacts")
    assert again.status == 200
    assert again.headers["X-RateLimit-Remaining"] == "58"
    assert service.throttled == 2


async def test_sixty_requests_per_minute_per_route(
    service: MobinitiSandbox, mobiniti: BearerApi, clock: Clock
) -> None:
    service.rate_limit_enabled = True
    service.per_route_interval = 0.0
    for expected in range(59, -1, -1):
        response = await mobiniti.request("GET", "/v1/groups")
        assert response.headers["X-RateLimit-Remaining"] == str(expected)
        clock.tick(0.25)
    throttled = await mobiniti.request("GET", "/v1/groups")
    await assert_error(throttled, 429)
    assert throttled.headers["Retry-After"] == "45"  # the first one leaves at 60 s
    clock.tick(45)
    assert (await mobiniti.request("GET", "/v1/groups")).status == 200


async def test_rate_limit_switched_off_still_counts(
    service: MobinitiSandbox, mobiniti: BearerApi
) -> None:
    assert not service.rate_limit_enabled  # the fixture's default
    remaining = []
    for _ in range(3):
        response = await mobiniti.request("GET", "/v1/groups")
        assert response.status == 200
        remaining.append(response.headers["X-RateLimit-Remaining"])
    assert remaining == ["59", "58", "57"]


async def test_unauthenticated_requests_use_their_own_budget(
    service: MobinitiSandbox, mobiniti: BearerApi, clock: Clock
) -> None:
    service.rate_limit_enabled = True
    await assert_error(await mobiniti.request("GET", "/v1/groups", token=None), 401)
    assert (await mobiniti.request("GET", "/v1/groups")).status == 200
    await assert_error(await mobiniti.request("GET", "/v1/groups", token=None), 429)
    response = await mobiniti.request("GET", "/oauth/authorize")
    assert "X-RateLimit-Limit" not in response.headers


# -- webhooks -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", WEBHOOK_KINDS)
async def test_each_webhook_kind_is_delivered(
    service: MobinitiSandbox, receiver: Receiver, kind: str
) -> None:
    delivery = await service.deliver_webhook(receiver.url(kind), kind)
    assert (delivery.status, delivery.error, delivery.delivered) == (200, None, True)
    (call,) = receiver.calls
    assert call.path_qs == f"/api/webhook/abc?kind={kind}"
    assert call.content_type == "application/json"
    assert call.payload == delivery.payload == service.webhook_payload(kind)
    assert_shape(call.payload, WEBHOOK_EXAMPLES[kind])
    assert service.deliveries == [delivery]
    for key in ("created_at", "updated_at", "unsubscribed_at", "received_at"):
        if call.payload.get(key) is not None:
            assert TIME_RE.fullmatch(call.payload[key])
            assert not call.payload[key].startswith("2016")  # current dates


async def test_seeded_webhook_payloads_match_the_state(
    service: MobinitiSandbox,
) -> None:
    unsubscribed = service.contact(SEED_UNSUBSCRIBED)
    payload = service.webhook_payload("unsubscribe")
    assert payload["id"] == unsubscribed.id
    assert payload["unsubscribed_at"] == unsubscribed.to_json()["unsubscribed_at"]
    maria = service.contact(SEED_MARIA)
    assert service.webhook_payload("contact_status")["status"] == maria.status
    assert service.webhook_payload("bounce")["bounces"] == maria.bounces == 2
    inbound = service.webhook_payload("inbound_message")
    assert (inbound["phone_number"], inbound["message"]) == (SEED_LEE, "Thanks!")
    assert service.webhook_payload("rejection")["description"] == "Unsubscribed"
    with pytest.raises(ValueError, match="unknown webhook kind"):
        service.webhook_payload("nope")


async def test_state_changes_deliver_to_configured_urls(
    service: MobinitiSandbox, receiver: Receiver
) -> None:
    hook_all(service, receiver)
    unsubscribed = service.unsubscribe_contact(SEED_JOHN)
    inbound = service.add_inbound(SEED_JANE, "Any news?")
    status = service.set_contact_status(
        SEED_LEE, "transferred", new_phone_number="+12025550199"
    )
    bounce = service.add_bounce(SEED_JANE)
    await service.wait_deliveries()
    assert receiver.of("unsubscribe") == [unsubscribed]
    assert unsubscribed["id"] == service.contact(SEED_JOHN).id
    (sent,) = receiver.of("inbound_message")
    assert (sent["id"], sent["message"], sent["received_at"]) == (
        service.contact(SEED_JANE).id,
        "Any news?",
        inbound["created_at"],
    )
    (changed,) = receiver.of("contact_status")
    assert changed == status
    assert list(changed) == [
        "id",
        "first_name",
        "last_name",
        "email",
        "phone_number",
        "previous_phone_number",
        "status",
        "created_at",
        "updated_at",
    ]
    assert (changed["phone_number"], changed["previous_phone_number"]) == (
        "+12025550199",
        SEED_LEE,
    )
    assert receiver.of("bounce") == [bounce]
    assert [d.status for d in service.deliveries] == [200] * 4
    with pytest.raises(ValueError, match="already unsubscribed"):
        service.unsubscribe_contact(SEED_JOHN)
    with pytest.raises(ValueError, match="status must be"):
        service.set_contact_status(SEED_JANE, "gone")
    with pytest.raises(ValueError, match="transfer"):
        service.set_contact_status(SEED_JANE, "transferred")
    with pytest.raises(ValueError, match="only for"):
        service.set_contact_status(SEED_JANE, "suspended", new_phone_number="+1202")
    with pytest.raises(KeyError):
        service.add_bounce("+19999999999")


async def test_unreachable_receiver_is_recorded(
    service: MobinitiSandbox, socket_enabled: None
) -> None:
    closed = TestServer(web.Application(), host="127.0.0.1")
    await closed.start_server()
    url = str(closed.make_url("/gone"))
    await closed.close()
    delivery = await service.deliver_webhook(url, "rejection")
    assert delivery.status is None
    assert delivery.error
    assert not delivery.delivered


def test_without_an_event_loop_nothing_is_sent() -> None:
    service = MobinitiSandbox()
    service.webhook_urls["inbound_message"] = "http://127.0.0.1:9/hook"
    service.add_inbound(SEED_JANE, "queued?")
    (delivery,) = service.deliveries
    assert (delivery.status, delivery.error) == (
        None,
        "not sent: no running event loop",
    )


# -- control interface -----------------------------------------------------------------


async def control(
    client: Client, method: str, path: str, body: object = None, status: int = 200
) -> Any:
    """Call a Mobiniti control route and return its JSON answer."""
    response = await client.request(method, f"/_control/mobiniti{path}", json=body)
    assert response.status == status, await response.text()
    return await response.json()


async def test_control_webhooks_and_deliveries(
    sandbox_client: Client, receiver: Receiver
) -> None:
    url = receiver.url("unsubscribe")
    assert await control(sandbox_client, "GET", "/webhooks") == {}
    configured = await control(
        sandbox_client, "PUT", "/webhooks", {"unsubscribe": url, "bounce": url}
    )
    assert configured == {"unsubscribe": url, "bounce": url}
    assert await control(sandbox_client, "PUT", "/webhooks", {"bounce": None}) == {
        "unsubscribe": url
    }
    await control(sandbox_client, "PUT", "/webhooks", {"nope": url}, 400)
    await control(sandbox_client, "PUT", "/webhooks", {"bounce": "x"}, 400)
    # State changes deliver before the control route answers.
    payload = await control(
        sandbox_client, "POST", "/contacts/unsubscribe", {"phone_number": SEED_JANE}
    )
    assert receiver.of("unsubscribe") == [payload]
    receiver.answers = [500]
    delivered = await control(
        sandbox_client,
        "POST",
        "/webhooks/deliver",
        {"url": url, "kind": "unsubscribe", "email": "changed@example.com"},
    )
    assert (delivered["status"], delivered["delivered"]) == (500, False)
    assert delivered["payload"] == {**payload, "email": "changed@example.com"}
    assert receiver.calls[-1].payload == delivered["payload"]
    await control(
        sandbox_client, "POST", "/webhooks/deliver", {"url": url, "kind": "x"}, 400
    )
    await control(
        sandbox_client, "POST", "/webhooks/deliver", {"url": "x", "kind": "bounce"}, 400
    )
    await control(sandbox_client, "POST", "/webhooks/deliver", {"kind": "bounce"}, 400)
    deliveries = await control(sandbox_client, "GET", "/deliveries")
    assert [(d["kind"], d["status"]) for d in deliveries] == [
        ("unsubscribe", 200),
        ("unsubscribe", 500),
    ]
    await control(sandbox_client, "DELETE", "/deliveries")
    assert await control(sandbox_client, "GET", "/deliveries") == []


async def test_control_contacts_and_messages(
    sandbox_client: Client, mobiniti: BearerApi, receiver: Receiver
) -> None:
    await control(
        sandbox_client,
        "PUT",
        "/webhooks",
        {kind: receiver.url(kind) for kind in WEBHOOK_KINDS},
    )
    added = await control(
        sandbox_client,
        "POST",
        "/contacts",
        {"phone_number": "+16175550100", "first_name": "Kim", "groups": []},
    )
    assert (added["status"], added["bounces"]) == ("active", 0)
    await control(sandbox_client, "POST", "/contacts", {"phone_number": "617"}, 400)
    await control(
        sandbox_client, "POST", "/contacts", {"phone_number": "+16175550100"}, 400
    )
    await control(
        sandbox_client,
        "POST",
        "/contacts",
        {"phone_number": "+16175550101", "reward_points": "x"},
        400,
    )
    listed = await control(sandbox_client, "GET", "/contacts")
    assert listed[-1]["phone_number"] == "+16175550100"
    message = await control(
        sandbox_client,
        "POST",
        "/inbound",
        {"phone_number": "+16175550100", "message": "Hi", "at": "2031-01-02T03:04:05Z"},
    )
    assert message["created_at"] == "2031-01-02T03:04:05.000Z"
    assert receiver.of("inbound_message")[0]["received_at"] == message["created_at"]
    await control(sandbox_client, "POST", "/inbound", {"phone_number": "1"}, 400)
    status = await control(
        sandbox_client,
        "POST",
        "/contacts/status",
        {"id": added["id"], "status": "suspended"},
    )
    assert receiver.of("contact_status") == [status]
    await control(sandbox_client, "POST", "/contacts/status", {"id": added["id"]}, 400)
    bounce = await control(
        sandbox_client, "POST", "/contacts/bounce", {"id": added["id"], "count": 3}
    )
    assert bounce["bounces"] == 3
    await control(
        sandbox_client, "POST", "/contacts/bounce", {"id": added["id"], "count": 0}, 400
    )
    await control(sandbox_client, "POST", "/contacts/bounce", {"id": "nope"}, 404)
    await control(sandbox_client, "POST", "/contacts/unsubscribe", {}, 400)
    sent = await control(
        sandbox_client,
        "POST",
        "/send",
        {"phone_number": "+16175550100", "message": "Yo"},
    )
    assert receiver.of("delivery_report")[0]["messages"][0]["id"] == sent["id"]
    rejection = await control(
        sandbox_client, "POST", "/rejection", {"message": "m", "code": "125"}
    )
    assert rejection == {"code": "125", "message": "m", "description": "Unsubscribed"}
    everything = await control(sandbox_client, "GET", "/messages")
    assert [m["type"] for m in everything[-2:]] == ["OUTGOING", "INCOMING"]
    scheduled = await control(sandbox_client, "GET", "/scheduled")
    assert len(scheduled) == 1
    assert await control(sandbox_client, "POST", "/scheduled/process") == []
    found = await messages(mobiniti, "?filter[phone_number]=%2B16175550100")
    assert {m["message"] for m in found} == {"Hi", "Yo"}


async def test_control_tokens_settings_state_and_reset(
    sandbox: Sandbox, sandbox_client: Client, mobiniti: BearerApi
) -> None:
    issued = await control(
        sandbox_client, "POST", "/tokens", {"scopes": ["groups.view"]}
    )
    token = issued["access_token"]
    assert (await mobiniti.request("GET", "/v1/groups", token=token)).status == 200
    await assert_error(await mobiniti.request("GET", "/v1/contacts", token=token), 403)
    await control(sandbox_client, "POST", "/tokens", {"scopes": "x"}, 400)
    await control(sandbox_client, "POST", "/tokens", {"scopes": ["x"]}, 400)
    await control(sandbox_client, "PUT", "/tokens", {"tokens": ["t2"]})
    await assert_error(await mobiniti.request("GET", "/v1/groups"), 401)
    assert (await mobiniti.request("GET", "/v1/groups", token="t2")).status == 200
    await control(sandbox_client, "PUT", "/tokens", {"tokens": [""]}, 400)

    settings = await control(
        sandbox_client,
        "PUT",
        "/settings",
        {
            "payment_required": True,
            "rate_limit_enabled": True,
            "per_route_interval": 2,
            "delivery_codes": {SEED_JANE: "110"},
        },
    )
    assert settings["payment_required"] is True
    assert settings["per_route_interval"] == 2.0
    assert sandbox.mobiniti.delivery_codes == {SEED_JANE: "110"}
    assert await control(sandbox_client, "GET", "/settings") == settings
    for bad in (
        {"payment_required": "yes"},
        {"per_route_interval": -1},
        {"token_lifetime": 0},
        {"redirect_uris": ["nope"]},
        {"delivery_codes": {SEED_JANE: "999"}},
        {"colour": "blue"},
    ):
        await control(sandbox_client, "PUT", "/settings", bad, 400)
    state = await control(sandbox_client, "GET", "/state")
    assert state["service"] == "mobiniti"
    assert (state["contacts"], state["subscribed"], state["unsubscribed"]) == (5, 4, 1)
    assert (state["messages"], state["incoming"], state["outgoing"]) == (5, 3, 2)
    assert (state["groups"], state["scheduled"]) == (6, 1)
    assert state["tokens"] == ["t2"]

    assert (await sandbox_client.post("/_control/reset")).status == 200
    assert sandbox.mobiniti.settings()["payment_required"] is False
    assert sandbox.mobiniti.tokens == {SEED_TOKEN}
    assert sandbox.mobiniti.rate_limit_enabled


# -- machinery, demo, registration -------------------------------------------------------


async def test_unknown_route_and_method(mobiniti: BearerApi) -> None:
    await assert_error(await mobiniti.request("GET", "/v1/campaigns"), 404)
    await assert_error(await mobiniti.request("GET", "/v1/nothing", token=None), 404)
    response = await mobiniti.request("POST", "/v1/messages")
    await assert_error(response, 405)
    assert response.headers["Allow"] == "GET"


async def test_faults_use_the_error_shape(
    service: MobinitiSandbox, mobiniti: BearerApi
) -> None:
    service.add_fault(Fault(kind="error", status=503, path="^/v1/groups"))
    body = await assert_error(await mobiniti.request("GET", "/v1/groups"), 503)
    assert body["message"].startswith("We're temporarily offline")
    service.add_fault(Fault(kind="rate_limit", retry_after=7))
    response = await mobiniti.request("GET", "/v1/groups")
    await assert_error(response, 429)
    assert response.headers["Retry-After"] == "7"
    assert [r.status for r in service.requests] == [503, 429]


def test_demo_step(freezer: FrozenDateTimeFactory) -> None:
    service = MobinitiSandbox()
    before = service.state()
    service.demo_step(1)
    assert service.state()["incoming"] == before["incoming"] + 1
    service.demo_step(2)
    outgoing = [m for m in service.messages.values() if not m.incoming]
    assert outgoing[-1].message == "Demo reply #2"
    service.demo_step(5)
    state = service.state()
    assert (state["contacts"], state["unsubscribed"]) == (6, 2)
    assert service.webhook_payload("unsubscribe")["phone_number"] == "+12025550005"
    # Due scheduled messages go out.
    freezer.tick(timedelta(days=2))
    service.demo_step(6)
    assert service.state()["scheduled"] == 0


async def test_demo_step_delivers_webhooks(
    service: MobinitiSandbox, receiver: Receiver
) -> None:
    hook_all(service, receiver)
    for step in range(1, 6):
        service.demo_step(step)
    await service.wait_deliveries()
    assert [p["message"] for p in receiver.of("inbound_message")] == [
        "Demo message #1",
        "Demo message #4",
    ]
    assert len(receiver.of("delivery_report")) == 1
    (unsubscribed,) = receiver.of("unsubscribe")
    assert unsubscribed["first_name"] == "Demo"


def test_sandbox_registers_mobiniti_and_summary() -> None:
    sandbox = Sandbox()
    assert isinstance(sandbox.mobiniti, MobinitiSandbox)
    assert sandbox.mobiniti.prefix == "/mobiniti"
    summary = "\n".join(sandbox.mobiniti.summary())
    for needle in (SEED_TOKEN, CLIENT_ID, CLIENT_SECRET, SHORT_CODE):
        assert needle in summary
