"""Actions for Hipcall: create_task and add_comment, answered with what was created."""

import json
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous as vol

from custom_components.commhub.const import DOMAIN
from sandbox import Fault, Sandbox

from .conftest import SetupEntry
from .helpers import call


def posted(sandbox: Sandbox, path: str) -> list[dict[str, Any]]:
    """JSON bodies POSTed to a Hipcall path."""
    return [
        json.loads(r.body)
        for r in sandbox.hipcall.requests
        if r.method == "POST" and r.path.endswith(path)
    ]


@pytest.fixture
async def entry(setup_hipcall: SetupEntry, sandbox: Sandbox) -> MockConfigEntry:
    """A loaded Hipcall entry; the request log starts empty."""
    entry = await setup_hipcall()
    sandbox.hipcall.requests.clear()
    return entry


async def test_create_task_returns_the_created_task(
    hass: HomeAssistant, entry: MockConfigEntry, sandbox: Sandbox
) -> None:
    """The body follows the seed's example; the response is Hipcall's task."""
    await hass.config.async_set_time_zone("Europe/Istanbul")
    response = await call(
        hass,
        "create_task",
        entry,
        name="Call back +905326202911",
        description="Abandoned in the queue",
        due_date="2026-11-24 10:30:00",
        assign_to=2,
        priority="high",
        contact_ids=[1, 2],
    )
    assert posted(sandbox, "/tasks") == [
        {
            "name": "Call back +905326202911",
            "description": "Abandoned in the queue",
            "due_date": "20261124 10:30:00",
            "assign_to": 2,
            "priority": "high",
            "contact_ids": [1, 2],
        }
    ]
    assert response["name"] == "Call back +905326202911"
    assert response["priority"] == "high"
    assert isinstance(response["id"], int)
    assert response["id"] in {t["id"] for t in sandbox.hipcall.tasks}


async def test_add_comment_returns_the_comment(
    hass: HomeAssistant, entry: MockConfigEntry, sandbox: Sandbox
) -> None:
    """A comment on a contact."""
    response = await call(
        hass,
        "add_comment",
        entry,
        commentable_type="contact",
        commentable_id=1,
        content="Called while we were closed.",
    )
    assert posted(sandbox, "/comments") == [
        {
            "commentable_type": "contact",
            "commentable_id": 1,
            "content": "Called while we were closed.",
        }
    ]
    assert response["content"] == "Called while we were closed."
    assert response["commentable_type"] == "contact"


async def test_the_apis_validation_message_is_a_validation_error(
    hass: HomeAssistant, entry: MockConfigEntry, sandbox: Sandbox
) -> None:
    """A 422 names the field; the user sees Hipcall's own words."""
    sandbox.hipcall.add_fault(Fault("error", status=422, count=1))
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "add_comment",
            entry,
            commentable_type="deal",
            commentable_id=7,
            content="x",
        )
    assert err.value.translation_key == "rejected_fields"
    assert err.value.translation_placeholders["error"]


async def test_bad_fields_never_reach_hipcall(
    hass: HomeAssistant, entry: MockConfigEntry, sandbox: Sandbox
) -> None:
    """Schema errors: nothing is sent."""
    for data in (
        {"name": ""},
        {"name": "x", "priority": "urgent"},
        {"name": "x", "contact_ids": ["one"]},
    ):
        with pytest.raises(vol.Invalid):
            await call(hass, "create_task", entry, **data)
    with pytest.raises(vol.Invalid):
        await call(
            hass,
            "add_comment",
            entry,
            commentable_type="lead",
            commentable_id=1,
            content="x",
        )
    assert sandbox.hipcall.requests == []


async def test_hipcall_actions_refuse_other_services(
    hass: HomeAssistant,
    setup_hipmob: SetupEntry,
    entry: MockConfigEntry,
    sandbox: Sandbox,
) -> None:
    """create_task on a Hipmob entry, send_message on a Hipcall entry: refused."""
    hipmob = await setup_hipmob()
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "create_task", hipmob, name="x")
    assert err.value.translation_key == "wrong_service"
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "send_message", entry, to="+905326202911", message="hi")
    assert err.value.translation_key == "wrong_service"
    assert sandbox.hipcall.requests == []


async def test_failures_say_so(
    hass: HomeAssistant, entry: MockConfigEntry, sandbox: Sandbox
) -> None:
    """5xx is a HomeAssistantError; 401 also asks for a new token."""
    sandbox.hipcall.add_fault(Fault("error", status=500))
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "create_task", entry, name="x")
    assert err.value.translation_key == "service_unavailable"
    sandbox.hipcall.token = "revoked"
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "create_task", entry, name="x")
    assert err.value.translation_key == "auth_failed"
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == ["reauth"]
