"""Mobiniti actions: send (one, batch, scheduled), unsubscribe, lookup_carrier."""

import asyncio
from datetime import timedelta
import json
import time
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest

from custom_components.commhub.const import DOMAIN
from sandbox import Fault, Sandbox

from .conftest import SetupEntry
from .helpers import call

JANE = "+12025550101"
JOHN = "+12025550102"
UNSUBSCRIBED = "+12025550103"
LEE = "+12025550105"


def bodies(sandbox: Sandbox, method: str, path: str) -> list[Any]:
    """JSON bodies sent to a Mobiniti path."""
    return [
        json.loads(r.body)
        for r in sandbox.mobiniti.requests
        if r.method == method and r.path == path
    ]


async def test_one_number_is_a_single_message(
    hass: HomeAssistant, sandbox: Sandbox, setup_mobiniti: SetupEntry
) -> None:
    """POST /v1/message with the number and text; its id in the result."""
    entry = await setup_mobiniti()
    response = await call(hass, "send_message", entry, to=JANE, message="Hi Jane")
    assert bodies(sandbox, "POST", "/v1/message") == [
        {"phone_number": JANE, "message": "Hi Jane"}
    ]
    [result] = response["results"]
    assert result["to"] == JANE
    assert result["status"] == "sent"
    assert result["id"] in sandbox.mobiniti.messages


async def test_several_numbers_are_one_batch(
    hass: HomeAssistant, sandbox: Sandbox, setup_mobiniti: SetupEntry
) -> None:
    """POST /v1/message/batch; a result per number."""
    entry = await setup_mobiniti()
    response = await call(hass, "send_message", entry, to=[JANE, LEE], message="Sale")
    assert bodies(sandbox, "POST", "/v1/message/batch") == [
        {"phone_numbers": [JANE, LEE], "message": "Sale"}
    ]
    assert [(r["to"], r["status"]) for r in response["results"]] == [
        (JANE, "sent"),
        (LEE, "sent"),
    ]
    assert all(r["id"] in sandbox.mobiniti.messages for r in response["results"])


async def test_a_refused_number_fails_alone(
    hass: HomeAssistant, sandbox: Sandbox, setup_mobiniti: SetupEntry
) -> None:
    """An unsubscribed contact refuses the batch: each number is then tried alone."""
    entry = await setup_mobiniti()
    response = await call(
        hass, "send_message", entry, to=[JANE, UNSUBSCRIBED], message="Sale"
    )
    results = {r["to"]: r for r in response["results"]}
    assert results[JANE]["status"] == "sent"
    assert results[UNSUBSCRIBED]["status"] == "failed"
    assert "unsubscribed" in results[UNSUBSCRIBED]["error"]


async def test_every_number_refused_raises(
    hass: HomeAssistant, setup_mobiniti: SetupEntry
) -> None:
    """Only when no number got the message does the action fail."""
    entry = await setup_mobiniti()
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "send_message", entry, to=UNSUBSCRIBED, message="Sale")
    assert err.value.translation_key == "send_failed"
    assert "unsubscribed" in str(err.value.translation_placeholders)


async def test_send_at_schedules_a_message_per_number(
    hass: HomeAssistant, sandbox: Sandbox, setup_mobiniti: SetupEntry
) -> None:
    """send_at → POST /v1/message/schedule with phone_number, message, send_at."""
    entry = await setup_mobiniti()
    send_at = dt_util.utcnow().replace(microsecond=0) + timedelta(hours=2)
    response = await call(
        hass,
        "send_message",
        entry,
        to=[JANE, JOHN],
        message="Tomorrow only",
        send_at=send_at.isoformat(),
    )
    sent = bodies(sandbox, "POST", "/v1/message/schedule")
    assert [b["phone_number"] for b in sent] == [JANE, JOHN]
    assert {b["message"] for b in sent} == {"Tomorrow only"}
    assert {b["send_at"] for b in sent} == {send_at.strftime("%Y-%m-%dT%H:%M:%S.000Z")}
    assert [r["status"] for r in response["results"]] == ["scheduled", "scheduled"]
    assert all(r["id"] for r in response["results"])


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"to": "2025550101"}, "not_e164"),
        ({"to": ["+12025550101", "+1 202 555 0102"]}, "not_e164"),
        ({"to": []}, "no_targets"),
        ({"message": " "}, "empty_message"),
        ({"sender": "Shop"}, "field_not_supported"),
        ({"json": {"a": 1}}, "field_not_supported"),
        ({"autocreate": True}, "field_not_supported"),
        ({"send_at": "2020-01-01T00:00:00+00:00"}, "send_at_in_past"),
    ],
)
async def test_bad_input_sends_nothing(
    hass: HomeAssistant,
    sandbox: Sandbox,
    setup_mobiniti: SetupEntry,
    fields: dict[str, Any],
    key: str,
) -> None:
    """A translated validation error before any request."""
    entry = await setup_mobiniti()
    sandbox.mobiniti.requests.clear()
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass, "send_message", entry, **{"to": JANE, "message": "Hi", **fields}
        )
    assert err.value.translation_key == key
    assert sandbox.mobiniti.requests == []


