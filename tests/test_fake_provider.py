"""A fifth provider defined only in the tests: the generic machinery is enough.

Acme Chat (`tests/fake_provider.py`) is registered by patching the registry
before the integration is set up; everything a user sees of it comes from the
generic modules delegating to its `Provider`.
"""

from datetime import timedelta
import json
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.commhub.const import DOMAIN
from custom_components.commhub.providers import PROVIDERS

from .conftest import SetupEntry
from .fake_provider import (
    ACME,
    ACME_ACCOUNT_ID,
    ACME_CLOUDS,
    ACME_KEY,
    ACME_URL,
    AcmeCloud,
    set_status,
    with_agents,
)
from .helpers import call, next_poll, state_of

NEW_KEY = "rotated-acme-key"
OTHER_URL = "https://eu.acme.example/v1"


@pytest.fixture(autouse=True)
def register_acme(hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch) -> None:
    """Acme Chat in the registry, before CommHub is set up (actions included)."""
    assert DOMAIN not in hass.config.components
    monkeypatch.setitem(PROVIDERS, "acme", ACME)


@pytest.fixture
def cloud(hass: HomeAssistant) -> AcmeCloud:
    """The Acme Chat service, answering at its default URL."""
    return AcmeCloud().serve(hass)


def acme_entry(**options: Any) -> MockConfigEntry:
    """An Acme Chat entry for the cloud's account."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Acme Chat (Acme Corp)",
        unique_id=f"acme:{ACME_ACCOUNT_ID}",
        minor_version=2,
        data={"service": "acme", "api_key": ACME_KEY, "base_url": ACME_URL},
        options={"scan_interval": 30, "show_offline": True, **options},
    )


@pytest.fixture
def setup_acme(hass: HomeAssistant, cloud: AcmeCloud) -> SetupEntry:
    """Add an Acme Chat entry (options as keyword arguments) and set it up."""

    async def setup(**options: Any) -> MockConfigEntry:
        entry = acme_entry(**options)
        entry.add_to_hass(hass)
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        return entry

    return setup


def _input(key: str = ACME_KEY, url: str = ACME_URL) -> dict[str, Any]:
    return {"api_key": key, "advanced": {"base_url": url}}


async def _acme_form(hass: HomeAssistant) -> dict[str, Any]:
    """Start a user flow and choose Acme Chat in the menu."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert "acme" in result["menu_options"]
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "acme"}
    )


def agent_uid(agent_id: str, key: str = "agent_status") -> str:
    return f"acme_agent_{ACME_ACCOUNT_ID}_{agent_id}_{key}"


def agent_device(
    hass: HomeAssistant, entry: MockConfigEntry, agent_id: str
) -> dr.DeviceEntry | None:
    return dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"acme_agent_{ACME_ACCOUNT_ID}_{agent_id}"), entry.entry_id
    )


# --- config flow --------------------------------------------------------------


