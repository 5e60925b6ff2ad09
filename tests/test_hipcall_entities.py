"""Hipcall users on the dashboard: a device and a status sensor each."""

import json
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.commhub import async_remove_config_entry_device
from custom_components.commhub.const import DOMAIN
from sandbox import Fault, Sandbox

from .conftest import HIPCALL_OWNER, HIPCALL_TOKEN, SetupEntry
from .helpers import next_poll, state_of

USERS_INTERVAL = 300


def user_status(hass: HomeAssistant, user_id: int) -> Any:
    """The status sensor of a Hipcall user."""
    return state_of(
        hass, "sensor", f"hipcall_user_{HIPCALL_OWNER}_{user_id}_user_status"
    )


def user_device(
    hass: HomeAssistant, entry_id: str, user_id: int
) -> dr.DeviceEntry | None:
    """The registry device of a Hipcall user."""
    return dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"hipcall_user_{HIPCALL_OWNER}_{user_id}"), entry_id
    )


async def test_every_user_on_every_page_has_a_status_sensor(
    hass: HomeAssistant, setup_hipcall: SetupEntry
) -> None:
    """28 users over three pages: 28 devices under the account, each with status."""
    entry = await setup_hipcall()
    statuses = [
        e
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        if e.unique_id.endswith("_user_status")
    ]
    assert len(statuses) == 28
    satya = user_status(hass, 2)
    assert satya.entity_id == "sensor.satya_nadella_status"
    assert satya.state == "active"
    assert satya.attributes["email"] == "satya@microsoft.com"
    assert satya.attributes["extension"] == "1002"
    assert satya.attributes["last_login"] == "2023-04-11T09:06:42+00:00"
    assert user_status(hass, 5).attributes["last_login"] is None
    assert user_status(hass, 29).state == "active"  # last user, on page 3
    account = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, entry.entry_id), entry.entry_id
    )
    assert account is not None
    assert account.entry_type is dr.DeviceEntryType.SERVICE
    assert account.manufacturer == "Hipcall"
    device = user_device(hass, entry.entry_id, 2)
    assert device is not None
    assert device.name == "Satya Nadella"
    assert device.via_device_id == account.id


async def test_users_change_without_a_reload(
    hass: HomeAssistant,
    setup_hipcall: SetupEntry,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Status changes, new users and removed users appear at the next user poll."""
    entry = await setup_hipcall()
    sandbox.hipcall.set_user_status(3, "inactive")
    new = sandbox.hipcall.add_user(full_name="Ada Lovelace", name="Ada Lovelace")
    sandbox.hipcall.remove_user(4)
    await next_poll(hass, freezer, 31)
    assert user_status(hass, 3).state == "active"  # users are polled less often
    for _ in range(USERS_INTERVAL // 30):
        await next_poll(hass, freezer, 31)
    assert user_status(hass, 3).state == "inactive"
    assert user_status(hass, new["id"]).state == "active"
    assert user_device(hass, entry.entry_id, new["id"]) is not None
    assert user_device(hass, entry.entry_id, 4) is None
    assert (
        er.async_get(hass).async_get_entity_id(
            "sensor", DOMAIN, f"hipcall_user_{HIPCALL_OWNER}_4_user_status"
        )
        is None
    )


async def test_stale_user_devices_are_removed_at_setup(
    hass: HomeAssistant, setup_hipcall: SetupEntry, sandbox: Sandbox
) -> None:
    """A user deleted while Home Assistant was off loses its device on start."""
    entry = await setup_hipcall()
    assert await hass.config_entries.async_unload(entry.entry_id)
    sandbox.hipcall.remove_user(7)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert user_device(hass, entry.entry_id, 7) is None
    assert user_device(hass, entry.entry_id, 8) is not None


async def test_only_gone_users_can_be_deleted_by_hand(
    hass: HomeAssistant, setup_hipcall: SetupEntry, sandbox: Sandbox
) -> None:
    """A user still in the account would come back; a gone one may go."""
    entry = await setup_hipcall()
    device = user_device(hass, entry.entry_id, 9)
    assert device is not None
    assert not await async_remove_config_entry_device(hass, entry, device)
    sandbox.hipcall.remove_user(9)
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    # The registry dropped it at setup; an orphan the user still sees may go too.
    orphan = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, f"hipcall_user_{HIPCALL_OWNER}_9")},
    )
    assert await async_remove_config_entry_device(hass, entry, orphan)


async def test_outage_makes_users_unavailable(
    hass: HomeAssistant,
    setup_hipcall: SetupEntry,
    sandbox: Sandbox,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Garbled answers: every entity but the event entity is unavailable, then back."""
    await setup_hipcall()
    sandbox.hipcall.add_fault(Fault("malformed", count=None))
    await next_poll(hass, freezer, 31)
    assert user_status(hass, 2).state == STATE_UNAVAILABLE
    assert state_of(hass, "event", f"hipcall_{HIPCALL_OWNER}_missed_call").state != (
        STATE_UNAVAILABLE
    )
    sandbox.hipcall.clear_faults()
    await next_poll(hass, freezer, 31)
    assert user_status(hass, 2).state == "active"


async def test_diagnostics_hide_secrets_and_people(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    setup_hipcall: SetupEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """No token, names or e-mail addresses; the call position is there."""
    entry = await setup_hipcall()
    await next_poll(hass, freezer, 31)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    text = json.dumps(diagnostics)
    assert HIPCALL_TOKEN not in text
    assert "satya@microsoft.com" not in text
    assert "Satya Nadella" not in text
    assert diagnostics["entry"]["data"]["api_token"] == "**REDACTED**"
    assert len(diagnostics["users"]) == 28
    assert diagnostics["users"][0]["status"] == "active"
    assert diagnostics["call_history"]["remembered"] >= 0
    assert diagnostics["requests_in_rate_window"] >= 1
