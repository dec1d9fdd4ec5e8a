"""Fixtures serving a fresh NetSuite sandbox per test over real HTTP on loopback."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from sandbox.netsuite import PROFILES, SandboxState, create_app, generate_client_keypair
from sandbox.server import serve_in_thread


@dataclass
class NetSuiteSandboxHandle:
    """What a test needs to talk to the sandbox as a real integration would."""

    url: str
    state: SandboxState
    private_key_pem: bytes

    @property
    def account_id(self) -> str:
        return self.state.account_id

    @property
    def consumer_key(self) -> str:
        return self.state.consumer_key

    @property
    def consumer_secret(self) -> str:
        return self.state.consumer_secret

    @property
    def token_id(self) -> str:
        return self.state.default_token.token_id

    @property
    def token_secret(self) -> str:
        return self.state.default_token.token_secret

    @property
    def client_id(self) -> str:
        return self.state.oauth2.client_id

    @property
    def certificate_id(self) -> str:
        return self.state.oauth2.certificate_id

    @property
    def rest_url(self) -> str:
        """Base of the REST paths, like ``https://<host>.suitetalk.api.netsuite.com/services/rest``."""
        return self.url + "/services/rest"

    @property
    def token_url(self) -> str:
        return self.rest_url + "/auth/oauth2/v1/token"

    def tba_credentials(self) -> dict:
        return {
            "account_id": self.account_id,
            "consumer_key": self.consumer_key,
            "consumer_secret": self.consumer_secret,
            "token_id": self.token_id,
            "token_secret": self.token_secret,
        }

    def oauth2_credentials(self) -> dict:
        return {
            "account_id": self.account_id,
            "client_id": self.client_id,
            "certificate_id": self.certificate_id,
            "private_key_pem": self.private_key_pem,
        }


@pytest.fixture(scope="session")
def netsuite_client_keypair() -> tuple[bytes, bytes]:
    """One RSA-3072 keypair per session (generation is slow): (private PEM, public PEM)."""
    return generate_client_keypair()


# The account profiles the document, customer and payment tests run in (docs/netsuite-accounts.md).
ACCOUNT_PROFILES = ("suitetax-oneworld", "suitetax-single", "legacy")
across_profiles = pytest.mark.parametrize("netsuite_profile", ACCOUNT_PROFILES, indirect=True)


def in_profile(name: str):
    """Run one test in the named account profile only."""
    return pytest.mark.parametrize("netsuite_profile", [name], indirect=True)


@pytest.fixture
def netsuite_profile(request):
    """The sandbox account's profile: SuiteTax + OneWorld + multi-currency unless parametrised.

    A module runs in every profile with ``pytestmark = across_profiles``; one test picks its own
    with ``@pytest.mark.parametrize("netsuite_profile", ["legacy"], indirect=True)``. A profile
    name may carry switches: ``"suitetax-single+eid"`` answers upserts with an eid Location,
    ``"+no-addresses"`` refuses SuiteQL on customers' address books.
    """
    name = getattr(request, "param", "suitetax-oneworld")
    base, *switches = name.split("+")
    profile = PROFILES[base]
    for switch in switches:
        profile = profile.with_(
            **{
                "eid": {"upsert_location": "eid"},
                "no-segments": {"segments": False},
                "no-addresses": {"address_book": False},
            }[switch]  # fmt: skip
        )
    return profile


@pytest.fixture
def netsuite_sandbox(netsuite_client_keypair, netsuite_profile):
    """A fresh sandbox (seeded lists, no latency, concurrency 5) served for one test."""
    private_pem, public_pem = netsuite_client_keypair
    state = SandboxState(profile=netsuite_profile)
    state.oauth2.public_key_pem = public_pem
    server = serve_in_thread(create_app(state))
    try:
        yield NetSuiteSandboxHandle(url=server.url, state=state, private_key_pem=private_pem)
    finally:
        server.stop()
