"""Request signing: token-based authentication (OAuth 1.0a) and OAuth 2.0 client credentials."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from .config import AUTH_TBA, NetSuiteConfig
from .errors import NetSuiteAuthError, NetSuiteConfigError, NetSuiteConnectionError, error_from_response
from .transport import Transport

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# Oracle caps the assertion at 60 minutes (docs/netsuite-rest.md §3.4); 30 keeps clear of that while
# tolerating skew.
ASSERTION_LIFETIME = 30 * 60
# Access tokens live 60 minutes and cannot be refreshed; renew about 5 minutes early
# (docs/netsuite-rest.md §3.4).
RENEW_EARLY = 5 * 60
_EC_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}


def _escape(value: str) -> str:
    """RFC 5849 §3.6 percent-encoding: everything but unreserved characters, UTF-8 first."""
    return quote(value, safe="~")


def _base_string_uri(url: str) -> str:
    """RFC 5849 §3.4.1.2: lower-case scheme and host, default port dropped, no query."""
    parts = urlsplit(url)
    scheme, host, port = parts.scheme.lower(), (parts.hostname or "").lower(), parts.port
    if not scheme or not host:
        raise ValueError(f"cannot sign a URL without scheme and host: {url!r}")
    if ":" in host:
        host = f"[{host}]"
    if port and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    return f"{scheme}://{host}{parts.path or '/'}".replace(" ", "%20")


class TokenSigner:
    """OAuth 1.0a (token-based authentication) ``Authorization`` header for one request
    (docs/netsuite-rest.md §3.1).

    HMAC-SHA256 (SHA-1 is refused since 2023.1), realm = canonical account id, and only the
    URL's query parameters are signed: NetSuite never signs a JSON body. The header is
    byte-for-byte what oauthlib's client produces (the tests hold it to that and to the
    reference vectors); written here because oauthlib's general-purpose path cost six times
    as much CPU per request, and a sync signs one request per record. ``nonce`` and
    ``timestamp`` exist for the known-answer tests only: left unset, every request (every
    retry too) is signed afresh.
    """

    def __init__(self, config: NetSuiteConfig, *, nonce: str | None = None, timestamp: str | None = None):
        self._key = f"{_escape(config.consumer_secret)}&{_escape(config.token_secret)}".encode()
        self._realm = config.realm
        self._consumer_key = _escape(config.consumer_key)
        self._token = _escape(config.token_id)
        self._nonce, self._timestamp = nonce, timestamp

    def authorization(self, method: str, url: str) -> str:
        """The header value for ``method url`` (the URL exactly as it will be sent)."""
        oauth = (
            ("oauth_nonce", _escape(self._nonce or secrets.token_hex(16))),
            ("oauth_timestamp", self._timestamp or str(int(time.time()))),
            ("oauth_version", "1.0"),
            ("oauth_signature_method", "HMAC-SHA256"),
            ("oauth_consumer_key", self._consumer_key),
            ("oauth_token", self._token),
        )
        query = urlsplit(url).query
        signed = [(_escape(k), _escape(v)) for k, v in parse_qsl(query, keep_blank_values=True)]
        signed.extend(oauth)
        signed.sort()
        parameters = "&".join(f"{key}={value}" for key, value in signed)
        base = f"{method.upper()}&{_escape(_base_string_uri(url))}&{_escape(parameters)}"
        digest = hmac.new(self._key, base.encode(), hashlib.sha256).digest()
        signature = _escape(base64.b64encode(digest).decode())
        fields = ", ".join(f'{key}="{value}"' for key, value in oauth)
        return f'OAuth realm="{self._realm}", {fields}, oauth_signature="{signature}"'


def _algorithm_for(key, configured: str | None) -> str:
    if configured:
        return configured
    if isinstance(key, rsa.RSAPrivateKey):
        # RSA PKCS#1 v1.5 (RS256) is refused since 2025-03; RSA keys must sign with PSS
        # (docs/netsuite-rest.md §3.4).
        return "PS256"
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name in _EC_ALGORITHMS:
        return _EC_ALGORITHMS[key.curve.name]
    raise NetSuiteConfigError("private key must be RSA (3072/4096 bit) or EC P-256/P-384/P-521")


def client_assertion(config: NetSuiteConfig, now: float | None = None) -> str:
    """Signed JWT that proves the integration's identity to the token endpoint
    (docs/netsuite-rest.md §3.4)."""
    try:
        pem = config.private_key_pem
        key = load_pem_private_key(pem if isinstance(pem, bytes) else pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise NetSuiteConfigError(f"private key is not a readable unencrypted PEM key: {exc}") from exc
    algorithm = _algorithm_for(key, config.jwt_algorithm)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise NetSuiteConfigError("private key must be RSA (3072/4096 bit) or EC P-256/P-384/P-521")
    issued = int(time.time() if now is None else now)
    claims = {
        "iss": config.client_id,
        "scope": list(config.scopes),
        "aud": config.token_url,
        "iat": issued,
        "exp": issued + ASSERTION_LIFETIME,
    }
    headers = {"typ": "JWT", "kid": config.certificate_id}
    return jwt.encode(claims, key, algorithm=algorithm, headers=headers)


class ClientCredentialsAuth:
    """Bearer header with an access token from the client-credentials grant, cached and shared.

    Thread-safe: concurrent requests wait for one token fetch. ``invalidate(header)`` drops
    the cached token after a 401 so the next request fetches a new one.
    """

    def __init__(
        self,
        config: NetSuiteConfig,
        transport: Transport,
        clock: Callable[[], float] = time.time,
    ):
        self._config = config
        self._transport = transport
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at = 0.0

    def token(self) -> str:
        """The current access token, fetching a new one when none is cached or it is due."""
        with self._lock:
            if self._token is None or self._clock() >= self._renew_at:
                self._token, lifetime = self._fetch()
                self._renew_at = self._clock() + max(0.0, lifetime - min(RENEW_EARLY, lifetime / 10))
            return self._token

    @property
    def cached_token(self) -> str | None:
        return self._token

    def invalidate(self, header: str) -> None:
        """Forget the token sent as ``header`` if it is still the cached one (another thread
        may have renewed it meanwhile)."""
        with self._lock:
            if self._token is not None and header == f"Bearer {self._token}":
                self._token = None

    def _fetch(self) -> tuple[str, float]:
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": JWT_BEARER,
            "client_assertion": client_assertion(self._config, self._clock()),
        }
        timeout = (self._config.connect_timeout, self._config.read_timeout)
        try:
            response = self._transport.send(
                "POST",
                self._config.token_url,
                body=urlencode(form).encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                timeout=timeout,
            )
        except NetSuiteConnectionError as exc:
            # Asking for a token commits nothing: whatever happened, it may be asked again.
            raise NetSuiteConnectionError(
                f"token request failed: {exc.detail}", maybe_committed=False, url=self._config.token_url
            ) from exc
        if response.status_code != 200:
            error = error_from_response(response)
            if 400 <= response.status_code < 500 and response.status_code != 429:
                # invalid_client / invalid_grant (or any refusal of the assertion) is a credentials
                # problem whatever the status (docs/netsuite-rest.md §3.4): it halts like a refused TBA
                # signature.
                raise NetSuiteAuthError(error.detail, status=error.status, code=error.code, url=error.url)
            if response.status_code == 429:
                raise error
            # A 5xx from the token endpoint committed nothing: a connection problem, asked again
            # even before a POST that could not otherwise be repeated.
            raise NetSuiteConnectionError(
                f"token endpoint answered HTTP {response.status_code}: {error.detail}",
                maybe_committed=False,
                status=error.status,
                code=error.code,
                url=error.url,
            )
        # expires_in arrives as a number or a string depending on the server (docs/netsuite-rest.md §3.4).
        try:
            payload = response.json()
            return str(payload["access_token"]), float(payload.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise NetSuiteAuthError(
                "the token endpoint answered without an access token", status=response.status_code
            ) from None

    def authorization(self, method: str, url: str) -> str:
        return f"Bearer {self.token()}"


Signer = TokenSigner | ClientCredentialsAuth


def make_auth(config: NetSuiteConfig, transport: Transport) -> Signer:
    """The signer for ``config.auth_mode``."""
    if config.auth_mode == AUTH_TBA:
        return TokenSigner(config)
    return ClientCredentialsAuth(config, transport)
