"""IP1's action: one SMS batch to every recipient."""

from collections.abc import Sequence
from typing import Any

from homeassistant.core import ServiceCall, ServiceResponse
from homeassistant.exceptions import HomeAssistantError

from ...actions import (
    ATTR_FILE,
    ATTR_JSON,
    ATTR_MESSAGE,
    ATTR_SEND_AT,
    ATTR_SENDER,
    ATTR_TO,
    SEND_MESSAGE_SCHEMA,
    TargetResult,
    clean_list,
    invalid,
    results_response,
    sms_text,
)
from ...api.ip1 import MAX_BODY_LENGTH, SENDER_RE, Ip1SentMessage, normalise_number
from ...const import CONF_DELIVERY_REPORTS, CONF_SENDER, DOMAIN
from ...provider import Action
from ...webhooks import async_entry_webhook_urls
from .coordinator import Ip1Coordinator


def _targets(values: Sequence[str]) -> list[str]:
    """Phone numbers as IP1 wants them (digits only), each once."""
    targets: list[str] = []
    for value in clean_list(values):
        number = normalise_number(value)
        if number is None:
            raise invalid("invalid_phone_number", number=value)
        targets.append(number)
    return list(dict.fromkeys(targets))


def _sender(data: dict[str, Any], options: Any) -> str:
    """The action's sender, else the entry's default; 3-11 letters or a number."""
    sender = str(data.get(ATTR_SENDER) or options.get(CONF_SENDER) or "").strip()
    if not sender:
        raise invalid("sender_required")
    if not SENDER_RE.fullmatch(sender):
        raise invalid("invalid_sender", sender=sender)
    return sender


def recipient_result(message: Ip1SentMessage) -> TargetResult:
    """A recipient's result: IP1 queues (1xx), sends (2xx) or refuses (4xx/5xx)."""
    code = message.status
    if code is not None and code >= 400:
        return TargetResult(
            message.recipient, "failed", message.id, f"IP1 status {code}"
        )
    status = "sent" if code and code >= 200 else "queued"
    return TargetResult(message.recipient, status, message.id)


async def send_message(
    call: ServiceCall, coordinator: Ip1Coordinator
) -> ServiceResponse:
    """One batch to every recipient; reports come back to the entry's webhook."""
    targets = _targets(call.data[ATTR_TO])
    if not targets:
        raise invalid("no_targets")
    text = sms_text(
        call.data, "IP1", (ATTR_JSON, ATTR_FILE, ATTR_SEND_AT), MAX_BODY_LENGTH
    )
    sender = _sender(call.data, coordinator.config_entry.options)
    batch_id, results = await send_batch(coordinator, sender, targets, text)
    return results_response(results, batch_id=batch_id)


async def send_batch(
    coordinator: Ip1Coordinator, sender: str, targets: list[str], text: str
) -> tuple[str | None, list[TargetResult]]:
    """Send one batch (with the report URL when reports are on); each recipient."""
    entry = coordinator.config_entry
    report_url = None
    if entry.options.get(CONF_DELIVERY_REPORTS):
        hass = coordinator.hass
        urls = await async_entry_webhook_urls(hass, entry, ("delivery_report",))
        if not urls:
            raise HomeAssistantError(
                translation_domain=DOMAIN, translation_key="no_webhook_url"
            )
        report_url = urls["delivery_report"]
    batch = await coordinator.client.send_batch(
        sender, targets, text, delivery_report_url=report_url
    )
    return batch.id, [recipient_result(message) for message in batch.messages]


async def notify(coordinator: Ip1Coordinator, number: str, text: str) -> TargetResult:
    """An SMS to one followed number, from the entry's sender."""
    text = sms_text({ATTR_MESSAGE: text}, "IP1", (), MAX_BODY_LENGTH)
    sender = _sender({}, coordinator.config_entry.options)
    _, [result] = await send_batch(coordinator, sender, [number], text)
    return result


ACTIONS: dict[str, Action[Ip1Coordinator]] = {
    # IP1 refuses bad fields with 400.
    "send_message": Action(
        schema=SEND_MESSAGE_SCHEMA, handler=send_message, input_statuses=(400,)
    ),
}
