"""Hipmob entities: what a dashboard shows, live from the sandbox."""

import aiohttp
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.commhub import async_remove_config_entry_device
from custom_components.commhub.const import DOMAIN
from sandbox import Fault, Sandbox

from .conftest import APP, FRIEND_1, FRIEND_2, JACK, SetupEntry, hipmob_entry
from .helpers import device_unique_id, next_poll, state_of, user_unique_id


def online(hass: HomeAssistant, device_id: str) -> str:
    return state_of(hass, "binary_sensor", device_unique_id(device_id, "online")).state


def pending(hass: HomeAssistant, device_id: str) -> str:
    return state_of(
        hass, "sensor", device_unique_id(device_id, "pending_messages")
    ).state


def availability(hass: HomeAssistant, username: str) -> str:
    return state_of(hass, "sensor", user_unique_id(username, "availability")).state


async def test_entities_show_sandbox_state(
    hass: HomeAssistant, setup_hipmob: SetupEntry
) -> None:
    """Online, pending messages and availability come from the API."""
    entry = await setup_hipmob()
    assert entry.state is ConfigEntryState.LOADED
    jack = state_of(hass, "binary_sensor", device_unique_id(JACK, "online"))
    assert jack.entity_id == "binary_sensor.jack_hawksmoor_online"
    assert jack.state == STATE_ON
    assert jack.attributes["device_class"] == "connectivity"
    assert online(hass, FRIEND_1) == STATE_OFF
    assert pending(hass, FRIEND_1) == "1"
    assert pending(hass, JACK) == "0"
    femi = state_of(hass, "sensor", user_unique_id("femi", "availability"))
    assert femi.entity_id == "sensor.femi_omojola_availability"
    assert femi.state == "online"
    assert femi.attributes["options"] == ["online", "offline", "hours", "usestatus"]
    assert availability(hass, "tolu") == "offline"
    select = state_of(hass, "select", user_unique_id("femi", "availability_select"))
    assert select.state == "online"
    assert select.attributes["options"] == ["online", "offline", "hours", "usestatus"]


