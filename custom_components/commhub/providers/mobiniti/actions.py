"""Mobiniti's actions: send (now or scheduled), unsubscribe, look up carriers."""

from collections.abc import Sequence
from typing import cast

from homeassistant.const import ATTR_CONFIG_ENTRY_ID
from homeassistant.core import ServiceCall, ServiceResponse
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
from homeassistant.util.json import JsonValueType
import voluptuous as vol

from ...actions import (
    ATTR_FILE,
    ATTR_JSON,
    ATTR_SEND_AT,
    ATTR_SENDER,
    ATTR_TO,
    SEND_MESSAGE_SCHEMA,
    TargetResult,
    clean_list,
    invalid,
    results_response,
    send_each,
    sms_text,
)
from ...api import CommHubApiError, CommHubRequestError
from ...api.mobiniti import MAX_BATCH, MobinitiClient, is_e164
from ...provider import Action
from .coordinator import MobinitiCoordinator

ATTR_PHONE_NUMBERS = "phone_numbers"
PHONE_NUMBERS_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_PHONE_NUMBERS): vol.All(cv.ensure_list, [cv.string]),
    }
)


def _e164(values: Sequence[str]) -> list[str]:
    """Phone numbers in E.164 (`+` and digits), each once; anything else refused."""
    numbers = clean_list(values)
    if not numbers:
        raise invalid("no_targets")
    for number in numbers:
        if not is_e164(number):
            raise invalid("not_e164", number=number)
    return numbers


async def _send_now(
    client: MobinitiClient, numbers: list[str], text: str
) -> list[TargetResult]:
    """Sent at once: a batch per 100 numbers; a refused batch number by number."""

    async def single(number: str) -> str | None:
        return (await client.send_message(number, text)).id

    if len(numbers) == 1:
        return await send_each(numbers, single, "sent")
    results: list[TargetResult] = []
    for start in range(0, len(numbers), MAX_BATCH):
        chunk = numbers[start : start + MAX_BATCH]
        try:
            sent = await client.send_batch(chunk, text)
        except CommHubRequestError:
            # One refused number fails the batch: find out which, one by one.
            results.extend(await send_each(chunk, single, "sent"))
        except CommHubApiError as err:
            # Unreachable for this batch: its numbers failed, earlier ones stay sent.
            results.extend(TargetResult.failed(number, err) for number in chunk)
        else:
            ids = [message.id for message in sent]
            results.extend(
                TargetResult(number, "sent", ids[i] if i < len(ids) else None)
                for i, number in enumerate(chunk)
            )
    return results


async def send_message(
    call: ServiceCall, coordinator: MobinitiCoordinator
) -> ServiceResponse:
    """One number → /v1/message, several → the batch, send_at → scheduled."""
    numbers = _e164(call.data[ATTR_TO])
    text = sms_text(call.data, "Mobiniti", (ATTR_JSON, ATTR_FILE, ATTR_SENDER))
    client = coordinator.client
    if ATTR_SEND_AT not in call.data:
        return results_response(await _send_now(client, numbers, text))
    send_at = dt_util.as_utc(call.data[ATTR_SEND_AT])
    if send_at <= dt_util.utcnow():
        raise invalid("send_at_in_past")

    async def schedule(number: str) -> str | None:
        return (await client.schedule_message(number, text, send_at)).id

    return results_response(await send_each(numbers, schedule, "scheduled"))


async def unsubscribe(
    call: ServiceCall, coordinator: MobinitiCoordinator
) -> ServiceResponse:
    """Unsubscribe numbers (in chunks of 100)."""
    numbers = _e164(call.data[ATTR_PHONE_NUMBERS])
    return {"unsubscribed": await coordinator.client.unsubscribe(numbers)}


async def lookup_carrier(
    call: ServiceCall, coordinator: MobinitiCoordinator
) -> ServiceResponse:
    """Carrier and line type of numbers (in chunks of 10)."""
    numbers = _e164(call.data[ATTR_PHONE_NUMBERS])
    results = await coordinator.client.lookup_carriers(numbers)
    return {"results": cast(list[JsonValueType], results)}


ACTIONS: dict[str, Action[MobinitiCoordinator]] = {
    "send_message": Action(schema=SEND_MESSAGE_SCHEMA, handler=send_message),
    "unsubscribe": Action(schema=PHONE_NUMBERS_SCHEMA, handler=unsubscribe),
    "lookup_carrier": Action(schema=PHONE_NUMBERS_SCHEMA, handler=lookup_carrier),
}
