"""Event entity: a Hipcall account's missed calls."""

from collections.abc import Mapping
from typing import Any, override

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api.hipcall import MISSED_CALL_REASONS, UNKNOWN_REASON
from .const import EVENT_MISSED_CALL
from .data import CommHubConfigEntry
from .entity import HipcallEntity
from .hipcall_coordinator import HipcallCoordinator

PARALLEL_UPDATES = 0

MISSED_CALL = EventEntityDescription(
    key="missed_call",
    translation_key="missed_call",
    event_types=[*MISSED_CALL_REASONS.values(), UNKNOWN_REASON],
)
# The bus event's routing fields; the rest describes the call.
ROUTING_KEYS = ("config_entry_id", "service", "reason")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CommHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """The missed-call event entity of a Hipcall account."""
    coordinator = entry.runtime_data
    if isinstance(coordinator, HipcallCoordinator):
        async_add_entities([HipcallMissedCallEvent(coordinator, MISSED_CALL)])


class HipcallMissedCallEvent(HipcallEntity, EventEntity):
    """Triggers with each missed call the account reports, once."""

    @override
    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        entry_id = self.coordinator.config_entry.entry_id

        @callback
        def of_this_entry(data: Mapping[str, Any]) -> bool:
            return bool(data["config_entry_id"] == entry_id)

        self.async_on_remove(
            self.hass.bus.async_listen(
                EVENT_MISSED_CALL, self._handle_missed_call, event_filter=of_this_entry
            )
        )

    @callback
    def _handle_missed_call(self, event: Event) -> None:
        data = event.data
        self._trigger_event(
            data["reason"],
            {key: value for key, value in data.items() if key not in ROUTING_KEYS},
        )
        self.async_write_ha_state()

    @property
    def available(self) -> bool:
        """An event entity stays usable through polling outages."""
        return True
