"""The IP1 client: conversations, batches, errors, parsing and normalisation."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
import json
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import pytest

from custom_components.commhub.api import (
    CommHubAuthError,
    CommHubConnectionError,
    CommHubRequestError,
    CommHubResponseError,
)
from custom_components.commhub.api.ip1 import (
    SENDER_RE,
    Ip1Batch,
    Ip1Client,
    Ip1SentMessage,
    normalise_number,
    normalise_participant,
    parse_message,
)
from custom_components.commhub.api.records import MalformedRecord, MalformedRecordError
from sandbox import Fault, Sandbox

from .conftest import IP1_KEY, IP1_NAME, IP1_PARTICIPANT

OTHER_PARTICIPANT = "46709876543"  # seeded: one outbound message
EMPTY_PARTICIPANT = "46705550000"  # seeded: a valid participant without messages

# "path" -> (status, headers, JSON body) for the canned server.
type Answers = dict[str, tuple[int, dict[str, str], Any]]


# The forms IP1's pages disagree on that a client reads: the Link and direction.
CLIENT_VARIANTS = [
    {"link_style": link, "direction_style": direction}
    for link in ("standard", "legacy")
    for direction in ("number", "name")
]


@pytest.fixture(params=CLIENT_VARIANTS, ids=lambda v: "-".join(v.values()))
async def ip1(
    hass: HomeAssistant,
    sandbox: Sandbox,
    sandbox_url: str,
    request: pytest.FixtureRequest,
) -> Ip1Client:
    """A client of the sandbox's seeded account, in each of the sandbox's variants."""
    sandbox.ip1.set_variants(request.param)
    return Ip1Client(async_get_clientsession(hass), IP1_KEY, f"{sandbox_url}/ip1")


@pytest.fixture
async def canned(
    hass: HomeAssistant, socket_enabled: None
) -> AsyncIterator[tuple[Answers, Ip1Client, list[str]]]:
    """A server answering each path with what the test put in `answers`."""
    answers: Answers = {}
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.path_qs)
        status, headers, body = answers[request.path]
        return web.Response(
            status=status,
            headers={"Content-Type": "application/json", **headers},
            body=body if isinstance(body, bytes) else json.dumps(body).encode(),
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    server = TestServer(app, host="127.0.0.1", access_log=None)
    await server.start_server()
    client = Ip1Client(async_get_clientsession(hass), "key", str(server.make_url("")))
    yield answers, client, seen
    await server.close()


def record(**fields: Any) -> dict[str, Any]:
    """A message as IP1 lists it, with some fields changed."""
    message: dict[str, Any] = {
        "id": "m1",
        "batchId": None,
        "sender": "46701234567",
        "recipient": "46700000000",
        "body": "Hello",
        "direction": 1,
        "statuses": [{"code": 201, "duration": 0, "created": "2026-01-02T10:00:00Z"}],
        "modified": "2026-01-02T10:00:00Z",
    }
    message.update(fields)
    return message


# -- conversations against the sandbox -------------------------------------------


async def test_bearer_key_and_paging_parameters_are_sent(
    sandbox: Sandbox, ip1: Ip1Client
) -> None:
    """Every request carries the key as a Bearer token and asks newest first."""
    page = await ip1.conversation_page(IP1_PARTICIPANT)
    assert len(page.items) == 3
    [request] = sandbox.ip1.requests
    assert request.headers["Authorization"] == f"Bearer {IP1_KEY}"
    assert request.headers["Accept"] == "application/json"
    assert request.path == f"/v2/conversations/{IP1_PARTICIPANT}"
    assert dict(request.query) == {"start": "0", "limit": "100", "order": "desc"}


async def test_seeded_conversation_is_newest_first_and_parsed(
    sandbox: Sandbox, ip1: Ip1Client
) -> None:
    """Both directions, newest first; the outbound one has a batch and its status."""
    page = await ip1.conversation_page(IP1_PARTICIPANT)
    assert page.malformed == []
    assert page.next_page is None
    expected = [m.id for m in reversed(sandbox.ip1.conversation(IP1_PARTICIPANT))]
    assert [m.id for m in page.items] == expected
    created = [m.created for m in page.items]
    assert created == sorted(created, reverse=True)
    newest, reply, first = page.items
    assert newest.body == "Great, see you then"
    assert newest.inbound_from(IP1_PARTICIPANT)
    assert (newest.status, newest.batch_id) == (201, None)
    assert not reply.inbound_from(IP1_PARTICIPANT)
    assert reply.recipient == IP1_PARTICIPANT
    assert reply.batch_id is not None
    # 101, 102 and 201 share one time: the last listed is the newest.
    assert reply.status == 201
    assert first.body == "Hi, is the shop open on Saturday?"


async def test_sender_name_participant(ip1: Ip1Client) -> None:
    """A participant can be an alphanumeric sender name."""
    page = await ip1.conversation_page(IP1_NAME)
    assert [(m.sender, m.body) for m in page.items] == [
        (IP1_NAME, "Your prescription is ready for pickup.")
    ]


async def test_paging_follows_link_until_none(sandbox: Sandbox, ip1: Ip1Client) -> None:
    """Seven messages in pages of three: starts 0, 3, 6, then no next page."""
    now = datetime.now(UTC)
    for minutes in range(4):
        sandbox.ip1.add_inbound(
            IP1_PARTICIPANT, f"extra {minutes}", at=now - timedelta(minutes=minutes)
        )
    starts: list[int] = []
    ids: list[str] = []
    start: int | None = 0
    while start is not None:
        starts.append(start)
        page = await ip1.conversation_page(IP1_PARTICIPANT, start, limit=3)
        assert page.malformed == []
        assert len(page.items) == (3 if start < 6 else 1)
        ids.extend(m.id for m in page.items)
        start = page.next_page
    assert starts == [0, 3, 6]
    assert [dict(r.query) for r in sandbox.ip1.requests] == [
        {"start": str(s), "limit": "3", "order": "desc"} for s in (0, 3, 6)
    ]
    assert ids == [m.id for m in reversed(sandbox.ip1.conversation(IP1_PARTICIPANT))]
    assert len(set(ids)) == 7


async def test_participant_without_messages_is_an_empty_page(
    sandbox: Sandbox, ip1: Ip1Client
) -> None:
    """IP1 answers 404 "No messages to list": that is an empty conversation."""
    page = await ip1.conversation_page(EMPTY_PARTICIPANT)
    assert (page.items, page.malformed, page.next_page) == ([], [], None)
    assert [r.status for r in sandbox.ip1.requests] == [404]


@pytest.mark.parametrize("participant", ["+4670", "a b", "ab", ""])
async def test_invalid_participant_is_a_400_with_its_detail(
    ip1: Ip1Client, participant: str
) -> None:
    """The problem's detail and field error make up the message."""
    with pytest.raises(CommHubRequestError) as caught:
        await ip1.conversation_page(participant)
    assert caught.value.status == 400
    assert "Participant was invalid" in caught.value.message
    assert "participant: A participant must be" in caught.value.message


