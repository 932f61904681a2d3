"""What every integration shares: one error type that says whether retrying can help."""

from __future__ import annotations


class IntegrationError(Exception):
    """A call to an outside system failed.

    `permanent` means retrying cannot help (bad token, unknown channel, invalid number): stop and show
    it to an admin. Otherwise it is transient (timeout, 5xx, rate limit) and the worker retries, after
    `retry_after` seconds when the provider said so.
    """

    def __init__(
        self, message: str, *, permanent: bool, retry_after: float | None = None, provider: str = ""
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after
        self.provider = provider


class PermanentError(IntegrationError):
    def __init__(self, message: str, *, provider: str = "") -> None:
        super().__init__(message, permanent=True, provider=provider)


class TransientError(IntegrationError):
    def __init__(self, message: str, *, retry_after: float | None = None, provider: str = "") -> None:
        super().__init__(message, permanent=False, retry_after=retry_after, provider=provider)
