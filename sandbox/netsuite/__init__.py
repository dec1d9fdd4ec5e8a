"""Protocol-faithful local NetSuite SuiteTalk REST service (see /work/shared/reference/netsuite-rest.md)."""

from .app import NetSuiteSandbox, create_app
from .auth import generate_client_keypair
from .state import DEFAULT_ACCOUNT_ID, Faults, OAuth2Client, SandboxState, TbaToken

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "Faults",
    "NetSuiteSandbox",
    "OAuth2Client",
    "SandboxState",
    "TbaToken",
    "create_app",
    "generate_client_keypair",
]
