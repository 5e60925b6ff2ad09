"""Actions: send messages (Hipmob, IP1), Hipmob friend lists, Hipcall tasks and comments."""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
import mimetypes
from pathlib import Path
from typing import Any, cast

from homeassistant.const import ATTR_CONFIG_ENTRY_ID
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv, service
from homeassistant.helpers.json import json_dumps
from homeassistant.util import dt as dt_util
from homeassistant.util.json import JsonValueType
import voluptuous as vol

from .api import CommHubApiError, CommHubRequestError
from .api.hipmob import AUDIO_TYPE, BINARY_TYPE, JSON_TYPE
from .api.ip1 import MAX_BODY_LENGTH, SENDER_RE, Ip1SentMessage, normalise_number
from .api.mobiniti import MAX_BATCH as MOBINITI_MAX_BATCH, MobinitiClient, is_e164
from .const import (
    CONF_DELIVERY_REPORTS,
    CONF_SENDER,
    CONF_SERVICE,
    DOMAIN,
    SERVICE_HIPCALL,
    SERVICE_HIPMOB,
    SERVICE_IP1,
    SERVICE_MOBINITI,
)
from .coordinator import HipmobConfigEntry, HipmobCoordinator
from .data import CommHubConfigEntry
from .errors import action_failed
from .hipcall_coordinator import HipcallConfigEntry, HipcallCoordinator
from .ip1_coordinator import Ip1ConfigEntry
from .mobiniti_coordinator import MobinitiConfigEntry
from .webhooks import async_entry_webhook_urls

SERVICE_SEND_MESSAGE = "send_message"
SERVICE_SET_FRIENDS = "set_friends"
SERVICE_CREATE_TASK = "create_task"
SERVICE_ADD_COMMENT = "add_comment"
SERVICE_UNSUBSCRIBE = "unsubscribe"
SERVICE_LOOKUP_CARRIER = "lookup_carrier"

ATTR_TO = "to"
ATTR_MESSAGE = "message"
ATTR_JSON = "json"
ATTR_FILE = "file"
ATTR_AUTOCREATE = "autocreate"
ATTR_SEND_AT = "send_at"
ATTR_SENDER = "sender"
ATTR_DEVICE = "device"
ATTR_MODE = "mode"
ATTR_FRIENDS = "friends"
ATTR_PHONE_NUMBERS = "phone_numbers"

FRIEND_MODES = ("add", "remove", "replace", "clear")
TASK_PRIORITIES = ("low", "medium", "high")
COMMENTABLE_TYPES = ("company", "contact", "deal")
# The format of the seed's task example ("20220612 12:12:12").
HIPCALL_DUE_DATE_FORMAT = "%Y%m%d %H:%M:%S"
# Hipmob queues whole messages in memory; anything larger is not a chat message.
MAX_FILE_BYTES = 10 * 1024 * 1024
FILE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".mp3": AUDIO_TYPE,
}

SEND_MESSAGE_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_TO): vol.All(cv.ensure_list, [cv.string]),
        vol.Optional(ATTR_MESSAGE): cv.string,
        vol.Optional(ATTR_JSON): object,
        vol.Optional(ATTR_FILE): cv.string,
        vol.Optional(ATTR_AUTOCREATE, default=False): cv.boolean,
        vol.Optional(ATTR_SEND_AT): cv.datetime,
        vol.Optional(ATTR_SENDER): cv.string,
    }
)
SET_FRIENDS_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_DEVICE): cv.string,
        vol.Required(ATTR_MODE): vol.In(FRIEND_MODES),
        vol.Optional(ATTR_FRIENDS, default=list): vol.All(cv.ensure_list, [cv.string]),
    }
)

PHONE_NUMBERS_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_PHONE_NUMBERS): vol.All(cv.ensure_list, [cv.string]),
    }
)

