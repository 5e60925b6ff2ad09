"""The IP1 sandbox answers as the IP1 SMS API v2 seed and the project's issue say."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import json
import math
import re
from typing import Any

from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer
from freezegun.api import FrozenDateTimeFactory
import pytest

from sandbox import Fault, Sandbox
from sandbox.ip1 import (
    DEFAULT_LIMIT,
    EMPTY_PARTICIPANT,
    MAX_LIMIT,
    SEED_ACCOUNT,
    SEED_API_KEY,
    SEED_NAME,
    SEED_NUMBER,
    SEED_PARTICIPANT,
    SEED_PARTICIPANT_2,
    SEED_SENDER_NAME,
    Ip1Sandbox,
)

from .conftest import BearerApi

Client = TestClient[web.Request, web.Application]

JSON = "application/json; charset=utf-8"
PROBLEM = "application/problem+json; charset=utf-8"
CONVERSATION = f"/v2/conversations/{SEED_PARTICIPANT}"
TIME_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00")
MESSAGE_KEYS = {
    "id",
    "batchId",
    "owner",
    "sender",
    "recipient",
    "body",
    "direction",
    "segments",
    "type",
    "datacoding",
    "priority",
    "price",
    "currency",
    "statuses",
    "modified",
    "reference",
    "mcc",
    "mnc",
}
GOOD_BATCH = {"sender": "CommHub", "recipients": ["46701111111"], "body": "Hello"}


async def body_of(response: ClientResponse) -> Any:
    """The JSON body, whatever the content type says."""
    return json.loads(await response.read())


async def assert_problem(
    response: ClientResponse, status: int, detail: str | None = None
) -> dict[str, Any]:
    """An RFC 7807 problem with the given status (and detail)."""
    assert response.status == status
    assert response.headers["Content-Type"] == PROBLEM
    problem: dict[str, Any] = await body_of(response)
    assert problem["status"] == status
    assert isinstance(problem["title"], str)
    assert problem["title"]
    assert isinstance(problem["type"], str)
    if detail is not None:
        assert problem["detail"] == detail
    return problem


async def page(
    ip1: BearerApi, participant: str = SEED_PARTICIPANT, **params: str | int
) -> tuple[list[dict[str, Any]], ClientResponse]:
    """One page of a conversation (asserting 200)."""
    response = await ip1.request(
        "GET", f"/v2/conversations/{participant}", params=params
    )
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"] == JSON
    return await body_of(response), response


def links(response: ClientResponse) -> dict[str, str]:
    """The Link header's targets by relation."""
    header = response.headers.get("Link")
    if header is None:
        return {}
    found = re.findall(r'<([^>]*)>;\s*rel="([^"]*)"', header)
    return {rel: url for url, rel in found}


# -- callback receiver -----------------------------------------------------------------


@dataclass
class Received:
    """One callback as a receiver saw it."""

    path_qs: str
    content_type: str
    payload: Any


@dataclass
class Receiver:
    """A local HTTP server taking callbacks; `answers` are its next statuses."""

    url: str
    calls: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)


@pytest.fixture
async def receiver(socket_enabled: None) -> AsyncIterator[Receiver]:
    """A second real server on 127.0.0.1 that records what is posted to it."""
    holder: list[Receiver] = []

    async def handle(request: web.Request) -> web.Response:
        target = holder[0]
        target.calls.append(
            Received(request.path_qs, request.content_type, await request.json())
        )
        return web.Response(status=target.answers.pop(0) if target.answers else 200)

    app = web.Application()
    app.router.add_post("/{tail:.*}", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    holder.append(Receiver(str(server.make_url("/hook").with_query(kind="sms"))))
    yield holder[0]
    await server.close()


# -- authentication ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", CONVERSATION),
        ("POST", "/v2/batches"),
        ("GET", "/v2/batches/abc"),
        ("GET", "/v2/messages/abc"),
    ],
)
async def test_missing_key_is_401(ip1: BearerApi, method: str, path: str) -> None:
    response = await ip1.request(method, path, token=None)
    await assert_problem(response, 401, "Missing API key.")
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer wrong-key"},
        {"Authorization": f"Bearer {SEED_API_KEY}x"},
    ],
)
async def test_wrong_key_is_401(ip1: BearerApi, headers: dict[str, str]) -> None:
    response = await ip1.request("GET", CONVERSATION, token=None, headers=headers)
    await assert_problem(response, 401, "Invalid API key.")


@pytest.mark.parametrize(
    "authorization", [f"Basic {SEED_API_KEY}", SEED_API_KEY, "Bearer ", "Bearer"]
)
async def test_not_a_bearer_key_is_401(ip1: BearerApi, authorization: str) -> None:
    headers = {"Authorization": authorization}
    response = await ip1.request("GET", CONVERSATION, token=None, headers=headers)
    await assert_problem(response, 401, "Missing API key.")


async def test_scheme_is_case_insensitive(ip1: BearerApi) -> None:
    headers = {"Authorization": f"bearer {SEED_API_KEY}"}
    response = await ip1.request("GET", CONVERSATION, token=None, headers=headers)
    assert response.status == 200


async def test_revoked_key(sandbox: Sandbox, ip1: BearerApi) -> None:
    sandbox.ip1.api_keys = {"rotated-key"}
    await assert_problem(await ip1.request("GET", CONVERSATION), 401)
    response = await ip1.request("GET", CONVERSATION, token="rotated-key")
    assert response.status == 200


# -- conversations ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "participant",
    [
        "+46701234567",
        "%2B46701234567",
        "",
        "%20",
        "46%2070",
        "ab",
        "TwelveChars1",
        "1234567890123456",
        "Ann-Marie",
        "%C3%85sa",
    ],
)
async def test_invalid_participant_is_400(ip1: BearerApi, participant: str) -> None:
    response = await ip1.request("GET", f"/v2/conversations/{participant}")
    problem = await assert_problem(response, 400, "Participant was invalid")
    assert list(problem["errors"]) == ["participant"]


@pytest.mark.parametrize(
    "participant", [EMPTY_PARTICIPANT, "Nobody", "1", "ElevenChars"]
)
async def test_valid_participant_without_messages_is_404(
    ip1: BearerApi, participant: str
) -> None:
    response = await ip1.request("GET", f"/v2/conversations/{participant}")
    await assert_problem(response, 404, "No messages to list")
    assert "Link" not in response.headers


async def test_participant_names_match_exactly(ip1: BearerApi) -> None:
    assert len((await page(ip1, SEED_NAME))[0]) == 1
    response = await ip1.request("GET", f"/v2/conversations/{SEED_NAME.lower()}")
    assert response.status == 404


