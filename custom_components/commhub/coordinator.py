"""Polling coordinators: one per config entry."""

import asyncio
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import override

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_API_KEY, CONF_SCAN_INTERVAL
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

from .api import CommHubApiError, CommHubNotFoundError
from .api.hipmob import HIPMOB_API_URL, HipmobClient, HipmobDevice, HipmobUser
from .const import (
    CONF_ACCOUNT,
    CONF_APP,
    CONF_BASE_URL,
    CONF_DEVICES,
    CONF_USERS,
    DEFAULT_HIPMOB_SCAN_INTERVAL,
    DOMAIN,
    LOGGER,
)
from .errors import update_failed

type HipmobConfigEntry = ConfigEntry[HipmobCoordinator]


def scan_interval(entry: ConfigEntry, default: timedelta) -> timedelta:
    """The entry's poll interval from its options, else the service's default."""
    seconds = entry.options.get(CONF_SCAN_INTERVAL)
    return timedelta(seconds=seconds) if seconds else default


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


class HipmobCoordinator(DataUpdateCoordinator[HipmobData]):
    """Polls device status, pending messages and user availability."""

    config_entry: HipmobConfigEntry

    def __init__(self, hass: HomeAssistant, entry: HipmobConfigEntry) -> None:
        """Create the client for the entry's account."""
        super().__init__(
            hass,
            LOGGER,
            name=f"{DOMAIN} {entry.title}",
            config_entry=entry,
            update_interval=scan_interval(entry, DEFAULT_HIPMOB_SCAN_INTERVAL),
        )
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
        # The account's own registry device, which the others hang off.
        self.service_device_id = ""

    @property
    def polled_users(self) -> list[str]:
        """Watched users plus the account's own user (for the select)."""
        return list(dict.fromkeys([*self.usernames, self.account]))

    @override
    async def _async_update_data(self) -> HipmobData:
        try:
            # One concurrent round for everything; the client bounds the parallelism.
            devices, users = await asyncio.gather(
                asyncio.gather(*(self._poll_device(d) for d in self.device_ids)),
                asyncio.gather(*(self._poll_user(u) for u in self.polled_users)),
            )
        except CommHubApiError as err:
            raise update_failed(self.hass, self.config_entry, err) from err
        ir.async_delete_issue(
            self.hass, DOMAIN, f"payment_required_{self.config_entry.entry_id}"
        )
        data = HipmobData(
            devices=dict(zip(self.device_ids, devices, strict=True)),
            users=dict(zip(self.polled_users, users, strict=True)),
        )
        self._update_unknown_device_issues(data)
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

    def _update_unknown_device_issues(self, data: HipmobData) -> None:
        for device_id, tracked in data.devices.items():
            issue_id = f"device_not_found_{self.config_entry.entry_id}_{device_id}"
            if tracked.details is not None:
                ir.async_delete_issue(self.hass, DOMAIN, issue_id)
                continue
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                issue_id,
                is_fixable=True,
                severity=ir.IssueSeverity.WARNING,
                translation_key="device_not_found",
                translation_placeholders={
                    "device": device_id,
                    "entry": self.config_entry.title,
                },
                data={"entry_id": self.config_entry.entry_id, "device": device_id},
            )

    def set_user_status(self, username: str, status: str) -> None:
        """Record a status we just set, without waiting for the next poll."""
        user = self.data.users.get(username)
        if user is not None:
            users = {**self.data.users, username: replace(user, status=status)}
            self.async_set_updated_data(replace(self.data, users=users))
