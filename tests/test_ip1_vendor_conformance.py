"""IP1's own clients against the sandbox, and the sandbox's reports against CommHub.

The requests are the shapes IP1's developer pages and its C# sample application send;
the answers are checked the way that code reads them. The
reports are posted by the sandbox, in each of the forms IP1's pages give, through
real HTTP to a real entry's webhook, under IP1's retry policy.
"""

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
import re
from typing import Any
from unittest.mock import patch

import aiohttp
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from sandbox import Sandbox

from .conftest import IP1_KEY, IP1_PARTICIPANT, IP1_WEBHOOK_ID, SetupEntry
from .helpers import call

REPORT = "commhub_delivery_report"
WEBHOOK = f"/api/webhook/{IP1_WEBHOOK_ID}"
# What IP1's C# sample's enums make of the numbers in an answer.
SMS_TYPE = {0: "Flash", 1: "SMS"}
DATACODING = {0: "GSM", 2: "UCS"}
PRIORITY = {1: "Normal", 2: "High"}


class VendorClient:
    """Requests as IP1's C# sample makes them: base `…/v2/`, JSON, a Bearer key."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session = session
        self.base = base
        self.headers = {
            "Accept": "application/json",
            "Authorization": f"Bearer {IP1_KEY}",
        }

    async def send(
        self, method: str, path_or_url: str, body: object = None
    ) -> tuple[int, Any, aiohttp.ClientResponse]:
        """(status, JSON body, response): the sample shows the status and the JSON."""
        url = path_or_url if "://" in path_or_url else self.base + path_or_url
        data = None if body is None else aiohttp.JsonPayload(body)
        async with self.session.request(
            method, url, data=data, headers=self.headers
        ) as response:
            return response.status, await response.json(content_type=None), response

    async def every_page(self, path: str) -> tuple[list[Any], int]:
        """A list read page by page as IP1's introduction page shows, and the pages."""
        items: list[Any] = []
        url: str | None = f"{path}?start=0&limit=200&order=DESC"
        pages = 0
        while url is not None:
            status, page, response = await self.send("GET", url)
            assert 200 <= status < 300
            items += page
            pages += 1
            url = next_link(response.headers.get("Link", ""))
        return items, pages


def next_link(header: str) -> str | None:
    """`rel="next"`'s target, with or without the `;` IP1's pages disagree on."""
    for target, params in re.findall(r"<([^>]*)>([^<]*)", header):
        if re.search(r'rel="?next"?', params):
            return str(target)
    return None


@pytest.fixture
async def vendor(sandbox_url: str) -> AsyncIterator[VendorClient]:
    """IP1's C# sample pointed at the sandbox."""
    async with aiohttp.ClientSession() as session:
        yield VendorClient(session, f"{sandbox_url}/ip1/v2/")


# -- POST /v2/batches as IP1's code and pages send it --------------------------------


async def test_the_csharp_sample_app_batch(vendor: VendorClient) -> None:
    """The sample's form: enums as numbers (UCS by default), a window without offset."""
    status, batch, _ = await vendor.send(
        "POST",
        "batches",
        {
            "sender": "CommHub",
            "recipients": [IP1_PARTICIPANT],
            "body": "Hello from the sample",
            "type": 1,
            "datacoding": 2,
            "priority": 1,
            "deliveryWindows": [{"opens": "2031-01-02T12:00:00", "closes": None}],
            "deliveryReportUrl": None,
            "reference": "",
            "tags": [""],
        },
    )
    assert 200 <= status < 300  # the sample's IsSuccessStatusCode
    (message,) = batch["messages"]
    assert SMS_TYPE[message["type"]] == "SMS"
    assert DATACODING[message["datacoding"]] == "UCS"
    assert PRIORITY[message["priority"]] == "Normal"
    assert batch["deliveryWindows"] == [
        {"opens": "2031-01-02T12:00:00", "closes": None}
    ]


