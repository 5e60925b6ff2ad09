"""One exception hierarchy for every service client."""


class CommHubApiError(Exception):
    """Base class: the service could not do what was asked."""


class CommHubConnectionError(CommHubApiError):
    """The service could not be reached, timed out or answered with a 5xx."""


class CommHubRateLimitedError(CommHubConnectionError):
    """The service asked us to slow down (HTTP 429)."""

    def __init__(self, retry_after: float) -> None:
        """Remember how long the service asked us to wait."""
        super().__init__(f"rate limited, retry after {retry_after:.0f} s")
        self.retry_after = retry_after


class CommHubResponseError(CommHubApiError):
    """The service answered with a body we cannot understand."""


class CommHubAuthError(CommHubApiError):
    """The credentials were refused (HTTP 401)."""


class CommHubPaymentRequiredError(CommHubApiError):
    """The account needs attention before the service will answer (HTTP 402)."""


class CommHubRequestError(CommHubApiError):
    """The service refused this particular request (HTTP 4xx other than above)."""

    def __init__(self, status: int, message: str) -> None:
        """Keep the status and the service's own explanation."""
        super().__init__(message)
        self.status = status
        self.message = message


class CommHubNotFoundError(CommHubRequestError):
    """The resource does not exist (HTTP 404)."""


class CommHubPermissionError(CommHubRequestError):
    """Valid credentials, but not allowed to do this (e.g. another user's status)."""
