"""Actions for Hipmob: send_message and set_friends."""

from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.commhub.const import DOMAIN
from sandbox import Fault, Sandbox

from .conftest import APP, FRIEND_1, FRIEND_2, JACK, SetupEntry
from .helpers import call

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(64))


def sent_to(sandbox: Sandbox, device_id: str) -> list[tuple[str, bytes]]:
    """(content type, body) of every message the device got."""
    return [tuple(m) for m in sandbox.hipmob.device(APP, device_id).messages]


@pytest.fixture
async def entry(setup_hipmob: SetupEntry, sandbox: Sandbox) -> MockConfigEntry:
    """A loaded Hipmob entry; the request log starts empty."""
    entry = await setup_hipmob()
    sandbox.hipmob.requests.clear()
    return entry


@pytest.fixture
def media_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """A directory listed in allowlist_external_dirs."""
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    hass.config.allowlist_external_dirs = {str(allowed)}
    return allowed


async def test_send_text_to_one_device(
    hass: HomeAssistant, entry: MockConfigEntry, sandbox: Sandbox
) -> None:
    """A text goes form-encoded to the device's messages endpoint."""
    response = await call(hass, "send_message", entry, to=JACK, message="Shipped!")
    assert response == {
        "results": [{"to": JACK, "status": "sent", "id": None, "error": None}]
    }
    [request] = sandbox.hipmob.requests
    assert (request.method, request.path) == (
        "POST",
        f"/apps/{APP}/devices/{JACK}/messages",
    )
    assert request.form.getall("text") == ["Shipped!"]
    assert "autocreate" not in request.form
    assert sent_to(sandbox, JACK)[-1][1] == b"Shipped!"


async def test_send_text_to_several_devices_in_one_request(
    hass: HomeAssistant, entry: MockConfigEntry, sandbox: Sandbox
) -> None:
    """Several devices get one text with a single request."""
    response = await call(
        hass, "send_message", entry, to=[JACK, FRIEND_1, FRIEND_2], message="Hi"
    )
    assert [r["status"] for r in response["results"]] == ["sent"] * 3
    [request] = sandbox.hipmob.requests
    assert request.path == f"/apps/{APP}/devices/messages"
    assert request.form.getall("devices") == [JACK, FRIEND_1, FRIEND_2]
    for device_id in (JACK, FRIEND_1, FRIEND_2):
        assert sent_to(sandbox, device_id)[-1][1] == b"Hi"


async def test_one_unknown_device_fails_only_itself(
    hass: HomeAssistant, entry: MockConfigEntry, sandbox: Sandbox
) -> None:
    """A refused target is reported as failed; the others still get the text."""
    response = await call(
        hass, "send_message", entry, to=[JACK, "ghost"], message="Hello"
    )
    results = {r["to"]: r for r in response["results"]}
    assert results[JACK]["status"] == "sent"
    assert results["ghost"]["status"] == "failed"
    assert results["ghost"]["error"] == "Device not found."
    assert sent_to(sandbox, JACK)[-1][1] == b"Hello"


async def test_all_targets_failing_raises(
    hass: HomeAssistant, entry: MockConfigEntry, sandbox: Sandbox
) -> None:
    """Only when every target failed does the action raise."""
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "send_message", entry, to=["ghost", "phantom"], message="x")
    assert err.value.translation_key == "send_failed"


async def test_autocreate_text_is_a_form_field(
    hass: HomeAssistant, entry: MockConfigEntry, sandbox: Sandbox
) -> None:
    """With autocreate a never-seen device gets the text queued."""
    await call(
        hass, "send_message", entry, to="new-phone", message="Welcome", autocreate=True
    )
    [request] = sandbox.hipmob.requests
    assert request.form["autocreate"] == "true"
    assert sandbox.hipmob.device(APP, "new-phone").pending == 1


async def test_send_json_with_autocreate_header(
    hass: HomeAssistant, entry: MockConfigEntry, sandbox: Sandbox
) -> None:
    """JSON goes as application/json; autocreate is a header for it."""
    await call(
        hass,
        "send_message",
        entry,
        to=[JACK, "new-phone"],
        json={"order": 1234, "state": "shipped"},
        autocreate=True,
    )
    assert len(sandbox.hipmob.requests) == 2
    for request in sandbox.hipmob.requests:
        assert request.headers["Content-Type"] == "application/json"
        assert request.headers["X-Hipmob-Autocreate"] == "true"
    content_type, body = sent_to(sandbox, JACK)[-1]
    assert content_type == "application/json"
    assert body == b'{"order":1234,"state":"shipped"}'


