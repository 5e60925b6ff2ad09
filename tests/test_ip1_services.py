"""send_message for IP1: normalised recipients, sender, length, reports, results."""

import json
from typing import Any
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.network import NoURLAvailableError
import pytest

from sandbox import Fault, Sandbox

from .conftest import IP1_PARTICIPANT, IP1_WEBHOOK_ID, SetupEntry
from .helpers import call


def batches(sandbox: Sandbox) -> list[dict[str, Any]]:
    """JSON bodies POSTed to /v2/batches."""
    return [
        json.loads(r.body)
        for r in sandbox.ip1.requests
        if r.method == "POST" and r.path.endswith("/v2/batches")
    ]


async def test_send_to_several_numbers_as_written_by_people(
    hass: HomeAssistant, sandbox: Sandbox, setup_ip1: SetupEntry
) -> None:
    """One batch, digits only, each number once; a result per recipient."""
    entry = await setup_ip1()
    response = await call(
        hass,
        "send_message",
        entry,
        to=["+46 70-123 45 67", "46709876543", "46701234567"],
        message="Your order has shipped",
    )
    assert batches(sandbox) == [
        {
            "sender": "CommHub",
            "recipients": ["46701234567", "46709876543"],
            "body": "Your order has shipped",
        }
    ]
    batch = list(sandbox.ip1.batches.values())[-1]
    assert response["batch_id"] == batch.id
    assert response["results"] == [
        {
            "to": "46701234567",
            "status": "queued",
            "id": batch.message_ids[0],
            "error": None,
        },
        {
            "to": "46709876543",
            "status": "queued",
            "id": batch.message_ids[1],
            "error": None,
        },
    ]


async def test_sender_from_the_action_overrides_the_option(
    hass: HomeAssistant, sandbox: Sandbox, setup_ip1: SetupEntry
) -> None:
    """The action's sender wins; a number is a valid sender too."""
    entry = await setup_ip1()
    await call(
        hass, "send_message", entry, to=IP1_PARTICIPANT, message="Hi", sender="Shop"
    )
    await call(
        hass,
        "send_message",
        entry,
        to=IP1_PARTICIPANT,
        message="Hi",
        sender="46700000000",
    )
    assert [b["sender"] for b in batches(sandbox)] == ["Shop", "46700000000"]


@pytest.mark.parametrize(
    ("fields", "options", "key"),
    [
        ({"to": "+46 70 12x"}, {}, "invalid_phone_number"),
        ({"to": "+1234567890123456"}, {}, "invalid_phone_number"),
        ({"to": []}, {}, "no_targets"),
        ({"message": "  "}, {}, "empty_message"),
        ({"message": "x" * 2001}, {}, "message_too_long"),
        ({}, {"sender": ""}, "sender_required"),
        ({"sender": "A very long name"}, {}, "invalid_sender"),
        ({"sender": "ab"}, {}, "invalid_sender"),
        ({"json": {"a": 1}}, {}, "field_not_supported"),
        ({"file": "/tmp/x.png"}, {}, "field_not_supported"),
        ({"send_at": "2026-12-01 10:00:00"}, {}, "field_not_supported"),
        ({"autocreate": True}, {}, "field_not_supported"),
    ],
)
async def test_bad_input_is_refused_and_nothing_is_sent(
    hass: HomeAssistant,
    sandbox: Sandbox,
    setup_ip1: SetupEntry,
    fields: dict[str, Any],
    options: dict[str, Any],
    key: str,
) -> None:
    """A translated validation error, and no request to IP1."""
    entry = await setup_ip1(**options)
    data = {"to": IP1_PARTICIPANT, "message": "Hello", **fields}
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "send_message", entry, **data)
    assert err.value.translation_key == key
    assert batches(sandbox) == []


async def test_a_2000_character_message_is_sent(
    hass: HomeAssistant, sandbox: Sandbox, setup_ip1: SetupEntry
) -> None:
    """The limit itself is allowed."""
    entry = await setup_ip1()
    await call(hass, "send_message", entry, to=IP1_PARTICIPANT, message="x" * 2000)
    assert len(batches(sandbox)[0]["body"]) == 2000


async def test_api_refusal_is_a_validation_error_with_its_message(
    hass: HomeAssistant, sandbox: Sandbox, setup_ip1: SetupEntry
) -> None:
    """IP1's 400 names the field; the user sees it."""
    entry = await setup_ip1()
    sandbox.ip1.add_fault(Fault("error", status=400, path="/v2/batches"))
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "send_message", entry, to=IP1_PARTICIPANT, message="Hi")
    assert err.value.translation_key == "rejected_fields"


async def test_outage_is_a_home_assistant_error(
    hass: HomeAssistant, sandbox: Sandbox, setup_ip1: SetupEntry
) -> None:
    """A 503 is a failure of the action, not bad input."""
    entry = await setup_ip1()
    sandbox.ip1.add_fault(Fault("error", status=503, path="/v2/batches"))
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "send_message", entry, to=IP1_PARTICIPANT, message="Hi")
    assert not isinstance(err.value, ServiceValidationError)
    assert err.value.translation_key == "service_unavailable"


async def test_revoked_key_on_send_starts_reauth(
    hass: HomeAssistant, sandbox: Sandbox, setup_ip1: SetupEntry
) -> None:
    """A 401 while sending: the action fails and reauth starts."""
    entry = await setup_ip1()
    sandbox.ip1.api_keys.clear()
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "send_message", entry, to=IP1_PARTICIPANT, message="Hi")
    assert err.value.translation_key == "auth_failed"
    flows = hass.config_entries.flow.async_progress_by_handler("commhub")
    assert [f["context"]["source"] for f in flows] == ["reauth"]


async def test_delivery_reports_ask_ip1_to_post_to_the_webhook(
    hass: HomeAssistant, sandbox: Sandbox, setup_ip1: SetupEntry
) -> None:
    """With reports on, each batch carries the entry's report URL."""
    hass.config.external_url = "https://ha.example.com"
    entry = await setup_ip1(delivery_reports=True)
    await call(hass, "send_message", entry, to=IP1_PARTICIPANT, message="Hi")
    assert batches(sandbox)[0]["deliveryReportUrl"] == (
        f"https://ha.example.com/api/webhook/{IP1_WEBHOOK_ID}?kind=delivery_report"
    )


async def test_delivery_reports_without_any_url_refuse_to_send(
    hass: HomeAssistant, sandbox: Sandbox, setup_ip1: SetupEntry
) -> None:
    """No URL IP1 could reach: say so rather than send without reports."""
    entry = await setup_ip1(delivery_reports=True)
    with (
        patch(
            "homeassistant.components.webhook.get_url",
            side_effect=NoURLAvailableError,
        ),
        pytest.raises(HomeAssistantError) as err,
    ):
        await call(hass, "send_message", entry, to=IP1_PARTICIPANT, message="Hi")
    assert err.value.translation_key == "no_webhook_url"
    assert batches(sandbox) == []


async def test_hipcall_entry_cannot_send(
    hass: HomeAssistant, setup_hipcall: SetupEntry
) -> None:
    """send_message is for Hipmob and IP1 entries only."""
    entry = await setup_hipcall()
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "send_message", entry, to=IP1_PARTICIPANT, message="Hi")
    assert err.value.translation_key == "wrong_service"