async def test_bad_api_key_is_an_auth_error(
    hass: HomeAssistant, sandbox_url: str
) -> None:
    """A key the account does not have is a 401."""
    client = Ip1Client(async_get_clientsession(hass), "wrong", f"{sandbox_url}/ip1")
    with pytest.raises(CommHubAuthError, match="Invalid API key"):
        await client.conversation_page(IP1_PARTICIPANT)


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_connection_errors(
    sandbox: Sandbox, ip1: Ip1Client, status: int
) -> None:
    """A 5xx is the service being down, not the request being wrong."""
    sandbox.ip1.add_fault(Fault("error", status=status))
    with pytest.raises(CommHubConnectionError, match=f"HTTP {status}"):
        await ip1.conversation_page(IP1_PARTICIPANT)
    batches = len(sandbox.ip1.batches)
    sandbox.ip1.add_fault(Fault("error", status=status, method="POST"))
    with pytest.raises(CommHubConnectionError, match=f"HTTP {status}"):
        await ip1.send_batch("CommHub", [IP1_PARTICIPANT], "Hi")
    assert len(sandbox.ip1.batches) == batches


async def test_body_that_is_not_json_is_a_response_error(
    sandbox: Sandbox, ip1: Ip1Client
) -> None:
    """A 200 whose body does not parse is the service's fault."""
    sandbox.ip1.add_fault(Fault("malformed"))
    with pytest.raises(CommHubResponseError):
        await ip1.conversation_page(IP1_PARTICIPANT)


