"""What actions of several providers share: errors, the send schema, results."""

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from homeassistant.const import ATTR_CONFIG_ENTRY_ID
from homeassistant.core import ServiceResponse
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util.json import JsonValueType
import voluptuous as vol

from .api import (
    CommHubApiError,
    CommHubAuthError,
    CommHubPaymentRequiredError,
    CommHubRequestError,
)
from .const import DOMAIN

ATTR_TO = "to"
ATTR_MESSAGE = "message"
ATTR_JSON = "json"
ATTR_FILE = "file"
ATTR_AUTOCREATE = "autocreate"
ATTR_SEND_AT = "send_at"
ATTR_SENDER = "sender"

# The contract's send_message: one schema for every provider that sends.
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


def invalid(key: str, **placeholders: str) -> ServiceValidationError:
    """Bad input: a translated error, nothing sent."""
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders,
    )


def clean_list(values: Iterable[str]) -> list[str]:
    """Trimmed, non-empty items, each once, in the order given."""
    return list(dict.fromkeys(v.strip() for v in values if v and v.strip()))


def sms_text(
    data: dict[str, Any],
    provider_name: str,
    unsupported: tuple[str, ...],
    max_length: int | None = None,
) -> str:
    """The SMS text of a send; the fields this provider has no use for refused."""
    for name in (*unsupported, ATTR_AUTOCREATE):
        if data.get(name):
            raise invalid("field_not_supported", field=name, service=provider_name)
    text = str(data.get(ATTR_MESSAGE, ""))
    if not text.strip():
        raise invalid("empty_message")
    if max_length is not None and len(text) > max_length:
        raise invalid("message_too_long", length=str(len(text)), limit=str(max_length))
    return text


@dataclass(frozen=True, slots=True)
class TargetResult:
    """What became of a send to one target."""

    to: str
    status: str  # sent, queued, scheduled or failed
    id: str | None = None
    error: str | None = None
    # Why it failed, when the service could not be reached (not a refusal).
    cause: CommHubApiError | None = field(default=None, compare=False)

    @classmethod
    def failed(cls, to: str, err: CommHubApiError) -> TargetResult:
        """The target the service refused, or could not be reached for."""
        if isinstance(err, CommHubRequestError):
            return cls(to, "failed", error=err.message)
        return cls(to, "failed", error=str(err), cause=err)


# Errors about the whole account: no later target can get through either.
ACCOUNT_ERRORS = (CommHubAuthError, CommHubPaymentRequiredError)


class PartlySentError(Exception):
    """Some targets got the message before an account error stopped the rest.

    The action answers with `response` (a retry must not send twice) and still
    acts on `cause` (reauth, the payment repair issue).
    """

    def __init__(self, response: ServiceResponse, cause: CommHubApiError) -> None:
        """Keep the per-target response and the account error."""
        super().__init__(str(cause))
        self.response = response
        self.cause = cause


async def send_each(
    targets: Sequence[str],
    send: Callable[[str], Awaitable[str | None]],
    status: str,
) -> list[TargetResult]:
    """One request per target; a target that fails is its result, not the end.

    An account error (credentials, payment) fails this and every later target
    without trying them.
    """
    results: list[TargetResult] = []
    for index, target in enumerate(targets):
        try:
            results.append(TargetResult(target, status, await send(target)))
        except ACCOUNT_ERRORS as err:
            results.extend(TargetResult.failed(t, err) for t in targets[index:])
            break
        except CommHubApiError as err:
            results.append(TargetResult.failed(target, err))
    return results


def results_response(
    results: Sequence[TargetResult], **extra: JsonValueType
) -> ServiceResponse:
    """The action's response; an error only when no target got the message.

    When the service could not be reached at all, that error is raised (and
    mapped as any client error: unavailable, rate limited, ...); an account
    error after some targets were sent raises `PartlySentError`.
    """
    causes = [r.cause for r in results if r.cause is not None]
    account_error = next((c for c in causes if isinstance(c, ACCOUNT_ERRORS)), None)
    if all(result.status == "failed" for result in results):
        if cause := account_error or results[0].cause:
            raise cause
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="send_failed",
            translation_placeholders={"error": str(results[0].error)},
        )
    listed = [
        {"to": r.to, "status": r.status, "id": r.id, "error": r.error} for r in results
    ]
    response: ServiceResponse = {**extra, "results": cast(list[JsonValueType], listed)}
    if account_error is not None:
        raise PartlySentError(response, account_error)
    return response
