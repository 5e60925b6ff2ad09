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
CONF_PARTICIPANTS: Final = "participants"
CONF_SENDER: Final = "sender"
CONF_DELIVERY_REPORTS: Final = "delivery_reports"
CONF_CLOUDHOOK: Final = "cloudhook"
CONF_POLLING: Final = "polling"

SERVICE_HIPMOB: Final = "hipmob"
SERVICE_HIPCALL: Final = "hipcall"
SERVICE_IP1: Final = "ip1"
SERVICE_MOBINITI: Final = "mobiniti"

EVENT_MISSED_CALL: Final = "commhub_missed_call"
EVENT_INBOUND_MESSAGE: Final = "commhub_inbound_message"
EVENT_DELIVERY_REPORT: Final = "commhub_delivery_report"

DEFAULT_HIPMOB_SCAN_INTERVAL: Final = timedelta(seconds=60)
HIPMOB_SCAN_INTERVAL_RANGE: Final = (10, 3600)
DEFAULT_HIPCALL_SCAN_INTERVAL: Final = timedelta(seconds=30)
HIPCALL_SCAN_INTERVAL_RANGE: Final = (10, 3600)
DEFAULT_IP1_SCAN_INTERVAL: Final = timedelta(seconds=60)
IP1_SCAN_INTERVAL_RANGE: Final = (30, 3600)
DEFAULT_MOBINITI_SCAN_INTERVAL: Final = timedelta(seconds=60)
MOBINITI_SCAN_INTERVAL_RANGE: Final = (60, 3600)
