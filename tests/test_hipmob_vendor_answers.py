"""Hipmob as its vendor's code sees it, through Home Assistant: outcome texts without
a body, a deleted app, and the own-status refusal as 400 or 401."""

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
import pytest

from custom_components.commhub.const import DOMAIN
from sandbox import Sandbox
from sandbox.hipmob import Account

from .conftest import API_KEY, APP, FRIEND_1, FRIEND_2, JACK, SetupEntry
from .helpers import call, device_unique_id, next_poll, state_of, user_unique_id


@pytest.fixture(params=[False, True], ids=["body", "empty_body"])
def empty_body(request: pytest.FixtureRequest, sandbox: Sandbox) -> bool:
    """Hipmob's outcome texts with a body, and (as it may answer) without one."""
    sandbox.hipmob.empty_body = request.param
    return bool(request.param)


def our_issues(hass: HomeAssistant) -> dict[str, ir.IssueEntry]:
    """CommHub's repair issues by id."""
    return {
        issue_id: issue
        for (domain, issue_id), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN
    }


def entity_states(hass: HomeAssistant) -> dict[str, str]:
    """The state of each tracked device's and watched user's entity."""
    entities = {
        ("binary_sensor", device_unique_id(JACK, "online")),
        ("sensor", device_unique_id(FRIEND_1, "pending_messages")),
        ("sensor", user_unique_id("tolu", "availability")),
        ("select", user_unique_id("femi", "availability_select")),
    }
    return {uid: state_of(hass, platform, uid).state for platform, uid in entities}


# -- outcome texts in the header and the status line -------------------------------


async def test_set_friends_counts_in_every_variant(
    hass: HomeAssistant, sandbox: Sandbox, setup_hipmob: SetupEntry, empty_body: bool
) -> None:
    """The counts are the friends Hipmob reports, with or without a body."""
    entry = await setup_hipmob()

    async def set_friends(mode: str, *friends: str) -> object:
        data = {"friends": list(friends)} if friends else {}
        response = await call(
            hass, "set_friends", entry, device=JACK, mode=mode, **data
        )
        return response["count"]

    assert await set_friends("add", FRIEND_1, "new-1", "new-2") == 2
    assert await set_friends("add", FRIEND_1) == 0
    assert await set_friends("remove", "new-1", "nobody") == 1
    assert await set_friends("replace", "a", "b", "c") == 3
    assert await set_friends("clear") == 3
    assert await set_friends("clear") == 0
    assert sandbox.hipmob.device(APP, JACK).friends == []


async def test_send_message_in_every_variant(
    hass: HomeAssistant, setup_hipmob: SetupEntry, empty_body: bool
) -> None:
    """Sent and refused targets, with Hipmob's reason, with or without a body."""
    entry = await setup_hipmob()
    response = await call(
        hass, "send_message", entry, to=[JACK, FRIEND_2], message="Closing at 6"
    )
    assert [r["status"] for r in response["results"]] == ["sent", "sent"]
    response = await call(hass, "send_message", entry, to=[JACK, "ghost"], message="x")
    results = {r["to"]: (r["status"], r["error"]) for r in response["results"]}
    assert results == {JACK: ("sent", None), "ghost": ("failed", "Device not found.")}


# -- a deleted app: one issue for the entry ------------------------------------------


async def test_deleted_app_is_one_issue_for_the_entry(
    hass: HomeAssistant,
    sandbox: Sandbox,
    setup_hipmob: SetupEntry,
    freezer: FrozenDateTimeFactory,
    empty_body: bool,
) -> None:
    """Not one "never connected" issue per device; cleared when the app answers."""
    entry = await setup_hipmob(devices=[JACK, FRIEND_1, "never-seen"])
    device_issue = f"device_not_found_{entry.entry_id}_never-seen"
    app_issue = f"app_not_found_{entry.entry_id}"
    assert set(our_issues(hass)) == {device_issue}

    app = sandbox.hipmob.apps.pop(APP)
    await next_poll(hass, freezer)
    issues = our_issues(hass)
    assert set(issues) == {app_issue}
    issue = issues[app_issue]
    assert issue.translation_key == "app_not_found"
    assert issue.translation_placeholders == {"entry": entry.title}
    assert issue.severity is ir.IssueSeverity.ERROR
    assert not issue.is_fixable
    assert set(entity_states(hass).values()) == {STATE_UNAVAILABLE}

    sandbox.hipmob.apps[APP] = app
    await next_poll(hass, freezer)
    assert set(our_issues(hass)) == {device_issue}
    states = entity_states(hass)
    assert STATE_UNAVAILABLE not in states.values()
    assert states[device_unique_id(JACK, "online")] == STATE_ON


async def test_deleted_app_at_setup(
    hass: HomeAssistant, sandbox: Sandbox, setup_hipmob: SetupEntry, empty_body: bool
) -> None:
    """Set up while the app is gone: retried later, with the one issue."""
    app = sandbox.hipmob.apps.pop(APP)
    entry = await setup_hipmob(devices=[JACK, "never-seen"])
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert set(our_issues(hass)) == {f"app_not_found_{entry.entry_id}"}

    sandbox.hipmob.apps[APP] = app
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert set(our_issues(hass)) == {f"device_not_found_{entry.entry_id}_never-seen"}


async def test_app_of_another_account_is_the_same_issue(
    hass: HomeAssistant,
    sandbox: Sandbox,
    setup_hipmob: SetupEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An app moved to another account is not found for this one either."""
    entry = await setup_hipmob(devices=[JACK])
    sandbox.hipmob.add_app("ade", APP, "Hipmob Testing")
    await next_poll(hass, freezer)
    assert set(our_issues(hass)) == {f"app_not_found_{entry.entry_id}"}


async def test_removing_the_entry_drops_the_app_issue(
    hass: HomeAssistant, sandbox: Sandbox, setup_hipmob: SetupEntry
) -> None:
    """No orphaned issue once the entry is deleted."""
    del sandbox.hipmob.apps[APP]
    entry = await setup_hipmob(devices=[JACK])
    assert set(our_issues(hass)) == {f"app_not_found_{entry.entry_id}"}
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert our_issues(hass) == {}


# -- "You can only change your own status.": 401 or 400, never reauth -----------------


@pytest.mark.parametrize("refusal", [401, 400])
async def test_own_status_refusal_is_not_reauth(
    hass: HomeAssistant,
    sandbox: Sandbox,
    setup_hipmob: SetupEntry,
    empty_body: bool,
    refusal: int,
) -> None:
    """The select reports a permission error; the key stays trusted."""
    await setup_hipmob()
    sandbox.hipmob.own_status_refusal = refusal
    # The key now signs in as another user, so `femi` is someone else's status.
    sandbox.hipmob.accounts["femi"] = Account("ade", API_KEY)
    select = state_of(hass, "select", user_unique_id("femi", "availability_select"))
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "select",
            "select_option",
            {"entity_id": select.entity_id, "option": "hours"},
            blocking=True,
        )
    assert err.value.translation_key == "permission_denied"
    assert err.value.translation_placeholders == {
        "error": "You can only change your own status."
    }
    assert hass.config_entries.flow.async_progress_by_handler(DOMAIN) == []
    assert hass.states.get(select.entity_id).state == "online"
