"""Splynx API-key authentication pieces: signature, nonce, access token.

Recipe (docs/splynx-api.md §2.1-2.2): the signature is the upper-case hex
HMAC-SHA256 of ``str(nonce) + api_key`` keyed with the API secret. The client
trades key+nonce+signature for an access token at ``admin/auth/tokens`` and
then sends ``Authorization: Splynx-EA (access_token=...)``.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

TOKENS_PATH = "admin/auth/tokens"


def sign(api_key: str, api_secret: str, nonce: int) -> str:
    """Splynx request signature for ``nonce`` (upper-case hex HMAC-SHA256)."""
    message = f"{nonce}{api_key}".encode()
    return hmac.new(api_secret.encode(), message, hashlib.sha256).hexdigest().upper()


def signature_header(api_key: str, api_secret: str, nonce: int) -> str:
    """Stateless ``Authorization`` value (docs/splynx-api.md §2.1); the parenthesised part is form-encoded."""
    params = urlencode({"key": api_key, "nonce": nonce, "signature": sign(api_key, api_secret, nonce)})
    return f"Splynx-EA ({params})"


def token_header(access_token: str) -> str:
    """``Authorization`` value for an access token (docs/splynx-api.md §2.4)."""
    return f"Splynx-EA ({urlencode({'access_token': access_token})})"


class NonceSource:
    """Strictly increasing nonces, thread-safe.

    Starts from the time in centiseconds like the official clients (docs/splynx-api.md §2.1), so
    a restarted process keeps going upwards without persisting a counter;
    whether Splynx rejects replayed nonces is unconfirmed, so never repeat one.
    """

    def __init__(self, clock=time.time):
        self._clock = clock
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        """A nonce greater than every one handed out before."""
        with self._lock:
            self._last = max(self._last + 1, round(self._clock() * 100))
            return self._last


_shared: dict[tuple[str, Any], NonceSource] = {}
_shared_lock = threading.Lock()


def nonce_source(api_key: str, clock=time.time) -> NonceSource:
    """The process's one nonce source for ``api_key``: every client of the key draws from it,
    so two clients created in the same centisecond never sign with the same nonce."""
    with _shared_lock:
        return _shared.setdefault((api_key, clock), NonceSource(clock))


def is_nonce_refusal(error_message: str) -> bool:
    """Whether a 401 on the token request blames the nonce (another process of the same key used
    it first). The real wording is unconfirmed (docs/splynx-api.md §2.1); every refusal we know of names the
    nonce."""
    return "nonce" in error_message.lower()


@dataclass(frozen=True)
class Token:
    """An access/refresh token pair with their unix-second expiries."""

    access_token: str = field(repr=False)
    access_expires: float
    refresh_token: str = field(repr=False)
    refresh_expires: float
    issued_at: float

    @classmethod
    def from_response(cls, body: Mapping[str, Any], now: float, server_now: float | None = None) -> Token:
        """Build from the 201/200 body of ``admin/auth/tokens``; raises KeyError/ValueError if malformed.

        Expiries are unix seconds on the *server's* clock. Given the server's
        time (its ``Date`` header), they are shifted onto our clock, so a
        server running behind us does not make every token look expired.
        """
        skew = 0.0 if server_now is None else now - server_now
        return cls(
            access_token=str(body["access_token"]),
            access_expires=float(body["access_token_expiration"]) + skew,
            refresh_token=str(body.get("refresh_token") or ""),
            refresh_expires=float(body.get("refresh_token_expiration") or 0) + skew,
            issued_at=now,
        )

    def renew_margin(self, configured: float) -> float:
        """Seconds before expiry at which to renew.

        Capped at a quarter of the token's lifetime so that a short-lived token
        is not renewed on every single request.
        """
        lifetime = max(self.access_expires - self.issued_at, 0.0)
        return min(configured, lifetime / 4)

    def access_fresh(self, now: float, margin: float) -> bool:
        """The access token can still be used without renewing."""
        return now + self.renew_margin(margin) < self.access_expires

    def refreshable(self, now: float) -> bool:
        """The refresh token has not expired (a few seconds of slack, as the official clients allow)."""
        return bool(self.refresh_token) and now + 5 < self.refresh_expires


def token_request_body(api_key: str, api_secret: str, nonce: int) -> dict[str, Any]:
    """JSON body that creates an access token for an API key.

    The secret itself is never sent: only the signature proves we hold it (docs/splynx-api.md §2.2).
    """
    return {
        "auth_type": "api_key",
        "key": api_key,
        "nonce": nonce,
        "signature": sign(api_key, api_secret, nonce),
    }
