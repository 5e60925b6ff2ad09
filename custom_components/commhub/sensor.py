"""Sensors: pending messages per device, availability per watched user."""

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api.hipmob import USER_STATUSES
from .coordinator import HipmobConfigEntry
from .entity import HipmobDeviceEntity, HipmobUserEntity

PARALLEL_UPDATES = 0

PENDING_MESSAGES = SensorEntityDescription(
    key="pending_messages",
    translation_key="pending_messages",
    state_class=SensorStateClass.MEASUREMENT,
)
AVAILABILITY = SensorEntityDescription(
    key="availability",
    translation_key="availability",
    device_class=SensorDeviceClass.ENUM,
    options=list(USER_STATUSES),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HipmobConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Pending messages per tracked device, availability per watched user."""
    coordinator = entry.runtime_data
    async_add_entities(
        [
            *(
                HipmobPendingMessagesSensor(coordinator, PENDING_MESSAGES, device_id)
                for device_id in coordinator.device_ids
            ),
            *(
                HipmobAvailabilitySensor(coordinator, AVAILABILITY, username)
                for username in coordinator.usernames
            ),
        ]
    )


class HipmobPendingMessagesSensor(HipmobDeviceEntity, SensorEntity):
    """Messages waiting for the device to connect."""

    @property
    def native_value(self) -> int | None:
        """The undelivered message count."""
        return self.tracked.pending_messages


class HipmobAvailabilitySensor(HipmobUserEntity, SensorEntity):
    """A user's availability status."""

    @property
    def native_value(self) -> str | None:
        """The status, or unknown if Hipmob added one we do not know."""
        status = self.user_status
        return status if status in USER_STATUSES else None
