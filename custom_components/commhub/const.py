"""Constants for CommHub."""

from datetime import timedelta
import logging
from typing import Final

DOMAIN: Final = "commhub"
LOGGER = logging.getLogger(__package__)

CONF_SERVICE: Final = "service"
CONF_BASE_URL: Final = "base_url"
CONF_ADVANCED: Final = "advanced"
CONF_ACCOUNT: Final = "account"
CONF_APP: Final = "app"
CONF_DEVICES: Final = "devices"
CONF_USERS: Final = "users"

SERVICE_HIPMOB: Final = "hipmob"
SERVICE_HIPCALL: Final = "hipcall"

EVENT_MISSED_CALL: Final = "commhub_missed_call"

DEFAULT_HIPMOB_SCAN_INTERVAL: Final = timedelta(seconds=60)
HIPMOB_SCAN_INTERVAL_RANGE: Final = (10, 3600)
DEFAULT_HIPCALL_SCAN_INTERVAL: Final = timedelta(seconds=30)
HIPCALL_SCAN_INTERVAL_RANGE: Final = (10, 3600)
