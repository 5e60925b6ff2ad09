"""Fixtures: a real sandbox server on 127.0.0.1 and Hipmob entries pointed at it."""

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestServer
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.commhub.const import DOMAIN
from sandbox import Sandbox

APP = "fedcba0987654321fedcba0987654321"
JACK = "AACA914E-B948-4d5f-BF8B-0BDB5CF77B61"
FRIEND_1 = "9d26cbc2-35d2-4b03-9a2d-3b4d8a64e611"
FRIEND_2 = "5813cd68-402f-4836-8f9e-acf1aaaf937d"
API_KEY = "hipmob-sandbox-key"
HIPCALL_TOKEN = "hipcall-sandbox-token"
HIPCALL_OWNER = "12"  # the seeded Hipcall user marked as the account's owner


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/commhub."""


@pytest.fixture
def sandbox() -> Sandbox:
    """The vendors' APIs, freshly seeded with their documents' examples."""
    return Sandbox()


@pytest.fixture
async def sandbox_url(sandbox: Sandbox, socket_enabled: None) -> AsyncIterator[str]:
    """Serve the sandbox on 127.0.0.1 (connections elsewhere stay blocked)."""
    server = TestServer(sandbox.build_app(), host="127.0.0.1", access_log=None)
    await server.start_server()
    yield str(server.make_url("")).rstrip("/")
    for service in sandbox.services.values():
        service.clear_faults()
    await server.close()


def hipmob_entry(
    sandbox_url: str,
    *,
    devices: list[str] | None = None,
    users: list[str] | None = None,
    **options: Any,
) -> MockConfigEntry:
    """A Hipmob entry for the seeded account `femi` and its first app."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Hipmob Testing (femi)",
        unique_id="femi",
        data={
            "service": "hipmob",
            "account": "femi",
            "api_key": API_KEY,
            "base_url": f"{sandbox_url}/hipmob",
            "app": APP,
        },
        options={
            "scan_interval": 60,
            "devices": [JACK, FRIEND_1] if devices is None else devices,
            "users": ["femi", "tolu"] if users is None else users,
            **options,
        },
    )


type SetupEntry = Callable[..., Awaitable[MockConfigEntry]]


@pytest.fixture
def setup_hipmob(hass: HomeAssistant, sandbox_url: str) -> SetupEntry:
    """Add a Hipmob entry (keyword arguments as for `hipmob_entry`) and set it up."""

    async def setup(**kwargs: Any) -> MockConfigEntry:
        entry = hipmob_entry(sandbox_url, **kwargs)
        entry.add_to_hass(hass)
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        return entry

    return setup


def hipcall_entry(sandbox_url: str, **options: Any) -> MockConfigEntry:
    """A Hipcall entry for the seeded account."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Hipcall (Owner)",
        unique_id=HIPCALL_OWNER,
        data={
            "service": "hipcall",
            "api_token": HIPCALL_TOKEN,
            "base_url": f"{sandbox_url}/hipcall/api/v20211124",
        },
        options={"scan_interval": 30, **options},
    )


@pytest.fixture
def setup_hipcall(hass: HomeAssistant, sandbox_url: str) -> SetupEntry:
    """Add a Hipcall entry (options as keyword arguments) and set it up."""

    async def setup(**options: Any) -> MockConfigEntry:
        entry = hipcall_entry(sandbox_url, **options)
        entry.add_to_hass(hass)
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        return entry

    return setup
