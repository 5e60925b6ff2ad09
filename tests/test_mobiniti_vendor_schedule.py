"""Scheduling at the document's path or at the one Mobiniti's PHP client uses.

The document says `POST /v1/message/schedule`, the vendor's client
`/v1/messages/schedule`. CommHub tries the document's path, then the other one
once when the answer proves nothing was scheduled (404, 405), and keeps the path
that worked for the entry's later schedules.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import pytest

from custom_components.commhub.api import (
    CommHubConnectionError,
    CommHubNotFoundError,
    CommHubRateLimitedError,
    CommHubRequestError,
)
from custom_components.commhub.api.mobiniti import MobinitiClient
from sandbox import Fault, Sandbox
from sandbox.mobiniti import (
    SEED_JANE,
    SEED_JOHN,
    SEED_TOKEN,
    SEED_UNSUBSCRIBED,
    SchedulePaths,
)

from .conftest import SetupEntry
from .helpers import call

DOCUMENT = "/v1/message/schedule"
VENDOR = "/v1/messages/schedule"
PATH_OF: dict[SchedulePaths, str] = {
    "document": DOCUMENT,
    "vendor": VENDOR,
    "both": DOCUMENT,
}

# (paths the service serves, how it answers the other): every variant of the sandbox.
VARIANTS: list[tuple[SchedulePaths, int]] = [
    ("both", 404),
    ("document", 404),
    ("document", 405),
    ("vendor", 404),
    ("vendor", 405),
]

type MakeClient = Callable[[], MobinitiClient]


def serve(sandbox: Sandbox, paths: SchedulePaths, refusal: int = 404) -> None:
    """Switch which scheduling path the sandbox serves."""
    sandbox.mobiniti.schedule_paths = paths
    sandbox.mobiniti.schedule_refusal = refusal


def schedule_posts(sandbox: Sandbox) -> list[tuple[str, int]]:
    """(path, status) of every scheduling request the service received, in order."""
    return [
        (r.path, r.status)
        for r in sandbox.mobiniti.requests
        if r.method == "POST" and r.path in (DOCUMENT, VENDOR)
    ]


def later(hours: int = 2) -> datetime:
    """A time the service still takes as the future."""
    return datetime.now(UTC).replace(microsecond=0) + timedelta(hours=hours)


@pytest.fixture
async def make(hass: HomeAssistant, sandbox: Sandbox, sandbox_url: str) -> MakeClient:
    """A client of the sandbox's account, the 1 request/s per route off."""
    sandbox.mobiniti.rate_limit_enabled = False
    session = async_get_clientsession(hass)
    return lambda: MobinitiClient(
        session, SEED_TOKEN, f"{sandbox_url}/mobiniti", route_interval=0.0
    )


def expected_first(paths: SchedulePaths, refusal: int) -> list[tuple[str, int]]:
    """The requests of the first schedule: the document's path, then maybe the other."""
    if paths == "vendor":
        return [(DOCUMENT, refusal), (VENDOR, 201)]
    return [(DOCUMENT, 201)]


# -- the action --------------------------------------------------------------------


@pytest.mark.parametrize(("paths", "refusal"), VARIANTS)
async def test_send_at_schedules_once_per_number_on_every_variant(
    hass: HomeAssistant,
    sandbox: Sandbox,
    setup_mobiniti: SetupEntry,
    paths: SchedulePaths,
    refusal: int,
) -> None:
    """Each number scheduled exactly once; after a fallback one request a number."""
    serve(sandbox, paths, refusal)
    entry = await setup_mobiniti()
    before = set(sandbox.mobiniti.scheduled)
    send_at = later()
    response = await call(
        hass,
        "send_message",
        entry,
        to=[SEED_JANE, SEED_JOHN],
        message="Doors open at 9",
        send_at=send_at.isoformat(),
    )
    assert [(r["to"], r["status"]) for r in response["results"]] == [
        (SEED_JANE, "scheduled"),
        (SEED_JOHN, "scheduled"),
    ]
    created = {r["id"] for r in response["results"]}
    assert set(sandbox.mobiniti.scheduled) == before | created
    scheduled = [sandbox.mobiniti.scheduled[i] for i in created]
    assert sorted(s.phone_number for s in scheduled) == [SEED_JANE, SEED_JOHN]
    assert {s.send_at for s in scheduled} == {send_at}
    working = PATH_OF[paths]
    assert schedule_posts(sandbox) == [
        *expected_first(paths, refusal),
        (working, 201),
    ]