# -- conversations against canned answers ----------------------------------------


async def test_malformed_record_is_reported_and_the_good_one_parsed(
    canned: tuple[Answers, Ip1Client, list[str]],
) -> None:
    """One record without a sender, one not an object, one good."""
    answers, client, _ = canned
    answers["/v2/conversations/46701234567"] = (
        200,
        {},
        [record(id="bad", sender=None), "junk", record(id="good")],
    )
    page = await client.conversation_page("46701234567")
    assert [m.id for m in page.items] == ["good"]
    assert page.malformed == [
        MalformedRecord("bad", "sender"),
        MalformedRecord(None, "record"),
    ]
    assert page.next_page is None


async def test_next_link_on_another_host_only_gives_its_start(
    canned: tuple[Answers, Ip1Client, list[str]],
) -> None:
    """The key never goes to the link's host: only `start` is taken from it."""
    answers, client, seen = canned
    link = (
        '<https://evil.example/v2/conversations/x?start=0&limit=5>; rel="prev", '
        '<https://evil.example/v2/conversations/x?start=10&limit=5>; rel="next"'
    )
    answers["/v2/conversations/P1"] = (200, {"Link": link}, [record()])
    page = await client.conversation_page("P1", 5, limit=5)
    assert page.next_page == 10
    assert seen == ["/v2/conversations/P1?start=5&limit=5&order=desc"]


@pytest.mark.parametrize(
    "link",
    [
        # An older IP1 page: no `;` before the parameters.
        '<https://api.ip1sms.com/v2/conversations/P1?start=0&limit=5> rel="prev", '
        '<https://api.ip1sms.com/v2/conversations/P1?start=10&limit=5> rel="next"',
        # IP1's introduction page: next, then last, across two lines.
        "<https://api.ip1sms.com/v2/conversations/P1?start=10&limit=5&order=ASC>; "
        'rel="next",      <https://api.ip1sms.com/v2/conversations/P1?start=90>; '
        'rel="last"',
        '<https://api.ip1sms.com/v2/conversations/P1?start=90> rel="last", '
        '<https://api.ip1sms.com/v2/conversations/P1?start=10> rel="next"',
        "<https://api.ip1sms.com/v2/conversations/P1?start=10>;rel=next",
        '<https://api.ip1sms.com/v2/conversations/P1?start=10>; REL="Next Last"',
        '<https://api.ip1sms.com/v2/conversations/P1?a=1,2&start=10>; rel="next"',
    ],
    ids=["legacy", "intro-page", "legacy-last-first", "unquoted", "two-rels", "comma"],
)
async def test_next_link_in_every_form_ip1_writes(
    canned: tuple[Answers, Ip1Client, list[str]], link: str
) -> None:
    """With or without the `;`, among other relations, in any case: start 10."""
    answers, client, _ = canned
    answers["/v2/conversations/P1"] = (200, {"Link": link}, [record()])
    page = await client.conversation_page("P1", 5, limit=5)
    assert page.next_page == 10


