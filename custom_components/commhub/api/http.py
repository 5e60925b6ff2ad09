"""HTTP plumbing shared by the service clients: timeouts, a concurrency bound,
status-code mapping and Retry-After that holds back every later request."""

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
import json
import math
import time
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy

from .errors import (
    CommHubAuthError,
    CommHubConnectionError,
    CommHubNotFoundError,
    CommHubPaymentRequiredError,
    CommHubRateLimitedError,
    CommHubRequestError,
    CommHubResponseError,
)
from .ratelimit import RequestBudget

DEFAULT_TIMEOUT = 10.0
DEFAULT_CONCURRENCY = 10
# Used when a 429 carries no usable Retry-After.
DEFAULT_RETRY_AFTER = 60.0


@dataclass(frozen=True, slots=True)
class RawResponse:
    """What a successful request returned."""

    status: int
    headers: CIMultiDictProxy[str]
    body: bytes
    reason: str = ""  # the status line's reason phrase

    @property
    def text(self) -> str:
        """The body decoded as text."""
        return self.body.decode("utf-8", errors="replace")

    def _json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError as err:
            raise CommHubResponseError("response is not JSON") from err

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object, whatever vendor content type it came with."""
        value = self._json()
        if not isinstance(value, dict):
            raise CommHubResponseError("response is not a JSON object")
        return value

    def json_list(self) -> list[Any]:
        """The body as a JSON array."""
        value = self._json()
        if not isinstance(value, list):
            raise CommHubResponseError("response is not a JSON array")
        return value


def parse_retry_after(value: str | None, now: float) -> float:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date)."""
    if not value:
        return DEFAULT_RETRY_AFTER
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        # "inf" or "1e999" would hold every request back for good; "nan" not at all.
        return max(0.0, seconds) if math.isfinite(seconds) else DEFAULT_RETRY_AFTER
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except TypeError, ValueError:
        return DEFAULT_RETRY_AFTER


class HttpClient:
    """Sends requests for one account of one service."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_concurrency: int = DEFAULT_CONCURRENCY,
        clock: Callable[[], float] | None = None,
        budget: RequestBudget | None = None,
    ) -> None:
        """Bind the client to a session and the service's base URL."""
        self._session = session
        self.base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self._clock = clock
        self._blocked_until = 0.0
        self.budget = budget
        self.max_concurrency = max_concurrency

    def _now(self) -> float:
        # time.monotonic is looked up per call so a frozen test clock applies.
        return self._clock() if self._clock else time.monotonic()

    def _auth_headers(self) -> Mapping[str, str]:
        """Headers that authenticate a request; each service supplies its own."""
        return {}

    def _error_message(self, response: RawResponse) -> str:
        """The service's explanation of an error response."""
        return response.text.strip()[:300] or f"HTTP {response.status}"

    def _raise_for_status(self, response: RawResponse) -> None:
        """Map an error status to the exception hierarchy."""
        status = response.status
        if status < 300:
            return
        if status < 400:
            # The API redirects plain HTTP to HTTPS; following would drop auth.
            raise CommHubConnectionError(f"HTTP {status}: use an https base URL")
        message = self._error_message(response)
        if status == 401:
            raise CommHubAuthError(message)
        if status == 402:
            raise CommHubPaymentRequiredError(message)
        if status == 404:
            raise CommHubNotFoundError(status, message)
        if status == 429:
            retry_after = parse_retry_after(
                response.headers.get("Retry-After"), time.time()
            )
            self._blocked_until = max(self._blocked_until, self._now() + retry_after)
            raise CommHubRateLimitedError(retry_after)
        if status >= 500:
            raise CommHubConnectionError(f"HTTP {status}")
        raise CommHubRequestError(status, message)

    def _raise_if_blocked(self) -> None:
        """Refuse to send while the service's Retry-After has not passed."""
        wait = self._blocked_until - self._now()
        if wait > 0:
            # The service told us when it will answer again: do not ask before.
            raise CommHubRateLimitedError(wait)

    async def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> RawResponse:
        """Send one request; raise from the hierarchy unless it succeeded."""
        self._raise_if_blocked()
        all_headers = {**self._auth_headers(), **(headers or {})}
        try:
            async with self._semaphore:
                # A 429 may have come in while this request waited for a slot.
                self._raise_if_blocked()
                if self.budget is not None:
                    await self.budget.acquire()
                async with self._session.request(
                    method,
                    f"{self.base_url}{path}",
                    headers=all_headers,
                    timeout=self._timeout,
                    allow_redirects=False,
                    **kwargs,
                ) as resp:
                    # Some stand-ins for aiohttp's response have no reason phrase.
                    reason = getattr(resp, "reason", None) or ""
                    response = RawResponse(
                        resp.status, resp.headers, await resp.read(), reason
                    )
        except TimeoutError as err:
            raise CommHubConnectionError("request timed out") from err
        except aiohttp.ClientError as err:
            raise CommHubConnectionError(type(err).__name__) from err
        if self.budget is not None:
            self.budget.observe(response.headers)
        self._raise_for_status(response)
        return response
