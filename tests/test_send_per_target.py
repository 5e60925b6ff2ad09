"""commhub.send_message to several targets: each target gets its own result.

The defect these tests pin down: an outage (503, or a dropped connection) on one
target used to fail the whole send although other targets had already been sent, so
a retry sent those again. Now the response reports every target, and the action
raises only when no target got the message.

Each scenario is one provider's multi-target path where targets are sent one request
each (Hipmob JSON, Hipmob text once the batch was refused, Mobiniti numbers once the
batch was refused, Mobiniti scheduled messages). IP1 sends every recipient in one
batch request, so one target cannot get a 503 of its own there: its per-target
failure is a recipient IP1 refuses inside an accepted batch.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
import json
import re
from typing import Any

import aiohttp
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.commhub.const import DOMAIN
from sandbox import Fault, Sandbox
from sandbox.core import ServiceSandbox
from sandbox.ip1 import Batch

from .conftest import APP, FRIEND_1, FRIEND_2, JACK, SetupEntry
from .helpers import call

TEXT = "Per-target test"
JSON_BODY = {"alert": "door open", "zone": 3}
JANE = "+12025550101"
JOHN = "+12025550102"
UNSUBSCRIBED = "+12025550103"  # seeded Mobiniti contact that refuses messages
LEE = "+12025550105"
IP1_NUMBERS = ("46701111111", "46702222222", "46703333333")
IP1_UNDELIVERABLE = 402
RESULT_KEYS = {"to", "status", "id", "error"}


@dataclass
class Context:
    """What a scenario needs to break a send (sandbox, patching, the entry)."""

    sandbox: Sandbox
    monkeypatch: pytest.MonkeyPatch
    entry: MockConfigEntry


def fault_on_nth(service: ServiceSandbox, path: str, n: int) -> None:
    """A 503 for the n-th (0-based) POST to `path`, every other one answered.

    Faults apply in the order added and each is used up after `count` requests: a
    "timeout" fault of zero seconds lets the first n requests through unchanged.
    """
    if n:
        service.add_fault(Fault("timeout", delay=0, count=n, path=path, method="POST"))
    service.add_fault(Fault("error", status=503, count=1, path=path, method="POST"))


class _DisconnectingSession:
    """The client's session, except that one target's request loses the connection.

    Only the first request the predicate matches fails, and it never reaches the
    service (as when the connection drops before the request was read).
    """

    def __init__(
        self, session: aiohttp.ClientSession, matches: Callable[..., bool]
    ) -> None:
        self._session = session
        self._matches = matches
        self.dropped = 0

    def request(self, method: str, url: Any, **kwargs: Any) -> Any:
        if not self.dropped and self._matches(method, str(url), kwargs):
            self.dropped += 1
            raise aiohttp.ServerDisconnectedError
        return self._session.request(method, url, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


def disconnect_target(ctx: Context, target: str) -> _DisconnectingSession:
    """Drop the connection of the first single-target request for `target`."""

    def matches(method: str, url: str, kwargs: dict[str, Any]) -> bool:
        body = kwargs.get("json")
        in_body = isinstance(body, dict) and body.get("phone_number") == target
        return method == "POST" and (f"/{target}/" in url or in_body)

    client = ctx.entry.runtime_data.client
    proxy = _DisconnectingSession(client._session, matches)
    ctx.monkeypatch.setattr(client, "_session", proxy)
    return proxy


class Scenario:
    """One provider's multi-target send: how to break it and what it delivered."""

    id: str
    fixture: str
    targets: tuple[str, ...]
    status: str  # what a target that got the message reports
    failure: str = "503"  # "503", "disconnect" or "refused"

    def fields(self) -> dict[str, Any]:
        """The message fields besides `to`."""
        return {"message": TEXT}

    def break_one(self, ctx: Context, target: str, index: int) -> None:
        """Make exactly this target's request fail (once)."""
        raise NotImplementedError

    def break_all(self, ctx: Context) -> None:
        """Make every request that sends fail with 503 (until cleared)."""
        service = ctx.sandbox.services[self.fixture.removeprefix("setup_")]
        service.add_fault(Fault("error", status=503, method="POST", count=None))

    def delivered(self, sandbox: Sandbox, target: str) -> list[str | None]:
        """The id of each message of this test the service holds for `target`."""
        raise NotImplementedError


