"""Hipcall's host found by the config flow when the base URL is left empty.

Hipcall's known API hosts are mocked (nothing reaches the internet): the current
regional hosts are tried first, then the 2021 API; the first that accepts the
token is kept.
"""

from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
)

from custom_components.commhub.api.hipcall import KNOWN_API_URLS
from custom_components.commhub.const import DOMAIN

TOKEN = "a-current-api-token"
TR, UK, GLOBAL, LEGACY = KNOWN_API_URLS
USERS_V3 = {
    "data": [
        {
            "id": 7,
            "email": "ada@example.com",
            "full_name": "Ada Lovelace",
            "owner": True,
            "state": "available",
        }
    ],
    "meta": {"count": 1, "limit": 100, "offset": 0},
}
UNAUTHENTICATED = {"message": "Unauthenticated."}


async def _submit(hass: HomeAssistant, advanced: dict[str, str]) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "hipcall"}
    )
    with patch("custom_components.commhub.async_setup_entry", return_value=True):
        return await hass.config_entries.flow.async_configure(
            result["flow_id"], {"api_token": TOKEN, "advanced": advanced}
        )


def _called(aioclient_mock: AiohttpClientMocker) -> list[str]:
    return [str(url).split("?")[0] for _, url, _, _ in aioclient_mock.mock_calls]


async def test_an_empty_base_url_finds_the_host_that_accepts_the_token(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """Turkey refuses the token, the UK accepts it: the entry keeps the UK host."""
    aioclient_mock.get(f"{TR}/users", status=401, json=UNAUTHENTICATED)
    aioclient_mock.get(f"{UK}/users", json=USERS_V3)

    result = await _submit(hass, {})

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Hipcall (Ada Lovelace)"
    assert result["data"]["base_url"] == UK
    assert result["result"].unique_id == "hipcall:7"
    assert _called(aioclient_mock) == [f"{TR}/users", f"{UK}/users"]
    # The current API pages by limit and offset, 100 at a time.
    assert dict(aioclient_mock.mock_calls[1][1].query) == {
        "limit": "100",
        "offset": "0",
    }


async def test_the_2021_api_is_tried_last(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """No regional host knows the token (or answers): the 2021 API does."""
    aioclient_mock.get(f"{TR}/users", status=401, json=UNAUTHENTICATED)
    aioclient_mock.get(f"{UK}/users", status=503)
    aioclient_mock.get(f"{GLOBAL}/users", status=401, json=UNAUTHENTICATED)
    aioclient_mock.get(
        f"{LEGACY}/users",
        json={
            "data": [{"id": 2, "name": "Satya", "status": "active", "owner": True}],
            "links": {"next": None},
        },
    )

    result = await _submit(hass, {})

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["base_url"] == LEGACY
    assert _called(aioclient_mock) == [f"{url}/users" for url in KNOWN_API_URLS]


@pytest.mark.parametrize(
    ("answers", "error"),
    [
        (dict.fromkeys(KNOWN_API_URLS, 401), "invalid_auth"),
        ({TR: 503, UK: 401, GLOBAL: 503, LEGACY: 503}, "invalid_auth"),
        (dict.fromkeys(KNOWN_API_URLS, 503), "cannot_connect"),
    ],
    ids=["refused everywhere", "refused once, down elsewhere", "down everywhere"],
)
async def test_no_host_accepts_the_token(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    answers: dict[str, int],
    error: str,
) -> None:
    """A refusal anywhere is a wrong token; only outages everywhere cannot connect."""
    for url, status in answers.items():
        aioclient_mock.get(f"{url}/users", status=status, json=UNAUTHENTICATED)

    result = await _submit(hass, {})

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    assert _called(aioclient_mock) == [f"{url}/users" for url in KNOWN_API_URLS]


async def test_a_given_base_url_is_the_only_one_asked(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """A base URL entered by the user is used as it is: no other host is tried."""
    aioclient_mock.get(f"{GLOBAL}/users", status=401, json=UNAUTHENTICATED)

    result = await _submit(hass, {"base_url": f"{GLOBAL}/"})

    assert result["errors"] == {"base": "invalid_auth"}
    assert _called(aioclient_mock) == [f"{GLOBAL}/users"]
