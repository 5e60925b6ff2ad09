"""Actions: registered once; each call goes to the named entry's provider."""

from collections.abc import Mapping
from functools import partial
from typing import Any

from homeassistant.const import ATTR_CONFIG_ENTRY_ID
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.helpers import service
import voluptuous as vol

from .actions import PartlySentError, invalid
from .api import CommHubApiError
from .const import CONF_SERVICE, DOMAIN
from .coordinator import CommHubConfigEntry
from .errors import action_failed
from .issues import delete_payment_issue
from .provider import Action
from .providers import PROVIDERS


async def _async_call(
    actions: Mapping[str, Action[Any]], call: ServiceCall
) -> ServiceResponse:
    """Run the action for the entry's provider; refuse an entry of another."""
    entry: CommHubConfigEntry = service.async_get_config_entry(
        call.hass, DOMAIN, call.data[ATTR_CONFIG_ENTRY_ID]
    )
    action = actions.get(entry.data[CONF_SERVICE])
    if action is None:
        raise invalid(
            "wrong_service",
            action=call.service,
            service=PROVIDERS[entry.data[CONF_SERVICE]].name,
            entry=entry.title,
        )
    try:
        response = await action.handler(call, entry.runtime_data)
    except PartlySentError as err:
        # Sent to some: answer per target, and still reauth or raise the issue.
        action_failed(call.hass, entry, err.cause, action.input_statuses)
        return err.response
    except CommHubApiError as err:
        raise action_failed(call.hass, entry, err, action.input_statuses) from err
    delete_payment_issue(call.hass, entry)
    return response


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register every provider's actions; one name, one schema."""
    by_name: dict[str, dict[str, Action[Any]]] = {}
    for provider in PROVIDERS.values():
        for name, action in provider.actions.items():
            by_name.setdefault(name, {})[provider.key] = action
    for name, actions in by_name.items():
        schemas = {id(action.schema): action.schema for action in actions.values()}
        if len(schemas) != 1:
            raise ValueError(f"providers disagree on the schema of {name}")
        schema: vol.Schema = next(iter(schemas.values()))
        hass.services.async_register(
            DOMAIN,
            name,
            partial(_async_call, actions),
            schema=schema,
            supports_response=SupportsResponse.OPTIONAL,
        )