IDS = vol.All(cv.ensure_list, [cv.positive_int])
CREATE_TASK_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required("name"): vol.All(cv.string, vol.Length(min=1, max=255)),
        vol.Optional("description"): cv.string,
        vol.Optional("due_date"): cv.datetime,
        vol.Optional("assign_to"): cv.positive_int,
        vol.Optional("priority"): vol.In(TASK_PRIORITIES),
        vol.Optional("contact_ids"): IDS,
        vol.Optional("company_ids"): IDS,
        vol.Optional("deal_ids"): IDS,
    }
)
ADD_COMMENT_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required("commentable_type"): vol.In(COMMENTABLE_TYPES),
        vol.Required("commentable_id"): cv.positive_int,
        vol.Required("content"): vol.All(cv.string, vol.Length(min=1)),
    }
)


def _invalid(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders,
    )


def _entry_of(call: ServiceCall, services: tuple[str, ...]) -> CommHubConfigEntry:
    """The loaded entry the call names, which must be of one of these services."""
    entry: CommHubConfigEntry = service.async_get_config_entry(
        call.hass, DOMAIN, call.data[ATTR_CONFIG_ENTRY_ID]
    )
    if entry.data[CONF_SERVICE] not in services:
        raise _invalid(
            "wrong_service",
            action=call.service,
            service=entry.data[CONF_SERVICE],
            entry=entry.title,
        )
    return entry


def _hipmob_entry(call: ServiceCall) -> HipmobConfigEntry:
    """The loaded Hipmob entry the call names."""
    return cast("HipmobConfigEntry", _entry_of(call, (SERVICE_HIPMOB,)))


def _hipcall_coordinator(call: ServiceCall) -> HipcallCoordinator:
    """The coordinator of the loaded Hipcall entry the call names."""
    return cast("HipcallConfigEntry", _entry_of(call, (SERVICE_HIPCALL,))).runtime_data


def _clean(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if v.strip()))


def _load_file(hass: HomeAssistant, path: str) -> tuple[bytes, str]:
    """Read an allowed file and pick its Hipmob content type (executor job)."""
    if not hass.config.is_allowed_path(path):
        raise _invalid("file_not_allowed", path=path)
    file = Path(path)
    content_type = FILE_TYPES.get(file.suffix.lower())
    if content_type is None:
        guessed, _ = mimetypes.guess_type(file.name)
        # Media Hipmob cannot show would arrive as an opaque blob: refuse it.
        if guessed and guessed.partition("/")[0] in ("image", "audio", "video"):
            raise _invalid("unsupported_content_type", content_type=guessed)
        content_type = BINARY_TYPE
    try:
        if file.stat().st_size > MAX_FILE_BYTES:
            raise _invalid("file_too_large", path=path)
        body = file.read_bytes()
    except OSError as err:
        raise _invalid("file_not_readable", path=path) from err
    if not body:
        raise _invalid("empty_message")
    return body, content_type


async def _hipmob_payload(
    hass: HomeAssistant, data: dict[str, Any]
) -> str | tuple[bytes, str]:
    """The message to send: text, or a body with its content type."""
    given = [key for key in (ATTR_MESSAGE, ATTR_JSON, ATTR_FILE) if key in data]
    if len(given) != 1:
        raise _invalid("one_message_kind")
    for field in (ATTR_SEND_AT, ATTR_SENDER):
        if field in data:
            raise _invalid("field_not_supported", field=field, service=SERVICE_HIPMOB)
    if ATTR_FILE in data:
        return await hass.async_add_executor_job(_load_file, hass, data[ATTR_FILE])
    if ATTR_JSON in data:
        if not isinstance(data[ATTR_JSON], dict) or not data[ATTR_JSON]:
            raise _invalid("invalid_json")
        return json_dumps(data[ATTR_JSON]).encode(), JSON_TYPE
    if not data[ATTR_MESSAGE].strip():
        raise _invalid("empty_message")
    return str(data[ATTR_MESSAGE])


def _result(target: str, error: CommHubRequestError | None = None) -> dict[str, Any]:
    return {
        "to": target,
        "status": "failed" if error else "sent",
        "id": None,
        "error": error.message if error else None,
    }


