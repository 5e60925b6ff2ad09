"""Webhooks of an entry: one id, one URL per kind, bounded JSON bodies, POST only."""

from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import Any

from aiohttp import web
from homeassistant.components import webhook
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant
from homeassistant.helpers.network import NoURLAvailableError
from homeassistant.util.json import JSON_DECODE_EXCEPTIONS, json_loads

from .const import CONF_CLOUDHOOK, DOMAIN, LOGGER

# A webhook delivery is one small JSON object; anything bigger is not one.
MAX_BODY_BYTES = 64 * 1024
UTF8_BOM = b"\xef\xbb\xbf"
REDACTED = "**REDACTED**"

type KindHandler = Callable[[dict[str, Any]], Awaitable[None]]


class InvalidPayloadError(ValueError):
    """A delivery that does not have the documented shape (never logged whole)."""


class PayloadTooLargeError(InvalidPayloadError):
    """A body larger than any delivery of the service."""


async def async_webhook_url(
    hass: HomeAssistant, webhook_id: str
) -> tuple[str | None, bool]:
    """The URL the service should post to, and whether it is a cloudhook.

    A Home Assistant Cloud subscription gives a URL reachable from the internet;
    else the external URL. None when Home Assistant has neither.
    """
    if "cloud" in hass.config.components:
        # Imported only when loaded: the cloud package pulls in much of Home Assistant.
        from homeassistant.components import cloud  # noqa: PLC0415

        if not cloud.async_active_subscription(hass):
            return _local_url(hass, webhook_id)
        try:
            return await cloud.async_get_or_create_cloudhook(hass, webhook_id), True
        except cloud.CloudNotAvailable, cloud.CloudNotConnected:
            LOGGER.debug("Home Assistant Cloud is not connected; using the local URL")
    return _local_url(hass, webhook_id)


def _local_url(hass: HomeAssistant, webhook_id: str) -> tuple[str | None, bool]:
    """The webhook on Home Assistant's external URL; None without one.

    An internal (LAN) address is never offered: no cloud service can reach it.
    """
    try:
        return webhook.async_generate_url(hass, webhook_id, allow_internal=False), False
    except NoURLAvailableError:
        return None, False


def kind_urls(base: str | None, kinds: tuple[str, ...]) -> dict[str, str]:
    """The URL per kind (`?kind=`), so the payload's shape need not be guessed."""
    if base is None:
        return {}
    return {kind: f"{base}?kind={kind}" for kind in kinds}


async def async_entry_webhook_urls(
    hass: HomeAssistant, entry: ConfigEntry, kinds: tuple[str, ...]
) -> dict[str, str]:
    """The entry's URL per kind."""
    base, _ = await async_webhook_url(hass, entry.data[CONF_WEBHOOK_ID])
    return kind_urls(base, kinds)


def redact_webhook_urls(urls: Mapping[str, str], webhook_id: str) -> dict[str, str]:
    """URLs with the secret part replaced (diagnostics end up in public reports)."""
    redacted: dict[str, str] = {}
    for kind, url in urls.items():
        if webhook_id in url:
            redacted[kind] = url.replace(webhook_id, REDACTED)
        else:  # a cloudhook URL is a secret of its own
            redacted[kind] = f"{url.split('://', 1)[0]}://{REDACTED}?kind={kind}"
    return redacted


async def async_remove_cloudhook(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Delete the entry's cloudhook, if it made one."""
    if entry.data.get(CONF_CLOUDHOOK) and "cloud" in hass.config.components:
        from homeassistant.components import cloud  # noqa: PLC0415

        try:
            await cloud.async_delete_cloudhook(hass, entry.data[CONF_WEBHOOK_ID])
        except cloud.CloudNotAvailable:
            LOGGER.debug("Home Assistant Cloud is gone; no cloudhook to delete")


async def _read_json(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object, refusing oversized ones before reading them."""
    length = request.content_length
    if (length or 0) > MAX_BODY_BYTES:
        raise PayloadTooLargeError("the body is too large")
    body: bytes | bytearray
    if length is not None:
        body = await request.read()  # its length is known and within the bound
    else:
        # Chunked: read(n) returns what has arrived so far; gather to the end.
        body = bytearray()
        async for chunk in request.content.iter_any():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                raise PayloadTooLargeError("the body is too large")
    if body.startswith(UTF8_BOM):  # some senders' UTF-8 writers put one first
        body = body[len(UTF8_BOM) :]
    try:
        # Strict UTF-8: a lone surrogate, raw or escaped, is refused here.
        payload = json_loads(body)
    except JSON_DECODE_EXCEPTIONS as err:
        raise InvalidPayloadError("the body is not JSON in UTF-8") from err
    if not isinstance(payload, dict):
        raise InvalidPayloadError("the body is not a JSON object")
    return payload


def register_entry_webhook(
    hass: HomeAssistant,
    entry: ConfigEntry,
    handlers: Mapping[str, KindHandler],
    kind_of: Callable[[Mapping[str, Any]], str | None],
) -> Callable[[], None]:
    """Route the entry's deliveries to a handler per kind; returns the unregister.

    The kind comes from `?kind=`, else from the payload's shape (`kind_of`). A
    delivery that does not validate is answered 400 and logged once per kind and
    reason, without its content (it is personal data).
    """
    warned: set[str] = set()

    def refuse(kind: str | None, err: InvalidPayloadError) -> web.Response:
        reason = str(err)
        key = f"{kind}:{reason}"
        if key not in warned:
            warned.add(key)
            LOGGER.warning(
                "%s: refused a webhook delivery (kind %s): %s",
                entry.title,
                kind or "unknown",
                reason,
            )
        status = (
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE
            if isinstance(err, PayloadTooLargeError)
            else HTTPStatus.BAD_REQUEST
        )
        return web.Response(status=status, text=reason)

    async def handle(
        hass: HomeAssistant, webhook_id: str, request: web.Request
    ) -> web.Response:
        kind = request.query.get("kind")
        try:
            payload = await _read_json(request)
            kind = kind or kind_of(payload)
            handler = handlers.get(kind or "")
            if handler is None:
                raise InvalidPayloadError("unknown kind")
            await handler(payload)
        except InvalidPayloadError as err:
            return refuse(kind, err)
        except Exception:
            # Not 200: the service keeps the delivery and tries again later.
            LOGGER.exception("%s: a webhook delivery failed", entry.title)
            return web.Response(status=HTTPStatus.INTERNAL_SERVER_ERROR)
        return web.Response(status=HTTPStatus.OK)

    webhook_id = entry.data[CONF_WEBHOOK_ID]
    webhook.async_register(
        hass, DOMAIN, entry.title, webhook_id, handle, allowed_methods=["POST"]
    )
    return lambda: webhook.async_unregister(hass, webhook_id)
