"""Typed errors for the NetSuite REST transport.

Every error keeps what NetSuite said (HTTP status, ``o:errorCode``, detail text and
the ``o:errorPath`` of the offending body field) so callers can show it verbatim and
decide on retries by type, never by parsing text (docs/netsuite-rest.md §7).
"""

from __future__ import annotations

import re
from typing import Any

from addon.untrusted import excerpt

# Wording NetSuite uses when a transaction date falls in a closed or locked period.
# No REST recording exists; these are the UI/SOAP messages users report (docs/peer-clients.md §1.8, fyle's
# "transaction date not within accounting period" fallback), matched loosely on purpose.
_CLOSED_PERIOD = re.compile(
    r"closed period|period (?:is|has been) (?:closed|locked)|accounting period[^.]*closed"
    r"|not within the date range of your accounting period|locked (?:accounting )?period",
    re.IGNORECASE,
)


# A role without REST web services (or without a record's permission) is answered with this
# wording (docs/netsuite-oauth2-and-payments.md); matched loosely, as the exact text varies.
_NO_PERMISSION = re.compile(
    r"(?:does not|doesn't|do not) have (?:the )?permission|permission violation|you need (?:the |a )?\S.* permission",
    re.I,
)


class NetSuiteError(Exception):
    """Base class: one failed NetSuite call, with NetSuite's own error code, detail and path."""

    retryable = False
    # Requests sent before this error was raised; the client sets it on the way out.
    attempts: int

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        code: str | None = None,
        path: str | None = None,
        url: str | None = None,
        details: list[dict[str, Any]] | None = None,
    ):
        self.status = status
        self.code = code
        self.detail = detail
        self.path = path
        self.url = url
        self.details = details or []
        super().__init__(self.summary)

    @property
    def summary(self) -> str:
        """One line for logs and the UI, e.g. ``INVALID_KEY_OR_REF on item.items[2].item: ...``."""
        head = self.code or (f"HTTP {self.status}" if self.status else type(self).__name__)
        if self.path:
            head = f"{head} on {self.path}"
        return f"{head}: {self.detail}" if self.detail else head

    @property
    def is_closed_period(self) -> bool:
        """True when NetSuite refused a posting because its accounting period is closed."""
        texts = [self.detail or ""] + [str(d.get("detail", "")) for d in self.details]
        return any(_CLOSED_PERIOD.search(t) for t in texts)

    def __str__(self) -> str:
        return self.summary


class NetSuiteConfigError(NetSuiteError):
    """The connection settings are unusable (bad account id, base URL, missing credentials)."""


class NetSuiteAuthError(NetSuiteError):
    """401/403: bad signature, realm, revoked token or a role without permission; or the token
    endpoint refusing the client (``invalid_client``/``invalid_grant``). NetSuite hides the precise
    reason in the Login Audit Trail (docs/netsuite-rest.md §3.1, §9.7).

    ``login_refused`` marks a 401 "Invalid login attempt" from a REST call (not from the token
    endpoint): overloaded accounts answer valid requests that way too, so the client retries it,
    bounded, when the same credentials have already worked (docs/netsuite-oauth2-and-payments.md).
    """

    def __init__(self, detail: str, *, login_refused: bool = False, **kwargs: Any):
        self.login_refused = login_refused
        super().__init__(detail, **kwargs)


class NetSuiteValidationError(NetSuiteError):
    """4xx rejection of the request content. Never retried."""


class NetSuiteNotFound(NetSuiteValidationError):
    """The record (or record type) does not exist."""


class NetSuiteRateLimited(NetSuiteError):
    """429 CONCURRENCY_LIMIT_EXCEEDED: the account's concurrency pool is full."""

    retryable = True

    def __init__(self, detail: str, *, retry_after: float | None = None, **kwargs: Any):
        self.retry_after = retry_after
        super().__init__(detail, **kwargs)


class NetSuiteServerError(NetSuiteError):
    """5xx, including maintenance windows (docs/netsuite-rest.md §9.18)."""

    retryable = True


class NetSuiteConnectionError(NetSuiteError):
    """No HTTP response: refused, dropped or timed out.

    ``maybe_committed`` is True when the request may have reached NetSuite, so a write may
    have been applied even though no answer came back (docs/netsuite-rest.md §9.9).
    """

    retryable = True

    def __init__(self, detail: str, *, maybe_committed: bool, **kwargs: Any):
        self.maybe_committed = maybe_committed
        super().__init__(detail, **kwargs)


class NetSuiteBadAnswer(NetSuiteError):
    """A 2xx whose body or headers are not what NetSuite sends (no JSON, no id, a foreign
    Location): that one record fails with this reason, the run goes on. Never retried."""


class SuiteQLRowCeiling(NetSuiteValidationError):
    """A SuiteQL result reached the 100,000-row ceiling of offset paging (docs/netsuite-rest.md §6.1, §8).

    Order by a unique id and page by id ranges instead (``NetSuiteClient.suiteql_keyset``).
    """


class GovernorTimeout(NetSuiteError):
    """No concurrency slot became free within the governor's acquire timeout."""


def _error_entries(payload: Any) -> list[dict[str, Any]]:
    if isinstance(payload, dict) and isinstance(payload.get("o:errorDetails"), list):
        return [e for e in payload["o:errorDetails"] if isinstance(e, dict)]
    return []


def _retry_after_seconds(value: str | None) -> float | None:
    # NetSuite sends no Retry-After (docs/netsuite-rest.md §8); honour one if a proxy in front adds it.
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _classify(status: int) -> type[NetSuiteError]:
    if status in (401, 403):
        return NetSuiteAuthError
    if status == 404:
        return NetSuiteNotFound
    if status == 429:
        return NetSuiteRateLimited
    if status >= 500:
        return NetSuiteServerError
    return NetSuiteValidationError


def error_from_response(response) -> NetSuiteError:
    """Build the typed error for a failed answer (a transport ``Reply``) from its problem JSON
    (docs/netsuite-rest.md §7.1)."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    entries = _error_entries(payload)
    first = entries[0] if entries else {}
    detail = str(first.get("detail") or "")
    code = first.get("o:errorCode")
    if not entries and isinstance(payload, dict) and isinstance(payload.get("error"), str):
        # The token endpoint answers in OAuth 2.0 form: {"error", "error_description"}
        # (docs/netsuite-rest.md §3.4).
        code, detail = payload["error"], str(payload.get("error_description") or "")
    if not detail and isinstance(payload, dict):
        detail = str(payload.get("title") or "")
    if not detail:
        # Bearer failures carry their reason in WWW-Authenticate, not the body (docs/netsuite-rest.md §3.4).
        detail = (
            response.headers.get("WWW-Authenticate")
            or (excerpt(response.content) if response.content else "")
            or response.reason
            or ""
        )
    path = first.get("o:errorPath") or first.get("o:errorQueryParam") or first.get("o:errorHeader")
    cls = _classify(response.status_code)
    kwargs: dict[str, Any] = {
        "status": response.status_code,
        "code": code,
        "path": path,
        "url": response.url,
        "details": entries,
    }
    if cls is NetSuiteRateLimited:
        kwargs["retry_after"] = _retry_after_seconds(response.headers.get("Retry-After"))
    if cls is NetSuiteAuthError:
        kwargs["login_refused"] = response.status_code == 401
    return cls(detail, **kwargs)


def lacks_permission(error: NetSuiteError) -> bool:
    """True for NetSuite's 400 "... does not have permission ..." (a role without the right)."""
    texts = [error.detail or ""] + [str(d.get("detail", "")) for d in error.details]
    return any(_NO_PERMISSION.search(t) for t in texts)
