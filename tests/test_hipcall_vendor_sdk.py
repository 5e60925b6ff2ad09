"""Conformance: Hipcall's own Python SDK (hipcall-sdk 0.2.1) against the sandbox.

Every call goes through the vendor's async client and must parse into the SDK's
own pydantic models: if the sandbox's current API drifts from what Hipcall's code
expects, this fails. The SDK appends `/api/v3` to its base URL itself, so the base
URL is the sandbox's Hipcall prefix (or a known host's stand-in below it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from hipcall_sdk.client.async_client import AsyncClient
from hipcall_sdk.exceptions import (
    BadRequestException,
    NotFoundException,
    UnauthorizedException,
    UnprocessableEntityException,
)
from hipcall_sdk.models import (
    CallDetail,
    CommentCreate,
    TaskCreate,
    User,
    UserUpdate,
)
import pytest

from sandbox import HipcallSandbox, Sandbox
from sandbox.hipcall import SEED_TOKEN

START = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


@pytest.fixture
def service(sandbox: Sandbox) -> HipcallSandbox:
    """The Hipcall service, with a day of calls and a generous rate limit."""
    hipcall = sandbox.hipcall
    hipcall.set_rate_limit(1000)
    return hipcall


@pytest.fixture
async def client(
    sandbox_url: str, freezer: FrozenDateTimeFactory
) -> AsyncIterator[AsyncClient]:
    """The vendor's async client, pointed at the sandbox (clock frozen at START)."""
    freezer.move_to(START)
    async with AsyncClient(SEED_TOKEN, f"{sandbox_url}/hipcall") as sdk:
        yield sdk


async def test_users_in_pages(service: HipcallSandbox, client: AsyncClient) -> None:
    service.add_users(100)
    seen: list[User] = []
    offset = 0
    while True:
        page = await client.get_users(limit=100, offset=offset)
        seen += page.data
        offset += page.meta.limit
        if offset >= page.meta.count:
            break
    assert len(seen) == page.meta.count == 128
    assert [u.id for u in seen] == sorted(u.id for u in seen)
    user = (await client.get_user(3)).data
    assert (user.state, user.full_name, user.timezone) == (
        "away",
        "Holly James",
        "Europe/Istanbul",
    )
    assert (await client.get_user(2)).data.default_number == {
        "id": 1,
        "name": "Turkey Support Number",
        "number": "+908503902777",
    }


async def test_presence_patch_and_stats_today(client: AsyncClient) -> None:
    updated = (await client.update_user(3, UserUpdate(state="busy"))).data
    assert (updated.state, updated.state_changed_at) == ("busy", START)
    with pytest.raises(UnprocessableEntityException) as failed:
        await client.update_user(3, UserUpdate(state="unknown"))
    assert failed.value.errors == {"state": ["is invalid"]}
    stats = (await client.get_user_today_stats(3)).data
    assert (stats.user_id, stats.date.isoformat()) == (3, "2026-05-04")
    assert stats.states.time_to_away == 12 * 3600
    mine = (await client.get_profile_today_stats()).data
    assert mine.user_id == 12
    assert (await client.get_profile()).data.user["id"] == 12


async def test_extensions(client: AsyncClient) -> None:
    extensions = await client.get_extensions(limit=100)
    assert extensions.meta is not None
    assert extensions.meta.count == len(extensions.data) == 8
    assert {e.target_type for e in extensions.data} == {"user", "greeting", "team"}
    assert extensions.data[1].name == "Satya Nadella"