async def test_menu_lists_acme_and_its_step_creates_the_entry(
    hass: HomeAssistant, cloud: AcmeCloud
) -> None:
    """The menu offers the fifth provider; its form creates an entry that loads."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["menu_options"] == ["hipmob", "hipcall", "mobiniti", "ip1", "acme"]

    form = await _acme_form(hass)
    assert form["type"] is FlowResultType.FORM
    assert form["step_id"] == "acme"
    assert form["errors"] == {}
    fields = {str(k): k for k in form["data_schema"].schema}
    assert list(fields) == ["api_key", "advanced"]
    advanced = form["data_schema"].schema[fields["advanced"]]
    base_url = {str(k): k for k in advanced.schema.schema}["base_url"]
    assert base_url.default() == ACME_URL

    result = await hass.config_entries.flow.async_configure(
        form["flow_id"], _input(f" {ACME_KEY} ", f"{ACME_URL}/")
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Acme Chat (Acme Corp)"
    assert result["data"] == {
        "service": "acme",
        "api_key": ACME_KEY,
        "base_url": ACME_URL,
    }
    assert result["options"] == {"scan_interval": 30, "show_offline": True}
    entry = result["result"]
    assert entry.unique_id == f"acme:{ACME_ACCOUNT_ID}"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def test_same_account_twice_aborts(
    hass: HomeAssistant, setup_acme: SetupEntry
) -> None:
    """One entry per account."""
    await setup_acme()
    form = await _acme_form(hass)
    result = await hass.config_entries.flow.async_configure(form["flow_id"], _input())
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


@pytest.mark.parametrize(
    ("user_input", "error"),
    [
        (_input("wrong-key"), "invalid_auth"),
        (_input(url="https://nowhere.acme.example"), "cannot_connect"),
        (_input(url="ftp://api.acme.example"), "invalid_url"),
    ],
)
async def test_bad_input_shows_an_error(
    hass: HomeAssistant, cloud: AcmeCloud, user_input: dict[str, Any], error: str
) -> None:
    """The generic sign-in maps the client's errors onto the form."""
    form = await _acme_form(hass)
    result = await hass.config_entries.flow.async_configure(form["flow_id"], user_input)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "acme"
    assert result["errors"] == {"base": error}
    assert hass.config_entries.async_entries(DOMAIN) == []


async def test_abandoned_flow_does_not_block_a_retry(
    hass: HomeAssistant, cloud: AcmeCloud
) -> None:
    """A flow left at a refused key, then a new flow with the right key."""
    abandoned = await _acme_form(hass)
    refused = await hass.config_entries.flow.async_configure(
        abandoned["flow_id"], _input("wrong-key")
    )
    assert refused["errors"] == {"base": "invalid_auth"}

    retry = await _acme_form(hass)
    result = await hass.config_entries.flow.async_configure(retry["flow_id"], _input())
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == f"acme:{ACME_ACCOUNT_ID}"
    # The abandoned flow, submitted now, finds the account taken.
    late = await hass.config_entries.flow.async_configure(
        abandoned["flow_id"], _input()
    )
    assert late["type"] is FlowResultType.ABORT
    assert late["reason"] == "already_configured"


# --- setup, entities and devices ---------------------------------------------


async def test_setup_entities_and_unload(
    hass: HomeAssistant, setup_acme: SetupEntry
) -> None:
    """Sensors on the account and on each agent; the devices name Acme Chat."""
    entry = await setup_acme()
    assert entry.state is ConfigEntryState.LOADED

    assert state_of(hass, "sensor", f"acme_{ACME_ACCOUNT_ID}_open_chats").state == "3"
    assert state_of(hass, "sensor", agent_uid("a1")).state == "online"
    assert state_of(hass, "sensor", agent_uid("a2")).state == "away"

    devices = dr.async_get(hass)
    service = devices.async_get_device_by_identifier(
        (DOMAIN, entry.entry_id), entry.entry_id
    )
    assert service is not None
    assert service.manufacturer == "Acme Chat"
    assert service.model == "Acme Chat account"
    assert service.name == "Acme Chat (Acme Corp)"
    assert service.entry_type is dr.DeviceEntryType.SERVICE
    ada = agent_device(hass, entry, "a1")
    assert ada is not None
    assert (ada.name, ada.manufacturer, ada.model) == (
        "Ada Lovelace",
        "Acme Chat",
        "Acme agent",
    )
    assert ada.via_device_id == service.id

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED


async def test_agents_come_and_go_without_reload(
    hass: HomeAssistant,
    cloud: AcmeCloud,
    setup_acme: SetupEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A new agent gets its entity at the next poll; a removed one its device."""
    entry = await setup_acme()
    registry = er.async_get(hass)
    assert registry.async_get_entity_id("sensor", DOMAIN, agent_uid("a3")) is None

    with_agents(cloud, a1="Ada Lovelace", a3="Katherine Johnson")
    cloud.open_chats = 5
    await next_poll(hass, freezer, 31)

    assert entry.state is ConfigEntryState.LOADED
    assert state_of(hass, "sensor", agent_uid("a3")).state == "online"
    katherine = agent_device(hass, entry, "a3")
    assert katherine is not None
    assert katherine.name == "Katherine Johnson"
    assert state_of(hass, "sensor", f"acme_{ACME_ACCOUNT_ID}_open_chats").state == "5"
    # Grace left: her device and entity are gone.
    assert agent_device(hass, entry, "a2") is None
    assert registry.async_get_entity_id("sensor", DOMAIN, agent_uid("a2")) is None

    # She comes back: a new device and entity, still without a reload.
    with_agents(cloud, a1="Ada Lovelace", a2="Grace Hopper", a3="Katherine Johnson")
    await next_poll(hass, freezer, 31)
    assert agent_device(hass, entry, "a2") is not None
    assert state_of(hass, "sensor", agent_uid("a2")).state == "online"


async def test_outage_keeps_devices_and_recovers(
    hass: HomeAssistant,
    cloud: AcmeCloud,
    setup_acme: SetupEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A poll that cannot connect makes the sensors unavailable, not deleted."""
    entry = await setup_acme()
    hass.data.pop(ACME_CLOUDS)
    await next_poll(hass, freezer, 31)
    assert state_of(hass, "sensor", agent_uid("a1")).state == STATE_UNAVAILABLE
    assert agent_device(hass, entry, "a1") is not None

    cloud.serve(hass)
    set_status(cloud, "a1", "busy")
    await next_poll(hass, freezer, 31)
    assert state_of(hass, "sensor", agent_uid("a1")).state == "busy"


# --- reauth and reconfigure ----------------------------------------------------


async def test_revoked_key_starts_reauth_and_a_new_key_fixes_it(
    hass: HomeAssistant,
    cloud: AcmeCloud,
    setup_acme: SetupEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The coordinator's CommHubAuthError becomes a reauth flow for the entry."""
    entry = await setup_acme()
    cloud.api_key = NEW_KEY
    await next_poll(hass, freezer, 31)

    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == ["reauth"]
    assert flows[0]["context"]["entry_id"] == entry.entry_id
    assert flows[0]["step_id"] == "reauth_acme"
    flow_id = flows[0]["flow_id"]
    result = await hass.config_entries.flow.async_configure(flow_id)
    assert result["step_id"] == "reauth_acme"
    placeholders = result["description_placeholders"]
    assert (placeholders["service"], placeholders["account"]) == (
        "Acme Chat",
        entry.title,
    )
    assert [str(k) for k in result["data_schema"].schema] == ["api_key"]

    result = await hass.config_entries.flow.async_configure(
        flow_id, {"api_key": "still-wrong"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"api_key": f" {NEW_KEY} "}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data["api_key"] == NEW_KEY
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert state_of(hass, "sensor", agent_uid("a1")).state == "online"


async def test_refused_key_at_setup_starts_reauth(
    hass: HomeAssistant, cloud: AcmeCloud, setup_acme: SetupEntry
) -> None:
    """Bad credentials on the first poll: setup error, and a reauth flow."""
    cloud.api_key = NEW_KEY
    entry = await setup_acme()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [(f["context"]["source"], f["step_id"]) for f in flows] == [
        ("reauth", "reauth_acme")
    ]


async def test_reauth_refuses_a_key_of_another_account(
    hass: HomeAssistant, cloud: AcmeCloud, setup_acme: SetupEntry
) -> None:
    """A key of another Acme account is not new credentials of this one."""
    entry = await setup_acme()
    cloud.account_id = "9999"
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"api_key": ACME_KEY}
    )
    assert result["errors"] == {"base": "wrong_account"}


async def test_reconfigure_moves_the_entry_to_another_url(
    hass: HomeAssistant, cloud: AcmeCloud, setup_acme: SetupEntry
) -> None:
    """New key and base URL of the same account; the entry reloads with them."""
    entry = await setup_acme()
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure_acme"
    assert [str(k) for k in result["data_schema"].schema] == ["api_key", "advanced"]

    # Another account answers at the other URL: refused.
    AcmeCloud(account_id="9999", api_key=NEW_KEY).serve(hass, OTHER_URL)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _input(NEW_KEY, OTHER_URL)
    )
    assert result["step_id"] == "reconfigure_acme"
    assert result["errors"] == {"base": "wrong_account"}

    # The same account, moved.
    cloud.api_key = NEW_KEY
    cloud.serve(hass, OTHER_URL)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _input(NEW_KEY, f"{OTHER_URL}/")
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == {
        "service": "acme",
        "api_key": NEW_KEY,
        "base_url": OTHER_URL,
    }
    assert entry.unique_id == f"acme:{ACME_ACCOUNT_ID}"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


