"""The automation blueprints in blueprints/automation/commhub/.

Each is loaded with Home Assistant's own blueprint machinery, its inputs filled and
the automation it makes validated; then it runs as an automation in Home Assistant,
gets the CommHub event the contract describes and must call the expected actions
(mocked with the schemas of the real ones, so a call with a field the action would
refuse fails here too).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
import shutil
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.automation.config import (
    AUTOMATION_BLUEPRINT_SCHEMA,
    ValidationStatus,
    async_validate_config_item,
)
from homeassistant.components.blueprint import (
    Blueprint,
    BlueprintInputs,
    MissingInput,
)
from homeassistant.components.homeassistant.scene import CREATE_SCENE_SCHEMA
from homeassistant.components.light import LIGHT_TURN_OFF_SCHEMA, LIGHT_TURN_ON_SCHEMA
from homeassistant.core import HomeAssistant, ServiceCall, SupportsResponse
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import config_validation as cv
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util, yaml as yaml_util
from homeassistant.util.yaml import Input
import pytest
from pytest_homeassistant_custom_component.common import (
    async_fire_time_changed,
    async_mock_service,
)
import voluptuous as vol

ROOT = Path(__file__).parent.parent
BLUEPRINTS = ROOT / "blueprints" / "automation" / "commhub"
SOURCE_URL = (
    "https://github.com/commhub/commhub/blob/main/blueprints/automation/commhub/"
)

HIPCALL_ENTRY = "01JD6Q3Y8V7N0C2K5M4P9R1HXW"
MOBINITI_ENTRY = "01JD6Q4B2F9T3S6W8Y0A5D7GZE"
IP1_ENTRY = "01JD6Q4K7H1J4L6N8Q0S2U4WXB"
OTHER_ENTRY = "01JD6Q5C9E2G4J6L8N0P2R4TVA"
PHONE = "notify.pixel_8"
LIGHTS = ["light.office", "light.hallway"]

# Wednesday 4 March 2026, 19:00 in Berlin (CET, UTC+1).
NOW = "2026-03-04T18:00:00+00:00"
TIME_ZONE = "Europe/Berlin"

MISSED_CALL = {
    "config_entry_id": HIPCALL_ENTRY,
    "service": "hipcall",
    "uuid": "3f1c2a9e-7b64-4d0e-9a51-6c2f8e0d4b17",
    "started_at": "2026-03-04T17:52:10+00:00",
    "ended_at": "2026-03-04T17:52:41+00:00",
    "caller_number": "+905326202911",
    "callee_number": "+908502200000",
    "user_id": 2,
    "reason": "abandoned",
    "direction": "inbound",
    "call_duration": 31,
    "has_voicemail": True,
    "catch_up": False,
}
INCOMING_CALL = {
    "config_entry_id": HIPCALL_ENTRY,
    "service": "hipcall",
    "uuid": "8d0e4f6a-2c1b-4e3d-b5a7-9f8e7d6c5b4a",
    "started_at": "2026-03-04T17:59:58+00:00",
    "caller_number": "+905326202911",
    "callee_number": "+908502200000",
    "user_id": 2,
    "direction": "inbound",
}
UNSUBSCRIBE = {
    "config_entry_id": MOBINITI_ENTRY,
    "service": "mobiniti",
    "contact_id": "c0a8f1e2-3b4d-4c5e-8f90-a1b2c3d4e5f6",
    "phone_number": "+12025550101",
    "to": "+12025550199",
    "unsubscribed_at": "2026-03-04T17:40:00+00:00",
    "first_name": "Jane",
    "last_name": "Doe",
    "email": "jane.doe@example.com",
}
INBOUND_SMS = {
    "config_entry_id": IP1_ENTRY,
    "service": "ip1",
    "phone_number": "46701234567",
    "message": "Can you call me back before 6?",
    "received_at": "2026-03-04T17:58:03+00:00",
    "message_id": "ip1-9f2c41",
    "catch_up": False,
}
CREATED_TASK = {"id": 77, "name": "Call back +905326202911"}


@dataclass(frozen=True)
class Case:
    """One blueprint: the inputs an automation gives it, and what it must do."""

    event_type: str
    event_data: dict[str, Any]
    inputs: dict[str, Any]
    # (domain, action) → the data of the one call each event must make
    expected: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)


CASES = {
    "missed_call_callback.yaml": Case(
        "commhub_missed_call",
        MISSED_CALL,
        {"config_entry": HIPCALL_ENTRY, "notify_entities": [PHONE]},
        {
            ("commhub", "create_task"): {
                "config_entry_id": HIPCALL_ENTRY,
                "name": "Call back +905326202911",
                "description": "Missed call from +905326202911 to +908502200000"
                " at 18:52 (abandoned). Voicemail left."
                " Hipcall call 3f1c2a9e-7b64-4d0e-9a51-6c2f8e0d4b17.",
                "priority": "high",
                "assign_to": 2,
                "due_date": datetime.fromisoformat("2026-03-04T20:00:00+01:00"),
            },
            ("notify", "send_message"): {
                "entity_id": [PHONE],
                "title": "Missed call from +905326202911",
                "message": "+905326202911 called at 18:52 (abandoned)."
                " Voicemail left. A call-back task was created in Hipcall.",
            },
        },
    ),
    "unsubscribe_notification.yaml": Case(
        "commhub_unsubscribe",
        UNSUBSCRIBE,
        {"config_entry": MOBINITI_ENTRY, "notify_entities": [PHONE]},
        {
            ("notify", "send_message"): {
                "entity_id": [PHONE],
                "title": "Unsubscribed: +12025550101",
                "message": "Jane Doe (+12025550101) unsubscribed at 18:40.",
            },
        },
    ),
    "inbound_sms_notification.yaml": Case(
        "commhub_inbound_message",
        INBOUND_SMS,
        {"config_entry": IP1_ENTRY, "notify_entities": [PHONE]},
        {
            ("notify", "send_message"): {
                "entity_id": [PHONE],
                "title": "SMS from 46701234567",
                "message": "Can you call me back before 6?",
            },
        },
    ),
    "incoming_call_light_flash.yaml": Case(
        "commhub_incoming_call",
        INCOMING_CALL,
        {"config_entry": HIPCALL_ENTRY, "lights": LIGHTS},
        {("light", "turn_on"): {"entity_id": LIGHTS, "flash": "short"}},
    ),
}
NAMES = sorted(CASES)


def load(name: str) -> Blueprint:
    """The blueprint file, loaded and validated as Home Assistant does it."""
    return Blueprint(
        yaml_util.load_yaml_dict(BLUEPRINTS / name),
        path=name,
        expected_domain="automation",
        schema=AUTOMATION_BLUEPRINT_SCHEMA,
    )


def instance(name: str, **inputs: Any) -> dict[str, Any]:
    """An automation using the blueprint with its case's inputs (and `inputs`)."""
    return {
        "alias": name.removesuffix(".yaml"),
        "use_blueprint": {
            "path": f"commhub/{name}",
            "input": {**CASES[name].inputs, **inputs},
        },
    }


