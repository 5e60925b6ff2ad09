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
