"""Binary sensors: whether a tracked Hipmob device is online."""

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import HipmobConfigEntry
from .entity import HipmobDeviceEntity

PARALLEL_UPDATES = 0

ONLINE = BinarySensorEntityDescription(
    key="online",
    translation_key="online",
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HipmobConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One online sensor per tracked device."""
    coordinator = entry.runtime_data
    async_add_entities(
        HipmobOnlineSensor(coordinator, ONLINE, device_id)
        for device_id in coordinator.device_ids
    )


class HipmobOnlineSensor(HipmobDeviceEntity, BinarySensorEntity):
    """On while the device is connected to Hipmob."""

    @property
    def is_on(self) -> bool | None:
        """Whether the device is online."""
        return self.tracked.online
