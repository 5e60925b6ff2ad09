"""What diagnostics never show: secrets, and names or numbers of people."""

from homeassistant.const import (
    CONF_ACCESS_TOKEN,
    CONF_API_KEY,
    CONF_API_TOKEN,
    CONF_WEBHOOK_ID,
)

from .const import CONF_ACCOUNT, CONF_PARTICIPANTS, CONF_SENDER, CONF_USERS

TO_REDACT = {
    CONF_API_KEY,
    CONF_API_TOKEN,
    CONF_ACCESS_TOKEN,
    "token",
    "refresh_token",
    CONF_ACCOUNT,
    CONF_USERS,
    "username",
    "first_name",
    "last_name",
    "email",
    "name",
    "userdata",
    "title",
    "unique_id",
    CONF_WEBHOOK_ID,
    CONF_PARTICIPANTS,
    CONF_SENDER,
}
