"""Request signing: token-based authentication (OAuth 1.0a) and OAuth 2.0 client credentials."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256
from requests_oauthlib import OAuth1

from .config import AUTH_TBA, NetSuiteConfig
from .errors import NetSuiteAuthError, NetSuiteConfigError, NetSuiteConnectionError, error_from_response

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# Oracle caps the assertion at 60 minutes (§3.4); 30 keeps clear of that while tolerating skew.
ASSERTION_LIFETIME = 30 * 60
# Access tokens live 60 minutes and cannot be refreshed; renew about 5 minutes early (§3.4).
RENEW_EARLY = 5 * 60
_EC_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}


def tba_auth(config: NetSuiteConfig, *, nonce: str | None = None, timestamp: str | None = None) -> OAuth1:
    """OAuth 1.0a signer for ``requests`` (reference §3.1).

    HMAC-SHA256 (SHA-1 is refused since 2023.1), realm = canonical account id, and only
    the URL's query parameters are signed: requests-oauthlib signs a non-form body as
    ``None``, which is what NetSuite verifies. ``nonce``/``timestamp`` exist for the
    known-answer tests only; left unset, every request (and every retry) is signed afresh.
    """
    return OAuth1(
        client_key=config.consumer_key,
        client_secret=config.consumer_secret,
        resource_owner_key=config.token_id,
        resource_owner_secret=config.token_secret,
        realm=config.realm,
        signature_method=SIGNATURE_HMAC_SHA256,
        nonce=nonce,
        timestamp=timestamp,
    )


def _algorithm_for(key, configured: str | None) -> str:
    if configured:
        return configured
    if isinstance(key, rsa.RSAPrivateKey):
        # RSA PKCS#1 v1.5 (RS256) is refused since 2025-03; RSA keys must sign with PSS (§3.4).
        return "PS256"
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name in _EC_ALGORITHMS:
        return _EC_ALGORITHMS[key.curve.name]
    raise NetSuiteConfigError("private key must be RSA (3072/4096 bit) or EC P-256/P-384/P-521")


def client_assertion(config: NetSuiteConfig, now: float | None = None) -> str:
    """Signed JWT that proves the integration's identity to the token endpoint (§3.4)."""
    try:
        pem = config.private_key_pem
        key = load_pem_private_key(pem if isinstance(pem, bytes) else pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise NetSuiteConfigError(f"private key is not a readable unencrypted PEM key: {exc}") from exc
    issued = int(time.time() if now is None else now)
    claims = {
        "iss": config.client_id,
        "scope": list(config.scopes),
        "aud": config.token_url,
        "iat": issued,
        "exp": issued + ASSERTION_LIFETIME,
    }
    headers = {"typ": "JWT", "kid": config.certificate_id}
    return jwt.encode(claims, key, algorithm=_algorithm_for(key, config.jwt_algorithm), headers=headers)


class ClientCredentialsAuth(requests.auth.AuthBase):
    """Bearer auth with an access token from the client-credentials grant, cached and shared.

    Thread-safe: concurrent requests wait for one token fetch. ``invalidate(token)`` drops
    the cached token after a 401 so the next request fetches a new one.
    """

    def __init__(
        self,
        config: NetSuiteConfig,
        session: requests.Session,
        clock: Callable[[], float] = time.time,
    ):
        self._config = config
        self._session = session
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

    def invalidate(self, token: str) -> None:
        """Forget ``token`` if it is still the cached one (another thread may have renewed it)."""
        with self._lock:
            if self._token == token:
                self._token = None

    def _fetch(self) -> tuple[str, float]:
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": JWT_BEARER,
            "client_assertion": client_assertion(self._config, self._clock()),
        }
        timeout = (self._config.connect_timeout, self._config.read_timeout)
        try:
            response = self._session.post(self._config.token_url, data=form, timeout=timeout)
        except requests.RequestException as exc:
            raise NetSuiteConnectionError(
                f"token request failed: {exc}", maybe_committed=False, url=self._config.token_url
            ) from exc
        if response.status_code != 200:
            error = error_from_response(response)
            if response.status_code in (400, 401, 403):
                # A refused assertion is a credentials problem whatever the status (§3.4).
                raise NetSuiteAuthError(error.detail, status=error.status, code=error.code, url=error.url)
            raise error
        payload = response.json()
        # expires_in arrives as a number or a string depending on the server (§3.4).
        return payload["access_token"], float(payload.get("expires_in", 3600))

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        return request


def make_auth(config: NetSuiteConfig, session: requests.Session) -> requests.auth.AuthBase:
    """The signer for ``config.auth_mode``."""
    if config.auth_mode == AUTH_TBA:
        return tba_auth(config)
    return ClientCredentialsAuth(config, session)