async def test_conversation_content(ip1: BearerApi) -> None:
    messages, response = await page(ip1)
    assert "Link" not in response.headers
    assert [(m["sender"], m["recipient"], m["body"]) for m in messages] == [
        (SEED_PARTICIPANT, SEED_NUMBER, "Hi, is the shop open on Saturday?"),
        (SEED_NUMBER, SEED_PARTICIPANT, "Yes, 10\u201316. Welcome!"),
        (SEED_PARTICIPANT, SEED_NUMBER, "Great, see you then"),
    ]
    assert [[s["code"] for s in m["statuses"]] for m in messages] == [
        [201],
        [101, 102, 201],
        [201],
    ]
    assert [m["direction"] for m in messages] == [1, 0, 1]
    for message in messages:
        assert set(message) == MESSAGE_KEYS
        assert message["owner"] == SEED_ACCOUNT
        assert message["modified"] == message["statuses"][-1]["created"]
        assert TIME_RE.fullmatch(message["modified"])
        assert all(s["duration"] == 0 for s in message["statuses"])
        # IP1's C# sample numbers the types Flash = 0, SMS = 1.
        assert (message["type"], message["priority"]) == (1, 1)
        assert (message["mcc"], message["mnc"]) == ("240", "01")
    inbound, outbound, _ = messages
    assert (inbound["batchId"], inbound["price"], inbound["datacoding"]) == (
        None,
        0.0,
        0,
    )
    assert isinstance(outbound["batchId"], str)
    assert (outbound["price"], outbound["currency"]) == (0.35, "SEK")
    assert outbound["datacoding"] == 2  # the en dash is not in the GSM alphabet
    created = [datetime.fromisoformat(m["statuses"][0]["created"]) for m in messages]
    assert created == sorted(created)
    assert len({m["id"] for m in messages}) == 3


async def test_named_sender_and_numbers_are_participants(ip1: BearerApi) -> None:
    (by_name,), _ = await page(ip1, SEED_SENDER_NAME)
    (by_number,), _ = await page(ip1, SEED_PARTICIPANT_2)
    assert by_name == by_number
    assert (by_name["sender"], by_name["recipient"]) == (
        SEED_SENDER_NAME,
        SEED_PARTICIPANT_2,
    )
    assert [s["code"] for s in by_name["statuses"]] == [101, 102]
    (pharmacy,), _ = await page(ip1, SEED_NAME)
    assert (pharmacy["sender"], pharmacy["mcc"], pharmacy["mnc"]) == (
        SEED_NAME,
        None,
        None,
    )


async def test_account_number_is_a_participant_of_everything(ip1: BearerApi) -> None:
    messages, _ = await page(ip1, SEED_NUMBER)
    assert len(messages) == 4  # all but the one sent with a name


async def test_paging_follows_link_to_the_last_page(
    sandbox: Sandbox, sandbox_client: Client, ip1: BearerApi
) -> None:
    base = datetime.now(UTC)
    for index in range(5):
        sandbox.ip1.add_inbound(
            SEED_PARTICIPANT, f"more {index}", at=base + timedelta(minutes=index)
        )
    everything, _ = await page(ip1, limit=100)
    assert len(everything) == 8
    seen: list[dict[str, Any]] = []
    first, response = await page(ip1, limit=3)
    seen += first
    assert "prev" not in links(response)
    pages = 1
    while "next" in links(response):
        url = links(response)["next"]
        assert url.startswith(str(sandbox_client.make_url("/ip1" + CONVERSATION)))
        # The absolute URL as a client would follow it.
        response = await sandbox_client.session.get(
            url, headers={"Authorization": f"Bearer {SEED_API_KEY}"}
        )
        assert response.status == 200
        assert "prev" in links(response)
        seen += await body_of(response)
        pages += 1
    assert pages == 3
    assert [m["id"] for m in seen] == [m["id"] for m in everything]
    assert [m["body"] for m in seen[-2:]] == ["more 3", "more 4"]
    prev = links(response)["prev"]
    assert "start=3" in prev
    assert "limit=3" in prev


async def test_start_and_prev_link(ip1: BearerApi) -> None:
    messages, response = await page(ip1, start=1, limit=1)
    assert [m["body"] for m in messages] == ["Yes, 10\u201316. Welcome!"]
    assert "start=0" in links(response)["prev"]
    assert "start=2" in links(response)["next"]
    # The last page ends exactly at the last message: no next page.
    messages, response = await page(ip1, start=1, limit=2)
    assert len(messages) == 2
    assert set(links(response)) == {"prev"}


async def test_page_past_the_end_is_empty(ip1: BearerApi) -> None:
    messages, response = await page(ip1, start=10)
    assert messages == []
    assert "next" not in links(response)
    assert "prev" in links(response)


async def test_default_and_maximum_limit(sandbox: Sandbox, ip1: BearerApi) -> None:
    for index in range(MAX_LIMIT):
        sandbox.ip1.add_inbound(SEED_PARTICIPANT, f"bulk {index}")
    messages, response = await page(ip1)
    assert len(messages) == DEFAULT_LIMIT
    assert f"limit={DEFAULT_LIMIT}" in links(response)["next"]
    messages, response = await page(ip1, limit=1000)
    assert len(messages) == MAX_LIMIT
    assert f"limit={MAX_LIMIT}" in links(response)["next"]
    rest, response = await page(ip1, start=MAX_LIMIT, limit=1000)
    assert len(rest) == 3
    assert "next" not in links(response)


async def test_order(sandbox: Sandbox, ip1: BearerApi) -> None:
    # Created before every other message, but added last: order is by creation.
    early = sandbox.ip1.add_inbound(
        SEED_PARTICIPANT, "long ago", at=datetime(2020, 1, 1, tzinfo=UTC)
    )
    ascending, _ = await page(ip1)
    assert ascending[0]["id"] == early["id"]
    descending, response = await page(ip1, order="desc", limit=2)
    assert [m["id"] for m in descending] == [m["id"] for m in ascending[::-1][:2]]
    assert "order=desc" in links(response)["next"]
    upper, _ = await page(ip1, order="DESC", limit=2)
    assert upper == descending


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"start": "-1"}, ["start"]),
        ({"start": "x"}, ["start"]),
        ({"limit": "0"}, ["limit"]),
        ({"limit": "ten"}, ["limit"]),
        ({"order": "newest"}, ["order"]),
        ({"start": "x", "limit": "-5", "order": ""}, ["start", "limit", "order"]),
    ],
)
async def test_bad_paging_is_400(
    ip1: BearerApi, params: dict[str, str], fields: list[str]
) -> None:
    response = await ip1.request("GET", CONVERSATION, params=params)
    problem = await assert_problem(response, 400)
    assert sorted(problem["errors"]) == sorted(fields)


