"""Hipcall's actions: create a task, add a comment."""

from typing import Any, cast

from homeassistant.const import ATTR_CONFIG_ENTRY_ID
from homeassistant.core import ServiceCall, ServiceResponse
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
from homeassistant.util.json import JsonValueType
import voluptuous as vol

from ...api.hipcall import COMMENTABLE_PATHS
from ...provider import Action
from .coordinator import HipcallCoordinator

TASK_PRIORITIES = ("low", "medium", "high")

IDS = vol.All(cv.ensure_list, [cv.positive_int])
CREATE_TASK_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required("name"): vol.All(cv.string, vol.Length(min=1, max=255)),
        vol.Optional("description"): cv.string,
        vol.Optional("due_date"): cv.datetime,
        vol.Optional("assign_to"): cv.positive_int,
        vol.Optional("priority"): vol.In(TASK_PRIORITIES),
        vol.Optional("contact_ids"): IDS,
        vol.Optional("company_ids"): IDS,
        vol.Optional("deal_ids"): IDS,
    }
)
ADD_COMMENT_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required("commentable_type"): vol.In(tuple(COMMENTABLE_PATHS)),
        vol.Required("commentable_id"): cv.positive_int,
        vol.Required("content"): vol.All(cv.string, vol.Length(min=1)),
    }
)


def _task(data: dict[str, Any]) -> dict[str, Any]:
    """The action's fields as the client's task (a due date in local time)."""
    task = {k: v for k, v in data.items() if k != ATTR_CONFIG_ENTRY_ID}
    if "due_date" in task:
        task["due_date"] = dt_util.as_local(task["due_date"])
    return task


async def create_task(
    call: ServiceCall, coordinator: HipcallCoordinator
) -> ServiceResponse:
    """Create a task; the response is what Hipcall created."""
    created = await coordinator.client.create_task(_task(dict(call.data)))
    return cast(dict[str, JsonValueType], created)


async def add_comment(
    call: ServiceCall, coordinator: HipcallCoordinator
) -> ServiceResponse:
    """Comment on a contact, company or deal; the response is the comment."""
    created = await coordinator.client.add_comment(
        call.data["commentable_type"], call.data["commentable_id"], call.data["content"]
    )
    return cast(dict[str, JsonValueType], created)


ACTIONS: dict[str, Action[HipcallCoordinator]] = {
    "create_task": Action(schema=CREATE_TASK_SCHEMA, handler=create_task),
    "add_comment": Action(schema=ADD_COMMENT_SCHEMA, handler=add_comment),
}
