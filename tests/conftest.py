"""Fixtures: a real sandbox server on 127.0.0.1 and Hipmob entries pointed at it."""

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
import hashlib
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestServer
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
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
IP1_KEY = "ip1-sandbox-key"
IP1_ACCOUNT_ID = hashlib.sha256(IP1_KEY.encode()).hexdigest()
IP1_PARTICIPANT = "46701234567"  # seeded: three messages, the newest inbound
IP1_NAME = "Pharmacy"  # seeded: one inbound message from a sender name
IP1_WEBHOOK_ID = "ip1-test-webhook-id"
MOBINITI_TOKEN = "mobiniti-sandbox-token"
MOBINITI_ACCOUNT_ID = hashlib.sha256(MOBINITI_TOKEN.encode()).hexdigest()
MOBINITI_WEBHOOK_ID = "mobiniti-test-webhook-id"
HIPCALL_WEBHOOK_ID = "hipcall-test-webhook-id"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/commhub."""


@pytest.fixture(autouse=True)
def no_deprecated_calls(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Home Assistant reports CommHub's use of deprecated APIs: none may be left."""
    yield
    reported = [
        r.getMessage()
        for r in caplog.get_records("call")
        if r.name == "homeassistant.helpers.frame" and "'commhub'" in r.getMessage()
    ]
    assert not reported, reported


@pytest.fixture
def hass_config_dir(hass_tmp_config_dir: str) -> str:
    """Ledger journals are real files: each test keeps them in its own directory."""
    return hass_tmp_config_dir


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
        unique_id="hipmob:femi",
        minor_version=2,
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


def _setup_factory(
    hass: HomeAssistant, make_entry: Callable[..., MockConfigEntry]
) -> SetupEntry:
    """Add an entry made by `make_entry(**kwargs)` and set it up."""

    async def setup(**kwargs: Any) -> MockConfigEntry:
        entry = make_entry(**kwargs)
        entry.add_to_hass(hass)
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        return entry

    return setup


@pytest.fixture
def setup_hipmob(hass: HomeAssistant, sandbox_url: str) -> SetupEntry:
    """Add a Hipmob entry (keyword arguments as for `hipmob_entry`) and set it up."""
    return _setup_factory(hass, lambda **kw: hipmob_entry(sandbox_url, **kw))


def hipcall_entry(
    sandbox_url: str, generation: str = "v20211124", **options: Any
) -> MockConfigEntry:
    """A Hipcall entry for the seeded account, on the 2021 API or the current (v3)."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Hipcall (Owner)",
        unique_id=f"hipcall:{HIPCALL_OWNER}",
        minor_version=3,
        data={
            "service": "hipcall",
            "api_token": HIPCALL_TOKEN,
            "base_url": f"{sandbox_url}/hipcall/api/{generation}",
            "webhook_id": HIPCALL_WEBHOOK_ID,
            "cloudhook": False,
        },
        options={"scan_interval": 30, **options},
    )


@pytest.fixture
def setup_hipcall(hass: HomeAssistant, sandbox_url: str) -> SetupEntry:
    """Add a Hipcall entry (options as keyword arguments) and set it up."""
    return _setup_factory(hass, lambda **kw: hipcall_entry(sandbox_url, **kw))


@pytest.fixture
def setup_hipcall_v3(hass: HomeAssistant, sandbox_url: str) -> SetupEntry:
    """Add a Hipcall entry on the current API (v3) and set it up."""
    return _setup_factory(hass, lambda **kw: hipcall_entry(sandbox_url, "v3", **kw))


def ip1_entry(sandbox_url: str, **options: Any) -> MockConfigEntry:
    """An IP1 entry for the seeded account, following two seeded conversations."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"IP1 SMS ({IP1_ACCOUNT_ID[:6]})",
        unique_id=f"ip1:{IP1_ACCOUNT_ID}",
        minor_version=2,
        data={
            "service": "ip1",
            "api_key": IP1_KEY,
            "base_url": f"{sandbox_url}/ip1",
            "webhook_id": IP1_WEBHOOK_ID,
            "cloudhook": False,
        },
        options={
            "scan_interval": 60,
            "participants": [IP1_PARTICIPANT, IP1_NAME],
            "sender": "CommHub",
            "delivery_reports": False,
            **options,
        },
    )


@pytest.fixture
def setup_ip1(hass: HomeAssistant, sandbox_url: str) -> SetupEntry:
    """Add an IP1 entry (options as keyword arguments) and set it up."""
    return _setup_factory(hass, lambda **kw: ip1_entry(sandbox_url, **kw))


def mobiniti_entry(sandbox_url: str, **options: Any) -> MockConfigEntry:
    """A Mobiniti entry signed in with the sandbox's personal access token."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Mobiniti (sandbox)",
        unique_id=f"mobiniti:{MOBINITI_ACCOUNT_ID}",
        minor_version=2,
        data={
            "service": "mobiniti",
            "access_token": MOBINITI_TOKEN,
            "base_url": f"{sandbox_url}/mobiniti",
            "webhook_id": MOBINITI_WEBHOOK_ID,
            "cloudhook": False,
        },
        options={"scan_interval": 60, "polling": False, **options},
    )


@pytest.fixture
def setup_mobiniti(
    hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str
) -> SetupEntry:
    """Add a Mobiniti entry and set it up; the 1 request/s per route is off.

    Tests of the rate limit turn it back on (sandbox and client throttle).
    """
    sandbox.mobiniti.rate_limit_enabled = False
    setup = _setup_factory(hass, lambda **kw: mobiniti_entry(sandbox_url, **kw))

    async def unthrottled_setup(**options: Any) -> MockConfigEntry:
        entry = await setup(**options)
        if entry.state is ConfigEntryState.LOADED:
            entry.runtime_data.client.throttle.interval = 0
        return entry

    return unthrottled_setup


def ledger_files(hass: HomeAssistant, entry: ConfigEntry) -> list[str]:
    """The names of the entry's ledger files in `.storage` (journals)."""
    storage = Path(hass.config.path(".storage"))
    if not storage.is_dir():
        return []
    return sorted(p.name for p in storage.iterdir() if entry.entry_id in p.name)
