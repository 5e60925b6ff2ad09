"""CommHub: cloud communication services in Home Assistant, one entry per account."""

from homeassistant.components.webhook import async_generate_id
from homeassistant.const import CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.typing import ConfigType

from .const import CONF_CLOUDHOOK, CONF_SERVICE, DOMAIN, LOGGER
from .coordinator import CommHubConfigEntry
from .entity import service_device_info
from .issues import NO_WEBHOOK_URL_ISSUE, delete_payment_issue
from .provider import account_unique_id
from .providers import PROVIDERS, provider_of
from .services import async_setup_services
from .webhooks import (
    async_remove_cloudhook,
    async_webhook_url,
    register_entry_webhook,
)

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions once for all entries."""
    async_setup_services(hass)
    return True


async def async_migrate_entry(hass: HomeAssistant, entry: CommHubConfigEntry) -> bool:
    """1.1 → 1.2: unique ids namespaced by provider; 1.3: a webhook id for each."""
    if entry.version > 1:
        return False
    if entry.minor_version < 2:
        unique_id = entry.unique_id
        if unique_id is not None and entry.data.get(CONF_SERVICE) in PROVIDERS:
            unique_id = account_unique_id(entry.data[CONF_SERVICE], unique_id)
        hass.config_entries.async_update_entry(
            entry, unique_id=unique_id, minor_version=2
        )
        LOGGER.debug("Migrated %s to version 1.2", entry.entry_id)
    if entry.minor_version < 3:
        data = dict(entry.data)
        provider = PROVIDERS.get(data.get(CONF_SERVICE, ""))
        # A provider that took no webhooks before 1.3 does now (one id per entry).
        if provider and provider.webhook and CONF_WEBHOOK_ID not in data:
            data |= {CONF_WEBHOOK_ID: async_generate_id(), CONF_CLOUDHOOK: False}
        hass.config_entries.async_update_entry(entry, data=data, minor_version=3)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: CommHubConfigEntry) -> bool:
    """Poll the account, then set up its entities (and its webhook)."""
    provider = provider_of(entry)
    coordinator = provider.coordinator(hass, entry)
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = coordinator
    coordinator.service_device_id = (
        dr.async_get(hass)
        .async_get_or_create(
            config_entry_id=entry.entry_id, **service_device_info(entry, provider)
        )
        .id
    )
    _sync_devices(hass, entry)
    entry.async_on_unload(
        coordinator.async_add_listener(lambda: _sync_devices(hass, entry))
    )
    if provider.webhook is not None:
        entry.async_on_unload(
            register_entry_webhook(
                hass,
                entry,
                provider.webhook.handlers(coordinator),
                provider.webhook.kind_of,
            )
        )
        url, _ = await async_webhook_url(hass, entry.data[CONF_WEBHOOK_ID])
        if url is None:
            NO_WEBHOOK_URL_ISSUE.create(hass, entry)
        else:
            NO_WEBHOOK_URL_ISSUE.delete(hass, entry)
    await hass.config_entries.async_forward_entry_setups(entry, provider.platforms)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: CommHubConfigEntry) -> bool:
    """Unload the entry's platforms."""
    return await hass.config_entries.async_unload_platforms(
        entry, provider_of(entry).platforms
    )


async def async_remove_entry(hass: HomeAssistant, entry: CommHubConfigEntry) -> None:
    """Drop the repair issues, webhook and stored state a removed entry leaves."""
    provider = provider_of(entry)
    for followed in provider.followed:
        if followed.issue is not None:
            followed.issue.delete_except(hass, entry.entry_id, keep=set())
    delete_payment_issue(hass, entry)
    NO_WEBHOOK_URL_ISSUE.delete(hass, entry)
    if provider.remove_entry is not None:
        await provider.remove_entry(hass, entry)
    if provider.webhook is not None:
        await async_remove_cloudhook(hass, entry)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: CommHubConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Let the user delete a device: a followed item stops being followed."""
    provider = provider_of(entry)
    identifiers = {identifier for domain, identifier in device.identifiers}
    for followed in provider.followed:
        items = list(entry.options.get(followed.option, []))
        kept = [i for i in items if followed.identifier(entry, i) not in identifiers]
        if kept != items:
            hass.config_entries.async_update_entry(
                entry, options={**entry.options, followed.option: kept}
            )
            hass.config_entries.async_schedule_reload(entry.entry_id)
            return True
    # A device the account still has would come straight back.
    expected = {entry.entry_id, *provider.expected_devices(entry.runtime_data)}
    return not identifiers & expected


@callback
def _sync_devices(hass: HomeAssistant, entry: CommHubConfigEntry) -> None:
    """Remove the devices and item issues of what the entry no longer has."""
    coordinator = entry.runtime_data
    if not coordinator.last_update_success:
        return  # an outage says nothing about what the account has
    provider = provider_of(entry)
    registry = dr.async_get(hass)
    expected = {entry.entry_id, *provider.expected_devices(coordinator)}
    for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
        if not any(identifier in expected for _, identifier in device.identifiers):
            registry.async_remove_device(device.id)
    for followed in provider.followed:
        if followed.issue is not None:
            followed.issue.delete_except(
                hass, entry.entry_id, keep=set(entry.options.get(followed.option, []))
            )
