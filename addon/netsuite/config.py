"""Connection settings for one NetSuite account, validated so no value can redirect requests."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .errors import NetSuiteConfigError

AUTH_TBA = "tba"
AUTH_OAUTH2 = "oauth2"

# Production `1234567`, sandbox `1234567_SB1`, release preview `1234567_RP` (digit optional,
# format unconfirmed, docs/netsuite-rest.md §1.1), test-drive `TSTDRV1234567`. Users paste `1234567-sb1` too.
# re.ASCII: ``\d`` would otherwise accept every Unicode digit (Arabic-Indic, full-width…).
_ACCOUNT_ID = re.compile(r"^(?:TSTDRV)?\d{1,12}(?:_(?:SB\d{1,3}|RP\d{0,3}))?$", re.ASCII)

SERVICE_DOMAIN = "suitetalk.api.netsuite.com"
REST_PREFIX = "/services/rest"


def normalise_account_id(value: str) -> str:
    """Return the canonical account id (``1234567_SB1``) or raise ``NetSuiteConfigError``.

    The realm must keep the underscore and upper case while the host uses a hyphen
    (docs/netsuite-rest.md §1.1, §9.1), so both are derived from this one canonical form.
    """
    canonical = (value or "").strip().upper().replace("-", "_")
    if not _ACCOUNT_ID.match(canonical):
        raise NetSuiteConfigError(
            f"account id {value!r} is not a NetSuite account id (expected e.g. 1234567 or 1234567_SB1)"
        )
    return canonical


def validate_base_url(value: str) -> str:
    """Accept only ``scheme://host[:port]``: the path, realm and signing stay NetSuite's own."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NetSuiteConfigError(f"base URL {value!r} must be http(s)://host[:port]")
    if parts.username or parts.password or parts.query or parts.fragment or parts.path not in ("", "/"):
        raise NetSuiteConfigError(f"base URL {value!r} may hold only scheme, host and port")
    try:
        parts.port  # noqa: B018 - raises ValueError for a non-numeric port
    except ValueError as exc:
        raise NetSuiteConfigError(f"base URL {value!r} has an invalid port") from exc
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class NetSuiteConfig:
    """Everything needed to talk to one account. Secrets are excluded from ``repr``."""

    account_id: str
    auth_mode: str = AUTH_TBA
    # Token-based authentication (OAuth 1.0a), docs/netsuite-rest.md §3.1.
    consumer_key: str = ""
    consumer_secret: str = field(default="", repr=False)
    token_id: str = ""
    token_secret: str = field(default="", repr=False)
    # OAuth 2.0 client credentials (M2M), docs/netsuite-rest.md §3.4.
    client_id: str = ""
    certificate_id: str = ""
    private_key_pem: str | bytes = field(default="", repr=False)
    jwt_algorithm: str | None = None  # None: PS256 for RSA keys, ES256/384/512 by EC curve
    scopes: tuple[str, ...] = ("rest_webservices",)
    base_url: str | None = None
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    # Writes commit slowly (a payment POST took ~32 s in recordings, docs/netsuite-rest.md §4.1); a short
    # timeout aborts requests that still commit, so writes get their own, longer timeout.
    write_timeout: float = 180.0
    max_attempts: int = 6
    max_retry_seconds: float = 120.0
    backoff_base: float = 1.0
    backoff_cap: float = 30.0
    concurrency_limit: int = 2
    # Unknown field names fail instead of being dropped silently (docs/netsuite-rest.md §2, §9.11).
    property_name_validation: str | None = "Error"

    def __post_init__(self) -> None:
        object.__setattr__(self, "account_id", normalise_account_id(self.account_id))
        if self.base_url:
            object.__setattr__(self, "base_url", validate_base_url(self.base_url))
        required: tuple[str, ...]
        if self.auth_mode == AUTH_TBA:
            required = ("consumer_key", "consumer_secret", "token_id", "token_secret")
        elif self.auth_mode == AUTH_OAUTH2:
            required = ("client_id", "certificate_id", "private_key_pem")
        else:
            raise NetSuiteConfigError(f"auth mode {self.auth_mode!r} is not 'tba' or 'oauth2'")
        missing = [name for name in required if not getattr(self, name)]
        if missing:
            raise NetSuiteConfigError(f"missing {self.auth_mode} credentials: {', '.join(missing)}")
        if self.max_attempts < 1 or self.concurrency_limit < 1:
            raise NetSuiteConfigError("max_attempts and concurrency_limit must be at least 1")
        if min(self.connect_timeout, self.read_timeout, self.write_timeout) <= 0:
            raise NetSuiteConfigError("timeouts must be positive")

    def __repr__(self) -> str:
        return f"NetSuiteConfig(account_id={self.account_id!r}, auth_mode={self.auth_mode!r}, base_url={self.base_url!r})"

    @property
    def realm(self) -> str:
        """OAuth 1.0a realm: the canonical account id, underscore and upper case kept."""
        return self.account_id

    @property
    def host(self) -> str:
        """The account's SuiteTalk host, e.g. ``1234567-sb1.suitetalk.api.netsuite.com``."""
        return f"{self.account_id.lower().replace('_', '-')}.{SERVICE_DOMAIN}"

    @property
    def origin(self) -> str:
        """Scheme, host and port requests go to: ``base_url`` if set, else the account's host."""
        return self.base_url or f"https://{self.host}"

    @property
    def rest_root(self) -> str:
        """``<origin>/services/rest``; every path below it is the real service's path."""
        return self.origin + REST_PREFIX

    @property
    def token_url(self) -> str:
        """OAuth 2.0 token endpoint on the same host (docs/netsuite-rest.md §1.2)."""
        return self.rest_root + "/auth/oauth2/v1/token"
