"""Typed errors for the Splynx API v2, carrying the server's own message.

Each class also derives from the neutral error in :mod:`addon.billing`, so the
sync engine can react without importing anything Splynx-specific.
"""

from __future__ import annotations

from collections.abc import Sequence

from addon.billing import (
    BillingAuthError,
    BillingConfigError,
    BillingConnectionError,
    BillingError,
    BillingNotFound,
    BillingUnavailable,
    BillingValidationError,
    FieldError,
)


class SplynxError(BillingError):
    """Any failure talking to Splynx.

    ``status`` is the HTTP status (None when no response arrived), ``code``
    the API's ``internal_code`` such as ``NOT_FOUND`` (docs/splynx-api.md §4.1).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        method: str = "",
        path: str = "",
    ):
        super().__init__(message, status=status, code=code)
        self.method = method
        self.path = path

    def __str__(self) -> str:
        where = f" ({self.method} {self.path} -> {self.status})" if self.method else ""
        return f"{self.message}{where}"


class SplynxConfigError(SplynxError, BillingConfigError):
    """The client configuration is unusable (missing URL, key or secret)."""


class SplynxAuthError(SplynxError, BillingAuthError):
    """Credentials or token refused (401), or token creation failed."""


class SplynxPermissionError(SplynxAuthError):
    """Authenticated, but the API key lacks the permission or partner access (403, 405 restriction)."""


class SplynxNotFound(SplynxError, BillingNotFound):
    """404: the record does not exist."""


class SplynxValidationError(SplynxError, BillingValidationError):
    """422: the server rejected the body; ``field_errors`` keeps every per-field message."""

    def __init__(self, message: str, field_errors: Sequence[FieldError] = (), **kwargs):
        SplynxError.__init__(self, message, **kwargs)
        self.field_errors = list(field_errors)


class SplynxServerError(SplynxError, BillingUnavailable):
    """5xx that persisted through the bounded retries."""


class SplynxConnectionError(SplynxError, BillingConnectionError):
    """No usable response: connection refused/dropped or timed out, after the retries."""
