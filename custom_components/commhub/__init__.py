"""CommHub: Hipmob, Hipcall, Mobiniti and IP1 SMS in Home Assistant."""

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    issue_registry as ir,
)
from homeassistant.helpers.typing import ConfigType

from .const import CONF_DEVICES, CONF_USERS, DOMAIN
from .coordinator import HipmobConfigEntry, HipmobCoordinator
from .entity import service_device_info, tracked_device_identifier, user_identifier
from .services import async_setup_services

PLATFORMS = [Platform.BINARY_SENSOR, Platform.SELECT, Platform.SENSOR]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions once for all entries."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: HipmobConfigEntry) -> bool:
    """Poll the account, then set up its entities."""
    coordinator = HipmobCoordinator(hass, entry)
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = coordinator
    _sync_devices(hass, coordinator)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: HipmobConfigEntry) -> bool:
    """Unload the entry's platforms."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: HipmobConfigEntry) -> None:
    """Drop the repair issues a removed entry leaves behind."""
    _delete_device_issues(hass, entry.entry_id, keep=set())
    ir.async_delete_issue(hass, DOMAIN, f"payment_required_{entry.entry_id}")


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: HipmobConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Let the user delete a tracked device or watched user: stop tracking it."""
    coordinator = entry.runtime_data
    identifiers = {identifier for domain, identifier in device.identifiers}
    options = dict(entry.options)
    for key, make_identifier in (
        (CONF_DEVICES, tracked_device_identifier),
        (CONF_USERS, user_identifier),
    ):
        kept = [
            item
            for item in options.get(key, [])
            if make_identifier(coordinator, item) not in identifiers
        ]
        if kept != options.get(key, []):
            options[key] = kept
            hass.config_entries.async_update_entry(entry, options=options)
            hass.config_entries.async_schedule_reload(entry.entry_id)
            return True
    return False


def _sync_devices(hass: HomeAssistant, coordinator: HipmobCoordinator) -> None:
    """Create the account's device; remove devices and issues no longer tracked."""
    entry = coordinator.config_entry
    registry = dr.async_get(hass)
    coordinator.service_device_id = registry.async_get_or_create(
        config_entry_id=entry.entry_id, **service_device_info(coordinator)
    ).id
    expected = {
        entry.entry_id,
        *(tracked_device_identifier(coordinator, d) for d in coordinator.device_ids),
        *(user_identifier(coordinator, u) for u in coordinator.polled_users),
    }
    for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
        if not any(identifier in expected for _, identifier in device.identifiers):
            registry.async_update_device(
                device.id, remove_config_entry_id=entry.entry_id
            )
    _delete_device_issues(hass, entry.entry_id, keep=set(coordinator.device_ids))


def _delete_device_issues(hass: HomeAssistant, entry_id: str, keep: set[str]) -> None:
    """Delete the entry's device issues except those of devices in `keep`."""
    prefix = f"device_not_found_{entry_id}_"
    for domain, issue_id in list(ir.async_get(hass).issues):
        if (
            domain == DOMAIN
            and issue_id.startswith(prefix)
            and issue_id.removeprefix(prefix) not in keep
        ):
            ir.async_delete_issue(hass, DOMAIN, issue_id)
