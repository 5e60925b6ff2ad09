"""Where client exceptions become Home Assistant errors (the one mapping)."""

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    HomeAssistantError,
    ServiceValidationError,
)
from homeassistant.helpers.update_coordinator import UpdateFailed

from .api import (
    CommHubApiError,
    CommHubAuthError,
    CommHubPaymentRequiredError,
    CommHubPermissionError,
    CommHubRateLimitedError,
    CommHubRequestError,
)
from .const import DOMAIN
from .issues import create_payment_issue


def _translated[E: HomeAssistantError](
    error_type: type[E], err: CommHubApiError, **kwargs: object
) -> E:
    """The translated error for a client exception."""
    if isinstance(err, CommHubPaymentRequiredError):
        key, placeholders = "payment_required", {}
    elif isinstance(err, CommHubRateLimitedError):
        key, placeholders = "rate_limited", {"seconds": f"{err.retry_after:.0f}"}
    elif isinstance(err, CommHubPermissionError):
        key, placeholders = "permission_denied", {"error": err.message}
    elif isinstance(err, CommHubRequestError):
        key, placeholders = "request_failed", {"error": err.message}
    else:
        key, placeholders = "service_unavailable", {"error": str(err)}
    return error_type(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders,
        **kwargs,
    )


def update_failed(
    hass: HomeAssistant, entry: ConfigEntry, err: CommHubApiError
) -> HomeAssistantError:
    """What a failed poll raises: reauth on 401, else unavailable until it works."""
    if isinstance(err, CommHubAuthError):
        return ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="auth_failed"
        )
    if isinstance(err, CommHubPaymentRequiredError):
        create_payment_issue(hass, entry)
    retry_after = err.retry_after if isinstance(err, CommHubRateLimitedError) else None
    return _translated(UpdateFailed, err, retry_after=retry_after)


def action_failed(
    hass: HomeAssistant,
    entry: ConfigEntry,
    err: CommHubApiError,
    input_statuses: tuple[int, ...] = (422,),
) -> HomeAssistantError:
    """What a failed action raises; bad credentials also start reauth.

    `input_statuses` are the statuses with which the service refuses bad fields.
    """
    if isinstance(err, CommHubAuthError):
        entry.async_start_reauth(hass)
        return HomeAssistantError(
            translation_domain=DOMAIN, translation_key="auth_failed"
        )
    if isinstance(err, CommHubPaymentRequiredError):
        create_payment_issue(hass, entry)
    if isinstance(err, CommHubRequestError) and err.status in input_statuses:
        # The service checked the fields and named what is wrong: bad input.
        return ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="rejected_fields",
            translation_placeholders={"error": err.message},
        )
    return _translated(HomeAssistantError, err)