@pytest.mark.parametrize(("paths", "refusal"), VARIANTS)
async def test_a_later_action_goes_straight_to_the_working_path(
    hass: HomeAssistant,
    sandbox: Sandbox,
    setup_mobiniti: SetupEntry,
    paths: SchedulePaths,
    refusal: int,
) -> None:
    """The path that worked is kept for the entry: one request per later schedule."""
    serve(sandbox, paths, refusal)
    entry = await setup_mobiniti()
    for text in ("First", "Second"):
        response = await call(
            hass,
            "send_message",
            entry,
            to=SEED_JANE,
            message=text,
            send_at=later().isoformat(),
        )
        assert response["results"][0]["status"] == "scheduled"
    assert schedule_posts(sandbox) == [
        *expected_first(paths, refusal),
        (PATH_OF[paths], 201),
    ]


async def test_the_working_path_s_refusal_is_what_the_user_sees(
    hass: HomeAssistant, sandbox: Sandbox, setup_mobiniti: SetupEntry
) -> None:
    """A number the vendor's path refuses fails with that path's reason."""
    serve(sandbox, "vendor", 405)
    entry = await setup_mobiniti()
    response = await call(
        hass,
        "send_message",
        entry,
        to=[SEED_UNSUBSCRIBED, SEED_JANE],
        message="Sale",
        send_at=later().isoformat(),
    )
    results = {r["to"]: r for r in response["results"]}
    assert results[SEED_UNSUBSCRIBED]["status"] == "failed"
    assert "unsubscribed" in results[SEED_UNSUBSCRIBED]["error"]
    assert results[SEED_JANE]["status"] == "scheduled"
    assert schedule_posts(sandbox) == [
        (DOCUMENT, 405),
        (VENDOR, 422),
        (DOCUMENT, 405),
        (VENDOR, 201),
    ]


async def test_neither_path_scheduling_fails_the_action_once_per_number(
    hass: HomeAssistant, sandbox: Sandbox, setup_mobiniti: SetupEntry
) -> None:
    """No route at either path: two requests per number, never more."""
    serve(sandbox, "document", 404)
    sandbox.mobiniti.add_fault(
        Fault(kind="error", status=404, path=DOCUMENT, count=None)
    )
    entry = await setup_mobiniti()
    with pytest.raises(HomeAssistantError) as err:
        await call(
            hass,
            "send_message",
            entry,
            to=[SEED_JANE, SEED_JOHN],
            message="Sale",
            send_at=later().isoformat(),
        )
    assert err.value.translation_key == "send_failed"
    assert schedule_posts(sandbox) == [(DOCUMENT, 404), (VENDOR, 404)] * 2


# -- the client ----------------------------------------------------------------------


@pytest.mark.parametrize(("paths", "refusal"), VARIANTS)
async def test_client_schedules_on_every_variant(
    sandbox: Sandbox, make: MakeClient, paths: SchedulePaths, refusal: int
) -> None:
    """The answer is read from whichever path took the message."""
    serve(sandbox, paths, refusal)
    client = make()
    send_at = later(3)
    scheduled = await client.schedule_message(SEED_JOHN, "Reminder", send_at)
    assert scheduled.id in sandbox.mobiniti.scheduled
    assert (scheduled.phone_number, scheduled.send_at) == (SEED_JOHN, send_at)
    again = await client.schedule_message(SEED_JOHN, "Reminder 2", send_at)
    assert again.id in sandbox.mobiniti.scheduled
    assert schedule_posts(sandbox) == [
        *expected_first(paths, refusal),
        (PATH_OF[paths], 201),
    ]