@pytest.mark.parametrize(
    ("name", "body", "content_type"),
    [
        ("photo.png", PNG, "image/png"),
        ("photo.JPG", b"\xff\xd8\xff" + PNG, "image/jpeg"),
        ("anim.gif", b"GIF89a" + PNG, "image/gif"),
        ("voice.mp3", MP3, "audio/mp3"),
        ("invoice.pdf", b"%PDF-1.4 ...", "application/octet-stream"),
        ("blob", b"\x00\x01\x02", "application/octet-stream"),
    ],
)
async def test_send_file(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    sandbox: Sandbox,
    media_dir: Path,
    name: str,
    body: bytes,
    content_type: str,
) -> None:
    """Files go as raw bytes with their Hipmob content type and length."""
    path = media_dir / name
    path.write_bytes(body)
    response = await call(hass, "send_message", entry, to=JACK, file=str(path))
    assert response["results"][0]["status"] == "sent"
    [request] = sandbox.hipmob.requests
    assert request.headers["Content-Type"] == content_type
    assert request.headers["Content-Length"] == str(len(body))
    assert "X-Hipmob-Autocreate" not in request.headers
    assert request.body == body
    assert sent_to(sandbox, JACK)[-1] == (content_type, body)


async def test_picture_refused_by_device(
    hass: HomeAssistant, entry: MockConfigEntry, sandbox: Sandbox, media_dir: Path
) -> None:
    """A 415 from Hipmob is that target's failure, with Hipmob's reason."""
    sandbox.hipmob.add_device(APP, "text-only", online=True, accepts=set())
    path = media_dir / "photo.png"
    path.write_bytes(PNG)
    with pytest.raises(HomeAssistantError, match="Content-type not supported"):
        await call(hass, "send_message", entry, to="text-only", file=str(path))


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"message": ""}, "empty_message"),
        ({"message": "   "}, "empty_message"),
        ({}, "one_message_kind"),
        ({"message": "a", "json": {"b": 1}}, "one_message_kind"),
        ({"json": {}}, "invalid_json"),
        ({"json": [1, 2]}, "invalid_json"),
        ({"message": "a", "send_at": "2026-12-01T10:00:00"}, "field_not_supported"),
        ({"message": "a", "sender": "Shop"}, "field_not_supported"),
        ({"message": "a", "to": []}, "no_targets"),
        ({"message": "a", "to": ["  "]}, "no_targets"),
    ],
)
async def test_bad_input_sends_nothing(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    sandbox: Sandbox,
    data: dict[str, Any],
    key: str,
) -> None:
    """Bad fields raise a translated validation error before any request."""
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "send_message", entry, **{"to": JACK, **data})
    assert err.value.translation_key == key
    assert sandbox.hipmob.requests == []


@pytest.mark.parametrize(
    ("name", "content", "key"),
    [
        ("clip.wav", b"RIFF....WAVE", "unsupported_content_type"),
        ("photo.webp", b"RIFF....WEBP", "unsupported_content_type"),
        ("empty.png", b"", "empty_message"),
        ("missing.png", None, "file_not_readable"),
    ],
)
async def test_bad_file_sends_nothing(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    sandbox: Sandbox,
    media_dir: Path,
    name: str,
    content: bytes | None,
    key: str,
) -> None:
    """Unsupported, empty or unreadable files are refused before sending."""
    path = media_dir / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "send_message", entry, to=JACK, file=str(path))
    assert err.value.translation_key == key
    assert sandbox.hipmob.requests == []


async def test_file_outside_allowlist_is_refused(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    sandbox: Sandbox,
    media_dir: Path,
    tmp_path: Path,
) -> None:
    """Only files in allowlist_external_dirs can be sent."""
    secret = tmp_path / "secrets.png"
    secret.write_bytes(PNG)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "send_message", entry, to=JACK, file=str(secret))
    assert err.value.translation_key == "file_not_allowed"
    traversal = media_dir / ".." / "secrets.png"
    with pytest.raises(ServiceValidationError):
        await call(hass, "send_message", entry, to=JACK, file=str(traversal))
    assert sandbox.hipmob.requests == []


async def test_file_too_large(
    hass: HomeAssistant, entry: MockConfigEntry, sandbox: Sandbox, media_dir: Path
) -> None:
    """A file beyond 10 MiB is not read into memory or sent."""
    path = media_dir / "huge.bin"
    with path.open("wb") as file:
        file.truncate(10 * 1024 * 1024 + 1)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "send_message", entry, to=JACK, file=str(path))
    assert err.value.translation_key == "file_too_large"


async def test_unknown_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """An unknown config entry id is a validation error."""
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN,
            "send_message",
            {"config_entry_id": "nope", "to": JACK, "message": "x"},
            blocking=True,
            return_response=True,
        )