async def _send_one(
    coordinator: HipmobCoordinator,
    target: str,
    payload: str | tuple[bytes, str],
    autocreate: bool,
) -> dict[str, Any]:
    """Send to one device; a refusal for this device is its result, not a raise."""
    client = coordinator.client
    try:
        if isinstance(payload, str):
            await client.send_text(
                coordinator.app, [target], payload, autocreate=autocreate
            )
        else:
            body, content_type = payload
            await client.send_content(
                coordinator.app, target, body, content_type, autocreate=autocreate
            )
    except CommHubRequestError as err:
        return _result(target, err)
    return _result(target)


async def _send_hipmob(
    coordinator: HipmobCoordinator,
    targets: list[str],
    payload: str | tuple[bytes, str],
    autocreate: bool,
) -> list[dict[str, Any]]:
    if isinstance(payload, str) and len(targets) > 1:
        try:
            await coordinator.client.send_text(
                coordinator.app, targets, payload, autocreate=autocreate
            )
        except CommHubRequestError:
            pass  # One refused device fails the batch: find out which, one by one.
        else:
            return [_result(target) for target in targets]
    return await asyncio.gather(
        *(_send_one(coordinator, t, payload, autocreate) for t in targets)
    )


def _ip1_targets(values: Sequence[str]) -> list[str]:
    """Phone numbers as IP1 wants them (digits only), each once."""
    targets: list[str] = []
    for value in _clean(values):
        number = normalise_number(value)
        if number is None:
            raise _invalid("invalid_phone_number", number=value)
        targets.append(number)
    return list(dict.fromkeys(targets))


def _sms_text(
    data: dict[str, Any],
    service_name: str,
    unsupported: tuple[str, ...],
    max_length: int | None = None,
) -> str:
    """The SMS text of a send; the fields this SMS service has no use for refused."""
    for field in (*unsupported, ATTR_AUTOCREATE):
        if data.get(field):
            raise _invalid("field_not_supported", field=field, service=service_name)
    text = str(data.get(ATTR_MESSAGE, ""))
    if not text.strip():
        raise _invalid("empty_message")
    if max_length is not None and len(text) > max_length:
        raise _invalid("message_too_long", length=str(len(text)), limit=str(max_length))
    return text


def _ip1_sender(data: dict[str, Any], entry: Ip1ConfigEntry) -> str:
    """The action's sender, else the entry's default; 3-11 letters or a number."""
    sender = str(data.get(ATTR_SENDER) or entry.options.get(CONF_SENDER) or "")
    sender = sender.strip()
    if not sender:
        raise _invalid("sender_required")
    if not SENDER_RE.fullmatch(sender):
        raise _invalid("invalid_sender", sender=sender)
    return sender


def _ip1_result(message: Ip1SentMessage) -> dict[str, Any]:
    """A recipient's result: IP1 queues (1xx), sends (2xx) or refuses (4xx/5xx)."""
    code = message.status
    failed = code is not None and code >= 400
    return {
        "to": message.recipient,
        "status": "failed" if failed else "sent" if code and code >= 200 else "queued",
        "id": message.id,
        "error": f"IP1 status {code}" if failed else None,
    }


async def _send_ip1(call: ServiceCall, entry: Ip1ConfigEntry) -> ServiceResponse:
    """One batch to every recipient; reports come back to the entry's webhook."""
    targets = _ip1_targets(call.data[ATTR_TO])
    if not targets:
        raise _invalid("no_targets")
    text = _sms_text(
        call.data, SERVICE_IP1, (ATTR_JSON, ATTR_FILE, ATTR_SEND_AT), MAX_BODY_LENGTH
    )
    sender = _ip1_sender(call.data, entry)
    report_url = None
    if entry.options.get(CONF_DELIVERY_REPORTS):
        urls = await async_entry_webhook_urls(call.hass, entry, ("delivery_report",))
        if not urls:
            raise HomeAssistantError(
                translation_domain=DOMAIN, translation_key="no_webhook_url"
            )
        report_url = urls["delivery_report"]
    try:
        batch = await entry.runtime_data.client.send_batch(
            sender, targets, text, delivery_report_url=report_url
        )
    except CommHubApiError as err:
        raise action_failed(call.hass, entry, err, input_statuses=(400,)) from err
    results = [_ip1_result(message) for message in batch.messages]
    _raise_if_all_failed(results)
    return {"batch_id": batch.id, "results": cast(list[JsonValueType], results)}


