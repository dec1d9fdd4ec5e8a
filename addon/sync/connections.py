"""Test-connection for either system: one line for the operator, and the attention flag.

A success clears the 'needs attention' mark an authentication failure left and remembers
that these credentials work; a failure remembers which credentials failed
(``addon.sync.credentials``), so the halt lifts by itself once they are changed.
"""

from __future__ import annotations

from addon import billing_backends, settings
from addon.billing import BillingError
from addon.netsuite import NetSuiteError
from addon.sync.context import SyncContext
from addon.sync.credentials import record_status
from addon.sync.operations import describe_stop

SYSTEMS = ("netsuite", billing_backends.SYSTEM)


def check_connection(system: str, context: SyncContext | None = None) -> tuple[bool, str]:
    """Return (ok, one-line result) and record it for the dashboard."""
    if system not in SYSTEMS:
        raise ValueError(f"unknown system {system!r}")
    ctx = None
    try:
        ctx = context or SyncContext.from_settings()
        line = ctx.netsuite.test_connection() if system == "netsuite" else ctx.billing.test_connection()
    except (NetSuiteError, BillingError) as exc:
        line = describe_stop(exc)
        record_status(system, True, line, ctx.values if ctx else None)
        return False, line
    except settings.SettingError as exc:  # a value saved before its rule was tightened
        line = str(exc)
        record_status(system, True, line, ctx.values if ctx else None)
        return False, line

    record_status(system, False, line, ctx.values)
    return True, line
