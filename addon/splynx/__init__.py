"""Splynx REST API v2 transport and its billing-interface implementation."""

from .billing import SplynxBilling
from .client import SplynxClient
from .config import SplynxConfig
from .errors import (
    SplynxAuthError,
    SplynxConfigError,
    SplynxConnectionError,
    SplynxError,
    SplynxNotFound,
    SplynxPermissionError,
    SplynxServerError,
    SplynxValidationError,
)

__all__ = [
    "SplynxAuthError",
    "SplynxBilling",
    "SplynxClient",
    "SplynxConfig",
    "SplynxConfigError",
    "SplynxConnectionError",
    "SplynxError",
    "SplynxNotFound",
    "SplynxPermissionError",
    "SplynxServerError",
    "SplynxValidationError",
]
