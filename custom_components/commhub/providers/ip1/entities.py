"""IP1's entities: the newest message of each followed conversation, inbound SMS."""

from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform

from ...const import EVENT_INBOUND_MESSAGE
from ...descriptions import CommHubEventDescription, CommHubSensorDescription
from ...entity import account_subject
from ...provider import EntityGroup, Subject
from .coordinator import Ip1Coordinator

# A state longer than this is refused by Home Assistant.
MAX_STATE_LENGTH = 255


def participant_identifier(entry: ConfigEntry, participant: str) -> str:
    """Registry identifier of a followed participant of this entry."""
    return f"ip1_participant_{entry.entry_id}_{participant}"


def _last_message(coordinator: Ip1Coordinator, participant: str) -> str | None:
    """The message's text, cut to what a state can hold."""
    message = coordinator.data.newest.get(participant)
    return message.body[:MAX_STATE_LENGTH] if message else None


def _last_message_attributes(
    coordinator: Ip1Coordinator, participant: str
) -> dict[str, Any]:
    """Who sent it to whom, when, and how far it got."""
    message = coordinator.data.newest.get(participant)
    if message is None:
        return {}
    return {
        "direction": "inbound" if message.inbound_from(participant) else "outbound",
        "status": message.status,
        "sender": message.sender,
        "recipient": message.recipient,
        "created": message.created.isoformat(),
    }


ACCOUNT = account_subject("ip1")
PARTICIPANTS = Subject[Ip1Coordinator, str](
    identifier=lambda c, p: participant_identifier(c.config_entry, p),
    items=lambda c: c.participants,
    device=lambda _c, p: (p, "IP1 SMS conversation"),
    # Unavailable when IP1 calls the participant invalid.
    available=lambda c, p: p in c.data.newest,
)

ENTITIES: dict[Platform, tuple[EntityGroup[Ip1Coordinator, Any], ...]] = {
    Platform.EVENT: (
        EntityGroup(
            subject=ACCOUNT,
            descriptions=(
                CommHubEventDescription(
                    key="inbound_message",
                    translation_key="inbound_message",
                    event_types=["inbound_message"],
                    bus_event=EVENT_INBOUND_MESSAGE,
                ),
            ),
        ),
    ),
    Platform.SENSOR: (
        EntityGroup(
            subject=PARTICIPANTS,
            descriptions=(
                CommHubSensorDescription(
                    key="last_message",
                    translation_key="last_message",
                    value_fn=_last_message,
                    attributes_fn=_last_message_attributes,
                ),
            ),
        ),
    ),
}
