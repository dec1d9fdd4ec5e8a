"""What an operation needs to run: settings, the two systems, the governor.

Built once per run from the module settings (inside an app context); the
engine never reads settings or builds clients anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from addon import billing_backends, settings
from addon.billing import ACCOUNTING_IDS, BillingConfigError, BillingSystem
from addon.billing_backends import BillingBackend
from addon.extension import config as addon_config
from addon.netsuite import LocalGovernor, NetSuiteClient, NetSuiteConfig, NetSuiteConfigError, RedisGovernor

# One in-process governor per account when there is no Redis, so every run in
# this process shares the account's budget (the jobs run in-process then).
_LOCAL_GOVERNORS: dict[tuple[str, int], LocalGovernor] = {}


def _refuse_unreadable(values: dict[str, Any], group: str, error: type[Exception]) -> None:
    unreadable = [
        item.label
        for item in settings.specs()
        if item.group == group and values.get(item.key) is settings.UNREADABLE
    ]
    if unreadable:
        raise error(
            f"{', '.join(unreadable)}: {settings.UNREADABLE_TEXT} on Module config "
            "(it was saved under another SECRET_KEY)"
        )


def netsuite_config(values: dict[str, Any]) -> NetSuiteConfig:
    """A client config from settings; raises ``NetSuiteConfigError`` with the reason."""
    _refuse_unreadable(values, "netsuite", NetSuiteConfigError)
    return NetSuiteConfig(
        account_id=values["netsuite_account_id"],
        auth_mode=values["netsuite_auth_mode"],
        consumer_key=values["netsuite_consumer_key"],
        consumer_secret=values["netsuite_consumer_secret"],
        token_id=values["netsuite_token_id"],
        token_secret=values["netsuite_token_secret"],
        client_id=values["netsuite_client_id"],
        certificate_id=values["netsuite_certificate_id"],
        private_key_pem=values["netsuite_private_key"],
        base_url=values["netsuite_base_url"] or None,
        concurrency_limit=max(1, values["netsuite_concurrency"]),
    )


def billing_system(values: dict[str, Any], backend: BillingBackend | None = None) -> BillingSystem:
    """The billing system from settings, built by its backend; raises ``BillingConfigError``."""
    backend = backend or billing_backends.selected()
    _refuse_unreadable(values, billing_backends.SYSTEM, BillingConfigError)
    return backend.build(values)


def governor_for(config: NetSuiteConfig, redis_url: str | None):
    """The account-wide concurrency governor: Redis-shared, or in-process without Redis."""
    if redis_url:
        import redis

        return RedisGovernor(redis.Redis.from_url(redis_url), config.account_id, config.concurrency_limit)
    key = (config.account_id, config.concurrency_limit)
    if key not in _LOCAL_GOVERNORS:
        _LOCAL_GOVERNORS[key] = LocalGovernor(config.concurrency_limit)
    return _LOCAL_GOVERNORS[key]


@dataclass
class SyncContext:
    """Settings snapshot plus lazily built clients for one run."""

    values: dict[str, Any] = field(repr=False)
    redis_url: str | None = field(default=None, repr=False)
    _netsuite: NetSuiteClient | None = field(default=None, repr=False)
    _billing: BillingSystem | None = field(default=None, repr=False)
    # Resolved in the app context: worker threads build the client without one.
    backend: BillingBackend = field(default_factory=billing_backends.selected, repr=False)

    @classmethod
    def from_settings(cls, **overrides) -> SyncContext:
        """Read every setting once (app context required)."""
        return cls(values=settings.snapshot(), redis_url=addon_config("REDIS_URL"), **overrides)

    @property
    def accounting_id_attribute(self) -> str:
        """The billing field the NetSuite id is written back into; "" when there is none (the
        operator named none, or the billing system cannot store one)."""
        key = self.backend.accounting_id_setting
        if not key or ACCOUNTING_IDS not in self.billing.capabilities:
            return ""
        return self.values.get(key) or ""

    def setting(self, key: str) -> Any:
        return self.values[key]

    @property
    def concurrency(self) -> int:
        return max(1, self.values["netsuite_concurrency"])

    @cached_property
    def netsuite(self) -> NetSuiteClient:
        if self._netsuite is not None:
            return self._netsuite
        from addon.sync.credentials import proven

        config = netsuite_config(self.values)
        return NetSuiteClient(
            config,
            governor=governor_for(config, self.redis_url),
            credentials_proven=proven("netsuite", self.values),
        )

    @cached_property
    def billing(self) -> BillingSystem:
        if self._billing is not None:
            return self._billing
        return billing_system(self.values, self.backend)
