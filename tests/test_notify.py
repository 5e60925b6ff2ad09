"""Notify entities: `notify.send_message` to a Hipmob device or an IP1 number.

They send through the same code as `commhub.send_message`; a failure is a
translated error.
"""

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
import pytest

from custom_components.commhub.const import DOMAIN
from sandbox import Fault, Sandbox

from .conftest import APP, IP1_NAME, IP1_PARTICIPANT, JACK, SetupEntry
from .helpers import device_unique_id


def notify_entity(hass: HomeAssistant, unique_id: str) -> str:
    """The entity id of the notify entity with this unique id."""
    entity_id = er.async_get(hass).async_get_entity_id("notify", DOMAIN, unique_id)
    assert entity_id, f"no notify entity {unique_id}"
    return entity_id


async def send(hass: HomeAssistant, entity_id: str, **data: str) -> None:
    """Home Assistant's own way to send a text."""
    await hass.services.async_call(
        "notify", "send_message", {"entity_id": entity_id, **data}, blocking=True
    )


async def test_a_hipmob_device_gets_the_text_with_its_title(
    hass: HomeAssistant, sandbox: Sandbox, setup_hipmob: SetupEntry
) -> None:
    """The title, when given, is the text's first line."""
    await setup_hipmob()
    entity_id = notify_entity(hass, device_unique_id(JACK, "message"))
    await send(hass, entity_id, message="Door open", title="Shop")
    texts = [m.body for m in sandbox.hipmob.device(APP, JACK).messages]
    assert texts[-1] == b"Shop\nDoor open"
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.state != "unknown"  # the time of the last message


async def test_a_refused_hipmob_device_is_a_translated_error(
    hass: HomeAssistant, sandbox: Sandbox, setup_hipmob: SetupEntry
) -> None:
    """Hipmob refusing the device: the message was not sent, and it says so."""
    await setup_hipmob()
    entity_id = notify_entity(hass, device_unique_id(JACK, "message"))
    sandbox.hipmob.add_fault(Fault("error", status=404, method="POST"))
    with pytest.raises(HomeAssistantError) as err:
        await send(hass, entity_id, message="Door open")
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "send_failed"


async def test_an_ip1_number_gets_an_sms_from_the_entry_sender(
    hass: HomeAssistant, sandbox: Sandbox, setup_ip1: SetupEntry
) -> None:
    """One SMS to the followed number, from the sender in the options."""
    entry = await setup_ip1()
    entity_id = notify_entity(
        hass, f"ip1_participant_{entry.entry_id}_{IP1_PARTICIPANT}_message"
    )
    before = set(sandbox.ip1.messages)
    await send(hass, entity_id, message="Your order is ready")
    [new] = [m for key, m in sandbox.ip1.messages.items() if key not in before]
    assert (new.sender, new.recipient, new.body) == (
        "CommHub",
        IP1_PARTICIPANT,
        "Your order is ready",
    )


async def test_a_sender_name_has_no_notify_entity(
    hass: HomeAssistant, setup_ip1: SetupEntry
) -> None:
    """A name can send to the account, but an SMS goes to numbers only."""
    entry = await setup_ip1()
    unique_id = f"ip1_participant_{entry.entry_id}_{IP1_NAME}_message"
    assert er.async_get(hass).async_get_entity_id("notify", DOMAIN, unique_id) is None


async def test_without_a_sender_the_ip1_notify_says_so(
    hass: HomeAssistant, sandbox: Sandbox, setup_ip1: SetupEntry
) -> None:
    """No default sender in the options: a translated validation error, no SMS."""
    entry = await setup_ip1(sender="")
    entity_id = notify_entity(
        hass, f"ip1_participant_{entry.entry_id}_{IP1_PARTICIPANT}_message"
    )
    before = len(sandbox.ip1.messages)
    with pytest.raises(ServiceValidationError) as err:
        await send(hass, entity_id, message="Hello")
    assert err.value.translation_key == "sender_required"
    assert len(sandbox.ip1.messages) == before


async def test_an_empty_text_is_refused(
    hass: HomeAssistant, setup_hipmob: SetupEntry
) -> None:
    """Nothing to send: a validation error before any request."""
    await setup_hipmob()
    entity_id = notify_entity(hass, device_unique_id(JACK, "message"))
    with pytest.raises(ServiceValidationError) as err:
        await send(hass, entity_id, message="   ")
    assert err.value.translation_key == "empty_message"
