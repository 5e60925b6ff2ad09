"""Fixtures serving the sandbox in-process on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

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


IP1_KEY = "ip1-sandbox-key"


class Ip1Api:
    """Requests to the IP1 sandbox with `Authorization: Bearer <key>`."""

    def __init__(self, client: TestClient[web.Request, web.Application]) -> None:
        self.client = client

    async def request(
        self,
        method: str,
        path: str,
        *,
        key: str | None = IP1_KEY,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> ClientResponse:
        """Send a request to /ip1{path}; the body is read before returning."""
        headers = dict(headers or {})
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        response = await self.client.request(
            method, f"/ip1{path}", headers=headers, **kwargs
        )
        await response.read()
        return response


@pytest.fixture
def ip1(sandbox_client: TestClient[web.Request, web.Application]) -> Ip1Api:
    """The IP1 SMS API of the served sandbox."""
    return Ip1Api(sandbox_client)


HIPCALL_TOKEN = "hipcall-sandbox-token"
HIPCALL_API = "/hipcall/api/v20211124"


class HipcallApi:
    """Requests to the Hipcall sandbox with `Authorization: Bearer <token>`."""

    def __init__(self, client: TestClient[web.Request, web.Application]) -> None:
        self.client = client

    @property
    def base_url(self) -> str:
        """The API base URL as a client would configure it."""
        return str(self.client.make_url(HIPCALL_API))

    async def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = HIPCALL_TOKEN,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> ClientResponse:
        """Send a request to /hipcall/api/v20211124{path}; the body is read."""
        headers = dict(headers or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        response = await self.client.request(
            method, f"{HIPCALL_API}{path}", headers=headers, **kwargs
        )
        await response.read()
        return response


@pytest.fixture
def hipcall(sandbox_client: TestClient[web.Request, web.Application]) -> HipcallApi:
    """The Hipcall API of the served sandbox."""
    return HipcallApi(sandbox_client)


MOBINITI_TOKEN = "mobiniti-sandbox-token"


class MobinitiApi:
    """Requests to the Mobiniti sandbox with `Authorization: Bearer <token>`."""

    def __init__(self, client: TestClient[web.Request, web.Application]) -> None:
        self.client = client

    async def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = MOBINITI_TOKEN,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> ClientResponse:
        """Send a request to /mobiniti{path}; the body is read before returning."""
        headers = dict(headers or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        response = await self.client.request(
            method, f"/mobiniti{path}", headers=headers, **kwargs
        )
        await response.read()
        return response


@pytest.fixture
def mobiniti(
    sandbox: Sandbox, sandbox_client: TestClient[web.Request, web.Application]
) -> MobinitiApi:
    """The Mobiniti API of the served sandbox, its rate limit switched off."""
    sandbox.mobiniti.rate_limit_enabled = False
    return MobinitiApi(sandbox_client)