@pytest.mark.parametrize(
    "link",
    [
        '<https://api.ip1sms.com/v2/conversations/P1?start=90> rel="last"',
        '<https://api.ip1sms.com/v2/conversations/P1?start=10> rel="nextpage"',
        "<https://api.ip1sms.com/v2/conversations/P1?start=10>; title=next",
        "garbage",
    ],
    ids=["last-only", "nextpage", "title", "garbage"],
)
async def test_no_next_relation_means_no_next_page(
    canned: tuple[Answers, Ip1Client, list[str]], link: str
) -> None:
    """Only a `next` relation pages on."""
    answers, client, _ = canned
    answers["/v2/conversations/P1"] = (200, {"Link": link}, [record()])
    page = await client.conversation_page("P1", 5, limit=5)
    assert page.next_page is None


async def test_prev_link_alone_means_no_next_page(
    canned: tuple[Answers, Ip1Client, list[str]],
) -> None:
    """The last page links back only."""
    answers, client, _ = canned
    link = '<https://api.ip1sms.com/v2/conversations/P1?start=0>; rel="prev"'
    answers["/v2/conversations/P1"] = (200, {"Link": link}, [record()])
    page = await client.conversation_page("P1", 3)
    assert page.next_page is None


@pytest.mark.parametrize(
    "next_url",
    [
        "https://api.ip1sms.com/v2/conversations/P1?start=2&limit=3",  # backwards
        "https://api.ip1sms.com/v2/conversations/P1?start=5&limit=3",  # same page
        "https://api.ip1sms.com/v2/conversations/P1?limit=3",  # no start
        "https://api.ip1sms.com/v2/conversations/P1?start=later",  # not a number
    ],
)
async def test_broken_next_link_is_a_response_error(
    canned: tuple[Answers, Ip1Client, list[str]], next_url: str
) -> None:
    """A next page that does not move forward would page forever."""
    answers, client, _ = canned
    answers["/v2/conversations/P1"] = (
        200,
        {"Link": f'<{next_url}>; rel="next"'},
        [record()],
    )
    with pytest.raises(CommHubResponseError):
        await client.conversation_page("P1", 5)


@pytest.mark.parametrize("body", [{"items": []}, b"not json"])
async def test_page_that_is_not_a_list_is_a_response_error(
    canned: tuple[Answers, Ip1Client, list[str]], body: Any
) -> None:
    """A conversation page is a JSON array."""
    answers, client, _ = canned
    answers["/v2/conversations/P1"] = (200, {}, body)
    with pytest.raises(CommHubResponseError):
        await client.conversation_page("P1")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"title": "Bad", "detail": "Nope", "errors": {"a": ["x", "y"]}},
            "Nope a: x a: y",
        ),
        ({"title": "Bad", "detail": ""}, "Bad"),
        ({"status": 400}, '{"status": 400}'),
        (b"plain words", "plain words"),
    ],
)
async def test_error_message_from_problem_details(
    canned: tuple[Answers, Ip1Client, list[str]], body: Any, message: str
) -> None:
    """The detail (else the title) and the field errors; else the body itself."""
    answers, client, _ = canned
    answers["/v2/conversations/P1"] = (400, {}, body)
    with pytest.raises(CommHubRequestError) as caught:
        await client.conversation_page("P1")
    assert caught.value.status == 400
    assert caught.value.message == message


# -- batches -----------------------------------------------------------------------


async def test_send_batch_posts_json_and_returns_the_batch(
    sandbox: Sandbox, ip1: Ip1Client
) -> None:
    """One message per recipient, in order, queued (101)."""
    recipients = [IP1_PARTICIPANT, OTHER_PARTICIPANT]
    batch = await ip1.send_batch("CommHub", recipients, "Opening at 10 today")
    [request] = sandbox.ip1.requests
    assert (request.method, request.path) == ("POST", "/v2/batches")
    assert request.headers["Authorization"] == f"Bearer {IP1_KEY}"
    assert json.loads(request.body) == {
        "sender": "CommHub",
        "recipients": recipients,
        "body": "Opening at 10 today",
    }
    stored = sandbox.ip1.batches[batch.id]
    assert [m.id for m in batch.messages] == stored.message_ids
    assert [(m.recipient, m.status) for m in batch.messages] == [
        (IP1_PARTICIPANT, 101),
        (OTHER_PARTICIPANT, 101),
    ]
    assert stored.delivery_report_url is None


