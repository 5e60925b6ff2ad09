"""The coordinator every provider's coordinator builds on: one per config entry."""

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
import time
from typing import Any, ClassVar, override

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_SCAN_INTERVAL
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .api import CommHubApiError
from .api.records import MalformedRecord
from .const import DOMAIN, LOGGER
from .errors import update_failed
from .issues import delete_payment_issue
from .ledger import Ledger, LedgerError

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
        self._update_scheduled = False

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
        except LedgerError as err:
            # Not saved, so not fired: the next poll finds it again (as a catch-up).
            self._healthy_since = None
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="ledger_failed",
                translation_placeholders={"error": str(err)},
            ) from err
        delete_payment_issue(self.hass, self.config_entry)
        if self._healthy_since is None:
            self._healthy_since = started
        return data

    @callback
    def async_update_listeners_soon(self) -> None:
        """Update the entities once for a burst of webhook deliveries, not per one."""
        if not self._update_scheduled:
            self._update_scheduled = True
            self.hass.loop.call_soon(self._update_now)

    @callback
    def _update_now(self) -> None:
        self._update_scheduled = False
        self.async_update_listeners()

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
    """A coordinator that reports each thing once: its ledger is durable first."""

    # The ledger's files are `.storage/commhub.<store_name>.<entry id>[.journal.n]`.
    store_name: ClassVar[str]
    # A new ledger's baseline is the first setup minus this margin (None: the
    # coordinator takes it itself); nothing from before it is reported.
    baseline_margin: ClassVar[timedelta | None] = timedelta(0)

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        update_interval: timedelta | None,
    ) -> None:
        """Open the entry's ledger (read at the first refresh)."""
        super().__init__(hass, entry, update_interval)
        self.ledger = Ledger(hass, self.ledger_key(entry))
        self.today = self.ledger.counter("today")

    @classmethod
    def ledger_key(cls, entry: ConfigEntry[Any]) -> str:
        """The Store key of the entry's ledger (also that of its legacy Store)."""
        return f"{DOMAIN}.{cls.store_name}.{entry.entry_id}"

    @classmethod
    async def async_remove_ledger(
        cls, hass: HomeAssistant, entry: ConfigEntry[Any]
    ) -> None:
        """Forget a removed entry's ledger."""
        await Ledger(hass, cls.ledger_key(entry)).async_remove()

    @staticmethod
    def migrate(legacy: dict[str, Any]) -> dict[str, Any] | None:
        """A legacy Store payload in the ledger's snapshot form (None: start afresh)."""
        return None

    @override
    async def _async_setup(self) -> None:
        await self.ledger.async_load(self.migrate)
        if self.ledger.baseline_at is None and self.baseline_margin is not None:
            self.ledger.baseline_at = dt_util.utcnow() - self.baseline_margin
            await self.ledger.async_commit()

    @override
    async def async_shutdown(self) -> None:
        """Stop polling; finish the ledger's writes, nothing is written later."""
        await super().async_shutdown()
        await self.ledger.async_close()

    def history(self) -> dict[str, Any]:
        """The ledger in diagnostics: times and sizes, no keys (they may be personal)."""
        return {"baseline_at": self.ledger.baseline_at, "remembered": len(self.ledger)}

    def count_today(self) -> int:
        """What the daily counter counted since local midnight."""
        return self.today.count_on(dt_util.now().date())

    async def async_record(
        self,
        keys: Iterable[str],
        counted: Callable[[list[str]], int] | None = None,
        position: Mapping[str, Any] | None = None,
    ) -> list[str]:
        """The keys not reported before, durably remembered; fire their events next.

        `counted(fresh)`, if given, is added to today's count and `position` to the
        ledger's. If the commit fails nothing changed (the keys are fresh again,
        count and position as they were) and it raises.
        """
        ledger, today = self.ledger, self.today
        counted_before = today.state()
        position_before = dict(ledger.position) if position else None
        fresh = ledger.claim(keys, time.time())
        if fresh and counted and (count := counted(fresh)):
            today.add(count, dt_util.now().date())
        if position:
            ledger.position.update(position)
        try:
            await ledger.async_commit()
        except LedgerError:
            ledger.release(fresh)
            today.restore(counted_before)
            if position_before is not None:
                ledger.position = position_before
            raise
        return fresh
