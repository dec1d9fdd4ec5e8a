"""API keys, nonces, access tokens: the three Authorization forms of Splynx API v2 (docs/splynx-api.md §2)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

# Access tokens live 30 minutes (docs/splynx-api.md §2.2); the refresh lifetime is unstated, months per the
# example.
ACCESS_TOKEN_TTL = 30 * 60
REFRESH_TOKEN_TTL = 90 * 24 * 3600


class AuthError(Exception):
    """A refused credential; carries the status and ``internal_code`` of the error object."""

    def __init__(self, status: int, internal_code: str, message: str):
        super().__init__(message)
        self.status = status
        self.internal_code = internal_code
        self.message = message


def sign(api_key: str, api_secret: str, nonce: int | str) -> str:
    """Upper-case hex HMAC-SHA256 of ``str(nonce) + api_key`` keyed by the secret
    (docs/splynx-api.md §2.1)."""
    message = f"{nonce}{api_key}".encode()
    return hmac.new(api_secret.encode(), message, hashlib.sha256).hexdigest().upper()


@dataclass
class ApiKey:
    key: str
    secret: str
    # None = every controller allowed; else a set of API paths ("admin/finance/invoices").
    permissions: set[str] | None = None
    # None = all partners; else only records of these partner ids are reachable (405 otherwise).
    partner_ids: set[int] | None = None
    unsecure_access: bool = False
    last_nonce: int | None = None
    used_nonces: set[int] = field(default_factory=set)


@dataclass
class Token:
    access_token: str
    access_expires: int
    refresh_token: str
    refresh_expires: int
    api_key: str
    user_agent: str
    ip: str
    banned: bool = False

    def body(self, with_permissions: bool) -> dict:
        data = {
            "access_token": self.access_token,
            "access_token_expiration": self.access_expires,
            "refresh_token": self.refresh_token,
            "refresh_token_expiration": self.refresh_expires,
        }
        if with_permissions:
            data["permissions"] = []
        return data


class Authenticator:
    """Verifies credentials against the key registry; token expiry follows ``clock``."""

    def __init__(self, clock, nonce_policy: str = "unique"):
        self.clock = clock
        # Replay enforcement is unconfirmed (docs/splynx-api.md §2.1): "unique" refuses a repeated nonce,
        # "increasing" also refuses one not above the last, "off" accepts anything.
        self.nonce_policy = nonce_policy
        self.access_ttl = ACCESS_TOKEN_TTL
        self.refresh_ttl = REFRESH_TOKEN_TTL
        self.keys: dict[str, ApiKey] = {}
        self.tokens: dict[str, Token] = {}
        self.refresh_index: dict[str, Token] = {}
        self._lock = threading.Lock()

    def add_key(self, key: str | None = None, secret: str | None = None, **options) -> ApiKey:
        """Register an API key (random key/secret when omitted)."""
        api_key = ApiKey(key=key or secrets.token_hex(16), secret=secret or secrets.token_hex(16), **options)
        self.keys[api_key.key] = api_key
        return api_key

    def _check_signature(self, key: str, nonce: str, signature: str) -> ApiKey:
        api_key = self.keys.get(key or "")
        if api_key is None:
            # Message wording is ours; the real text is unconfirmed.
            raise AuthError(401, "UNAUTHORIZED", "API key not found")
        try:
            nonce_value = int(str(nonce))
        except ValueError as exc:
            raise AuthError(401, "UNAUTHORIZED", "Nonce must be an integer") from exc
        if not hmac.compare_digest(sign(api_key.key, api_key.secret, nonce_value), str(signature or "")):
            raise AuthError(401, "UNAUTHORIZED", "Signature is invalid")
        with self._lock:
            if self.nonce_policy != "off":
                if nonce_value in api_key.used_nonces:
                    raise AuthError(401, "UNAUTHORIZED", "Nonce has already been used")
                if (
                    self.nonce_policy == "increasing"
                    and api_key.last_nonce is not None
                    and nonce_value <= api_key.last_nonce
                ):
                    raise AuthError(401, "UNAUTHORIZED", "Nonce is too small")
                api_key.used_nonces.add(nonce_value)
            api_key.last_nonce = max(nonce_value, api_key.last_nonce or nonce_value)
        return api_key

    def issue(self, body: dict, user_agent: str, ip: str) -> Token:
        """``POST admin/auth/tokens``: only ``auth_type=api_key`` is served by the sandbox."""
        auth_type = body.get("auth_type")
        if auth_type != "api_key":
            raise AuthError(400, "INVALID_AUTH_TYPE", "Invalid auth type")
        api_key = self._check_signature(
            str(body.get("key") or ""), body.get("nonce") or "", body.get("signature")
        )
        now = int(self.clock())
        token = Token(
            access_token=secrets.token_hex(24),
            access_expires=now + self.access_ttl,
            refresh_token=secrets.token_hex(24),
            refresh_expires=now + self.refresh_ttl,
            api_key=api_key.key,
            user_agent=user_agent,
            ip=ip,
        )
        with self._lock:
            self.tokens[token.access_token] = token
            self.refresh_index[token.refresh_token] = token
        return token

    def renew(self, refresh_token: str, user_agent: str, ip: str) -> Token:
        """``GET admin/auth/tokens/<refresh>``: a new access token, the same refresh token."""
        with self._lock:
            token = self.refresh_index.get(refresh_token)
            if token is None:
                raise AuthError(404, "NOT_FOUND", "Token not found")
            self._check_binding(token, user_agent, ip)
            if token.refresh_expires <= self.clock():
                raise AuthError(401, "EXPIRED_REFRESH_TOKEN", "Refresh token expired")
            # The blueprint example returns the same refresh token; the old access token
            # stays valid until its own expiry (unconfirmed).
            token = Token(**{**token.__dict__})
            token.access_token = secrets.token_hex(24)
            token.access_expires = int(self.clock()) + self.access_ttl
            self.tokens[token.access_token] = token
            self.refresh_index[refresh_token] = token
        return token

    def revoke(self, token_value: str) -> None:
        """``DELETE admin/auth/tokens/<token>``: accepts the refresh or the access token."""
        with self._lock:
            token = self.refresh_index.get(token_value) or self.tokens.get(token_value)
            if token is None:
                raise AuthError(404, "NOT_FOUND", "Token not found")
            for candidate in list(self.tokens.values()):
                if candidate.refresh_token == token.refresh_token:
                    candidate.banned = True
            token.banned = True

    def check_pair_header(self, header: str | None, token_value: str) -> None:
        """Renewal/revocation: the header must carry an access token of the same pair. An expired
        one is accepted, since a client renews exactly when its access token runs out."""
        header = (header or "").strip()
        if not header:
            raise AuthError(401, "MISSED_AUTHORIZATION_HEADER", "Authorization header is missing")
        params = {}
        if header.startswith("Splynx-EA (") and header.endswith(")"):
            params = dict(parse_qsl(header[len("Splynx-EA (") : -1], keep_blank_values=True))
        with self._lock:
            current = self.tokens.get(params.get("access_token", ""))
            target = self.refresh_index.get(token_value) or self.tokens.get(token_value)
        if current is None or target is None or current.refresh_token != target.refresh_token:
            raise AuthError(401, "UNAUTHORIZED", "Access token does not belong to this token pair")

    def expire_all_access_tokens(self) -> None:
        """Test hook: every issued access token is now past its expiry."""
        now = int(self.clock())
        with self._lock:
            for token in list(self.tokens.values()) + list(self.refresh_index.values()):
                token.access_expires = min(token.access_expires, now - 1)

    @staticmethod
    def _check_binding(token: Token, user_agent: str, ip: str) -> None:
        if token.banned:
            raise AuthError(401, "TOKEN_BANNED", "Token is banned")
        # Tokens are bound to the IP and User-Agent that created them (docs/splynx-api.md §2.2).
        if token.user_agent != user_agent:
            raise AuthError(401, "USER_AGENT_CHANGED", "User agent changed")
        if token.ip != ip:
            raise AuthError(401, "IP_CHANGED", "IP changed")

    def authenticate(self, header: str | None, user_agent: str, ip: str) -> ApiKey:
        """Resolve an Authorization header (signature, token or Basic) to its API key."""
        if not header:
            raise AuthError(401, "MISSED_AUTHORIZATION_HEADER", "Authorization header is missing")
        header = header.strip()
        if header.startswith("Basic "):
            return self._basic(header[6:])
        if not (header.startswith("Splynx-EA (") and header.endswith(")")):
            raise AuthError(401, "UNAUTHORIZED", "Invalid authorization header")
        params = dict(parse_qsl(header[len("Splynx-EA (") : -1], keep_blank_values=True))
        if "access_token" in params:
            return self._token(params["access_token"], user_agent, ip)
        if "key" in params:
            return self._check_signature(params["key"], params.get("nonce", ""), params.get("signature", ""))
        raise AuthError(401, "UNAUTHORIZED", "Invalid authorization header")

    def _token(self, value: str, user_agent: str, ip: str) -> ApiKey:
        if not value:
            raise AuthError(401, "EMPTY_ACCESS_TOKEN", "Access token is empty")
        token = self.tokens.get(value)
        if token is None:
            raise AuthError(401, "UNAUTHORIZED", "Access token not found")
        self._check_binding(token, user_agent, ip)
        if token.access_expires <= self.clock():
            raise AuthError(401, "EXPIRED_ACCESS_TOKEN", "Access token expired")
        return self.keys[token.api_key]

    def _basic(self, encoded: str) -> ApiKey:
        try:
            key, _, secret = base64.b64decode(encoded).decode().partition(":")
        except (ValueError, UnicodeDecodeError) as exc:
            raise AuthError(401, "UNAUTHORIZED", "Invalid authorization header") from exc
        api_key = self.keys.get(key)
        if api_key is None or not hmac.compare_digest(api_key.secret, secret):
            raise AuthError(401, "UNAUTHORIZED", "Invalid API key or secret")
        # Basic works only when the key has "Unsecure access" ticked (docs/splynx-api.md §2.3).
        if not api_key.unsecure_access:
            raise AuthError(401, "UNAUTHORIZED", "Unsecure access is disabled for this API key")
        return api_key
