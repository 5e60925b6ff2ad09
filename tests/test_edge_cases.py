"""Edge cases a user rarely meets, each through what Home Assistant shows."""

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType, UnknownStep
from homeassistant.helpers import entity_platform, issue_registry as ir
from homeassistant.helpers.entity import Entity
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from custom_components.commhub import providers, repairs
from custom_components.commhub.config_flow import CommHubConfigFlow, CommHubOptionsFlow
from custom_components.commhub.const import DOMAIN
from sandbox import Sandbox

from .conftest import HIPCALL_OWNER, HIPCALL_TOKEN, JACK, SetupEntry, hipcall_entry
from .helpers import next_poll, state_of

HIPCALL_API = "/hipcall/api/v20211124"
USERS_INTERVAL = 300  # Hipcall's users are polled every five minutes


# -- Config and options flows: unknown steps -------------------------------------


async def test_a_flow_started_from_an_unknown_source_is_refused(
    hass: HomeAssistant,
) -> None:
    """No step by that name: Home Assistant refuses the flow, none is left open."""
    with pytest.raises(UnknownStep, match="doesn't support step nonsense"):
        await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": "nonsense"}
        )
    assert hass.config_entries.flow.async_progress_by_handler(DOMAIN) == []


def test_flows_have_only_the_steps_the_providers_give() -> None:
    """A provider's step exists, a made-up one (or any other name) does not."""
    config_flow = CommHubConfigFlow()
    assert hasattr(config_flow, "async_step_hipcall")
    assert hasattr(config_flow, "async_step_reauth_hipcall")
    assert hasattr(config_flow, "async_step_reconfigure_ip1")
    assert not hasattr(config_flow, "async_step_nonsense")
    assert not hasattr(config_flow, "nonsense")
    options_flow = CommHubOptionsFlow()
    assert hasattr(options_flow, "async_step_hipmob")
    assert not hasattr(options_flow, "async_step_nonsense")
    assert not hasattr(options_flow, "nonsense")


# -- Application Credentials and the OAuth provider ------------------------------


async def test_application_credentials_dialog_says_where_to_create_the_app(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator
) -> None:
    """The dialog links Mobiniti and names My Home Assistant's redirect URL."""
    assert await async_setup_component(hass, "application_credentials", {})
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "application_credentials/config"})
    response = await client.receive_json()
    assert response["success"]
    assert DOMAIN in response["result"]["domains"]
    assert response["result"]["integrations"][DOMAIN] == {
        "description_placeholders": {
            "more_info_url": "https://app.mobiniti.com",
            "redirect_url": "https://my.home-assistant.io/redirect/oauth",
        }
    }


