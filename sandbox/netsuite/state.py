"""Configuration, credentials, fault injection and counters of one sandbox instance."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from .profile import AccountProfile
from .store import RecordStore

DEFAULT_ACCOUNT_ID = "1234567_SB1"


@dataclass
class TbaToken:
    """A token id/secret pair issued to the integration (docs/netsuite-rest.md §3.1)."""

    token_id: str
    token_secret: str
    revoked: bool = False


@dataclass
class OAuth2Client:
    """The M2M integration: client id, certificate mappings and their public keys
    (docs/netsuite-rest.md §3.4).

    ``certificate_id``/``public_key_pem`` are the first mapping; ``add_certificate`` maps more
    (Oracle allows up to five active certificates per integration record), so a rotation can
    put the new one in place while the old one still signs.
    """

    client_id: str
    certificate_id: str
    public_key_pem: bytes | None = None
    access_token_ttl: int = 3600
    more_certificates: dict[str, bytes] = field(default_factory=dict)
    revoked: set[str] = field(default_factory=set)

    def public_key_for(self, certificate_id: str) -> bytes | None:
        """The public key (or certificate) PEM mapped under ``certificate_id``, unless revoked."""
        if certificate_id in self.revoked:
            return None
        if certificate_id == self.certificate_id:
            return self.public_key_pem
        return self.more_certificates.get(certificate_id)

    def add_certificate(self, pem: bytes) -> str:
        """Map one more certificate (PEM); returns the certificate id NetSuite would show."""
        from .auth import check_certificate_conditions

        check_certificate_conditions(pem)
        active = 1 + len(self.more_certificates) - len(self.revoked)
        if active >= 5:
            raise ValueError("an integration record holds at most 5 active certificates")
        certificate_id = f"sandbox-certificate-{len(self.more_certificates) + 2}"
        self.more_certificates[certificate_id] = pem
        return certificate_id


@dataclass
class Faults:
    """Injected misbehaviour. Fractions are probabilities per request, drawn from a seeded RNG.

    ``drop`` closes the socket without any response *after* the request has been processed, like
    a client timeout on a write that NetSuite still commits (docs/netsuite-rest.md §9.9). ``slow`` adds
    ``slow_seconds`` after processing. ``burst_429`` answers the next N requests with 429.
    """

    error_5xx: float = 0.0
    drop: float = 0.0
    slow: float = 0.0
    slow_seconds: float = 0.0
    burst_429: int = 0
    # The next N authenticated REST requests answer 401 "Invalid login attempt" although their
    # credentials are valid, as overloaded accounts do (docs/netsuite-oauth2-and-payments.md).
    burst_401: int = 0
    # The next N token requests answer 503, as during maintenance.
    token_5xx: int = 0
    seed: int = 0


@dataclass
class Counters:
    """What the sandbox has seen, for assertions and benchmarks."""

    requests: Counter = field(default_factory=Counter)  # "GET invoice", "POST suiteql", "POST token"
    by_token: Counter = field(default_factory=Counter)  # TBA token id or OAuth2 client id
    writes: int = 0
    suiteql: int = 0
    rejected_429: int = 0
    faults: Counter = field(default_factory=Counter)
    in_flight: int = 0
    peak_in_flight: int = 0

    def snapshot(self) -> dict:
        return {
            "requests": dict(self.requests),
            "by_token": dict(self.by_token),
            "writes": self.writes,
            "suiteql": self.suiteql,
            "rejected_429": self.rejected_429,
            "faults": dict(self.faults),
            "in_flight": self.in_flight,
            "peak_in_flight": self.peak_in_flight,
        }


class SandboxState:
    """Everything one sandbox instance knows; tests reach it through the fixture's ``.state``."""

    def __init__(
        self,
        *,
        account_id: str = DEFAULT_ACCOUNT_ID,
        consumer_key: str = "sandbox-consumer-key",
        consumer_secret: str = "sandbox-consumer-secret",  # noqa: S107 (fake sandbox credential)
        tokens: list[TbaToken] | None = None,
        oauth2: OAuth2Client | None = None,
        latency: float = 0.0,
        write_latency: float | None = None,
        concurrency_limit: int = 5,
        faults: Faults | None = None,
        require_prefer_transient: bool = True,
        seed_customers: int = 0,
        profile: AccountProfile | None = None,
    ):
        self.account_id = account_id
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.tokens: dict[str, TbaToken] = {}
        for token in tokens or [TbaToken("sandbox-token-id", "sandbox-token-secret")]:
            self.add_token(token)
        self.oauth2 = oauth2 or OAuth2Client("sandbox-client-id", "sandbox-certificate-id")
        self.latency = latency
        self.write_latency = write_latency
        self.concurrency_limit = concurrency_limit
        self.faults = faults or Faults()
        self.require_prefer_transient = require_prefer_transient
        self.governance_limit_type = "accountLimit"
        # False: the integration's role lacks the REST Web Services permission; every
        # authenticated REST request is then answered 400 "... does not have permission ...".
        self.rest_permission = True
        # Tests may replace the clock to exercise timestamp windows and token expiry.
        self.clock: Callable[[], float] = time.time
        self.counters = Counters()
        self._lock = threading.Lock()
        self._rng = random.Random(self.faults.seed)
        # Which account this is (SuiteTax, OneWorld, ...): sandbox/netsuite/profile.py.
        self.profile = profile or AccountProfile()
        self.store = RecordStore(clock=lambda: self.clock(), profile=self.profile)
        from .seed import seed_store

        seed_store(self.store, customers=seed_customers)

    # -- credentials ---------------------------------------------------------------------------

    def add_token(self, token: TbaToken) -> TbaToken:
        self.tokens[token.token_id] = token
        return token

    def revoke_token(self, token_id: str) -> None:
        self.tokens[token_id].revoked = True

    @property
    def default_token(self) -> TbaToken:
        return next(iter(self.tokens.values()))

    # -- faults and counters -------------------------------------------------------------------

    def set_faults(self, **changes) -> None:
        """Change fault settings; a new ``seed`` restarts the RNG so runs are reproducible."""
        with self._lock:
            for name, value in changes.items():
                if not hasattr(self.faults, name):
                    raise AttributeError(name)
                setattr(self.faults, name, value)
            if "seed" in changes:
                self._rng = random.Random(self.faults.seed)

    def take_401(self) -> bool:
        """True (and one fewer left) while a ``burst_401`` is in progress."""
        return self._take("burst_401", "401")

    def take_token_5xx(self) -> bool:
        """True (and one fewer left) while a ``token_5xx`` burst is in progress."""
        return self._take("token_5xx", "token 5xx")

    def _take(self, name: str, counter: str) -> bool:
        with self._lock:
            if getattr(self.faults, name) <= 0:
                return False
            setattr(self.faults, name, getattr(self.faults, name) - 1)
            self.counters.faults[counter] += 1
            return True

    def burst_429(self, count: int) -> None:
        """Answer the next ``count`` requests with 429 CONCURRENCY_LIMIT_EXCEEDED."""
        self.set_faults(burst_429=count)

    def draw_faults(self) -> tuple[str | None, str | None]:
        """Decide this request's (before, after) faults: before ∈ {429, 5xx}, after ∈ {drop, slow}."""
        with self._lock:
            faults = self.faults
            if faults.burst_429 > 0:
                faults.burst_429 -= 1
                return "429", None
            before = "5xx" if faults.error_5xx and self._rng.random() < faults.error_5xx else None
            after = None
            if before is None:
                if faults.drop and self._rng.random() < faults.drop:
                    after = "drop"
                elif faults.slow and self._rng.random() < faults.slow:
                    after = "slow"
            for name in (before, after):
                if name:
                    self.counters.faults[name] += 1
            return before, after

    def enter(self) -> bool:
        """Take a concurrency slot; False (and a counted 429) when the account is at its limit."""
        with self._lock:
            if self.counters.in_flight >= self.concurrency_limit:
                self.counters.rejected_429 += 1
                return False
            self.counters.in_flight += 1
            self.counters.peak_in_flight = max(self.counters.peak_in_flight, self.counters.in_flight)
            return True

    def leave(self) -> None:
        with self._lock:
            self.counters.in_flight -= 1

    def count(self, key: str, *, token: str | None = None, write: bool = False, suiteql: bool = False):
        with self._lock:
            self.counters.requests[key] += 1
            if token:
                self.counters.by_token[token] += 1
            if write:
                self.counters.writes += 1
            if suiteql:
                self.counters.suiteql += 1

    def count_429(self) -> None:
        with self._lock:
            self.counters.rejected_429 += 1

    def reset_counters(self) -> None:
        """Zero every counter except the live in-flight gauge."""
        with self._lock:
            in_flight = self.counters.in_flight
            self.counters = Counters(in_flight=in_flight, peak_in_flight=in_flight)

    def governance_limits(self) -> dict:
        """docs/netsuite-rest.md §8: one of the three documented shapes of ``GET
        /system/v1/governanceLimits``."""
        body = {
            "accountConcurrencyLimit": self.concurrency_limit,
            "accountUnallocatedConcurrencyLimit": self.concurrency_limit,
            "integrationLimitType": self.governance_limit_type,
        }
        if self.governance_limit_type == "integrationSpecific":
            body["integrationConcurrencyLimit"] = self.concurrency_limit
        return body