class HipmobScenario(Scenario):
    """Hipmob: one POST per device (JSON), or per device after a refused batch."""

    fixture = "setup_hipmob"
    targets = (JACK, FRIEND_1, FRIEND_2)
    status = "sent"

    def __init__(self, kind: str, failure: str = "503") -> None:
        self.kind = kind
        self.failure = failure
        self.id = f"hipmob-{kind}-{failure}"

    def fields(self) -> dict[str, Any]:
        if self.kind == "json":
            return {"json": JSON_BODY}
        return {"message": TEXT}

    def break_one(self, ctx: Context, target: str, index: int) -> None:
        hipmob = ctx.sandbox.hipmob
        if self.kind == "text":
            # Refuse the one-request batch so that each device is sent alone.
            hipmob.add_fault(
                Fault("error", status=400, path=r"/devices/messages$", method="POST")
            )
        if self.failure == "disconnect":
            disconnect_target(ctx, target)
            return
        path = f"/devices/{re.escape(target)}/messages$"
        hipmob.add_fault(Fault("error", status=503, path=path, method="POST"))

    def delivered(self, sandbox: Sandbox, target: str) -> list[str | None]:
        messages = sandbox.hipmob.device(APP, target).messages
        if self.kind == "json":
            found = [
                m
                for m in messages
                if m.content_type == "application/json"
                and json.loads(m.body) == JSON_BODY
            ]
        else:
            found = [m for m in messages if m.body == TEXT.encode()]
        return [None for _ in found]  # Hipmob gives no message ids


class MobinitiScenario(Scenario):
    """Mobiniti: numbers one by one after a refused batch, or scheduled ones."""

    fixture = "setup_mobiniti"
    targets = (JANE, JOHN, LEE)

    def __init__(self, kind: str, failure: str = "503") -> None:
        self.kind = kind
        self.failure = failure
        self.id = f"mobiniti-{kind}-{failure}"
        self.status = "scheduled" if kind == "scheduled" else "sent"
        self.send_at = dt_util.utcnow().replace(microsecond=0) + timedelta(hours=2)

    def fields(self) -> dict[str, Any]:
        if self.kind == "scheduled":
            return {"message": TEXT, "send_at": self.send_at.isoformat()}
        return {"message": TEXT}

    def break_one(self, ctx: Context, target: str, index: int) -> None:
        mobiniti = ctx.sandbox.mobiniti
        if self.kind == "now":
            # Refuse the batch (422) so that each number is sent alone.
            mobiniti.add_fault(
                Fault("error", status=422, path=r"/v1/message/batch$", method="POST")
            )
        if self.failure == "disconnect":
            disconnect_target(ctx, target)
            return
        path = r"/v1/message/schedule$" if self.kind == "scheduled" else r"/v1/message$"
        fault_on_nth(mobiniti, path, index)  # numbers are sent in the order given

    def delivered(self, sandbox: Sandbox, target: str) -> list[str | None]:
        mobiniti = sandbox.mobiniti
        if self.kind == "scheduled":
            return [
                s.id
                for s in mobiniti.scheduled.values()
                if s.phone_number == target and s.message == TEXT
            ]
        return [
            m.id
            for m in mobiniti.messages.values()
            if not m.incoming and m.phone_number == target and m.message == TEXT
        ]


