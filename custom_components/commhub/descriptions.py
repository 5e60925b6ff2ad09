"""Entity descriptions the providers fill in: what to show, as functions.

Each function takes the coordinator and the subject item (None for the account).
"""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.binary_sensor import BinarySensorEntityDescription
from homeassistant.components.event import EventEntityDescription
from homeassistant.components.notify import NotifyEntityDescription
from homeassistant.components.select import SelectEntityDescription
from homeassistant.components.sensor import SensorEntityDescription
from homeassistant.helpers.typing import StateType

from .actions import TargetResult


@dataclass(frozen=True, kw_only=True)
class CommHubSensorDescription(SensorEntityDescription):
    """A sensor: its value and attributes from the latest data.

    `polled` is False for a value kept by the entry itself (a webhook count),
    which stays known while polling fails; `midnight` redraws it at midnight.
    """

    value_fn: Callable[[Any, Any], StateType | datetime]
    attributes_fn: Callable[[Any, Any], Mapping[str, Any]] | None = None
    polled: bool = True
    midnight: bool = False


@dataclass(frozen=True, kw_only=True)
class CommHubBinarySensorDescription(BinarySensorEntityDescription):
    """A binary sensor: whether it is on, from the latest data."""

    is_on_fn: Callable[[Any, Any], bool | None]


@dataclass(frozen=True, kw_only=True)
class CommHubSelectDescription(SelectEntityDescription):
    """A select: the current option, and how to choose another."""

    current_fn: Callable[[Any, Any], str | None]
    select_fn: Callable[[Any, Any, str], Awaitable[None]]


@dataclass(frozen=True, kw_only=True)
class CommHubEventDescription(EventEntityDescription):
    """An event entity that mirrors one bus event type of its entry.

    `type_key` names the data field holding the event type (and is left out of
    the attributes); without it the entity has the single type in `event_types`.
    """

    bus_event: str
    type_key: str | None = None


@dataclass(frozen=True, kw_only=True)
class CommHubNotifyDescription(NotifyEntityDescription):
    """A notify entity: a text to its item, sent as the send action sends it."""

    send_fn: Callable[[Any, Any, str], Awaitable[TargetResult]]
