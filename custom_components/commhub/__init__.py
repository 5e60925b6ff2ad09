"""CommHub: Hipmob, Hipcall, Mobiniti and IP1 SMS in Home Assistant."""

from collections.abc import Callable
from functools import partial
from typing import cast

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    issue_registry as ir,
)
from homeassistant.helpers.typing import ConfigType

from .const import (
    CONF_DEVICES,
    CONF_PARTICIPANTS,
    CONF_SERVICE,
    CONF_USERS,
    DOMAIN,
    SERVICE_HIPCALL,
    SERVICE_HIPMOB,
    SERVICE_IP1,
    SERVICE_MOBINITI,
)
from .coordinator import HipmobConfigEntry, HipmobCoordinator
from .data import CommHubConfigEntry, CommHubCoordinator
from .entity import service_device_info, tracked_device_identifier, user_identifier
from .hipcall_coordinator import (
    HipcallConfigEntry,
    HipcallCoordinator,
    user_identifier as hipcall_user,
)
from .ip1_coordinator import (
    Ip1ConfigEntry,
    Ip1Coordinator,
    participant_identifier,
    webhook_kind,
)
from .mobiniti_coordinator import (
    WEBHOOK_KINDS as MOBINITI_WEBHOOK_KINDS,
    MobinitiConfigEntry,
    MobinitiCoordinator,
    webhook_kind as mobiniti_webhook_kind,
)
from .services import async_setup_services
from .webhooks import async_remove_cloudhook, register_entry_webhook

PLATFORMS = {
    SERVICE_HIPMOB: [Platform.BINARY_SENSOR, Platform.SELECT, Platform.SENSOR],
    SERVICE_HIPCALL: [Platform.EVENT, Platform.SENSOR],
    SERVICE_IP1: [Platform.EVENT, Platform.SENSOR],
    SERVICE_MOBINITI: [Platform.EVENT, Platform.SENSOR],
}
# Repair issues about one followed item of an entry: `<prefix><entry id>_<item>`.
ITEM_ISSUE_PREFIXES = ("device_not_found_", "invalid_participant_")

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions once for all entries."""
    async_setup_services(hass)
    return True


def _platforms(entry: CommHubConfigEntry) -> list[Platform]:
    return PLATFORMS[entry.data[CONF_SERVICE]]


def _coordinator(hass: HomeAssistant, entry: CommHubConfigEntry) -> CommHubCoordinator:
    """The coordinator of the entry's service."""
    service = entry.data[CONF_SERVICE]
    if service == SERVICE_HIPCALL:
        return HipcallCoordinator(hass, cast("HipcallConfigEntry", entry))
    if service == SERVICE_IP1:
        return Ip1Coordinator(hass, cast("Ip1ConfigEntry", entry))
    if service == SERVICE_MOBINITI:
        return MobinitiCoordinator(hass, cast("MobinitiConfigEntry", entry))
    return HipmobCoordinator(hass, cast("HipmobConfigEntry", entry))


async def async_setup_entry(hass: HomeAssistant, entry: CommHubConfigEntry) -> bool:
    """Poll the account, then set up its entities (and its webhook)."""
    coordinator = _coordinator(hass, entry)
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = coordinator
    _sync_devices(hass, entry)
    if isinstance(coordinator, Ip1Coordinator):
        entry.async_on_unload(
            register_entry_webhook(
                hass,
                entry,
                {
                    "inbound_message": coordinator.async_handle_inbound,
                    "delivery_report": coordinator.async_handle_report,
                },
                webhook_kind,
            )
        )
    elif isinstance(coordinator, MobinitiCoordinator):
        entry.async_on_unload(
            register_entry_webhook(
                hass,
                entry,
                {
                    kind: partial(coordinator.async_handle_webhook, kind)
                    for kind in MOBINITI_WEBHOOK_KINDS
                },
                mobiniti_webhook_kind,
            )
        )
    await hass.config_entries.async_forward_entry_setups(entry, _platforms(entry))
    return True


async def async_unload_entry(hass: HomeAssistant, entry: CommHubConfigEntry) -> bool:
    """Unload the entry's platforms."""
    return await hass.config_entries.async_unload_platforms(entry, _platforms(entry))