class Ip1Scenario(Scenario):
    """IP1: one batch; the per-target failure is a recipient IP1 refuses."""

    id = "ip1-refused"
    fixture = "setup_ip1"
    targets = IP1_NUMBERS
    status = "queued"  # IP1 answers a new batch with status 101 (queued)
    failure = "refused"

    def break_one(self, ctx: Context, target: str, index: int) -> None:
        ip1 = ctx.sandbox.ip1
        original = ip1.send_batch
        refused: list[str] = []

        def send_batch(*args: Any, **kwargs: Any) -> Batch:
            batch = original(*args, **kwargs)
            for message_id in batch.message_ids:
                if ip1.messages[message_id].recipient == target and not refused:
                    ip1.set_status(message_id, IP1_UNDELIVERABLE)
                    refused.append(message_id)
            return batch

        ctx.monkeypatch.setattr(ip1, "send_batch", send_batch)

    def delivered(self, sandbox: Sandbox, target: str) -> list[str | None]:
        return [
            m.id
            for m in sandbox.ip1.messages.values()
            if m.recipient == target and m.body == TEXT and m.code < 400
        ]


ONE_FAILS: list[Scenario] = [
    HipmobScenario("json"),
    HipmobScenario("json", "disconnect"),
    HipmobScenario("text"),
    MobinitiScenario("now"),
    MobinitiScenario("scheduled"),
    MobinitiScenario("scheduled", "disconnect"),
    Ip1Scenario(),
]
ALL_FAIL: list[Scenario] = [
    HipmobScenario("json"),
    HipmobScenario("text"),
    MobinitiScenario("now"),
    MobinitiScenario("scheduled"),
    Ip1Scenario(),
]


def _ids(scenarios: Sequence[Scenario]) -> list[str]:
    return [scenario.id for scenario in scenarios]


async def _send(
    hass: HomeAssistant, entry: MockConfigEntry, scenario: Scenario, to: list[str]
) -> dict[str, Any]:
    return await call(hass, "send_message", entry, to=to, **scenario.fields())


@pytest.fixture
def setups(
    setup_hipmob: SetupEntry, setup_ip1: SetupEntry, setup_mobiniti: SetupEntry
) -> dict[str, SetupEntry]:
    """Every provider's entry setup, by fixture name (one sandbox serves them)."""
    return {
        "setup_hipmob": setup_hipmob,
        "setup_ip1": setup_ip1,
        "setup_mobiniti": setup_mobiniti,
    }


async def _setup(
    setups: dict[str, SetupEntry], sandbox: Sandbox, scenario: Scenario
) -> MockConfigEntry:
    """Set the scenario's entry up; forget the setup's own requests."""
    entry = await setups[scenario.fixture]()
    for service in sandbox.services.values():
        service.requests.clear()
    return entry


def _counts(sandbox: Sandbox, scenario: Scenario) -> dict[str, int]:
    return {t: len(scenario.delivered(sandbox, t)) for t in scenario.targets}


async def _send_with_one_failure(
    hass: HomeAssistant,
    setups: dict[str, SetupEntry],
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    scenario: Scenario,
) -> tuple[MockConfigEntry, str, dict[str, Any]]:
    """Send to every target with the middle one broken: (entry, failed, response)."""
    entry = await _setup(setups, sandbox, scenario)
    failed = scenario.targets[1]
    scenario.break_one(Context(sandbox, monkeypatch, entry), failed, 1)
    response = await _send(hass, entry, scenario, list(scenario.targets))
    return entry, failed, response