# --- options ---------------------------------------------------------------------


async def test_options_store_the_interval_and_the_providers_own(
    hass: HomeAssistant,
    cloud: AcmeCloud,
    setup_acme: SetupEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The form is the provider's step; a submit is stored and reloads."""
    entry = await setup_acme()
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "acme"
    assert [str(k) for k in result["data_schema"].schema] == [
        "scan_interval",
        "show_offline",
    ]

    set_status(cloud, "a2", "offline")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"scan_interval": 15, "show_offline": False}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {"scan_interval": 15, "show_offline": False}
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.update_interval == timedelta(seconds=15)
    # The provider's own option: the offline agent has no device any more.
    assert agent_device(hass, entry, "a2") is None
    assert agent_device(hass, entry, "a1") is not None


# --- actions -----------------------------------------------------------------------


async def test_the_action_runs_for_an_acme_entry(
    hass: HomeAssistant, cloud: AcmeCloud, setup_acme: SetupEntry
) -> None:
    """page_agent reaches the service; an unknown agent is bad input."""
    entry = await setup_acme()
    response = await call(hass, "page_agent", entry, agent="a1", message="Help!")
    assert response == {"id": "page-1"}
    assert cloud.pages == [{"agent": "a1", "message": "Help!"}]

    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "page_agent", entry, agent="a9", message="Help!")
    assert err.value.translation_key == "rejected_fields"
    assert len(cloud.pages) == 1


async def test_actions_of_other_providers_refuse_an_acme_entry(
    hass: HomeAssistant,
    cloud: AcmeCloud,
    setup_acme: SetupEntry,
    setup_hipcall: SetupEntry,
) -> None:
    """create_task on an Acme entry, page_agent on a Hipcall entry: refused."""
    acme = await setup_acme()
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "create_task", acme, name="x")
    assert err.value.translation_key == "wrong_service"
    assert err.value.translation_placeholders == {
        "action": "create_task",
        "service": "Acme Chat",
        "entry": acme.title,
    }

    hipcall = await setup_hipcall()
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "page_agent", hipcall, agent="a1", message="Help!")
    assert err.value.translation_key == "wrong_service"
    assert err.value.translation_placeholders["service"] == "Hipcall"
    assert cloud.pages == []


# --- diagnostics ---------------------------------------------------------------------


async def test_diagnostics_have_the_providers_section_without_secrets(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    setup_acme: SetupEntry,
) -> None:
    """The entry (key redacted) and Acme's own section (names redacted)."""
    entry = await setup_acme()
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    text = json.dumps(diagnostics)
    assert ACME_KEY not in text
    assert "Ada Lovelace" not in text
    assert diagnostics["entry"]["data"]["api_key"] == "**REDACTED**"
    assert diagnostics["entry"]["data"]["service"] == "acme"
    assert diagnostics["last_update_success"] is True
    assert diagnostics["acme"] == {
        "agents": [
            {"id": "a1", "name": "**REDACTED**", "status": "online"},
            {"id": "a2", "name": "**REDACTED**", "status": "away"},
        ],
        "open_chats": 3,
        "shown_agents": ["a1", "a2"],
    }
