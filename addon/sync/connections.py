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
# What the billing connection was called before billing systems were backends (scripts, bookmarks).
FORMER_NAMES = {"splynx": billing_backends.SYSTEM}


def system_named(name: str) -> str | None:
    """The connection ``name`` means (a former name too), or None for none."""
    name = FORMER_NAMES.get(name, name)
    return name if name in SYSTEMS else None


def check_connection(system: str, context: SyncContext | None = None) -> tuple[bool, str]:
    """Return (ok, one-line result) and record it for the dashboard."""
    named = system_named(system)
    if named is None:
        raise ValueError(f"unknown system {system!r}")
    system = named
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