@pytest.mark.parametrize("scenario", ONE_FAILS, ids=_ids(ONE_FAILS))
async def test_one_failed_target_is_reported_and_the_others_sent_once(
    hass: HomeAssistant,
    setups: dict[str, SetupEntry],
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    scenario: Scenario,
) -> None:
    """The response reports each target; only the broken one failed."""
    _, failed, response = await _send_with_one_failure(
        hass, setups, sandbox, monkeypatch, scenario
    )

    results = response["results"]
    assert [r["to"] for r in results] == list(scenario.targets)
    assert all(set(r) == RESULT_KEYS for r in results)
    by_target = {r["to"]: r for r in results}

    failure = by_target[failed]
    assert failure["status"] == "failed"
    assert isinstance(failure["error"], str)
    assert failure["error"].strip()
    if scenario.failure == "503":
        assert "503" in failure["error"]
    if scenario.failure == "disconnect":
        assert "Disconnected" in failure["error"]
    assert scenario.delivered(sandbox, failed) == []

    for target in scenario.targets:
        if target == failed:
            continue
        result = by_target[target]
        delivered = scenario.delivered(sandbox, target)
        assert len(delivered) == 1, f"{target} got {len(delivered)} messages"
        assert result["status"] == scenario.status
        assert result["error"] is None
        # The id of the message the service holds (Hipmob gives none).
        assert result["id"] == delivered[0]
        if isinstance(scenario, MobinitiScenario | Ip1Scenario):
            assert result["id"]


@pytest.mark.parametrize("scenario", ONE_FAILS, ids=_ids(ONE_FAILS))
async def test_retrying_the_failed_target_sends_it_once(
    hass: HomeAssistant,
    setups: dict[str, SetupEntry],
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    scenario: Scenario,
) -> None:
    """A retry of what failed completes the send; no target gets it twice."""
    entry, failed, first = await _send_with_one_failure(
        hass, setups, sandbox, monkeypatch, scenario
    )
    retry_to = [r["to"] for r in first["results"] if r["status"] == "failed"]
    assert retry_to == [failed]
    for service in sandbox.services.values():
        assert service.faults == []  # every injected fault was used up

    response = await _send(hass, entry, scenario, retry_to)

    [result] = response["results"]
    assert result["to"] == failed
    assert result["status"] == scenario.status
    assert result["error"] is None
    assert _counts(sandbox, scenario) == dict.fromkeys(scenario.targets, 1)


@pytest.mark.parametrize(
    "scenario",
    ALL_FAIL,
    ids=[i.rsplit("-", 1)[0] for i in _ids(ALL_FAIL)],  # every POST answers 503
)
async def test_every_target_failed_raises_a_translated_error(
    hass: HomeAssistant,
    setups: dict[str, SetupEntry],
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    scenario: Scenario,
) -> None:
    """No target got the message: a translated HomeAssistantError, nothing sent."""
    entry = await _setup(setups, sandbox, scenario)
    scenario.break_all(Context(sandbox, monkeypatch, entry))

    with pytest.raises(HomeAssistantError) as err:
        await _send(hass, entry, scenario, list(scenario.targets))

    assert not isinstance(err.value, ServiceValidationError)  # not bad input
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "service_unavailable"
    assert err.value.translation_placeholders == {"error": "HTTP 503"}
    assert str(err.value) == "The service could not be reached: HTTP 503"
    assert _counts(sandbox, scenario) == dict.fromkeys(scenario.targets, 0)
    posts = [
        r
        for service in sandbox.services.values()
        for r in service.requests
        if r.method == "POST"
    ]
    assert posts, "the send never reached the service"
    assert all(r.status == 503 for r in posts)


async def test_every_target_refused_or_unreachable_raises_send_failed(
    hass: HomeAssistant, sandbox: Sandbox, setup_hipmob: SetupEntry
) -> None:
    """A refused device and outages on the others: still an error, nothing sent."""
    entry = await setup_hipmob()
    unknown = "not-a-device-of-this-app"
    # The unknown device is refused by Hipmob itself (404 "Device not found").
    reachable = f"/devices/({re.escape(JACK)}|{re.escape(FRIEND_1)})/messages$"
    sandbox.hipmob.add_fault(Fault("error", status=503, path=reachable, count=None))

    with pytest.raises(HomeAssistantError) as err:
        await call(
            hass, "send_message", entry, to=[unknown, JACK, FRIEND_1], json=JSON_BODY
        )

    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "send_failed"
    assert str(err.value).startswith("The message was not sent to any recipient")
    hipmob = HipmobScenario("json")
    assert hipmob.delivered(sandbox, JACK) == []
    assert hipmob.delivered(sandbox, FRIEND_1) == []


