"""IP1's entities: the newest message of each followed conversation, inbound SMS."""

from dataclasses import replace
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform

from ...const import EVENT_INBOUND_MESSAGE
from ...descriptions import (
    CommHubEventDescription,
    CommHubNotifyDescription,
    CommHubSensorDescription,
)
from ...entity import account_subject
from ...provider import EntityGroup, Subject
from .actions import notify
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


def conversation_name(participant: str) -> str:
    """A number in international format (IP1 writes bare digits), else the name."""
    return f"+{participant}" if participant.isdigit() else participant


PARTICIPANTS = Subject[Ip1Coordinator, str](
    identifier=lambda c, p: participant_identifier(c.config_entry, p),
    items=lambda c: c.participants,
    device=lambda _c, p: (conversation_name(p), "IP1 SMS conversation"),
    # Unavailable when IP1 calls the participant invalid.
    available=lambda c, p: p in c.data.newest,
)
# An SMS goes to a number only (a name is a sender, not a recipient).
NUMBERS = replace(
    PARTICIPANTS,
    items=lambda c: [p for p in c.participants if p.isdigit()],
    available=lambda _c, _p: True,
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
    Platform.NOTIFY: (
        EntityGroup(
            subject=NUMBERS,
            descriptions=(
                CommHubNotifyDescription(
                    key="message", translation_key="message", send_fn=notify
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