# -- batches ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field_name"),
    [
        ({"sender": None}, "sender"),
        ({"sender": ""}, "sender"),
        ({"sender": "ab"}, "sender"),
        ({"sender": "TwelveChars1"}, "sender"),
        ({"sender": "1234567890123456"}, "sender"),
        ({"sender": "+46700000000"}, "sender"),
        ({"sender": "Comm Hub"}, "sender"),
        ({"sender": 46700000000}, "sender"),
        ({"recipients": None}, "recipients"),
        ({"recipients": []}, "recipients"),
        ({"recipients": "46701111111"}, "recipients"),
        ({"recipients": ["46701111111", "+46702222222"]}, "recipients[1]"),
        ({"recipients": ["4670abc"]}, "recipients[0]"),
        ({"recipients": ["1234567890123456"]}, "recipients[0]"),
        ({"recipients": [46701111111]}, "recipients[0]"),
        ({"body": None}, "body"),
        ({"body": ""}, "body"),
        ({"body": "x" * 2001}, "body"),
        ({"body": 5}, "body"),
        ({"deliveryReportUrl": "not a url"}, "deliveryReportUrl"),
        ({"deliveryReportUrl": "ftp://example.com/x"}, "deliveryReportUrl"),
        ({"deliveryReportUrl": 5}, "deliveryReportUrl"),
        ({"reference": 5}, "reference"),
    ],
)
async def test_batch_validation(
    sandbox: Sandbox, ip1: BearerApi, change: dict[str, Any], field_name: str
) -> None:
    data = {**GOOD_BATCH, **change}
    data = {key: value for key, value in data.items() if value is not None}
    before = len(sandbox.ip1.messages)
    response = await ip1.request("POST", "/v2/batches", json=data)
    problem = await assert_problem(response, 400)
    assert list(problem["errors"]) == [field_name]
    assert len(sandbox.ip1.messages) == before


async def test_batch_reports_every_error_at_once(ip1: BearerApi) -> None:
    response = await ip1.request(
        "POST", "/v2/batches", json={"sender": "x", "recipients": ["+1", "2"]}
    )
    problem = await assert_problem(response, 400)
    assert set(problem["errors"]) == {"sender", "recipients[0]", "body"}


@pytest.mark.parametrize("data", [b"{not json", b"[1, 2]", b"", b'"text"'])
async def test_batch_body_must_be_a_json_object(ip1: BearerApi, data: bytes) -> None:
    response = await ip1.request(
        "POST",
        "/v2/batches",
        data=data,
        headers={"Content-Type": "application/json"},
    )
    problem = await assert_problem(response, 400)
    assert list(problem["errors"]) == ["$"]


async def test_batch_must_be_json(ip1: BearerApi) -> None:
    response = await ip1.request("POST", "/v2/batches", data={"sender": "CommHub"})
    await assert_problem(response, 415)


async def test_send_batch(sandbox: Sandbox, ip1: BearerApi) -> None:
    body = "x" * 2000  # the longest body allowed
    data = {
        "sender": SEED_NUMBER,
        "recipients": [SEED_PARTICIPANT, "46702222222", SEED_PARTICIPANT],
        "body": body,
        "reference": "order-17",
        "deliveryReportUrl": "http://127.0.0.1:9/reports",
        "ignored": True,
    }
    response = await ip1.request("POST", "/v2/batches", json=data)
    assert response.status == 201
    assert response.headers["Content-Type"] == JSON
    batch = await body_of(response)
    assert batch["recipients"] == data["recipients"]
    assert (batch["sender"], batch["body"], batch["owner"]) == (
        SEED_NUMBER,
        body,
        SEED_ACCOUNT,
    )
    assert (batch["reference"], batch["deliveryReportUrl"]) == (
        "order-17",
        "http://127.0.0.1:9/reports",
    )
    assert TIME_RE.fullmatch(batch["created"])
    messages = batch["messages"]
    assert [m["recipient"] for m in messages] == data["recipients"]
    assert len({m["id"] for m in messages}) == 3
    for message in messages:
        assert set(message) == MESSAGE_KEYS
        assert (message["batchId"], message["reference"]) == (batch["id"], "order-17")
        assert [s["code"] for s in message["statuses"]] == [101]
        assert (message["direction"], message["datacoding"]) == (0, 0)
        assert message["segments"] == math.ceil(2000 / 153)
        assert message["price"] == pytest.approx(0.35 * 14)
    location = response.headers["Location"]
    assert location.endswith(f"/ip1/v2/batches/{batch['id']}")
    fetched = await ip1.request("GET", location.split("/ip1", 1)[1])
    assert await body_of(fetched) == batch
    single = await ip1.request("GET", f"/v2/messages/{messages[1]['id']}")
    assert await body_of(single) == messages[1]
    conversation, _ = await page(ip1, "46702222222")
    assert conversation == [messages[1]]
    conversation, _ = await page(ip1)
    assert [m["id"] for m in conversation[-2:]] == [
        messages[0]["id"],
        messages[2]["id"],
    ]
    assert sandbox.ip1.deliveries == []  # reports come with status changes


@pytest.mark.parametrize("path", ["/v2/batches/nope", "/v2/messages/nope"])
async def test_unknown_batch_or_message_is_404(ip1: BearerApi, path: str) -> None:
    await assert_problem(await ip1.request("GET", path), 404)


@pytest.mark.parametrize(
    ("body", "coding", "segments"),
    [
        ("a" * 160, 0, 1),
        ("a" * 161, 0, 2),
        ("[" * 80, 0, 1),  # extension characters take two septets
        ("[" * 81, 0, 2),
        ("ä" * 70 + "\u2013", 2, 2),
        ("\u2013" * 70, 2, 1),
    ],
)
async def test_segments_and_datacoding(
    ip1: BearerApi, body: str, coding: int, segments: int
) -> None:
    response = await ip1.request(
        "POST", "/v2/batches", json={**GOOD_BATCH, "body": body}
    )
    (message,) = (await body_of(response))["messages"]
    assert (message["datacoding"], message["segments"]) == (coding, segments)


# -- statuses --------------------------------------------------------------------------


async def test_status_changes_show_in_the_conversation(
    sandbox: Sandbox, ip1: BearerApi
) -> None:
    (message,), _ = await page(ip1, SEED_PARTICIPANT_2)
    at = datetime(2030, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)
    changed = sandbox.ip1.set_status(message["id"], 201, at)
    (listed,), _ = await page(ip1, SEED_PARTICIPANT_2)
    assert listed == changed
    assert [s["code"] for s in listed["statuses"]] == [101, 102, 201]
    assert listed["statuses"][-1]["created"] == "2030-05-06T07:08:09.123+00:00"
    assert listed["modified"] == "2030-05-06T07:08:09.123+00:00"
    assert listed["statuses"][0] == message["statuses"][0]
    sandbox.ip1.set_status(message["id"], 402)
    (listed,), _ = await page(ip1, SEED_PARTICIPANT_2)
    assert listed["statuses"][-1]["code"] == 402
    assert listed["modified"] == listed["statuses"][-1]["created"]
    assert listed["modified"] != changed["modified"]


