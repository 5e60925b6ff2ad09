"""Diagnostics: the entry's settings and its provider's view, secrets redacted."""

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant

from .coordinator import CommHubConfigEntry
from .providers import provider_of
from .redact import TO_REDACT
from .webhooks import async_entry_webhook_urls, redact_webhook_urls


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: CommHubConfigEntry
) -> dict[str, Any]:
    """Entry settings and the latest poll, without secrets or names."""
    coordinator = entry.runtime_data
    provider = provider_of(entry)
    webhook: dict[str, Any] = {}
    if provider.webhook is not None:
        urls = await async_entry_webhook_urls(hass, entry, provider.webhook.kinds)
        webhook["webhook_urls"] = redact_webhook_urls(urls, entry.data[CONF_WEBHOOK_ID])
    return {
        "entry": async_redact_data(entry.as_dict(), TO_REDACT),
        "last_update_success": coordinator.last_update_success,
        **webhook,
        **await provider.diagnostics(hass, coordinator),
    }
