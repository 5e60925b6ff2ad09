"""Small helpers shared by the integration tests."""

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.commhub.const import DOMAIN

from .conftest import APP


def device_unique_id(device_id: str, key: str) -> str:
    """Unique id of a tracked Hipmob device's entity."""
    return f"hipmob_device_{APP}_{device_id}_{key}"


def user_unique_id(username: str, key: str) -> str:
    """Unique id of a Hipmob user's entity (account femi)."""
    return f"hipmob_user_femi_{username}_{key}"


def state_of(hass: HomeAssistant, platform: str, unique_id: str) -> State:
    """The current state of the entity with this unique id."""
    entity_id = er.async_get(hass).async_get_entity_id(platform, DOMAIN, unique_id)
    assert entity_id, f"no {platform} entity {unique_id}"
    state = hass.states.get(entity_id)
    assert state is not None
    return state


async def next_poll(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float = 61
) -> None:
    """Let `seconds` pass so the coordinator polls again."""
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def call(
    hass: HomeAssistant, action: str, entry: MockConfigEntry, **data: Any
) -> dict[str, Any]:
    """Call a commhub action for `entry` and return its response."""
    response = await hass.services.async_call(
        DOMAIN,
        action,
        {"config_entry_id": entry.entry_id, **data},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    return dict(response)
