"""Hipcall's entities: users' presence, missed calls today, the missed-call event."""

from dataclasses import replace
from typing import Any

from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.const import Platform

from ...api.hipcall import (
    MISSED_CALL_REASONS,
    PRESENCE_STATES,
    SETTABLE_STATES,
    UNKNOWN_REASON,
)
from ...const import EVENT_MISSED_CALL
from ...descriptions import (
    CommHubEventDescription,
    CommHubSelectDescription,
    CommHubSensorDescription,
)
from ...entity import account_subject
from ...provider import EntityGroup, Subject, entry_account_id
from .coordinator import EVENT_INCOMING_CALL, HipcallCoordinator, user_identifier

ACCOUNT = account_subject("hipcall", entry_account_id)


def _users(*, current: bool) -> Subject[HipcallCoordinator, int]:
    """The account's users, when the entry speaks that API generation."""
    return Subject[HipcallCoordinator, int](
        identifier=lambda c, u: user_identifier(c.config_entry, u),
        items=lambda c: c.data.users if c.client.current == current else (),
        device=lambda c, u: (c.data.users[u].name, "Hipcall user"),
        # Unavailable once the account no longer has the user.
        available=lambda c, u: u in c.data.users,
    )


# The presence select is on the account owner's device (the API does not say
# whose the token is).
OWNER = replace(
    _users(current=True),
    items=lambda c: [u for u in c.data.users if c.client.current and c.is_owner(u)],
)


def _status(coordinator: HipcallCoordinator, user_id: int) -> str | None:
    user = coordinator.data.users.get(user_id)
    return user.status if user else None


async def _set_presence(
    coordinator: HipcallCoordinator, user_id: int, state: str
) -> None:
    await coordinator.async_set_presence(user_id, state)


def _user_attributes(coordinator: HipcallCoordinator, user_id: int) -> dict[str, Any]:
    """Contact details that help on a dashboard (nothing secret)."""
    user = coordinator.data.users.get(user_id)
    if user is None:
        return {}
    extension = coordinator.data.extensions.get(user_id)
    since = user.state_changed_at or user.last_logged_in
    return {
        "email": user.email,
        "extension": extension,
        # The presence's start on the current API, the last login on the 2021 one.
        ("since" if user.state_changed_at else "last_login"): since.isoformat()
        if since
        else None,
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
                CommHubEventDescription(
                    key="incoming_call",
                    translation_key="incoming_call",
                    event_types=["ringing"],
                    bus_event=EVENT_INCOMING_CALL,
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
            subject=_users(current=True),
            descriptions=(
                CommHubSensorDescription(
                    key="user_status",
                    translation_key="user_status",
                    device_class=SensorDeviceClass.ENUM,
                    options=list(PRESENCE_STATES),
                    value_fn=_status,
                    attributes_fn=_user_attributes,
                ),
            ),
        ),
        EntityGroup(
            # The 2021 API's status, as it gives it (only `active` is documented).
            subject=_users(current=False),
            descriptions=(
                CommHubSensorDescription(
                    key="user_status",
                    translation_key="user_status",
                    value_fn=_status,
                    attributes_fn=_user_attributes,
                ),
            ),
        ),
    ),
    Platform.SELECT: (
        EntityGroup(
            subject=OWNER,
            descriptions=(
                CommHubSelectDescription(
                    key="user_status_select",
                    translation_key="user_status",
                    options=list(SETTABLE_STATES),
                    current_fn=_status,
                    select_fn=_set_presence,
                ),
            ),
        ),
    ),
}