async def test_entry_of_another_service(
    hass: HomeAssistant, entry: MockConfigEntry, sandbox: Sandbox
) -> None:
    """An entry of a service without the action is a validation error."""
    other = MockConfigEntry(
        domain=DOMAIN,
        title="Phones",
        data={"service": "hipcall"},
        state=ConfigEntryState.LOADED,
    )
    other.add_to_hass(hass)
    for action, data in (
        ("send_message", {"to": JACK, "message": "x"}),
        ("set_friends", {"device": JACK, "mode": "clear"}),
    ):
        with pytest.raises(ServiceValidationError) as err:
            await call(hass, action, other, **data)
        assert err.value.translation_key == "wrong_service"
    assert sandbox.hipmob.requests == []


async def test_entry_not_loaded(
    hass: HomeAssistant, entry: MockConfigEntry, sandbox: Sandbox
) -> None:
    """An unloaded entry cannot send."""
    await hass.config_entries.async_unload(entry.entry_id)
    with pytest.raises(ServiceValidationError):
        await call(hass, "send_message", entry, to=JACK, message="x")


@pytest.mark.parametrize(
    ("fault", "key"),
    [
        (Fault(kind="error", status=500), "service_unavailable"),
        (Fault(kind="rate_limit", retry_after=30), "rate_limited"),
    ],
)
async def test_send_failures(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    sandbox: Sandbox,
    fault: Fault,
    key: str,
) -> None:
    """Outages and rate limits raise a translated error."""
    sandbox.hipmob.add_fault(fault)
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "send_message", entry, to=JACK, message="x")
    assert err.value.translation_key == key


async def test_send_with_revoked_key_starts_reauth(
    hass: HomeAssistant, entry: MockConfigEntry, sandbox: Sandbox
) -> None:
    """A 401 on an action means the key is bad: reauth starts."""
    sandbox.hipmob.add_account("femi", "rotated")
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "send_message", entry, to=JACK, message="x")
    assert err.value.translation_key == "auth_failed"
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == ["reauth"]


async def test_payment_required_on_send(
    hass: HomeAssistant, entry: MockConfigEntry, sandbox: Sandbox
) -> None:
    """A 402 tells the user the account needs attention."""
    sandbox.hipmob.set_payment_required("femi", True)
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "send_message", entry, to=[JACK, FRIEND_1], message="x")
    assert err.value.translation_key == "payment_required"


async def test_set_friends_modes(
    hass: HomeAssistant, entry: MockConfigEntry, sandbox: Sandbox
) -> None:
    """Each mode maps to its method and returns Hipmob's count."""
    device = sandbox.hipmob.device(APP, JACK)
    assert set(device.friends) == {FRIEND_1, FRIEND_2}

    response = await call(
        hass,
        "set_friends",
        entry,
        device=JACK,
        mode="add",
        friends=["a", "b", FRIEND_1],
    )
    assert response == {"count": 2}
    assert sandbox.hipmob.requests[-1].method == "POST"

    response = await call(
        hass, "set_friends", entry, device=JACK, mode="remove", friends=["a", "zzz"]
    )
    assert response == {"count": 1}
    assert [r.method for r in sandbox.hipmob.requests[-2:]] == ["DELETE", "DELETE"]
    assert "a" not in device.friends

    response = await call(
        hass, "set_friends", entry, device=JACK, mode="replace", friends=["x"]
    )
    assert response == {"count": 1}
    assert sandbox.hipmob.requests[-1].method == "PUT"
    assert sandbox.hipmob.device(APP, JACK).friends == ["x"]

    response = await call(hass, "set_friends", entry, device=JACK, mode="clear")
    assert response == {"count": 1}
    assert sandbox.hipmob.device(APP, JACK).friends == []
    response = await call(hass, "set_friends", entry, device=JACK, mode="clear")
    assert response == {"count": 0}


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"device": JACK, "mode": "add"}, "friends_required"),
        ({"device": JACK, "mode": "replace", "friends": [" "]}, "friends_required"),
        ({"device": " ", "mode": "clear"}, "no_device"),
    ],
)
async def test_set_friends_bad_input(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    sandbox: Sandbox,
    data: dict[str, Any],
    key: str,
) -> None:
    """Missing friends or device: a validation error, nothing sent."""
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "set_friends", entry, **data)
    assert err.value.translation_key == key
    assert sandbox.hipmob.requests == []


async def test_set_friends_of_unknown_device(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    """Hipmob's 404 surfaces with its reason."""
    with pytest.raises(HomeAssistantError) as err:
        await call(
            hass, "set_friends", entry, device="ghost", mode="add", friends=["a"]
        )
    assert err.value.translation_key == "request_failed"
    assert str(err.value).endswith(": Device not found.")
