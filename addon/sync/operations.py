"""The engine's operations, declared once each in an open registry, and the one way to run them.

An :class:`Operation` carries everything a shell needs: the function itself, its parameters
(the CLI's options and the run's keyword arguments), its default cron schedule, its place on
the dashboard, its lane and what else it may not overlap. The CLI (``addon/cli.py``), the
cron toggles and defaults, the dashboard cards and the Makefile's manual targets (checked by
``tests/test_operations_registry.py``) all read this registry; ``register`` adds to it.

The run path, one name per step:

1. ``dispatcher().submit(name, ...)`` (``addon.runs``): admission, one run row in the
   operation's lane, refused with ``AlreadyRunning`` while the lane is busy;
2. the dispatcher hands the row off (``hand_off``): an RQ job, or this process's in-process
   queue (``jobs/runs.py``, ``jobs/inprocess.py``);
3. a worker runs the job, ``jobs.tasks.run_job(run_id)``: it claims the row and takes the lock;
4. the engine, :func:`run_operation` below: checks the parameters against the declaration,
   builds the context and calls ``operation.function(ctx, ledger, **params)``; the run row
   is always closed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from addon import alerts, settings
from addon.extension import session
from addon.models import SyncRun
from addon.netsuite import NetSuiteAuthError, NetSuiteConfigError, NetSuiteConnectionError, NetSuiteError
from addon.splynx import SplynxAuthError, SplynxConfigError, SplynxConnectionError, SplynxError
from addon.sync import credentials, full, live, mappings, matching, payment_export, payment_import
from addon.sync import customers as customer_module
from addon.sync import documents as document_module
from addon.sync import reconcile as reconcile_module
from addon.sync import record_actions as record_module
from addon.sync.context import SyncContext
from addon.sync.ledger import RunLedger, start_run


@dataclass(frozen=True)
class Param:
    """One keyword argument of an operation's function: a key of the run's ``params`` and a CLI option."""

    name: str
    help: str
    option: str = ""  # the CLI option; "--" and the name with dashes unless given
    flag: bool = False  # a switch (on when given) rather than a value
    required: bool = False

    @property
    def cli_option(self) -> str:
        return self.option or "--" + self.name.replace("_", "-")


@dataclass(frozen=True)
class Switch:
    """The operation runs from the CLI as a switch of another operation's command."""

    of: str  # the operation whose command takes the switch
    option: str  # e.g. "--all": ``import-payments --all`` runs ``import_all_payments``
    help: str


@dataclass(frozen=True)
class Operation:
    name: str
    label: str
    function: Callable[..., None]  # function(ctx, ledger, **params)
    description: str = ""
    dry_run: bool = True
    params: tuple[Param, ...] = ()
    # Default schedule (standard cron, UTC as RQ computes due times), overridable by
    # NETSUITE_ADDON_CRON_<NAME>; it runs only once its toggle on the config page is on.
    cron: str | None = None
    # Its card's place in the dashboard's Operations section (lower first); None: no card.
    card: int | None = None
    # None: its own command, ``flask netsuite <name with dashes>``.
    cli: Switch | None = None
    # A Makefile target of the same name runs its CLI command (tests check both ways).
    make: bool = False
    # Runs of one lane never overlap (the database admits one active run per lane); None: its own lane.
    lane: str | None = None
    # Operations that must not run at the same time as this one (besides itself): their
    # Redis locks are checked when this one takes its own.
    conflicts: frozenset[str] = field(default_factory=frozenset)
    # Which systems it talks to: a connection needing attention stops it.
    systems: tuple[str, ...] = ("netsuite", "splynx")

    @property
    def command(self) -> str:
        return self.name.replace("_", "-")

    @property
    def cli_args(self) -> tuple[str, ...]:
        """How the CLI runs it: ``("export-customers",)``, ``("import-payments", "--all")``."""
        if self.cli is None:
            return (self.command,)
        return (self.cli.of.replace("_", "-"), self.cli.option)


OPERATIONS: dict[str, Operation] = {}


