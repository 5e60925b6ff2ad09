"""Hipcall's entities: users' status, missed calls today, the missed-call event."""

from typing import Any

from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.const import Platform

from ...api.hipcall import MISSED_CALL_REASONS, UNKNOWN_REASON
from ...const import EVENT_MISSED_CALL
from ...descriptions import CommHubEventDescription, CommHubSensorDescription
from ...entity import account_subject
from ...provider import EntityGroup, Subject, entry_account_id
from .coordinator import HipcallCoordinator, user_identifier

ACCOUNT = account_subject("hipcall", entry_account_id)
USERS = Subject[HipcallCoordinator, int](
    identifier=lambda c, u: user_identifier(c.config_entry, u),
    items=lambda c: c.data.users,
    device=lambda c, u: (c.data.users[u].name, "Hipcall user"),
    # Unavailable once the account no longer has the user.
    available=lambda c, u: u in c.data.users,
)


def _user_attributes(coordinator: HipcallCoordinator, user_id: int) -> dict[str, Any]:
    """Contact details that help on a dashboard (nothing secret)."""
    user = coordinator.data.users.get(user_id)
    if user is None:
        return {}
    extension = coordinator.data.extensions.get(user_id)
    return {
        "email": user.email,
        "extension": extension,
        "last_login": user.last_logged_in.isoformat() if user.last_logged_in else None,
    }


ENTITIES: dict[Platform, tuple[EntityGroup[HipcallCoordinator, Any], ...]] = {
    Platform.EVENT: (
        EntityGroup(
            subject=ACCOUNT,
            descriptions=(
                CommHubEventDescription(
                    key="missed_call",
                    translation_key="missed_call",
                    event_types=[*MISSED_CALL_REASONS.values(), UNKNOWN_REASON],
                    bus_event=EVENT_MISSED_CALL,
                    type_key="reason",
                ),
            ),
        ),
    ),
    Platform.SENSOR: (
        EntityGroup(
            subject=ACCOUNT,
            descriptions=(
                CommHubSensorDescription(
                    key="missed_calls_today",
                    translation_key="missed_calls_today",
                    state_class=SensorStateClass.TOTAL_INCREASING,
                    value_fn=lambda c, _: c.data.missed_today(),
                    midnight=True,
                ),
                CommHubSensorDescription(
                    key="last_missed_call",
                    translation_key="last_missed_call",
                    device_class=SensorDeviceClass.TIMESTAMP,
                    value_fn=lambda c, _: c.data.last_missed_at,
                ),
            ),
        ),
        EntityGroup(
            subject=USERS,
            descriptions=(
                CommHubSensorDescription(
                    key="user_status",
                    translation_key="user_status",
                    value_fn=lambda c, u: (
                        c.data.users[u].status if u in c.data.users else None
                    ),
                    attributes_fn=_user_attributes,
                ),
            ),
        ),
    ),
}
