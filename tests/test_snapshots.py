"""Snapshots of each provider's entities and diagnostics.

Stability: the clock is frozen before the sandbox seeds its data and before the
entry is set up, the entry gets a fixed id (some unique ids are built from it),
and the sandbox's URL (its port changes every run) is replaced by a placeholder.
Update with `pytest tests/test_snapshots.py --snapshot-update`.
"""

from collections.abc import Callable, Generator
import dataclasses
import json
from types import SimpleNamespace
from unittest.mock import PropertyMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    snapshot_platform,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.syrupy import (
    HomeAssistantSnapshotExtension,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props
from syrupy.types import PropertyPath, SerializableData

from custom_components.commhub.providers import PROVIDERS

from .conftest import (
    API_KEY,
    HIPCALL_TOKEN,
    HIPCALL_WEBHOOK_ID,
    IP1_KEY,
    IP1_WEBHOOK_ID,
    MOBINITI_TOKEN,
    MOBINITI_WEBHOOK_ID,
    SetupEntry,
)

NOW = "2026-12-05T12:00:00+00:00"
# The entry's id: IP1's and Mobiniti's unique ids contain it.
ENTRY_ID = "01KBSNAPSHOTENTRY000000000"
SANDBOX = "http://sandbox.invalid"
SECRETS = (
    API_KEY,
    HIPCALL_TOKEN,
    HIPCALL_WEBHOOK_ID,
    IP1_KEY,
    MOBINITI_TOKEN,
    IP1_WEBHOOK_ID,
    MOBINITI_WEBHOOK_ID,
    HIPCALL_WEBHOOK_ID,
)

# Hipcall's entries on the current API (v3) have entities of their own.
SETUPS = [*PROVIDERS, "hipcall_v3"]
# The presence select exists on the current API only.
ONLY_V3 = {("hipcall", Platform.SELECT)}
ENTITY_CASES = [
    pytest.param(key, platform, id=f"{key}-{platform}")
    for key in SETUPS
    for platform in PROVIDERS[key.removesuffix("_v3")].platforms
    if (key, platform) not in ONLY_V3
]


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots with Home Assistant's extension (as its plugin's `snapshot`).

    The plugin's fixture of that name loses to syrupy's own, which has no idea
    of states and registry entries (it would store their reprs, ids and times
    included) and keeps its files in `__snapshots__`, not `snapshots`.
    """
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Entities disabled by default are enabled (as Home Assistant core's fixture)."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
        new_callable=PropertyMock,
    ):
        yield


@pytest.fixture
def fixed_entry_id() -> Generator[None]:
    """Config entries made by `MockConfigEntry` get `ENTRY_ID`."""
    with patch(
        "pytest_homeassistant_custom_component.common.ulid_util",
        SimpleNamespace(ulid_now=lambda: ENTRY_ID),
    ):
        yield


def without_sandbox_url(sandbox_url: str) -> Callable[..., SerializableData]:
    """A syrupy matcher: the sandbox's URL (a new port each run) as `SANDBOX`."""

    def matcher(data: SerializableData, path: PropertyPath) -> SerializableData:
        if isinstance(data, str) and sandbox_url in data:
            return data.replace(sandbox_url, SANDBOX)
        return data

    return matcher


@pytest.fixture
def frozen_clock(freezer: FrozenDateTimeFactory) -> FrozenDateTimeFactory:
    """The clock stopped at `NOW` (before the sandbox seeds its data)."""
    freezer.move_to(NOW)
    return freezer


@pytest.fixture
def setup_entry(
    request: pytest.FixtureRequest, frozen_clock: FrozenDateTimeFactory, key: str
) -> SetupEntry:
    """The provider's setup fixture, requested once the clock is frozen."""
    setup: SetupEntry = request.getfixturevalue(f"setup_{key}")
    return setup


@pytest.fixture
def only_platform(key: str, platform: Platform) -> Generator[None]:
    """The provider's entities of `platform` only (`snapshot_platform` takes one)."""
    provider = PROVIDERS[key.removesuffix("_v3")]
    one_platform = dataclasses.replace(
        provider, entities={platform: provider.entities[platform]}
    )
    with patch.dict(PROVIDERS, {provider.key: one_platform}):
        yield


@pytest.mark.usefixtures(
    "frozen_clock",
    "entity_registry_enabled_by_default",
    "fixed_entry_id",
    "only_platform",
)
@pytest.mark.parametrize(("key", "platform"), ENTITY_CASES)
async def test_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    setup_entry: SetupEntry,
    sandbox_url: str,
) -> None:
    """Every entity of the platform (those disabled by default too) and its state."""
    entry = await setup_entry()
    assert entry.entry_id == ENTRY_ID
    await snapshot_platform(
        hass,
        entity_registry,
        snapshot.with_defaults(matcher=without_sandbox_url(sandbox_url)),
        entry.entry_id,
    )


@pytest.mark.usefixtures("frozen_clock", "fixed_entry_id")
@pytest.mark.parametrize("key", SETUPS)
async def test_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    snapshot: SnapshotAssertion,
    setup_entry: SetupEntry,
    sandbox_url: str,
) -> None:
    """The entry's diagnostics, and no secret anywhere in them."""
    hass.config.external_url = "https://ha.example.com"
    entry = await setup_entry()
    assert entry.entry_id == ENTRY_ID
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    text = json.dumps(diagnostics)
    for secret in SECRETS:
        assert secret not in text
    assert diagnostics == snapshot(
        exclude=props("created_at", "modified_at", "entry_id"),
        matcher=without_sandbox_url(sandbox_url),
    )
