"""IP1 SMS: the followed conversations, inbound messages once, delivery reports."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, override

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util import dt as dt_util

from ...api import CommHubRequestError
from ...api.ip1 import IP1_API_URL, Ip1Client, Ip1Message, parse_message
from ...api.records import (
    MalformedRecordError,
    optional_field,
    required_field,
    required_time,
)
from ...const import (
    CONF_BASE_URL,
    CONF_PARTICIPANTS,
    EVENT_DELIVERY_REPORT,
    EVENT_INBOUND_MESSAGE,
    LOGGER,
)
from ...coordinator import StoredCoordinator, scan_interval
from ...issues import ItemIssue
from ...provider import Interval
from ...stored import stored_time
from ...webhooks import InvalidPayloadError

type Ip1ConfigEntry = ConfigEntry[Ip1Coordinator]

# Pages (of 100) of one conversation a poll reads back at most: more new messages
# than this within one interval are beyond what a conversation follows; logged.
MAX_PAGES_PER_POLL = 10
WEBHOOK_KINDS = ("inbound_message", "delivery_report")
INTERVAL = Interval(default=60, minimum=30, maximum=3600)
# Messages found after a restart or outage are still reported if they are this recent.
CATCH_UP_WINDOW = timedelta(hours=24)
# A message can be listed a little after it was created; the baseline leaves room.
BASELINE_MARGIN = timedelta(minutes=1)
# A followed participant IP1 calls invalid (HTTP 400 on its conversation).
INVALID_PARTICIPANT = ItemIssue("invalid_participant", "participant")
# Where a report names its message: one copy of IP1's page says `messageId`, one `id`.
REPORT_ID_KEYS = ("messageId", "id")


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """A delivery report IP1 posted for a message of a batch."""

    message_id: str
    batch_id: str | None
    recipient: str
    code: int
    created: datetime

    @property
    def key(self) -> str:
        """What makes a report the same report when it is posted again."""
        return f"{self.message_id}:{self.code}:{self.created.isoformat()}"


@dataclass(frozen=True, slots=True)
class Ip1Data:
    """The newest message with each followed participant."""

    newest: dict[str, Ip1Message | None] = field(default_factory=dict)
    invalid: frozenset[str] = frozenset()


def message_key(message: Ip1Message) -> str:
    """The ledger key of a message, polled or posted."""
    return f"message:{message.id}"


def participant_identifier(entry: ConfigEntry, participant: str) -> str:
    """Registry identifier of a followed participant of this entry."""
    return f"ip1_participant_{entry.entry_id}_{participant}"


def followed_participants(entry: ConfigEntry) -> list[str]:
    """The participants whose conversations the entry follows."""
    return list(entry.options.get(CONF_PARTICIPANTS, []))


def _report_message_id(payload: Mapping[str, Any]) -> str:
    """The reported message's id, under whichever key IP1 gave it."""
    for key in REPORT_ID_KEYS:
        if payload.get(key) is not None:
            return required_field(payload, key, str)
    raise MalformedRecordError("messageId")


def parse_report(payload: Mapping[str, Any]) -> DeliveryReport:
    """A delivery report from its callback payload."""
    return DeliveryReport(
        message_id=_report_message_id(payload),
        batch_id=optional_field(payload, "batchId", str),
        recipient=required_field(payload, "recipient", str),
        code=required_field(payload, "code", int),
        created=required_time(payload, "created"),
    )


def webhook_kind(payload: Mapping[str, Any]) -> str | None:
    """A delivery's kind by its shape: reports have a code, messages a body."""
    if "code" in payload and "body" not in payload:
        return "delivery_report"
    if "body" in payload:
        return "inbound_message"
    return None


