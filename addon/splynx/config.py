"""Connection settings for one Splynx installation."""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import SplynxConfigError

API_PREFIX = "/api/2.0/"


@dataclass(frozen=True)
class SplynxConfig:
    """Where Splynx lives, the API key pair, and how patient to be with it.

    ``base_url`` is the admin URL (``https://isp.splynx.app``); the
    ``/api/2.0/`` prefix is added when missing. Retries apply only to 5xx
    answers and dropped connections; ``max_retries`` counts retries, so a
    request is sent at most ``max_retries + 1`` times.
    """

    base_url: str
    api_key: str
    api_secret: str = field(repr=False)
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_retries: int = 3
    backoff_base: float = 0.5
    backoff_max: float = 10.0
    page_size: int = 100
    # Renew the access token this many seconds before it expires (the official
    # clients use 5 s; a wider margin absorbs clock skew and slow requests).
    token_renew_margin: float = 60.0
    # Tokens are bound to the User-Agent that created them (docs/splynx-api.md §2.2),
    # so it must stay fixed for the client's lifetime.
    user_agent: str = "netsuite-sync Splynx API v2 client"

    def __post_init__(self) -> None:
        missing = [name for name in ("base_url", "api_key", "api_secret") if not getattr(self, name)]
        if missing:
            raise SplynxConfigError(f"Splynx configuration is missing: {', '.join(missing)}")
        if not self.base_url.startswith(("http://", "https://")):
            raise SplynxConfigError(f"Splynx base URL must start with http:// or https://: {self.base_url!r}")
        if self.max_retries < 0 or self.page_size < 1:
            raise SplynxConfigError("max_retries must be >= 0 and page_size >= 1")
        if self.connect_timeout <= 0 or self.read_timeout <= 0:
            raise SplynxConfigError("timeouts must be positive")

    @property
    def api_root(self) -> str:
        """Absolute URL ending in ``/api/2.0/`` that endpoint paths are joined to."""
        root = self.base_url.rstrip("/")
        if root.endswith(API_PREFIX.rstrip("/")):
            return root + "/"
        return root + API_PREFIX

    @property
    def timeout(self) -> tuple[float, float]:
        """``(connect, read)`` timeout pair for requests."""
        return (self.connect_timeout, self.read_timeout)
