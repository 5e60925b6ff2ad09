"""Config entries of every provider: identity, titles, flows that never block."""

import hashlib
from typing import Any

from aiohttp.test_utils import unused_port
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.commhub.const import DOMAIN
from sandbox import Sandbox

from .conftest import (
    API_KEY,
    HIPCALL_OWNER,
    HIPCALL_TOKEN,
    IP1_KEY,
    hipcall_entry,
    hipmob_entry,
    ip1_entry,
)


async def _menu(hass: HomeAssistant, provider: str) -> dict[str, Any]:
    """A user flow with the provider chosen in the menu."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": provider}
    )


async def _submit(
    hass: HomeAssistant, provider: str, base_url: str, **fields: Any
) -> dict[str, Any]:
    form = await _menu(hass, provider)
    return await hass.config_entries.flow.async_configure(
        form["flow_id"], {**fields, "advanced": {"base_url": base_url}}
    )


def _section_collapsed(result: dict[str, Any]) -> bool:
    """Whether the form's Advanced section is collapsed."""
    for marker, value in result["data_schema"].schema.items():
        if str(marker) == "advanced":
            return bool(value.options["collapsed"])
    raise AssertionError("no advanced section")


async def test_unique_ids_are_namespaced_by_provider(
    hass: HomeAssistant, sandbox_url: str
) -> None:
    """A Hipmob account named 12 does not block the Hipcall account of owner 12."""
    MockConfigEntry(
        domain=DOMAIN,
        unique_id=f"hipmob:{HIPCALL_OWNER}",
        minor_version=2,
        data={"service": "hipmob"},
    ).add_to_hass(hass)
    result = await _submit(
        hass,
        "hipcall",
        f"{sandbox_url}/hipcall/api/v20211124",
        api_token=HIPCALL_TOKEN,
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == f"hipcall:{HIPCALL_OWNER}"


async def test_old_entries_are_migrated_and_keep_their_entities(
    hass: HomeAssistant, sandbox_url: str
) -> None:
    """1.1 entries get namespaced unique ids and, for Hipcall, a webhook id.

    Entity unique ids stay as they were.
    """
    entry = hipcall_entry(sandbox_url)
    entry.add_to_hass(hass)
    old_data = {
        k: v for k, v in entry.data.items() if k not in ("webhook_id", "cloudhook")
    }
    hass.config_entries.async_update_entry(
        entry, unique_id=HIPCALL_OWNER, minor_version=1, data=old_data
    )
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert (entry.unique_id, entry.minor_version) == (f"hipcall:{HIPCALL_OWNER}", 3)
    assert entry.data == {
        **old_data,
        "webhook_id": entry.data["webhook_id"],
        "cloudhook": False,
    }
    assert len(entry.data["webhook_id"]) >= 32  # webhook.async_generate_id()
    registry = er.async_get(hass)
    assert registry.async_get_entity_id(
        "sensor", DOMAIN, f"hipcall_{HIPCALL_OWNER}_missed_calls_today"
    )
    assert registry.async_get_entity_id(
        "sensor", DOMAIN, f"hipcall_user_{HIPCALL_OWNER}_2_user_status"
    )


async def test_a_newer_entry_version_is_not_migrated(
    hass: HomeAssistant, sandbox_url: str
) -> None:
    """An entry from a future CommHub (version 2) is left alone."""
    entry = hipcall_entry(sandbox_url)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, version=2)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.MIGRATION_ERROR


async def test_two_ip1_accounts_have_titles_of_their_own(
    hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str
) -> None:
    """Two IP1 entries are told apart in every entry picker, without the key."""
    other_key = "ip1-second-key"
    sandbox.ip1.api_keys.add(other_key)
    titles = []
    for key in (IP1_KEY, other_key):
        result = await _submit(hass, "ip1", f"{sandbox_url}/ip1", api_key=key)
        assert result["type"] is FlowResultType.CREATE_ENTRY
        titles.append(result["title"])
        assert key not in result["title"]
    assert titles[0] != titles[1]
    assert titles[0] == f"IP1 SMS ({hashlib.sha256(IP1_KEY.encode()).hexdigest()[:6]})"


