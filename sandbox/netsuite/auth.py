"""Verification of TBA (OAuth 1.0a, HMAC-SHA256) and OAuth 2.0 client credentials
(docs/netsuite-rest.md §3)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
from itertools import islice
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from . import errors

TIMESTAMP_WINDOW = 300  # seconds, docs/netsuite-rest.md §3.1
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# docs/netsuite-rest.md §3.4: no RS256
ASSERTION_ALGORITHMS = ["PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
_HEADER_PARAM = re.compile(r'([A-Za-z0-9_]+)\s*=\s*"([^"]*)"')
_NONCE = re.compile(r"^[A-Za-z0-9]{6,}$")


def percent_encode(value: str) -> str:
    """RFC 3986 encoding used by OAuth 1.0a: unreserved characters stay, uppercase hex."""
    return quote(value, safe="-._~")


def parse_oauth_header(authorization: str) -> dict[str, str]:
    """Parameters of an ``Authorization: OAuth ...`` header, percent-decoded."""
    if not authorization.startswith("OAuth "):
        raise errors.invalid_login()
    return {name: unquote(value) for name, value in _HEADER_PARAM.findall(authorization[6:])}


def signature_base_string(method: str, url: str, oauth_params: dict[str, str]) -> str:
    """RFC 5849 §3.4.1 base string: realm and signature excluded, query parameters included.

    The query is decoded with form rules (``+`` → space), as docs/netsuite-rest.md §3.2 note 3 advises.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    base_uri = f"{scheme}://{host}{parts.path or '/'}"
    params = [(k, v) for k, v in oauth_params.items() if k not in ("realm", "oauth_signature")]
    params += parse_qsl(parts.query, keep_blank_values=True)
    normalized = "&".join(
        f"{name}={value}" for name, value in sorted((percent_encode(k), percent_encode(v)) for k, v in params)
    )
    return "&".join([method.upper(), percent_encode(base_uri), percent_encode(normalized)])


def hmac_sha256_signature(base_string: str, consumer_secret: str, token_secret: str) -> str:
    key = f"{percent_encode(consumer_secret)}&{percent_encode(token_secret)}"
    return base64.b64encode(hmac.new(key.encode(), base_string.encode(), hashlib.sha256).digest()).decode()


class NonceRegistry:
    """Remembers nonce+timestamp pairs per token for the timestamp window (docs/netsuite-rest.md §3.1
    NonceUsed)."""

    def __init__(self):
        # Insertion order is claim order, so expired nonces are always at the front:
        # forgetting them costs O(1) each, however many requests a sync makes.
        self._seen: dict[tuple[str, str, str], float] = {}
        self._lock = threading.Lock()

    def claim(self, token_id: str, nonce: str, timestamp: str, now: float) -> bool:
        with self._lock:
            for oldest, claimed in list(islice(self._seen.items(), 64)):
                if now - claimed <= 2 * TIMESTAMP_WINDOW:
                    break
                del self._seen[oldest]
            key = (token_id, nonce, timestamp)
            if key in self._seen:
                return False
            self._seen[key] = now
            return True


def verify_tba(state, method: str, url: str, authorization: str, body: bytes, nonces: NonceRegistry) -> str:
    """Check a TBA request against ``state``'s credentials; returns the token id or raises 401.

    ``url`` is the URL the client used (scheme, Host header, raw path and query).
    """
    params = parse_oauth_header(authorization)
    required = (
        "oauth_consumer_key",
        "oauth_token",
        "oauth_signature_method",
        "oauth_timestamp",
        "oauth_nonce",
    )
    if any(not params.get(name) for name in (*required, "oauth_signature")):
        raise errors.invalid_login()
    # docs/netsuite-rest.md §1.1/§9.1: realm is the canonical account id (1234567_SB1), never the host form.
    if params.get("realm") != state.account_id:
        raise errors.invalid_login()
    if params["oauth_signature_method"] != "HMAC-SHA256" or params.get("oauth_version", "1.0") != "1.0":
        raise errors.invalid_login()  # docs/netsuite-rest.md §3.1: HMAC-SHA1 ended with 2023.1
    if params["oauth_consumer_key"] != state.consumer_key:
        raise errors.invalid_login()
    token = state.tokens.get(params["oauth_token"])
    if token is None or token.revoked:
        raise errors.invalid_login()
    now = state.clock()
    try:
        timestamp = int(params["oauth_timestamp"])
    except ValueError:
        raise errors.invalid_login() from None
    if abs(now - timestamp) > TIMESTAMP_WINDOW or not _NONCE.match(params["oauth_nonce"]):
        raise errors.invalid_login()
    if "oauth_body_hash" in params:
        # docs/netsuite-rest.md §3.1: clients may sign a SHA-1 body hash. Whether NetSuite checks its value is
        # unconfirmed; the sandbox does, so a client that mangles its body is caught here.
        expected_hash = base64.b64encode(hashlib.sha1(body).digest()).decode()  # noqa: S324 (protocol)
        if not hmac.compare_digest(expected_hash, params["oauth_body_hash"]):
            raise errors.invalid_login()
    base = signature_base_string(method, url, params)
    expected = hmac_sha256_signature(base, state.consumer_secret, token.token_secret)
    if not hmac.compare_digest(expected, params["oauth_signature"]):
        raise errors.invalid_login()
    if not nonces.claim(token.token_id, params["oauth_nonce"], params["oauth_timestamp"], now):
        raise errors.invalid_login()
    return token.token_id


