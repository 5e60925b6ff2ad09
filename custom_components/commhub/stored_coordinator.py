"""The base of the coordinators that remember what they reported, in a Store."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

from .api.records import MalformedRecord
from .const import DOMAIN, LOGGER

STORAGE_VERSION = 1


class StoredCoordinator[DataT](DataUpdateCoordinator[DataT]):
    """Polls one account; its position (what was reported) lives in a Store."""

    # The Store is `commhub.<store_name>.<entry id>`; warnings name the service.
    store_name: ClassVar[str]
    service_title: ClassVar[str]

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        update_interval: timedelta | None,
    ) -> None:
        """Name the coordinator after the entry and open its Store."""
        super().__init__(
            hass,
            LOGGER,
            name=f"{DOMAIN} {entry.title}",
            config_entry=entry,
            update_interval=update_interval,
        )
        self._store = self.ledger_store(hass, entry)
        # When the current run of successful polls began; None after an outage.
        self._healthy_since: datetime | None = None
        self._warned: set[str] = set()
        self.service_device_id = ""

    @classmethod
    def ledger_store(
        cls, hass: HomeAssistant, entry: ConfigEntry[Any]
    ) -> Store[dict[str, Any]]:
        """The entry's Store."""
        return Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{cls.store_name}.{entry.entry_id}"
        )

    @classmethod
    async def async_remove_store(
        cls, hass: HomeAssistant, entry: ConfigEntry[Any]
    ) -> None:
        """Forget a removed entry's position."""
        await cls.ledger_store(hass, entry).async_remove()

    def _warn_malformed(self, kind: str, records: Sequence[MalformedRecord]) -> None:
        """One warning per record and field, without the record's content."""
        for record in records:
            key = f"{kind}:{record.identity}:{record.field}"
            if key not in self._warned:
                self._warned.add(key)
                LOGGER.warning(
                    "Skipping a %s %s record whose %r field is missing or of the "
                    "wrong type",
                    self.service_title,
                    kind,
                    record.field,
                )
