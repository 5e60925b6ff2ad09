"""The config entry type every platform sees: one coordinator per service."""

from homeassistant.config_entries import ConfigEntry

from .coordinator import HipmobCoordinator
from .hipcall_coordinator import HipcallCoordinator
from .ip1_coordinator import Ip1Coordinator
from .mobiniti_coordinator import MobinitiCoordinator

type CommHubCoordinator = (
    HipmobCoordinator | HipcallCoordinator | Ip1Coordinator | MobinitiCoordinator
)
type CommHubConfigEntry = ConfigEntry[CommHubCoordinator]
