"""Hipmob: device status, pending messages and user availability, one poll each."""

import asyncio
from dataclasses import dataclass, field, replace
from typing import override

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from ...api import CommHubNotFoundError
from ...api.hipmob import (
    HIPMOB_API_URL,
    HipmobAppNotFoundError,
    HipmobClient,
    HipmobDevice,
    HipmobUser,
)
from ...const import CONF_ACCOUNT, CONF_APP, CONF_BASE_URL, CONF_DEVICES, CONF_USERS
from ...coordinator import CommHubCoordinator, scan_interval
from ...issues import AccountIssue, ItemIssue
from ...provider import Interval

type HipmobConfigEntry = ConfigEntry[HipmobCoordinator]

INTERVAL = Interval(default=60, minimum=10, maximum=3600)
# A tracked device Hipmob does not know (yet): the fix stops following it.
DEVICE_NOT_FOUND = ItemIssue(
    "device_not_found", "device", fixable=True, severity=ir.IssueSeverity.WARNING
)
# The entry's app is gone: one issue for the entry, raised and cleared by its poll.
APP_NOT_FOUND = AccountIssue("app_not_found")


@dataclass(frozen=True, slots=True)
class TrackedDevice:
    """What one poll learned about a tracked device."""

    details: HipmobDevice | None  # None: the device has never connected
    online: bool | None = None
    pending_messages: int | None = None


@dataclass(frozen=True, slots=True)
class HipmobData:
    """One poll of a Hipmob account."""

    devices: dict[str, TrackedDevice] = field(default_factory=dict)
    users: dict[str, HipmobUser | None] = field(default_factory=dict)


class HipmobCoordinator(CommHubCoordinator[HipmobData]):
    """Polls device status, pending messages and user availability."""

    config_entry: HipmobConfigEntry
    provider_name = "Hipmob"

    def __init__(self, hass: HomeAssistant, entry: HipmobConfigEntry) -> None:
        """Create the client for the entry's account."""
        super().__init__(hass, entry, scan_interval(entry, INTERVAL.default))
        self.client = HipmobClient(
            async_get_clientsession(hass),
            entry.data[CONF_ACCOUNT],
            entry.data[CONF_API_KEY],
            entry.data.get(CONF_BASE_URL, HIPMOB_API_URL),
        )
        self.app: str = entry.data[CONF_APP]
        self.account: str = entry.data[CONF_ACCOUNT]
        # The options flow owns these lists; the first step's choices seed them.
        self.device_ids: list[str] = list(
            entry.options.get(CONF_DEVICES, entry.data.get(CONF_DEVICES, []))
        )
        self.usernames: list[str] = list(
            entry.options.get(CONF_USERS, entry.data.get(CONF_USERS, []))
        )

    @property
    def polled_users(self) -> list[str]:
        """Watched users plus the account's own user (for the select)."""
        return list(dict.fromkeys([*self.usernames, self.account]))

    @override
    async def _async_poll(self) -> HipmobData:
        entry = self.config_entry
        try:
            data = await self._poll_all()
        except HipmobAppNotFoundError:
            # Every device is unknown then: their issues would only repeat this one.
            DEVICE_NOT_FOUND.delete_except(self.hass, entry.entry_id, keep=set())
            APP_NOT_FOUND.create(self.hass, entry)
            raise
        APP_NOT_FOUND.delete(self.hass, entry)
        return data

    async def _poll_all(self) -> HipmobData:
        # One concurrent round for everything; the client bounds the parallelism.
        devices, users = await asyncio.gather(
            asyncio.gather(*(self._poll_device(d) for d in self.device_ids)),
            asyncio.gather(*(self._poll_user(u) for u in self.polled_users)),
        )
        data = HipmobData(
            devices=dict(zip(self.device_ids, devices, strict=True)),
            users=dict(zip(self.polled_users, users, strict=True)),
        )
        DEVICE_NOT_FOUND.sync(
            self.hass,
            self.config_entry,
            self.device_ids,
            {d for d, tracked in data.devices.items() if tracked.details is None},
        )
        return data

    async def _poll_device(self, device_id: str) -> TrackedDevice:
        previous = self.data.devices.get(device_id) if self.data else None
        details = previous.details if previous else None
        if details is None:
            # Details never change; ask once, and again only while it is unknown.
            details = await self.client.get_device(self.app, device_id)
            if details is None:
                return TrackedDevice(details=None)
        online, pending = await asyncio.gather(
            self.client.device_online(self.app, device_id),
            self.client.pending_messages(self.app, device_id),
        )
        return TrackedDevice(details, online=online, pending_messages=pending)

    async def _poll_user(self, username: str) -> HipmobUser | None:
        try:
            return await self.client.get_user(username)
        except CommHubNotFoundError:
            return None

    def set_user_status(self, username: str, status: str) -> None:
        """Record a status we just set, without waiting for the next poll."""
        user = self.data.users.get(username)
        if user is not None:
            users = {**self.data.users, username: replace(user, status=status)}
            self.async_set_updated_data(replace(self.data, users=users))