def inbound_data(
    entry: ConfigEntry, message: Ip1Message, *, catch_up: bool
) -> dict[str, Any]:
    """The `commhub_inbound_message` data of an IP1 message."""
    return {
        "config_entry_id": entry.entry_id,
        "service": "ip1",
        "phone_number": message.sender,
        "message": message.body,
        "received_at": message.created.isoformat(),
        "message_id": message.id,
        "catch_up": catch_up,
    }


class Ip1Coordinator(StoredCoordinator[Ip1Data]):
    """Polls each followed conversation; takes inbound messages and reports by webhook."""

    config_entry: Ip1ConfigEntry
    store_name = "ip1_messages"
    baseline_margin = BASELINE_MARGIN
    provider_name = "IP1"

    def __init__(self, hass: HomeAssistant, entry: Ip1ConfigEntry) -> None:
        """Create the client for the entry's account."""
        super().__init__(hass, entry, scan_interval(entry, INTERVAL.default))
        self.client = Ip1Client(
            async_get_clientsession(hass),
            entry.data[CONF_API_KEY],
            entry.data.get(CONF_BASE_URL, IP1_API_URL),
        )
        self.participants = followed_participants(entry)
        self._key_checked = False

    @staticmethod
    @override
    def migrate(legacy: dict[str, Any]) -> dict[str, Any] | None:
        """The `MessageLedger` Store of CommHub ≤ 1.2 (version 1)."""
        keys: dict[str, float] = {}
        for kind, field_name in (("message", "seen"), ("report", "reports")):
            stored = legacy.get(field_name)
            for key, value in stored.items() if isinstance(stored, dict) else []:
                if (at := stored_time(value)) is not None:
                    keys[f"{kind}:{key}"] = at.timestamp()
        return {
            "baseline_at": legacy.get("baseline_at"),
            "position": {"participants": legacy.get("participants")},
            "keys": keys,
        }

    def _since(self) -> dict[str, str]:
        """When each followed participant's history was taken as the baseline."""
        since = self.ledger.position.get("participants")
        if not isinstance(since, dict):
            since = self.ledger.position["participants"] = {}
        return since

    def _cutoff(self, now: datetime, participant: str) -> datetime:
        """Messages created before this are history for the participant."""
        since = stored_time(self._since().get(participant)) or self.ledger.baseline_at
        return max(since or now, now - CATCH_UP_WINDOW)

    def _is_new(self, message: Ip1Message, now: datetime, participant: str) -> bool:
        """Whether the message was never reported and is recent enough to be."""
        return not self.ledger.knows(
            message_key(message)
        ) and message.created >= self._cutoff(now, participant)

    @override
    async def _async_poll(self) -> Ip1Data:
        now = dt_util.utcnow()
        # A participant followed again later starts from a new baseline.
        self.ledger.position["participants"] = {
            p: at for p, at in self._since().items() if p in self.participants
        }
        newest: dict[str, Ip1Message | None] = {}
        found: list[tuple[str, Ip1Message]] = []
        invalid: set[str] = set()
        if not self.participants and not self._key_checked:
            # Nothing to read, but a wrong key must still fail the setup.
            await self.client.check_key()
            self._key_checked = True
        for participant in self.participants:
            messages = await self._poll_conversation(participant, now)
            if messages is None:
                invalid.add(participant)
                continue
            newest[participant] = max(
                messages, key=lambda m: (m.created, m.id), default=None
            )
            found.extend(
                (participant, m)
                for m in messages
                if m.inbound_from(participant) and self._is_new(m, now, participant)
            )
        INVALID_PARTICIPANT.sync(
            self.hass, self.config_entry, self.participants, invalid
        )
        self._fire_inbound(await self._record([m for _, m in found]))
        return Ip1Data(newest=newest, invalid=frozenset(invalid))

    async def _poll_conversation(
        self, participant: str, now: datetime
    ) -> list[Ip1Message] | None:
        """The newest messages with a participant, back to what was seen (bounded).

        None when IP1 calls the participant invalid.
        """
        messages: list[Ip1Message] = []
        start: int | None = 0
        try:
            for _ in range(MAX_PAGES_PER_POLL):
                assert start is not None
                page = await self.client.conversation_page(participant, start)
                self._warn_malformed("message", page.malformed)
                messages.extend(page.items)
                if participant not in self._since():
                    # First time followed: what is listed now is history.
                    self._since()[participant] = (now - BASELINE_MARGIN).isoformat()
                    self.ledger.claim(map(message_key, page.items), now.timestamp())
                    break
                start = page.next_page
                reached_known = any(
                    not self._is_new(m, now, participant) for m in page.items
                )
                if start is None or reached_known:
                    break
            else:
                LOGGER.warning(
                    "%s: more than %s new messages in one conversation since the "
                    "last poll; older ones are not reported",
                    self.config_entry.title,
                    len(messages),
                )
        except CommHubRequestError as err:
            if err.status != 400:
                raise
            return None
        return messages

    async def _record(self, messages: Sequence[Ip1Message]) -> list[Ip1Message]:
        """The messages not reported before (oldest first), durably remembered."""
        by_key = {message_key(message): message for message in messages}
        fresh = [by_key[key] for key in await self.async_record(by_key)]
        return sorted(fresh, key=lambda m: (m.created, m.id))

    def _fire_inbound(self, messages: Sequence[Ip1Message]) -> None:
        for message in messages:
            self.hass.bus.async_fire(
                EVENT_INBOUND_MESSAGE,
                inbound_data(
                    self.config_entry,
                    message,
                    catch_up=self.is_catch_up(message.created),
                ),
            )

    async def async_handle_inbound(self, payload: dict[str, Any]) -> None:
        """An inbound message IP1 posted: fired unless polling (or a retry) did.

        A delivery is news when it arrives, however old the message (IP1 retries
        for as long as it takes): only a message already reported is dropped.
        """
        try:
            message = parse_message(payload)
        except MalformedRecordError as err:
            raise InvalidPayloadError(f"the {err.field!r} field is invalid") from err
        if fresh := await self._record([message]):
            self._fire_inbound(fresh)
            self._show_newest(message)

    async def async_handle_report(self, payload: dict[str, Any]) -> None:
        """A delivery report: fired once, and the message's status updated."""
        try:
            report = parse_report(payload)
        except MalformedRecordError as err:
            raise InvalidPayloadError(f"the {err.field!r} field is invalid") from err
        if not await self.async_record([f"report:{report.key}"]):
            return
        self.hass.bus.async_fire(
            EVENT_DELIVERY_REPORT,
            {
                "config_entry_id": self.config_entry.entry_id,
                "service": "ip1",
                "message_id": report.message_id,
                "batch_id": report.batch_id,
                "recipient": report.recipient,
                "code": report.code,
                "created": report.created.isoformat(),
            },
        )
        self._apply_report(report)

    @callback
    def _show_newest(self, message: Ip1Message) -> None:
        """Show a message posted by IP1 at once, if it is a followed conversation's."""
        newest = dict(self.data.newest)
        for participant in (message.sender, message.recipient):
            current = newest.get(participant)
            if participant in newest and (
                current is None or message.created > current.created
            ):
                newest[participant] = message
        self._show(newest)

    @callback
    def _apply_report(self, report: DeliveryReport) -> None:
        """Give a shown message the status its report brought."""
        newest = dict(self.data.newest)
        for participant, message in newest.items():
            if (
                message is not None
                and message.id == report.message_id
                and (message.status_at is None or report.created >= message.status_at)
            ):
                newest[participant] = replace(
                    message, status=report.code, status_at=report.created
                )
        self._show(newest)

    @callback
    def _show(self, newest: dict[str, Ip1Message | None]) -> None:
        """Update the sensors between polls without moving the next poll."""
        if newest != self.data.newest:
            self.data = replace(self.data, newest=newest)
            self.async_update_listeners_soon()