async def test_payment_required_is_a_translated_error_and_a_repair(
    hass: HomeAssistant, sandbox: Sandbox, setup_mobiniti: SetupEntry
) -> None:
    """402: the account must pay for messages."""
    entry = await setup_mobiniti()
    sandbox.mobiniti.payment_required = True
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "send_message", entry, to=JANE, message="Hi")
    assert err.value.translation_key == "payment_required"
    assert ir.async_get(hass).async_get_issue(
        DOMAIN, f"payment_required_{entry.entry_id}"
    )


async def test_rate_limited_send_is_a_home_assistant_error(
    hass: HomeAssistant, sandbox: Sandbox, setup_mobiniti: SetupEntry
) -> None:
    """A 429 from Mobiniti (another client using the budget) fails the call."""
    entry = await setup_mobiniti()
    sandbox.mobiniti.add_fault(Fault("rate_limit", retry_after=30))
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "send_message", entry, to=JANE, message="Hi")
    assert err.value.translation_key == "rate_limited"


async def test_tight_loop_is_queued_at_one_per_second_per_route(
    hass: HomeAssistant, sandbox: Sandbox, setup_mobiniti: SetupEntry
) -> None:
    """An automation calling in a loop: every message sent, no 429, spaced out."""
    entry = await setup_mobiniti()
    interval = 0.05
    sandbox.mobiniti.rate_limit_enabled = True
    sandbox.mobiniti.per_route_interval = interval
    entry.runtime_data.client.throttle.interval = interval
    sandbox.mobiniti.requests.clear()
    started = time.monotonic()
    responses = await asyncio.gather(
        *(call(hass, "send_message", entry, to=JANE, message=f"#{i}") for i in range(8))
    )
    elapsed = time.monotonic() - started
    assert [r["results"][0]["status"] for r in responses] == ["sent"] * 8
    assert sorted(b["message"] for b in bodies(sandbox, "POST", "/v1/message")) == [
        f"#{i}" for i in range(8)
    ]
    assert elapsed >= 7 * interval


async def test_unsubscribe_in_chunks_of_100(
    hass: HomeAssistant, sandbox: Sandbox, setup_mobiniti: SetupEntry
) -> None:
    """250 numbers: three PATCHes; the response counts who was unsubscribed."""
    entry = await setup_mobiniti()
    numbers = [JANE, JOHN, *(f"+1303555{i:04d}" for i in range(248))]
    response = await call(hass, "unsubscribe", entry, phone_numbers=numbers)
    sent = bodies(sandbox, "PATCH", "/v1/contacts/unsubscribe")
    assert [len(b["phone_numbers"]) for b in sent] == [100, 100, 50]
    assert [n for b in sent for n in b["phone_numbers"]] == numbers
    assert response == {"unsubscribed": 2}


async def test_lookup_in_chunks_of_10(
    hass: HomeAssistant, sandbox: Sandbox, setup_mobiniti: SetupEntry
) -> None:
    """25 numbers: three lookups; results in the order asked."""
    entry = await setup_mobiniti()
    numbers = [f"+1303555{i:04d}" for i in range(25)]
    response = await call(hass, "lookup_carrier", entry, phone_numbers=numbers)
    sent = bodies(sandbox, "POST", "/v1/phone-numbers/lookup")
    assert [len(b["phone_numbers"]) for b in sent] == [10, 10, 5]
    assert [r["phone_number"] for r in response["results"]] == numbers
    assert all(r["carrier"]["name"] for r in response["results"])


@pytest.mark.parametrize("action", ["unsubscribe", "lookup_carrier"])
async def test_numbers_must_be_e164(
    hass: HomeAssistant, sandbox: Sandbox, setup_mobiniti: SetupEntry, action: str
) -> None:
    """One bad number refuses the whole call before anything is sent."""
    entry = await setup_mobiniti()
    sandbox.mobiniti.requests.clear()
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, action, entry, phone_numbers=[JANE, "555-0101"])
    assert err.value.translation_key == "not_e164"
    assert sandbox.mobiniti.requests == []


async def test_validation_from_mobiniti_surfaces_its_fields(
    hass: HomeAssistant, sandbox: Sandbox, setup_mobiniti: SetupEntry
) -> None:
    """A 422 on an action is a validation error quoting Mobiniti's messages."""
    entry = await setup_mobiniti()
    numbers = [f"+1303555{i:04d}" for i in range(11)]
    sandbox.mobiniti.add_fault(Fault("error", status=422, path="lookup"))
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "lookup_carrier", entry, phone_numbers=numbers)
    assert err.value.translation_key == "rejected_fields"


async def test_actions_need_a_mobiniti_entry(
    hass: HomeAssistant, setup_hipcall: SetupEntry
) -> None:
    """unsubscribe on a Hipcall entry is refused."""
    entry = await setup_hipcall()
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "unsubscribe", entry, phone_numbers=[JANE])
    assert err.value.translation_key == "wrong_service"
