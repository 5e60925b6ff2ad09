"""Pieces of the config and options forms that several providers use."""

from collections.abc import Mapping
from typing import Any

from homeassistant.data_entry_flow import section
from homeassistant.helpers.selector import (
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import voluptuous as vol

from .const import CONF_ADVANCED, CONF_BASE_URL

PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
LIST_OF_TEXT = TextSelector(TextSelectorConfig(multiple=True))
# Errors whose likely cause is the base URL: the Advanced section stays open.
URL_ERRORS = frozenset({"invalid_url", "cannot_connect"})


def advanced_section(base_url: str, *, collapsed: bool = True) -> section:
    """The section holding the API base URL (collapsed unless it is at fault).

    Without a default URL the field may stay empty: the provider finds the URL.
    """
    field = (
        vol.Required(CONF_BASE_URL, default=base_url)
        if base_url
        else vol.Optional(CONF_BASE_URL)
    )
    return section(vol.Schema({field: str}), {"collapsed": collapsed})


def base_url(user_input: Mapping[str, Any]) -> str:
    """The base URL the user entered, without a trailing slash."""
    return str(user_input[CONF_ADVANCED].get(CONF_BASE_URL, "")).strip().rstrip("/")


def list_fields(
    defaults: Mapping[str, Any], keys: tuple[str, ...]
) -> dict[vol.Marker, Any]:
    """Lists of things to follow (devices, users, participants)."""
    return {
        vol.Optional(key, default=list(defaults.get(key, []))): LIST_OF_TEXT
        for key in keys
    }
