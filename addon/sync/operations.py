"""The engine's operations, declared once, and the one way to run any of them.

The CLI, the RQ jobs and the admin pages all go through ``run_operation``:
it builds the context, opens the ledger, stops at once on an authentication
or connection failure (marking the connection as needing attention), and
always closes the run row.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

from addon import alerts, billing_backends, settings
from addon.billing import BillingAuthError, BillingConfigError, BillingConnectionError, BillingError
from addon.extension import session
from addon.models import SyncRun
from addon.netsuite import NetSuiteAuthError, NetSuiteConfigError, NetSuiteConnectionError, NetSuiteError
from addon.sync import credentials
from addon.sync.context import SyncContext
from addon.sync.ledger import RunLedger, start_run


@dataclass(frozen=True)
class Operation:
    name: str
    label: str
    target: str  # "module:function"; the function takes (ctx, ledger, **params)
    description: str = ""
    dry_run: bool = True
    # Operations that must not run at the same time as this one (besides itself).
    conflicts: frozenset[str] = field(default_factory=frozenset)
    # Which systems it talks to: a connection needing attention stops it.
    systems: tuple[str, ...] = ("netsuite", billing_backends.SYSTEM)

    def load(self) -> Callable[..., None]:
        module, _, function = self.target.partition(":")
        return getattr(importlib.import_module(module), function)


def system_name(system: str) -> str:
    """How the product behind a connection spells itself ('NetSuite', the billing backend's label)."""
    return (
        billing_backends.label()
        if system == billing_backends.SYSTEM
        else {"netsuite": "NetSuite"}.get(system, system)
    )


LIVE = {
    "live_customers": "customers",
    "live_invoices": "invoices",
    "live_credit_notes": "credit notes",
    "live_payments": "payments",
}
EXPORTS = frozenset(
    {
        "export_customers",
        "export_invoices",
        "export_credit_notes",
        "export_payments",
        "sync",
        "export_record",
        *LIVE,
    }
)

OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation(
            "load_mappings",
            "Load mappings",
            "addon.sync.mappings:load_mappings",
            "Pull NetSuite's items, accounts, tax codes and lists into the local caches.",
        ),
        Operation(
            "automap_categories",
            "Auto-map categories",
            "addon.sync.mappings:automap_categories",
            "Pair transaction categories with NetSuite items by name.",
        ),
        Operation(
            "load_netsuite_customers",
            "Load NetSuite customers",
            "addon.sync.matching:load_netsuite_customers",
            "Cache NetSuite's customers for manual pairing.",
            dry_run=False,
            systems=("netsuite",),
        ),
        Operation(
            "export_customers",
            "Export customers",
            "addon.sync.customers:export_customers",
            "Create or update NetSuite customers from billing customers.",
        ),
        Operation(
            "match_customers",
            "Match customers",
            "addon.sync.matching:match_customers",
            "Link billing customers to existing NetSuite customers without creating any.",
        ),
        Operation(
            "export_invoices",
            "Export invoices",
            "addon.sync.documents:export_invoices",
            "Create or update NetSuite invoices.",
        ),
        Operation(
            "export_credit_notes",
            "Export credit notes",
            "addon.sync.documents:export_credit_notes",
            "Create or update NetSuite credit memos.",
        ),
        Operation(
            "export_payments",
            "Export payments",
            "addon.sync.payment_export:export_payments",
            "Create NetSuite customer payments from billing payments.",
        ),
        Operation(
            "import_payments",
            "Import new payments",
            "addon.sync.payment_import:import_payments",
            "Bring NetSuite payments made since the last import into billing.",
        ),
        Operation(
            "import_all_payments",
            "Import all payments",
            "addon.sync.payment_import:import_all_payments",
            "Bring every NetSuite payment since the import-from date into billing.",
        ),
        Operation(
            "reconcile",
            "Reconcile",
            "addon.sync.reconcile:reconcile",
            "Compare counts and totals on both sides for a period.",
            dry_run=False,
        ),
        Operation(
            "export_record",
            "Export one record",
            "addon.sync.record_actions:export_record",
            "Send one customer, invoice, credit note or payment again now (retry from its page).",
            dry_run=False,
            conflicts=EXPORTS,
        ),
        Operation(
            "sync",
            "Full sync",
            "addon.sync.full:full_sync",
            "Customers, invoices, credit notes, payments out, then payments in.",
        ),
        Operation(
            "reset_accounting",
            "Reset accounting",
            "addon.sync.mappings:reset_accounting",
            "Clear the accounting mappings (links and logs stay unless asked).",
            dry_run=False,
            conflicts=EXPORTS,
            systems=(),
        ),
        # Live runs (addon/sync/live.py) wait for any export instead of overlapping it.
        *(
            Operation(
                name,
                f"Live: {words}",
                "addon.sync.live:live_export",
                f"Export the {words} named by Splynx webhook events.",
                dry_run=False,
                conflicts=EXPORTS - {name},
            )
            for name, words in LIVE.items()
        ),
    )
}