def test_status_helper_errors() -> None:
    ip1 = Ip1Sandbox()
    some_id = next(iter(ip1.messages))
    with pytest.raises(ValueError, match="status code"):
        ip1.set_status(some_id, 0)
    with pytest.raises(KeyError):
        ip1.set_status("nope", 201)
    with pytest.raises(ValueError, match="participant"):
        ip1.add_inbound("+46701234567", "x")
    with pytest.raises(ValueError, match="account's numbers"):
        ip1.add_inbound(SEED_PARTICIPANT, "x", to="46711111111")
    with pytest.raises(ValueError, match="participant"):
        ip1.add_outbound(SEED_NAME, "x")
    with pytest.raises(ValueError, match="sender"):
        ip1.add_outbound(SEED_PARTICIPANT, "x", sender="a b")
    with pytest.raises(ValueError, match="status code"):
        ip1.add_outbound(SEED_PARTICIPANT, "x", status=7)


# -- callbacks ------------------------------------------------------------------------------


async def test_inbound_callback_is_posted(
    sandbox: Sandbox, ip1: BearerApi, receiver: Receiver
) -> None:
    sandbox.ip1.inbound_callback_url = receiver.url
    message = sandbox.ip1.add_inbound(SEED_PARTICIPANT, "Are you open today?")
    await sandbox.ip1.wait_deliveries()
    (call,) = receiver.calls
    assert call.path_qs == "/hook?kind=sms"
    assert call.content_type == "application/json"
    assert call.payload == message
    (delivery,) = sandbox.ip1.deliveries
    assert (delivery.kind, delivery.delivered, delivery.status) == (
        "inbound_message",
        True,
        200,
    )
    conversation, _ = await page(ip1)
    assert conversation[-1] == message


