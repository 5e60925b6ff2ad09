"""Hipcall's actions: tasks, comments, click to call, a call's details."""

from datetime import UTC, datetime, time
from typing import Any, cast

from homeassistant.const import ATTR_CONFIG_ENTRY_ID
from homeassistant.core import ServiceCall, ServiceResponse
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
from homeassistant.util.json import JsonValueType
import voluptuous as vol

from ...actions import invalid
from ...api.hipcall import COMMENTABLE_PATHS, UnsupportedError
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


CALL_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required("user_id"): cv.positive_int,
        vol.Required("number"): vol.All(cv.string, vol.Match(r"^\+[1-9]\d{6,14}$")),
        vol.Optional("ring_user_first", default=True): cv.boolean,
    }
)
GET_CALL_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required("uuid"): vol.All(cv.string, vol.Length(min=1)),
        vol.Required("started_at"): vol.Any(cv.datetime, cv.date),
    }
)


async def click_to_call(
    call: ServiceCall, coordinator: HipcallCoordinator
) -> ServiceResponse:
    """Ring the user's phone, then bridge to the number (current API)."""
    try:
        call_id = await coordinator.client.call(
            call.data["user_id"], call.data["number"], call.data["ring_user_first"]
        )
    except UnsupportedError as err:
        raise invalid("needs_current_api", action=call.service) from err
    return {"id": call_id}


async def get_call(
    call: ServiceCall, coordinator: HipcallCoordinator
) -> ServiceResponse:
    """A call's details; its links are answered, never stored or logged."""
    started = call.data["started_at"]
    if not isinstance(started, datetime):
        started = datetime.combine(started, time(12), UTC)
    details = await coordinator.client.get_call(
        call.data["uuid"], dt_util.as_utc(started)
    )
    return cast(dict[str, JsonValueType], details)


ACTIONS: dict[str, Action[HipcallCoordinator]] = {
    "call": Action(schema=CALL_SCHEMA, handler=click_to_call),
    "get_call": Action(schema=GET_CALL_SCHEMA, handler=get_call),
    "create_task": Action(schema=CREATE_TASK_SCHEMA, handler=create_task),
    "add_comment": Action(schema=ADD_COMMENT_SCHEMA, handler=add_comment),
}
