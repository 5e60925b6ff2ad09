"""What a user sees for four fixed defects.

An IP1 entry following nobody still proves its key before it loads; the
payment-required repair comes and goes with the service's 402s; a webhook body
escaping half a UTF-16 character is refused without harm; counts have no unit.
"""

from collections.abc import Callable
import json
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT, CONF_API_KEY
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.commhub.const import DOMAIN
from sandbox import Fault, Sandbox

from .conftest import (
    HIPCALL_OWNER,
    IP1_PARTICIPANT,
    IP1_WEBHOOK_ID,
    JACK,
    MOBINITI_WEBHOOK_ID,
    SetupEntry,
    ip1_entry,
)
from .helpers import call, device_unique_id, next_poll, state_of

JANE = "+12025550101"
LEE = "+12025550105"
# The JSON text of a lone high surrogate: valid JSON, not valid Unicode text.
LONE_SURROGATE = "\\ud800"


def payment_issue(hass: HomeAssistant, entry_id: str) -> ir.IssueEntry | None:
    """The entry's `payment_required` repair issue, if it is raised."""
    return ir.async_get(hass).async_get_issue(DOMAIN, f"payment_required_{entry_id}")


def reauth_flows(hass: HomeAssistant) -> list[tuple[str, str | None]]:
    """(source, entry id) of the integration's flows in progress."""
    return [
        (flow["context"]["source"], flow["context"].get("entry_id"))
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    ]


# 1. Test before setup ---------------------------------------------------------------


async def test_ip1_following_nobody_with_a_wrong_key_does_not_load(
    hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str
) -> None:
    """No participant to read still means the key is checked: reauth, not loaded."""
    entry = ip1_entry(sandbox_url, participants=[])
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, CONF_API_KEY: "not-the-ip1-key"}
    )
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert reauth_flows(hass) == [("reauth", entry.entry_id)]
    assert sandbox.ip1.requests, "the key was never sent to IP1"


async def test_ip1_following_nobody_with_the_right_key_loads(
    hass: HomeAssistant, sandbox: Sandbox, setup_ip1: SetupEntry
) -> None:
    """The same entry with the right key loads and asks for nothing."""
    entry = await setup_ip1(participants=[])
    assert entry.state is ConfigEntryState.LOADED
    assert reauth_flows(hass) == []
    assert sandbox.ip1.requests, "the key was never sent to IP1"


# 2. The payment_required repair issue -----------------------------------------------


async def test_ip1_payment_required_poll_raises_the_repair_and_a_good_poll_clears_it(
    hass: HomeAssistant,
    sandbox: Sandbox,
    setup_ip1: SetupEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """IP1 answering 402 to a poll is a repair issue until it answers again."""
    entry = await setup_ip1()
    assert entry.state is ConfigEntryState.LOADED
    assert payment_issue(hass, entry.entry_id) is None
    sandbox.ip1.add_fault(Fault("error", status=402, count=None))
    await next_poll(hass, freezer)
    issue = payment_issue(hass, entry.entry_id)
    assert issue is not None
    assert issue.translation_key == "payment_required"
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_placeholders == {"entry": entry.title}
    sandbox.ip1.clear_faults()
    await next_poll(hass, freezer)
    assert payment_issue(hass, entry.entry_id) is None
    last_message = state_of(
        hass,
        "sensor",
        f"ip1_participant_{entry.entry_id}_{IP1_PARTICIPANT}_last_message",
    )
    assert last_message.state == "Great, see you then"


async def test_mobiniti_without_polling_an_action_raises_and_clears_the_repair(
    hass: HomeAssistant, sandbox: Sandbox, setup_mobiniti: SetupEntry
) -> None:
    """Polling off: only actions talk to Mobiniti, so they raise and clear it."""
    entry = await setup_mobiniti()
    assert entry.options["polling"] is False
    assert payment_issue(hass, entry.entry_id) is None
    sandbox.mobiniti.payment_required = True
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "send_message", entry, to=JANE, message="Hi")
    assert err.value.translation_key == "payment_required"
    issue = payment_issue(hass, entry.entry_id)
    assert issue is not None
    assert issue.translation_key == "payment_required"
    sandbox.mobiniti.payment_required = False
    response = await call(hass, "send_message", entry, to=JANE, message="Hi again")
    assert [r["status"] for r in response["results"]] == ["sent"]
    assert payment_issue(hass, entry.entry_id) is None


# 3. Unpaired surrogates in webhook bodies -------------------------------------------


