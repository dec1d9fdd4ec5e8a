"""Protocol-faithful local NetSuite SuiteTalk REST service (see the NetSuite REST protocol reference the team keeps beside the project)."""

from .app import NetSuiteSandbox, create_app
from .auth import generate_client_keypair
from .profile import PROFILES, AccountProfile
from .state import DEFAULT_ACCOUNT_ID, Faults, OAuth2Client, SandboxState, TbaToken

__all__ = [
    "PROFILES",
    "AccountProfile",
    "DEFAULT_ACCOUNT_ID",
    "Faults",
    "NetSuiteSandbox",
    "OAuth2Client",
    "SandboxState",
    "TbaToken",
    "create_app",
    "generate_client_keypair",
]
