"""NetSuite SuiteTalk REST transport: config, signing, typed errors, retries and governors."""

from .client import NetSuiteClient
from .config import NetSuiteConfig
from .errors import (
    GovernorTimeout,
    NetSuiteAuthError,
    NetSuiteConfigError,
    NetSuiteConnectionError,
    NetSuiteError,
    NetSuiteNotFound,
    NetSuiteRateLimited,
    NetSuiteServerError,
    NetSuiteValidationError,
    SuiteQLRowCeiling,
)
from .governor import LocalGovernor, RedisGovernor, default_limit_from_governance

__all__ = [
    "GovernorTimeout",
    "LocalGovernor",
    "NetSuiteAuthError",
    "NetSuiteClient",
    "NetSuiteConfig",
    "NetSuiteConfigError",
    "NetSuiteConnectionError",
    "NetSuiteError",
    "NetSuiteNotFound",
    "NetSuiteRateLimited",
    "NetSuiteServerError",
    "NetSuiteValidationError",
    "RedisGovernor",
    "SuiteQLRowCeiling",
    "default_limit_from_governance",
]