def test_no_oauth_provider_is_a_lookup_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a provider that signs in with OAuth there is nothing to return."""
    assert providers.oauth_provider().key == "mobiniti"
    # A registry of its own: the shared dict (and its menu order) stays as it is.
    without_oauth = {
        key: provider
        for key, provider in providers.PROVIDERS.items()
        if provider.flow.oauth is None
    }
    assert without_oauth
    monkeypatch.setattr(providers, "PROVIDERS", without_oauth)
    with pytest.raises(LookupError, match="Application Credentials"):
        providers.oauth_provider()


# -- Hipcall ---------------------------------------------------------------------


async def test_hipcall_account_without_users_cannot_be_added(
    hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str
) -> None:
    """The token works but the account lists nobody: an error, no entry."""
    sandbox.hipcall.users.clear()
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "hipcall"}
    )
    user_input = {
        "api_token": HIPCALL_TOKEN,
        "advanced": {"base_url": f"{sandbox_url}{HIPCALL_API}"},
    }
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "no_users"}
    assert hass.config_entries.async_entries(DOMAIN) == []
    # Once the account has a user again, the same form creates the entry.
    sandbox.hipcall.add_user(full_name="Ada Lovelace", name="Ada Lovelace")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Hipcall (Ada Lovelace)"


def _entity(hass: HomeAssistant, entity_id: str) -> Entity:
    """The entity object behind an entity id (of CommHub's platforms)."""
    for platform in entity_platform.async_get_platforms(hass, DOMAIN):
        if entity_id in platform.entities:
            return platform.entities[entity_id]
    raise AssertionError(f"no entity {entity_id}")


async def test_removed_hipcall_user_shows_no_contact_details(
    hass: HomeAssistant,
    setup_hipcall: SetupEntry,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A user gone from the account: its status sensor goes, details and all.

    The sensor is removed with the user's device at the next users poll, without
    a last state that still shows the gone user's e-mail or extension; asked
    now, it is unavailable and has no contact details left to show.
    """
    await setup_hipcall()
    status = state_of(hass, "sensor", f"hipcall_user_{HIPCALL_OWNER}_2_user_status")
    assert status.attributes["email"] == "satya@microsoft.com"
    sensor = _entity(hass, status.entity_id)
    history: list[Any] = []

    @callback
    def record(event: Event[EventStateChangedData]) -> None:
        if event.data["entity_id"] == status.entity_id:
            history.append(event.data["new_state"])

    hass.bus.async_listen("state_changed", record)
    sandbox.hipcall.remove_user(2)
    for _ in range(USERS_INTERVAL // 30 + 1):
        await next_poll(hass, freezer, 31)
    assert history == [None]
    assert hass.states.get(status.entity_id) is None
    assert sensor.available is False
    assert sensor.extra_state_attributes == {}


async def test_garbled_times_in_an_old_store_are_ignored(
    hass: HomeAssistant,
    sandbox: Sandbox,
    sandbox_url: str,
    hass_storage: dict[str, Any],
) -> None:
    """A CommHub 0.4 call ledger whose times are not times still loads.

    The unreadable "last missed call" is unknown, not an error; a new missed
    call is reported and becomes the last one.
    """
    now = dt_util.utcnow()
    entry = hipcall_entry(sandbox_url)
    entry.add_to_hass(hass)
    key = f"commhub.hipcall_calls.{entry.entry_id}"
    hass_storage[key] = {
        "version": 1,
        "minor_version": 1,
        "key": key,
        "data": {
            "baseline_at": (now - timedelta(hours=1)).isoformat(),
            "seen": {},
            "last_poll_at": "a while ago",
            "last_missed_at": "yesterday at noon",
            "counted_day": dt_util.now().date().isoformat(),
            "counted": 0,
            "resume_page": None,
        },
    }
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    last = state_of(hass, "sensor", f"hipcall_{HIPCALL_OWNER}_last_missed_call")
    assert last.state == STATE_UNKNOWN

    started = (now - timedelta(seconds=50)).replace(microsecond=0)
    missed = sandbox.hipcall.add_call(
        started_at=started,
        ended_at=now - timedelta(seconds=30),
        missing_call=True,
        missing_call_reason=3,
    )
    events = async_capture_events(hass, "commhub_missed_call")
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert [event.data["uuid"] for event in events] == [missed["uuid"]]
    last = state_of(hass, "sensor", f"hipcall_{HIPCALL_OWNER}_last_missed_call")
    assert dt_util.parse_datetime(last.state) == started


# -- Repairs ---------------------------------------------------------------------


async def test_repair_confirmed_after_the_entry_was_deleted(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    setup_hipmob: SetupEntry,
) -> None:
    """The entry went while the dialog was open: confirming just closes it."""
    entry = await setup_hipmob(devices=[JACK, "never-seen"])
    assert await async_setup_component(hass, "repairs", {})
    issue_id = f"device_not_found_{entry.entry_id}_never-seen"
    client = await hass_client()
    response = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue_id}
    )
    assert response.status == 200
    flow = await response.json()
    assert flow["step_id"] == "confirm"

    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    response = await client.post(f"/api/repairs/issues/fix/{flow['flow_id']}")
    assert response.status == 200
    assert (await response.json())["type"] == "create_entry"
    await hass.async_block_till_done()
    assert hass.config_entries.async_entries(DOMAIN) == []
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


async def test_fix_flow_for_an_issue_no_provider_raises(
    hass: HomeAssistant, setup_hipmob: SetupEntry
) -> None:
    """An issue id no followed list of any provider owns has no fix flow."""
    entry = await setup_hipmob()
    data: dict[str, str | int | float | None] = {
        "entry_id": entry.entry_id,
        "item": "never-seen",
    }
    with pytest.raises(ValueError, match="no fix flow for retired_kind_"):
        await repairs.async_create_fix_flow(
            hass, f"retired_kind_{entry.entry_id}_never-seen", data
        )
    # The issue kind the entry does raise still has its flow.
    flow = await repairs.async_create_fix_flow(
        hass, f"device_not_found_{entry.entry_id}_never-seen", data
    )
    assert isinstance(flow, repairs.StopFollowingFlow)
