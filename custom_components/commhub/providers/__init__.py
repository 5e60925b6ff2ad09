"""The registry: the one place that names the providers CommHub supports."""

from typing import Any

from homeassistant.config_entries import ConfigEntry

from ..const import CONF_SERVICE
from ..provider import Provider
from .hipcall import PROVIDER as HIPCALL
from .hipmob import PROVIDER as HIPMOB
from .ip1 import PROVIDER as IP1
from .mobiniti import PROVIDER as MOBINITI

# In the order of the "which service?" menu.
PROVIDERS: dict[str, Provider[Any]] = {
    provider.key: provider for provider in (HIPMOB, HIPCALL, MOBINITI, IP1)
}


def provider_of(entry: ConfigEntry) -> Provider[Any]:
    """The provider of an entry (KeyError for one no provider claims)."""
    return PROVIDERS[entry.data[CONF_SERVICE]]


def oauth_provider() -> Provider[Any]:
    """The provider that signs in with Application Credentials (one at most)."""
    for provider in PROVIDERS.values():
        if provider.flow.oauth is not None:
            return provider
    raise LookupError("no provider signs in with Application Credentials")