def contains_input(value: Any) -> bool:
    """Whether an `!input` survived the substitution anywhere in `value`."""
    if isinstance(value, Input):
        return True
    if isinstance(value, dict):
        return any(contains_input(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_input(v) for v in value)
    return False


def keys(value: Any) -> set[str]:
    """Every mapping key anywhere in `value`."""
    if isinstance(value, dict):
        return set(value).union(*(keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(keys(v) for v in value))
    return set()


def test_folder_holds_exactly_the_four() -> None:
    """Nothing but the four blueprints, so none escapes the tests below."""
    assert sorted(path.name for path in BLUEPRINTS.iterdir()) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_blueprint_is_valid(name: str) -> None:
    """Schema, metadata, typed inputs, all used; the modern automation syntax."""
    blueprint = load(name)
    data = blueprint.data
    metadata = blueprint.metadata

    assert blueprint.domain == "automation"
    assert metadata["source_url"] == SOURCE_URL + name
    assert metadata["author"] == "CommHub"
    assert metadata["name"].startswith("CommHub")
    assert metadata["description"]
    assert blueprint.validate() is None  # this Home Assistant is recent enough

    for key, spec in blueprint.inputs.items():
        assert spec["name"], key
        assert "selector" in spec, f"input {key} has no selector"
    # every declared input is used (and the Blueprint refuses undeclared ones)
    assert yaml_util.extract_inputs(data) == set(blueprint.inputs)

    assert {"triggers", "actions", "mode"} <= set(data)
    assert not {"trigger", "action", "condition"} & set(data)
    # nowhere the old names (`platform:` triggers, `service:` actions)
    assert not {"platform", "service", "service_template", "data_template"} & keys(
        {k: v for k, v in data.items() if k != "blueprint"}
    )
    assert [t["trigger"] for t in data["triggers"]] == ["event"]
    assert [t["event_type"] for t in data["triggers"]] == [CASES[name].event_type]


@pytest.mark.parametrize("name", NAMES)
async def test_filled_blueprint_is_a_valid_automation(
    hass: HomeAssistant, name: str
) -> None:
    """With realistic inputs the blueprint makes an automation that validates."""
    blueprint = load(name)
    inputs = BlueprintInputs(blueprint, instance(name))
    inputs.validate()
    config = inputs.async_substitute()

    assert not contains_input(config)
    validated = await async_validate_config_item(hass, "blueprint", config)
    assert validated is not None
    assert validated.validation_status is ValidationStatus.OK, (
        validated.validation_error
    )


@pytest.mark.parametrize("name", NAMES)
def test_required_inputs_cannot_be_left_out(name: str) -> None:
    """An input without a default is required: leaving it out is refused."""
    blueprint = load(name)
    required = [key for key, spec in blueprint.inputs.items() if "default" not in spec]
    assert required, "the user must choose at least whom to tell or what to flash"
    for key in required:
        config = instance(name)
        del config["use_blueprint"]["input"][key]
        with pytest.raises(MissingInput, match=key):
            BlueprintInputs(blueprint, config).validate()


@pytest.fixture
def blueprint_folder(hass_config_dir: str) -> Path:
    """The repository's blueprints, installed as a user imports them."""
    target = Path(hass_config_dir, "blueprints", "automation", "commhub")
    shutil.copytree(BLUEPRINTS, target, dirs_exist_ok=True)
    return target


@pytest.fixture
def frozen(freezer: FrozenDateTimeFactory) -> FrozenDateTimeFactory:
    """A fixed now, so the texts' times are known."""
    freezer.move_to(NOW)
    return freezer


@dataclass
class Mocks:
    """The mocked actions, each with the real action's schema."""

    calls: dict[tuple[str, str], list[ServiceCall]]

    def made(self) -> dict[tuple[str, str], list[dict[str, Any]]]:
        """The calls made so far, by action (those that were called)."""
        return {
            key: [dict(call.data) for call in calls]
            for key, calls in self.calls.items()
            if calls
        }


async def mock_actions(
    hass: HomeAssistant, *, task_error: Exception | None = None
) -> Mocks:
    """Mock notify, light, scene and commhub.create_task with their real schemas."""
    # The integration registers create_task with its schema: take that one.
    assert await async_setup_component(hass, "commhub", {})
    create_task_schema = hass.services.async_services_for_domain("commhub")[
        "create_task"
    ].schema
    assert create_task_schema is not None
    calls = {
        ("commhub", "create_task"): async_mock_service(
            hass,
            "commhub",
            "create_task",
            schema=create_task_schema,
            response=CREATED_TASK,
            supports_response=SupportsResponse.OPTIONAL,
            raise_exception=task_error,
        ),
        ("notify", "send_message"): async_mock_service(
            hass,
            "notify",
            "send_message",
            schema=cv.make_entity_service_schema(
                {vol.Required("message"): cv.string, vol.Optional("title"): cv.string}
            ),
        ),
        ("light", "turn_on"): async_mock_service(
            hass,
            "light",
            "turn_on",
            schema=cv.make_entity_service_schema(LIGHT_TURN_ON_SCHEMA),
        ),
        ("light", "turn_off"): async_mock_service(
            hass,
            "light",
            "turn_off",
            schema=cv.make_entity_service_schema(LIGHT_TURN_OFF_SCHEMA),
        ),
        ("scene", "create"): async_mock_service(
            hass, "scene", "create", schema=CREATE_SCENE_SCHEMA
        ),
        ("scene", "turn_on"): async_mock_service(
            hass, "scene", "turn_on", schema=cv.make_entity_service_schema({})
        ),
    }
    return Mocks(calls)


async def start(hass: HomeAssistant, *automations: dict[str, Any]) -> None:
    """Set up the automations; each must be on (a broken blueprint is not)."""
    await hass.config.async_set_time_zone(TIME_ZONE)
    assert await async_setup_component(
        hass, "automation", {"automation": list(automations)}
    )
    await hass.async_block_till_done()
    for automation in automations:
        state = hass.states.get(f"automation.{automation['alias']}")
        assert state is not None
        assert state.state == "on", state.attributes


async def fire(hass: HomeAssistant, event_type: str, data: dict[str, Any]) -> None:
    """Fire a CommHub event and let the automations finish."""
    hass.bus.async_fire(event_type, data)
    await hass.async_block_till_done()


@pytest.mark.usefixtures("blueprint_folder", "frozen")
@pytest.mark.parametrize("name", NAMES)
async def test_blueprint_reacts_to_its_event(hass: HomeAssistant, name: str) -> None:
    """The event of the chosen entry makes the expected calls; another entry's not."""
    case = CASES[name]
    mocks = await mock_actions(hass)
    await start(hass, instance(name))

    await fire(
        hass, case.event_type, {**case.event_data, "config_entry_id": OTHER_ENTRY}
    )
    assert mocks.made() == {}

    await fire(hass, case.event_type, case.event_data)
    assert mocks.made() == {key: [data] for key, data in case.expected.items()}


@pytest.mark.usefixtures("blueprint_folder", "frozen")
async def test_blueprints_react_to_every_entry_by_default(hass: HomeAssistant) -> None:
    """Without a chosen entry, the events of every entry count."""
    mocks = await mock_actions(hass)
    await start(
        hass,
        *(instance(name, config_entry="") for name in NAMES),
    )
    for name in NAMES:
        case = CASES[name]
        await fire(
            hass, case.event_type, {**case.event_data, "config_entry_id": OTHER_ENTRY}
        )
    made = mocks.made()
    assert {key: len(calls) for key, calls in made.items()} == {
        ("commhub", "create_task"): 1,
        ("notify", "send_message"): 3,
        ("light", "turn_on"): 1,
    }
    assert made["commhub", "create_task"][0]["config_entry_id"] == OTHER_ENTRY


@pytest.mark.usefixtures("blueprint_folder", "frozen")
async def test_missed_call_without_caller_user_or_due_date(
    hass: HomeAssistant,
) -> None:
    """Nothing the event lacks is invented: no number, no assignee, no due date."""
    mocks = await mock_actions(hass)
    await start(hass, instance("missed_call_callback.yaml", due_in=0))
    await fire(
        hass,
        "commhub_missed_call",
        {
            **MISSED_CALL,
            "caller_number": None,
            "callee_number": None,
            "user_id": None,
            "reason": None,
            "has_voicemail": False,
        },
    )
    [task] = mocks.made()["commhub", "create_task"]
    assert task == {
        "config_entry_id": HIPCALL_ENTRY,
        "name": "Call back an unknown number",
        "description": "Missed call from an unknown number at 18:52 (reason unknown)."
        " Hipcall call 3f1c2a9e-7b64-4d0e-9a51-6c2f8e0d4b17.",
        "priority": "high",
    }


@pytest.mark.usefixtures("blueprint_folder", "frozen")
async def test_missed_call_task_settings(hass: HomeAssistant) -> None:
    """A chosen assignee, priority and due time win over the event's user."""
    mocks = await mock_actions(hass)
    await start(
        hass,
        instance("missed_call_callback.yaml", assign_to=7, priority="low", due_in=1440),
    )
    await fire(hass, "commhub_missed_call", MISSED_CALL)
    [task] = mocks.made()["commhub", "create_task"]
    assert task["assign_to"] == 7
    assert task["priority"] == "low"
    assert task["due_date"] == datetime.fromisoformat("2026-03-05T19:00:00+01:00")


@pytest.mark.usefixtures("blueprint_folder", "frozen")
async def test_missed_call_found_after_an_outage(hass: HomeAssistant) -> None:
    """A call of an earlier day shows its date, and that it was caught up."""
    mocks = await mock_actions(hass)
    await start(hass, instance("missed_call_callback.yaml"))
    await fire(
        hass,
        "commhub_missed_call",
        {
            **MISSED_CALL,
            "started_at": "2026-03-03T22:40:00+00:00",
            "reason": "out_of_business_hours",
            "has_voicemail": False,
            "catch_up": True,
        },
    )
    [notification] = mocks.made()["notify", "send_message"]
    assert notification["message"] == (
        "+905326202911 called at 2026-03-03 23:40 (outside business hours)."
        " Found after an outage. A call-back task was created in Hipcall."
    )


@pytest.mark.usefixtures("blueprint_folder", "frozen")
async def test_missed_call_only_chosen_reasons(hass: HomeAssistant) -> None:
    """Calls with a reason the user left out are ignored."""
    mocks = await mock_actions(hass)
    await start(hass, instance("missed_call_callback.yaml", reasons=["callback"]))
    await fire(hass, "commhub_missed_call", MISSED_CALL)
    assert mocks.made() == {}
    await fire(hass, "commhub_missed_call", {**MISSED_CALL, "reason": "callback"})
    assert set(mocks.made()) == {("commhub", "create_task"), ("notify", "send_message")}


@pytest.mark.usefixtures("blueprint_folder", "frozen")
async def test_missed_call_without_task(hass: HomeAssistant) -> None:
    """With task creation off, only the notification goes out."""
    mocks = await mock_actions(hass)
    await start(hass, instance("missed_call_callback.yaml", create_task=False))
    await fire(hass, "commhub_missed_call", MISSED_CALL)
    assert mocks.made() == {
        ("notify", "send_message"): [
            {
                "entity_id": [PHONE],
                "title": "Missed call from +905326202911",
                "message": "+905326202911 called at 18:52 (abandoned). Voicemail left.",
            }
        ]
    }


@pytest.mark.usefixtures("blueprint_folder", "frozen")
async def test_missed_call_notifies_when_the_task_fails(hass: HomeAssistant) -> None:
    """A task Hipcall refuses does not cost the notification (nor claims a task)."""
    mocks = await mock_actions(hass, task_error=HomeAssistantError("Hipcall: 422"))
    await start(hass, instance("missed_call_callback.yaml"))
    await fire(hass, "commhub_missed_call", MISSED_CALL)
    made = mocks.made()
    assert len(made["commhub", "create_task"]) == 1
    [notification] = made["notify", "send_message"]
    assert notification["message"] == (
        "+905326202911 called at 18:52 (abandoned). Voicemail left."
    )


@pytest.mark.usefixtures("blueprint_folder", "frozen")
async def test_missed_call_additional_actions(hass: HomeAssistant) -> None:
    """Additional actions run with the notification's texts and the task."""
    mocks = await mock_actions(hass)
    extra = async_mock_service(hass, "persistent_notification", "create")
    await start(
        hass,
        instance(
            "missed_call_callback.yaml",
            additional_actions=[
                {
                    "action": "persistent_notification.create",
                    "data": {
                        "title": "{{ notification.title }}",
                        "message": "{{ notification.message }} Task {{ task.id }}.",
                    },
                }
            ],
        ),
    )
    await fire(hass, "commhub_missed_call", MISSED_CALL)
    assert len(mocks.made()["notify", "send_message"]) == 1
    assert [call.data for call in extra] == [
        {
            "title": "Missed call from +905326202911",
            "message": "+905326202911 called at 18:52 (abandoned). Voicemail left."
            " A call-back task was created in Hipcall. Task 77.",
        }
    ]


@pytest.mark.usefixtures("blueprint_folder", "frozen")
async def test_inbound_sms_texts_stay_texts(hass: HomeAssistant) -> None:
    """A sender or text that looks like a number reaches the phone unchanged."""
    mocks = await mock_actions(hass)
    await start(hass, instance("inbound_sms_notification.yaml", config_entry=""))
    await fire(
        hass,
        "commhub_inbound_message",
        {
            "config_entry_id": MOBINITI_ENTRY,
            "service": "mobiniti",
            "phone_number": "+12025550101",
            "message": "1.50",
            "received_at": "2026-03-04T17:58:03+00:00",
            "contact_id": "c0a8f1e2-3b4d-4c5e-8f90-a1b2c3d4e5f6",
        },
    )
    await fire(hass, "commhub_inbound_message", {**INBOUND_SMS, "message": None})
    assert mocks.made()["notify", "send_message"] == [
        {"entity_id": [PHONE], "title": "SMS from +12025550101", "message": "1.50"},
        {"entity_id": [PHONE], "title": "SMS from 46701234567", "message": "(no text)"},
    ]


@pytest.mark.usefixtures("blueprint_folder", "frozen")
async def test_inbound_sms_found_after_an_outage(hass: HomeAssistant) -> None:
    """A message caught up after an outage says when it was received."""
    mocks = await mock_actions(hass)
    await start(hass, instance("inbound_sms_notification.yaml"))
    await fire(
        hass,
        "commhub_inbound_message",
        {**INBOUND_SMS, "received_at": "2026-03-04T06:05:00+00:00", "catch_up": True},
    )
    [notification] = mocks.made()["notify", "send_message"]
    assert notification["message"] == (
        "Can you call me back before 6? (received 07:05, found after an outage)"
    )


@pytest.mark.usefixtures("blueprint_folder", "frozen")
async def test_unsubscribe_without_name(hass: HomeAssistant) -> None:
    """Only the number when the name is not wanted or Mobiniti has none."""
    mocks = await mock_actions(hass)
    await start(
        hass,
        instance("unsubscribe_notification.yaml", include_name=False),
    )
    await fire(hass, "commhub_unsubscribe", UNSUBSCRIBE)
    assert mocks.made()["notify", "send_message"] == [
        {
            "entity_id": [PHONE],
            "title": "Unsubscribed: +12025550101",
            "message": "+12025550101 unsubscribed at 18:40.",
        }
    ]


@pytest.mark.usefixtures("blueprint_folder", "frozen")
async def test_unsubscribe_found_by_polling(hass: HomeAssistant) -> None:
    """An unsubscribe found by polling: no `to`, no name, an earlier day."""
    mocks = await mock_actions(hass)
    await start(hass, instance("unsubscribe_notification.yaml"))
    await fire(
        hass,
        "commhub_unsubscribe",
        {
            **UNSUBSCRIBE,
            "to": None,
            "first_name": None,
            "last_name": None,
            "email": None,
            "unsubscribed_at": "2026-03-02T09:15:00+00:00",
        },
    )
    [notification] = mocks.made()["notify", "send_message"]
    assert notification["message"] == ("+12025550101 unsubscribed at 2026-03-02 10:15.")


@pytest.mark.usefixtures("blueprint_folder")
async def test_incoming_call_blinks_and_restores(hass: HomeAssistant) -> None:
    """Blink: snapshot, on and off `blink_count` times, then the snapshot back."""
    mocks = await mock_actions(hass)
    await start(
        hass,
        instance(
            "incoming_call_light_flash.yaml",
            method="blink",
            blink_count=2,
            blink_interval=0.5,
        ),
    )
    hass.bus.async_fire("commhub_incoming_call", INCOMING_CALL)
    await hass.async_block_till_done()
    for _ in range(4):  # each delay of 0.5 s
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=0.6))
        await hass.async_block_till_done()

    made = mocks.made()
    scene = "commhub_call_flash_automation_incoming_call_light_flash"
    assert made == {
        ("scene", "create"): [
            {"scene_id": scene, "snapshot_entities": LIGHTS, "entities": {}}
        ],
        ("light", "turn_on"): [{"entity_id": LIGHTS, "brightness_pct": 100}] * 2,
        ("light", "turn_off"): [{"entity_id": LIGHTS}] * 2,
        ("scene", "turn_on"): [{"entity_id": [f"scene.{scene}"]}],
    }
