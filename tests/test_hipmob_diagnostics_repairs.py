"""Diagnostics, repair flows and translations."""

import json
from pathlib import Path
import re

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.commhub.const import DOMAIN

from .conftest import API_KEY, APP, JACK, SetupEntry

COMPONENT = Path(__file__).parent.parent / "custom_components" / DOMAIN


async def test_diagnostics_redact_secrets(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, setup_hipmob: SetupEntry
) -> None:
    """Diagnostics carry the poll but no key, account, names or e-mail."""
    entry = await setup_hipmob()
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    text = json.dumps(diagnostics)
    for secret in (API_KEY, "femi", "Femi", "Omojola", "Hawksmoor", "theauthority"):
        assert secret not in text
    assert diagnostics["entry"]["data"]["app"] == APP
    assert diagnostics["devices"][JACK]["online"] is True
    assert diagnostics["devices"][JACK]["pending_messages"] == 0
    assert {u["status"] for u in diagnostics["users"]} == {"online", "offline"}
    assert diagnostics["last_update_success"] is True


async def test_repair_flow_stops_tracking_unknown_device(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    setup_hipmob: SetupEntry,
) -> None:
    """Fixing the issue removes the device from the options and the registry."""
    entry = await setup_hipmob(devices=[JACK, "never-seen"])
    assert await async_setup_component(hass, "repairs", {})
    issue_id = f"device_not_found_{entry.entry_id}_never-seen"
    client = await hass_client()
    response = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue_id}
    )
    assert response.status == 200
    flow = await response.json()
    assert flow["step_id"] == "confirm"
    assert flow["description_placeholders"] == {
        "device": "never-seen",
        "entry": entry.title,
    }
    response = await client.post(f"/api/repairs/issues/fix/{flow['flow_id']}")
    assert response.status == 200
    assert (await response.json())["type"] == "create_entry"
    await hass.async_block_till_done()
    assert entry.options["devices"] == [JACK]
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    registry = dr.async_get(hass)
    assert (
        registry.async_get_device_by_identifier(
            (DOMAIN, f"hipmob_device_{APP}_never-seen"), entry.entry_id
        )
        is None
    )


async def test_removing_entry_drops_its_issues(
    hass: HomeAssistant, setup_hipmob: SetupEntry
) -> None:
    """No orphaned repair issues after the entry is deleted."""
    entry = await setup_hipmob(devices=["never-seen"])
    issues = ir.async_get(hass)
    assert issues.async_get_issue(
        DOMAIN, f"device_not_found_{entry.entry_id}_never-seen"
    )
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert not [i for (d, i) in issues.issues if d == DOMAIN]


def test_translations_match_strings() -> None:
    """translations/en.json is what strings.json says (custom integrations load it)."""
    strings = json.loads((COMPONENT / "strings.json").read_text())
    english = json.loads((COMPONENT / "translations" / "en.json").read_text())
    assert strings == english


def test_every_raised_translation_key_exists() -> None:
    """Each exception key used in the code has a message."""
    strings = json.loads((COMPONENT / "strings.json").read_text())
    source = "\n".join(p.read_text() for p in COMPONENT.glob("*.py"))
    used = set(re.findall(r'_invalid\(\s*"(\w+)"', source))
    used |= set(
        re.findall(r'translation_domain=DOMAIN,\s*translation_key="(\w+)"', source)
    )
    used |= set(re.findall(r'key, placeholders = "(\w+)"', source))
    assert used
    assert used <= set(strings["exceptions"])
