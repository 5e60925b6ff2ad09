"""The config entry type every platform sees: one coordinator per service."""

from homeassistant.config_entries import ConfigEntry

from .coordinator import HipmobCoordinator
from .hipcall_coordinator import HipcallCoordinator
from .ip1_coordinator import Ip1Coordinator

type CommHubCoordinator = HipmobCoordinator | HipcallCoordinator | Ip1Coordinator
type CommHubConfigEntry = ConfigEntry[CommHubCoordinator]
