"""Application Credentials: Mobiniti's OAuth 2.0 authorization code flow."""

from homeassistant.components.application_credentials import AuthorizationServer
from homeassistant.core import HomeAssistant

from .api.mobiniti import OAUTH_AUTHORIZE_URL, OAUTH_TOKEN_URL


async def async_get_authorization_server(hass: HomeAssistant) -> AuthorizationServer:
    """Mobiniti's authorize and token endpoints (the public ones, always)."""
    return AuthorizationServer(
        authorize_url=OAUTH_AUTHORIZE_URL, token_url=OAUTH_TOKEN_URL
    )


async def async_get_description_placeholders(hass: HomeAssistant) -> dict[str, str]:
    """Where Mobiniti users create the application."""
    return {
        "more_info_url": "https://app.mobiniti.com",
        "redirect_url": "https://my.home-assistant.io/redirect/oauth",
    }
