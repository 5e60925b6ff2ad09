"""The base of the coordinators that remember what they reported, in a Store."""

import asyncio
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
        self._writing = False
        self._next_write: asyncio.Future[None] | None = None

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

    def _position(self) -> dict[str, Any]:
        """What the Store holds (the ledger's JSON form)."""
        raise NotImplementedError

    async def _save_position(self) -> None:
        """Write the position before anything is fired; raises if it failed.

        Callers that arrive during a write share the next one, which includes what
        they recorded: a burst of webhook deliveries costs a few writes, not one
        each, and every caller still returns only once its record is on disk.
        """
        if not self._writing:
            self._writing = True
            try:
                await self._store.async_save(self._position())
            finally:
                self._start_next_write()
            return
        if self._next_write is None:
            self._next_write = self.hass.loop.create_future()
        await self._next_write

    def _start_next_write(self) -> None:
        waiting, self._next_write = self._next_write, None
        if waiting is None:
            self._writing = False
            return
        self.hass.async_create_background_task(
            self._write_for(waiting), f"{DOMAIN} save {self.name}"
        )

    async def _write_for(self, waiting: asyncio.Future[None]) -> None:
        try:
            await self._store.async_save(self._position())
        except Exception as err:
            waiting.set_exception(err)
        else:
            waiting.set_result(None)
        finally:
            self._start_next_write()

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