async def test_the_csharp_example_project_batch(vendor: VendorClient) -> None:
    """The older sample writes `type` and `datacoding` by name."""
    status, batch, _ = await vendor.send(
        "POST",
        "batches",
        {
            "sender": "CommHub",
            "recipients": [IP1_PARTICIPANT, "46709876543"],
            "body": "Hello",
            "type": "SMS",
            "datacoding": "UCS",
            "priority": 2,
            "deliveryWindows": [],
            "deliveryReportUrl": "https://example.com/reports",
            "reference": "order-17",
            "tags": ["sample"],
        },
    )
    assert 200 <= status < 300
    assert [m["recipient"] for m in batch["messages"]] == [
        IP1_PARTICIPANT,
        "46709876543",
    ]
    for message in batch["messages"]:
        assert (SMS_TYPE[message["type"]], DATACODING[message["datacoding"]]) == (
            "SMS",
            "UCS",
        )
        assert PRIORITY[message["priority"]] == "High"
        assert message["reference"] == "order-17"
    assert batch["tags"] == ["sample"]


@pytest.mark.parametrize("report_url", ["https://api.example.com/sms/dlr", ""])
async def test_the_developer_pages_extended_batch(
    vendor: VendorClient, sandbox: Sandbox, report_url: str
) -> None:
    """Templated recipients, names for the options; one copy sends an empty URL."""
    status, batch, _ = await vendor.send(
        "POST",
        "batches",
        {
            "sender": "iP1",
            "recipients": {
                "46701111111": {"sign": " sent by Bob"},
                "46702222222": {},
                "default": {"sign": " sent by iP.1"},
            },
            "body": "A very nice message{sign}",
            "type": "sms",
            "datacoding": "gsm",
            "priority": 1,
            "deliveryWindows": [
                {"opens": "2031-01-02T08:00:00Z", "closes": "2031-01-02T17:00:00Z"},
                {"opens": "2031-01-03T08:00:00Z", "closes": "2031-01-03T17:00:00Z"},
            ],
            "deliveryReportUrl": report_url,
            "reference": "A client reference",
            "tags": ["marketing", " ux", "design"],
        },
    )
    assert status == 201
    assert [(m["recipient"], m["body"]) for m in batch["messages"]] == [
        ("46701111111", "A very nice message sent by Bob"),
        ("46702222222", "A very nice message sent by iP.1"),
    ]
    assert {(m["type"], m["datacoding"], m["priority"]) for m in batch["messages"]} == {
        (1, 0, 1)
    }
    assert batch["deliveryReportUrl"] == (report_url or None)


async def test_the_developer_pages_minimal_batch(vendor: VendorClient) -> None:
    """sender, recipients, body: one message each, queued."""
    status, batch, response = await vendor.send(
        "POST",
        "batches",
        {"sender": "iP1", "recipients": ["46701111111", "46702222222"], "body": "Hi"},
    )
    assert status == 201
    assert response.headers["Location"].endswith(f"/v2/batches/{batch['id']}")
    assert [m["statuses"][-1]["code"] for m in batch["messages"]] == [101, 101]


# -- the GETs IP1's C# sample sends ----------------------------------------------------


async def test_the_csharp_sample_gets(vendor: VendorClient) -> None:
    """Every GET of the sample's message and batch buttons answers 2xx with JSON."""
    _, batch, _ = await vendor.send(
        "POST",
        "batches",
        {"sender": "iP1", "recipients": [IP1_PARTICIPANT], "body": "x"},
    )
    (message,) = batch["messages"]
    answers = {
        path: await vendor.send("GET", path)
        for path in (
            "batches",
            f"batches/{batch['id']}",
            f"batches/{batch['id']}/messages",
            f"batches/{batch['id']}/messages/{message['id']}",
            f"conversations/{IP1_PARTICIPANT}",
            f"conversations/{IP1_PARTICIPANT}/mt",
            f"conversations/{IP1_PARTICIPANT}/mo",
        )
    }
    assert {path: status for path, (status, _, _) in answers.items()} == dict.fromkeys(
        answers, 200
    )
    assert answers[f"batches/{batch['id']}"][1] == batch
    assert answers[f"batches/{batch['id']}/messages/{message['id']}"][1] == message
    outgoing = answers[f"conversations/{IP1_PARTICIPANT}/mt"][1]
    incoming = answers[f"conversations/{IP1_PARTICIPANT}/mo"][1]
    assert message in outgoing
    assert all(m["sender"] == IP1_PARTICIPANT for m in incoming)
    assert all(m["recipient"] == IP1_PARTICIPANT for m in outgoing)