def register(op: Operation) -> Operation:
    """Add ``op`` to the registry; the CLI, the dashboard and the schedules show it from now on."""
    if op.name in OPERATIONS:
        raise ValueError(f"operation {op.name!r} is registered already")
    if op.cli is not None and op.cli.of not in OPERATIONS:
        raise ValueError(f"{op.name}: its CLI switch belongs to {op.cli.of!r}, which is not registered")
    OPERATIONS[op.name] = op
    if op.cron is not None:
        settings.add_specs(settings.cron_toggle(op.name))
    return op


def operation(name: str) -> Operation:
    try:
        return OPERATIONS[name.replace("-", "_")]
    except KeyError:
        raise KeyError(f"unknown operation {name!r}") from None


def label(name: str) -> str:
    """The operation's label, or the name itself for a run of an operation no longer registered."""
    found = OPERATIONS.get(name)
    return found.label if found is not None else name


def dashboard_cards() -> list[Operation]:
    """The operations the dashboard shows as cards, in the order an accountant works through them."""
    return sorted((op for op in OPERATIONS.values() if op.card is not None), key=lambda op: op.card or 0)


def scheduled() -> list[Operation]:
    """The operations that have a cron schedule (and a toggle on the config page)."""
    return [op for op in OPERATIONS.values() if op.cron is not None]


def lane_of(name: str) -> str:
    op = OPERATIONS.get(name)
    return (op.lane if op is not None else None) or name


def conflicting(name: str) -> set[str]:
    """Every operation that may not overlap ``name`` (itself included), both ways."""
    names = {name} | set(OPERATIONS[name].conflicts)
    names |= {other.name for other in OPERATIONS.values() if name in other.conflicts}
    return names


SYSTEM_NAMES = {"netsuite": "NetSuite", "splynx": "Splynx"}  # as the products spell themselves
# Operations that write accounting links or mappings share one lane: a full sync beside a
# single export (or a reset) would write the same links twice. The partial unique index
# uq_ns_sync_run_active_lane admits one active run per lane, on SQLite and PostgreSQL alike.
ACCOUNTING_LANE = "accounting"
LIVE = {name: f"{entity.replace('_', ' ')}s" for entity, name in live.OPERATIONS.items()}
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

for _op in (
    Operation(
        "sync",
        "Full sync",
        full.full_sync,
        "Customers, invoices, credit notes, payments out, then payments in.",
        card=10,
        make=True,
        lane=ACCOUNTING_LANE,
    ),
    Operation(
        "load_mappings",
        "Load mappings",
        mappings.load_mappings,
        "Pull NetSuite's items, accounts, tax codes and lists into the local caches.",
        card=20,
        make=True,
    ),
    Operation(
        "automap_categories",
        "Auto-map categories",
        mappings.automap_categories,
        "Pair transaction categories with NetSuite items by name.",
        make=True,
    ),
    Operation(
        "load_netsuite_customers",
        "Load NetSuite customers",
        matching.load_netsuite_customers,
        "Cache NetSuite's customers for manual pairing.",
        dry_run=False,
        card=100,
        systems=("netsuite",),
    ),
    Operation(
        "export_customers",
        "Export customers",
        customer_module.export_customers,
        "Create or update NetSuite customers from billing customers.",
        cron="0 1 * * *",
        card=30,
        make=True,
        lane=ACCOUNTING_LANE,
    ),
    Operation(
        "match_customers",
        "Match customers",
        matching.match_customers,
        "Link billing customers to existing NetSuite customers without creating any.",
        card=40,
        make=True,
        lane=ACCOUNTING_LANE,
    ),
    Operation(
        "export_invoices",
        "Export invoices",
        document_module.export_invoices,
        "Create or update NetSuite invoices.",
        cron="15 1 * * *",
        card=50,
        make=True,
        lane=ACCOUNTING_LANE,
    ),
    Operation(
        "export_credit_notes",
        "Export credit notes",
        document_module.export_credit_notes,
        "Create or update NetSuite credit memos.",
        cron="30 1 * * *",
        card=60,
        make=True,
        lane=ACCOUNTING_LANE,
    ),
    Operation(
        "export_payments",
        "Export payments",
        payment_export.export_payments,
        "Create NetSuite customer payments from billing payments.",
        cron="45 1 * * *",
        card=70,
        make=True,
        lane=ACCOUNTING_LANE,
    ),
    Operation(
        "import_payments",
        "Import new payments",
        payment_import.import_payments,
        "Bring NetSuite payments made since the last import into billing.",
        cron="0 2 * * *",
        card=80,
        make=True,
    ),
    Operation(
        "import_all_payments",
        "Import all payments",
        payment_import.import_all_payments,
        "Bring every NetSuite payment since the import-from date into billing.",
        card=90,
        cli=Switch("import_payments", "--all", "Every payment since import-from."),
        make=True,
    ),
    Operation(
        "reconcile",
        "Reconcile",
        reconcile_module.reconcile,
        "Compare counts and totals on both sides for a period.",
        dry_run=False,
        params=(
            Param("date_from", "First day (YYYY-MM-DD).", option="--from"),
            Param("date_to", "Last day (YYYY-MM-DD).", option="--to"),
        ),
        make=True,
    ),
    Operation(
        "export_record",
        "Export one record",
        record_module.export_record,
        "Send one customer, invoice, credit note or payment again now (retry from its page).",
        dry_run=False,
        params=(
            Param("entity", "Its type: customer, invoice, credit_note or payment.", required=True),
            Param("billing_id", "Its id in billing.", required=True),
        ),
        lane=ACCOUNTING_LANE,
        conflicts=EXPORTS,
    ),
    Operation(
        "reset_accounting",
        "Reset accounting",
        mappings.reset_accounting,
        "Clear the accounting mappings (links and logs stay unless asked).",
        dry_run=False,
        params=(
            Param("links", "Also forget every link to a NetSuite record.", flag=True),
            Param("logs", "Also delete the log rows and problems.", flag=True),
        ),
        lane=ACCOUNTING_LANE,
        conflicts=EXPORTS,
        systems=(),
    ),
    # Live runs (addon/sync/live.py) wait for any export instead of overlapping it.
    *(
        Operation(
            name,
            f"Live: {words}",
            live.live_export,
            f"Export the {words} named by Splynx webhook events.",
            dry_run=False,
            lane=ACCOUNTING_LANE,
            conflicts=EXPORTS - {name},
        )
        for name, words in LIVE.items()
    ),
):
    register(_op)


