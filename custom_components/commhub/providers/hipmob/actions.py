"""Hipmob's actions: send a message to devices, change a device's friends."""

import asyncio
import mimetypes
from pathlib import Path
from typing import Any

from homeassistant.const import ATTR_CONFIG_ENTRY_ID
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.json import json_dumps
import voluptuous as vol

from ...actions import (
    ATTR_AUTOCREATE,
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
    send_each,
)
from ...api import CommHubRequestError
from ...api.hipmob import AUDIO_TYPE, BINARY_TYPE, JSON_TYPE
from ...provider import Action
from .coordinator import HipmobCoordinator

ATTR_DEVICE = "device"
ATTR_MODE = "mode"
ATTR_FRIENDS = "friends"
FRIEND_MODES = ("add", "remove", "replace", "clear")
# Hipmob queues whole messages in memory; anything larger is not a chat message.
MAX_FILE_BYTES = 10 * 1024 * 1024
FILE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".mp3": AUDIO_TYPE,
}

SET_FRIENDS_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_DEVICE): cv.string,
        vol.Required(ATTR_MODE): vol.In(FRIEND_MODES),
        vol.Optional(ATTR_FRIENDS, default=list): vol.All(cv.ensure_list, [cv.string]),
    }
)

type Payload = str | tuple[bytes, str]


def _load_file(hass: HomeAssistant, path: str) -> tuple[bytes, str]:
    """Read an allowed file and pick its Hipmob content type (executor job)."""
    if not hass.config.is_allowed_path(path):
        raise invalid("file_not_allowed", path=path)
    file = Path(path)
    content_type = FILE_TYPES.get(file.suffix.lower())
    if content_type is None:
        guessed, _ = mimetypes.guess_type(file.name)
        # Media Hipmob cannot show would arrive as an opaque blob: refuse it.
        if guessed and guessed.partition("/")[0] in ("image", "audio", "video"):
            raise invalid("unsupported_content_type", content_type=guessed)
        content_type = BINARY_TYPE
    try:
        if file.stat().st_size > MAX_FILE_BYTES:
            raise invalid("file_too_large", path=path)
        body = file.read_bytes()
    except OSError as err:
        raise invalid("file_not_readable", path=path) from err
    if not body:
        raise invalid("empty_message")
    return body, content_type


async def _payload(hass: HomeAssistant, data: dict[str, Any]) -> Payload:
    """The message to send: text, or a body with its content type."""
    given = [key for key in (ATTR_MESSAGE, ATTR_JSON, ATTR_FILE) if key in data]
    if len(given) != 1:
        raise invalid("one_message_kind")
    for field in (ATTR_SEND_AT, ATTR_SENDER):
        if field in data:
            raise invalid("field_not_supported", field=field, service="Hipmob")
    if ATTR_FILE in data:
        return await hass.async_add_executor_job(_load_file, hass, data[ATTR_FILE])
    if ATTR_JSON in data:
        if not isinstance(data[ATTR_JSON], dict) or not data[ATTR_JSON]:
            raise invalid("invalid_json")
        return json_dumps(data[ATTR_JSON]).encode(), JSON_TYPE
    if not data[ATTR_MESSAGE].strip():
        raise invalid("empty_message")
    return str(data[ATTR_MESSAGE])


async def send(
    coordinator: HipmobCoordinator,
    targets: list[str],
    payload: Payload,
    autocreate: bool,
) -> list[TargetResult]:
    """Text to all devices at once; a refused batch (or content) device by device."""
    client, app = coordinator.client, coordinator.app
    if isinstance(payload, str) and len(targets) > 1:
        try:
            await client.send_text(app, targets, payload, autocreate=autocreate)
        except CommHubRequestError:
            pass  # One refused device fails the batch: find out which, one by one.
        else:
            return [TargetResult(target, "sent") for target in targets]

    async def send_one(target: str) -> None:
        if isinstance(payload, str):
            await client.send_text(app, [target], payload, autocreate=autocreate)
        else:
            body, content_type = payload
            await client.send_content(
                app, target, body, content_type, autocreate=autocreate
            )

    return await send_each(targets, send_one, "sent")


async def send_message(
    call: ServiceCall, coordinator: HipmobCoordinator
) -> ServiceResponse:
    """Send text, JSON or a file to tracked (or any) devices of the app."""
    targets = clean_list(call.data[ATTR_TO])
    if not targets:
        raise invalid("no_targets")
    payload = await _payload(call.hass, call.data)
    return results_response(
        await send(coordinator, targets, payload, call.data[ATTR_AUTOCREATE])
    )


async def set_friends(
    call: ServiceCall, coordinator: HipmobCoordinator
) -> ServiceResponse:
    """Add, remove, replace or clear a device's friends."""
    client, app = coordinator.client, coordinator.app
    device = call.data[ATTR_DEVICE].strip()
    mode: str = call.data[ATTR_MODE]
    friends = clean_list(call.data[ATTR_FRIENDS])
    if not device:
        raise invalid("no_device")
    if mode != "clear" and not friends:
        raise invalid("friends_required", mode=mode)
    if mode == "remove":
        counts = await asyncio.gather(
            *(client.remove_friend(app, device, friend) for friend in friends)
        )
        return {"count": sum(counts)}
    method = {"add": "POST", "replace": "PUT", "clear": "DELETE"}[mode]
    count = await client.change_friends(
        app, device, method, friends if mode != "clear" else []
    )
    return {"count": count}


ACTIONS: dict[str, Action[HipmobCoordinator]] = {
    "send_message": Action(schema=SEND_MESSAGE_SCHEMA, handler=send_message),
    "set_friends": Action(schema=SET_FRIENDS_SCHEMA, handler=set_friends),
}