async def test_changes_appear_on_next_poll(
    hass: HomeAssistant,
    setup_hipmob: SetupEntry,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A device going online, a queued message and a status change show up."""
    await setup_hipmob(scan_interval=30)
    sandbox.hipmob.set_online(APP, JACK, False)
    sandbox.hipmob.set_user_status("tolu", "hours")
    await next_poll(hass, freezer, 20)
    assert online(hass, JACK) == STATE_ON  # not polled yet: interval is 30 s
    await next_poll(hass, freezer, 11)
    assert online(hass, JACK) == STATE_OFF
    assert availability(hass, "tolu") == "hours"
    sandbox.hipmob.set_online(APP, FRIEND_1, True)  # delivers its queued message
    await next_poll(hass, freezer, 31)
    assert online(hass, FRIEND_1) == STATE_ON
    assert pending(hass, FRIEND_1) == "0"


async def test_devices_in_registry(
    hass: HomeAssistant, setup_hipmob: SetupEntry
) -> None:
    """Each tracked device and user is a device under the account's device."""
    entry = await setup_hipmob()
    registry = dr.async_get(hass)
    account = registry.async_get_device_by_identifier(
        (DOMAIN, entry.entry_id), entry.entry_id
    )
    assert account is not None
    assert account.entry_type is dr.DeviceEntryType.SERVICE
    jack = registry.async_get_device_by_identifier(
        (DOMAIN, f"hipmob_device_{APP}_{JACK}"), entry.entry_id
    )
    assert jack is not None
    assert (jack.name, jack.model, jack.manufacturer) == (
        "Jack Hawksmoor",
        "Android",  # as the vendor writes it; Hipmob reports "android"
        "Hipmob",
    )
    assert jack.via_device_id == account.id
    tolu = registry.async_get_device_by_identifier(
        (DOMAIN, "hipmob_user_femi_tolu"), entry.entry_id
    )
    assert tolu is not None
    assert tolu.name == "Tolu Adebayo"
    assert tolu.via_device_id == account.id
    devices = dr.async_entries_for_config_entry(registry, entry.entry_id)
    assert len(devices) == 5  # account, two tracked devices, two users


async def test_poll_makes_minimum_requests(
    hass: HomeAssistant,
    setup_hipmob: SetupEntry,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Per poll: status + message count per device, one request per user."""
    await setup_hipmob(users=["tolu"])
    sandbox.hipmob.requests.clear()
    await next_poll(hass, freezer)
    paths = sorted(r.path for r in sandbox.hipmob.requests)
    assert paths == sorted(
        [
            f"/apps/{APP}/devices/{JACK}/status",
            f"/apps/{APP}/devices/{JACK}/messagecount",
            f"/apps/{APP}/devices/{FRIEND_1}/status",
            f"/apps/{APP}/devices/{FRIEND_1}/messagecount",
            "/user/tolu",
            "/user/femi",  # the account's own user, for the select
        ]
    )
    assert all(r.method == "GET" and r.status == 200 for r in sandbox.hipmob.requests)


async def test_unknown_device_unavailable_with_repair(
    hass: HomeAssistant,
    setup_hipmob: SetupEntry,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A device Hipmob has never seen: unavailable, a repair issue; then it connects."""
    entry = await setup_hipmob(devices=[JACK, "never-seen"])
    assert online(hass, "never-seen") == STATE_UNAVAILABLE
    assert pending(hass, "never-seen") == STATE_UNAVAILABLE
    assert online(hass, JACK) == STATE_ON
    issue_id = f"device_not_found_{entry.entry_id}_never-seen"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.is_fixable
    assert issue.translation_placeholders == {
        "device": "never-seen",
        "entry": entry.title,
    }
    sandbox.hipmob.add_device(APP, "never-seen", online=True)
    await next_poll(hass, freezer)
    assert online(hass, "never-seen") == STATE_ON
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


@pytest.mark.parametrize(
    "fault",
    [
        Fault(kind="error", status=500, count=None),
        Fault(kind="error", status=503, count=None),
        Fault(kind="malformed", count=None),
    ],
    ids=["500", "503", "malformed"],
)
async def test_outage_unavailable_logged_once_then_recovers(
    hass: HomeAssistant,
    setup_hipmob: SetupEntry,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    fault: Fault,
) -> None:
    """Entities go unavailable during an outage, logged once, and come back."""
    await setup_hipmob()
    sandbox.hipmob.add_fault(fault)
    caplog.clear()
    for _ in range(3):
        await next_poll(hass, freezer)
        assert online(hass, JACK) == STATE_UNAVAILABLE
        assert availability(hass, "femi") == STATE_UNAVAILABLE
    failures = [r for r in caplog.records if "Error fetching" in r.getMessage()]
    assert len(failures) == 1
    sandbox.hipmob.clear_faults()
    await next_poll(hass, freezer)
    assert online(hass, JACK) == STATE_ON
    assert any("recovered" in r.getMessage() for r in caplog.records)


async def test_timeout_makes_entities_unavailable(
    hass: HomeAssistant, setup_hipmob: SetupEntry, sandbox: Sandbox
) -> None:
    """A request that never answers in time counts as an outage."""
    entry = await setup_hipmob()
    coordinator = entry.runtime_data
    coordinator.client._timeout = aiohttp.ClientTimeout(total=0.05)
    sandbox.hipmob.add_fault(Fault(kind="timeout", delay=5, path="/status"))
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    sandbox.hipmob.release_held()
    assert online(hass, JACK) == STATE_UNAVAILABLE
    assert coordinator.last_exception is not None
    assert coordinator.last_exception.translation_key == "service_unavailable"


async def test_rate_limit_honours_retry_after(
    hass: HomeAssistant,
    setup_hipmob: SetupEntry,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
) -> None:
    """After a 429 nothing is asked of Hipmob until Retry-After has passed."""
    await setup_hipmob()
    sandbox.hipmob.add_fault(Fault(kind="rate_limit", retry_after=300))
    await next_poll(hass, freezer)
    assert online(hass, JACK) == STATE_UNAVAILABLE
    sandbox.hipmob.requests.clear()
    for _ in range(4):  # four normal intervals, all inside the 300 s
        await next_poll(hass, freezer)
    assert sandbox.hipmob.requests == []
    await next_poll(hass, freezer, 60)
    assert sandbox.hipmob.requests
    assert online(hass, JACK) == STATE_ON


async def test_bad_credentials_start_reauth(
    hass: HomeAssistant,
    setup_hipmob: SetupEntry,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A 401 while polling opens the reauth flow."""
    entry = await setup_hipmob()
    sandbox.hipmob.add_account("femi", "rotated-key")
    await next_poll(hass, freezer)
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == ["reauth"]
    assert flows[0]["context"]["entry_id"] == entry.entry_id


async def test_bad_credentials_at_setup(
    hass: HomeAssistant, setup_hipmob: SetupEntry, sandbox: Sandbox
) -> None:
    """A 401 at startup fails setup with reauth, not retries."""
    sandbox.hipmob.add_account("femi", "rotated-key")
    entry = await setup_hipmob()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert any(
        f["context"]["source"] == "reauth"
        for f in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    )


async def test_outage_at_setup_retries(
    hass: HomeAssistant, setup_hipmob: SetupEntry, sandbox: Sandbox
) -> None:
    """Hipmob down at startup: setup is retried later."""
    sandbox.hipmob.add_fault(Fault(kind="error", status=502, count=None))
    entry = await setup_hipmob()
    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_payment_required_repair_issue(
    hass: HomeAssistant,
    setup_hipmob: SetupEntry,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A 402 raises a repair issue that goes away once the account is in order."""
    entry = await setup_hipmob()
    sandbox.hipmob.set_payment_required("femi", True)
    await next_poll(hass, freezer)
    assert online(hass, JACK) == STATE_UNAVAILABLE
    issue_id = f"payment_required_{entry.entry_id}"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.ERROR
    sandbox.hipmob.set_payment_required("femi", False)
    await next_poll(hass, freezer)
    assert online(hass, JACK) == STATE_ON
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


async def test_unknown_user_unavailable(
    hass: HomeAssistant, setup_hipmob: SetupEntry
) -> None:
    """A watched username Hipmob does not know: its sensor is unavailable."""
    await setup_hipmob(users=["femi", "nobody"])
    assert availability(hass, "nobody") == STATE_UNAVAILABLE
    assert availability(hass, "femi") == "online"


async def test_select_sets_own_status(
    hass: HomeAssistant, setup_hipmob: SetupEntry, sandbox: Sandbox
) -> None:
    """Choosing an option posts it to Hipmob and shows it at once."""
    await setup_hipmob()
    select = state_of(hass, "select", user_unique_id("femi", "availability_select"))
    sandbox.hipmob.requests.clear()
    await hass.services.async_call(
        "select",
        "select_option",
        {"entity_id": select.entity_id, "option": "hours"},
        blocking=True,
    )
    assert sandbox.hipmob.user("femi").status == "hours"
    [request] = sandbox.hipmob.requests
    assert (request.method, request.path) == ("POST", "/user/femi/status")
    assert request.form["status"] == "hours"
    assert hass.states.get(select.entity_id).state == "hours"
    assert availability(hass, "femi") == "hours"


async def test_select_failure_raises(
    hass: HomeAssistant, setup_hipmob: SetupEntry, sandbox: Sandbox
) -> None:
    """A failed status change is an error for the user and changes nothing."""
    await setup_hipmob()
    select = state_of(hass, "select", user_unique_id("femi", "availability_select"))
    sandbox.hipmob.add_fault(Fault(kind="error", status=500, path="/status$"))
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "select",
            "select_option",
            {"entity_id": select.entity_id, "option": "offline"},
            blocking=True,
        )
    assert err.value.translation_key == "service_unavailable"
    assert hass.states.get(select.entity_id).state == "online"
    assert sandbox.hipmob.user("femi").status == "online"


async def test_options_change_removes_stale_devices(
    hass: HomeAssistant, setup_hipmob: SetupEntry
) -> None:
    """Removing a device or user from the options removes its device."""
    entry = await setup_hipmob()
    registry = dr.async_get(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"scan_interval": 60, "devices": [JACK], "users": ["femi"]},
    )
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert (
        registry.async_get_device_by_identifier(
            (DOMAIN, f"hipmob_device_{APP}_{FRIEND_1}"), entry.entry_id
        )
        is None
    )
    assert (
        registry.async_get_device_by_identifier(
            (DOMAIN, "hipmob_user_femi_tolu"), entry.entry_id
        )
        is None
    )
    assert (
        er.async_get(hass).async_get_entity_id(
            "sensor", DOMAIN, user_unique_id("tolu", "availability")
        )
        is None
    )
    assert len(dr.async_entries_for_config_entry(registry, entry.entry_id)) == 3


async def test_remove_device_from_ui_stops_tracking(
    hass: HomeAssistant, setup_hipmob: SetupEntry
) -> None:
    """Deleting a tracked device in the UI drops it from the options."""
    entry = await setup_hipmob(devices=[JACK, FRIEND_1, FRIEND_2])
    registry = dr.async_get(hass)
    friend = registry.async_get_device_by_identifier(
        (DOMAIN, f"hipmob_device_{APP}_{FRIEND_2}"), entry.entry_id
    )
    assert friend is not None
    assert await async_remove_config_entry_device(hass, entry, friend)
    await hass.async_block_till_done()
    assert entry.options["devices"] == [JACK, FRIEND_1]
    account = registry.async_get_device_by_identifier(
        (DOMAIN, entry.entry_id), entry.entry_id
    )
    assert account is not None
    assert not await async_remove_config_entry_device(hass, entry, account)
    femi = registry.async_get_device_by_identifier(
        (DOMAIN, "hipmob_user_femi_femi"), entry.entry_id
    )
    assert femi is not None
    # femi is watched, so it can be removed from the watch list...
    assert await async_remove_config_entry_device(hass, entry, femi)
    await hass.async_block_till_done()
    assert entry.options["users"] == ["tolu"]


async def test_unload(hass: HomeAssistant, setup_hipmob: SetupEntry) -> None:
    """Unloading leaves nothing running."""
    entry = await setup_hipmob()
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert online(hass, JACK) == STATE_UNAVAILABLE


async def test_lists_in_entry_data_are_honoured(
    hass: HomeAssistant, sandbox_url: str
) -> None:
    """An entry that carries its lists in data (no options yet) still tracks them."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="femi",
        data={**hipmob_entry(sandbox_url).data, "devices": [JACK], "users": ["tolu"]},
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert online(hass, JACK) == STATE_ON
    assert availability(hass, "tolu") == "offline"
