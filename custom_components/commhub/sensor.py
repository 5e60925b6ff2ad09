"""Sensors: Hipmob devices and users, Hipcall users and missed calls, IP1 chats."""

from datetime import datetime
from typing import Any, override

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_track_time_change

from .api.hipmob import USER_STATUSES
from .coordinator import HipmobCoordinator
from .data import CommHubConfigEntry
from .entity import (
    AccountEntity,
    HipcallUserEntity,
    HipmobDeviceEntity,
    HipmobUserEntity,
    Ip1ParticipantEntity,
)
from .hipcall_coordinator import HipcallCoordinator
from .ip1_coordinator import Ip1Coordinator
from .mobiniti_coordinator import MobinitiCoordinator

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


USER_STATUS = SensorEntityDescription(key="user_status", translation_key="user_status")
MISSED_CALLS_TODAY = SensorEntityDescription(
    key="missed_calls_today",
    translation_key="missed_calls_today",
    state_class=SensorStateClass.TOTAL_INCREASING,
)
LAST_MISSED_CALL = SensorEntityDescription(
    key="last_missed_call",
    translation_key="last_missed_call",
    device_class=SensorDeviceClass.TIMESTAMP,
)

UNSUBSCRIBES_TODAY = SensorEntityDescription(
    key="unsubscribes_today",
    translation_key="unsubscribes_today",
    state_class=SensorStateClass.TOTAL_INCREASING,
)
LAST_MESSAGE = SensorEntityDescription(
    key="last_message", translation_key="last_message"
)
# A state longer than this is refused by Home Assistant.
MAX_STATE_LENGTH = 255


async def async_setup_entry(
    hass: HomeAssistant,
    entry: CommHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """The sensors of the entry's service."""
    coordinator = entry.runtime_data
    if isinstance(coordinator, HipcallCoordinator):
        _add_hipcall_sensors(entry, coordinator, async_add_entities)
    elif isinstance(coordinator, MobinitiCoordinator):
        async_add_entities([DailyCountSensor(coordinator, UNSUBSCRIBES_TODAY)])
    elif isinstance(coordinator, Ip1Coordinator):
        async_add_entities(
            Ip1LastMessageSensor(coordinator, LAST_MESSAGE, participant)
            for participant in coordinator.participants
        )
    else:
        _add_hipmob_sensors(coordinator, async_add_entities)


def _add_hipmob_sensors(
    coordinator: HipmobCoordinator, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Pending messages per tracked device, availability per watched user."""
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


def _add_hipcall_sensors(
    entry: CommHubConfigEntry,
    coordinator: HipcallCoordinator,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Missed-call sensors, and a status sensor per user, also for users added later."""
    async_add_entities(
        [
            DailyCountSensor(coordinator, MISSED_CALLS_TODAY),
            HipcallLastMissedSensor(coordinator, LAST_MISSED_CALL),
        ]
    )
    added: set[int] = set()

    @callback
    def add_new_users() -> None:
        new = [u for i, u in coordinator.data.users.items() if i not in added]
        added.update(user.id for user in new)
        if new:
            async_add_entities(
                HipcallUserStatusSensor(coordinator, USER_STATUS, user) for user in new
            )

    add_new_users()
    entry.async_on_unload(coordinator.async_add_listener(add_new_users))


class HipcallUserStatusSensor(HipcallUserEntity, SensorEntity):
    """A Hipcall user's status as the API gives it."""

    @property
    def native_value(self) -> str | None:
        """The status string."""
        return self.user.status if self.user else None

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Contact details that help on a dashboard (nothing secret)."""
        user = self.user
        if user is None:
            return {}
        extension = self.coordinator.data.extensions.get(user.default_extension_id or 0)
        return {
            "email": user.email,
            "extension": extension,
            "last_login": user.last_logged_in.isoformat()
            if user.last_logged_in
            else None,
        }


class DailyCountSensor(
    AccountEntity[HipcallCoordinator | MobinitiCoordinator], SensorEntity
):
    """Events received since local midnight (missed calls, unsubscribes)."""

    @override
    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        # The count starts again at midnight even when no poll brings a change.
        self.async_on_remove(
            async_track_time_change(
                self.hass, self._midnight, hour=0, minute=0, second=0
            )
        )

    @callback
    def _midnight(self, _now: datetime) -> None:
        self.async_write_ha_state()

    @property
    def native_value(self) -> int:
        """Today's count."""
        coordinator = self.coordinator
        if isinstance(coordinator, MobinitiCoordinator):
            return coordinator.unsubscribes_today()
        return coordinator.data.missed_today()

    @property
    def available(self) -> bool:
        """Webhook counts stay known while polling fails; polled ones do not."""
        return isinstance(self.coordinator, MobinitiCoordinator) or super().available


class HipcallLastMissedSensor(AccountEntity[HipcallCoordinator], SensorEntity):
    """When the newest missed call started."""

    @property
    def native_value(self) -> datetime | None:
        """The newest missed call's start time."""
        return self.coordinator.data.last_missed_at


class Ip1LastMessageSensor(Ip1ParticipantEntity, SensorEntity):
    """The newest message of a followed conversation, in either direction."""

    @property
    def native_value(self) -> str | None:
        """The message's text, cut to what a state can hold."""
        message = self.coordinator.data.newest.get(self.participant)
        return message.body[:MAX_STATE_LENGTH] if message else None

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Who sent it to whom, when, and how far it got."""
        message = self.coordinator.data.newest.get(self.participant)
        if message is None:
            return {}
        return {
            "direction": "inbound"
            if message.inbound_from(self.participant)
            else "outbound",
            "status": message.status,
            "sender": message.sender,
            "recipient": message.recipient,
            "created": message.created.isoformat(),
        }