async def test_send_batch_with_delivery_report_url(
    sandbox: Sandbox, ip1: Ip1Client
) -> None:
    """The report URL goes in as `deliveryReportUrl`."""
    url = "https://hooks.example/api/webhook/abc"
    batch = await ip1.send_batch(
        "46700000000", [OTHER_PARTICIPANT], "Hi", delivery_report_url=url
    )
    assert json.loads(sandbox.ip1.requests[0].body) == {
        "sender": "46700000000",
        "recipients": [OTHER_PARTICIPANT],
        "body": "Hi",
        "deliveryReportUrl": url,
    }
    assert sandbox.ip1.batches[batch.id].delivery_report_url == url
    assert len(batch.messages) == 1


async def test_send_batch_refused_recipient_is_a_400_with_the_field(
    sandbox: Sandbox, ip1: Ip1Client
) -> None:
    """The client sends what it is given; IP1 refuses a '+' and says where."""
    with pytest.raises(CommHubRequestError) as caught:
        await ip1.send_batch("CommHub", [OTHER_PARTICIPANT, "+46701234567"], "Hi")
    assert caught.value.status == 400
    assert "recipients[1]: A recipient must be a number" in caught.value.message
    assert "recipients[0]" not in caught.value.message
    assert all(b.body != "Hi" for b in sandbox.ip1.batches.values())


@pytest.mark.parametrize(
    ("body", "batch_id"),
    [
        ({"messages": []}, None),
        ({"id": "b1"}, "b1"),
        ({"id": "b1", "messages": {}}, "b1"),
        ({"id": "b1", "messages": [record(statuses=[{"code": 101}])]}, "b1"),
        ([], None),
    ],
)
async def test_send_batch_accepted_whatever_its_answer(
    canned: tuple[Answers, Ip1Client, list[str]], body: Any, batch_id: str | None
) -> None:
    """A 2xx means IP1 took the batch: an answer it cannot read still counts."""
    answers, client, _ = canned
    answers["/v2/batches"] = (201, {}, body)
    batch = await client.send_batch("CommHub", ["46701234567"], "Hi")
    assert batch == Ip1Batch(batch_id, [Ip1SentMessage(None, "46701234567", None)])


# -- parse_message -------------------------------------------------------------------


def test_parse_message_created_from_earliest_status_and_status_from_newest() -> None:
    """Statuses listed out of order: sorted by time, not by position."""
    message = parse_message(
        record(
            id="m9",
            batchId="b9",
            statuses=[
                {"code": 102, "created": "2026-01-02T10:05:00+00:00"},
                {"code": 201, "created": "2026-01-02T12:00:00+02:00"},  # 10:00 UTC
                {"code": 101, "created": "2026-01-02T09:59:00+00:00"},
                {"code": 402, "created": "2026-01-02T10:10:00+00:00"},
            ],
        )
    )
    assert message.id == "m9"
    assert message.batch_id == "b9"
    assert message.created == datetime(2026, 1, 2, 9, 59, tzinfo=UTC)
    assert message.status == 402
    assert message.status_at == datetime(2026, 1, 2, 10, 10, tzinfo=UTC)


@pytest.mark.parametrize("direction", [0, 1, "mo", "mt", "MO", None])
def test_parse_message_takes_direction_in_any_form(direction: object) -> None:
    """IP1's pages write "mo"/"mt", its docs portal 0/1: neither marks it malformed.

    Inbound or not is decided by the sender (the contract), never by `direction`.
    """
    message = parse_message(record(direction=direction, sender="46701234567"))
    assert message.inbound_from("46701234567")
    assert not message.inbound_from("46700000000")


def test_parse_message_later_entry_wins_a_tie() -> None:
    """Equal times: the status listed last is the newest."""
    at = "2026-01-02T10:00:00+00:00"
    message = parse_message(
        record(statuses=[{"code": c, "created": at} for c in (101, 102, 201)])
    )
    assert message.status == 201