async def test_outbound_messages_are_not_posted_to_the_inbound_callback(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    sandbox.ip1.inbound_callback_url = receiver.url
    message = sandbox.ip1.add_outbound(SEED_PARTICIPANT, "Reply")
    await sandbox.ip1.wait_deliveries()
    assert receiver.calls == []
    with pytest.raises(ValueError, match="not inbound"):
        await sandbox.ip1.deliver_inbound(message["id"])


async def test_inbound_delivered_by_hand(sandbox: Sandbox, receiver: Receiver) -> None:
    with pytest.raises(ValueError, match="no inbound callback"):
        await sandbox.ip1.deliver_inbound(sandbox.ip1.conversation(SEED_NAME)[0].id)
    message = sandbox.ip1.conversation(SEED_NAME)[0]
    delivery = await sandbox.ip1.deliver_inbound(message.id, receiver.url)
    assert delivery.delivered
    assert receiver.calls[0].payload["sender"] == SEED_NAME


async def test_delivery_report_and_retry(
    sandbox: Sandbox,
    ip1: BearerApi,
    receiver: Receiver,
    freezer: FrozenDateTimeFactory,
) -> None:
    report_url = receiver.url.replace("/hook", "/reports")
    response = await ip1.request(
        "POST",
        "/v2/batches",
        json={**GOOD_BATCH, "deliveryReportUrl": report_url, "reference": "r1"},
    )
    (message,) = (await body_of(response))["messages"]
    receiver.answers = [500, 404]
    sandbox.ip1.set_status(message["id"], 201)
    await sandbox.ip1.wait_deliveries()
    (delivery,) = sandbox.ip1.pending_deliveries
    assert (delivery.kind, delivery.status, delivery.delivered) == (
        "delivery_report",
        500,
        False,
    )
    (call,) = receiver.calls
    assert call.path_qs == "/reports?kind=sms"
    assert call.payload == {
        "id": message["id"],
        "batchId": message["batchId"],
        "recipient": "46701111111",
        "code": 201,
        "duration": 0,
        "created": sandbox.ip1.message(message["id"])["statuses"][-1]["created"],
        "segments": 1,
        "price": 0.35,
        "currency": "SEK",
        "reference": "r1",
    }
    # Not due before ten minutes have passed.
    freezer.tick(timedelta(minutes=9))
    assert await sandbox.ip1.retry_pending(due_only=True) == []
    freezer.tick(timedelta(minutes=1))
    assert await sandbox.ip1.retry_pending(due_only=True) == [delivery]
    assert delivery.status == 404  # the second answer: still pending
    assert await sandbox.ip1.retry_pending() == [delivery]  # all, due or not
    assert delivery.delivered
    assert [a.status for a in delivery.attempts] == [500, 404, 200]
    assert [c.payload for c in receiver.calls] == [call.payload] * 3
    assert sandbox.ip1.pending_deliveries == []
    assert await sandbox.ip1.retry_pending() == []


async def test_unreachable_receiver_stays_pending(
    sandbox: Sandbox, socket_enabled: None
) -> None:
    closed = TestServer(web.Application(), host="127.0.0.1")
    await closed.start_server()
    url = str(closed.make_url("/gone"))
    await closed.close()
    sandbox.ip1.inbound_callback_url = url
    sandbox.ip1.add_inbound(SEED_PARTICIPANT, "anyone there?")
    await sandbox.ip1.wait_deliveries()
    (delivery,) = sandbox.ip1.pending_deliveries
    assert delivery.status is None
    assert delivery.attempts[0].error


async def test_deliver_report_needs_a_report_url(sandbox: Sandbox) -> None:
    (message,) = sandbox.ip1.conversation(SEED_PARTICIPANT_2)
    with pytest.raises(ValueError, match="deliveryReportUrl"):
        await sandbox.ip1.deliver_report(message.id)
    with pytest.raises(KeyError):
        await sandbox.ip1.deliver_report("nope")


def test_without_an_event_loop_deliveries_wait_for_a_retry() -> None:
    ip1 = Ip1Sandbox()
    ip1.inbound_callback_url = "http://127.0.0.1:9/hook"
    ip1.add_inbound(SEED_PARTICIPANT, "queued for later")
    (delivery,) = ip1.pending_deliveries
    assert delivery.attempts == []
    assert delivery.due(datetime.now(UTC))


# -- control interface -----------------------------------------------------------------


async def control(
    client: Client, method: str, path: str, body: object = None, status: int = 200
) -> Any:
    """Call an IP1 control route and return its JSON answer."""
    response = await client.request(method, f"/_control/ip1{path}", json=body)
    assert response.status == status, await response.text()
    return await response.json()


async def test_control_callback_and_inbound(
    sandbox: Sandbox, sandbox_client: Client, ip1: BearerApi, receiver: Receiver
) -> None:
    assert await control(sandbox_client, "GET", "/callback") == {"url": None}
    await control(sandbox_client, "PUT", "/callback", {"url": receiver.url})
    assert sandbox.ip1.inbound_callback_url == receiver.url
    await control(sandbox_client, "PUT", "/callback", {"url": "nope"}, 400)
    message = await control(
        sandbox_client,
        "POST",
        "/inbound",
        {
            "participant": "46703333333",
            "body": "New here",
            "at": "2031-01-02T03:04:05Z",
        },
    )
    # Delivered before the control route answered.
    assert [c.payload for c in receiver.calls] == [message]
    assert message["statuses"][0]["created"] == "2031-01-02T03:04:05.000+00:00"
    conversation, _ = await page(ip1, "46703333333")
    assert conversation == [message]
    deliveries = await control(sandbox_client, "GET", "/deliveries")
    assert [(d["kind"], d["status"], d["delivered"]) for d in deliveries] == [
        ("inbound_message", 200, True)
    ]
    again = await control(
        sandbox_client, "POST", f"/messages/{message['id']}/deliver_inbound"
    )
    assert again["delivered"] is True
    assert len(receiver.calls) == 2
    await control(sandbox_client, "PUT", "/callback", {"url": None})
    await control(
        sandbox_client, "POST", f"/messages/{message['id']}/deliver_inbound", None, 400
    )
    await control(sandbox_client, "POST", "/messages/nope/deliver_inbound", None, 404)
    await control(
        sandbox_client, "POST", "/inbound", {"participant": "+1", "body": "x"}, 400
    )
    await control(sandbox_client, "POST", "/inbound", {"participant": "123"}, 400)
    await control(
        sandbox_client,
        "POST",
        "/inbound",
        {"participant": "123", "body": "x", "at": "2031-01-02T03:04:05"},
        400,
    )


async def test_control_outbound_statuses_and_reports(
    sandbox: Sandbox, sandbox_client: Client, ip1: BearerApi, receiver: Receiver
) -> None:
    message = await control(
        sandbox_client,
        "POST",
        "/outbound",
        {"participant": "46704444444", "body": "Hi", "sender": "Shop", "status": 101},
    )
    assert [s["code"] for s in message["statuses"]] == [101]
    assert message["sender"] == "Shop"
    changed = await control(
        sandbox_client, "POST", f"/messages/{message['id']}/statuses", {"code": 102}
    )
    assert [s["code"] for s in changed["statuses"]] == [101, 102]
    await control(
        sandbox_client, "POST", f"/messages/{message['id']}/statuses", {"code": 1}, 400
    )
    await control(sandbox_client, "POST", "/messages/nope/statuses", {"code": 201}, 404)
    await control(
        sandbox_client, "POST", f"/messages/{message['id']}/deliver_report", None, 400
    )
    # A batch with a report URL: each status change reports before the answer.
    response = await ip1.request(
        "POST", "/v2/batches", json={**GOOD_BATCH, "deliveryReportUrl": receiver.url}
    )
    (sent,) = (await body_of(response))["messages"]
    receiver.answers = [503]
    await control(
        sandbox_client, "POST", f"/messages/{sent['id']}/statuses", {"code": 201}
    )
    assert [c.payload["code"] for c in receiver.calls] == [201]
    retried = await control(
        sandbox_client, "POST", "/deliveries/retry", {"due_only": True}
    )
    assert retried == []
    retried = await control(sandbox_client, "POST", "/deliveries/retry")
    assert [d["status"] for d in retried] == [200]
    await control(sandbox_client, "POST", "/deliveries/retry", {"due_only": 1}, 400)
    report = await control(
        sandbox_client, "POST", f"/messages/{sent['id']}/deliver_report"
    )
    assert report["payload"]["id"] == sent["id"]
    assert len(receiver.calls) == 3
    listed = await control(sandbox_client, "GET", "/messages?participant=46704444444")
    assert [m["id"] for m in listed] == [message["id"]]
    everything = await control(sandbox_client, "GET", "/messages")
    assert len(everything) == len(sandbox.ip1.messages)


async def test_control_outbound_defaults_and_errors(sandbox_client: Client) -> None:
    message = await control(
        sandbox_client, "POST", "/outbound", {"participant": "46705555555", "body": "x"}
    )
    assert [s["code"] for s in message["statuses"]] == [101, 102, 201]
    assert message["sender"] == SEED_NUMBER
    for bad in (
        {"participant": "Name", "body": "x"},
        {"participant": "46705555555", "body": "x", "status": []},
        {"participant": "46705555555", "body": "x", "status": [True]},
        {"participant": "46705555555", "body": "x", "sender": 5},
    ):
        await control(sandbox_client, "POST", "/outbound", bad, 400)


async def test_control_api_keys_and_state(
    sandbox_client: Client, ip1: BearerApi
) -> None:
    await control(sandbox_client, "PUT", "/api_keys", {"api_keys": ["k2"]})
    assert (await ip1.request("GET", CONVERSATION)).status == 401
    assert (await ip1.request("GET", CONVERSATION, token="k2")).status == 200
    await control(sandbox_client, "PUT", "/api_keys", {"api_keys": [""]}, 400)
    state = await control(sandbox_client, "GET", "/state")
    assert state["service"] == "ip1"
    assert state["api_keys"] == ["k2"]
    assert state["recorded_requests"] == 2
    assert (state["messages"], state["inbound"], state["outbound"]) == (5, 3, 2)
    assert state["participants"] == {
        SEED_PARTICIPANT: 3,
        SEED_NAME: 1,
        SEED_PARTICIPANT_2: 1,
    }
    assert (await sandbox_client.post("/_control/reset")).status == 200
    assert (await ip1.request("GET", CONVERSATION)).status == 200


# -- generic machinery ------------------------------------------------------------------


async def test_faults_apply_to_ip1(sandbox: Sandbox, ip1: BearerApi) -> None:
    sandbox.ip1.add_fault(Fault(kind="error", status=503, path="^/v2/conversations"))
    await assert_problem(await ip1.request("GET", CONVERSATION, token=None), 503)
    assert (await ip1.request("GET", CONVERSATION)).status == 200
    sandbox.ip1.add_fault(Fault(kind="rate_limit", retry_after=30))
    response = await ip1.request("POST", "/v2/batches", json=GOOD_BATCH)
    await assert_problem(response, 429)
    assert response.headers["Retry-After"] == "30"
    sandbox.ip1.add_fault(Fault(kind="malformed"))
    response = await ip1.request("GET", CONVERSATION)
    assert response.status == 200
    assert response.headers["Content-Type"] == JSON
    with pytest.raises(ValueError):  # noqa: PT011 - any JSON decode error will do
        json.loads(await response.read())
    assert [r.status for r in sandbox.ip1.requests] == [503, 200, 429, 200]
    assert sandbox.hipmob.requests == []


async def test_unknown_route_and_method_are_problems(ip1: BearerApi) -> None:
    await assert_problem(await ip1.request("GET", "/v2/nothing"), 404)
    response = await ip1.request("DELETE", "/v2/batches")
    await assert_problem(response, 405)
    assert "POST" in response.headers["Allow"]


async def test_reset(sandbox: Sandbox, ip1: BearerApi) -> None:
    sandbox.ip1.add_inbound(SEED_PARTICIPANT, "extra")
    sandbox.ip1.inbound_callback_url = "http://127.0.0.1:9/"
    sandbox.ip1.api_keys.clear()
    sandbox.reset()
    assert sandbox.ip1.inbound_callback_url is None
    assert sandbox.ip1.deliveries == []
    messages, _ = await page(ip1)
    assert len(messages) == 3


def test_seed_and_summary() -> None:
    ip1 = Ip1Sandbox()
    assert ip1.conversation(EMPTY_PARTICIPANT) == []
    assert len(ip1.conversation(SEED_PARTICIPANT)) == 3
    summary = "\n".join(ip1.summary())
    for needle in (SEED_API_KEY, SEED_NUMBER, SEED_PARTICIPANT, EMPTY_PARTICIPANT):
        assert needle in summary


def test_sandbox_registers_ip1() -> None:
    sandbox = Sandbox()
    assert isinstance(sandbox.ip1, Ip1Sandbox)
    assert sandbox.ip1.prefix == "/ip1"


def test_demo_step_changes_the_data() -> None:
    ip1 = Ip1Sandbox()
    (pending,) = ip1.conversation(SEED_PARTICIPANT_2)
    before = ip1.state()
    ip1.demo_step(1)
    assert ip1.state()["inbound"] == before["inbound"] + 1
    assert ip1.conversation(SEED_PARTICIPANT)[-1].body == "Demo message #1"
    assert pending.code == 102  # delivered only on even steps
    ip1.demo_step(2)
    assert pending.code == 201
    reply = ip1.conversation(SEED_PARTICIPANT)[-1]
    assert (reply.body, reply.code) == ("Demo reply #2", 101)
    ip1.demo_step(3)
    assert reply.code == 102
    ip1.demo_step(4)
    assert reply.code == 201
    assert ip1.conversation(SEED_PARTICIPANT_2)[-1].body == "Demo message #4"


async def test_demo_step_delivers_and_retries(
    sandbox: Sandbox, receiver: Receiver, freezer: FrozenDateTimeFactory
) -> None:
    sandbox.ip1.inbound_callback_url = receiver.url
    receiver.answers = [500]
    sandbox.ip1.demo_step(1)
    await sandbox.ip1.wait_deliveries()
    (delivery,) = sandbox.ip1.deliveries
    assert delivery.status == 500
    sandbox.ip1.demo_step(2)  # not due yet
    await sandbox.ip1.wait_deliveries()
    assert len(delivery.attempts) == 1
    freezer.tick(timedelta(minutes=10))
    sandbox.ip1.demo_step(3)
    await sandbox.ip1.wait_deliveries()
    assert delivery.delivered
    assert [c.payload["body"] for c in receiver.calls] == ["Demo message #1"] * 2


# -- variants: where IP1's own pages disagree -------------------------------------------

LEGACY_LINK_RE = re.compile(r'<([^>]*)> rel="([^"]*)"')


async def test_variants_default_and_control(
    sandbox: Sandbox, sandbox_client: Client
) -> None:
    defaults = {
        "report_id_key": "id",
        "link_style": "standard",
        "direction_style": "number",
    }
    assert await control(sandbox_client, "GET", "/variants") == defaults
    changed = await control(
        sandbox_client, "PUT", "/variants", {"report_id_key": "messageId"}
    )
    assert changed == {**defaults, "report_id_key": "messageId"}
    assert sandbox.ip1.report_id_key == "messageId"
    state = await control(sandbox_client, "GET", "/state")
    assert state["variants"] == changed
    assert "report_id_key 'messageId'" in "\n".join(sandbox.ip1.summary())
    for bad in ({"link_style": "semicolon"}, {"colour": "blue"}):
        await control(sandbox_client, "PUT", "/variants", bad, 400)
    # A refused change changes nothing, not even its valid part.
    await control(
        sandbox_client,
        "PUT",
        "/variants",
        {"direction_style": "name", "link_style": "x"},
        400,
    )
    assert sandbox.ip1.direction_style == "number"
    sandbox.reset()
    assert sandbox.ip1.variants() == defaults


@pytest.mark.parametrize(("style", "separator"), [("standard", ";"), ("legacy", "")])
async def test_link_style(
    sandbox: Sandbox, sandbox_client: Client, ip1: BearerApi, style: str, separator: str
) -> None:
    await control(sandbox_client, "PUT", "/variants", {"link_style": style})
    messages, response = await page(ip1, start=1, limit=1)
    assert len(messages) == 1
    header = response.headers["Link"]
    found = {
        rel: url
        for url, rel in re.findall(rf'<([^>]*)>{separator} rel="([^"]*)"', header)
    }
    assert set(found) == {"next", "prev"}
    assert "start=2" in found["next"]
    assert "start=0" in found["prev"]
    if style == "legacy":
        assert ">;" not in header
        assert LEGACY_LINK_RE.search(header)


async def test_direction_style_names(
    sandbox: Sandbox, ip1: BearerApi, receiver: Receiver
) -> None:
    sandbox.ip1.direction_style = "name"
    messages, _ = await page(ip1)
    assert [m["direction"] for m in messages] == ["mo", "mt", "mo"]
    response = await ip1.request("POST", "/v2/batches", json=GOOD_BATCH)
    (sent,) = (await body_of(response))["messages"]
    assert sent["direction"] == "mt"
    single = await ip1.request("GET", f"/v2/messages/{sent['id']}")
    assert (await body_of(single))["direction"] == "mt"
    sandbox.ip1.inbound_callback_url = receiver.url
    posted = sandbox.ip1.add_inbound(SEED_PARTICIPANT, "named")
    await sandbox.ip1.wait_deliveries()
    assert posted["direction"] == "mo"
    assert receiver.calls[0].payload["direction"] == "mo"
    sandbox.ip1.direction_style = "number"
    messages, _ = await page(ip1)
    assert messages[0]["direction"] == 1


@pytest.mark.parametrize("key", ["id", "messageId"])
async def test_report_id_key(
    sandbox: Sandbox,
    sandbox_client: Client,
    ip1: BearerApi,
    receiver: Receiver,
    key: str,
) -> None:
    await control(sandbox_client, "PUT", "/variants", {"report_id_key": key})
    response = await ip1.request(
        "POST", "/v2/batches", json={**GOOD_BATCH, "deliveryReportUrl": receiver.url}
    )
    (sent,) = (await body_of(response))["messages"]
    await control(
        sandbox_client, "POST", f"/messages/{sent['id']}/statuses", {"code": 102}
    )
    (call,) = receiver.calls
    assert call.payload[key] == sent["id"]
    other = {"id", "messageId"} - {key}
    assert not other & set(call.payload)
    assert set(call.payload) == {
        key,
        "batchId",
        "recipient",
        "code",
        "duration",
        "created",
        "segments",
        "price",
        "currency",
        "reference",
    }


# -- IP1's retry policy ---------------------------------------------------------------------


async def report_refused_forever(
    sandbox: Sandbox, ip1: BearerApi, receiver: Receiver
) -> Any:
    """A batch's delivery report the receiver answers 503 (for the next 20 tries)."""
    response = await ip1.request(
        "POST", "/v2/batches", json={**GOOD_BATCH, "deliveryReportUrl": receiver.url}
    )
    (sent,) = (await body_of(response))["messages"]
    receiver.answers = [503] * 20
    sandbox.ip1.set_status(sent["id"], 201)
    await sandbox.ip1.wait_deliveries()
    (delivery,) = sandbox.ip1.deliveries
    return delivery


async def test_a_refused_report_is_tried_every_ten_minutes_at_most_ten_times(
    sandbox: Sandbox, ip1: BearerApi, receiver: Receiver
) -> None:
    delivery = await report_refused_forever(sandbox, ip1, receiver)
    assert len(delivery.attempts) == 1
    assert await sandbox.ip1.advance(timedelta(minutes=9, seconds=59)) == []
    assert await sandbox.ip1.advance(timedelta(seconds=1)) == [delivery]
    for _ in range(8):
        assert await sandbox.ip1.advance(timedelta(minutes=10)) == [delivery]
    assert [a.status for a in delivery.attempts] == [503] * 10
    gaps = {
        later.at - earlier.at
        for earlier, later in zip(
            delivery.attempts, delivery.attempts[1:], strict=False
        )
    }
    assert all(timedelta(minutes=10) <= gap < timedelta(minutes=11) for gap in gaps)
    assert delivery.discarded
    assert not delivery.due(sandbox.ip1.now() + timedelta(days=1))
    assert sandbox.ip1.pending_deliveries == []
    assert sandbox.ip1.state()["discarded_deliveries"] == 1
    assert await sandbox.ip1.advance(timedelta(hours=5)) == []
    assert await sandbox.ip1.retry_pending() == []
    assert len(receiver.calls) == 10


async def test_a_report_answered_on_a_retry_is_not_sent_again(
    sandbox: Sandbox, ip1: BearerApi, receiver: Receiver
) -> None:
    delivery = await report_refused_forever(sandbox, ip1, receiver)
    receiver.answers = [500]  # the second try; the third is answered 200
    await sandbox.ip1.advance(timedelta(minutes=10))
    await sandbox.ip1.advance(timedelta(minutes=10))
    assert [a.status for a in delivery.attempts] == [503, 500, 200]
    assert (delivery.delivered, delivery.discarded) == (True, False)
    assert await sandbox.ip1.advance(timedelta(minutes=10)) == []


async def test_an_inbound_message_is_tried_beyond_ten_times(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    sandbox.ip1.inbound_callback_url = receiver.url
    receiver.answers = [502] * 12
    sandbox.ip1.add_inbound(SEED_PARTICIPANT, "keep trying")
    await sandbox.ip1.wait_deliveries()
    (delivery,) = sandbox.ip1.deliveries
    for _ in range(12):
        await sandbox.ip1.advance(timedelta(minutes=10))
    assert [a.status for a in delivery.attempts] == [502] * 12 + [200]
    assert delivery.delivered


async def test_clock_control(
    sandbox: Sandbox,
    sandbox_client: Client,
    ip1: BearerApi,
    receiver: Receiver,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to("2031-01-02T03:00:00Z")
    delivery = await report_refused_forever(sandbox, ip1, receiver)
    answer = await control(sandbox_client, "POST", "/clock/advance", {"minutes": 5})
    assert answer == {"now": "2031-01-02T03:05:00.000+00:00", "attempted": []}
    answer = await control(sandbox_client, "POST", "/clock/advance", {"minutes": 5})
    (attempted,) = answer["attempted"]
    assert (attempted["kind"], attempted["status"]) == ("delivery_report", 503)
    assert [a["at"] for a in attempted["attempts"]] == [
        "2031-01-02T03:00:00.000+00:00",
        "2031-01-02T03:10:00.000+00:00",
    ]
    assert len(delivery.attempts) == 2
    # Messages made later carry the moved clock.
    message = sandbox.ip1.add_inbound(SEED_PARTICIPANT, "later")
    assert message["statuses"][0]["created"] == "2031-01-02T03:10:00.000+00:00"
    await control(sandbox_client, "POST", "/clock/advance", {"minutes": -1}, 400)
    await control(sandbox_client, "POST", "/clock/advance", {"minutes": "5"}, 400)
    await control(sandbox_client, "POST", "/clock/advance", {}, 400)
    state = await control(sandbox_client, "GET", "/state")
    assert state["now"] == "2031-01-02T03:10:00.000+00:00"
    sandbox.reset()
    assert sandbox.ip1.clock_offset == timedelta(0)


# -- what IP1's C# sample and developer pages send -------------------------------------


async def test_templated_recipients(sandbox: Sandbox, ip1: BearerApi) -> None:
    data = {
        "sender": "iP1",
        "recipients": {
            "46701111111": {"sign": " sent by Bob"},
            "46702222222": {},
            "default": {"sign": " sent by iP.1"},
        },
        "body": "A very nice message{sign}{unknown}",
    }
    response = await ip1.request("POST", "/v2/batches", json=data)
    assert response.status == 201
    batch = await body_of(response)
    assert batch["recipients"] == ["46701111111", "46702222222"]
    assert batch["body"] == data["body"]
    assert [(m["recipient"], m["body"]) for m in batch["messages"]] == [
        ("46701111111", "A very nice message sent by Bob{unknown}"),
        ("46702222222", "A very nice message sent by iP.1{unknown}"),
    ]
    # A plain list leaves braces alone.
    response = await ip1.request(
        "POST", "/v2/batches", json={**GOOD_BATCH, "body": "{sign}"}
    )
    assert (await body_of(response))["messages"][0]["body"] == "{sign}"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, (1, 0, 1)),
        ({"type": "sms", "datacoding": "gsm", "priority": 1}, (1, 0, 1)),
        ({"type": "SMS", "datacoding": "UCS", "priority": "High"}, (1, 2, 2)),
        ({"type": 0, "datacoding": 2, "priority": 2}, (0, 2, 2)),
        ({"type": "Flash", "datacoding": 0}, (0, 0, 1)),
    ],
)
async def test_batch_options(
    ip1: BearerApi, options: dict[str, Any], expected: tuple[int, int, int]
) -> None:
    response = await ip1.request("POST", "/v2/batches", json={**GOOD_BATCH, **options})
    assert response.status == 201
    (message,) = (await body_of(response))["messages"]
    assert (message["type"], message["datacoding"], message["priority"]) == expected
    # UCS-2 takes fewer characters a segment.
    assert message["segments"] == 1


