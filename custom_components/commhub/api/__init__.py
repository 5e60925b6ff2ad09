"""Clients for the services CommHub talks to (no Home Assistant imports here)."""

from .errors import (
    CommHubApiError,
    CommHubAuthError,
    CommHubConnectionError,
    CommHubNotFoundError,
    CommHubPaymentRequiredError,
    CommHubPermissionError,
    CommHubRateLimitedError,
    CommHubRequestError,
    CommHubResponseError,
)

__all__ = [
    "CommHubApiError",
    "CommHubAuthError",
    "CommHubConnectionError",
    "CommHubNotFoundError",
    "CommHubPaymentRequiredError",
    "CommHubPermissionError",
    "CommHubRateLimitedError",
    "CommHubRequestError",
    "CommHubResponseError",
]
