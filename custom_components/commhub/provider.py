"""A provider (one vendor's service) as the generic machinery sees it.

Everything CommHub knows about a vendor is one `Provider` in `providers/`; the
modules Home Assistant requires look the entry's provider up and delegate to it.
"""

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry, ConfigFlowResult
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse
from homeassistant.helpers.entity import EntityDescription
import voluptuous as vol

from .issues import ItemIssue
from .webhooks import KindHandler

if TYPE_CHECKING:
    from .config_flow import CommHubConfigFlow
    from .coordinator import CommHubCoordinator


@dataclass(frozen=True, slots=True)
class Interval:
    """Bounds of the poll interval option, in seconds."""

    default: int
    minimum: int
    maximum: int


@dataclass(frozen=True, slots=True)
class Account:
    """Who a set of credentials signs in as.

    `id` is the account's identity within its provider (never a secret); `proven`
    says whether it comes from the service (an owner's id) or only from the
    credentials themselves (a hash of a key), which a new key changes.
    """

    id: str
    title: str
    proven: bool = True
    # What the provider's next steps need of the sign-in (e.g. the apps to pick).
    extra: Any = None
    # Where the account was found, when the provider searched for it.
    base_url: str | None = None


class FlowError(Exception):
    """A credentials check failed: the form shows `key` (on `field`, else base)."""

    def __init__(
        self, key: str, field: str = "base", placeholders: Mapping[str, str] = {}
    ) -> None:
        """Remember what the form should say."""
        super().__init__(key)
        self.key = key
        self.field = field
        self.placeholders = dict(placeholders)


def account_unique_id(key: str, account_id: str) -> str:
    """An entry's unique id: its account, namespaced by provider."""
    return f"{key}:{account_id}"


def entry_account_id(entry: ConfigEntry) -> str:
    """The account part of an entry's unique id (the entry id if it has none)."""
    return (entry.unique_id or "").partition(":")[2] or entry.entry_id


type FlowStep = Callable[
    ["CommHubConfigFlow", "Provider[Any]", dict[str, Any] | None],
    Awaitable[ConfigFlowResult],
]


@dataclass(frozen=True, kw_only=True)
class ProviderFlow:
    """How an account of the provider is added, signed in again and reconfigured.

    `steps` are the provider's own config-flow steps (the first is the provider's
    key, the menu option). `check` signs in with credentials (the entry's data with
    the new secret and base URL) and says which account they reach, or raises
    `FlowError`. Reauth and reconfigure ask for `secret_key` (and the base URL).
    An empty `default_url` lets the base URL be left empty: `check` then finds
    it and says where in `Account.base_url`.
    """

    steps: Mapping[str, FlowStep]
    secret_key: str
    default_url: str
    check: Callable[[HomeAssistant, Mapping[str, Any]], Awaitable[Account]]
    oauth: OAuthSpec | None = None


@dataclass(frozen=True, kw_only=True)
class OAuthSpec:
    """Sign-in with Application Credentials (one provider of the domain at most)."""

    authorize_url: str
    token_url: str
    more_info_url: str  # where users create the application
    scopes: tuple[str, ...]
    # The credentials `check` takes, from what the authorization gave.
    credentials: Callable[[Mapping[str, Any]], dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class ProviderOptions:
    """The options form: poll interval, followed lists and the provider's own.

    `fields` adds the provider's own fields for the current options; `clean`
    turns what the user entered into options or raises `FlowError`.
    """

    interval: Interval
    followed: tuple[str, ...] = ()
    # Options a new entry starts with, besides the interval.
    defaults: Mapping[str, Any] = field(default_factory=dict)
    fields: Callable[[Mapping[str, Any]], dict[vol.Marker, Any]] = lambda _: {}
    clean: Callable[[Mapping[str, Any]], dict[str, Any]] = lambda _: {}


@dataclass(frozen=True, kw_only=True)
class Followed:
    """An option list of followed items, each item a registry device."""

    option: str
    identifier: Callable[[ConfigEntry, str], str]
    # The repair issue raised about an item of the list the service refuses.
    issue: ItemIssue | None = None


@dataclass(frozen=True, kw_only=True)
class Subject[C: "CommHubCoordinator[Any]", I]:
    """What a group of entities is about: each item of a kind, or the account.

    `items` lists the items now (entities follow as items come and go); `device`
    names an item's registry device (None: the account's own service device).
    """

    identifier: Callable[[C, I], str]
    items: Callable[[C], Iterable[I]]
    device: Callable[[C, I], tuple[str, str | None]] | None = None  # (name, model)
    available: Callable[[C, I], bool] = lambda _c, _i: True


@dataclass(frozen=True, kw_only=True)
class EntityGroup[C: "CommHubCoordinator[Any]", I]:
    """Entities of one platform, one per description and subject item."""

    subject: Subject[C, I]
    descriptions: tuple[EntityDescription, ...]


@dataclass(frozen=True, kw_only=True)
class WebhookSpec[C: "CommHubCoordinator[Any]"]:
    """The entry's webhook: its kinds, how to tell them apart, their handlers."""

    kinds: tuple[str, ...]
    kind_of: Callable[[Mapping[str, Any]], str | None]
    handlers: Callable[[C], Mapping[str, KindHandler]]


type ActionHandler[C] = Callable[[ServiceCall, C], Awaitable[ServiceResponse]]


@dataclass(frozen=True, kw_only=True)
class Action[C: "CommHubCoordinator[Any]"]:
    """An action the provider offers; actions of one name share one schema."""

    schema: vol.Schema
    handler: ActionHandler[C]
    # Statuses with which the service refuses bad fields (a validation error).
    input_statuses: tuple[int, ...] = (422,)


@dataclass(frozen=True, kw_only=True)
class Provider[C: "CommHubCoordinator[Any]"]:
    """One vendor's service: everything the generic modules delegate to."""

    key: str  # entry.data["service"], the menu option and the first flow step
    name: str  # what users read
    model: str  # the account's service device
    coordinator: Callable[[HomeAssistant, ConfigEntry[C]], C]
    entities: Mapping[Platform, tuple[EntityGroup[C, Any], ...]]
    flow: ProviderFlow
    options: ProviderOptions
    diagnostics: Callable[[HomeAssistant, C], Awaitable[dict[str, Any]]]
    # Registry identifiers of the devices the entry should have now.
    expected_devices: Callable[[C], set[str]]
    followed: tuple[Followed, ...] = ()
    webhook: WebhookSpec[C] | None = None
    actions: Mapping[str, Action[C]] = field(default_factory=dict)
    # Forget what a removed entry stored.
    remove_entry: Callable[[HomeAssistant, ConfigEntry], Awaitable[None]] | None = None

    @property
    def platforms(self) -> list[Platform]:
        """The platforms the provider's entities are on."""
        return list(self.entities)
