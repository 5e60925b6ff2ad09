"""Constants for CommHub."""

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
CONF_PARTICIPANTS: Final = "participants"
CONF_SENDER: Final = "sender"
CONF_DELIVERY_REPORTS: Final = "delivery_reports"
CONF_CLOUDHOOK: Final = "cloudhook"
CONF_POLLING: Final = "polling"

EVENT_MISSED_CALL: Final = "commhub_missed_call"
EVENT_INBOUND_MESSAGE: Final = "commhub_inbound_message"
EVENT_DELIVERY_REPORT: Final = "commhub_delivery_report"