def _raise_if_all_failed(results: list[dict[str, Any]]) -> None:
    """A send fails as a whole only when no target got the message."""
    if all(result["status"] == "failed" for result in results):
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="send_failed",
            translation_placeholders={"error": str(results[0]["error"])},
        )


def _e164(values: Sequence[str]) -> list[str]:
    """Phone numbers in E.164 (`+` and digits), each once; anything else refused."""
    numbers = _clean(values)
    if not numbers:
        raise _invalid("no_targets")
    for number in numbers:
        if not is_e164(number):
            raise _invalid("not_e164", number=number)
    return numbers


def _sent(number: str, status: str, sent_id: str | None) -> dict[str, Any]:
    return {"to": number, "status": status, "id": sent_id, "error": None}


async def _each(
    numbers: Sequence[str],
    send: Callable[[str], Awaitable[str | None]],
    status: str,
) -> list[dict[str, Any]]:
    """One request per number (queued by the client's per-route limit); a number
    Mobiniti refuses is that number's result, not the end of the send."""
    results = []
    for number in numbers:
        try:
            results.append(_sent(number, status, await send(number)))
        except CommHubRequestError as err:
            results.append(_result(number, err))
    return results


async def _send_mobiniti(
    call: ServiceCall, entry: MobinitiConfigEntry
) -> ServiceResponse:
    """One number → /v1/message, several → the batch, send_at → scheduled."""
    numbers = _e164(call.data[ATTR_TO])
    text = _sms_text(call.data, SERVICE_MOBINITI, (ATTR_JSON, ATTR_FILE, ATTR_SENDER))
    client = entry.runtime_data.client
    try:
        if ATTR_SEND_AT in call.data:
            send_at = dt_util.as_utc(call.data[ATTR_SEND_AT])
            if send_at <= dt_util.utcnow():
                raise _invalid("send_at_in_past")

            async def schedule(number: str) -> str | None:
                return (await client.schedule_message(number, text, send_at)).id

            results = await _each(numbers, schedule, "scheduled")
        else:
            results = await _send_now(client, numbers, text)
    except CommHubApiError as err:
        raise action_failed(call.hass, entry, err) from err
    _raise_if_all_failed(results)
    return {"results": cast(list[JsonValueType], results)}


async def _send_now(
    client: MobinitiClient, numbers: list[str], text: str
) -> list[dict[str, Any]]:
    """Sent at once: a batch per 100 numbers; a refused batch number by number."""

    async def single(number: str) -> str | None:
        return (await client.send_message(number, text)).id

    if len(numbers) == 1:
        return await _each(numbers, single, "sent")
    results: list[dict[str, Any]] = []
    for start in range(0, len(numbers), MOBINITI_MAX_BATCH):
        chunk = numbers[start : start + MOBINITI_MAX_BATCH]
        try:
            sent = await client.send_batch(chunk, text)
        except CommHubRequestError:
            # One refused number fails the batch: find out which, one by one.
            results.extend(await _each(chunk, single, "sent"))
        else:
            ids = [message.id for message in sent]
            results.extend(
                _sent(number, "sent", ids[i] if i < len(ids) else None)
                for i, number in enumerate(chunk)
            )
    return results


def _mobiniti_client(call: ServiceCall) -> tuple[MobinitiConfigEntry, MobinitiClient]:
    entry = cast("MobinitiConfigEntry", _entry_of(call, (SERVICE_MOBINITI,)))
    return entry, entry.runtime_data.client


async def _async_mobiniti_numbers(call: ServiceCall) -> ServiceResponse:
    """unsubscribe (chunks of 100) or lookup_carrier (chunks of 10) for numbers."""
    entry, client = _mobiniti_client(call)
    numbers = _e164(call.data[ATTR_PHONE_NUMBERS])
    try:
        if call.service == SERVICE_UNSUBSCRIBE:
            return {"unsubscribed": await client.unsubscribe(numbers)}
        results = await client.lookup_carriers(numbers)
    except CommHubApiError as err:
        raise action_failed(call.hass, entry, err) from err
    return {"results": cast(list[JsonValueType], results)}


