"""Known-answer tests for request signing and config validation (no sandbox needed).

The signer is held to the reference vectors and, for any URL, to requests-oauthlib's header.
"""

from __future__ import annotations

import json

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given, settings
from hypothesis import strategies as st
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256
from requests_oauthlib import OAuth1

from addon.netsuite.auth import ASSERTION_LIFETIME, TokenSigner, client_assertion
from addon.netsuite.client import build_url
from addon.netsuite.config import NetSuiteConfig
from addon.netsuite.errors import NetSuiteConfigError

# docs/netsuite-rest.md §3.2: fake credentials and the fixed nonce/timestamp the vectors were computed with.
VECTOR = {
    "consumer_key": "ck_example_0123456789abcdef",
    "consumer_secret": "cs_example_fedcba9876543210",
    "token_id": "tk_example_a1b2c3d4e5f6",
    "token_secret": "ts_example_6f5e4d3c2b1a",
}
NONCE = "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"
ROOT = "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest"


def vector_header(signature: str) -> str:
    return (
        'OAuth realm="1234567_SB1", oauth_nonce="kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg", '
        'oauth_timestamp="1700000000", oauth_version="1.0", oauth_signature_method="HMAC-SHA256", '
        'oauth_consumer_key="ck_example_0123456789abcdef", oauth_token="tk_example_a1b2c3d4e5f6", '
        f'oauth_signature="{signature}"'
    )


def signed(method: str, url: str, account: str = "1234567_SB1") -> str:
    """The Authorization header our signer gives with the vectors' nonce and timestamp."""
    config = NetSuiteConfig(account_id=account, **VECTOR)
    return TokenSigner(config, nonce=NONCE, timestamp="1700000000").authorization(method, url)


def oauthlib_header(method: str, url: str, body: bytes | None = None) -> str:
    """What requests-oauthlib, the reference implementation, signs for the same request."""
    oauth = OAuth1(
        VECTOR["consumer_key"],
        client_secret=VECTOR["consumer_secret"],
        resource_owner_key=VECTOR["token_id"],
        resource_owner_secret=VECTOR["token_secret"],
        realm="1234567_SB1",
        signature_method=SIGNATURE_HMAC_SHA256,
        nonce=NONCE,
        timestamp="1700000000",
    )
    headers = {"Content-Type": "application/json"} if body is not None else {}
    request = oauth(requests.Request(method, url, data=body, headers=headers).prepare())
    header = request.headers["Authorization"]
    return header.decode() if isinstance(header, bytes) else header


def test_vector_1_get_record():
    assert signed("GET", f"{ROOT}/record/v1/customer/107") == vector_header(
        "kEvz%2F0ad2fmhmZspgIImqiJtfKodHG%2FFihB9qJF0FGo%3D"
    )


def test_vector_2_query_params_signed_json_body_not():
    url = build_url(ROOT, "/query/v1/suiteql", {"limit": 1000, "offset": 0})
    header = signed("POST", url)
    assert header == vector_header("H%2FKePjT0b9CGJbN2WbchBgBYctbk03I%2BrYnj2FzxJqo%3D")
    assert "oauth_body_hash" not in header
    body = json.dumps({"q": "SELECT id, companyname FROM customer WHERE id > 0"}).encode()
    assert oauthlib_header("POST", url, body) == header


def test_vector_3_spaces_sent_as_percent20():
    url = build_url(ROOT, "/record/v1/customer", {"q": 'email START_WITH "a+b@x.com"', "limit": 5})
    assert url == f"{ROOT}/record/v1/customer?q=email%20START_WITH%20%22a%2Bb%40x.com%22&limit=5"
    assert signed("GET", url) == vector_header("cCD6npugN3j%2BuQVvjjaKFJXuCIVvZ8LstXDaUflTd%2FE%3D")


_QUERY_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@settings(max_examples=200, deadline=None)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"]),
    origin=st.sampled_from([ROOT, "http://127.0.0.1:8080/services/rest", "https://HOST.example.COM:443/x"]),
    path=st.sampled_from(
        ["/record/v1/customer/eid:splynx-customer-7", "/query/v1/suiteql", "/record/v1/invoice/12"]
    ),
    params=st.dictionaries(
        st.from_regex(r"[A-Za-z][A-Za-z0-9_.~-]{0,8}", fullmatch=True), _QUERY_TEXT, max_size=4
    ),
)
def test_signer_matches_requests_oauthlib(method, origin, path, params):
    url = build_url(origin, path, params)
    assert signed(method, url) == oauthlib_header(method, url)


@pytest.mark.parametrize("typed", ["1234567_SB1", "1234567-sb1", "1234567-SB1", " 1234567_sb1 "])
def test_account_forms_give_upper_realm_and_hyphen_host(typed):
    config = NetSuiteConfig(account_id=typed, **VECTOR)
    assert config.realm == "1234567_SB1"
    assert config.host == "1234567-sb1.suitetalk.api.netsuite.com"
    assert config.rest_root == ROOT
    # Any accepted spelling signs exactly like the canonical one.
    assert signed("GET", f"{ROOT}/record/v1/customer/107", account=typed) == vector_header(
        "kEvz%2F0ad2fmhmZspgIImqiJtfKodHG%2FFihB9qJF0FGo%3D"
    )


