"""The coordinator every provider's coordinator builds on: one per config entry."""

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar, override

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_SCAN_INTERVAL
from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from .api import CommHubApiError
from .api.records import MalformedRecord
from .const import DOMAIN, LOGGER
from .errors import update_failed
from .issues import delete_payment_issue

type CommHubConfigEntry = ConfigEntry[CommHubCoordinator[Any]]


def scan_interval(entry: ConfigEntry, default: int) -> timedelta:
    """The entry's poll interval from its options, else the provider's default."""
    return timedelta(seconds=entry.options.get(CONF_SCAN_INTERVAL) or default)


class CommHubCoordinator[DataT](DataUpdateCoordinator[DataT]):
    """Polls one account; client errors become Home Assistant's in one place.

    Subclasses implement `_async_poll` and raise the client's errors.
    """

    # Warnings about malformed records name the provider.
    provider_name: ClassVar[str]

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        update_interval: timedelta | None,
    ) -> None:
        """Name the coordinator after the entry."""
        super().__init__(
            hass,
            LOGGER,
            name=f"{DOMAIN} {entry.title}",
            config_entry=entry,
            update_interval=update_interval,
        )
        # The account's own registry device, which the others hang off.
        self.service_device_id = ""
        # When the current run of successful polls began; None after an outage.
        self._healthy_since: datetime | None = None
        self._warned: set[str] = set()

    async def _async_poll(self) -> DataT:
        """One poll of the account (raises `CommHubApiError`)."""
        raise NotImplementedError

    @override
    async def _async_update_data(self) -> DataT:
        started = dt_util.utcnow()
        assert self.config_entry is not None
        try:
            data = await self._async_poll()
        except CommHubApiError as err:
            self._healthy_since = None
            raise update_failed(self.hass, self.config_entry, err) from err
        delete_payment_issue(self.hass, self.config_entry)
        if self._healthy_since is None:
            self._healthy_since = started
        return data

    def is_catch_up(self, at: datetime | None) -> bool:
        """Whether something that happened `at` is reported late (after an outage)."""
        return self._healthy_since is None or (
            at is not None and at < self._healthy_since
        )

    def _warn_malformed(self, kind: str, records: Sequence[MalformedRecord]) -> None:
        """One warning per record and field, without the record's content."""
        for record in records:
            key = f"{kind}:{record.identity}:{record.field}"
            if key not in self._warned:
                self._warned.add(key)
                LOGGER.warning(
                    "Skipping a %s %s record whose %r field is missing or of the "
                    "wrong type",
                    self.provider_name,
                    kind,
                    record.field,
                )


class StoredCoordinator[DataT](CommHubCoordinator[DataT]):
    """A coordinator that remembers what it reported, in a Store."""

    # The Store is `commhub.<store_name>.<entry id>`.
    store_name: ClassVar[str]

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        update_interval: timedelta | None,
    ) -> None:
        """Open the entry's Store."""
        super().__init__(hass, entry, update_interval)
        self._store = self.ledger_store(hass, entry)
        self._writing = False
        self._next_write: asyncio.Future[None] | None = None

    @classmethod
    def ledger_store(
        cls, hass: HomeAssistant, entry: ConfigEntry[Any]
    ) -> Store[dict[str, Any]]:
        """The entry's Store."""
        return Store(hass, 1, f"{DOMAIN}.{cls.store_name}.{entry.entry_id}")

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