AUTH_ERRORS = (NetSuiteAuthError, SplynxAuthError)
STOPPING_ERRORS = (
    NetSuiteAuthError,
    NetSuiteConfigError,
    NetSuiteConnectionError,
    SplynxAuthError,
    SplynxConfigError,
    SplynxConnectionError,
)


def describe_stop(exc: Exception) -> str:
    system = (
        "NetSuite" if isinstance(exc, NetSuiteError) else "Splynx" if isinstance(exc, SplynxError) else ""
    )
    if isinstance(exc, AUTH_ERRORS):
        return f"{system} refused the credentials: {exc}. Fix them on the module config page and test the connection."
    if isinstance(exc, NetSuiteConfigError | SplynxConfigError):
        return f"{system} is not configured: {exc}"
    return f"{system} could not be reached: {exc}"


def refused_params(op: Operation, params: dict) -> str | None:
    """Why ``params`` cannot run ``op`` (a keyword it does not declare, a required one missing), or None."""
    declared = {param.name for param in op.params}
    unknown = sorted(set(params) - declared)
    if unknown:
        takes = f"it takes {', '.join(sorted(declared))}" if declared else "it takes none"
        return f"{op.label} was given parameter {', '.join(unknown)}; {takes}."
    missing = [param.name for param in op.params if param.required and params.get(param.name) in (None, "")]
    if missing:
        return f"{op.label} needs parameter {', '.join(missing)}."
    return None


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
    refused = refused_params(op, params)
    if refused is not None:
        return ledger.finish("failed", refused)
    values = context.values if context is not None else settings.snapshot()
    blocked = credentials.halted(op.systems, values)
    if blocked is not None:
        return _stop(
            ledger,
            blocked.system,
            f"{SYSTEM_NAMES.get(blocked.system, blocked.system)} connection needs attention: {blocked.message}. "
            "Enter corrected credentials (or test the connection) on the module config page.",
        )
    ctx = None
    try:
        ctx = context or SyncContext.from_settings()
        op.function(ctx, ledger, **params)
    except STOPPING_ERRORS as exc:
        session().rollback()
        system = "netsuite" if isinstance(exc, NetSuiteError) else "splynx"
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