async def test_asked_gsm_falls_back_to_ucs2(ip1: BearerApi) -> None:
    response = await ip1.request(
        "POST",
        "/v2/batches",
        json={**GOOD_BATCH, "body": "\u2013", "datacoding": "gsm"},
    )
    (message,) = (await body_of(response))["messages"]
    assert message["datacoding"] == 2


async def test_windows_tags_and_an_empty_report_url(
    sandbox: Sandbox, ip1: BearerApi
) -> None:
    windows = [
        {"opens": "2031-01-02T12:00:00", "closes": None},
        {"opens": "2031-01-03T08:00:00+01:00", "closes": "2031-01-03T17:00:00Z"},
    ]
    data = {
        **GOOD_BATCH,
        "deliveryWindows": windows,
        "tags": ["marketing", " ux"],
        "deliveryReportUrl": "",
        "reference": "",
    }
    response = await ip1.request("POST", "/v2/batches", json=data)
    assert response.status == 201
    batch = await body_of(response)
    assert batch["deliveryWindows"] == windows
    assert batch["tags"] == ["marketing", " ux"]
    assert batch["deliveryReportUrl"] is None
    (message,) = batch["messages"]
    sandbox.ip1.set_status(message["id"], 201)
    assert sandbox.ip1.deliveries == []


