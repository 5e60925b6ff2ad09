"""Base entities and device info for CommHub."""

from homeassistant.config_entries import ConfigEntry
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .api.hipcall import HipcallUser
from .const import (
    CONF_SERVICE,
    DOMAIN,
    SERVICE_HIPCALL,
    SERVICE_IP1,
    SERVICE_MOBINITI,
)
from .coordinator import HipmobCoordinator, TrackedDevice
from .hipcall_coordinator import HipcallCoordinator, user_identifier as hipcall_user
from .ip1_coordinator import Ip1Coordinator, participant_identifier
from .mobiniti_coordinator import MobinitiCoordinator

SERVICE_MODELS = {
    SERVICE_HIPCALL: ("Hipcall", "Hipcall account"),
    SERVICE_IP1: ("IP1", "IP1 SMS account"),
    SERVICE_MOBINITI: ("Mobiniti", "Mobiniti account"),
}


def service_device_info(entry: ConfigEntry) -> DeviceInfo:
    """The device that stands for the account itself."""
    manufacturer, model = SERVICE_MODELS.get(
        entry.data[CONF_SERVICE], ("Hipmob", "Hipmob app")
    )
    return DeviceInfo(
        identifiers={(DOMAIN, entry.entry_id)},
        name=entry.title,
        manufacturer=manufacturer,
        model=model,
        entry_type=DeviceEntryType.SERVICE,
    )


def tracked_device_identifier(coordinator: HipmobCoordinator, device_id: str) -> str:
    """Registry identifier of a tracked Hipmob device."""
    return f"hipmob_device_{coordinator.app}_{device_id}"


def user_identifier(coordinator: HipmobCoordinator, username: str) -> str:
    """Registry identifier of a Hipmob user of this account."""
    return f"hipmob_user_{coordinator.account.casefold()}_{username}"


class HipmobEntity(CoordinatorEntity[HipmobCoordinator]):
    """An entity on a tracked device or a user, fed by the account's coordinator."""

    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: HipmobCoordinator,
        description: EntityDescription,
        identifier: str,
        name: str,
        model: str | None = None,
    ) -> None:
        """Attach the entity to the device `identifier`."""
        super().__init__(coordinator)
        self.entity_description = description
        self._attr_unique_id = f"{identifier}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, identifier)},
            name=name,
            manufacturer="Hipmob",
            model=model,
            via_device_id=coordinator.service_device_id,
        )


class HipmobDeviceEntity(HipmobEntity):
    """An entity of one tracked device."""

    def __init__(
        self,
        coordinator: HipmobCoordinator,
        description: EntityDescription,
        device_id: str,
    ) -> None:
        """Name the device after what its app reported, else its identifier."""
        details = coordinator.data.devices[device_id].details
        super().__init__(
            coordinator,
            description,
            tracked_device_identifier(coordinator, device_id),
            (details.name if details else None) or device_id,
            (details.platform if details else None),
        )
        self.device_id = device_id

    @property
    def tracked(self) -> TrackedDevice:
        """This device's part of the latest poll."""
        return self.coordinator.data.devices[self.device_id]

    @property
    def available(self) -> bool:
        """Unavailable while Hipmob does not know the device."""
        return super().available and self.tracked.details is not None


class HipmobUserEntity(HipmobEntity):
    """An entity of one Hipmob user."""

    def __init__(
        self,
        coordinator: HipmobCoordinator,
        description: EntityDescription,
        username: str,
    ) -> None:
        """Name the device after the user's full name."""
        user = coordinator.data.users.get(username)
        super().__init__(
            coordinator,
            description,
            user_identifier(coordinator, username),
            user.full_name if user else username,
            "Hipmob user",
        )
        self.username = username

    @property
    def user_status(self) -> str | None:
        """The user's availability as last polled."""
        user = self.coordinator.data.users.get(self.username)
        return user.status if user else None

    @property
    def available(self) -> bool:
        """Unavailable while Hipmob does not know the user."""
        return super().available and self.user_status is not None


class AccountEntity[
    CoordinatorT: HipcallCoordinator | Ip1Coordinator | MobinitiCoordinator
](CoordinatorEntity[CoordinatorT]):
    """An entity of an account, on the account's own (service) device."""

    _attr_has_entity_name = True

    def __init__(
        self, coordinator: CoordinatorT, description: EntityDescription
    ) -> None:
        """Attach the entity to the account's service device."""
        super().__init__(coordinator)
        entry = coordinator.config_entry
        self.entity_description = description
        # IP1's and Mobiniti's unique_id hash a secret: entity ids never derive from it.
        account = (
            entry.unique_id or entry.entry_id
            if entry.data[CONF_SERVICE] == SERVICE_HIPCALL
            else entry.entry_id
        )
        self._attr_unique_id = f"{entry.data[CONF_SERVICE]}_{account}_{description.key}"
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, entry.entry_id)})


class HipcallUserEntity(CoordinatorEntity[HipcallCoordinator]):
    """An entity of one Hipcall user, on that user's device."""

    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: HipcallCoordinator,
        description: EntityDescription,
        user: HipcallUser,
    ) -> None:
        """Name the device after the user."""
        super().__init__(coordinator)
        identifier = hipcall_user(coordinator.config_entry, user.id)
        self.entity_description = description
        self.user_id = user.id
        self._attr_unique_id = f"{identifier}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, identifier)},
            name=user.name,
            manufacturer="Hipcall",
            model="Hipcall user",
            via_device_id=coordinator.service_device_id,
        )

    @property
    def user(self) -> HipcallUser | None:
        """The user as last listed (None once the account no longer has them)."""
        return self.coordinator.data.users.get(self.user_id)

    @property
    def available(self) -> bool:
        """Unavailable when the poll failed or the user is gone."""
        return super().available and self.user is not None


class Ip1ParticipantEntity(CoordinatorEntity[Ip1Coordinator]):
    """An entity of one followed IP1 conversation, on the participant's device."""

    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: Ip1Coordinator,
        description: EntityDescription,
        participant: str,
    ) -> None:
        """Name the device after the participant (a number or a sender name)."""
        super().__init__(coordinator)
        identifier = participant_identifier(coordinator.config_entry, participant)
        self.entity_description = description
        self.participant = participant
        self._attr_unique_id = f"{identifier}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, identifier)},
            name=participant,
            manufacturer="IP1",
            model="IP1 SMS conversation",
            via_device_id=coordinator.service_device_id,
        )

    @property
    def available(self) -> bool:
        """Unavailable when the poll failed or IP1 calls the participant invalid."""
        return super().available and self.participant in self.coordinator.data.newest