def operation(name: str) -> Operation:
    try:
        return OPERATIONS[name.replace("-", "_")]
    except KeyError:
        raise KeyError(f"unknown operation {name!r}") from None


def conflicting(name: str) -> set[str]:
    """Every operation that may not overlap ``name`` (itself included), both ways."""
    names = {name} | set(OPERATIONS[name].conflicts)
    names |= {other.name for other in OPERATIONS.values() if name in other.conflicts}
    return names


AUTH_ERRORS = (NetSuiteAuthError, BillingAuthError)
STOPPING_ERRORS = (
    NetSuiteAuthError,
    NetSuiteConfigError,
    NetSuiteConnectionError,
    BillingAuthError,
    BillingConfigError,
    BillingConnectionError,
)


def describe_stop(exc: Exception) -> str:
    system = (
        "NetSuite"
        if isinstance(exc, NetSuiteError)
        else billing_backends.label()
        if isinstance(exc, BillingError)
        else ""
    )
    if isinstance(exc, AUTH_ERRORS):
        return f"{system} refused the credentials: {exc}. Fix them on the module config page and test the connection."
    if isinstance(exc, NetSuiteConfigError | BillingConfigError):
        return f"{system} is not configured: {exc}"
    return f"{system} could not be reached: {exc}"


def run_operation(
    name: str,
    *,
    trigger: str = "manual",
    dry_run: bool = False,
    params: dict | None = None,
    run: SyncRun | None = None,
    progress: Callable[[RunLedger], None] | None = None,
    context: SyncContext | None = None,
) -> SyncRun:
    """Run operation ``name`` to completion and return its closed run row.

    A record that fails is logged and the batch goes on; an authentication,
    configuration or connection failure stops the run at once with one clear
    message (and, for authentication, flags the connection until a
    test-connection succeeds).
    """
    op = operation(name)
    params = dict(params or {})
    if run is None:
        run = start_run(op.name, trigger=trigger, dry_run=dry_run and op.dry_run, params=params)
    ledger = RunLedger(run, progress=progress)
    values = context.values if context is not None else settings.snapshot()
    blocked = credentials.halted(op.systems, values)
    if blocked is not None:
        return _stop(
            ledger,
            blocked.system,
            f"{system_name(blocked.system)} connection needs attention: {blocked.message}. "
            "Enter corrected credentials (or test the connection) on the module config page.",
        )
    ctx = None
    try:
        ctx = context or SyncContext.from_settings()
        op.load()(ctx, ledger, **params)
    except STOPPING_ERRORS as exc:
        session().rollback()
        system = "netsuite" if isinstance(exc, NetSuiteError) else billing_backends.SYSTEM
        if isinstance(exc, AUTH_ERRORS):
            credentials.record_status(system, True, str(exc), ctx.values if ctx else values)
        if system != "netsuite" or not isinstance(exc, AUTH_ERRORS):
            _remember_working_credentials(ctx)
        stopped = _stop(ledger, system, describe_stop(exc))
        if isinstance(exc, AUTH_ERRORS):
            alerts.connection_needs_attention(system, describe_stop(exc))
        else:
            alerts.run_failed(stopped)
        return stopped
    # Only on these two paths: after an unexpected error the session may be unusable.
    _remember_working_credentials(ctx)
    return ledger.finish()


def _remember_working_credentials(ctx: SyncContext | None) -> None:
    """Keep the fingerprint of NetSuite credentials this run saw accepted (for 401 retries)."""
    if ctx is None:
        return
    client = ctx.__dict__.get("netsuite")
    if client is not None and client.credentials_proven:
        credentials.remember_working("netsuite", ctx.values)


def _stop(ledger: RunLedger, system: str, message: str) -> SyncRun:
    """End the run on a connection problem: one log row and the run's message say why."""
    ledger.record(
        entity=system, billing_id=None, outcome="failed", action="connect", direction="local", message=message
    )
    return ledger.finish("failed", message)
