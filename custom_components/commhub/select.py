"""Select: the account's own availability, settable from Home Assistant."""

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import CommHubApiError
from .api.hipmob import USER_STATUSES
from .coordinator import HipmobConfigEntry
from .entity import HipmobUserEntity
from .errors import action_failed

PARALLEL_UPDATES = 1

OWN_AVAILABILITY = SelectEntityDescription(
    key="availability_select",
    translation_key="availability",
    options=list(USER_STATUSES),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HipmobConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """The availability select of the account's own user."""
    coordinator = entry.runtime_data
    async_add_entities(
        [HipmobAvailabilitySelect(coordinator, OWN_AVAILABILITY, coordinator.account)]
    )


class HipmobAvailabilitySelect(HipmobUserEntity, SelectEntity):
    """The account user's availability."""

    @property
    def current_option(self) -> str | None:
        """The status as last polled or set."""
        status = self.user_status
        return status if status in USER_STATUSES else None

    async def async_select_option(self, option: str) -> None:
        """Post the new status to Hipmob."""
        try:
            await self.coordinator.client.set_user_status(self.username, option)
        except CommHubApiError as err:
            raise action_failed(self.hass, self.coordinator.config_entry, err) from err
        self.coordinator.set_user_status(self.username, option)
