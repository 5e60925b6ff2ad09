"""Diagnostics: the entry's settings and its provider's view, secrets redacted."""

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .coordinator import CommHubConfigEntry
from .providers import provider_of
from .redact import TO_REDACT


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: CommHubConfigEntry
) -> dict[str, Any]:
    """Entry settings and the latest poll, without secrets or names."""
    coordinator = entry.runtime_data
    provider = provider_of(entry)
    return {
        "entry": async_redact_data(entry.as_dict(), TO_REDACT),
        "last_update_success": coordinator.last_update_success,
        **await provider.diagnostics(hass, coordinator),
    }