async def test_calls_with_filters_and_details(
    service: HipcallSandbox, client: AsyncClient
) -> None:
    missed = service.add_call(
        started_at=START - timedelta(hours=1),
        duration=12,
        missing_call=True,
        missing_call_reason="abandoned",
        user_id=4,
        caller_number="+905559876501",
    )
    service.add_call(started_at=START - timedelta(hours=2), duration=90, user_id=4)
    service.add_call(
        started_at=START - timedelta(minutes=30),
        duration=40,
        direction="outbound",
        user_id=5,
        record_url="https://records.example/r.mp3",
    )
    everything = await client.get_calls(limit=100)
    assert everything.meta.count == len(everything.data) == 18
    today = await client.get_calls(
        started_at_gte="2026-05-04T00:00:00Z", missing_call=True, limit=100
    )
    assert [c.uuid for c in today.data] == [missed["uuid"]]
    assert today.meta.count == 1
    answered = await client.get_calls(
        started_at_gte="2026-05-04T00:00:00Z",
        started_at_lte="2026-05-04T23:59:59Z",
        missing_call=False,
        user_id=4,
        direction="inbound",
        call_duration_gte=60,
        call_duration_lte=120,
    )
    assert [c.call_duration for c in answered.data] == [90]
    oldest = await client.get_calls(sort="started_at.asc", limit=1, offset=0)
    assert oldest.data[0].started_at == "2023-03-31T06:31:27Z"
    found = await client.get_calls(q="5559876501")
    assert [c.uuid for c in found.data] == [missed["uuid"]]

    detail: CallDetail = (await client.get_call(missed["uuid"], "2026-05-04")).data
    assert (
        detail.missing_call,
        detail.missing_call_reason,
        detail.caller_number,
        detail.user_id,
        detail.direction,
        detail.hangup_by,
    ) == (True, "abandoned", "+905559876501", 4, "inbound", "contact")
    assert detail.ended_at == START - timedelta(hours=1) + timedelta(seconds=12)
    outbound = (await client.get_calls(direction="outbound", limit=1)).data[0]
    recorded = (await client.get_call(outbound.uuid, outbound.started_at[:10])).data
    assert recorded.record_url is not None
    assert "X-Amz-Expires=3600" in recorded.record_url

    with pytest.raises(NotFoundException):
        await client.get_call(missed["uuid"], "2026-05-03")
    with pytest.raises(BadRequestException) as failed:
        await client.get_calls(limit=101)
    assert str(failed.value) == "Bad request: limit must be between 1 and 100"


async def test_every_seeded_call_parses(client: AsyncClient) -> None:
    for call in (await client.get_calls(limit=100)).data:
        detail = (await client.get_call(call.uuid, call.started_at[:10])).data
        assert detail.uuid == call.uuid


async def test_tasks(service: HipcallSandbox, client: AsyncClient) -> None:
    created = await client.create_task(
        TaskCreate(
            name="Call the customer back",
            description="About the missed call",
            assign_to_user_id=3,
            due_date=datetime(2026, 5, 5, 9, 30, tzinfo=UTC),
            priority="high",
            task_list_id=4,
            contact_ids=[7],
        )
    )
    assert (created.data.name, created.data.done) == ("Call the customer back", False)
    detail = (await client.get_task(created.data.id)).data
    assert (detail.assign_to_user_id, detail.due_date, detail.contact_ids) == (
        3,
        datetime(2026, 5, 5, 9, 30, tzinfo=UTC),
        [7],
    )
    tasks = await client.get_tasks(limit=100)
    assert tasks.meta.count == 12
    assert service.tasks[-1]["assign_to"] == 3  # the same task on the 2021 API
    with pytest.raises(UnprocessableEntityException):
        await client.create_task(TaskCreate(name="x", assign_to_user_id=999))


async def test_comments(service: HipcallSandbox, client: AsyncClient) -> None:
    contact = await client.create_contact_comment(7, CommentCreate(content="Called"))
    company = await client.create_company_comment(8, CommentCreate(content="Met"))
    deal = await client.create_deal_comment(9, CommentCreate(content="Won"))
    assert [c.data.content for c in (contact, company, deal)] == [
        "Called",
        "Met",
        "Won",
    ]
    assert contact.data.user is not None
    assert contact.data.user.id == 12
    assert [(c["commentable_type"], c["commentable_id"]) for c in service.comments] == [
        ("contact", 7),
        ("company", 8),
        ("deal", 9),
    ]


async def test_click_to_call(service: HipcallSandbox, client: AsyncClient) -> None:
    bridged = await client.call_and_bridge(
        3, "+905551112233", call_masking=True, call_masking_name="Shop"
    )
    uuid = bridged.data.id
    assert service.live_calls[uuid].record["callee_number"] == "+905551112233"
    service.answer_call(uuid)
    detail = service.hangup_call(uuid, recorded=True)
    parsed = CallDetail(**detail)  # what the webhook carries parses too
    assert (parsed.direction, parsed.missing_call) == ("outbound", False)


async def test_hosts_and_token(
    service: HipcallSandbox, sandbox_url: str, freezer: FrozenDateTimeFactory
) -> None:
    service.set_hosts(["use.hipcall.co.uk"])
    base = f"{sandbox_url}/hipcall"
    async with AsyncClient(SEED_TOKEN, f"{base}/use.hipcall.co.uk") as uk:
        assert (await uk.get_users()).meta.count == 28
    async with AsyncClient(SEED_TOKEN, f"{base}/use.hipcall.com.tr") as tr:
        with pytest.raises(UnauthorizedException):
            await tr.get_users()
    async with AsyncClient("wrong", base) as wrong:
        with pytest.raises(UnauthorizedException):
            await wrong.get_users()