async def test_mobiniti_outage_on_a_later_batch_keeps_earlier_batches_sent(
    hass: HomeAssistant, sandbox: Sandbox, setup_mobiniti: SetupEntry
) -> None:
    """150 numbers are two batches; a 503 on the second fails only its 50 numbers.

    Retrying those 50 sends each once; the first 100 are never sent again.
    """
    entry = await setup_mobiniti()
    numbers = [f"+1202555{n:04d}" for n in range(2000, 2150)]
    fault_on_nth(sandbox.mobiniti, r"/v1/message/batch$", 1)

    response = await call(hass, "send_message", entry, to=numbers, message=TEXT)

    results = response["results"]
    assert [r["to"] for r in results] == numbers
    assert {r["status"] for r in results[:100]} == {"sent"}
    assert all(r["id"] in sandbox.mobiniti.messages for r in results[:100])
    assert {r["status"] for r in results[100:]} == {"failed"}
    assert {r["error"] for r in results[100:]} == {"HTTP 503"}

    retry = [r["to"] for r in results if r["status"] == "failed"]
    again = await call(hass, "send_message", entry, to=retry, message=TEXT)

    assert {r["status"] for r in again["results"]} == {"sent"}
    sent = [
        m.phone_number
        for m in sandbox.mobiniti.messages.values()
        if not m.incoming and m.message == TEXT
    ]
    assert sorted(sent) == sorted(numbers)  # each number exactly once


async def test_hipmob_credentials_refused_midway_answer_per_target_and_reauth(
    hass: HomeAssistant, sandbox: Sandbox, setup_hipmob: SetupEntry
) -> None:
    """A 401 after the first device was sent: a response, not an error, and reauth.

    The later devices are failed without being tried; a retry of the failed ones
    cannot send the first one twice.
    """
    entry = await setup_hipmob()
    targets = [JACK, FRIEND_1, FRIEND_2]
    fault_on_nth(sandbox.hipmob, "/messages$", 1)
    sandbox.hipmob.faults[-1].status = 401

    response = await call(hass, "send_message", entry, to=targets, json=JSON_BODY)

    results = response["results"]
    assert [(r["to"], r["status"]) for r in results] == [
        (JACK, "sent"),
        (FRIEND_1, "failed"),
        (FRIEND_2, "failed"),
    ]
    assert all(r["error"] for r in results[1:])
    hipmob = HipmobScenario("json")
    assert [len(hipmob.delivered(sandbox, t)) for t in targets] == [1, 0, 0]
    posts = [r for r in sandbox.hipmob.requests if r.method == "POST"]
    assert len(posts) == 2  # FRIEND_2 was not tried with refused credentials
    await hass.async_block_till_done()
    [flow] = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flow["context"]["source"] == "reauth"
    assert flow["context"]["entry_id"] == entry.entry_id


async def test_mobiniti_payment_required_on_a_later_batch_raises_the_repair(
    hass: HomeAssistant, sandbox: Sandbox, setup_mobiniti: SetupEntry
) -> None:
    """The second batch answers 402: the first stays sent, the issue is raised."""
    entry = await setup_mobiniti()
    numbers = [f"+1202555{n:04d}" for n in range(2000, 2150)]
    fault_on_nth(sandbox.mobiniti, r"/v1/message/batch$", 1)
    sandbox.mobiniti.faults[-1].status = 402

    response = await call(hass, "send_message", entry, to=numbers, message=TEXT)

    results = response["results"]
    assert {r["status"] for r in results[:100]} == {"sent"}
    assert {r["status"] for r in results[100:]} == {"failed"}
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"payment_required_{entry.entry_id}"
    )
    assert issue is not None