@pytest.mark.parametrize(
    ("change", "field_name"),
    [
        ({"recipients": {}}, "recipients"),
        ({"recipients": {"default": {"a": "b"}}}, "recipients"),
        ({"recipients": {"+4670": {}}}, "recipients.+4670"),
        ({"recipients": {"4670": "x"}}, "recipients.4670"),
        ({"recipients": {"4670": {"a": 1}}}, "recipients.4670"),
        ({"recipients": {"4670": {}, "default": []}}, "recipients.default"),
        ({"body": "   "}, "body"),
        ({"type": "mms"}, "type"),
        ({"type": 2}, "type"),
        ({"type": True}, "type"),
        ({"datacoding": 1}, "datacoding"),
        ({"priority": 3}, "priority"),
        ({"priority": 1.0}, "priority"),
        ({"deliveryWindows": {}}, "deliveryWindows"),
        ({"deliveryWindows": ["tomorrow"]}, "deliveryWindows[0]"),
        ({"deliveryWindows": [{}, {"opens": "soon"}]}, "deliveryWindows[1]"),
        ({"deliveryWindows": [{"closes": 5}]}, "deliveryWindows[0]"),
        ({"tags": "marketing"}, "tags"),
        ({"tags": [1]}, "tags"),
    ],
)
async def test_batch_option_validation(
    sandbox: Sandbox, ip1: BearerApi, change: dict[str, Any], field_name: str
) -> None:
    before = len(sandbox.ip1.messages)
    response = await ip1.request("POST", "/v2/batches", json={**GOOD_BATCH, **change})
    problem = await assert_problem(response, 400)
    assert list(problem["errors"]) == [field_name]
    assert len(sandbox.ip1.messages) == before