# -- OAuth 2.0 client credentials -------------------------------------------------------------------


class OAuth2Error(Exception):
    """A token-endpoint failure: RFC 6749 ``{"error": ..., "error_description": ...}`` with 400."""

    def __init__(self, error: str, description: str):
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description


def generate_client_keypair(bits: int = 3072) -> tuple[bytes, bytes]:
    """A fresh RSA keypair (private PEM, public PEM); docs/netsuite-rest.md §3.4 asks for 3072 or 4096
    bits."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_pem, public_pem


def _verifying_key(pem: bytes):
    """The public key of a mapped PEM: an uploaded x.509 certificate or a bare public key."""
    if b"BEGIN CERTIFICATE" in pem:
        return x509.load_pem_x509_certificate(pem).public_key()
    return serialization.load_pem_public_key(pem)


def check_certificate_conditions(pem: bytes) -> None:
    """Oracle's "Certificate Conditions": RSA 3072/4096 or EC P-256/384/521; raises ValueError."""
    key = _verifying_key(pem)
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size not in (3072, 4096):
            raise ValueError(f"RSA keys must have 3072 or 4096 bits, not {key.key_size}")
        return
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.name not in ("secp256r1", "secp384r1", "secp521r1"):
            raise ValueError(f"EC keys must use P-256, P-384 or P-521, not {key.curve.name}")
        return
    raise ValueError("the certificate's key must be RSA or EC")


class TokenIssuer:
    """Issues and checks the sandbox's bearer tokens (JWTs signed with a per-instance secret)."""

    def __init__(self):
        self._secret = secrets.token_bytes(32)

    def exchange(self, state, form: dict[str, str], token_url: str) -> dict:
        """Verify a client-credentials request (docs/netsuite-rest.md §3.4) and return the token response
        body."""
        if form.get("grant_type") != "client_credentials":
            raise OAuth2Error("unsupported_grant_type", "grant_type must be client_credentials")
        if form.get("client_assertion_type") != JWT_BEARER or not form.get("client_assertion"):
            raise OAuth2Error("invalid_request", "client_assertion_type/client_assertion missing")
        client = state.oauth2
        assertion = form["client_assertion"]
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            raise OAuth2Error("invalid_request", "malformed client_assertion") from None
        # NetSuite's exact error codes for a rejected assertion are not in the reference; RFC 7523
        # says invalid_grant, which is what NetSuite integrations commonly report (unconfirmed).
        if header.get("alg") not in ASSERTION_ALGORITHMS:
            raise OAuth2Error("invalid_grant", "unsupported signing algorithm")
        mapped = client.public_key_for(str(header.get("kid") or ""))
        if mapped is None:
            raise OAuth2Error("invalid_grant", "unknown certificate id")
        try:
            claims = jwt.decode(
                assertion,
                _verifying_key(mapped),
                algorithms=ASSERTION_ALGORITHMS,
                audience=token_url,
                options={"verify_exp": False, "verify_iat": False, "require": ["iss", "aud", "exp", "iat"]},
            )
        except jwt.PyJWTError as exc:
            raise OAuth2Error("invalid_grant", str(exc)) from None
        now = state.clock()
        if claims["iss"] != client.client_id:
            raise OAuth2Error("invalid_grant", "unknown client id")
        scope = claims.get("scope")
        scopes = scope if isinstance(scope, list) else str(scope or "").split(",")
        if "rest_webservices" not in [s.strip() for s in scopes]:
            raise OAuth2Error("invalid_grant", "scope must include rest_webservices")
        issued, expires = claims["iat"], claims["exp"]
        if not (isinstance(issued, int) and isinstance(expires, int)):
            raise OAuth2Error("invalid_grant", "iat/exp must be integers")
        # docs/netsuite-rest.md §3.4: exp must be less than 60 minutes after iat; allow a minute of clock
        # skew.
        if expires <= now or expires - issued > 3600 or issued > now + 60:
            raise OAuth2Error("invalid_grant", "assertion expired or not yet valid")
        ttl = client.access_token_ttl
        access_token = jwt.encode(
            {"sub": client.client_id, "iat": int(now), "exp": int(now) + ttl, "jti": secrets.token_hex(8)},
            self._secret,
            algorithm="HS256",
        )
        # docs/netsuite-rest.md §3.4: expires_in has been seen as a string; clients parse both.
        return {"access_token": access_token, "expires_in": str(ttl), "token_type": "Bearer"}

    def verify(self, state, token: str) -> str:
        """The client id a bearer token was issued to; raises 401 when unknown or expired."""
        try:
            # Expiry and issue time are judged against the sandbox's own clock below,
            # which tests move; PyJWT would judge them against the host's.
            claims = jwt.decode(
                token, self._secret, algorithms=["HS256"], options={"verify_exp": False, "verify_iat": False}
            )
        except jwt.PyJWTError:
            raise bearer_error(state) from None
        if claims.get("exp", 0) <= state.clock() or claims.get("sub") != state.oauth2.client_id:
            raise bearer_error(state)
        return claims["sub"]


def bearer_error(state) -> errors.NetSuiteError:
    """docs/netsuite-rest.md §3.4: a bad bearer gets 401 with a WWW-Authenticate challenge."""
    error = errors.invalid_login()
    error.headers["WWW-Authenticate"] = (
        f'Bearer realm="{state.account_id}", error="invalid_token", error_description="Invalid login attempt."'
    )
    return error
