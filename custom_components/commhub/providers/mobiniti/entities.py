"""Mobiniti's entities: an event entity per webhook kind, unsubscribes today."""

from typing import Any

from homeassistant.components.sensor import SensorStateClass
from homeassistant.const import Platform

from ...const import DOMAIN
from ...descriptions import CommHubEventDescription, CommHubSensorDescription
from ...entity import account_subject
from ...provider import EntityGroup
from .coordinator import MobinitiCoordinator
from .events import CONTACT_STATUSES, WEBHOOK_KINDS

ACCOUNT = account_subject("mobiniti")
# Kinds that can arrive by the hundred (one report per send): enabled on request.
NOISY_KINDS = ("delivery_report", "contact_status", "bounce", "rejection")


def _event(kind: str) -> CommHubEventDescription:
    """The entity of a webhook kind; contact status changes are typed by status."""
    typed = kind == "contact_status"
    return CommHubEventDescription(
        key=kind,
        translation_key=kind,
        event_types=list(CONTACT_STATUSES) if typed else [kind],
        bus_event=f"{DOMAIN}_{kind}",
        type_key="status" if typed else None,
        entity_registry_enabled_default=kind not in NOISY_KINDS,
    )


ENTITIES: dict[Platform, tuple[EntityGroup[MobinitiCoordinator, Any], ...]] = {
    Platform.EVENT: (
        EntityGroup(
            subject=ACCOUNT,
            descriptions=tuple(_event(kind) for kind in WEBHOOK_KINDS),
        ),
    ),
    Platform.SENSOR: (
        EntityGroup(
            subject=ACCOUNT,
            descriptions=(
                CommHubSensorDescription(
                    key="unsubscribes_today",
                    translation_key="unsubscribes_today",
                    state_class=SensorStateClass.TOTAL_INCREASING,
                    value_fn=lambda c, _: c.unsubscribes_today(),
                    # Counted from webhooks: known while polling fails.
                    polled=False,
                    midnight=True,
                ),
            ),
        ),
    ),
}
