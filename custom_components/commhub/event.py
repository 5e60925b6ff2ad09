"""Event entities: what an account reports on the bus, one entity per kind."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, override

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api.hipcall import MISSED_CALL_REASONS, UNKNOWN_REASON
from .const import DOMAIN, EVENT_INBOUND_MESSAGE, EVENT_MISSED_CALL
from .data import CommHubConfigEntry
from .entity import AccountEntity
from .hipcall_coordinator import HipcallCoordinator
from .ip1_coordinator import Ip1Coordinator
from .mobiniti_coordinator import (
    CONTACT_STATUSES,
    WEBHOOK_KINDS as MOBINITI_WEBHOOK_KINDS,
    MobinitiCoordinator,
)

PARALLEL_UPDATES = 0

# The bus event's routing fields; the rest describes what happened.
ROUTING_KEYS = frozenset({"config_entry_id", "service"})


@dataclass(frozen=True, kw_only=True)
class BusEventDescription(EventEntityDescription):
    """An event entity that mirrors one bus event type of its entry.

    `type_key` names the data field holding the event type (and is left out of
    the attributes); without it the entity has the single type `key`.
    """

    bus_event: str
    type_key: str | None = None


MISSED_CALL = BusEventDescription(
    key="missed_call",
    translation_key="missed_call",
    event_types=[*MISSED_CALL_REASONS.values(), UNKNOWN_REASON],
    bus_event=EVENT_MISSED_CALL,
    type_key="reason",
)
INBOUND_MESSAGE = BusEventDescription(
    key="inbound_message",
    translation_key="inbound_message",
    event_types=["inbound_message"],
    bus_event=EVENT_INBOUND_MESSAGE,
)
# Mobiniti: one entity per webhook kind; contact status changes are typed by status.
MOBINITI_EVENTS = [
    BusEventDescription(
        key=kind,
        translation_key=kind,
        event_types=list(CONTACT_STATUSES) if kind == "contact_status" else [kind],
        bus_event=f"{DOMAIN}_{kind}",
        type_key="status" if kind == "contact_status" else None,
    )
    for kind in MOBINITI_WEBHOOK_KINDS
]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CommHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """The event entities of the entry's service."""
    coordinator = entry.runtime_data
    if isinstance(coordinator, HipcallCoordinator):
        async_add_entities([BusEventEntity(coordinator, MISSED_CALL)])
    elif isinstance(coordinator, Ip1Coordinator):
        async_add_entities([BusEventEntity(coordinator, INBOUND_MESSAGE)])
    elif isinstance(coordinator, MobinitiCoordinator):
        async_add_entities(
            BusEventEntity(coordinator, description) for description in MOBINITI_EVENTS
        )


class BusEventEntity(
    AccountEntity[HipcallCoordinator | Ip1Coordinator | MobinitiCoordinator],
    EventEntity,
):
    """Triggers with each event of its kind the account reports, once."""

    entity_description: BusEventDescription

    @override
    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        entry_id = self.coordinator.config_entry.entry_id

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
        hidden = ROUTING_KEYS | {type_key} if type_key else ROUTING_KEYS
        self._trigger_event(
            event.data[type_key] if type_key else self.entity_description.key,
            {key: value for key, value in event.data.items() if key not in hidden},
        )
        self.async_write_ha_state()

    @property
    def available(self) -> bool:
        """An event entity stays usable through polling outages."""
        return True