async def test_an_abandoned_ip1_flow_does_not_block_a_retry(
    hass: HomeAssistant, sandbox_url: str
) -> None:
    """The key is claimed only once it works: a retry is not 'already in progress'."""
    first = await _submit(
        hass, "ip1", f"http://127.0.0.1:{unused_port()}", api_key=IP1_KEY
    )
    assert first["errors"] == {"base": "cannot_connect"}
    retry = await _submit(hass, "ip1", f"{sandbox_url}/ip1", api_key=IP1_KEY)
    assert retry["type"] is FlowResultType.CREATE_ENTRY


async def test_an_abandoned_hipmob_flow_does_not_block_a_retry(
    hass: HomeAssistant, sandbox_url: str
) -> None:
    """A flow left at the app step does not block the same account's next one."""
    first = await _submit(
        hass, "hipmob", f"{sandbox_url}/hipmob", account="femi", api_key=API_KEY
    )
    assert first["step_id"] == "hipmob_app"
    retry = await _submit(
        hass, "hipmob", f"{sandbox_url}/hipmob", account="femi", api_key=API_KEY
    )
    assert retry["step_id"] == "hipmob_app"
    done = await hass.config_entries.flow.async_configure(
        retry["flow_id"], {"app": retry["data_schema"]({})["app"]}
    )
    assert done["type"] is FlowResultType.CREATE_ENTRY
    # The abandoned flow cannot make a second entry for the account: it is gone.
    in_progress = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert first["flow_id"] not in {flow["flow_id"] for flow in in_progress}


@pytest.mark.parametrize(
    ("provider", "fields"),
    [
        ("hipmob", {"account": "femi", "api_key": API_KEY}),
        ("hipcall", {"api_token": HIPCALL_TOKEN}),
        ("ip1", {"api_key": IP1_KEY}),
    ],
)
async def test_advanced_section_stays_open_when_the_url_is_at_fault(
    hass: HomeAssistant, sandbox_url: str, provider: str, fields: dict[str, Any]
) -> None:
    """cannot_connect and invalid_url keep the base URL in view; other errors not."""
    dead = await _submit(hass, provider, f"http://127.0.0.1:{unused_port()}", **fields)
    assert dead["errors"] == {"base": "cannot_connect"}
    assert not _section_collapsed(dead)
    bad = await _submit(hass, provider, "ftp://example.invalid", **fields)
    assert bad["errors"] == {"base": "invalid_url"}
    assert not _section_collapsed(bad)
    wrong = {
        key: "wrong" if key != "account" else value for key, value in fields.items()
    }
    base = {"hipmob": "/hipmob", "hipcall": "/hipcall/api/v20211124", "ip1": "/ip1"}
    refused = await _submit(hass, provider, f"{sandbox_url}{base[provider]}", **wrong)
    assert refused["errors"] == {"base": "invalid_auth"}
    assert _section_collapsed(refused)


async def test_reconfigure_keeps_the_section_open_after_cannot_connect(
    hass: HomeAssistant, sandbox_url: str
) -> None:
    """The reconfigure form shows the base URL at fault, as the first form does."""
    entry = hipmob_entry(sandbox_url)
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert _section_collapsed(result)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "api_key": API_KEY,
            "advanced": {"base_url": f"http://127.0.0.1:{unused_port()}"},
        },
    )
    assert result["errors"] == {"base": "cannot_connect"}
    assert not _section_collapsed(result)


async def test_ip1_without_participants_checks_the_key_at_setup(
    hass: HomeAssistant, sandbox_url: str
) -> None:
    """test-before-setup: a wrong key fails the setup even with nothing followed."""
    entry = ip1_entry(sandbox_url, participants=[])
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, "api_key": "revoked"}
    )
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]
