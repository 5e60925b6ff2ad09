"""Event entities: what an account reports on the bus, one entity per kind."""

from collections.abc import Mapping
from functools import cached_property
from typing import Any, override

from homeassistant.components.event import EventEntity
from homeassistant.const import Platform
from homeassistant.core import Event, callback

from .descriptions import CommHubEventDescription
from .entity import CommHubEntity
from .platform import platform_setup

PARALLEL_UPDATES = 0

# The bus event's routing fields; the rest describes what happened.
ROUTING_KEYS = frozenset({"config_entry_id", "service"})


class BusEventEntity(CommHubEntity[Any], EventEntity):
    """Triggers with each event of its kind the account reports, once."""

    entity_description: CommHubEventDescription

    @override
    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        entry = self.coordinator.config_entry
        assert entry is not None
        entry_id = entry.entry_id

        @callback
        def of_this_entry(data: Mapping[str, Any]) -> bool:
            return bool(data["config_entry_id"] == entry_id)

        self.async_on_remove(
            self.hass.bus.async_listen(
                self.entity_description.bus_event,
                self._handle_bus_event,
                event_filter=of_this_entry,
            )
        )

    @callback
    def _handle_bus_event(self, event: Event) -> None:
        type_key = self.entity_description.type_key
        hidden = self._hidden_keys
        self._trigger_event(
            event.data[type_key] if type_key else self.event_types[0],
            {key: value for key, value in event.data.items() if key not in hidden},
        )
        # The state change is the bus event's doing (the logbook links the two).
        self.async_set_context(event.context)
        self.async_write_ha_state()

    @cached_property
    def _hidden_keys(self) -> frozenset[str]:
        """The data fields that are not the event's attributes."""
        type_key = self.entity_description.type_key
        return ROUTING_KEYS | {type_key} if type_key else ROUTING_KEYS

    @callback
    @override
    def _handle_coordinator_update(self) -> None:
        """Only an event changes the state: a poll leaves it as it is."""

    @property
    def available(self) -> bool:
        """An event entity stays usable through polling outages."""
        return True


async_setup_entry = platform_setup(Platform.EVENT, BusEventEntity)
