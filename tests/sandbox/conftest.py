"""Fixtures serving the sandbox in-process on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Literal

from aiohttp import ClientResponse, encode_basic_auth, web
from aiohttp.test_utils import TestClient, TestServer
import pytest

from sandbox import Sandbox

Credentials = tuple[str, str]
FEMI: Credentials = ("femi", "hipmob-sandbox-key")


@pytest.fixture
def sandbox() -> Sandbox:
    """A freshly seeded sandbox."""
    return Sandbox()


@pytest.fixture
async def sandbox_client(
    sandbox: Sandbox,
    socket_enabled: None,  # Home Assistant's test plugin blocks sockets otherwise
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    """A client of `sandbox` served by a real server on 127.0.0.1."""
    async with TestClient(TestServer(sandbox.build_app(), host="127.0.0.1")) as client:
        yield client


class HipmobApi:
    """Requests to the Hipmob sandbox, authenticated as `femi` unless told."""

    def __init__(self, client: TestClient[web.Request, web.Application]) -> None:
        self.client = client

    async def request(
        self,
        method: str,
        path: str,
        *,
        auth: Credentials | None = FEMI,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> ClientResponse:
        """Send a request to /hipmob{path}; the body is read before returning."""
        headers = dict(headers or {})
        if auth is not None:
            headers["Authorization"] = encode_basic_auth(*auth)
        response = await self.client.request(
            method, f"/hipmob{path}", headers=headers, **kwargs
        )
        await response.read()
        return response


@pytest.fixture
def hipmob(sandbox_client: TestClient[web.Request, web.Application]) -> HipmobApi:
    """The Hipmob API of the served sandbox."""
    return HipmobApi(sandbox_client)


class BearerApi:
    """Requests to a service of the sandbox with `Authorization: Bearer <token>`."""

    def __init__(
        self,
        client: TestClient[web.Request, web.Application],
        prefix: str,
        token: str,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.token = token

    @property
    def base_url(self) -> str:
        """The API base URL as a client would configure it."""
        return str(self.client.make_url(self.prefix))

    async def request(
        self,
        method: str,
        path: str,
        *,
        token: str | Literal["default"] | None = "default",
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> ClientResponse:
        """Send a request to {prefix}{path} (token None: none); the body is read."""
        headers = dict(headers or {})
        bearer = self.token if token == "default" else token
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        response = await self.client.request(
            method, f"{self.prefix}{path}", headers=headers, **kwargs
        )
        await response.read()
        return response


IP1_KEY = "ip1-sandbox-key"


@pytest.fixture
def ip1(sandbox_client: TestClient[web.Request, web.Application]) -> BearerApi:
    """The IP1 SMS API of the served sandbox."""
    return BearerApi(sandbox_client, "/ip1", IP1_KEY)


HIPCALL_TOKEN = "hipcall-sandbox-token"
HIPCALL_API = "/hipcall/api/v20211124"


@pytest.fixture
def hipcall(sandbox_client: TestClient[web.Request, web.Application]) -> BearerApi:
    """The Hipcall API of the served sandbox."""
    return BearerApi(sandbox_client, HIPCALL_API, HIPCALL_TOKEN)


MOBINITI_TOKEN = "mobiniti-sandbox-token"


@pytest.fixture
def mobiniti(
    sandbox: Sandbox, sandbox_client: TestClient[web.Request, web.Application]
) -> BearerApi:
    """The Mobiniti API of the served sandbox, its rate limit switched off."""
    sandbox.mobiniti.rate_limit_enabled = False
    return BearerApi(sandbox_client, "/mobiniti", MOBINITI_TOKEN)