@pytest.mark.parametrize("link_style", ["standard", "legacy"])
@pytest.mark.parametrize("path", ["batches", f"conversations/{IP1_PARTICIPANT}"])
async def test_paging_as_the_introduction_page_shows(
    vendor: VendorClient, sandbox: Sandbox, link_style: str, path: str
) -> None:
    """start/limit/order and the Link header reach every item once, newest first."""
    sandbox.ip1.set_variants({"link_style": link_style})
    for index in range(230):
        sandbox.ip1.add_outbound(IP1_PARTICIPANT, f"bulk {index}")
    items, pages = await vendor.every_page(path)
    assert pages == 3  # limit=200 is clamped to 100
    if path == "batches":
        oldest_first = sorted(sandbox.ip1.batches.values(), key=lambda b: b.created)
        expected = [batch.id for batch in oldest_first]
    else:
        expected = [m.id for m in sandbox.ip1.conversation(IP1_PARTICIPANT)]
    assert [item["id"] for item in items] == expected[::-1]


# -- the sandbox's delivery reports against a real entry --------------------------------


async def entry_with_reports(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    setup_ip1: SetupEntry,
) -> MockConfigEntry:
    """An entry with reports on, reachable by the sandbox at its external URL."""
    entry = await setup_ip1(delivery_reports=True)
    client = await hass_client_no_auth()
    hass.config.external_url = str(client.make_url("/")).rstrip("/")
    return entry