async def test_each_client_learns_for_itself(
    sandbox: Sandbox, make: MakeClient
) -> None:
    """What one client learned is its own (kept for the entry's client)."""
    serve(sandbox, "vendor", 405)
    for client in (make(), make()):
        await client.schedule_message(SEED_JOHN, "Hi", later())
    assert schedule_posts(sandbox) == [(DOCUMENT, 405), (VENDOR, 201)] * 2


async def test_the_kept_path_falls_back_when_the_service_moves(
    sandbox: Sandbox, make: MakeClient
) -> None:
    """A kept path that stops working gets one retry at the other, then is swapped."""
    client = make()
    serve(sandbox, "vendor", 404)
    await client.schedule_message(SEED_JOHN, "One", later())
    serve(sandbox, "document", 405)
    await client.schedule_message(SEED_JOHN, "Two", later())
    await client.schedule_message(SEED_JOHN, "Three", later())
    assert schedule_posts(sandbox) == [
        (DOCUMENT, 404),
        (VENDOR, 201),
        (VENDOR, 405),
        (DOCUMENT, 201),
        (DOCUMENT, 201),
    ]


async def test_a_real_not_found_is_not_retried_in_a_loop(
    sandbox: Sandbox, make: MakeClient
) -> None:
    """A 404 at the working path gets one try at the other; its reason is raised."""
    serve(sandbox, "document", 404)
    sandbox.mobiniti.add_fault(Fault(kind="error", status=404, path=DOCUMENT))
    client = make()
    with pytest.raises(CommHubNotFoundError) as err:
        await client.schedule_message(SEED_JOHN, "x", later())
    assert err.value.status == 404
    assert schedule_posts(sandbox) == [(DOCUMENT, 404), (VENDOR, 404)]
    # Nothing was learned from two refusals: the next schedule starts where it did.
    await client.schedule_message(SEED_JOHN, "x", later())
    assert schedule_posts(sandbox)[2:] == [(DOCUMENT, 201)]


@pytest.mark.parametrize(
    ("fault", "status", "error"),
    [
        (Fault(kind="error", status=500, path=DOCUMENT), 500, CommHubConnectionError),
        (Fault(kind="error", status=400, path=DOCUMENT), 400, CommHubRequestError),
        (Fault(kind="error", status=409, path=DOCUMENT), 409, CommHubRequestError),
        (
            Fault(kind="rate_limit", retry_after=5, path=DOCUMENT),
            429,
            CommHubRateLimitedError,
        ),
    ],
)
async def test_other_refusals_are_never_retried(
    sandbox: Sandbox,
    make: MakeClient,
    fault: Fault,
    status: int,
    error: type[Exception],
) -> None:
    """Only 404/405 prove nothing was scheduled: anything else is one request."""
    serve(sandbox, "vendor", 404)
    sandbox.mobiniti.add_fault(fault)
    with pytest.raises(error):
        await make().schedule_message(SEED_JOHN, "x", later())
    assert schedule_posts(sandbox) == [(DOCUMENT, status)]


async def test_a_validation_refusal_is_not_retried(
    sandbox: Sandbox, make: MakeClient
) -> None:
    """A 422 from the path tried first is its answer: one request."""
    before = dict(sandbox.mobiniti.scheduled)
    with pytest.raises(CommHubRequestError) as err:
        await make().schedule_message(SEED_UNSUBSCRIBED, "x", later())
    assert err.value.status == 422
    assert schedule_posts(sandbox) == [(DOCUMENT, 422)]
    assert sandbox.mobiniti.scheduled == before
