"""The config entry type every platform sees: one coordinator per service."""

from homeassistant.config_entries import ConfigEntry

from .coordinator import HipmobCoordinator
from .hipcall_coordinator import HipcallCoordinator

type CommHubCoordinator = HipmobCoordinator | HipcallCoordinator
type CommHubConfigEntry = ConfigEntry[CommHubCoordinator]