def with_lone_surrogate(payload: dict[str, Any], field: str, form: str) -> bytes:
    """The payload's JSON with `field`'s text followed by an unpaired surrogate.

    `form` "escaped" writes it as JSON's escape, "raw" as the three bytes a lenient
    (surrogatepass) UTF-8 decoder reads as one. `json.dumps` would write neither.
    """
    original = payload[field]
    assert isinstance(original, str)
    before = json.dumps({field: original})[1:-1]  # '"field": "value"'
    body = json.dumps(payload)
    assert body.count(before) == 1, f"{field} is not unique in the body"
    broken = before[:-1] + LONE_SURROGATE + '"'
    text = body.replace(before, broken)
    data = (
        text.encode()
        if form == "escaped"
        else text.replace(LONE_SURROGATE, "\ud800").encode("utf-8", "surrogatepass")
    )
    # Python's own decoder takes either, and the value holds half a character.
    assert json.loads(data)[field] == original + "\ud800"
    return data


def ip1_inbound(sandbox: Sandbox) -> dict[str, Any]:
    return sandbox.ip1.add_inbound(IP1_PARTICIPANT, "Are you open today?")


def mobiniti_inbound(sandbox: Sandbox) -> dict[str, Any]:
    sandbox.mobiniti.add_inbound(LEE, "Do you have size 9?")
    return sandbox.mobiniti.webhook_payload("inbound_message")


def mobiniti_unsubscribe(sandbox: Sandbox) -> dict[str, Any]:
    return sandbox.mobiniti.unsubscribe_contact(JANE)


@pytest.mark.parametrize(
    ("service", "kind", "make", "field"),
    [
        ("ip1", "inbound_message", ip1_inbound, "id"),
        ("mobiniti", "inbound_message", mobiniti_inbound, "message"),
        ("mobiniti", "inbound_message", mobiniti_inbound, "phone_number"),
        ("mobiniti", "inbound_message", mobiniti_inbound, "id"),
        ("mobiniti", "unsubscribe", mobiniti_unsubscribe, "id"),
        ("mobiniti", "unsubscribe", mobiniti_unsubscribe, "phone_number"),
    ],
)
@pytest.mark.parametrize("form", ["escaped", "raw"])
async def test_a_lone_surrogate_is_refused_and_harms_nothing(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    sandbox: Sandbox,
    setup_ip1: SetupEntry,
    setup_mobiniti: SetupEntry,
    service: str,
    kind: str,
    make: Callable[[Sandbox], dict[str, Any]],
    field: str,
    form: str,
) -> None:
    """400 and no event; the ordinary delivery then fires once, also after a reload."""
    if service == "ip1":
        entry, webhook_id = await setup_ip1(), IP1_WEBHOOK_ID
    else:
        entry, webhook_id = await setup_mobiniti(), MOBINITI_WEBHOOK_ID
    events = async_capture_events(hass, f"commhub_{kind}")
    payload = make(sandbox)
    url = f"/api/webhook/{webhook_id}?kind={kind}"
    headers = {"Content-Type": "application/json"}

    client = await hass_client_no_auth()
    response = await client.post(
        url, data=with_lone_surrogate(payload, field, form), headers=headers
    )
    await hass.async_block_till_done()
    assert response.status == 400
    assert events == []

    response = await client.post(url, data=json.dumps(payload), headers=headers)
    await hass.async_block_till_done()
    assert response.status == 200
    assert len(events) == 1

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    client = await hass_client_no_auth()
    response = await client.post(url, data=json.dumps(payload), headers=headers)
    await hass.async_block_till_done()
    assert response.status == 200
    assert len(events) == 1


# 4. Counts have no unit -------------------------------------------------------------


def assert_unitless_count(
    hass: HomeAssistant, unique_id: str, state_class: str
) -> None:
    """A count: no unit (state nor registry) and the given state class."""
    state = state_of(hass, "sensor", unique_id)
    assert ATTR_UNIT_OF_MEASUREMENT not in state.attributes, state.attributes
    assert state.attributes.get("state_class") == state_class
    assert state.state.isdigit(), state.state
    registered = er.async_get(hass).async_get(state.entity_id)
    assert registered is not None
    assert registered.unit_of_measurement is None


async def test_hipcall_missed_calls_today_has_no_unit(
    hass: HomeAssistant, setup_hipcall: SetupEntry
) -> None:
    """A daily count that resets at midnight: total_increasing, unitless."""
    await setup_hipcall()
    assert_unitless_count(
        hass, f"hipcall_{HIPCALL_OWNER}_missed_calls_today", "total_increasing"
    )


async def test_mobiniti_unsubscribes_today_has_no_unit(
    hass: HomeAssistant, setup_mobiniti: SetupEntry
) -> None:
    """A daily count that resets at midnight: total_increasing, unitless."""
    entry = await setup_mobiniti()
    assert_unitless_count(
        hass, f"mobiniti_{entry.entry_id}_unsubscribes_today", "total_increasing"
    )


async def test_hipmob_pending_messages_has_no_unit(
    hass: HomeAssistant, setup_hipmob: SetupEntry
) -> None:
    """A queue length goes up and down: measurement, unitless."""
    await setup_hipmob()
    assert_unitless_count(
        hass, device_unique_id(JACK, "pending_messages"), "measurement"
    )