async def async_remove_entry(hass: HomeAssistant, entry: CommHubConfigEntry) -> None:
    """Drop the repair issues and stored state a removed entry leaves behind."""
    _delete_item_issues(hass, entry.entry_id, keep=set())
    ir.async_delete_issue(hass, DOMAIN, f"payment_required_{entry.entry_id}")
    service = entry.data[CONF_SERVICE]
    if service == SERVICE_HIPCALL:
        await HipcallCoordinator.async_remove_store(hass, entry)
    elif service == SERVICE_IP1:
        await Ip1Coordinator.async_remove_store(hass, entry)
        await async_remove_cloudhook(hass, entry)
    elif service == SERVICE_MOBINITI:
        await MobinitiCoordinator.async_remove_store(hass, entry)
        await async_remove_cloudhook(hass, entry)


def _followed_lists(
    coordinator: HipmobCoordinator | Ip1Coordinator,
) -> list[tuple[str, Callable[[str], str]]]:
    """Each option list of followed items, with the device identifier of an item."""
    if isinstance(coordinator, Ip1Coordinator):
        entry = coordinator.config_entry
        return [(CONF_PARTICIPANTS, lambda p: participant_identifier(entry, p))]
    return [
        (CONF_DEVICES, lambda d: tracked_device_identifier(coordinator, d)),
        (CONF_USERS, lambda u: user_identifier(coordinator, u)),
    ]


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: CommHubConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Let the user delete a device that is no longer followed or no longer exists."""
    coordinator = entry.runtime_data
    identifiers = {identifier for domain, identifier in device.identifiers}
    if isinstance(coordinator, HipcallCoordinator | MobinitiCoordinator):
        # A user still in the account would come straight back.
        return not identifiers & _expected_identifiers(coordinator)
    options = dict(entry.options)
    for key, make_identifier in _followed_lists(coordinator):
        kept = [
            item
            for item in options.get(key, [])
            if make_identifier(item) not in identifiers
        ]
        if kept != options.get(key, []):
            options[key] = kept
            hass.config_entries.async_update_entry(entry, options=options)
            hass.config_entries.async_schedule_reload(entry.entry_id)
            return True
    return False


def _expected_identifiers(coordinator: CommHubCoordinator) -> set[str]:
    """Registry identifiers of every device the entry should have now."""
    entry = coordinator.config_entry
    if isinstance(coordinator, HipcallCoordinator):
        return {
            entry.entry_id,
            *(hipcall_user(entry, u) for u in coordinator.data.users),
        }
    if isinstance(coordinator, MobinitiCoordinator):
        return {entry.entry_id}
    if isinstance(coordinator, Ip1Coordinator):
        return {
            entry.entry_id,
            *(participant_identifier(entry, p) for p in coordinator.participants),
        }
    return {
        entry.entry_id,
        *(tracked_device_identifier(coordinator, d) for d in coordinator.device_ids),
        *(user_identifier(coordinator, u) for u in coordinator.polled_users),
    }


def _sync_devices(hass: HomeAssistant, entry: CommHubConfigEntry) -> None:
    """Create the account's device; remove devices and issues no longer tracked."""
    coordinator = entry.runtime_data
    registry = dr.async_get(hass)
    coordinator.service_device_id = registry.async_get_or_create(
        config_entry_id=entry.entry_id, **service_device_info(entry)
    ).id
    expected = _expected_identifiers(coordinator)
    for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
        if not any(identifier in expected for _, identifier in device.identifiers):
            registry.async_update_device(
                device.id, remove_config_entry_id=entry.entry_id
            )
    if isinstance(coordinator, HipmobCoordinator):
        _delete_item_issues(hass, entry.entry_id, keep=set(coordinator.device_ids))
    elif isinstance(coordinator, Ip1Coordinator):
        _delete_item_issues(hass, entry.entry_id, keep=set(coordinator.participants))


def _delete_item_issues(hass: HomeAssistant, entry_id: str, keep: set[str]) -> None:
    """Delete the entry's issues about followed items, except those in `keep`."""
    prefixes = tuple(f"{prefix}{entry_id}_" for prefix in ITEM_ISSUE_PREFIXES)
    for domain, issue_id in list(ir.async_get(hass).issues):
        if domain != DOMAIN or not issue_id.startswith(prefixes):
            continue
        item = issue_id.split(f"{entry_id}_", 1)[1]
        if item not in keep:
            ir.async_delete_issue(hass, DOMAIN, issue_id)