async def test_batch_lists(sandbox: Sandbox, ip1: BearerApi) -> None:
    """The lists IP1's C# sample reads: batches, a batch's messages, one of them."""
    listed = await ip1.request("GET", "/v2/batches", params={"order": "DESC"})
    assert listed.status == 200
    seeded = await body_of(listed)
    assert len(seeded) == 2  # the seed's two outbound messages
    response = await ip1.request(
        "POST",
        "/v2/batches",
        json={**GOOD_BATCH, "recipients": ["46701111111", "46702222222"]},
    )
    batch = await body_of(response)
    newest, response = await page_of(ip1, "/v2/batches", order="DESC", limit=1)
    assert [b["id"] for b in newest] == [batch["id"]]
    assert newest[0] == batch
    assert "next" in links(response)
    messages, response = await page_of(
        ip1, f"/v2/batches/{batch['id']}/messages", limit=1
    )
    assert [m["recipient"] for m in messages] == ["46701111111"]
    assert "start=1" in links(response)["next"]
    second = batch["messages"][1]
    single = await ip1.request(
        "GET", f"/v2/batches/{batch['id']}/messages/{second['id']}"
    )
    assert await body_of(single) == second
    first_of_seed = seeded[-1]["messages"][0]["id"]
    for path in (
        "/v2/batches/nope/messages",
        f"/v2/batches/nope/messages/{second['id']}",
        f"/v2/batches/{batch['id']}/messages/{first_of_seed}",
    ):
        await assert_problem(await ip1.request("GET", path), 404)
    await assert_problem(
        await ip1.request("GET", "/v2/batches", params={"limit": "0"}), 400
    )
    sandbox.ip1.account_id = "ip1-99999"  # another account sees none of them
    assert await body_of(await ip1.request("GET", "/v2/batches")) == []


async def test_conversation_halves(ip1: BearerApi) -> None:
    """`/mo` lists what the account received, `/mt` what it sent."""
    received, _ = await page_of(ip1, f"{CONVERSATION}/mo")
    sent, _ = await page_of(ip1, f"{CONVERSATION}/mt")
    assert [m["body"] for m in received] == [
        "Hi, is the shop open on Saturday?",
        "Great, see you then",
    ]
    assert [m["body"] for m in sent] == ["Yes, 10\u201316. Welcome!"]
    await assert_problem(
        await ip1.request("GET", f"/v2/conversations/{SEED_NAME}/mt"),
        404,
        "No messages to list",
    )
    await assert_problem(
        await ip1.request("GET", "/v2/conversations/+46/mo"),
        400,
        "Participant was invalid",
    )


async def page_of(
    ip1: BearerApi, path: str, **params: str | int
) -> tuple[list[dict[str, Any]], ClientResponse]:
    """One page of any list (asserting 200)."""
    response = await ip1.request("GET", path, params=params)
    assert response.status == 200, await response.text()
    return await body_of(response), response
