"""Acme Chat: a fifth, fake provider defined entirely in the tests.

It proves the shape of a provider: everything CommHub needs to know about a
vendor is this one `Provider` object, built only from the generic machinery's
public pieces. The "service" is an in-memory `AcmeCloud` per base URL, kept in
`hass.data` so that each test has its own; a client at a URL with no cloud
cannot connect, a wrong API key is refused with `CommHubAuthError`.
"""

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any, override

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.config_entries import ConfigEntry, ConfigFlowResult
from homeassistant.const import ATTR_CONFIG_ENTRY_ID, CONF_API_KEY, Platform
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.selector import BooleanSelector
from homeassistant.util.hass_dict import HassKey
import voluptuous as vol

from custom_components.commhub.api import (
    CommHubAuthError,
    CommHubConnectionError,
    CommHubNotFoundError,
)
from custom_components.commhub.const import CONF_BASE_URL
from custom_components.commhub.coordinator import CommHubCoordinator, scan_interval
from custom_components.commhub.descriptions import CommHubSensorDescription
from custom_components.commhub.entity import account_subject
from custom_components.commhub.forms import PASSWORD
from custom_components.commhub.provider import (
    Account,
    Action,
    EntityGroup,
    FlowError,
    Interval,
    Provider,
    ProviderFlow,
    ProviderOptions,
    Subject,
    entry_account_id,
)
from custom_components.commhub.redact import TO_REDACT

if TYPE_CHECKING:
    from custom_components.commhub.config_flow import CommHubConfigFlow

ACME_URL = "https://api.acme.example/v1"
ACME_KEY = "acme-secret-key"
ACME_ACCOUNT_ID = "4242"
ACME_ACCOUNT_NAME = "Acme Corp"
INTERVAL = Interval(default=30, minimum=10, maximum=3600)
# The provider's own option: whether agents that are offline have a device.
CONF_SHOW_OFFLINE = "show_offline"

# The clouds of the current test, by base URL.
ACME_CLOUDS: HassKey[dict[str, AcmeCloud]] = HassKey("commhub_test_acme_clouds")


@dataclass(frozen=True, slots=True)
class AcmeAgent:
    """A support agent of the account."""

    id: str
    name: str
    status: str = "online"


@dataclass
class AcmeCloud:
    """The Acme Chat service one test talks to (what a vendor's API would hold)."""

    account_id: str = ACME_ACCOUNT_ID
    account_name: str = ACME_ACCOUNT_NAME
    # The one key the service accepts; changing it revokes the old one.
    api_key: str = ACME_KEY
    agents: dict[str, AcmeAgent] = field(
        default_factory=lambda: {
            "a1": AcmeAgent("a1", "Ada Lovelace"),
            "a2": AcmeAgent("a2", "Grace Hopper", "away"),
        }
    )
    open_chats: int = 3
    # What the page_agent action sent, in order.
    pages: list[dict[str, str]] = field(default_factory=list)
    # Requests answered (refused ones included).
    requests: int = 0

    def serve(self, hass: HomeAssistant, base_url: str = ACME_URL) -> AcmeCloud:
        """Answer at `base_url` for the rest of the test."""
        hass.data.setdefault(ACME_CLOUDS, {})[base_url] = self
        return self

    def answer(self, api_key: str) -> None:
        """A request: refused unless it carries the account's key."""
        self.requests += 1
        if api_key != self.api_key:
            raise CommHubAuthError("401: invalid API key")


class AcmeClient:
    """What a vendor's client would be: async calls raising CommHub's errors."""

    def __init__(self, hass: HomeAssistant, api_key: str, base_url: str) -> None:
        """Talk to the cloud at `base_url` with `api_key`."""
        self._hass = hass
        self._api_key = api_key
        self._base_url = base_url

    def _cloud(self) -> AcmeCloud:
        cloud = self._hass.data.get(ACME_CLOUDS, {}).get(self._base_url)
        if cloud is None:
            raise CommHubConnectionError(f"nothing answers at {self._base_url}")
        cloud.answer(self._api_key)
        return cloud

    async def whoami(self) -> tuple[str, str]:
        """The account's id and name."""
        cloud = self._cloud()
        return cloud.account_id, cloud.account_name

    async def list_agents(self) -> list[AcmeAgent]:
        """The account's agents now."""
        return list(self._cloud().agents.values())

    async def count_open_chats(self) -> int:
        """Chats waiting for an agent."""
        return self._cloud().open_chats

    async def page_agent(self, agent_id: str, message: str) -> str:
        """Page an agent; the page's id."""
        cloud = self._cloud()
        if agent_id not in cloud.agents:
            raise CommHubNotFoundError(404, f"no agent {agent_id}")
        cloud.pages.append({"agent": agent_id, "message": message})
        return f"page-{len(cloud.pages)}"


# --- coordinator ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AcmeData:
    """One poll of an Acme Chat account."""

    agents: dict[str, AcmeAgent]
    open_chats: int


def agent_identifier(entry: ConfigEntry, agent_id: str) -> str:
    """Registry identifier of an agent of this account."""
    return f"acme_agent_{entry_account_id(entry)}_{agent_id}"


