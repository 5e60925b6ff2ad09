"""Hipmob's entities: tracked devices, watched users, the account's own status."""

from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform

from ...actions import TargetResult
from ...api.hipmob import USER_STATUSES
from ...const import CONF_ACCOUNT, CONF_APP
from ...descriptions import (
    CommHubBinarySensorDescription,
    CommHubNotifyDescription,
    CommHubSelectDescription,
    CommHubSensorDescription,
)
from ...provider import EntityGroup, Subject
from .actions import send
from .coordinator import HipmobCoordinator


def device_identifier(entry: ConfigEntry, device_id: str) -> str:
    """Registry identifier of a tracked device."""
    return f"hipmob_device_{entry.data[CONF_APP]}_{device_id}"


def user_identifier(entry: ConfigEntry, username: str) -> str:
    """Registry identifier of a user of this account."""
    return f"hipmob_user_{entry.data[CONF_ACCOUNT].casefold()}_{username}"


# Platforms as their vendors write them (Hipmob reports "android" next to "iOS").
PLATFORM_NAMES = {"android": "Android", "ios": "iOS"}


def _device(coordinator: HipmobCoordinator, device_id: str) -> tuple[str, str | None]:
    """Named after what its app reported, else its identifier."""
    details = coordinator.data.devices[device_id].details
    platform = details.platform if details else None
    return (details.name if details else None) or device_id, (
        PLATFORM_NAMES.get(platform.casefold(), platform) if platform else None
    )


async def _notify(
    coordinator: HipmobCoordinator, device_id: str, text: str
) -> TargetResult:
    [result] = await send(coordinator, [device_id], text, autocreate=False)
    return result


def _user(coordinator: HipmobCoordinator, username: str) -> tuple[str, str | None]:
    user = coordinator.data.users.get(username)
    return (user.full_name if user else username), "Hipmob user"


def _status(coordinator: HipmobCoordinator, username: str) -> str | None:
    """The user's availability as last polled or set."""
    user = coordinator.data.users.get(username)
    return user.status if user else None


DEVICES = Subject[HipmobCoordinator, str](
    identifier=lambda c, d: device_identifier(c.config_entry, d),
    items=lambda c: c.device_ids,
    device=_device,
    # Unavailable while Hipmob does not know the device.
    available=lambda c, d: c.data.devices[d].details is not None,
)
WATCHED_USERS = Subject[HipmobCoordinator, str](
    identifier=lambda c, u: user_identifier(c.config_entry, u),
    items=lambda c: c.usernames,
    device=_user,
    available=lambda c, u: _status(c, u) is not None,
)
OWN_USER = Subject[HipmobCoordinator, str](
    identifier=WATCHED_USERS.identifier,
    items=lambda c: [c.account],
    device=_user,
    available=WATCHED_USERS.available,
)


async def _set_status(
    coordinator: HipmobCoordinator, username: str, status: str
) -> None:
    await coordinator.client.set_user_status(username, status)
    coordinator.set_user_status(username, status)


ENTITIES: dict[Platform, tuple[EntityGroup[HipmobCoordinator, str], ...]] = {
    Platform.BINARY_SENSOR: (
        EntityGroup(
            subject=DEVICES,
            descriptions=(
                CommHubBinarySensorDescription(
                    key="online",
                    translation_key="online",
                    device_class=BinarySensorDeviceClass.CONNECTIVITY,
                    is_on_fn=lambda c, d: c.data.devices[d].online,
                ),
            ),
        ),
    ),
    Platform.NOTIFY: (
        EntityGroup(
            subject=DEVICES,
            descriptions=(
                CommHubNotifyDescription(
                    key="message", translation_key="message", send_fn=_notify
                ),
            ),
        ),
    ),
    Platform.SELECT: (
        EntityGroup(
            subject=OWN_USER,
            descriptions=(
                CommHubSelectDescription(
                    key="availability_select",
                    translation_key="availability",
                    options=list(USER_STATUSES),
                    current_fn=_status,
                    select_fn=_set_status,
                ),
            ),
        ),
    ),
    Platform.SENSOR: (
        EntityGroup(
            subject=DEVICES,
            descriptions=(
                CommHubSensorDescription(
                    key="pending_messages",
                    translation_key="pending_messages",
                    state_class=SensorStateClass.MEASUREMENT,
                    value_fn=lambda c, d: c.data.devices[d].pending_messages,
                ),
            ),
        ),
        EntityGroup(
            subject=WATCHED_USERS,
            descriptions=(
                CommHubSensorDescription(
                    key="availability",
                    translation_key="availability",
                    device_class=SensorDeviceClass.ENUM,
                    options=list(USER_STATUSES),
                    # Unknown when Hipmob added a status we do not know.
                    value_fn=lambda c, u: (
                        s if (s := _status(c, u)) in USER_STATUSES else None
                    ),
                ),
            ),
        ),
    ),
}
