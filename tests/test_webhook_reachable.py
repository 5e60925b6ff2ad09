"""A webhook URL offered to a cloud service is one it can reach, else none.

Home Assistant Cloud's cloudhook, else the configured external URL; an internal
(LAN) address never. Without one, the flow's last step says so, and a repair
issue explains how to set an external URL (polling keeps working).
"""

from typing import Any

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
import pytest

from custom_components.commhub.const import DOMAIN
from sandbox import Sandbox

from .conftest import HIPCALL_TOKEN, IP1_KEY, MOBINITI_TOKEN, SetupEntry

LAN = "http://192.168.1.20:8123"
INTERNET = "https://home.example.org"
# Per provider with webhooks: its credentials form's input and its base URL path.
FORMS: dict[str, tuple[str, dict[str, Any], str]] = {
    "hipcall": ("hipcall", {"api_token": HIPCALL_TOKEN}, "/hipcall/api/v3"),
    "ip1": ("ip1", {"api_key": IP1_KEY}, "/ip1"),
    "mobiniti": ("mobiniti_token", {"access_token": MOBINITI_TOKEN}, "/mobiniti"),
}


async def _add(
    hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str, provider: str
) -> dict[str, Any]:
    step, fields, path = FORMS[provider]
    sandbox.mobiniti.rate_limit_enabled = False
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": provider}
    )
    if result["type"] is FlowResultType.MENU:
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"next_step_id": step}
        )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**fields, "advanced": {"base_url": sandbox_url + path}}
    )
    await hass.async_block_till_done()
    return result


def _issue(hass: HomeAssistant, entry_id: str) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"no_webhook_url_{entry_id}")


@pytest.mark.parametrize("provider", list(FORMS))
async def test_a_lan_address_is_never_offered(
    hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str, provider: str
) -> None:
    """Only an internal URL: the "no URL" step, and the repair issue."""
    hass.config.internal_url = LAN
    result = await _add(hass, sandbox, sandbox_url, provider)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["description"] == f"{provider}_no_url"
    assert not any(
        LAN in str(value) for value in result["description_placeholders"].values()
    )
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    issue = _issue(hass, entry.entry_id)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_placeholders == {"entry": entry.title}


@pytest.mark.parametrize("provider", list(FORMS))
async def test_the_external_url_is_offered_and_the_issue_goes(
    hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str, provider: str
) -> None:
    """Once an external URL is set, a reload clears the issue."""
    hass.config.internal_url = LAN
    entry = (await _add(hass, sandbox, sandbox_url, provider))["result"]
    assert _issue(hass, entry.entry_id) is not None

    hass.config.external_url = INTERNET
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert _issue(hass, entry.entry_id) is None


async def test_an_entry_added_with_an_external_url_shows_it(
    hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str
) -> None:
    """The last step shows the URL on the external address; no issue is raised."""
    hass.config.internal_url = LAN
    hass.config.external_url = INTERNET
    result = await _add(hass, sandbox, sandbox_url, "hipcall")
    assert result["description"] == "hipcall"
    assert result["description_placeholders"]["call_url"].startswith(
        f"{INTERNET}/api/webhook/"
    )
    assert _issue(hass, result["result"].entry_id) is None


async def test_removing_the_entry_removes_its_issue(
    hass: HomeAssistant, setup_mobiniti: SetupEntry
) -> None:
    """No issue outlives its entry."""
    entry = await setup_mobiniti()
    assert _issue(hass, entry.entry_id) is not None
    await hass.config_entries.async_remove(entry.entry_id)
    assert _issue(hass, entry.entry_id) is None