@pytest.mark.parametrize(
    ("typed", "realm", "host"),
    [
        ("1234567", "1234567", "1234567.suitetalk.api.netsuite.com"),
        ("tstdrv1234567", "TSTDRV1234567", "tstdrv1234567.suitetalk.api.netsuite.com"),
        ("1234567_RP", "1234567_RP", "1234567-rp.suitetalk.api.netsuite.com"),
    ],
)
def test_other_account_forms(typed, realm, host):
    config = NetSuiteConfig(account_id=typed, **VECTOR)
    assert (config.realm, config.host) == (realm, host)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "abc",
        "1234567.evil.com",
        "1234567/x",
        "evil.com#",
        "1234567_SB1.attacker.net",
        "1234567_XX1",
        "1234 567",
    ],
)
def test_account_id_that_could_change_the_host_is_refused(bad):
    with pytest.raises(NetSuiteConfigError, match="account id"):
        NetSuiteConfig(account_id=bad, **VECTOR)


def test_base_url_override_keeps_host_only():
    config = NetSuiteConfig(account_id="1234567_SB1", base_url="http://127.0.0.1:8080/", **VECTOR)
    assert config.rest_root == "http://127.0.0.1:8080/services/rest"
    assert config.token_url == "http://127.0.0.1:8080/services/rest/auth/oauth2/v1/token"
    assert config.realm == "1234567_SB1"


@pytest.mark.parametrize(
    "bad",
    [
        "ftp://h",
        "http://u:p@h",
        "http://h/services/rest",
        "http://h?x=1",
        "http://h#f",
        "127.0.0.1:80",
        "http://h:port",
    ],
)
def test_base_url_with_more_than_a_host_is_refused(bad):
    with pytest.raises(NetSuiteConfigError, match="base URL"):
        NetSuiteConfig(account_id="1234567", base_url=bad, **VECTOR)


def test_missing_credentials_are_named():
    with pytest.raises(NetSuiteConfigError, match="token_secret"):
        NetSuiteConfig(account_id="1234567", **{**VECTOR, "token_secret": ""})
    with pytest.raises(NetSuiteConfigError, match="certificate_id, private_key_pem"):
        NetSuiteConfig(account_id="1234567", auth_mode="oauth2", client_id="abc")
    with pytest.raises(NetSuiteConfigError, match="auth mode"):
        NetSuiteConfig(account_id="1234567", auth_mode="basic", **VECTOR)


def test_repr_hides_secrets():
    text = repr(NetSuiteConfig(account_id="1234567", **VECTOR))
    assert VECTOR["consumer_secret"] not in text and VECTOR["token_secret"] not in text


def pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.mark.parametrize(
    ("key", "alg"),
    [(rsa.generate_private_key(65537, 3072), "PS256"), (ec.generate_private_key(ec.SECP256R1()), "ES256")],
)
def test_jwt_assertion_header_and_claims(key, alg):
    config = NetSuiteConfig(
        account_id="1234567_SB1",
        auth_mode="oauth2",
        client_id="client-abc",
        certificate_id="cert-xyz",
        private_key_pem=pem(key),
    )
    assertion = client_assertion(config, now=1_700_000_000)
    assert jwt.get_unverified_header(assertion) == {"typ": "JWT", "alg": alg, "kid": "cert-xyz"}
    claims = jwt.decode(
        assertion,
        key.public_key(),
        algorithms=[alg],
        audience="https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token",
        options={"verify_exp": False},
    )
    assert claims == {
        "iss": "client-abc",
        "scope": ["rest_webservices"],
        "aud": "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token",
        "iat": 1_700_000_000,
        "exp": 1_700_000_000 + ASSERTION_LIFETIME,
    }
    assert claims["exp"] - claims["iat"] < 3600


def test_unreadable_private_key_is_a_config_error():
    config = NetSuiteConfig(
        account_id="1234567",
        auth_mode="oauth2",
        client_id="c",
        certificate_id="k",
        private_key_pem="not a key",
    )
    with pytest.raises(NetSuiteConfigError, match="private key"):
        client_assertion(config)


@pytest.mark.parametrize("configured", [None, "PS256", "EdDSA"])
def test_key_of_another_type_is_a_config_error_even_with_an_algorithm_set(configured):
    from cryptography.hazmat.primitives.asymmetric import ed25519

    config = NetSuiteConfig(
        account_id="1234567",
        auth_mode="oauth2",
        client_id="c",
        certificate_id="k",
        private_key_pem=pem(ed25519.Ed25519PrivateKey.generate()),
        jwt_algorithm=configured,
    )
    with pytest.raises(NetSuiteConfigError, match="must be RSA"):
        client_assertion(config)
