"""Test-connection for either system: one line for the operator, and the attention flag.

A success clears the 'needs attention' mark an authentication failure left,
which is what lets syncs run again.
"""

from __future__ import annotations

from addon import settings
from addon.netsuite import NetSuiteError
from addon.splynx import SplynxError
from addon.sync.context import SyncContext
from addon.sync.operations import describe_stop, set_connection_status

SYSTEMS = ("netsuite", "splynx")


def check_connection(system: str, context: SyncContext | None = None) -> tuple[bool, str]:
    """Return (ok, one-line result) and record it for the dashboard."""
    if system not in SYSTEMS:
        raise ValueError(f"unknown system {system!r}")
    try:
        ctx = context or SyncContext.from_settings()
        line = ctx.netsuite.test_connection() if system == "netsuite" else ctx.billing.test_connection()
    except (NetSuiteError, SplynxError) as exc:
        line = describe_stop(exc)
        set_connection_status(system, True, line)
        return False, line
    except settings.SettingError as exc:  # a value saved before its rule was tightened
        line = str(exc)
        set_connection_status(system, True, line)
        return False, line

    set_connection_status(system, False, line)
    return True, line