async def _async_send_message(call: ServiceCall) -> ServiceResponse:
    any_entry = _entry_of(call, (SERVICE_HIPMOB, SERVICE_IP1, SERVICE_MOBINITI))
    if any_entry.data[CONF_SERVICE] == SERVICE_IP1:
        return await _send_ip1(call, cast("Ip1ConfigEntry", any_entry))
    if any_entry.data[CONF_SERVICE] == SERVICE_MOBINITI:
        return await _send_mobiniti(call, cast("MobinitiConfigEntry", any_entry))
    entry = cast("HipmobConfigEntry", any_entry)
    targets = _clean(call.data[ATTR_TO])
    if not targets:
        raise _invalid("no_targets")
    payload = await _hipmob_payload(call.hass, call.data)
    try:
        results = await _send_hipmob(
            entry.runtime_data, targets, payload, call.data[ATTR_AUTOCREATE]
        )
    except CommHubApiError as err:
        raise action_failed(call.hass, entry, err) from err
    _raise_if_all_failed(results)
    return {"results": cast(list[JsonValueType], results)}


async def _async_set_friends(call: ServiceCall) -> ServiceResponse:
    entry = _hipmob_entry(call)
    coordinator = entry.runtime_data
    client, app = coordinator.client, coordinator.app
    device = call.data[ATTR_DEVICE].strip()
    mode: str = call.data[ATTR_MODE]
    friends = _clean(call.data[ATTR_FRIENDS])
    if not device:
        raise _invalid("no_device")
    if mode != "clear" and not friends:
        raise _invalid("friends_required", mode=mode)
    try:
        if mode == "remove":
            counts = await asyncio.gather(
                *(client.remove_friend(app, device, friend) for friend in friends)
            )
            count = sum(counts)
        else:
            method = {"add": "POST", "replace": "PUT", "clear": "DELETE"}[mode]
            friends = friends if mode != "clear" else []
            count = await client.change_friends(app, device, method, friends)
    except CommHubApiError as err:
        raise action_failed(call.hass, entry, err) from err
    return {"count": count}


def _hipcall_body(data: dict[str, Any]) -> dict[str, Any]:
    """The action's fields as the API's JSON body (dates in the seed's format)."""
    body = {k: v for k, v in data.items() if k != ATTR_CONFIG_ENTRY_ID}
    if "due_date" in body:
        due = dt_util.as_local(body["due_date"])
        body["due_date"] = due.strftime(HIPCALL_DUE_DATE_FORMAT)
    return body


async def _async_hipcall_create(call: ServiceCall) -> ServiceResponse:
    """Create a task or a comment; the response is what Hipcall created."""
    coordinator = _hipcall_coordinator(call)
    create = {
        SERVICE_CREATE_TASK: coordinator.client.create_task,
        SERVICE_ADD_COMMENT: coordinator.client.add_comment,
    }[call.service]
    try:
        created = await create(_hipcall_body(dict(call.data)))
    except CommHubApiError as err:
        raise action_failed(call.hass, coordinator.config_entry, err) from err
    return cast(dict[str, JsonValueType], created)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions."""
    for name, schema in (
        (SERVICE_CREATE_TASK, CREATE_TASK_SCHEMA),
        (SERVICE_ADD_COMMENT, ADD_COMMENT_SCHEMA),
    ):
        hass.services.async_register(
            DOMAIN,
            name,
            _async_hipcall_create,
            schema=schema,
            supports_response=SupportsResponse.OPTIONAL,
        )
    hass.services.async_register(
        DOMAIN,
        SERVICE_SEND_MESSAGE,
        _async_send_message,
        schema=SEND_MESSAGE_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    for name in (SERVICE_UNSUBSCRIBE, SERVICE_LOOKUP_CARRIER):
        hass.services.async_register(
            DOMAIN,
            name,
            _async_mobiniti_numbers,
            schema=PHONE_NUMBERS_SCHEMA,
            supports_response=SupportsResponse.OPTIONAL,
        )
    hass.services.async_register(
        DOMAIN,
        SERVICE_SET_FRIENDS,
        _async_set_friends,
        schema=SET_FRIENDS_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
