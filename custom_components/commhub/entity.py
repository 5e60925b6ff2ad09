"""The one entity base, its device info, and entities that follow their items."""

from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import CommHubConfigEntry, CommHubCoordinator
from .provider import EntityGroup, Provider, Subject


def service_device_info(entry: ConfigEntry, provider: Provider[Any]) -> DeviceInfo:
    """The device that stands for the account itself."""
    return DeviceInfo(
        identifiers={(DOMAIN, entry.entry_id)},
        name=entry.title,
        manufacturer=provider.name,
        model=provider.model,
        entry_type=DeviceEntryType.SERVICE,
    )


def account_subject(
    key: str, tag: Any = None
) -> Subject[CommHubCoordinator[Any], None]:
    """The account itself: its entities are on the service device.

    Their unique ids start with `<provider>_<tag>` (the entry id unless `tag`,
    a function of the entry, says otherwise); never with anything secret.
    """

    def identifier(coordinator: CommHubCoordinator[Any], _item: None) -> str:
        entry = coordinator.config_entry
        assert entry is not None
        return f"{key}_{tag(entry) if tag else entry.entry_id}"

    return Subject(identifier=identifier, items=lambda _: [None])


class CommHubEntity[ItemT](CoordinatorEntity[CommHubCoordinator[Any]]):
    """An entity of one subject item (or of the account), fed by the coordinator."""

    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: CommHubCoordinator[Any],
        description: EntityDescription,
        subject: Subject[Any, ItemT],
        item: ItemT,
    ) -> None:
        """Attach the entity to its subject's device."""
        super().__init__(coordinator)
        self.entity_description = description
        self.subject = subject
        self.item = item
        identifier = subject.identifier(coordinator, item)
        self._attr_unique_id = f"{identifier}_{description.key}"
        entry = coordinator.config_entry
        assert entry is not None
        if subject.device is None:
            self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, entry.entry_id)})
        else:
            name, model = subject.device(coordinator, item)
            self._attr_device_info = DeviceInfo(
                identifiers={(DOMAIN, identifier)},
                name=name,
                manufacturer=coordinator.provider_name,
                model=model,
                via_device_id=coordinator.service_device_id,
            )

    @property
    def available(self) -> bool:
        """Unavailable when the poll failed or the subject says so."""
        return super().available and self.subject.available(self.coordinator, self.item)


def async_add_entity_groups(
    entry: CommHubConfigEntry,
    groups: tuple[EntityGroup[Any, Any], ...],
    entity_class: type[CommHubEntity[Any]],
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """A platform's entities of the provider; items that come later get theirs."""
    for group in groups:
        _follow_items(entry, group, entity_class, async_add_entities)


def _follow_items(
    entry: CommHubConfigEntry,
    group: EntityGroup[Any, Any],
    entity_class: type[CommHubEntity[Any]],
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Entities for the group's items now, and for each item that appears later."""
    coordinator = entry.runtime_data
    added: set[Any] = set()

    @callback
    def add_new() -> None:
        items = list(group.subject.items(coordinator))
        new = [item for item in items if item not in added]
        # An item that left (its device removed) gets new entities when it is back.
        added.intersection_update(items)
        added.update(new)
        if new:
            async_add_entities(
                entity_class(coordinator, description, group.subject, item)
                for item in new
                for description in group.descriptions
            )

    add_new()
    entry.async_on_unload(coordinator.async_add_listener(add_new))