def test_parse_message_without_statuses_uses_modified() -> None:
    """No statuses: created from `modified`, no status; a missing body is empty."""
    message = parse_message(
        record(statuses=[], modified="2026-01-03T08:00:00+00:00", body=None)
    )
    assert message.created == datetime(2026, 1, 3, 8, tzinfo=UTC)
    assert (message.status, message.status_at, message.body) == (None, None, "")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"statuses": [], "modified": None}, "statuses"),
        ({"statuses": None, "modified": None}, "statuses"),
        ({"statuses": "201"}, "statuses"),
        ({"statuses": ["201"]}, "statuses"),
        ({"statuses": [{"code": 201}]}, "statuses"),
        ({"statuses": [{"code": "201", "created": "2026-01-02T10:00:00Z"}]}, "code"),
        ({"statuses": [{"code": 201, "created": "2026-01-02T10:00:00"}]}, "created"),
        ({"id": None}, "id"),
        ({"id": 7}, "id"),
        ({"recipient": None}, "recipient"),
        ({"body": 5}, "body"),
        ({"batchId": 5}, "batchId"),
    ],
)
def test_parse_message_malformed(change: dict[str, Any], field: str) -> None:
    """Each wrong field is named."""
    with pytest.raises(MalformedRecordError) as caught:
        parse_message(record(**change))
    assert caught.value.field == field


# -- normalisation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "number"),
    [
        ("+46 70-123 45 67", "46701234567"),
        ("(070) 1234567", "0701234567"),
        ("  46701234567 ", "46701234567"),
        ("46.70.123", "4670123"),
        ("123456789012345", "123456789012345"),
        ("1234567890123456", None),  # 16 digits
        ("+46 70 123 45 67 8", "467012345678"),
        ("+46 (0)70 123 45 67", "46701234567"),
        ("46701234567a", None),
        ("Pharmacy", None),
        ("+", None),
        ("()", None),
        ("46+70", None),
        ("", None),
        ("   ", None),
    ],
)
def test_normalise_number(written: str, number: str | None) -> None:
    """Digits only, no '+'; None if it is not a phone number."""
    assert normalise_number(written) == number


@pytest.mark.parametrize(
    ("written", "participant"),
    [
        ("Pharmacy", "Pharmacy"),
        (" Pharmacy ", "Pharmacy"),
        ("abc", "abc"),
        ("CommHub2024", "CommHub2024"),  # 11: the longest name
        ("12ab", "12ab"),
        ("+46 70-123 45 67", "46701234567"),
        ("(070) 1234567", "0701234567"),
        ("ab", None),
        ("Ph armacy", None),
        ("toolongname12", None),
        ("Pharmacy!", None),
        ("Apotek\u00e5", None),
        ("1234567890123456", None),
        ("", None),
    ],
)
def test_normalise_participant(written: str, participant: str | None) -> None:
    """A sender name kept as written, a number normalised, anything else None."""
    assert normalise_participant(written) == participant


@pytest.mark.parametrize(
    ("sender", "valid"),
    [
        ("CommHub", True),
        ("abc", True),
        ("46700000000", True),
        ("1", True),
        ("123456789012345", True),
        ("ab", False),
        ("Comm Hub", False),
        ("toolongname12", False),
        ("1234567890123456", False),
        ("+46700000000", False),
    ],
)
def test_sender_re(sender: str, valid: bool) -> None:
    """A sender is 3-11 letters and digits, or 1-15 digits."""
    assert (SENDER_RE.fullmatch(sender) is not None) is valid


def test_parse_message_without_statuses_uses_its_created_time() -> None:
    """A callback message without statuses is dated by its own `created`."""
    message = parse_message(
        {
            "id": "m1",
            "sender": "46701234567",
            "recipient": "46700000000",
            "body": "hi",
            "created": "2026-11-23T09:00:00+00:00",
            "modified": "2026-11-23T09:05:00+00:00",
        }
    )
    assert message.created.isoformat() == "2026-11-23T09:00:00+00:00"
    assert message.status is None
