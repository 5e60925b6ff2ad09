"""Application Credentials: the OAuth2 endpoints of the provider that uses them."""

from homeassistant.components.application_credentials import AuthorizationServer
from homeassistant.core import HomeAssistant

from .providers import oauth_provider


async def async_get_authorization_server(hass: HomeAssistant) -> AuthorizationServer:
    """The provider's authorize and token endpoints (the public ones, always)."""
    oauth = oauth_provider().flow.oauth
    assert oauth is not None
    return AuthorizationServer(
        authorize_url=oauth.authorize_url, token_url=oauth.token_url
    )


async def async_get_description_placeholders(hass: HomeAssistant) -> dict[str, str]:
    """Where the provider's users create the application."""
    oauth = oauth_provider().flow.oauth
    assert oauth is not None
    return {
        "more_info_url": oauth.more_info_url,
        "redirect_url": "https://my.home-assistant.io/redirect/oauth",
    }