async def send(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    """Send one SMS with the entry's action; the message's id."""
    response = await call(hass, "send_message", entry, to=IP1_PARTICIPANT, message="Hi")
    (result,) = response["results"]
    return str(result["id"])


@pytest.mark.parametrize("key", ["id", "messageId"])
async def test_a_report_in_either_form_fires_once(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    sandbox: Sandbox,
    setup_ip1: SetupEntry,
    key: str,
) -> None:
    """IP1 posts the report (and again, as IP1 may): 200 each time, one event."""
    sandbox.ip1.set_variants({"report_id_key": key})
    entry = await entry_with_reports(hass, hass_client_no_auth, setup_ip1)
    reports = async_capture_events(hass, REPORT)
    message_id = await send(hass, entry)
    message = sandbox.ip1.messages[message_id]
    sandbox.ip1.set_status(message_id, 201)
    await sandbox.ip1.wait_deliveries()
    await sandbox.ip1.deliver_report(message_id)
    await hass.async_block_till_done()
    assert [[a.status for a in d.attempts] for d in sandbox.ip1.deliveries] == [
        [200],
        [200],
    ]
    (delivery, _) = sandbox.ip1.deliveries
    assert key in delivery.payload
    assert [e.data for e in reports] == [
        {
            "config_entry_id": entry.entry_id,
            "service": "ip1",
            "message_id": message_id,
            "batch_id": message.batch_id,
            "recipient": IP1_PARTICIPANT,
            "code": 201,
            "created": datetime.fromisoformat(delivery.payload["created"]).isoformat(),
        }
    ]


async def test_a_report_refused_with_500_comes_again_ten_minutes_later(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    sandbox: Sandbox,
    setup_ip1: SetupEntry,
) -> None:
    """CommHub cannot save: it answers 500, IP1 retries after 10 minutes, fired once."""
    entry = await entry_with_reports(hass, hass_client_no_auth, setup_ip1)
    reports = async_capture_events(hass, REPORT)
    message_id = await send(hass, entry)
    journal = entry.runtime_data.ledger._journal
    with patch.object(journal, "append", side_effect=OSError("disk full")):
        sandbox.ip1.set_status(message_id, 201)
        await sandbox.ip1.wait_deliveries()
    (delivery,) = sandbox.ip1.deliveries
    assert [a.status for a in delivery.attempts] == [500]
    assert await sandbox.ip1.advance(timedelta(minutes=9)) == []
    assert await sandbox.ip1.advance(timedelta(minutes=1)) == [delivery]
    await hass.async_block_till_done()
    assert [a.status for a in delivery.attempts] == [500, 200]
    assert [e.data["message_id"] for e in reports] == [message_id]
    assert await sandbox.ip1.advance(timedelta(minutes=10)) == []


async def test_a_report_refused_ten_times_is_given_up(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    sandbox: Sandbox,
    setup_ip1: SetupEntry,
) -> None:
    """At most 10 tries, 10 minutes apart; then IP1 discards the report."""
    entry = await entry_with_reports(hass, hass_client_no_auth, setup_ip1)
    reports = async_capture_events(hass, REPORT)
    message_id = await send(hass, entry)
    journal = entry.runtime_data.ledger._journal
    with patch.object(journal, "append", side_effect=OSError("disk full")):
        sandbox.ip1.set_status(message_id, 201)
        for _ in range(12):
            await sandbox.ip1.advance(timedelta(minutes=10))
    (delivery,) = sandbox.ip1.deliveries
    assert [a.status for a in delivery.attempts] == [500] * 10
    assert delivery.discarded
    assert await sandbox.ip1.advance(timedelta(days=1)) == []
    assert reports == []


# -- the report's two forms, posted directly --------------------------------------------


def report(**fields: Any) -> dict[str, Any]:
    """A report as IP1's page lists it, with some fields changed."""
    payload: dict[str, Any] = {
        "messageId": "5c613848879973045cf39ac4",
        "batchId": "5c613848879973045cf39ac3",
        "recipient": IP1_PARTICIPANT,
        "code": 102,
        "duration": 0,
        "created": "2026-11-23T17:43:21Z",
        "segments": 2,
        "price": 0.082,
        "currency": "eur",
        "reference": "A client reference",
    }
    payload.update(fields)
    return {key: value for key, value in payload.items() if value is not ...}


async def test_both_forms_are_one_report(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    setup_ip1: SetupEntry,
) -> None:
    """`messageId` and `id` name the same message: the same event, fired once."""
    await setup_ip1()
    reports = async_capture_events(hass, REPORT)
    client = await hass_client_no_auth()
    url = f"{WEBHOOK}?kind=delivery_report"
    by_message_id = report()
    by_id = report(messageId=..., id="5c613848879973045cf39ac4")
    assert (await client.post(url, json=by_message_id)).status == 200
    assert (await client.post(url, json=by_id)).status == 200
    assert (await client.post(WEBHOOK, json=by_id)).status == 200  # by its shape
    assert [(e.data["message_id"], e.data["code"]) for e in reports] == [
        ("5c613848879973045cf39ac4", 102)
    ]
    # A null `messageId` beside an `id`: the `id` names it.
    fallback = report(messageId=None, id="other", code=201)
    assert (await client.post(url, json=fallback)).status == 200
    assert [e.data["message_id"] for e in reports][1:] == ["other"]


@pytest.mark.parametrize(
    "payload",
    [
        report(messageId=...),
        report(messageId=None),
        report(messageId=5),
        report(messageId=..., id=["x"]),
    ],
    ids=["no-id", "null-id", "number-id", "list-id"],
)
async def test_a_report_without_a_usable_id_is_400(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    setup_ip1: SetupEntry,
    payload: dict[str, Any],
) -> None:
    """No message id under either key: refused, nothing fired."""
    await setup_ip1()
    reports = async_capture_events(hass, REPORT)
    client = await hass_client_no_auth()
    response = await client.post(f"{WEBHOOK}?kind=delivery_report", json=payload)
    assert response.status == 400
    assert reports == []