class AcmeCoordinator(CommHubCoordinator[AcmeData]):
    """Polls the agents and the open chats every interval."""

    config_entry: ConfigEntry[AcmeCoordinator]
    provider_name = "Acme Chat"

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
        """Create the client for the entry's account."""
        super().__init__(hass, entry, scan_interval(entry, INTERVAL.default))
        self.client = AcmeClient(
            hass, entry.data[CONF_API_KEY], entry.data[CONF_BASE_URL]
        )

    @override
    async def _async_poll(self) -> AcmeData:
        agents = {agent.id: agent for agent in await self.client.list_agents()}
        return AcmeData(agents=agents, open_chats=await self.client.count_open_chats())

    def shown_agents(self) -> list[str]:
        """The agents that have a device (offline ones only if the options say so)."""
        show_offline = self.config_entry.options.get(CONF_SHOW_OFFLINE, True)
        return [
            agent.id
            for agent in self.data.agents.values()
            if show_offline or agent.status != "offline"
        ]


# --- entities -----------------------------------------------------------------

ACCOUNT = account_subject("acme", entry_account_id)
AGENTS = Subject[AcmeCoordinator, str](
    identifier=lambda c, a: agent_identifier(c.config_entry, a),
    items=AcmeCoordinator.shown_agents,
    device=lambda c, a: (c.data.agents[a].name, "Acme agent"),
    available=lambda c, a: a in c.data.agents,
)
ENTITIES: dict[Platform, tuple[EntityGroup[AcmeCoordinator, Any], ...]] = {
    Platform.SENSOR: (
        EntityGroup(
            subject=ACCOUNT,
            descriptions=(
                CommHubSensorDescription(
                    key="open_chats",
                    translation_key="open_chats",
                    value_fn=lambda c, _: c.data.open_chats,
                ),
            ),
        ),
        EntityGroup(
            subject=AGENTS,
            descriptions=(
                CommHubSensorDescription(
                    key="agent_status",
                    translation_key="agent_status",
                    value_fn=lambda c, a: (
                        c.data.agents[a].status if a in c.data.agents else None
                    ),
                ),
            ),
        ),
    ),
}


# --- action -------------------------------------------------------------------

PAGE_AGENT_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required("agent"): cv.string,
        vol.Required("message"): vol.All(cv.string, vol.Length(min=1)),
    }
)


async def page_agent(
    call: ServiceCall, coordinator: AcmeCoordinator
) -> ServiceResponse:
    """Page an agent; the response is the page's id."""
    page_id = await coordinator.client.page_agent(
        call.data["agent"], call.data["message"]
    )
    return {"id": page_id}


# --- flow -----------------------------------------------------------------------


async def check(hass: HomeAssistant, data: Mapping[str, Any]) -> Account:
    """Ask who the key belongs to."""
    client = AcmeClient(hass, data[CONF_API_KEY], data[CONF_BASE_URL])
    account_id, name = await client.whoami()
    if not account_id:
        raise FlowError("no_account")
    return Account(id=account_id, title=f"Acme Chat ({name})")


async def step_credentials(
    flow: CommHubConfigFlow,
    provider: Provider[Any],
    user_input: dict[str, Any] | None,
) -> ConfigFlowResult:
    """The API key."""

    return await flow.async_credentials_form(
        provider, {vol.Required(CONF_API_KEY): PASSWORD}, user_input
    )


# --- diagnostics ----------------------------------------------------------------


async def diagnostics(
    hass: HomeAssistant, coordinator: AcmeCoordinator
) -> dict[str, Any]:
    """The latest poll, without the agents' names."""
    data = coordinator.data
    return {
        "acme": {
            "agents": [
                async_redact_data(asdict(agent), TO_REDACT)
                for agent in data.agents.values()
            ],
            "open_chats": data.open_chats,
            "shown_agents": coordinator.shown_agents(),
        }
    }


ACME = Provider[AcmeCoordinator](
    key="acme",
    name="Acme Chat",
    model="Acme Chat account",
    coordinator=AcmeCoordinator,
    entities=ENTITIES,
    flow=ProviderFlow(
        steps={"acme": step_credentials},
        secret_key=CONF_API_KEY,
        default_url=ACME_URL,
        check=check,
    ),
    options=ProviderOptions(
        interval=INTERVAL,
        defaults={CONF_SHOW_OFFLINE: True},
        fields=lambda current: {
            vol.Required(
                CONF_SHOW_OFFLINE, default=current.get(CONF_SHOW_OFFLINE, True)
            ): BooleanSelector()
        },
        clean=lambda entered: {
            CONF_SHOW_OFFLINE: bool(entered.get(CONF_SHOW_OFFLINE, True))
        },
    ),
    diagnostics=diagnostics,
    expected_devices=lambda c: {
        agent_identifier(c.config_entry, agent) for agent in c.shown_agents()
    },
    actions={
        "page_agent": Action(
            schema=PAGE_AGENT_SCHEMA, handler=page_agent, input_statuses=(404, 422)
        )
    },
)


def with_agents(cloud: AcmeCloud, **agents: str) -> None:
    """Replace the cloud's agents: id=name, each online."""
    cloud.agents = {key: AcmeAgent(key, name) for key, name in agents.items()}


def set_status(cloud: AcmeCloud, agent_id: str, status: str) -> None:
    """Change one agent's status."""
    cloud.agents[agent_id] = replace(cloud.agents[agent_id], status=status)
